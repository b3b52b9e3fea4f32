"""What to approximate: an expression, the input and output formats, and the true function
at every input code.

Format selection when only bit widths are given (docs/reference/formats.md: Automatic formats):

1. The input range starts as ``--domain`` if given, else [-8, 8].
2. The output format covers the function's range on that input range at the finest
   power-of-two scale (``NumberFormat.covering``).
3. Without ``--domain``, a side where the function saturates (it is constant to 1e-9 between
   64 and 128 on that side) is trimmed to where the function comes within half an output LSB
   of its asymptote; trimming never passes -1 or 1, so the origin stays well inside.
4. The input format covers the (trimmed) range at the finest power-of-two scale, and the
   output format is chosen again over the function's values at every input code.

True values: float64 everywhere, then mpmath at 50 digits for codes whose float64 value lies
within 1e-6 LSB (plus 2^-40 relative) of a rounding tie, or is not finite. Output rounding is
round-half-to-even, then saturation to the output range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FormatError, SemanticError
from ..formats import FloatFormat, Format, NumberFormat, check_bits
from .frontend import Expression
from .numeric import eval_float, eval_mp

__all__ = ["MAX_BITS", "Spec", "SAMPLE_ABOVE_BITS", "make_spec", "round_saturate",
           "sample_codes", "true_outputs"]

MAX_BITS = 32  # an activation's input and output widths (formats in general go to 64)
DEFAULT_DOMAIN = (-8.0, 8.0)
SAMPLE_ABOVE_BITS = 20  # above this many input bits, work on a sample of codes
MAX_IDEAL_CODE = float(2**40)  # |f(x)/scale_out + zero_point|: the fits' integer datapaths
BEYOND_CODES = float(2**62)  # rounded output codes are clipped here (outputs take 32 bits)
_SAMPLE_SIZE = 1 << 20


@dataclass(frozen=True, eq=False)
class Spec:
    """The function to approximate, sampled at every input code (or a documented sample)."""

    expression: Expression
    in_format: Format
    out_format: Format
    codes: np.ndarray  # input codes, ascending (int64; bit patterns for float inputs)
    values: np.ndarray  # true f(x) at codes, float64
    ideal: np.ndarray  # f(x)/scale_out + zero_point_out: unrounded output codes (float outputs:
    #                    f(x) itself)
    rounded: np.ndarray  # correctly rounded, saturated output codes (int64; 0 for float outputs)
    domain: tuple[float, float] | None = None
    exhaustive: bool = True

    @property
    def core_inputs(self) -> np.ndarray:
        """Unsigned offsets u = code - code_min: what an unfolded core sees."""
        return self.codes - self.in_format.code_min


def sample_codes(fmt: NumberFormat, extra=()) -> np.ndarray:
    """Every code up to SAMPLE_ABOVE_BITS bits; above, 2^20 evenly spaced codes plus both
    ends, the codes around zero and any ``extra`` codes (segment boundaries)."""
    lo, hi = fmt.code_min, fmt.code_max
    if fmt.bits <= SAMPLE_ABOVE_BITS:
        return np.arange(lo, hi + 1, dtype=np.int64)
    base = np.linspace(lo, hi, _SAMPLE_SIZE).round().astype(np.int64)
    corners = [lo, lo + 1, hi - 1, hi, -1, 0, 1, fmt.zero_point - 1, fmt.zero_point,
               fmt.zero_point + 1]
    corners += [int(c) for c in extra]
    special = np.array([c for c in corners if lo <= c <= hi], dtype=np.int64)
    return np.unique(np.concatenate([base, special]))


def round_saturate(t: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Round half to even, then saturate to the format's code range."""
    r = np.rint(t)  # numpy rint is round-half-to-even
    return np.clip(r, fmt.code_min, fmt.code_max).astype(np.int64)


def _where(fmt: NumberFormat, code: int) -> str:
    return f"x = {fmt.real_exact(code).__float__():.10g} (input code {code} of {fmt.text})"


