"""GRAU shift-add fits, the multi-threshold baseline, and `actc cost`: quality against the
unconstrained optimum, exactness, the command line's errors, and real Yosys figures.
(Bit-exactness of every target on every code: tests/cases_pwl.py in the target matrix.)"""

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import actc
from actc.activation.domain import fit_domain
from actc.activation.evaluate import evaluate
from actc.activation.fit.pwl import lowest_error, optimal_pwl
from actc.activation.fit.shiftadd import fit_shift_add
from actc.activation.ir import ActivationUnit, ShiftAddCore
from actc.activation.metrics import measure
from actc.verification import verify
from benchmarks.baselines import fit_then_round


def run(*args, env=None):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def spec_of(expr, fi, fo):
    return actc.build(expr, in_format=fi, out_format=fo)[0]


def max_lsb(spec, core):
    return measure(ActivationUnit("t", spec.in_format, spec.out_format, core), spec)["max_lsb"]


# --- the fit --------------------------------------------------------------------------------


def _brute_force(spec, segments, terms, pre, frac):
    """Best max error over every breakpoint set, slope and bias, by exhaustion: the
    yardstick for the greedy/bisection search on a tiny input."""
    fo = spec.out_format
    v = spec.core_inputs
    t = spec.ideal
    n = len(v)
    shifts = range(0, pre + int(v[-1]).bit_length())
    slopes = [()]
    for k in range(1, terms + 1):
        for rs in itertools.combinations(shifts, k):
            for sg in itertools.product((1, -1), repeat=k):
                slopes.append(tuple(zip(sg, rs)))
    xp = v << pre
    biases = np.arange(-(1 << (frac + 7)), 1 << (frac + 7))[:, None]

    def seg_err(a, b):
        e = np.inf
        for sl in slopes:
            h = np.zeros(b - a, dtype=np.int64)
            for g, r in sl:
                h += (xp[a:b] >> r) if g > 0 else ~(xp[a:b] >> r)
            y = np.clip((biases + h) >> frac, fo.code_min, fo.code_max)
            e = min(e, float(np.abs(y - t[a:b]).max(axis=1).min()))
        return e

    cache = {}
    best = np.inf
    for cuts in itertools.combinations(range(1, n), segments - 1):
        bounds = (0, *cuts, n)
        err = 0.0
        for a, b in zip(bounds, bounds[1:]):
            if (a, b) not in cache:
                cache[(a, b)] = seg_err(a, b)
            err = max(err, cache[(a, b)])
        best = min(best, err)
    return best


@pytest.mark.parametrize("expr, terms", [("gelu(x)", 1), ("tanh(x)", 2)])
def test_fit_is_the_exact_minimax_on_a_small_input(expr, terms):
    spec = spec_of(expr, "s4.1", "s5.2")
    core, _ = fit_shift_add(fit_domain(spec), 3, terms)
    best = _brute_force(spec, 3, terms, core.pre_shift, core.frac)
    assert max_lsb(spec, core) == pytest.approx(best, abs=2e-3)


@pytest.mark.parametrize("expr, fi, fo", [
    ("sigmoid(x)", "s10.6", "u8:0.00392156862745098:0"),
    ("tanh(x)", "s10.6", "s8:0.007874015748031496:0"),
    ("gelu(x)", "s10.7", "u8:0.0166666666667:12"),
    ("silu(x)", "s10.6", "u8:0.0325490196078:9"),
])
def test_apot2_within_1_5x_of_the_unconstrained_optimum(expr, fi, fo):
    spec = spec_of(expr, fi, fo)
    ref = optimal_pwl(spec, 8)
    core, _ = fit_shift_add(fit_domain(spec), 8, 2)
    assert core.segments <= 8
    assert max_lsb(spec, core) <= 1.5 * ref.max_lsb


@pytest.mark.parametrize("expr", ["sigmoid(x)", "tanh(x)", "silu(x)"])
def test_pot_beats_fit_then_round_twofold(expr):
    spec = spec_of(expr, "s10.6", "s8:0.0325490196078:-119" if expr == "silu(x)" else
                   "s8:0.007874015748031496:0")
    core, _ = fit_shift_add(fit_domain(spec), 8, 1)
    paper = fit_then_round(spec, 8, rebuild="left")
    assert 2 * max_lsb(spec, core) <= max_lsb(spec, paper)
    assert max_lsb(spec, core) < max_lsb(spec, fit_then_round(spec, 8))


