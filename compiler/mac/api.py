"""The MAC companion's Python API: compile a multiplier or MAC array to files, in one call.

>>> from actc.mac.api import compile
>>> r = compile("drum:4", bits=8, target="python")
>>> sorted(r.files), round(r.error["mre_percent"], 2)
(['drum4.json', 'drum4.py'], 5.89)
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..api import Result, emit_files, select_targets, target_options_json
from ..errors import FormatError
from ..manifest import SCHEMA, dumps
from .families import Family, parse_multiplier
from .ir import MacUnit, Multiplier, default_acc_bits
from .metrics import measure

__all__ = ["compile", "make_multiplier", "manifest_for", "resolve_widths"]


def resolve_widths(bits: int | None, a_bits: int | None, b_bits: int | None) -> tuple[int, int]:
    """(a_bits, b_bits) from --bits or --a-bits/--b-bits (8 when nothing is given)."""
    if bits is not None and (a_bits is not None or b_bits is not None):
        raise FormatError("--bits sets both operand widths: give it or --a-bits/--b-bits, not "
                          "both")
    if bits is not None:
        return bits, bits
    if (a_bits is None) != (b_bits is None):
        raise FormatError("give both --a-bits and --b-bits (or --bits for both)")
    return (a_bits, b_bits) if a_bits is not None and b_bits is not None else (8, 8)


def make_multiplier(multiplier: str | Family | Multiplier, *, bits: int | None = None,
                    a_bits: int | None = None, b_bits: int | None = None,
                    signed: bool = False) -> Multiplier:
    """A Multiplier from a spec text (``"drum:4"``), a family, or a Multiplier (returned as
    is)."""
    if isinstance(multiplier, Multiplier):
        return multiplier
    family = parse_multiplier(multiplier) if isinstance(multiplier, str) else multiplier
    na, nb = resolve_widths(bits, a_bits, b_bits)
    return Multiplier(family, na, nb, bool(signed))


def compile(  # noqa: A001 - the same name as actc.compile
    multiplier: str | Family | Multiplier,
    *,
    bits: int | None = None,
    a_bits: int | None = None,
    b_bits: int | None = None,
    signed: bool = False,
    lanes: int = 1,
    accumulate: bool = False,
    acc_bits: int | None = None,
    target: str | list[str] = "all",
    name: str | None = None,
    **options: Any,
) -> Result:
    """Compile a multiplier (``--multiplier`` text, a family or a Multiplier) into a MAC unit
    for one or more targets. ``options`` are the targets' (Verilog: ``registered=True``).
    Nothing is written until ``Result.write``."""
    from actc.targets import TARGETS
    from actc.targets.base import check_name

    m = make_multiplier(multiplier, bits=bits, a_bits=a_bits, b_bits=b_bits, signed=signed)
    if acc_bits is not None and not accumulate:
        raise FormatError("--acc-bits needs --accumulate")
    width = (acc_bits if acc_bits is not None else default_acc_bits(m.out_bits)) \
        if accumulate else 0
    unit_name = check_name(name if name is not None else m.family.stem(), TARGETS)
    unit = MacUnit(unit_name, m, lanes, accumulate, width)
    if accumulate and options.get("registered"):
        raise FormatError("--registered adds an output register; an accumulating unit's "
                          "output is its register already: drop --registered")
    targets = select_targets(target, "mac", [p.format for p in unit.inputs],
                             (type(m.family),), options, set())
    metrics = measure(m)
    return _result(unit, targets, metrics, {"multiplier": m.family.spec()})


def _result(unit: MacUnit, targets: dict[str, Any], metrics: dict,
            provenance: dict) -> Result:
    from actc.targets import EmitInfo

    space = unit.input_space()
    info = EmitInfo(version=__version__, provenance=provenance, error=metrics, space=space,
                    expected=unit.evaluate(**space.vectors))
    files = emit_files(unit, targets, info)
    manifest_name = f"{unit.name}.json"
    manifest = manifest_for(unit, targets, metrics, [*files, manifest_name])
    files[manifest_name] = dumps(manifest)
    m = unit.multiplier
    return Result(None, unit, m.family.spec(), m.family.parameters(), metrics, files, manifest)


def manifest_for(unit: MacUnit, targets: dict[str, Any], metrics: dict,
                 files: list[str]) -> dict:
    """The manifest of a MAC unit (README "MAC manifests")."""
    m = unit.multiplier
    return {
        "schema": SCHEMA,
        "actc_version": __version__,
        "kind": unit.kind,
        "name": unit.name,
        "multiplier": m.family.spec(),
        "family": m.family.name,
        "parameters": m.family.parameters(),
        "signing": m.family.signing,
        "a": m.a_format.to_json(),
        "b": m.b_format.to_json(),
        "product": m.out_format.to_json(),
        "weight_port": {"bits": m.weight_bits, "encoded": m.encoded},
        "signed": m.signed,
        "lanes": unit.lanes,
        "accumulate": unit.accumulate,
        "acc_bits": unit.acc_bits,
        "targets": list(targets),
        "target_options": target_options_json(targets),
        "files": files,
        "memory_bits": unit.memory_bits,
        "metrics": metrics,
        "design": unit.to_json(),
    }
