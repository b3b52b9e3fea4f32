"""Error of a design against the true function, over every input code (or the sample)."""

from __future__ import annotations

import numpy as np

from .evaluate import evaluate
from .ir import Design
from .spec import Spec

__all__ = ["measure"]


def measure(design: Design, spec: Spec, outputs: np.ndarray | None = None) -> dict:
    """max/mean absolute error and RMS in real units, max and mean error in output LSBs.

    Errors are |scale_out*(y - zero_point_out) - f(x)| with f evaluated in high precision
    (see spec.py), never against another approximation."""
    y = evaluate(design, spec.codes) if outputs is None else outputs
    fo = design.out_format
    err = np.abs(fo.real(y.astype(np.float64)) - spec.values)
    lsb = err / fo.scale
    return {
        "max_abs": float(err.max()),
        "mean_abs": float(err.mean()),
        "rms": float(np.sqrt(np.mean(err * err))),
        "max_lsb": float(lsb.max()),
        "mean_lsb": float(lsb.mean()),
        "worst_input_code": int(spec.codes[int(np.argmax(err))]),
        "codes": int(len(spec.codes)),
        "exhaustive": bool(spec.exhaustive),
    }
