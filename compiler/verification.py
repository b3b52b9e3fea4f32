"""``actc verify``: check every claim a manifest makes, then run every emitted file on every
vector of the unit's input space and compare with the evaluator.

The checks, in order (docs/reference/verification.md); any failure names what differs, exit 1:

1. **schema**: the manifest is validated against the schema of its kind (``actc.schema``):
   types, bounds, names, registered targets and their options, plain file names. A manifest
   that fails it is refused before anything else (exit 2).
2. **files**: every listed file is a regular file in the manifest's own directory (no
   symbolic links) and its sha256 is the one recorded at compile time.
3. **claims**: the manifest is compiled again from what it says it was compiled from (the
   expression, method and options, formats, domain, targets and their options; a
   multiplier's or converter's configuration) and every key of the result is compared with
   the manifest's: the design itself, the error figures against the true function, memory
   and storage, formats, the targets list, the symmetry and the search record. A ``cost``
   key is synthesised again with Yosys; a ``selection`` (``--max-error-lsb``) must name the
   compiled method and options with its error. Floats agree to 1e-9 relative.
4. **emitted files**: each file is byte for byte what actc emits for that compile. Only then
   does anything run (so verify runs actc's own code, never a file someone put there):
5. **testbench**: the Verilog testbench runs as shipped, on its own vectors file;
6. **targets**: C compiled with the system compiler under strict flags, Verilog simulated
   (iverilog where installed, else Verilator), Python imported, each on the unit's input
   space (every vector up to 2^20, else a documented sample) against the evaluator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ActcError, ManifestError
from .manifest import listed_file, load, sha256_of, target_options

__all__ = ["Check", "Report", "verify"]

FLOAT_TOLERANCE = 1e-9  # relative: a figure recomputed on another machine's libm


@dataclass
class Row:
    target: str
    tool: str
    codes: int
    mismatches: int
    first: str = ""


@dataclass
class Check:
    """One check of a manifest's claims: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    name: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (bool(self.rows) and all(r.mismatches == 0 for r in self.rows)
                and all(c.ok for c in self.checks))

    @property
    def problem(self) -> str:
        """The first thing that failed, in one line ("" when everything passed)."""
        for c in self.checks:
            if not c.ok:
                return f"{c.name}: {c.detail}"
        for r in self.rows:
            if r.mismatches:
                return f"{r.target}: {r.mismatches} of {r.codes} vectors differ ({r.first})"
        return "" if self.rows else "no target ran"

    def table(self) -> str:
        lines = [f"verify {self.name}"]
        for c in self.checks:
            lines.append(f"{c.name:<10} {'ok' if c.ok else 'FAILED':<7} {c.detail}")
        if self.rows:
            head = (f"{'target':<8} {'tool':<22} {'vectors':>8} {'mismatches':>10}  "
                    "first mismatch")
            lines += [head, "-" * len(head)]
            for r in self.rows:
                lines.append(f"{r.target:<8} {r.tool:<22} {r.codes:>8} {r.mismatches:>10}  "
                             f"{r.first}")
        lines.append("OK: every claim checked; every target matches the evaluator" if self.ok
                     else f"FAILED: {self.problem}")
        return "\n".join(lines)


def verify(manifest_path: str | Path, targets: list[str] | None = None) -> Report:
    """Check a manifest's claims and run its files against the evaluator (module
    docstring); ``targets`` limits the run to some of its targets."""
    from actc.targets import TARGETS

    manifest, unit = load(manifest_path)
    directory = Path(manifest_path).parent
    own = Path(manifest_path).name
    files = {n: listed_file(manifest_path, manifest, n) for n in manifest["files"] if n != own}
    report = Report(unit.name)
    report.checks.append(_hashes(manifest, files))
    rebuilt, claims = _claims(manifest, unit)
    report.checks.append(claims)
    emitted = _emitted(files, rebuilt)
    report.checks.append(emitted)
    if not (report.checks[0].ok and emitted.ok):
        return report  # run nothing that actc did not emit
    options = target_options(manifest)
    space = unit.input_space()
    expected = unit.evaluate(**space.vectors)
    for t in targets or manifest["targets"]:
        if t not in manifest["targets"]:
            raise ManifestError(f"the manifest has no target {t!r}")
        target = TARGETS[t]
        opts = options.get(t, target.options())
        verdict = target.self_check(directory, unit, space, opts)
        if verdict is not None:
            want = f"PASS {len(space)} vectors"
            report.checks.append(Check("testbench", verdict == want,
                                       f"{t}: {verdict}" + ("" if verdict == want else
                                                            f" (expected {want})")))
        got = target.run(directory, unit, space, opts)
        report.rows.append(_compare(t, target.tool(), space, got, expected))
    return report


