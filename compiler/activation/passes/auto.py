"""``auto``: the most accurate table structure within a memory budget, whatever it is.

Searches every table structure actc has for the budget (fit/budget.py): hierarchical chord
tables (``KnotCore``: every region width, multiply or shift addressing, knot fraction),
X/Y/DY/P tables with the exact optimal breakpoints (max error; the gradient rule for the
squared error; on a coarse grid, minimal widths), and the interpolated uniform table. Each
is fitted in its integer datapath and measured on every input code; the manifest's
``search`` key lists them and the winner. Float inputs get the X/Y/DY/P float tables
(optimal breakpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import FitError
from ..domain import FitDomain
from ..fit.placement import Points, gradient_placement, optimal_max, optimal_mse
from .base import SearchTablePass

__all__ = ["AutoPass"]


@dataclass(frozen=True)
class AutoPass(SearchTablePass):
    name: ClassVar[str] = "auto"

    def placement(self) -> Callable[[Points, int], list[int]]:
        return optimal_mse if self.objective == "mse" else optimal_max

    def placements(self) -> dict[str, Callable[[Points, int], list[int]]]:
        """The exact optimum for the max error (it is at least as good as the gradient
        rule's); for the squared error the gradient rule, which is much faster than the
        exact program at 16 bits and within a few per cent of it."""
        if self.objective == "mse":
            def gradient(p: Points, k: int) -> list[int]:
                return gradient_placement(p, k, "mse")

            return {"searched (gradient)": gradient}
        return {"searched (optimal)": optimal_max}

    def structures(self) -> tuple[str, ...]:
        return ("knots", "searched", "uniform")

    def run(self, domain: FitDomain) -> Any:
        if self.memory_bits is None and self.memory_bytes is None:
            raise FitError("--method auto needs --memory-bits B or --memory-bytes B")
        return super().run(domain)
