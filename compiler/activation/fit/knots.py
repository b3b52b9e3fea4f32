"""Hierarchical chord tables (``KnotCore``): how many segments each region gets, and the
knot values, fitted in the integer datapath.

**Segment counts.** The top r bits of the core input pick one of 2^r regions; region j is
split into m_j equal segments. The error of a candidate m_j is estimated as the largest
chord-rule error of its segments: the minimax line of a convex or concave run (the chord,
shifted halfway to the farthest point), exact there and an upper bound across an inflection
point. A continuous chain of chords cannot beat its segments' own minimax lines, so the
estimate is what the knot fit aims at. For an error bound eps each region takes the fewest
segments whose estimate is within eps (powers of two only, for shift addressing);
bisection on eps spends a memory budget (``search.bisect_bound``), and segments left over
go to the regions with the largest estimate.

**Knots.** For fixed segments the knots are fitted in real arithmetic, then as integers:

- ``max``: the minimax knots, a linear program (variables: the knots and the error bound;
  two constraints per input), solved by HiGHS (scipy) with cutting planes: a few points per
  segment first, then the worst violator of each segment added until none is left;
- ``mse``: least squares, a tridiagonal system;
- ``both``: the least-squares knots moved towards the minimax ones just far enough that the
  max error stays within ``bound`` (the max error is convex along that line: bisection).

The real knots are rounded to ``value_frac`` fractional bits, then an exact local search
moves every knot by one unit while that improves its two segments, measuring the rounded
outputs of the datapath (even and odd knots in turn: no two even knots share a segment).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..domain import FitDomain
from ..ir import KnotCore
from .search import bisect_bound

__all__ = ["KnotFit", "Regions", "allocate", "fit_knots", "knot_core"]

_INITIAL_POINTS = 6  # points per segment in the first cutting-plane LP


def _is_pow2(m: int) -> bool:
    return m >= 1 and m & (m - 1) == 0


def _chord_error(o: np.ndarray, t: np.ndarray, T: int, m: int) -> float:
    """Largest chord-rule error of m equal segments over offsets o (ascending) in 0..2^T-1
    with targets t (unique o)."""
    k = (o * m) >> T
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(o)] - 1
    span = np.maximum(o[ends] - o[starts], 1)
    c = (t[ends] - t[starts]) / span
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(o)]))
    r = t - c[seg] * (o - o[starts][seg])
    return float(((np.maximum.reduceat(r, starts) - np.minimum.reduceat(r, starts)) / 2).max())


@dataclass(eq=False)
class Regions:
    """The regions of one region width r over a domain, with a memo of each region's
    estimated error for each segment count."""

    bits: int
    r: int
    offsets: list[np.ndarray]  # per region: unique offsets o
    targets: list[np.ndarray]  # per region: target (midrange where a fold repeats an input)
    spread: list[float]  # per region: half the largest spread of targets at one input
    memo: list[dict[int, float]] = field(default_factory=list)

    @classmethod
    def of(cls, domain: FitDomain, r: int) -> Regions:
        v, t = domain.core_inputs, domain.ideal
        u, first = np.unique(v, return_index=True)
        lo = np.minimum.reduceat(t, first)
        hi = np.maximum.reduceat(t, first)
        mid = (lo + hi) / 2
        T = domain.bits - r
        j = u >> T
        cuts = np.searchsorted(j, np.arange((1 << r) + 1))
        offs, tgts, spr = [], [], []
        for a, b in zip(cuts[:-1], cuts[1:]):
            offs.append(u[a:b] & ((1 << T) - 1))
            tgts.append(mid[a:b])
            spr.append(float((hi[a:b] - lo[a:b]).max() / 2) if b > a else 0.0)
        return cls(domain.bits, r, offs, tgts, spr, [{} for _ in offs])

    @property
    def shift(self) -> int:
        return self.bits - self.r

    @property
    def count(self) -> int:
        return 1 << self.r

    def error(self, j: int, m: int) -> float:
        """Estimated max error of region j split into m segments."""
        got = self.memo[j].get(m)
        if got is None:
            o, t = self.offsets[j], self.targets[j]
            got = (_chord_error(o, t, self.shift, m) if len(o) > 1 else 0.0) + self.spread[j]
            self.memo[j][m] = got
        return got

    def fewest(self, j: int, eps: float, pow2: bool, cap: int) -> int:
        """The fewest segments (up to cap) whose estimate is within eps: bisection on the
        count (the estimate falls with the count, if not strictly), or doubling."""
        if pow2:
            m = 1
            while m < cap and self.error(j, m) > eps:
                m *= 2
            return m
        lo, hi = 1, cap
        while lo < hi:
            mid = (lo + hi) // 2
            if self.error(j, mid) <= eps:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def counts(self, eps: float, pow2: bool, cap: int) -> list[int]:
        return [self.fewest(j, eps, pow2, cap) for j in range(self.count)]

    def estimate(self, counts: list[int]) -> float:
        return max(self.error(j, m) for j, m in enumerate(counts))


def allocate(regions: Regions, fits, pow2: bool, max_segments: int) -> list[int] | None:
    """Segment counts that fit (``fits(counts)``), balancing the estimated error: bisection
    on the bound, then leftover segments to the worst regions. None when even one segment
    per region does not fit."""
    cap = 1 << regions.shift
    if pow2:
        cap = 1 << (cap.bit_length() - 1)
    cap = min(cap, max_segments)
    ones = [1] * regions.count
    if not fits(ones):
        return None

    def cover(eps: float) -> list[int] | None:
        c = regions.counts(eps, pow2, cap)
        return c if fits(c) else None

    top = regions.estimate(ones)
    _, best = bisect_bound(cover, 0.0, top, lambda lo, hi: hi - lo <= 1e-3 * hi + 1e-9, ones,
                           max_steps=40)
    counts = list(best or ones)
    while True:  # spend what is left on the worst region, one step at a time
        order = sorted(range(regions.count), key=lambda j: -regions.error(j, counts[j]))
        for j in order:
            trial = list(counts)
            trial[j] = counts[j] * 2 if pow2 else counts[j] + 1
            if trial[j] <= cap and fits(trial) and \
                    regions.error(j, trial[j]) < regions.error(j, counts[j]):
                counts = trial
                break
        else:
            return counts


# --- the knot fit ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Geometry:
    """Where every fitted point falls: knot index i (segment), weight w of knot i + 1, the
    integer position f, and the segment boundaries in point order."""

    i: np.ndarray
    f: np.ndarray
    w: np.ndarray
    shift: int
    knots: int
    seg_starts: np.ndarray  # first point of each non-empty segment
    seg_ids: np.ndarray  # the segment (knot index) of each of those groups


def geometry(v: np.ndarray, bits: int, r: int, counts: list[int]) -> Geometry:
    T = bits - r
    m = np.asarray(counts, dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(m)])
    j = v >> T
    p = (v & ((1 << T) - 1)) * m[j]
    i = base[j] + (p >> T)
    f = p & ((1 << T) - 1)
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    return Geometry(i, f, f / 2.0**T, T, int(base[-1]) + 1, starts, i[starts])


def _interp(g: Geometry, K: np.ndarray) -> np.ndarray:
    return K[g.i] * (1 - g.w) + K[g.i + 1] * g.w


def _minimax(g: Geometry, t: np.ndarray) -> tuple[np.ndarray, float]:
    """Real minimax knots by linear programming with cutting planes."""
    import scipy.sparse as sps
    from scipy.optimize import linprog

    n = len(t)
    sizes = np.diff(np.r_[g.seg_starts, n])
    pick = [g.seg_starts + (sizes - 1) * q // (_INITIAL_POINTS - 1)
            for q in range(_INITIAL_POINTS)]
    sel = np.unique(np.concatenate(pick))
    scale = max(1.0, float(np.abs(t).max()))
    N = g.knots
    c = np.zeros(N + 1)
    c[-1] = 1.0
    seg_of = np.repeat(np.arange(len(g.seg_starts)), sizes)
    pos = np.arange(n)
    for _ in range(60):
        m = len(sel)
        w = g.w[sel]
        rows = np.arange(2 * m)
        cols = np.r_[g.i[sel], g.i[sel] + 1]
        # rows 0..m-1: interp - e <= t; rows m..2m-1: -interp - e <= -t
        A_ub = sps.csr_matrix(
            (np.r_[1 - w, w, -(1 - w), -w, -np.ones(2 * m)],
             (np.r_[rows[:m], rows[:m], rows[m:], rows[m:], rows],
              np.r_[cols, cols, np.full(2 * m, N)])), shape=(2 * m, N + 1))
        res = linprog(c, A_ub=A_ub, b_ub=np.r_[t[sel], -t[sel]],
                      bounds=[(None, None)] * N + [(0, None)], method="highs")
        if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
            raise RuntimeError(f"knot LP failed: {res.message}")
        K, e = res.x[:N], float(res.x[-1])
        dev = np.abs(_interp(g, K) - t)
        bad = dev > e + 1e-9 * scale
        if not bad.any():
            return K, e
        # the worst violator of every segment that has one
        top = np.maximum.reduceat(dev, g.seg_starts)
        at = np.flatnonzero(dev == top[seg_of])
        first = at[np.r_[True, seg_of[at][1:] != seg_of[at][:-1]]]
        new = first[bad[first]]
        sel = np.union1d(sel, new if len(new) else pos[bad][:1])
    return K, e  # pragma: no cover - cutting planes converge long before


def _least_squares(g: Geometry, t: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Least-squares knots (tridiagonal normal equations; a tiny pull towards ``prior``
    keeps knots that no point weighs determined)."""
    from scipy.linalg import solveh_banded

    N = g.knots
    a, b = 1 - g.w, g.w
    diag = np.bincount(g.i, a * a, N) + np.bincount(g.i + 1, b * b, N)
    off = np.bincount(g.i, a * b, N)[:-1]
    rhs = np.bincount(g.i, a * t, N) + np.bincount(g.i + 1, b * t, N)
    mu = 1e-9 * max(1.0, float(diag.max()))
    ab = np.zeros((2, N))
    ab[0, 1:] = off
    ab[1] = diag + mu
    return solveh_banded(ab, rhs + mu * prior)


