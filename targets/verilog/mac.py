"""Verilog module of a MAC unit: inputs ``a`` and ``b`` (``b0``.. for N lanes), output ``y``
(or accumulators ``acc``..). The a-side logic (a's magnitude, its logarithm or DRUM window,
the ASM precomputer) is built once and shared by every lane; each lane is a generate block."""

from __future__ import annotations

import re
from typing import Any

from actc.mac.families import ArrayFamily
from actc.mac.families.asm import AsmFamily
from actc.mac.families.drum import DrumFamily
from actc.mac.families.ilm import IlmFamily
from actc.mac.families.mbm import MbmFamily
from actc.mac.families.mitchell import MitchellFamily
from actc.mac.families.table import TableFamily
from actc.mac.ir import MacUnit
from actc.unit import unsigned_width

from ..base import EmitInfo, Renderer
from ..mac_views import family_template, family_view, mac_header
from .common import hex_pattern, rom_table, uext

__all__ = ["accepts", "emit"]


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """MAC units are combinational (``--registered`` adds an output register; an accumulator
    is clocked already)."""
    if options.architecture != "parallel":
        return (f"--architecture {options.architecture}: a MAC unit's Verilog is parallel "
                "(combinational, or clocked by --registered or --accumulate)")
    return None


def xt(signal: str, width: int, signed: bool, to: int) -> str:
    """An unsigned vector of ``to`` bits: ``signal`` (``width`` bits) sign- or zero-extended."""
    if to == width:
        return signal
    if not signed:
        return f"{{{to - width}'d0, {signal}}}"
    m = re.match(r"^(\w+)\[(\d+):(\d+)\]$", signal)
    msb = f"{m.group(1)}[{m.group(2)}]" if m else f"{signal}[{width - 1}]"
    return f"{{{{{to - width}{{{msb}}}}}, {signal}}}"


def _csd(letter: int) -> list[tuple[int, int]]:
    """letter as few signed powers of two [(sign, shift)] (3 = 2 + 1, 7 = 8 - 1)."""
    digits, k, n = [], 0, letter
    while n:
        if n & 1:
            d = 2 - (n & 3)  # +1 or -1
            digits.append((d, k))
            n -= d
        n >>= 1
        k += 1
    return digits


def _multiple(letter: int) -> str:
    terms = sorted(_csd(letter), key=lambda t: -t[1])
    out = ""
    for sign, shift in terms:
        t = "ax" if shift == 0 else f"(ax << {shift})"
        out += t if not out else (f" + {t}" if sign > 0 else f" - {t}")
    return out


def _family_view(unit: MacUnit, ctx: dict) -> dict[str, Any]:
    m = unit.multiplier
    f = m.family
    na, nb, np_ = m.a_bits, m.b_bits, m.out_bits
    out: dict[str, Any] = {"lead_widths": [], "kw": unsigned_width(na + nb)}
    if isinstance(f, ArrayFamily):
        terms = [hex_pattern(ctx["constant"], np_)]
        for r in ctx["rows"]:
            if r["and_mask"] or r["nand_mask"]:
                row = uext(f"row{r['j']}", na, np_)
                terms.append(row if r["j"] == 0 else f"({row} << {r['j']})")
        out["sum_terms"] = terms
    elif isinstance(f, DrumFamily):
        out["lead_widths"] = sorted({w for w in (na, nb) if w > f.k})
        out["wa_bits"], out["wb_bits"] = min(f.k, na), min(f.k, nb)
        out["shift_bits"] = unsigned_width(na + nb)
    elif isinstance(f, (MitchellFamily, MbmFamily, IlmFamily)):
        out["lead_widths"] = sorted({na, nb})
        if "frac" in ctx:
            out["kw"] = unsigned_width(max(ctx["frac"], na + nb))
    elif isinstance(f, AsmFamily):
        letters = ctx["alphabet"]
        out["multiples"] = [{"letter": a, "expr": _multiple(a)} for a in letters]
        sb, fb = ctx["select_bits"], ctx["field_bits"]
        chains = []
        for q in range(ctx["quartets"]):
            sel = f"f{q}[{fb - 2}:2]"
            chain = f"m{letters[-1]}"
            for i in range(len(letters) - 2, -1, -1):
                chain = f"{sel} == {sb}'d{i} ? m{letters[i]} : {chain}"
            chains.append(chain)
        out["select_chain"] = chains
    elif isinstance(f, TableFamily):
        src = f.source
        if src.get("kind") == "verilog" and src.get("text"):
            out["circuit"] = {"module": src["module"], "a": src["ports"][0],
                              "b": src["ports"][1], "out": src["ports"][2],
                              "out_bits": int(src["out_bits"]), "text": src["text"]}
        else:
            out["circuit"] = None
            out["table"] = rom_table([v & ((1 << np_) - 1) for v in ctx["values"]], np_,
                                     na + nb)
            ia = f"{{~a[{na - 1}], a[{na - 2}:0]}}" if m.signed else "a"
            ib = f"{{~bl[{nb - 1}], bl[{nb - 2}:0]}}" if m.signed else "bl"
            out["index"] = f"{{{ia}, {ib}}}"
    return out


_render = Renderer("verilog", hexp=hex_pattern, uext=uext, xt=xt)


def emit(unit: MacUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    from . import Schedule, render_testbench, vectors_text

    ctx = mac_header(unit, info)
    ctx.update(family_view(unit))
    ctx.update(_family_view(unit, ctx))
    clocked = unit.accumulate or options.registered
    b_names = ctx["b_names"]
    ctx.update(
        family=unit.multiplier.family.name, clocked=clocked, registered=options.registered,
        ow=unit.acc_bits if unit.accumulate else unit.multiplier.out_bits,
        b_concat=b_names[0] if len(b_names) == 1 else "{" + ", ".join(reversed(b_names)) + "}",
        unsigned_width=unsigned_width,
    )
    text = _render(f"mac/{family_template(unit.multiplier.family)}.v.j2", **ctx)
    circuit = ctx.get("circuit")
    if circuit:
        text += (f"\n// The imported circuit, its modules renamed {unit.name}__MODULE (not "
                 "linted: it is not ours).\n"
                 "/* verilator lint_off DECLFILENAME */\n" + circuit["text"].rstrip() + "\n")
    schedule = Schedule("registered" if clocked else "combinational")
    vectors = {**info.space.vectors, **info.expected}
    return {
        f"{unit.name}.v": text,
        f"{unit.name}_tb.v": render_testbench(unit, schedule, info.version, len(info.space)),
        f"{unit.name}_vectors.hex": vectors_text(unit, vectors),
    }