def _true_values(expr: Expression, in_fmt: NumberFormat, codes: np.ndarray,
                 out_fmt: NumberFormat | None):
    """float64 f(x) at codes, with near-tie and non-finite codes recomputed in mpmath.
    Returns (values, ideal output codes or None, exact_rounded_override dict)."""
    xs = in_fmt.real(codes.astype(np.float64))
    vals = eval_float(expr.expr, expr.symbol, xs)
    suspect = ~np.isfinite(vals)
    ideal = None
    if out_fmt is not None:
        ideal = vals / out_fmt.scale + out_fmt.zero_point
        frac = np.abs(ideal - np.floor(ideal) - 0.5)
        tol = 1e-6 + np.abs(ideal) * 2.0**-40
        suspect |= frac < tol
    fixed: dict[int, int] = {}
    idx = np.flatnonzero(suspect)
    if idx.size:
        import mpmath

        with mpmath.workdps(50):
            for i in idx:
                code = int(codes[i])
                q = in_fmt.real_exact(code)
                x = mpmath.mpf(q.numerator) / q.denominator
                try:
                    v = eval_mp(expr.expr, expr.symbol, x, mpmath)
                except (ZeroDivisionError, ValueError, OverflowError):
                    v = mpmath.nan
                if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
                    raise SemanticError(
                        f"{expr.text} is not finite at {_where(in_fmt, code)}; restrict the "
                        "input range with --domain LO,HI or choose another --in format"
                    )
                vals[i] = float(v)
                if ideal is not None and out_fmt is not None:
                    t = v / mpmath.mpf(out_fmt.scale) + out_fmt.zero_point
                    ideal[i] = float(t)
                    fl = mpmath.floor(t)
                    d = t - fl
                    r = int(fl) + (1 if d > 0.5 else 0 if d < 0.5 else int(fl) % 2)
                    fixed[int(i)] = r
    return vals, ideal, fixed


def true_outputs(expr: Expression, in_fmt: NumberFormat, out_fmt: NumberFormat,
                 codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f(x), unrounded output codes, correctly rounded codes before saturation) at input
    codes, which may lie outside the input format's range (folds evaluate mirror points)."""
    vals, ideal, fixed = _true_values(expr, in_fmt, codes, out_fmt)
    assert ideal is not None
    top = float(np.abs(ideal).max()) if len(ideal) else 0.0
    if top > MAX_IDEAL_CODE:
        raise FormatError(
            f"{expr.text} reaches {top:.3g} output codes of {out_fmt.text} (which holds "
            f"{out_fmt.code_min} to {out_fmt.code_max}); the fits take up to 2^40: narrow the "
            "input (--in, --domain) or widen the output (--out)")
    rounded = np.rint(ideal)
    for i, r in fixed.items():
        rounded[i] = r
    # far beyond any output range: bounded before the cast (int64 would wrap, and the
    # saturation that follows would go the wrong way)
    return vals, ideal, np.clip(rounded, -BEYOND_CODES, BEYOND_CODES).astype(np.int64)


def _saturation(expr: Expression) -> dict[int, float]:
    """Asymptotes the function reaches by |x| = 64 on either side: {-1: left, +1: right}."""
    probe = np.array([-128.0, -64.0, 64.0, 128.0])
    v = eval_float(expr.expr, expr.symbol, probe)
    out = {}
    for side, (a, b) in ((-1, (v[0], v[1])), (1, (v[3], v[2]))):
        if np.isfinite(a) and np.isfinite(b) and abs(a - b) <= 1e-9 * max(1.0, abs(b)):
            out[side] = float(a)
    return out


def _range_of(expr: Expression, lo: float, hi: float) -> tuple[float, float]:
    xs = np.linspace(lo, hi, 8193)
    v = eval_float(expr.expr, expr.symbol, xs)
    bad = ~np.isfinite(v)
    if bad.any():
        x = float(xs[np.argmax(bad)])
        raise SemanticError(
            f"{expr.text} is not finite at x = {x:.10g}; restrict the input range with "
            "--domain LO,HI or choose an --in format"
        )
    return float(v.min()), float(v.max())


