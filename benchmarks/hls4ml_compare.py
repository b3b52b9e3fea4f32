"""hls4ml's default activation tables against actc ``auto`` (issue 20).

For sigmoid, tanh, GELU and SiLU with an ap_fixed<16,6> input (s16.10, every one of the
65536 codes) and ap_fixed<16,6> or ap_fixed<18,8> outputs (s16.10, s18.10):

- hls4ml: its default table (table_size 1024, table_t ap_fixed<18,8>: 18432 bits), run by
  compiling hls4ml's own nnet_activation.h (``nnet::sigmoid``, ``nnet::tanh``) with g++. hls4ml
  1.3 has no GELU or SiLU: for those the baseline is the same lookup code (``nnet::sigmoid``'s
  indexing over [-8, 8)) with its table initialised by the function, the way hls4ml builds
  its softplus, elu and selu tables (an explicit specialisation of init_sigmoid_table);
- actc ``auto`` at the same table bits and at a tenth of them.

Error: max and mean |y - f(x)| over every input code, f in float64 (GELU through scipy's
erf). LUTs: Yosys ``actc cost`` (xilinx, -nobram: the tables as logic) of actc's Verilog;
hls4ml's table cannot be synthesised here (no Vivado/Vitis HLS), so it has no LUT figure.

Then a digits MLP (64-32-10, sigmoid) trained in PyTorch (seeded), converted by hls4ml
(ap_fixed<16,6>), its test accuracy by hls4ml's predict() (C simulation) with hls4ml's
sigmoid and with actc's at equal bits; several seeds, paired differences.

    python benchmarks/hls4ml_compare.py [--seeds 3] [--no-cost]

Writes benchmarks/results/hls4ml_compare.json and .md. Needs the hls4ml, torch and bench
extras (scikit-learn), g++ and Yosys.
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
from actc.targets.hls import ap_types_dir

RESULTS = Path(__file__).resolve().parent / "results"
IN_FORMAT = "s16.10"  # ap_fixed<16,6>
OUTPUTS = {"ap_fixed<16,6>": "s16.10", "ap_fixed<18,8>": "s18.10"}
TABLE_SIZE, TABLE_T = 1024, "ap_fixed<18,8>"
HLS4ML_BITS = TABLE_SIZE * 18


def _erf(x):
    from scipy.special import erf

    return erf(x)


FUNCTIONS = {
    "sigmoid": ("sigmoid(x)", lambda x: 0.5 * (1 + np.tanh(0.5 * x)),
                "1.0f / (1.0f + std::exp(-x))"),
    "tanh": ("tanh(x)", np.tanh, "std::tanh(x)"),
    "gelu": ("gelu(x)", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
             "0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)))"),
    "silu": ("silu(x)", lambda x: x * 0.5 * (1 + np.tanh(0.5 * x)),
             "x / (1.0f + std::exp(-x))"),
}

_HARNESS = """#include <cstdio>
#include "nnet_utils/nnet_activation.h"

