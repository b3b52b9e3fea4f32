"""The integer evaluator: the meaning of every activation unit. Targets must match it on
every code.

>>> import numpy as np
>>> from actc.activation.ir import ActivationUnit, SegmentCore
>>> from actc.formats import NumberFormat
>>> u2 = NumberFormat.parse("u2")
>>> unit = ActivationUnit("t", u2, u2, SegmentCore(2, (0, 1, 3, 2)))
>>> evaluate(unit, np.arange(4)).tolist()
[0, 1, 3, 2]

Each core kind has one evaluator. Integer cores run inside the integer frame (offset or
fold, then saturation, ir.py); the float core runs inside the float frame (bit patterns to
float32, then the output conversion, below).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..floatbits import bits_to_f32, f32_to_bits, p_index
from .ir import (
    ActivationUnit,
    FloatSegmentCore,
    KnotCore,
    SegmentCore,
    ShiftAddCore,
    ThresholdCore,
)

__all__ = ["evaluate", "eval_core", "float_output"]


def _segments(core: SegmentCore, v: np.ndarray) -> np.ndarray:
    n = core.segments
    if core.breakpoints is None:
        i = np.minimum(v >> core.index_shift, n - 1)
        x0 = i << core.index_shift
    else:
        assert core.p_lut is not None
        X = np.asarray(core.breakpoints, dtype=np.int64)
        i = np.asarray(core.p_lut, dtype=np.int64)[v >> core.p_shift]
        for _ in range(core.search_steps):
            nxt = np.minimum(i + 1, n - 1)
            i = i + ((i + 1 < n) & (X[nxt] <= v))
        x0 = X[i]
    Y = np.asarray(core.values, dtype=np.int64)[i]
    if core.slopes is None:
        acc, f = Y, core.value_frac
    else:
        f = core.slope_frac
        acc = (Y << (f - core.value_frac)) + np.asarray(core.slopes, dtype=np.int64)[i] * (v - x0)
    if f > 0:
        acc = (acc + (1 << (f - 1))) >> f
    return acc


def _knots(core: KnotCore, v: np.ndarray) -> np.ndarray:
    T = core.shift
    mask = (1 << T) - 1
    j = v >> T
    p = (v & mask) * np.asarray(core.counts, dtype=np.int64)[j]
    i = np.asarray(core.bases, dtype=np.int64)[j] + (p >> T)
    K = np.asarray(core.knots, dtype=np.int64)
    k0 = K[i]
    acc = (k0 << T) + (K[i + 1] - k0) * (p & mask)
    return (acc + (1 << (core.frac - 1))) >> core.frac


def _shiftadd(core: ShiftAddCore, v: np.ndarray) -> np.ndarray:
    seg = np.searchsorted(np.asarray(core.breakpoints, dtype=np.int64), v, side="right")
    signs = np.asarray(core.signs, dtype=np.int64).reshape(core.segments, core.terms)[seg]
    shifts = np.asarray(core.shifts, dtype=np.int64).reshape(core.segments, core.terms)[seg]
    xp = v << core.pre_shift
    acc = np.asarray(core.biases, dtype=np.int64)[seg]
    for k in range(core.terms):
        t = xp >> shifts[..., k]
        acc = acc + np.where(signs[..., k] > 0, t, np.where(signs[..., k] < 0, ~t, 0))
    return acc >> core.frac


def _threshold(core: ThresholdCore, v: np.ndarray) -> np.ndarray:
    up = np.searchsorted(np.asarray(core.up, dtype=np.int64), v, side="right")
    down = np.searchsorted(np.asarray(core.down, dtype=np.int64), v, side="right")
    return core.base + up - down


_CORE_EVALUATORS: dict[type, Callable[[Any, np.ndarray], np.ndarray]] = {
    SegmentCore: _segments, KnotCore: _knots, ShiftAddCore: _shiftadd, ThresholdCore: _threshold,
}


def eval_core(core: Any, v: np.ndarray) -> np.ndarray:
    """An integer core's output (before saturation) for core inputs v."""
    return _CORE_EVALUATORS[type(core)](core, v)


