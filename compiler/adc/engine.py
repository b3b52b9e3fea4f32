"""The crossbar engine: the one semantics of ``Crossbar.matmul`` (numpy) and of the
``actc.nn`` IMC layers (torch, any device), with a compiled kernel (numba, when installed)
for the conversion and accumulation on the CPU.

A call computes, for integer inputs x (batch x in) and weights w (in x out) on a
``Crossbar``:

1. **Slices**: x_j (input slice j, ``dac_bits`` each, least significant first) and w_s
   (weight slice s, ``cell_bits`` each; signed cell values for differential pairs, w +
   2^(b-1) for the offset scheme), rows tiled on R sub-arrays.
2. **Partial sums** ps[r, j, b, s, o], by float32 GEMMs batched over the sub-arrays, input
   slices folded into the rows and weight slices into the columns: exact, since every
   partial sum and every partial accumulation is an integer of magnitude at most
   512 * 15 * 255 < 2^24. The offset scheme's reference column ref[r, j, b].
3. **Skips** (``zero_skip``): ``hardware`` skips a conversion when the input slice on its
   sub-array is all zero (a NOR over the DAC inputs, at run time) or when its weight slice's
   column on that sub-array is all zero (known when the weights are mapped); ``stoxnet``
   skips every exactly-zero partial sum (StoX-Net's software model: ``mask2 = input == 0``
   in the authors' ``MTJQuantization.py``); ``none`` converts everything. A skipped
   conversion contributes exactly zero.
4. **Conversion** through a table over the integer partial sums (``conversion_table``): the
   decoded integer ``gain * code - offset`` of a deterministic converter, or for ``mtj:T``
   the thresholds t_k = round(2^32 P(code <= k)), k < T, of Binomial(T, p(ps)): one 32-bit
   uniform u per conversion gives code = #{k: u >= t_k} (the inverse CDF; probabilities
   exact to 2^-33). u is the high half of SplitMix64 (Steele, Lea, Flood, OOPSLA 2014) of
   ``key + (c + 1) * 0x9E3779B97F4A7C15``, c the conversion's position
   (((b * R + r) * J + j) * S + s) * out + o in the whole batch (-1 - ((b * R + r) * J + j)
   for the reference column): the stream does not depend on chunking, threads or device.
5. **Accumulation** per input slice: y_j[b, o] = sum over r, s of value << (s cell_bits),
   minus the reference column's; the result is sum_j y_j << (j dac_bits), times each
   slice's lsb ratio when the slices have their own ranges (``combine``).

The generic implementation (``convert_accumulate``) runs on numpy arrays or torch tensors
through a small ``Ops`` adapter; ``actc.adc.kernel`` is the same computation compiled with
numba (the partial sums as bit-plane popcounts, conversion and accumulation fused), used on
the CPU when numba is installed (tests check that the two agree bit for bit).

>>> import numpy as np
>>> from actc.adc import Crossbar, converter
>>> xb = Crossbar(rows=16, weight_bits=4, input_bits=4)
>>> rng = np.random.default_rng(1)
>>> x = rng.integers(0, 16, (2, 40)); w = rng.integers(-7, 8, (40, 3))
>>> y = matmul(xb, x, w, [xb.bind("ideal")] * xb.input_slices, key=0)
>>> bool(np.array_equal(y, x @ w))
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from .converters import Converter, Ideal, Mtj

if TYPE_CHECKING:  # pragma: no cover
    from .crossbar import Crossbar

__all__ = ["CHUNK", "MODES", "ConversionTable", "NumpyOps", "Ops", "combine",
           "conversion_table", "convert_accumulate", "lsb_ratios", "matmul", "mix32",
           "skip_flags", "slices"]

MODES = ("hardware", "stoxnet", "none")
MODE_CODES = {"none": 0, "hardware": 1, "stoxnet": 2}
CHUNK = 1 << 22  # conversions per chunk of the batch: bounds the memory of wide layers
TABLE_LIMIT = 1 << 24  # entries (partial sums x thresholds) of one conversion table

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def _signed(v: int) -> int:
    """A 64-bit pattern as a signed int64 value."""
    return v - (1 << 64) if v >= 1 << 63 else v


# --- the adapter: numpy here, torch in actc.nn.imc ----------------------------------------------
class Ops:
    """What the generic engine needs from an array library (numpy arrays or torch tensors on
    one device)."""

    def arange(self, n: int) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def asarray(self, a: np.ndarray) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def int64(self, a: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def float32(self, a: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def zeros_int64(self, shape: tuple[int, ...]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def permute(self, a: Any, axes: tuple[int, ...]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def pad_rows(self, a: Any, pad: int, axis: int) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def stack(self, items: list[Any]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def where(self, cond: Any, a: Any, b: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class NumpyOps(Ops):
    """The numpy adapter (``Crossbar.matmul``)."""

    def arange(self, n: int) -> np.ndarray:
        return np.arange(n, dtype=np.int64)

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return a

    def int64(self, a: Any) -> np.ndarray:
        return np.asarray(a).astype(np.int64)

    def float32(self, a: Any) -> np.ndarray:
        return np.asarray(a).astype(np.float32)

    def zeros_int64(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=np.int64)

    def permute(self, a: Any, axes: tuple[int, ...]) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(a, axes))

    def pad_rows(self, a: Any, pad: int, axis: int) -> np.ndarray:
        if pad == 0:
            return a
        width = [(0, 0)] * a.ndim
        width[axis] = (0, pad)
        return np.pad(a, width)

    def stack(self, items: list[Any]) -> np.ndarray:
        return np.stack(items)

    def where(self, cond: Any, a: Any, b: Any) -> np.ndarray:
        return np.where(cond, a, b)


# --- the random stream ---------------------------------------------------------------------------
def _lsr(z: Any, k: int) -> Any:
    """Logical right shift of int64 values (the arithmetic shift, masked)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix32(key: int, counter: Any) -> Any:
    """The 32-bit uniform (int64 values in [0, 2^32)) of each conversion position: the high
    half of SplitMix64's output for state ``key + (counter + 1) * golden`` (numpy or torch
    int64 arithmetic, wrapping modulo 2^64)."""
    z = (counter + 1) * _signed(GOLDEN) + _signed(key % (1 << 64))
    z = (z ^ _lsr(z, 30)) * _signed(MIX1)
    z = (z ^ _lsr(z, 27)) * _signed(MIX2)
    z = z ^ _lsr(z, 31)
    return _lsr(z, 32)


