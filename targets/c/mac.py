"""C99 header of a MAC unit: ``static inline`` functions in integer arithmetic, types from the
IR's signal ranges; ``NAME_mul(a, b)`` is the multiplier, ``NAME(...)`` the unit (its lanes and
accumulator)."""

from __future__ import annotations

from typing import Any

from actc.mac.ir import MacUnit

from ..base import EmitInfo, Renderer, rows
from ..mac_views import family_template, family_view, mac_header
from ..widths import c_int_type, c_type
from .harness import Harness
from .literals import c_element, c_literal

__all__ = ["accepts", "emit", "harness_call"]

_render = Renderer("c", c_int=c_literal)


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """C emits every MAC unit."""
    return None


def _types(unit: MacUnit) -> dict[str, str]:
    s = unit.signals()
    m = unit.multiplier
    wide = m.out_bits + 2 > 32
    out = {"a_t": c_type(s["a"]), "b_t": c_type(s["b"]), "w_t": c_type(s["code"]),
           "p_t": c_type(s["product"]), "u_t": "uint64_t" if wide else "uint32_t"}
    if unit.accumulate:
        out["acc_t"] = c_type(s["acc"])
        out["uacc_t"] = "uint64_t" if unit.acc_bits > 32 else "uint32_t"
    return out


def emit(unit: MacUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    ctx = mac_header(unit, info)
    ctx.update(family_view(unit))
    ctx.update(_types(unit))
    ctx["guard"] = f"ACTC_{unit.name.upper()}_H"
    if "codes" in ctx:
        ctx["code_t"] = c_int_type(unit.multiplier.weight_bits, False)
        ctx["code_rows"] = rows(ctx["codes"], 12, c_element)
    if "values" in ctx:
        ctx["table_rows"] = rows(ctx["values"], 12, c_element)
    template = f"mac/{family_template(unit.multiplier.family)}.h.j2"
    return {f"{unit.name}.h": _render(template, **ctx)}


def harness_call(unit: MacUnit, args: list[str]) -> Harness:
    """How the test harness drives the unit's function (its lanes and accumulator)."""
    t = _types(unit)
    a, lanes = args[0], args[1:1 + unit.lanes]
    n = unit.lanes
    if not unit.accumulate and n == 1:
        return Harness([f"{unit.name}(({t['a_t']}){a}, ({t['w_t']}){lanes[0]})"])
    fill = "".join(f"bv[{i}] = ({t['w_t']}){b};\n" for i, b in enumerate(lanes))
    if unit.accumulate:
        clear, valid = args[1 + n:3 + n]
        return Harness([f"acc[{i}]" for i in range(n)],
                       state=f"{t['w_t']} bv[{n}];\n{t['acc_t']} acc[{n}] = {{0}};",
                       step=fill + f"{unit.name}(acc, ({t['a_t']}){a}, bv, (int){clear}, "
                       f"(int){valid});")
    return Harness([f"yv[{i}]" for i in range(n)],
                   state=f"{t['w_t']} bv[{n}];\n{t['p_t']} yv[{n}];",
                   step=fill + f"{unit.name}(({t['a_t']}){a}, bv, yv);")
