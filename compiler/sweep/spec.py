"""The sweep specification: a TOML file listing what to compile and what to measure, expanded
into points. Every key is checked; an unknown key, a value of the wrong type or an unknown
method names the key and its line.

Example (``examples/sweep.toml`` has a longer one)::

    [sweep]
    evaluations = ["cost"]          # error metrics always; "cost" (Yosys), "network"
    families = ["xilinx"]           # cost families

    [[activation]]
    expressions = ["gelu(x)", "sigmoid(x)"]
    bits = [8, 12]                  # or formats = [["s8.4", "u8.8"], ...]

    [activation.methods.table]
    [activation.methods.grau]
    segments = [4, 6, 8]
    slopes = ["pot", "apot2"]

A method's table lists each option's values (a scalar is a one-value list); the points are
every combination, for every expression and width (or format pair).

MAC and ADC designs are swept the same way, every key a list of values::

    [[mac]]                         # multipliers (actc mac compile)
    multipliers = ["exact", "drum:4", "mitchell", "asm:1,3"]
    bits = [8]
    signed = [false, true]
    lanes = [1]

    [[adc]]                         # column back ends (actc adc compile)
    converters = ["adc:4", "mtj:8"]
    rows = [64, 128]
    weight_bits = [4]
    input_bits = [4]
    subarrays = [4]                 # also cell_bits, dac_bits, scheme

>>> spec = parse_spec('''
... [[activation]]
... expressions = ["tanh(x)"]
... bits = [8]
... [activation.methods.uniform]
... entries = [16, 32]
... ''')
>>> [(p.method, p.options) for p in spec.points]
[('uniform', {'entries': 16}), ('uniform', {'entries': 32})]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ActcError
from ..limits import DEFAULT_POINT_TIMEOUT_S, MAX_POINTS

__all__ = ["EVALUATIONS", "MAX_SPEC_BYTES", "Point", "SpecError", "SweepSpec", "parse_spec"]

MAX_SPEC_BYTES = 1 << 20  # a sweep spec's size

EVALUATIONS = ("metrics", "cost", "network")
KINDS = ("activation", "mac", "adc")
_SWEEP_KEYS = {"name", "evaluations", "families", "network_seeds", "timeout_s"}
_ACTIVATION_KEYS = {"expressions", "bits", "formats", "domain", "methods"}
# [[mac]] and [[adc]]: key -> (type of each value, default values)
_MAC_KEYS: dict[str, tuple[type, list]] = {
    "multipliers": (str, []), "bits": (int, [8]), "signed": (bool, [False]),
    "lanes": (int, [1])}
_ADC_KEYS: dict[str, tuple[type, list]] = {
    "converters": (str, []), "rows": (int, [128]), "cell_bits": (int, [1]),
    "dac_bits": (int, [1]), "weight_bits": (int, [4]), "input_bits": (int, [4]),
    "subarrays": (int, [1]), "scheme": (str, ["differential"])}
_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "str": str,
                                               "bool": bool}


class SpecError(ActcError):
    """A sweep specification is malformed."""


@dataclass(frozen=True)
class Point:
    """One design to compile and measure. ``key`` is a hash of everything that defines it,
    so a finished point is recognised when a sweep is started again."""

    kind: str  # "activation", "mac" or "adc"
    expression: str  # the activation's expression, the multiplier spec or the converter spec
    method: str  # the activation's method; "mac" or "adc" for the companions
    options: dict
    in_format: str | None = None
    out_format: str | None = None
    bits: int | None = None
    domain: tuple[float, float] | None = None
    evaluations: tuple[str, ...] = ("metrics",)
    families: tuple[str, ...] = ("xilinx",)
    network_seeds: int = 1

    def identity(self) -> dict:
        return {"kind": self.kind, "expression": self.expression, "method": self.method,
                "options": dict(sorted(self.options.items())), "in_format": self.in_format,
                "out_format": self.out_format, "bits": self.bits,
                "domain": list(self.domain) if self.domain else None,
                "evaluations": list(self.evaluations), "families": list(self.families),
                "network_seeds": self.network_seeds}

    @property
    def key(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        if self.kind != "activation":
            bits = f" {self.bits} bits" if self.bits else ""
            return f"{self.kind} {self.expression}{bits} ({opts})"
        fmt = f"{self.in_format}->{self.out_format}" if self.in_format else f"{self.bits} bits"
        return f"{self.expression} {self.method}{'(' + opts + ')' if opts else ''} {fmt}"

    @property
    def group(self) -> str:
        """The points compared in one Pareto plot and one pick: an activation's expression;
        the multipliers of one operand width and signedness; the converters of one
        crossbar."""
        o = self.options
        if self.kind == "mac":
            return (f"mac {self.bits}x{self.bits} {'signed' if o['signed'] else 'unsigned'}"
                    f"{'' if o['lanes'] == 1 else ' ' + str(o['lanes']) + ' lanes'}")
        if self.kind == "adc":
            return (f"adc rows {o['rows']} cell {o['cell_bits']} dac {o['dac_bits']} "
                    f"w{o['weight_bits']} x{o['input_bits']} subarrays {o['subarrays']} "
                    f"{o['scheme']}")
        return self.expression


@dataclass(frozen=True)
class SweepSpec:
    name: str
    points: list[Point] = field(default_factory=list)
    timeout_s: float = DEFAULT_POINT_TIMEOUT_S  # a point still running after it has failed


class _Lines:
    """Where keys stand in the TOML text, for error messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, key: str, after: str | None = None) -> int:
        start = 0
        if after is not None:
            pat = re.compile(r"^\s*\[+\s*" + re.escape(after) + r"\s*\]+")
            start = next((i for i, ln in enumerate(self.lines) if pat.match(ln)), 0)
        pat = re.compile(r"^\s*(\[+\s*)?(\"?)" + re.escape(key) + r"\2\s*(=|\]|\.)")
        for i in range(start, len(self.lines)):
            if pat.match(self.lines[i]) or re.match(
                    r"^\s*\[+[^\]]*\b" + re.escape(key) + r"\b[^\]]*\]+", self.lines[i]):
                return i + 1
        return 0


