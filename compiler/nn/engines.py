"""The multiplier an approximate layer takes, at which operand widths, and its identity in a
state dict.

A layer's ``multiplier`` is one of

- spec text (``"drum:4"``, ``"truncated:8"``): built at the layer's widths (``bits``, or
  ``a_bits``/``b_bits``; 8 when none is given) and signedness (``signed``; True by default);
- a ``Multiplier`` or a MAC manifest path (``actc mac compile``/``import``; text ending in
  ``.json`` or a ``Path``): it carries its own widths and signedness;
- an ``ApproxGemm`` (its multiplier's widths) or an ``MRENoise`` (``bits``-bit signed codes).

Widths given beside a multiplier that carries its own must agree with them: a manifest of
4-bit operands with ``bits=8`` raises ``ValueError`` naming both, never silently runs one of
them.

>>> e = resolve("drum:4", bits=6)
>>> e.codes, describe(e)
((-32, 31, -32, 31), 'drum:4, 6x6-bit signed')
>>> resolve("out/mul.json", bits=4, signed=False) # doctest: +SKIP
Traceback (most recent call last):
ValueError: multiplier out/mul.json is 8x8-bit signed; the arguments ask for 4x4-bit unsigned
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .gemm import ApproxGemm
from .noise import MRENoise

__all__ = ["Widths", "describe", "identity", "resolve", "widths_of"]


@dataclass(frozen=True)
class Widths:
    """Operand widths and signedness of a layer's codes."""

    a_bits: int
    b_bits: int
    signed: bool

    def text(self) -> str:
        return f"{self.a_bits}x{self.b_bits}-bit {'signed' if self.signed else 'unsigned'}"


def _asked(bits: int | None, a_bits: int | None, b_bits: int | None, signed: bool | None,
           default: Widths) -> tuple[Widths, bool, bool]:
    """The widths the arguments ask for (the default where they are silent), and whether
    they name the widths and the signedness explicitly."""
    if bits is not None and (a_bits is not None or b_bits is not None):
        raise ValueError("bits sets both operand widths: give bits or a_bits/b_bits, not both")
    for name, v in (("bits", bits), ("a_bits", a_bits), ("b_bits", b_bits)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise ValueError(f"{name} must be an integer, got {v!r}")
    if bits is not None:
        a_bits = b_bits = bits
    widths = Widths(default.a_bits if a_bits is None else a_bits,
                    default.b_bits if b_bits is None else b_bits,
                    default.signed if signed is None else bool(signed))
    return widths, a_bits is not None or b_bits is not None, signed is not None


def widths_of(engine: Any) -> Widths:
    """The widths an engine's codes have."""
    if isinstance(engine, MRENoise):
        return Widths(engine.bits, engine.bits, True)
    m = engine.multiplier
    return Widths(m.a_bits, m.b_bits, m.signed)


def resolve(multiplier: Any, *, bits: int | None = None, a_bits: int | None = None,
            b_bits: int | None = None, signed: bool | None = None,
            default: Widths = Widths(8, 8, True)) -> nn.Module:
    """The product engine (``ApproxGemm`` or ``MRENoise``) of a layer's ``multiplier`` and
    width arguments; ``default``: the widths where the arguments are silent (8x8 signed for
    a new layer, the layer's own for ``set_multiplier``)."""
    from actc.mac.api import make_multiplier
    from actc.mac.ir import Multiplier

    asked, named_widths, named_sign = _asked(bits, a_bits, b_bits, signed, default)
    fixed: nn.Module | None = None
    label = repr(multiplier)
    if isinstance(multiplier, (MRENoise, ApproxGemm)):
        fixed = multiplier
        label = describe(multiplier)
    elif isinstance(multiplier, Multiplier):
        fixed = ApproxGemm(multiplier)
        label = multiplier.family.spec()
    elif isinstance(multiplier, Path) or (isinstance(multiplier, str)
                                          and multiplier.strip().endswith(".json")):
        from actc.manifest import load

        _, unit = load(multiplier)
        if unit.kind != "mac":
            raise ValueError(f"{multiplier} describes a {unit.kind} unit, not a multiplier")
        fixed = ApproxGemm(unit.multiplier)  # type: ignore[attr-defined]
        label = str(multiplier)
    elif not isinstance(multiplier, str):
        raise TypeError(f"multiplier must be spec text, a Multiplier, a MAC manifest path or "
                        f"an MRENoise, got {type(multiplier).__name__}")
    if fixed is None:
        m = make_multiplier(multiplier, a_bits=asked.a_bits, b_bits=asked.b_bits,
                            signed=asked.signed)
        return ApproxGemm(m)
    own = widths_of(fixed)
    if (named_widths and (own.a_bits, own.b_bits) != (asked.a_bits, asked.b_bits)) or \
            (named_sign and own.signed != asked.signed):
        raise ValueError(f"multiplier {label} is {own.text()}; the arguments ask for "
                         f"{asked.text()}: drop bits/a_bits/b_bits/signed or give a multiplier "
                         "of those widths")
    return fixed


def describe(engine: Any) -> str:
    """The engine in words, as error messages and ``repr`` show it."""
    if isinstance(engine, MRENoise):
        return f"MRENoise(mre={engine.mre:g}, bias={engine.bias:g}, bits={engine.bits})"
    text: str = engine.multiplier.text
    return text


def identity(engine: Any) -> dict[str, Any]:
    """What a state dict records of the engine, to refuse loading it into another one: the
    spec and widths (and an imported table's digest; the noise model's parameters)."""
    if isinstance(engine, MRENoise):
        return {"kind": "noise", "mre": engine.mre, "bias": engine.bias, "bits": engine.bits}
    m = engine.multiplier
    out = {"kind": "multiplier", "spec": m.family.spec(), "a_bits": m.a_bits,
           "b_bits": m.b_bits, "signed": m.signed}
    digest = getattr(m.family, "digest", "")
    if digest:
        out["digest"] = digest
    return out
