"""Issue 12: sweep throughput on Dask, and the automatic choice.

    python benchmarks/sweep.py              # both parts (about 20 min on 2 cores)
    python benchmarks/sweep.py --part scaling | --part choose

- scaling: ``examples/sweep.toml`` (4 functions x 3 widths x 6 methods with their main
  parameters: 300 points, each compiled for every target and synthesised by Yosys) run with
  1 and then 2 local workers, each from an empty directory; points per minute, and the
  speed-up of 2 workers (target >= 1.7x). The two tables must be equal (timings aside).
- choose: ``actc compile "gelu(x)" --bits 8 --max-error-lsb 1 --minimize luts`` (target under
  60 s), 3 runs, median; the design it picked and its LUTs next to ``table`` and
  ``threshold``.

Results: benchmarks/results/sweep.json and sweep.txt.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS, save  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "examples" / "sweep.toml"


def scaling() -> dict:
    from actc.sweep import sweep

    out: dict = {"spec": str(SPEC.name)}
    tables = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="actc-sweep-bench-") as tmp:
            t = time.perf_counter()
            res = sweep(SPEC, Path(tmp) / "out", workers=workers, progress=False)
            wall = time.perf_counter() - t
        df = res.table
        tables[workers] = df
        out[f"workers_{workers}"] = {
            "points": len(df), "ok": int((df["status"] == "ok").sum()), "wall_s": wall,
            "points_per_min": 60 * len(df) / wall,
            "fit_s_sum": float(res.timing["fit_s"].sum()),
            "cost_s_sum": float(res.timing["cost_s"].sum()),
        }
        print(f"{workers} worker(s): {len(df)} points in {wall:.0f} s, "
              f"{60 * len(df) / wall:.1f} points/min", flush=True)
    out["speedup_2_workers"] = out["workers_1"]["wall_s"] / out["workers_2"]["wall_s"]
    out["tables_equal"] = bool(tables[1].equals(tables[2]))
    return out


def choose(runs: int = 3) -> dict:
    import actc
    from actc.sweep.choose import compile_best

    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = compile_best("gelu(x)", max_error_lsb=1.0, minimize="luts", bits=8,
                              target="verilog")
        times.append(time.perf_counter() - t)
    assert result is not None
    sel = result.manifest["selection"]
    chosen = sel["candidates"][sel["chosen"]]
    ref = {c["method"]: c for c in sel["candidates"] if c["method"] in ("table", "threshold")}
    return {"median_s": statistics.median(times), "runs_s": times, "target_s": 60,
            "chosen": chosen, "table": ref.get("table"), "threshold": ref.get("threshold"),
            "candidates": len(sel["candidates"]), "actc_version": actc.__version__}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--part", choices=("scaling", "choose", "both"), default="both")
    args = ap.parse_args()
    previous = RESULTS / "sweep.json"  # one part run alone keeps the other's figures
    out: dict = json.loads(previous.read_text()) if previous.exists() else {}
    if args.part in ("scaling", "both"):
        out["scaling"] = scaling()
    if args.part in ("choose", "both"):
        out["choose"] = choose()
    path = save("sweep", out)
    lines = []
    if "scaling" in out:
        s = out["scaling"]
        for w in (1, 2):
            r = s[f"workers_{w}"]
            lines.append(f"{w} worker(s): {r['points']} points ({r['ok']} ok) in "
                         f"{r['wall_s']:.0f} s = {r['points_per_min']:.1f} points/min")
        lines.append(f"speed-up with 2 workers: {s['speedup_2_workers']:.2f}x (target >= 1.7); "
                     f"tables equal: {s['tables_equal']}")
    if "choose" in out:
        c = out["choose"]
        ch = c["chosen"]
        lines.append(f"gelu 8-bit --max-error-lsb 1 --minimize luts: {c['median_s']:.1f} s "
                     f"median of {len(c['runs_s'])} (target < 60 s); picked {ch['method']} "
                     f"{json.dumps(ch['options'])}: {ch['luts']} LUTs, max {ch['max_lsb']:.3g} "
                     f"LSB; table {c['table']['luts']} LUTs, threshold "
                     f"{c['threshold']['luts']} LUTs")
    text = "\n".join(lines) + "\n"
    (RESULTS / "sweep.txt").write_text(text)
    print(text + f"wrote {path}")


if __name__ == "__main__":
    main()
