"""Issue 16, fuzzing as a habit: property-based tests (hypothesis, derandomized so every run
tries the same cases) over the grammar, formats, method and target options, sweep specs and
manifests. The property is always the same: the input is either accepted or refused with an
ActcError whose one-line message is printable; nothing else escapes (no TypeError, no
RecursionError, no hang). The longer campaign is ``benchmarks/fuzz.py``."""

import json
import math
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import actc
from actc.activation.frontend import parse
from actc.activation.functions import FUNCTIONS
from actc.errors import ActcError
from actc.formats import format_from_json, parse_format

pytestmark = pytest.mark.xdist_group("properties")

FAST = settings(derandomize=True, database=None, deadline=None, max_examples=300,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(FAST, max_examples=25)


def refused_well(exc: ActcError) -> None:
    """A refusal is one printable line (plus the expression and caret for expressions)."""
    lines = exc.display().split("\n")
    assert lines[0] and all(line.isprintable() for line in lines)
    assert len(lines) in (1, 3)


# --- the grammar --------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.integers(0, 10**6).map(str),
    st.floats(0, 1e6, allow_nan=False).map(repr),
    st.tuples(st.integers(0, 99), st.integers(-99999, 99999)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.integers(1, 60).map(lambda n: "9" * n),
    st.sampled_from(["0", ".5", "5.", "1e-320", "1e999999999", "0.0000001"]),
)
NAMES = st.one_of(st.sampled_from(["x", "pi", "e", "y", "xx", "_"]),
                  st.from_regex(r"[a-z_]{1,6}", fullmatch=True))


def expressions(depth: int = 4):
    leaves = st.one_of(NUMBERS, NAMES)

    def grow(inner):
        call = st.tuples(st.sampled_from(list(FUNCTIONS) + ["sin", "gelux"]),
                         st.lists(inner, min_size=0, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})")
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**"]), inner).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}")
        return st.one_of(call, binary, inner.map(lambda s: f"({s})"),
                         inner.map(lambda s: f"-{s}"))

    return st.recursive(leaves, grow, max_leaves=depth * 6)


@FAST
@given(expressions())
def test_the_grammar_accepts_or_refuses_in_one_line(text):
    try:
        e = parse(text)
    except ActcError as exc:
        refused_well(exc)
        return
    assert e.expr.free_symbols <= {e.symbol}


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
       | st.lists(st.sampled_from(list("()+-*/^,.x9e ") + ["**", "exp", "\x1b", "\n", "\t"]),
                  max_size=80).map("".join))
def test_any_text_accepts_or_refuses_in_one_line(text):
    try:
        parse(text)
    except ActcError as exc:
        refused_well(exc)


@SLOW
@given(expressions(depth=2))
def test_accepted_expressions_compile_or_are_refused(text):
    try:
        r = actc.compile(text, bits=5, target="python", name="f")
    except ActcError as exc:
        refused_well(exc)
        return
    assert math.isfinite(r.error["max_lsb"])


# --- formats --------------------------------------------------------------------------------
FORMAT_TEXT = st.one_of(
    st.tuples(st.sampled_from("suSUx"), st.integers(-3, 80), st.integers(-200, 200)).map(
        lambda t: f"{t[0]}{t[1]}.{t[2]}"),
    st.tuples(st.sampled_from("su"), st.integers(0, 70), st.sampled_from(
        ["0.5", "1e-300", "1e400", "-1", "0", "nan", "inf", "1/3", "x"]),
        st.integers(-2**70, 2**70)).map(lambda t: f"{t[0]}{t[1]}:{t[2]}:{t[3]}"),
    st.sampled_from(["fp32", "fp16", "bf16", "fp8", "s8", "u", ""]),
    st.text(max_size=20),
)


@FAST
@given(FORMAT_TEXT)
def test_formats_parse_or_refuse_and_round_trip(text):
    try:
        fmt = parse_format(text)
    except ActcError as exc:
        refused_well(exc)
        return
    assert 1 <= fmt.bits <= 64
    assert format_from_json(json.loads(json.dumps(fmt.to_json()))) == fmt


# --- method and target options ----------------------------------------------------------------
def _option_values():
    return st.one_of(st.integers(-5, 70), st.sampled_from([2**40, 10**30]), st.booleans(),
                     st.sampled_from(["auto", "on", "off", "max", "mse", "both", "pot", "apot2",
                                      "shift", "multiply", "gradient", "uniform", "serial",
                                      "header", "split", "nope"]),
                     st.none())