def _blend(g: Geometry, t: np.ndarray, k_max: np.ndarray, k_mse: np.ndarray,
           bound: float) -> np.ndarray:
    """The point nearest the least-squares knots on the segment to the minimax knots whose
    max error is within ``bound``."""
    def worst(lam: float) -> float:
        return float(np.abs(_interp(g, k_max + lam * (k_mse - k_max)) - t).max())

    if worst(1.0) <= bound:
        return k_mse
    lo, hi = 0.0, 1.0  # worst(lo) <= bound (the minimax knots), worst(hi) > bound
    for _ in range(30):
        mid = (lo + hi) / 2
        if worst(mid) <= bound:
            lo = mid
        else:
            hi = mid
    return k_max + lo * (k_mse - k_max)


def _outputs(g: Geometry, K: np.ndarray, frac: int) -> np.ndarray:
    k0 = K[g.i]
    acc = (k0 << g.shift) + (K[g.i + 1] - k0) * g.f
    return (acc + (1 << (frac - 1))) >> frac


def _segment_costs(g: Geometry, err: np.ndarray, objective: str, bound: float) -> np.ndarray:
    """Per knot index (segment): the cost the local search compares."""
    N = g.knots
    a = np.abs(err)
    mx = np.zeros(N)
    mx[g.seg_ids] = np.maximum.reduceat(a, g.seg_starts)
    if objective == "max":
        return mx
    sq = np.zeros(N)
    sq[g.seg_ids] = np.add.reduceat(err * err, g.seg_starts)
    if objective == "mse":
        return sq
    return sq + 1e12 * np.maximum(mx - bound, 0.0)