def test_mixed_precision_silu_does_not_collapse():
    # SiLU at low precision: fit-then-round merged close breakpoints here (GRAU Table III)
    spec = spec_of("silu(x)", "s6.2", "s6.2")
    core, _ = fit_shift_add(fit_domain(spec), 8, 1)
    assert len(set(core.breakpoints)) == len(core.breakpoints) == core.segments - 1
    assert max_lsb(spec, core) <= lowest_error(spec.ideal, spec.rounded, -32, 31) + 0.5


def test_saturation_does_not_loosen_the_fit():
    # exp leaves the output range: the unavoidable error there must not spoil the rest
    spec = spec_of("exp(x)", "s10.7", "u8.4")
    core, eps = fit_shift_add(fit_domain(spec), 8, 2)
    inside = spec.ideal <= spec.out_format.code_max
    y = evaluate(ActivationUnit("t", spec.in_format, spec.out_format, core), spec.codes)
    assert np.abs(y - spec.ideal)[inside].max() <= eps + 1e-9 < 1.5


def test_manifest_parameters_are_readable():
    r = actc.compile("tanh(x)", target="python", method="grau", segments=4, slopes="apot2",
                     in_format="s8.5", out_format="s8.7")
    p = r.manifest["parameters"]
    assert p["segments"] == 4 and p["slopes"] == "apot2" and p["segments_used"] <= 4
    assert len(p["breakpoints"]) == p["segments_used"] - 1
    assert len(p["slope_terms"]) == len(p["slope_values"]) == len(p["biases"])
    assert all("2^" in s or s == "0" for s in p["slope_terms"])
    core = r.design.core
    assert p["slope_values"] == [core.slope(i) for i in range(core.segments)]


def test_ir_round_trips_through_json():
    r = actc.compile("gelu(x)", target="python", method="grau", slopes="apot3", bits=8)
    again = ActivationUnit.from_json(json.loads(json.dumps(r.design.to_json())))
    assert again == r.design and isinstance(again.core, ShiftAddCore)


# --- the threshold baseline ------------------------------------------------------------------


def test_threshold_is_finn_for_monotone_functions():
    r = actc.compile("sigmoid(x)", target="python", method="threshold", in_format="s10.6",
                     out_format="u8.8")
    core = r.design.core
    assert core.down == () and core.monotone
    assert core.thresholds == 255 and core.base == 0  # 2^8 - 1 thresholds, offset 0
    assert np.array_equal(evaluate(r.design, r.spec.codes), r.spec.rounded)


def test_threshold_extension_is_exact_for_gelu():
    r = actc.compile("gelu(x)", target="python", method="threshold", in_format="s10.6",
                     out_format="s8.5")
    core = r.design.core
    assert core.down and not core.monotone
    assert r.manifest["parameters"]["down_thresholds"] == len(core.down)
    assert np.array_equal(evaluate(r.design, r.spec.codes), r.spec.rounded)


# --- the command line -----------------------------------------------------------------------

