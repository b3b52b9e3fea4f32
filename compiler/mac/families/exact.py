"""``exact``: the exact product, two's complement for signed operands (the reference every
error is measured against)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import Family

__all__ = ["ExactFamily"]


@dataclass(frozen=True)
class ExactFamily(Family):
    """p = a * b.

    >>> import numpy as np
    >>> ExactFamily().product(np.array([-128, 7]), np.array([-128, 9]), 8, 8, True).tolist()
    [16384, 63]
    """

    name: ClassVar[str] = "exact"
    title: ClassVar[str] = "the exact product"
    reference: ClassVar[str] = "the exact product (two's complement when signed)"
    signing: ClassVar[str] = "native"

    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:
        return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)
