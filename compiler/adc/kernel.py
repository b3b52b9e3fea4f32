"""The crossbar engine's conversion and accumulation compiled with numba (CPU, parallel over
the batch rows): the same computation as ``engine.convert_accumulate`` (every skip rule,
table, random position and shift), fused into one pass over the partial sums so that no
per-conversion array is materialised. Importing this module raises ImportError when numba
is not installed; ``engine`` then uses the generic form. Tests check that both agree bit for
bit.

Why numba: the generic form costs about ten full passes over the partial sums (index,
gather, hash, compare, skip, shift, sum), each as long as the float32 GEMM that produced
them; fused, a conversion costs a few nanoseconds (benchmarks/adc_speed.py measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from numba import njit, prange

from .engine import GOLDEN, MIX1, MIX2, MODE_CODES, ConversionTable

if TYPE_CHECKING:  # pragma: no cover
    from .crossbar import Crossbar

__all__ = ["convert_accumulate_numba", "set_threads"]

_G = np.uint64(GOLDEN)
_M1 = np.uint64(MIX1)
_M2 = np.uint64(MIX2)


@njit(inline="always")
def _uniform(key: Any, c: Any) -> Any:  # pragma: no cover - compiled
    z = key + (np.uint64(c) + np.uint64(1)) * _G
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return np.int64(z >> np.uint64(32))


@njit(inline="always")
def _value(v: Any, j: Any, c: Any, key: Any, vmin: Any, size: Any, off: Any, ident: Any,
           stoch: Any, values: Any, thr: Any, gain: Any, offset: Any) -> Any:  # pragma: no cover
    if ident[j]:
        return v
    idx = v - vmin[j]
    if idx < 0:
        idx = 0
    elif idx > size[j] - 1:
        idx = size[j] - 1
    if stoch[j]:
        # code = #{k: t_k <= u}, counted without a data-dependent branch (a search that stops
        # at the first threshold above u mispredicts on most conversions: 3x slower)
        u = _uniform(key, c)
        base = off[j] + idx
        code = 0
        for k in range(thr.shape[1]):
            code += thr[base, k] <= u
        return gain[j] * code - offset[j]
    return values[off[j] + idx]


@njit(parallel=True, cache=True)
def _kernel(ps, ref, has_ref, xz, wz, mode, vmin, size, off, ident, stoch, values, thr,
            gain, offset, cb, rs, key, b0, y):  # pragma: no cover - compiled
    J, B, N = y.shape
    R = ps.shape[0]
    S = wz.shape[1]
    for b in prange(B):
        gb = b0 + b
        for j in range(J):
            for o in range(N):
                y[j, b, o] = 0
            row = j * B + b
            for r in range(R):
                if mode == 1 and xz[j, r, b]:
                    continue  # the input slice is all zero on this sub-array
                first = (((gb * R + r) * J + j) * S) * N
                for s in range(S):
                    sh = s * cb
                    for o in range(N):
                        if mode == 1 and wz[r, s, o]:
                            continue
                        v = np.int64(ps[r, row, s * N + o])
                        if mode == 2 and v == 0:
                            continue
                        val = _value(v, j, first + s * N + o, key, vmin, size, off, ident,
                                     stoch, values, thr, gain, offset)
                        y[j, b, o] += val << sh
                if has_ref:
                    v = np.int64(ref[r, j, b])
                    if mode != 0 and v == 0:
                        continue
                    val = _value(v, j, -1 - ((gb * R + r) * J + j), key, vmin, size, off,
                                 ident, stoch, values, thr, gain, offset)
                    for o in range(N):
                        y[j, b, o] -= val << rs


def set_threads(threads: int) -> None:
    """numba's threads for the next calls (at most its configured maximum)."""
    top = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(int(threads), top)))


def convert_accumulate_numba(ps: np.ndarray, ref: np.ndarray | None, xz: np.ndarray,
                             wz: np.ndarray, mode: str, tables: Sequence[ConversionTable],
                             key: int, b0: int, xb: Crossbar) -> np.ndarray:
    """``engine.convert_accumulate`` for ps (R, J * batch, S * out) float32 (C order), ref
    (R, J, batch) or None, xz (J, R, batch), wz (R, S, out): y (J, batch, out) int64."""
    J = len(tables)
    R, rows_jb, cols = ps.shape
    B = rows_jb // J
    S = wz.shape[1]
    N = cols // S
    sizes = np.array([t.size for t in tables], dtype=np.int64)
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    samples = {t.samples for t in tables}
    if len(samples) > 1:
        raise ValueError("the slices' converters must share T")
    thr = np.zeros((int(sizes.sum()), samples.pop()), dtype=np.int64)
    values = np.zeros(int(sizes.sum()), dtype=np.int64)
    for t, o in zip(tables, offs):
        if t.samples:
            thr[o:o + t.size, :t.samples] = t.thresholds
        elif not t.identity:
            values[o:o + t.size] = t.values
    y = np.empty((J, B, N), dtype=np.int64)
    _kernel(np.ascontiguousarray(ps, dtype=np.float32),
            np.ascontiguousarray(ref, dtype=np.float32) if ref is not None
            else np.zeros((1, 1, 1), dtype=np.float32), ref is not None,
            np.ascontiguousarray(xz, dtype=np.bool_), np.ascontiguousarray(wz, dtype=np.bool_),
            MODE_CODES[mode], np.array([t.vmin for t in tables], dtype=np.int64), sizes, offs,
            np.array([t.identity for t in tables], dtype=np.bool_),
            np.array([t.samples > 0 for t in tables], dtype=np.bool_), values, thr,
            np.array([t.gain for t in tables], dtype=np.int64),
            np.array([t.offset for t in tables], dtype=np.int64), xb.cell_bits,
            xb.ref_slice * xb.cell_bits, np.uint64(key % (1 << 64)), b0, y)
    return y
