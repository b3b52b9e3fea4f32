"""The exact shift-add fit behind ``grau``: piecewise-linear segments whose slopes are sums of
signed powers of two, fitted in the integer datapath itself (``ShiftAddCore`` in ir.py), not
fit-then-round.

The fit works in the integer datapath itself (``ShiftAddCore`` in ir.py), not fit-then-round:

1. Targets are the unrounded output codes t(v) at every core input v. A segment [i, j) with
   slope candidate s (its terms' signs and shifts) and integer bias B meets tolerance eps when
   every output ``floor((B + h_s(v)) / 2^frac)``, saturated, lies within eps of t(v), where
   h_s(v) is the exact sum of the shifted, truncated terms. For fixed s that is an interval
   of B, [max(L(v) 2^frac - h_s(v)), min((U(v) + 1) 2^frac - 1 - h_s(v))] with
   L = ceil(t - eps), U = floor(t + eps) (one-sided where the output saturates; where t lies
   outside the output range the saturated code is required instead, ``pwl.tolerance``); the
   segment is feasible when some s in the slope set leaves the interval non-empty. The test
   is exact: it measures the real rounded outputs, every truncation included.
2. Feasibility is hereditary, so the greedy cover (each segment as long as it can be, left to
   right) needs the fewest segments for eps, and bisection on eps finds the least max error
   reachable with ``segments`` segments: breakpoints, slopes and biases chosen together,
   minimax. Breakpoints never collapse: a segment is at least one code long.
3. Speed: a candidate is only tested where two necessary conditions allow its slope (the
   band through the segment's end points, ``pwl.Band``, and the slope interval of a relaxed
   real line fit on a subsample, ``pwl.slope_interval``); survivors of a shorter segment are
   the only candidates for a longer one and their bias intervals are extended over the new
   points only; regions with one-sided bounds (saturation) cost nothing; above 4096 codes a
   fit to a subsample brackets the error first.
4. In each segment of the final cover, among the slopes and biases that meet the optimal eps,
   the one with the least mean error wins (then the fewer terms).
5. ``frac`` = terms + 2 (truncating the terms then costs at most 1/4 LSB); ``pre_shift`` =
   frac + the bits the steepest slope needs above one output code per input code.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ...errors import FitError
from ..domain import FitDomain
from ..ir import ShiftAddCore
from .pwl import EPS_TOL, Band, code_bounds, lowest_error, minimax_cover, slope_interval

__all__ = ["fit_shift_add"]


# --- slope candidates -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidates:
    signs: np.ndarray  # (C, K) int64 in -1, 0, 1
    shifts: np.ndarray  # (C, K) int64
    value: np.ndarray  # (C,) slope, output codes per input code
    count: np.ndarray  # (C,) non-zero terms


def _candidates(terms: int, r_hi: int, e: int) -> _Candidates:
    """Every slope of at most ``terms`` signed powers of two 2^(e - r), r in 0..r_hi, with
    distinct shifts; one representation per value, the one with the fewest terms."""
    seen: set[int] = set()
    signs, shifts, count = [], [], []
    for k in range(0, terms + 1):
        for rs in itertools.combinations(range(r_hi + 1), k):
            for sg in itertools.product((1, -1), repeat=k):
                key = sum(g << (r_hi - r) for g, r in zip(sg, rs))
                if key in seen:
                    continue
                seen.add(key)
                signs.append(list(sg) + [0] * (terms - k))
                shifts.append(list(rs) + [0] * (terms - k))
                count.append(k)
    sign_rows = np.array(signs, dtype=np.int64).reshape(-1, terms)
    shift_rows = np.array(shifts, dtype=np.int64).reshape(-1, terms)
    value = (sign_rows * np.exp2(e - shift_rows)).sum(axis=1)
    return _Candidates(sign_rows, shift_rows, value, np.array(count, dtype=np.int64))


# --- the exact integer-domain fit -----------------------------------------------------------


_BIG = 1 << 60  # "no bound" for the bias interval, beyond any datapath value
_BLOCK = 1 << 14  # candidates x points computed at once: under malloc's mmap threshold
_COARSE = 4096  # above this many codes, bracket the error with a fit to a subsample first


_TABLE_LIMIT = 1 << 21  # candidates x points below which term sums are tabulated once


class _Fitter:
    """Greedy reach over candidate slopes for one (pre_shift, frac) choice."""

    def __init__(self, v: np.ndarray, t: np.ndarray, cands: _Candidates, pre_shift: int,
                 frac: int, code_min: int, code_max: int):
        self.v, self.t, self.c = v, t, cands
        self.xp = v << pre_shift
        self.frac = frac
        self.codes = (code_min, code_max)
        self.terms = cands.signs.shape[1]
        self._eps: float | None = None
        self.alive: dict[int, np.ndarray] = {}
        # every candidate's term sum at every point, when that table is small: the reach
        # steps then only index it
        self._table = (self._terms(np.arange(len(cands.value)), slice(None))
                       if len(cands.value) * len(v) <= _TABLE_LIMIT else None)

    def bounds(self, eps: float) -> None:
        if self._eps == eps:
            return
        L, U, lower, upper, self.ok = code_bounds(self.t, eps, *self.codes)
        self.lo = np.where(lower, L << self.frac, -_BIG)
        self.hi = np.where(upper, ((U + 1) << self.frac) - 1, _BIG)
        # datapath vs a straight line: < 1 code from the final floor, < 2^-frac per term
        slack = 1 + 2 * self.terms * 2.0**-self.frac + 1e-9
        self.band = Band(self.v, self.t, lower & upper, 2 * eps + slack)
        # z in [L, U] needs c + a v in [L, U + 1 + terms 2^-frac] (see slope_filter)
        self.relax_lo = np.where(lower, L, -np.inf).astype(np.float64)
        self.relax_hi = np.where(upper, U + 1 + self.terms * 2.0**-self.frac, np.inf)
        self.n_lower = np.concatenate([[0], np.cumsum(lower)])
        self.n_upper = np.concatenate([[0], np.cumsum(upper)])
        self._eps = eps

    def h(self, idx: np.ndarray, at) -> np.ndarray:
        """Sum of the shifted, truncated terms of candidates idx at points ``at`` (a slice or
        an index array)."""
        if self._table is not None:
            return self._table[idx][:, at]
        return self._terms(idx, at)

    def _terms(self, idx: np.ndarray, at) -> np.ndarray:
        xp = self.xp[at][None, :]
        out = np.zeros((len(idx), xp.shape[1]), dtype=np.int64)
        for k in range(self.terms):
            g = self.c.signs[idx, k][:, None]
            t = xp >> self.c.shifts[idx, k][:, None]
            # ~t == t ^ -1; absent terms are masked to 0
            out += (t ^ -(g < 0).astype(np.int64)) & -(g != 0).astype(np.int64)
        return out

    def bias_range(self, idx: np.ndarray, at) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate, the interval of biases meeting eps at points ``at``, computed in
        blocks small enough to stay in cache."""
        pts = np.arange(len(self.v))[at]
        bmin = np.full(len(idx), -_BIG)
        bmax = np.full(len(idx), _BIG)
        rows = max(1, _BLOCK // max(1, len(pts)))
        for r in range(0, len(idx), rows):
            sub = idx[r : r + rows]
            for c in range(0, len(pts), _BLOCK):
                p = pts[c : c + _BLOCK]
                h = self.h(sub, p)
                np.maximum(bmin[r : r + rows], (self.lo[p] - h).max(axis=1),
                           out=bmin[r : r + rows])
                np.minimum(bmax[r : r + rows], (self.hi[p] - h).min(axis=1),
                           out=bmax[r : r + rows])
        return bmin, bmax

    def reach(self, i: int, eps: float) -> int:
        """Largest j such that some candidate slope and bias meet eps on [i, j): doubling
        then bisection on j. The candidates feasible on [i, j) only shrink as j grows, so
        each step tests the survivors of the last success, after the necessary slope filter,
        and extends their bias intervals over the new points only."""
        self.bounds(eps)
        n = len(self.v)
        bad_at = np.flatnonzero(~self.ok[i:])
        limit = n if not bad_at.size else i + int(bad_at[0])
        if limit == i:
            return i
        every = np.arange(len(self.c.value))
        state = (every, np.full(len(every), -_BIG), np.full(len(every), _BIG), i)
        good, width, bad = i, 8, None
        while good < limit:
            j = min(good + width, limit)
            nxt = self._survivors(state, i, j)
            if nxt is None:
                bad = j
                break
            state, good, width = nxt, j, width * 2
        while bad is not None and bad - good > 1:
            mid = (good + bad) // 2
            nxt = self._survivors(state, i, mid)
            if nxt is None:
                bad = mid
            else:
                state, good = nxt, mid
        if good == i:  # no candidate fits point i alone: impossible when ok[i]
            raise AssertionError("grau: a single point is always feasible")
        self.alive[i] = state[0]
        return good

    def _survivors(self, state, i: int, j: int):
        """The candidates of ``state`` (alive, bmin, bmax, verified: bias bounds over
        [i, verified)) that meet eps on [i, j), as a new state; None when there are none.
        Where [i, j) has only lower or only upper bounds, every candidate does (the bias can
        push the output into saturation), and nothing is computed."""
        alive, bmin, bmax, verified = state
        if not (self.n_lower[j] - self.n_lower[i] and self.n_upper[j] - self.n_upper[i]):
            return state
        keep = self.slope_filter(alive, i, j)
        if keep.sum() > 8 and j - verified > 1024:
            # the exact test on 512 of the points first: necessary, and cheap
            pts = np.unique(np.linspace(i, j - 1, 512).astype(np.int64))
            lo, hi = self.bias_range(alive[keep], pts)
            keep[keep] = lo <= hi
        if not keep.any():
            return None
        lo, hi = self.bias_range(alive[keep], slice(verified, j)) if j > verified else (
            np.full(int(keep.sum()), -_BIG), np.full(int(keep.sum()), _BIG))
        lo, hi = np.maximum(lo, bmin[keep]), np.minimum(hi, bmax[keep])
        ok = lo <= hi
        if not ok.any():
            return None
        return alive[keep][ok], lo[ok], hi[ok], j

    def slope_filter(self, idx: np.ndarray, a: int, b: int) -> np.ndarray:
        """Which candidates idx can possibly meet eps on [a, b): a necessary condition.
        Every term's truncation lies in (-1, 0] (accumulator units), so with c = B/2^frac the
        output z(v) lies in (c + a v - terms 2^-frac - 1, c + a v]; z in [L, U] thus needs
        L <= c + a v < U + 1 + terms 2^-frac for some real c: an interval of slopes a, here
        computed on at most 256 of the points (fewer constraints: still necessary). The
        two-point band (``pwl.Band``) goes first."""
        val = self.c.value[idx]
        keep = np.ones(len(idx), dtype=bool)
        window = self.band(a, b)
        if window is not None:
            keep = (val >= window[0]) & (val <= window[1])
        if keep.sum() > 128:
            pts = np.unique(np.linspace(a, b - 1, min(b - a, 256)).astype(np.int64))
            window = slope_interval(self.v[pts].astype(np.float64), self.relax_lo[pts],
                                    self.relax_hi[pts])
            if window is None:
                return np.zeros(len(idx), dtype=bool)
            keep &= (val >= window[0]) & (val <= window[1])
        return keep

    def choose(self, a: int, b: int) -> tuple[int, int]:
        """(candidate, bias) for segment [a, b) at the current eps: least mean error, then
        fewest terms."""
        idx = self.alive[a]
        bmin, bmax = self.bias_range(idx, slice(a, b))
        h = self.h(idx, slice(a, b))
        t = self.t[a:b]
        # the bias that centres floor((B + h) / 2^frac) on t, within the feasible range
        centre = np.median((1 << self.frac) * (t + 0.5) - h, axis=1)
        picks = [np.clip(np.round(centre).astype(np.int64), bmin, bmax)]
        picks += [p for p in (bmin, bmax) if (np.abs(p) < _BIG // 2).all()]
        best = None
        for bias in picks:
            y = np.clip((bias[:, None] + h) >> self.frac, *self.codes)
            mean = np.abs(y - t).mean(axis=1)
            for c in range(len(idx)):
                key = (round(float(mean[c]), 12), int(self.c.count[idx[c]]), c)
                if best is None or key < best[0]:
                    best = (key, int(idx[c]), int(bias[c]))
        assert best is not None
        return best[1], best[2]


def _steepest(v: np.ndarray, t: np.ndarray) -> float:
    if len(v) < 2:
        return 0.0
    return float(np.abs(np.diff(t) / np.diff(v)).max())


def _fit_frac(domain: FitDomain, v: np.ndarray, t: np.ndarray, segments: int, terms: int,
              frac: int) -> tuple[ShiftAddCore, float]:
    steep = _steepest(v, t)
    e = max(0, math.ceil(math.log2(steep))) if steep > 0 else 0
    pre = frac + e
    if pre > 30 or domain.bits + pre > 62:  # ShiftAddCore's datapath limits
        raise FitError(f"--method grau: the function rises by up to 2^{e} output codes per "
                       f"input code, beyond the shift datapath (a pre-shift of {pre}, at most "
                       "30): use a coarser output format, or another method")
    vmax = int(v[-1])
    r_hi = max(0, pre + vmax.bit_length() - 1)
    cands = _candidates(terms, r_hi, e)
    fo = domain.out_format
    fitter = _Fitter(v, t, cands, pre, frac, fo.code_min, fo.code_max)
    lower = lowest_error(t, domain.rounded, fo.code_min, fo.code_max)
    upper = max(1.0, lower)
    if len(v) > _COARSE:
        # a fit to every k-th code bounds the error from below (fewer constraints), and
        # starts the bisection close to the answer
        k = -(-len(v) // _COARSE)
        sub = _Fitter(v[::k], t[::k], cands, pre, frac, fo.code_min, fo.code_max)
        coarse, _ = minimax_cover(len(sub.v), segments, sub.reach, lower)
        lower = max(lower, coarse - EPS_TOL)
        upper = coarse * 1.01 + 0.01
    eps, starts = minimax_cover(len(v), segments, fitter.reach, lower, upper)
    fitter.alive.clear()
    fitter.bounds(eps)
    for s in starts:  # re-run at the final eps to keep each segment's feasible slopes
        fitter.reach(s, eps)
    ends = [*starts[1:], len(v)]
    signs, shifts, biases = [], [], []
    for a, b in zip(starts, ends):
        c, bias = fitter.choose(a, b)
        signs += [int(g) for g in cands.signs[c]]
        shifts += [int(r) for r in cands.shifts[c]]
        biases.append(bias)
    core = ShiftAddCore(
        in_bits=domain.bits,
        breakpoints=tuple(int(v[a]) for a in starts[1:]),
        biases=tuple(biases),
        signs=tuple(signs),
        shifts=tuple(shifts),
        terms=terms,
        pre_shift=pre,
        frac=frac,
    )
    return core, eps


def fit_shift_add(domain: FitDomain, segments: int, terms: int,
                  frac: int | None = None) -> tuple[ShiftAddCore, float]:
    """The minimax shift-add fit (see the module docstring); returns the core and its max
    error in output LSBs (the outputs saturate to the output range). ``frac`` defaults to
    terms + 2: the truncated terms then add at most terms / 2^(terms + 1) <= 1/4 LSB."""
    v = domain.core_inputs.astype(np.int64)
    return _fit_frac(domain, v, domain.ideal, segments, terms,
                     terms + 2 if frac is None else frac)
