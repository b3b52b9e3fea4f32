"""Constant tables as the C target emits them, for every unit kind.

The conventions (docs/reference/firmware.md): a table is ``static ACTC_FLASH const T NAME_label[N]``
with T the narrowest <stdint.h> type of its entries' range (the IR states it); where an
unsigned type of fewer bytes holds ``entry - bias``, the table stores that and every read adds
the bias back. Reads go through ``ACTC_READ_U8/U16/U32/U64(p)`` (``ACTC_READ_S*`` for signed
entries), which are plain dereferences except on Harvard targets (AVR: ``PROGMEM`` and
``pgm_read_*``; templates/c/common/flash.h.j2). ``CTable.bytes`` is what the table occupies
in the image, so ``storage.c_bytes`` in the manifest is the sum over the emitted tables.

>>> t = CTable.of("sigmoid_y_lut", (128, 200, 256), "values", (128, 256))
>>> t.ctype, t.bias, t.bytes, t.rows(8)
('uint8_t', 128, 3, ['0, 72, 128'])
>>> t.read("i", "int32_t")
'((int32_t)ACTC_READ_U8(&sigmoid_y_lut[i]) + 128)'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actc.unit import Range

from ..base import rows
from ..widths import C_SIZES, c_storage
from .literals import c_element, c_literal

__all__ = ["CTable", "table_bytes"]


@dataclass(frozen=True)
class CTable:
    """One constant table: its C symbol, stored entries (already minus ``bias``), element
    type and a comment."""

    symbol: str
    stored: tuple[int, ...]
    note: str
    ctype: str
    bias: int = 0

    @classmethod
    def of(cls, symbol: str, values: Iterable[int], note: str,
           signal: Range | None = None) -> CTable:
        """The table of ``values``, typed from the IR's range of the signal it holds (or
        from the values themselves)."""
        vals = tuple(int(v) for v in values)
        ctype, bias = c_storage(signal if signal is not None else (min(vals), max(vals)))
        return cls(symbol, tuple(v - bias for v in vals), note, ctype, bias)

    @property
    def count(self) -> int:
        return len(self.stored)

    @property
    def bytes(self) -> int:
        return self.count * C_SIZES[self.ctype]

    @property
    def reader(self) -> str:
        """The read macro of this element type (signed reads reinterpret the pattern)."""
        sign = "U" if self.ctype.startswith("u") else "S"
        return f"ACTC_READ_{sign}{8 * C_SIZES[self.ctype]}"

    def rows(self, per_row: int) -> list[str]:
        return rows(self.stored, per_row, c_element)

    def read(self, index: str, as_type: str) -> str:
        """The C expression of entry ``index`` (bias added back) in type ``as_type``."""
        expr = f"({as_type}){self.reader}(&{self.symbol}[{index}])"
        if not self.bias:
            return expr
        suffix = "u" if as_type.startswith("u") else ""
        return f"({expr} + {c_literal(self.bias)}{suffix})"


def table_bytes(tables: Sequence[CTable]) -> int:
    """Bytes of constant data the tables occupy (their own bytes: a compiler may align one
    to its element size after a narrower one when they share a section)."""
    return sum(t.bytes for t in tables)
