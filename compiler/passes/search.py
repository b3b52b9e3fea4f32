"""Shared by ``geba`` and ``optimal``: the X/Y/DY/P table structure with a P_LUT-guided
search, its line fit, and the memory budget.

Memory is all four tables: X_LUT (segment starts), Y_LUT, DY_LUT and P_LUT. The P_LUT has
2^p entries, indexed by the top p bits of the core input; p is the smallest width for which
no bucket holds more than ``search_steps`` breakpoints, so the search ends after that many
comparisons (done in parallel in the Verilog).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..domain import FitDomain
from ..errors import FitError
from ..ir import SegmentCore
from .fitting import fit_lines, pad_segments
from .placement import Points
from .uniform import line_fracs, max_slope

__all__ = ["DEFAULT_SEGMENTS", "DEFAULT_STEPS", "build_core", "fit_budget"]

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


def build_core(domain: FitDomain, starts: np.ndarray, objective: str,
               steps: int) -> SegmentCore:
    """Fit a line per segment (integer datapath) and build the search tables."""
    v, t = domain.core_inputs, domain.targets
    starts = np.asarray(starts, dtype=np.int64)
    starts[0] = 0
    ends = np.append(starts[1:], 1 << domain.bits)
    seg_len = int((ends - starts).max())
    fo = domain.out_format
    F, Fy = line_fracs(seg_len, max_slope(v, t), max(abs(fo.code_min), abs(fo.code_max)) + 1)
    Y, DY = fit_lines(pad_segments(v, t, starts), F, Fy, objective)
    table, shift, need = p_lut(starts, domain.bits, steps)
    return SegmentCore(
        in_bits=domain.bits,
        values=tuple(int(a) for a in Y),
        value_frac=Fy,
        slopes=tuple(int(a) for a in DY),
        slope_frac=F,
        breakpoints=tuple(int(a) for a in starts),
        p_lut=table,
        p_shift=shift,
        search_steps=need,
    )


def fit_budget(domain: FitDomain, place: Callable[[Points, int], list[int]], objective: str,
               steps: int, segments: int | None, memory_bits: int | None,
               method: str) -> SegmentCore:
    """Place and fit ``segments`` segments, or the most that fit in ``memory_bits``."""
    if segments is not None and memory_bits is not None:
        raise FitError("give --entries or --memory-bits, not both")
    if steps < 1:
        raise FitError(f"--search-steps {steps} must be 1 or more")
    points = Points.from_samples(domain.core_inputs, domain.targets)
    n_inputs = len(points)
    fi, fo = domain.in_format, domain.out_format
    table_bits = fi.size * fo.bits

    def make(k: int) -> SegmentCore:
        idx = place(points, k)
        return build_core(domain, points.u[np.array(idx)], objective, steps)

    if memory_bits is None:
        k = DEFAULT_SEGMENTS if segments is None else segments
        if k < 2:
            raise FitError(f"--entries {k}: {method} needs 2 segments or more")
        if k > min(n_inputs, MAX_SEGMENTS):
            raise FitError(
                f"--entries {k} exceeds the {min(n_inputs, MAX_SEGMENTS)} segments {method} can "
                f"place on {fi.text}: use fewer, or --method table"
            )
        return make(min(k, n_inputs))
    if memory_bits >= table_bits:
        raise FitError(
            f"--memory-bits {memory_bits} is at least a full table ({fi.size} x {fo.bits} = "
            f"{table_bits} bits): use --method table"
        )
    smallest = make(2)
    if smallest.memory_bits() > memory_bits:
        raise FitError(
            f"--memory-bits {memory_bits} is too small: the smallest {method} unit "
            f"(2 segments) needs {smallest.memory_bits()} bits"
        )
    # bits per segment of the 2-segment unit estimate the count; then step down until it fits
    per = max(1, (smallest.memory_bits() - len(smallest.p_lut) * smallest.index_bits) // 2)
    k = int(min(n_inputs, MAX_SEGMENTS, max(2, memory_bits // per)))
    while k > 2:
        core = make(k)
        if core.memory_bits() <= memory_bits:
            return core
        k = max(2, int(k * memory_bits / core.memory_bits()) if core.memory_bits() > 1.1 *
                memory_bits else k - 1)
    return smallest
