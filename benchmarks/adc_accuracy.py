"""Accuracy of a small CNN on scikit-learn's digits with its middle layers on crossbars
(rows 32: the layers span 5, 9 and 4 sub-arrays), 4-bit activations, 2-bit (ternary,
differential) weights, for every converter, without (post-training conversion of the
ideal-trained model) and with PS-quantisation-aware fine-tuning; and inhomogeneous against
homogeneous MTJ samples at the same total number of samples. Mean and std over seeds; the
noise is the MTJ sampling (seeded) and the seeds' initialisation and batch order.

    python benchmarks/adc_accuracy.py [--seeds 5] [--epochs 20] [--finetune 4]
                                      [--finetune-images N] [--budgets 2,4]

The figures in benchmarks/results were measured with ``--seeds 3 --finetune 2
--finetune-images 600 --budgets 4``: the crossbar simulation of a non-ideal converter costs
100 to 1000 times the float forward (benchmarks/adc_speed.py), so five seeds of the full
setting take hours on this 2-core machine. The fine-tuning subset is fixed per seed (the
first N images of a seeded permutation of the training set); the base network trains on all
of it with the ideal converter.

Results: benchmarks/results/adc_accuracy.json and .txt (rewritten after every seed).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adc_common import (  # noqa: E402
    accuracy,
    digits,
    make_net,
    mean_std,
    set_converter,
    train,
)

from actc.adc.sampling import search_samples  # noqa: E402
from actc.nn import imc_layers  # noqa: E402

CONVERTERS = ["ideal", "adc:8", "adc:6", "adc:4", "adc:2", "adc:1", "sparse:4", "mtj:1",
              "mtj:2", "mtj:4", "mtj:8", "mtj:16"]
OUT = Path(__file__).resolve().parent / "results"


def conversions(model, data):
    with torch.no_grad():
        model.eval()
        model(data[0][:1])
    return [layer.last_conversions for layer in imc_layers(model)]


def run_seed(seed: int, args, data) -> dict:
    tr, va, te = data
    full = tr
    if args.finetune_images:
        pick = torch.randperm(len(tr[1]), generator=torch.Generator().manual_seed(seed + 7))
        pick = pick[:args.finetune_images]
        tr = (tr[0][pick], tr[1][pick])
    base = make_net(seed, weight_bits=args.weight_bits)
    train(base, full, args.epochs, 3e-3, seed, f"seed {seed} ideal")
    row: dict = {"seed": seed, "ptq": {}, "qat": {}, "inhomogeneous": {}}
    for spec in ([] if args.only_inhomogeneous else CONVERTERS):
        m = copy.deepcopy(base)
        set_converter(m, spec)
        row["ptq"][spec] = accuracy(m, te, seed)
        train(m, tr, args.finetune, 1e-3, seed + 100, f"seed {seed} {spec} PS-QAT")
        row["qat"][spec] = accuracy(m, te, seed)
        print(f"seed {seed} {spec:<9} post-training {row['ptq'][spec]:6.2f}  PS-QAT "
              f"{row['qat'][spec]:6.2f}", flush=True)
    conv = conversions(base, tr)
    for t0 in args.budgets:
        budget = t0 * sum(conv)
        homo = copy.deepcopy(base)
        set_converter(homo, f"mtj:{t0}")
        train(homo, tr, args.finetune, 1e-3, seed + 200, f"seed {seed} T={t0} homogeneous")
        # the search scores allocations on a network already adapted to MTJ conversion (the
        # homogeneous one after PS-QAT): the post-training network ranks them by how much
        # noise it tolerates untrained, which is not what the fine-tuned unit will see
        probe = copy.deepcopy(homo)

        def evaluate(ts, probe=probe):
            set_converter(probe, "mtj:1", samples=list(ts))
            return accuracy(probe, va, seed)

        best, score, _ = search_samples(conv, budget, evaluate, start=[t0] * len(conv))
        inho = copy.deepcopy(base)
        set_converter(inho, "mtj:1", samples=list(best))
        train(inho, tr, args.finetune, 1e-3, seed + 200, f"seed {seed} T={best} inhomogeneous")
        row["inhomogeneous"][str(t0)] = {
            "budget_samples_per_image": budget, "conversions_per_layer": conv,
            "samples": list(best), "validation_search": score,
            "homogeneous": accuracy(homo, te, seed), "inhomogeneous": accuracy(inho, te, seed)}
        print(f"seed {seed} budget T={t0}: {best} -> {row['inhomogeneous'][str(t0)]}",
              flush=True)
    return row


def summarise(rows: list[dict]) -> dict:
    out: dict = {"converters": {}, "inhomogeneous": {}}
    for spec in CONVERTERS if rows[0]["ptq"] else []:
        p = mean_std([r["ptq"][spec] for r in rows])
        q = mean_std([r["qat"][spec] for r in rows])
        out["converters"][spec] = {"post_training": p, "ps_qat": q}
    for t0 in rows[0]["inhomogeneous"]:
        h = mean_std([r["inhomogeneous"][t0]["homogeneous"] for r in rows])
        i = mean_std([r["inhomogeneous"][t0]["inhomogeneous"] for r in rows])
        out["inhomogeneous"][t0] = {"homogeneous": h, "inhomogeneous": i,
                                    "allocations": [r["inhomogeneous"][t0]["samples"]
                                                    for r in rows]}
    return out


def table(summary: dict, n: int, args) -> str:
    lines = [f"digits CNN, rows 32, 4-bit activations, {args.weight_bits}-bit weights; "
             f"test accuracy (%), mean +- std over {n} seeds",
             f"{'converter':<10} {'post-training':>16} {'PS-QAT':>16}"]
    for spec, v in summary["converters"].items():
        (pm, ps), (qm, qs) = v["post_training"], v["ps_qat"]
        lines.append(f"{spec:<10} {pm:>9.2f} +- {ps:4.2f} {qm:>9.2f} +- {qs:4.2f}")
    for t0, v in summary["inhomogeneous"].items():
        (hm, hs), (im, is_) = v["homogeneous"], v["inhomogeneous"]
        lines.append(f"budget = T {t0} per conversion: homogeneous {hm:.2f} +- {hs:.2f}, "
                     f"inhomogeneous {im:.2f} +- {is_:.2f} (allocations {v['allocations']})")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--finetune", type=int, default=4)
    ap.add_argument("--only-inhomogeneous", action="store_true",
                    help="only the sampling comparison (results: adc_accuracy_inhomogeneous)")
    ap.add_argument("--finetune-images", type=int, default=0,
                    help="fine-tune on this many training images (0: all)")
    ap.add_argument("--weight-bits", type=int, default=2)
    ap.add_argument("--budgets", type=lambda s: [int(v) for v in s.split(",")], default=[2, 4])
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = digits()
    rows = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        rows.append(run_seed(seed, args, data))
        summary = summarise(rows)
        OUT.mkdir(exist_ok=True)
        stem = "adc_accuracy_inhomogeneous" if args.only_inhomogeneous else "adc_accuracy"
        (OUT / f"{stem}.json").write_text(json.dumps(
            {"config": vars(args), "seconds": time.perf_counter() - start, "summary": summary,
             "seeds": rows}, indent=1) + "\n")
        (OUT / f"{stem}.txt").write_text(table(summary, len(rows), args) + "\n")
    print(table(summarise(rows), len(rows), args))


if __name__ == "__main__":
    main()
