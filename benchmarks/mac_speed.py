"""Issue 19 (and issue 8, benchmark 2): how fast ``actc.nn`` simulates approximate
multipliers, bit-exactly, against float32 PyTorch measured beside it in the same run.

    python benchmarks/mac_speed.py [--runs 5] [--threads 2] [--clock wall] [--name mac_speed]
    python benchmarks/mac_speed.py --smoke   # one run, nothing written (the suite runs it)

Three tables, every time the median of ``--runs`` runs, the runs of a table interleaved (one
run of the baseline, then one of each subject, repeated) so that load from other processes
falls on all of them alike; ratios are median time / median float32 time:

1. ``layer``: a 512 x 512 ``ApproxLinear`` on a batch of 512 (a 512^3 GEMM, 8-bit signed
   operands) against ``nn.Linear``: the evaluation forward (``torch.no_grad``, cached weight
   codes) and a training step (forward and backward of ``out.square().mean()``). Multipliers:
   exact, truncated:6 and asm:1,3 (factorised), drum:4 and mitchell (the table method: the
   compiled kernel, and drum:4 also on the torch path other devices take), ``MRENoise(0.05)``.
   Issue 19's targets: drum:4 <= 20x, MRENoise <= 2.5x (previous engine: 32.4x and 4.2x).
2. ``cnn``: the digits CNN of benchmarks/_digits_cnn.py against the same network of
   ``nn.Conv2d``/``nn.Linear``: the evaluation forward of the 450 test images and a training
   step on a batch of 64 (Adam), drum:4, exact and MRENoise(0.05).
3. ``gemm``: the engine alone (``ApproxGemm.matmul`` on random codes, no cache) against
   ``torch.matmul`` in float32, in GMAC/s (M K N / time): the 512^3 GEMM and the CNN's second
   convolution for a batch of 64 (M = 64 x 64 positions, K = 72, N = 16).

``--clock cpu`` times with the process's CPU time instead of the wall clock: with
``--threads 1`` on a machine loaded by other jobs, that is what an idle core would take
(with more threads it also counts threads waiting at barriers: use the wall clock).

Every approximate layer's integer sums are checked equal to an int64 sum from the product
table before timing. Results: benchmarks/results/NAME.json and .txt (``--name``, default
mac_speed), with the load average before and after (the machine may be shared with other
jobs: ratios are the figures to compare, not times).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _digits_cnn import build, data  # noqa: E402
from _util import RESULTS, save  # noqa: E402

from actc.mac.api import make_multiplier  # noqa: E402
from actc.nn import ApproxLinear, MRENoise, approximate_layers, calibrate, kernels  # noqa: E402
from actc.nn.gemm import ApproxGemm  # noqa: E402

LAYER_SPECS = ("exact", "truncated:6", "asm:1,3", "drum:4", "drum:4 (torch path)", "mitchell",
               "MRENoise 5 %")
CNN_SPECS = ("exact", "drum:4", "MRENoise 5 %")
GEMM_SPECS = ("exact", "truncated:6", "asm:1,3", "drum:4", "mitchell", "MRENoise 5 %")
GEMM_SHAPES = {"512^3": (512, 512, 512), "cnn conv2, batch 64": (64 * 64, 8 * 9, 16)}


def multiplier(spec: str) -> Any:
    return MRENoise(0.05) if spec.startswith("MRENoise") else spec.split(" ")[0]


CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = CLOCK["wall"]


def interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """Times of each function, one run of each in turn, ``runs`` times (after one warm-up
    run each)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t = _clock()
            fn()
            times[name].append(_clock() - t)
    return times


