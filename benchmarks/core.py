"""Issue 2 figures: CLI start-up and compile time, warm API compile time, and the Python
reference's throughput. Medians of several runs.

    python benchmarks/core.py [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import median_time, process_time, save  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    runs = args.runs
    actc_cli = shutil.which("actc") or "actc"
    out: dict = {"runs": runs}
    tmp = Path(tempfile.mkdtemp(prefix="actc-bench-"))

    med, all_ = process_time([actc_cli, "compile", "gelu(x)", "--target", "verilog", "--bits",
                              "8", "-o", str(tmp / "cli")], runs)
    out["cli_compile_gelu_verilog_8bit_s"] = {"median": med, "runs": all_, "target": 1.0}
    med, all_ = process_time([actc_cli, "--help"], runs)
    out["cli_help_s"] = {"median": med, "runs": all_, "target": 0.3}

    import actc

    med, all_ = median_time(lambda: actc.compile("gelu(x)", bits=8, target="all"), runs)
    out["api_table_8bit_all_targets_s"] = {"median": med, "runs": all_, "target": 0.05}
    med16, all16 = median_time(
        lambda: actc.compile("gelu(x)", bits=16, target="all"), max(3, runs // 2))
    out["api_table_16bit_all_targets_s"] = {"median": med16, "runs": all16, "target": 2.0}
    r = actc.compile("gelu(x)", bits=16, target="all")
    medw, allw = median_time(lambda: r.write(tmp / "w16"), max(3, runs // 2))
    out["write_16bit_all_targets_s"] = {"median": medw, "runs": allw}

    from actc.targets.python import load_module

    for label, kw in (("table_8bit", dict(bits=8)),
                      ("uniform_interp_16bit", dict(bits=16, method="uniform", entries=256,
                                                    interpolate=True))):
        res = actc.compile("gelu(x)", target="python", name=f"ref_{label}", **kw)
        res.write(tmp / label)
        mod = load_module(tmp / label / f"ref_{label}.py")
        fi = res.design.in_format
        codes = np.random.default_rng(0).integers(fi.code_min, fi.code_max + 1, 1_000_000)
        med, all_ = median_time(lambda mod=mod, codes=codes: mod.evaluate(codes), runs)
        out[f"python_evaluate_{label}_codes_per_s"] = {
            "median": 1_000_000 / med, "runs": [1_000_000 / t for t in all_], "target": 20e6}

    shutil.rmtree(tmp, ignore_errors=True)
    path = save("core", out)
    print(f"{'figure':<48} {'median':>14} {'target':>10}")
    for k, v in out.items():
        if isinstance(v, dict):
            print(f"{k:<48} {v['median']:>14.4g} {v.get('target', ''):>10}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