@SLOW
@given(st.data())
def test_method_and_target_options_compile_or_refuse(data):
    from actc.activation.passes import METHODS
    from actc.options import declared
    from actc.targets import TARGETS

    method = data.draw(st.sampled_from(list(METHODS)))
    names = [o.name for o in declared(METHODS[method])]
    names += [o.name for t in TARGETS.values() for o in declared(t.options)]
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    options = {n: data.draw(_option_values()) for n in chosen}
    target = data.draw(st.sampled_from(["all", "c", "python", "verilog"]))
    try:
        actc.compile("tanh(x)", bits=5, method=method, target=target, name="f", **options)
    except ActcError as exc:
        refused_well(exc)


# --- sweep specs ---------------------------------------------------------------------------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if not isinstance(v, float) or math.isfinite(v) else "nan"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


SCALARS = st.one_of(st.integers(-3, 40), st.booleans(), st.floats(allow_nan=False),
                    st.sampled_from(["gelu(x)", "x", "drum:4", "adc:4", "mtj:4", "xilinx",
                                     "cost", "s8.4", "nope", "9^9^9^9"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
KEYS = {
    "sweep": ["name", "evaluations", "families", "network_seeds", "timeout_s", "bogus"],
    "activation": ["expressions", "bits", "formats", "domain", "bogus"],
    "mac": ["multipliers", "bits", "signed", "lanes", "bogus"],
    "adc": ["converters", "rows", "weight_bits", "input_bits", "subarrays", "scheme", "bogus"],
}


@st.composite
def specs(draw):
    lines = []
    if draw(st.booleans()):
        lines.append("[sweep]")
        for k in draw(st.lists(st.sampled_from(KEYS["sweep"]), max_size=3, unique=True)):
            lines.append(f"{k} = {_toml_value(draw(VALUES))}")
    for kind in draw(st.lists(st.sampled_from(["activation", "mac", "adc"]), max_size=3)):
        lines.append(f"[[{kind}]]")
        for k in draw(st.lists(st.sampled_from(KEYS[kind]), max_size=4, unique=True)):
            lines.append(f"{k} = {_toml_value(draw(VALUES))}")
        if kind == "activation":
            for m in draw(st.lists(st.sampled_from(["table", "uniform", "grau", "nope"]),
                                   max_size=2, unique=True)):
                lines.append(f"[activation.methods.{m}]")
                if draw(st.booleans()):
                    lines.append(f"entries = {_toml_value(draw(VALUES))}")
    return "\n".join(lines) + "\n"


@FAST
@given(specs())
def test_sweep_specs_parse_or_refuse_in_one_line(text):
    from actc.sweep.spec import parse_spec

    try:
        spec = parse_spec(text, "s", max_points=100)
    except ActcError as exc:
        refused_well(exc)
        return
    assert 0 < len(spec.points) <= 100


# --- manifests ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    from actc.adc.backend import compile_column
    from actc.mac.api import compile as compile_mac

    d = tmp_path_factory.mktemp("manifests")
    out = []
    for r in (actc.compile("sigmoid(x)", bits=5, method="uniform", entries=8, interpolate=True,
                           target="python", name="s"),
              compile_mac("bam:1,1", bits=4, target="python"),
              compile_column("adc:2", rows=16, weight_bits=1, input_bits=1, target="python")):
        r.write(d / r.design.name)
        out.append(d / r.design.name / f"{r.design.name}.json")
    return out


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False,
              allow_infinity=False), st.text(max_size=8), st.sampled_from(["../x", "c", "x.py"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@SLOW
@given(st.data())
def test_mutated_manifests_verify_or_refuse(manifests, tmp_path_factory, data):
    from actc.verification import verify

    source = data.draw(st.sampled_from(manifests))
    m = json.loads(source.read_text())
    paths = [p for p in _paths(m) if p and p[0] != "sha256"]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = m
        for k in path[:-1]:
            parent = parent[k]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = data.draw(JSON_VALUES)
        paths = [p for p in _paths(m) if p and p[0] != "sha256"]
        if not paths:
            break
    d = tmp_path_factory.mktemp("mutant")
    shutil.copytree(source.parent, d, dirs_exist_ok=True)
    (d / source.name).write_text(json.dumps(m))
    try:
        report = verify(d / source.name)
    except ActcError as exc:
        refused_well(exc)
        return
    assert report.ok or report.problem
