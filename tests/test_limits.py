"""Issue 16: hostile and careless inputs. Every class of input the issue found mishandled
gets its whole message checked here: expressions (limits checked before sympy evaluates
anything), resources (memory estimated before the work, time and memory bounded while it
runs), outputs (all or nothing, -o as a directory, byte-identical), and the CLI's one line."""

import json
import os
import subprocess
import sys

import pytest

from actc.activation.frontend import parse
from actc.cli import main
from actc.errors import LimitError, ParseError, SemanticError

EXPRESSIONS = [
    ("9^9^9^9", LimitError,
     "the exponent 9^9 is 3.874e+08: constant exponents take magnitudes up to 1024\n"
     "  9^9^9^9\n      ^^^"),
    ("1e999999999*x", LimitError,
     "the number 1e999999999 is out of range: literals take magnitudes from 1e-100 to 1e+100, "
     "or 0\n  1e999999999*x\n  ^^^^^^^^^^^"),
    ("1e-320*x", LimitError,  # subnormal in float64
     "the number 1e-320 is out of range: literals take magnitudes from 1e-100 to 1e+100, or 0"
     "\n  1e-320*x\n  ^^^^^^"),
    ("x*" + "7" * 41, LimitError,
     "the number literal is 41 characters long: literals take at most 40\n  x*" + "7" * 41
     + "\n    " + "^" * 41),
    ("x*" + "1" * 5000, LimitError,  # Python's 4300-digit int limit is never reached
     "the expression is 5002 characters long: expressions take at most 1000"),
    ("x" + "+x" * 500, LimitError,
     "the expression is 1001 characters long: expressions take at most 1000"),
    ("-" * 60 + "x", LimitError,
     "the expression nests more than 50 levels deep (operators, calls and signs): write it more "
     "simply\n  " + "-" * 60 + "x\n  " + " " * 50 + "^" * 11),
    ("log(0*x)", SemanticError,
     "the constant log(0*x) is complex infinity, not a finite real number\n  log(0*x)\n"
     "  ^^^^^^^^"),
    ("sqrt(-1)*x", SemanticError,
     "the constant sqrt(-1) is 1.0*I, not a real number\n  sqrt(-1)*x\n  ^^^^^^^^"),
    ("(-8)^(1/3)*x", SemanticError,
     "the constant (-8)^(1/3) is 1.0 + 1.73205*I, not a real number\n  (-8)^(1/3)*x\n"
     "  ^^^^^^^^^^"),
    ("max(x, sqrt(-1))", SemanticError,
     "the constant sqrt(-1) is 1.0*I, not a real number\n  max(x, sqrt(-1))\n         ^^^^^^^^"),
    ("0^-1*x", SemanticError,
     "the constant 0^-1 is complex infinity, not a finite real number\n  0^-1*x\n  ^^^^"),
    ("x^1e30", LimitError,
     "the exponent 1e30 is 1e+30: constant exponents take magnitudes up to 1024\n  x^1e30\n"
     "    ^^^^"),
    ("(1/3)^1000*x", LimitError,
     "(1/3)^1000 is about 10^-477: constants take magnitudes from 1e-300 to 1e+300, or 0\n"
     "  (1/3)^1000*x\n  ^^^^^^^^^^"),
    ("1.0000000000000000000000000000000000001^1000*x", LimitError,
     "the constant 1.0000000000000000000000000000000000001^1000 needs more than 4096 bits "
     "exactly\n  1.0000000000000000000000000000000000001^1000*x\n  " + "^" * 44),
    ("exp(exp(exp(5)))*x", LimitError,
     "the constant exp(exp(exp(5))) is about 10^(1.24e+64): constants take magnitudes from "
     "1e-300 to 1e+300, or 0\n  exp(exp(exp(5)))*x\n  ^^^^^^^^^^^^^^^^"),
    ("x*1e100*1e100*1e100*1e100", LimitError,
     "the product of the constant factors of x*1e100*1e100*1e100*1e100 is about 10^400: "
     "constants take magnitudes from 1e-300 to 1e+300, or 0\n  x*1e100*1e100*1e100*1e100\n  "
     + "^" * 25),
    ("x\x1b[31m", ParseError,  # control characters are never echoed
     "unexpected character '\\x1b'\n  x?[31m\n   ^"),
]


@pytest.mark.parametrize("text, kind, message", EXPRESSIONS,
                         ids=[e[0][:20] for e in EXPRESSIONS])
def test_expression_limits_are_checked_before_sympy_evaluates(text, kind, message):
    with pytest.raises(kind) as info:
        parse(text)
    assert str(info.value) == message


