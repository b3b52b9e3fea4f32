"""The emitted C as firmware: every method at 8 and 16 bits cross-compiled for Cortex-M0 and
Cortex-M4 (arm-none-eabi-gcc -Os, the strict warning flags) and run on every input code under
qemu-system-arm (microbit, mps2-an386) against the evaluator; no 64-bit runtime helper in
any object (arm-none-eabi-nm); storage.c_bytes equal to the tables' bytes that
arm-none-eabi-size reports; tables in AVR program memory; layouts, guards and macros."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import actc
from actc.activation.evaluate import evaluate
from actc.targets.c import C_FLAGS, compile_and_run
from actc.targets.python import load_module
from actc.unit import InputSpace

from .firmware import (
    BOARDS,
    HELPER_64,
    PROBES,
    STRICT,
    Design,
    build_image,
    outputs,
    run,
    run_image,
    section_sizes,
    undefined_symbols,
)

pytestmark = pytest.mark.xdist_group("firmware")

# (name, expression, options, layout): every method at 8 and 16 bits, folded or not, the
# 32-bit split interpolation (16-bit geba and optimal), affine and unsigned formats, a float
# input (soft float on the M0), both layouts
FIRMWARE = [
    ("fw_sig8_table", "sigmoid(x)", dict(bits=8), "header"),
    ("fw_tanh8_uniform", "tanh(x)", dict(bits=8, method="uniform", entries=32), "split"),
    ("fw_gelu8_interp", "gelu(x)",
     dict(bits=8, method="uniform", entries=16, interpolate=True), "header"),
    ("fw_tanh8_geba", "tanh(x)", dict(bits=8, method="geba", entries=12), "split"),
    ("fw_silu8_optimal", "silu(x)", dict(bits=8, method="optimal", entries=8), "header"),
    ("fw_gelu8_grau", "gelu(x)", dict(bits=8, method="grau", slopes="apot2"), "split"),
    ("fw_sig8_thr", "sigmoid(x)",
     dict(in_format="s8:0.0625:0", out_format="s8:0.00390625:-128", method="threshold"),
     "header"),
    ("fw_tanh16_table", "tanh(x)", dict(in_format="s16.12", out_format="s16.15"), "header"),
    ("fw_sig16_uniform", "sigmoid(x)",
     dict(in_format="s16.12", out_format="u16.16", method="uniform", entries=1024), "split"),
    ("fw_tanh16_interp", "tanh(x)", dict(in_format="s16.12", out_format="s16.15",
                                         method="uniform", entries=256, interpolate=True),
     "header"),
    ("fw_tanh16_geba", "tanh(x)", dict(bits=16, method="geba"), "split"),
    ("fw_exp16_optimal", "exp(x)", dict(bits=16, method="optimal"), "header"),
    ("fw_sig16_grau", "sigmoid(x)",
     dict(in_format="s16.12", out_format="u16.16", method="grau", slopes="apot2"), "split"),
    ("fw_tanh16_thr", "tanh(x)",
     dict(in_format="s16.12", out_format="s8.7", method="threshold"), "header"),
    ("fw_swish16_u", "swish(x)", dict(in_format="u16.12", out_format="u16.12",
                                      method="uniform", entries=256, interpolate=True), "split"),
    ("fw_tanh_fp16", "tanh(x)", dict(in_format="fp16", method="geba", entries=32), "header"),
]


@pytest.fixture(scope="module")
def designs(tmp_path_factory) -> dict[str, tuple[Design, dict]]:
    """Every firmware design compiled (C and Python) and written, with its manifest."""
    out = {}
    for name, expr, opts, layout in FIRMWARE:
        d = tmp_path_factory.mktemp(name)
        r = actc.compile(expr, target=["c", "python"], name=name, c_layout=layout, **opts)
        r.write(d)
        out[name] = (Design(d, name, r.unit, layout), r.manifest)
    return out


@pytest.fixture(scope="module")
def images(designs, tmp_path_factory):
    """One firmware image per board with every design, run once under qemu."""
    built = {}
    for board in BOARDS:
        work = tmp_path_factory.mktemp(f"fw_{board}")
        image = build_image([d for d, _ in designs.values()], board, work)
        console = run_image(image, work)
        built[board] = (image, work, console)
    return built


@pytest.mark.parametrize("board", list(BOARDS))
def test_every_code_on_the_microcontroller_matches_the_evaluator(designs, images, board):
    image, work, _ = images[board]
    for name, (d, _) in designs.items():
        codes = d.codes()
        got, probes = outputs(d, work)
        assert len(got) == len(codes), name
        mismatch = np.flatnonzero(got != evaluate(d.unit, codes))
        assert mismatch.size == 0, f"{name} on {board}: first mismatch at code {codes[mismatch[0]]}"
        if not d.float_input:  # the documented clamp, as the Python reference does it
            f = d.unit.in_format
            clamped = evaluate(d.unit, np.clip(PROBES, f.code_min, f.code_max))
            reference = load_module(d.directory / f"{name}.py").evaluate(np.array(PROBES))
            assert np.array_equal(probes, clamped) and np.array_equal(reference, clamped), name


@pytest.mark.parametrize("board", list(BOARDS))
def test_no_64bit_runtime_helper(designs, images, board):
    image, _, _ = images[board]
    for name, objs in image.objects.items():
        for obj in objs:
            helpers = [s for s in undefined_symbols(obj) if HELPER_64.match(s)]
            assert helpers == [], f"{name} ({obj.name}) on {board} calls {helpers}"


def test_the_helper_check_sees_64bit_arithmetic(tmp_path):
    """The nm check is not vacuous: 64-bit multiplies and shifts do call helpers on the M0."""
    src = tmp_path / "wide.c"
    src.write_text("#include <stdint.h>\nint64_t f(int64_t a, int64_t b, unsigned s);\n"
                   "int64_t f(int64_t a, int64_t b, unsigned s) { return (a * b) >> s; }\n")
    run(["arm-none-eabi-gcc", *BOARDS["m0"].flags, *STRICT, "-Os", "-c", "-o",
         str(tmp_path / "wide.o"), str(src)])
    found = {s for s in undefined_symbols(tmp_path / "wide.o") if HELPER_64.match(s)}
    assert {"__aeabi_lmul", "__aeabi_lasr"} <= found


def test_storage_c_bytes_is_what_the_image_holds(designs, images):
    """storage.c_bytes equals the .rodata of the design's objects (arm-none-eabi-size -A;
    the runner has no constant data of its own), on both cores."""
    for board, (image, _, _) in images.items():
        for name, objs in image.objects.items():
            rodata = sum(size for obj in objs for sec, size in section_sizes(obj).items()
                         if sec.startswith(".rodata"))
            assert rodata == designs[name][1]["storage"]["c_bytes"], (name, board)


AVR = ["avr-gcc", "-mmcu=atmega2560", "-Os", *STRICT, "-fdata-sections"]


@pytest.mark.parametrize("name", ["fw_sig8_table", "fw_tanh8_geba", "fw_gelu8_grau",
                                  "fw_sig8_thr", "fw_tanh16_geba", "fw_exp16_optimal",
                                  "fw_tanh_fp16"])
def test_avr_keeps_tables_in_program_memory(designs, tmp_path, name):
    """On AVR (16-bit int, Harvard) the C builds clean and every table lands in
    .progmem.data, none in .data or .rodata (which AVR copies to RAM)."""
    d, manifest = designs[name]
    src = tmp_path / "use.c"
    in_t, out_t = d.types
    src.write_text(f'#include <stddef.h>\n#include "{d.directory / name}.h"\n'
                   f"void use({in_t} *x, {out_t} *y, size_t n);\n"
                   f"void use({in_t} *x, {out_t} *y, size_t n) {{ {name}_array(x, y, n); }}\n")
    objs = [tmp_path / "use.o"]
    run([*AVR, "-c", "-o", str(objs[0]), str(src)])
    if d.layout == "split":
        objs.append(tmp_path / f"{name}.o")
        run([*AVR, "-c", "-o", str(objs[1]), str(d.directory / f"{name}.c")])
    sizes: dict[str, int] = {}
    for obj in objs:
        for sec, size in section_sizes(obj, "avr-size").items():
            key = ".progmem" if sec.startswith(".progmem") else sec.split(".", 2)[1]
            sizes[key] = sizes.get(key, 0) + size
    assert sizes.get("data", 0) == 0 and sizes.get("rodata", 0) == 0, sizes
    assert sizes[".progmem"] == manifest["storage"]["c_bytes"]


def test_split_layout_holds_one_copy_of_the_tables(designs, tmp_path):
    """Two translation units calling a split design share its tables; with the header
    layout each has its own (docs/reference/firmware.md)."""
    d, manifest = designs["fw_tanh16_geba"]
    b = BOARDS["m4"]
    objs = []
    for k in range(2):
        src = tmp_path / f"user{k}.c"
        src.write_text(f'#include "{d.directory}/fw_tanh16_geba.h"\nint16_t user{k}(int32_t x);\n'
                       f"int16_t user{k}(int32_t x) {{ return fw_tanh16_geba(x); }}\n")
        objs.append(str(tmp_path / f"user{k}.o"))
        run(["arm-none-eabi-gcc", *b.flags, *STRICT, "-Os", "-c", "-o", objs[-1], str(src)])
    objs.append(str(tmp_path / "design.o"))
    run(["arm-none-eabi-gcc", *b.flags, *STRICT, "-Os", "-c", "-o", objs[-1],
         str(d.directory / "fw_tanh16_geba.c")])
    elf = tmp_path / "two.elf"
    run(["arm-none-eabi-gcc", *b.flags, "-nostdlib", "-Wl,-r", "-o", str(elf), *objs])
    tables = [line for line in run(["arm-none-eabi-nm", str(elf)]).splitlines()
              if "_lut" in line]
    assert len(tables) == 4  # P, X, Y, DY once each
    rodata = sum(s for sec, s in section_sizes(elf).items() if sec.startswith(".rodata"))
    assert rodata == manifest["storage"]["c_bytes"]


def _compile(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    src = tmp_path / "t.c"
    src.write_text(text)
    return subprocess.run(["cc", *C_FLAGS, "-c", "-o", str(tmp_path / "t.o"), str(src)],
                          capture_output=True, text=True)


def test_two_designs_with_one_name_are_a_compile_error(tmp_path):
    """Guards are unique per design; a second design of the same name stops the build with
    a message that says so; the same header twice is fine."""
    for bits in (8, 16):
        actc.compile("sigmoid(x)", target="c", bits=bits, method="uniform",
                     entries=16).write(tmp_path / f"def{bits}")
    h8, h16 = (tmp_path / f"def{b}" / "sigmoid.h" for b in (8, 16))
    guards = {h.read_text().split("#ifndef ", 1)[1].split()[0] for h in (h8, h16)}
    assert len(guards) == 2 and all(g.startswith("ACTC_SIGMOID_") for g in guards)
    same = _compile(tmp_path, f'#include "{h8}"\n#include "{h8}"\nint f(void);\n'
                              "int f(void) { return sigmoid(0); }\n")
    assert same.returncode == 0, same.stderr
    both = _compile(tmp_path, f'#include "{h8}"\n#include "{h16}"\n')
    assert both.returncode != 0
    assert ("sigmoid.h: another design named sigmoid is already included; compile one with "
            "another --name") in both.stderr


def test_format_macros(tmp_path):
    r = actc.compile("elu(x)", target="c", in_format="s8:0.0625:3", out_format="u8:0.03125:64",
                     name="elu_q")
    r.write(tmp_path)
    src = tmp_path / "m.c"
    src.write_text(f'#include <stdio.h>\n#include "{tmp_path}/elu_q.h"\n'
                   "int main(void) {\n" + "".join(
                       f'    printf("%.17g %.17g %d %d %d %d\\n", (double)ELU_Q_{p}_SCALE, '
                       f"(double)ELU_Q_{p}_ZERO_POINT, ELU_Q_{p}_BITS, ELU_Q_{p}_SIGNED, "
                       f"(int)ELU_Q_{p}_MIN, (int)ELU_Q_{p}_MAX);\n" for p in ("IN", "OUT"))
                   + "    return 0;\n}\n")
    run(["cc", *C_FLAGS, "-o", str(tmp_path / "m"), str(src)])
    lines = run([str(tmp_path / "m")]).split("\n")
    assert lines[0] == "0.0625 3 8 1 -128 127"
    assert lines[1] == "0.03125 64 8 0 0 255"


@pytest.mark.parametrize("layout, fi", [("header", "s12.9"), ("split", "s12.9"),
                                        ("header", "u20.16")])
def test_out_of_range_codes_clamp_alike_in_c_and_python(tmp_path, layout, fi):
    """The documented clamp on the host too, for formats narrower than their C type (a u20
    input's scalar call takes int64_t, so every uint32_t array element clamps too)."""
    r = actc.compile("tanh(x)", target=["c", "python"], in_format=fi, out_format="s12.11",
                     method="uniform", entries=32, interpolate=True, name="tanh12",
                     c_layout=layout)
    r.write(tmp_path)
    f = r.unit.in_format
    codes = np.array([-(2**31), -(2**20), -2049, -2048, -1, 0, 2047, 2048, 40000, 2**20,
                      2**31 - 1, 2**32 - 1])
    if layout == "split" or fi == "s12.9":
        codes = codes[codes < 2**31]  # the int32_t parameter
    sources = [tmp_path / "tanh12.c"] if layout == "split" else []
    got = compile_and_run(tmp_path / "tanh12.h", r.unit, InputSpace({"x": codes}, False, ""),
                          sources=sources)["y"]
    expected = evaluate(r.unit, np.clip(codes, f.code_min, f.code_max))
    assert np.array_equal(got, expected)
    assert np.array_equal(load_module(tmp_path / "tanh12.py").evaluate(codes), expected)
