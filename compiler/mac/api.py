"""The MAC companion's Python API: compile a multiplier or MAC array to files, in one call.

>>> from actc.mac.api import compile
>>> r = compile("drum:4", bits=8, target="python")
>>> sorted(r.files), round(r.error["mre_percent"], 2)
(['drum4.json', 'drum4.py'], 5.89)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from ..api import Result, emit_files, select_targets, target_options_json
from ..errors import FormatError, InputError, SemanticError
from ..manifest import SCHEMA, dumps
from .families import Family, parse_multiplier, table_file
from .families.table import TableFamily
from .ir import MAX_OPERAND_BITS, MIN_OPERAND_BITS, MacUnit, Multiplier, default_acc_bits
from .metrics import measure

__all__ = ["compile", "exact_twin", "make_multiplier", "manifest_for", "plan_unit",
           "read_table", "resolve_widths"]


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
                    signed: bool | None = None) -> Multiplier:
    """A Multiplier from a spec text (``"drum:4"``; ``"table:PATH"`` or a path ending in
    .json or .npy: a product table read from a file, see :func:`read_table`), a family, or a
    Multiplier (returned as is). Widths default to 8 bits, signed to False."""
    if isinstance(multiplier, Multiplier):
        return multiplier
    if isinstance(multiplier, str):
        path = table_file(multiplier)
        if path is not None:
            return read_table(path, bits=bits, a_bits=a_bits, b_bits=b_bits, signed=signed)
    family = parse_multiplier(multiplier) if isinstance(multiplier, str) else multiplier
    na, nb = resolve_widths(bits, a_bits, b_bits)
    return Multiplier(family, na, nb, bool(signed))


def read_table(path: str | Path, *, bits: int | None = None, a_bits: int | None = None,
               b_bits: int | None = None, signed: bool | None = None) -> Multiplier:
    """The multiplier a file holds: a MAC manifest's (``.json``; an imported circuit's table,
    or a library family at its widths), or a ``.npy`` product table, a 2-D integer array of
    shape (2^a_bits, 2^b_bits) indexed ``[a][b]`` in ascending code order (signed: row 0 is
    a = -2^(a_bits-1)), every value within the a_bits + b_bits-bit product. Widths and
    signedness come from the file; given ones must agree (FormatError otherwise)."""
    import hashlib

    import numpy as np

    p = Path(path)
    shown = str(p)
    if p.suffix.lower() == ".json":
        from ..errors import ManifestError
        from ..manifest import load

        try:
            _, unit = load(p)
        except RecursionError:
            raise ManifestError(f"manifest {shown!r} is nested too deeply to read") from None
        if not isinstance(unit, MacUnit):
            raise SemanticError(f"--multiplier {shown!r} describes a {unit.kind} unit, not a "
                                "multiplier")
        m = unit.multiplier
    else:
        try:
            values = np.load(p, allow_pickle=False)
        except FileNotFoundError:
            raise InputError(f"product table {shown!r} not found") from None
        except (OSError, ValueError, EOFError) as exc:
            raise InputError(f"cannot read product table {shown!r}: not a .npy array "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                             ) from None
        if values.ndim != 2 or values.dtype.kind not in "iu":
            raise InputError(f"product table {shown!r}: want a 2-D integer array, got dtype "
                             f"{values.dtype} and shape {values.shape}")
        na, nb = (int(n).bit_length() - 1 for n in values.shape)
        if values.shape != (1 << na, 1 << nb) or not all(
                MIN_OPERAND_BITS <= w <= MAX_OPERAND_BITS for w in (na, nb)) or na + nb > 24:
            raise InputError(f"product table {shown!r}: shape {values.shape} is not "
                             "(2^a_bits, 2^b_bits) with 4 to 16 bits per operand and at most "
                             "2^24 entries")
        sign = bool(signed)
        p_bits = na + nb
        lo, hi = (-(1 << (p_bits - 1)), (1 << (p_bits - 1)) - 1) if sign else \
            (0, (1 << p_bits) - 1)
        v = values.astype(np.int64) if values.dtype != np.uint64 else values
        bad = np.flatnonzero((v < lo) | (v > hi))
        if bad.size:
            ia, ib = divmod(int(bad[0]), 1 << nb)
            hint = " (a signed table? give --signed)" if not sign and int(v.min()) < 0 else ""
            raise InputError(f"product table {shown!r}: entry [{ia}][{ib}] = "
                             f"{int(v.ravel()[bad[0]])} is outside the {p_bits}-bit "
                             f"{'signed' if sign else 'unsigned'} product{hint}")
        digest = hashlib.sha256(np.ascontiguousarray(v, dtype="<i8").tobytes()).hexdigest()
        family = TableFamily(np.asarray(v, dtype=np.int64), na, nb, sign,
                             {"kind": "npy", "file": p.name, "sha256": digest})
        m = Multiplier(family, na, nb, sign)
    given_a, given_b = (bits, bits) if bits is not None else (a_bits, b_bits)
    for what, given, have in (("a", given_a, m.a_bits), ("b", given_b, m.b_bits)):
        if given is not None and given != have:
            raise FormatError(f"--multiplier {shown!r} is {m.a_bits}x{m.b_bits}-bit: operand "
                              f"{what} cannot be {given} bits (leave the widths out)")
    if signed is not None and bool(signed) != m.signed:
        kind = "signed" if m.signed else "unsigned"
        raise FormatError(f"--multiplier {shown!r} is {kind}: it cannot be read "
                          f"{'signed' if signed else 'unsigned'} (leave --signed out)")
    return m


def compile(  # noqa: A001 - the same name as actc.compile
    multiplier: str | Family | Multiplier,
    *,
    bits: int | None = None,
    a_bits: int | None = None,
    b_bits: int | None = None,
    signed: bool | None = None,
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
    m = make_multiplier(multiplier, bits=bits, a_bits=a_bits, b_bits=b_bits, signed=signed)
    unit, targets = plan_unit(m, name, lanes, accumulate, acc_bits, target, options)
    if isinstance(m.family, TableFamily) and m.family.source.get("kind") == "verilog":
        from .importer import for_unit

        m = for_unit(m, unit.name)
        unit = MacUnit(unit.name, m, unit.lanes, unit.accumulate, unit.acc_bits)
    metrics = measure(m)
    return _result(unit, targets, metrics, {"multiplier": m.family.spec()})


def plan_unit(m: Multiplier, name: str | None, lanes: int, accumulate: bool,
              acc_bits: int | None, target: str | list[str],
              options: dict[str, Any]) -> tuple[MacUnit, dict[str, Any]]:
    """The MAC unit and its targets for a multiplier, every option checked (FormatError,
    TargetError) before anything is measured: ``actc mac import`` calls it before it runs
    the circuit."""
    from actc.targets import TARGETS
    from actc.targets.base import check_name

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
    return unit, targets


def exact_twin(manifest: dict, unit: MacUnit) -> Result:
    """The exact multiplier of a MAC unit's configuration (widths, signedness, lanes,
    accumulator, Verilog output register), compiled to Verilog: what ``actc cost`` shows
    beside the unit."""
    from ..manifest import target_options

    m = unit.multiplier
    verilog = target_options(manifest).get("verilog")
    registered = bool(getattr(verilog, "registered", False))
    return compile("exact", a_bits=m.a_bits, b_bits=m.b_bits, signed=m.signed,
                   lanes=unit.lanes, accumulate=unit.accumulate,
                   acc_bits=unit.acc_bits if unit.accumulate else None, target="verilog",
                   name="exact", **({"registered": True} if registered else {}))


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
    """The manifest of a MAC unit (docs/reference/mac.md: MAC manifests)."""
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