typedef ap_fixed<16, 6> in_t;
typedef {out_t} out_t;
struct cfg : nnet::activ_config {{
    static const unsigned n_in = 1;
    static const unsigned table_size = {size};
    typedef {table_t} table_t;
}};
{specialisation}
int main() {{
    for (long c = -32768; c < 32768; c++) {{
        in_t x[1];
        out_t y[1];
        ap_int<16> code = c;
        x[0].range() = code.range();
        nnet::{call}<in_t, out_t, cfg>(x, y);
        ap_int<{out_bits}> q;
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


def hls4ml_outputs(fn: str, out_t: str, out_bits: int) -> np.ndarray:
    """hls4ml's default table on every s16.10 code, run by its own C++."""
    import hls4ml

    vivado = Path(hls4ml.__file__).parent / "templates" / "vivado"
    call = "tanh" if fn == "tanh" else "sigmoid"
    spec = "" if fn in ("sigmoid", "tanh") else _SPECIALISE.format(size=TABLE_SIZE,
                                                                  expr=FUNCTIONS[fn][2])
    src = _HARNESS.format(out_t=out_t, size=TABLE_SIZE, table_t=TABLE_T, specialisation=spec,
                          call=call, out_bits=out_bits)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "h.cpp").write_text(src)
        subprocess.run(["g++", "-std=c++14", "-O2", "-w", "-I", str(vivado), "-I",
                        str(vivado / "nnet_utils"), "-isystem", str(ap_types_dir()), "-o",
                        str(t / "h"), str(t / "h.cpp")], check=True)
        out = subprocess.run([str(t / "h")], check=True, capture_output=True, text=True).stdout
    return np.array(out.split(), dtype=np.int64)


def errors(codes_out: np.ndarray, scale: float, f, x: np.ndarray) -> dict:
    e = np.abs(codes_out * scale - f(x))
    inner = (x >= -8) & (x < 8)
    return {"max": float(e.max()), "mean": float(e.mean()), "max_in_8": float(e[inner].max()),
            "mean_in_8": float(e[inner].mean())}


def actc_design(fn: str, out: str, bits: int, directory: Path, cost: bool) -> dict:
    expr = FUNCTIONS[fn][0]
    t0 = time.perf_counter()
    r = actc.compile(expr, in_format=IN_FORMAT, out_format=out, method="auto", memory_bits=bits,
                     name=fn, target=["verilog", "python"])
    seconds = time.perf_counter() - t0
    r.write(directory)
    codes = np.arange(-(2**15), 2**15)
    y = r.unit.evaluate(x=codes)["y"]
    row = {"memory_bits": r.unit.memory_bits, "structure": r.manifest["search"]["winner"]
           if r.manifest.get("search") else r.method, "summary": r.unit.summary(),
           "fit_seconds": round(seconds, 2), "manifest_max_abs": r.error["max_abs"]}
    row.update(errors(y, r.unit.out_format.scale, FUNCTIONS[fn][1],
                      r.unit.in_format.real(codes)))
    if cost:
        p = subprocess.run([sys.executable, "-m", "actc", "cost", str(directory / f"{fn}.json")],
                           capture_output=True, text=True, timeout=1800)
        if p.returncode == 0:
            m = json.loads((directory / f"{fn}.json").read_text())
            row["luts"] = m["cost"]["xilinx"]["luts"]
            row["depth"] = m["cost"]["xilinx"]["depth"]
        else:
            row["luts"] = None
            row["cost_error"] = p.stderr.strip()[-300:]
    return row


def table_rows(cost: bool, outputs: list[str]) -> list[dict]:
    rows = []
    codes = np.arange(-(2**15), 2**15)
    x = codes / 1024.0
    with tempfile.TemporaryDirectory() as tmp:
        for fn in FUNCTIONS:
            for out_t in outputs:
                out = OUTPUTS[out_t]
                bits = int(out_t.split("<")[1].split(",")[0])
                h = hls4ml_outputs(fn, out_t, bits)
                base = {"function": fn, "output": out_t,
                        "hls4ml": {"memory_bits": HLS4ML_BITS, **errors(h, 2.0**-10,
                                                                       FUNCTIONS[fn][1], x)}}
                for label, budget in (("actc_equal", HLS4ML_BITS),
                                      ("actc_tenth", HLS4ML_BITS // 10)):
                    d = Path(tmp) / f"{fn}_{bits}_{label}"
                    base[label] = actc_design(fn, out, budget, d, cost)
                rows.append(base)
                print(json.dumps(base), flush=True)
                RESULTS.mkdir(exist_ok=True)
                (RESULTS / "hls4ml_compare_rows.jsonl").write_text(
                    "".join(json.dumps(r) + "\n" for r in rows))
    return rows


def mlp_accuracy(seeds: int) -> dict:
    """Digits MLP 64-32-10 with sigmoid, hls4ml C simulation: hls4ml's sigmoid vs actc's."""
    import hls4ml
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import actc.hls4ml

    data = load_digits()
    xs = (data.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(xs, data.target, test_size=0.3, random_state=0)
    out: dict = {"seeds": [], "designs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        designs = {}
        for label, budget in (("equal", HLS4ML_BITS), ("tenth", HLS4ML_BITS // 10)):
            r = actc.compile("sigmoid(x)", in_format=IN_FORMAT, out_format="s16.10",
                             method="auto", memory_bits=budget, name="sig", target="python")
            r.write(Path(tmp) / label)
            designs[label] = Path(tmp) / label / "sig.json"
            out["designs"][label] = {"memory_bits": r.unit.memory_bits,
                                     "max_abs": r.error["max_abs"]}
        for seed in range(seeds):
            torch.manual_seed(seed)
            model = torch.nn.Sequential()
            model.add_module("fc1", torch.nn.Linear(64, 32))
            model.add_module("sig", torch.nn.Sigmoid())
            model.add_module("fc2", torch.nn.Linear(32, 10))
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            xt, yt = torch.tensor(xtr), torch.tensor(ytr)
            for _ in range(300):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xt), yt).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                float_acc = float((model(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
            accs = {"float": float_acc}
            for label in ("hls4ml", "equal", "tenth"):
                config = hls4ml.utils.config_from_pytorch_model(
                    model, (64,), granularity="name", backend="Vitis",
                    default_precision="ap_fixed<16,6>")
                config["LayerName"]["fc1"]["Precision"]["result"] = "ap_fixed<16,6>"
                if label != "hls4ml":
                    actc.hls4ml.use(config, layer="sig", manifest=designs[label])
                hm = hls4ml.converters.convert_from_pytorch_model(
                    model, hls_config=config, output_dir=f"{tmp}/prj_{seed}_{label}",
                    backend="Vitis", io_type="io_parallel")
                hm.compile()
                pred = np.asarray(hm.predict(np.ascontiguousarray(xte))).argmax(1)
                accs[label] = float((pred == yte).mean())
            out["seeds"].append(accs)
            print(json.dumps(accs), flush=True)
    for key in ("float", "hls4ml", "equal", "tenth"):
        v = np.array([s[key] for s in out["seeds"]])
        out[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}
    for key in ("equal", "tenth"):
        d = np.array([s[key] - s["hls4ml"] for s in out["seeds"]])
        out[f"diff_{key}_vs_hls4ml"] = {"mean": float(d.mean()), "se": float(
            d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0}
    out["test_images"] = len(yte)
    return out


def markdown(rows: list[dict], mlp: dict | None) -> str:
    lines = ["| function | output | hls4ml max / mean | actc equal bits max / mean (bits, LUTs) "
             "| actc 1/10 bits max / mean (bits, LUTs) | max ratio equal / tenth |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        h, e, t = r["hls4ml"], r["actc_equal"], r["actc_tenth"]
        lines.append(
            f"| {r['function']} | {r['output']} | {h['max']:.3g} / {h['mean']:.3g} "
            f"({h['memory_bits']} bits) | {e['max']:.3g} / {e['mean']:.3g} ({e['memory_bits']}, "
            f"{e.get('luts')}) | {t['max']:.3g} / {t['mean']:.3g} ({t['memory_bits']}, "
            f"{t.get('luts')}) | {h['max'] / e['max']:.1f}x / {h['max'] / t['max']:.1f}x |")
    lines.append("")
    lines.append("GELU and SiLU inside [-8, 8) (hls4ml's table grid; it saturates beyond):")
    for r in rows:
        if r["function"] in ("gelu", "silu"):
            h, e, t = r["hls4ml"], r["actc_equal"], r["actc_tenth"]
            lines.append(f"- {r['function']} {r['output']}: hls4ml {h['max_in_8']:.3g} / "
                         f"{h['mean_in_8']:.3g}, actc {e['max_in_8']:.3g} / {e['mean_in_8']:.3g}"
                         f", actc 1/10 {t['max_in_8']:.3g} / {t['mean_in_8']:.3g}")
    if mlp:
        lines.append("")
        lines.append(f"Digits MLP 64-32-10 (sigmoid), hls4ml C simulation, {len(mlp['seeds'])} "
                     f"seeds, {mlp['test_images']} test images: float "
                     f"{100 * mlp['float']['mean']:.2f} +- {100 * mlp['float']['std']:.2f} %, "
                     f"hls4ml sigmoid {100 * mlp['hls4ml']['mean']:.2f} +- "
                     f"{100 * mlp['hls4ml']['std']:.2f} %, actc equal bits "
                     f"{100 * mlp['equal']['mean']:.2f} +- {100 * mlp['equal']['std']:.2f} %, "
                     f"actc 1/10 bits {100 * mlp['tenth']['mean']:.2f} +- "
                     f"{100 * mlp['tenth']['std']:.2f} %; paired difference actc - hls4ml: "
                     f"equal {100 * mlp['diff_equal_vs_hls4ml']['mean']:+.2f} +- "
                     f"{100 * mlp['diff_equal_vs_hls4ml']['se']:.2f} (SE), tenth "
                     f"{100 * mlp['diff_tenth_vs_hls4ml']['mean']:+.2f} +- "
                     f"{100 * mlp['diff_tenth_vs_hls4ml']['se']:.2f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-cost", action="store_true", help="skip Yosys")
    ap.add_argument("--no-mlp", action="store_true")
    ap.add_argument("--outputs", default=";".join(OUTPUTS),
                    help="output precisions, ;-separated (default: all of them)")
    args = ap.parse_args()
    rows = table_rows(not args.no_cost, args.outputs.split(";"))
    mlp = None if args.no_mlp else mlp_accuracy(args.seeds)
    RESULTS.mkdir(exist_ok=True)
    result = {"conditions": "shared 2-core machine; every s16.10 input code; errors against "
              "float64; hls4ml 1.3.0 default table (1024 x ap_fixed<18,8>)",
              "command": "python benchmarks/hls4ml_compare.py " + " ".join(sys.argv[1:]),
              "table": rows, "mlp": mlp}
    (RESULTS / "hls4ml_compare.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "hls4ml_compare.md").write_text(markdown(rows, mlp))
    print(markdown(rows, mlp))


if __name__ == "__main__":
    main()
