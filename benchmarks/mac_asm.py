"""Issue 17 (seed 003, Sarwar et al.): alphabet set multipliers. Network accuracy with
weights restricted to an alphabet, at weight widths 4, 6 and 8 bits: post-training projection
and alphabet-aware training against the exact fine-tune control, with paired statistics over
every image; the hardware cost of an N-lane ASM MAC with a shared precomputer against N exact
MAC lanes; bits per encoded weight.

    nice -n 10 python benchmarks/mac_asm.py --jobs 2
    python benchmarks/mac_asm.py --quick                # 1 unit, fewer epochs, N = 1 and 4

Accuracy (benchmarks/_digits_cnn.py; units: 5-fold stratified cross-validation repeated twice
over all 1797 images, a unit's number seeding initialisation and batch order; 8-bit signed
activations, b-bit signed weights, b = 4, 6, 8):

- ``unconstrained``: 20 epochs with exact products; tested exact;
- ``exact fine-tune``: 6 more epochs with exact products (learning rate 1e-3, cosine), the
  control for the extra epochs: tested exact, and tested with each ASM multiplier (its
  weights projected: the same extra epochs, deployed on the same hardware as ``aware``);
- ``projection``: the unconstrained network tested with the ASM multiplier (every weight
  rounded to the nearest representable one): post-training projection;
- ``aware``: the unconstrained network fine-tuned for the same 6 epochs with the ASM
  multiplier in the forward pass (straight-through gradients): alphabet-aware training;
  tested with it.

Paired differences over the units with standard errors (sd / sqrt(units)); "beats the control
at >= 3 SE" means z = mean difference / SE >= 3.

Hardware (Yosys, synth_xilinx UltraScale+, -nodsp: multipliers in LUTs): a MAC unit of N
lanes (``actc mac compile --lanes N --accumulate --acc-bits 24``, 8 x 8-bit signed operands;
for ASM the weight ports take the encoded weights) against N exact lanes; LUTs per lane.
The machine is shared; torch runs on one thread per job.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _digits_cnn as cnn  # noqa: E402
from _util import RESULTS, save  # noqa: E402

from actc.mac.api import compile as compile_mac  # noqa: E402
from actc.mac.api import make_multiplier  # noqa: E402
from actc.mac.metrics import measure  # noqa: E402
from actc.nn.progress import progress  # noqa: E402

ALPHABETS = ("1", "1,3", "1,3,5,7")
WEIGHT_BITS = (4, 6, 8)


def asm(alphabet: str, b_bits: int) -> Any:
    return make_multiplier(f"asm:{alphabet}", a_bits=8, b_bits=b_bits, signed=True)


def run_unit(unit: cnn.Unit, weight_bits: tuple, epochs: int, tune: int) -> dict:
    """Every method on one unit: {"seed", "bits": {b: {column: accuracy}}}."""
    torch.set_num_threads(1)
    d = cnn.data()
    out: dict[str, Any] = {"seed": unit.seed, "bits": {}}
    for b in weight_bits:
        acc: dict[str, float] = {}
        torch.manual_seed(unit.seed)
        base = cnn.build("exact", a_bits=8, b_bits=b)
        cnn.train(base, d, unit.train, epochs, unit.seed, desc=f"unit {unit.seed} {b}-bit")
        acc["unconstrained"] = cnn.evaluate(base, d, unit.test)
        tuned = copy.deepcopy(base)
        cnn.train(tuned, d, unit.train, tune, unit.seed + 100, lr=1e-3,
                  desc=f"unit {unit.seed} {b}-bit exact fine-tune")
        acc["exact fine-tune"] = cnn.evaluate(tuned, d, unit.test)
        for alphabet in ALPHABETS:
            m = asm(alphabet, b)
            projected = copy.deepcopy(tuned)
            cnn.set_multiplier(projected, m)
            acc[f"{{{alphabet}}} exact fine-tune, projected"] = cnn.evaluate(projected, d,
                                                                             unit.test)
            model = copy.deepcopy(base)
            cnn.set_multiplier(model, m)
            acc[f"{{{alphabet}}} projection"] = cnn.evaluate(model, d, unit.test)
            cnn.train(model, d, unit.train, tune, unit.seed + 100, lr=1e-3,
                      desc=f"unit {unit.seed} {b}-bit {{{alphabet}}} aware")
            acc[f"{{{alphabet}}} aware"] = cnn.evaluate(model, d, unit.test)
        out["bits"][str(b)] = acc
    return out


def hardware(lanes: tuple[int, ...]) -> list[dict]:
    from actc.cost import synthesize

    out = []
    specs = ("exact",) + tuple(f"asm:{a}" for a in ALPHABETS)
    jobs = [(s, n) for s in specs for n in lanes]
    for spec, n in progress(jobs, desc="yosys", total=len(jobs)):
        r = compile_mac(spec, bits=8, signed=True, lanes=n, accumulate=True, acc_bits=24,
                        target="verilog", name="lane")
        with tempfile.TemporaryDirectory() as tmp:
            r.write(tmp)
            f = synthesize(Path(tmp) / "lane.v", "lane", "xilinx")
        out.append({"spec": spec, "lanes": n, "luts": f["luts"], "ffs": f["ffs"],
                    "carry": f["carry"], "depth": f["depth"], "luts_per_lane": f["luts"] / n,
                    "weight_bits": r.unit.multiplier.weight_bits})
        print(f"{spec} x{n}: {f['luts']} LUTs", file=sys.stderr, flush=True)
    return out


def accuracy_table(done: list[dict], weight_bits: tuple, epochs: int,
                   tune: int) -> tuple[dict, list[str]]:
    done = sorted(done, key=lambda r: r["seed"])
    n = len(done)
    table: dict[str, Any] = {}
    lines = [f"Digits CNN, 8-bit signed activations, b-bit signed weights, {n} units "
             f"(stratified folds of all 1797 images): {epochs} epochs exact, then {tune} "
             "fine-tuning epochs. Test accuracy %, mean +- sd; paired differences "
             "[mean +- SE, z].",
             f"{'b':>2} {'method':<36}{'accuracy':>15}{'vs unconstrained':>24}"]
    for b in weight_bits:
        cols = {k: [r["bits"][str(b)][k] for r in done] for k in done[0]["bits"][str(b)]}
        ref = cols["unconstrained"]
        entry: dict[str, Any] = {"alphabets": {}}
        for k, v in cols.items():
            p = cnn.paired(v, ref)
            entry[k] = {**cnn.stat(v), "vs_unconstrained": p}
            lines.append(f"{b:>2} {k:<36}{entry[k]['mean']:>8.2f} +-{entry[k]['std']:>5.2f}"
                         f"{p['mean']:>+11.2f} +-{p['se']:>5.2f}, z {p['z']:>5.1f}")
        for alphabet in ALPHABETS:
            aware = cols[f"{{{alphabet}}} aware"]
            mre = measure(asm(alphabet, b))["mre_percent"]
            entry["alphabets"][alphabet] = {
                "mre_percent": mre,
                "aware_vs_exact_fine_tune": cnn.paired(aware, cols["exact fine-tune"]),
                "aware_vs_exact_fine_tune_projected": cnn.paired(
                    aware, cols[f"{{{alphabet}}} exact fine-tune, projected"]),
                "aware_vs_projection": cnn.paired(aware,
                                                  cols[f"{{{alphabet}}} projection"])}
        table[str(b)] = entry
    lines += ["", "Alphabet-aware training against the controls (paired, mean +- SE, z; "
              "'beats' = z >= 3):",
              f"{'b':>2} {'alphabet':<10}{'MRE %':>7}{'vs exact fine-tune (exact hw)':>34}"
              f"{'vs exact fine-tune, projected':>34}{'vs projection':>26}"]
    for b in weight_bits:
        for alphabet, a in table[str(b)]["alphabets"].items():
            cells = []
            for key in ("aware_vs_exact_fine_tune", "aware_vs_exact_fine_tune_projected",
                        "aware_vs_projection"):
                p = a[key]
                word = "beats" if p["z"] >= 3 else ("worse" if p["z"] <= -3 else "no diff.")
                cells.append(f"{p['mean']:>+7.2f} +-{p['se']:>5.2f} z {p['z']:>5.1f} {word:<8}")
            lines.append(f"{b:>2} {{{alphabet}}}{'':<{8 - len(alphabet)}}"
                         f"{a['mre_percent']:>7.2f}" + "".join(f"{c:>34}" for c in cells[:2])
                         + f"{cells[2]:>26}")
    return table, lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--jobs", type=int, default=1, help="units trained in parallel")
    p.add_argument("--no-hardware", action="store_true", help="skip the Yosys runs")
    args = p.parse_args(argv)
    epochs, tune = (6, 2) if args.quick else (20, 6)
    weight_bits = (8,) if args.quick else WEIGHT_BITS
    d = cnn.data()
    units = cnn.units(d, args.folds, args.repeats)[:1 if args.quick else None]
    start = time.time()
    load = os.getloadavg()
    done = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_unit, u, weight_bits, epochs, tune) for u in units]
        for f in futures:
            done.append(f.result())
            print(f"unit {done[-1]['seed']} done ({time.time() - start:.0f} s)",
                  file=sys.stderr, flush=True)
    accuracy, lines = accuracy_table(done, weight_bits, epochs, tune)
    seconds = time.time() - start
    hw = [] if args.no_hardware else hardware((1, 4) if args.quick else (1, 4, 16))
    bits = {}
    for alphabet in ALPHABETS:
        lay = asm(alphabet, 8).family.layout(8, True)
        count = len(lay.representable())
        bits[alphabet] = {"encoded_bits": lay.bits, "representable_magnitudes": count,
                          "min_bits": 1 + (count - 1).bit_length()}
    if hw:
        lines += ["", "Yosys LUTs (xilinx, no DSP), 8x8 signed MAC with a 24-bit accumulator:",
                  f"{'unit':<18}{'lanes':>6}{'LUTs':>7}{'LUTs/lane':>10}{'vs exact lane':>15}"
                  f"{'FFs':>6}{'depth':>6}{'weight bits':>12}"]
        exact_lane = {h["lanes"]: h["luts_per_lane"] for h in hw if h["spec"] == "exact"}
        for h in hw:
            ratio = h["luts_per_lane"] / exact_lane[h["lanes"]]
            lines.append(f"{h['spec']:<18}{h['lanes']:>6}{h['luts']:>7}"
                         f"{h['luts_per_lane']:>10.1f}{100 * ratio:>14.0f}%{h['ffs']:>6}"
                         f"{h['depth']:>6}{h['weight_bits']:>12}")
    lines += ["", "Bits per encoded weight (8-bit signed weights, |w| <= 128):"]
    for alphabet, b in bits.items():
        lines.append(f"  {{{alphabet}}}: {b['encoded_bits']} (hardware fields), "
                     f"{b['representable_magnitudes']} magnitudes -> at least {b['min_bits']}")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        save("mac_asm", {"units": len(done), "folds": args.folds, "repeats": args.repeats,
                         "epochs": epochs, "fine_tune_epochs": tune, "accuracy": accuracy,
                         "per_unit": done, "hardware": hw, "bits_per_weight": bits,
                         "training_seconds": seconds, "jobs": args.jobs,
                         "threads_per_job": 1, "load_average_at_start": load})
        (RESULTS / "mac_asm.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