def _fail(lines: _Lines, key: str, message: str, after: str | None = None) -> SpecError:
    line = lines.of(key.split(".")[-1], after)
    where = f"line {line}: " if line else ""
    return SpecError(f"sweep spec {where}{key}: {message}")


def _values(v: Any) -> list:
    return list(v) if isinstance(v, list) else [v]


def _scalars(lines: _Lines, key: str, value: Any, want: type | tuple[type, ...],
             after: str | None, what: str) -> list:
    """A scalar or a list of scalars of type ``want`` (bool is not an int), as a list."""
    vals = _values(value)
    for v in vals:
        if not isinstance(v, want) or (isinstance(v, bool) and want is not bool):
            raise _fail(lines, key, f"{_show(v)} is not {what}", after)
    return vals


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(lines: _Lines, key: str, value: Any, lo: float, hi: float, after: str) -> float:
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not lo <= value <= hi):
        raise _fail(lines, key, f"{_show(value)}: must be a number from {lo:g} to {hi:g}", after)
    return float(value)


def parse_spec(text: str, source: str = "spec", max_points: int = MAX_POINTS) -> SweepSpec:
    """Parse and check a sweep specification (TOML text); count its points (at most
    ``max_points``, the ``--max-points`` flag) and only then expand them."""
    import tomllib

    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"sweep spec {source} is {len(text)} characters long: specs take at "
                        f"most {MAX_SPEC_BYTES}")
    lines = _Lines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"sweep spec {source} is not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"sweep spec {source} nests too deeply") from None
    for key in data:
        if key not in ("sweep", *KINDS):
            raise _fail(lines, key, "unknown section: use [sweep], [[activation]], [[mac]] and "
                        "[[adc]]")
    head = data.get("sweep", {})
    if not isinstance(head, dict):
        raise _fail(lines, "sweep", "must be a table")
    for key in head:
        if key not in _SWEEP_KEYS:
            raise _fail(lines, f"sweep.{key}", f"unknown key: use {', '.join(sorted(_SWEEP_KEYS))}",
                        "sweep")
    name = head.get("name", "sweep")
    if not isinstance(name, str) or not name.isprintable() or len(name) > 100:
        raise _fail(lines, "sweep.name", "must be a line of text (at most 100 characters)",
                    "sweep")
    evaluations = _scalars(lines, "sweep.evaluations", head.get("evaluations", []), str,
                           "sweep", "an evaluation name")
    for e in evaluations:
        if e not in EVALUATIONS:
            raise _fail(lines, "sweep.evaluations", f"unknown evaluation {_show(e)}: use "
                        f"{', '.join(EVALUATIONS)}", "sweep")
    evals = tuple(["metrics"] + [e for e in EVALUATIONS[1:] if e in evaluations])
    families = tuple(_scalars(lines, "sweep.families", head.get("families", ["xilinx"]), str,
                              "sweep", "a family name"))
    from ..cost import FAMILIES

    if not families:
        raise _fail(lines, "sweep.families", f"list at least one of {', '.join(FAMILIES)}",
                    "sweep")
    for f in families:
        if f not in FAMILIES:
            raise _fail(lines, "sweep.families", f"unknown family {_show(f)}: use "
                        f"{', '.join(FAMILIES)}", "sweep")
    seeds = head.get("network_seeds", 1)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= 20:
        raise _fail(lines, "sweep.network_seeds", "must be a whole number from 1 to 20", "sweep")
    timeout_s = _number(lines, "sweep.timeout_s", head.get("timeout_s", DEFAULT_POINT_TIMEOUT_S),
                        1, 86400, "sweep")
    for kind in KINDS:
        if kind in data and not (isinstance(data[kind], list)
                                 and all(isinstance(b, dict) for b in data[kind])):
            raise _fail(lines, kind, f"write [[{kind}]] (a list of blocks), not [{kind}]")
    if not any(data.get(kind) for kind in KINDS):
        raise SpecError(f"sweep spec {source}: no [[activation]], [[mac]] or [[adc]] block: "
                        "nothing to sweep")
    common: dict[str, Any] = {"evaluations": evals, "families": families,
                              "network_seeds": seeds}
    blocks = ([("activation", _activation_block(b, lines)) for b in data.get("activation", [])]
              + [("mac", _companion_block("mac", b, _MAC_KEYS, lines))
                 for b in data.get("mac", [])]
              + [("adc", _companion_block("adc", b, _ADC_KEYS, lines))
                 for b in data.get("adc", [])])
    total = sum(_count(kind, block) for kind, block in blocks)
    if total > max_points:
        raise SpecError(f"sweep spec {source} describes {total:,} points: above the limit of "
                        f"{max_points:,} (raise it with --max-points N)")
    points: list[Point] = []
    for kind, block in blocks:
        if kind == "activation":
            points += _activation_points(block, common)
        else:
            points += _companion_points(kind, block, _MAC_KEYS if kind == "mac" else _ADC_KEYS,
                                        lines, common)
    seen: dict[str, Point] = {}
    for p in points:
        if p.key in seen:
            raise SpecError(f"sweep spec {source}: the point {p.label} appears twice")
        seen[p.key] = p
    return SweepSpec(name, points, timeout_s)


