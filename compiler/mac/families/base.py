"""What every multiplier family shares: the parameter grammar, the signed-operand rules and
the integer helpers their evaluators use.

A family is a frozen dataclass whose fields are its parameters, declared with
``actc.options.option`` (the help text is what ``actc mac list`` prints). Its evaluator,
``product(a, b, a_bits, b_bits, signed)``, is the meaning of every circuit of the family: it
takes operand codes as int64 arrays and returns the product before the output wraps to
``a_bits + b_bits`` bits (``Multiplier.product`` wraps it, once, for every family).

Signed operands (two's complement) are handled in one of two documented ways:

- ``baugh-wooley``: the family is a partial-product array, and its signed form is the
  modified Baugh-Wooley array (``ArrayFamily``);
- ``sign-magnitude``: the family's unsigned core runs on |a| and |b| (exact; |-2^(n-1)| fits n
  unsigned bits) and the product is negated when the signs differ (``SignMagnitude``).

>>> import numpy as np
>>> ilog2(np.array([1, 2, 3, 255, 256]))
array([0, 1, 1, 7, 8])
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from ...errors import SemanticError

__all__ = ["ArrayFamily", "Family", "SignMagnitude", "ilog2", "parameter_text", "required"]

I64 = np.int64


def ilog2(x: np.ndarray) -> np.ndarray:
    """floor(log2 x) for x >= 1 (int64; exact below 2^53), -1 for x <= 0."""
    x = np.asarray(x, dtype=I64)
    e = np.frexp(np.maximum(x, 1).astype(np.float64))[1].astype(I64) - 1
    return np.where(x > 0, e, -1)


def required(help: str, metavar: str | None = None) -> Any:
    """A parameter without a default (given positionally in the spec)."""
    return dataclasses.field(metadata={"help": help, "choices": None, "metavar": metavar})


def parameter_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Family:
    """A family of multipliers; an instance is one configuration (its parameters)."""

    name: ClassVar[str]
    title: ClassVar[str]  # one line for ``actc mac list``
    reference: ClassVar[str]  # where the definition comes from
    signing: ClassVar[str] = "sign-magnitude"
    listed: ClassVar[bool] = True  # a family users name in --multiplier

    # --- the grammar -----------------------------------------------------------------------
    @classmethod
    def parameters_declared(cls) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if "help" in f.metadata]

    @classmethod
    def from_args(cls, args: list[str], spec: str) -> Family:
        """The configuration from the arguments after ``name:`` (positional in declared
        order; a tuple parameter takes every remaining positional one; ``key=value``)."""
        fields = cls.parameters_declared()
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        k = 0
        for arg in args:
            if "=" in arg:
                key, _, text = arg.partition("=")
                key = key.strip().replace("-", "_")
                match = [f for f in fields if f.name == key]
                if not match:
                    names = ", ".join(f.name for f in fields) or "none"
                    raise SemanticError(f"--multiplier {spec!r}: {cls.name} has no parameter "
                                        f"{key!r} (parameters: {names})")
                f = match[0]
                values[f.name] = _convert(hints[f.name], text, f, spec, cls.name,
                                          values.get(f.name))
                continue
            while k < len(fields) and fields[k].name in values and \
                    _origin(hints[fields[k].name]) is not tuple:
                k += 1
            if k >= len(fields):
                raise SemanticError(f"--multiplier {spec!r}: too many arguments for "
                                    f"{cls.name} ({cls.usage()})")
            f = fields[k]
            values[f.name] = _convert(hints[f.name], arg, f, spec, cls.name, values.get(f.name))
            if _origin(hints[f.name]) is not tuple:
                k += 1
        missing = [f.name for f in fields if f.name not in values
                   and f.default is dataclasses.MISSING]
        if missing:
            raise SemanticError(f"--multiplier {spec!r}: {cls.name} needs {', '.join(missing)} "
                                f"({cls.usage()})")
        family: Family = cls(**values)
        return family

    @classmethod
    def usage(cls) -> str:
        """The family's grammar, e.g. ``truncated:K[,correction=none|mean|grid]``."""
        parts = []
        for f in cls.parameters_declared():
            choices = f.metadata.get("choices")
            meta = f.metadata.get("metavar") or f.name.upper()
            if f.default is dataclasses.MISSING:
                parts.append(meta)
            else:
                parts.append(f"[{f.name}={'|'.join(choices) if choices else meta}]")
        return cls.name + (":" + ",".join(parts) if parts else "")

    def spec(self) -> str:
        """The canonical text: required parameters positional, others only when not their
        default, as key=value."""
        parts = []
        for f in self.parameters_declared():
            v = getattr(self, f.name)
            if f.default is dataclasses.MISSING:
                parts.append(parameter_text(v))
            elif v != f.default:
                parts.append(f"{f.name}={parameter_text(v)}")
        return self.name + (":" + ",".join(parts) if parts else "")

    def parameters(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in self.parameters_declared()}

    def stem(self) -> str:
        """A default design name: the spec with its punctuation folded (``drum4``)."""
        out = []
        for f in self.parameters_declared():
            v = getattr(self, f.name)
            if f.default is dataclasses.MISSING or v != f.default:
                out.append(parameter_text(v).replace(",", "_"))
        return self.name + "_".join(out)

    # --- the configuration against the operand widths -----------------------------------------
    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        """SemanticError when a parameter is out of range for these widths."""

    def _range(self, what: str, value: int, lo: int, hi: int, a_bits: int, b_bits: int) -> None:
        if not lo <= value <= hi:
            raise SemanticError(f"--multiplier {self.spec()!r}: {what} {value} is out of range "
                                f"for {a_bits}x{b_bits}-bit operands (use {lo} to {hi})")

    # --- the evaluator -------------------------------------------------------------------------
    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:  # pragma: no cover - interface
        """The product of operand codes (int64 arrays), before the output wraps."""
        raise NotImplementedError

    # --- the weight port (a family whose hardware takes an encoded weight overrides these) --
    def weight_bits(self, b_bits: int, signed: bool) -> int | None:
        """Width of the hardware's weight port when it is not the operand b itself."""
        return None

    def decode(self, code: np.ndarray, b_bits: int, signed: bool) -> np.ndarray:
        """The weight a code on the weight port stands for."""
        return code

    def encode(self, b: np.ndarray, b_bits: int, signed: bool) -> np.ndarray:
        """The weight port's code for operand b."""
        return b

    def summary(self, a_bits: int, b_bits: int, signed: bool) -> str:
        return f"{self.spec()}: {self.title}"

    def to_json(self) -> dict:
        return {"family": self.name, **self.parameters()}