def _hashes(manifest: dict, files: dict[str, Path]) -> Check:
    recorded = manifest.get("sha256")
    if recorded is None:
        return Check("files", False, "the manifest records no sha256 of its files (written "
                     "before actc recorded them): compile it again")
    for name, path in files.items():
        if name not in recorded:
            return Check("files", False, f"no sha256 recorded for {name}")
        if sha256_of(path.read_bytes()) != recorded[name]:
            return Check("files", False, f"{name} has changed since it was compiled (its "
                         "sha256 differs from the one recorded)")
    return Check("files", True, f"{len(files)} files, each with the sha256 recorded at "
                 "compile time")


def _emitted(files: dict[str, Path], rebuilt: Any) -> Check:
    if rebuilt is None:
        return Check("emitted", False, "not compared: the manifest could not be compiled again")
    own = f"{rebuilt.design.name}.json"
    want = {n: t for n, t in rebuilt.files.items() if n != own}
    for name in sorted(set(files) | set(want)):
        if name not in want:
            return Check("emitted", False, f"{name} is not a file actc emits for this design")
        if name not in files:
            return Check("emitted", False, f"{name} is missing from the manifest's files")
        data = files[name].read_bytes()
        mine = want[name].encode("utf-8") if isinstance(want[name], str) else want[name]
        if data != mine:
            return Check("emitted", False, f"{name} is not what actc emits for this design "
                         f"({_first_line_difference(data, mine)})")
    return Check("emitted", True, f"{len(files)} files byte-identical to actc's emission")


def _first_line_difference(a: bytes, b: bytes) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"first difference at line {i + 1}"
    return f"{len(la)} lines instead of {len(lb)}"


# --- the claims ---------------------------------------------------------------------------------
def _claims(manifest: dict, unit: Any) -> tuple[Any, Check]:
    """Compile the manifest again from what it states; compare every key."""
    try:
        rebuilt = _REBUILD[unit.kind](manifest, unit)
    except ActcError as exc:
        return None, Check("claims", False, f"the manifest cannot be compiled again: "
                           f"{exc.message}")
    skip = {"cost", "selection"}
    # the design first: a design that is not what its stated inputs compile to says so
    # before the figures that follow from it
    fresh = {k: v for k, v in rebuilt.manifest.items() if k not in skip}
    fresh = {"design": fresh.pop("design"), **fresh}
    diffs = _differences({k: v for k, v in manifest.items() if k not in skip}, fresh)
    if "cost" in manifest:
        if isinstance(manifest["cost"], dict):
            diffs += _cost(manifest, rebuilt)
        else:  # null passes the schema; actc writes an object of figures per family
            diffs.append(f"cost: the manifest states {_show(manifest['cost'])}, actc writes "
                         "Yosys figures per family (actc cost)")
    if "selection" in manifest:
        diffs += _selection(manifest)
    if diffs:
        more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
        return rebuilt, Check("claims", False, diffs[0] + more)
    keys = len([k for k in manifest if k not in skip])
    return rebuilt, Check("claims", True, f"compiled again: all {keys} keys agree"
                          + (", Yosys cost too" if "cost" in manifest else ""))


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(claimed: Any, fresh: Any, path: str = "") -> list[str]:
    """Where ``claimed`` (the manifest) and ``fresh`` (compiled again) differ: one line each,
    naming the key path and both values."""
    where = path or "(top)"
    if isinstance(claimed, dict) and isinstance(fresh, dict):
        out = []
        for k in list(fresh) + [k for k in claimed if k not in fresh]:
            p = f"{path}.{k}" if path else str(k)
            if k not in claimed:
                out.append(f"{p}: missing from the manifest (recomputed {_show(fresh[k])})")
            elif k not in fresh:
                out.append(f"{p}: the manifest states {_show(claimed[k])}, a key actc does "
                           "not write")
            else:
                out += _differences(claimed[k], fresh[k], p)
        return out
    if isinstance(claimed, list) and isinstance(fresh, list):
        if len(claimed) != len(fresh):
            return [f"{where}: the manifest lists {len(claimed)} items, recomputed "
                    f"{len(fresh)}"]
        out = []
        for i, (a, b) in enumerate(zip(claimed, fresh)):
            out += _differences(a, b, f"{path}[{i}]")
            if out:
                break
        return out
    if _same(claimed, fresh):
        return []
    return [f"{where}: the manifest states {_show(claimed)}, recomputed {_show(fresh)}"]


def _same(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return False
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=0.0)
    return bool(type(a) is type(b) and a == b)


def _cost(manifest: dict, rebuilt: Any) -> list[str]:
    """The Yosys figures of ``actc cost``, synthesised again from the emitted Verilog."""
    import tempfile

    from .cost import figures

    name = rebuilt.design.name
    verilog = rebuilt.files.get(f"{name}.v")
    if verilog is None:
        return ["cost: the manifest states Yosys figures but has no Verilog module"]
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="actc-verify-") as tmp:
        source = Path(tmp) / f"{name}.v"
        source.write_text(verilog, encoding="utf-8")
        for family, claimed in manifest["cost"].items():
            dsp = bool(claimed.get("dsp_allowed", False)) if isinstance(claimed, dict) else False
            try:
                fresh = figures(source, rebuilt.design, manifest, [family], dsp)[family]
            except ActcError as exc:
                out.append(f"cost.{family}: {exc.message.splitlines()[0]}")
                continue
            out += _differences(claimed, fresh, f"cost.{family}")
    return out


