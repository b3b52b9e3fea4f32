"""--target hls beyond the matrix (tests/test_targets.py): the CLI, verify, the refusals, the
ROM bits, the ap_types lookup."""

import os
import re
import subprocess
import sys

import pytest

import actc
from actc.errors import TargetError
from actc.targets.hls import ap_types_dir


def _actc(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def test_cli_compile_and_verify(tmp_path):
    p = _actc("compile", "gelu(x)", "--target", "hls", "--in", "s10.6", "--out", "s10.7",
              "--method", "knots", "--memory-bits", "400", "-o", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["gelu.h", "gelu.json"]
    header = (tmp_path / "gelu.h").read_text()
    assert "typedef ap_fixed<10, 4> gelu_in_t;" in header
    assert "typedef ap_fixed<10, 3> gelu_out_t;" in header
    assert "void gelu_activation(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in])" in header
    p = _actc("verify", str(tmp_path / "gelu.json"))
    assert p.returncode == 0 and "hls      g++ (C sim)                1024          0" in p.stdout


def test_cli_float_input_compile_and_verify(tmp_path):
    """fp16 in, fp16 out: the 16-bit patterns as ap_uint<16>, every one of the 65536 run."""
    p = _actc("compile", "tanh(x)", "--in", "fp16", "--method", "geba", "--entries", "12",
              "--target", "hls", "-o", str(tmp_path))
    assert p.returncode == 0, p.stderr
    header = (tmp_path / "tanh_act.h").read_text()
    assert "typedef ap_uint<16> tanh_act_in_t;" in header
    assert "typedef ap_uint<16> tanh_act_out_t;" in header
    p = _actc("verify", str(tmp_path / "tanh_act.json"))
    assert p.returncode == 0 and "hls      g++ (C sim)               65536          0" in p.stdout


def test_float_ports_are_float_and_ap_fixed():
    r = actc.compile("sigmoid(x)", in_format="fp32", out_format="u12.12", method="geba",
                     entries=16, target="hls")
    header = r.files["sigmoid.h"]
    assert "typedef float sigmoid_in_t;" in header
    assert "typedef ap_ufixed<12, 0> sigmoid_out_t;" in header
    # the tables are float32 bit patterns, 32 bits an entry (the P_LUT at its width)
    bits = [int(b) for b in re.findall(r"; (\d+) ROM bits at the minimal width", header)]
    assert sum(bits) == r.unit.memory_bits


@pytest.mark.parametrize("args, message", [
    (["mac", "compile", "--multiplier", "drum:4", "--bits", "8", "--target", "hls"],
     "actc: error: --target hls emits activation units only, not mac units: use --target "
     "verilog, c or python\n"),
    (["adc", "compile", "--converter", "adc:4", "--rows", "64", "--target", "hls"],
     "actc: error: --target hls emits activation units only, not adc units: use --target "
     "verilog, c or python\n"),
    (["compile", "tanh(x)", "--bits", "8", "--target", "hls", "--name", "ap_tanh"],
     "actc: error: --name 'ap_tanh': names starting ap_ belong to the ap_types headers\n"),
])
def test_refusals_one_line_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "out"
    p = _actc(*args, "-o", str(out))
    assert (p.returncode, p.stderr) == (2, message)
    assert not out.exists()


@pytest.mark.parametrize("name", ["INLINE", "errno", "offsetof", "nnet", "SC_RND", "half"])
def test_names_the_headers_define_are_refused(name):
    """Macros the ap_types headers leave defined, and names an HLS project has in scope."""
    with pytest.raises(TargetError, match=rf"^--name {name!r} is a reserved word in one of the "
                       "targets: pick another$"):
        actc.compile("tanh(x)", bits=6, target="hls", name=name)


def test_reserved_macros_are_the_headers_macros(tmp_path):
    """Every name in AP_TYPES_MACROS is a macro once the headers are included (g++ -dM)."""
    from actc.targets.hls import AP_TYPES_MACROS

    src = tmp_path / "m.cpp"
    src.write_text('#include "ap_fixed.h"\n#include "ap_int.h"\n#include "hls_stream.h"\n')
    out = subprocess.run(["g++", "-std=c++14", "-dM", "-E", "-isystem", str(ap_types_dir()),
                          str(src)], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[1].split("(")[0] for line in out.splitlines()}
    assert AP_TYPES_MACROS <= defined


def test_c_and_hls_together_are_refused():
    with pytest.raises(TargetError, match=r"--target c and hls both write tanh_act.h: compile "
                       "them into separate directories"):
        actc.compile("tanh(x)", bits=6, target=["c", "hls"])


def test_rom_bits_are_the_memory_bits():
    """The tables the header stores, at their minimal widths, are memory_bits."""
    for expr, opts in (("sigmoid(x)", dict(in_format="s12.8", out_format="u12.12",
                                           method="optimal", entries=20)),
                       ("tanh(x)", dict(in_format="s12.9", out_format="s12.11", method="auto",
                                        memory_bits=900))):
        r = actc.compile(expr, target="hls", **opts)
        header = next(iter(v for k, v in r.files.items() if k.endswith(".h")))
        bits = [int(b) for b in re.findall(r"; (\d+) ROM bits at the minimal width", header)]
        assert sum(bits) == r.unit.memory_bits > 0


def test_ap_types_lookup(tmp_path, monkeypatch):
    assert (ap_types_dir() / "ap_fixed.h").is_file()  # hls4ml's copy (the test extra)
    monkeypatch.setenv("ACTC_AP_TYPES", str(tmp_path))
    for header in ("ap_fixed.h", "ap_int.h", "hls_stream.h"):
        with pytest.raises(actc.errors.ToolError, match=r"ACTC_AP_TYPES=.*: no ap_fixed.h and "
                           r"ap_int.h and hls_stream.h there; --target hls needs the ap_types "
                           r"headers \(ap_fixed.h, ap_int.h\) and hls_stream.h"):
            ap_types_dir()
        (tmp_path / header).write_text("")
    assert ap_types_dir() == tmp_path


def test_verify_without_ap_types_is_one_line(tmp_path):
    d = tmp_path / "d"
    p = _actc("compile", "tanh(x)", "--bits", "6", "--target", "hls", "-o", str(d))
    assert p.returncode == 0
    p = _actc("verify", str(d / "tanh_act.json"),
              env={**os.environ, "ACTC_AP_TYPES": str(tmp_path / "none")})
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert p.stderr.startswith("actc: error: ACTC_AP_TYPES=")
