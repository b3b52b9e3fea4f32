"""``actc mac report --library``: every library family at typical configurations, its error
metrics and its Yosys cost (xilinx, multipliers out of DSP blocks), as a table, a JSON file
and a Pareto plot of MRE against LUTs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, TextIO

__all__ = ["LIBRARY", "characterise", "library_report", "pareto"]

LIBRARY = (
    "exact", "truncated:4", "truncated:4,correction=mean", "truncated:6,correction=mean",
    "truncated:8", "bam:1,1", "bam:2,6", "drum:4", "drum:6", "mitchell", "ilm:1", "ilm:2",
    "mbm", "asm:1", "asm:1,3", "asm:1,3,5,7",
)


def characterise(spec: str, bits: int, signed: bool, lanes: int = 1, accumulate: bool = False,
                 acc_bits: int | None = None, family: str = "xilinx") -> dict[str, Any]:
    """Metrics and Yosys figures of one configuration."""
    from ..cost import synthesize
    from .api import compile as compile_mac

    r = compile_mac(spec, bits=bits, signed=signed, lanes=lanes, accumulate=accumulate,
                    acc_bits=acc_bits, target="verilog")
    with tempfile.TemporaryDirectory(prefix="actc-lib-") as tmp:
        r.write(tmp)
        figures = synthesize(Path(tmp) / f"{r.unit.name}.v", r.unit.name, family)
    figures.pop("cells", None)
    return {"spec": spec, "bits": bits, "signed": signed, "lanes": lanes,
            "accumulate": accumulate, "metrics": r.error,
            "cost": {k: figures[k] for k in ("luts", "ffs", "carry", "muxes", "dsp", "depth")}}


def pareto(rows: list[dict]) -> list[str]:
    """The specs no other row beats in both MRE and LUTs."""
    out = []
    for r in rows:
        mre, luts = r["metrics"]["mre_percent"], r["cost"]["luts"]
        if not any(o["metrics"]["mre_percent"] <= mre and o["cost"]["luts"] <= luts and
                   (o["metrics"]["mre_percent"], o["cost"]["luts"]) != (mre, luts)
                   for o in rows):
            out.append(r["spec"])
    return out


def table_text(rows: list[dict]) -> str:
    head = (f"{'multiplier':<30}{'EP %':>8}{'MAE %':>9}{'WCE %':>9}{'MRE %':>9}{'bias':>11}"
            f"{'LUTs':>6}{'depth':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        m, c = r["metrics"], r["cost"]
        lines.append(f"{r['spec']:<30}{m['ep_percent']:>8.2f}{m['mae_percent']:>9.4f}"
                     f"{m['wce_percent']:>9.4f}{m['mre_percent']:>9.3f}{m['bias']:>11.2f}"
                     f"{c['luts']:>6}{c['depth']:>6}")
    return "\n".join(lines)


def draw(rows: list[dict], title: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    front = set(pareto(rows))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for r in rows:
        x, y = r["cost"]["luts"], max(r["metrics"]["mre_percent"], 1e-3)
        ax.scatter(x, y, color="tab:red" if r["spec"] in front else "tab:blue", s=24)
        ax.annotate(r["spec"], (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    pts = sorted((r["cost"]["luts"], max(r["metrics"]["mre_percent"], 1e-3)) for r in rows
                 if r["spec"] in front)
    ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="tab:red", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("LUTs (Yosys, xilinx UltraScale+, no DSP)")
    ax.set_ylabel("MRE % (exact shown at 0.001)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def library_report(bits: int = 8, signed: bool = False, output: str | Path = ".",
                   progress: TextIO | None = None,
                   specs: tuple[str, ...] = LIBRARY) -> tuple[list[Path], str]:
    """Characterise the library; write mac_library.json and mac_library.png; return the paths
    and the table's text."""
    from ..sandbox import write_all
    from .families import parse_multiplier
    from .ir import Multiplier

    for spec in specs:  # every configuration checked before the first synthesis
        Multiplier(parse_multiplier(spec), bits, bits, signed)
    rows = []
    for k, spec in enumerate(specs):
        if progress is not None:
            print(f"[{k + 1}/{len(specs)}] {spec}", file=progress, flush=True)
        rows.append(characterise(spec, bits, signed))
    kind = "signed" if signed else "unsigned"
    title = f"actc multiplier library, {bits}x{bits}-bit {kind}: MRE against LUTs"
    stem = f"mac_library_{bits}{'s' if signed else 'u'}"
    paths = write_all(output, {f"{stem}.json": json.dumps(
        {"bits": bits, "signed": signed, "rows": rows, "pareto": pareto(rows)}, indent=1) + "\n",
        f"{stem}.png": draw(rows, title)})
    return paths, table_text(rows)
