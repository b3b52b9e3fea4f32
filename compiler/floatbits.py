"""float32 / float16 / bfloat16 bit patterns in numpy integer arithmetic.

The conversions here are the definitions every target copies: the C header carries the same
integer algorithms, so C and Python agree bit for bit without relying on a libm or on
hardware half-precision support. float32 -> fp16 and -> bf16 round to nearest, ties to even,
overflow to infinity, and keep NaN a NaN.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bits_to_f32", "f32_to_bits", "f32_bits", "p_index", "float_values"]


def f32_bits(x) -> np.ndarray:
    """Bit patterns (uint32 as int64) of float32 values."""
    return np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)


def bits_to_f32(codes, kind: str) -> np.ndarray:
    """Input codes (bit patterns of `kind`) as float32 values, exactly."""
    c = np.asarray(codes, dtype=np.int64)
    if kind == "fp32":
        return (c & 0xFFFFFFFF).astype(np.uint32).view(np.float32)
    if kind == "bf16":
        return ((c & 0xFFFF) << 16).astype(np.uint32).view(np.float32)
    if kind == "fp16":
        return (c & 0xFFFF).astype(np.uint16).view(np.float16).astype(np.float32)
    raise ValueError(kind)


def _to_half(f: np.ndarray) -> np.ndarray:
    sign = (f >> 16) & 0x8000
    a = f & 0x7FFFFFFF
    out = np.zeros_like(a)
    nan = a > 0x7F800000
    inf = (a >= 0x477FF000) & ~nan  # 65520 and above round to infinity
    normal = (a >= 0x38800000) & (a < 0x477FF000)  # 2^-14 and above: normal halves
    sub = a < 0x38800000
    # normal: rebias the exponent (127 -> 15), round the 13 dropped bits to nearest even
    n = a - 0x38000000
    n = (n + 0xFFF + ((n >> 13) & 1)) >> 13
    out = np.where(normal, n, out)
    # subnormal: the value in units of 2^-24, rounded to nearest even
    e = a >> 23
    mant = (a & 0x7FFFFF) | 0x800000
    shift = np.clip(126 - e, 0, 63)  # value = mant * 2^(e - 150); units 2^-24 -> shift 126-e
    big = shift >= 25
    sh = np.where(big, 24, shift)
    q = mant >> sh
    rem = mant & ((np.int64(1) << sh) - 1)
    half = np.int64(1) << (sh - 1)
    up = (rem > half) | ((rem == half) & ((q & 1) == 1))
    s = np.where(big, 0, q + up)
    out = np.where(sub, s, out)
    out = np.where(inf, 0x7C00, out)
    out = np.where(nan, 0x7E00, out)
    return sign | out


def f32_to_bits(y: np.ndarray, kind: str) -> np.ndarray:
    """float32 values as bit patterns of `kind` (round to nearest even)."""
    f = np.asarray(y, dtype=np.float32).view(np.uint32).astype(np.int64)
    if kind == "fp32":
        return f
    if kind == "bf16":
        nan = (f & 0x7FFFFFFF) > 0x7F800000
        r = (f + 0x7FFF + ((f >> 16) & 1)) >> 16
        return np.where(nan, ((f >> 16) & 0x8000) | 0x7FC0, r & 0xFFFF)
    if kind == "fp16":
        return _to_half(f)
    raise ValueError(kind)


def p_index(x: np.ndarray, emin: int, emax: int, mbits: int) -> np.ndarray:
    """P_LUT index of float32 values: sign, exponent clamped to [emin, emax], top mbits of
    the mantissa; |x| below 2^(emin-127) shares the buckets next to zero. Ascends with x."""
    f = x.view(np.uint32).astype(np.int64)
    sign = f >> 31
    e = (f >> 23) & 0xFF
    m = np.where(e < emin, 0, (f & 0x7FFFFF) >> (23 - mbits))
    b = ((np.clip(e, emin, emax) - emin) << mbits) | m
    nb = (emax - emin + 1) << mbits
    return np.where(sign == 1, nb - 1 - b, nb + b)


def float_values(kind: str, lo: float, hi: float) -> np.ndarray:
    """Every finite value of a 16-bit float kind in [lo, hi], ascending, as float32."""
    codes = np.arange(1 << 16, dtype=np.int64)
    x = bits_to_f32(codes, kind)
    keep = np.isfinite(x) & (x >= lo) & (x <= hi) & ~((x == 0) & (codes >> 15 == 1))
    return np.sort(x[keep])
