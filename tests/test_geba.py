"""Symmetry, breakpoint placement (exactness against brute force), geba vs optimal, memory
budgets, and the report."""

import itertools
import subprocess
import sys

import numpy as np
import pytest

import actc
from actc.activation.evaluate import evaluate
from actc.activation.fit.placement import (
    Points,
    _Costs,
    gradient_placement,
    optimal_max,
    optimal_mse,
    segment_errors,
)
from actc.activation.frontend import parse
from actc.activation.spec import make_spec
from actc.activation.symmetry import find_symmetry
from actc.errors import FitError
from actc.formats import NumberFormat


def optimal_mse_plain(p, segments):
    """The O(M N^2) dynamic program, for tests of optimal_mse."""
    c = _Costs(p)  # the O(M N^2) program: the yardstick for optimal_mse
    n = len(p)
    prev = c.sse(np.zeros(n + 1, dtype=np.int64), np.arange(n + 1))
    args = []
    for _ in range(2, segments + 1):
        cur = np.full(n + 1, np.inf)
        arg = np.zeros(n + 1, dtype=np.int64)
        for j in range(1, n + 1):
            i = np.arange(0, j)
            v = prev[i] + c.sse(i, np.full(j, j))
            k = int(np.argmin(v))
            cur[j], arg[j] = v[k], k
        args.append(arg)
        prev = cur
    starts, j = [], n
    for arg in reversed(args):
        j = int(arg[j])
        starts.append(j)
    starts.append(0)
    return sorted(set(starts)), float(prev[n])