# --- conversion tables ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConversionTable:
    """A bound converter over the integer partial sums ``vmin .. vmin + n - 1`` (partial sums
    outside are clamped to the ends, where the converter saturates): ``values`` the decoded
    integer ``gain * code - offset`` (deterministic converters), or ``thresholds`` (n x T,
    int64) 2^32 P(code <= k) for ``mtj:T``. ``identity``: the value is the partial sum."""

    vmin: int
    values: np.ndarray
    thresholds: np.ndarray
    gain: int
    offset: int
    identity: bool

    @property
    def size(self) -> int:
        return int(max(len(self.values), len(self.thresholds)))

    @property
    def samples(self) -> int:
        return int(self.thresholds.shape[1])


def _saturation(conv: Converter) -> tuple[float, float]:
    """Partial sums beyond which the converter's code no longer changes."""
    from .converters import Sparse

    if isinstance(conv, Sparse):
        low = -(1 << (conv.bits - 1)) if (conv.lo or 0) < 0 else 0
        return (low - 1) * conv.step, (low + (1 << conv.bits)) * conv.step
    assert conv.lo is not None and conv.hi is not None
    return conv.lo, conv.hi


@functools.lru_cache(maxsize=256)
def conversion_table(conv: Converter, ps_lo: int, ps_hi: int) -> ConversionTable:
    """The table of a bound converter for partial sums in [ps_lo, ps_hi] (see
    ``ConversionTable``), built from the converter's own ``convert`` and ``probability``."""
    d = conv.decode
    if isinstance(conv, Ideal) and conv.lo <= ps_lo and conv.hi >= ps_hi:  # type: ignore
        empty = np.zeros(0, dtype=np.int64)
        return ConversionTable(0, empty, np.zeros((0, 0), dtype=np.int64), d.gain, d.offset,
                               True)
    sat = _saturation(conv)
    a = max(ps_lo, int(math.floor(sat[0])) - 1)
    b = min(ps_hi, int(math.ceil(sat[1])) + 1)
    if b < a:  # the crossbar's range lies beyond one saturation end
        a = b = ps_lo if ps_hi < sat[0] else ps_hi
    ps = np.arange(a, b + 1, dtype=np.int64)
    if isinstance(conv, Mtj):
        t = conv.samples
        if len(ps) * t > TABLE_LIMIT:
            raise ConfigError(f"{conv.spec}: the partial-sum range [{a}, {b}] is too wide for "
                              "the conversion table: calibrate a clip")
        from scipy.stats import binom

        p = conv.probability(ps)
        cdf = binom.cdf(np.arange(t)[None, :], t, p[:, None])
        thresholds = np.rint(np.ldexp(cdf, 32)).astype(np.int64)
        return ConversionTable(a, np.zeros(0, dtype=np.int64), thresholds, d.gain, d.offset,
                               False)
    if len(ps) > TABLE_LIMIT:
        raise ConfigError(f"{conv.spec}: the partial-sum range [{a}, {b}] is too wide for "
                          "the conversion table")
    values = d.gain * conv.convert(ps) - d.offset
    return ConversionTable(a, values.astype(np.int64), np.zeros((len(ps), 0), dtype=np.int64),
                           d.gain, d.offset, False)


