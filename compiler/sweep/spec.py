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
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ActcError

__all__ = ["EVALUATIONS", "Point", "SpecError", "SweepSpec", "parse_spec"]

EVALUATIONS = ("metrics", "cost", "network")
_SWEEP_KEYS = {"name", "evaluations", "families", "network_seeds"}
_ACTIVATION_KEYS = {"expressions", "bits", "formats", "domain", "methods"}
_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "str": str,
                                               "bool": bool}


class SpecError(ActcError):
    """A sweep specification is malformed."""


@dataclass(frozen=True)
class Point:
    """One design to compile and measure. ``key`` is a hash of everything that defines it,
    so a finished point is recognised when a sweep is started again."""

    kind: str  # "activation"
    expression: str
    method: str
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
        fmt = f"{self.in_format}->{self.out_format}" if self.in_format else f"{self.bits} bits"
        return f"{self.expression} {self.method}{'(' + opts + ')' if opts else ''} {fmt}"


@dataclass(frozen=True)
class SweepSpec:
    name: str
    points: list[Point] = field(default_factory=list)


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


def parse_spec(text: str, source: str = "spec") -> SweepSpec:
    """Parse and check a sweep specification (TOML text); expand it into points."""
    import tomllib

    from ..activation.passes import METHODS
    from ..options import declared

    lines = _Lines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"sweep spec {source} is not valid TOML: {exc}") from None
    for key in data:
        if key not in ("sweep", "activation"):
            raise _fail(lines, key, "unknown section: use [sweep] and [[activation]]")
    head = data.get("sweep", {})
    if not isinstance(head, dict):
        raise _fail(lines, "sweep", "must be a table")
    for key in head:
        if key not in _SWEEP_KEYS:
            raise _fail(lines, f"sweep.{key}", f"unknown key: use {', '.join(sorted(_SWEEP_KEYS))}",
                        "sweep")
    evaluations = _values(head.get("evaluations", []))
    for e in evaluations:
        if e not in EVALUATIONS:
            raise _fail(lines, "sweep.evaluations", f"unknown evaluation {e!r}: use "
                        f"{', '.join(EVALUATIONS)}", "sweep")
    evals = tuple(["metrics"] + [e for e in EVALUATIONS[1:] if e in evaluations])
    families = tuple(_values(head.get("families", ["xilinx"])))
    from ..cost import FAMILIES

    for f in families:
        if f not in FAMILIES:
            raise _fail(lines, "sweep.families", f"unknown family {f!r}: use "
                        f"{', '.join(FAMILIES)}", "sweep")
    seeds = head.get("network_seeds", 1)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= 20:
        raise _fail(lines, "sweep.network_seeds", "must be a whole number from 1 to 20", "sweep")
    blocks = data.get("activation", [])
    if not isinstance(blocks, list) or not blocks:
        raise SpecError(f"sweep spec {source}: no [[activation]] block: nothing to sweep")
    points: list[Point] = []
    for b in blocks:
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
                    or not all(isinstance(x, (int, float)) for x in domain)):
                raise _fail(lines, "activation.domain", "must be [LO, HI]", "activation")
            domain = (float(domain[0]), float(domain[1]))
        methods = b.get("methods", {})
        if not isinstance(methods, dict) or not methods:
            raise _fail(lines, "activation.methods", "list at least one method, e.g. "
                        "[activation.methods.table]", "activation")
        for method, opts in methods.items():
            if method not in METHODS:
                raise _fail(lines, f"activation.methods.{method}", f"unknown method: use "
                            f"{', '.join(METHODS)}")
            known = {o.name: o for o in declared(METHODS[method])}
            for key, val in opts.items():
                if key not in known:
                    raise _fail(lines, f"activation.methods.{method}.{key}",
                                f"{method} has no option {key!r}: it takes "
                                f"{', '.join(known) or 'none'}", f"activation.methods.{method}")
                want = _TYPES[known[key].kind]
                for v in _values(val):
                    if not isinstance(v, want) or (known[key].kind == "int"
                                                   and isinstance(v, bool)):
                        raise _fail(lines, f"activation.methods.{method}.{key}",
                                    f"{v!r} is not a{'n' if known[key].kind == 'int' else ''} "
                                    f"{known[key].kind}", f"activation.methods.{method}")
            names = list(opts)
            for combo in itertools.product(*(_values(opts[n]) for n in names)):
                for expr in exprs:
                    for w in widths:
                        points.append(Point(
                            "activation", expr, method, dict(zip(names, combo)),
                            in_format=w[0] if isinstance(w, tuple) else None,
                            out_format=w[1] if isinstance(w, tuple) else None,
                            bits=w if isinstance(w, int) else None, domain=domain,
                            evaluations=evals, families=families, network_seeds=seeds))
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        dup = next(p for p in points if keys.count(p.key) > 1)
        raise SpecError(f"sweep spec {source}: the point {dup.label} appears twice")
    return SweepSpec(str(head.get("name", "sweep")), points)


def _widths(block: dict, lines: _Lines) -> list:
    bits, formats = block.get("bits"), block.get("formats")
    if (bits is None) == (formats is None):
        raise _fail(lines, "activation.bits", "give bits = [...] or formats = [[IN, OUT], ...], "
                    "one of the two", "activation")
    if bits is not None:
        out = _values(bits)
        if not all(isinstance(b, int) and not isinstance(b, bool) and b > 0 for b in out):
            raise _fail(lines, "activation.bits", "must be whole numbers of bits", "activation")
        return out
    pairs = _values(formats)
    if not all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
               for p in pairs):
        raise _fail(lines, "activation.formats", 'must be a list of ["IN", "OUT"] pairs, e.g. '
                    '[["s8.4", "u8.8"]]', "activation")
    return [tuple(p) for p in pairs]
