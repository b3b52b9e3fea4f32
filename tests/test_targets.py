"""Every target against the evaluator on every input code, with real tools: the C compiled
by the system compiler under strict flags (and as C++), the Verilog simulated by iverilog and
linted by Verilator, the Python imported, the HLS C++ compiled with g++ against the ap_types
headers and run through its scalar and array (hls4ml) forms."""

import subprocess

import numpy as np
import pytest

from actc.targets import TARGETS
from actc.targets.c import WARNINGS, compile_and_run, sources
from actc.targets.verilog import lint
from actc.verification import verify

from .cases import CASES
from .conftest import emitted_alone, grouped

CXX_FLAGS = ["-x", "c++", "-std=c++11", *WARNINGS, "-O1"]


def built_for(build, case, target):
    """The case compiled with ``--target all``; for a target outside ``all`` (hls, whose
    NAME.h would clash with C's) the same fitted unit emitted by that target alone."""
    d, r = build(*case)
    return (d, r) if TARGETS[target].in_all else emitted_alone(d, r, target)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", grouped(CASES))
def test_target_matches_evaluator_on_every_code(build, case, target):
    d, r = built_for(build, case, target)
    unit = r.unit
    space = unit.input_space()
    assert unit.in_format.bits > 20 or len(space) == 1 << unit.in_format.bits
    expected = unit.evaluate(**space.vectors)
    options = TARGETS[target].options(**r.manifest["target_options"].get(target, {}))
    got = TARGETS[target].run(d, unit, space, options)
    assert np.array_equal(got["y"], expected["y"])


@pytest.mark.parametrize("case", grouped(CASES))
def test_header_compiles_as_cplusplus(build, case):
    d, r = build(*case)
    space = r.unit.input_space()
    options = TARGETS["c"].options(**r.manifest["target_options"]["c"])
    got = compile_and_run(d / f"{r.unit.name}.h", r.unit, space, compiler="g++",
                          flags=CXX_FLAGS, sources=sources(d, r.unit.name, options))
    assert np.array_equal(got["y"], r.unit.evaluate(**space.vectors)["y"])


@pytest.mark.parametrize("case", grouped(CASES))
def test_verilog_is_lint_clean(build, case):
    d, r = build(*case)
    lint(d / f"{r.unit.name}.v", r.unit.name)  # raises on any -Wall warning


@pytest.mark.parametrize("case", grouped(CASES))
def test_verilog_elaborates_in_yosys(build, case):
    """Yosys' front end is stricter than iverilog's and Verilator's in places (a zero-width
    constant such as `0'd0` passed both and stopped `actc cost`): every design elaborates."""
    d, r = build(*case)
    name = r.unit.name
    run = subprocess.run(["yosys", "-q", "-p", f"read_verilog -sv {name}.v; hierarchy -check "
                          f"-top {name}; proc"], cwd=d, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout


def _case(case_id):
    return next(c for c in CASES if c[0] == case_id)


@pytest.mark.parametrize("case", grouped([_case("gelu8"), _case("gelu_uniform_interp_reg")]))
def test_emitted_testbench_self_checks(build, case):
    """The testbench a user gets passes as shipped, with its own vector file."""
    d, r = build(*case)
    case_id = r.unit.name
    exe = d / "tb.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(exe), f"{case_id}_tb.v", f"{case_id}.v"],
                   cwd=d, check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], cwd=d, check=True, capture_output=True,
                         text=True).stdout
    assert f"PASS {2 ** 8 if case_id == 'gelu8' else 2 ** 12} vectors" in out


@pytest.mark.xdist_group("gelu8")
def test_testbench_catches_a_wrong_vector(build):
    d, _ = build(*_case("gelu8"))
    lines = (d / "gelu8_vectors.hex").read_text().splitlines()
    word = int(lines[200], 16) ^ 1
    lines[200] = f"{word:04x}"
    bad = d / "bad.hex"
    bad.write_text("\n".join(lines) + "\n")
    exe = d / "tb_bad.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(exe), "gelu8_tb.v", "gelu8.v"], cwd=d,
                   check=True)
    out = subprocess.run(["vvp", "-n", str(exe), f"+vectors={bad}"], cwd=d, check=True,
                         capture_output=True, text=True).stdout
    assert "FAIL 1 of 256 vectors" in out


@pytest.mark.xdist_group("tanh_uniform_interp")
def test_verify_reports_every_target(build):
    d, _ = build(*_case("tanh_uniform_interp"))
    report = verify(d / "tanh_uniform_interp.json")
    assert report.ok
    assert [row.target for row in report.rows] == ["verilog", "c", "python"]
    assert all(row.codes == 1024 and row.mismatches == 0 for row in report.rows)


@pytest.mark.xdist_group("sigmoid_uniform")
def test_verify_catches_a_corrupted_table(build, tmp_path):
    d, r = build(*_case("sigmoid_uniform"))
    for name in r.files:
        (tmp_path / name).write_text((d / name).read_text())
    h = tmp_path / "sigmoid_uniform.h"
    text = h.read_text()
    marker = "sigmoid_uniform_y_lut["
    i = text.index("{\n    ", text.index(marker)) + 6
    j = text.index(",", i)
    h.write_text(text[:i] + str((int(text[i:j]) + 1) % 256) + text[j:])  # first entry + 1
    report = verify(tmp_path / "sigmoid_uniform.json", targets=["c"])
    # the edit is caught by its sha256 before anything is compiled or run
    assert not report.ok and not report.rows
    assert report.problem == ("files: sigmoid_uniform.h has changed since it was compiled (its "
                              "sha256 differs from the one recorded)")
    # and the header, run as verify runs a target, disagrees with the evaluator
    from actc.targets import TARGETS
    from actc.verification import _compare

    space = r.design.input_space()
    got = TARGETS["c"].run(tmp_path, r.design, space, TARGETS["c"].options())
    row = _compare("c", "cc", space, got, r.design.evaluate(**space.vectors))
    assert row.mismatches > 0 and row.first.startswith("x=")


@pytest.mark.xdist_group("gelu8")
def test_python_reference_scalar_and_range_checks(build):
    from actc.activation.evaluate import evaluate
    from actc.targets.python import load_module

    d, r = build(*_case("gelu8"))
    mod = load_module(d / "gelu8.py")
    assert isinstance(mod.evaluate(5), int)
    assert mod.evaluate(5) == int(evaluate(r.unit, [5])[0])
    # out-of-range codes are clamped, as in the C (tests/test_firmware.py checks they agree)
    assert mod.evaluate(128) == mod.evaluate(127) and mod.evaluate(-(2**40)) == mod.evaluate(-128)
    assert mod.quantize(1.0) == 16 and mod.dequantize(16) == 1.0
