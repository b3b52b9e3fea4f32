"""Issue 8, benchmark 4 (seed 003, Sarwar et al.): alphabet set multipliers. Network accuracy
with 8-bit weights restricted to an alphabet, post-training projection against
alphabet-aware training; the hardware cost of an N-lane ASM MAC with a shared precomputer
against N exact MAC lanes; bits per encoded weight.

    python benchmarks/mac_asm.py              # 5 seeds (about 10 minutes) and Yosys (minutes)
    python benchmarks/mac_asm.py --quick      # 1 seed, fewer epochs, N = 1 and 4 only

Accuracy (benchmarks/_digits_cnn.py, int8 operands, seeds 0..4):

- ``unconstrained``: 20 epochs with exact products (8-bit weights); tested exact;
- ``projection``: that network tested with the ASM multiplier (every weight rounded to the
  nearest representable one, the hardware's products): post-training projection;
- ``aware``: that network fine-tuned for 6 more epochs with the ASM multiplier in the forward
  pass (straight-through gradients; learning rate 1e-3), tested with it: alphabet-aware
  training. ``exact fine-tune``: the same 6 epochs with exact products, the fair baseline for
  the extra epochs.

Hardware (Yosys 0.23, synth_xilinx UltraScale+, -nodsp: multipliers in LUTs): a MAC unit of N
lanes (``actc mac compile --lanes N --accumulate --acc-bits 24``, 8 x 8-bit signed operands;
for ASM the weight ports take the encoded weights) against N exact lanes; LUTs per lane.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _digits_cnn as cnn  # noqa: E402
from _util import RESULTS, save  # noqa: E402

from actc.mac.api import compile as compile_mac  # noqa: E402
from actc.mac.api import make_multiplier  # noqa: E402
from actc.nn.progress import progress  # noqa: E402

ALPHABETS = ("1", "1,3", "1,3,5,7")


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seeds", type=int, default=5)
    args = p.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    epochs, tune = (6, 2) if args.quick else (20, 6)
    torch.set_num_threads(1)
    d = cnn.data()
    acc: dict[str, list[float]] = {}
    start = time.time()
    for seed in range(seeds):
        torch.manual_seed(seed)
        base = cnn.build("exact")
        cnn.train(base, d, epochs, seed, desc=f"seed {seed} exact")
        acc.setdefault("unconstrained", []).append(cnn.evaluate(base, d))
        state = {k: v.clone() for k, v in base.state_dict().items()}
        running = [m.act_scale.running_max.clone() for m in cnn.approximate_layers(base)]

        def copy(seed: int = seed, state: dict = state,
                 running: list = running) -> torch.nn.Module:
            torch.manual_seed(seed)
            model = cnn.build("exact")
            model.load_state_dict(state)
            for m, r in zip(cnn.approximate_layers(model), running):
                m.act_scale.running_max.copy_(r)
            return model

        tuned = copy()
        cnn.train(tuned, d, tune, seed + 100, lr=1e-3, desc=f"seed {seed} exact fine-tune")
        acc.setdefault("exact fine-tune", []).append(cnn.evaluate(tuned, d))
        for alphabet in ALPHABETS:
            m = make_multiplier(f"asm:{alphabet}", bits=8, signed=True)
            model = copy()
            cnn.set_multiplier(model, m)
            acc.setdefault(f"{{{alphabet}}} projection", []).append(cnn.evaluate(model, d))
            cnn.train(model, d, tune, seed + 100, lr=1e-3, desc=f"seed {seed} {{{alphabet}}}")
            acc.setdefault(f"{{{alphabet}}} aware", []).append(cnn.evaluate(model, d))
        print(f"seed {seed} done ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)

    def stat(v: list[float]) -> dict:
        return {"mean": statistics.mean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                "values": v}

    accuracy = {k: stat(v) for k, v in acc.items()}
    hw = hardware((1, 4) if args.quick else (1, 4, 16))
    bits = {}
    for alphabet in ALPHABETS:
        fam = make_multiplier(f"asm:{alphabet}", bits=8, signed=True).family
        lay = fam.layout(8, True)
        count = len(lay.representable())
        bits[alphabet] = {"encoded_bits": lay.bits, "representable_magnitudes": count,
                          "min_bits": 1 + (count - 1).bit_length()}
    lines = [f"Digits CNN, 8-bit weights and activations, {seeds} seeds: {epochs} epochs exact, "
             f"then {tune} fine-tuning epochs. Test accuracy %, mean +- std.",
             f"{'':<22}{'accuracy':>16}{'vs unconstrained':>18}"]
    ref = accuracy["unconstrained"]["mean"]
    for k, v in accuracy.items():
        lines.append(f"{k:<22}{v['mean']:>9.2f} +-{v['std']:>4.2f}{v['mean'] - ref:>+18.2f}")
    lines += ["", "Yosys LUTs (xilinx, no DSP), 8x8 signed MAC with a 24-bit accumulator:",
              f"{'unit':<18}{'lanes':>6}{'LUTs':>7}{'LUTs/lane':>10}{'vs exact lane':>15}"
              f"{'FFs':>6}{'depth':>6}{'weight bits':>12}"]
    exact_lane = {h["lanes"]: h["luts_per_lane"] for h in hw if h["spec"] == "exact"}
    for h in hw:
        ratio = h["luts_per_lane"] / exact_lane[h["lanes"]]
        lines.append(f"{h['spec']:<18}{h['lanes']:>6}{h['luts']:>7}{h['luts_per_lane']:>10.1f}"
                     f"{100 * ratio:>14.0f}%{h['ffs']:>6}{h['depth']:>6}{h['weight_bits']:>12}")
    lines += ["", "Bits per encoded weight (8-bit signed weights, |w| <= 128):"]
    for alphabet, b in bits.items():
        lines.append(f"  {{{alphabet}}}: {b['encoded_bits']} (hardware fields), "
                     f"{b['representable_magnitudes']} magnitudes -> at least {b['min_bits']}")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        save("mac_asm", {"seeds": seeds, "epochs": epochs, "fine_tune_epochs": tune,
                         "accuracy": accuracy, "hardware": hw, "bits_per_weight": bits,
                         "seconds": time.time() - start, "threads": 1})
        (RESULTS / "mac_asm.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