def _trim(expr: Expression, lo: float, hi: float, out_fmt: NumberFormat) -> tuple[float, float]:
    sat = _saturation(expr)
    if not sat:
        return lo, hi
    xs = np.linspace(lo, hi, 16385)
    v = eval_float(expr.expr, expr.symbol, xs)
    half = out_fmt.scale / 2
    if -1 in sat:
        near = np.abs(v - sat[-1]) <= half
        # last index of the leading run of "near"
        k = np.argmin(near) if not near.all() else len(near)
        if k > 0:
            lo = min(float(xs[k - 1]), -1.0) if lo < -1.0 else lo
    if 1 in sat:
        near = np.abs(v - sat[1]) <= half
        rev = near[::-1]
        k = np.argmin(rev) if not rev.all() else len(rev)
        if k > 0:
            hi = max(float(xs[len(xs) - k]), 1.0) if hi > 1.0 else hi
    return lo, hi


def _check_width(fmt: Format | None, what: str) -> None:
    if fmt is not None:
        check_bits(fmt.bits, f"{what} {fmt.text!r}", MAX_BITS)


def make_spec(
    expr: Expression,
    *,
    in_format: Format | None = None,
    out_format: Format | None = None,
    bits: int | None = None,
    in_bits: int | None = None,
    out_bits: int | None = None,
    domain: tuple[float, float] | None = None,
) -> Spec:
    """Resolve formats (explicit, or picked from bit widths by the documented rule) and
    compute the true function at every input code."""
    _check_width(in_format, "input format")
    _check_width(out_format, "output format")
    if isinstance(in_format, FloatFormat):
        return make_float_spec(expr, in_format, out_format, out_bits if out_bits is not None
                               else bits, domain)
    if isinstance(out_format, FloatFormat):
        raise FormatError(f"--out {out_format.text} needs a float input (--in fp32/fp16/bf16)")
    assert in_format is None or isinstance(in_format, NumberFormat)
    assert out_format is None or isinstance(out_format, NumberFormat)
    return _fixed_spec(expr, in_format, out_format, bits, in_bits, out_bits, domain)


def _fixed_spec(expr: Expression, in_format: NumberFormat | None,
                out_format: NumberFormat | None, bits: int | None, in_bits: int | None,
                out_bits: int | None, domain: tuple[float, float] | None) -> Spec:
    if in_format is not None and (in_bits is not None or domain is not None):
        raise FormatError("--in fixes the input format: drop --in-bits/--domain, or drop --in")
    if out_format is not None and out_bits is not None:
        raise FormatError("--out fixes the output format: drop --out-bits, or drop --out")
    if domain is not None:
        lo, hi = domain
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise FormatError(f"--domain {lo:g},{hi:g} is empty: give LO,HI with LO < HI")
    n_in = in_bits if in_bits is not None else bits
    n_out = out_bits if out_bits is not None else bits
    if in_format is None and n_in is None:
        n_in = 8
    if out_format is None and n_out is None:
        n_out = 8
    if n_in is not None:
        check_bits(n_in, "an input width", MAX_BITS)
    if n_out is not None:
        check_bits(n_out, "an output width", MAX_BITS)

    if in_format is None:
        assert n_in is not None
        lo, hi = domain if domain is not None else DEFAULT_DOMAIN
        if domain is None:
            guess = out_format or NumberFormat.covering(*_range_of(expr, lo, hi), n_out or 8)
            lo, hi = _trim(expr, lo, hi, guess)
        in_format = NumberFormat.covering(lo, hi, n_in)

    codes = sample_codes(in_format)
    if out_format is None:
        assert n_out is not None
        vals, _, _ = _true_values(expr, in_format, codes, None)
        out_format = NumberFormat.covering(float(vals.min()), float(vals.max()), n_out)
    vals, ideal, unsat = true_outputs(expr, in_format, out_format, codes)
    rounded = np.clip(unsat, out_format.code_min, out_format.code_max)
    return Spec(expr, in_format, out_format, codes, vals, ideal, rounded, domain,
                in_format.bits <= SAMPLE_ABOVE_BITS)


