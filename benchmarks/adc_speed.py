"""Simulation speed of the IMC layers against float32 PyTorch, the baseline measured beside
each subject in the same run (each of the 5 repetitions times the baseline, then the
subject; medians), eval-mode unless stated:

- a 512x512 layer on a batch of 512 (a 512^3 GEMM): ``nn.Linear`` against ``IMCLinear``
  with mtj:4 and adc:4 (rows 128, 1-bit cells and DACs, 4-bit weights and inputs), inputs
  uniform in [0, 1) (dense: no input slice skipped) and ReLU'd normals (sparse), on the
  compiled kernel and on the pure-torch engine (the device path);
- the digits CNN (benchmarks/adc_common.py) forward on the 300 test images and one training
  step (batch 64: forward, backward, Adam), float against its crossbar converters.

    python benchmarks/adc_speed.py [--threads N]   -> benchmarks/results/adc_speed.json, .txt
    python benchmarks/adc_speed.py --smoke         # one run, nothing written (the suite runs it)

The issue's targets (issue 19): IMCLinear mtj:4 <= 40x and adc:4 <= 20x the float32
nn.Linear. The machine is shared by several jobs: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adc_common import Net, calibrate, digits, make_net, set_converter  # noqa: E402

from actc.nn import IMCLinear  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
RUNS = 5


def paired(base, subject, runs: int | None = None) -> tuple[float, float]:
    """Medians of the baseline's and the subject's times, measured alternately (RUNS each
    unless given)."""
    runs = RUNS if runs is None else runs
    base()
    subject()
    tb, ts = [], []
    for _ in range(runs):
        t = time.perf_counter()
        base()
        tb.append(time.perf_counter() - t)
        t = time.perf_counter()
        subject()
        ts.append(time.perf_counter() - t)
    return statistics.median(tb), statistics.median(ts)


def layer_rows() -> list[dict]:
    torch.manual_seed(0)
    lin = torch.nn.Linear(512, 512)
    inputs = {"dense": torch.rand(512, 512), "relu": torch.relu(torch.randn(512, 512))}
    rows = []
    for spec in ("mtj:4", "adc:4"):
        for engine in ("kernel", "torch"):
            for name, x in inputs.items():
                if engine == "torch" and name == "relu":
                    continue
                layer = IMCLinear(512, 512, converter=spec, rows=128, weight_bits=4,
                                  input_bits=4, engine=engine).eval()
                layer.weight.data = lin.weight.data.clone()
                layer.recalibrate_clips()
                layer.act_max.fill_(float(x.max()))
                with torch.no_grad():
                    layer(x)  # calibrate the ranges, compile the kernel
                    tb, ts = paired(lambda: lin(x), lambda: layer(x))  # noqa: B023
                rows.append({"what": f"IMCLinear 512x512 {spec}, {engine}, {name} inputs",
                             "baseline_ms": tb * 1e3, "ms": ts * 1e3, "ratio": ts / tb})
    return rows


def cnn_rows() -> list[dict]:
    _, _, (x, _) = digits()
    rows = []
    plain = Net().eval()
    for wb, spec in ((2, "ideal"), (2, "adc:4"), (2, "mtj:4"), (2, "mtj:16"), (4, "mtj:4")):
        m = make_net(0, weight_bits=wb)
        with torch.no_grad():
            m.train()
            m(x[:64])  # calibrate the ranges
        set_converter(m, spec)
        calibrate(m, x)  # the partial-sum ranges, and the kernel compiled
        with torch.no_grad():
            tb, ts = paired(lambda: plain(x), lambda: m(x))  # noqa: B023
        rows.append({"what": f"digits CNN forward, batch 300, {spec}, {wb}-bit weights",
                     "baseline_ms": tb * 1e3, "ms": ts * 1e3, "ratio": ts / tb})
    tr, _, _ = digits()
    xb, yb = tr[0][:64], tr[1][:64]
    for spec in ("adc:4", "mtj:4"):
        float_net, m = Net(), make_net(0, weight_bits=2)
        with torch.no_grad():
            m.train()
            m(xb)
        set_converter(m, spec)
        m.train()
        opts = [torch.optim.Adam(n.parameters(), lr=1e-3) for n in (float_net, m)]

        def step(net, opt):
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

        tb, ts = paired(lambda: step(float_net, opts[0]), lambda: step(m, opts[1]))  # noqa: B023
        rows.append({"what": f"digits CNN training step, batch 64, {spec}, 2-bit weights",
                     "baseline_ms": tb * 1e3, "ms": ts * 1e3, "ratio": ts / tb})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=0,
                    help="torch (and kernel) threads; 0: torch's default")
    ap.add_argument("--smoke", action="store_true",
                    help="one run of everything, nothing written (the test suite's check that "
                    "the benchmark still runs; its figures mean nothing)")
    args = ap.parse_args()
    global RUNS
    if args.smoke:
        RUNS = 1
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()
    rows = layer_rows() + cnn_rows()
    load_after = os.getloadavg()
    head = (f"IMC simulation speed vs float32 PyTorch, {torch.get_num_threads()} threads, "
            f"median of {RUNS} (baseline timed beside each subject); load "
            f"average {load[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} CPUs)")
    lines = [head, f"{'subject':<62} {'float ms':>9} {'ms':>9} {'x float':>8}"]
    for r in rows:
        lines.append(f"{r['what']:<62} {r['baseline_ms']:>9.2f} {r['ms']:>9.2f} "
                     f"{r['ratio']:>8.1f}")
    if args.smoke:
        print("\n".join(lines))
        return
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_speed.json").write_text(json.dumps(
        {"threads": torch.get_num_threads(), "load": [load, load_after], "rows": rows},
        indent=1) + "\n")
    (OUT / "adc_speed.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
