"""Converters: how one crossbar partial sum (an integer) becomes a code. One class per
converter, one registry (``CONVERTERS``) keyed by the name used in specs (``adc:4``).

Every converter spans a partial-sum range [lo, hi]: the crossbar's full range (bound by
``Crossbar``), or a calibrated clip (``clip=c``: [-c, c] for signed partial sums, [0, c] for
unsigned ones; ``lo=``/``hi=`` set it directly). Codes are unsigned integers (what the
hardware delivers: SAR bits, a count of MTJ switching events), and every converter states how
the digital back end reads them, a ``Decode``: ``ps_hat = lsb * (gain * code - offset)``
with integers ``gain`` and ``offset``, so the back end only shifts and adds integers and
the real scale ``lsb`` is one number for the whole column.

- ``ideal``: code = ps - lo (as many bits as the range needs); exact.
- ``adc:N``: uniform N-bit quantiser (SAR-like) whose 2^N levels span [lo, hi] evenly,
  level k = lo + k*step, step = (hi - lo)/(2^N - 1), nearest level (ties up), saturating.
  When 2^N - 1 >= hi - lo for an integer range the step is 1 and the ADC is exact. On a
  signed symmetric range the levels are symmetric (no level at zero for even 2^N): ``adc:1``
  is a comparator at zero, read as ±hi.
- ``sparse:N``: low-bit ADC for sparse bit-serial inputs: unit step (``step=``) over the
  central region only, codes -2^(N-1) .. 2^(N-1)-1 (signed partial sums) or 0 .. 2^N-1,
  saturating outside. Bit-serial partial sums of sparse (ReLU) activations concentrate near
  zero, so a few bits cover them losslessly (Leugering et al., "Where to cut: efficient ADC
  quantization for analog in-memory computing with discrete values", ISCAS 2025: a
  low-resolution ADC should capture the central region of interest without loss); the cost
  model also skips conversions of all-zero input slices (zero-skipping readout).
- ``mtj:T``: stochastic SOT-MTJ (StoX-Net, arXiv 2407.12378): the normalised partial sum
  x = (2 ps - lo - hi)/(hi - lo), clamped to [-1, 1], switches the junction with probability
  p(x) = 1/(1 + exp(-k (x - x0))); T independent samples; the code is the number of
  switching events, 0..T. Defaults k = 3.59813326, x0 = 0.00821371: the device fit in the
  authors' code (KneeHaw/StoXNet, StoX-Net_V1.4-Feb24/MTJQuantization.py, commit bab0c4b).
  The back end reads ps_hat = (lo + hi)/2 + (hi - lo)/2 * (2 code - T)/T.

>>> c = converter("adc:2", lo=-6, hi=6)
>>> c.convert(np.array([-6, -3, -1, 0, 2, 6])).tolist()
[0, 1, 1, 2, 2, 3]
>>> c.decode.values(c.convert(np.array([-6, 0, 6]))).tolist()
[-6.0, 2.0, 6.0]
>>> m = converter("mtj:8", lo=-64, hi=64)
>>> float(m.expected(np.array([0]))[0])  # 8 * p(0)
3.9408...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError

__all__ = ["CONVERTERS", "MTJ_K", "MTJ_X0", "Adc", "Converter", "Decode", "Ideal", "Mtj",
           "Sparse", "converter", "default_rng"]

# StoX-Net's fitted SOT-MTJ switching curve (authors' code, V1.4-Feb24/MTJQuantization.py):
# P(+1) = (1 + (2 / (1 + e^(-3.59813326 (x - 0.00821371))) - 1)) / 2 = sigmoid(k (x - x0)).
MTJ_K = 3.59813326
MTJ_X0 = 0.00821371
MAX_SAMPLES = 64  # a conversion's sample bits travel on one port of at most 64 bits
MAX_ADC_BITS = 16


def default_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a Generator, a seed, or None (seed 0: a run without a generator is
    reproducible too)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


@dataclass(frozen=True)
class Decode:
    """How the back end reads a code: ``ps_hat = lsb * (gain * code - offset)``."""

    lsb: float
    gain: int
    offset: int

    def values(self, codes: Any) -> np.ndarray:
        """The partial-sum estimates of codes, float64."""
        return self.lsb * (self.gain * np.asarray(codes, dtype=np.float64) - self.offset)

    def to_json(self) -> dict:
        return {"lsb": self.lsb, "gain": self.gain, "offset": self.offset}


def _int_range(lo: float, hi: float) -> bool:
    return float(lo).is_integer() and float(hi).is_integer()


@dataclass(frozen=True)
class Converter:
    """Base of the converters: the partial-sum range [lo, hi] (None until bound) and the
    shared checks. Subclasses set ``name`` and implement ``_codes``/``_expected``/``_decode``
    and ``code_max``."""

    name: ClassVar[str] = ""
    stochastic: ClassVar[bool] = False

    lo: float | None = None
    hi: float | None = None
    clip: float | None = None

    def __post_init__(self) -> None:
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ConfigError(f"{self.spec}: clip must be a positive number, got {self.clip!r}")
        if (self.lo is None) != (self.hi is None):
            raise ConfigError(f"{self.spec}: give both lo and hi, or neither")
        if self.lo is not None:
            assert self.hi is not None
            if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
                raise ConfigError(f"{self.spec}: the range [lo, hi] = [{self.lo}, {self.hi}] "
                                  "must be finite with lo < hi")
            if not (self.lo == 0 or self.lo == -self.hi):
                raise ConfigError(f"{self.spec}: the range must be [0, c] or [-c, c], got "
                                  f"[{self.lo}, {self.hi}]")

    # --- identity ---------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        """The spec text, e.g. ``adc:4``."""
        return self.name

    @property
    def bound(self) -> bool:
        return self.lo is not None

    def bind(self, lo: int, hi: int) -> Converter:
        """This converter on a crossbar whose partial sums span [lo, hi]: the full range,
        unless a range or a clip was given (a clip takes the crossbar's sign)."""
        if self.lo is not None:
            return self
        if self.clip is not None:
            return replace(self, lo=-self.clip if lo < 0 else 0.0, hi=self.clip)
        return replace(self, lo=lo, hi=hi)

    def _range(self) -> tuple[float, float]:
        if self.lo is None or self.hi is None:
            raise ConfigError(f"{self.spec}: no partial-sum range: pass lo=/hi= or clip=, or "
                              "use it through a Crossbar")
        return self.lo, self.hi

    # --- the semantics ----------------------------------------------------------------------
    @property
    def code_max(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def code_bits(self) -> int:
        """Bits of one code (0..code_max)."""
        return max(1, int(self.code_max).bit_length())

    @property
    def decode(self) -> Decode:  # pragma: no cover - interface
        raise NotImplementedError

    def convert(self, partial_sums: Any, rng: np.random.Generator | int | None = None
                ) -> np.ndarray:
        """Integer codes (int64) of integer partial sums; ``rng`` (a Generator or a seed;
        None = seed 0) drives a stochastic converter."""
        return self._codes(_ps(partial_sums), rng)

    def expected(self, partial_sums: Any) -> np.ndarray:
        """The analytic mean code (float64) of each partial sum."""
        return self._expected(_ps(partial_sums))

    def values(self, partial_sums: Any, rng: np.random.Generator | int | None = None
               ) -> np.ndarray:
        """Partial-sum estimates the back end reconstructs: decode(convert(ps))."""
        return self.decode.values(self.convert(partial_sums, rng))

    def _codes(self, ps: np.ndarray, rng: Any) -> np.ndarray:
        return self._expected(ps).astype(np.int64)

    def _expected(self, ps: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def to_json(self) -> dict:
        """The spec and the parameters: ``converter(**to_json())`` rebuilds it."""
        out: dict[str, Any] = {"spec": self.spec}
        for f in fields(self):
            if f.name not in ("bits", "samples"):  # in the spec
                out[f.name] = getattr(self, f.name)
        return out


def _ps(partial_sums: Any) -> np.ndarray:
    a = np.asarray(partial_sums)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ConfigError("partial sums must be finite integers (got NaN or infinity)")
        if not np.all(a == np.round(a)):
            raise ConfigError("partial sums must be integers")
    elif a.dtype.kind not in "iu":
        raise ConfigError(f"partial sums must be integers, got dtype {a.dtype}")
    return a.astype(np.int64)


@dataclass(frozen=True)
class Ideal(Converter):
    """Full precision: code = ps - lo; the back end reads ps exactly."""

    name: ClassVar[str] = "ideal"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lo is not None and not _int_range(self.lo, self.hi):  # type: ignore[arg-type]
            raise ConfigError("ideal: the partial-sum range must be integers")

    @property
    def code_max(self) -> int:
        lo, hi = self._range()
        return int(hi - lo)

    @property
    def decode(self) -> Decode:
        return Decode(1.0, 1, -int(self._range()[0]))

    def _codes(self, ps: np.ndarray, rng: Any) -> np.ndarray:
        lo, hi = self._range()
        return np.clip(ps - int(lo), 0, int(hi - lo))

    def _expected(self, ps: np.ndarray) -> np.ndarray:
        return self._codes(ps, None).astype(np.float64)


@dataclass(frozen=True)
class Adc(Converter):
    """Uniform N-bit quantiser over [lo, hi]: see the module docstring."""

    name: ClassVar[str] = "adc"

    bits: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_bits(self.spec, self.bits)

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.bits}"

    @property
    def levels(self) -> int:
        return 1 << self.bits

    @property
    def exact(self) -> bool:
        """Unit step: an integer range no wider than the levels (the ADC is lossless)."""
        lo, hi = self._range()
        return _int_range(lo, hi) and self.levels - 1 >= hi - lo

    @property
    def step(self) -> float:
        lo, hi = self._range()
        return 1.0 if self.exact else (hi - lo) / (self.levels - 1)

    @property
    def code_max(self) -> int:
        return self.levels - 1

    @property
    def decode(self) -> Decode:
        lo, _ = self._range()
        if self.exact:
            return Decode(1.0, 1, -int(lo))
        if lo == 0:
            return Decode(self.step, 1, 0)
        return Decode(self.step / 2, 2, self.levels - 1)  # symmetric: lo = -(L-1) step/2

    def _codes(self, ps: np.ndarray, rng: Any) -> np.ndarray:
        lo, hi = self._range()
        top = self.levels - 1
        if self.exact:
            k = ps - int(lo)
        elif _int_range(lo, hi):  # exact rational rounding: floor((ps - lo)/step + 1/2)
            span = int(hi - lo)
            k = (2 * (ps - int(lo)) * top + span) // (2 * span)
        else:
            k = np.floor((ps - lo) * top / (hi - lo) + 0.5).astype(np.int64)
        return np.clip(k, 0, top)

    def _expected(self, ps: np.ndarray) -> np.ndarray:
        return self._codes(ps, None).astype(np.float64)


@dataclass(frozen=True)
class Sparse(Converter):
    """N-bit ADC with a unit step over the central region: see the module docstring."""

    name: ClassVar[str] = "sparse"

    bits: int = 4
    step: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_bits(self.spec, self.bits)
        if not (math.isfinite(self.step) and self.step > 0):
            raise ConfigError(f"{self.spec}: step must be a positive number, got {self.step!r}")

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.bits}"

    @property
    def code_max(self) -> int:
        return (1 << self.bits) - 1

    @property
    def _low(self) -> int:
        """The lowest reconstructed level, in steps."""
        lo, _ = self._range()
        return -(1 << (self.bits - 1)) if lo < 0 else 0

    @property
    def decode(self) -> Decode:
        return Decode(float(self.step), 1, -self._low)

    def _codes(self, ps: np.ndarray, rng: Any) -> np.ndarray:
        if float(self.step) == 1.0:
            k = ps
        else:
            k = np.floor(ps / self.step + 0.5).astype(np.int64)
        return np.clip(k - self._low, 0, self.code_max)

    def _expected(self, ps: np.ndarray) -> np.ndarray:
        return self._codes(ps, None).astype(np.float64)


@dataclass(frozen=True)
class Mtj(Converter):
    """Stochastic SOT-MTJ conversion with T samples: see the module docstring."""

    name: ClassVar[str] = "mtj"
    stochastic: ClassVar[bool] = True

    samples: int = 4
    k: float = MTJ_K
    x0: float = MTJ_X0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.samples <= MAX_SAMPLES:
            raise ConfigError(f"{self.spec}: samples per conversion must be 1 to {MAX_SAMPLES}")
        if not (math.isfinite(self.k) and self.k > 0 and math.isfinite(self.x0)):
            raise ConfigError(f"{self.spec}: the device curve needs k > 0 and a finite x0")

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.samples}"

    @property
    def code_max(self) -> int:
        return self.samples

    @property
    def decode(self) -> Decode:
        lo, hi = self._range()
        t = self.samples
        offset = -2 * t * lo / (hi - lo)  # t for [-c, c], 0 for [0, c]
        return Decode((hi - lo) / (2 * t), 2, int(round(offset)))

    def normalised(self, ps: np.ndarray) -> np.ndarray:
        """x = (2 ps - lo - hi) / (hi - lo), clamped to [-1, 1]."""
        lo, hi = self._range()
        return np.clip((2.0 * ps - (lo + hi)) / (hi - lo), -1.0, 1.0)

    def probability(self, partial_sums: Any) -> np.ndarray:
        """p(x): the switching probability of one sample."""
        x = self.normalised(_ps(partial_sums))
        return 1.0 / (1.0 + np.exp(-self.k * (x - self.x0)))

    def sample_bits(self, partial_sums: Any, rng: np.random.Generator | int | None = None
                    ) -> np.ndarray:
        """The T sample bits of each conversion (shape ps.shape + (T,), uint8): what the
        junction delivers to the back end, sample 0 first."""
        p = self.probability(partial_sums)
        u = default_rng(rng).random(p.shape + (self.samples,))
        return (u < p[..., None]).astype(np.uint8)

    def _codes(self, ps: np.ndarray, rng: Any) -> np.ndarray:
        return default_rng(rng).binomial(self.samples, self.probability(ps)).astype(np.int64)

    def _expected(self, ps: np.ndarray) -> np.ndarray:
        return self.samples * self.probability(ps)


