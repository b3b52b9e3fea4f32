"""The MAC companion as a user meets it: actc mac compile, import, list, encode, report,
and verify, cost, report on MAC manifests; bad input gives one line, exit 2, nothing written."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actc.mac.importer import import_circuit
from actc.verification import verify

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "actc", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def test_mac_compile_verify_report_cost(tmp_path):
    code, out, err = run("mac", "compile", "--multiplier", "drum:4", "--bits", "8", "--target",
                         "all", "-o", tmp_path)
    assert code == 0, err
    assert out.startswith("drum4: drum:4, 8x8-bit unsigned; MRE 5.887 %, MAE 1.413 %, "
                          "WCE 11.33 %, EP 97.72 % over 65536 pairs (all)")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "drum4.h", "drum4.json", "drum4.py", "drum4.v", "drum4_tb.v", "drum4_vectors.hex"]
    m = json.loads((tmp_path / "drum4.json").read_text())
    assert m["kind"] == "mac" and m["multiplier"] == "drum:4" and m["design"]["kind"] == "mac"
    assert set(m["metrics"]) >= {"ep_percent", "mae", "mae_percent", "wce", "wce_percent",
                                 "mre_percent", "wcre_percent", "mse", "bias", "std", "pairs",
                                 "exhaustive"}
    code, out, _ = run("verify", tmp_path / "drum4.json")
    assert code == 0 and "OK: every claim checked; every target matches the evaluator" in out
    code, out, _ = run("report", tmp_path / "drum4.json")
    assert code == 0 and out.startswith("MRE 5.887 %")
    assert (tmp_path / "drum4_report.png").stat().st_size > 10000
    code, out, err = run("cost", tmp_path / "drum4.json")
    assert code == 0, err
    cost = json.loads((tmp_path / "drum4.json").read_text())["cost"]["xilinx"]
    assert cost["luts"] > 20 and cost["dsp"] == 0 and "-nodsp" in cost["script"]


def test_cost_dsp_flag_reports_dsp_blocks(tmp_path):
    code, _, err = run("mac", "compile", "--multiplier", "exact", "--bits", "12", "--target",
                       "verilog", "-o", tmp_path)
    assert code == 0, err
    code, _, err = run("cost", tmp_path / "exact.json", "--dsp")
    assert code == 0, err
    with_dsp = json.loads((tmp_path / "exact.json").read_text())["cost"]["xilinx"]
    code, _, err = run("cost", tmp_path / "exact.json")
    without = json.loads((tmp_path / "exact.json").read_text())["cost"]["xilinx"]
    assert with_dsp["dsp"] >= 1 and with_dsp["dsp_allowed"]
    assert without["dsp"] == 0 and without["luts"] > 5 * with_dsp["luts"]


@pytest.mark.parametrize("args, message", [
    (["--multiplier", "asm:2"], "actc: error: --multiplier 'asm:2': alphabet letters are odd "
                                "numbers 1 to 15 (even ones are shifts of odd ones); 2 is not\n"),
    (["--multiplier", "truncated:99"], "actc: error: --multiplier 'truncated:99': K 99 is out of "
                                       "range for 8x8-bit operands (use 0 to 15)\n"),
    (["--multiplier", "drum:0"], "actc: error: --multiplier 'drum:0': K 0 is out of range for "
                                 "8x8-bit operands (use 2 to 8)\n"),
    (["--bits", "0"], "actc: error: operand a of 0 bits is impossible: multipliers take 4 to 16 "
                      "bits per operand\n"),
    (["--a-bits", "8", "--b-bits", "17"], "actc: error: operand b of 17 bits is impossible: "
                                          "multipliers take 4 to 16 bits per operand\n"),
    (["--lanes", "0"], "actc: error: --lanes 0: use 1 to 64\n"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "out"
    code, stdout, err = run("mac", "compile", *args, "-o", out)
    assert code == 2 and err == message and stdout == ""
    assert not out.exists()


def test_mac_list_names_every_family():
    code, out, _ = run("mac", "list")
    assert code == 0
    for usage in ("exact", "truncated:K", "bam:H,V", "drum:K", "mitchell", "ilm:C", "mbm",
                  "asm:A,B,..."):
        assert f"  {usage}" in out


def test_help_stays_fast_and_never_imports_torch():
    code = ("import sys, time; t = time.time(); from actc.cli import main\n"
            "try:\n    main(['mac', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "compile" in p.stdout and "import" in p.stdout and "encode" in p.stdout


def test_compile_never_imports_torch(tmp_path):
    code = ("import sys\nfrom actc.cli import main\n"
            f"main(['mac', 'compile', '--multiplier', 'mbm', '-o', r'{tmp_path}'])\n"
            "assert 'torch' not in sys.modules\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


# --- import ------------------------------------------------------------------------------

def test_import_verilog_circuit_all_targets_and_cost(tmp_path):
    code, out, err = run("mac", "import", FIXTURES / "loa_mul.v", "--bits", "8", "-o", tmp_path)
    assert code == 0, err
    assert out.startswith("loa_mul_imported: table:loa_mul.v, 8x8-bit unsigned;")
    report = verify(tmp_path / "loa_mul_imported.json")
    assert report.ok and [r.codes for r in report.rows] == [65536] * 3
    m = json.loads((tmp_path / "loa_mul_imported.json").read_text())
    # the circuit ORs the two lowest columns: brute force of its error
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    low = ((a & 1) & (b & 1)) | ((((a >> 1) & b) | (a & (b >> 1))) & 1) << 1
    approx = ((a * b) >> 2 << 2) | low
    assert m["metrics"]["ep_percent"] == pytest.approx(100 * np.mean(approx != a * b))
    text = (tmp_path / "loa_mul_imported.v").read_text()
    # the circuit itself, for actc cost, its module renamed after the unit
    assert "module loa_mul_imported__loa_mul (A, B, O);" in text
    code, _, err = run("cost", tmp_path / "loa_mul_imported.json")
    assert code == 0, err


def test_import_signed_c_model_with_unsigned_types(tmp_path):
    r = import_circuit(FIXTURES / "loa_mul_signed.c", bits=8, signed=True, target="all")
    r.write(tmp_path)
    assert verify(tmp_path / f"{r.unit.name}.json").ok
    m = r.unit.multiplier
    a = m.operands("a")[:, None]
    b = m.operands("b")[None, :]
    assert np.array_equal(m.table(), (a * b) & ~1)  # two's complement, lowest bit cleared
    assert r.unit.multiplier.family.source["ports"] == ["a", "b"]  # found by name, b first


@pytest.mark.parametrize("file, extra, message", [
    ("loa_mul.v", ["--bits", "6"], "loa_mul.v: module loa_mul: ports A[8], B[8], O[16] do not "
                                   "fit 6 x 6-bit operands and a 12-bit product"),
    ("loa_mul.v", ["--module", "other"], "loa_mul.v: no module 'other' in the file (it has "
                                         "loa_mul)"),
    ("xz_mul.v", [], "xz_mul.v: the output O has X or Z bits for a = 0, b = 0 (bit patterns, "
                     "read 100 ns after the operands change): Z000"),
    ("broken.c", [], "broken.c does not compile:"),
    ("loa_mul_signed.c", ["--function", "nope"], "loa_mul_signed.c: no function 'nope' (found "
                                                 "loa_mul_signed)"),
])
def test_import_refuses_bad_circuits(tmp_path, file, extra, message):
    out = tmp_path / "out"
    code, stdout, err = run("mac", "import", FIXTURES / file, "--bits", "8", *extra, "-o", out)
    assert code == 2 and err.startswith("actc: error: " + message) and err.count("\n") == 1
    assert not out.exists()


# --- encode -----------------------------------------------------------------------------

def test_encode_writes_codes_header_and_errors(tmp_path):
    w = np.array([[5, -7, 0, 127], [-128, 3, 1, 64]], dtype=np.int8)
    np.save(tmp_path / "w.npy", w)
    code, out, err = run("mac", "encode", tmp_path / "w.npy", "--alphabet", "1,3", "--bits", "8",
                         "--signed", "-o", tmp_path / "enc")
    assert code == 0, err
    assert out.startswith("8 weights, alphabet {1,3}: 9 bits per encoded weight (7 at least); "
                          "3 rounded, max |error| 1")
    codes = np.load(tmp_path / "enc" / "w.npy")
    err_w = np.load(tmp_path / "enc" / "w_error.npy")
    from actc.mac.families import parse_multiplier
    from actc.mac.ir import Multiplier

    m = Multiplier(parse_multiplier("asm:1,3"), 8, 8, True)
    assert codes.shape == w.shape and np.array_equal(codes, m.encode(w))
    assert np.array_equal(w + err_w, m.family.represent(w, 8, True))
    header = (tmp_path / "enc" / "w.h").read_text()
    assert "#define W_BITS_PER_WEIGHT 9" in header
    src = tmp_path / "t.c"
    src.write_text(f'#include "{tmp_path / "enc" / "w.h"}"\n#include <stdio.h>\n'
                   'int main(void) { printf("%u\\n", (unsigned)w[1]); return 0; }\n')
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o",
                    tmp_path / "t", src], check=True)
    got = subprocess.run([tmp_path / "t"], capture_output=True, text=True, check=True).stdout
    assert int(got) == int(codes.ravel()[1])


@pytest.mark.parametrize("weights, message", [
    (np.array([1.0, np.nan]), "weights contain NaN or infinity (element 1 of the flattened "
                              "array): give integer weight codes"),
    (np.array([1.0, np.inf]), "weights contain NaN or infinity"),
    (np.array(3), "weights must be a non-empty numeric array, got dtype int64 and shape ()"),
    (np.array([300]), "weight 300 (element 0) is outside [-128, 127] for 8-bit signed weights"),
    (np.array([0.5]), "weights must be integer codes"),
    # values the cast to int64 would wrap: the message names the number the file holds
    (np.array([2 ** 64 - 1], dtype=np.uint64),
     "weight 18446744073709551615 (element 0) is outside [-128, 127]"),
    (np.array([3.0, 1e30]), "weight 1e+30 (element 1) is outside [-128, 127]"),
    (np.array([-2 ** 63], dtype=np.int64), "weight -9223372036854775808 (element 0) is outside"),
])
def test_encode_refuses_bad_weights(tmp_path, weights, message):
    np.save(tmp_path / "w.npy", weights)
    code, _, err = run("mac", "encode", tmp_path / "w.npy", "--alphabet", "1,3", "--signed",
                       "-o", tmp_path / "enc")
    assert code == 2 and err.startswith("actc: error: " + message)
    assert not (tmp_path / "enc").exists()


@pytest.mark.parametrize("alphabet, message", [
    ("1,,3", "--alphabet '1,,3': an empty letter"),
    ("1,3,", "--alphabet '1,3,': an empty letter"),
    ("0,3", "--alphabet '0,3': alphabet letters are odd numbers 1 to 15"),
    ("1,1,3", "--alphabet '1,1,3': a letter appears twice"),
    ("3,5", "--alphabet '3,5': the alphabet must contain 1"),
    ("1,x", "--alphabet '1,x': give odd letters, e.g. 1,3"),
])
def test_encode_refuses_bad_alphabets_naming_the_option(tmp_path, alphabet, message):
    """An empty letter was dropped without a word (1,,3 ran as 1,3), and the letters' errors
    named --multiplier 'asm:...', an option encode does not have."""
    np.save(tmp_path / "w.npy", np.array([1, 5]))
    code, _, err = run("mac", "encode", tmp_path / "w.npy", "--alphabet", alphabet, "-o",
                       tmp_path / "enc")
    assert (code, err.count("\n")) == (2, 1) and err.startswith("actc: error: " + message), err
    assert not (tmp_path / "enc").exists()
