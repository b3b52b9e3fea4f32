"""``optimal``: the same X/Y/DY/P structure as ``geba`` with the breakpoints that minimise
the maximum error exactly (``objective="max"``), or the total squared error
(``objective="mse"``), by the programs in passes/placement.py. The yardstick for geba."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ..fit.placement import Points, optimal_max, optimal_mse
from .base import SearchTablePass

__all__ = ["OptimalPass"]


@dataclass(frozen=True)
class OptimalPass(SearchTablePass):
    name: ClassVar[str] = "optimal"

    def placement(self) -> Callable[[Points, int], list[int]]:
        return optimal_mse if self.objective == "mse" else optimal_max
