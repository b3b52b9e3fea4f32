"""``bam:H,V``: the broken-array multiplier (BAM) of Mahdiani, Ahmadi, Fakhraie and Lucas,
"Bio-inspired imprecise computational blocks for efficient VLSI implementation of
soft-computing applications", IEEE TCAS-I 57(4):850-862, 2010: the carry-save array with the
cells above a horizontal break line (the first H partial-product rows, multiplier bits b_j,
j < H) and right of a vertical break line (columns i + j < V) removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import ArrayFamily, required

__all__ = ["BamFamily"]


@dataclass(frozen=True)
class BamFamily(ArrayFamily):
    """Drop bit (i, j) when j < H or i + j < V. Signed: the Baugh-Wooley array, and the cells
    of the sign row and column (i = a_bits - 1 or j = b_bits - 1) are never removed, as the
    paper keeps the sign cells. H = V = 0 is exact; H = 0 is ``truncated:V``.

    >>> import numpy as np
    >>> BamFamily(1, 1).product(np.array([255]), np.array([255]), 8, 8, False).tolist()
    [64770]
    """

    name: ClassVar[str] = "bam"
    title: ClassVar[str] = "broken-array multiplier: rows below H and columns below V removed"
    reference: ClassVar[str] = "Mahdiani et al., IEEE TCAS-I 57(4), 2010"

    rows_dropped: int = required("horizontal break: partial-product rows b_j, j < H, removed "
                                 "(0 <= H < b_bits)", "H")
    columns: int = required("vertical break: columns i + j < V removed (0 <= V < a_bits + "
                            "b_bits)", "V")

    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        self._range("H", self.rows_dropped, 0, b_bits - 1, a_bits, b_bits)
        self._range("V", self.columns, 0, a_bits + b_bits - 1, a_bits, b_bits)

    def dropped(self, i: int, j: int, a_bits: int, b_bits: int, signed: bool) -> bool:
        if signed and (i == a_bits - 1 or j == b_bits - 1):
            return False
        return j < self.rows_dropped or i + j < self.columns
