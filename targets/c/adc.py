"""C99 header of a column back end (``actc.adc.backend.ColumnUnit``):
``NAME(const T codes[NAME_PORTS])`` returns the accumulated column code; the codes are in
port order (``NAME_PORT_NAMES``)."""

from __future__ import annotations

from typing import Any

from ..base import EmitInfo, Renderer
from ..views import column_header
from ..widths import c_int_type, c_type, c_wide
from .literals import c_literal

__all__ = ["accepts", "emit", "harness_call", "harness_setup"]

_render = Renderer("c", c_int=c_literal)


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    return None


def emit(unit: Any, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = column_header(unit, info)
    s = unit.signals()
    wide = c_wide([s["sum"], s["y"]])
    ctx.update(guard=f"ACTC_{unit.name.upper()}_H", code_t=c_int_type(unit.code_bits, False),
               acc_t="int64_t" if wide else "int32_t", out_t=c_type(s["y"]),
               k_literal=c_literal(unit.constant))
    return {f"{unit.name}.h": _render("adc/column.h.j2", **ctx)}


def harness_setup(unit: Any, args: list[str]) -> str:
    """Statements before the harness prints a result: the codes array."""
    t = c_int_type(unit.code_bits, False)
    return f"{t} codes[{len(args)}] = {{{', '.join(f'({t}){a}' for a in args)}}};"


def harness_call(unit: Any, args: list[str]) -> str:
    return f"{unit.name}(codes)"
