"""Shared by ``geba`` and ``optimal``: the X/Y/DY/P table structure with a P_LUT-guided
search, its line fit, and the memory budget.

Memory is all four tables: X_LUT (segment starts), Y_LUT, DY_LUT and P_LUT. The P_LUT has
2^p entries, indexed by the top p bits of the core input; p is the smallest width for which
no bucket holds more than ``search_steps`` breakpoints, so the search ends after that many
comparisons (done in parallel in the Verilog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...errors import FitError
from ...floatbits import bits_to_f32, f32_bits
from ...formats import FloatFormat, NumberFormat
from ..domain import FitDomain
from ..evaluate import eval_core
from ..ir import FloatSegmentCore, SegmentCore
from .lines import fit_lines, line_fracs, max_slope, minimax_lines, pad_segments
from .placement import Points

__all__ = ["DEFAULT_SEGMENTS", "DEFAULT_STEPS", "build_core", "fit_budget", "line_segments"]

DEFAULT_SEGMENTS = 32
DEFAULT_STEPS = 2
MAX_SEGMENTS = 4096


def p_lut(starts: np.ndarray, bits: int, steps: int) -> tuple[tuple[int, ...], int, int]:
    """(P_LUT, p_shift, search steps needed): the narrowest P_LUT within ``steps``."""
    for p in range(0, bits + 1):
        shift = bits - p
        bucket = np.arange(1 << p, dtype=np.int64) << shift
        first = np.searchsorted(starts, bucket, side="right") - 1
        last = np.searchsorted(starts, bucket + (1 << shift) - 1, side="right") - 1
        need = int((last - first).max())
        if need <= steps:
            return tuple(int(a) for a in first), shift, need
    raise AssertionError("a full-width P_LUT always resolves the segment")  # pragma: no cover


WIDTH_TOLERANCE = 0.01  # narrower fractions may cost this much of the error (relative)


def core_error(domain: FitDomain, core: Any, objective: str) -> float:
    """The core's error on the fit domain in output codes, before saturation: the largest
    (objective max or both) or the RMS (mse)."""
    e = eval_core(core, domain.core_inputs) - domain.ideal
    return float(np.sqrt(np.mean(e * e))) if objective == "mse" else float(np.abs(e).max())


def line_segments(domain: FitDomain, starts: np.ndarray, seg_len: int, objective: str = "max",
                  bound: float | None = None, **addressing: Any) -> SegmentCore:
    """A line per segment (segments start at ``starts``, at most ``seg_len`` inputs long),
    fitted in the integer datapath; ``addressing`` says how the core finds the segment
    (``index_shift``, or ``breakpoints`` with the P_LUT fields).

    Minimal widths: the slope and value fractions start where their rounding costs at most
    1/16 LSB (``line_fracs``); then the value fraction, and after it the slope fraction, is
    cut to the narrowest whose error stays within ``WIDTH_TOLERANCE`` (1 %) of that fit.
    ``both``: each segment takes its least-squares line where that keeps the segment's max
    error within ``bound`` (output codes; default 5 % above the minimax fit's), else its
    minimax line."""
    v, t = domain.core_inputs, domain.ideal
    fo = domain.out_format
    F0, Fy0 = line_fracs(seg_len, max_slope(v, t), max(abs(fo.code_min), abs(fo.code_max)) + 1)
    # a fold repeats every input with the same target: one copy each keeps the runs convex
    keep = np.r_[True, (np.diff(v) != 0) | (np.abs(np.diff(t)) > 1e-9 * (1 + np.abs(t[1:])))]
    padded = pad_segments(v[keep], t[keep], starts)
    first = "mse" if objective == "mse" else "max"
    lines = minimax_lines(padded, first)

    def make(F: int, Fy: int, kind: str = first, real: Any = lines) -> SegmentCore:
        Y, DY = fit_lines(padded, F, Fy, kind, real)
        return SegmentCore(in_bits=domain.bits, values=tuple(int(a) for a in Y), value_frac=Fy,
                           slopes=tuple(int(a) for a in DY), slope_frac=F, **addressing)

    core = make(F0, Fy0)
    limit = core_error(domain, core, first) * (1 + WIDTH_TOLERANCE) + 1e-9
    for Fy in range(Fy0):
        trial = make(F0, Fy)
        if core_error(domain, trial, first) <= limit:
            core = trial
            break
    for F in range(max(core.value_frac, 1, F0 - 8), F0):
        trial = make(F, core.value_frac)
        if core_error(domain, trial, first) <= limit:
            core = trial
            break
    if objective != "both":
        return core
    if bound is None:
        bound = core_error(domain, core, "max") * 1.05
    mse = make(core.slope_frac, core.value_frac, "mse", minimax_lines(padded, "mse"))
    seg = np.searchsorted(np.asarray(starts), v, side="right") - 1
    worst = np.zeros(len(starts))
    np.maximum.at(worst, seg, np.abs(eval_core(mse, v) - t))
    take = worst <= bound
    pick = [(b if k else a) for a, b, k in zip(core.values, mse.values, take)]
    slopes = [(b if k else a) for a, b, k in zip(core.slopes or (), mse.slopes or (), take)]
    return replace(core, values=tuple(pick), slopes=tuple(slopes))


def build_core(domain: FitDomain, starts: np.ndarray, objective: str, steps: int,
               x_shift: int = 0, bound: float | None = None) -> SegmentCore:
    """Fit a line per segment (integer datapath) and build the search tables; breakpoints
    (multiples of 2^x_shift) are stored as X >> x_shift."""
    starts = np.asarray(starts, dtype=np.int64)
    starts[0] = 0
    ends = np.append(starts[1:], 1 << domain.bits)
    table, shift, need = p_lut(starts, domain.bits, steps)
    return line_segments(domain, starts, int((ends - starts).max()), objective, bound,
                         breakpoints=tuple(int(a) for a in starts), p_lut=table, p_shift=shift,
                         search_steps=need, x_shift=x_shift)


def _fixed_structure(domain: FitDomain, objective: str, steps: int):
    """Points on the integer core inputs, and the integer X/Y/DY/P core for placed indices."""
    points = Points.from_samples(domain.core_inputs, domain.ideal, bits=domain.bits)

    def make(idx: list[int]) -> SegmentCore:
        return build_core(domain, points.u[np.array(idx)], objective, steps)

    return points, make


def _float_structure(domain: FitDomain, objective: str, steps: int):
    """Points on a float grid, and the float32 X/Y/DY/P core (FloatSegmentCore)."""
    grid = float_grid(domain)
    points = Points.from_samples(np.arange(len(grid.x)), grid.t, grid.x)

    def make(idx: list[int]) -> FloatSegmentCore:
        return build_float_core(domain, grid, idx, objective, steps)

    return points, make


_STRUCTURES: dict[type, Callable[[FitDomain, str, int], Any]] = {
    NumberFormat: _fixed_structure, FloatFormat: _float_structure,
}


def fit_budget(domain: FitDomain, place: Callable[[Points, int], list[int]], objective: str,
               steps: int, segments: int | None, memory_bits: int | None,
               method: str) -> Any:
    """Place and fit ``segments`` segments, or the most that fit in ``memory_bits``, in the
    structure for the input format (integer SegmentCore, or float32 FloatSegmentCore)."""
    if segments is not None and memory_bits is not None:
        raise FitError("give --entries or --memory-bits, not both")
    if steps < 1:
        raise FitError(f"--search-steps {steps} must be 1 or more")
    fi, fo = domain.in_format, domain.out_format
    points, build = _STRUCTURES[type(fi)](domain, objective, steps)

    def make(k: int) -> Any:
        return build(place(points, k))

    n_inputs = len(points)
    table_bits = (1 << fi.bits) * fo.bits
    if memory_bits is None:
        k = DEFAULT_SEGMENTS if segments is None else segments
        if k < 2:
            raise FitError(f"--entries {k}: {method} needs 2 segments or more")
        if k > min(n_inputs, MAX_SEGMENTS):
            raise FitError(
                f"--entries {k} exceeds the {min(n_inputs, MAX_SEGMENTS)} segments {method} can "
                f"place on {fi.text}: use fewer, or --method table"
            )
        return make(k)
    if memory_bits >= table_bits:
        raise FitError(
            f"--memory-bits {memory_bits} is at least a full table ({1 << fi.bits} x "
            f"{fo.bits} = {table_bits} bits): use --method table"
        )
    smallest = make(2)
    if smallest.memory_bits() > memory_bits:
        raise FitError(
            f"--memory-bits {memory_bits} is too small: the smallest {method} unit "
            f"(2 segments) needs {smallest.memory_bits()} bits"
        )
    per = max(1, (smallest.memory_bits() - len(smallest.p_lut) * smallest.index_bits) // 2)
    k = int(min(n_inputs, MAX_SEGMENTS, max(2, memory_bits // per)))
    while k > 2:
        core = make(k)
        if core.memory_bits() <= memory_bits:
            return core
        over = core.memory_bits() / memory_bits
        k = max(2, int(k / over) if over > 1.1 else k - 1)
    return smallest


# --- float inputs ---------------------------------------------------------------------------

FP32_GRID = 1 << 16


@dataclass(frozen=True, eq=False)
class FloatGrid:
    x: np.ndarray  # ascending float32 input values where breakpoints may go (float64 copy)
    t: np.ndarray  # the true function there (real units; the output format quantises later)


def float_grid(domain: FitDomain) -> FloatGrid:
    """fp16/bf16: every input value in the domain; fp32: 2^16 + 1 evenly spaced values."""
    from ..numeric import eval_float

    assert domain.domain is not None
    lo, hi = domain.domain
    kind = domain.in_format.kind  # type: ignore[attr-defined]
    if kind == "fp32":
        x = np.unique(np.linspace(lo, hi, FP32_GRID + 1).astype(np.float32))
    else:
        x = np.sort(bits_to_f32(domain.codes, kind))
    x64 = x.astype(np.float64)
    vals = eval_float(domain.expression.expr, domain.expression.symbol, x64)
    return FloatGrid(x64, vals)  # the float datapath computes real values


def _bucket_bounds(emin: int, emax: int, mbits: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 value bounds [inf, sup] of every P_LUT bucket, in index order."""
    nb = (emax - emin + 1) << mbits
    b = np.arange(nb, dtype=np.int64)
    e = emin + (b >> mbits)
    mt = b & ((1 << mbits) - 1)
    mag_lo = ((e << 23) | (mt << (23 - mbits))).astype(np.uint32).view(np.float32).copy()
    mag_lo[0] = 0.0
    top = np.array([(emax + 1) << 23], dtype=np.uint32).view(np.float32)
    mag_hi = np.concatenate([mag_lo[1:], top])
    below = np.nextafter(mag_hi, np.float32(0))
    neg_inf, neg_sup = -below[::-1], -mag_lo[::-1]
    return np.concatenate([neg_inf, mag_lo]), np.concatenate([neg_sup, below])


def float_p_lut(X: np.ndarray, lo: float, hi: float, steps: int):
    """(P_LUT, emin, emax, mantissa bits, steps needed): the smallest P_LUT whose buckets
    hold at most ``steps`` breakpoints. X: float32 segment starts, ascending."""
    top = max(abs(lo), abs(hi))
    emax = int(np.array([top], dtype=np.float32).view(np.uint32)[0] >> 23)
    best = None
    for mbits in range(0, 8):
        for emin in range(emax, max(0, emax - 24) - 1, -1):
            inf, sup = _bucket_bounds(emin, emax, mbits)
            a = np.clip(inf.astype(np.float64), lo, hi)
            z = np.clip(sup.astype(np.float64), lo, hi)
            first = np.maximum(np.searchsorted(X, a, side="right") - 1, 0)
            last = np.maximum(np.searchsorted(X, z, side="right") - 1, 0)
            need = int((last - first).max())
            size = len(first)
            if need <= steps and (best is None or size < best[0]):
                best = (size, tuple(int(v) for v in first), emin, emax, mbits, need)
            if need <= steps:
                break  # a smaller emin only adds buckets
    assert best is not None
    return best[1:]


def build_float_core(domain: FitDomain, grid: FloatGrid, idx: list[int], objective: str,
                     steps: int) -> FloatSegmentCore:
    """Lines per segment, fitted in real arithmetic on the grid, stored as float32."""
    first = np.asarray(idx, dtype=np.int64)
    X = grid.x[first].astype(np.float32)
    assert domain.domain is not None
    lo, hi = domain.domain
    padded = pad_segments(grid.x, grid.t, X.astype(np.float64), first)
    a, b = minimax_lines(padded, objective)
    p, emin, emax, mbits, need = float_p_lut(X.astype(np.float64), lo, hi, steps)
    return FloatSegmentCore(
        in_kind=domain.in_format.kind,  # type: ignore[attr-defined]
        lo=int(f32_bits(np.float32(lo))),
        hi=int(f32_bits(np.float32(hi))),
        breakpoints=tuple(int(v) for v in f32_bits(X)),
        values=tuple(int(v) for v in f32_bits(a.astype(np.float32))),
        slopes=tuple(int(v) for v in f32_bits(b.astype(np.float32))),
        p_lut=p,
        p_emin=emin,
        p_emax=emax,
        p_mant=mbits,
        search_steps=need,
    )
