"""The Unit protocol: what every kind of unit (an activation, a multiplier or MAC, an ADC column
back end) offers the rest of actc. Verification, cost, report, the manifest and every target
work through it, so a new unit kind touches none of them.

A unit has named input and output **ports**, each with a number format; an **input space**
(every input vector where that is at most 2^20 of them, else a documented sample with every
corner); a vectorised integer **evaluate** (the meaning of the design: every target must
match it on every vector of the input space); and a JSON form tagged with its ``kind``, so a
manifest loads any unit.

>>> import numpy as np
>>> from actc.formats import NumberFormat
>>> from actc.activation.ir import ActivationUnit, SegmentCore
>>> u2 = NumberFormat.parse("u2")
>>> unit = ActivationUnit("t", u2, u2, SegmentCore(2, (0, 1, 3, 2)))
>>> [p.name for p in unit.inputs], [p.name for p in unit.outputs]
(['x'], ['y'])
>>> unit.evaluate(x=np.arange(4))["y"].tolist()
[0, 1, 3, 2]
>>> unit_from_json(unit.to_json()) == unit
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from .formats import Format

__all__ = [
    "EXHAUSTIVE_LIMIT", "InputSpace", "Port", "Range", "Unit", "signed_width", "unit_from_json",
    "unit_kinds", "unsigned_width", "width_of",
]

EXHAUSTIVE_LIMIT = 1 << 20  # input vectors checked one by one; above, a documented sample

Range = tuple[int, int]  # (lowest, highest) value a signal takes


def unsigned_width(hi: int) -> int:
    """Bits to hold 0..hi (at least 1)."""
    return max(1, int(hi).bit_length())


def signed_width(lo: int, hi: int) -> int:
    """Bits of a two's-complement signal holding lo..hi."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def width_of(values: Any) -> tuple[int, bool]:
    """(bits, signed) of the narrowest signal holding every value."""
    lo, hi = min(values), max(values)
    if lo >= 0:
        return unsigned_width(hi), False
    return signed_width(lo, hi), True


@dataclass(frozen=True)
class Port:
    """A named port and the format of the codes on it."""

    name: str
    format: Format

    @property
    def bits(self) -> int:
        return self.format.bits


@dataclass(frozen=True, eq=False)
class InputSpace:
    """The input vectors a unit is checked on: one int64 array per input port, all the same
    length, in the order the testbench applies them (for a sequential unit, one stream).
    ``exhaustive`` says whether they are every input vector; ``description`` documents the
    sample otherwise."""

    vectors: dict[str, np.ndarray]
    exhaustive: bool
    description: str

    def __len__(self) -> int:
        return len(next(iter(self.vectors.values())))


@runtime_checkable
class Unit(Protocol):
    """A compiled unit. ``kind`` keys it in ``unit_kinds()`` and in its JSON."""

    kind: ClassVar[str]

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> tuple[Port, ...]: ...

    @property
    def outputs(self) -> tuple[Port, ...]: ...

    @property
    def memory_bits(self) -> int: ...

    def input_space(self) -> InputSpace: ...

    def evaluate(self, **inputs: Any) -> dict[str, np.ndarray]:
        """Output codes (one int64 array per output port) for input code arrays."""
        ...

    def summary(self) -> str:
        """One line on the datapath, for file headers."""
        ...

    def to_json(self) -> dict: ...


def unit_kinds() -> dict[str, type]:
    """The registry of unit kinds, keyed by ``kind`` (imported on first use)."""
    from .activation.ir import ActivationUnit
    from .adc.backend import ColumnUnit
    from .mac.ir import MacUnit

    return {c.kind: c for c in (ActivationUnit, MacUnit, ColumnUnit)}


def unit_from_json(obj: dict) -> Unit:
    """Any unit from its JSON form (``kind`` picks the class; "activation" when absent, as in
    manifests written before there were other kinds)."""
    kinds = unit_kinds()
    kind = obj.get("kind", "activation")
    if kind not in kinds:
        raise ValueError(f"unknown unit kind {kind!r}")
    unit: Unit = kinds[kind].from_json(obj)  # type: ignore[attr-defined]
    return unit
