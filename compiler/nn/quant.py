"""Quantisation and straight-through functions shared by every ``actc.nn`` layer.

Conventions (README "actc.nn"):

- A real x and its integer code q: x ~ scale * q (zero point 0: symmetric quantisation).
- ``round_ste``: round half to even in the forward pass, identity gradient (the
  straight-through estimator). ``quantize``: clamp(round_ste(x / scale), lo, hi); the
  gradient is 1 / scale inside [lo, hi] and 0 where the clamp bites.
- Weights: per-output-channel scales by default (``max |w|`` of each channel / the largest
  code), per-tensor with ``per_channel=False``.
- Activations: one per-tensor scale, the running maximum |x| (an exponential average with
  ``momentum``, updated in training mode; evaluation uses the stored value), divided by the
  largest code: ``RunningScale``.

>>> import torch
>>> x = torch.tensor([0.26, -1.0, 3.0], requires_grad=True)
>>> q = quantize(x, torch.tensor(0.5), -4, 4)
>>> q.tolist()
[1.0, -2.0, 4.0]
>>> q.sum().backward(); x.grad.tolist()
[2.0, 2.0, 0.0]
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RunningScale", "channel_scale", "quantize", "round_ste", "tensor_scale"]

_EPS = 1e-12


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round half to even; the gradient passes straight through."""
    return x + (torch.round(x) - x).detach()


def quantize(x: torch.Tensor, scale: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Integer codes (as floats) of x at ``scale``, clamped to [lo, hi], straight-through."""
    return torch.clamp(round_ste(x / scale), lo, hi)


def tensor_scale(x: torch.Tensor, qmax: int) -> torch.Tensor:
    """One scale for the whole tensor: max |x| / qmax."""
    return (x.detach().abs().amax() / qmax).clamp_min(_EPS)


def channel_scale(w: torch.Tensor, qmax: int) -> torch.Tensor:
    """One scale per output channel (dimension 0), shaped to broadcast against w."""
    flat = w.detach().abs().reshape(w.shape[0], -1).amax(dim=1)
    return (flat / qmax).clamp_min(_EPS).reshape(-1, *([1] * (w.dim() - 1)))


class RunningScale(nn.Module):
    """The per-tensor activation scale: a running maximum of |x| (exponential average with
    ``momentum``; the first batch sets it), updated in training mode, divided by qmax."""

    running_max: torch.Tensor

    def __init__(self, qmax: int, momentum: float = 0.1) -> None:
        super().__init__()
        self.qmax = qmax
        self.momentum = momentum
        self.register_buffer("running_max", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            m = x.detach().abs().amax().to(self.running_max.dtype)
            ema = (1 - self.momentum) * self.running_max + self.momentum * m
            self.running_max.copy_(torch.where(self.running_max == 0, m, ema))
        return (self.running_max / self.qmax).clamp_min(_EPS)