def lsb_ratios(convs: Sequence[Converter]) -> list[int]:
    """Each slice's lsb over the smallest: powers of two (else ConfigError), so the
    accumulated result stays an integer in units of the smallest lsb."""
    lsbs = [c.decode.lsb for c in convs]
    base = min(lsbs)
    out = []
    for v in lsbs:
        ratio = v / base
        k = round(math.log2(ratio))
        if not (k >= 0 and ratio == float(1 << k)):
            raise ConfigError("per-slice converters need lsbs in power-of-two ratios, got "
                              f"{[float(v) for v in lsbs]}")
        out.append(1 << k)
    return out


# --- the stages ---------------------------------------------------------------------------------
def slices(ops: Ops, x: Any, w: Any, xb: Crossbar) -> tuple[Any, Any]:
    """Integer slices: x_j of x (batch x in) as (J, R, batch, rows) and w_s of w (in x out)
    as (R, rows, S, out), float32, zero-padded to whole sub-arrays."""
    n = x.shape[1]
    r = xb.subarrays(n)
    pad = r * xb.rows - n
    db, cb = xb.dac_bits, xb.cell_bits
    J, S = xb.input_slices, xb.weight_slices
    jshift = ops.asarray(np.arange(J, dtype=np.int64) * db)[:, None, None]
    xs = ops.float32((x[None] >> jshift) & ((1 << db) - 1))  # (J, B, in)
    xs = ops.pad_rows(xs, pad, 2).reshape(J, x.shape[0], r, xb.rows)
    xs = ops.permute(xs, (0, 2, 1, 3))  # (J, R, B, rows)
    sshift = ops.asarray(np.arange(S, dtype=np.int64) * cb)[:, None, None]
    cmask = (1 << cb) - 1
    if xb.differential:
        pos, neg = w * (w > 0), -w * (w < 0)
        ws = ((pos[None] >> sshift) & cmask) - ((neg[None] >> sshift) & cmask)
    else:
        u = w + (1 << (xb.weight_bits - 1)) if xb.offset else w
        ws = (u[None] >> sshift) & cmask
    wt = ops.pad_rows(ops.float32(ws), pad, 1)  # (S, R*rows, out)
    wt = ops.permute(wt.reshape(S, r, xb.rows, w.shape[1]), (1, 2, 0, 3))
    return xs, wt  # (J, R, B, rows), (R, rows, S, out)


def skip_flags(xs: Any, wt: Any) -> tuple[Any, Any]:
    """(input slice all zero per (R, J, batch), weight slice column all zero per
    (R, S, out)): the hardware's skip conditions."""
    xz = (xs.sum(-1) == 0)  # (J, R, B): the slices are non-negative
    wz = ((wt != 0).sum(1) == 0)  # (R, S, out)
    return xz, wz


