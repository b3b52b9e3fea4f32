"""The manifest schema: every key a manifest holds, typed and bounded, checked before any
value is used (``check``), so a damaged or hostile manifest gets one line naming the first
bad key, never a traceback, a hang or an allocation it chose.

What is checked (docs/reference/limits.md):

- the text before it is parsed: at most ``MAX_MANIFEST_BYTES``, nested at most
  ``MAX_JSON_DEPTH`` deep, every number a finite 64-bit float or an integer of at most 40
  digits (``read_json``);
- the keys every manifest has: ``schema``, ``kind`` (a registered unit kind), ``name`` (an
  identifier), ``targets`` (registered targets), ``target_options`` (each target's own
  options, the types and choices it declares, read from the targets registry, so a new target
  needs no change here), ``files`` (plain file names), ``sha256``, ``memory_bits``, ``cost``;
- each unit kind's keys, read from what its compile writes (activation: ``compiler/api.py``;
  MAC: ``compiler/mac/api.py``; ADC column back end: ``compiler/adc/backend.py``);
- the ``design``: every IR class's fields typed from its dataclass (cores, folds, multiplier
  families), integers within 64 bits, lists at most ``MAX_LIST`` long, formats of 1 to 64
  bits (an activation's 1 to 32), and an imported product table's compressed data
  decompressing to exactly its size (no decompression bomb).

pydantic (strict mode) does the checking: it validates a 2^20-entry table in about a second
where jsonschema, pure Python, takes 200 (``benchmarks/schema_speed.py``), and the models are
built from the IR dataclasses and the option declarations themselves, so the schema cannot
drift from the code.

>>> check({"schema": "actc-manifest/1"}, "'m.json'")
Traceback (most recent call last):
...
actc.errors.ManifestError: manifest 'm.json' is invalid: actc_version: Field required
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import types
import typing
import zlib
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, ValidationError, create_model

from .errors import ManifestError

__all__ = ["MAX_JSON_DEPTH", "MAX_LIST", "MAX_MANIFEST_BYTES", "check", "read_json"]

MAX_MANIFEST_BYTES = 256 << 20  # an imported 12 x 12-bit multiplier's table fits
MAX_JSON_DEPTH = 32
MAX_LIST = (1 << 21) + 64  # a 21-bit folded table's entries, with room
_MAX_INT_DIGITS = 40


# --- the text ------------------------------------------------------------------------------
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects (strings skipped)."""
    depth = top = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            top = max(top, depth)
        elif c in "]}":
            depth -= 1
    return top


def _float(text: str) -> float:
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise _NumberError(f"{text[:20]} is beyond a 64-bit float")
    return v


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _NumberError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _constant(text: str) -> float:
    raise _NumberError(f"{text} is not a JSON number")


class _NumberError(ValueError):
    pass


