"""``drum:K``: DRUM, the dynamic range unbiased multiplier of Hashemi, Bahar and Reda,
"DRUM: A dynamic range unbiased multiplier for approximate applications", ICCAD 2015, pp.
418-425 (the authors' Verilog: github scale-lab/DRUM, DRUMk_M_N).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import I64, SignMagnitude, ilog2, required

__all__ = ["DrumFamily", "drum_window"]


def drum_window(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(m, s): x < 2^k passes unchanged (s = 0); otherwise the k bits from the leading one
    down, with the lowest forced to 1 (m = (x >> s) | 1, s = t - k + 1, t = ilog2 x)."""
    t = ilog2(x)
    big = x >= (I64(1) << k)
    s = np.where(big, t - k + 1, 0)
    return np.where(big, (x >> s) | 1, x), s


@dataclass(frozen=True)
class DrumFamily(SignMagnitude):
    """p = (m_a * m_b) << (s_a + s_b) with (m, s) = ``drum_window(x, K)`` for each operand:
    a k x k multiplier on the leading bits, the dropped bits replaced by half their range
    (the forced 1), so the error is nearly unbiased. Signed: sign-magnitude.

    >>> import numpy as np
    >>> DrumFamily(4).product(np.array([200]), np.array([100]), 8, 8, False).tolist()
    [21632]
    """

    name: ClassVar[str] = "drum"
    title: ClassVar[str] = "dynamic range unbiased multiplier: a K x K core on the leading bits"
    reference: ClassVar[str] = "Hashemi, Bahar & Reda, ICCAD 2015"

    k: int = required("bits kept from each operand's leading one (2 <= K <= max(a_bits, "
                      "b_bits))", "K")

    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        self._range("K", self.k, 2, max(a_bits, b_bits), a_bits, b_bits)

    def magnitude(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int) -> np.ndarray:
        ma, sa = drum_window(a, self.k)
        mb, sb = drum_window(b, self.k)
        return (ma * mb) << (sa + sb)