def _origin(hint: Any) -> Any:
    return typing.get_origin(hint) or hint


def _convert(hint: Any, text: str, f: dataclasses.Field, spec: str, family: str,
             sofar: Any) -> Any:
    text = text.strip()
    origin = _origin(hint)
    try:
        if origin is tuple:
            return (*(sofar or ()), int(text))
        if hint is int or hint == "int":
            return int(text)
    except ValueError:
        raise SemanticError(f"--multiplier {spec!r}: {family} parameter {f.name} takes "
                            f"integers, got {text!r}") from None
    choices = f.metadata.get("choices")
    if choices and text not in choices:
        raise SemanticError(f"--multiplier {spec!r}: {family} parameter {f.name} is one of "
                            f"{', '.join(choices)}, got {text!r}")
    return text


class SignMagnitude(Family):
    """A family defined by an unsigned core; signed operands go through sign-magnitude."""

    def magnitude(self, a: np.ndarray, b: np.ndarray, a_bits: int,
                  b_bits: int) -> np.ndarray:  # pragma: no cover - interface
        """The unsigned core on magnitudes 0..2^a_bits - 1 and 0..2^b_bits - 1."""
        raise NotImplementedError

    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:
        a = np.asarray(a, dtype=I64)
        b = np.asarray(b, dtype=I64)
        if not signed:
            return self.magnitude(a, b, a_bits, b_bits)
        p = self.magnitude(np.abs(a), np.abs(b), a_bits, b_bits)
        return np.where((a < 0) ^ (b < 0), -p, p)


