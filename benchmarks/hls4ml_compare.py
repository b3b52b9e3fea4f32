"""hls4ml's default activation tables against actc ``auto`` (issue 20).

Input ap_fixed<16,6> (s16.10: every one of its 65536 codes). Row sets:

- ``hls4ml``: the output precisions hls4ml users pick, ap_fixed<16,6> and ap_fixed<18,8>
  (s16.10, s18.10), for sigmoid, tanh, GELU and SiLU;
- ``headroom``: a finer output of the same range (sigmoid ap_ufixed<16,0>, tanh
  ap_fixed<16,1>, GELU and SiLU ap_fixed<22,6>), hls4ml given the same output type and its
  default table_t. With 10 fractional output bits the output's own rounding leaves no room
  for a 10x lower max error than hls4ml's sigmoid (the "floor" below); these rows show
  whether actc's fit reaches 10x where the format allows it.

Per row:

- hls4ml: its default table (table_size 1024, table_t ap_fixed<18,8>: 18432 bits), run by
  compiling hls4ml's own nnet_activation.h (``nnet::sigmoid``, ``nnet::tanh``) with g++.
  hls4ml 1.3 has no GELU or SiLU: for those the baseline is the same lookup code
  (``nnet::sigmoid``'s indexing over [-8, 8)) with its table initialised by the function, the
  way hls4ml builds its softplus, elu and selu tables (an explicit specialisation of
  init_sigmoid_table); beyond [-8, 8) it saturates, so GELU and SiLU are also reported inside
  [-8, 8);
- floor: the output format's own rounding, f(x) rounded to the nearest output code (clamped to
  the format) on every input code; no design with this output format does better. The ratio
  possible is hls4ml's max error over the floor's;
- actc ``auto`` at the same table bits, at a tenth (the issue's two targets) and at a
  hundredth of them, fitted by actc and run as its ``--target hls`` header by g++ (C
  simulation, checked equal to actc's evaluator on every code).

Error: max and mean |y - f(x)| over every input code, f in float64 (GELU through scipy's erf,
relative error ~1e-16, far below every figure here). LUTs: Yosys, the ``actc cost`` xilinx
script (UltraScale+, -nobram: tables as logic), on actc's Verilog and on a Verilog copy of
hls4ml's lookup (its table converted to the output type, indexed as nnet_activation.h indexes
it; iverilog checks it against hls4ml's C++ on every code). HLS itself would put hls4ml's
1024 x 18-bit table in one RAMB18 (18432 bits exactly); Vivado/Vitis HLS cannot run here.

Then a digits MLP (64-32-10, sigmoid or tanh) trained in PyTorch (seeded), converted by
hls4ml (ap_fixed<16,6> everywhere), its test accuracy by hls4ml's predict() (C simulation)
with hls4ml's activation and with actc's at equal bits and at a tenth; paired differences.

    nice -n 10 python benchmarks/hls4ml_compare.py [--seeds 5] [--no-cost] [--no-mlp]
        [--sets hls4ml,headroom] [--resume]

Writes benchmarks/results/hls4ml_compare.json and .md (and hls4ml_compare_rows.jsonl as rows
finish; --resume reuses its rows). Needs the hls4ml, torch and bench extras (scikit-learn),
g++, iverilog and Yosys.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import actc
from actc.formats import parse_format
from actc.targets import TARGETS
from actc.targets.hls import ap_types_dir
from actc.targets.hls.activation import ap_format

RESULTS = Path(__file__).resolve().parent / "results"
IN_FORMAT = "s16.10"  # ap_fixed<16,6>
TABLE_SIZE, TABLE_T = 1024, "ap_fixed<18,8>"
HLS4ML_BITS = TABLE_SIZE * 18
# actc auto at hls4ml's table bits, a tenth (the targets) and a hundredth of them
BUDGETS = {"actc_equal": HLS4ML_BITS, "actc_tenth": HLS4ML_BITS // 10,
           "actc_hundredth": HLS4ML_BITS // 100}
ROWS_FILE = RESULTS / "hls4ml_compare_rows.jsonl"


def _erf(x):
    from scipy.special import erf

    return erf(x)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


# name: (actc expression, float64 function, C++ table expression of float x for the
# functions hls4ml lacks, hls4ml's lookup: its function and half range of its table)
FUNCTIONS = {
    "sigmoid": ("sigmoid(x)", _sigmoid, None, ("sigmoid", 8)),
    "tanh": ("tanh(x)", np.tanh, None, ("tanh", 4)),
    "gelu": ("gelu(x)", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
             "0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)))", ("sigmoid", 8)),
    "silu": ("silu(x)", lambda x: x * _sigmoid(x), "x / (1.0f + std::exp(-x))",
             ("sigmoid", 8)),
}

# Output formats per row set and function (actc text; the ap type follows from it).
SETS = {
    "hls4ml": {fn: ["s16.10", "s18.10"] for fn in FUNCTIONS},
    "headroom": {"sigmoid": ["u16.16"], "tanh": ["s16.15"], "gelu": ["s22.16"],
                 "silu": ["s22.16"]},
}

_HARNESS = """#include <cstdio>
#include "nnet_utils/nnet_activation.h"

