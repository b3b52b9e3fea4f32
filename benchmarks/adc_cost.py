"""The cost model on ResNet20 (CIFAR-10 shapes): every converter against adc:8 and against
sparse:4, the StoX-Net headline ratios, the differential-pair mapping, an inhomogeneous
sample schedule, the sensitivity table and the per-layer chart.

    python benchmarks/adc_cost.py      -> benchmarks/results/adc_cost.json, .txt, .png
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from actc.adc.cost import cost_report, figure, sensitivity_table

OUT = Path(__file__).resolve().parent / "results"
TARGETS = {"energy": 16, "latency": 8, "area": 10, "edp": 130}


def main() -> None:
    rows = []
    for conv in ("mtj:1", "mtj:2", "mtj:4", "mtj:8", "mtj:16", "sparse:4", "adc:4", "adc:6",
                 "ideal"):
        for base in ("adc:8", "sparse:4"):
            r = cost_report("resnet20", conv, base).ratio
            rows.append({"converter": conv, "baseline": base, **r})
    head = cost_report("resnet20", "mtj:4", "adc:8", with_sensitivity=True)
    sparse = cost_report("resnet20", "mtj:4", "sparse:4").ratio
    diff = cost_report("resnet20", "mtj:4", "adc:8", scheme="differential").ratio
    ramp = cost_report("resnet20", "mtj:4", "adc:8", samples=[2] * 6 + [4] * 6 + [8] * 6).ratio
    lines = ["ResNet20 (18 crossbar layers, 128x128, 1-bit cells and DACs, 4-bit weights and "
             "activations, offset mapping)", "",
             f"{'converter':<9} {'baseline':<9} {'energy':>8} {'latency':>8} {'area':>8} "
             f"{'EDP':>8}"]
    for r in rows:
        lines.append(f"{r['converter']:<9} {r['baseline']:<9} {r['energy']:>8.2f} "
                     f"{r['latency']:>8.2f} {r['area']:>8.2f} {r['edp']:>8.1f}")
    lines += ["", "StoX-Net headline (mtj:4): model vs paper (error)"]
    for k, want in TARGETS.items():
        got = head.ratio[k]
        err = 100 * (got / want - 1)
        lines.append(f"  {k:<8} vs adc:8    {got:8.2f} vs {want:>4} ({err:+.1f} %)")
    lines.append(f"  edp      vs sparse:4 {sparse['edp']:8.2f} vs   24 "
                 f"({100 * (sparse['edp'] / 24 - 1):+.1f} %)")
    lines += ["", f"differential pairs (one conversion per pair): {diff}",
              f"inhomogeneous T 2/4/8 by stage: {ramp}", "", sensitivity_table(head.sensitivity)]
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_cost.txt").write_text("\n".join(lines) + "\n")
    (OUT / "adc_cost.json").write_text(json.dumps(
        {"ratios": rows, "headline": head.to_json(), "vs_sparse4": sparse,
         "differential": diff, "inhomogeneous_2_4_8": ramp}, indent=1) + "\n")
    import matplotlib.pyplot as plt

    fig = figure(head)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    (OUT / "adc_cost.png").write_bytes(buf.getvalue())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
