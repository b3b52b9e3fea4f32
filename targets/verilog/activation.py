"""Verilog module of an activation unit (port ``x`` in, ``y`` out). Signal widths come from
the IR's signal ranges (``signals()``); the architecture (combinational, pipelined, serial)
and the output register are Verilog options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from actc.activation.ir import (
    ActivationUnit,
    FloatSegmentCore,
    KnotCore,
    SegmentCore,
    ShiftAddCore,
    ThresholdCore,
)
from actc.unit import Range, signed_width, stored_width, unsigned_width

from ..base import EmitInfo, Renderer
from ..views import activation_header, fold_expression
from ..widths import verilog_bits
from .common import ext, hex_pattern, rom_table, shex, stored_rom, uext, zext

__all__ = ["accepts", "emit"]

# Which schedules each core's Verilog has (the rest are combinational only).
_ARCHITECTURES: dict[type, tuple[str, ...]] = {
    SegmentCore: ("parallel",),
    KnotCore: ("parallel",),
    ShiftAddCore: ("parallel", "pipelined", "serial"),
    ThresholdCore: ("parallel", "pipelined", "serial"),
}


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """Fixed-point ports only; the architecture must be one the method's cores have."""
    fi = formats[0]
    if fi.is_float:
        return (f"--target verilog takes fixed-point inputs; {fi.text} is a float format: "
                "use --target c or python, or a fixed-point --in")
    arch = options.architecture
    for core in cores:
        if core in _ARCHITECTURES and arch not in _ARCHITECTURES[core]:
            return (f"--architecture {arch}: this method's Verilog is combinational "
                    "(--architecture pipelined and serial are for grau and threshold)")
    return None


def _term(pair: tuple[int, int], xw: int, aw: int) -> str:
    """Slope term (sign, right shift) of the xw-bit pre-shifted input xp, in aw bits."""
    sign, shift = pair
    if sign == 0:
        return f"{aw}'sd0"
    if shift >= xw:
        value = f"{aw}'sd0"
    else:
        top = min(xw - 1, shift + aw - 1)
        value = zext(f"xp[{top}:{shift}]", top - shift + 1, aw)
    return value if sign > 0 else f"~{value}"


def _tree(breakpoints: tuple[int, ...], lo: int, hi: int, iw: int, n: int) -> str:
    """Segments lo..hi as a binary search tree of comparisons of u with the breakpoints
    (segment k starts at breakpoints[k - 1])."""
    if lo == hi:
        return f"{iw}'d{lo}"
    mid = (lo + hi + 1) // 2
    right = _tree(breakpoints, mid, hi, iw, n)
    left = _tree(breakpoints, lo, mid - 1, iw, n)
    right, left = (f"({t})" if "?" in t else t for t in (right, left))
    return f"(u >= {n}'d{breakpoints[mid - 1]}) ? {right} : {left}"


def _case_labels(count: int, iw: int) -> list[str]:
    """Case labels for count entries, plus ``default`` (repeating the last) unless they
    cover every index value."""
    labels = [f"{iw}'d{i}" for i in range(count)]
    return labels + (["default"] if count < 1 << iw else [])


def _union(*ranges: Range) -> Range:
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _scheduled(name: str, arch: str, steps: int, s: dict, serial_unit: str,
               **serial: Any) -> dict[str, Any]:
    """The frame of a core with pipelined and serial forms: its template, accumulator width
    (a guard bit: the adders wrap, the result fits), and the serial unit's step count."""
    aw = signed_width(*s["core.acc"]) + 1
    ctx: dict[str, Any] = {
        "template": f"activation/{name}_serial.v.j2" if arch == "serial"
        else f"activation/{name}.v.j2",
        "pipelined": arch == "pipelined", "aw": aw, "rw": aw, "latency": steps,
    }
    if arch == "serial":
        ctx.update(unit=serial_unit, sw=unsigned_width(steps - 1), **serial)
    return ctx


