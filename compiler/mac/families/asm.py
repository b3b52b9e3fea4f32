"""``asm:ALPHABET``: the alphabet set multiplier (ASM) of Sarwar, Venkataramani, Ankit,
Raghunathan and Roy, "Energy-efficient neural computing with approximate multipliers", ACM
JETC 14(2), 2018 (earlier: Sarwar et al., "Multiplier-less artificial neurons exploiting
error resiliency for energy-efficient neural computing", DATE 2016).

Operand ``b`` is the weight, ``a`` the activation. The weight's magnitude is split into 4-bit
quartets; a quartet q = alpha * 2^s (alpha a letter of the alphabet) selects the multiple
alpha * a that a precomputer bank shared by every lane of a MAC array makes (3a = 2a + a,
...), and shifts it by s; the quartet terms are added (shifted by 4 per quartet) and the
weight's sign applied. Alphabet {1} needs no precomputer (shifts only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from ...errors import SemanticError
from ...options import option
from .base import I64, Family, required

__all__ = ["AsmFamily", "AsmLayout"]

TIES = ("up", "down")


@dataclass(frozen=True)
class AsmLayout:
    """The weight encoding of one alphabet at one weight width.

    The weight port carries, from the most significant bit: the sign (signed weights only),
    then one field per quartet, the most significant quartet first. A field is
    ``[nonzero | select | shift]``: 1 bit, ``select_bits`` bits (the letter's index in the
    sorted alphabet; 0 bits for {1}; an index past the alphabet picks its last letter) and 2
    bits (s, 0..3). The quartet's value is nonzero * letter * 2^s. ``actc mac encode`` writes
    only canonical codes (every quartet value at most 15), but every code has a meaning."""

    alphabet: tuple[int, ...]
    b_bits: int
    signed: bool

    @property
    def magnitude_max(self) -> int:
        """The largest weight magnitude: 2^b_bits - 1 unsigned, 2^(b_bits-1) signed."""
        return (1 << (self.b_bits - 1)) if self.signed else (1 << self.b_bits) - 1

    @property
    def quartets(self) -> int:
        return (self.magnitude_max.bit_length() + 3) // 4

    @property
    def select_bits(self) -> int:
        return max(0, math.ceil(math.log2(len(self.alphabet))))

    @property
    def field_bits(self) -> int:
        return 1 + self.select_bits + 2

    @property
    def bits(self) -> int:
        """Bits per encoded weight."""
        return int(self.signed) + self.quartets * self.field_bits

    def quartet_values(self) -> list[int]:
        """The values one quartet can take: 0 and letter * 2^s up to 15."""
        return sorted({0} | {a << s for a in self.alphabet for s in range(4) if a << s <= 15})

    def representable(self) -> np.ndarray:
        """Every weight magnitude the alphabet represents, ascending."""
        vals = np.array([0], dtype=I64)
        q = np.array(self.quartet_values(), dtype=I64)
        for i in range(self.quartets):
            vals = (vals[:, None] + (q[None, :] << (4 * i))).ravel()
        vals = np.unique(vals)
        return vals[vals <= self.magnitude_max]

    def nearest(self, tie: str, limit: int | None = None) -> np.ndarray:
        """T[m] for every magnitude m up to ``limit`` (default magnitude_max): the nearest
        representable magnitude not above ``limit``; on a tie the larger (``up``) or the
        smaller (``down``)."""
        top = self.magnitude_max if limit is None else limit
        r = self.representable()
        r = r[r <= top]
        m = np.arange(top + 1, dtype=I64)
        hi = np.minimum(np.searchsorted(r, m, side="left"), len(r) - 1)
        lo = np.maximum(np.searchsorted(r, m, side="right") - 1, 0)
        up, down = r[hi], r[lo]
        d_up, d_down = np.abs(up - m), np.abs(m - down)
        take_up = (d_up < d_down) | ((d_up == d_down) & (tie == "up"))
        return np.where(take_up, up, down)

    def field(self, digit: np.ndarray) -> np.ndarray:
        """The field of a quartet value in the representable set (letter * 2^s)."""
        digit = np.asarray(digit, dtype=I64)
        s = np.zeros_like(digit)
        for k in (1, 2, 3):  # s = trailing zeros of the digit (the letters are odd)
            s = np.where((digit > 0) & ((digit >> k) << k == digit), k, s)
        letter = digit >> s
        index = np.searchsorted(np.array(self.alphabet), letter)
        nz = (digit > 0).astype(I64)
        return np.where(nz == 1, (nz << (self.select_bits + 2)) | (index << 2) | s, 0)

    def encode_magnitude(self, magnitude: np.ndarray) -> np.ndarray:
        """Code fields of representable magnitudes (no sign)."""
        code = np.zeros_like(np.asarray(magnitude, dtype=I64))
        for i in range(self.quartets):
            digit = (magnitude >> (4 * i)) & 15
            code |= self.field(digit) << (i * self.field_bits)
        return code

    def decode(self, code: np.ndarray) -> np.ndarray:
        code = np.asarray(code, dtype=I64)
        letters = np.array(self.alphabet, dtype=I64)
        w = np.zeros_like(code)
        for i in range(self.quartets):
            f = (code >> (i * self.field_bits)) & ((1 << self.field_bits) - 1)
            nz = f >> (self.select_bits + 2)
            sel = np.minimum((f >> 2) & ((1 << self.select_bits) - 1), len(letters) - 1)
            w += (nz * letters[sel]) << ((f & 3) + 4 * i)
        if self.signed:
            sign = (code >> (self.quartets * self.field_bits)) & 1
            w = np.where(sign == 1, -w, w)
        return w


@lru_cache(maxsize=64)
def _layout_tables(alphabet: tuple[int, ...], b_bits: int, signed: bool,
                   tie: str) -> tuple[AsmLayout, np.ndarray]:
    layout = AsmLayout(alphabet, b_bits, signed)
    return layout, layout.nearest(tie)


@dataclass(frozen=True)
class AsmFamily(Family):
    """p = a * sign(b) * T[|b|]: T rounds a magnitude to the nearest one the alphabet
    represents (``tie`` decides halfway cases; the rounding is global over the set of
    representable weights, not per quartet, so 15 goes to 16 with {1}). The product is
    exact for representable weights. The hardware takes the weight encoded (``AsmLayout``);
    ``encode`` maps a weight to its code.

    >>> import numpy as np
    >>> f = AsmFamily((1, 3))
    >>> f.product(np.array([10, 10]), np.array([5, 7]), 8, 8, False).tolist()  # 5 -> 6, 7 -> 8
    [60, 80]
    >>> f.layout(8, True).bits, len(f.layout(8, False).representable())
    (9, 64)
    """

    name: ClassVar[str] = "asm"
    title: ClassVar[str] = "alphabet set multiplier: weights as sums of letter * 2^s quartets"
    reference: ClassVar[str] = "Sarwar et al., ACM JETC 14(2), 2018"
    signing: ClassVar[str] = "sign-magnitude weight"

    alphabet: tuple[int, ...] = required("odd letters 1..15 including 1, e.g. 1,3 or 1,3,5,7",
                                         "A,B,...")
    tie: str = option("up", "a weight halfway between two representable ones goes up (the "
                      "larger magnitude) or down", choices=TIES)

    def __post_init__(self) -> None:
        letters = self.alphabet
        spec = self.spec()
        bad = [a for a in letters if not (1 <= a <= 15 and a % 2 == 1)]
        if bad:
            raise SemanticError(f"--multiplier {spec!r}: alphabet letters are odd numbers 1 to "
                                f"15 (even ones are shifts of odd ones); {bad[0]} is not")
        if 1 not in letters:
            raise SemanticError(f"--multiplier {spec!r}: the alphabet must contain 1")
        if len(set(letters)) != len(letters):
            raise SemanticError(f"--multiplier {spec!r}: a letter appears twice")
        object.__setattr__(self, "alphabet", tuple(sorted(letters)))

    def layout(self, b_bits: int, signed: bool) -> AsmLayout:
        return _layout_tables(self.alphabet, b_bits, signed, self.tie)[0]

    def rounding(self, b_bits: int, signed: bool) -> np.ndarray:
        """T over every magnitude 0..magnitude_max."""
        return _layout_tables(self.alphabet, b_bits, signed, self.tie)[1]

    def represent(self, b: np.ndarray, b_bits: int, signed: bool) -> np.ndarray:
        """The weight the multiplier uses for operand b: sign(b) * T[|b|]."""
        b = np.asarray(b, dtype=I64)
        m = self.rounding(b_bits, signed)[np.abs(b)]
        return np.where(b < 0, -m, m)

    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:
        return np.asarray(a, dtype=I64) * self.represent(b, b_bits, signed)

    # --- the weight port -------------------------------------------------------------------
    def weight_bits(self, b_bits: int, signed: bool) -> int | None:
        return self.layout(b_bits, signed).bits

    def encode(self, b: np.ndarray, b_bits: int, signed: bool) -> np.ndarray:
        layout = self.layout(b_bits, signed)
        w = self.represent(b, b_bits, signed)
        code = layout.encode_magnitude(np.abs(w))
        if signed:
            code |= (w < 0).astype(I64) << (layout.quartets * layout.field_bits)
        return code

    def decode(self, code: np.ndarray, b_bits: int, signed: bool) -> np.ndarray:
        return self.layout(b_bits, signed).decode(code)
