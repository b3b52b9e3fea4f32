"""The MAC companion's IR: a ``Multiplier`` (a family configuration at operand widths) and the
``MacUnit`` every target emits (N lanes sharing the activation operand, an optional
accumulator).

Operands are integer codes: ``a`` (the activation) and ``b`` (the weight), ``a_bits`` and
``b_bits`` wide (4 to 16 bits each), unsigned or two's complement (``signed`` applies to
both). The product has a_bits + b_bits bits and wraps to them (two's complement when
signed), like the hardware's output; only a few configurations ever reach that limit (a
Baugh-Wooley array with its sign cells removed, a correction constant at the top).

>>> import numpy as np
>>> from actc.mac.families import parse_multiplier
>>> m = Multiplier(parse_multiplier("drum:4"), 8, 8, False)
>>> unit = MacUnit("drum4", m)
>>> [p.name for p in unit.inputs], [p.name for p in unit.outputs]
(['a', 'b'], ['y'])
>>> unit.evaluate(a=np.array([200]), b=np.array([100]))["y"].tolist()
[21632]
>>> MacUnit.from_json(unit.to_json()) == unit
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import FormatError
from ..formats import NumberFormat
from ..unit import InputSpace, Port, Range
from .families import Family, family_from_json

__all__ = ["MAX_ACC_BITS", "MAX_LANES", "MAX_OPERAND_BITS", "MIN_OPERAND_BITS", "MacUnit",
           "Multiplier", "default_acc_bits", "wrap"]

MIN_OPERAND_BITS, MAX_OPERAND_BITS = 4, 16
MAX_LANES = 64
MAX_ACC_BITS = 48  # a DSP48's accumulator; keeps every running sum inside int64


def wrap(values: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """Values modulo 2^bits, read as two's complement when signed."""
    v = np.asarray(values, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(v >= (1 << (bits - 1)), v - (1 << bits), v) if signed else v


def default_acc_bits(product_bits: int) -> int:
    """The accumulator width when --acc-bits is not given: 32 bits (the int32 accumulators
    of TFLite and CMSIS-NN) or, for wider products, the product plus 8 bits (256 products
    without overflow)."""
    return max(32, product_bits + 8)


def _operand_format(bits: int, signed: bool) -> NumberFormat:
    return NumberFormat(bits, signed, 1.0, 0)


@dataclass(frozen=True)
class Multiplier:
    """A family configuration at operand widths: ``product(a, b)`` is its integer
    semantics on operand codes (the family's evaluator, wrapped to the output width)."""

    family: Family
    a_bits: int
    b_bits: int
    signed: bool = False

    def __post_init__(self) -> None:
        for what, bits in (("operand a", self.a_bits), ("operand b", self.b_bits)):
            if not MIN_OPERAND_BITS <= bits <= MAX_OPERAND_BITS:
                raise FormatError(f"{what} of {bits} bits is impossible: multipliers take "
                                  f"{MIN_OPERAND_BITS} to {MAX_OPERAND_BITS} bits per operand")
        self.family.check(self.a_bits, self.b_bits, self.signed)

    # --- formats ---------------------------------------------------------------------------
    @property
    def out_bits(self) -> int:
        return self.a_bits + self.b_bits

    @property
    def a_format(self) -> NumberFormat:
        return _operand_format(self.a_bits, self.signed)

    @property
    def b_format(self) -> NumberFormat:
        return _operand_format(self.b_bits, self.signed)

    @property
    def out_format(self) -> NumberFormat:
        return _operand_format(self.out_bits, self.signed)

    @property
    def weight_bits(self) -> int:
        """Width of the hardware's weight port (the operand b, or its encoding)."""
        w = self.family.weight_bits(self.b_bits, self.signed)
        return self.b_bits if w is None else w

    @property
    def encoded(self) -> bool:
        """Whether the weight port carries an encoded weight rather than b itself."""
        return self.family.weight_bits(self.b_bits, self.signed) is not None

    @property
    def weight_format(self) -> NumberFormat:
        if self.encoded:
            return NumberFormat(self.weight_bits, False, 1.0, 0)
        return self.b_format

    @property
    def pairs(self) -> int:
        return 1 << (self.a_bits + self.b_bits)

    def operands(self, which: str) -> np.ndarray:
        """Every code of operand ``a`` or ``b``, ascending."""
        fmt = self.a_format if which == "a" else self.b_format
        return np.arange(fmt.code_min, fmt.code_max + 1, dtype=np.int64)

    # --- the semantics ---------------------------------------------------------------------
    def product(self, a: Any, b: Any) -> np.ndarray:
        """The multiplier's output for operand codes a and b (b the weight itself)."""
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        raw = self.family.product(a, b, self.a_bits, self.b_bits, self.signed)
        return wrap(raw, self.out_bits, self.signed)

    def port_product(self, a: Any, code: Any) -> np.ndarray:
        """The hardware's output for activation a and weight-port code (the weight itself
        unless the family encodes it)."""
        if not self.encoded:
            return self.product(a, code)
        w = self.family.decode(np.asarray(code, dtype=np.int64), self.b_bits, self.signed)
        return wrap(np.asarray(a, dtype=np.int64) * w, self.out_bits, self.signed)

    def encode(self, b: Any) -> np.ndarray:
        """The weight port's code for weights b."""
        return np.asarray(self.family.encode(np.asarray(b, dtype=np.int64), self.b_bits,
                                             self.signed), dtype=np.int64)

    def table(self) -> np.ndarray:
        """The full product table ``[a - a_min][b - b_min]`` (at most 2^24 pairs)."""
        if self.pairs > 1 << 24:
            raise FormatError(f"a {self.a_bits}x{self.b_bits}-bit product table has "
                              f"2^{self.a_bits + self.b_bits} entries: at most 2^24")
        a = self.operands("a")
        b = self.operands("b")
        return self.product(a[:, None], b[None, :])

    def exact(self, a: Any, b: Any) -> np.ndarray:
        return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)

    @property
    def text(self) -> str:
        kind = "signed" if self.signed else "unsigned"
        return f"{self.family.spec()}, {self.a_bits}x{self.b_bits}-bit {kind}"

    def to_json(self) -> dict:
        return {"family": self.family.to_json(), "spec": self.family.spec(),
                "a_bits": self.a_bits, "b_bits": self.b_bits, "signed": self.signed}

    @classmethod
    def from_json(cls, obj: dict) -> Multiplier:
        return cls(family_from_json(obj["family"]), int(obj["a_bits"]), int(obj["b_bits"]),
                   bool(obj["signed"]))


