"""Python: a standalone numpy module with a vectorised ``evaluate``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np

from actc.errors import ToolError
from actc.ir import Design, SegmentCore, ShiftAddCore, ThresholdCore

from .base import EmitInfo, Renderer, Target, design_summary, rows, slope_rows

__all__ = ["PythonTarget", "load_module"]

_render = Renderer("python")


def _segments_view(core: SegmentCore) -> dict:
    ctx = {
        "uniform": core.uniform,
        "segments": core.segments,
        "shift": core.index_shift,
        "value_frac": core.value_frac,
        "slope_frac": core.slope_frac,
        "frac": core.frac,
        "slopes": core.slopes is not None,
        "y_rows": rows(core.values, 12, str),
        "core_range": core.acc_range(),
    }
    if core.slopes is not None:
        ctx["dy_rows"] = rows(core.slopes, 12, str)
    return ctx


def _shiftadd_view(core: ShiftAddCore) -> dict:
    return {
        "breakpoints": [str(b) for b in core.breakpoints],
        "bias_rows": rows(core.biases, 8, str),
        "segment_rows": slope_rows(core),
        "terms": core.terms,
        "pre_shift": core.pre_shift,
        "frac": core.frac,
        "core_range": core.acc_range(),
    }


def _threshold_view(core: ThresholdCore) -> dict:
    return {
        "base": core.base,
        "up_rows": rows(core.up, 12, str),
        "down_rows": rows(core.down, 12, str),
        "core_range": core.acc_range(),
    }


_CORE_VIEWS = {
    SegmentCore: ("segments.py.j2", _segments_view),
    ShiftAddCore: ("shiftadd.py.j2", _shiftadd_view),
    ThresholdCore: ("threshold.py.j2", _threshold_view),
}


class PythonTarget(Target):
    name: ClassVar[str] = "python"

    def emit(self, design: Design, info: EmitInfo) -> dict[str, str]:
        template, view = _CORE_VIEWS[type(design.core)]
        fi, fo = design.in_format, design.out_format
        ctx = view(design.core)
        lo, hi = ctx.pop("core_range")
        f = design.core.frac
        ctx.update(
            name=design.name,
            version=info.version,
            expression=info.expression,
            method=info.method,
            summary=design_summary(design),
            in_text=fi.text, in_scale=repr(fi.scale), in_zero=fi.zero_point,
            in_signed=fi.signed, in_min=fi.code_min, in_max=fi.code_max,
            out_text=fo.text, out_scale=repr(fo.scale), out_zero=fo.zero_point,
            out_signed=fo.signed, out_min=fo.code_min, out_max=fo.code_max,
            n=fi.bits, m=fo.bits,
            saturate=(lo >> f) < fo.code_min or (hi >> f) > fo.code_max,
            error_codes=info.error["codes"],
            error_max_lsb=info.error["max_lsb"],
            error_mean_lsb=info.error["mean_lsb"],
        )
        return {f"{design.name}.py": _render(template, **ctx)}

    def run(self, directory: Path, design: Design, files: list[str], codes: np.ndarray,
            expected: np.ndarray) -> np.ndarray:
        mod = load_module((directory / f"{design.name}.py").resolve())
        return np.asarray(mod.evaluate(codes), dtype=np.int64)


def load_module(path: Path):
    """Import an emitted reference module from its file, without touching sys.path."""
    name = f"actc_reference_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ToolError(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.pop(name, None)
    spec.loader.exec_module(mod)
    return mod