@dataclass(frozen=True)
class ArrayBit:
    """One partial-product bit: a_i AND b_j at column i + j, NAND when ``inverted``."""

    i: int
    j: int
    inverted: bool


class ArrayFamily(Family):
    """A partial-product array with some bits dropped and a constant added.

    Unsigned: bit (i, j) is a_i AND b_j at column i + j. Signed: the modified Baugh-Wooley
    array: bit (i, j) is inverted (NAND) when exactly one of i = a_bits - 1, j = b_bits - 1
    holds, and the constant 2^(a_bits-1) + 2^(b_bits-1) + 2^(a_bits+b_bits-1) is added (the
    product is read modulo 2^(a_bits+b_bits)). The product is the constant plus the
    correction plus every kept bit times 2^(i+j)."""

    signing: ClassVar[str] = "baugh-wooley"

    def dropped(self, i: int, j: int, a_bits: int, b_bits: int,
                signed: bool) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def offset(self, a_bits: int, b_bits: int, signed: bool) -> int:
        """The correction constant added to the array (none by default)."""
        return 0

    @staticmethod
    def inverted(i: int, j: int, a_bits: int, b_bits: int, signed: bool) -> bool:
        return signed and ((i == a_bits - 1) != (j == b_bits - 1))

    def constant(self, a_bits: int, b_bits: int, signed: bool) -> int:
        """The Baugh-Wooley constant (signed) plus the correction."""
        bw = (1 << (a_bits - 1)) + (1 << (b_bits - 1)) + (1 << (a_bits + b_bits - 1)) \
            if signed else 0
        return bw + self.offset(a_bits, b_bits, signed)

    def rows(self, a_bits: int, b_bits: int, signed: bool) -> list[tuple[int, int]]:
        """Per row j (multiplier bit b_j): (mask of kept AND bits, mask of kept NAND bits)
        over the bits of a."""
        out = []
        for j in range(b_bits):
            and_mask = nand_mask = 0
            for i in range(a_bits):
                if self.dropped(i, j, a_bits, b_bits, signed):
                    continue
                if self.inverted(i, j, a_bits, b_bits, signed):
                    nand_mask |= 1 << i
                else:
                    and_mask |= 1 << i
            out.append((and_mask, nand_mask))
        return out

    def dropped_mean(self, a_bits: int, b_bits: int, signed: bool) -> Fraction:
        """The mean value of the dropped bits for uniform operands (an AND bit is 1 with
        probability 1/4, a NAND bit 3/4)."""
        total = Fraction(0)
        for j in range(b_bits):
            for i in range(a_bits):
                if self.dropped(i, j, a_bits, b_bits, signed):
                    p = Fraction(3, 4) if self.inverted(i, j, a_bits, b_bits, signed) \
                        else Fraction(1, 4)
                    total += p * (1 << (i + j))
        return total

    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:
        pa = np.asarray(a, dtype=I64) & ((1 << a_bits) - 1)  # the bit patterns
        pb = np.asarray(b, dtype=I64) & ((1 << b_bits) - 1)
        p = np.full(pa.shape, self.constant(a_bits, b_bits, signed), dtype=I64)
        for j, (and_mask, nand_mask) in enumerate(self.rows(a_bits, b_bits, signed)):
            bj = (pb >> j) & 1
            # a NAND bit is 1 - a_i b_j: its row adds the mask's value less b_j (a & mask)
            row = bj * ((pa & and_mask) - (pa & nand_mask)) + nand_mask
            p += row << j
        return p
