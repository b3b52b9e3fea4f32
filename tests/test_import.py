"""`actc mac import` on real EvoApproxLib circuits and its friends (issue 17): the top module
found among helper cells, a unit named like the circuit, signedness detected, product tables
reused with --multiplier table:PATH, and actc cost beside the exact multiplier."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actc.errors import ActcError, FormatError, SemanticError
from actc.mac.api import compile as compile_mac
from actc.mac.api import make_multiplier
from actc.mac.importer import find_top, import_circuit, rename_modules, verilog_modules
from actc.verification import verify

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EVO = FIXTURES / "evoapproxlib"

# EvoApproxLib's published metrics (the README of each circuit's folder), in %
PUBLISHED = {"mul8s_1KR3": {"mae_percent": 3.08, "wce_percent": 12.30, "ep_percent": 98.05,
                            "mre_percent": 135.77},
             "mul8u_QKX": {"mae_percent": 5.09, "wce_percent": 49.23, "ep_percent": 97.47,
                           "mre_percent": 21.95}}


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "actc", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def matches_published(metrics, circuit):
    for key, value in PUBLISHED[circuit].items():  # published to two decimals
        assert round(metrics[key], 2) == pytest.approx(value, abs=0.006), key


# --- the top module -------------------------------------------------------------------------

def test_signed_evoapproxlib_verilog_with_helper_cells_just_imports(tmp_path):
    code, out, err = run("mac", "import", EVO / "mul8s_1KR3.v", "--bits", "8", "-o", tmp_path)
    assert code == 0 and err == "", err
    lines = out.splitlines()
    assert lines[0].startswith("mul8s_1KR3_imported: table:mul8s_1KR3.v, 8x8-bit signed; "
                               "MRE 135.8 %")
    assert lines[1] == ("  top module mul8s_1KR3: the module no other instantiates (also in "
                        "the file: PDKGENHAX1, PDKGENFAX1); emitted as "
                        "mul8s_1KR3_imported__mul8s_1KR3")
    assert lines[2] == ("  read as signed (two's complement), closer to a * b: MRE 135.8 % "
                        "read signed, 422.4 % unsigned; --unsigned reads it unsigned")
    m = json.loads((tmp_path / "mul8s_1KR3_imported.json").read_text())
    matches_published(m["metrics"], "mul8s_1KR3")
    source = m["parameters"]["source"]
    assert source["circuit_module"] == "mul8s_1KR3" and source["signedness"]["by"] == "detected"
    assert verify(tmp_path / "mul8s_1KR3_imported.json").ok


@pytest.mark.parametrize("circuit", ["mul8s_1KR3", "mul8u_QKX"])
def test_verilog_and_c_models_give_the_published_metrics_and_one_table(circuit):
    v = import_circuit(EVO / f"{circuit}.v", bits=8, target="python")
    c = import_circuit(EVO / f"{circuit}.c", bits=8, target="python")
    matches_published(v.error, circuit)
    assert v.unit.multiplier.signed == c.unit.multiplier.signed == circuit.startswith("mul8s")
    assert np.array_equal(v.unit.multiplier.table(), c.unit.multiplier.table())


TOPS = [
    # (Verilog text, file stem, expected top or error)
    ("module h(input a, output y); assign y = a; endmodule\n"
     "module m(input [3:0] A, input [3:0] B, output [7:0] O); h u(.a(A[0]), .y()); "
     "assign O = A * B; endmodule\n", "x", "m"),
    ("module tb; m dut(); endmodule\n"  # a testbench in the file: no ports, left out
     "module m(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A * B; endmodule\n",
     "x", "m"),
    ("module other(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A; endmodule\n"
     "module mymul(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A * B; endmodule\n",
     "mymul", "mymul"),
    ("module p(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A; endmodule\n"
     "module q(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A * B; endmodule\n",
     "x", "the file has 2 modules and no single top (p, q could be): name one with --module"),
    ("/* module fake(input a); endmodule */\n// module fake2\n"
     "module m(input [3:0] A, input [3:0] B, output [7:0] O); assign O = A * B; endmodule\n",
     "x", "m"),
]


@pytest.mark.parametrize("text, stem, expected", TOPS)
def test_top_module_as_yosys_auto_top(text, stem, expected):
    modules = verilog_modules(text)
    if expected.startswith("the file"):
        with pytest.raises(ActcError) as e:
            find_top(text, modules, stem, None)
        assert str(e.value) == expected
    else:
        assert find_top(text, modules, stem, None)[0] == expected


def test_renaming_touches_identifiers_only():
    text = ('module m(input [3:0] A, output [7:0] O); // m is here\n'
            '  h m_h (.a(A)); initial $display("m %m"); wire [7:0] h = 8\'hm0;\nendmodule\n')
    out = rename_modules(text, {"m": "u__m", "h": "u__h"})
    assert out == ('module u__m(input [3:0] A, output [7:0] O); // m is here\n'
                   '  u__h m_h (.a(A)); initial $display("m %m"); wire [7:0] u__h = 8\'hm0;\n'
                   'endmodule\n')


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mul8s_1KR3", "PDKGENHAX1", "PDKGENFAX1"])
def test_a_unit_named_like_a_module_of_the_circuit_verifies(tmp_path, name):
    code, out, err = run("mac", "import", EVO / "mul8s_1KR3.v", "--bits", "8", "--name", name,
                         "--target", "verilog", "-o", tmp_path)
    assert code == 0, err
    report = verify(tmp_path / f"{name}.json")
    assert report.ok, report.table()
    text = (tmp_path / f"{name}.v").read_text()
    assert text.count(f"module {name} ") + text.count(f"module {name}(") == 1


def test_two_imported_circuits_with_the_same_helper_cells_share_one_design(tmp_path):
    """Both files define PDKGENHAX1 in the circuit; renamed per unit, they compile together."""
    for name in ("first", "second"):
        r = import_circuit(EVO / "mul8s_1KR3.v", bits=8, target="verilog", name=name)
        r.write(tmp_path)
    top = tmp_path / "both.v"
    top.write_text("module both(input [7:0] a, input [7:0] b, output [15:0] y1, output [15:0] y2);"
                   "\n  first u1(.a(a), .b(b), .y(y1));\n  second u2(.a(a), .b(b), .y(y2));\n"
                   "endmodule\n")
    p = subprocess.run(["iverilog", "-g2005", "-o", tmp_path / "sim", "-s", "both", top,
                        tmp_path / "first.v", tmp_path / "second.v"], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr


def test_a_table_recompiled_under_another_name_renames_its_modules(tmp_path):
    r = import_circuit(EVO / "mul8s_1KR3.v", bits=8, target="verilog")
    r.write(tmp_path)
    again = compile_mac(str(tmp_path / "mul8s_1KR3_imported.json"), name="mac4", lanes=4,
                        target="verilog")
    source = again.unit.multiplier.family.source
    assert source["module"] == "mac4__mul8s_1KR3"
    assert source["renamed"] == {"mul8s_1KR3": "mac4__mul8s_1KR3",
                                 "PDKGENHAX1": "mac4__PDKGENHAX1",
                                 "PDKGENFAX1": "mac4__PDKGENFAX1"}
    again.write(tmp_path)
    assert verify(tmp_path / "mac4.json").ok


# --- signedness ---------------------------------------------------------------------------

def test_a_given_signedness_that_reads_far_worse_is_warned(tmp_path):
    code, out, err = run("mac", "import", EVO / "mul8s_1KR3.v", "--bits", "8", "--unsigned",
                         "--target", "python", "-o", tmp_path)
    assert code == 0
    assert err == ("actc: warning: read as unsigned as asked, but the circuit looks signed: "
                   "MRE 135.8 % read signed, 422.4 % unsigned; did you mean --signed?\n")
    assert "8x8-bit unsigned; MRE 422.4 %" in out
    code, out, err = run("mac", "import", EVO / "mul8u_QKX.c", "--bits", "8", "--signed",
                         "--target", "python", "-o", tmp_path)
    assert code == 0 and "looks unsigned" in err and "did you mean --unsigned?" in err


def test_an_unsigned_circuit_stays_unsigned_without_a_note(tmp_path):
    code, out, err = run("mac", "import", EVO / "mul8u_QKX.v", "--bits", "8", "--target",
                         "python", "-o", tmp_path)
    assert code == 0 and err == ""
    assert out.splitlines()[1:] == [
        "  top module mul8u_QKX: the file's only module; emitted as mul8u_QKX_imported__mul8u_QKX",
        f"  wrote {tmp_path / 'mul8u_QKX_imported.py'}",
        f"  wrote {tmp_path / 'mul8u_QKX_imported.json'}"]


def test_signed_c_model_called_with_signed_values():
    """Detected signed, a C model runs again with negative operands (its int8_t parameters
    would wrap the same way, but a model on int would not)."""
    src = FIXTURES / "loa_mul_signed.c"
    r = import_circuit(src, bits=8, target="python")
    m = r.unit.multiplier
    a = m.operands("a")[:, None]
    b = m.operands("b")[None, :]
    assert m.signed and np.array_equal(m.table(), (a * b) & ~1)


# --- product tables -----------------------------------------------------------------------

def test_multiplier_table_reads_a_manifest_from_a_mixed_case_path(tmp_path):
    d = tmp_path / "Imported Circuits"
    code, _, err = run("mac", "import", EVO / "mul8u_QKX.c", "--bits", "8", "--target", "python",
                       "-o", d)
    assert code == 0, err
    for spec in (f"table:{d}/mul8u_QKX_imported.json", f"{d}/mul8u_QKX_imported.json"):
        out = tmp_path / "Out"
        code, stdout, err = run("mac", "compile", "--multiplier", spec, "--lanes", "4",
                                "--accumulate", "--name", "qkx4", "-o", out)
        assert code == 0, err
        assert stdout.startswith("qkx4: table:mul8u_QKX.c, 8x8-bit unsigned, 4 lanes sharing a, "
                                 "32-bit accumulator; MRE 21.95 %")
        assert verify(out / "qkx4.json").ok


def test_multiplier_table_reads_a_npy_product_table(tmp_path):
    a = np.arange(-8, 8)[:, None]
    b = np.arange(-8, 8)[None, :]
    products = (a * b) >> 1 << 1  # the lowest bit dropped
    np.save(tmp_path / "Drop1.npy", products.astype(np.int16))
    r = compile_mac(f"table:{tmp_path}/Drop1.npy", signed=True, target="all")
    assert r.unit.name == "Drop1" and r.unit.multiplier.a_bits == 4
    assert np.array_equal(r.unit.multiplier.table(), products)
    r.write(tmp_path / "out")
    assert verify(tmp_path / "out" / "Drop1.json").ok


@pytest.mark.parametrize("spec, kwargs, error, message", [
    ("table", {}, SemanticError, "--multiplier 'table': a product table is read from a file: "
                                 "table:PATH, PATH a MAC manifest"),
    ("table:mul.v", {}, SemanticError, "--multiplier 'table:mul.v': a product table is read from "
                                       "a MAC manifest (.json) or a .npy array, not 'mul.v'"),
    ("table:{d}/none.json", {}, ActcError, "manifest '{d}/none.json' not found"),
    ("table:{d}/t.npy", {"bits": 8}, FormatError, "--multiplier '{d}/t.npy' is 4x4-bit: operand a "
                                                  "cannot be 8 bits (leave the widths out)"),
    ("table:{d}/neg.npy", {}, ActcError, "product table '{d}/neg.npy': entry [0][1] = -1 is "
                                         "outside the 8-bit unsigned product (a signed table? "
                                         "give --signed)"),
    ("table:{d}/odd.npy", {}, ActcError, "product table '{d}/odd.npy': shape (16, 10) is not "
                                         "(2^a_bits, 2^b_bits)"),
    ("table:{d}/float.npy", {}, ActcError, "product table '{d}/float.npy': want a 2-D integer "
                                           "array, got dtype float64"),
    ("table:{d}/junk.npy", {}, ActcError, "cannot read product table '{d}/junk.npy': not a .npy "
                                          "array"),
    ("table:{d}/lib.json", {"signed": True}, FormatError, "--multiplier '{d}/lib.json' is "
                                                          "unsigned: it cannot be read signed"),
])
def test_bad_tables_are_refused(tmp_path, spec, kwargs, error, message):
    d = tmp_path
    np.save(d / "t.npy", np.zeros((16, 16), dtype=np.int64))
    neg = np.zeros((16, 16), dtype=np.int64)
    neg[0, 1] = -1
    np.save(d / "neg.npy", neg)
    np.save(d / "odd.npy", np.zeros((16, 10), dtype=np.int64))
    np.save(d / "float.npy", np.zeros((16, 16)))
    (d / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    compile_mac("drum:3", bits=4, target="python", name="lib").write(d)
    with pytest.raises(error) as e:
        make_multiplier(spec.format(d=d), **kwargs)
    assert str(e.value).startswith(message.format(d=d))


def test_mac_compile_table_bad_input_one_line(tmp_path):
    code, out, err = run("mac", "compile", "--multiplier", "table", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "o").exists()
    assert err.startswith("actc: error: --multiplier 'table': a product table is read from a "
                          "file: table:PATH")


# --- cost ---------------------------------------------------------------------------------

C4 = """/* a 4 x 4-bit multiplier with its lowest product bit dropped */
int mul4(int a, int b) { return (a * b) & ~1; }
"""


def test_cost_of_a_c_import_says_it_is_the_table_and_shows_the_exact_multiplier(tmp_path):
    (tmp_path / "mul4.c").write_text(C4)
    code, _, err = run("mac", "import", tmp_path / "mul4.c", "--bits", "4", "--target",
                       "verilog", "-o", tmp_path / "o")
    assert code == 0, err
    code, out, err = run("cost", tmp_path / "o" / "mul4_imported.json")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["family", "luts", "ffs", "carry", "muxes", "dsp", "bram",
                                "depth"]
    assert lines[1].startswith("xilinx ") and lines[2].startswith("  exact ")
    assert lines[2].endswith("(exact, 4x4-bit unsigned)")
    assert lines[3] == ("note: the Verilog is the product table as a ROM of 256 8-bit entries "
                        "(imported from C, mul4.c): the table's cost, not the circuit's; import "
                        "the circuit's Verilog (actc mac import FILE.v) for its own cost")
    cost = json.loads((tmp_path / "o" / "mul4_imported.json").read_text())["cost"]["xilinx"]
    assert cost["exact"]["luts"] > 0 and cost["implementation"].startswith("the product table")
    assert int(lines[2].split()[1]) == cost["exact"]["luts"]
    # verify recomputes the cost claim, the exact multiplier beside it included
    manifest = tmp_path / "o" / "mul4_imported.json"
    assert verify(manifest).ok
    data = json.loads(manifest.read_text())
    data["cost"]["xilinx"]["exact"]["luts"] += 1
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    report = verify(manifest)
    assert not report.ok
    assert "cost.xilinx.exact.luts" in report.table()


def test_cost_timeout(tmp_path):
    compile_mac("exact", bits=12, target="verilog").write(tmp_path)
    code, out, err = run("cost", tmp_path / "exact.json", "--timeout", "0.5")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("actc: error: yosys stopped at the 0.5 s time limit on exact.v "
                          "(xilinx); --timeout raises the limit")


def test_included_files_are_expanded_so_the_emitted_verilog_stands_alone(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "shift.vh").write_text("localparam K = 2;\n")
    (src / "mul.v").write_text('module mul (input [7:0] A, input [7:0] B, output [15:0] O);\n'
                               '`include "shift.vh"\n    assign O = (A * B) >> K << K;\n'
                               'endmodule\n')
    r = import_circuit(src / "mul.v", bits=8, target="verilog")
    assert r.error["ep_percent"] == 50.0  # a * b is a multiple of 4 for half the pairs
    out = tmp_path / "out"
    r.write(out)
    text = (out / "mul_imported.v").read_text()
    assert "`include" not in text and "localparam K = 2;" in text
    assert verify(out / "mul_imported.json").ok