def _count(kind: str, block: dict) -> int:
    """The points a checked block expands to, without expanding it."""
    if kind == "activation":
        per_method = sum(math.prod(len(v) for v in opts.values())
                         for opts in block["methods"].values())
        return len(block["expressions"]) * len(block["widths"]) * per_method
    return math.prod(len(v) for v in block.values())


def _activation_block(b: dict, lines: _Lines) -> dict:
    """An [[activation]] block checked: expressions, widths, domain, and each method's
    option values as lists."""
    from ..activation.passes import METHODS
    from ..options import declared

    for key in b:
        if key not in _ACTIVATION_KEYS:
            raise _fail(lines, f"activation.{key}", "unknown key: use "
                        f"{', '.join(sorted(_ACTIVATION_KEYS))}", "activation")
    exprs = _values(b.get("expressions", []))
    if not exprs or not all(isinstance(e, str) for e in exprs):
        raise _fail(lines, "activation.expressions", "must be a list of expressions",
                    "activation")
    widths = _widths(b, lines)
    domain = b.get("domain")
    if domain is not None:
        if (not isinstance(domain, list) or len(domain) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                           and math.isfinite(x) for x in domain)):
            raise _fail(lines, "activation.domain", "must be [LO, HI]", "activation")
        domain = (float(domain[0]), float(domain[1]))
    methods = b.get("methods", {})
    if not isinstance(methods, dict) or not methods:
        raise _fail(lines, "activation.methods", "list at least one method, e.g. "
                    "[activation.methods.table]", "activation")
    checked: dict[str, dict[str, list]] = {}
    for method, opts in methods.items():
        if method not in METHODS:
            raise _fail(lines, f"activation.methods.{method}", f"unknown method: use "
                        f"{', '.join(METHODS)}")
        if not isinstance(opts, dict):
            raise _fail(lines, f"activation.methods.{method}", "must be a table of options, "
                        f"e.g. [activation.methods.{method}]")
        known = {o.name: o for o in declared(METHODS[method])}
        checked[method] = {}
        for key, val in opts.items():
            if key not in known:
                raise _fail(lines, f"activation.methods.{method}.{key}",
                            f"{method} has no option {key!r}: it takes "
                            f"{', '.join(known) or 'none'}", f"activation.methods.{method}")
            kind = known[key].kind
            vals = _scalars(lines, f"activation.methods.{method}.{key}", val, _TYPES[kind],
                            f"activation.methods.{method}",
                            f"a{'n' if kind == 'int' else ''} {kind}")
            if not vals:
                raise _fail(lines, f"activation.methods.{method}.{key}", "list at least one "
                            "value", f"activation.methods.{method}")
            checked[method][key] = vals
    return {"expressions": exprs, "widths": widths, "domain": domain, "methods": checked}


