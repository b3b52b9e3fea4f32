"""``knots``: hierarchical segmentation with chord interpolation between stored knots
(``KnotCore``; Lee, Luk, Villasenor, Cheung, IEEE TVLSI 2009): the top r input bits pick a
region, each region is split into equal segments, a segment costs one knot.

``--entries N`` fits N segments (the value fraction then the narrowest within 1 % of the
error); ``--memory-bits`` or ``--memory-bytes`` fits the most accurate variant within the
budget. The counts per region come from the error estimate (fit/knots.py); ``--regions``
fixes r (default: every r up to 6, the best by the estimate), ``--addressing shift`` keeps
every count a power of two so that the address is shifts and adds only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import FitError
from ...options import option
from ..domain import FitDomain
from ..fit.budget import Budget, search
from ..ir import KnotCore
from .base import (
    Pass,
    budget_of,
    check_objective,
    memory_bytes_option,
    objective_option,
    symmetry_option,
)

__all__ = ["KnotsPass"]

DEFAULT_SEGMENTS = 64


@dataclass(frozen=True)
class KnotsPass(Pass):
    name: ClassVar[str] = "knots"
    cores: ClassVar[tuple[type, ...]] = (KnotCore,)
    symmetric: ClassVar[bool] = True

    entries: int | None = option(None, "segments (default 64)", metavar="N")
    memory_bits: int | None = option(None, "the most accurate variant whose tables fit in B "
                                     "bits (each table at its minimal width)", metavar="B")
    memory_bytes: int | None = memory_bytes_option()
    regions: int | None = option(None, "region bits r: the top r input bits pick one of 2^r "
                                 "regions (default: the best of 0 to 6)", metavar="R")
    addressing: str = option("multiply", "multiply: any number of segments per region (one "
                             "small multiplier); shift: powers of two (shifts only)",
                             choices=("multiply", "shift"))
    objective: str = objective_option()
    symmetry: str = symmetry_option()

    def run(self, domain: FitDomain) -> Any:
        check_objective(self.objective)
        if self.addressing not in ("multiply", "shift"):
            raise FitError(f"--addressing {self.addressing!r}: choose multiply or shift")
        n = domain.bits
        if self.regions is not None and not 0 <= self.regions < n:
            raise FitError(f"--regions {self.regions} is out of range: use 0 to {n - 1} for "
                           f"a {n}-bit core input")
        budget = budget_of(domain, self.memory_bits, self.memory_bytes, self.entries)
        if budget is None:
            segments = DEFAULT_SEGMENTS if self.entries is None else self.entries
            if not 1 <= segments <= min(1 << n, 4096):
                raise FitError(f"--entries {segments} is out of range: use 1 to "
                               f"{min(1 << n, 4096)} segments")
            budget = Budget(segments=segments)
        kind = "knots" if self.addressing == "multiply" else "knots_pow2"
        return search(domain, budget, self.objective, (kind,), {}, 1, self.name,
                      region_bits=self.regions)
