"""Breakpoint placement for segment tables (X_LUT / Y_LUT / DY_LUT): the exact optimum and
the gradient-error rule.

Points are the core inputs u (ascending, unique) with targets t (unrounded output codes); a
segment is a run of points [a, b) fitted by its own line. Costs:

- max: the minimax (Chebyshev) line error. On a convex or concave run it is the chord
  rule, exact and O(L): slope of the chord, offset halfway between the chord and the
  farthest point. Runs with an inflection (or with two targets at one input, which a folded
  domain's clamped extreme can produce) use a golden-section search on the slope, since the
  spread of the residuals is convex in the slope.
- mse: the least-squares line's sum of squared errors, O(1) from prefix sums.

``optimal_max`` is exact for the max objective: bisection on the error bound, each bound
tested by the greedy cover (from the left, each segment as long as the bound allows), which
needs the fewest segments for that bound because a sub-run of a feasible run is feasible.
``optimal_mse`` is dynamic programming over every core input, with the divide-and-conquer
speed-up (the best previous breakpoint is monotone in the segment end); tests check it
against the plain O(M N^2) program.

``gradient`` is GEBA's rule in our reading: the error of linear interpolation on [a, b] is
bounded by (b - a) * |f'(b) - f'(a)| / 4, the gradient error. With the slope's total variation
V in place of |f'(b) - f'(a)| (it also holds across inflection points), breakpoints are
placed so that every segment has the same gradient error: (b - a) * V for the max objective,
(b - a)^1.5 * V for the mean-squared one (segment SSE grows as L^5 f''^2). Then an exchange
pass moves each breakpoint to balance the measured error of its two segments (max), or to
the position that minimises their summed squared error (mse), until nothing moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .search import bisect_bound, exponential_reach, golden_min, greedy_cover

__all__ = ["Points", "optimal_max", "optimal_mse", "gradient_placement", "uniform_placement",
           "segment_errors"]

@dataclass(frozen=True, eq=False)
class Points:
    """Unique core inputs u with targets: lo/hi bound the targets at each u (equal unless a
    folded domain puts two codes on one input); n, st, stt aggregate them for least squares."""

    u: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: np.ndarray
    st: np.ndarray
    stt: np.ndarray
    x: np.ndarray  # geometry: the real coordinate of each u (u itself on integer grids)
    bits: int | None  # the core inputs are 0..2^bits - 1 (None: a float grid, see x)

    @classmethod
    def from_samples(cls, v: np.ndarray, t: np.ndarray, x: np.ndarray | None = None,
                     bits: int | None = None) -> Points:
        """Points from (core input, target) samples, v ascending, on the integer grid of
        ``bits``-bit core inputs; or, with ``x``, each sample's real coordinate on a grid
        that is not evenly spaced (float inputs)."""
        u, start = np.unique(v, return_index=True)
        lo = np.minimum.reduceat(t, start)
        hi = np.maximum.reduceat(t, start)
        n = np.diff(np.append(start, len(v))).astype(np.float64)
        st = np.add.reduceat(t, start)
        stt = np.add.reduceat(t * t, start)
        xs = u.astype(np.float64) if x is None else np.asarray(x, dtype=np.float64)[start]
        return cls(u.astype(np.int64), lo, hi, n, st, stt, xs, bits)

    def __len__(self) -> int:
        return len(self.u)


class _Costs:
    """Segment costs over a Points set, with the precomputation they share."""

    def __init__(self, p: Points):
        self.p = p
        self._memo: dict[tuple[int, int], float] = {}
        uf = p.x
        self.uf = uf
        mid = (p.lo + p.hi) / 2
        self.mid = mid
        scale = max(1.0, float(np.abs(mid).max()))
        # convexity: sign of the change of consecutive slopes, with a noise tolerance
        if len(p) >= 3:
            s = np.diff(mid) / np.diff(uf)
            ds = np.diff(s)
            tol = 1e-9 * scale / max(1.0, float(np.diff(uf).min()))
            pos = (ds > tol).astype(np.int64)
            neg = (ds < -tol).astype(np.int64)
        else:
            pos = neg = np.zeros(0, dtype=np.int64)
        self.cpos = np.concatenate([[0], np.cumsum(pos)])
        self.cneg = np.concatenate([[0], np.cumsum(neg)])
        split = (p.hi - p.lo > 1e-9 * scale).astype(np.int64)
        self.csplit = np.concatenate([[0], np.cumsum(split)])
        # least squares: prefix sums in centred coordinates
        c = uf.mean() if len(uf) else 0.0
        d = uf - c
        tc = float(mid.mean()) if len(mid) else 0.0
        st = p.st - p.n * tc
        stt = p.stt - 2 * tc * p.st + p.n * tc * tc
        self.P = [np.concatenate([[0.0], np.cumsum(a)]) for a in (
            p.n, p.n * d, p.n * d * d, st, d * st, stt)]
        # slope total variation, for the gradient error
        if len(p) >= 2:
            sl = np.gradient(mid, uf)
            self.tv = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(sl)))])
        else:
            self.tv = np.zeros(len(p))

    # --- max objective --------------------------------------------------------------------
    def max_error(self, a: int, b: int) -> float:
        """Minimax line error of points [a, b) (remembered: the exchange pass asks again)."""
        key = (a, b)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._max_error(a, b)
        return got

    def _max_error(self, a: int, b: int) -> float:
        if b - a <= 1:
            return float(self.p.hi[a] - self.p.lo[a]) / 2 if b > a else 0.0
        if self.csplit[b] - self.csplit[a] == 0:
            # interior slope changes lie in [a, b-2)
            hi = max(a, b - 2)
            convex = self.cneg[hi] - self.cneg[a] == 0
            concave = self.cpos[hi] - self.cpos[a] == 0
            if convex or concave:
                u = self.uf[a:b]
                t = self.mid[a:b]
                c = (t[-1] - t[0]) / (u[-1] - u[0])
                r = t - c * (u - u[0])
                return float(r.max() - r.min()) / 2
        return self._golden(a, b)

    def _golden(self, a: int, b: int) -> float:
        u = self.uf[a:b] - self.uf[a]
        lo_t, hi_t = self.p.lo[a:b], self.p.hi[a:b]
        du = np.diff(self.uf[a:b])
        ok = du > 0
        s = np.diff((lo_t + hi_t) / 2)[ok] / du[ok]
        if not len(s):
            return float((hi_t.max() - lo_t.min()) / 2)
        x0, x1 = float(s.min()), float(s.max())

        def spread(bb):
            return float((hi_t - bb * u).max() - (lo_t - bb * u).min())

        return golden_min(spread, x0, x1, 60)[1] / 2

    def longest(self, a: int, eps: float) -> int:
        """Largest b with max_error(a, b) <= eps (at least a + 1: one point always fits)."""
        return exponential_reach(a, len(self.p),
                                 lambda i, j: j == i + 1 or self.max_error(i, j) <= eps)

    # --- mse objective --------------------------------------------------------------------
    def sse(self, a, b):
        """Least-squares line SSE of points [a, b) (vectorised over arrays a, b)."""
        a = np.asarray(a)
        b = np.asarray(b)
        n, sd, sdd, st, sdt, stt = (q[b] - q[a] for q in self.P)
        with np.errstate(divide="ignore", invalid="ignore"):
            nn = np.where(n > 0, n, 1)
            vd = sdd - sd * sd / nn
            cv = sdt - sd * st / nn
            vt = stt - st * st / nn
            out = vt - np.where(vd > 1e-12, cv * cv / np.where(vd > 1e-12, vd, 1), 0.0)
        return np.maximum(out, 0.0)


def segment_errors(p: Points, starts_idx: list[int], objective: str) -> np.ndarray:
    c = _Costs(p)
    ends = list(starts_idx[1:]) + [len(p)]
    if objective == "mse":
        return c.sse(np.array(starts_idx), np.array(ends))
    return np.array([c.max_error(a, b) for a, b in zip(starts_idx, ends)])


def _greedy(c: _Costs, eps: float, limit: int) -> list[int] | None:
    return greedy_cover(len(c.p), limit, lambda a: c.longest(a, eps))


def _fill(c: _Costs, starts: list[int], segments: int) -> list[int]:
    """Use segments left over by an optimal cover: split the worst segment where its two
    halves' max errors balance (the maximum error cannot grow)."""
    starts = list(starts)
    n = len(c.p)
    while len(starts) < min(segments, n):
        ends = starts[1:] + [n]
        errs = [c.max_error(a, b) if b - a > 1 else -1.0 for a, b in zip(starts, ends)]
        k = int(np.argmax(errs))
        a, b = starts[k], ends[k]
        if b - a < 2:
            break
        lo, hi = a + 1, b - 1
        while hi > lo:  # first split point where the left half's error reaches the right's
            m = (lo + hi) // 2
            if c.max_error(a, m) >= c.max_error(m, b):
                hi = m
            else:
                lo = m + 1
        starts.insert(k + 1, lo)
    return starts


