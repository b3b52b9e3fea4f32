"""Accuracy of a small CNN on scikit-learn's digits with its middle layers on crossbars
(rows 32: the layers span 5, 9 and 4 sub-arrays), 4-bit activations, 2-bit (ternary,
differential) weights, zero_skip hardware, for every converter: post-training conversion of
the ideal-trained network, and PS-quantisation-aware fine-tuning (per-slice calibrated
clips, slope-scaled straight-through gradient); then inhomogeneous against homogeneous MTJ
samples at the same total number of samples.

    python benchmarks/adc_accuracy.py [--seeds 5] [--epochs 20] [--finetune 10] [--lr 3e-3]
        [--budgets 2,4] [--noise-seeds 5] [--search-seeds 4] [--search-epochs 1]
        [--only SEED] [--merge]

Protocol (all seeds the same; the figures in benchmarks/results were measured with the
defaults):

- data: one fixed split, 1097 training, 400 validation, 300 test images (one test image is
  0.33 points). The base network trains on every training image with the ideal converter
  (20 epochs, Adam 3e-3, cosine).
- post-training: each converter's clip (RMS units) chosen on the validation split among
  {2, 3, 4} (adc) or {0.5, 1, 2} (mtj), calibrated on 256 training images.
- PS-QAT: from the base network, ``--finetune`` epochs on every training image, Adam
  ``--lr``, cosine; clip 3 (adc) or 0.5 (mtj; chosen on seed 0's validation split in a
  probe: 0.5, 0.75, 1 and 2 RMS).
- test accuracy: the mean over ``--noise-seeds`` MTJ noise seeds (common to every model).
- inhomogeneous sampling (actc.adc.sampling.search_samples): from the homogeneous mtj:T0
  PS-QAT network, every candidate allocation within the budget T0 x conversions gets a
  ``--search-epochs`` PS-QAT fine-tune and is scored per validation image over
  ``--search-seeds`` noise seeds; a move is taken when its paired gain exceeds two standard
  errors. The chosen allocation is then fine-tuned from the base network exactly as the
  homogeneous one (same epochs, learning rate and batch order) and both are tested; so is
  the first round's best allocation by validation mean, noise ignored (what a search that
  trusts one noisy score would pick). Every round's candidates, gains and standard errors
  are kept.
- statistics: mean +- std over seeds; paired differences (per seed) with their standard
  error, t statistic and two-sided p (Student's t, n - 1 degrees of freedom).

``--only SEED`` runs one seed into benchmarks/results/adc_accuracy_seed{SEED}.json (so seeds
can run as parallel processes; with ``--search-only`` it keeps that file's converter figures
and redoes the sampling comparison, after checking that the homogeneous networks reproduce
them); ``--merge`` summarises the seed files.

Results: benchmarks/results/adc_accuracy.json and .txt.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adc_common import (  # noqa: E402
    calibrate,
    correct,
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
PTQ_CLIPS = {"adc": (2.0, 3.0, 4.0), "mtj": (0.5, 1.0, 2.0)}
QAT_CLIP = {"adc": 3.0, "mtj": 0.5}
OUT = Path(__file__).resolve().parent / "results"


def conversions(model, x) -> list[int]:
    with torch.no_grad():
        model.eval()
        model(x[:1])
    return [layer.last_conversions for layer in imc_layers(model)]


def kind(spec: str) -> str:
    return spec.split(":")[0]


def run_seed(seed: int, args, data, previous: dict | None = None) -> dict:
    """One seed: every converter post-training and PS-QAT, then the sampling comparison.
    With ``previous`` (a seed's earlier result) the converters' figures are kept and only
    the homogeneous MTJ networks the comparison needs are fine-tuned again (the same
    protocol and seeds: they must reproduce the kept figures, checked)."""
    tr, va, te = data
    noise = list(range(1000, 1000 + args.noise_seeds))
    t0 = time.perf_counter()
    base = make_net(seed, weight_bits=args.weight_bits)
    train(base, tr, args.epochs, 3e-3, seed, f"seed {seed} ideal")
    row: dict = {"seed": seed, "ptq": {}, "ptq_clip": {}, "qat": {}, "inhomogeneous": {}}
    qat_models = {}
    if previous is not None:
        for key in ("ptq", "ptq_clip", "qat"):
            row[key] = dict(previous[key])
        for t0_ in args.budgets:
            spec = f"mtj:{t0_}"
            q = copy.deepcopy(base)
            set_converter(q, spec, clip=QAT_CLIP["mtj"])
            train(q, tr, args.finetune, args.lr, seed + 100, f"seed {seed} {spec} PS-QAT")
            again = float(correct(q, te, noise).mean()) * 100
            if abs(again - row["qat"][spec]) > 1e-9:
                raise SystemExit(f"seed {seed} {spec}: {again} does not reproduce "
                                 f"{row['qat'][spec]}")
            qat_models[spec] = q
    for spec in (CONVERTERS if previous is None else []):
        m = copy.deepcopy(base)
        best = (-1.0, None)
        for z in PTQ_CLIPS.get(kind(spec), (None,)):
            set_converter(m, spec, clip=z)
            calibrate(m, tr[0][:256])
            v = float(correct(m, va, noise[:2]).mean())
            best = max(best, (v, z), key=lambda a: a[0])
        set_converter(m, spec, clip=best[1])
        calibrate(m, tr[0][:256])
        row["ptq"][spec] = float(correct(m, te, noise).mean()) * 100
        row["ptq_clip"][spec] = best[1]
        q = copy.deepcopy(base)
        set_converter(q, spec, clip=QAT_CLIP.get(kind(spec)))
        train(q, tr, args.finetune, args.lr, seed + 100, f"seed {seed} {spec} PS-QAT")
        row["qat"][spec] = float(correct(q, te, noise).mean()) * 100
        qat_models[spec] = q
        print(f"seed {seed} {spec:<9} post-training {row['ptq'][spec]:6.2f} (clip {best[1]})"
              f"  PS-QAT {row['qat'][spec]:6.2f}", flush=True)
    conv = conversions(base, tr[0])
    search_noise = list(range(2000, 2000 + args.search_seeds))

    def tested(ts: list[int]) -> float:
        """Test accuracy of an allocation fine-tuned from the base exactly as the
        homogeneous networks are (same epochs, learning rate, batch order)."""
        m = copy.deepcopy(base)
        set_converter(m, "mtj:1", samples=list(ts), clip=QAT_CLIP["mtj"])
        train(m, tr, args.finetune, args.lr, seed + 100, f"seed {seed} T={ts}")
        return float(correct(m, te, noise).mean()) * 100

    for t0_ in args.budgets:
        budget = t0_ * sum(conv)
        homo = qat_models[f"mtj:{t0_}"]
        start = [t0_] * len(conv)

        def score(ts, homo=homo):
            probe = copy.deepcopy(homo)
            for layer, t in zip(imc_layers(probe), ts):
                layer.samples = t
            if args.search_epochs:
                train(probe, tr, args.search_epochs, args.lr / 3, seed + 300, f"probe {ts}")
            return correct(probe, va, search_noise) * 100

        best, score_v, steps = search_samples(conv, budget, score, start=start)
        homogeneous = row["qat"][f"mtj:{t0_}"]
        done = {tuple(start): homogeneous}
        inhomogeneous = done.get(tuple(best)) or tested(best)
        done[tuple(best)] = inhomogeneous
        by_mean = steps[1].samples if len(steps) > 1 else start  # first round, noise ignored
        by_mean_acc = done.get(tuple(by_mean)) or tested(by_mean)
        row["inhomogeneous"][str(t0_)] = {
            "budget_samples_per_image": budget, "conversions_per_layer": conv,
            "samples": list(best), "validation_score": score_v,
            "search": [{"samples": st.samples, "score": st.score, "gain": st.gain,
                        "se": st.se, "accepted": st.accepted,
                        "candidates": [list(c) for c in st.candidates]} for st in steps],
            "homogeneous": homogeneous, "inhomogeneous": inhomogeneous,
            "best_by_mean": list(by_mean), "best_by_mean_accuracy": by_mean_acc}
        print(f"seed {seed} budget T={t0_}: {best} -> {inhomogeneous:.2f} (homogeneous "
              f"{homogeneous:.2f}; best by mean {by_mean} -> {by_mean_acc:.2f})", flush=True)
    row["seconds"] = time.perf_counter() - t0
    return row


def paired(a, b) -> dict:
    """b - a over seeds: mean, standard error, t, two-sided p."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(d)
    if n < 2:
        return {"mean": float(d.mean()), "se": None, "t": None, "p": None, "n": n}
    se = float(d.std(ddof=1) / math.sqrt(n))
    if se == 0:  # the same difference in every seed: no t; identical results give p = 1
        same = float(d.mean()) == 0
        return {"mean": float(d.mean()), "se": 0.0, "t": None, "p": 1.0 if same else 0.0,
                "n": n}
    t = float(d.mean() / se)
    p = float(2 * stats.t.sf(abs(t), n - 1))
    return {"mean": float(d.mean()), "se": se, "t": t, "p": p, "n": n}


def summarise(rows: list[dict]) -> dict:
    out: dict = {"converters": {}, "inhomogeneous": {}}
    ideal = [r["qat"]["ideal"] for r in rows]
    for spec in CONVERTERS:
        p = [r["ptq"][spec] for r in rows]
        q = [r["qat"][spec] for r in rows]
        out["converters"][spec] = {"post_training": mean_std(p), "ps_qat": mean_std(q),
                                   "qat_minus_ptq": paired(p, q),
                                   "qat_minus_ideal": paired(ideal, q)}
    for t0 in rows[0]["inhomogeneous"]:
        h = [r["inhomogeneous"][t0]["homogeneous"] for r in rows]
        i = [r["inhomogeneous"][t0]["inhomogeneous"] for r in rows]
        b = [r["inhomogeneous"][t0]["best_by_mean_accuracy"] for r in rows]
        out["inhomogeneous"][t0] = {
            "homogeneous": mean_std(h), "inhomogeneous": mean_std(i),
            "inhomogeneous_minus_homogeneous": paired(h, i),
            "allocations": [r["inhomogeneous"][t0]["samples"] for r in rows],
            "best_by_mean": mean_std(b), "best_by_mean_minus_homogeneous": paired(h, b),
            "best_by_mean_allocations": [r["inhomogeneous"][t0]["best_by_mean"]
                                         for r in rows],
            "search_steps": [r["inhomogeneous"][t0]["search"] for r in rows]}
    return out


def _pm(v: dict) -> str:
    if v["se"] is None:
        return f"{v['mean']:+.2f}"
    if v["t"] is None:
        return f"{v['mean']:+.2f} (the same in every seed)"
    return f"{v['mean']:+.2f} +- {v['se']:.2f} (t {v['t']:.1f}, p {v['p']:.3f})"


def table(summary: dict, n: int, config: dict) -> str:
    lines = [f"digits CNN, rows 32, 4-bit activations, {config['weight_bits']}-bit weights, "
             f"zero_skip hardware; test accuracy (%), mean +- std over {n} seeds, each the "
             f"mean over {config['noise_seeds']} MTJ noise seeds; PS-QAT {config['finetune']} "
             f"epochs on all 1097 training images, lr {config['lr']}",
             f"{'converter':<10} {'post-training':>16} {'PS-QAT':>16}   "
             f"{'PS-QAT - post (paired)':<36} PS-QAT - ideal PS-QAT (paired)"]
    for spec, v in summary["converters"].items():
        (pm, ps), (qm, qs) = v["post_training"], v["ps_qat"]
        lines.append(f"{spec:<10} {pm:>9.2f} +- {ps:4.2f} {qm:>9.2f} +- {qs:4.2f}   "
                     f"{_pm(v['qat_minus_ptq']):<36} {_pm(v['qat_minus_ideal'])}")
    for t0, v in summary["inhomogeneous"].items():
        (hm, hs), (im, is_) = v["homogeneous"], v["inhomogeneous"]
        lines.append(f"budget T {t0} per conversion: homogeneous {hm:.2f} +- {hs:.2f}, "
                     f"inhomogeneous {im:.2f} +- {is_:.2f}; inhomogeneous - homogeneous "
                     f"{_pm(v['inhomogeneous_minus_homogeneous'])}; allocations "
                     f"{v['allocations']}")
        (bm, bs) = v["best_by_mean"]
        lines.append(f"  best first move by validation mean (noise ignored) {bm:.2f} +- "
                     f"{bs:.2f}; minus homogeneous {_pm(v['best_by_mean_minus_homogeneous'])};"
                     f" allocations {v['best_by_mean_allocations']}")
        for seed, steps in enumerate(v["search_steps"]):
            rounds = "; ".join(
                f"{'took' if st['accepted'] else 'stopped: best'} {st['samples']} "
                f"{st['gain']:+.2f} +- {st['se']:.2f}" for st in steps[1:])
            lines.append(f"  seed {seed} search (validation gain +- standard error, points): "
                         f"{rounds}")
    return "\n".join(lines)


def write(rows: list[dict], config: dict, seconds: float) -> None:
    summary = summarise(rows)
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_accuracy.json").write_text(json.dumps(
        {"config": config, "seconds": seconds, "summary": summary, "seeds": rows},
        indent=1) + "\n")
    (OUT / "adc_accuracy.txt").write_text(table(summary, len(rows), config) + "\n")
    print(table(summary, len(rows), config))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--finetune", type=int, default=10)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-bits", type=int, default=2)
    ap.add_argument("--budgets", type=lambda s: [int(v) for v in s.split(",")], default=[2, 4])
    ap.add_argument("--noise-seeds", type=int, default=5)
    ap.add_argument("--search-seeds", type=int, default=4)
    ap.add_argument("--search-epochs", type=int, default=1)
    ap.add_argument("--only", type=int, help="run this seed alone into its own file")
    ap.add_argument("--search-only", action="store_true",
                    help="with --only: keep the seed file's converter figures, redo the "
                    "sampling comparison")
    ap.add_argument("--merge", action="store_true", help="summarise the per-seed files")
    args = ap.parse_args()
    config = {k: v for k, v in vars(args).items() if k not in ("only", "merge", "search_only")}
    if args.merge:
        rows = [json.loads((OUT / f"adc_accuracy_seed{s}.json").read_text())
                for s in range(args.seeds)]
        write(rows, config, sum(r["seconds"] for r in rows))
        return
    torch.set_num_threads(1)
    data = digits(validation=400)
    if args.only is not None:
        path = OUT / f"adc_accuracy_seed{args.only}.json"
        previous = json.loads(path.read_text()) if args.search_only else None
        row = run_seed(args.only, args, data, previous)
        OUT.mkdir(exist_ok=True)
        (OUT / f"adc_accuracy_seed{args.only}.json").write_text(json.dumps(row, indent=1)
                                                                 + "\n")
        return
    rows = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        rows.append(run_seed(seed, args, data))
        write(rows, config, time.perf_counter() - start)


if __name__ == "__main__":
    main()
