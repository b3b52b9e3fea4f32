"""The resolved, target-neutral IR of an activation unit.

An ``ActivationUnit`` maps an input code (port ``x``) to an output code (port ``y``). Its
datapath, which every target reproduces and ``evaluate.eval_unit`` defines:

1. core input: ``v = code - in_format.code_min`` (an unsigned offset; for signed inputs this
   is the code with its sign bit flipped);
2. the core computes an integer ``y`` from ``v`` (one of the core kinds below);
3. ``y`` saturates to the output code range.

Cores hold integers only: tables, breakpoints, shifts (a float core holds float32 bit
patterns). No floats, no sympy. Each core states the range of every internal signal
(``signals()``), so targets map ranges to types and never work widths out for themselves.

``SegmentCore`` (methods table, uniform, geba, optimal): segment ``i`` of ``v`` is
found either by uniform addressing, ``i = min(v >> index_shift, len(values) - 1)`` with
segment start ``X[i] = i << index_shift``, or by a P_LUT-guided search in the sorted
breakpoints (``X = breakpoints``): ``i = p_lut[v >> p_shift]``, then ``search_steps`` times
``if i + 1 < len(X) and X[i + 1] <= v: i += 1``. Then, with F = ``slope_frac`` and
Fy = ``value_frac``::

    acc = (values[i] << (F - Fy)) + slopes[i] * (v - X[i])      (slopes present)
    acc = values[i], F = Fy                                     (no slopes)
    y   = (acc + 2^(F-1)) >> F   (arithmetic shift: round half up; y = acc when F = 0)
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..formats import Format, format_from_json
from ..unit import (
    InputSpace,
    Port,
    Range,
    signed_width,
    table_bits,
    table_bytes,
    unsigned_width,
    width_of,
)

__all__ = [
    "CORES", "ActivationUnit", "FloatSegmentCore", "Fold", "KnotCore", "Range", "SegmentCore",
    "ShiftAddCore", "ThresholdCore", "signed_width", "unsigned_width", "width_of",
]


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"invalid IR: {what}")


class _Json:
    """Round-trip frozen dataclasses of ints and tuples through JSON."""

    kind: ClassVar[str]

    def to_json(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_json(cls, obj: dict) -> Any:
        kw = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in obj and f.default is not MISSING:
                continue
            v = obj[f.name]
            kw[f.name] = tuple(int(a) for a in v) if isinstance(v, list) else v
        return cls(**kw)


class _IntegerCore(_Json):
    """An integer core: ``acc_range()`` bounds its accumulator, ``frac`` its final shift,
    ``signals()`` every internal signal (core input ``v``, accumulator ``acc``, result ``r``
    and the core's own)."""

    if TYPE_CHECKING:
        in_bits: int

        @property
        def frac(self) -> int: ...

    def acc_range(self) -> Range:  # pragma: no cover - interface
        raise NotImplementedError

    def output_range(self) -> Range:
        """Range of the core's integer output y (after its final shift)."""
        lo, hi = self.acc_range()
        return lo >> self.frac, hi >> self.frac

    def signals(self) -> dict[str, Range]:
        return {"v": (0, (1 << self.in_bits) - 1), "acc": self.acc_range(),
                "r": self.output_range(), **self._signals()}

    def _signals(self) -> dict[str, Range]:
        return {}


@dataclass(frozen=True)
class SegmentCore(_IntegerCore):
    """Piecewise-constant or piecewise-linear tables: see the module docstring."""

    kind: ClassVar[str] = "segments"

    in_bits: int  # width of the core input v
    values: tuple[int, ...]  # Y_LUT, value_frac fractional bits
    value_frac: int = 0
    slopes: tuple[int, ...] | None = None  # DY_LUT, slope_frac fractional bits
    slope_frac: int = 0
    index_shift: int = 0  # uniform addressing (when breakpoints is None)
    breakpoints: tuple[int, ...] | None = None  # X_LUT: segment starts, ascending, X[0] = 0
    p_lut: tuple[int, ...] | None = None
    p_shift: int = 0
    search_steps: int = 0
    x_shift: int = 0  # breakpoints are multiples of 2^x_shift: X_LUT stores X >> x_shift

    def __post_init__(self):
        n = len(self.values)
        _require(n >= 1, "a segment core needs values")
        _require(1 <= self.in_bits <= 32, "core input width out of range")
        if self.slopes is not None:
            _require(len(self.slopes) == n, "one slope per segment")
            _require(self.slope_frac >= self.value_frac >= 0, "slope_frac >= value_frac >= 0")
        if self.breakpoints is None:
            _require(0 <= self.index_shift <= self.in_bits, "index shift out of range")
            _require(self.x_shift == 0, "x_shift applies to breakpoints")
        else:
            bp = self.breakpoints
            _require(len(bp) == n and bp[0] == 0, "breakpoints: one per segment, first 0")
            _require(all(a < b for a, b in zip(bp, bp[1:])), "breakpoints must ascend")
            _require(
                self.p_lut is not None and len(self.p_lut) == 1 << (self.in_bits - self.p_shift),
                "P_LUT size must be 2^(in_bits - p_shift)",
            )
            _require(0 <= self.x_shift < self.in_bits
                     and all(b % (1 << self.x_shift) == 0 for b in bp),
                     "breakpoints must be multiples of 2^x_shift")

    # --- derived facts targets format (no fitting here) -----------------------------------
    @property
    def segments(self) -> int:
        return len(self.values)

    @property
    def uniform(self) -> bool:
        return self.breakpoints is None

    @property
    def frac(self) -> int:
        """Fractional bits of the accumulator (the final shift)."""
        return self.slope_frac if self.slopes is not None else self.value_frac

    @property
    def index_bits(self) -> int:
        return unsigned_width(self.segments - 1)

    def starts(self) -> tuple[int, ...]:
        if self.breakpoints is not None:
            return self.breakpoints
        return tuple(i << self.index_shift for i in range(self.segments))

    def ends(self) -> tuple[int, ...]:
        """Last core input of each segment (the last one runs to the top of v)."""
        s = self.starts()
        top = (1 << self.in_bits) - 1
        return tuple(b - 1 for b in s[1:]) + (top,)

    def offset_bits(self) -> int:
        """Width of v - X[i] (unsigned)."""
        return unsigned_width(max(e - s for s, e in zip(self.starts(), self.ends())))

    def acc_range(self) -> tuple[int, int]:
        lo = hi = 0
        up = self.frac - self.value_frac
        for k, (s, e) in enumerate(zip(self.starts(), self.ends())):
            base = self.values[k] << up
            ends = [base]
            if self.slopes is not None:
                ends.append(base + self.slopes[k] * (e - s))
            lo, hi = min(lo, *ends), max(hi, *ends)
        rnd = (1 << (self.frac - 1)) if self.frac > 0 else 0
        return lo, hi + rnd

    def _signals(self) -> dict[str, Range]:
        out = {"index": (0, self.segments - 1), "y": (min(self.values), max(self.values))}
        if self.slopes is not None:
            top = (1 << self.offset_bits()) - 1  # the offset signal v - X[i] is that wide
            out["dy"] = (min(self.slopes), max(self.slopes))
            out["offset"] = (0, top)
            out["product"] = (min(0, *(s * top for s in self.slopes)),
                              max(0, *(s * top for s in self.slopes)))
        if self.breakpoints is not None:
            assert self.p_lut is not None
            out["x"] = (0, max(self.breakpoints) >> self.x_shift)
            out["p"] = (min(self.p_lut), max(self.p_lut))
        return out

    def split_signals(self, h: int) -> dict[str, Range]:
        """The signals of the interpolation computed in two parts split at bit h
        (1 <= h <= frac), for a target whose words cannot hold ``acc`` (32-bit C for some
        16-bit designs). With F = frac, u = F - value_frac, d = v - X[i], the rounding
        constant R = 2^(F-1), and DY = dy_high*2^h + dy_low, Y*2^u = y_high*2^h + y_low,
        R = r_high*2^h + r_low (each low part in [0, 2^h))::

            low  = dy_low*d + y_low + r_low                     (never negative)
            high = dy_high*d + y_high + r_high + (low >> h)
            y    = high >> (F - h)                              (floor)

        equals ``(acc + R) >> F`` exactly. ``low`` bounds every partial sum of low (they
        only grow), ``high`` every partial sum of high in that order; ``dy_high`` and
        ``y_high`` are the high parts' ranges.

        >>> core = SegmentCore(4, (0, 40), 3, slopes=(1000, -9), slope_frac=9, index_shift=3)
        >>> core.split_signals(4)["low"], core.split_signals(4)["high"]
        ((0, 56), (-7, 453))
        """
        assert self.slopes is not None and 1 <= h <= self.frac
        F, u = self.frac, self.frac - self.value_frac
        mask = (1 << h) - 1
        rnd = 1 << (F - 1)
        low_lo = high_lo = dyh_lo = yh_lo = 2**63
        low_hi = high_hi = dyh_hi = yh_hi = -(2**63)
        for k, (s, e) in enumerate(zip(self.starts(), self.ends())):
            dy, y = self.slopes[k], self.values[k] << u
            dyh, dyl, yh, yl = dy >> h, dy & mask, y >> h, y & mask
            lo, hi = yl + (rnd & mask), dyl * (e - s) + yl + (rnd & mask)
            p1 = sorted((0, dyh * (e - s)))
            p2 = [p + yh for p in p1]
            p3 = [p + (rnd >> h) for p in p2]
            p4 = [p3[0] + (lo >> h), p3[1] + (hi >> h)]
            low_lo, low_hi = min(low_lo, lo), max(low_hi, hi)
            high_lo = min(high_lo, p1[0], p2[0], p3[0], p4[0])
            high_hi = max(high_hi, p1[1], p2[1], p3[1], p4[1])
            dyh_lo, dyh_hi, yh_lo, yh_hi = min(dyh_lo, dyh), max(dyh_hi, dyh), min(yh_lo, yh), \
                max(yh_hi, yh)
        return {"low": (low_lo, low_hi), "high": (high_lo, high_hi), "dy_high": (dyh_lo, dyh_hi),
                "y_high": (yh_lo, yh_hi)}

    def tables(self) -> dict[str, tuple[int, ...]]:
        """The stored tables: Y_LUT, DY_LUT, X_LUT (breakpoints >> x_shift) and P_LUT."""
        out = {"y": self.values}
        if self.slopes is not None:
            out["dy"] = self.slopes
        if self.breakpoints is not None:
            assert self.p_lut is not None
            out["x"] = tuple(b >> self.x_shift for b in self.breakpoints)
            out["p"] = self.p_lut
        return out

    def memory_bits(self) -> int:
        """Bits of every table at its minimal width (unit.stored_width)."""
        return table_bits(self.tables())

    def memory_bytes(self) -> int:
        """Bytes of every table in byte-addressed memory (unit.word_bytes)."""
        return table_bytes(self.tables())

    def parameters(self) -> dict:
        out: dict[str, Any] = {"segments": self.segments}
        if self.slopes is not None:
            out.update(value_frac=self.value_frac, slope_frac=self.slope_frac)
        if self.breakpoints is not None:
            out["x_shift"] = self.x_shift
        return out

    def summary(self) -> str:
        kind = "interpolated" if self.slopes is not None else "constant"
        if self.uniform:
            addr = "uniform top-bit addressing"
        else:
            grid = f", breakpoints on a 2^{self.x_shift} grid" if self.x_shift else ""
            addr = f"P_LUT-guided search{grid}"
        return f"{self.segments} {kind} segments, {addr}"


def _is_pow2(m: int) -> bool:
    return m >= 1 and m & (m - 1) == 0


@dataclass(frozen=True)
class KnotCore(_IntegerCore):
    """Hierarchical segmentation with chord interpolation between stored knots, after Lee,
    Luk, Villasenor and Cheung ("Hierarchical segmentation for hardware function evaluation",
    IEEE TVLSI 17(1), 2009): a uniform outer level (the top bits of v pick a region) and a
    uniform inner level (each region split into equal segments). No X_LUT and no DY_LUT: a
    segment costs one knot. With r = ``region_bits``, T = in_bits - r, Fy = ``value_frac``
    and base[j] = counts[0] + ... + counts[j-1]::

        j   = v >> T                  o = v & (2^T - 1)         region, offset in it
        p   = o * counts[j]                                     a shift when every count is
                                                                a power of two
        i   = base[j] + (p >> T)      f = p & (2^T - 1)         knot index, place in segment
        acc = K[i] * 2^T + (K[i+1] - K[i]) * f
        y   = (acc + 2^(T+Fy-1)) >> (T + Fy)                    round half up

    Segment k of region j holds the offsets o with floor(o * counts[j] / 2^T) = k; its knots
    sit at o = k * 2^T / counts[j] and (k + 1) * 2^T / counts[j], and the last knot of a
    region is the first of the next, so the unit is continuous (but at the saturation).

    >>> core = KnotCore(in_bits=4, region_bits=1, counts=(1, 2), knots=(0, 8, 12, 16))
    >>> [core.starts(), core.segments, core.tables()["base"]]
    [(0, 8, 12), 3, (0, 1)]
    """

    kind: ClassVar[str] = "knots"

    in_bits: int
    region_bits: int  # r: the top r bits of v select one of 2^r regions
    counts: tuple[int, ...]  # segments per region
    knots: tuple[int, ...]  # sum(counts) + 1 knot values, value_frac fractional bits
    value_frac: int = 0

    def __post_init__(self):
        r = self.region_bits
        _require(1 <= self.in_bits <= 32, "core input width out of range")
        _require(0 <= r < self.in_bits, "region bits must lie in 0..in_bits - 1")
        _require(len(self.counts) == 1 << r, "one segment count per region (2^region_bits)")
        _require(all(1 <= m <= 1 << self.shift for m in self.counts),
                 "a region holds 1 to 2^(in_bits - region_bits) segments")
        _require(len(self.knots) == sum(self.counts) + 1, "knots: one more than segments")
        _require(0 <= self.value_frac <= 16, "value_frac out of range")

    @property
    def shift(self) -> int:
        """T: offset bits within a region."""
        return self.in_bits - self.region_bits

    @property
    def frac(self) -> int:
        return self.shift + self.value_frac

    @property
    def segments(self) -> int:
        return len(self.knots) - 1

    @property
    def pow2(self) -> bool:
        """Every count a power of two: the product o * counts[j] is a shift."""
        return all(_is_pow2(m) for m in self.counts)

    @property
    def bases(self) -> tuple[int, ...]:
        out, b = [], 0
        for m in self.counts:
            out.append(b)
            b += m
        return tuple(out)

    def starts(self) -> tuple[int, ...]:
        """First core input of every segment, ascending."""
        T = self.shift
        out = []
        for j, m in enumerate(self.counts):
            out += [(j << T) + -((-k << T) // m) for k in range(m)]  # ceil(k * 2^T / m)
        return tuple(out)

    def ends(self) -> tuple[int, ...]:
        s = self.starts()
        return tuple(b - 1 for b in s[1:]) + ((1 << self.in_bits) - 1,)

    def count_table(self) -> tuple[int, ...]:
        """The per-region table that scales the offset: log2(counts) when every count is a
        power of two (a shift), else the counts (a multiplier)."""
        if self.pow2:
            return tuple(m.bit_length() - 1 for m in self.counts)
        return self.counts

    def tables(self) -> dict[str, tuple[int, ...]]:
        """The stored tables: the knots, and with regions the base index and the count (or
        its log2) of each region."""
        out = {"knots": self.knots}
        if self.region_bits:
            out.update(base=self.bases, count=self.count_table())
        return out

    def memory_bits(self) -> int:
        """Bits of every table at its minimal width (unit.stored_width)."""
        return table_bits(self.tables())

    def memory_bytes(self) -> int:
        """Bytes of every table in byte-addressed memory (unit.word_bytes)."""
        return table_bytes(self.tables())

    def _diffs(self) -> list[int]:
        return [b - a for a, b in zip(self.knots, self.knots[1:])]

    def acc_range(self) -> Range:
        T = self.shift
        top = (1 << T) - 1
        lo = hi = 0
        for k0, dk in zip(self.knots, self._diffs()):
            ends = (k0 << T, (k0 << T) + dk * top)
            lo, hi = min(lo, *ends), max(hi, *ends)
        return lo, hi + (1 << (self.frac - 1))

    def _signals(self) -> dict[str, Range]:
        top = (1 << self.shift) - 1
        dk = self._diffs()
        out = {
            "offset": (0, top),
            "product": (0, top * max(self.counts)),
            "index": (0, self.segments - 1),
            "f": (0, top),
            "k0": (min(self.knots), max(self.knots)),
            "k1": (min(self.knots), max(self.knots)),
            "dk": (min(dk), max(dk)),
            "term": (min(0, min(dk) * top), max(0, max(dk) * top)),
        }
        if self.region_bits:
            out.update(region=(0, (1 << self.region_bits) - 1),
                       base=(min(self.bases), max(self.bases)),
                       count=(min(self.count_table()), max(self.count_table())))
        return out

    def parameters(self) -> dict:
        return {"segments": self.segments, "knots": len(self.knots),
                "region_bits": self.region_bits, "counts": list(self.counts),
                "value_frac": self.value_frac,
                "addressing": "shift" if self.pow2 else "multiply"}

    def summary(self) -> str:
        addr = "shift" if self.pow2 else "multiply"
        regions = f"{1 << self.region_bits} regions of" if self.region_bits else "one region of"
        return (f"{self.segments} chord segments between stored knots, {regions} uniform "
                f"segments ({addr} addressing)")


@dataclass(frozen=True)
class FloatSegmentCore(_Json):
    """Segment tables over a float input, evaluated in float32 (C and Python alike).

    All floats are stored as float32 bit patterns. Datapath, for input value x:

    1. clamp: ``x = lo`` when not ``x >= lo`` (NaN included), then ``x = min(x, hi)``;
    2. P_LUT index from the sign, the exponent clamped to [p_emin, p_emax] and the top
       ``p_mant`` mantissa bits (floatbits.p_index); ``i = p_lut[index]``, then
       ``search_steps`` times ``if i + 1 < N and X[i + 1] <= x: i += 1``;
    3. ``d = x - X[i]``, ``p = DY[i] * d``, ``y = Y[i] + p``: three float32 operations,
       each rounded to nearest even, in this order, never fused.
    The output conversion (float kind or fixed-point code) belongs to the design's output
    format: see evaluate.py."""

    kind: ClassVar[str] = "float_segments"

    in_kind: str  # fp32 | fp16 | bf16
    lo: int  # float32 bits of the clamp bounds
    hi: int
    breakpoints: tuple[int, ...]  # float32 bits, ascending values
    values: tuple[int, ...]  # float32 bits
    slopes: tuple[int, ...]  # float32 bits
    p_lut: tuple[int, ...]
    p_emin: int
    p_emax: int
    p_mant: int
    search_steps: int

    def __post_init__(self):
        n = len(self.values)
        _require(n >= 1 and len(self.slopes) == n and len(self.breakpoints) == n,
                 "one breakpoint, value and slope per segment")
        _require(0 <= self.p_emin <= self.p_emax <= 254 and 0 <= self.p_mant <= 23,
                 "P_LUT exponent/mantissa fields out of range")
        _require(len(self.p_lut) == 2 * ((self.p_emax - self.p_emin + 1) << self.p_mant),
                 "P_LUT size must match its fields")

    @property
    def segments(self) -> int:
        return len(self.values)

    @property
    def index_bits(self) -> int:
        return unsigned_width(self.segments - 1)

    def signals(self) -> dict[str, Range]:
        """The integer signals of the float datapath: the segment index and the P_LUT."""
        return {"index": (0, self.segments - 1), "p": (min(self.p_lut), max(self.p_lut))}

    def memory_bits(self) -> int:
        x_bits = 32 if self.in_kind == "fp32" else 16  # breakpoints are input values
        return self.segments * (x_bits + 64) + len(self.p_lut) * self.index_bits

    def memory_bytes(self) -> int:
        """float32 X, Y and DY (4 bytes each) and the P_LUT in byte-addressed memory."""
        return self.segments * 12 + table_bytes({"p": self.p_lut})

    def parameters(self) -> dict:
        return {"segments": self.segments}

    def summary(self) -> str:
        return (f"{self.segments} float32 segments, P_LUT on sign/exponent/{self.p_mant} "
                f"mantissa bits, {self.search_steps} search steps")


@dataclass(frozen=True)
class Fold(_Json):
    """Symmetry exploited in the datapath: f(x) = a + b*x + sign*f(-x), in codes.

    With e = code - center (center: the input code of x = 0), the core sees
    ``v = min(|e|, 2^bits - 1)`` and its output y' becomes ``y = y'`` for e >= 0 and
    ``y = sign*y' + offset + slope*e`` for e < 0, before saturation. ``offset`` =
    a/scale_out + (1 - sign)*zero_point_out and ``slope`` = b*scale_in/scale_out are whole
    numbers, so the mirrored half has exactly the stored half's error."""

    kind: ClassVar[str] = "fold"

    symmetry: str  # odd | point | even | odd_plus_linear
    relation: str  # e.g. "f(x) = 1 - f(-x)"
    center: int
    sign: int
    offset: int
    slope: int
    bits: int  # core input width

    def __post_init__(self):
        _require(self.sign in (-1, 1), "fold sign must be +1 or -1")
        _require(1 <= self.bits <= 32, "fold width out of range")

    @property
    def vmax(self) -> int:
        return (1 << self.bits) - 1

    def to_json(self) -> dict:
        out = super().to_json()
        del out["kind"]
        return out

    def output_range(self, lo: int, hi: int, e_min: int) -> tuple[int, int]:
        """Range of the mirrored output for core outputs in [lo, hi] and e in [e_min, -1]."""
        ends = [self.sign * y + self.offset + self.slope * e for y in (lo, hi) for e in (e_min, -1)]
        return min(ends), max(ends)


def _ascending(values, strict: bool) -> bool:
    return all(a < b if strict else a <= b for a, b in zip(values, values[1:]))


@dataclass(frozen=True)
class ShiftAddCore(_IntegerCore):
    """GRAU: piecewise-linear segments whose slopes are sums of signed powers of two, so the
    datapath has comparators, shifts and adders but no multiplier. With S segments and
    K = ``terms`` slope terms per segment (``signs``/``shifts`` are S x K, row-major)::

        seg = number of breakpoints b with v >= b              (S - 1 comparators)
        xp  = v << pre_shift                                     (input pre-shift)
        t_k = xp >> shifts[seg][k]                               (per-segment right shift)
        acc = biases[seg] + sum_k (t_k if signs[seg][k] > 0      (shift-add)
                                   else ~t_k if signs[seg][k] < 0 else 0)
        y   = acc >> frac                                        (floor, arithmetic)

    A negative term is the ones' complement ``~t = -t - 1`` (an inverter, no carry-in); the
    fitted bias absorbs the -1, and the rounding offset of the final shift. Segment ``seg``'s
    slope is sum_k signs * 2^(pre_shift - frac - shifts) output codes per input code.
    """

    kind: ClassVar[str] = "shiftadd"

    in_bits: int
    breakpoints: tuple[int, ...]  # S - 1 ascending segment starts (v), each in 1..2^in_bits-1
    biases: tuple[int, ...]  # S, with ``frac`` fractional bits
    signs: tuple[int, ...]  # S x terms of -1, 0, +1
    shifts: tuple[int, ...]  # S x terms right shifts of xp (0 where the sign is 0)
    terms: int = 1
    pre_shift: int = 0
    frac: int = 0

    def __post_init__(self):
        s, k = len(self.biases), self.terms
        _require(1 <= self.in_bits <= 32, "core input width out of range")
        _require(s >= 1 and k >= 1, "a shift-add core needs segments and terms")
        _require(len(self.breakpoints) == s - 1, "one breakpoint between each two segments")
        _require(_ascending(self.breakpoints, strict=True), "breakpoints must ascend")
        _require(all(0 < b < 1 << self.in_bits for b in self.breakpoints),
                 "breakpoints must lie inside the input range")
        _require(len(self.signs) == s * k and len(self.shifts) == s * k, "S x terms signs/shifts")
        _require(all(g in (-1, 0, 1) for g in self.signs), "signs are -1, 0 or +1")
        _require(0 <= self.frac <= 30 and 0 <= self.pre_shift <= 30, "shift out of range")
        _require(self.in_bits + self.pre_shift <= 62, "pre-shifted input wider than 62 bits")
        _require(all(0 <= r <= self.in_bits + self.pre_shift for r in self.shifts),
                 "shifts must lie in 0..in_bits + pre_shift")
        for i in range(s):
            used = [r for g, r in self.segment_terms(i) if g]
            _require(len(set(used)) == len(used), "a segment's terms need distinct shifts")

    @property
    def segments(self) -> int:
        return len(self.biases)

    def segment_terms(self, i: int) -> list[tuple[int, int]]:
        """[(sign, shift), ...] of segment i, zero terms included."""
        k = self.terms
        return list(zip(self.signs[i * k : (i + 1) * k], self.shifts[i * k : (i + 1) * k]))

    def starts(self) -> tuple[int, ...]:
        return (0, *self.breakpoints)

    def ends(self) -> tuple[int, ...]:
        return tuple(b - 1 for b in self.breakpoints) + ((1 << self.in_bits) - 1,)

    def slope(self, i: int) -> float:
        """Segment i's slope in output codes per input code."""
        e = self.pre_shift - self.frac
        return float(sum(g * 2.0 ** (e - r) for g, r in self.segment_terms(i)))

    def slope_text(self, i: int) -> str:
        """Segment i's slope as signed powers of two, e.g. ``2^-3 - 2^-6`` (or ``0``)."""
        e = self.pre_shift - self.frac
        parts = [("-" if g < 0 else "+", f"2^{e - r}") for g, r in self.segment_terms(i) if g]
        if not parts:
            return "0"
        text = " ".join(f"{sgn} {p}" for sgn, p in parts)
        return text[2:] if text.startswith("+") else "-" + text[2:]

    def digit_range(self) -> tuple[int, int]:
        """(lowest, highest) shift any non-zero term uses: the serial unit's bit positions."""
        used = [r for g, r in zip(self.signs, self.shifts) if g]
        return (min(used), max(used)) if used else (0, 0)

    def term_range(self, i: int, sign: int, shift: int) -> tuple[int, int]:
        """Smallest and largest value term (sign, shift) takes on segment i."""
        lo = (self.starts()[i] << self.pre_shift) >> shift
        hi = (self.ends()[i] << self.pre_shift) >> shift
        if sign > 0:
            return lo, hi
        return (~hi, ~lo) if sign < 0 else (0, 0)

    def acc_range(self) -> tuple[int, int]:
        lo = hi = 0
        for i in range(self.segments):
            a = b = self.biases[i]
            for g, r in self.segment_terms(i):
                t0, t1 = self.term_range(i, g, r)
                a, b = a + t0, b + t1
            lo, hi = min(lo, a), max(hi, b)
        return lo, hi

    def _signals(self) -> dict[str, Range]:
        # every partial sum of the bias and the terms (what C's accumulator must hold; a
        # Verilog adder wraps harmlessly, so only the final acc matters there)
        terms = [max(abs(a) for a in self.term_range(i, g, r)) for i in range(self.segments)
                 for g, r in self.segment_terms(i)]
        reach = max(abs(b) for b in self.biases) + self.terms * max(terms) + 1
        return {"index": (0, self.segments - 1), "bias": (min(self.biases), max(self.biases)),
                "xp": (0, ((1 << self.in_bits) - 1) << self.pre_shift), "partial": (-reach, reach)}

    def memory_bits(self) -> int:
        """Bits of the per-segment constants: breakpoints, biases, signs and shifts."""
        if self.segments == 1:
            bp = 0
        else:
            bp = (self.segments - 1) * self.in_bits
        shift_bits = unsigned_width(max(self.shifts))
        return (bp + self.segments * width_of(self.biases)[0]
                + self.segments * self.terms * (2 + shift_bits))

    def parameters(self) -> dict:
        s = 2.0 ** -self.frac
        return {
            "segments_used": self.segments,
            "breakpoints": list(self.breakpoints),
            "slope_terms": [self.slope_text(i) for i in range(self.segments)],
            "slope_values": [self.slope(i) for i in range(self.segments)],
            "biases": [b * s for b in self.biases],
            "pre_shift": self.pre_shift,
            "frac": self.frac,
        }

    def summary(self) -> str:
        return (f"{self.segments} shift-add segments (up to {self.terms} power-of-two slope "
                f"term{'s' if self.terms > 1 else ''})")


@dataclass(frozen=True)
class ThresholdCore(_IntegerCore):
    """FINN's multi-threshold unit, extended to any function on the codes::

        y = base + #{t in up: v >= t} - #{t in down: v >= t}

    For a non-decreasing function ``down`` is empty and this is FINN's unit: the output is
    the number of thresholds reached plus an offset. Where the correctly rounded output
    falls (GELU, SiLU left of their minimum), each downward step is a ``down`` threshold,
    so the unit stays exact on every code. Thresholds repeat where the output jumps by more
    than one code.
    """

    kind: ClassVar[str] = "threshold"

    in_bits: int
    base: int
    up: tuple[int, ...]
    down: tuple[int, ...]

    def __post_init__(self):
        _require(1 <= self.in_bits <= 32, "core input width out of range")
        for lst in (self.up, self.down):
            _require(_ascending(lst, strict=False), "thresholds must ascend")
            _require(all(0 < t < 1 << self.in_bits for t in lst),
                     "thresholds must lie inside the input range")

    @property
    def thresholds(self) -> int:
        return len(self.up) + len(self.down)

    @property
    def monotone(self) -> bool:
        return not (self.up and self.down)

    @property
    def frac(self) -> int:
        """No fractional bits: the count is the output."""
        return 0

    def search_steps(self) -> tuple[int, int]:
        """Binary-search steps of the serial unit for the up and the down list."""
        return len(self.up).bit_length(), len(self.down).bit_length()

    def acc_range(self) -> tuple[int, int]:
        return self.base - len(self.down), self.base + len(self.up)

    def _signals(self) -> dict[str, Range]:
        return {"up_count": (0, len(self.up)), "down_count": (0, len(self.down))}

    def memory_bits(self) -> int:
        return self.thresholds * self.in_bits

    def parameters(self) -> dict:
        return {
            "thresholds": self.thresholds,
            "up_thresholds": len(self.up),
            "down_thresholds": len(self.down),
            "monotone": self.monotone,
            "base": self.base,
        }

    def summary(self) -> str:
        kind = "monotone" if self.monotone else "signed (non-monotone)"
        return f"{self.thresholds} thresholds, {kind}"


CORES: dict[str, Any] = {
    c.kind: c for c in (SegmentCore, KnotCore, FloatSegmentCore, ShiftAddCore, ThresholdCore)
}


@dataclass(frozen=True)
class ActivationUnit:
    """An activation: input port ``x``, output port ``y``, formats, core, optional fold.
    What every target emits; ``evaluate.eval_unit`` is its meaning."""

    kind: ClassVar[str] = "activation"

    name: str
    in_format: Format
    out_format: Format
    core: Any  # one of CORES
    fold: Fold | None = None
    meta: dict = field(default_factory=dict, compare=False)

    # --- the Unit protocol ----------------------------------------------------------------
    @property
    def inputs(self) -> tuple[Port, ...]:
        return (Port("x", self.in_format),)

    @property
    def outputs(self) -> tuple[Port, ...]:
        return (Port("y", self.out_format),)

    def input_space(self) -> InputSpace:
        from .space import check_codes

        codes = check_codes(self)
        exhaustive = len(codes) == 1 << self.in_format.bits
        return InputSpace({"x": codes}, exhaustive, "every input code" if exhaustive else
                          "the documented sample of input codes (docs/reference/verification.md)")

    def evaluate(self, **inputs: Any) -> dict[str, np.ndarray]:
        from .evaluate import evaluate as eval_unit

        return {"y": eval_unit(self, inputs["x"])}

    def summary(self) -> str:
        return self.core.summary() + f", {self.memory_bits} ROM bits"

    @property
    def memory_bits(self) -> int:
        return int(self.core.memory_bits())

    @property
    def memory_bytes(self) -> int | None:
        """Bytes of the core's tables in byte-addressed memory (None for cores whose
        constants are not tables)."""
        f = getattr(self.core, "memory_bytes", None)
        return None if f is None else int(f())

    # --- the integer frame around the core --------------------------------------------------
    @property
    def core_bits(self) -> int:
        """Width of the core input v."""
        return self.fold.bits if self.fold else self.in_format.bits

    def mirror_range(self) -> Range:
        """Range of e = code - center on the mirrored side (fold only)."""
        assert self.fold is not None
        return self.in_format.code_min - self.fold.center, -1

    def result_range(self) -> Range:
        """Range of the value that saturates to the output: the core output, or its fold."""
        lo, hi = self.core.output_range()
        if self.fold is None:
            return lo, hi
        flo, fhi = self.fold.output_range(lo, hi, self.mirror_range()[0])
        return min(lo, flo), max(hi, fhi)

    @property
    def saturates(self) -> bool:
        lo, hi = self.result_range()
        return lo < self.out_format.code_min or hi > self.out_format.code_max

    def signals(self) -> dict[str, Range]:
        """Every signal of an integer datapath: the frame's (input ``code``, the fold's
        ``e``, ``fold_offset`` and ``fold_linear`` terms, ``result`` before saturation,
        output ``out``) and the core's, prefixed ``core.``."""
        fi, fo = self.in_format, self.out_format
        out: dict[str, Range] = {"code": (fi.code_min, fi.code_max),
                                 "result": self.result_range(), "out": (fo.code_min, fo.code_max)}
        if self.fold is not None:
            f = self.fold
            emin = self.mirror_range()[0]
            out["e"] = (fi.code_min - f.center, fi.code_max - f.center)
            out["fold_offset"] = (f.offset, f.offset)
            out["fold_linear"] = (min(0, f.slope * emin), max(0, f.slope * emin))
        out.update({f"core.{k}": v for k, v in self.core.signals().items()})
        return out

    # --- JSON -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "input": self.in_format.to_json(),
            "output": self.out_format.to_json(),
            "fold": self.fold.to_json() if self.fold else None,
            "core": self.core.to_json(),
        }

    @classmethod
    def from_json(cls, obj: dict) -> ActivationUnit:
        core = obj["core"]
        return cls(
            name=str(obj["name"]),
            in_format=format_from_json(obj["input"]),
            out_format=format_from_json(obj["output"]),
            core=CORES[core["kind"]].from_json(core),
            fold=Fold.from_json(obj["fold"]) if obj.get("fold") else None,
        )
