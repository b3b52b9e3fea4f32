"""Views of an activation unit that several targets print: the header facts (all three), the
table and frame view of each core (the Python reference; the C target builds its own tables,
``targets/c/tables.py``, since it stores and reads them differently: narrowest types with a
bias, flash reads), and the float helpers both C and Python use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from actc.activation.ir import (
    ActivationUnit,
    FloatSegmentCore,
    Fold,
    SegmentCore,
    ShiftAddCore,
    ThresholdCore,
)
from actc.formats import NumberFormat

from .base import EmitInfo, rows

__all__ = ["activation_header", "column_header", "core_view", "fold_expression", "f32_hex",
           "frame_view"]

Literal = Callable[[int], str]


def activation_header(unit: ActivationUnit, info: EmitInfo) -> dict:
    """What every target prints in an activation's file header: names, provenance, formats,
    error, and the fixed-point formats' constants."""
    fi, fo = unit.in_format, unit.out_format
    ctx = {
        "name": unit.name,
        "NAME": unit.name.upper(),
        "version": info.version,
        "expression": info.provenance["expression"],
        "method": info.provenance["method"],
        "summary": unit.summary(),
        "in_text": fi.text,
        "out_text": fo.text,
        "n": fi.bits,
        "m": fo.bits,
        "error_codes": info.error["codes"],
        "error_max_lsb": info.error["max_lsb"],
        "error_mean_lsb": info.error["mean_lsb"],
    }
    for prefix, f in (("in", fi), ("out", fo)):
        if isinstance(f, NumberFormat):
            ctx.update({f"{prefix}_scale": repr(f.scale), f"{prefix}_zero": f.zero_point,
                        f"{prefix}_signed": f.signed, f"{prefix}_min": f.code_min,
                        f"{prefix}_max": f.code_max})
    return ctx


def fold_expression(fold: Fold, r: str = "r", e: str = "e", literal: Literal = str) -> str:
    """The mirrored half's result: sign*r + offset + slope*e, zero terms left out."""
    expr = r if fold.sign > 0 else f"-{r}"
    if fold.offset:
        expr += f" + {literal(fold.offset)}"
    if fold.slope:
        expr += f" + {e} * {literal(fold.slope)}"
    return expr


def frame_view(unit: ActivationUnit, literal: Literal) -> dict:
    """The integer frame around the core: fold (mirror expression, clamp of |e|) and
    saturation."""
    fold = unit.fold
    ctx: dict[str, Any] = {"fold": fold, "saturate": unit.saturates}
    if fold is not None:
        fi = unit.in_format
        expr = fold_expression(fold, literal=literal)
        top = max(fold.center - fi.code_min, fi.code_max - fold.center)
        ctx.update(mirror=expr, mirror_text=expr, clamp=top > fold.vmax)
    return ctx


def _segments(core: SegmentCore, literal: Literal) -> dict:
    ctx: dict[str, Any] = {
        "uniform": core.uniform,
        "segments": core.segments,
        "shift": core.index_shift,
        "value_frac": core.value_frac,
        "slope_frac": core.slope_frac,
        "frac": core.frac,
        "slopes": core.slopes is not None,
        "y_rows": rows(core.values, 12, literal),
    }
    if core.slopes is not None:
        ctx["dy_rows"] = rows(core.slopes, 12, literal)
    if core.breakpoints is not None:
        assert core.p_lut is not None
        ctx.update(p_shift=core.p_shift, steps=core.search_steps, p_count=len(core.p_lut),
                   p_rows=rows(core.p_lut, 16, literal),
                   x_rows=rows(core.breakpoints, 12, literal))
    return ctx


def slope_rows(core: ShiftAddCore) -> list[dict]:
    """A shift-add core's per-segment terms as text: signs, shifts, and the slope."""
    return [{"signs": ", ".join(str(g) for g, _ in core.segment_terms(i)),
             "shifts": ", ".join(str(r) for _, r in core.segment_terms(i)),
             "slope": core.slope_text(i)} for i in range(core.segments)]


