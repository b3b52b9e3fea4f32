"""Issue 17: `actc mac import` on the whole EvoApproxLib multiplier library.

    git clone https://github.com/ehw-fit/evoapproxlib
    python benchmarks/import_signedness.py evoapproxlib [--max-bits 12] [--verilog-bits 8]

Every distinct circuit whose operands are 4 to 12 bits (the import's range) is imported from
its C model with the signedness *detected* (no --signed, no --unsigned), and, up to
``--verilog-bits`` per operand, from its Verilog too (the top module found among the helper
cells). Per circuit: whether the detected signedness is the library's (``mul..s_`` signed,
``mul..u_`` unsigned), the MRE of both readings, and whether the published metrics (MAE %,
WCE %, EP %, MRE % in the README of the circuit's folder, two decimals) are matched to their
digits. The margin column is the MRE of the wrong reading over that of the right one: the
detection takes the signed reading only when its MRE is below half the unsigned one's, so a
margin above 2 is a correct call.

Results: benchmarks/results/import_signedness.{txt,json}. Deterministic (no randomness; the
time column is wall clock on a shared machine and only indicative).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS  # noqa: E402

from actc.errors import ActcError  # noqa: E402
from actc.mac.importer import characterise  # noqa: E402
from actc.mac.metrics import measure  # noqa: E402

_NAME = re.compile(r"^mul(\d+)(?:x(\d+))?([su])_\w+$")
_ROW = re.compile(r"^\|\s*(mul\w+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|"
                  r"\s*([\d.]+)\s*\|")


def published(root: Path) -> dict[str, dict[str, float]]:
    out = {}
    for readme in root.rglob("README.md"):
        for line in readme.read_text(errors="replace").splitlines():
            m = _ROW.match(line)
            if m:
                out[m.group(1)] = {"mae_percent": float(m.group(2)),
                                   "wce_percent": float(m.group(3)),
                                   "ep_percent": float(m.group(4)),
                                   "mre_percent": float(m.group(5))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("library", type=Path, help="a checkout of ehw-fit/evoapproxlib")
    ap.add_argument("--max-bits", type=int, default=12)
    ap.add_argument("--verilog-bits", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=None,
                    help="per import (default: the import's own)")
    ap.add_argument("--summarise", action="store_true",
                    help="rewrite the .txt from the saved .json without importing")
    args = ap.parse_args()
    if args.summarise:
        text, ok = summary(json.loads((RESULTS / "import_signedness.json").read_text()))
        print(text)
        (RESULTS / "import_signedness.txt").write_text(text + "\n")
        return 0 if ok else 1
    pub = published(args.library)
    files: dict[tuple[str, str], Path] = {}
    for f in sorted(args.library.rglob("mul*")):
        if f.suffix in (".c", ".v") and not f.stem.endswith("_pdk45"):
            files.setdefault((f.stem, f.suffix), f)
    rows = []
    for (stem, suffix), f in sorted(files.items()):
        m = _NAME.match(stem)
        if m is None:
            continue
        na = int(m.group(1))
        nb = int(m.group(2) or na)
        signed = m.group(3) == "s"
        if min(na, nb) < 4 or max(na, nb) > args.max_bits:
            continue
        if suffix == ".v" and max(na, nb) > args.verilog_bits:
            continue
        t = time.monotonic()
        try:
            mult = characterise(f, a_bits=na, b_bits=nb, timeout=args.timeout)
        except ActcError as exc:
            rows.append({"circuit": stem, "model": suffix[1:], "a_bits": na, "b_bits": nb,
                         "library_signed": signed, "error": str(exc)})
            print(f"{stem:<16}{suffix:<4}FAILED {exc}", file=sys.stderr, flush=True)
            continue
        s = mult.family.source["signedness"]
        mre = s["mre_percent"]
        right, wrong = (mre["signed"], mre["unsigned"]) if signed else \
            (mre["unsigned"], mre["signed"])
        metrics = measure(mult)
        want = pub.get(stem)
        matched = None if want is None else all(
            abs(round(metrics[k], 2) - v) <= 0.006 for k, v in want.items())
        rows.append({"circuit": stem, "model": suffix[1:], "a_bits": na, "b_bits": nb,
                     "library_signed": signed, "detected_signed": s["signed"],
                     "mre_right": right, "mre_wrong": wrong,
                     "margin": wrong / right if right > 0 else float("inf"),
                     "published_matched": matched, "seconds": time.monotonic() - t})
        print(f"{stem:<16}{suffix:<4}{'ok' if signed == s['signed'] else 'WRONG':<7}"
              f"{right:>10.3f}{wrong:>10.2f}  published {matched}", file=sys.stderr,
              flush=True)
    text, ok = summary(rows)
    print(text)
    (RESULTS / "import_signedness.txt").write_text(text + "\n")
    (RESULTS / "import_signedness.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if ok else 1


def summary(records: list[dict]) -> tuple[str, bool]:
    """The table of results/import_signedness.txt, and whether every circuit was right."""
    failed = [r for r in records if "error" in r]
    rows = [r for r in records if "error" not in r]
    lines = ["actc mac import on EvoApproxLib (github:ehw-fit/evoapproxlib), signedness "
             "detected (no --signed/--unsigned)", "",
             f"{'class':<14}{'model':<7}{'circuits':>9}{'detected right':>16}"
             f"{'min margin':>12}{'published matched':>19}"]
    classes: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        kind = f"{r['a_bits']}x{r['b_bits']} {'s' if r['library_signed'] else 'u'}"
        classes.setdefault((kind, r["model"]), []).append(r)
    for (kind, model), rs in sorted(classes.items()):
        with_pub = [r for r in rs if r["published_matched"] is not None]
        lines.append(f"{kind:<14}{model:<7}{len(rs):>9}"
                     f"{sum(r['library_signed'] == r['detected_signed'] for r in rs):>16}"
                     f"{min(r['margin'] for r in rs):>12.2f}"
                     f"{sum(bool(r['published_matched']) for r in with_pub):>12}"
                     f" of {len(with_pub):<3}")
    total = len(rows)
    right = sum(r["library_signed"] == r["detected_signed"] for r in rows)
    tied = sorted({r["circuit"] for r in rows if r["mre_right"] == r["mre_wrong"]})
    distinct = [r["margin"] for r in rows if r["mre_right"] != r["mre_wrong"]]
    lines += ["", f"all: {right} of {total} detected as the library names them; published "
              f"metrics matched for {sum(bool(r['published_matched']) for r in rows)} of "
              f"{sum(r['published_matched'] is not None for r in rows)} with a published row",
              f"margin (MRE of the wrong reading / the right one; the rule needs > 2): smallest "
              f"{min(distinct):.2f} where the readings differ; {len(tied)} circuits read the "
              f"same both ways (MRE 100 %: they output 0), kept unsigned as the default: "
              f"{', '.join(tied)}",
              f"failed to import: {len(failed)}"] + [
        f"  {r['circuit']} ({r['model']}): {r['error']}" for r in failed]
    return "\n".join(lines), right == total and not failed




if __name__ == "__main__":
    sys.exit(main())
