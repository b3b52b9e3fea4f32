"""Verilog module of a column back end (``actc.adc.backend.ColumnUnit``): combinational
(``parallel``, optionally with an output register) or ``serial``: one input slice a clock,
most significant slice first, with a start/busy/valid handshake
(docs/reference/adc.md: Column back end).
With skip flags, a conversion whose ``z_...`` port is 1 contributes zero (a multiplexer per
term).

All arithmetic is modulo 2^W, W the output's width: the result fits W bits, so the wrapped
sum of the terms is exact."""

from __future__ import annotations

from typing import Any

from ..base import EmitInfo, Renderer
from ..views import column_header

__all__ = ["accepts", "emit"]

_ARCHITECTURES = ("parallel", "serial")


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    if options.architecture not in _ARCHITECTURES:
        return (f"--architecture {options.architecture}: a column back end is parallel "
                "(combinational) or serial (one input slice a clock)")
    return None


def _code(p: dict, ctx: dict) -> str:
    """A port's code as a W-bit unsigned expression."""
    w, cb = ctx["w"], ctx["code_bits"]
    name = p["beat"] if ctx["serial"] else p["name"]
    if ctx["sample_bits"]:
        cw = ctx["count_bits"]
        return f"count({name})" if w == cw else f"{{{w - cw}'b0, count({name})}}"
    if w == cb:
        return name
    if w < cb:
        return f"{name}[{w - 1}:0]"
    return f"{{{w - cb}'b0, {name}}}"


def _sum(ports: list[dict], ctx: dict, shift_of: Any, constant: int) -> str:
    """sign * code << shift over the ports (each minus its offset term and gated by its skip
    flag, with skip ports), minus the constant, in W bits."""
    w = ctx["w"]
    parts = []
    for p in ports:
        shift = shift_of(p)
        term = _code(p, ctx) + (f" << {shift}" if shift else "") if shift < w else ""
        if ctx["skip"]:
            term = f"({term})" if shift and term else term  # << binds looser than -
            off = p["offset_term"] % (1 << w)
            if not term and not off:
                continue
            value = " - ".join([t for t in (term, f"{w}'d{off}" if off else "") if t])
            if not term:
                value = f"{w}'d0 - {value}"
            flag = p["skip_beat"] if ctx["serial"] else p["skip"]
            term = f"{flag} ? {w}'d0 : ({value})"
        elif shift >= w:
            continue  # zero modulo 2^W
        parts.append(("+ " if p["sign"] > 0 else "- ") + f"({term})")
    k = constant % (1 << w)
    if k:
        parts.append(f"- {w}'d{k}")
    if not parts:
        return f"{w}'d0"
    text = "\n        ".join(parts)
    return text[2:] if text.startswith("+ ") else f"{w}'d0 {text}"


_render = Renderer("verilog")


def emit(unit: Any, info: EmitInfo, options: Any) -> dict[str, str]:
    from . import Schedule, render_testbench, vectors_text

    ctx = column_header(unit, info)
    serial = options.architecture == "serial"
    w = ctx["out_bits"]
    what = "count of ones" if unit.sample_bits else "code"
    formula = (f"y = sum over the {len(ctx['ports'])} conversions not skipped (z_... = 0) of "
               f"sign * ({what} << shift - {unit.offset} << (shift - {unit.gain_shift}))"
               if unit.skip else f"y = sum over the {len(ctx['ports'])} conversions of sign * "
               f"{what} << shift, minus K = {unit.constant}")
    ctx.update(w=w, serial=serial, registered=options.registered, skip=unit.skip,
               count_bits=max(1, unit.code_bits.bit_length()), formula=formula)
    for p, q in zip(ctx["ports"], unit.ports()):  # skip flags and each term's offset
        p.update(skip=q.skip_name, skip_beat="z_" + q.beat_name.split("_", 1)[1],
                 offset_term=unit.offset << (q.shift - q.j * unit.xbar.dac_bits if serial
                                             else q.shift))
    ports = ctx["ports"]
    if serial:
        slices, db = ctx["slices"], ctx["dac_bits"]
        beat_ports = [p for p in ports if p["j"] == 0]
        ctx.update(beat_ports=beat_ports, beat_sum=_sum(beat_ports, ctx, lambda p: p["shift"],
                                                        0),
                   slice_bits=max(1, (slices - 1).bit_length()))
        # most significant slice first: beat k carries input slice slices - 1 - k
        beats = tuple(tuple(pair for p in beat_ports for q in ports
                            if q["j"] == slices - 1 - k and q["r"] == p["r"]
                            and q["s"] == p["s"]
                            for pair in ((p["beat"], q["name"]),) + (
                                ((p["skip_beat"], q["skip"]),) if unit.skip else ()))
                      for k in range(slices))
        schedule = Schedule("stream", slices, beats)
        ctx["db"] = db
        template = "adc/column_serial.v.j2"
    else:
        ctx["sum"] = _sum(ports, ctx, lambda p: p["shift"], unit.constant)
        schedule = Schedule("registered" if options.registered else "combinational")
        template = "adc/column.v.j2"
    ctx["k"] = unit.constant % (1 << w)
    vectors = {**info.space.vectors, **info.expected}
    return {
        f"{unit.name}.v": _render(template, **ctx),
        f"{unit.name}_tb.v": render_testbench(unit, schedule, info.version, len(info.space)),
        f"{unit.name}_vectors.hex": vectors_text(unit, vectors),
    }
