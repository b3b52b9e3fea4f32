"""What a pass fits: the core's inputs and the ideal outputs there, folded by a symmetry or not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..formats import Format, NumberFormat
from .frontend import Expression
from .ir import Fold
from .spec import Spec, true_outputs

__all__ = ["FitDomain", "fit_domain"]


@dataclass(frozen=True, eq=False)
class FitDomain:
    """Points (core input v, ideal output) for every input code, and for exact tables the
    correctly rounded core output at every v.

    ``codes``, ``values`` and ``rounded`` follow the input codes; ``core_inputs`` and
    ``ideal`` follow the core inputs (ascending), which a fold reorders and repeats."""

    expression: Expression
    in_format: Format
    out_format: Format
    codes: np.ndarray  # input codes, ascending
    values: np.ndarray  # true f(x) at codes
    rounded: np.ndarray  # correctly rounded, saturated output codes at codes
    core_inputs: np.ndarray  # ascending; a folded domain repeats v for mirrored codes
    ideal: np.ndarray  # unrounded output codes at core_inputs (float outputs: f(x))
    bits: int  # core input width
    fold: Fold | None
    exact: np.ndarray | None  # rounded (unsaturated) core output for v = 0, 1, ...
    exhaustive: bool
    domain: tuple[float, float] | None  # the requested real input range, if any


def fit_domain(spec: Spec, fold: Fold | None = None, exact: bool = False) -> FitDomain:
    """The domain of an unfolded core (v = code - code_min), or of a folded one.

    A folded core is ``bits`` wide: just wide enough for the largest |code - center| when
    ``exact`` (tables), else one bit less when that drops a lone extreme code, which then
    shares the last core input (v is clamped) and is fitted there with the rest."""
    fi = spec.in_format
    common: dict[str, Any] = dict(
        expression=spec.expression, in_format=fi, out_format=spec.out_format, codes=spec.codes,
        values=spec.values, rounded=spec.rounded, exhaustive=spec.exhaustive, domain=spec.domain)
    if fold is None:
        return FitDomain(core_inputs=spec.core_inputs, ideal=spec.ideal, bits=fi.bits,
                         fold=None, exact=spec.rounded if spec.exhaustive else None, **common)
    top = max(fold.center - fi.code_min, fi.code_max - fold.center)
    bits = max(1, top.bit_length() if exact else (top - 1).bit_length())
    fold = replace(fold, bits=bits)
    e = spec.codes - fold.center
    v = np.minimum(np.abs(e), fold.vmax)
    t = np.where(e < 0, fold.sign * (spec.ideal - fold.offset - fold.slope * e), spec.ideal)
    order = np.argsort(v, kind="stable")
    table = None
    if exact and spec.exhaustive:  # a table needs every code: a sampled spec is refused
        #                            by the pass, never enumerated here
        stored = fold.center + np.arange(min(top, fold.vmax) + 1, dtype=np.int64)
        assert isinstance(fi, NumberFormat) and isinstance(spec.out_format, NumberFormat)
        table = true_outputs(spec.expression, fi, spec.out_format, stored)[2]
    return FitDomain(core_inputs=v[order], ideal=t[order], bits=bits, fold=fold, exact=table,
                     **common)