typedef ap_fixed<16, 6> in_t;
typedef {out_t} out_t;
typedef ap_{raw}<{out_bits}> raw_t;
struct cfg : nnet::activ_config {{
    static const unsigned n_in = 1;
    static const unsigned table_size = {size};
    typedef {table_t} table_t;
}};
{specialisation}
int main() {{
    // the table as the activation returns it (converted to out_t), then every input code
    cfg::table_t table[{size}];
    nnet::init_{call}_table<cfg, {size}>(table);
    for (int k = 0; k < {size}; k++) {{
        out_t y = (out_t)table[k];
        raw_t q;
        q.range() = y.range();
        std::printf("%lld\\n", (long long)q.to_int64());
    }}
    for (long c = -32768; c < 32768; c++) {{
        in_t x[1];
        out_t y[1];
        ap_int<16> code = c;
        x[0].range() = code.range();
        nnet::{call}<in_t, out_t, cfg>(x, y);
        raw_t q;
        q.range() = y[0].range();
        std::printf("%lld\\n", (long long)q.to_int64());
    }}
    return 0;
}}
"""

# hls4ml has no GELU or SiLU: its sigmoid's table, initialised by the function over the same
# grid as init_sigmoid_table (nnet_activation.h), the way its softplus/elu tables are built.
_SPECIALISE = """namespace nnet {{
template <> void init_sigmoid_table<cfg, {size}>(cfg::table_t table_out[{size}]) {{
    for (int ii = 0; ii < {size}; ii++) {{
        float x = 2 * 8.0 * (ii - float({size}) / 2.0) / float({size});
        cfg::table_t real_val = {expr};
        table_out[ii] = real_val;
    }}
}}
}}
"""


def hls4ml_run(fn: str, out: str) -> tuple[np.ndarray, np.ndarray]:
    """hls4ml's default table on every s16.10 code, run by its own C++: (the table as output
    codes, the output code of every input code)."""
    import hls4ml

    fo = parse_format(out, "y")
    vivado = Path(hls4ml.__file__).parent / "templates" / "vivado"
    expr, (call, _) = FUNCTIONS[fn][2], FUNCTIONS[fn][3]
    spec = "" if expr is None else _SPECIALISE.format(size=TABLE_SIZE, expr=expr)
    src = _HARNESS.format(out_t=ap_format(fo), raw="int" if fo.signed else "uint",
                          out_bits=fo.bits, size=TABLE_SIZE, table_t=TABLE_T,
                          specialisation=spec, call=call)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "h.cpp").write_text(src)
        subprocess.run(["g++", "-std=c++14", "-O3", "-w", "-I", str(vivado), "-I",
                        str(vivado / "nnet_utils"), "-isystem", str(ap_types_dir()), "-o",
                        str(t / "h"), str(t / "h.cpp")], check=True)
        text = subprocess.run([str(t / "h")], check=True, capture_output=True, text=True).stdout
    values = np.array(text.split(), dtype=np.int64)
    return values[:TABLE_SIZE], values[TABLE_SIZE:]


def hls4ml_index(fn: str, codes: np.ndarray) -> np.ndarray:
    """nnet_activation.h's table index of each s16.10 code: x * table_size / (2 * half range)
    truncated toward zero (ap_fixed's to_int), plus table_size / 2, clamped."""
    half = FUNCTIONS[fn][3][1]
    step = (1 << 10) * 2 * half // TABLE_SIZE  # input codes per table entry: 16 or 8
    r = np.sign(codes) * (np.abs(codes) // step)
    return np.clip(r + TABLE_SIZE // 2, 0, TABLE_SIZE - 1)


def hls4ml_verilog(fn: str, out: str, table: np.ndarray, codes: np.ndarray,
                   outputs: np.ndarray, directory: Path) -> Path:
    """hls4ml's lookup as a Verilog module (for Yosys), checked by iverilog against hls4ml's
    C++ on every input code."""
    assert np.array_equal(table[hls4ml_index(fn, codes)], outputs), "index model is wrong"
    fo = parse_format(out, "y")
    half = FUNCTIONS[fn][3][1]
    shift = {8: 4, 4: 3}[half]
    sign = "signed " if fo.signed else ""
    lines = [f"module hls4ml_{fn}(input signed [15:0] x, output reg {sign}[{fo.bits - 1}:0] y);",
             # to_int truncates toward zero: add step - 1 to a negative x before the shift
             f"    wire signed [16:0] r = (x < 0 ? x + {(1 << shift) - 1} : x) >>> {shift};",
             "    wire signed [16:0] s = r + 17'sd512;",
             "    wire [9:0] idx = s < 0 ? 10'd0 : (s > 1023 ? 10'd1023 : s[9:0]);",
             "    always @* begin", "        case (idx)"]
    mask = (1 << fo.bits) - 1
    for k, v in enumerate(table):
        lines.append(f"        10'd{k}: y = {fo.bits}'h{int(v) & mask:x};")
    lines += ["        endcase", "    end", "endmodule", ""]
    v = directory / f"hls4ml_{fn}.v"
    v.write_text("\n".join(lines))
    tb = directory / "tb.v"
    tb.write_text(f"""module tb;
    reg signed [15:0] x;
    wire {sign}[{fo.bits - 1}:0] y;
    integer c;
    hls4ml_{fn} dut(.x(x), .y(y));
    initial begin
        for (c = -32768; c < 32768; c = c + 1) begin
            x = c; #1 $display("%0d", y);
        end
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-o", str(directory / "tb.vvp"), str(tb), str(v)],
                   check=True)
    text = subprocess.run(["vvp", "-n", str(directory / "tb.vvp")], check=True,
                          capture_output=True, text=True).stdout
    sim = np.array([int(s) for s in text.split() if s.lstrip("-").isdigit()], dtype=np.int64)
    assert np.array_equal(sim, outputs), "the hls4ml Verilog copy differs from its C++"
    return v


def errors(out_codes: np.ndarray, scale: float, want: np.ndarray, x: np.ndarray) -> dict:
    e = np.abs(out_codes * scale - want)
    inner = (x >= -8) & (x < 8)
    return {"max": float(e.max()), "mean": float(e.mean()), "max_in_8": float(e[inner].max()),
            "mean_in_8": float(e[inner].mean()), "worst_x": float(x[int(np.argmax(e))])}


def floor_codes(want: np.ndarray, out: str) -> np.ndarray:
    """Each true value rounded to the nearest code of the output format, clamped to it."""
    fo = parse_format(out, "y")
    return np.clip(np.round(want / fo.scale), fo.code_min, fo.code_max).astype(np.int64)


def luts(verilog: Path, top: str) -> dict:
    from actc.cost import synthesize

    t0 = time.perf_counter()
    try:
        fig = synthesize(verilog, top, "xilinx")
    except Exception as exc:  # noqa: BLE001 - recorded in the row, the run goes on
        return {"luts": None, "cost_error": str(exc)[-300:]}
    return {"luts": fig["luts"], "muxes": fig["muxes"], "carry": fig["carry"],
            "depth": fig["depth"], "yosys_seconds": round(time.perf_counter() - t0, 1)}


def actc_design(fn: str, out: str, bits: int, directory: Path, want: np.ndarray,
                x: np.ndarray, cost: bool) -> dict:
    expr, name = FUNCTIONS[fn][0], f"{fn}_act"  # tanh is the C library's
    t0 = time.perf_counter()
    r = actc.compile(expr, in_format=IN_FORMAT, out_format=out, method="auto", memory_bits=bits,
                     name=name, target=["verilog", "hls"])
    seconds = time.perf_counter() - t0
    r.write(directory)
    space = r.unit.input_space()
    y = r.unit.evaluate(**space.vectors)["y"]
    # the errors are those of the --target hls header, run by g++
    hls = TARGETS["hls"].run(directory, r.unit, space, TARGETS["hls"].options())["y"]
    assert np.array_equal(hls, y), f"{fn}: the HLS C simulation differs from the evaluator"
    search = r.manifest.get("search") or {}
    row = {"memory_bits": r.unit.memory_bits, "structure": search.get("structure", r.method),
           "summary": r.unit.summary(), "fit_seconds": round(seconds, 1),
           "manifest_max_abs": r.error["max_abs"]}
    row.update(errors(y, r.unit.out_format.scale, want, x))
    if cost:
        row.update(luts(directory / f"{name}.v", name))
    return row


def one_row(fn: str, out: str, row_set: str, cost: bool, tmp: Path) -> dict:
    fo = parse_format(out, "y")
    codes = np.arange(-(2**15), 2**15)
    x = codes / 1024.0
    want = FUNCTIONS[fn][1](x)
    table, h = hls4ml_run(fn, out)
    d = tmp / f"{fn}_{out}"
    d.mkdir(parents=True, exist_ok=True)
    hrow = {"memory_bits": HLS4ML_BITS, **errors(h, fo.scale, want, x)}
    if cost:
        hrow.update(luts(hls4ml_verilog(fn, out, table, codes, h, d), f"hls4ml_{fn}"))
    row = {"set": row_set, "function": fn, "output": ap_format(fo), "out_format": out,
           "hls4ml": hrow, "floor": errors(floor_codes(want, out), fo.scale, want, x)}
    return complete_row(row, fn, out, cost, tmp)


def complete_row(row: dict, fn: str, out: str, cost: bool, tmp: Path) -> dict:
    """The actc designs a row lacks (every budget of BUDGETS), and the ratios."""
    codes = np.arange(-(2**15), 2**15)
    x = codes / 1024.0
    want = FUNCTIONS[fn][1](x)
    (tmp / f"{fn}_{out}").mkdir(parents=True, exist_ok=True)
    for label, budget in BUDGETS.items():
        if label not in row:
            row[label] = actc_design(fn, out, budget, tmp / f"{fn}_{out}" / label, want, x, cost)
    for part in ("", "_in_8"):
        hmax = row["hls4ml"][f"max{part}"]
        row[f"ratio_possible{part}"] = hmax / row["floor"][f"max{part}"]
        for label in BUDGETS:
            row[label][f"ratio{part}"] = hmax / row[label][f"max{part}"]
    return row


def table_rows(cost: bool, sets: list[str], resume: bool) -> list[dict]:
    done = {}
    if resume and ROWS_FILE.exists():
        for line in ROWS_FILE.read_text().splitlines():
            r = json.loads(line)
            done[(r["set"], r["function"], r["out_format"])] = r
    rows = []
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for row_set in sets:
            for fn, outs in SETS[row_set].items():
                for out in outs:
                    key = (row_set, fn, out)
                    row = (complete_row(done[key], fn, out, cost, Path(tmp)) if key in done
                           else one_row(fn, out, row_set, cost, Path(tmp)))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    ROWS_FILE.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _train(model, xtr, ytr, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.tensor(xtr), torch.tensor(ytr)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    model.eval()


def mlp_accuracy(seeds: int, functions: tuple[str, ...] = ("sigmoid", "tanh")) -> dict:
    """Digits MLP 64-32-10 (sigmoid or tanh), hls4ml C simulation: hls4ml's activation
    against actc's at equal bits and at a tenth."""
    import hls4ml
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import actc.hls4ml

    data = load_digits()
    xs = (data.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(xs, data.target, test_size=0.3, random_state=0)
    result: dict = {"test_images": len(yte), "seeds": seeds,
                    "precision": "ap_fixed<16,6> everywhere (weights, results, activation in "
                    "and out)"}
    modules = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
    with tempfile.TemporaryDirectory() as tmp:
        for fn in functions:
            out: dict = {"per_seed": [], "designs": {}}
            designs = {}
            for label, budget in (("equal", HLS4ML_BITS), ("tenth", HLS4ML_BITS // 10)):
                r = actc.compile(FUNCTIONS[fn][0], in_format=IN_FORMAT, out_format="s16.10",
                                 method="auto", memory_bits=budget, name="act",
                                 target="python")
                r.write(Path(tmp) / fn / label)
                designs[label] = Path(tmp) / fn / label / "act.json"
                out["designs"][label] = {"memory_bits": r.unit.memory_bits,
                                         "max_abs": r.error["max_abs"],
                                         "summary": r.unit.summary()}
            for seed in range(seeds):
                torch.manual_seed(seed)
                model = torch.nn.Sequential()
                model.add_module("fc1", torch.nn.Linear(64, 32))
                model.add_module("act", modules[fn]())
                model.add_module("fc2", torch.nn.Linear(32, 10))
                _train(model, xtr, ytr, seed)
                with torch.no_grad():
                    float_acc = float((model(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
                accs = {"float": float_acc}
                for label in ("hls4ml", "equal", "tenth"):
                    config = hls4ml.utils.config_from_pytorch_model(
                        model, (64,), granularity="name", backend="Vitis",
                        default_precision="ap_fixed<16,6>")
                    config["LayerName"]["fc1"]["Precision"]["result"] = "ap_fixed<16,6>"
                    if label != "hls4ml":
                        actc.hls4ml.use(config, layer="act", manifest=designs[label])
                    hm = hls4ml.converters.convert_from_pytorch_model(
                        model, hls_config=config, output_dir=f"{tmp}/prj_{fn}_{seed}_{label}",
                        backend="Vitis", io_type="io_parallel")
                    kinds = [n.class_name for n in hm.get_layers()]
                    assert ("ActcActivation" in kinds) == (label != "hls4ml"), kinds
                    hm.compile()
                    pred = np.asarray(hm.predict(np.ascontiguousarray(xte))).argmax(1)
                    accs[label] = float((pred == yte).mean())
                out["per_seed"].append(accs)
                print(fn, json.dumps(accs), flush=True)
            for key in ("float", "hls4ml", "equal", "tenth"):
                v = np.array([s[key] for s in out["per_seed"]])
                out[key] = {"mean": float(v.mean()),
                            "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}
            for key in ("equal", "tenth"):
                d = np.array([s[key] - s["hls4ml"] for s in out["per_seed"]])
                out[f"diff_{key}_vs_hls4ml"] = {
                    "mean": float(d.mean()),
                    "se": float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0}
                same = [s[key] == s["hls4ml"] for s in out["per_seed"]]
                out[f"identical_{key}"] = int(sum(same))
            result[fn] = out
    return result


def _g(v: float) -> str:
    return f"{v:.3g}"


def _lut(r: dict) -> str:
    return "-" if r.get("luts") is None else str(r["luts"])


def _design(r: dict) -> str:
    return (f"{_g(r['max'])} / {_g(r['mean'])} ({r['memory_bits']}, {_lut(r)}, "
            f"{r['structure']})")


def markdown(rows: list[dict], mlp: dict | None, command: str) -> str:
    lines = [f"Command: `{command}`. Input ap_fixed<16,6> (s16.10), every one of its 65536 "
             "codes; errors against float64; shared 2-core machine. hls4ml 1.3.0's default "
             "table: 1024 x ap_fixed<18,8> = 18432 bits (its LUTs: the same lookup as Verilog, "
             "as logic). LUTs: Yosys synth_xilinx (xcup, -nobram: tables as logic). Floor: the "
             "output format's own rounding (max error of f rounded to the nearest output "
             "code). actc cells: max / mean error (table bits, LUTs, structure auto chose). "
             "Ratio = hls4ml max / actc max; possible = hls4ml max / floor max. Target: ratio "
             ">= 10 at equal bits, >= 1 at a tenth.", "",
             "| set | function | output | hls4ml max / mean (LUTs) | floor max | actc equal "
             "bits | ratio (possible) | actc 1/10 bits | ratio | actc 1/100 bits | ratio |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        h, f = r["hls4ml"], r["floor"]
        e, t, u = r["actc_equal"], r["actc_tenth"], r["actc_hundredth"]
        lines.append(
            f"| {r['set']} | {r['function']} | {r['output']} | {_g(h['max'])} / {_g(h['mean'])} "
            f"({_lut(h)}) | {_g(f['max'])} | {_design(e)} | {e['ratio']:.1f}x "
            f"({r['ratio_possible']:.1f}x) | {_design(t)} | {t['ratio']:.1f}x | {_design(u)} | "
            f"{u['ratio']:.1f}x |")
    inner = [r for r in rows if r["function"] in ("gelu", "silu")]
    if inner:
        lines += ["", "GELU and SiLU inside [-8, 8) only (hls4ml's table grid; it saturates "
                  "beyond, so the full-range ratios above measure that, not the table): max "
                  "error", "",
                  "| set | function | output | hls4ml | floor | actc equal | ratio (possible) "
                  "| actc 1/10 | ratio | actc 1/100 | ratio |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in inner:
            h, f = r["hls4ml"], r["floor"]
            e, t, u = r["actc_equal"], r["actc_tenth"], r["actc_hundredth"]
            lines.append(
                f"| {r['set']} | {r['function']} | {r['output']} | {_g(h['max_in_8'])} | "
                f"{_g(f['max_in_8'])} | {_g(e['max_in_8'])} | {e['ratio_in_8']:.1f}x "
                f"({r['ratio_possible_in_8']:.1f}x) | {_g(t['max_in_8'])} | "
                f"{t['ratio_in_8']:.1f}x | {_g(u['max_in_8'])} | {u['ratio_in_8']:.1f}x |")
    if mlp:
        lines += ["", f"Digits MLP 64-32-10, hls4ml C simulation (predict()), {mlp['seeds']} "
                  f"seeds (training seeded), {mlp['test_images']} test images, "
                  f"{mlp['precision']}; accuracy mean +- std over seeds, paired difference "
                  "actc - hls4ml mean +- SE:", "",
                  "| activation | float | hls4ml | actc equal bits | actc 1/10 bits | "
                  "equal - hls4ml | tenth - hls4ml |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for fn in ("sigmoid", "tanh"):
            m = mlp.get(fn)
            if not m:
                continue
            cells = [f"{100 * m[k]['mean']:.2f} +- {100 * m[k]['std']:.2f} %"
                     for k in ("float", "hls4ml", "equal", "tenth")]
            diffs = [f"{100 * m[f'diff_{k}_vs_hls4ml']['mean']:+.2f} +- "
                     f"{100 * m[f'diff_{k}_vs_hls4ml']['se']:.2f} (identical in "
                     f"{m[f'identical_{k}']} of {mlp['seeds']})" for k in ("equal", "tenth")]
            lines.append(f"| {fn} | " + " | ".join(cells + diffs) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-cost", action="store_true", help="skip Yosys")
    ap.add_argument("--no-mlp", action="store_true")
    ap.add_argument("--no-table", action="store_true")
    ap.add_argument("--sets", default=",".join(SETS), help="row sets, comma-separated")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the rows in results/hls4ml_compare_rows.jsonl")
    args = ap.parse_args()
    command = "python benchmarks/hls4ml_compare.py " + " ".join(sys.argv[1:])
    t0 = time.perf_counter()
    rows = [] if args.no_table else table_rows(not args.no_cost, args.sets.split(","),
                                               args.resume)
    mlp = None if args.no_mlp else mlp_accuracy(args.seeds)
    import hls4ml

    result = {"conditions": "shared 2-core machine (several helpers); every s16.10 input code; "
              f"errors against float64; hls4ml {hls4ml.__version__} default table "
              "(1024 x ap_fixed<18,8>); MLP training seeded (torch.manual_seed(seed))",
              "command": command, "seconds": round(time.perf_counter() - t0),
              "yosys": None, "table": rows, "mlp": mlp}
    if not args.no_cost:
        from actc.cost import yosys_version

        result["yosys"] = yosys_version()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hls4ml_compare.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "hls4ml_compare.md").write_text(markdown(rows, mlp, command))
    print(markdown(rows, mlp, command))


if __name__ == "__main__":
    main()
