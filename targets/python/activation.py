"""Python reference model of an activation unit: a standalone numpy module with a vectorised
``evaluate(codes)``."""

from __future__ import annotations

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
from actc.unit import InputSpace

from ..base import EmitInfo, Renderer
from ..views import activation_header, core_view, f32_rows, float_output_constants, frame_view

__all__ = ["accepts", "call", "emit"]

_render = Renderer("python")

_TEMPLATES = {
    SegmentCore: "activation/segments.py.j2",
    KnotCore: "activation/knots.py.j2",
    ShiftAddCore: "activation/shiftadd.py.j2",
    ThresholdCore: "activation/threshold.py.j2",
    FloatSegmentCore: "activation/float.py.j2",
}


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """Python emits every activation."""
    return None


def emit(unit: ActivationUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = activation_header(unit, info)
    ctx.update(core_view(unit.core, str))
    if isinstance(unit.core, FloatSegmentCore):
        ctx.update(_float_view(unit))
    else:
        ctx.update(frame_view(unit, str))
    return {f"{unit.name}.py": _render(_TEMPLATES[type(unit.core)], **ctx)}


def _float_view(unit: ActivationUnit) -> dict:
    core: FloatSegmentCore = unit.core
    fi, fo = unit.in_format, unit.out_format
    ctx: dict[str, Any] = {
        "in_kind": fi.kind,  # type: ignore[attr-defined]
        "in_bits": fi.bits,
        "out_kind": fo.kind if fo.is_float else "fixed",  # type: ignore[attr-defined]
        "f32_tables": [("X_LUT", f32_rows(core.breakpoints)), ("Y_LUT", f32_rows(core.values)),
                       ("DY_LUT", f32_rows(core.slopes))],
    }
    if not fo.is_float:
        ctx.update(float_output_constants(fo))
    return ctx


def call(module: Any, unit: ActivationUnit, space: InputSpace) -> dict[str, np.ndarray]:
    """Run an imported reference module on the input space."""
    return {"y": np.asarray(module.evaluate(space.vectors["x"]), dtype=np.int64)}