def _segments_view(core: SegmentCore, w: int, s: dict, arch: str) -> dict:
    iw = w - core.index_shift if core.uniform else core.index_bits
    y = stored_rom(core.values, iw)
    ctx: dict = {
        "template": "activation/segments.v.j2",
        "uniform": core.uniform,
        "segments": core.segments,
        "shift": core.index_shift,
        "seg_len": 1 << core.index_shift,
        "iw": iw,
        "yw": y.width,
        "value_frac": core.value_frac,
        "slope_frac": core.slope_frac,
        "frac": core.frac,
        "slopes": core.slopes is not None,
        "y_table": y.table,
    }
    acc = s["core.acc"]
    if core.slopes is not None:
        dy = stored_rom(core.slopes, iw)
        ow = verilog_bits(s["core.offset"])[0]
        acc = _union(acc, s["core.product"])
        ctx.update(dw=dy.width, ow=ow, dy_table=dy.table, dy_rom=dy)
    if core.breakpoints is not None:
        assert core.p_lut is not None
        x = stored_rom([b >> core.x_shift for b in core.breakpoints], iw)
        p = stored_rom(core.p_lut, w - core.p_shift)
        ctx.update(
            p_shift=core.p_shift,
            steps=core.search_steps,
            xw=x.width,
            x_shift=core.x_shift,
            vw=w - core.x_shift,
            pw=p.width,
            p_table=p.table,
            p_first=int(core.p_lut[0]),
            x_table=x.table,
        )
    aw = signed_width(*acc) + 1  # a guard bit for the rounding add
    ctx.update(aw=aw, rw=None, y_value=y.value("y_val", aw))
    if core.slopes is not None:
        ctx["dy_value"] = ctx.pop("dy_rom").value("dy_val", aw)
    return ctx


def _knots_view(core: KnotCore, w: int, s: dict, arch: str) -> dict:
    T = core.shift
    n = len(core.knots)
    iw = max(2, unsigned_width(n - 1))  # wide enough for i + 1
    even, odd = core.knots[0::2], core.knots[1::2]
    width, bias = stored_width(core.knots)  # both banks share the knots' storage
    ew, ow = unsigned_width(len(even) - 1), unsigned_width(max(1, len(odd) - 1))
    ke, ko = stored_rom(even, ew), stored_rom(odd, ow)
    ke = replace(ke, table=rom_table([k - bias for k in even], width, ew), width=width, bias=bias,
                 signed=not bias and min(core.knots) < 0)
    ko = replace(ko, table=rom_table([k - bias for k in odd], width, ow), width=width, bias=bias,
                 signed=ke.signed)
    pw = max(T + 1, verilog_bits(s["core.product"])[0])
    acc = _union(s["core.acc"], s["core.term"], (min(core.knots) << T, max(core.knots) << T))
    aw = signed_width(*acc) + 1  # a guard bit: the sums wrap, the result fits
    ctx: dict = {
        "template": "activation/knots.v.j2",
        "segments": core.segments,
        "knot_count": n,
        "shift": T,
        "region_bits": core.region_bits,
        "regions": 1 << core.region_bits,
        "pow2": core.pow2,
        "value_frac": core.value_frac,
        "frac": core.frac,
        "iw": iw, "evw": ew, "odw": ow, "kw": width, "pw": pw, "aw": aw, "rw": None,
        "even_table": ke.table, "odd_table": ko.table,
        "k0_value": ke.value("k0", aw),
        "dk_value": f"({ext('k1', width, ke.signed, aw)} - {ext('k0', width, ke.signed, aw)})",
    }
    if core.region_bits:
        base = stored_rom(core.bases, core.region_bits)
        count = stored_rom(core.count_table(), core.region_bits)
        ctx.update(base_table=base.table, bw=base.width, base_bias=base.bias,
                   count_table=count.table, cw=count.width, count_bias=count.bias,
                   cvw=unsigned_width(max(core.count_table())))
    else:
        ctx.update(count=core.counts[0], count_shift=core.counts[0].bit_length() - 1)
    return ctx


def _shiftadd_view(core: ShiftAddCore, w: int, s: dict, arch: str) -> dict:
    n, segs = core.in_bits, core.segments
    iw = verilog_bits(s["core.index"])[0]
    xw = verilog_bits(s["core.xp"])[0]
    d_min, d_max = core.digit_range()
    steps = d_max - d_min + 1
    rows = []
    for label in _case_labels(segs, iw):
        i = segs - 1 if label == "default" else int(label.split("'d")[1])
        add = sub = 0
        for g, r in core.segment_terms(i):
            if g > 0:
                add |= 1 << (r - d_min)
            elif g < 0:
                sub |= 1 << (r - d_min)
        rows.append({
            "label": label,
            "bias": core.biases[i],
            "terms": core.segment_terms(i),
            "slope": core.slope_text(i),
            "digits": f"{2 * steps}'b{(sub << steps) | add:0{2 * steps}b}",
        })
    ctx = _scheduled("shiftadd", arch, steps, s, "one shift-add unit (one bit position of the "
                     "slopes per clock)", d_min=d_min, shw=xw - d_min)
    ctx.update(segments=segs, terms=core.terms, pre_shift=core.pre_shift, frac=core.frac, iw=iw,
               xw=xw, tree=_tree(core.breakpoints, 0, segs - 1, iw, n), segment_rows=rows)
    return ctx