@pytest.mark.parametrize(
    "expr, kind, relation",
    [
        ("tanh(x)", "odd", "f(x) = -f(-x)"),
        ("erf(x)", "odd", "f(x) = -f(-x)"),
        ("sigmoid(x)", "point", "f(x) = 1 - f(-x)"),
        ("abs(x)", "even", "f(x) = f(-x)"),
        ("gelu(x)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("silu(x)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("gelu_tanh(x)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("softplus(x)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("relu(x)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("leaky_relu(x, 0.25)", "odd_plus_linear", "f(x) = 5/4*x + f(-x)"),
        ("swish(x, 2)", "odd_plus_linear", "f(x) = x + f(-x)"),
        ("2*sigmoid(x) + 3", "point", "f(x) = 8 - f(-x)"),
    ],
)
def test_symmetry_found(expr, kind, relation):
    s = find_symmetry(parse(expr))
    assert s is not None and (s.kind, s.relation) == (kind, relation)


@pytest.mark.parametrize("expr", ["exp(x)", "mish(x)", "elu(x)", "x^3 + x^2", "sigmoid(x - 1)"])
def test_no_false_symmetry(expr):
    assert find_symmetry(parse(expr)) is None


def test_fold_halves_the_table_and_stays_correctly_rounded():
    r = actc.compile("tanh(x)", in_format="s10.7", out_format="s9.8", target="python")
    assert r.design.fold is not None and len(r.design.core.values) == 513
    spec = r.spec
    assert np.array_equal(evaluate(r.design, spec.codes), spec.rounded)


def test_fold_refused_when_formats_break_it():
    # 1/scale_out is not a whole number of codes: sigmoid's 1 - f(-x) cannot be exact
    with pytest.raises(FitError, match="--symmetry on: f\\(x\\) = 1 - f\\(-x\\) needs 1/scale_out "
                       "to be a whole number of output codes"):
        actc.build("sigmoid(x)", in_format="s8.4", out_format="u8:0.003:0", symmetry="on")
    _, d, _ = actc.build("sigmoid(x)", in_format="s8.4", out_format="u8:0.003:0")
    assert d.fold is None and "whole number" in d.meta["symmetry"]["reason"]


def _points(expr, fin="s8.4", fout="s10.7"):
    s = make_spec(parse(expr), in_format=NumberFormat.parse(fin),
                  out_format=NumberFormat.parse(fout))
    return Points.from_samples(s.core_inputs, s.ideal, bits=s.in_format.bits)


@pytest.mark.parametrize("expr", ["sigmoid(x)", "gelu(x)", "x^3"])
def test_optimal_max_is_exact(expr):
    """Against brute force over every placement of 3 breakpoints on 6-bit domains."""
    p = _points(expr, "s6.3", "s10.7")
    c = _Costs(p)
    n = len(p)
    cost = np.zeros((n + 1, n + 1))
    for a in range(n):
        for b in range(a + 1, n + 1):
            cost[a, b] = c.max_error(a, b)
    cuts = np.array(list(itertools.combinations(range(1, n), 3)))
    best = np.maximum.reduce([cost[0, cuts[:, 0]], cost[cuts[:, 0], cuts[:, 1]],
                              cost[cuts[:, 1], cuts[:, 2]], cost[cuts[:, 2], n]]).min()
    got = segment_errors(p, optimal_max(p, 4), "max").max()
    assert got == pytest.approx(best, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("expr", ["sigmoid(x)", "tanh(x)", "gelu(x)"])
@pytest.mark.parametrize("segments", [3, 8])
def test_optimal_mse_matches_plain_dp(expr, segments):
    p = _points(expr, "s9.5", "s12.9")
    _, want = optimal_mse_plain(p, segments)
    got = segment_errors(p, optimal_mse(p, segments, exact=True), "mse").sum()
    assert got == pytest.approx(want, rel=1e-9)
    fast = segment_errors(p, optimal_mse(p, segments), "mse").sum()
    assert fast <= want * 1.005


@pytest.mark.parametrize("expr", ["sigmoid(x)", "tanh(x)", "gelu(x)", "swish(x)"])
def test_geba_within_15_percent_of_optimal(expr):
    p = _points(expr, "s12.8", "s14.11")
    for m in (8, 16):
        geba = segment_errors(p, gradient_placement(p, m, "max"), "max").max()
        best = segment_errors(p, optimal_max(p, m), "max").max()
        assert geba <= 1.15 * best


def test_memory_budget_is_respected():
    for budget in (600, 1500, 4000):
        _, d, _ = actc.build("tanh(x)", in_format="s12.8", out_format="s12.10", method="geba",
                             memory_bits=budget)
        assert d.memory_bits <= budget
    _, small, _ = actc.build("tanh(x)", in_format="s12.8", out_format="s12.10", method="geba",
                             memory_bits=600)
    _, big, _ = actc.build("tanh(x)", in_format="s12.8", out_format="s12.10", method="geba",
                           memory_bits=4000)
    assert big.core.segments > small.core.segments


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(memory_bits=10), "--memory-bits 10 is too small for any geba structure on s8.5"),
        (dict(memory_bits=12, spacing="uniform"), "--memory-bits 12 is too small for any geba "
                                                  "structure on s8.5"),
        (dict(memory_bits=2048), "--memory-bits 2048 is at least a full table \\(256 x 8 = "
                                 "2048 bits\\): use --method table"),
        (dict(entries=1), "--entries 1: geba needs 2 segments or more"),
        (dict(entries=300), "--entries 300 exceeds the 256 segments geba can place on s8.5"),
        (dict(entries=8, memory_bits=900), "give --entries or --memory-bits, not both"),
        (dict(search_steps=0), "--search-steps 0 must be 1 or more"),
    ],
)
def test_geba_bad_budgets(kw, message):
    with pytest.raises(FitError, match=message):
        actc.build("tanh(x)", bits=8, method="geba", **kw)


@pytest.mark.parametrize("method, options", [
    ("geba", {"entries": 12}), ("grau", {"segments": 6}), ("threshold", {}),
    ("table", {}), ("optimal", {"entries": 8, "in_format": "fp16", "out_format": None}),
    ("knots", {"entries": 12}),
])
def test_report_writes_png(tmp_path, method, options):
    kw = {"in_format": "s10.6", "out_format": "s10.6", **options}
    expr = "sigmoid(x)" if method == "threshold" else "gelu(x)"
    r = actc.compile(expr, method=method, target="python", name="gelu", **kw)
    r.write(tmp_path)
    p = subprocess.run([sys.executable, "-m", "actc", "report", str(tmp_path / "gelu.json")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "max error" in p.stdout
    if method in ("geba", "knots"):
        assert "segmentation: 12 " in p.stdout
    png = (tmp_path / "gelu_report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_report_draws_the_unit_the_function_and_the_error(tmp_path):
    """What the figure draws is the evaluator's output, the true function and their
    difference in LSBs, with the breakpoints of the X_LUT marked."""
    from actc.activation.report import figure
    from actc.manifest import load

    r = actc.compile("tanh(x)", method="geba", entries=12, in_format="s9.5", out_format="s9.7",
                     target="python", symmetry="off")
    r.write(tmp_path)
    manifest, unit = load(tmp_path / "tanh_act.json")
    fig, data = figure(manifest, unit)
    codes = np.arange(-256, 256)
    x = codes * 2.0**-5
    ax1, ax2 = fig.axes
    true_line, unit_line = ax1.get_lines()[:2]
    assert np.array_equal(true_line.get_xdata(), x)
    assert np.allclose(true_line.get_ydata(), np.tanh(x), atol=1e-15)
    y = evaluate(unit, codes) * 2.0**-7
    assert np.array_equal(unit_line.get_ydata(), y)
    err_line = next(ln for ln in ax2.get_lines() if len(ln.get_xdata()) == len(x))
    assert np.allclose(err_line.get_ydata(), (y - np.tanh(x)) * 2**7, atol=1e-9)
    starts = [(unit.in_format.code_min + s) * 2.0**-5 for s in unit.core.breakpoints[1:]]
    assert data.breakpoints == sorted([x[0], *starts])
    marked = [ln.get_xdata()[0] for ln in ax1.get_lines()[2:]]
    assert marked == data.breakpoints
    assert data.metrics["max_lsb"] == pytest.approx(r.error["max_lsb"])
