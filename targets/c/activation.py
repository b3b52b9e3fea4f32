"""C99 view of an activation unit: integer arithmetic typed from the IR's signal ranges (or
the float32 datapath of a float core), tables in flash, the format macros, the scalar
function ``NAME(x)`` and the batch call ``NAME_array(in, out, n)``.

Two layouts (the ``--c-layout`` option): ``header`` emits NAME.h with every function
``static inline`` and every table ``static`` (each translation unit that calls it gets its own
copy of the tables it reads); ``split`` emits NAME.h (macros and prototypes) and NAME.c (the
tables, once, and the functions), as CMSIS-style libraries ship.

Arithmetic types (docs/reference/firmware.md): every signal is held in ``int32_t``/``uint32_t``
where the IR's range allows, else in 64 bits. An interpolation whose accumulator exceeds 32 bits
(most 16-bit geba and optimal designs) is computed in two 32-bit parts (``SegmentCore.
split_signals``), so 8- and 16-bit designs never call a 64-bit runtime helper.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
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
from ..views import activation_header, float_output_constants
from ..widths import c_arith, c_fits, c_int_type
from .literals import c_literal, c_unsigned
from .tables import CTable, table_bytes

__all__ = ["LAYOUTS", "accepts", "design_hash", "emit", "harness_call", "storage"]

LAYOUTS = ("header", "split")

_render = Renderer("c", c_int=c_literal, c_uint=c_unsigned)


@dataclass
class _View:
    """What a core contributes: its definitions template, its tables (in emission order) and
    the template context."""

    template: str
    tables: list[CTable]
    ctx: dict[str, Any] = field(default_factory=dict)


def _shr(expr: str, s: int, nonneg: bool, name: str) -> str:
    """floor(expr / 2^s): a plain shift where the value cannot be negative."""
    if s == 0:
        return expr
    if nonneg:
        return f"(({expr}) >> {s})" if " " in expr else f"({expr} >> {s})"
    return f"{name}_floor_shift({expr}, {s}u)"


def _cast(expr: str, have: str, want: str) -> str:
    return expr if have == want else f"({want})({expr})"


def _plus(terms: list[str]) -> str:
    """A sum of C terms, ``a + b - c`` for a term written ``-c``."""
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def _const(value: int) -> str:
    return c_literal(value, paren=False)


def _times(expr: str, k: int) -> str:
    return expr if k == 1 else f"{expr} * {_const(k)}"


# --- the cores ------------------------------------------------------------------------------


def _segments(unit: ActivationUnit, s: dict[str, Range]) -> _View:
    core: SegmentCore = unit.core
    name = unit.name
    tab: dict[str, CTable] = {}
    if core.breakpoints is not None:
        assert core.p_lut is not None
        tab["p"] = CTable.of(f"{name}_p_lut", core.p_lut,
                             "first candidate segment for each top-bits bucket of v", s["core.p"])
        grid = f" >> {core.x_shift} (they lie on a grid of {1 << core.x_shift} codes)" \
            if core.x_shift else ""
        tab["x"] = CTable.of(f"{name}_x_lut", [b >> core.x_shift for b in core.breakpoints],
                             f"segment starts{grid}, ascending", s["core.x"])
    tab["y"] = CTable.of(f"{name}_y_lut", core.values,
                         f"{core.value_frac} fractional bits" if core.value_frac else "",
                         s["core.y"])
    if core.slopes is not None:
        tab["dy"] = CTable.of(f"{name}_dy_lut", core.slopes,
                              f"{core.slope_frac} fractional bits (output codes per input code)",
                              s["core.dy"])
    F = core.frac
    rnd = 1 << (F - 1) if F > 0 else 0
    ctx: dict[str, Any] = {"uniform": core.uniform, "segments": core.segments,
                           "steps": core.search_steps, "tab": tab, "frac": F,
                           "value_frac": core.value_frac,
                           "vx": _shr("v", core.x_shift, True, name)}
    if core.uniform:
        ctx["index"] = _shr("v", core.index_shift, True, name)
        ctx["offset"] = f"v & {c_unsigned((1 << core.index_shift) - 1)}"
    else:
        ctx["p_index"] = _shr("v", core.p_shift, True, name)
        start = tab["x"].read("i", "uint32_t")
        ctx["offset"] = f"v - ({start} << {core.x_shift})" if core.x_shift else f"v - {start}"
    r_t = c_arith(s["core.r"])
    if core.slopes is None:
        acc_t = c_arith(s["core.acc"])
        acc = _plus([tab["y"].read("i", acc_t)] + ([_const(rnd)] if rnd else []))
        ctx.update(mode="constant", acc_t=acc_t,
                   ret=_cast(_shr(acc, F, s["core.acc"][0] >= 0, name), acc_t, r_t))
        return _View("activation/segments.c.j2", list(tab.values()), dict(ctx, r_t=r_t))
    u = F - core.value_frac
    acc_t = c_arith(s["core.acc"], s["core.product"])
    h = _split_point(core) if acc_t != "int32_t" else None
    if h is None:
        acc = _plus([_times(tab["y"].read("i", acc_t), 1 << u),
                     f"{tab['dy'].read('i', acc_t)} * ({acc_t})d"]
                    + ([_const(rnd)] if rnd else []))
        ctx.update(mode="acc", acc_t=acc_t, acc=acc,
                   ret=_cast(_shr("acc", F, s["core.acc"][0] >= 0, name), acc_t, r_t))
    else:
        sp = core.split_signals(h)
        mask = (1 << h) - 1
        if u >= h:
            y_low, y_high = None, _times("y", 1 << (u - h))
        else:
            y_low = f"(((uint32_t)y & {c_unsigned((1 << (h - u)) - 1)}) << {u})" if u else \
                f"((uint32_t)y & {c_unsigned(mask)})"
            y_high = _shr("y", h - u, s["core.y"][0] >= 0, name)
        low = [f"((uint32_t)dy & {c_unsigned(mask)}) * d"]
        low += [y_low] if y_low else []
        low += [c_unsigned(rnd & mask)] if rnd & mask else []
        high = [f"{_shr('dy', h, s['core.dy'][0] >= 0, name)} * (int32_t)d", y_high]
        high += [_const(rnd >> h)] if rnd >> h else []
        high.append(f"(int32_t)(low >> {h})")
        ctx.update(mode="split", acc_t="int32_t", split=h, low=_plus(low), high=_plus(high),
                   y_read=tab["y"].read("i", "int32_t"), dy_read=tab["dy"].read("i", "int32_t"),
                   ret=_cast(_shr("high", F - h, sp["high"][0] >= 0, name), "int32_t", r_t))
    return _View("activation/segments.c.j2", list(tab.values()), dict(ctx, r_t=r_t))


def _knots(unit: ActivationUnit, s: dict[str, Range]) -> _View:
    """Hierarchical chord tables (KnotCore): region j = v >> T, p = offset * count (a shift
    with power-of-two counts), knot index base + (p >> T), chord between knots i and i + 1."""
    core: KnotCore = unit.core
    name = unit.name
    T = core.shift
    frac = f", {core.value_frac} fractional bits" if core.value_frac else ""
    tab = {"k": CTable.of(f"{name}_knots", core.knots,
                          f"segment k interpolates knots k and k + 1{frac}", s["core.k0"])}
    if core.region_bits:
        tab["base"] = CTable.of(f"{name}_base", core.bases, "index of each region's first knot",
                                s["core.base"])
        tab["count"] = CTable.of(f"{name}_count", core.count_table(),
                                 "log2 of each region's segment count" if core.pow2
                                 else "segments in each region", s["core.count"])
    p_t = c_arith(s["core.product"], unsigned=True)
    acc_t = c_arith(s["core.acc"], s["core.term"], s["core.k0"], s["core.dk"])
    r_t = c_arith(s["core.r"])
    mask = c_unsigned((1 << T) - 1)
    if core.region_bits:
        count = tab["count"].read("j", "uint32_t")
        offset = f"({p_t})(v & {mask})"
        product = f"{offset} << {count}" if core.pow2 else f"{offset} * {count}"
        index = f"{tab['base'].read('j', 'uint32_t')} + (uint32_t)(p >> {T})"
    else:
        m = core.counts[0]
        v = "v" if p_t == "uint32_t" else f"({p_t})v"
        shift = m.bit_length() - 1
        product = (f"{v} << {shift}" if shift else v) if core.pow2 else f"{v} * {c_unsigned(m)}"
        index = f"(uint32_t)(p >> {T})"
    rnd = 1 << (core.frac - 1)
    acc = _plus([_times("k0", 1 << T), "dk * f", _const(rnd)])
    ctx = {"tab": tab, "regions": bool(core.region_bits), "shift": T, "mask": mask,
           "p_t": p_t, "acc_t": acc_t, "r_t": r_t, "product": product, "index": index,
           "k0": tab["k"].read("i", acc_t), "k1": tab["k"].read("i + 1u", acc_t),
           "acc": acc, "segments": core.segments,
           "ret": _cast(_shr("acc", core.frac, s["core.acc"][0] >= 0, name), acc_t, r_t)}
    return _View("activation/knots.c.j2", list(tab.values()), ctx)


def _split_point(core: SegmentCore) -> int | None:
    """The largest split of the interpolation into two 32-bit parts (``low`` unsigned,
    ``high`` signed, every partial sum held), or None when no split fits."""
    for h in range(core.frac, 0, -1):
        sp = core.split_signals(h)
        if c_fits(sp["low"], "uint32_t") and c_fits(sp["high"], "int32_t") \
                and c_fits(sp["dy_high"], "int32_t") and c_fits(sp["y_high"], "int32_t"):
            return h
    return None


def _shiftadd(unit: ActivationUnit, s: dict[str, Range]) -> _View:
    core: ShiftAddCore = unit.core
    name = unit.name
    tab: dict[str, CTable] = {}
    if core.breakpoints:
        tab["bp"] = CTable.of(f"{name}_breakpoints", core.breakpoints,
                              "segment i > 0 starts at core input v = entry i - 1",
                              s["core.v"])
    tab["bias"] = CTable.of(f"{name}_bias", core.biases,
                            f"per segment, {core.frac} fractional bits", s["core.bias"])
    # one signed byte per term: 0 none, +(r + 1) adds xp >> r, -(r + 1) adds ~(xp >> r)
    codes = [g * (r + 1) for g, r in zip(core.signs, core.shifts)]
    k = core.terms
    tab["term"] = CTable.of(
        f"{name}_terms", codes,
        f"{k} per segment: 0 none, r + 1: add xp >> r, -(r + 1): add ~(xp >> r)",
        (-(max(core.shifts) + 1), max(core.shifts) + 1))
    acc_t = c_arith(s["core.acc"], s["core.partial"], s["core.bias"])
    xp_t = c_arith(s["core.xp"], unsigned=True)
    if xp_t == "uint32_t" and max(core.shifts) >= 32:  # a shift by the full width is undefined
        xp_t = "uint64_t"
    r_t = c_arith(s["core.r"])
    terms = [(f"seg * {c_unsigned(k)} + {c_unsigned(j)}" if j else f"seg * {c_unsigned(k)}")
             if k > 1 else "seg" for j in range(k)]
    xp = "v" if xp_t == "uint32_t" else f"({xp_t})v"
    nonneg = s["core.acc"][0] >= 0 and s["core.partial"][0] >= 0
    ctx = {"segments": core.segments, "tab": tab, "acc_t": acc_t, "xp_t": xp_t,
           "xp": f"{xp} << {core.pre_shift}" if core.pre_shift else xp,
           "term_index": terms, "r_t": r_t,
           "slopes": [core.slope_text(i) for i in range(core.segments)],
           "ret": _cast(_shr("acc", core.frac, nonneg, name), acc_t, r_t)}
    return _View("activation/shiftadd.c.j2", list(tab.values()), ctx)


def _threshold(unit: ActivationUnit, s: dict[str, Range]) -> _View:
    core: ThresholdCore = unit.core
    lists = [(CTable.of(f"{unit.name}_{key}", values, "thresholds, ascending", s["core.v"]), sign)
             for key, sign, values in (("up", "+", core.up), ("down", "-", core.down)) if values]
    r_t = c_arith(s["core.r"], s["core.acc"])
    counts = [f"{'-' if sign == '-' else ''}({r_t}){t.symbol}_count(v)" for t, sign in lists]
    ctx = {"base": core.base, "lists": lists, "r_t": r_t,
           "count_sum": _plus(([_const(core.base)] if core.base or not counts else []) + counts)}
    return _View("activation/threshold.c.j2", [t for t, _ in lists], ctx)


_CORES: dict[type, Callable[[ActivationUnit, dict[str, Range]], _View]] = {
    SegmentCore: _segments, KnotCore: _knots, ShiftAddCore: _shiftadd,
    ThresholdCore: _threshold,
}


# --- the frame around the core ---------------------------------------------------------------


def _integer_frame(unit: ActivationUnit, s: dict[str, Range]) -> dict[str, Any]:
    """Parameter and frame types, the input clamp, the fold, the saturation."""
    fi = unit.in_format
    assert isinstance(fi, NumberFormat)
    code = s["code"]
    param_t = _param_type(fi)
    frame = [code, s["result"], s["out"], s["core.r"]]
    frame += [s[k] for k in ("e", "fold_linear") if k in s]
    f_t = "int64_t" if param_t == "int64_t" else c_arith(*frame)
    fu_t = "u" + f_t
    bits = 32 if param_t == "int32_t" else 64
    lo_p, hi_p = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    ctx: dict[str, Any] = {
        "param_t": param_t, "f_t": f_t, "fu_t": fu_t,
        "clamp_lo": fi.code_min > lo_p, "clamp_hi": fi.code_max < hi_p,
        "fold": unit.fold, "saturate": unit.saturates,
    }
    fold = unit.fold
    if fold is None:
        shift = -fi.code_min
        ctx["v"] = f"(uint32_t)c + {c_unsigned(shift)}" if shift else "(uint32_t)c"
        return ctx
    center = fold.center
    ctx["e"] = "c" if center == 0 else (f"c - {center}" if center > 0 else f"c + {-center}")
    top = max(center - fi.code_min, fi.code_max - center)
    vmax = c_unsigned(fold.vmax)
    ctx["v"] = f"(uint32_t)(mag > {vmax} ? {vmax} : mag)" if top > fold.vmax else \
        ("mag" if fu_t == "uint32_t" else "(uint32_t)mag")
    mirror = ["r" if fold.sign > 0 else "-r"]
    if fold.offset:
        mirror.append(_const(fold.offset))
    if fold.slope:
        mirror.append(_times("e", fold.slope) if fold.slope > 0 else f"-{_times('e', -fold.slope)}")
    ctx["mirror"] = _plus(mirror)
    ctx["relation"] = fold.relation
    return ctx


# --- formats, names, layouts ------------------------------------------------------------------


def design_hash(unit: ActivationUnit) -> str:
    """Eight hex digits identifying the design (its IR), for include guards."""
    text = json.dumps(unit.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8].upper()


def _macros(unit: ActivationUnit) -> list[tuple[str, str]]:
    """NAME_IN_* and NAME_OUT_* (bits, signedness, scale, zero point, code range)."""
    out = []
    for port, f in (("IN", unit.in_format), ("OUT", unit.out_format)):
        p = f"{unit.name.upper()}_{port}"
        out.append((f"{p}_BITS", str(f.bits)))
        if isinstance(f, NumberFormat):
            out += [(f"{p}_SIGNED", "1" if f.signed else "0"), (f"{p}_SCALE", repr(f.scale)),
                    (f"{p}_ZERO_POINT", c_literal(f.zero_point)),
                    (f"{p}_MIN", c_literal(f.code_min)), (f"{p}_MAX", c_literal(f.code_max))]
        else:
            out.append((f"{p}_FLOAT", f'"{f.text}"'))
    return out


def _io_types(unit: ActivationUnit) -> tuple[str, str, str, str]:
    """(scalar parameter, scalar result, array element in, array element out) types."""
    fi, fo = unit.in_format, unit.out_format
    if isinstance(unit.core, FloatSegmentCore):
        in_t = "float" if fi.kind == "fp32" else "uint16_t"  # type: ignore[attr-defined]
        kind = fo.kind if fo.is_float else None  # type: ignore[attr-defined]
        out_t = "float" if kind == "fp32" else "uint16_t" if kind else \
            c_int_type(fo.bits, fo.signed)
        return in_t, out_t, in_t, out_t
    assert isinstance(fi, NumberFormat)
    out_t = c_int_type(fo.bits, fo.signed)
    return _param_type(fi), out_t, c_int_type(fi.bits, fi.signed), out_t


def _param_type(fi: NumberFormat) -> str:
    """The scalar call's parameter: ``int32_t``, or ``int64_t`` where the array element
    (``uint32_t`` for u17 to u32) has values beyond it, so that every element clamps alike."""
    return "int64_t" if c_int_type(fi.bits, fi.signed) == "uint32_t" else "int32_t"


def _view(unit: ActivationUnit) -> _View:
    if isinstance(unit.core, FloatSegmentCore):
        return _float_view(unit)
    s = unit.signals()
    view = _CORES[type(unit.core)](unit, s)
    view.ctx.update(_integer_frame(unit, s))
    view.ctx["floor_shift"] = any("_floor_shift(" in str(v) for v in view.ctx.values())
    types = [v for k, v in view.ctx.items() if k.endswith("_t")]
    view.ctx["wide"] = any("64" in t for t in types)
    return view


def storage(unit: ActivationUnit, options: Any) -> dict[str, int]:
    """``c_bytes``: the bytes of constant tables the C target emits for the unit."""
    return {"c_bytes": table_bytes(_view(unit).tables)}


def accepts(formats: list[Any], cores: tuple[type, ...], options: Any) -> str | None:
    """C emits every activation: fixed-point and float inputs alike."""
    return None


def emit(unit: ActivationUnit, info: EmitInfo, options: Any) -> dict[str, str]:
    view = _view(unit)
    layout = options.c_layout
    param_t, ret_t, in_t, out_t = _io_types(unit)
    ctx = activation_header(unit, info)
    tables = view.tables
    ctx.update(view.ctx)
    ctx.update(
        layout=layout, guard=f"ACTC_{unit.name.upper()}_{design_hash(unit)}_H",
        marker=f"ACTC_{unit.name.upper()}_DESIGN", macros=_macros(unit),
        table_list=tables, c_bytes=table_bytes(tables),
        qual="static inline " if layout == "header" else "",
        param_t=param_t, ret_t=ret_t, in_t=in_t, out_t=out_t,
        float_core=isinstance(unit.core, FloatSegmentCore),
    )
    definitions = _render(view.template, **ctx)
    if layout == "header":
        return {f"{unit.name}.h": _render("activation/header.h.j2", definitions=definitions,
                                          **ctx)}
    return {f"{unit.name}.h": _render("activation/header.h.j2", definitions="", **ctx),
            f"{unit.name}.c": _render("activation/source.c.j2", definitions=definitions,
                                      **ctx)}


# --- the float core ----------------------------------------------------------------------------


def _float_view(unit: ActivationUnit) -> _View:
    core: FloatSegmentCore = unit.core
    fi, fo = unit.in_format, unit.out_format
    in_kind = fi.kind  # type: ignore[attr-defined]
    out_kind = fo.kind if fo.is_float else "fixed"  # type: ignore[attr-defined]
    f32 = np.float32
    name = unit.name
    s = core.signals()
    tab = {
        "p": CTable.of(f"{name}_p_lut", core.p_lut, "first candidate segment per bucket",
                       s["p"]),
        "x": CTable(f"{name}_x_lut", core.breakpoints, "segment starts, float32 bits, ascending",
                    "uint32_t"),
        "y": CTable(f"{name}_y_lut", core.values, "segment values at their starts, float32 bits",
                    "uint32_t"),
        "dy": CTable(f"{name}_dy_lut", core.slopes, "segment slopes, float32 bits", "uint32_t"),
    }
    ctx: dict[str, Any] = {
        "tab": tab, "in_kind": in_kind, "out_kind": out_kind,
        "segments": core.segments, "steps": core.search_steps,
        "lo_bits": f"0x{core.lo:08X}", "hi_bits": f"0x{core.hi:08X}",
        "emin": core.p_emin, "emax": core.p_emax, "mbits": core.p_mant,
        "nb": (core.p_emax - core.p_emin + 1) << core.p_mant,
        "lo": repr(float(np.array([core.lo], dtype=np.uint32).view(f32)[0])),
        "hi": repr(float(np.array([core.hi], dtype=np.uint32).view(f32)[0])),
        "in_api": "input: a float" if in_kind == "fp32" else f"input: {in_kind} bit pattern",
        "out_api": (f"output: {out_kind} " + ("value" if out_kind == "fp32" else "bit pattern")
                    if fo.is_float else f"output: {fo.text} code"),
    }
    if not fo.is_float:
        ctx.update(float_output_constants(fo))
    return _View("activation/float.c.j2", list(tab.values()), ctx)


def harness_call(unit: ActivationUnit, args: list[str]) -> str:
    """The C expression a test harness prints for input codes ``args``."""
    if isinstance(unit.core, FloatSegmentCore):
        return f"{unit.name}_code({args[0]})"
    return f"{unit.name}(({_io_types(unit)[0]}){args[0]})"