def optimal_max(p: Points, segments: int) -> list[int]:
    """Start indices of the segments (first 0) minimising the maximum error, exactly."""
    c = _Costs(p)
    n = len(p)
    if segments >= n:
        return list(range(n))
    hi = c.max_error(0, n)
    if hi == 0:
        return _fill(c, [0], segments)
    hi, best = bisect_bound(lambda eps: _greedy(c, eps, segments), 0.0, hi,
                           lambda lo, hi: hi - lo <= 1e-9 * max(hi, 1e-12), max_steps=64)
    if best is None:
        best = _greedy(c, hi, segments) or [0]
    return _fill(c, best, segments)


def _dc_layer(c: _Costs, prev: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One DP layer by divide and conquer: exact when the best split is monotone in the
    segment end; otherwise an upper bound (every value is the cost of a real solution)."""
    cur = np.full(n + 1, np.inf)
    arg = np.zeros(n + 1, dtype=np.int64)
    jl, jh = np.array([1]), np.array([n])
    ol, oh = np.array([0]), np.array([n - 1])
    while len(jl):
        mid = (jl + jh) // 2
        top = np.minimum(oh, mid - 1)
        cnt = np.maximum(top - ol + 1, 0)
        first = np.cumsum(cnt) - cnt
        tid = np.repeat(np.arange(len(jl)), cnt)
        i = ol[tid] + np.arange(int(cnt.sum())) - first[tid]
        val = prev[i] + c.sse(i, mid[tid])
        has = cnt > 0
        best_v = np.full(len(jl), np.inf)
        best_i = ol.copy()
        if len(val):
            best_v[has] = np.minimum.reduceat(val, first[has])
            hit = np.flatnonzero(val == best_v[tid])
            groups, pos = np.unique(tid[hit], return_index=True)
            best_i[groups] = i[hit[pos]]
        cur[mid[has]] = best_v[has]
        arg[mid[has]] = best_i[has]
        left = jl <= mid - 1
        right = mid + 1 <= jh
        jl, jh, ol, oh = (
            np.concatenate([jl[left], (mid + 1)[right]]),
            np.concatenate([(mid - 1)[left], jh[right]]),
            np.concatenate([ol[left], best_i[right]]),
            np.concatenate([best_i[left], oh[right]]),
        )
    return cur, arg


def _exact_layer(c: _Costs, prev: np.ndarray, n: int, chunk: int = 1 << 22):
    """One DP layer, exact: the divide-and-conquer values bound each cell from above, and
    only splits i with prev[i] <= bound (prev ascends) and sse(i, j) <= bound (sse falls
    as i grows) can beat it; those windows are searched in full."""
    bound, arg = _dc_layer(c, prev, n)
    cur = bound.copy()
    j = np.arange(1, n + 1)
    ub = bound[1:] * (1 + 1e-12) + 1e-9
    hi = np.searchsorted(prev, ub, side="right") - 1  # last i with prev[i] <= ub
    hi = np.minimum(hi, j - 1)
    # first i with sse(i, j) <= ub: binary search, vectorised over j
    lo_i = np.zeros(n, dtype=np.int64)
    top = j - 1
    for _ in range(int(n).bit_length() + 1):
        m = (lo_i + top) // 2
        ok = c.sse(m, j) <= ub
        top = np.where(ok, m, top)
        lo_i = np.where(ok, lo_i, m + 1)
    lo_i = np.minimum(lo_i, top)
    cnt = np.maximum(hi - lo_i + 1, 0)
    order = np.arange(n)
    start = 0
    while start < n:  # bounded memory: chunks of cells
        stop = start + 1
        total = cnt[start]
        while stop < n and total + cnt[stop] <= chunk:
            total += cnt[stop]
            stop += 1
        sel = order[start:stop]
        cc = cnt[sel]
        if cc.sum():
            first = np.cumsum(cc) - cc
            tid = np.repeat(np.arange(len(sel)), cc)
            i = lo_i[sel][tid] + np.arange(int(cc.sum())) - first[tid]
            jj = j[sel][tid]
            val = prev[i] + c.sse(i, jj)
            has = cc > 0
            mins = np.minimum.reduceat(val, first[has])
            cells = j[sel][has]
            better = mins < cur[cells]
            hit = np.flatnonzero(val == np.repeat(_expand(mins, has), cc))
            groups, pos = np.unique(tid[hit], return_index=True)
            first_i = np.zeros(len(sel), dtype=np.int64)
            first_i[groups] = i[hit[pos]]
            upd = cells[better]
            cur[upd] = mins[better]
            arg[upd] = first_i[has][better]
        start = stop
    return cur, arg


def _expand(mins: np.ndarray, has: np.ndarray) -> np.ndarray:
    out = np.full(len(has), np.inf)
    out[has] = mins
    return out


def optimal_mse(p: Points, segments: int, exact: bool = False) -> list[int]:
    """Start indices minimising the total squared error by dynamic programming over every
    core input. Default: divide and conquer per layer, then the exchange pass (it only
    lowers the error); measured within 0.3 % of the exact program (tests/test_geba.py).
    ``exact``: every layer proved exact by bounded windows (_exact_layer): exact, but
    minutes at 16 bits."""
    c = _Costs(p)
    n = len(p)
    if segments >= n:
        return list(range(n))
    prev = c.sse(np.zeros(n + 1, dtype=np.int64), np.arange(n + 1))
    layer = _exact_layer if exact else _dc_layer
    args = []
    for _k in range(2, segments + 1):
        prev, arg = layer(c, prev, n)
        args.append(arg)
    starts, j = [], n
    for arg in reversed(args):
        j = int(arg[j])
        starts.append(j)
    starts.append(0)
    starts = sorted(set(starts))
    return starts if exact else _exchange(c, starts, "mse", 30)


def uniform_placement(p: Points, segments: int) -> list[int]:
    """Breakpoints evenly spaced over the core inputs [0, 2^bits), or over the real
    coordinate's range on a float grid."""
    if p.bits is not None:
        edges = (np.arange(segments, dtype=np.float64) * (1 << p.bits) / segments)
        idx = np.searchsorted(p.u, edges.astype(np.int64), side="left")
    else:
        lo, hi = float(p.x[0]), float(p.x[-1])
        edges = lo + np.arange(segments, dtype=np.float64) * (hi - lo) / segments
        idx = np.searchsorted(p.x, edges, side="left")
    return sorted(set(int(i) for i in idx if i < len(p)) | {0})


def gradient_placement(p: Points, segments: int, objective: str, refine: int = 30) -> list[int]:
    """GEBA: equal gradient error per segment, then exchange refinement (module docstring)."""
    c = _Costs(p)
    n = len(p)
    if segments >= n:
        return list(range(n))
    power = 1.5 if objective == "mse" else 1.0

    def g(a, b):
        return (c.uf[b - 1] - c.uf[a]) ** power * (c.tv[b - 1] - c.tv[a])

    def reach(a: int, level: float) -> int:
        lo, hi = a + 1, n  # largest b with g(a, b) <= level
        while hi > lo:
            m = (lo + hi + 1) // 2
            if g(a, m) <= level:
                lo = m
            else:
                hi = m - 1
        return lo

    def cover(level: float) -> list[int] | None:
        return greedy_cover(n, segments, lambda a: reach(a, level))

    top = float(g(0, n))
    _, found = bisect_bound(cover, 0.0, top, lambda lo, hi: hi - lo <= 1e-9 * max(hi, 1e-300),
                            cover(top) or [0], max_steps=60)
    best = found or [0]
    starts = _fill(c, best, segments) if objective != "mse" else _fill_even(best, segments, n)
    return _exchange(c, starts, objective, refine)


def _fill_even(starts: list[int], segments: int, n: int) -> list[int]:
    starts = list(starts)
    while len(starts) < min(segments, n):
        ends = starts[1:] + [n]
        k = int(np.argmax([b - a for a, b in zip(starts, ends)]))
        a, b = starts[k], ends[k]
        if b - a < 2:
            break
        starts.insert(k + 1, (a + b) // 2)
    return starts


def _exchange(c: _Costs, starts: list[int], objective: str, sweeps: int) -> list[int]:
    n = len(c.p)
    s = list(starts)
    for _ in range(sweeps):
        moved = False
        for k in range(1, len(s)):
            a = s[k - 1]
            b = s[k + 1] if k + 1 < len(s) else n
            if b - a < 3:
                continue
            if objective == "mse":
                cand = np.arange(a + 1, b)
                tot = c.sse(np.full(len(cand), a), cand) + c.sse(cand, np.full(len(cand), b))
                best = int(cand[int(np.argmin(tot))])
            else:
                lo, hi = a + 1, b - 1
                while hi > lo:
                    m = (lo + hi) // 2
                    if c.max_error(a, m) >= c.max_error(m, b):
                        hi = m
                    else:
                        lo = m + 1
                # lo: first split where the left error reaches the right; lo - 1 may be better
                opts = [x for x in (lo - 1, lo) if a < x < b]
                best = min(opts, key=lambda x: max(c.max_error(a, x), c.max_error(x, b)))
            if best != s[k]:
                s[k] = best
                moved = True
        if not moved:
            break
    return s