def convert_accumulate(ops: Ops, ps: Any, ref: Any | None, xz: Any, wz: Any, mode: str,
                       tables: Sequence[ConversionTable], key: int, b0: int, b_total_rows: int,
                       xb: Crossbar) -> Any:
    """y (J, batch, out) int64 of partial sums ``ps`` (R, J, batch, S, out) integer-valued,
    the reference column ``ref`` (R, J, batch) or None, the skip flags ``xz`` (J, R, batch)
    and ``wz`` (R, S, out), one table per input slice; ``b0`` the first row's index in the
    whole batch (the random stream's position). ``b_total_rows`` is unused by the numpy and
    torch forms (kept for the kernel's signature)."""
    R, J, B, S, N = ps.shape
    cb = xb.cell_bits
    y = ops.zeros_int64((J, B, N))
    psi = ops.int64(ps)
    if mode == "hardware":
        skip = ops.permute(xz, (1, 0, 2))[:, :, :, None, None] | wz[:, None, None, :, :]
    elif mode == "stoxnet":
        skip = psi == 0
    else:
        skip = None
    shifts = ops.asarray(np.int64(1) << (np.arange(S, dtype=np.int64) * cb))
    counter = None
    for j, tab in enumerate(tables):
        v = psi[:, j]
        if not tab.identity:
            idx = (v - tab.vmin).clip(0, tab.size - 1)
            if tab.samples:
                if counter is None:
                    b = ops.arange(B)[None, :, None, None] + b0
                    r = ops.arange(R)[:, None, None, None]
                    s = ops.arange(S)[None, None, :, None]
                    o = ops.arange(N)[None, None, None, :]
                    counter = ((b * R + r) * J * S + s) * N + o  # without j: added below
                u = mix32(key, counter + j * S * N)
                thr = ops.asarray(tab.thresholds)[idx]
                code = (u[..., None] >= thr).sum(-1)
                v = tab.gain * code - tab.offset
            else:
                v = ops.asarray(tab.values)[idx]
        if skip is not None:
            v = ops.where(skip[:, j], 0, v)
        y[j] = (v * shifts[None, None, :, None]).sum(axis=(0, 2))
    if ref is not None:
        rs = xb.ref_slice * cb
        refi = ops.int64(ref)  # (R, J, B)
        for j, tab in enumerate(tables):
            v = refi[:, j]
            if not tab.identity:
                idx = (v - tab.vmin).clip(0, tab.size - 1)
                if tab.samples:
                    b = ops.arange(B)[None, :] + b0
                    r = ops.arange(R)[:, None]
                    u = mix32(key, -1 - ((b * R + r) * J + j))
                    thr = ops.asarray(tab.thresholds)[idx]
                    v = tab.gain * (u[..., None] >= thr).sum(-1) - tab.offset
                else:
                    v = ops.asarray(tab.values)[idx]
            if mode != "none":  # its weights are never zero: skipped with the input slice
                v = ops.where(refi[:, j] == 0, 0, v)
            y[j] = y[j] - (v.sum(axis=0) << rs)[:, None]
    return y


def numba_kernel() -> Any:
    """``actc.adc.kernel.crossbar_numba``, or None when numba is not installed."""
    try:
        from .kernel import crossbar_numba
    except ImportError:  # numba is not installed: the generic form
        return None
    return crossbar_numba


def ranges(convs: Sequence[Converter]) -> list[tuple[float, float]]:
    """Each bound converter's range [lo, hi]."""
    return [(float(c.lo), float(c.hi)) for c in convs]  # type: ignore[arg-type]


def matmul(xb: Crossbar, x: np.ndarray, w: np.ndarray, convs: Sequence[Converter], key: int,
           mode: str = "hardware", kernel: bool = True) -> np.ndarray:
    """The back end's integer result (batch, out) int64 of integer x (batch x in) @ w
    (in x out) through one bound converter per input slice, in units of the smallest lsb
    (numpy; the compiled kernel when numba is installed and ``kernel``)."""
    if mode not in MODES:
        raise ConfigError(f"zero_skip {mode!r}: use {', '.join(MODES)}")
    lo, hi = xb.ps_range
    tables = [conversion_table(c, int(lo), int(hi)) for c in convs]
    ratios = lsb_ratios(convs)
    fast = numba_kernel() if kernel else None
    if fast is not None:
        return fast(x, w, xb, mode, tables, ratios, ranges(convs), key)[0]
    ops = NumpyOps()
    xs, wt = slices(ops, x, w, xb)
    J, R, B, rows = xs.shape
    S, N = wt.shape[2], wt.shape[3]
    y = np.zeros((J, B, N), dtype=np.int64)
    step = max(1, CHUNK // max(1, R * J * S * N))
    wmat = wt.reshape(R, rows, S * N)
    xz_all, wz = skip_flags(xs, wt)
    for b0 in range(0, B, step):
        xc = xs[:, :, b0:b0 + step]
        bc = xc.shape[2]
        lhs = np.ascontiguousarray(np.transpose(xc, (1, 0, 2, 3))).reshape(R, J * bc, rows)
        ps = np.matmul(lhs, wmat)  # (R, J*bc, S*N) float32, exact
        ref = (np.transpose(xc.sum(-1), (1, 0, 2)) * xb.ref_cell) if xb.offset else None
        y[:, b0:b0 + bc] = convert_accumulate(ops, ps.reshape(R, J, bc, S, N), ref,
                                              xz_all[:, :, b0:b0 + bc], wz, mode, tables,
                                              key, b0, B, xb)
    return combine(xb, y, convs)


def combine(xb: Crossbar, y: np.ndarray, convs: Sequence[Converter]) -> np.ndarray:
    """sum over j of y_j << (j dac_bits) times slice j's lsb ratio: the back end's integer
    result, in units of the smallest lsb (int64, batch x out)."""
    ratios = lsb_ratios(convs)
    out = np.zeros(y.shape[1:], dtype=np.int64)
    for j in range(y.shape[0]):
        out += (y[j] * ratios[j]) << (j * xb.dac_bits)
    return out