BAD = [
    (["--method", "grau", "--segments", "1"],
     "actc: error: --segments 1 is out of range: use 2 to 32\n"),
    (["--method", "grau", "--segments", "33"],
     "actc: error: --segments 33 is out of range: use 2 to 32\n"),
    (["--method", "grau", "--segments", "20", "--in", "s4.1"],
     "actc: error: --segments 20 exceeds the 16 input codes of s4.1\n"),
    (["--method", "grau", "--out-bits", "17"],
     "actc: error: --method grau takes output widths of 1 to 16 bits; s17.16 has 17\n"),
    (["--method", "grau", "--out-bits", "0"],
     "actc: error: an output width of 0 bits is impossible: use 1 to 32 bits\n"),
    (["--method", "grau", "--slopes", "apot9"],
     "actc: error: unknown slope scheme 'apot9': use pot, apot2, apot3 or apot4\n"),
    (["--method", "grau", "--pipeline", "--serial"],
     "actc: error: --pipeline and --serial exclude each other: pick one\n"),
    (["--method", "table", "--pipeline"],
     "actc: error: --architecture pipelined: this method's Verilog is combinational "
     "(--architecture pipelined and serial are for grau and threshold)\n"),
    (["--method", "grau", "--serial", "--target", "c"],
     "actc: error: --architecture applies to --target verilog, which is not selected\n"),
    (["--method", "threshold", "--slopes", "pot"],
     "actc: error: --slopes does not apply to --method threshold\n"),
    (["--method", "grau", "--serial", "--registered", "--target", "verilog"],
     "actc: error: --registered adds an output register to a combinational unit; a serial "
     "unit is clocked already: drop --registered\n"),
    (["--method", "threshold", "--in", "s24.16"],
     "actc: error: --method threshold places a threshold on every output step, so it needs "
     "every input code; it takes inputs up to 20 bits, not 24: use --method grau\n"),
    (["--method", "threshold", "--in", "s14.10", "--out", "s14.13"],
     "actc: error: --method threshold needs 16383 thresholds (one per output step) for "
     "s14.10 -> s14.13; it builds at most 4096: use fewer output bits or --method grau\n"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_options_one_clear_error_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "out"
    code, stdout, stderr = run("compile", "tanh(x)", *args, "-o", str(out))
    assert (code, stderr, stdout) == (2, message, "")
    assert not out.exists()


def test_identical_grau_commands_give_identical_bytes(tmp_path):
    args = ["compile", "silu(x)", "--method", "grau", "--slopes", "apot2", "--serial",
            "--bits", "8"]
    for d in ("a", "b"):
        assert run(*args, "-o", str(tmp_path / d))[0] == 0
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b] and len(a) == 6


# --- actc cost ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("cost")
    for name, extra in (("comb", []), ("pipe", ["--pipeline"])):
        code, _, err = run("compile", "sigmoid(x)", "--method", "grau", "--in", "s6.3", "--out",
                           "u6.6", "--segments", "4", "--target", "verilog", "--name", name,
                           "-o", str(d), *extra)
        assert code == 0, err
    return d


def test_cost_runs_yosys_and_records_the_figures(small):
    code, out, err = run("cost", str(small / "comb.json"), "--family", "all")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["family", "luts", "ffs", "carry", "muxes", "dsp",
                                           "bram", "depth"]
    m = json.loads((small / "comb.json").read_text())
    xilinx, ice40 = m["cost"]["xilinx"], m["cost"]["ice40"]
    assert xilinx["tool"].startswith("Yosys") and "synth_xilinx -family xcup" in xilinx["script"]
    assert xilinx["luts"] > 0 and xilinx["ffs"] == 0 and xilinx["depth"] > 0
    assert ice40["luts"] > 0 and ice40["ffs"] == 0
    assert verify(small / "comb.json").ok  # the manifest is still whole


def test_cost_of_a_pipelined_unit_counts_its_registers(small):
    assert run("cost", str(small / "pipe.json"))[0] == 0
    f = json.loads((small / "pipe.json").read_text())["cost"]["xilinx"]
    assert f["ffs"] >= 6 + 2  # at least the output register and the segment index


def test_cost_without_yosys_says_how_to_install_it(small, tmp_path):
    before = (small / "comb.json").read_bytes()
    env = dict(os.environ, PATH=str(tmp_path))
    code, out, err = run("cost", str(small / "comb.json"), env=env)
    assert (code, out) == (2, "")
    assert err == ("actc: error: yosys is not installed: actc cost needs Yosys with ABC "
                   "(Debian/Ubuntu: apt-get install yosys; elsewhere the OSS CAD Suite from "
                   "YosysHQ)\n")
    assert (small / "comb.json").read_bytes() == before


def test_cost_bad_family_and_missing_verilog(small, tmp_path):
    code, _, err = run("cost", str(small / "comb.json"), "--family", "ecp5")
    assert code == 2
    assert err == "actc: error: unknown family 'ecp5': choose from xilinx, ice40, all\n"
    assert run("compile", "tanh(x)", "--target", "c", "--bits", "6", "-o", str(tmp_path))[0] == 0
    code, _, err = run("cost", str(tmp_path / "tanh_act.json"))
    assert code == 2 and err == (
        f"actc: error: manifest '{tmp_path / 'tanh_act.json'}' lists no Verilog module "
        "(tanh_act.v): compile with --target verilog or --target all\n")


def test_interpolated_uniform_table_with_one_code_per_segment():
    """Regression: exp at 8 bits puts single codes in some segments (a line fit with no
    pair of points); the fit used to crash on the empty slope bracket."""
    spec, unit, _ = actc.build("exp(x)", bits=8, method="uniform", interpolate=True)
    assert measure(unit, spec)["max_lsb"] <= 0.5  # every code in range is correctly rounded