def _threshold_view(core: ThresholdCore, w: int, s: dict, arch: str) -> dict:
    n = core.in_bits
    lists = []
    for name, values in (("up", core.up), ("down", core.down)):
        if values:
            ib = unsigned_width(len(values) - 1)
            lists.append({
                "name": name,
                "count": len(values),
                "thresholds": [f"{n}'d{t}" for t in values],
                "cw": verilog_bits(s[f"core.{name}_count"])[0],
                "table": rom_table(values, n, ib),
            })
    ku, kd = core.search_steps()
    steps = max(1, ku + kd)
    bits = list(range(ku - 1, -1, -1)) + list(range(kd - 1, -1, -1))
    ctx = _scheduled("threshold", arch, steps, s, "one comparator (a binary search of the "
                     "sorted thresholds)", up_steps=ku, bits=bits,
                     bw=unsigned_width(max(bits, default=0)), cw=max(1, ku, kd))
    ctx.update(base=core.base, lists=lists)
    return ctx


_CORE_VIEWS: dict[type, Callable[[Any, int, dict, str], dict]] = {
    SegmentCore: _segments_view,
    KnotCore: _knots_view,
    ShiftAddCore: _shiftadd_view,
    ThresholdCore: _threshold_view,
}


def frame_view(unit: ActivationUnit, s: dict, r_width: int | None = None) -> dict:
    """Widths and literals of the frame around the core: fold, result, saturation. The core
    template declares its result r signed, ``r_width`` bits wide (default: just enough)."""
    fi = unit.in_format
    rw = r_width or signed_width(*s["core.r"])
    ctx: dict = {"fold": unit.fold, "w": unit.core_bits, "rw": rw}
    span = _union(s["result"], s["out"], s["core.r"])
    if unit.fold is not None:
        f = unit.fold
        ew = fi.bits + 2
        rlo, rhi = s["core.r"]
        span = _union(span, s["fold_offset"], s["fold_linear"], (f.sign * rlo, f.sign * rlo),
                      (f.sign * rhi, f.sign * rhi))
        sw = max(signed_width(*span) + 1, ew, rw)
        expr = fold_expression(f, ext("r", rw, True, sw), ext("e", ew, True, sw),
                               lambda v: shex(v, sw))
        top = max(f.center - fi.code_min, fi.code_max - f.center)
        ctx.update(ew=ew, satw=sw, mirror_expr=f"({expr})", clamp=top > f.vmax,
                   mirror_text=fold_expression(f, "c"))
    else:
        ctx["satw"] = max(signed_width(*span), rw)
    ctx["saturate"] = unit.saturates
    return ctx


_render = Renderer("verilog", ext=ext, shex=shex, term=_term, zext=zext, uext=uext,
                   hexp=hex_pattern)


def emit(unit: ActivationUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    from . import Schedule, render_testbench, vectors_text

    assert not isinstance(unit.core, FloatSegmentCore)
    arch = options.architecture
    s = unit.signals()
    ctx = _CORE_VIEWS[type(unit.core)](unit.core, unit.core_bits, s, arch)
    template = ctx.pop("template")
    latency = ctx.get("latency", 0)
    ctx.update(frame_view(unit, s, ctx.pop("rw")))
    ctx.update(activation_header(unit, info))
    if isinstance(unit.core, (ShiftAddCore, ThresholdCore)):
        ctx["summary"] = unit.core.summary() + f", {arch}, {unit.memory_bits} ROM bits"
    clocked = arch != "parallel"
    ctx["registered"] = options.registered or clocked
    if arch == "pipelined":
        schedule = Schedule("pipelined", 2)
    elif arch == "serial":
        schedule = Schedule("serial", latency)
    else:
        schedule = Schedule("registered" if options.registered else "combinational")
    vectors = {**info.space.vectors, **info.expected}
    return {
        f"{unit.name}.v": _render(template, **ctx),
        f"{unit.name}_tb.v": render_testbench(unit, schedule, info.version, len(info.space)),
        f"{unit.name}_vectors.hex": vectors_text(unit, vectors),
    }