def _integer_frame(unit: ActivationUnit, c: np.ndarray) -> np.ndarray:
    """Offset (or fold), the core, saturation."""
    fi, fo = unit.in_format, unit.out_format
    fold = unit.fold
    if fold is None:
        y = eval_core(unit.core, c - fi.code_min)
    else:
        e = c - fold.center
        y = eval_core(unit.core, np.minimum(np.abs(e), fold.vmax))
        y = np.where(e < 0, fold.sign * y + fold.offset + fold.slope * e, y)
    return np.clip(y, fo.code_min, fo.code_max).astype(np.int64)


def _float_segments(core: FloatSegmentCore, x: np.ndarray) -> np.ndarray:
    """float32 result of the float datapath (see FloatSegmentCore) for float32 inputs x."""
    f32 = np.float32
    lo, hi = (np.array([core.lo, core.hi], dtype=np.uint32).view(f32))
    x = np.where(x >= lo, x, lo).astype(f32)
    x = np.minimum(x, hi).astype(f32)
    X = np.asarray(core.breakpoints, dtype=np.uint32).view(f32)
    Y = np.asarray(core.values, dtype=np.uint32).view(f32)
    DY = np.asarray(core.slopes, dtype=np.uint32).view(f32)
    n = core.segments
    i = np.asarray(core.p_lut, dtype=np.int64)[p_index(x, core.p_emin, core.p_emax, core.p_mant)]
    for _ in range(core.search_steps):
        nxt = np.minimum(i + 1, n - 1)
        i = i + ((i + 1 < n) & (X[nxt] <= x))
    d = (x - X[i]).astype(f32)
    p = (DY[i] * d).astype(f32)
    return (Y[i] + p).astype(f32)


def float_output(y: np.ndarray, fo: Any) -> np.ndarray:
    """Output codes from float32 results: a float kind's bits (round to nearest even), or
    a fixed-point code: q = y * float32(1/scale) + zero_point in float32, clamped to the
    code range, rounded half to even (by adding and subtracting 1.5 * 2^23)."""
    f32 = np.float32
    if fo.is_float:
        return f32_to_bits(y, fo.kind)
    inv = f32(1.0 / fo.scale)
    q = (y * inv).astype(f32)
    q = (q + f32(fo.zero_point)).astype(f32)
    q = np.where(q >= f32(fo.code_min), q, f32(fo.code_min)).astype(f32)
    q = np.minimum(q, f32(fo.code_max)).astype(f32)
    magic = f32(12582912.0)
    r = ((q + magic).astype(f32) - magic).astype(f32)
    return r.astype(np.int64)


def _float_frame(unit: ActivationUnit, c: np.ndarray) -> np.ndarray:
    """Bit patterns to float32, the float core, the output conversion."""
    x = bits_to_f32(c, unit.in_format.kind)  # type: ignore[attr-defined]
    return float_output(_float_segments(unit.core, x), unit.out_format)


_FRAMES: dict[type, Callable[[ActivationUnit, np.ndarray], np.ndarray]] = {
    SegmentCore: _integer_frame, KnotCore: _integer_frame, ShiftAddCore: _integer_frame,
    ThresholdCore: _integer_frame, FloatSegmentCore: _float_frame,
}


def evaluate(unit: ActivationUnit, codes: Any) -> np.ndarray:
    """Output codes of ``unit`` for input codes (int or array of ints) as int64."""
    c = np.asarray(codes, dtype=np.int64)
    fi = unit.in_format
    if c.size and (c.min() < fi.code_min or c.max() > fi.code_max):
        raise ValueError(f"input codes outside {fi.text} range [{fi.code_min}, {fi.code_max}]")
    return _FRAMES[type(unit.core)](unit, c)
