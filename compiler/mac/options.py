"""The options of ``actc mac compile`` and ``actc.mac.compile``, declared once (the command
line's flags are generated from these fields)."""

from __future__ import annotations

from dataclasses import dataclass

from ..options import option

__all__ = ["MacOptions"]


@dataclass(frozen=True)
class MacOptions:
    """What a MAC unit is built from: the multiplier, the operand widths, lanes, accumulator."""

    multiplier: str = option("exact", "FAMILY[:ARGS], e.g. drum:4, truncated:6,correction=mean, "
                             "asm:1,3, or table:PATH (a MAC manifest or a .npy product table; "
                             "actc mac list)", metavar="SPEC")
    bits: int = option(None, "both operand widths, 4 to 16 (default 8)", metavar="N")
    a_bits: int = option(None, "width of operand a, the activation", metavar="N")
    b_bits: int = option(None, "width of operand b, the weight", metavar="N")
    signed: bool = option(False, "two's complement operands and product")
    lanes: int = option(1, "lanes sharing operand a (a MAC array), 1 to 64", metavar="N")
    accumulate: bool = option(False, "add an accumulator per lane: acc <= (clear ? 0 : acc) + "
                              "(valid ? a*b : 0)")
    acc_bits: int = option(None, "accumulator width (default: 32, or the product + 8 bits)",
                           metavar="N")