def check_integer_sums(model: nn.Module, x: torch.Tensor) -> None:
    """``--clock cpu`` times with the process's CPU time instead of the wall clock: with
``--threads 1`` on a machine loaded by other jobs, that is what an idle core would take
(with more threads it also counts threads waiting at barriers: use the wall clock).

Every approximate layer's integer sums, on the input it sees in model(x), equal an
    int64 sum over its product table."""
    seen: dict[nn.Module, torch.Tensor] = {}
    hooks = [layer.register_forward_pre_hook(lambda mod, args: seen.setdefault(mod, args[0]))
             for layer in approximate_layers(model)]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    for layer, inp in seen.items():
        g = layer.engine  # type: ignore[union-attr]
        qx, qw = layer.operand_codes(inp)  # type: ignore[operator]
        a = qx.detach().numpy().astype(np.int64) - g.a_lo
        b = qw.detach().numpy().astype(np.int64).T - g.b_lo
        t = g.table.numpy().astype(np.int64)
        want = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
        for k in range(a.shape[1]):
            want += t[a[:, k][:, None], b[k][None, :]]
        with torch.no_grad():
            got = layer.integer_output(inp).numpy()  # type: ignore[operator]
        if not np.array_equal(got, want):
            raise AssertionError(f"{g.multiplier.text}: sums differ from the table's")


def summarise(times: dict[str, list[float]], base: str) -> dict[str, dict[str, Any]]:
    t0 = statistics.median(times[base])
    return {name: {"s": statistics.median(t), "runs_s": t, "vs_float32":
                   statistics.median(t) / t0} for name, t in times.items()}


def layer_table(runs: int) -> dict[str, Any]:
    torch.manual_seed(0)
    x = torch.randn(512, 512)
    lin = nn.Linear(512, 512)
    layers: dict[str, ApproxLinear] = {}
    for spec in LAYER_SPECS:
        layer = ApproxLinear(512, 512, multiplier=multiplier(spec))
        layer.load_state_dict(lin.state_dict(), strict=False)
        with torch.no_grad():
            layer.train()
            layer(x)  # calibrates the activation scale
        if "torch path" in spec:
            layer.engine.kernel = False
        if spec != "MRENoise 5 %":
            check_integer_sums(layer.eval(), x)
        layers[spec] = layer
    out: dict[str, Any] = {}

    def forward(module: nn.Module) -> Callable[[], Any]:
        def run() -> Any:
            with torch.no_grad():
                return module(x)
        return run

    for module in (lin, *layers.values()):
        module.eval()
    fns = {"float32 nn.Linear": forward(lin)}
    fns.update({spec: forward(layer) for spec, layer in layers.items()})
    out["eval forward"] = summarise(interleaved(fns, runs), "float32 nn.Linear")

    def step(module: nn.Module) -> Callable[[], Any]:
        def run() -> None:
            module.zero_grad(set_to_none=True)
            module(x).square().mean().backward()
        return run

    for module in (lin, *layers.values()):
        module.train()
    fns = {"float32 nn.Linear": step(lin)}
    fns.update({spec: step(layer) for spec, layer in layers.items()})
    out["training step"] = summarise(interleaved(fns, runs), "float32 nn.Linear")
    return out


def float_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))


def cnn_table(runs: int) -> dict[str, Any]:
    d = data()
    # the last 450 images are the test batch, the rest the training images
    x_train, y_train, x_test = d.x[:-450], d.y[:-450], d.x[-450:]
    torch.manual_seed(0)
    base = float_cnn()
    models: dict[str, nn.Module] = {"float32 nn layers": base}
    for spec in CNN_SPECS:
        model = build(multiplier(spec))
        model.load_state_dict(base.state_dict(), strict=False)
        calibrate(model, x_train[:256], desc=f"calibrate {spec}")  # the input ranges
        if spec != "MRENoise 5 %":
            check_integer_sums(model.eval(), x_test[:64])
        models[spec] = model
    out: dict[str, Any] = {}

    def forward(model: nn.Module) -> Callable[[], Any]:
        def run() -> Any:
            with torch.no_grad():
                return model(x_test)
        return run

    for model in models.values():
        model.eval()
    out["eval forward, 450 images"] = summarise(
        interleaved({k: forward(m) for k, m in models.items()}, runs), "float32 nn layers")
    xb, yb = x_train[:64], y_train[:64]

    def step(model: nn.Module) -> Callable[[], Any]:
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def run() -> None:
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        return run

    for model in models.values():
        model.train()
    out["training step, batch 64"] = summarise(
        interleaved({k: step(m) for k, m in models.items()}, runs), "float32 nn layers")
    return out


