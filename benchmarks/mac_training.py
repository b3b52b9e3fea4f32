"""Issue 8, benchmark 3 (seed 002, Hammad et al.): training a CNN with approximate multipliers,
simulated bit-exactly or by the MRE noise model, and the hybrid approximate-then-exact schedule.

    python benchmarks/mac_training.py              # 5 seeds, 20 epochs (about 20 minutes)
    python benchmarks/mac_training.py --quick      # 1 seed, 6 epochs

The network and data are benchmarks/_digits_cnn.py (digits, two 3x3 convolutions and a
classifier, int8 operands). For each seed (0..4):

- ``exact``: exact products for every epoch; tested exact.
- For each real multiplier (bit-exact, ``actc.nn`` with its library spec) and each MRE noise
  level (``MRENoise(mre)``, mean relative error 1, 2, 5, 10 %, unbiased):
  - ``approx``: approximate products for every epoch; tested with them;
  - ``hybrid``: approximate for the first 85 % of the epochs (17 of 20), exact for the rest;
    tested exact (and, in the JSON, also with the approximate products);
  - ``reverse`` (real multipliers): exact first, the last 15 % approximate; tested approximate.
- ``noise-trained``: trained for every epoch with ``MRENoise.from_multiplier(m)`` (mre and bias
  of m over every operand pair), tested with the bit-exact m: the gap to ``approx`` says
  whether the MRE alone is a faithful model.

Noise is drawn from torch's generator, seeded per run; the test-time noise too. The fraction
of training MACs done approximately is the share of approximate epochs (every epoch does the
same work). Figures: mean and standard deviation over the seeds of the test accuracy (450
images: one image is 0.22 points). The machine is shared; torch runs on one thread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _digits_cnn as cnn  # noqa: E402
from _util import RESULTS, save  # noqa: E402

from actc.mac.api import make_multiplier  # noqa: E402
from actc.mac.metrics import measure  # noqa: E402
from actc.nn import HybridSchedule, MRENoise  # noqa: E402

MULTIPLIERS = ("drum:5", "mitchell", "drum:4")
NOISE = (0.01, 0.02, 0.05, 0.10)


def run(multiplier, d, epochs: int, seed: int, schedule=None, desc: str = ""):
    torch.manual_seed(seed)
    model = cnn.build(multiplier)
    cnn.train(model, d, epochs, seed, schedule=schedule, desc=desc)
    return model


def accuracy(model, d, seed: int, approximate: bool | None) -> float:
    torch.manual_seed(1000 + seed)  # the test-time noise
    return cnn.evaluate(model, d, approximate)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 seed, 6 epochs")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=20)
    args = p.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    epochs = 6 if args.quick else args.epochs
    approx_epochs = round(0.85 * epochs)
    torch.set_num_threads(1)
    d = cnn.data()
    rows: dict[str, dict[str, list[float]]] = {}

    def add(label: str, key: str, value: float) -> None:
        rows.setdefault(label, {}).setdefault(key, []).append(value)

    mres = {m: measure(make_multiplier(m, bits=8, signed=True))["mre_percent"]
            for m in MULTIPLIERS}
    start = time.time()
    for seed in range(seeds):
        model = run("exact", d, epochs, seed, desc=f"seed {seed} exact")
        add("exact", "test", accuracy(model, d, seed, False))
        hybrid = HybridSchedule(approx_epochs, epochs - approx_epochs)
        reverse = HybridSchedule(epochs - approx_epochs, approx_epochs, order="exact-first")
        for spec in MULTIPLIERS:
            m = make_multiplier(spec, bits=8, signed=True)
            model = run(m, d, epochs, seed, desc=f"seed {seed} {spec}")
            add(spec, "approx", accuracy(model, d, seed, True))
            model = run(m, d, epochs, seed, hybrid, desc=f"seed {seed} {spec} hybrid")
            add(spec, "hybrid", accuracy(model, d, seed, False))
            add(spec, "hybrid_tested_approx", accuracy(model, d, seed, True))
            model = run(m, d, epochs, seed, reverse, desc=f"seed {seed} {spec} reverse")
            add(spec, "reverse", accuracy(model, d, seed, True))
            model = run(MRENoise.from_multiplier(m), d, epochs, seed,
                        desc=f"seed {seed} {spec} noise")
            add(spec, "noise_trained_noise_tested", accuracy(model, d, seed, True))
            cnn.set_multiplier(model, m)
            add(spec, "noise_trained", accuracy(model, d, seed, True))
        for mre in NOISE:
            label = f"MRENoise {mre * 100:g} %"
            model = run(MRENoise(mre), d, epochs, seed, desc=f"seed {seed} {label}")
            add(label, "approx", accuracy(model, d, seed, True))
            model = run(MRENoise(mre), d, epochs, seed, hybrid, desc=f"seed {seed} {label} hybrid")
            add(label, "hybrid", accuracy(model, d, seed, False))
            add(label, "hybrid_tested_approx", accuracy(model, d, seed, True))
        print(f"seed {seed} done ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)

    def stat(v: list[float]) -> dict:
        return {"mean": statistics.mean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                "values": v}

    exact = stat(rows["exact"]["test"])
    table = {label: {k: stat(v) for k, v in cols.items()} for label, cols in rows.items()}
    lines = [f"Digits CNN, int8 operands, {seeds} seeds x {epochs} epochs (hybrid: "
             f"{approx_epochs} approximate + {epochs - approx_epochs} exact = "
             f"{100 * approx_epochs / epochs:.0f} % of the training MACs approximate; "
             "reverse: exact first, the last "
             f"{epochs - approx_epochs} epochs approximate). "
             "Test accuracy %, mean +- std.",
             f"exact training: {exact['mean']:.2f} +- {exact['std']:.2f}", "",
             f"{'multiplier':<18}{'MRE %':>7}{'all-approx':>16}{'hybrid':>16}"
             f"{'reverse':>16}{'noise-trained':>16}{'gap':>7}"]
    for label, cols in table.items():
        if label == "exact":
            continue
        mre = mres.get(label, float(label.split()[1]) if label.startswith("MRE") else 0.0)

        def cell(key: str, cols: dict = cols) -> str:
            if key not in cols:
                return f"{'-':>16}"
            return f"{cols[key]['mean']:>9.2f} +-{cols[key]['std']:>4.2f}"

        gap = (f"{cols['noise_trained']['mean'] - cols['approx']['mean']:>+7.2f}"
               if "noise_trained" in cols else f"{'-':>7}")
        lines.append(f"{label:<18}{mre:>7.2f}{cell('approx')}{cell('hybrid')}"
                     f"{cell('reverse')}{cell('noise_trained')}{gap}")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        save("mac_training", {"seeds": seeds, "epochs": epochs, "approx_epochs": approx_epochs,
                              "multipliers_mre_percent": mres, "results": table,
                              "seconds": time.time() - start, "threads": 1})
        (RESULTS / "mac_training.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
