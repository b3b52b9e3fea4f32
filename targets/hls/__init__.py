"""HLS C++ for Vitis HLS and Vivado HLS, and for hls4ml's C simulation: ``NAME.h`` with ap
types (docs/reference/hls.md). Checked by compiling a C-simulation harness with g++ under strict
warnings against the ap_types headers, and running it on every input code through the array
(hls4ml io_parallel) form, the stream (io_stream) form and the scalar form.

The ap_types headers come from ``ACTC_AP_TYPES`` (a directory holding ap_fixed.h, ap_int.h
and hls_stream.h), else hls4ml's installed copy (``pip install 'actc[hls4ml]'``), else
``$XILINX_HLS/include``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from actc.errors import ToolError
from actc.unit import InputSpace, Unit

from ..base import Renderer, Target
from ..c import C_KEYWORDS
from . import activation

__all__ = ["AP_TYPES_MACROS", "HLS_FLAGS", "HLS_RESERVED", "HlsTarget", "ap_types_dir",
           "compile_and_run"]

# What the emitted C++ compiles clean under (docs/reference/hls.md). -O0: with optimisation,
# g++ 12 reports -Wuninitialized inside the ap_types headers' own default constructors
# (ap_private.h reads VAL in clearUnusedBits) in any program that uses them; the ap_types
# directory is a system include (-isystem) for the same reason. -ffp-contract=off: the float
# datapath's multiply and add are rounded one by one (docs/reference/formats.md: Float inputs).
HLS_FLAGS = ["-std=c++14", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-O0",
             "-ffp-contract=off"]

# Names the header cannot take: C++ keywords, the namespaces and types an HLS project has
# in scope (hls4ml's nnet, hls, std, the ap types); names starting ap_ or AP_ are refused too
# (the ap_types headers define AP_TRN, AP_SAT, ... at global scope).
# Macros that stay defined once ap_fixed.h, ap_int.h and hls_stream.h are included (hls4ml's
# copy, g++ 12, glibc; `g++ -dM -E`), which a design name would be expanded into: the ap_types
# headers' own ones without an AP_ prefix, and the lowercase ones of the C library headers
# they pull in. (Uppercase C library macros, EINVAL and the like, are left to the compiler.)
AP_TYPES_MACROS = frozenset("""
INLINE BIAS BIT_WIDTH_UPPER_LIMIT MAX_MODE DOUBLE_BIAS DOUBLE_EXP DOUBLE_MAN DOUBLE_CMP_AF
FLOAT_BIAS FLOAT_EXP FLOAT_MAN HALF_BIAS HALF_EXP HALF_MAN APFX_IEEE_DOUBLE_E_MAX
APFX_IEEE_DOUBLE_E_MIN AF_REF_REL_OP_WITH_AP_INT AF_REF_REL_OP_WITH_INT ALL_OP_REL_WITH_INT
ALL_OP_WITH_FLOAT CONCAT_SHIFT_WITH_INT OP_ASSIGN_AF OP_BIN_AF OP_BIN_AP OP_BIN_AP2
OP_BIN_WITH_FLOAT OP_BIN_WITH_PTR OP_CMP_AF REF_BIN_OP REF_BIN_OP_WITH_INT SC_BIN SC_DEC SC_HEX
SC_OCT SC_RND SC_RND_CONV SC_RND_INF SC_RND_MIN_INF SC_RND_ZERO SC_SAT SC_SAT_SYM SC_SAT_ZERO
SC_TRN SC_TRN_ZERO SC_WRAP SC_WRAP_SM X_HLS_STREAM_SIM_H LLVM_SUPPORT_MATHEXTRAS_H
alloca assert assert_perror errno offsetof issubnormal math_errhandling sched_priority strdupa
strndupa be16toh be32toh be64toh htobe16 htobe32 htobe64 htole16 htole32 htole64 le16toh
le32toh le64toh
""".split())
HLS_RESERVED = C_KEYWORDS | AP_TYPES_MACROS | frozenset({"nnet", "hls", "std", "half"})

_AP_TYPES_HELP = ("--target hls needs the ap_types headers (ap_fixed.h, ap_int.h) and "
                  "hls_stream.h: pip install 'actc[hls4ml]' (hls4ml ships them), or set "
                  "ACTC_AP_TYPES to a directory holding them (Vitis HLS: $XILINX_HLS/include)")


def ap_types_dir() -> Path:
    """The directory holding ap_fixed.h, ap_int.h and hls_stream.h: ``$ACTC_AP_TYPES``, else
    hls4ml's installed ``templates/vivado/ap_types``, else ``$XILINX_HLS/include``;
    ToolError when none has them."""
    env = os.environ.get("ACTC_AP_TYPES")
    if env:
        p = Path(env)
        if not _has_headers(p):
            raise ToolError(f"ACTC_AP_TYPES={env}: no {' and '.join(_HEADERS)} there; "
                            f"{_AP_TYPES_HELP}")
        return p
    spec = importlib.util.find_spec("hls4ml")
    if spec is not None and spec.origin:
        p = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
        if _has_headers(p):
            return p
    xilinx = os.environ.get("XILINX_HLS")
    if xilinx and _has_headers(Path(xilinx) / "include"):
        return Path(xilinx) / "include"
    raise ToolError(_AP_TYPES_HELP)


# What the check compiles against: the ap types, and hls::stream for the stream form.
_HEADERS = ("ap_fixed.h", "ap_int.h", "hls_stream.h")


def _has_headers(p: Path) -> bool:
    return all((p / h).is_file() for h in _HEADERS)


def cxx_compiler() -> str:
    for cxx in ("g++", "clang++"):
        if shutil.which(cxx):
            return cxx
    raise ToolError("no C++ compiler found: install g++ (apt-get install g++)")


class HlsTarget(Target):
    name: ClassVar[str] = "hls"
    title: ClassVar[str] = "HLS C++ header (Vitis/Vivado HLS, hls4ml)"
    kinds: ClassVar[dict[str, ModuleType]] = {"activation": activation}
    reserved: ClassVar[frozenset[str]] = HLS_RESERVED
    in_all: ClassVar[bool] = False

    def tool(self) -> str:
        ap_types_dir()
        return f"{cxx_compiler()} (C sim)"

    def name_problem(self, name: str) -> str | None:
        if name.lower().startswith("ap_"):
            return f"--name {name!r}: names starting ap_ belong to the ap_types headers"
        return super().name_problem(name)

    def accepts(self, kind: str, formats: list[Any], cores: tuple[type, ...],
                options: Any) -> str | None:
        if kind not in self.kinds:
            return (f"--target hls emits activation units only, not {kind} units: use "
                    "--target verilog, c or python")
        return super().accepts(kind, formats, cores, options)

    def run(self, directory: Path, unit: Unit, space: InputSpace,
            options: Any) -> dict[str, np.ndarray]:
        return compile_and_run((directory / f"{unit.name}.h").resolve(), unit, space)


_render = Renderer("hls")

# Values per call of the array form in the harness: odd, so the last call is partial.
_BATCH = 7


def compile_and_run(header: Path, unit: Unit, space: InputSpace,
                    flags: list[str] | None = None) -> dict[str, np.ndarray]:
    """Compile a C-simulation harness including the header with g++ (``HLS_FLAGS`` and the
    ap_types headers), run it on every vector of ``space`` through the array form
    ``NAME_activation`` (hls4ml's signature), check the stream and scalar forms agree, and
    return the outputs per output port."""
    from actc.formats import NumberFormat

    cxx = cxx_compiler()
    ap = ap_types_dir()
    fi, fo = unit.inputs[0].format, unit.outputs[0].format

    def code_type(f: Any) -> str:  # an ap_int/ap_uint of the code (a 16-bit float's pattern)
        return f"ap_{'int' if isinstance(f, NumberFormat) and f.signed else 'uint'}<{f.bits}>"

    source = _render("common/harness.cpp.j2", header=header, name=unit.name, batch=_BATCH,
                     marker=activation.design_marker(unit.name),
                     in_t=code_type(fi), out_t=code_type(fo),
                     in_float=fi.is_float and fi.bits == 32,
                     out_float=fo.is_float and fo.bits == 32)
    with tempfile.TemporaryDirectory(prefix="actc-hls-") as tmp:
        t = Path(tmp)
        (t / "harness.cpp").write_text(source)
        exe = t / "harness"
        cmd = [cxx, *(flags or HLS_FLAGS), "-isystem", str(ap), "-o", str(exe),
               str(t / "harness.cpp")]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"{cxx} failed on {header.name}:\n{(p.stdout + p.stderr)[-3000:]}")
        inp = t / "vectors.txt"
        inp.write_text("".join(f"{v}\n" for v in space.vectors["x"].tolist()))
        p = subprocess.run([str(exe), str(inp)], capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"the HLS harness for {header.name} failed: {p.stderr[-2000:]}")
        out = np.array(p.stdout.split(), dtype=np.int64)
    return {unit.outputs[0].name: out}
