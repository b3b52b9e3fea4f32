"""The crossbar engine compiled with numba (CPU, parallel over the batch rows): the same
computation as ``engine.matmul``'s generic form (slices, partial sums, every skip rule,
table, random position, shift and per-slice lsb ratio), fused into one pass per batch row
so that no per-conversion array is materialised. Importing this module raises ImportError
when numba is not installed; the engine then uses the generic form. Tests check that both
agree bit for bit.

The partial sums are bit-plane popcounts instead of a GEMM: the inputs' slices are packed
into 64-bit words per (row, sub-array, input slice, DAC bit), the weights' cells per
(sub-array, weight slice, cell bit, word, column), positive and negative sides apart, so
ps = sum over DAC bits a and cell bits c of 2^(a+c) (popcount(x & w+) - popcount(x & w-)).
A 128-row partial sum of 1-bit slices is four popcounts instead of 128 multiply-adds.

Why numba: the generic form costs a float32 GEMM for every (input slice, weight slice)
pair and about ten full passes over the partial sums (index, gather, hash, compare, skip,
shift, sum); fused and popcounted, a conversion costs a few nanoseconds
(benchmarks/adc_speed.py measures both).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from .engine import GOLDEN, MIX1, MIX2, MODE_CODES, ConversionTable

# numba's default OpenMP layer brings a second OpenMP runtime beside PyTorch's: their
# spinning thread pools fight over the cores and every torch operation after a kernel runs
# ten times slower (measured: torch.round on 512x512 from 0.8 ms to 15 ms). The workqueue
# layer has no such pool; it must not be entered by two threads at once, hence _LOCK. A
# layer chosen by the user (NUMBA_THREADING_LAYER) is kept.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
_LOCK = threading.Lock()
GUIDE_BITS = 8  # the MTJ guide table's buckets of the 32-bit uniform

if TYPE_CHECKING:  # pragma: no cover
    from .crossbar import Crossbar

__all__ = ["crossbar_numba", "partial_sum_stats", "set_threads"]

_G = np.uint64(GOLDEN)
_M1 = np.uint64(MIX1)
_M2 = np.uint64(MIX2)


@intrinsic
def _popcount(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


@njit(inline="always")
def _uniform(key: Any, c: Any) -> Any:  # pragma: no cover - compiled
    z = key + (np.uint64(c) + np.uint64(1)) * _G
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return np.int64(z >> np.uint64(32))


@njit(inline="always")
def _value(v: Any, c: Any, key: Any, vmin: Any, size: Any, off: Any, ident: Any, stoch: Any,
           values: Any, thr: Any, guide: Any, gain: Any,
           offset: Any) -> Any:  # pragma: no cover - compiled
    """The decoded integer of partial sum v through one slice's table (scalars hoisted by
    the caller: stores to y might alias the arrays, so LLVM would reload them)."""
    if ident:
        return v
    idx = min(max(v - vmin, 0), size - 1)  # saturation: no data-dependent branch
    if stoch:
        # code = #{k: t_k <= u}: the guide gives it for u's top GUIDE_BITS bits unless a
        # threshold falls inside that bucket (flag 128, probability below T / 2^GUIDE_BITS);
        # then the thresholds are counted, without a data-dependent branch
        u = _uniform(key, c)
        base = off + idx
        code = np.int64(guide[base, u >> (32 - GUIDE_BITS)])
        if code >= 128:
            code = np.int64(0)
            for k in range(thr.shape[1]):
                code += thr[base, k] <= u
        return gain * code - offset
    return values[off + idx]


@njit(parallel=True, cache=True)
def _pack_x(x, R, rows, J, db, words):  # pragma: no cover - compiled
    """(B, R, J, db, words) uint64: bit i of word k of DAC bit a holds bit j db + a of the
    input in row 64 k + i of sub-array r (rows beyond the inputs are zero)."""
    B, n = x.shape
    out = np.zeros((B, R, J, db, words), dtype=np.uint64)
    for b in prange(B):
        for r in range(R):
            for k in range(words):
                start = r * rows + 64 * k
                stop = min(n, r * rows + min(rows, 64 * (k + 1)))
                for j in range(J):
                    for a in range(db):
                        sh = j * db + a
                        word = np.uint64(0)
                        for i in range(start, stop):
                            word |= np.uint64((x[b, i] >> sh) & 1) << np.uint64(i - start)
                        out[b, r, j, a, k] = word
    return out


@njit(parallel=True, cache=True)
def _pack_w(wt, R, rows, S, cb, words, differential, bias):  # pragma: no cover - compiled
    """(w+, w-, zero columns) of wt (out, in): (R, S, cb, words, out) uint64 bit planes of
    the cells of the positive and negative sides (w + bias for the offset scheme, no
    negative side), and (R, S, out) whether a weight slice's column is all zero on the
    sub-array."""
    N, n = wt.shape
    wp = np.zeros((R, S, cb, words, N), dtype=np.uint64)
    wn = np.zeros((R, S, cb, words, N), dtype=np.uint64)
    zero = np.ones((R, S, N), dtype=np.bool_)
    for o in prange(N):
        for r in range(R):
            for k in range(words):
                start = r * rows + 64 * k
                stop = min(n, r * rows + min(rows, 64 * (k + 1)))
                for s in range(S):
                    for c in range(cb):
                        sh = s * cb + c
                        p = np.uint64(0)
                        q = np.uint64(0)
                        for i in range(start, stop):
                            v = wt[o, i]
                            if differential:
                                pos = max(v, 0)
                                neg = max(-v, 0)
                            else:
                                pos = v + bias
                                neg = 0
                            p |= np.uint64((pos >> sh) & 1) << np.uint64(i - start)
                            q |= np.uint64((neg >> sh) & 1) << np.uint64(i - start)
                        wp[r, s, c, k, o] = p
                        wn[r, s, c, k, o] = q
                        if p != 0 or q != 0:
                            zero[r, s, o] = False
    return wp, wn, zero


@njit(inline="always")
def _partial_sums(xw, b, r, j, wp, wn, s, db, cb, words, neg, buf):  # pragma: no cover
    """buf[o] = ps of (row b, sub-array r, input slice j, weight slice s, column o): the
    bit planes' popcounts, words of zero input skipped."""
    for o in range(buf.shape[0]):
        buf[o] = 0
    for a in range(db):
        for k in range(words):
            xv = xw[b, r, j, a, k]
            if xv == 0:
                continue
            for c in range(cb):
                rp = wp[r, s, c, k]
                sh = a + c
                if neg:
                    rn = wn[r, s, c, k]
                    for o in range(buf.shape[0]):
                        buf[o] += (np.int64(_popcount(xv & rp[o]))
                                   - np.int64(_popcount(xv & rn[o]))) << sh
                else:
                    for o in range(buf.shape[0]):
                        buf[o] += np.int64(_popcount(xv & rp[o])) << sh


