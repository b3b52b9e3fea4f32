"""Simulation speed: the digits CNN's forward with its middle layers on the crossbar model
(ideal, adc:4, mtj:4, mtj:16; 4-bit activations, 2- and 4-bit weights) against the same
network's plain float forward, batch 300; median of 5 runs each (the machine is shared).

    python benchmarks/adc_speed.py     -> benchmarks/results/adc_speed.json, .txt
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adc_common import Net, digits, make_net, set_converter  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def median_time(model, x, runs=5) -> float:
    times = []
    with torch.no_grad():
        model.eval()
        model(x)
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    _, _, (x, _) = digits()
    plain = Net()
    base = median_time(plain, x)
    rows = [{"model": "float", "seconds": base, "ratio": 1.0}]
    for wb in (2, 4):
        for spec in ("ideal", "adc:4", "mtj:4", "mtj:16"):
            m = make_net(0, weight_bits=wb)
            with torch.no_grad():
                m.train()
                m(x[:64])  # calibrate the ranges
            set_converter(m, spec)
            s = median_time(m, x)
            rows.append({"model": f"{spec}, {wb}-bit weights", "seconds": s, "ratio": s / base})
    lines = [f"digits CNN forward, batch {len(x)}, 1 thread, median of 5 runs (shared machine)",
             f"{'model':<26} {'ms':>9} {'x float':>9}"]
    for r in rows:
        lines.append(f"{r['model']:<26} {r['seconds'] * 1e3:>9.2f} {r['ratio']:>9.1f}")
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_speed.json").write_text(json.dumps(rows, indent=1) + "\n")
    (OUT / "adc_speed.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
