"""The command line as a user meets it: outputs, bad input, atomicity, determinism."""

import json
import subprocess
import sys

import pytest

from actc.cli import main
from actc.targets.base import comment_text


def run(*args):
    """The real console entry point in a subprocess: exit code, stdout, stderr."""
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_compile_verilog_writes_module_testbench_vectors_manifest(tmp_path):
    code, out, err = run("compile", "gelu(x)", "--target", "verilog", "--bits", "8",
                         "-o", str(tmp_path))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gelu.json", "gelu.v", "gelu_tb.v", "gelu_vectors.hex"]
    assert out.startswith("gelu: table, s8.4 -> s8.4, symmetry f(x) = x + f(-x), 1032 ROM bits; "
                          "error max 0.498 LSB")
    m = json.loads((tmp_path / "gelu.json").read_text())
    assert m["files"] == ["gelu.v", "gelu_tb.v", "gelu_vectors.hex", "gelu.json"]
    assert m["input"] == {"bits": 8, "signed": True, "scale": 0.0625, "zero_point": 0,
                          "text": "s8.4"}
    assert m["output"]["text"] == "s8.4" and m["memory_bits"] == 129 * 8
    assert m["symmetry"] == {"used": "odd_plus_linear", "relation": "f(x) = x + f(-x)",
                             "stored_core_inputs": 129}
    assert set(m["error"]) >= {"max_abs", "mean_abs", "rms", "max_lsb"}
    assert m["error"]["max_lsb"] <= 0.5  # a correctly rounded table
    code, out, _ = run("verify", str(tmp_path / "gelu.json"))
    assert code == 0 and "OK: every claim checked; every target matches the evaluator" in out


def test_manifest_keys_are_stable(tmp_path):
    assert main(["compile", "sigmoid(x)", "--target", "c", "--bits", "8", "-o",
                 str(tmp_path)]) == 0
    m = json.loads((tmp_path / "sigmoid.json").read_text())
    assert list(m) == [
        "schema", "actc_version", "kind", "name", "expression", "canonical", "method",
        "options", "parameters", "input", "output", "domain", "requested_domain", "registered",
        "targets", "target_options", "files", "sha256", "symmetry", "memory_bits",
        "memory_bytes", "search", "storage", "error", "design"]
    assert m["canonical"] == "1/(1 + exp(-x))"
    assert m["output"]["text"] == "u8.8" and m["targets"] == ["c"]
    assert m["storage"] == {"c_bytes": 129}  # the folded table, 0..128 in uint8_t
    assert m["target_options"] == {"c": {"c_layout": "header"}}


def test_identical_commands_give_identical_bytes(tmp_path):
    args = ["compile", "tanh(x)", "--in", "s10.7", "--out", "s8.7", "--method", "uniform",
            "--entries", "32", "--interpolate"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    a = sorted((tmp_path / "a").iterdir())
    b = sorted((tmp_path / "b").iterdir())
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 6
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


BAD = [
    (["compile", "gelu(x"], "actc: error: missing ')' at the end of the expression\n"
     "  gelu(x\n        ^\n"),
    (["compile", "gelux(x)"], "actc: error: unknown function 'gelux'; did you mean 'gelu'? "
     "(actc list shows all)\n  gelux(x)\n  ^^^^^\n"),
    (["compile", "log(x)", "--bits", "8"], "actc: error: log(x) is not finite at x = -8; "
     "restrict the input range with --domain LO,HI or choose an --in format\n"),
    (["compile", "tanh(x)", "--bits", "0"],
     "actc: error: an input width of 0 bits is impossible: use 1 to 32 bits\n"),
    (["compile", "tanh(x)", "--out-bits", "40"],
     "actc: error: an output width of 40 bits is impossible: use 1 to 32 bits\n"),
    (["compile", "tanh(x)", "--in", "u33", "--out", "u8"],
     "actc: error: input format 'u33' of 33 bits is impossible: use 1 to 32 bits\n"),
    (["compile", "tanh(x)", "--in", "s24.20"], "actc: error: --method table needs 2^24 "
     "entries for a 24-bit input; it takes inputs up to 20 bits: use --method uniform\n"),
    (["compile", "tanh(x)", "--bits", "8", "--method", "uniform", "--entries", "512"],
     "actc: error: --entries 512 exceeds the 256 input codes of s8.5: use --method table\n"),
    (["compile", "tanh(x)", "--method", "uniform", "--entries", "48"],
     "actc: error: --entries 48 must be a power of two, 2 or more\n"),
    (["compile", "tanh(x)", "--interpolate"],
     "actc: error: --interpolate does not apply to --method table\n"),
    (["compile", "tanh(x)", "--method", "spline"],
     "actc: error: unknown method 'spline': choose from table, uniform, geba, optimal, knots, "
     "auto, grau, threshold\n"),
    (["compile", "tanh(x)", "--target", "vhdl"],
     "actc: error: unknown target 'vhdl': choose from verilog, c, python, hls, all\n"),
    (["compile", "tanh(x)", "--name", "1st"], "actc: error: --name '1st' is not a valid "
     "identifier: use a letter, then letters, digits or underscores (at most 63 characters)\n"),
    (["compile", "tanh(x)", "--name", "module"], "actc: error: --name 'module' is a reserved "
     "word in one of the targets: pick another\n"),
    (["compile", "tanh(x)", "--name", "tanh"], "actc: error: --name 'tanh' clashes with the "
     "C library's tanh(): pick another, e.g. tanh_act\n"),
    (["compile", "tanh(x)", "--name", "a*/b"], "actc: error: --name 'a*/b' is not a valid "
     "identifier: use a letter, then letters, digits or underscores (at most 63 characters)\n"),
    (["compile", "tanh(x)", "--domain", "3"],
     "actc: error: argument --domain: expected LO,HI (e.g. -8,8), got '3' "
     "(see actc compile --help)\n"),
    (["compile", "tanh(x)", "--in", "s8.4", "--domain", "-1,1"], "actc: error: --in fixes the "
     "input format: drop --in-bits/--domain, or drop --in\n"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a[:4]) for a, _ in BAD])
