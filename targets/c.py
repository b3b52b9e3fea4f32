"""C99: one header-only file, integer arithmetic, tables in flash."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np

from actc.errors import TargetError, ToolError
from actc.ir import Design, SegmentCore, ShiftAddCore, ThresholdCore, width_of

from .base import (
    EmitInfo,
    Renderer,
    Target,
    c_element,
    c_int_type,
    design_summary,
    rows,
    slope_rows,
)

__all__ = ["CTarget", "compile_and_run", "c_compiler"]

_render = Renderer("c")


def _segments_view(core: SegmentCore, name: str) -> dict:
    yw, ys = width_of(core.values)
    ctx: dict = {
        "uniform": core.uniform,
        "segments": core.segments,
        "shift": core.index_shift,
        "value_frac": core.value_frac,
        "slope_frac": core.slope_frac,
        "frac": core.frac,
        "slopes": core.slopes is not None,
        "y_t": c_int_type(yw, ys),
        "y_rows": rows(core.values, 12, c_element),
    }
    lo, hi = core.acc_range()
    if core.slopes is not None:
        dw, ds = width_of(core.slopes)
        ctx.update(dy_t=c_int_type(dw, ds), dy_rows=rows(core.slopes, 12, c_element))
    ctx["core_range"] = (lo, hi)
    return ctx


def _shiftadd_view(core: ShiftAddCore, name: str) -> dict:
    # acc_t must hold the bias, every term and every partial sum, not only the result
    terms = [max(abs(a) for a in core.term_range(i, g, r)) for i in range(core.segments)
             for g, r in core.segment_terms(i)]
    reach = max(abs(b) for b in core.biases) + core.terms * max(terms) + 1
    lo, hi = core.acc_range()
    return {
        "segments": core.segments,
        "terms": core.terms,
        "pre_shift": core.pre_shift,
        "frac": core.frac,
        "breakpoints": ", ".join(c_element(b) for b in core.breakpoints),
        "bp_t": c_int_type(core.in_bits, False),
        "bias_t": c_int_type(*width_of(core.biases)),
        "bias_rows": rows(core.biases, 8, c_element),
        "segment_rows": slope_rows(core),
        "core_range": (min(lo, -reach), max(hi, reach)),
    }


def _threshold_view(core: ThresholdCore, name: str) -> dict:
    lists = [{"name": key, "count": len(values), "rows": rows(values, 12, c_element)}
             for key, values in (("up", core.up), ("down", core.down)) if values]
    lo, hi = core.acc_range()
    return {
        "base": core.base,
        "lists": lists,
        "thr_t": c_int_type(core.in_bits, False),
        "core_range": (min(lo, core.base), max(hi, core.base)),
    }


_CORE_VIEWS = {
    SegmentCore: ("segments.h.j2", _segments_view),
    ShiftAddCore: ("shiftadd.h.j2", _shiftadd_view),
    ThresholdCore: ("threshold.h.j2", _threshold_view),
}


class CTarget(Target):
    name: ClassVar[str] = "c"

    def emit(self, design: Design, info: EmitInfo) -> dict[str, str]:
        template, view = _CORE_VIEWS[type(design.core)]
        fi, fo = design.in_format, design.out_format
        ctx = view(design.core, design.name)
        lo, hi = ctx.pop("core_range")
        if max(abs(lo), abs(hi)) >= 2**62:
            raise TargetError("the datapath needs more than 62 bits: C cannot hold it")
        wide = max(abs(lo), abs(hi), abs(fo.code_min), fo.code_max) >= 2**31 - 1
        acc_t, acc_ut = ("int64_t", "uint64_t") if wide else ("int32_t", "uint32_t")
        f = design.core.frac
        in_t = c_int_type(fi.bits, fi.signed)
        code_t = "int64_t" if fi.bits >= 32 or (not fi.signed and fi.bits >= 31) else "int32_t"
        type_bits = _type_bits(in_t)
        ctx.update(
            name=design.name,
            NAME=design.name.upper(),
            guard=f"ACTC_{design.name.upper()}_H",
            version=info.version,
            expression=info.expression,
            method=info.method,
            summary=design_summary(design),
            in_text=fi.text, in_scale=repr(fi.scale), in_zero=fi.zero_point,
            out_text=fo.text, out_scale=repr(fo.scale), out_zero=fo.zero_point,
            in_min=fi.code_min, in_max=fi.code_max, out_min=fo.code_min, out_max=fo.code_max,
            n=fi.bits, m=fo.bits,
            in_t=in_t, out_t=c_int_type(fo.bits, fo.signed), code_t=code_t,
            acc_t=acc_t, acc_ut=acc_ut,
            clamp_lo=fi.signed and fi.bits < type_bits,
            clamp_hi=fi.bits < type_bits,
            saturate=(lo >> f) < fo.code_min or (hi >> f) > fo.code_max,
            error_codes=info.error["codes"],
            error_max_lsb=info.error["max_lsb"],
            error_mean_lsb=info.error["mean_lsb"],
        )
        return {f"{design.name}.h": _render(template, **ctx)}

    def run(self, directory: Path, design: Design, files: list[str], codes: np.ndarray,
            expected: np.ndarray) -> np.ndarray:
        return compile_and_run((directory / f"{design.name}.h").resolve(), design, codes)


def _type_bits(ctype: str) -> int:
    return int("".join(ch for ch in ctype if ch.isdigit()))


def c_compiler() -> str:
    for cc in ("cc", "gcc", "clang"):
        if shutil.which(cc):
            return cc
    raise ToolError("no C compiler found: install gcc (apt-get install gcc)")


_HARNESS = """#include <stdio.h>
#include <stdlib.h>
#include "{header}"

int main(int argc, char **argv)
{{
    FILE *in = fopen(argv[1], "r");
    long long code;
    if (argc < 2 || in == NULL) return 2;
    while (fscanf(in, "%lld", &code) == 1) {{
        printf("%lld\\n", (long long){name}(({in_t})code));
    }}
    fclose(in);
    return 0;
}}
"""

C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-ffp-contract=off"]


def compile_and_run(header: Path, design: Design, codes: np.ndarray,
                    compiler: str | None = None, flags: list[str] | None = None) -> np.ndarray:
    """Compile a harness including the header with the system compiler (strict flags), run
    it on codes, return its outputs."""
    cc = compiler or c_compiler()
    fi = design.in_format
    with tempfile.TemporaryDirectory(prefix="actc-c-") as tmp:
        t = Path(tmp)
        src = t / "harness.c"
        src.write_text(_HARNESS.format(header=header.resolve(), name=design.name,
                                       in_t=c_int_type(fi.bits, fi.signed)))
        exe = t / "harness"
        cmd = [cc, *(flags or C_FLAGS), "-o", str(exe), str(src)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"{cc} failed on {header.name}:\n{(p.stdout + p.stderr)[-3000:]}")
        inp = t / "codes.txt"
        inp.write_text("\n".join(str(int(c)) for c in codes) + "\n")
        p = subprocess.run([str(exe), str(inp)], capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"the C harness for {header.name} failed: {p.stderr[-2000:]}")
        return np.array(p.stdout.split(), dtype=np.int64)