@njit(inline="always")
def _input_sum(xw, b, r, j, db, words):  # pragma: no cover - compiled
    total = 0
    for a in range(db):
        for k in range(words):
            total += np.int64(_popcount(xw[b, r, j, a, k])) << a
    return total


@njit(parallel=True, cache=True)
def _fused(xw, wp, wn, neg, wz, S, N, db, cb, mode, has_ref, ref_cell, rs, vmin, size, off,
           ident, stoch, values, thr, guide, gain, offset, ratio, lo, hi, key, b0, y, xzero,
           clamped):  # pragma: no cover - compiled
    B, R, J = xw.shape[0], xw.shape[1], xw.shape[2]
    words = xw.shape[4]
    for b in prange(B):
        gb = b0 + b
        buf = np.empty(N, dtype=np.int64)
        acc = np.zeros(N, dtype=np.int64)
        outside = 0
        for j in range(J):
            vmin_j, size_j, off_j = vmin[j], size[j], off[j]
            ident_j, stoch_j, gain_j, offset_j = ident[j], stoch[j], gain[j], offset[j]
            ratio_j, lo_j, hi_j = ratio[j], lo[j], hi[j]
            for r in range(R):
                xs = _input_sum(xw, b, r, j, db, words)
                if xs == 0:
                    xzero[b, j] += 1
                    if mode == 1:
                        continue  # the input slice is all zero on this sub-array
                first = (((gb * R + r) * J + j) * S) * N
                for s in range(S):
                    sh = s * cb + j * db
                    _partial_sums(xw, b, r, j, wp, wn, s, db, cb, words, neg, buf)
                    for o in range(N):
                        if mode == 1 and wz[r, s, o]:
                            continue
                        v = buf[o]
                        if mode == 2 and v == 0:
                            continue
                        outside += (v < lo_j) | (v > hi_j)
                        val = _value(v, first + s * N + o, key, vmin_j, size_j, off_j,
                                     ident_j, stoch_j, values, thr, guide, gain_j, offset_j)
                        acc[o] += (val * ratio_j) << sh
                if has_ref:
                    v = xs * ref_cell
                    if mode != 0 and v == 0:
                        continue
                    val = _value(v, -1 - ((gb * R + r) * J + j), key, vmin_j, size_j, off_j,
                                 ident_j, stoch_j, values, thr, guide, gain_j, offset_j)
                    for o in range(N):
                        acc[o] -= (val * ratio_j) << (rs + j * db)
        for o in range(N):
            y[b, o] = acc[o]
        clamped[b] = outside