def test_bad_input_one_clear_error_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "out"
    code, stdout, stderr = run(*args, "-o", str(out))
    assert code == 2
    assert stderr == message
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists()


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run("compile", "tanh(x)", "--bits", "8", "-o", str(blocker / "sub"))
    assert code == 2
    assert err.startswith("actc: error: cannot create output directory") and err.count("\n") == 1


def test_failed_write_leaves_no_partial_files(tmp_path, monkeypatch):
    import actc.fileio as fileio

    calls = {"n": 0}
    real = fileio.os.replace

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", flaky)
    with pytest.raises(Exception, match="No space left"):
        fileio.write_files(tmp_path, {"a.txt": "a", "b.txt": "b", "c.txt": "c"})
    # all or nothing: a.txt, moved into place first, is taken back; no temporaries left
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "actc: error: manifest '{p}' not found\n"),
        ("{not json", "actc: error: manifest '{p}' is damaged: invalid JSON at line 1 column 2\n"),
        ('{"schema": "other"}', "actc: error: '{p}' is not an actc manifest "
         "(no schema 'actc-manifest/1')\n"),
        ('{"schema": "actc-manifest/1", "design": {}}',
         "actc: error: manifest '{p}' is invalid: actc_version: Field required\n"),
    ],
)
def test_verify_bad_manifest(tmp_path, content, message):
    p = tmp_path / "m.json"
    if content is not None:
        p.write_text(content)
    code, out, err = run("verify", str(p))
    assert code == 2 and err == message.format(p=p)


def test_verify_missing_listed_file(tmp_path):
    assert main(["compile", "tanh(x)", "--bits", "6", "--target", "c", "-o", str(tmp_path)]) == 0
    (tmp_path / "tanh_act.h").unlink()
    code, _, err = run("verify", str(tmp_path / "tanh_act.json"))
    assert code == 2
    assert err == "actc: error: files listed in the manifest are missing: tanh_act.h\n"


def test_list_shows_every_function():
    from actc.activation.functions import FUNCTIONS

    code, out, _ = run("list")
    assert code == 0
    for name in FUNCTIONS:
        assert f"  {name}(" in out
    assert "methods: table, uniform, geba, optimal, knots, auto, grau, threshold" in out


def test_help():
    code, out, _ = run("--help")
    assert code == 0 and "compile" in out and "verify" in out


def test_comment_text_cannot_break_out():
    evil = "x */ int pwn; /* \n// \\"
    safe = comment_text(evil)
    assert "*/" not in safe and "/*" not in safe and "\n" not in safe and "\\" not in safe


def test_expression_text_in_comments_is_safe(tmp_path):
    assert main(["compile", "x/2*(1+tanh(x))/(1)", "--bits", "6", "-o", str(tmp_path)]) == 0
    h = (tmp_path / "act.h").read_text()
    head = h[: h.index("*/")]
    assert "f(x) = x/2*(1+tanh(x))/(1)" in head


@pytest.mark.parametrize("command", ["report", "compile"])
def test_an_output_name_too_long_for_the_file_system_is_one_line(tmp_path, command):
    """`actc report x.json -o <300 characters>` was a traceback (Path.is_dir raised
    ENAMETOOLONG), found by benchmarks/fuzz.py with another seed."""
    code, _, err = run("compile", "sigmoid(x)", "--bits", "6", "--target", "python",
                       "-o", str(tmp_path / "d"))
    assert code == 0, err
    name = "o" * 300
    args = (["report", str(tmp_path / "d" / "sigmoid.json")] if command == "report"
            else ["compile", "sigmoid(x)", "--bits", "6"])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    p = subprocess.run([sys.executable, "-m", "actc", *args, "-o", name],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("actc: error: cannot ") and "File name too long" in p.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
