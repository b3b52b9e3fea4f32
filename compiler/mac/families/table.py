"""``table``: a product table, what ``actc mac import`` measures from a circuit nobody here
wrote (its Verilog simulated, or its C model compiled and run, on every operand pair). Not
named in ``--multiplier``: an imported manifest carries it."""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ...errors import SemanticError
from .base import I64, Family

__all__ = ["TableFamily", "identifier"]


def identifier(text: str) -> str:
    """A name made an identifier: other characters become ``_``, a leading digit gets
    ``table_`` before it.

    >>> identifier("mul$1"), identifier("8x8.lut")
    ('mul_1', 'table_8x8_lut')
    """
    import re

    out = re.sub(r"\W", "_", str(text), flags=re.A) or "imported"
    return out if out[0].isalpha() else f"table_{out}"


@dataclass(frozen=True)
class TableFamily(Family):
    """p = values[a - a_min, b - b_min] (a_min, b_min: the lowest operand codes). ``source``
    says where the table came from (``kind`` verilog or c, ``file``, the module or function
    and its ports; for Verilog also ``text``, the module source, so the Verilog target can
    emit the circuit itself).

    >>> import numpy as np
    >>> t = TableFamily(np.arange(4).reshape(2, 2) * 3, 1, 1, False, {"kind": "c"})
    >>> t.product(np.array([1]), np.array([0]), 1, 1, False).tolist()
    [6]
    >>> TableFamily.from_json(t.to_json()) == t
    True
    """

    name: ClassVar[str] = "table"
    title: ClassVar[str] = "a product table measured from an imported circuit (actc mac import)"
    reference: ClassVar[str] = "the imported circuit"
    signing: ClassVar[str] = "as the circuit"
    listed: ClassVar[bool] = False

    values: np.ndarray = field(compare=False, repr=False)
    a_bits: int = 0
    b_bits: int = 0
    signed: bool = False
    source: dict = field(default_factory=dict, compare=False)
    digest: str = ""

    def __post_init__(self) -> None:
        v = np.ascontiguousarray(self.values, dtype=I64)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "digest", hashlib.sha256(v.tobytes()).hexdigest()[:16])

    def spec(self) -> str:
        return f"table:{self.source.get('file', 'imported')}"

    def stem(self) -> str:
        """The circuit's name (module, function or file stem) as an identifier."""
        src = self.source
        return identifier(src.get("circuit_module") or src.get("function") or
                          str(src.get("file", "imported")).rsplit(".", 1)[0])

    def parameters(self) -> dict[str, Any]:
        return {"source": {k: v for k, v in self.source.items() if k != "text"},
                "digest": self.digest}

    def check(self, a_bits: int, b_bits: int, signed: bool) -> None:
        if (a_bits, b_bits, signed) != (self.a_bits, self.b_bits, self.signed):
            kind = "signed" if self.signed else "unsigned"
            raise SemanticError(f"the imported table is {self.a_bits}x{self.b_bits}-bit {kind}; "
                                "it cannot serve other widths")

    def product(self, a: np.ndarray, b: np.ndarray, a_bits: int, b_bits: int,
                signed: bool) -> np.ndarray:
        lo_a = -(1 << (a_bits - 1)) if signed else 0
        lo_b = -(1 << (b_bits - 1)) if signed else 0
        return self.values[np.asarray(a, dtype=I64) - lo_a, np.asarray(b, dtype=I64) - lo_b]

    def to_json(self) -> dict:
        # level 1: 50 times faster than 9 on a product table, and within 1 % of its size
        packed = zlib.compress(self.values.astype("<i8").tobytes(), 1)
        return {"family": self.name, "a_bits": self.a_bits, "b_bits": self.b_bits,
                "signed": self.signed, "source": self.source, "digest": self.digest,
                "table": {"encoding": "zlib+base64, int64 little-endian, row-major [a][b]",
                          "data": base64.b64encode(packed).decode("ascii")}}

    @classmethod
    def from_json(cls, obj: dict) -> TableFamily:
        raw = zlib.decompress(base64.b64decode(obj["table"]["data"]))
        a_bits, b_bits = int(obj["a_bits"]), int(obj["b_bits"])
        values = np.frombuffer(raw, dtype="<i8").astype(I64).reshape(1 << a_bits, 1 << b_bits)
        t = cls(values, a_bits, b_bits, bool(obj["signed"]), dict(obj.get("source") or {}))
        if obj.get("digest") and obj["digest"] != t.digest:
            raise ValueError("the product table does not match its digest")
        return t