FLOAT_DOMAIN = (-8.0, 8.0)
FLOAT_DENSE = 1 << 20  # fp32: evenly spaced values where the error is measured
FLOAT_RANDOM = 1 << 16  # fp32: plus random in-domain floats (small magnitudes included)
FIXED_FROM_FLOAT_BITS = 22  # fixed outputs of float datapaths round via 1.5 * 2^23


def fp32_domain_sample(lo: float, hi: float) -> np.ndarray:
    """The documented fp32 check set inside [lo, hi]: 2^20 + 1 evenly spaced float32 values,
    2^16 random float32 bit patterns between lo and hi (seed 0, so magnitudes near zero are
    covered too), and both ends; ascending, unique."""
    from ..floatbits import f32_bits

    even = np.linspace(lo, hi, FLOAT_DENSE + 1).astype(np.float32)
    rng = np.random.default_rng(0)
    k_lo, k_hi = _sortable(f32_bits(np.float32(lo))), _sortable(f32_bits(np.float32(hi)))
    keys = rng.integers(int(k_lo), int(k_hi) + 1, FLOAT_RANDOM)
    rand = _unsortable(keys).astype(np.uint32).view(np.float32)
    x = np.concatenate([even, rand, np.array([lo, hi, 0.0], dtype=np.float32)])
    x = x[(x >= lo) & (x <= hi)]
    return np.unique(x)


def _sortable(bits):
    """float32 bit patterns -> integers in the order of the values."""
    b = np.asarray(bits, dtype=np.int64)
    return np.where(b >> 31 == 1, -(b & 0x7FFFFFFF), b)


def _unsortable(keys):
    k = np.asarray(keys, dtype=np.int64)
    return np.where(k < 0, (-k) | 0x80000000, k)


def make_float_spec(expr: Expression, in_format: FloatFormat, out_format: Format | None,
                    out_bits: int | None, domain: tuple[float, float] | None) -> Spec:
    """Spec for a float input: the true function on the input values in the domain
    (every value for fp16/bf16; the documented dense set for fp32)."""
    from ..floatbits import bits_to_f32, f32_bits, f32_to_bits, float_values
    from ..formats import FloatFormat

    lo, hi = domain if domain is not None else FLOAT_DOMAIN
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise FormatError(f"--domain {lo:g},{hi:g} is empty: give LO,HI with LO < HI")
    k = in_format.kind
    for end in (lo, hi):
        back = float(bits_to_f32(f32_to_bits(np.array([end], dtype=np.float32), k), k)[0])
        if back != end:
            raise FormatError(f"--domain end {end:g} is not exactly representable in {k}")
    if k == "fp32":
        xs = fp32_domain_sample(lo, hi)
        codes = f32_bits(xs)
    else:
        xs = float_values(k, lo, hi)
        b = f32_bits(xs)
        codes = b >> 16 if k == "bf16" else xs.astype(np.float16).view(np.uint16).astype(np.int64)
    x64 = xs.astype(np.float64)
    vals = eval_float(expr.expr, expr.symbol, x64)
    bad = ~np.isfinite(vals)
    if bad.any():
        x = float(x64[np.argmax(bad)])
        raise SemanticError(f"{expr.text} is not finite at x = {x:.10g}; restrict the input "
                            "range with --domain LO,HI")
    if out_format is None:
        if out_bits is None:
            out_format = FloatFormat(k)
        else:
            check_bits(out_bits, "an output width", MAX_BITS)
            out_format = NumberFormat.covering(float(vals.min()), float(vals.max()), out_bits)
    if isinstance(out_format, NumberFormat):
        if out_format.bits > FIXED_FROM_FLOAT_BITS:
            raise FormatError(
                f"--out {out_format.text}: fixed-point outputs of a float input take up to "
                f"{FIXED_FROM_FLOAT_BITS} bits")
        ideal = vals / out_format.scale + out_format.zero_point
        rounded = np.clip(np.rint(ideal), out_format.code_min,
                          out_format.code_max).astype(np.int64)
    else:
        ideal = vals
        rounded = np.zeros(len(vals), dtype=np.int64)
    return Spec(expr, in_format, out_format, codes, vals, ideal, rounded, (float(lo), float(hi)),
                k != "fp32")
