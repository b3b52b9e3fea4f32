"""The Python API: compile an expression to files, in one call.

>>> from actc import compile
>>> result = compile("sigmoid(x)", bits=8, target="c")
>>> sorted(result.files)
['sigmoid.h', 'sigmoid.json']
>>> result.manifest["output"]["text"]
'u8.8'
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from . import __version__
from .activation.frontend import parse
from .activation.ir import ActivationUnit
from .activation.metrics import measure
from .activation.passes import METHODS, Pass
from .activation.spec import Spec, make_spec
from .activation.symmetry import fit_folded
from .errors import FitError, TargetError
from .formats import FloatFormat, Format, NumberFormat, parse_format
from .manifest import SCHEMA, dumps, seal
from .unit import Unit

__all__ = ["Result", "assemble", "build", "compile", "emit_files", "select_targets",
           "target_storage"]


@dataclass(frozen=True, eq=False)
class Result:
    """A compiled unit: its spec, IR, error, and the rendered files (not yet written).
    ``design`` is the unit (the name the activation API has always used).

    Every Result's manifest records the sha256 of each of its other files (key ``sha256``,
    after ``files``; ``manifest.seal``), whatever kind of unit built it, so ``verify`` can
    tell an edited file from an emitted one."""

    spec: Spec | None
    design: Any
    method: str
    parameters: dict
    error: dict
    files: dict[str, str]
    manifest: dict

    def __post_init__(self) -> None:
        seal(self.manifest, self.files)

    @property
    def unit(self) -> Unit:
        unit: Unit = self.design
        return unit

    def write(self, directory: str | Path = ".") -> list[Path]:
        """Write every file atomically into directory; the manifest goes last."""
        from .fileio import write_files

        return write_files(directory, self.files)


def _format(value: Any, what: str) -> Format | None:
    if value is None or isinstance(value, (NumberFormat, FloatFormat)):
        return value
    return parse_format(str(value), what)


def select_targets(target: str | list[str], kind: str, formats: list[Any],
                   cores: tuple[type, ...], options: dict[str, Any],
                   taken: set[str]) -> dict[str, Any]:
    """{target name: its options} for a request: ``all`` is every target that can emit the
    unit; a named target that cannot is an error, raised before anything is fitted.
    ``options`` are the user's options (each target takes those its ``options`` class
    declares); an option neither a target nor ``taken`` (the method's) claims is an error."""
    from actc.targets import TARGETS

    names = [target] if isinstance(target, str) else list(target)
    chosen: list[str] = []
    explicit: set[str] = set()
    for t in names:
        if t == "all":
            chosen += [k for k in TARGETS if k not in chosen and TARGETS[k].in_all]
        elif t in TARGETS:
            chosen += [t] if t not in chosen else []
            explicit.add(t)
        else:
            raise TargetError(f"unknown target {t!r}: choose from {', '.join([*TARGETS, 'all'])}")
    claimed = set(taken)
    out: dict[str, Any] = {}
    for t in chosen:
        cls = TARGETS[t].options
        mine = {f.name for f in fields(cls)}
        given = {k: v for k, v in options.items() if k in mine}
        opts = cls(**given)
        claimed |= mine
        problem = TARGETS[t].accepts(kind, formats, cores, opts)
        if problem is None:
            out[t] = opts
        elif t in explicit or given:  # named, or given options: the user wants it
            raise TargetError(problem)
    for key in options:
        if key not in claimed:
            owners = [t for t in TARGETS if key in {f.name for f in fields(TARGETS[t].options)}]
            flag = "--" + key.replace("_", "-")
            if owners:
                raise TargetError(f"{flag} applies to --target {owners[0]}, which is not "
                                  "selected")
            raise FitError(f"{flag} is not an option of this command")
    if not out:
        raise TargetError("no selected target can emit this unit")
    return out


def emit_files(unit: Unit, targets: dict[str, Any], info: Any) -> dict[str, str]:
    """Every selected target's files for a unit."""
    from actc.targets import TARGETS

    files: dict[str, str] = {}
    owner: dict[str, str] = {}
    for t, opts in targets.items():
        for name, text in TARGETS[t].emit(unit, info, opts).items():
            if name in owner:
                raise TargetError(f"--target {owner[name]} and {t} both write {name}: compile "
                                  "them into separate directories")
            owner[name] = t
            files[name] = text
    return files


def target_storage(unit: Unit, targets: dict[str, Any]) -> dict[str, int]:
    """What the emitted files store, per target (C: ``c_bytes``), for the manifest."""
    from actc.targets import TARGETS

    out: dict[str, int] = {}
    for t, opts in targets.items():
        out.update(TARGETS[t].storage(unit, opts))
    return out


def target_options_json(targets: dict[str, Any]) -> dict[str, dict]:
    """The options of the targets that have any, for the manifest."""
    from dataclasses import asdict

    return {t: asdict(o) for t, o in targets.items() if fields(o)}


def _pass(method: str, options: dict[str, Any]) -> tuple[Pass, dict[str, Any]]:
    """The method's pass from the options it declares; the rest are left for the targets."""
    if method not in METHODS:
        raise FitError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")
    cls = METHODS[method]
    mine = {f.name for f in fields(cls)}
    from actc.targets import TARGETS

    target_keys = {f.name for t in TARGETS.values() for f in fields(t.options)}
    for key in options:
        if key not in mine and key not in target_keys:
            raise FitError(f"--{key.replace('_', '-')} does not apply to --method {method}")
    pass_ = cls.from_options(**{k: v for k, v in options.items() if k in mine})
    return pass_, {k: v for k, v in options.items() if k not in mine}


def _spec(expression: str, *, name: str | None, in_format: Any, out_format: Any,
          bits: int | None, in_bits: int | None, out_bits: int | None,
          domain: tuple[float, float] | None) -> tuple[Spec, str]:
    from actc.targets import TARGETS
    from actc.targets.base import check_name, default_name

    expr = parse(expression)
    unit_name = check_name(name if name is not None else default_name(expr.name, TARGETS),
                           TARGETS)
    spec = make_spec(
        expr,
        in_format=_format(in_format, "input format"),
        out_format=_format(out_format, "output format"),
        bits=bits,
        in_bits=in_bits,
        out_bits=out_bits,
        domain=domain,
    )
    return spec, unit_name


def build(expression: str, **keywords: Any) -> tuple[Spec, ActivationUnit, Pass]:
    """Front end, spec and method: the activation unit without any target. Takes the
    keywords of ``compile`` but ``target``."""
    spec, unit_name, pass_, _ = _prepare(expression, None, keywords)
    return spec, _fit(pass_, spec, unit_name), pass_


def _prepare(expression: str, target: str | list[str] | None,
             keywords: dict[str, Any]) -> tuple[Spec, str, Pass, dict[str, Any]]:
    """Parse, resolve the formats, build the pass and (unless ``target`` is None) check the
    targets: everything before the fit."""
    kw = {k: v for k, v in keywords.items() if v is not None}
    if "in_from" in kw:
        kw["in_format"] = _format_from_manifest(kw.pop("in_from"), kw)
    method = kw.pop("method", "table")
    formats = {k: kw.pop(k, None) for k in ("in_format", "out_format", "bits", "in_bits",
                                            "out_bits", "domain", "name")}
    pass_, rest = _pass(method, kw)
    spec, unit_name = _spec(expression, **formats)
    _check_work(spec, pass_)
    targets = {} if target is None else select_targets(
        target, "activation", [spec.in_format, spec.out_format], pass_.cores, rest, set())
    return spec, unit_name, pass_, targets


# Peak memory of a compile, measured (/usr/bin/time, docs/reference/limits.md): per input
# code evaluated (geba on 2^20 codes peaks at 0.9 GB) and per table entry or segment the
# options ask for (a 2^20-entry table peaks at 0.3 GB), with a margin.
BYTES_PER_CODE = 1000
BYTES_PER_ENTRY = 400


def _check_work(spec: Spec, pass_: Pass) -> None:
    """Refuse a compile whose estimated memory is above the command's budget
    (``--max-ram-gb``), before the fit: the codes evaluated, and the largest table the
    method's options can ask for (entries, segments, comparisons, regions, or one entry per
    bit of a memory budget), at most one entry per input code."""
    from .limits import check_memory, ram_budget_gb

    p = pass_.parameters()
    asks = [p.get(k) for k in ("entries", "segments", "search_steps", "memory_bits")]
    asks.append(8 * p["memory_bytes"] if isinstance(p.get("memory_bytes"), int) else None)
    regions = p.get("regions")
    asks.append(1 << min(regions, 64) if isinstance(regions, int) and regions > 0 else None)
    entries = min(max([a for a in asks if isinstance(a, int)] + [0]), 1 << spec.in_format.bits)
    n = len(spec.codes)
    check_memory(BYTES_PER_CODE * n + BYTES_PER_ENTRY * entries,
                 f"--method {pass_.name} on {n:,} input codes"
                 + (f" with up to {entries:,} table entries" if entries else ""),
                 ram_budget_gb())


def _format_from_manifest(path: str | Path, kw: dict[str, Any]) -> Format:
    """The output format of a column back end's manifest (``--in-from``)."""
    from .errors import ManifestError
    from .manifest import load

    clash = [f"--{k.replace('_', '-')}" for k in ("in_format", "bits", "in_bits") if k in kw]
    if clash:
        raise FitError(f"--in-from sets the input format: drop {' and '.join(clash)} "
                       "(use --out-bits or --out for the output)")
    _, unit = load(path)
    if unit.kind != "adc":
        raise ManifestError(f"--in-from {str(path)!r} is not a column back end (its unit is "
                            f"an {unit.kind}): give the manifest of actc adc compile")
    return unit.outputs[0].format


def _fit(pass_: Pass, spec: Spec, name: str) -> ActivationUnit:
    core, fold, note, record = fit_folded(pass_, spec)
    return ActivationUnit(name, spec.in_format, spec.out_format, core, fold=fold,
                          meta={"symmetry": note, "search": record})


def compile(  # noqa: A001 - the natural name for a compiler's entry point
    expression: str,
    *,
    target: str | list[str] = "all",
    method: str = "table",
    in_format: Any = None,
    out_format: Any = None,
    bits: int | None = None,
    in_bits: int | None = None,
    out_bits: int | None = None,
    domain: tuple[float, float] | None = None,
    name: str | None = None,
    in_from: str | Path | None = None,
    **options: Any,
) -> Result:
    """Compile an activation expression for one or more targets.

    ``in_format``/``out_format`` take a format or text (``"s8.4"``); ``bits``,
    ``in_bits``, ``out_bits`` and ``domain`` pick formats by the documented rule instead.
    ``options`` are the method's (``entries=256``, ``interpolate=True``, ...) and the
    targets' (Verilog: ``registered=True``, ``architecture="serial"``). ``in_from`` takes the
    input format from a column back end's manifest (``actc adc compile``), so the activation
    reads exactly that code. Targets are checked before the fit. Nothing is written until
    ``Result.write``.
    """
    spec, unit_name, pass_, targets = _prepare(expression, target, dict(
        options, method=method, in_format=in_format, out_format=out_format, bits=bits,
        in_bits=in_bits, out_bits=out_bits, domain=domain, name=name, in_from=in_from))
    return assemble(spec, _fit(pass_, spec, unit_name), method, pass_, targets)


def assemble(spec: Spec, unit: ActivationUnit, method: str, pass_: Pass,
             targets: dict[str, Any]) -> Result:
    """The Result of a fitted activation unit: its error against the true function, every
    target's files and the manifest (what ``compile`` returns after the fit; ``verify``
    calls it to recompute a manifest's claims from its design)."""
    from actc.targets import EmitInfo

    error = measure(unit, spec)
    space = unit.input_space()  # what verify checks: every code, or the documented sample
    info = EmitInfo(
        version=__version__,
        provenance={"expression": spec.expression.text, "method": method},
        error=error,
        space=space,
        expected=unit.evaluate(**space.vectors),
    )
    files = emit_files(unit, targets, info)
    storage = target_storage(unit, targets)
    parameters = _parameters(pass_, unit)
    manifest_name = f"{unit.name}.json"
    verilog = targets.get("verilog")
    manifest = {
        "schema": SCHEMA,
        "actc_version": __version__,
        "kind": unit.kind,
        "name": unit.name,
        "expression": spec.expression.text,
        "canonical": spec.expression.canonical,
        "method": method,
        "options": pass_.parameters(),
        "parameters": parameters,
        "input": unit.in_format.to_json(),
        "output": unit.out_format.to_json(),
        "domain": list(spec.domain) if isinstance(unit.in_format, FloatFormat) and spec.domain
        else [unit.in_format.lo, unit.in_format.hi],  # type: ignore[attr-defined]
        "requested_domain": list(spec.domain) if spec.domain else None,
        "registered": bool(verilog.registered) if verilog is not None else False,
        "targets": list(targets),
        "target_options": target_options_json(targets),
        "files": [*files, manifest_name],
        "symmetry": unit.meta.get("symmetry"),
        "memory_bits": unit.memory_bits,
        "memory_bytes": unit.memory_bytes,
        "search": unit.meta.get("search"),
        "storage": storage,
        "error": error,
        "design": unit.to_json(),
    }
    files[manifest_name] = dumps(manifest)
    return Result(spec, unit, method, parameters, error, files, manifest)


def _parameters(pass_: Pass, unit: ActivationUnit) -> dict:
    """The method's options, as resolved (defaults filled in from the built core)."""
    params = dict(pass_.parameters())
    params.update(unit.core.parameters())
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