def read_json(text: str, where: str) -> Any:
    """Parse manifest text within the limits above; ManifestError naming what is wrong."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest {where} is {len(text)} bytes: manifests take at most "
                            f"{MAX_MANIFEST_BYTES}")
    depth = _depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ManifestError(f"manifest {where} nests {depth} levels deep: manifests take at "
                            f"most {MAX_JSON_DEPTH}")
    try:
        return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except _NumberError as exc:
        raise ManifestError(f"manifest {where} is invalid: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest {where} is damaged: invalid JSON at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"manifest {where} is damaged: {type(exc).__name__}") from None


# --- value types -----------------------------------------------------------------------------
Int64 = Annotated[int, Field(ge=-(1 << 63), lt=1 << 63)]
Count = Annotated[int, Field(ge=0, lt=1 << 63)]
Positive = Annotated[float, Field(gt=0)]  # finite: every model has allow_inf_nan=False
Text = Annotated[str, Field(max_length=4000)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")]
FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Json = dict[str, Any]

# Types built at run time (from the registries and the IR dataclasses), through Any so that
# mypy does not read them as annotations.
_Annotated: Any = Annotated
_Literal: Any = Literal
_Union: Any = typing.Union
_List: Any = list


def _ints(lo: int, hi: int) -> Any:
    return _Annotated[int, Field(ge=lo, le=hi)]


def _at_most(n: int, of: Any) -> Any:
    return _Annotated[_List[of], Field(max_length=n)]


def _one_of(values: Any) -> Any:
    return _Literal[tuple(values)]


_MODEL_NAMES: set[str] = set()  # left out of error paths: a union names its members there


def _model(name: str, fields: dict[str, Any],
           extra: Literal["allow", "forbid"] = "forbid") -> Any:
    _MODEL_NAMES.add(name)
    config = ConfigDict(strict=True, extra=extra, allow_inf_nan=False)
    return create_model(name, __config__=config, **fields)


def _field_type(hint: Any) -> Any:
    """The schema type of a dataclass field's type hint: ints within 64 bits, lists of them
    at most MAX_LIST long, finite floats, bounded text."""
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        inner = _field_type(args[0]) if len(args) == 1 else Any
        return inner | None if type(None) in typing.get_args(hint) else inner
    if origin in (tuple, list):
        return _at_most(MAX_LIST, _field_type(args[0]) if args else Any)
    simple = {bool: bool, int: Int64, float: float, str: Text, dict: Json}
    return simple.get(hint, Any)


def _dataclass_model(cls: type, tag: str | None = None, value: str = "") -> Any:
    """A model of a dataclass's JSON form: ``tag`` = ``value`` (when there is a tag) and each
    field by its hint (required unless it has a default)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {tag: (_one_of([value]), ...)} if tag else {}
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING or \
            f.default_factory is not dataclasses.MISSING
        fields[f.name] = (_field_type(hints[f.name]), None if has_default else ...)
    return _model(f"{cls.__name__}Json", fields)


def _format_model(max_bits: int) -> Any:
    bits = _ints(1, max_bits)
    number = _model(f"NumberFormat{max_bits}", {
        "bits": (bits, ...), "signed": (bool, ...), "scale": (Positive, ...),
        "zero_point": (Int64, ...), "text": (Text, ...)})
    floating = _model(f"FloatFormat{max_bits}", {
        "bits": (bits, ...), "float": (_one_of(["fp32", "fp16", "bf16"]), ...),
        "text": (Text, ...)})
    return number | floating


def _tagged(models: list[Any], tag: str) -> Any:
    return _Annotated[_Union[tuple(models)], Field(discriminator=tag)]


# --- each unit kind's design ---------------------------------------------------------------------
@lru_cache(maxsize=1)
def _designs() -> dict[str, Any]:
    from .activation.ir import CORES, Fold
    from .mac.families import FAMILIES, TableFamily

    cores = [_dataclass_model(c, "kind", k) for k, c in CORES.items()]
    activation = _model("ActivationDesign", {
        "kind": (_one_of(["activation"]), ...), "name": (Name, ...),
        "input": (_format_model(32), ...), "output": (_format_model(32), ...),
        "fold": (_dataclass_model(Fold) | None, None), "core": (_tagged(cores, "kind"), ...)})
    families = [_dataclass_model(c, "family", n) for n, c in FAMILIES.items()
                if c is not TableFamily]
    table = _model("TableFamilyJson", {
        "family": (_one_of(["table"]), ...), "a_bits": (_ints(1, 12), ...),
        "b_bits": (_ints(1, 12), ...), "signed": (bool, ...), "source": (Json, None),
        "digest": (Text, None),
        "table": (_model("TableData", {
            "encoding": (Text, ...),
            "data": (_Annotated[str, Field(max_length=MAX_MANIFEST_BYTES)], ...)}), ...)})
    multiplier = _model("MultiplierJson", {
        "family": (_tagged([*families, table], "family"), ...), "spec": (Text, ...),
        "a_bits": (_ints(1, 32), ...), "b_bits": (_ints(1, 32), ...), "signed": (bool, ...)})
    mac = _model("MacDesign", {
        "kind": (_one_of(["mac"]), ...), "name": (Name, ...), "multiplier": (multiplier, ...),
        "lanes": (_ints(1, 64), 1), "accumulate": (bool, False), "acc_bits": (_ints(0, 64), 0)})
    adc = _model("ColumnDesign", {
        "kind": (_one_of(["adc"]), ...), "name": (Name, ...), "converter": (Json, ...),
        "crossbar": (Json, ...), "subarrays": (_ints(1, 64), ...),
        "code_bits": (_ints(1, 63), ...), "sample_bits": (bool, ...), "gain": (Int64, ...),
        "offset": (Int64, ...), "lsb": (Positive, ...), "input_scale": (Positive, ...),
        "weight_scale": (Positive, ...), "seed": (Count, ...),
        "vectors": (_ints(16, 1 << 20), ...)})
    return {"activation": activation, "mac": mac, "adc": adc}