def gemm_table(runs: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {}
    for shape, (m_dim, k_dim, n_dim) in GEMM_SHAPES.items():
        a = torch.from_numpy(rng.integers(-127, 128, (m_dim, k_dim))).float()
        b = torch.from_numpy(rng.integers(-127, 128, (k_dim, n_dim))).float()
        fns: dict[str, Callable[[], Any]] = {"float32 torch.matmul": lambda a=a, b=b: a @ b}
        methods = {"float32 torch.matmul": "torch.matmul"}
        for spec in GEMM_SPECS:
            engine = multiplier(spec)
            if not isinstance(engine, MRENoise):
                engine = ApproxGemm(make_multiplier(engine, bits=8, signed=True))
            fns[spec] = lambda e=engine, a=a, b=b: e.matmul(a, b)
            methods[spec] = engine.method
        rows = summarise(interleaved(fns, runs), "float32 torch.matmul")
        for name, r in rows.items():
            r["method"] = methods[name]
            r["gmacs"] = m_dim * k_dim * n_dim / r["s"] / 1e9
        out[shape] = {"M": m_dim, "K": k_dim, "N": n_dim, "rows": rows}
    return out


def render(results: dict[str, Any]) -> str:
    lines = [f"actc.nn simulation speed, median of {results['runs']} interleaved runs, "
             f"{results['threads']} torch threads, {results['clock']} clock, compiled kernel: "
             f"{results['kernel']}",
             f"load average before / after: {results['load_average'][0]:.2f} / "
             f"{results['load_average_after'][0]:.2f} ({os.cpu_count()} CPUs; above about 1 the "
             "machine was shared: compare the ratios)", ""]
    for title, key in (("512 x 512 ApproxLinear, batch 512", "layer"),
                       ("digits CNN (benchmarks/_digits_cnn.py)", "cnn")):
        lines.append(title)
        for mode, rows in results[key].items():
            lines.append(f"  {mode:<28}{'ms':>10}{'x float32':>11}")
            for name, r in rows.items():
                lines.append(f"    {name:<26}{r['s'] * 1e3:>10.2f}{r['vs_float32']:>11.2f}")
        lines.append("")
    lines.append("the engine alone: ApproxGemm.matmul / MRENoise.matmul on random 8-bit codes")
    for shape, t in results["gemm"].items():
        lines.append(f"  {shape}: M={t['M']} K={t['K']} N={t['N']}")
        lines.append(f"    {'':<26}{'method':>14}{'GMAC/s':>10}{'x float32':>11}")
        for name, r in t["rows"].items():
            lines.append(f"    {name:<26}{r['method']:>14}{r['gmacs']:>10.3f}"
                         f"{r['vs_float32']:>11.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    p.add_argument("--name", default="mac_speed", help="result file stem")
    p.add_argument("--smoke", action="store_true",
                   help="one run of everything, nothing written (the test suite's check that "
                   "the benchmark still runs; its figures mean nothing)")
    args = p.parse_args(argv)
    if args.smoke:
        args.runs = 1
    global _clock
    _clock = CLOCK[args.clock]
    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {"threads": args.threads, "runs": args.runs, "clock": args.clock,
                               "kernel": "numba" if kernels.available() else "none (torch)",
                               "load_average": os.getloadavg()}
    results["layer"] = layer_table(args.runs)
    results["cnn"] = cnn_table(args.runs)
    results["gemm"] = gemm_table(args.runs)
    results["load_average_after"] = os.getloadavg()
    text = render(results)
    print(text)
    if not args.smoke:
        save(args.name, results)
        (RESULTS / f"{args.name}.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