def _local_search(g: Geometry, t: np.ndarray, K: np.ndarray, frac: int, objective: str,
                  bound: float, window: tuple[int, int] | None, sweeps: int = 40) -> np.ndarray:
    K = K.copy()
    N = len(K)
    idx = np.arange(N)
    for _ in range(sweeps):
        moved = False
        for parity in (0, 1):
            mine = (idx % 2) == parity
            costs = []
            for delta in (0, -1, 1):
                Kd = np.where(mine, K + delta, K)
                if window is not None:
                    Kd = np.clip(Kd, *window)
                seg = _segment_costs(g, _outputs(g, Kd, frac) - t, objective, bound)
                left = np.r_[0.0, seg[:-1]]
                costs.append(np.maximum(seg, left) if objective == "max" else seg + left)
            cost = np.array(costs)
            best = np.argmin(cost, axis=0)
            better = cost[best, idx] < cost[0] * (1 - 1e-12) - 1e-15
            step = np.where(mine & better, np.array([0, -1, 1])[best], 0)
            if step.any():
                K = K + step
                if window is not None:
                    K = np.clip(K, *window)
                moved = True
        if not moved:
            break
    return K


@dataclass(frozen=True, eq=False)
class KnotFit:
    core: KnotCore
    real_error: float  # the real (unrounded) fit's max error, output LSBs


def fit_knots(domain: FitDomain, r: int, counts: list[int], value_frac: int, objective: str,
              bound: float | None = None, knot_bits: int | None = None) -> KnotFit:
    """Fit the knots of ``counts`` segments per region (2^r regions) for the objective
    (``both``: least squares within ``bound``, the max error allowed, output LSBs; without a
    bound, the minimax error of these segments). ``knot_bits``: store every knot in that
    many bits (clamped to a window above the lowest)."""
    v, t = domain.core_inputs, domain.ideal
    g = geometry(v, domain.bits, r, counts)
    k_max, e = _minimax(g, t)
    if objective == "max":
        k_real = k_max
    else:
        k_mse = _least_squares(g, t, k_max)
        if objective == "mse":
            k_real = k_mse
        else:
            limit = e if bound is None else max(bound - 0.5, e)  # room left by the rounding
            k_real = _blend(g, t, k_max, k_mse, limit)
    scale = 2.0**value_frac
    K = np.floor(k_real * scale + 0.5).astype(np.int64)
    window = None
    if knot_bits is not None and int(K.max() - K.min()).bit_length() > knot_bits:
        lo = int(K.min())
        window = (lo, lo + (1 << knot_bits) - 1)
        K = np.clip(K, *window)
    frac = g.shift + value_frac
    limit = float("inf") if bound is None else bound
    if objective == "both" and bound is None:
        limit = float(np.abs(_outputs(g, np.floor(k_max * scale + 0.5).astype(np.int64), frac)
                             - t).max())
    K = _local_search(g, t, K, frac, objective, limit, window)
    core = KnotCore(in_bits=domain.bits, region_bits=r, counts=tuple(int(m) for m in counts),
                    knots=tuple(int(k) for k in K), value_frac=value_frac)
    return KnotFit(core, e)


def knot_core(domain: FitDomain, r: int, counts: list[int], value_frac: int, objective: str,
              bound: float | None = None) -> KnotCore:
    """``fit_knots`` for when only the core matters."""
    return fit_knots(domain, r, counts, value_frac, objective, bound).core
