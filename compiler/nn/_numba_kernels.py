"""The numba source of ``kernels`` (imported only through ``kernels._kernel``, which falls
back to torch when numba is missing). Compiled for the host CPU at first use and cached on
disk next to this file (or in numba's user cache directory when that is not writable)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["table_tile"]


@njit(nogil=True, cache=True)
def table_tile(table, skip, a, b, out, m0, m1, n0, n1, k_chunk):  # pragma: no cover
    """out[m, n0:n1] = sum_k table[a[m, k], b[k, n]] for m in m0:m1 (see ``kernels``): the
    table rows of four k at a time (activation-stationary) against the four B rows, summed in
    int32 over at most ``k_chunk`` terms (so the partial sums fit) and those partial sums in
    out (float64: exact below 2^53). k whose activation code has an all-zero table row are
    skipped."""
    k_dim = a.shape[1]
    width = n1 - n0
    acc = np.zeros(width, np.int32)
    ks = np.empty(k_dim, np.int64)
    for m in range(m0, m1):
        am = a[m]
        count = 0
        for k in range(k_dim):
            if not skip[am[k]]:
                ks[count] = k
                count += 1
        for j in range(width):
            out[m, n0 + j] = 0
        for c0 in range(0, count, k_chunk):
            c1 = min(count, c0 + k_chunk)
            acc[:] = 0
            c = c0
            while c + 4 <= c1:
                k0, k1, k2, k3 = ks[c], ks[c + 1], ks[c + 2], ks[c + 3]
                r0, r1, r2, r3 = table[am[k0]], table[am[k1]], table[am[k2]], table[am[k3]]
                # sliced rows: an index known to be >= 0 spares the negative-index check
                b0, b1, b2, b3 = b[k0, n0:n1], b[k1, n0:n1], b[k2, n0:n1], b[k3, n0:n1]
                for j in range(width):
                    acc[j] += (r0[b0[j]] + r1[b1[j]]) + (r2[b2[j]] + r3[b3[j]])
                c += 4
            while c < c1:
                r0 = table[am[ks[c]]]
                b0 = b[ks[c], n0:n1]
                for j in range(width):
                    acc[j] += r0[b0[j]]
                c += 1
            for j in range(width):
                out[m, n0 + j] += acc[j]


@njit(nogil=True, cache=True)
def codes_tile(x, lo, hi, offset, out, r0, r1):  # pragma: no cover
    """out[r] = x[r] - offset for the rows r0:r1 of x (2-D float), and whether every value
    there is an integer in [lo, hi] (NaN is not). Branch-free, so it vectorises."""
    ok = True
    for r in range(r0, r1):
        xr = x[r]
        orow = out[r]
        for j in range(xr.shape[0]):
            v = xr[j]
            ok &= (v >= lo) & (v <= hi) & (v == np.floor(v))
            orow[j] = np.int64(v) - offset if (v >= lo) & (v <= hi) else 0
    return ok


@njit(nogil=True, cache=True)
def noise_tile(y, spread, z, sigma, scale, out, r0, r1):  # pragma: no cover
    """out = y scale + (spread sigma) z for the rows r0:r1: ``MRENoise``'s last steps in one
    pass, each operation in the dtype torch's separate operations use (spread, sigma and z
    in float32; the sum in float64), so the values are the same."""
    for r in range(r0, r1):
        yr, sr, zr, orow = y[r], spread[r], z[r], out[r]
        for j in range(sr.shape[0]):
            orow[j] = np.float64(yr[j]) * scale + np.float64(sr[j] * sigma * zr[j])