def _selection(manifest: dict) -> list[str]:
    """``--max-error-lsb``'s record: the chosen candidate is the compiled method and options,
    with the compiled design's error (the other candidates are the search's log)."""
    sel = manifest["selection"]
    try:
        chosen = sel["candidates"][sel["chosen"]]
        method, options, max_lsb = chosen["method"], chosen["options"], chosen["max_lsb"]
    except (KeyError, IndexError, TypeError):
        return ["selection: no chosen candidate with its method, options and error"]
    out = []
    if method != manifest["method"]:
        out.append(f"selection: the chosen candidate is {_show(method)}, the design "
                   f"{_show(manifest['method'])}")
    stated = {k: manifest["options"].get(k) for k in options} if isinstance(options, dict) \
        else None
    if stated != options:
        out.append(f"selection: the chosen candidate's options are {_show(options)}, the "
                   f"design's {_show(stated)}")
    if not _same(max_lsb, manifest["error"]["max_lsb"]):
        out.append(f"selection: the chosen candidate's max_lsb is {_show(max_lsb)}, the "
                   f"design's {_show(manifest['error']['max_lsb'])}")
    return out


# --- compiling a manifest again, per unit kind --------------------------------------------------
def _flat_options(manifest: dict) -> dict[str, Any]:
    from dataclasses import asdict

    out: dict[str, Any] = {}
    for opts in target_options(manifest).values():
        out.update(asdict(opts))
    return out


def _activation(manifest: dict, unit: Any) -> Any:
    from dataclasses import fields, replace

    from actc.targets import TARGETS
    from actc.targets.base import check_name

    from .activation.frontend import parse
    from .activation.passes import METHODS
    from .activation.spec import make_spec
    from .api import _fit, _pass, assemble, select_targets
    from .formats import FloatFormat

    check_name(unit.name, TARGETS)
    expr = parse(manifest["expression"])
    requested = manifest["requested_domain"]
    domain = (float(requested[0]), float(requested[1])) if requested else None
    if isinstance(unit.in_format, FloatFormat):
        spec = make_spec(expr, in_format=unit.in_format, out_format=unit.out_format,
                         domain=domain)
    else:
        spec = replace(make_spec(expr, in_format=unit.in_format, out_format=unit.out_format),
                       domain=domain)
    method = manifest["method"]
    known = {f.name for f in fields(METHODS[method])} if method in METHODS else set()
    options = manifest.get("options")
    if not isinstance(options, dict):
        raise ManifestError("options: the method's options are missing")
    pass_, _ = _pass(method, {k: v for k, v in options.items() if k in known})
    targets = select_targets(manifest["targets"], unit.kind, [spec.in_format, spec.out_format],
                             pass_.cores, _flat_options(manifest), set())
    return assemble(spec, _fit(pass_, spec, unit.name), method, pass_, targets)


def _mac(manifest: dict, unit: Any) -> Any:
    from .mac.api import compile as compile_mac

    return compile_mac(unit.multiplier, lanes=unit.lanes, accumulate=unit.accumulate,
                       acc_bits=unit.acc_bits if unit.accumulate else None,
                       target=manifest["targets"], name=unit.name, **_flat_options(manifest))


def _adc(manifest: dict, unit: Any) -> Any:
    from .adc.backend import compile_column

    conv = dict(unit.converter)
    spec = conv.pop("spec")
    crossbar = {k: v for k, v in unit.crossbar.items() if k not in ("scheme", "signed")}
    opts = _flat_options(manifest)
    return compile_column(spec, target=manifest["targets"], name=unit.name,
                          architecture=opts.get("architecture", "parallel"),
                          registered=bool(opts.get("registered", False)),
                          subarrays=unit.subarrays, input_scale=unit.input_scale,
                          weight_scale=unit.weight_scale, vectors=unit.vectors, seed=unit.seed,
                          scheme=unit.crossbar["scheme"], converter_params=conv, **crossbar)


_REBUILD = {"activation": _activation, "mac": _mac, "adc": _adc}


def _compare(target: str, tool: str, space: Any, got: dict, expected: dict) -> Row:
    n = len(space)
    bad = np.zeros(n, dtype=bool)
    for port, want in expected.items():
        have = got.get(port)
        if have is None or have.shape != want.shape:
            size = 0 if have is None else have.size
            return Row(target, tool, n, n, f"{size} outputs on {port} for {n} vectors")
        bad |= have != want
    idx = np.flatnonzero(bad)
    first = ""
    if idx.size:
        k = idx[0]
        ins = ", ".join(f"{p}={int(v[k])}" for p, v in space.vectors.items())
        outs = ", ".join(f"{p} {int(got[p][k])} (evaluator {int(expected[p][k])})"
                         for p in expected)
        first = f"{ins}: got {outs}"
    return Row(target, tool, n, int(idx.size), first)
