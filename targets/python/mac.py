"""Python reference model of a MAC unit: a standalone numpy module with a vectorised
``evaluate(a, b)``, ``product``, ``table()`` (and ``encode``, ``accumulate`` where the unit
has them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from actc.mac.ir import MacUnit
from actc.unit import InputSpace

from ..base import EmitInfo, Renderer
from ..mac_views import family_template, family_view, mac_header

__all__ = ["accepts", "call", "emit"]

_render = Renderer("python")


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """Python emits every MAC unit."""
    return None


def emit(unit: MacUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = mac_header(unit, info)
    ctx.update(family_view(unit))
    template = f"mac/{family_template(unit.multiplier.family)}.py.j2"
    return {f"{unit.name}.py": _render(template, **ctx)}


def call(module: Any, unit: MacUnit, space: InputSpace) -> dict[str, np.ndarray]:
    """Run an imported reference module on the input space, lane by lane."""
    v = space.vectors
    out = {}
    for b, y in zip(unit.lane_names("b"), unit.lane_names("acc" if unit.accumulate else "y")):
        p = np.asarray(module.evaluate(v["a"], v[b]), dtype=np.int64)
        if unit.accumulate:
            p = np.asarray(module.accumulate(p, v["clear"], v["valid"]), dtype=np.int64)
        out[y] = p
    return out
