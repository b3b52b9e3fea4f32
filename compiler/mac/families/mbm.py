"""``mbm``: the minimally biased multiplier of Saadat, Bokhari and Parameswaran, "Minimally
biased multipliers for approximate integer and floating-point multiplication", IEEE TCAD
37(11):2623-2635, 2018: Mitchell's multiplier with a constant added before the antilog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import SignMagnitude
from .mitchell import antilog, mitchell_terms

__all__ = ["MbmFamily"]


@dataclass(frozen=True)
class MbmFamily(SignMagnitude):
    """Mitchell's datapath with F = max(a_bits, b_bits, 8) - 1 fraction bits and the paper's
    correction c = 0.0001010b (0.078125, near Mitchell's mean error 1/12) added to the
    mantissa: c when S < 2^F, c/2 otherwise, then floored. Where the corrected product
    reaches 2^(a_bits+b_bits) (10 pairs at 8 x 8) the uncorrected Mitchell product is taken:
    the paper's "output overflow bypasses correction". Signed: sign-magnitude.

    >>> import numpy as np
    >>> MbmFamily().product(np.array([3, 255]), np.array([3, 255]), 8, 8, False).tolist()
    [8, 65024]
    """

    name: ClassVar[str] = "mbm"
    title: ClassVar[str] = "minimally biased (error-corrected) logarithmic multiplier"
    reference: ClassVar[str] = "Saadat, Bokhari & Parameswaran, IEEE TCAD 37(11), 2018"

    @staticmethod
    def fraction_bits(a_bits: int, b_bits: int) -> int:
        return max(a_bits, b_bits, 8) - 1

    def magnitude(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int) -> np.ndarray:
        frac = self.fraction_bits(a_bits, b_bits)
        c = 10 << (frac - 7)  # 0.0001010b in frac fraction bits
        nz, s, k = mitchell_terms(a, b, frac)
        p = antilog(s, k, frac, (c, c >> 1))
        plain = antilog(s, k, frac)
        p = np.where(p >= (1 << (a_bits + b_bits)), plain, p)
        return np.where(nz, p, 0)
