"""The picture of a MAC unit's multiplier: its error e = approximate - exact over the operand
pairs as a heat map (every pair at up to 8 x 8 bits; above, a grid of 256 evenly spaced codes
per operand), and the histogram of e over every pair (or the metrics' sample). Needs
matplotlib (imported here only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .ir import MacUnit, Multiplier
from .metrics import measure

__all__ = ["Plot", "figure", "plot_data", "summary"]

GRID = 256


@dataclass(frozen=True, eq=False)
class Plot:
    """What the figure draws: operand codes along each axis, the error grid [a][b], the
    histogram's errors, and the metrics."""

    a: np.ndarray
    b: np.ndarray
    error: np.ndarray
    histogram: np.ndarray
    metrics: dict


def _axis(m: Multiplier, which: str) -> np.ndarray:
    codes = m.operands(which)
    if len(codes) <= GRID:
        return codes
    return np.unique(np.linspace(codes[0], codes[-1], GRID).round().astype(np.int64))


def plot_data(manifest: dict, unit: MacUnit) -> Plot:
    m = unit.multiplier
    a, b = _axis(m, "a"), _axis(m, "b")
    err = m.product(a[:, None], b[None, :]) - a[:, None] * b[None, :]
    if m.pairs <= 1 << 20:
        full_a, full_b = m.operands("a"), m.operands("b")
        hist = (m.product(full_a[:, None], full_b[None, :]) - full_a[:, None] * full_b[None, :])
    else:
        rng = np.random.default_rng(2)
        x = rng.integers(m.a_format.code_min, m.a_format.code_max + 1, 1 << 20)
        y = rng.integers(m.b_format.code_min, m.b_format.code_max + 1, 1 << 20)
        hist = m.product(x, y) - x * y
    return Plot(a, b, err, hist.ravel(), measure(m))


def figure(manifest: dict, unit: MacUnit) -> tuple[Any, Plot]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = plot_data(manifest, unit)
    m = d.metrics
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    lim = float(np.abs(d.error).max()) or 1.0
    im = ax1.imshow(d.error, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                    extent=(float(d.b[0]), float(d.b[-1]), float(d.a[0]), float(d.a[-1])))
    fig.colorbar(im, ax=ax1, label="error (approximate - exact)")
    ax1.set_xlabel("b (weight)")
    ax1.set_ylabel("a (activation)")
    ax1.set_title(f"{unit.name}: {unit.multiplier.text}", fontsize=9)
    ax2.hist(d.histogram, bins=101, color="tab:blue")
    ax2.set_yscale("log")
    ax2.set_xlabel("error")
    ax2.set_ylabel("pairs")
    ax2.set_title(f"MRE {m['mre_percent']:.3g} %, MAE {m['mae_percent']:.3g} %, "
                  f"WCE {m['wce_percent']:.3g} %, EP {m['ep_percent']:.3g} %, "
                  f"bias {m['bias']:.3g}", fontsize=9)
    fig.tight_layout()
    return fig, d


def summary(data: Plot) -> str:
    """The metrics line ``actc report`` prints for a MAC unit."""
    m = data.metrics
    kind = "every" if m["exhaustive"] else "a sample of"
    return (f"MRE {m['mre_percent']:.4g} %, MAE {m['mae']:.6g} ({m['mae_percent']:.4g} %), "
            f"WCE {m['wce']} ({m['wce_percent']:.4g} %), EP {m['ep_percent']:.4g} %, "
            f"bias {m['bias']:.6g}, std {m['std']:.6g} over {kind} {m['pairs']} operand pairs")
