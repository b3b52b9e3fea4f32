"""C99 header of an activation unit: integer arithmetic (or the float32 datapath of a float
core), tables ``static const``, ``static inline NAME(code)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from actc.activation.ir import (
    ActivationUnit,
    FloatSegmentCore,
    KnotCore,
    SegmentCore,
    ShiftAddCore,
    ThresholdCore,
)

from ..base import EmitInfo, Renderer, rows
from ..views import activation_header, core_view, f32_rows, float_output_constants, frame_view
from ..widths import c_int_type, c_storage, c_type, c_wide
from .literals import c_element, c_literal

__all__ = ["accepts", "emit", "harness_call"]

_render = Renderer("c", c_int=c_literal)

# Signals the C datapath holds in its accumulator type (the others have their own types).
_NOT_ACC = {"core.v", "core.index", "core.x", "core.p", "core.xp", "core.up_count",
            "core.down_count", "core.region", "core.offset", "core.product", "core.f",
            "core.base", "core.count"}


def _segments_types(unit: ActivationUnit, s: dict) -> dict:
    core: SegmentCore = unit.core
    ctx = {"y_t": c_type(s["core.y"])}
    if core.slopes is not None:
        ctx["dy_t"] = c_type(s["core.dy"])
    if core.breakpoints is not None:
        ctx.update(p_t=c_type(s["core.p"]), x_t=c_type(s["core.x"]))
    return ctx


def _knots_types(unit: ActivationUnit, s: dict) -> dict:
    """Every table in the narrowest type, biased where that saves bytes (sizeof the tables
    is the unit's memory_bytes)."""
    core: KnotCore = unit.core
    wide = s["core.product"][1] >= 1 << 32
    k_t, k_bias = c_storage(core.knots)
    ctx: dict = {"k_t": k_t, "k_bias": k_bias, "p_t": "uint64_t" if wide else "uint32_t",
                 "knot_rows": rows([k - k_bias for k in core.knots], 12, c_element)}
    if core.region_bits:
        for label, values in (("base", core.bases), ("count", core.count_table())):
            ctype, bias = c_storage(values)
            ctx.update({f"{label}_t": ctype, f"{label}_bias": bias,
                        f"{label}_rows": rows([v - bias for v in values], 16, c_element)})
    return ctx


def _shiftadd_types(unit: ActivationUnit, s: dict) -> dict:
    return {"bp_t": c_type(s["core.v"]), "bias_t": c_type(s["core.bias"])}


def _threshold_types(unit: ActivationUnit, s: dict) -> dict:
    return {"thr_t": c_type(s["core.v"])}


_INTEGER: dict[type, tuple[str, Callable[[ActivationUnit, dict], dict]]] = {
    SegmentCore: ("activation/segments.h.j2", _segments_types),
    KnotCore: ("activation/knots.h.j2", _knots_types),
    ShiftAddCore: ("activation/shiftadd.h.j2", _shiftadd_types),
    ThresholdCore: ("activation/threshold.h.j2", _threshold_types),
}


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """C emits every activation: fixed-point and float inputs alike."""
    return None


def emit(unit: ActivationUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = activation_header(unit, info)
    ctx["guard"] = f"ACTC_{unit.name.upper()}_H"
    if isinstance(unit.core, FloatSegmentCore):
        ctx.update(_float_view(unit))
        return {f"{unit.name}.h": _render("activation/float.h.j2", **ctx)}
    template, types = _INTEGER[type(unit.core)]
    fi, fo = unit.in_format, unit.out_format
    signals = unit.signals()
    wide = c_wide(r for k, r in signals.items() if k not in _NOT_ACC)
    in_t = c_int_type(fi.bits, fi.signed)
    type_bits = int("".join(ch for ch in in_t if ch.isdigit()))
    ctx.update(core_view(unit.core, c_element))
    ctx.update(types(unit, signals))  # after the view: a type may store a table biased
    ctx.update(frame_view(unit, c_literal))
    ctx.update(
        in_t=in_t, out_t=c_int_type(fo.bits, fo.signed),
        code_t="int64_t" if c_wide([signals["code"]]) else "int32_t",
        acc_t="int64_t" if wide else "int32_t", acc_ut="uint64_t" if wide else "uint32_t",
        clamp_lo=fi.signed and fi.bits < type_bits,
        clamp_hi=fi.bits < type_bits,
    )
    return {f"{unit.name}.h": _render(template, **ctx)}


def _float_view(unit: ActivationUnit) -> dict:
    core: FloatSegmentCore = unit.core
    fi, fo = unit.in_format, unit.out_format
    in_kind = fi.kind  # type: ignore[attr-defined]
    out_kind = fo.kind if fo.is_float else "fixed"  # type: ignore[attr-defined]
    if out_kind == "fp32":
        out_t = "float"
    elif out_kind in ("fp16", "bf16"):
        out_t = "uint16_t"
    else:
        out_t = c_int_type(fo.bits, fo.signed)
    f32 = np.float32
    ctx = core_view(core, c_element)
    ctx.update(
        in_kind=in_kind, out_kind=out_kind, out_t=out_t,
        in_t="float" if in_kind == "fp32" else "uint16_t",
        lo=repr(float(np.array([core.lo], dtype=np.uint32).view(f32)[0])),
        hi=repr(float(np.array([core.hi], dtype=np.uint32).view(f32)[0])),
        p_t=c_type(core.signals()["p"]),
        tables=[
            ("p_lut", ctx["p_rows"], "first candidate segment per bucket"),
            ("x_lut", f32_rows(core.breakpoints, "u"), "segment starts, float32 bits, ascending"),
            ("y_lut", f32_rows(core.values, "u"), "segment values at their starts, float32 bits"),
            ("dy_lut", f32_rows(core.slopes, "u"), "segment slopes, float32 bits"),
        ],
        in_api=("input: a float" if in_kind == "fp32" else f"input: {in_kind} bit pattern"),
        out_api=(f"output: {out_kind} " + ("value" if out_kind == "fp32" else "bit pattern")
                 if fo.is_float else f"output: {fo.text} code"),
    )
    if not fo.is_float:
        ctx.update(float_output_constants(fo))
    return ctx


def harness_call(unit: ActivationUnit, args: list[str]) -> str:
    """The C expression a test harness prints for input codes ``args``."""
    if isinstance(unit.core, FloatSegmentCore):
        return f"{unit.name}_code({args[0]})"
    fi = unit.in_format
    return f"{unit.name}(({c_int_type(fi.bits, fi.signed)}){args[0]})"
