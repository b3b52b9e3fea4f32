"""Constant tables as the HLS target emits them: ``static const`` arrays inside the function
that reads them, each with the pragma its reads need (docs/reference/hls.md).

Entries are stored in the narrowest ``<stdint.h>`` type of their range (minus a bias where
an unsigned type of fewer bytes holds them, as the C target does): plain integer arrays are
constant-initialised, so g++ compiles a 64K-entry table in about a second, where an array
of ``ap_uint<W>`` objects is dynamically initialised and takes minutes. A read widens the
entry to the ``ap_int``/``ap_uint`` of the IR's range of the signal it holds, bias added.

>>> t = HlsTable.of("s_y_lut", (128, 200, 256), "values", "rom_1p", (128, 256))
>>> t.ctype, t.bias, t.read("i")
('uint8_t', 128, '(s_y_lut[i] + 128)')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actc.unit import Range, stored_width

from ..base import rows
from ..c.literals import c_element, c_literal
from ..widths import c_storage

__all__ = ["HlsTable", "STORAGE"]

# How a table is bound: a single-port ROM (one read per call), a dual-port ROM (two reads:
# the knots K[i] and K[i + 1]), or partitioned into registers (many reads per call: the
# X_LUT of a segment search, threshold lists; HLS then folds the constants into logic).
STORAGE = ("rom_1p", "rom_2p", "complete")


@dataclass(frozen=True)
class HlsTable:
    """One constant table: its symbol, stored entries (already minus ``bias``), element
    type, binding and a comment; ``bits`` is its hardware size at the minimal width
    (``unit.stored_width``, the width ``memory_bits`` counts)."""

    symbol: str
    stored: tuple[int, ...]
    note: str
    ctype: str
    bias: int
    storage: str
    bits: int
    hex_digits: int = 0  # entries printed as 0x... with this many digits (bit patterns)

    @classmethod
    def of(cls, symbol: str, values: Iterable[int], note: str, storage: str,
           signal: Range | None = None) -> HlsTable:
        vals = tuple(int(v) for v in values)
        assert storage in STORAGE
        ctype, bias = c_storage(signal if signal is not None else (min(vals), max(vals)))
        bits = len(vals) * stored_width(vals)[0]
        return cls(symbol, tuple(v - bias for v in vals), note, ctype, bias, storage, bits)

    @classmethod
    def patterns(cls, symbol: str, values: Iterable[int], note: str, storage: str,
                 width: int) -> HlsTable:
        """A table of float32 bit patterns (``uint32_t``, printed in hex), ``width`` bits an
        entry in hardware: 32, or 16 for the breakpoints of a 16-bit input kind (input
        values), as ``memory_bits`` counts them."""
        vals = tuple(int(v) for v in values)
        assert storage in STORAGE and all(0 <= v < 1 << 32 for v in vals)
        return cls(symbol, vals, note, "uint32_t", 0, storage, len(vals) * width, 8)

    @property
    def count(self) -> int:
        return len(self.stored)

    def rows(self, per_row: int) -> list[str]:
        if self.hex_digits:
            return rows(self.stored, per_row, lambda v: f"0x{v:0{self.hex_digits}X}u")
        return rows(self.stored, per_row, c_element)

    def read(self, index: str) -> str:
        """The entry at ``index`` (an integer expression), bias added back."""
        expr = f"{self.symbol}[{index}]"
        return f"({expr} + {c_literal(self.bias)})" if self.bias else expr