# --- each unit kind's manifest keys ----------------------------------------------------------
@lru_cache(maxsize=1)
def _kind_keys() -> dict[str, Any]:
    from .activation.passes import METHODS

    fmt32, fmt64 = _format_model(32), _format_model(64)
    pair = _at_most(2, float)
    error = _model("ErrorFigures", {
        "max_abs": (float, ...), "mean_abs": (float, ...), "rms": (float, ...),
        "max_lsb": (float, ...), "mean_lsb": (float, ...), "worst_input_code": (Int64, ...),
        "codes": (Count, ...), "exhaustive": (bool, ...)})
    activation = {
        "expression": (_Annotated[str, Field(max_length=1000)], ...), "canonical": (Text, ...),
        "method": (_one_of(METHODS), ...), "options": (Json, None), "parameters": (Json, ...),
        "input": (fmt32, ...), "output": (fmt32, ...), "domain": (pair, ...),
        "requested_domain": (pair | None, ...), "registered": (bool, ...),
        "symmetry": (Json | None, None), "memory_bytes": (Count | None, None),
        "search": (Json | None, None), "storage": (dict[str, Count], ...),
        "error": (error, ...), "selection": (Json | None, None)}
    mac = {
        "multiplier": (Text, ...), "family": (Text, ...), "parameters": (Json, ...),
        "signing": (Text, ...), "a": (fmt64, ...), "b": (fmt64, ...), "product": (fmt64, ...),
        "weight_port": (Json, ...), "signed": (bool, ...), "lanes": (Count, ...),
        "accumulate": (bool, ...), "acc_bits": (Count, ...), "metrics": (Json, ...)}
    adc = {
        "converter": (Json, ...), "crossbar": (Json, ...), "subarrays": (Count, ...),
        "decode": (Json, ...), "inputs": (_at_most(4096, Json), ...), "output": (fmt64, ...),
        "output_range": (_at_most(2, Int64), ...), "latency": (Count, ...),
        "vectors": (Json, ...)}
    return {"activation": activation, "mac": mac, "adc": adc}


@lru_cache(maxsize=4)
def _manifest_model(kind: str) -> Any:
    from .manifest import SCHEMA
    from .unit import unit_kinds

    common = {
        # "schema" would shadow a BaseModel attribute: the field takes it as an alias
        "schema_": (_one_of([SCHEMA]), Field(alias="schema")),
        "actc_version": (_Annotated[str, Field(max_length=40)], ...),
        "kind": (_one_of(unit_kinds()), ...), "name": (Name, ...),
        "targets": (_at_most(16, str), ...), "target_options": (dict[str, Json], None),
        "files": (_at_most(64, FileName), ...), "sha256": (dict[FileName, Sha256] | None, None),
        "memory_bits": (Count, ...), "cost": (dict[str, Json] | None, None),
        "design": (_designs()[kind], ...),
    }
    # unknown keys are let through here and named by verify, which rebuilds the manifest
    return _model(f"Manifest_{kind}", {**common, **_kind_keys()[kind]}, extra="allow")


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def _first(exc: Any) -> str:
    err = exc.errors(include_url=False)[0]
    loc = _where(tuple(p for p in err["loc"] if p not in _MODEL_NAMES))
    return f"{loc}: {err['msg']}"


