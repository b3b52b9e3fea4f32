"""The picture of a column back end (``actc report`` on an ``actc adc compile`` manifest):
its output on the model-driven vectors (seeded random layers through the crossbar and the
converter, as in the testbench) against the exact dot products, and the distribution of the
codes on its ports. Needs matplotlib."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import ColumnUnit, stimulus

__all__ = ["Plot", "figure", "plot_data", "summary"]


@dataclass(frozen=True, eq=False)
class Plot:
    exact: np.ndarray  # x @ w of each model vector, real units
    output: np.ndarray  # scale * y
    codes: np.ndarray  # every port code (count of ones for mtj) of the model vectors
    metrics: dict


def plot_data(manifest: dict, unit: ColumnUnit) -> Plot:
    x, w, ports = stimulus(unit)
    exact = (x @ w).reshape(-1) * unit.input_scale * unit.weight_scale
    out = unit.evaluate(**ports)["y"] * unit.out_format.scale
    codes = np.concatenate([ports[p.name] for p in unit.ports()])
    if unit.sample_bits:
        codes = np.array([bin(int(c)).count("1") for c in codes])
    err = out - exact
    spread = float(np.std(exact))
    metrics = {"vectors": int(exact.size), "rms_error": float(np.sqrt(np.mean(err**2))),
               "max_abs_error": float(np.max(np.abs(err))),
               "correlation": float(np.corrcoef(out, exact)[0, 1]) if spread > 0 else 1.0,
               "exact_std": spread}
    return Plot(exact, out, codes, metrics)


def figure(manifest: dict, unit: ColumnUnit) -> tuple[Any, Plot]:
    import matplotlib.pyplot as plt

    data = plot_data(manifest, unit)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    a.plot(data.exact, data.output, ".", ms=3, alpha=0.5)
    lo, hi = float(data.exact.min()), float(data.exact.max())
    a.plot([lo, hi], [lo, hi], "k-", lw=0.8, label="exact")
    a.set_xlabel("exact dot product (real units)")
    a.set_ylabel("column output: scale * y")
    m = data.metrics
    a.set_title(f"{unit.name}: {unit.converter['spec']}, rms error {m['rms_error']:.3g}, "
                f"corr {m['correlation']:.3f}")
    a.legend()
    b.hist(data.codes, bins=min(64, int(data.codes.max()) + 1))
    b.set_xlabel("count of ones" if unit.sample_bits else "converter code")
    b.set_ylabel("conversions")
    b.set_title(f"codes on the {len(unit.ports())} ports ({m['vectors']} model vectors)")
    fig.tight_layout()
    return fig, data


def summary(data: Plot) -> str:
    """The line ``actc report`` prints for a column back end."""
    metrics = data.metrics
    return (f"{metrics['vectors']} model vectors: rms error {metrics['rms_error']:.4g}, max "
            f"{metrics['max_abs_error']:.4g} (exact std {metrics['exact_std']:.4g}), "
            f"correlation {metrics['correlation']:.4f}")
