"""Hierarchical chord tables (KnotCore) and the memory-aware search, without golden files: the
evaluator against exact rational interpolation, the segment starts against brute force, the
memory accounting against what the Verilog stores, the knot fit against the full linear
program and its lower bound, and the search's choice against its own candidates."""

import re
from fractions import Fraction

import numpy as np
import pytest

import actc
from actc.activation.domain import fit_domain
from actc.activation.evaluate import eval_core
from actc.activation.fit.budget import BOTH_SLACK, Budget, search
from actc.activation.fit.knots import Regions, allocate, fit_knots, geometry
from actc.activation.fit.placement import Points, _Costs
from actc.activation.frontend import parse
from actc.activation.ir import KnotCore
from actc.activation.spec import make_spec
from actc.errors import FitError
from actc.formats import NumberFormat
from actc.unit import stored_width, table_bits, word_bytes


def _random_core(rng, pow2):
    bits = int(rng.integers(3, 11))
    r = int(rng.integers(0, min(4, bits - 1) + 1))
    T = bits - r
    if pow2:
        counts = [1 << int(rng.integers(0, T + 1)) for _ in range(1 << r)]
    else:
        counts = [int(rng.integers(1, (1 << T) + 1)) for _ in range(1 << r)]
    knots = rng.integers(-3000, 3000, sum(counts) + 1)
    return KnotCore(bits, r, tuple(counts), tuple(int(k) for k in knots),
                    int(rng.integers(0, 4)))


