"""Python reference model of a column back end: a standalone numpy module with
``evaluate(codes)`` over codes in port order (``PORTS``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from actc.unit import InputSpace

from ..base import EmitInfo, Renderer
from ..views import column_header

__all__ = ["accepts", "call", "emit"]

_render = Renderer("python")


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    return None


def emit(unit: Any, info: EmitInfo, options: Any) -> dict[str, str]:
    return {f"{unit.name}.py": _render("adc/column.py.j2", **column_header(unit, info))}


def call(module: Any, unit: Any, space: InputSpace) -> dict[str, np.ndarray]:
    codes = np.stack([space.vectors[p.name] for p in unit.inputs], axis=-1)
    return {"y": np.asarray(module.evaluate(codes), dtype=np.int64)}
