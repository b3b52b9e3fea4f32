"""``mitchell``: Mitchell's logarithmic multiplier, J. N. Mitchell, "Computer multiplication
and division using binary logarithms", IRE Trans. Electronic Computers EC-11(4):512-517,
1962, with the full fraction precision (no bits lost)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import I64, SignMagnitude, ilog2

__all__ = ["MitchellFamily", "mitchell_terms"]


def mitchell_terms(a: np.ndarray, b: np.ndarray, frac: int) -> tuple[np.ndarray, ...]:
    """(nonzero, S, K): the characteristics k = ilog2 and the fractions left-aligned to
    ``frac`` bits, X = (x - 2^k) << (frac - k); S = X_a + X_b, K = k_a + k_b."""
    nz = (a > 0) & (b > 0)
    ka = np.maximum(ilog2(a), 0)
    kb = np.maximum(ilog2(b), 0)
    xa = (np.maximum(a, 1) - (I64(1) << ka)) << (frac - ka)
    xb = (np.maximum(b, 1) - (I64(1) << kb)) << (frac - kb)
    return nz, xa + xb, ka + kb


def antilog(s: np.ndarray, k: np.ndarray, frac: int, extra: tuple[int, int] = (0, 0)) -> np.ndarray:
    """2^K (1 + S/2^frac) when S < 2^frac, else 2^(K+1) (S/2^frac), floored; ``extra`` adds
    (c, c') to the mantissa in the two cases (MBM's correction)."""
    one = I64(1) << frac
    low = ((one + s + extra[0]) << k) >> frac
    high = ((s + extra[1]) << (k + 1)) >> frac
    return np.where(s < one, low, high)


@dataclass(frozen=True)
class MitchellFamily(SignMagnitude):
    """log2 x ~ k + f/2^k (k = ilog2 x, f = x - 2^k): add the approximate logarithms, take
    the approximate antilogarithm. With F = max(a_bits, b_bits) - 1 fraction bits,
    X = f << (F - k), S = X_a + X_b, K = k_a + k_b: p = ((2^F + S) << K) >> F when S < 2^F,
    else (S << (K + 1)) >> F (both exact: nothing is lost at this F); p = 0 when an operand
    is 0. The error is never positive; at most -1/9 of the product (3 x 3 -> 8). Signed:
    sign-magnitude.

    >>> import numpy as np
    >>> MitchellFamily().product(np.array([3, 0, 255]), np.array([3, 7, 255]), 8, 8, False).tolist()
    [8, 0, 65024]
    """

    name: ClassVar[str] = "mitchell"
    title: ClassVar[str] = "Mitchell's logarithmic multiplier (full fraction precision)"
    reference: ClassVar[str] = "Mitchell, IRE Trans. Electronic Computers EC-11(4), 1962"

    def magnitude(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int) -> np.ndarray:
        frac = max(a_bits, b_bits) - 1
        nz, s, k = mitchell_terms(a, b, frac)
        return np.where(nz, antilog(s, k, frac), 0)