def _shiftadd(core: ShiftAddCore, literal: Literal) -> dict:
    return {
        "segments": core.segments,
        "terms": core.terms,
        "pre_shift": core.pre_shift,
        "frac": core.frac,
        "breakpoints": [literal(b) for b in core.breakpoints],
        "bias_rows": rows(core.biases, 8, literal),
        "segment_rows": slope_rows(core),
    }


def _threshold(core: ThresholdCore, literal: Literal) -> dict:
    lists = [{"name": key, "count": len(values), "rows": rows(values, 12, literal)}
             for key, values in (("up", core.up), ("down", core.down))]
    return {
        "base": core.base,
        "lists": [lst for lst in lists if lst["count"]],
        "up_rows": lists[0]["rows"],
        "down_rows": lists[1]["rows"],
    }


def f32_hex(value: float) -> str:
    """The float32 bit pattern of a value, as 0xXXXXXXXX."""
    return f"0x{int(np.array([value], dtype=np.float32).view(np.uint32)[0]):08X}"


def _float_segments(core: FloatSegmentCore, literal: Literal) -> dict:
    return {
        "segments": core.segments,
        "steps": core.search_steps,
        "lo_bits": f"0x{core.lo:08X}",
        "hi_bits": f"0x{core.hi:08X}",
        "emin": core.p_emin,
        "emax": core.p_emax,
        "mbits": core.p_mant,
        "nb": (core.p_emax - core.p_emin + 1) << core.p_mant,
        "p_count": len(core.p_lut),
        "p_rows": rows(core.p_lut, 16, literal),
    }


def f32_rows(patterns: Any, suffix: str = "") -> list[str]:
    """Rows of float32 bit patterns (already integers), 6 a row."""
    return rows(patterns, 6, lambda v: f"0x{v:08X}{suffix}")


def float_output_constants(fo: Any) -> dict:
    """float32 constants of a fixed-point output of a float datapath (1/scale, zero point,
    code range), as bit patterns."""
    return {"inv_bits": f32_hex(1.0 / fo.scale), "zp_bits": f32_hex(fo.zero_point),
            "qmin_bits": f32_hex(fo.code_min), "qmax_bits": f32_hex(fo.code_max)}


_CORES: dict[type, Callable[[Any, Literal], dict]] = {
    SegmentCore: _segments, ShiftAddCore: _shiftadd, ThresholdCore: _threshold,
    FloatSegmentCore: _float_segments,
}


def core_view(core: Any, literal: Literal) -> dict:
    """The tables and constants of a core, literals written by ``literal``."""
    return _CORES[type(core)](core, literal)


def column_header(unit: Any, info: EmitInfo) -> dict:
    """What every target prints about a column back end (``actc.adc.backend.ColumnUnit``):
    names, the converter, the ports with their shifts and signs, the constant K and the
    output format."""
    fo = unit.out_format
    ports = [{"name": p.name, "beat": p.beat_name, "j": p.j, "r": p.r, "s": p.s,
              "shift": p.shift + unit.gain_shift, "sign": p.sign, "index": i}
             for i, p in enumerate(unit.ports())]
    xb = unit.crossbar
    return {
        "name": unit.name, "NAME": unit.name.upper(), "version": info.version,
        "summary": unit.summary(), "converter": unit.converter["spec"],
        "crossbar": (f"rows {xb['rows']}, cell bits {xb['cell_bits']}, DAC bits "
                     f"{xb['dac_bits']}, weight bits {xb['weight_bits']}, input bits "
                     f"{xb['input_bits']}, " + (xb["scheme"] if xb["signed"] else "unsigned")),
        "ports": ports, "count": len(ports), "code_bits": unit.code_bits,
        "sample_bits": unit.sample_bits, "gain": unit.gain, "offset": unit.offset,
        "constant": unit.constant, "out_text": fo.text, "out_bits": fo.bits,
        "out_signed": fo.signed, "out_scale": repr(fo.scale), "out_min": fo.code_min,
        "out_max": fo.code_max, "slices": unit.input_slices,
        "dac_bits": xb["dac_bits"],
    }