def test_long_chains_within_the_limits_lower_without_recursion():
    # 450 terms and 300 nested parentheses: one level each, no RecursionError
    assert str(parse("x" + "+x" * 449).expr) == "450*x"
    assert str(parse("(" * 300 + "x" + ")" * 300).expr) == "x"
    assert str(parse("x" + "*x" * 400).expr) == "x**401"


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True,
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def test_the_cli_never_echoes_control_characters(tmp_path):
    code, out, err = run("compile", "x\x1b[2J\x07", "-o", str(tmp_path / "o"))
    assert (code, out) == (2, "")
    assert err == "actc: error: unexpected character '\\x1b'\n  x?[2J?\n   ^\n"
    code, _, err = run("sweep", str(tmp_path / "no\nsuch\x1b.toml"), "-o", str(tmp_path / "o"))
    assert code == 2 and err.count("\n") == 1 and "\x1b" not in err
    assert not (tmp_path / "o").exists()


# --- resources ---------------------------------------------------------------------------------
def test_a_table_of_2_32_codes_is_refused_before_anything_is_enumerated(tmp_path):
    # the issue's --in s32.0: 23.7 GB after 31 s; now refused by the method, nothing allocated
    code, out, err = run("compile", "x", "--in", "s32.0", "--max-ram-gb", "1", "-o",
                         str(tmp_path / "o"))
    assert (code, out) == (2, "")
    assert err == ("actc: error: --method table needs 2^32 entries for a 32-bit input; it "
                   "takes inputs up to 20 bits: use --method uniform\n")


def test_memory_is_estimated_before_the_fit_and_the_flag_is_named(tmp_path):
    code, _, err = run("compile", "x", "--in", "s32.0", "--method", "uniform", "--entries",
                       str(1 << 30), "-o", str(tmp_path / "o"))
    assert code == 2
    assert err == ("actc: error: --method uniform on 1,048,581 input codes with up to "
                   "1,073,741,824 table entries needs about 401 GB of memory, above the budget "
                   "of 4 GB: raise it with --max-ram-gb\n")
    assert not (tmp_path / "o").exists()


def test_memory_beyond_the_budget_stops_the_command(tmp_path):
    code, _, err = run("compile", "gelu(x)", "--in", "s16.12", "--out", "s16.14", "--method",
                       "geba", "--max-ram-gb", "0.01", "-o", str(tmp_path / "o"))
    assert code == 2
    assert err == ("actc: error: ran out of the memory budget of 0.01 GB: raise it with "
                   "--max-ram-gb G (0: no limit)\n")
    assert not (tmp_path / "o").exists()


