"""What a kind module tells the C test harness (``compile_and_run``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Harness"]


@dataclass(frozen=True)
class Harness:
    """How a test harness drives a unit: ``state`` declared once, ``step`` statements run
    for each vector (after its inputs are read into ``in_<port>``), then one C expression
    printed per output port. A kind module's ``harness_call`` returns this, or for a
    single-output unit just the expression."""

    outputs: list[str]
    state: str = ""
    step: str = ""
