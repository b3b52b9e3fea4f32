"""Signal ranges to types. The IR states the range of every signal (``signals()``); targets
only map those ranges to the types of their language, here.

>>> c_type((0, 255)), c_type((-129, 5)), verilog_bits((0, 255)), verilog_bits((-129, 5))
('uint8_t', 'int16_t', (8, False), (9, True))
"""

from __future__ import annotations

from collections.abc import Iterable

from actc.errors import TargetError
from actc.unit import Range, signed_width, unsigned_width

__all__ = ["c_int_type", "c_storage", "c_type", "c_wide", "verilog_bits"]


def verilog_bits(r: Range) -> tuple[int, bool]:
    """(bits, signed) of the narrowest signal holding the range: unsigned when lo >= 0."""
    lo, hi = r
    if lo >= 0:
        return unsigned_width(hi), False
    return signed_width(lo, hi), True


def c_int_type(bits: int, signed: bool) -> str:
    """The narrowest <stdint.h> type of at least ``bits`` bits."""
    for w in (8, 16, 32, 64):
        if bits <= w:
            return f"{'int' if signed else 'uint'}{w}_t"
    raise TargetError(f"{bits}-bit values do not fit a C integer type")


def c_type(r: Range) -> str:
    """The narrowest <stdint.h> type holding the range."""
    return c_int_type(*verilog_bits(r))


def c_wide(ranges: Iterable[Range]) -> bool:
    """Whether a signed accumulator for these signals needs 64 bits (int32_t holds every
    value below 2^31 - 1 in magnitude); TargetError beyond 62 bits."""
    top = max(max(abs(lo), abs(hi)) for lo, hi in ranges)
    if top >= 2**62:
        raise TargetError("the datapath needs more than 62 bits: C cannot hold it")
    return top >= 2**31 - 1


def c_storage(values: Iterable[int]) -> tuple[str, int]:
    """(type, bias) of a constant table: the narrowest <stdint.h> type of its entries, or an
    unsigned one of fewer bytes holding ``entry - bias`` (bias = the smallest entry): the
    rule of ``unit.word_bytes``, so ``sizeof`` the table is what ``memory_bytes`` counts.

    >>> c_storage([16384, 65535 + 16384]), c_storage([-3, 300]), c_storage([0, 255])
    (('uint16_t', 16384), ('int16_t', 0), ('uint8_t', 0))
    """
    vals = list(values)
    lo, hi = min(vals), max(vals)
    plain = c_type((lo, hi))
    shifted = c_type((0, hi - lo))
    size = {f"{s}int{w}_t": w for s in ("", "u") for w in (8, 16, 32, 64)}
    if size[shifted] < size[plain]:
        return shifted, lo
    return plain, 0
