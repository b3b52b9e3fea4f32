"""``table``: one entry per input code, each the correctly rounded output code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import FitError
from ..ir import SegmentCore
from ..spec import SAMPLE_ABOVE_BITS, Spec
from .base import Pass

__all__ = ["TablePass"]


@dataclass(frozen=True)
class TablePass(Pass):
    """A full ROM: entry u holds round-half-even(f(x_u)), saturated."""

    name: ClassVar[str] = "table"

    def run(self, spec: Spec) -> SegmentCore:
        n = spec.in_format.bits
        if n > SAMPLE_ABOVE_BITS:
            raise FitError(
                f"--method table needs 2^{n} entries for a {n}-bit input; it takes inputs up "
                f"to {SAMPLE_ABOVE_BITS} bits: use --method uniform"
            )
        return SegmentCore(in_bits=n, values=tuple(int(v) for v in spec.rounded))
