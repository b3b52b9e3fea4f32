"""Signal ranges to types. The IR states the range of every signal (``signals()``); targets
only map those ranges to the types of their language, here.

>>> c_type((0, 255)), c_type((-129, 5)), verilog_bits((0, 255)), verilog_bits((-129, 5))
('uint8_t', 'int16_t', (8, False), (9, True))
>>> c_arith((-5, 70000)), c_arith((0, 2**31)), c_arith((0, 2**31), unsigned=True)
('int32_t', 'int64_t', 'uint32_t')
>>> c_storage((128, 256)), c_storage((-3, 300)), c_storage((0, 255))
(('uint8_t', 128), ('int16_t', 0), ('uint8_t', 0))
"""

from __future__ import annotations

from collections.abc import Iterable

from actc.errors import TargetError
from actc.unit import Range, signed_width, unsigned_width

__all__ = ["C_SIZES", "c_arith", "c_fits", "c_int_type", "c_storage", "c_type", "c_wide",
           "verilog_bits"]

C_SIZES = {f"{s}int{w}_t": w // 8 for s in ("", "u") for w in (8, 16, 32, 64)}


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


def c_fits(r: Range, ctype: str) -> bool:
    """Whether every value of the range fits the <stdint.h> type."""
    bits = 8 * C_SIZES[ctype]
    lo, hi = r
    if ctype.startswith("u"):
        return 0 <= lo and hi < 1 << bits
    return -(1 << (bits - 1)) <= lo and hi < 1 << (bits - 1)


def c_arith(*ranges: Range, unsigned: bool = False) -> str:
    """The arithmetic type of signals with these ranges: ``int32_t`` (``uint32_t``) where
    every value fits, else the 64-bit type. Never narrower than 32 bits: narrower operands
    promote to ``int``, which is 16 bits on AVR; 32-bit arithmetic needs no runtime helper on
    a 32-bit core, 64-bit multiplies and variable shifts do on Cortex-M0."""
    for ctype in (("uint32_t", "uint64_t") if unsigned else ("int32_t", "int64_t")):
        if all(c_fits(r, ctype) for r in ranges):
            return ctype
    raise TargetError("the datapath needs more than 64 bits: C cannot hold it")


def c_storage(r: Range) -> tuple[str, int]:
    """(type, bias) of a constant table whose entries span the range: the narrowest
    <stdint.h> type, or an unsigned one of fewer bytes holding entry - bias where the range
    is narrower than its position (a folded sigmoid's 128..256 is stored as 0..128 in
    ``uint8_t``, bias 128)."""
    plain = c_type(r)
    lo, hi = r
    shifted = c_type((0, hi - lo))
    if C_SIZES[shifted] < C_SIZES[plain]:
        return shifted, lo
    return plain, 0