def _activation_points(block: dict, common: dict) -> list[Point]:
    points = []
    for method, opts in block["methods"].items():
        names = list(opts)
        for combo in itertools.product(*(opts[n] for n in names)):
            for expr in block["expressions"]:
                for w in block["widths"]:
                    points.append(Point(
                        "activation", expr, method, dict(zip(names, combo)),
                        in_format=w[0] if isinstance(w, tuple) else None,
                        out_format=w[1] if isinstance(w, tuple) else None,
                        bits=w if isinstance(w, int) else None, domain=block["domain"],
                        **common))
    return points


def _companion_block(kind: str, block: dict, keys: dict[str, tuple[type, list]],
                     lines: _Lines) -> dict[str, list]:
    """A [[mac]] or [[adc]] block checked: every key a list of values of its type."""
    for key in block:
        if key not in keys:
            raise _fail(lines, f"{kind}.{key}", f"unknown key: use {', '.join(keys)}", kind)
    values: dict[str, list] = {}
    for key, (want, default) in keys.items():
        vals = _values(block.get(key, default))
        if not vals:
            raise _fail(lines, f"{kind}.{key}", f"list at least one value, e.g. {key} = "
                        f"{['drum:4'] if kind == 'mac' else ['mtj:8']!r}", kind)
        for v in vals:
            if not isinstance(v, want) or (want is int and isinstance(v, bool)):
                raise _fail(lines, f"{kind}.{key}", f"{_show(v)} is not a"
                            f"{'n' if want is int else ''} {want.__name__}", kind)
        values[key] = vals
    return values


def _companion_points(kind: str, values: dict[str, list], keys: dict[str, tuple[type, list]],
                      lines: _Lines, common: dict) -> list[Point]:
    """The points of a checked [[mac]] or [[adc]] block: every combination of its lists. The
    subjects (multiplier or converter specs) are parsed here, so a misspelt one names its
    key and line; other values are checked when the point compiles (a failed point)."""
    subject = next(iter(keys))
    names = [k for k in keys if k != subject]
    out = []
    for combo in itertools.product(*(values[n] for n in names)):
        opts = dict(zip(names, combo))
        for text in values[subject]:
            _check_companion(kind, text, opts, lines)
            bits = opts["bits"] if kind == "mac" else None
            out.append(Point(kind, text, kind, {k: v for k, v in opts.items() if k != "bits"},
                             bits=bits, **common))
    return out


def _check_companion(kind: str, text: str, opts: dict, lines: _Lines) -> None:
    """The multiplier at its widths, or the converter and the crossbar: built here so a bad
    value names its key and line (the key: the subject's, unless the subject is fine)."""
    from ..errors import ActcError as Error

    try:
        if kind == "mac":
            from ..mac.families import parse_multiplier

            family = parse_multiplier(text)
        else:
            from ..adc.converters import converter

            converter(text)
    except Error as exc:
        subject = "multipliers" if kind == "mac" else "converters"
        raise _fail(lines, f"{kind}.{subject}", str(exc), kind) from None
    try:
        if kind == "mac":
            from ..mac.ir import Multiplier

            Multiplier(family, opts["bits"], opts["bits"], opts["signed"])
        else:
            from ..adc.crossbar import Crossbar

            Crossbar.from_scheme(opts["scheme"], **{k: opts[k] for k in (
                "rows", "cell_bits", "dac_bits", "weight_bits", "input_bits")})
    except Error as exc:  # the multiplier's parameter at these widths, or the crossbar
        where = "mac.multipliers" if kind == "mac" else "adc"
        raise _fail(lines, where, f"{text}: {exc}", kind) from None


def _widths(block: dict, lines: _Lines) -> list:
    bits, formats = block.get("bits"), block.get("formats")
    if (bits is None) == (formats is None):
        raise _fail(lines, "activation.bits", "give bits = [...] or formats = [[IN, OUT], ...], "
                    "one of the two", "activation")
    if bits is not None:
        out = _values(bits)
        if not out or not all(isinstance(b, int) and not isinstance(b, bool) and b > 0
                              for b in out):
            raise _fail(lines, "activation.bits", "must be whole numbers of bits", "activation")
        return out
    pairs = _values(formats)
    if not pairs or not all(isinstance(p, list) and len(p) == 2
                            and all(isinstance(s, str) for s in p) for p in pairs):
        raise _fail(lines, "activation.formats", 'must be a list of ["IN", "OUT"] pairs, e.g. '
                    '[["s8.4", "u8.8"]]', "activation")
    return [tuple(p) for p in pairs]
