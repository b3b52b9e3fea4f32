"""The column back end (actc adc compile): every target against the evaluator on every
vector of the input space with real tools, the evaluator against the crossbar model, the
serial handshake, the activation chained from the manifest, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from actc.adc import Crossbar
from actc.adc.backend import ColumnUnit, build_column, compile_column, stimulus
from actc.api import compile as compile_activation
from actc.errors import ActcError
from actc.targets import TARGETS
from actc.targets.c import compile_and_run
from actc.targets.verilog import lint
from actc.verification import verify

from .cases_adc import COLUMN_CASES
from .test_targets import CXX_FLAGS

_BUILT: dict = {}


@pytest.fixture(scope="session")
def column(tmp_path_factory):
    def get(case):
        case_id, conv, opts = case
        if case_id not in _BUILT:
            d = tmp_path_factory.mktemp(case_id)
            r = compile_column(conv, name=case_id, **opts)
            r.write(d)
            _BUILT[case_id] = (d, r)
        return _BUILT[case_id]

    return get


def _cases(ids=None):
    return [pytest.param(c, id=c[0], marks=pytest.mark.xdist_group(c[0]))
            for c in COLUMN_CASES if ids is None or c[0] in ids]


@pytest.mark.parametrize("target", [t for t in TARGETS if "adc" in TARGETS[t].kinds])
@pytest.mark.parametrize("case", _cases())
def test_target_matches_evaluator_on_every_vector(column, case, target):
    d, r = column(case)
    unit = r.unit
    space = unit.input_space()
    assert space.exhaustive == (sum(p.bits for p in unit.inputs) <= 20)
    expected = unit.evaluate(**space.vectors)
    options = TARGETS[target].options(**r.manifest["target_options"].get(target, {}))
    got = TARGETS[target].run(d, unit, space, options)
    assert np.array_equal(got["y"], expected["y"])


@pytest.mark.parametrize("case", _cases())
def test_verilog_is_lint_clean_and_header_compiles_as_cplusplus(column, case):
    d, r = column(case)
    lint(d / f"{r.unit.name}.v", r.unit.name)
    space = r.unit.input_space()
    got = compile_and_run(d / f"{r.unit.name}.h", r.unit, space, compiler="g++",
                          flags=CXX_FLAGS)
    assert np.array_equal(got["y"], r.unit.evaluate(**space.vectors)["y"])


@pytest.mark.parametrize("case", _cases(["col_mtj8_serial", "col_adc4_unsigned_reg"]))
def test_shipped_testbench_passes_and_catches_a_wrong_vector(column, case):
    d, r = column(case)
    name = r.unit.name
    exe = d / "tb.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(exe), f"{name}_tb.v", f"{name}.v"], cwd=d,
                   check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], cwd=d, check=True, capture_output=True,
                         text=True).stdout
    n = len(r.unit.input_space())
    assert f"PASS {n} vectors" in out and "HANDSHAKE" not in out
    lines = (d / f"{name}_vectors.hex").read_text().splitlines()
    lines[7] = f"{int(lines[7], 16) ^ 1:0{len(lines[7])}x}"  # the expected y's low bit
    bad = d / "bad.hex"
    bad.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["vvp", "-n", str(exe), f"+vectors={bad}"], cwd=d, check=True,
                         capture_output=True, text=True).stdout
    assert f"FAIL 1 of {n} vectors" in out


def _port_arrays(unit, ports):
    """Port values (per output, flattened) back into the crossbar's code and skip arrays."""
    xb = unit.xbar
    n = len(next(iter(ports.values())))
    shape = (n, unit.subarrays, xb.input_slices)
    codes = np.zeros(shape + (xb.weight_slices, 1), dtype=np.int64)
    skip = np.zeros(codes.shape, dtype=bool)
    ref = np.zeros(shape, dtype=np.int64)
    ref_skip = np.zeros(shape, dtype=bool)
    for p in unit.ports():
        v = ports[p.name]
        z = ports[p.skip_name] if unit.skip else np.zeros(n, dtype=np.int64)
        if unit.sample_bits:
            v = np.array([bin(int(a)).count("1") for a in v])
        if p.s < 0:
            ref[:, p.r, p.j], ref_skip[:, p.r, p.j] = v, z
        else:
            codes[:, p.r, p.j, p.s, 0], skip[:, p.r, p.j, p.s, 0] = v, z
    return codes, ref, skip, ref_skip


@pytest.mark.parametrize("case", _cases())
def test_evaluator_is_the_crossbar_models_accumulation(column, case):
    """On the model-driven vectors the back end's y equals Crossbar.accumulate of the same
    codes and skip flags, and Crossbar.matmul of the model's inputs for a deterministic
    converter; with the ideal converter, scale * y is the exact dot product."""
    _, r = column(case)
    unit = r.unit
    x, w, ports = stimulus(unit)
    codes, ref, skip, ref_skip = _port_arrays(unit, ports)
    off = unit.xbar.offset
    want = unit.xbar.accumulate(codes, ref if off else None, unit.conv, skip,
                                ref_skip if off else None)[:, 0]
    y = unit.evaluate(**ports)["y"]
    assert np.array_equal(y, want)
    if not unit.sample_bits:
        assert np.array_equal(y, unit.xbar.matmul(x, w, unit.conv).reshape(-1))
    if unit.converter["spec"] == "ideal":
        exact = (x @ w).reshape(-1)
        assert np.array_equal(y, exact)
        assert unit.out_format.scale == unit.input_scale * unit.weight_scale
    if unit.skip:  # the stimulus makes both skip rules fire
        flags = np.stack([ports[p.skip_name] for p in unit.ports()])
        assert 0 < flags.mean() < 1


