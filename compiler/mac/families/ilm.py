"""``ilm:C``: the iterative logarithmic multiplier of Babic, Avramovic and Bulic, "An
iterative logarithmic multiplier", Microprocessors and Microsystems 35(1):23-33, 2011: a
basic block and C error-correction blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import I64, SignMagnitude, ilog2, required

__all__ = ["IlmFamily"]


@dataclass(frozen=True)
class IlmFamily(SignMagnitude):
    """Basic block on (x, y): with k = ilog2, r = x - 2^k_x, q = y - 2^k_y, it gives
    2^(k_x+k_y) + (r << k_y) + (q << k_x) = x*y - r*q (0 when x or y is 0). The product is
    the sum of C + 1 blocks, block i + 1 running on the residues (r, q) of block i; exact once
    a residue is 0. The error is never positive. Signed: sign-magnitude.

    >>> import numpy as np
    >>> [IlmFamily(c).product(np.array([255]), np.array([255]), 8, 8, False).item() for c in (0, 1)]
    [48896, 61056]
    """

    name: ClassVar[str] = "ilm"
    title: ClassVar[str] = "iterative logarithmic multiplier with C correction blocks"
    reference: ClassVar[str] = "Babic, Avramovic & Bulic, Microprocessors and Microsystems 2011"

    corrections: int = required("correction blocks after the basic block (0 <= C < "
                                "min(a_bits, b_bits))", "C")

    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        self._range("C", self.corrections, 0, min(a_bits, b_bits) - 1, a_bits, b_bits)

    def magnitude(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int) -> np.ndarray:
        total = np.zeros(np.broadcast(a, b).shape, dtype=I64)
        x, y = a, b
        for _ in range(self.corrections + 1):
            nz = (x > 0) & (y > 0)
            kx = np.maximum(ilog2(x), 0)
            ky = np.maximum(ilog2(y), 0)
            r = np.where(nz, x - (I64(1) << kx), 0)
            q = np.where(nz, y - (I64(1) << ky), 0)
            total += np.where(nz, (I64(1) << (kx + ky)) + (r << ky) + (q << kx), 0)
            x, y = r, q
        return total
