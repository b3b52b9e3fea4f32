"""Number formats. Two kinds satisfy the ``Format`` protocol: ``NumberFormat`` (integer codes,
real value = scale * (code - zero_point)) and ``FloatFormat`` (codes are the bit patterns of
an IEEE-style float). Widths run from 1 to 64 bits; a unit kind may take fewer (an
activation's input and output take up to 32).

Command-line syntax (docs/reference/formats.md):

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
from typing import Any, ClassVar, Protocol

import numpy as np

from .errors import FormatError

__all__ = [
    "MAX_BITS", "FloatFormat", "Format", "NumberFormat", "check_bits", "format_from_json",
    "parse_format",
]

MAX_BITS = 64

_FIXED = re.compile(r"^([su])(\d{1,4})(?:\.(-?\d{1,4}))?$")
_AFFINE = re.compile(r"^([su])(\d{1,4}):([^:]{1,40}):([+-]?\d{1,30})$")
_SCALE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(?:e([+-]?\d+))?$")
MAX_ZERO_POINT = 1 << 32


def _scale(text: str, what: str) -> float:
    """An affine format's scale: a positive decimal number (or a ratio a/b of whole numbers)
    that is a normal float64; the exponent is read from the text first, so 1e999999999 is
    refused without computing it."""
    m = _SCALE.match(text)
    ratio = re.match(r"^(\d{1,30})/(\d{1,30})$", text)
    if m and abs(int(m.group(2) or 0)) <= 400:
        value = Fraction(text)
    elif ratio and int(ratio.group(2)) != 0:
        value = Fraction(int(ratio.group(1)), int(ratio.group(2)))
    elif m:
        value = Fraction(10) ** 400  # out of range either way
    else:
        raise FormatError(f"{what}: scale {text!r} is not a number")
    if value <= 0:
        raise FormatError(f"{what}: scale must be positive")
    if not Fraction(2) ** -1000 <= value <= Fraction(2) ** 1000:
        raise FormatError(f"{what}: scale {text} must be a positive number from 2^-1000 to "
                          "2^1000")
    return float(value)


def check_bits(bits: int, what: str, limit: int = MAX_BITS) -> int:
    """``bits`` when 1 <= bits <= limit; FormatError naming ``what`` otherwise."""
    if not 1 <= bits <= limit:
        raise FormatError(f"{what} of {bits} bits is impossible: use 1 to {limit} bits")
    return bits


class Format(Protocol):
    """What every number format offers: a width, the code range, real values and text.

    >>> fmt = parse_format("s8.4")
    >>> fmt.code_min, fmt.code_max, float(fmt.real(16))
    (-128, 127, 1.0)
    """

    is_float: ClassVar[bool]

    @property
    def bits(self) -> int: ...

    @property
    def signed(self) -> bool: ...

    @property
    def code_min(self) -> int: ...

    @property
    def code_max(self) -> int: ...

    @property
    def text(self) -> str: ...

    def real(self, code: Any) -> Any:
        """Real value(s) of code(s), float64."""
        ...

    def lsb(self, values: np.ndarray) -> float:
        """The unit errors are counted in, given the true values the codes stand for."""
        ...

    def to_json(self) -> dict: ...


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

    def real(self, code):
        """Real value of a code (int or numpy array), as float64."""
        return self.scale * (code - self.zero_point)

    def lsb(self, values: np.ndarray | None = None) -> float:
        """One code step in real units: the scale."""
        return self.scale

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
            scale = _scale(m.group(3), f"{what} {text!r}")
            zero_point = int(m.group(4))
            if abs(zero_point) > MAX_ZERO_POINT:
                raise FormatError(f"{what} {text!r}: the zero point must lie within "
                                  f"+-2^{MAX_ZERO_POINT.bit_length() - 1}")
            return cls(bits, m.group(1) == "s", scale, zero_point)
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
        elif not math.isfinite(need) or not 2.0**-64 <= need / top <= 2.0**64:
            raise FormatError(
                f"values up to {need:.3g} in magnitude are beyond the automatic {bits}-bit "
                "formats (scales 2^-64 to 2^64): give the format with --in/--out, or rescale "
                "the expression")
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
    """An IEEE-style binary float: fp32, fp16 or bf16. Codes are the bit patterns, read as
    unsigned integers (so ``signed`` is False: the sign is a bit of the pattern)."""

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
        return False

    @property
    def code_min(self) -> int:
        return 0

    @property
    def code_max(self) -> int:
        return (1 << self.bits) - 1

    @property
    def text(self) -> str:
        return self.kind

    def real(self, code):
        """The float value of bit pattern(s), as float64."""
        from .floatbits import bits_to_f32

        return bits_to_f32(code, self.kind).astype(np.float64)

    def lsb(self, values: np.ndarray) -> float:
        """The unit in the last place, in this kind, of the largest |value| (so absolute
        errors near zero are not inflated by the tiny ulps there)."""
        top = float(np.abs(values).max())
        emin = 2 - (1 << (self.exponent_bits - 1))
        e = max(np.floor(np.log2(top)), emin) if top > 0 else emin
        return float(np.exp2(e - self.mantissa_bits))

    def to_json(self) -> dict:
        return {"bits": self.bits, "float": self.kind, "text": self.kind}


def parse_format(text: str, what: str = "format") -> Format:
    """NumberFormat or FloatFormat from command-line text."""
    t = text.strip().lower()
    if t in _FLOAT_KINDS:
        return FloatFormat(t)
    return NumberFormat.parse(text, what)


def format_from_json(obj: dict) -> Format:
    if "float" in obj:
        return FloatFormat(str(obj["float"]))
    return NumberFormat.from_json(obj)
