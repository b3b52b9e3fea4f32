"""Number formats: real value = scale * (code - zero_point).

Command-line syntax (documented in README):

- ``s8.4`` / ``u8.8``: fixed point, signed or unsigned, total bits then fractional bits
  (scale 2^-frac, zero point 0). Fractional bits may be negative (``u8.-2``: scale 4) or
  exceed the width (``s8.10``).
- ``s8:0.0039215686:-128`` / ``u8:0.02:3``: affine (TFLite / CMSIS-NN): bits, scale, zero point.
- ``s8`` / ``u16``: integers (scale 1, zero point 0).

>>> NumberFormat.parse("s8.4").code_max
127
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from .errors import FormatError

__all__ = [
    "MAX_BITS", "FloatFormat", "NumberFormat", "check_bits", "format_from_json", "parse_format",
]

MAX_BITS = 32

_FIXED = re.compile(r"^([su])(\d+)(?:\.(-?\d+))?$")
_AFFINE = re.compile(r"^([su])(\d+):([^:]+):([+-]?\d+)$")


def check_bits(bits: int, what: str) -> int:
    if not 1 <= bits <= MAX_BITS:
        raise FormatError(f"{what} of {bits} bits is impossible: use 1 to {MAX_BITS} bits")
    return bits


@dataclass(frozen=True)
class NumberFormat:
    """An integer code format. ``real(code) = scale * (code - zero_point)``."""

    bits: int
    signed: bool
    scale: float
    zero_point: int = 0

    is_float: ClassVar[bool] = False

    def __post_init__(self):
        check_bits(self.bits, "a format")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise FormatError(f"scale must be a positive finite number, got {self.scale!r}")

    # --- codes ----------------------------------------------------------------------------
    @property
    def code_min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def code_max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def size(self) -> int:
        return 1 << self.bits

    @property
    def frac_bits(self) -> int | None:
        """Fractional bits when this is plain fixed point (scale 2^-f, zero point 0)."""
        if self.zero_point != 0:
            return None
        m, e = math.frexp(self.scale)
        return 1 - e if m == 0.5 else None

    @property
    def is_fixed(self) -> bool:
        return self.frac_bits is not None

    def real(self, code):
        """Real value of a code (int or numpy array), as float64."""
        return self.scale * (code - self.zero_point)

    def real_exact(self, code: int) -> Fraction:
        return Fraction(self.scale) * (code - self.zero_point)

    @property
    def lo(self) -> float:
        return self.real(self.code_min)

    @property
    def hi(self) -> float:
        """Top of the half-open range [lo, hi): one LSB above the largest code."""
        return self.real(self.code_max + 1)

    # --- text -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        s = "s" if self.signed else "u"
        f = self.frac_bits
        if f is not None:
            return f"{s}{self.bits}" if f == 0 else f"{s}{self.bits}.{f}"
        return f"{s}{self.bits}:{self.scale!r}:{self.zero_point}"

    def to_json(self) -> dict:
        return {
            "bits": self.bits,
            "signed": self.signed,
            "scale": self.scale,
            "zero_point": self.zero_point,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, obj: dict) -> NumberFormat:
        return cls(int(obj["bits"]), bool(obj["signed"]), float(obj["scale"]),
                   int(obj["zero_point"]))

    @classmethod
    def fixed(cls, bits: int, signed: bool, frac: int) -> NumberFormat:
        return cls(bits, signed, math.ldexp(1.0, -frac), 0)

    @classmethod
    def parse(cls, text: str, what: str = "format") -> NumberFormat:
        """Parse ``s8.4``, ``u8``, ``s8:0.02:-128``; raise FormatError with the syntax."""
        t = text.strip().lower()
        m = _FIXED.match(t)
        if m:
            bits = check_bits(int(m.group(2)), f"{what} {text!r}")
            frac = int(m.group(3) or 0)
            if abs(frac) > 64:
                raise FormatError(f"{what} {text!r}: fractional bits must be within -64..64")
            return cls.fixed(bits, m.group(1) == "s", frac)
        m = _AFFINE.match(t)
        if m:
            bits = check_bits(int(m.group(2)), f"{what} {text!r}")
            try:
                scale = Fraction(m.group(3))
            except (ValueError, ZeroDivisionError):
                raise FormatError(
                    f"{what} {text!r}: scale {m.group(3)!r} is not a number"
                ) from None
            if scale <= 0:
                raise FormatError(f"{what} {text!r}: scale must be positive")
            return cls(bits, m.group(1) == "s", float(scale), int(m.group(4)))
        raise FormatError(
            f"{what} {text!r} not understood: use s8.4 / u8.8 (fixed point: bits.fraction) "
            "or s8:SCALE:ZERO_POINT (affine, real = SCALE*(code-ZERO_POINT))"
        )

    @classmethod
    def covering(cls, lo: float, hi: float, bits: int) -> NumberFormat:
        """The fixed-point format of ``bits`` whose half-open range [lo', hi') holds [lo, hi]
        at the finest power-of-two scale. Signed when lo < 0."""
        signed = lo < 0
        mag_hi = max(hi, 0.0)
        mag_lo = max(-lo, 0.0)
        top = (1 << (bits - 1)) if signed else (1 << bits)
        need = max(mag_hi, mag_lo if signed else 0.0)
        if need <= 0:
            frac = bits  # a constant zero: any scale works; keep it simple
        else:
            # finest scale 2^-f with top * 2^-f >= need
            frac = math.floor(math.log2(top / need))
            while top * math.ldexp(1.0, -frac) < need:
                frac -= 1
            while top * math.ldexp(1.0, -(frac + 1)) >= need:
                frac += 1
        return cls.fixed(bits, signed, frac)


_FLOAT_KINDS = {"fp32": (32, 8, 23), "fp16": (16, 5, 10), "bf16": (16, 8, 7)}


@dataclass(frozen=True)
class FloatFormat:
    """An IEEE-style binary float: fp32, fp16 or bf16. Codes are the bit patterns."""

    kind: str

    is_float: ClassVar[bool] = True

    def __post_init__(self):
        if self.kind not in _FLOAT_KINDS:
            raise FormatError(f"unknown float format {self.kind!r}: use fp32, fp16 or bf16")

    @property
    def bits(self) -> int:
        return _FLOAT_KINDS[self.kind][0]

    @property
    def exponent_bits(self) -> int:
        return _FLOAT_KINDS[self.kind][1]

    @property
    def mantissa_bits(self) -> int:
        return _FLOAT_KINDS[self.kind][2]

    @property
    def signed(self) -> bool:
        return True

    @property
    def text(self) -> str:
        return self.kind

    def to_json(self) -> dict:
        return {"bits": self.bits, "float": self.kind, "text": self.kind}


def parse_format(text: str, what: str = "format"):
    """NumberFormat or FloatFormat from command-line text."""
    t = text.strip().lower()
    if t in _FLOAT_KINDS:
        return FloatFormat(t)
    return NumberFormat.parse(text, what)


def format_from_json(obj: dict):
    if "float" in obj:
        return FloatFormat(str(obj["float"]))
    return NumberFormat.from_json(obj)