def test_mtj_column_estimates_the_dot_product():
    """With a calibrated clip (2.7 sigma of the partial sums) the mtj:16 column code
    correlates with the exact dot products (> 0.95); over the full range (+-64) the
    junction sees |x| < 0.1 and mostly flips coins (correlation ~0.54)."""
    corr = {}
    for clip in (None, 8.0):
        unit = build_column("mtj:16", subarrays=2, rows=64, weight_bits=4, input_bits=4,
                            vectors=4096, converter_params={"clip": clip} if clip else {})
        x, w, ports = stimulus(unit)
        y = unit.evaluate(**ports)["y"] * unit.out_format.scale
        corr[clip] = np.corrcoef(y, (x @ w).reshape(-1))[0, 1]
    assert corr[8.0] > 0.95 and corr[None] < 0.7


def test_manifest_states_the_output_format_and_chains_into_an_activation(tmp_path):
    r = compile_column("mtj:8", subarrays=4, rows=128, weight_bits=4, input_bits=4,
                       input_scale=1 / 16, weight_scale=1 / 8, target=["verilog", "python"])
    r.write(tmp_path)
    m = json.loads((tmp_path / "col.json").read_text())
    assert m["kind"] == "adc" and m["output"] == {"bits": 13, "signed": True, "scale": 0.125,
                                                   "zero_point": 0, "text": "s13.3"}
    assert m["output_range"] == [-3360, 3360] and m["latency"] == 0
    assert m["files"] == ["col.v", "col_tb.v", "col_vectors.hex", "col.py", "col.json"]
    act = compile_activation("gelu(x)", in_from=tmp_path / "col.json", out_bits=8,
                             method="grau", target="python")
    assert act.unit.in_format == r.unit.out_format
    assert verify(tmp_path / "col.json").ok


def test_byte_identical_outputs(tmp_path):
    for d in ("a", "b"):
        compile_column("sparse:4", subarrays=2, rows=32, architecture="serial").write(
            tmp_path / d)
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 6
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_unit_json_round_trip():
    u = build_column("adc:5", subarrays=3, rows=16, converter_params={"clip": 7.0})
    assert ColumnUnit.from_json(json.loads(json.dumps(u.to_json()))) == u
    assert u.xbar == Crossbar(rows=16)


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True,
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def test_cli_compile_and_chain(tmp_path):
    code, out, err = run("adc", "compile", "--converter", "mtj:8", "--rows", "128",
                         "--cell-bits", "1", "--dac-bits", "1", "--weight-bits", "4",
                         "--input-bits", "4", "--subarrays", "4", "--target", "all",
                         "-o", str(tmp_path))
    assert code == 0, err
    assert out.startswith("col: column back end, mtj:8, 4 sub-arrays x 4 input slices: 48 "
                          "conversions of 8 sample bits and skip flags (hardware), y s13.-4")
    code, out, err = run("compile", "gelu(x)", "--in-from", str(tmp_path / "col.json"),
                         "--out-bits", "8", "--method", "grau", "-o", str(tmp_path))
    assert code == 0, err
    assert out.startswith("gelu: grau, s13.-4 -> ")
    code, out, err = run("verify", str(tmp_path / "col.json"))
    assert code == 0 and "OK: every claim checked; every target matches the evaluator" in out


@pytest.mark.parametrize("args, message", [
    (["adc", "compile", "--converter", "flash:2"],
     "actc: error: unknown converter 'flash:2': use ideal, adc:N, sparse:N or mtj:T\n"),
    (["adc", "compile", "--rows", "1024"],
     "actc: error: rows 1024 is out of range: use 16 to 512\n"),
    (["adc", "compile", "--subarrays", "0"],
     "actc: error: --subarrays 0 is out of range: use 1 to 64\n"),
    (["adc", "compile", "--converter", "mtj:64"],
     "actc: error: mtj:64: a back end takes at most 63 sample bits per conversion\n"),
    (["adc", "compile", "--weight-bits", "9"],
     "actc: error: weight_bits 9 is out of range: use 1 to 8\n"),
    (["adc", "compile", "--target", "verilog", "--architecture", "serial", "--registered"],
     "actc: error: --registered adds an output register to a combinational unit; a serial "
     "unit is clocked already: drop --registered\n"),
    (["adc", "compile", "--name", "module"],
     "actc: error: --name 'module' is a reserved word in one of the targets: pick another\n"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    code, out, err = run(*args, "-o", str(tmp_path / "out"))
    assert code == 2 and err == message
    assert not (tmp_path / "out").exists()


def test_in_from_refuses_an_activation_manifest(tmp_path):
    code, _, err = run("compile", "tanh(x)", "--bits", "6", "--target", "python", "-o",
                       str(tmp_path))
    assert code == 0, err
    code, _, err = run("compile", "gelu(x)", "--in-from", str(tmp_path / "tanh_act.json"),
                       "-o", str(tmp_path / "x"))
    assert code == 2 and err == (
        f"actc: error: --in-from '{tmp_path / 'tanh_act.json'}' is not a column back end (its "
        "unit is an activation): give the manifest of actc adc compile\n")
    assert not (tmp_path / "x").exists()


def test_bad_converter_parameter_is_an_actc_error():
    with pytest.raises(ActcError, match="clip must be a positive number"):
        build_column("adc:4", converter_params={"clip": -1.0})


def test_report_draws_the_model_vectors(tmp_path):
    from actc.report import report

    compile_column("ideal", subarrays=2, rows=16, target="python", input_scale=0.5).write(
        tmp_path)
    path, line = report(tmp_path / "col.json")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert line.startswith("2048 model vectors: rms error 0, max 0 ") and \
        line.endswith("correlation 1.0000")
