"""``geba``: non-uniform segment tables whose breakpoints come from the gradient error
(fit/placement.py, ``gradient_placement``), in the X/Y/DY/P structure of Ye & Jeong
(JETCAS 2023). ``spacing="uniform"`` keeps the structure but spaces breakpoints evenly: the
paper's "uniform sampling with the same memory" baseline.

With ``--memory-bits`` or ``--memory-bytes`` on a fixed-point input, geba searches its
structures within the budget (fit/budget.py): the X/Y/DY/P tables with breakpoints on a
coarse grid and minimal widths, and hierarchical chord tables (``KnotCore``), whose
segments per region follow the same error estimate; the most accurate wins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ...errors import FitError
from ...options import option
from ..fit.placement import Points, gradient_placement, uniform_placement
from .base import SearchTablePass

__all__ = ["GebaPass"]


@dataclass(frozen=True)
class GebaPass(SearchTablePass):
    name: ClassVar[str] = "geba"

    spacing: str = option("gradient", "breakpoints from the gradient error (default) or evenly "
                          "spaced", choices=("gradient", "uniform"))

    def placement(self) -> Callable[[Points, int], list[int]]:
        if self.spacing == "gradient":
            def place(p: Points, k: int) -> list[int]:
                return gradient_placement(p, k, self.objective)
            return place
        if self.spacing == "uniform":
            return uniform_placement
        raise FitError(f"--spacing {self.spacing!r}: choose gradient or uniform")

    def structures(self) -> tuple[str, ...]:
        """Gradient spacing searches the hierarchical chord tables too; uniform spacing
        stays the paper's baseline structure."""
        return ("knots", "searched") if self.spacing == "gradient" else ("searched",)