def check(obj: Any, where: str) -> None:
    """Check a parsed manifest against the schema of its kind; ManifestError naming the
    first problem (its key path and what is wrong)."""
    from .unit import unit_kinds

    if not isinstance(obj, dict):
        raise ManifestError(f"manifest {where} is invalid: not a JSON object")
    kind = obj.get("kind", "activation")
    if kind not in unit_kinds():
        raise ManifestError(f"manifest {where} is invalid: kind: unknown unit kind "
                            f"{str(kind)[:40]!r}")
    try:
        _manifest_model(kind).model_validate(obj)
    except ValidationError as exc:
        raise ManifestError(f"manifest {where} is invalid: {_first(exc)}") from None
    _check_targets(obj, where)
    _check_files(obj, where)
    if kind == "mac":
        _check_table(obj["design"]["multiplier"], where)


def _check_targets(obj: dict, where: str) -> None:
    """``targets`` are registered and distinct; ``target_options`` holds options of
    registered targets, each checked against the options its target declares (whether they
    match ``targets`` is a claim ``verify`` checks)."""
    from actc.targets import TARGETS

    from .errors import ActcError

    targets = obj["targets"]
    for t in targets:
        if t not in TARGETS:
            raise ManifestError(f"manifest {where} is invalid: targets: unknown target "
                                f"{t[:40]!r} (registered: {', '.join(TARGETS)})")
    if len(set(targets)) != len(targets):
        raise ManifestError(f"manifest {where} is invalid: targets: a target is listed twice")
    for t, options in (obj.get("target_options") or {}).items():
        if t not in TARGETS:
            raise ManifestError(f"manifest {where} is invalid: target_options: unknown target "
                                f"{t[:40]!r} (registered: {', '.join(TARGETS)})")
        try:
            _options_model(t).model_validate(options)
            TARGETS[t].options(**options)
        except ValidationError as exc:
            raise ManifestError(f"manifest {where} is invalid: target_options.{t}."
                                f"{_first(exc)}") from None
        except ActcError as exc:
            raise ManifestError(f"manifest {where} is invalid: target_options.{t}: "
                                f"{exc.message}") from None


@cache
def _options_model(target: str) -> Any:
    """A target's options as it declares them (``actc.options.declared``): types, choices."""
    from actc.targets import TARGETS

    from .options import declared

    kinds = {"int": Int64, "float": float, "str": Text, "bool": bool}
    fields: dict[str, Any] = {}
    for o in declared(TARGETS[target].options):
        kind = _one_of(o.choices) if o.choices else kinds[o.kind]
        fields[o.name] = (kind | None if o.default is None else kind, o.default)
    return _model(f"{target}_options", fields)


def _check_files(obj: dict, where: str) -> None:
    files = obj["files"]
    if len(set(files)) != len(files):
        raise ManifestError(f"manifest {where} is invalid: files: a file is listed twice")
    for name in files:
        if name.startswith(".") or name in (".", ".."):
            raise ManifestError(f"manifest {where} is invalid: files: {name!r} is not a plain "
                                "file name")
    for name in obj.get("sha256") or {}:
        if name not in files:
            raise ManifestError(f"manifest {where} is invalid: sha256: {name!r} is not in "
                                "files")


def _check_table(multiplier: dict, where: str) -> None:
    """An imported product table: its data decodes to exactly 2^(a+b) int64 values."""
    family = multiplier["family"]
    if family["family"] != "table":
        return
    size = 8 << (family["a_bits"] + family["b_bits"])
    bad = f"manifest {where} is invalid: design.multiplier.family.table.data: "
    try:
        raw = base64.b64decode(family["table"]["data"], validate=True)
        d = zlib.decompressobj()
        data = d.decompress(raw, size + 1)
    except (binascii.Error, zlib.error, ValueError):
        raise ManifestError(bad + "not zlib+base64 data") from None
    if len(data) != size or d.unconsumed_tail:
        raise ManifestError(bad + f"does not decode to {size >> 3} int64 values")
