"""``ApproxActivation``: a compiled activation (any method: table, geba, grau, ...) inside a
network. The input is quantised to the unit's input codes (round half to even, clamped), the
output is the unit's output code, dequantised: exactly what the emitted Verilog, C and Python
compute. The gradient is straight through the rounding: the slope of the unit's output between
the neighbouring codes (central difference), 0 outside the input range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["ApproxActivation"]


class _Lookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, values: torch.Tensor, slopes: torch.Tensor,
                scale: float, zero: int, lo: int, hi: int) -> torch.Tensor:
        raw = torch.round(x / scale) + zero
        inside = (raw >= lo) & (raw <= hi)
        idx = (raw.clamp(lo, hi) - lo).long()
        ctx.save_for_backward(idx, inside, slopes)
        return values[idx].to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        idx, inside, slopes = ctx.saved_tensors
        return grad * slopes[idx].to(grad.dtype) * inside, None, None, None, None, None, None


class ApproxActivation(nn.Module):
    """An activation unit's codes as a module (build it with ``from_manifest``)."""

    values: torch.Tensor
    slopes: torch.Tensor

    def __init__(self, unit: Any) -> None:
        super().__init__()
        fi, fo = unit.in_format, unit.out_format
        if fi.is_float or fo.is_float or fi.bits > 20:
            raise ValueError("ApproxActivation takes fixed-point units of up to 20 input bits")
        codes = np.arange(fi.code_min, fi.code_max + 1, dtype=np.int64)
        out = fo.real(unit.evaluate(x=codes)["y"])
        x = fi.real(codes)
        slopes = np.gradient(out, x) if len(codes) > 1 else np.zeros(1)
        self.name = unit.name
        self.scale, self.zero = float(fi.scale), int(fi.zero_point)
        self.lo, self.hi = int(fi.code_min), int(fi.code_max)
        self.register_buffer("values", torch.from_numpy(out.astype(np.float32)),
                             persistent=False)
        self.register_buffer("slopes", torch.from_numpy(slopes.astype(np.float32)),
                             persistent=False)

    @classmethod
    def from_manifest(cls, path: str | Path) -> ApproxActivation:
        """The activation a manifest (``actc compile``) describes."""
        from actc.manifest import load

        _, unit = load(path)
        if unit.kind != "activation":
            raise ValueError(f"{path} describes a {unit.kind} unit, not an activation")
        return cls(unit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = _Lookup.apply(x, self.values, self.slopes, self.scale, self.zero,
                                          self.lo, self.hi)
        return out

    def extra_repr(self) -> str:
        return f"{self.name}, codes {self.lo}..{self.hi}, scale {self.scale:g}"
