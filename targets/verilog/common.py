"""Verilog literal and extension helpers, and constant tables laid out as ROMs, shared by
every unit kind's module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actc.unit import stored_width

__all__ = ["RomTable", "StoredRom", "ext", "hex_pattern", "rom_table", "shex", "stored_rom",
           "uext", "zext"]


def hex_pattern(value: int, width: int) -> str:
    """Two's-complement bit pattern of value in width bits, as a Verilog literal.

    >>> hex_pattern(-1, 6)
    "6'h3f"
    """
    return f"{width}'h{value & ((1 << width) - 1):0{(width + 3) // 4}x}"


def shex(value: int, width: int) -> str:
    """A signed Verilog literal of value in width bits."""
    return hex_pattern(value, width).replace("'h", "'sh")


def ext(signal: str, width: int, signed: bool, to: int) -> str:
    """signal (width bits) sign- or zero-extended to a signed `to`-bit expression."""
    if width == to:
        return f"$signed({signal})"
    fill = f"{{{to - width}{{{signal}[{width - 1}]}}}}" if signed else f"{to - width}'b0"
    return f"$signed({{{fill}, {signal}}})"


def uext(signal: str, width: int, to: int) -> str:
    """An unsigned signal zero-extended to `to` bits, still unsigned (for compares)."""
    return signal if width == to else f"{{{to - width}'b0, {signal}}}"


def zext(signal: str, width: int, to: int) -> str:
    """An unsigned signal of ``width`` bits as a signed ``to``-bit expression: zero-extended,
    or its low ``to`` bits (the datapath wraps modulo 2^to, and its result fits)."""
    if width == to:
        return f"$signed({signal})"
    if width > to:
        return f"$signed({signal}[{to - 1}:0])"
    return f"$signed({{{to - width}'d0, {signal}}})"


@dataclass(frozen=True)
class RomTable:
    """A table laid out for the rom() macro: case labels grouped 256 to a nested case."""

    count: int
    width: int
    index_bits: int
    low_bits: int
    groups: list  # [(high label, [(low label, value literal), ...]), ...]

    @property
    def zero(self) -> str:
        return hex_pattern(0, self.width)


def rom_table(values: Any, width: int, index_bits: int) -> RomTable:
    vals = [hex_pattern(int(v), width) for v in values]
    if index_bits <= 8:
        entries = [(f"{index_bits}'d{k}", v) for k, v in enumerate(vals)]
        return RomTable(len(vals), width, index_bits, index_bits, [("", entries)])
    low = 8
    high_bits = index_bits - low
    groups = []
    for h in range(0, len(vals), 1 << low):
        chunk = vals[h : h + (1 << low)]
        groups.append((f"{high_bits}'d{h >> low}",
                       [(f"{low}'d{k}", v) for k, v in enumerate(chunk)]))
    return RomTable(len(vals), width, index_bits, low, groups)


@dataclass(frozen=True)
class StoredRom:
    """A constant table as stored: ``entry - bias`` in ``width`` bits (unsigned when biased;
    unit.stored_width, the width ``memory_bits`` counts), and how a read is widened back."""

    table: RomTable
    width: int
    signed: bool
    bias: int

    def value(self, read: str, to: int) -> str:
        """The entry a ``read`` of the ROM holds, as a signed ``to``-bit expression."""
        expr = ext(read, self.width, self.signed, to)
        return f"({expr} + {shex(self.bias, to)})" if self.bias else expr


def stored_rom(values: Any, index_bits: int) -> StoredRom:
    """The ROM of a table at its minimal width, biased where that saves bits."""
    width, bias = stored_width(values)
    signed = not bias and min(values) < 0
    return StoredRom(rom_table([v - bias for v in values], width, index_bits), width, signed,
                     bias)
