"""Shared fitting: best constants and best lines per segment, in the integer domain.

Segments are given by their start core inputs; points are (v, t) with t the unrounded target
in output codes. A line is fitted minimax (Chebyshev) in floating point, then its integer
slope and value are chosen by exact search around it, measuring the datapath's real rounded
output, so the stored integers are the best ones, not the rounded best reals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .search import golden_min

__all__ = ["Padded", "fit_constants", "fit_lines", "line_fracs", "max_slope", "minimax_lines",
           "pad_segments"]

VALUE_FRAC = 3  # fractional bits of interpolated values: rounding them costs <= 1/16 LSB


def max_slope(v: np.ndarray, t: np.ndarray) -> float:
    """Largest |dt/dv| between neighbouring distinct core inputs."""
    dv = np.diff(v)
    ok = dv > 0
    return float(np.abs(np.diff(t)[ok] / dv[ok]).max()) if ok.any() else 0.0


def line_fracs(seg_len: int, max_slope: float, max_value: float) -> tuple[int, int]:
    """(slope_frac, value_frac) for interpolated segments of up to seg_len codes: slope
    rounding then costs at most 1/16 LSB, and the accumulator stays within 60 bits."""
    F = max(VALUE_FRAC, int(seg_len - 1).bit_length() + 3)

    def acc_bound(f: int) -> float:
        return (abs(max_slope) * 2.0**f + 2) * seg_len + abs(max_value) * 2.0**f

    while F > VALUE_FRAC and acc_bound(F) > 2.0**60:
        F -= 1
    return F, VALUE_FRAC


@dataclass(frozen=True)
class Padded:
    """Points grouped by segment into an (S, L) matrix; ``mask`` marks real points."""

    d: np.ndarray  # offset v - start (float64), 0 where masked
    t: np.ndarray  # target, 0 where masked
    mask: np.ndarray
    count: np.ndarray  # points per segment


def pad_segments(v: np.ndarray, t: np.ndarray, starts: np.ndarray,
                 first: np.ndarray | None = None) -> Padded:
    """Points (v ascending, targets t) grouped by segment: segment k starts at ``starts[k]``
    and at point index ``first[k]`` (by default the first point at or after starts[k]);
    offsets are v - starts[k]."""
    if first is None:
        first = np.searchsorted(v, starts, side="left")
    last = np.append(first[1:], len(v))
    count = last - first
    L = max(1, int(count.max()))
    j = np.arange(L)
    pos = first[:, None] + j[None, :]
    mask = j[None, :] < count[:, None]
    pos = np.where(mask, pos, 0)
    d = np.where(mask, v[pos].astype(np.float64) - starts[:, None].astype(np.float64), 0.0)
    tt = np.where(mask, t[pos], 0.0)
    return Padded(d, tt, mask, count)


def _masked_max(a, mask):
    return np.where(mask, a, -np.inf).max(axis=1)


def _masked_min(a, mask):
    return np.where(mask, a, np.inf).min(axis=1)


def fit_constants(p: Padded, lo: int, hi: int) -> np.ndarray:
    """Integer constant per segment minimising the max error: the nearest integer to the
    midrange, within [lo, hi]. Empty segments copy their left neighbour."""
    mid = (_masked_max(p.t, p.mask) + _masked_min(p.t, p.mask)) / 2
    mid = _fill_empty(mid, p.count)
    return np.clip(np.floor(mid + 0.5), lo, hi).astype(np.int64)


def _fill_empty(x: np.ndarray, count: np.ndarray) -> np.ndarray:
    x = x.copy()
    for k in range(len(x)):
        if count[k] == 0:
            x[k] = x[k - 1] if k > 0 else 0.0
    if count[0] == 0 and len(x) > 1:
        nz = np.flatnonzero(count)
        x[: nz[0]] = x[nz[0]] if nz.size else 0.0
    return x


def minimax_lines(p: Padded, objective: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Real (a, b) per segment for t ~ a + b*d. ``max``: Chebyshev line, by golden-section
    search on the slope (the spread of the residuals is convex in the slope); ``mse``:
    least squares."""
    m = p.mask
    n = np.maximum(p.count, 1)
    if objective == "mse":
        sd = (p.d * m).sum(1)
        st = (p.t * m).sum(1)
        sdd = (p.d * p.d * m).sum(1)
        sdt = (p.d * p.t * m).sum(1)
        den = n * sdd - sd * sd
        b = np.where(den > 0, (n * sdt - sd * st) / np.where(den > 0, den, 1), 0.0)
        a = (st - b * sd) / n
        return _fill_empty(a, p.count), _fill_empty(b, p.count)
    # bracket: the optimal slope lies between the extreme slopes of consecutive points
    dd = np.diff(p.d, axis=1)
    dt = np.diff(p.t, axis=1)
    ok = m[:, 1:] & m[:, :-1] & (dd != 0)  # repeated inputs (folded domains) have dd = 0
    s = dt / np.where(ok, dd, 1.0)
    has = ok.any(axis=1)
    # initial=: segments of one input give no pairs (an empty row)
    lo = np.where(has, np.where(ok, s, np.inf).min(axis=1, initial=np.inf), 0.0)
    hi = np.where(has, np.where(ok, s, -np.inf).max(axis=1, initial=-np.inf), 0.0)
    # convex or concave runs with distinct inputs: the chord's slope is the minimax slope
    # (equioscillation at both ends and the farthest point), no search needed
    both = ok[:, 1:] & ok[:, :-1]
    ds = np.diff(s, axis=1)
    tol = 1e-12 * np.maximum(np.abs(s[:, 1:]), np.abs(s[:, :-1])) + 1e-15
    rising = (both & (ds > tol)).any(axis=1)
    falling = (both & (ds < -tol)).any(axis=1)
    repeated = (m[:, 1:] & m[:, :-1] & (dd == 0)).any(axis=1)
    chord = has & ~(rising & falling) & ~repeated
    last = np.maximum(p.count - 1, 0)
    rows = np.arange(len(p.count))
    span = p.d[rows, last] - p.d[:, 0]
    c = (p.t[rows, last] - p.t[:, 0]) / np.where(span > 0, span, 1.0)
    chord &= span > 0
    rest = np.flatnonzero(has & ~chord)
    b = np.where(chord, c, (lo + hi) / 2)
    if len(rest):
        sub = p.t[rest], p.d[rest], m[rest]

        def spread(bb):
            r = sub[0] - bb[:, None] * sub[1]
            return _masked_max(r, sub[2]) - _masked_min(r, sub[2])

        b[rest], _ = golden_min(spread, lo[rest], hi[rest], 90)
    r = p.t - b[:, None] * p.d
    a = (_masked_max(r, m) + _masked_min(r, m)) / 2
    return _fill_empty(a, p.count), _fill_empty(b, p.count)


