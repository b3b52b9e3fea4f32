"""Issue 11: non-uniform tables against the uniform interpolated table at equal memory, and
against CMSIS-NN's int16 sigmoid/tanh at half its table memory.

    python benchmarks/equal_memory.py [--quick] [--runs N]

1. **Equal memory, 16-bit** (the issue's setting: ``--bits 16 --domain -8,8 --symmetry
   off``: s16.12 in; sigmoid u16.16, tanh s16.15, GELU and swish s16.12 out). The baseline is
   ``--method uniform --interpolate --entries 64`` with minimal table widths (this branch);
   its memory is the budget for ``geba --memory-bits B`` and ``auto --memory-bits B``. Also
   at the budget the issue measured on main (2176/2304/2176/2176 bits, the uniform table
   before minimal widths), and at 1 and 4 kbit (the largest uniform table within them; its
   memory is the budget). Errors are absolute, real units, every input code.
2. **Mean error**, ``--objective both`` (least mean error with a max error within 5 % of the
   best), next to the paper's figures (Ye & Jeong 2023: 49.7/67.3/81.4/60.1 %).
3. **FP32** inputs on [-8, 8], fp32 outputs (the documented dense sample): the uniform table
   is 64 evenly spaced segments in the float datapath, its memory counted as a uniform table
   stores it (Y and DY, 64 bits an entry, no X_LUT or P_LUT); geba and optimal get that many
   bits for their X/Y/DY/P tables.
4. **CMSIS-NN** ``arm_nn_activation_s16`` (s16.12 in, s16.15 out): ``auto --memory-bytes 256``
   (objectives max and both); bytes are ``sizeof`` the emitted C tables, measured by
   compiling the header with ``cc``; and the fewest bytes that match CMSIS-NN's max error.
   CMSIS-NN's figures were measured outside this repository: its ``arm_nn_activation_s16.c``
   and ``arm_nntables.c`` (commit 99f736a6 of ARM-software/CMSIS-NN) compiled with gcc and run
   on all 65536 int16 codes with ``left_shift = 0``, errors against float64 sigmoid and tanh
   in s16.15 LSBs. Its table is 256 uint16 entries (512 bytes), shared by both functions.
5. **Search time** per function (median of ``--runs``), on this machine: 2 cores shared with
   other jobs, so times are noisy; the load average is recorded.

Writes results/equal_memory.json and results/equal_memory.txt.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS, median_time, save  # noqa: E402

import actc  # noqa: E402
from actc.activation.metrics import measure  # noqa: E402

FUNCTIONS = ("sigmoid", "tanh", "gelu", "swish")
PAPER = {"sigmoid": 49.7, "tanh": 67.3, "gelu": 81.4, "swish": 60.1}
TARGET_MAX = {"sigmoid": 60, "tanh": 85, "gelu": 90, "swish": 80}
ISSUE_BUDGET = {"sigmoid": 2176, "tanh": 2304, "gelu": 2176, "swish": 2176}  # main, 64 entries
FIXED = dict(bits=16, domain=(-8.0, 8.0), symmetry="off")
CMSIS = {  # measured outside the repository (module docstring)
    "sigmoid": {"max_lsb": 1.0157, "mean_lsb": 0.2736, "table_bytes": 512},
    "tanh": {"max_lsb": 1.4762, "mean_lsb": 0.4679, "table_bytes": 512},
}
INT16 = dict(in_format="s16.12", out_format="s16.15")


def _errors(spec, unit) -> dict:
    e = measure(unit, spec)
    return {"max_abs": e["max_abs"], "mean_abs": e["mean_abs"], "max_lsb": e["max_lsb"],
            "mean_lsb": e["mean_lsb"]}


def _design(expr: str, **kw):
    t = time.perf_counter()
    spec, unit, _ = actc.build(expr, **kw)
    secs = time.perf_counter() - t
    row = _errors(spec, unit)
    row.update(memory_bits=unit.memory_bits, memory_bytes=unit.memory_bytes,
               summary=unit.core.summary(), seconds=secs)
    if unit.meta.get("search"):
        row["structure"] = unit.meta["search"]["structure"]
    return row


def _reduction(base: dict, new: dict, key: str) -> float:
    return 100 * (1 - new[key] / base[key])


def _uniform_within(expr: str, budget: int) -> dict:
    best = None
    for k in range(1, 13):
        row = _design(expr, method="uniform", interpolate=True, entries=1 << k, **FIXED)
        if row["memory_bits"] > budget:
            break
        best = dict(row, entries=1 << k)
    assert best is not None
    return best


def equal_memory(quick: bool) -> list[dict]:
    rows = []
    for name in FUNCTIONS:
        expr = f"{name}(x)"
        uni = _design(expr, method="uniform", interpolate=True, entries=64, **FIXED)
        settings = [("uniform 64 (minimal widths)", uni["memory_bits"], uni),
                    ("issue's budget (main)", ISSUE_BUDGET[name], uni)]
        if not quick:
            for kbit in (1024, 4096):
                u = _uniform_within(expr, kbit)
                settings.append((f"{kbit // 1024} kbit (uniform {u['entries']})",
                                 u["memory_bits"], u))
        for label, budget, base in settings:
            row = {"function": name, "setting": label, "budget_bits": budget, "uniform": base}
            row["geba"] = _design(expr, method="geba", memory_bits=budget, **FIXED)
            row["auto"] = _design(expr, method="auto", memory_bits=budget, **FIXED)
            row["auto_both"] = _design(expr, method="auto", memory_bits=budget,
                                       objective="both", **FIXED)
            for key in ("geba", "auto", "auto_both"):
                row[key]["max_reduction_pct"] = _reduction(base, row[key], "max_abs")
                row[key]["mean_reduction_pct"] = _reduction(base, row[key], "mean_abs")
            rows.append(row)
            print(f"{name:8} {label:28} {budget:5} bits: uniform max {base['max_abs']:.3g} "
                  f"mean {base['mean_abs']:.3g} | geba max {row['geba']['max_abs']:.3g} "
                  f"(-{row['geba']['max_reduction_pct']:.1f} %) | auto max "
                  f"{row['auto']['max_abs']:.3g} (-{row['auto']['max_reduction_pct']:.1f} %) | "
                  f"both mean {row['auto_both']['mean_abs']:.3g} "
                  f"(-{row['auto_both']['mean_reduction_pct']:.1f} %)", flush=True)
    return rows


def fp32(quick: bool) -> list[dict]:
    rows = []
    entries = 64
    for name in FUNCTIONS:
        expr = f"{name}(x)"
        uni = _design(expr, in_format="fp32", method="geba", spacing="uniform", entries=entries)
        uni["memory_bits"] = entries * 64  # a uniform table stores Y and DY only
        row = {"function": name, "budget_bits": uni["memory_bits"], "uniform": uni}
        for key, method in (("geba", "geba"), ("optimal", "optimal")):
            if quick and key == "optimal":
                continue
            for objective in ("max", "mse"):
                r = _design(expr, in_format="fp32", method=method,
                            memory_bits=uni["memory_bits"], objective=objective)
                r["max_reduction_pct"] = _reduction(uni, r, "max_abs")
                r["mean_reduction_pct"] = _reduction(uni, r, "mean_abs")
                row[f"{key}_{objective}"] = r
        rows.append(row)
        g = row["geba_max"]
        print(f"{name:8} fp32 {uni['memory_bits']} bits: uniform max {uni['max_abs']:.3g} "
              f"mean {uni['mean_abs']:.3g} | geba max {g['max_abs']:.3g} "
              f"(-{g['max_reduction_pct']:.1f} %), mse-fit mean "
              f"{row['geba_mse']['mean_abs']:.3g} "
              f"(-{row['geba_mse']['mean_reduction_pct']:.1f} %)", flush=True)
    return rows


def c_table_bytes(expr: str, **kw) -> tuple[int, object]:
    """sizeof the static const tables of the emitted C header, by compiling it."""
    r = actc.compile(expr, target="c", name="act", **kw)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        r.write(d)
        names = re.findall(r"static (?:ACTC_FLASH )?const \w+ (\w+)\[\d+\]",
                           (d / "act.h").read_text())
        total = " + ".join(f"sizeof {n}" for n in names)
        (d / "sizes.c").write_text('#include <stdio.h>\n#include "act.h"\nint main(void) {\n'
                                   f'    printf("%u\\n", (unsigned)({total}));\n'
                                   "    return 0;\n}\n")
        subprocess.run(["cc", "-std=c99", "-O0", "-Wno-unused-function", "sizes.c", "-o",
                        "sizes"], cwd=d, check=True)
        out = subprocess.run([str(d / "sizes")], capture_output=True, text=True, check=True)
    return int(out.stdout), r


def cmsis(quick: bool) -> list[dict]:
    rows = []
    for name, expr in (("sigmoid", "sigmoid(x)"), ("tanh", "tanh(x)")):
        for objective in ("max", "both"):
            c_bytes, r = c_table_bytes(expr, method="auto", memory_bytes=256,
                                       objective=objective, **INT16)
            row = {"function": name, "objective": objective, "c_bytes": c_bytes,
                   "memory_bytes": r.manifest["memory_bytes"],
                   "max_lsb": r.error["max_lsb"], "mean_lsb": r.error["mean_lsb"],
                   "summary": r.unit.core.summary(),
                   "parameters": r.manifest["parameters"], "cmsis": CMSIS[name]}
            rows.append(row)
            print(f"{name:8} {objective:4} {c_bytes} B of C tables: max {row['max_lsb']:.3f} "
                  f"mean {row['mean_lsb']:.3f} LSB (CMSIS-NN 512 B: "
                  f"{CMSIS[name]['max_lsb']} / {CMSIS[name]['mean_lsb']})", flush=True)
        if not quick:  # the fewest bytes that match CMSIS-NN's max error
            lo, hi = 32, 256
            while hi - lo > 8:
                mid = (lo + hi) // 2
                r = actc.compile(expr, target="python", method="auto", memory_bytes=mid,
                                 **INT16)
                if r.error["max_lsb"] <= CMSIS[name]["max_lsb"]:
                    hi = mid
                else:
                    lo = mid
            c_bytes, r = c_table_bytes(expr, method="auto", memory_bytes=hi, **INT16)
            rows.append({"function": name, "objective": "max", "fewest_bytes_matching_cmsis":
                         hi, "c_bytes": c_bytes, "max_lsb": r.error["max_lsb"],
                         "mean_lsb": r.error["mean_lsb"], "summary": r.unit.core.summary()})
            print(f"{name:8} matches CMSIS-NN's max error with {c_bytes} B "
                  f"(max {r.error['max_lsb']:.3f} LSB)", flush=True)
    return rows


def timing(runs: int) -> list[dict]:
    rows = []
    for name in FUNCTIONS:
        expr = f"{name}(x)"
        budget = actc.build(expr, method="uniform", interpolate=True, entries=64,
                            **FIXED)[1].memory_bits
        for method in ("geba", "auto"):
            med, times = median_time(lambda m=method, b=budget, e=expr: actc.build(
                e, method=m, memory_bits=b, **FIXED), runs=runs, warmup=0)
            rows.append({"function": name, "setting": "16-bit, uniform-64 budget",
                         "method": method, "median_s": med, "runs_s": times})
            print(f"{name:8} {method:5} 16-bit search: median {med:.2f} s over {runs} runs",
                  flush=True)
    for name in ("sigmoid", "tanh"):
        med, times = median_time(lambda e=f"{name}(x)": actc.build(
            e, method="auto", memory_bytes=256, **INT16), runs=runs, warmup=0)
        rows.append({"function": name, "setting": "s16.12 -> s16.15, 256 bytes",
                     "method": "auto", "median_s": med, "runs_s": times})
        print(f"{name:8} auto  int16 256 B search: median {med:.2f} s", flush=True)
    return rows


def _table(rows: list[dict]) -> str:
    out = ["| function | setting | budget (bits) | uniform max / mean | geba max (reduction) "
           "| auto max (reduction) | target | paper | auto both mean (reduction) | winner |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        u, g, a, b = r["uniform"], r["geba"], r["auto"], r["auto_both"]
        out.append(
            f"| {r['function']} | {r['setting']} | {r['budget_bits']} | {u['max_abs']:.3g} / "
            f"{u['mean_abs']:.3g} | {g['max_abs']:.3g} ({g['max_reduction_pct']:.1f} %) | "
            f"{a['max_abs']:.3g} ({a['max_reduction_pct']:.1f} %) | "
            f"{TARGET_MAX[r['function']]} % | {PAPER[r['function']]} % | {b['mean_abs']:.3g} "
            f"({b['mean_reduction_pct']:.1f} %) | {a['summary']} |")
    return "\n".join(out)


def _fp32_table(rows: list[dict]) -> str:
    out = ["| function | budget (bits) | uniform max / mean | geba max (reduction) | "
           "optimal max (reduction) | geba mse-fit mean (reduction) | paper |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        u, g, m = r["uniform"], r["geba_max"], r["geba_mse"]
        o = r.get("optimal_max")
        opt = f"{o['max_abs']:.3g} ({o['max_reduction_pct']:.1f} %)" if o else "-"
        out.append(f"| {r['function']} | {r['budget_bits']} | {u['max_abs']:.3g} / "
                   f"{u['mean_abs']:.3g} | {g['max_abs']:.3g} ({g['max_reduction_pct']:.1f} %) "
                   f"| {opt} | {m['mean_abs']:.3g} ({m['mean_reduction_pct']:.1f} %) | "
                   f"{PAPER[r['function']]} % |")
    return "\n".join(out)


def _cmsis_table(rows: list[dict]) -> str:
    out = ["| function | design | C table bytes | max LSB | mean LSB | structure |",
           "|---|---|---|---|---|---|"]
    for name in ("sigmoid", "tanh"):
        c = CMSIS[name]
        out.append(f"| {name} | CMSIS-NN arm_nn_activation_s16 | {c['table_bytes']} | "
                   f"{c['max_lsb']} | {c['mean_lsb']} | 256 uniform knots (shared) |")
        for r in rows:
            if r["function"] != name:
                continue
            label = ("actc auto, fewest bytes matching CMSIS-NN"
                     if "fewest_bytes_matching_cmsis" in r else
                     f"actc auto --memory-bytes 256 --objective {r['objective']}")
            out.append(f"| {name} | {label} | {r['c_bytes']} | {r['max_lsb']:.3f} | "
                       f"{r['mean_lsb']:.3f} | {r['summary']} |")
    return "\n".join(out)


def _time_table(rows: list[dict]) -> str:
    out = ["| function | setting | method | median (s) | runs (s) |", "|---|---|---|---|---|"]
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["runs_s"])
        out.append(f"| {r['function']} | {r['setting']} | {r['method']} | "
                   f"{r['median_s']:.2f} | {runs} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="the uniform-64 and issue budgets only, no bytes bisection")
    ap.add_argument("--runs", type=int, default=3, help="timing runs per search (median)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    fixed = equal_memory(args.quick)
    floats = fp32(args.quick)
    cm = cmsis(args.quick)
    times = timing(args.runs)
    load = os.getloadavg()
    machine = (f"{os.cpu_count()} cores shared with other jobs; load average "
               f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end; total "
               f"{time.perf_counter() - t0:.0f} s")
    text = "\n\n".join([
        "## Equal memory, 16-bit inputs (max error, real units; reductions against the uniform "
        "table)", _table(fixed),
        "## FP32 inputs on [-8, 8]", _fp32_table(floats),
        "## Against CMSIS-NN arm_nn_activation_s16 (s16.12 -> s16.15)", _cmsis_table(cm),
        "## Search time", _time_table(times), machine])
    (RESULTS / "equal_memory.txt").write_text(text + "\n")
    path = save("equal_memory", {"fixed16": fixed, "fp32": floats, "cmsis": cm,
                                 "timing": times, "machine": machine})
    print(f"\n{text}\n\nwrote {path} and results/equal_memory.txt")


if __name__ == "__main__":
    main()
