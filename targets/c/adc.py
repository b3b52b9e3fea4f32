"""C99 header of a column back end (``actc.adc.backend.ColumnUnit``):
``NAME(const T codes[NAME_PORTS])`` (with skip flags ``NAME(codes, const uint8_t
skip[NAME_PORTS])``) returns the accumulated column code; the codes are in port order
(``NAME_PORT_NAMES``)."""

from __future__ import annotations

from typing import Any

from ..base import EmitInfo, Renderer
from ..views import column_header
from ..widths import c_int_type, c_type, c_wide
from .harness import Harness
from .literals import c_literal

__all__ = ["accepts", "emit", "harness_call"]

_render = Renderer("c", c_int=c_literal)


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    return None


def emit(unit: Any, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = column_header(unit, info)
    s = unit.signals()
    wide = c_wide([s["sum"], s["y"]])
    ctx.update(guard=f"ACTC_{unit.name.upper()}_H", code_t=c_int_type(unit.code_bits, False),
               acc_t="int64_t" if wide else "int32_t", out_t=c_type(s["y"]),
               k_literal=c_literal(unit.constant), skip=unit.skip)
    for p, q in zip(ctx["ports"], unit.ports()):
        term = unit.offset << q.shift
        p.update(scale=c_literal(1 << p["shift"]), offset_term=term,
                 offset_literal=c_literal(term))
    return {f"{unit.name}.h": _render("adc/column.h.j2", **ctx)}


def harness_call(unit: Any, args: list[str]) -> Harness:
    """The test harness: the vector's codes (and skip flags) into arrays, then the function's
    result."""
    t = c_int_type(unit.code_bits, False)
    n = len(unit.ports())
    step = f"{t} codes[{n}] = {{{', '.join(f'({t}){a}' for a in args[:n])}}};"
    if not unit.skip:
        return Harness([f"{unit.name}(codes)"], step=step)
    step += f"\nuint8_t skip[{n}] = {{{', '.join(f'(uint8_t){a}' for a in args[n:])}}};"
    return Harness([f"{unit.name}(codes, skip)"], step=step)