@njit(parallel=True, cache=True)
def _stats(xw, wp, wn, neg, wz, S, N, db, cb, mode, sq, count):  # pragma: no cover
    B, R, J = xw.shape[0], xw.shape[1], xw.shape[2]
    words = xw.shape[4]
    for b in prange(B):
        buf = np.empty(N, dtype=np.int64)
        for j in range(J):
            total = 0.0
            n = 0
            for r in range(R):
                if mode == 1 and _input_sum(xw, b, r, j, db, words) == 0:
                    continue
                for s in range(S):
                    _partial_sums(xw, b, r, j, wp, wn, s, db, cb, words, neg, buf)
                    for o in range(N):
                        v = buf[o]
                        live = not ((mode == 1 and wz[r, s, o]) or (mode == 2 and v == 0))
                        total += np.float64(v * v) * live
                        n += live
            sq[b, j] = total
            count[b, j] = n


def set_threads(threads: int) -> None:
    """numba's threads for the next calls (at most its configured maximum)."""
    top = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(int(threads), top)))


@functools.lru_cache(maxsize=64)
def _guide(table: ConversionTable) -> np.ndarray:
    """(n, 2^GUIDE_BITS) uint8: per partial sum and bucket of u's top bits, the code
    #{k: t_k <= u} at the bucket's first u, or 128 when a threshold lies inside the bucket
    (the kernel then counts)."""
    width = 1 << (32 - GUIDE_BITS)
    starts = np.arange(1 << GUIDE_BITS, dtype=np.int64) * width
    thr = table.thresholds
    code = (thr[:, None, :] <= starts[None, :, None]).sum(-1).astype(np.uint8)
    inside = (thr % width != 0) & (thr < (1 << 32))
    rows, cols = np.nonzero(inside)
    code[rows, thr[rows, cols] // width] = 128
    return code


def _packed(x: np.ndarray, w: np.ndarray, xb: Crossbar) -> tuple[Any, ...]:
    n = x.shape[1]
    R = xb.subarrays(n)
    words = (xb.rows + 63) // 64
    bias = (1 << (xb.weight_bits - 1)) if xb.offset else 0
    with _LOCK:
        xw = _pack_x(np.ascontiguousarray(x, dtype=np.int64), R, xb.rows, xb.input_slices,
                     xb.dac_bits, words)
        wp, wn, wz = _pack_w(np.ascontiguousarray(w.T, dtype=np.int64), R, xb.rows,
                             xb.weight_slices, xb.cell_bits, words, xb.differential, bias)
    return xw, wp, wn, wz


def crossbar_numba(x: np.ndarray, w: np.ndarray, xb: Crossbar, mode: str,
                   tables: Sequence[ConversionTable], ratios: Sequence[int],
                   ranges: Sequence[tuple[float, float]], key: int, b0: int = 0
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """The engine's combined integer result y (batch, out) int64 of integer x (batch, in) @ w
    (in, out) through one table per input slice, and the statistics of the pass: per input
    slice the fraction of (sub-array, row) reads whose slice is all zero, the fraction of
    weight-slice columns all zero on their sub-array, and the fraction of converted partial
    sums outside their slice's ``ranges``."""
    xw, wp, wn, wz = _packed(x, w, xb)
    J = len(tables)
    B, R = xw.shape[0], xw.shape[1]
    S, N = xb.weight_slices, w.shape[1]
    sizes = np.array([t.size for t in tables], dtype=np.int64)
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    samples = {t.samples for t in tables}
    if len(samples) > 1:
        raise ValueError("the slices' converters must share T")
    thr = np.zeros((int(sizes.sum()), samples.pop()), dtype=np.int64)
    values = np.zeros(int(sizes.sum()), dtype=np.int64)
    guide = np.zeros((int(sizes.sum()) if thr.shape[1] else 0, 1 << GUIDE_BITS),
                     dtype=np.uint8)
    for t, o in zip(tables, offs):
        if t.samples:
            thr[o:o + t.size] = t.thresholds
            guide[o:o + t.size] = _guide(t)
        elif not t.identity:
            values[o:o + t.size] = t.values
    y = np.empty((B, N), dtype=np.int64)
    xzero = np.zeros((B, J), dtype=np.int64)
    clamped = np.zeros(B, dtype=np.int64)
    with _LOCK:
            _fused(xw, wp, wn, xb.differential, wz, S, N, xb.dac_bits, xb.cell_bits,
               MODE_CODES[mode], xb.offset, xb.ref_cell, xb.ref_slice * xb.cell_bits,
               np.array([t.vmin for t in tables], dtype=np.int64), sizes, offs,
               np.array([t.identity for t in tables], dtype=np.bool_),
               np.array([t.samples > 0 for t in tables], dtype=np.bool_), values, thr,
               guide, np.array([t.gain for t in tables], dtype=np.int64),
               np.array([t.offset for t in tables], dtype=np.int64),
               np.array(ratios, dtype=np.int64), np.array([r[0] for r in ranges]),
               np.array([r[1] for r in ranges]), np.uint64(key % (1 << 64)), b0, y, xzero,
               clamped)
    total = B * R * J * S * N
    stats = {"input_zero": (xzero.sum(0) / max(1, B * R)).tolist(),
             "column_zero": float(wz.mean()) if wz.size else 0.0,
             "clamped": float(clamped.sum()) / max(1, total)}
    return y, stats


def partial_sum_stats(x: np.ndarray, w: np.ndarray, xb: Crossbar, mode: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per input slice: the sum of squares of the partial sums the converters see (skipped
    ones left out) and their number (float64 arrays of J): the calibration's RMS."""
    xw, wp, wn, wz = _packed(x, w, xb)
    B, J = xw.shape[0], xw.shape[2]
    sq = np.zeros((B, J))
    count = np.zeros((B, J), dtype=np.int64)
    with _LOCK:
        _stats(xw, wp, wn, xb.differential, wz, xb.weight_slices, w.shape[1], xb.dac_bits,
               xb.cell_bits, MODE_CODES[mode], sq, count)
    return sq.sum(0), count.sum(0).astype(np.float64)