def test_every_command_stops_at_its_time_limit_leaving_outputs_alone(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run("compile", "gelu(x)", "--in", "s16.12", "--out", "s16.14", "--method",
                       "optimal", "--objective", "mse", "--timeout", "0.5", "-o", str(out))
    assert code == 2
    assert err == ("actc: error: stopped after 0.5 s, the time limit: raise it with --timeout S "
                   "(0: no limit)\n")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("flag, value, message", [
    ("--timeout", "-1", "--timeout -1: give 0 or more seconds (0: no limit)"),
    ("--max-ram-gb", "nan", "--max-ram-gb nan: give 0 or more GB (0: no limit)"),
])
def test_limit_flags_are_checked(flag, value, message, capsys):
    assert main(["compile", "x", flag, value]) == 2
    assert capsys.readouterr().err == f"actc: error: {message}\n"


def test_a_command_with_its_own_timeout_is_not_stopped_by_the_default_deadline():
    """cost and mac import declare their own --timeout (each Yosys run; the circuit's runs):
    the default 600 s command deadline must not cut a limit the user raised."""
    from actc.cli import _limits, _parser

    for argv in (["cost", "x.json", "--timeout", "5000"],
                 ["mac", "import", "c.v", "--timeout", "5000"]):
        words = [a for a in argv if not a.startswith("-")]
        args = _parser(argv[0], words).parse_args(argv)
        assert args.timeout == 5000.0
        assert _limits(args)[0] == 0.0
    args = _parser("compile", ["compile", "x"]).parse_args(["compile", "x"])
    assert _limits(args)[0] == 600.0


def test_the_limits_are_restored_after_a_command(tmp_path):
    import resource
    import signal

    before = resource.getrlimit(resource.RLIMIT_AS), signal.getsignal(signal.SIGALRM)
    assert main(["compile", "x", "--bits", "4", "--target", "python", "-o", str(tmp_path)]) == 0
    assert (resource.getrlimit(resource.RLIMIT_AS), signal.getsignal(signal.SIGALRM)) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- outputs: all or nothing ---------------------------------------------------------------
def _snapshot(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file()}


def test_a_failed_compile_leaves_the_output_directory_exactly_as_it_was(tmp_path):
    out = tmp_path / "o"
    assert main(["compile", "gelu(x)", "--bits", "8", "-o", str(out)]) == 0
    (out / "gelu.v").write_text("// my edits\n")
    # the manifest's place is taken by a directory: caught after every other file is staged
    (out / "gelu.json").unlink()
    (out / "gelu.json").mkdir()
    before = _snapshot(out)
    code, _, err = run("compile", "gelu(x)", "--bits", "6", "-o", str(out))
    assert code == 2
    assert err == (f"actc: error: cannot write {str(out / 'gelu.json')!r}: a directory is in "
                   "the way\n")
    assert _snapshot(out) == before and (out / "gelu.v").read_text() == "// my edits\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_failed_mac_and_adc_compile_write_nothing(tmp_path):
    out = tmp_path / "o"
    code, _, err = run("mac", "compile", "--multiplier", "drum:40", "--bits", "8", "-o",
                       str(out))
    assert code == 2 and err.count("\n") == 1 and not out.exists()
    code, _, err = run("adc", "compile", "--converter", "mtj:99", "-o", str(out))
    assert code == 2 and err.count("\n") == 1 and not out.exists()


def test_report_into_a_directory(tmp_path):
    """Issue 17's finding: -o DIR/ wrote a file named DIR."""
    assert main(["compile", "tanh(x)", "--bits", "6", "--target", "python", "-o",
                 str(tmp_path)]) == 0
    m = str(tmp_path / "tanh_act.json")
    code, out, err = run("report", m, "-o", str(tmp_path / "pictures") + "/")
    assert code == 0, err
    assert (tmp_path / "pictures" / "tanh_act_report.png").stat().st_size > 0
    (tmp_path / "existing").mkdir()
    assert run("report", m, "-o", str(tmp_path / "existing"))[0] == 0
    assert (tmp_path / "existing" / "tanh_act_report.png").is_file()
    assert run("report", m, "-o", str(tmp_path / "named.png"))[0] == 0
    assert (tmp_path / "named.png").is_file()


def test_outputs_are_byte_identical_and_hold_no_wall_clock(tmp_path):
    args = ["compile", "gelu(x)", "--bits", "8", "--method", "knots", "--memory-bytes", "64"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    m = json.loads((tmp_path / "a" / "gelu.json").read_text())
    assert m["search"] is not None and "seconds" not in m["search"]


def test_nothing_is_written_outside_the_output_directory(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    code, _, _ = run("compile", "sigmoid(x)", "--bits", "6", "-o", str(tmp_path / "o"), cwd=cwd)
    assert code == 0 and os.listdir(cwd) == []


@pytest.mark.parametrize("args, message", [
    (["sigmoid(x)", "--in", "s8.4", "--out", "s8:1e-300:0"],
     "sigmoid(x) reaches 1e+300 output codes of s8:1e-300:0 (which holds -128 to 127); the "
     "fits take up to 2^40: narrow the input (--in, --domain) or widen the output (--out)"),
    (["exp(x)", "--in", "u6", "--out", "u6", "--method", "geba"],
     "exp(x) reaches 2.29e+27 output codes of u6 (which holds 0 to 63); the fits take up to "
     "2^40: narrow the input (--in, --domain) or widen the output (--out)"),
    (["x*1e9", "--in", "u4", "--out", "u16", "--method", "grau"],
     "--method grau: the function rises by up to 2^30 output codes per input code, beyond the "
     "shift datapath (a pre-shift of 33, at most 30): use a coarser output format, or another "
     "method"),
    (["x", "--in", "s8:1e999999999:0"],
     "input format 's8:1e999999999:0': scale 1e999999999 must be a positive number from 2^-1000 "
     "to 2^1000"),
    (["x", "--in", "s8:1:99999999999"],
     "input format 's8:1:99999999999': the zero point must lie within +-2^32"),
])
def test_formats_far_from_the_function_are_refused(tmp_path, capsys, args, message):
    """The fuzz found these: a cast of 1e300 codes wrapping (and saturating the wrong way),
    a grau pre-shift beyond its datapath (a traceback), an exponent computed before a
    check."""
    assert main(["compile", *args, "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"actc: error: {message}\n"
    assert not (tmp_path / "o").exists()


def test_a_network_file_nested_too_deeply_is_one_line(tmp_path, capsys):
    p = tmp_path / "net.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["adc", "cost", "--network", str(p)]) == 2
    assert capsys.readouterr().err == (f"actc: error: {str(p)!r}: not a list of layers (nested "
                                       "too deeply or a number too long)\n")


@pytest.mark.parametrize("command", [["compile", "x"], ["mac", "compile"],
                                     ["adc", "compile", "--converter", "adc:2"]])
def test_an_empty_output_path_is_refused(tmp_path, capsys, command, monkeypatch):
    """`-o "$OUT"` with OUT unset: nothing written into the working directory."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, "-o", ""]) == 2
    assert capsys.readouterr().err == ("actc: error: -o '' names no output: give a directory, "
                                       "e.g. -o out/\n")
    assert list(tmp_path.iterdir()) == []