def _outputs(Y, DY, d, F, Fy):
    acc = (Y[:, None] << (F - Fy)) + DY[:, None] * d
    return (acc + (1 << (F - 1))) >> F if F > 0 else acc


def fit_lines(
    p: Padded, slope_frac: int, value_frac: int, objective: str = "max",
    lines: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Integer (values, slopes) per segment for the datapath
    ``y = ((Y << (F - Fy)) + DY*d + 2^(F-1)) >> F``, best for the objective on the real
    rounded outputs: an exact search of nearby integers around the real optimum (``lines``:
    the real lines, when already fitted)."""
    F, Fy = slope_frac, value_frac
    a, b = minimax_lines(p, objective) if lines is None else lines
    di = p.d.astype(np.int64)
    m = p.mask
    best_err = np.full(len(a), np.inf)
    best_Y = np.zeros(len(a), dtype=np.int64)
    best_DY = np.zeros(len(a), dtype=np.int64)
    base_dy = np.floor(b * 2.0**F + 0.5).astype(np.int64)
    for ddy in (0, -1, 1):
        DY = base_dy + ddy
        # best real offset for this slope, then nearby integers
        r = p.t - DY[:, None] * p.d / 2.0**F
        if objective == "mse":
            centre = (r * m).sum(1) / np.maximum(p.count, 1)
        else:
            centre = (_masked_max(r, m) + _masked_min(r, m)) / 2
        centre = _fill_empty(centre, p.count)
        y0 = np.floor(centre * 2.0**Fy).astype(np.int64)
        for dy0 in (-1, 0, 1, 2):
            Y = y0 + dy0
            e = _outputs(Y, DY, di, F, Fy) - p.t
            if objective == "mse":
                err = (np.where(m, e * e, 0.0)).sum(1)
            else:
                err = np.where(m, np.abs(e), 0.0).max(1)
            better = err < best_err
            best_err = np.where(better, err, best_err)
            best_Y = np.where(better, Y, best_Y)
            best_DY = np.where(better, DY, best_DY)
    return best_Y, best_DY
