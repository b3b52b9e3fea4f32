"""``truncated:K``: the partial-product array with every bit of the columns below K dropped,
optionally with a constant that corrects the mean error.

References: column truncation with a correction constant, Schulte and Swartzlander,
"Truncated multiplication with correction constant", VLSI Signal Processing VI, 1993;
Kidambi, El-Guibaly and Antoniou, "Area-efficient multipliers for digital signal processing
applications", IEEE TCAS-II 43(2), 1996. (K counts product columns; it does not truncate the
operands.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from ...options import option
from .base import ArrayFamily, required

__all__ = ["TruncatedFamily"]

CORRECTIONS = ("none", "mean", "grid")


@dataclass(frozen=True)
class TruncatedFamily(ArrayFamily):
    """Drop partial-product bit (i, j) when i + j < K; add the correction C:
    ``none`` C = 0; ``mean`` C = round(E) (half up), E the mean value of the dropped bits for
    uniform operands (an AND bit is 1 with probability 1/4, a Baugh-Wooley NAND bit 3/4), so
    the mean error is within half an LSB of 0; ``grid`` C = 2^K * round(E / 2^K), a multiple
    of 2^K, so the low K output bits stay constant 0.

    >>> import numpy as np
    >>> f = TruncatedFamily(4)
    >>> f.product(np.array([255]), np.array([255]), 8, 8, False).tolist()  # 65025 exact
    [64976]
    >>> TruncatedFamily(4, "mean").offset(8, 8, False)  # E = 12.25
    12
    """

    name: ClassVar[str] = "truncated"
    title: ClassVar[str] = "partial-product array, columns below K dropped (+ correction)"
    reference: ClassVar[str] = "Schulte & Swartzlander 1993; Kidambi et al., IEEE TCAS-II 1996"

    columns: int = required("columns dropped (0 <= K < a_bits + b_bits; 0 is exact)", "K")
    correction: str = option("none", "none, mean (round the mean dropped value) or grid (the "
                             "same rounded to a multiple of 2^K)", choices=CORRECTIONS)

    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        self._range("K", self.columns, 0, a_bits + b_bits - 1, a_bits, b_bits)

    def dropped(self, i: int, j: int, a_bits: int, b_bits: int, signed: bool) -> bool:
        return i + j < self.columns

    def offset(self, a_bits: int, b_bits: int, signed: bool) -> int:
        if self.correction == "none":
            return 0
        mean = self.dropped_mean(a_bits, b_bits, signed)
        if self.correction == "mean":
            return math.floor(mean + Fraction(1, 2))
        step = 1 << self.columns
        return step * math.floor(mean / step + Fraction(1, 2))
