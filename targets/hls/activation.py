"""HLS C++ view of an activation unit (Vitis HLS / Vivado HLS, and hls4ml's C simulation):
``NAME_in_t``/``NAME_out_t`` (ap types whose raw bits are the codes), the scalar function
``NAME(x)``, the array form ``NAME_activation<data_T, res_T, CONFIG_T>(data, res)`` with
hls4ml's activation signature, every internal signal an ``ap_int``/``ap_uint`` of the IR's
range of it (``signals()``), tables as ``static const`` arrays with their ROM pragmas.

Float inputs (fp32, fp16, bf16; ``FloatSegmentCore``) take the C target's float32 datapath,
written in C++: ``float`` ports for fp32, the 16-bit pattern as ``ap_uint<16>`` for fp16 and
bf16, tables of float32 bit patterns read through a union (as the ap_types headers convert
doubles), every float operation its own statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from actc.activation.ir import (
    ActivationUnit,
    FloatSegmentCore,
    KnotCore,
    SegmentCore,
    ShiftAddCore,
    ThresholdCore,
)
from actc.formats import NumberFormat
from actc.unit import Range

from ..base import EmitInfo, Renderer
from ..c.activation import design_hash
from ..c.literals import c_literal
from ..views import activation_header, float_output_constants, fold_expression
from ..widths import verilog_bits
from .tables import HlsTable

__all__ = ["accepts", "ap_format", "ap_type", "design_marker", "emit", "io_types"]


def ap_type(*ranges: Range) -> str:
    """The ``ap_int``/``ap_uint`` holding every value of the ranges."""
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    bits, signed = verilog_bits((lo, hi))
    return f"ap_{'' if signed else 'u'}int<{bits}>"


def ap_format(f: NumberFormat) -> str | None:
    """The ap_fixed/ap_ufixed (ap_int/ap_uint at scale 1) whose values are the format's
    real values, raw bits = the codes: plain fixed point (scale 2^-F, zero point 0), F may
    be negative or exceed the width. None for other formats.

    >>> from actc.formats import parse_format
    >>> [ap_format(parse_format(t, "x")) for t in ("s16.10", "u8.8", "s8", "u8.-2", "s8:0.05:0")]
    ['ap_fixed<16, 6>', 'ap_ufixed<8, 0>', 'ap_int<8>', 'ap_ufixed<8, 10>', None]
    """
    frac = f.frac_bits
    if frac is None:
        return None
    u = "" if f.signed else "u"
    if frac == 0:
        return f"ap_{u}int<{f.bits}>"
    return f"ap_{u}fixed<{f.bits}, {f.bits - frac}>"


def io_types(f: Any) -> tuple[str, bool]:
    """(type, real): the port type, and whether its value is the format's real value (an
    ap_fixed of the format, or ``float`` for fp32) or only its code (an ap_int/ap_uint of the
    code: affine formats, whose scale is not a power of two or whose zero point is not 0;
    ``ap_uint<16>`` holding the bit pattern of fp16 and bf16).

    >>> from actc.formats import parse_format
    >>> [io_types(parse_format(t, "x")) for t in ("s8.4", "u8:0.1:3", "fp32", "bf16")]
    [('ap_fixed<8, 4>', True), ('ap_uint<8>', False), ('float', True), ('ap_uint<16>', False)]
    """
    if f.is_float:
        return ("float", True) if f.kind == "fp32" else ("ap_uint<16>", False)
    t = ap_format(f)
    if t is not None:
        return t, True
    return f"ap_{'' if f.signed else 'u'}int<{f.bits}>", False


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """Every activation: fixed-point and float ports alike."""
    return None


def design_marker(name: str) -> str:
    """The macro a header defines once its design is included (``_STREAM`` appended: its
    stream form is declared)."""
    return f"ACTC_{name.upper()}_DESIGN"


def _lit(v: int) -> str:
    return c_literal(v)


def _idx(expr: str) -> str:
    return f"({expr}).to_uint()" if not expr.isidentifier() else f"{expr}.to_uint()"


# --- the cores ------------------------------------------------------------------------------


def _segments(unit: ActivationUnit, s: dict[str, Range]) -> tuple[str, list[HlsTable], dict]:
    core: SegmentCore = unit.core
    name = unit.name
    tab: dict[str, HlsTable] = {}
    if core.breakpoints is not None:
        assert core.p_lut is not None
        tab["p"] = HlsTable.of(f"{name}_p_lut", core.p_lut, "first candidate segment for each "
                               "top-bits bucket of v", "rom_1p", s["core.p"])
        grid = f" >> {core.x_shift}" if core.x_shift else ""
        tab["x"] = HlsTable.of(f"{name}_x_lut", [b >> core.x_shift for b in core.breakpoints],
                               f"segment starts{grid}, ascending", "complete", s["core.x"])
    tab["y"] = HlsTable.of(f"{name}_y_lut", core.values,
                           f"{core.value_frac} fractional bits" if core.value_frac else "",
                           "rom_1p", s["core.y"])
    if core.slopes is not None:
        tab["dy"] = HlsTable.of(f"{name}_dy_lut", core.slopes, f"{core.slope_frac} fractional "
                                "bits (output codes per input code)", "rom_1p", s["core.dy"])
    F = core.frac
    i_t = ap_type(s["core.index"])
    ctx: dict[str, Any] = {"uniform": core.uniform, "segments": core.segments,
                           "steps": core.search_steps, "tab": tab, "i_t": i_t,
                           "y_t": ap_type(s["core.y"]), "rnd": _lit(1 << (F - 1)) if F else "",
                           "frac": F}
    if core.uniform:
        top = (1 << (core.in_bits - core.index_shift)) - 1
        ctx["index"] = f"v >> {core.index_shift}" if core.index_shift else "v"
        ctx["index_clamp"] = top > core.segments - 1
    else:
        ctx["p_read"] = tab["p"].read(_idx(f"v >> {core.p_shift}" if core.p_shift else "v"))
        nxt = tab["x"].read("i + 1u")
        ctx["next_start"] = f"(ap_uint<{core.in_bits}>({nxt}) << {core.x_shift})" \
            if core.x_shift else nxt
    ctx["y_read"] = tab["y"].read(_idx("i"))
    if core.slopes is None:
        ctx.update(mode="constant", acc_t=ap_type(s["core.acc"]))
        return "activation/segments.h.j2", list(tab.values()), ctx
    u = F - core.value_frac
    if core.uniform:
        offset = f"v & {_lit((1 << core.index_shift) - 1)}u" if core.index_shift else "0"
    else:
        start = tab["x"].read(_idx("i"))
        offset = (f"v - (ap_uint<{core.in_bits}>({start}) << {core.x_shift})" if core.x_shift
                  else f"v - {start}")
    acc_t = ap_type(s["core.acc"], s["core.product"])
    ctx.update(mode="interpolate", acc_t=acc_t, dy_t=ap_type(s["core.dy"]),
               d_t=ap_type(s["core.offset"]), offset=offset,
               dy_read=tab["dy"].read(_idx("i")),
               y_scaled=f"({acc_t}(y) << {u})" if u else f"{acc_t}(y)")
    return "activation/segments.h.j2", list(tab.values()), ctx


def _knots(unit: ActivationUnit, s: dict[str, Range]) -> tuple[str, list[HlsTable], dict]:
    core: KnotCore = unit.core
    name = unit.name
    T = core.shift
    frac = f", {core.value_frac} fractional bits" if core.value_frac else ""
    tab = {"k": HlsTable.of(f"{name}_knots", core.knots, "segment k interpolates knots k and "
                            f"k + 1{frac}", "rom_2p", s["core.k0"])}
    if core.region_bits:
        tab["base"] = HlsTable.of(f"{name}_base", core.bases, "index of each region's first "
                                  "knot", "rom_1p", s["core.base"])
        tab["count"] = HlsTable.of(f"{name}_count", core.count_table(),
                                   "log2 of each region's segment count" if core.pow2
                                   else "segments in each region", "rom_1p", s["core.count"])
    p_t = ap_type(s["core.product"], (0, (1 << T) - 1))
    if core.region_bits:
        count = tab["count"].read(_idx("j"))
        offset = f"{p_t}(v & {_lit((1 << T) - 1)}u)"
        product = f"{offset} << {count}" if core.pow2 else f"{offset} * {count}"
        index = f"{tab['base'].read(_idx('j'))} + (p >> {T})"
    else:
        m = core.counts[0]
        shift = m.bit_length() - 1
        product = ((f"{p_t}(v) << {shift}" if shift else f"{p_t}(v)") if core.pow2
                   else f"{p_t}(v) * {_lit(m)}")
        index = f"p >> {T}"
    acc_t = ap_type(s["core.acc"], s["core.term"], (min(core.knots) << T, max(core.knots) << T))
    ctx = {"tab": tab, "regions": bool(core.region_bits), "shift": T,
           "j_t": ap_type(s["core.region"]) if core.region_bits else "",
           "p_t": p_t, "i_t": ap_type(s["core.index"], (0, core.segments)),
           "f_t": ap_type(s["core.f"]), "k_t": ap_type(s["core.k0"]),
           "dk_t": ap_type(s["core.dk"]), "acc_t": acc_t, "product": product,
           "index": index, "mask": f"{_lit((1 << T) - 1)}u",
           "k0_read": tab["k"].read(_idx("i")), "k1_read": tab["k"].read(_idx("i + 1u")),
           "rnd": _lit(1 << (core.frac - 1)), "frac": core.frac, "segments": core.segments}
    return "activation/knots.h.j2", list(tab.values()), ctx


def _shiftadd(unit: ActivationUnit, s: dict[str, Range]) -> tuple[str, list[HlsTable], dict]:
    """GRAU in HLS: comparators against constants pick the segment; each segment's slope
    terms are constant shifts of xp, added or (ones' complement) subtracted, selected by a
    switch: shifts and adders, no multiplier and no barrel shifter, as in the Verilog."""
    core: ShiftAddCore = unit.core
    acc_t = ap_type(s["core.acc"], s["core.bias"])
    xp_t = ap_type(s["core.xp"])
    xw = verilog_bits(s["core.xp"])[0]
    rows = []
    for i in range(core.segments):
        expr = f"{acc_t}({_lit(core.biases[i])})"
        for g, r in core.segment_terms(i):
            term = "0" if r >= xw else (f"(xp >> {r})" if r else "xp")
            if g > 0 and term != "0":
                expr += f" + {term}"
            elif g < 0:  # ~t = -t - 1
                expr += f" - {term} - 1" if term != "0" else " - 1"
        rows.append({"expr": expr, "slope": core.slope_text(i)})
    ctx = {"segments": core.segments, "breakpoints": [_lit(b) for b in core.breakpoints],
           "seg_t": ap_type(s["core.index"]), "xp_t": xp_t, "acc_t": acc_t,
           "xp": f"{xp_t}(v) << {core.pre_shift}" if core.pre_shift else f"{xp_t}(v)",
           "rows": rows, "frac": core.frac}
    return "activation/shiftadd.h.j2", [], ctx


def _threshold(unit: ActivationUnit, s: dict[str, Range]) -> tuple[str, list[HlsTable], dict]:
    core: ThresholdCore = unit.core
    lists: list[dict[str, Any]] = []
    tables: list[HlsTable] = []
    for key, sign, values in (("up", "+", core.up), ("down", "-", core.down)):
        if values:
            tables.append(HlsTable.of(f"{unit.name}_{key}", values, "thresholds, ascending",
                                      "complete", s["core.v"]))
            assert tables[-1].bias == 0
            lists.append({"table": tables[-1], "key": key, "sign": sign,
                          "count_t": ap_type(s[f"core.{key}_count"])})
    ctx = {"base": _lit(core.base), "lists": lists,
           "sum_t": ap_type(s["core.acc"], s["core.r"])}
    return "activation/threshold.h.j2", tables, ctx


_CORES: dict[type, Callable[[ActivationUnit, dict[str, Range]],
                            tuple[str, list[HlsTable], dict]]] = {
    SegmentCore: _segments, KnotCore: _knots, ShiftAddCore: _shiftadd,
    ThresholdCore: _threshold,
}


# --- the frame around the core ---------------------------------------------------------------


def _frame(unit: ActivationUnit, s: dict[str, Range]) -> dict[str, Any]:
    """The input code, the offset or fold, the core's result, the saturation."""
    fi, fo = unit.in_format, unit.out_format
    assert isinstance(fi, NumberFormat) and isinstance(fo, NumberFormat)
    ctx: dict[str, Any] = {
        "code_t": ap_type(s["code"]), "v_t": f"ap_uint<{unit.core_bits}>",
        "r_t": ap_type(s["core.r"], *([(-1, 0)] if unit.fold else [])),
        "q_t": ap_type(s["out"]),
        "res_t": ap_type(s["result"], s["out"], s["core.r"]),
        "fold": unit.fold, "saturate": unit.saturates,
        "out_min": _lit(fo.code_min), "out_max": _lit(fo.code_max),
    }
    fold = unit.fold
    if fold is None:
        shift = -fi.code_min
        ctx["v"] = f"c + {_lit(shift)}" if shift else "c"
        return ctx
    e = s["e"]
    ctx["e_t"] = ap_type(e)
    ctx["e"] = "c" if fold.center == 0 else f"c - {_lit(fold.center)}"
    ctx["mag_t"] = ap_type((0, max(-e[0], e[1])))
    top = max(fold.center - fi.code_min, fi.code_max - fold.center)
    ctx["vmax"] = _lit(fold.vmax) if top > fold.vmax else None
    ctx["mirror"] = fold_expression(fold, literal=_lit)
    ctx["relation"] = fold.relation
    return ctx


def _float(unit: ActivationUnit) -> tuple[str, list[HlsTable], dict]:
    """The float32 datapath (FloatSegmentCore, docs/reference/formats.md: Float inputs), as the
    C target's: P_LUT, X, Y and DY tables of float32 bit patterns, the output conversion."""
    core: FloatSegmentCore = unit.core
    fi, fo = unit.in_format, unit.out_format
    name = unit.name
    s = core.signals()
    x_bits = 32 if fi.kind == "fp32" else 16  # type: ignore[attr-defined]
    tab = {
        "p": HlsTable.of(f"{name}_p_lut", core.p_lut, "first candidate segment per bucket",
                         "rom_1p", s["p"]),
        "x": HlsTable.patterns(f"{name}_x_lut", core.breakpoints, "segment starts, float32 "
                               "bits, ascending", "complete", x_bits),
        "y": HlsTable.patterns(f"{name}_y_lut", core.values, "segment values at their starts, "
                               "float32 bits", "rom_1p", 32),
        "dy": HlsTable.patterns(f"{name}_dy_lut", core.slopes, "segment slopes, float32 bits",
                                "rom_1p", 32),
    }
    nb = (core.p_emax - core.p_emin + 1) << core.p_mant
    out_kind = fo.kind if fo.is_float else "fixed"  # type: ignore[attr-defined]
    f32 = np.float32
    ctx: dict[str, Any] = {
        "in_kind": fi.kind, "out_kind": out_kind,  # type: ignore[attr-defined]
        "segments": core.segments, "steps": core.search_steps,
        "lo_bits": f"0x{core.lo:08X}", "hi_bits": f"0x{core.hi:08X}",
        "lo": repr(float(np.array([core.lo], dtype=np.uint32).view(f32)[0])),
        "hi": repr(float(np.array([core.hi], dtype=np.uint32).view(f32)[0])),
        "emin": core.p_emin, "emax": core.p_emax, "mbits": core.p_mant,
        "i_t": ap_type(s["index"]),
        "p_read": tab["p"].read(f"(b >> 31) ? ({nb - 1}u - bucket) : ({nb}u + bucket)"),
        "x_next": tab["x"].read(_idx("i + 1u")), "x_read": tab["x"].read(_idx("i")),
        "y_read": tab["y"].read(_idx("i")), "dy_read": tab["dy"].read(_idx("i")),
        "out_api": (f"the output is the {out_kind} " + ("value" if out_kind == "fp32"
                                                          else "bit pattern")
                    if fo.is_float else f"the output is the {fo.text} code, rounded half "
                    "to even"),
    }
    if not fo.is_float:
        ctx.update(float_output_constants(fo), q_t=ap_type((fo.code_min, fo.code_max)))
    return "activation/float.h.j2", list(tab.values()), ctx


def emit(unit: ActivationUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    if isinstance(unit.core, FloatSegmentCore):
        template, tables, ctx = _float(unit)
    else:
        s = unit.signals()
        template, tables, ctx = _CORES[type(unit.core)](unit, s)
        ctx.update(_frame(unit, s))
    ctx.update(activation_header(unit, info))
    in_t, in_real = io_types(unit.in_format)
    out_t, out_real = io_types(unit.out_format)
    ctx.update(
        guard=f"ACTC_{unit.name.upper()}_{design_hash(unit)}_HLS_H",
        marker=design_marker(unit.name), table_list=tables,
        table_bits=sum(t.bits for t in tables), in_t=in_t, out_t=out_t, in_real=in_real,
        out_real=out_real,
    )
    return {f"{unit.name}.h": _render(template, **ctx)}


_render = Renderer("hls")
