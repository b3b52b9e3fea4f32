"""Quantisation and straight-through functions shared by every ``actc.nn`` layer.

Conventions (docs/reference/nn.md):

- A real x and its integer code q: x ~ scale * q (zero point 0: symmetric quantisation).
- ``round_ste``: round half to even in the forward pass, identity gradient (the
  straight-through estimator). ``quantize``: clamp(round_ste(x / scale), lo, hi); the
  gradient is 1 / scale inside [lo, hi] and 0 where the clamp bites.
- Weights: per-output-channel scales by default (``max |w|`` of each channel / the largest
  code), per-tensor with ``per_channel=False``.
- Activations: one per-tensor scale, the layer's input range (``input_max``, set by
  ``actc.nn.calibrate`` or as a running maximum in training mode) divided by the largest code.

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

__all__ = ["EPS", "channel_scale", "quantize", "round_ste", "tensor_scale"]

EPS = 1e-12  # the smallest scale: an all-zero weight channel quantises to zeros, not NaN


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round half to even; the gradient passes straight through."""
    return x + (torch.round(x) - x).detach()


def quantize(x: torch.Tensor, scale: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Integer codes (as floats) of x at ``scale``, clamped to [lo, hi], straight-through."""
    return torch.clamp(round_ste(x / scale), lo, hi)


def tensor_scale(x: torch.Tensor, qmax: int) -> torch.Tensor:
    """One scale for the whole tensor: max |x| / qmax."""
    return (x.detach().abs().amax() / qmax).clamp_min(EPS)


def channel_scale(w: torch.Tensor, qmax: int) -> torch.Tensor:
    """One scale per output channel (dimension 0), shaped to broadcast against w."""
    flat = w.detach().abs().reshape(w.shape[0], -1).amax(dim=1)
    return (flat / qmax).clamp_min(EPS).reshape(-1, *([1] * (w.dim() - 1)))
