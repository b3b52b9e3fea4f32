"""The crossbar mapping: integer weights bit-sliced onto sub-arrays, inputs applied
bit-serially, one partial sum per (sub-array, input slice, weight slice, column), a converter
per partial sum, and the digital shift-and-add that accumulates the codes.

Mapping (docs/reference/adc.md documents it):

- **Weights** ``w`` (in x out), ``weight_bits`` b. Unsigned: 0..2^b - 1, stored as is.
  Signed, ``scheme="differential"`` (default): a pair of columns holds |w| on the positive or
  the negative side, m = max(1, b - 1) magnitude bits, so w lies in [-(2^m - 1), 2^m - 1];
  the pair's currents are subtracted in the analog domain and one converter reads the
  signed partial sum. Signed, ``scheme="offset"``: the cells hold w + 2^(b-1) (b bits,
  w in [-2^(b-1), 2^(b-1) - 1]) and a reference column holding 2^(b-1) in every row is read
  and converted like the others; the back end subtracts it.
- The stored magnitude is cut into slices of ``cell_bits`` (1, 2 or 4), least significant
  first, one column per slice; rows are tiled onto ``ceil(in / rows)`` sub-arrays (unused
  rows hold zero).
- **Inputs** ``x`` (batch x in) are unsigned codes of ``input_bits``, applied ``dac_bits`` at
  a time, least significant slice first.
- Partial sum ``ps[r, j, s, o] = sum over the rows i of sub-array r of x_j[i] * w_s[i, o]``.
  Its range is [-M, M] (differential) or [0, M], M = rows (2^cell_bits - 1)(2^dac_bits - 1).
- Skipped conversions (``zero_skip``): ``hardware`` (default) skips a conversion when the
  input slice on its sub-array is all zero (a NOR over the DAC inputs, at run time) or its
  weight slice's column on that sub-array is all zero (known at mapping); ``stoxnet`` skips
  every partial sum that is exactly zero (StoX-Net's software model); ``none`` converts
  all. A skipped conversion contributes exactly zero.
- Back end: ``y = sum over r, j, s of 2^(j dac_bits + s cell_bits) (gain code - offset)``
  over the conversions not skipped (minus the same sum over the reference column for
  ``offset``), an integer; ``lsb * y`` estimates ``x @ w``, and with the ``ideal`` converter
  ``y == x @ w`` exactly.

>>> import numpy as np
>>> xb = Crossbar(rows=16, weight_bits=4, input_bits=4)
>>> rng = np.random.default_rng(1)
>>> x = rng.integers(0, 16, (3, 40)); w = rng.integers(-7, 8, (40, 5))
>>> bool(np.array_equal(xb.matmul(x, w, converter("ideal")), x @ w))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..options import option
from .converters import Converter, converter, default_rng

__all__ = ["SCHEMES", "ZERO_SKIP", "Crossbar", "Term"]

SCHEMES = ("differential", "offset")
ZERO_SKIP = ("hardware", "stoxnet", "none")
ROWS = (16, 512)
CELL_BITS = (1, 2, 4)


@dataclass(frozen=True)
class Term:
    """One conversion's place in the accumulation: input slice ``j``, weight slice ``s``
    (-1 for the reference column), its shift and sign."""

    j: int
    s: int
    shift: int
    sign: int


@dataclass(frozen=True)
class Crossbar:
    """A crossbar configuration (see the module docstring)."""

    rows: int = option(128, "rows per sub-array (16 to 512)", metavar="N")
    cell_bits: int = option(1, "bits per cell (1, 2 or 4)", metavar="B")
    dac_bits: int = option(1, "input bits applied per step (1 to --input-bits)", metavar="B")
    weight_bits: int = option(4, "weight bits (1 to 8)", metavar="B")
    input_bits: int = option(4, "input (activation) bits (1 to 8)", metavar="B")
    zero_skip: str = option("hardware", "skipped conversions: hardware (the input slice on "
                            "the sub-array or the weight slice's column is all zero), stoxnet "
                            "(every zero partial sum) or none", choices=ZERO_SKIP)
    signed: bool = True
    scheme: str = "differential"

    @classmethod
    def from_scheme(cls, scheme: str, **kw: Any) -> Crossbar:
        """A crossbar from the command line's ``--scheme``: differential, offset or
        unsigned."""
        if scheme == "unsigned":
            return cls(signed=False, **kw)
        return cls(signed=True, scheme=scheme, **kw)

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, *ROWS)
        if self.cell_bits not in CELL_BITS:
            raise ConfigError(f"cell_bits {self.cell_bits} is impossible: use 1, 2 or 4")
        _check_int("weight_bits", self.weight_bits, 1, 8)
        _check_int("input_bits", self.input_bits, 1, 8)
        _check_int("dac_bits", self.dac_bits, 1, self.input_bits)
        if self.zero_skip not in ZERO_SKIP:
            raise ConfigError(f"zero_skip {self.zero_skip!r}: use {', '.join(ZERO_SKIP)}")
        if self.scheme not in SCHEMES:
            raise ConfigError(f"scheme {self.scheme!r}: use {' or '.join(SCHEMES)}"
                              + (" (or signed=False)" if self.scheme == "unsigned" else ""))

    # --- the mapping ------------------------------------------------------------------------
    @property
    def differential(self) -> bool:
        return self.signed and self.scheme == "differential"

    @property
    def offset(self) -> bool:
        return self.signed and self.scheme == "offset"

    @property
    def weight_range(self) -> tuple[int, int]:
        b = self.weight_bits
        if not self.signed:
            return 0, (1 << b) - 1
        if self.differential:
            m = max(1, b - 1)
            return -((1 << m) - 1), (1 << m) - 1
        return -(1 << (b - 1)), (1 << (b - 1)) - 1

    @property
    def stored_bits(self) -> int:
        """Bits of the value each cell group holds (the magnitude for differential)."""
        return max(1, self.weight_bits - 1) if self.differential else self.weight_bits

    @property
    def weight_slices(self) -> int:
        return math.ceil(self.stored_bits / self.cell_bits)

    @property
    def input_slices(self) -> int:
        return math.ceil(self.input_bits / self.dac_bits)

    @property
    def ps_range(self) -> tuple[int, int]:
        m = self.rows * ((1 << self.cell_bits) - 1) * ((1 << self.dac_bits) - 1)
        return (-m, m) if self.differential else (0, m)

    def subarrays(self, in_features: int) -> int:
        return max(1, math.ceil(in_features / self.rows))

    def terms(self) -> list[Term]:
        """The conversions of one column per sub-array, in back-end order (input slice, then
        weight slice; the reference column last in each input slice)."""
        out = []
        for j in range(self.input_slices):
            for s in range(self.weight_slices):
                out.append(Term(j, s, j * self.dac_bits + s * self.cell_bits, 1))
            if self.offset:
                out.append(Term(j, -1, j * self.dac_bits + self.ref_slice * self.cell_bits, -1))
        return out

    @property
    def ref_slice(self) -> int:
        """The weight slice of the reference value 2^(b-1) (offset scheme)."""
        return (self.weight_bits - 1) // self.cell_bits

    @property
    def ref_cell(self) -> int:
        """The reference column's cell value: 2^(b-1) within its slice."""
        return 1 << ((self.weight_bits - 1) - self.ref_slice * self.cell_bits)

    def conversions(self, in_features: int, out_features: int) -> int:
        """Conversions per input vector: sub-arrays x input slices x (weight slices x out,
        plus one reference column per sub-array for the offset scheme)."""
        per = self.weight_slices * out_features + (1 if self.offset else 0)
        return self.subarrays(in_features) * self.input_slices * per

    def bind(self, conv: Converter | str) -> Converter:
        """The converter on this crossbar's partial-sum range (its own clip or range kept)."""
        lo, hi = self.ps_range
        return converter(conv).bind(lo, hi)

    # --- the computation --------------------------------------------------------------------
    def check(self, x: Any, w: Any) -> tuple[np.ndarray, np.ndarray]:
        """Integer arrays x (batch x in) and w (in x out) in range, or ConfigError."""
        x = _integers(x, "x")
        w = _integers(w, "w")
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
            raise ConfigError(f"shapes do not match: x {x.shape} must be (batch, in) and w "
                              f"{w.shape} (in, out)")
        if x.size and (x.min() < 0 or x.max() > (1 << self.input_bits) - 1):
            raise ConfigError(f"inputs must be {self.input_bits}-bit unsigned codes "
                              f"(0..{(1 << self.input_bits) - 1})")
        lo, hi = self.weight_range
        if w.size and (w.min() < lo or w.max() > hi):
            raise ConfigError(f"weights must lie in [{lo}, {hi}] ({self.weight_bits} bits, "
                              f"{'signed ' + self.scheme if self.signed else 'unsigned'})")
        return x, w

    def _slices(self, w: np.ndarray) -> list[np.ndarray]:
        """Signed cell values (in x out) of each weight slice, least significant first."""
        mask = (1 << self.cell_bits) - 1
        if self.differential:
            pos, neg = np.maximum(w, 0), np.maximum(-w, 0)
            return [((pos >> (s * self.cell_bits)) & mask) - ((neg >> (s * self.cell_bits))
                                                             & mask)
                    for s in range(self.weight_slices)]
        u = w + (1 << (self.weight_bits - 1)) if self.offset else w
        return [(u >> (s * self.cell_bits)) & mask for s in range(self.weight_slices)]

    def partial_sums(self, x: Any, w: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """``ps`` of shape (batch, sub-arrays, input slices, weight slices, out), int64, and
        for the offset scheme the reference column's (batch, sub-arrays, input slices)."""
        from .engine import NumpyOps, slices

        x, w = self.check(x, w)
        xs, wt = slices(NumpyOps(), x, w, self)  # (J, R, B, rows), (R, rows, S, out)
        ps = np.einsum("jrbk,rkso->brjso", xs.astype(np.float64), wt.astype(np.float64))
        ps = np.rint(ps).astype(np.int64)
        ref = None
        if self.offset:
            ref = np.transpose(xs.sum(axis=3), (2, 1, 0)).astype(np.int64) * self.ref_cell
        return ps, ref

    def skips(self, x: Any, w: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The skip flags (``zero_skip``; True: skipped) of the conversions whose partial
        sums ``partial_sums(x, w)`` returns, in the same shapes."""
        from .engine import NumpyOps, skip_flags, slices

        ps, ref = self.partial_sums(x, w)
        if self.zero_skip == "none":
            return np.zeros(ps.shape, dtype=bool), (None if ref is None else
                                                     np.zeros(ref.shape, dtype=bool))
        if self.zero_skip == "stoxnet":
            return ps == 0, (None if ref is None else ref == 0)
        x, w = self.check(x, w)
        xz, wz = skip_flags(*slices(NumpyOps(), x, w, self))  # (J, R, B), (R, S, out)
        xzb = np.transpose(xz, (2, 1, 0))  # (B, R, J)
        skip = xzb[:, :, :, None, None] | wz[None, :, None, :, :]
        return skip, (xzb if ref is not None else None)

    def accumulate(self, codes: np.ndarray, ref_codes: np.ndarray | None, conv: Converter,
                   skip: np.ndarray | None = None, ref_skip: np.ndarray | None = None
                   ) -> np.ndarray:
        """The back end: y = sum of 2^shift (gain code - offset) over sub-arrays and slices
        (minus the reference column's), skipped conversions (``skip``, ``ref_skip``: True)
        contributing zero; int64 (batch x out)."""
        d = conv.decode
        y = np.zeros((codes.shape[0], codes.shape[-1]), dtype=np.int64)
        for t in self.terms():
            if t.s < 0:
                assert ref_codes is not None
                v = d.gain * ref_codes[:, :, t.j] - d.offset
                if ref_skip is not None:
                    v = np.where(ref_skip[:, :, t.j], 0, v)
                part = v.sum(axis=1)[:, None]
            else:
                v = d.gain * codes[:, :, t.j, t.s, :] - d.offset
                if skip is not None:
                    v = np.where(skip[:, :, t.j, t.s, :], 0, v)
                part = v.sum(axis=1)
            y += t.sign * (part << t.shift)
        return y

    def matmul(self, x: Any, w: Any, converter: Converter | str | Sequence[Converter | str],
               rng: np.random.Generator | int | None = None) -> np.ndarray:
        """The digitally accumulated integer result (batch x out) of x @ w through the
        converter (or one converter per input slice, their lsbs in power-of-two ratios);
        multiply by ``output_lsb(converter)`` for the estimate of x @ w. ``rng`` (a
        Generator or a seed; None = seed 0) draws the key of the MTJ's random stream
        (``actc.adc.engine``)."""
        from .engine import matmul

        convs = self.bind_slices(converter)
        x, w = self.check(x, w)
        key = int(default_rng(rng).integers(0, 1 << 63)) if any(
            c.stochastic for c in convs) else 0
        return matmul(self, x, w, convs, key, self.zero_skip)

    def bind_slices(self, converter: Converter | str | Sequence[Converter | str]
                    ) -> list[Converter]:
        """One bound converter per input slice: the same for all, or a list of J."""
        if isinstance(converter, (str, Converter)):
            return [self.bind(converter)] * self.input_slices
        convs = [self.bind(c) for c in converter]
        if len(convs) != self.input_slices:
            raise ConfigError(f"{len(convs)} converters for {self.input_slices} input slices")
        if len({(type(c), getattr(c, "samples", None)) for c in convs}) > 1:
            raise ConfigError("per-slice converters must be of one kind (and one T for mtj)")
        return convs

    def output_lsb(self, converter: Converter | str | Sequence[Converter | str]) -> float:
        """Real value (in units of x @ w) of one unit of the accumulated result (the
        smallest lsb of per-slice converters)."""
        return min(c.decode.lsb for c in self.bind_slices(converter))


def _check_int(what: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not (
            lo <= value <= hi):
        raise ConfigError(f"{what} {value!r} is out of range: use {lo} to {hi}")


def _integers(a: Any, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ConfigError(f"{what} contains NaN or infinity")
        if not np.all(arr == np.round(arr)):
            raise ConfigError(f"{what} must hold integers")
    elif arr.dtype.kind not in "iub":
        raise ConfigError(f"{what} must be an integer array, got dtype {arr.dtype}")
    return arr.astype(np.int64)
