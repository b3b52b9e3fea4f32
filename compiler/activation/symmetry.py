"""Symmetry, found symbolically, and turned into a fold of the input domain.

The relations tried, with sign s = +1 or -1 and constants a, b:

    f(x) = a + b*x + s*f(-x)
    odd (tanh, erf):           s = -1, a = 0        f(x) = -f(-x)
    point (sigmoid):           s = -1, a = 2 f(0)   f(x) = 2 f(0) - f(-x)
    even (abs):                s = +1, b = 0        f(x) = f(-x)
    odd_plus_linear (GELU, SiLU, softplus, relu):  s = +1, b = f(1) - f(-1)   f(x) = b*x + f(-x)

A quick float64 screen rejects most candidates; sympy then proves the survivor on x > 0
(the difference is even or odd, so the positive half suffices). A relation is used only when
it is exact in codes for the formats at hand: a/scale_out and b*scale_in/scale_out must be
whole numbers of output codes, and the unrounded targets must obey it on every mirrored code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import FitError
from ..formats import NumberFormat
from .domain import fit_domain
from .frontend import Expression
from .ir import Fold
from .numeric import eval_float
from .spec import Spec

__all__ = ["Symmetry", "find_symmetry", "fit_folded", "plan_fold"]

_PROBES = np.array([0.37, 1.1, 2.9, 5.3, 0.05])


@dataclass(frozen=True)
class Symmetry:
    kind: str
    sign: int
    a: float
    b: float
    relation: str


def _relation(sign: int, a, b) -> str:
    parts = []
    if a != 0:
        parts.append(f"{a}")
    if b != 0:
        parts.append("x" if b == 1 else f"{b}*x")
    rhs = " + ".join(parts)
    mirror = "f(-x)" if sign > 0 else "-f(-x)"
    if not rhs:
        return f"f(x) = {mirror}"
    return f"f(x) = {rhs} {'+' if sign > 0 else '-'} f(-x)"


def find_symmetry(expr: Expression) -> Symmetry | None:
    """The relation f(x) = a + b*x + s*f(-x) that sympy proves, or None."""
    import sympy as sp

    f, x = expr.expr, expr.symbol
    if not f.has(x):
        return None
    fp = eval_float(f, x, _PROBES)
    fm = eval_float(f, x, -_PROBES)
    if not (np.isfinite(fp).all() and np.isfinite(fm).all()):
        return None
    scale = max(1.0, float(np.abs(fp).max()), float(np.abs(fm).max()))
    tol = 1e-9 * scale
    pos = sp.Symbol("p", positive=True)
    f_neg = f.subs(x, -x)

    def is_zero(e) -> bool:
        # expand settles most activations at once; simplify is the slow fallback
        return sp.expand(e) == 0 or sp.simplify(e) == 0

    def exact(e):
        v = sp.expand(e)
        return v if v.is_Rational else sp.simplify(e)
    # s = -1: f(x) + f(-x) is constant
    g = fp + fm
    if np.ptp(g) <= tol:
        a = exact(2 * f.subs(x, 0))
        if a.is_number and is_zero((f + f_neg - a).subs(x, pos)):
            kind = "odd" if a == 0 else "point"
            return Symmetry(kind, -1, float(a), 0.0, _relation(-1, a, 0))
    # s = +1: f(x) - f(-x) is linear in x
    g = (fp - fm) / _PROBES
    if np.ptp(g) <= tol:
        b = exact(f.subs(x, 1) - f_neg.subs(x, 1))
        if b.is_number and is_zero((f - f_neg - b * x).subs(x, pos)):
            kind = "even" if b == 0 else "odd_plus_linear"
            return Symmetry(kind, 1, 0.0, float(b), _relation(1, 0, b))
    return None


def _whole(value: float) -> int | None:
    r = round(value)
    return int(r) if abs(value - r) <= 1e-9 * max(1.0, abs(value)) else None


def plan_fold(sym: Symmetry, spec: Spec) -> tuple[Fold | None, str]:
    """A fold (with bits still 0: the pass chooses its width) or None with the reason."""
    fi, fo = spec.in_format, spec.out_format
    assert isinstance(fi, NumberFormat) and isinstance(fo, NumberFormat)
    center = fi.zero_point
    negative = center - fi.code_min
    if negative < fi.size // 8 or center > fi.code_max:
        return None, f"{fi.text} has too few negative inputs for {sym.relation} to pay off"
    offset = _whole(sym.a / fo.scale + (1 - sym.sign) * fo.zero_point)
    if offset is None:
        return None, (f"{sym.relation} needs {sym.a:g}/scale_out to be a whole number of "
                      f"output codes; in {fo.text} it is {sym.a / fo.scale:g}")
    slope = _whole(sym.b * fi.scale / fo.scale)
    if slope is None:
        return None, (f"{sym.relation} needs {sym.b:g}*scale_in/scale_out to be a whole "
                      f"number; {fi.text} -> {fo.text} gives {sym.b * fi.scale / fo.scale:g}")
    e = spec.codes - center
    neg = e < 0
    # the targets on mirrored codes must obey the relation (mirror partners within range)
    mirror = center - e[neg]
    inside = mirror <= fi.code_max
    t = spec.ideal
    idx = np.searchsorted(spec.codes, mirror[inside])
    last = len(spec.codes) - 1
    ok = (idx <= last) & (spec.codes[np.minimum(idx, last)] == mirror[inside])
    if ok.any():
        want = sym.sign * t[idx[ok]] + offset + slope * e[neg][inside][ok]
        got = t[neg][inside][ok]
        if np.max(np.abs(got - want) - (1e-6 + 2.0**-36 * np.abs(got))) > 0:
            return None, f"{sym.relation} does not hold on the codes of {fi.text} -> {fo.text}"
    fold = Fold(sym.kind, sym.relation, center, sym.sign, offset, slope, bits=1)
    return fold, ""


def fit_folded(pass_, spec: Spec) -> tuple[Any, Fold | None, dict, dict | None]:
    """Run a method, folded by a symmetry where the method takes one and the fold is exact:
    returns (core, fold or None, the manifest's symmetry note, the record of a memory-aware
    search or None)."""
    core, fold, note = _fit_folded(pass_, spec)
    from .passes.base import unwrap

    core, record = unwrap(core)
    return core, fold, note, record


def _fit_folded(pass_, spec: Spec) -> tuple[Any, Fold | None, dict]:
    from ..formats import FloatFormat
    from .evaluate import evaluate as eval_unit
    from .ir import ActivationUnit

    if isinstance(spec.in_format, FloatFormat):
        if not pass_.floats:
            raise FitError(f"--method {pass_.name} takes fixed-point inputs; float inputs "
                           f"({spec.in_format.text}) work with geba and optimal")
        if getattr(pass_, "symmetry", "off") == "on":
            raise FitError("--symmetry on: float inputs are not folded")
        return pass_.run(fit_domain(spec)), None, {"used": None, "reason": "float input"}
    if not pass_.symmetric:
        return pass_.run(fit_domain(spec)), None, {"used": None,
                                                   "reason": f"{pass_.name} does not fold"}
    mode = pass_.symmetry
    if mode not in ("auto", "on", "off"):
        raise FitError(f"--symmetry {mode!r}: choose auto, on or off")
    plain = fit_domain(spec, None)
    if mode == "off":
        return pass_.run(plain), None, {"used": None, "reason": "--symmetry off"}
    sym = find_symmetry(spec.expression)
    fold, reason = (None, "no symmetry found") if sym is None else plan_fold(sym, spec)
    if fold is not None:
        dom = fit_domain(spec, fold, exact=pass_.exact_fold)
        core = None
        try:
            core = pass_.run(dom)
        except FitError as exc:
            if mode == "on":
                raise
            reason = str(exc)
        if core is not None and dom.fold is not None:
            fold = dom.fold
            if pass_.exact_fold:
                from .passes.base import unwrap

                trial = ActivationUnit("check", spec.in_format, spec.out_format, unwrap(core)[0],
                                       fold=fold)
                if not np.array_equal(eval_unit(trial, spec.codes), spec.rounded):
                    assert sym is not None
                    core, reason = None, (f"{sym.relation} is not exact after rounding to "
                                          f"{spec.out_format.text} (a rounding tie breaks it)")
            if core is not None:
                stored = len(dom.exact) if dom.exact is not None else fold.vmax + 1
                return core, fold, {"used": fold.symmetry, "relation": fold.relation,
                                    "stored_core_inputs": stored}
    if mode == "on":
        raise FitError(f"--symmetry on: {reason}")
    return pass_.run(plain), None, {"used": None, "reason": reason}
