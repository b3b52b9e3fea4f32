"""Zero statistics of a trained network's crossbar slices: the fractions the cost model
credits as skipped conversions (``zero_skip`` hardware) and the share of exactly-zero
partial sums (what StoX-Net's software model skips).

The digits CNN (benchmarks/adc_common.py) trained with the ideal converter (all 1197
training images, 20 epochs, seeds 0-2), its middle layers on 128-row sub-arrays with 1-bit
cells and DACs, 4-bit activations and 4-bit weights in the offset mapping (the cost model's
default crossbar); measured on the 300 test images with ``actc.nn.imc.imc_network``. The
mean over seeds, weighted by each layer's reads, is ``actc.adc.cost.DEFAULT_ZEROS``.

    python benchmarks/adc_zeros.py     -> benchmarks/results/adc_zeros.json, .txt
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adc_common import Net, digits, train  # noqa: E402

from actc.adc import Crossbar  # noqa: E402
from actc.nn.imc import imc_layers, imc_network, to_imc  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
CONFIG = {"rows": 128, "cell_bits": 1, "dac_bits": 1, "weight_bits": 4, "input_bits": 4,
          "scheme": "offset"}


def zero_partial_sums(model, x) -> list[float]:
    """Per IMC layer: the share of its partial sums that are exactly zero (numpy crossbar on
    the layer's integer operands)."""
    shares = []
    captured: dict = {}

    def hook(layer, args, _out):
        captured[layer] = args[0].detach()

    handles = [m.register_forward_hook(hook) for m in imc_layers(model)]
    with torch.no_grad():
        model.eval()
        model(x)
    for h in handles:
        h.remove()
    for layer in imc_layers(model):
        a = captured[layer]
        if a.dim() == 4:
            a = torch.nn.functional.unfold(a, layer.kernel_size, padding=layer.padding,
                                           stride=layer.stride).transpose(1, 2)
            w = layer.weight.reshape(layer.out_channels, -1).t()
        else:
            w = layer.weight.t()
        a = a.reshape(-1, a.shape[-1])
        xq, _ = layer._quantize_input(a)
        wq, _ = layer._quantize_weight(w)
        xb = Crossbar.from_scheme(CONFIG["scheme"], **{k: v for k, v in CONFIG.items()
                                                        if k != "scheme"})
        ps, _ = xb.partial_sums(xq.round().long().numpy(), wq.round().long().numpy())
        shares.append(float((ps == 0).mean()))
    return shares


def main() -> None:
    torch.set_num_threads(1)
    tr, _, te = digits()
    seeds = []
    for seed in range(3):
        torch.manual_seed(seed)
        model = Net()
        train(model, tr, 20, 3e-3, seed, f"seed {seed} ideal")
        to_imc(model, "ideal", rows=CONFIG["rows"], weight_bits=CONFIG["weight_bits"],
               input_bits=CONFIG["input_bits"], scheme=CONFIG["scheme"])
        with torch.no_grad():
            model.train()
            model(tr[0][:256])  # the activation ranges
        layers = imc_network(model, te[0])
        zero_ps = zero_partial_sums(model, te[0])
        seeds.append({"seed": seed, "layers": layers, "zero_partial_sums": zero_ps})
    # weights: each layer's reads per image (pixels x row tiles)
    rows = []
    for s in seeds:
        for layer, zp in zip(s["layers"], s["zero_partial_sums"]):
            fan_in = layer["in"] * layer.get("kernel", 1) ** 2
            pixels = layer.get("out_size", 1) ** 2
            reads = pixels * math.ceil(fan_in / CONFIG["rows"])
            rows.append((reads, layer["zero_inputs"], layer["zero_columns"], zp))
    weight = np.array([r[0] for r in rows], dtype=float)
    zin = np.average(np.array([r[1] for r in rows]), axis=0, weights=weight)
    zcol = float(np.average([r[2] for r in rows], weights=weight))
    zps = float(np.average([r[3] for r in rows], weights=weight))
    summary = {"config": CONFIG, "zero_inputs": [round(float(v), 4) for v in zin],
               "zero_columns": round(zcol, 4), "zero_partial_sums": round(zps, 4)}
    lines = ["digits CNN (ideal-trained, 3 seeds), 128-row sub-arrays, 1-bit DACs and cells, "
             "4-bit activations, 4-bit offset weights; test images",
             f"{'seed':>4} {'layer':<6} {'zero input slices j0..j3':<34} {'zero cols':>9} "
             f"{'zero ps':>8}"]
    for s in seeds:
        for layer, zp in zip(s["layers"], s["zero_partial_sums"]):
            zi = " ".join(f"{v:.3f}" for v in layer["zero_inputs"])
            lines.append(f"{s['seed']:>4} {layer['name']:<6} {zi:<34} "
                         f"{layer['zero_columns']:>9.3f} {zp:>8.3f}")
    lines.append(f"read-weighted mean: zero_inputs {summary['zero_inputs']}, zero_columns "
                 f"{summary['zero_columns']}, zero partial sums {summary['zero_partial_sums']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_zeros.json").write_text(json.dumps({"summary": summary, "seeds": seeds},
                                                   indent=1) + "\n")
    (OUT / "adc_zeros.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
