"""The picture of an activation unit against the true function.

Top: the true function and the unit's output over the input domain, breakpoints marked.
Bottom: the error in output LSBs at every input code (for float outputs: in ulps of the
largest |f(x)|). Needs matplotlib (a dependency of actc, imported here only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .evaluate import evaluate
from .frontend import parse
from .ir import ActivationUnit, FloatSegmentCore, KnotCore, SegmentCore
from .metrics import measure
from .spec import make_spec

__all__ = ["Plot", "breakpoints_real", "figure", "segmentation"]


@dataclass(frozen=True, eq=False)
class Plot:
    """What the figure draws, in plotting order: inputs x (ascending, real), the true
    f(x), the unit's output (real), the error in output LSBs, the breakpoints, metrics."""

    x: np.ndarray
    true: np.ndarray
    output: np.ndarray
    error_lsb: np.ndarray
    breakpoints: list[float]
    metrics: dict
    segmentation: str = ""


def breakpoints_real(unit: ActivationUnit) -> list[float]:
    """Segment starts as real inputs (none for thresholds and plain tables)."""
    core = unit.core
    fi = unit.in_format
    if isinstance(core, FloatSegmentCore):
        return [float(v) for v in fi.real(np.array(core.breakpoints))]
    starts = getattr(core, "starts", None)
    if starts is None:
        return []  # thresholds: every output step is one; not worth marking
    if getattr(core, "uniform", False) and core.index_shift == 0:
        return []  # a plain table: every code is a breakpoint
    out = []
    for s in starts():
        if unit.fold is None:
            out.append(float(fi.real(fi.code_min + s)))
        else:
            out += [float(fi.real(unit.fold.center + s)), float(fi.real(unit.fold.center - s))]
    lo, hi = fi.lo, fi.hi  # type: ignore[attr-defined]
    return sorted(v for v in out if lo <= v < hi)


def _x(unit: ActivationUnit, v: int) -> str:
    """The real input of core input v (its magnitude, for a folded unit)."""
    fi = unit.in_format
    code = unit.fold.center + v if unit.fold else fi.code_min + v
    return f"{float(fi.real(code)):.6g}"


def segmentation(unit: ActivationUnit) -> str:
    """The chosen segmentation in words and real inputs: regions and segments per region
    (chord tables), or the breakpoints (search tables)."""
    core = unit.core
    side = "|x| " if unit.fold else "x "
    if isinstance(core, KnotCore):
        T = core.shift
        parts = []
        for j, m in enumerate(core.counts):
            lo, hi = _x(unit, j << T), _x(unit, ((j + 1) << T) - 1)
            parts.append(f"[{lo}, {hi}]: {m}")
        head = (f"{core.segments} chord segments, {side}in {len(core.counts)} region(s) "
                f"(segments each): ")
        return head + ", ".join(parts)
    if isinstance(core, SegmentCore) and not core.uniform:
        xs = ", ".join(_x(unit, s) for s in core.starts())
        return f"{core.segments} segments starting at {side}= {xs}"
    if isinstance(core, SegmentCore) and core.index_shift:
        return (f"{core.segments} uniform segments of {1 << core.index_shift} input codes "
                f"from {side}= {_x(unit, 0)}")
    return ""


def plot_data(manifest: dict, unit: ActivationUnit) -> Plot:
    """The data the figure draws, measured afresh against the true function."""
    spec = make_spec(
        parse(manifest["expression"]),
        in_format=unit.in_format,
        out_format=unit.out_format,
        domain=tuple(manifest["domain"]) if unit.in_format.is_float else None,
    )
    y = evaluate(unit, spec.codes)
    metrics = measure(unit, spec, y)
    fi, fo = unit.in_format, unit.out_format
    x = fi.real(spec.codes)
    order = np.argsort(x, kind="stable")
    yr = fo.real(y)[order]
    true = spec.values[order]
    return Plot(x[order], true, yr, (yr - true) / fo.lsb(spec.values), breakpoints_real(unit),
                metrics, segmentation(unit))


def figure(manifest: dict, unit: ActivationUnit) -> tuple[Any, Plot]:
    """The matplotlib figure of a unit, and the data it draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = plot_data(manifest, unit)
    fi, fo = unit.in_format, unit.out_format
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 2]})
    ax1.plot(d.x, d.true, color="black", lw=1.2, label=f"{manifest['expression']} (true)")
    ax1.step(d.x, d.output, where="post", color="tab:blue", lw=0.9,
             label=f"{unit.name} ({fo.text})")
    for b in d.breakpoints:
        ax1.axvline(b, color="tab:orange", lw=0.5, alpha=0.6)
        ax2.axvline(b, color="tab:orange", lw=0.5, alpha=0.6)
    ax1.set_ylabel("f(x)")
    note = f", {len(d.breakpoints)} breakpoints" if d.breakpoints else ""
    ax1.set_title(f"{unit.name}: {manifest['method']}, {fi.text} -> {fo.text}, "
                  f"{unit.memory_bits} ROM bits{note}")
    ax1.legend(loc="best", fontsize=8)
    ax2.plot(d.x, d.error_lsb, color="tab:red", lw=0.6)
    ax2.axhline(0, color="gray", lw=0.5)
    ax2.set_ylabel("error (ulp of max |f|)" if fo.is_float else "error (LSB)")
    ax2.set_xlabel("x")
    m = d.metrics
    ax2.set_title(f"max {m['max_lsb']:.3g} LSB ({m['max_abs']:.3g}), "
                  f"mean {m['mean_lsb']:.3g} LSB ({m['mean_abs']:.3g})", fontsize=9)
    fig.tight_layout()
    return fig, d


def summary(data: Plot) -> str:
    """What ``actc report`` prints: the metrics, and the segmentation where there is one."""
    m = data.metrics
    line = (f"max error {m['max_abs']:.6g} ({m['max_lsb']:.4g} LSB), mean {m['mean_abs']:.6g} "
            f"({m['mean_lsb']:.4g} LSB), RMS {m['rms']:.6g} over {m['codes']} input codes")
    return line + (f"\nsegmentation: {data.segmentation}" if data.segmentation else "")