def _check_bits(spec: str, bits: int) -> None:
    if not 1 <= bits <= MAX_ADC_BITS:
        raise ConfigError(f"{spec}: bits must be 1 to {MAX_ADC_BITS}")


CONVERTERS: dict[str, type[Converter]] = {c.name: c for c in (Ideal, Adc, Sparse, Mtj)}

_ARG = {"adc": "bits", "sparse": "bits", "mtj": "samples"}


def converter(spec: str | Converter, **params: Any) -> Converter:
    """A converter from its spec (``ideal``, ``adc:N``, ``sparse:N``, ``mtj:T``) and
    parameters (``lo``/``hi`` or ``clip``; ``k``, ``x0`` for mtj; ``step`` for sparse).

    >>> converter("mtj:4").spec, converter("adc:6", clip=20.0).bind(-64, 64).lo
    ('mtj:4', -20.0)
    """
    if isinstance(spec, Converter):
        return replace(spec, **params) if params else spec
    text = str(spec).strip().lower()
    name, _, arg = text.partition(":")
    if name not in CONVERTERS:
        raise ConfigError(f"unknown converter {spec!r}: use ideal, adc:N, sparse:N or mtj:T")
    cls = CONVERTERS[name]
    kw: dict[str, Any] = {}
    if name in _ARG:
        if not arg.isdigit():
            raise ConfigError(f"converter {spec!r}: write {name}:{'T' if name == 'mtj' else 'N'}"
                              f" with a whole number ({_ARG[name]})")
        kw[_ARG[name]] = int(arg)
    elif arg:
        raise ConfigError(f"converter {spec!r}: ideal takes no argument")
    allowed = {f.name for f in fields(cls)} - set(_ARG.values())
    for key in params:
        if key not in allowed:
            raise ConfigError(f"converter {name} has no parameter {key!r} (it takes "
                              f"{', '.join(sorted(allowed))})")
    try:
        kw.update({k: (float(v) if v is not None else None) for k, v in params.items()})
    except (TypeError, ValueError):
        raise ConfigError(f"converter {spec!r}: parameters must be numbers") from None
    return cls(**kw)