@dataclass(frozen=True)
class MacUnit:
    """N lanes (``lanes``) of one multiplier sharing the activation ``a``, each with its own
    weight; with ``accumulate``, each lane adds its product into an ``acc_bits`` accumulator.

    Ports (one lane: ``b``, ``y``/``acc``; N lanes: ``b0``.., ``y0``../``acc0``..):

    - ``a``: the activation code; ``b``: the weight-port code (the weight, or for an ASM
      multiplier its encoding);
    - combinational: ``y`` = the product (a_bits + b_bits bits);
    - accumulating: inputs ``clear`` and ``valid`` (1 bit each) and output ``acc``. At each
      clock edge: ``acc <= (clear ? 0 : acc) + (valid ? a*b : 0)`` modulo 2^acc_bits
      (two's complement when signed). The accumulator holds no value before the first edge
      with ``clear`` high, so a stream starts with it."""

    kind: ClassVar[str] = "mac"

    name: str
    multiplier: Multiplier
    lanes: int = 1
    accumulate: bool = False
    acc_bits: int = 0  # 0 without an accumulator

    def __post_init__(self) -> None:
        if not 1 <= self.lanes <= MAX_LANES:
            raise FormatError(f"--lanes {self.lanes}: use 1 to {MAX_LANES}")
        if self.accumulate:
            lo = self.multiplier.out_bits
            if not lo <= self.acc_bits <= MAX_ACC_BITS:
                raise FormatError(f"--acc-bits {self.acc_bits}: the accumulator must hold a "
                                  f"product, {lo} to {MAX_ACC_BITS} bits")
        elif self.acc_bits:
            raise FormatError("--acc-bits needs --accumulate")

    # --- ports -----------------------------------------------------------------------------
    def lane_names(self, stem: str) -> list[str]:
        return [stem] if self.lanes == 1 else [f"{stem}{i}" for i in range(self.lanes)]

    @property
    def acc_format(self) -> NumberFormat:
        return NumberFormat(self.acc_bits, self.multiplier.signed, 1.0, 0)

    @property
    def inputs(self) -> tuple[Port, ...]:
        m = self.multiplier
        ports = [Port("a", m.a_format)] + [Port(n, m.weight_format)
                                           for n in self.lane_names("b")]
        if self.accumulate:
            bit = NumberFormat(1, False, 1.0, 0)
            ports += [Port("clear", bit), Port("valid", bit)]
        return tuple(ports)

    @property
    def outputs(self) -> tuple[Port, ...]:
        if self.accumulate:
            return tuple(Port(n, self.acc_format) for n in self.lane_names("acc"))
        return tuple(Port(n, self.multiplier.out_format) for n in self.lane_names("y"))

    # --- the Unit protocol -------------------------------------------------------------------
    def input_space(self) -> InputSpace:
        from .space import input_space

        return input_space(self)

    def evaluate(self, **inputs: Any) -> dict[str, np.ndarray]:
        from .evaluate import evaluate

        return evaluate(self, inputs)

    @property
    def memory_bits(self) -> int:
        """Bits of stored constants: an imported product table's; none for the library."""
        values = getattr(self.multiplier.family, "values", None)
        return 0 if values is None else int(values.size) * self.multiplier.out_bits

    def summary(self) -> str:
        m = self.multiplier
        text = m.text
        if self.lanes > 1:
            text += f", {self.lanes} lanes sharing a"
        if self.accumulate:
            text += f", {self.acc_bits}-bit accumulator"
        return text

    def signals(self) -> dict[str, Range]:
        """The ranges targets size their types by: operands, weight code, product,
        accumulator."""
        m = self.multiplier
        fa, fb, fo, fw = m.a_format, m.b_format, m.out_format, m.weight_format
        out: dict[str, Range] = {"a": (fa.code_min, fa.code_max), "b": (fb.code_min, fb.code_max),
                                 "code": (fw.code_min, fw.code_max),
                                 "product": (fo.code_min, fo.code_max)}
        if self.accumulate:
            out["acc"] = (self.acc_format.code_min, self.acc_format.code_max)
        return out

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "multiplier": self.multiplier.to_json(),
                "lanes": self.lanes, "accumulate": self.accumulate, "acc_bits": self.acc_bits}

    @classmethod
    def from_json(cls, obj: dict) -> MacUnit:
        return cls(str(obj["name"]), Multiplier.from_json(obj["multiplier"]),
                   int(obj.get("lanes", 1)), bool(obj.get("accumulate", False)),
                   int(obj.get("acc_bits", 0)))