@pytest.mark.parametrize("pow2", [False, True])
def test_knot_core_is_exact_linear_interpolation(pow2):
    """y = round half up of the knots' linear interpolation at v, computed in exact
    rationals from the segment geometry (segment k of region j spans 2^T / counts[j] inputs
    from its knot at k * 2^T / counts[j])."""
    rng = np.random.default_rng(7 + pow2)
    for _ in range(40):
        core = _random_core(rng, pow2)
        T = core.shift
        v = np.arange(1 << core.in_bits)
        got = eval_core(core, v)
        base = 0
        want = []
        for m in core.counts:
            for o in range(1 << T):
                length = Fraction(1 << T, m)
                k = int(Fraction(o) // length)
                t = (Fraction(o) - k * length) / length
                k0, k1 = core.knots[base + k], core.knots[base + k + 1]
                value = (k0 + (k1 - k0) * t) / (1 << core.value_frac)
                want.append(int((value + Fraction(1, 2)) // 1))
            base += m
        assert got.tolist() == want


def test_starts_are_where_the_knot_index_changes():
    rng = np.random.default_rng(3)
    for _ in range(30):
        core = _random_core(rng, bool(rng.integers(0, 2)))
        v = np.arange(1 << core.in_bits)
        i = geometry(v, core.in_bits, core.region_bits, list(core.counts)).i
        changes = [0] + [int(a) for a in np.flatnonzero(np.diff(i)) + 1]
        assert list(core.starts()) == changes
        assert core.segments == len(changes)


def test_ranges_hold_every_signal():
    """signals() bounds what the evaluator's datapath computes, on every input."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        core = _random_core(rng, bool(rng.integers(0, 2)))
        s = core.signals()
        v = np.arange(1 << core.in_bits)
        g = geometry(v, core.in_bits, core.region_bits, list(core.counts))
        K = np.asarray(core.knots)
        acc = (K[g.i] << core.shift) + (K[g.i + 1] - K[g.i]) * g.f
        for name, a in (("index", g.i), ("f", g.f), ("acc", acc), ("r", eval_core(core, v)),
                        ("term", (K[g.i + 1] - K[g.i]) * g.f)):
            lo, hi = s[name]
            assert lo <= a.min() and a.max() <= hi, name


def test_minimal_widths():
    assert stored_width([16384, 32768]) == (15, 16384)  # biased: 15 bits, not 16
    assert stored_width([-5, 5]) == (4, 0)  # signed is as narrow: no bias
    assert word_bytes([16384 * 4, 65535 + 16384 * 4]) == 2
    assert table_bits({"a": (0, 7), "b": (100, 101, 102)}) == 2 * 3 + 3 * 2


_ROM = re.compile(r"// (\w+): (\d+) x (\d+) bits")


@pytest.mark.parametrize("expr, kw", [
    ("tanh(x)", dict(in_format="s10.7", out_format="s10.8", method="knots", entries=40)),
    ("sigmoid(x)", dict(in_format="s9.5", out_format="u8.8", method="knots", entries=16,
                        regions=2, addressing="shift", symmetry="off")),
    ("elu(x)", dict(in_format="s12.8", out_format="s12.8", method="optimal", memory_bits=1200)),
    ("gelu(x)", dict(in_format="s10.6", out_format="s10.6", method="uniform", entries=16,
                     interpolate=True)),
])
def test_memory_bits_are_the_bits_the_verilog_stores(expr, kw):
    """Every ROM of the emitted module, entries x width, adds up to memory_bits."""
    r = actc.compile(expr, target="verilog", **kw)
    text = r.files[f"{r.unit.name}.v"]
    stored = sum(int(n) * int(w) for _, n, w in _ROM.findall(text))
    assert stored == r.unit.memory_bits > 0


def _domain(expr, fin, fout):
    spec = make_spec(parse(expr), in_format=NumberFormat.parse(fin),
                     out_format=NumberFormat.parse(fout))
    return fit_domain(spec)


def test_minimax_knots_match_the_full_linear_program():
    """Cutting planes end at the optimum of the LP over every input; and no chain of chords
    beats its segments' own minimax lines (a lower bound)."""
    import scipy.sparse as sps
    from scipy.optimize import linprog

    d = _domain("tanh(x)", "s9.5", "s10.8")
    for r, counts in ((0, [7]), (2, [1, 3, 3, 1]), (1, [4, 4])):
        fit = fit_knots(d, r, counts, 0, "max")
        g = geometry(d.core_inputs, d.bits, r, counts)
        n, N = len(d.ideal), g.knots
        rows = np.arange(n)
        A = sps.csr_matrix((np.r_[1 - g.w, g.w], (np.r_[rows, rows], np.r_[g.i, g.i + 1])),
                           shape=(n, N))
        one = sps.csr_matrix(np.ones((n, 1)))
        res = linprog(np.r_[np.zeros(N), 1.0],
                      A_ub=sps.vstack([sps.hstack([A, -one]), sps.hstack([-A, -one])]),
                      b_ub=np.r_[d.ideal, -d.ideal], bounds=[(None, None)] * (N + 1),
                      method="highs")
        assert fit.real_error == pytest.approx(res.x[-1], rel=1e-7, abs=1e-9)
        p = Points.from_samples(d.core_inputs, d.ideal, bits=d.bits)
        c = _Costs(p)
        starts = list(fit.core.starts()) + [1 << d.bits]
        bound = max(c.max_error(a, b) for a, b in zip(starts, starts[1:]))
        assert fit.real_error >= bound - 1e-9


def test_integer_knots_are_no_worse_than_rounding_the_real_ones():
    """The local search only accepts moves that lower a knot's two segments' error."""
    d = _domain("sigmoid(x)", "s11.7", "u12.12")
    fit = fit_knots(d, 3, [2, 4, 6, 8, 8, 6, 4, 2], 1, "max")
    err = np.abs(eval_core(fit.core, d.core_inputs) - d.ideal).max()
    assert err <= fit.real_error + 0.5 + 2.0**-2 + 1e-9  # rounding: half an LSB and a knot


@pytest.mark.parametrize("budget", [Budget(bits=600), Budget(bytes=70), Budget(segments=20)])
def test_allocation_fits_the_budget(budget):
    d = _domain("gelu(x)", "s11.7", "s11.7")
    regions = Regions.of(d, 3)

    def fits(counts):
        knots = (0, 1 << 9) + (0,) * (sum(counts) - 1)
        return budget.fits(KnotCore(d.bits, 3, tuple(counts), knots, 0))

    counts = allocate(regions, fits, False, 4096)
    assert counts is not None and fits(counts)
    bigger = Budget(**{budget.unit: budget.limit * 2})
    more = allocate(regions, lambda c: bigger.fits(
        KnotCore(d.bits, 3, tuple(c), (0, 1 << 9) + (0,) * (sum(c) - 1), 0)), False, 4096)
    assert more is not None and regions.estimate(more) <= regions.estimate(counts)


@pytest.mark.parametrize("objective", ["max", "mse", "both"])
def test_search_keeps_its_best_candidate(objective):
    d = _domain("swish(x)", "s11.7", "s11.7")
    from actc.activation.fit.placement import optimal_max

    rec = search(d, Budget(bits=800), objective, ("knots", "searched", "uniform"),
                 {"searched": optimal_max}, 2, "auto")
    win = rec.candidates[rec.winner]
    assert all(c.memory <= 800 for c in rec.candidates)
    if objective == "max":
        assert win.max_lsb == min(c.max_lsb for c in rec.candidates)
    elif objective == "mse":
        assert win.rms_lsb == min(c.rms_lsb for c in rec.candidates)
    else:
        best_max = min(c.max_lsb for c in rec.candidates)
        bound = best_max * (1 + BOTH_SLACK)
        assert win.max_lsb <= bound
        assert win.mean_lsb == min(c.mean_lsb for c in rec.candidates if c.max_lsb <= bound)
    assert {c.structure.split()[0] for c in rec.candidates} >= {"knots", "searched", "uniform"}


def test_both_lowers_the_mean_within_the_bound():
    d = _domain("gelu(x)", "s12.8", "s12.8")
    counts = [1, 2, 4, 8, 8, 4, 2, 1]
    hard = fit_knots(d, 3, counts, 1, "max").core
    e_hard = np.abs(eval_core(hard, d.core_inputs) - d.ideal)
    bound = float(e_hard.max()) * 1.05
    soft = fit_knots(d, 3, counts, 1, "both", bound=bound).core
    e_soft = np.abs(eval_core(soft, d.core_inputs) - d.ideal)
    assert e_soft.max() <= bound
    assert e_soft.mean() < e_hard.mean()


def test_manifest_records_the_search(tmp_path):
    r = actc.compile("tanh(x)", in_format="s12.9", out_format="s12.11", method="auto",
                     memory_bits=900, target="python")
    s = r.manifest["search"]
    assert s["budget"] == {"bits": 900} and s["objective"] == "max"
    win = s["candidates"][s["winner"]]
    assert win["structure"] == s["structure"]
    assert win["memory"] == r.manifest["memory_bits"] <= 900
    assert win["max_lsb"] == pytest.approx(r.error["max_lsb"])
    assert r.manifest["parameters"]["segments"] == win["parameters"]["segments"]


@pytest.mark.parametrize("kw, message", [
    (dict(method="auto"), "--method auto needs --memory-bits B or --memory-bytes B"),
    (dict(method="knots", regions=9), "--regions 9 is out of range: use 0 to 7 for a 8-bit "
                                      "core input"),
    (dict(method="knots", entries=0), "--entries 0 is out of range: use 1 to 256 segments"),
    (dict(method="knots", entries=8, memory_bytes=90),
     "give --entries or --memory-bytes, not both"),
    (dict(method="geba", memory_bytes=512), "--memory-bytes 512 is at least a full table "
                                            "\\(256 x 2 bytes = 512\\): use --method table"),
])
def test_bad_knot_and_search_options(kw, message):
    with pytest.raises(FitError, match=message):
        actc.build("tanh(x)", in_format="s8.5", out_format="s9.8", symmetry="off", **kw)


def test_float_inputs_refuse_bytes_and_both():
    with pytest.raises(FitError, match="--memory-bytes takes fixed-point inputs"):
        actc.build("tanh(x)", in_format="fp16", method="geba", memory_bytes=400)
    with pytest.raises(FitError, match="--objective both takes fixed-point inputs"):
        actc.build("tanh(x)", in_format="fp16", method="geba", objective="both")


def test_int16_tanh_beats_cmsis_nn_in_half_its_table():
    """CMSIS-NN's arm_nn_activation_s16 (s16.12 -> s16.15, a 512-byte table) errs by up to
    1.476 LSB on tanh (measured on all 65536 codes, README "Benchmarks"); 256 bytes of
    tables do better here."""
    r = actc.compile("tanh(x)", in_format="s16.12", out_format="s16.15", method="auto",
                     memory_bytes=256, target="python")
    assert r.manifest["memory_bytes"] <= 256
    assert r.error["max_lsb"] < 1.476


def _c_table_bytes(header, tmp_path):
    """sizeof every static const table of a header, summed, by compiling and running it."""
    import subprocess

    text = header.read_text()
    names = re.findall(r"static (?:ACTC_FLASH )?const \w+ (\w+)\[\d+\]", text)
    assert names, "no table found"
    prog = tmp_path / "sizes.c"
    total = " + ".join(f"sizeof {n}" for n in names)
    prog.write_text(f'#include <stdio.h>\n#include "{header.name}"\nint main(void) {{\n'
                    f'    printf("%u\\n", (unsigned)({total}));\n    return 0;\n}}\n')
    exe = tmp_path / "sizes"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-Wno-unused-function", "-I",
                    str(header.parent), str(prog), "-o", str(exe)], check=True)
    return int(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("expr, kw", [
    ("sigmoid(x)", dict(in_format="s12.8", out_format="s12.11", method="knots", entries=60,
                        regions=3)),
    ("tanh(x)", dict(in_format="s10.7", out_format="s10.9", method="knots", entries=16, regions=0,
                     addressing="shift")),
])
def test_c_tables_are_memory_bytes(tmp_path, expr, kw):
    """sizeof the emitted C tables (each in its narrowest type, biased where that saves
    bytes) is the unit's memory_bytes."""
    r = actc.compile(expr, target="c", name="act", **kw)
    r.write(tmp_path)
    assert _c_table_bytes(tmp_path / "act.h", tmp_path) == r.manifest["memory_bytes"]
    assert r.manifest["storage"]["c_bytes"] == r.manifest["memory_bytes"]
