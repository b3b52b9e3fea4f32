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
    ctx = column_header(unit, info)
    for p, q in zip(ctx["ports"], unit.ports()):
        p["offset_term"] = unit.offset << q.shift if unit.skip else 0
    return {f"{unit.name}.py": _render("adc/column.py.j2", skip=unit.skip, **ctx)}


def call(module: Any, unit: Any, space: InputSpace) -> dict[str, np.ndarray]:
    ports = unit.ports()
    codes = np.stack([space.vectors[p.name] for p in ports], axis=-1)
    if not unit.skip:
        return {"y": np.asarray(module.evaluate(codes), dtype=np.int64)}
    skip = np.stack([space.vectors[p.skip_name] for p in ports], axis=-1)
    return {"y": np.asarray(module.evaluate(codes, skip), dtype=np.int64)}
