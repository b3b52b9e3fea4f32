"""``to_approx``: a model's ``nn.Linear`` and ``nn.Conv2d`` layers as ``ApproxLinear`` and
``ApproxConv2d`` with the same settings, weights and biases (TorchApprox's
``wrap_quantizable`` + ``prepare_qat`` with a layer mapping, in one call).

>>> import torch
>>> from actc.nn import approximate_layers
>>> float_model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding="same"),
...                                   torch.nn.ReLU(), torch.nn.Flatten(),
...                                   torch.nn.Linear(64, 10))
>>> model = to_approx(float_model, "drum:4", bits=6, keep_last=True)
>>> [type(m).__name__ for m in model], len(approximate_layers(model))
(['ApproxConv2d', 'ReLU', 'Flatten', 'Linear'], 1)

What it does not convert, so its products stay exact: layers other than ``nn.Linear`` and
``nn.Conv2d`` (``nn.Conv1d``, ``nn.Conv3d``, transposed convolutions, ``nn.Bilinear``,
recurrent layers, ``nn.MultiheadAttention``, whose projections the attention computes with
their weights directly, never calling their forward) and products written in a forward as
``F.linear``, ``@`` or ``torch.matmul``. It warns (``UserWarning``) naming every module of the
listed kinds it leaves exact.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

from torch import nn

from .layers import ApproxConv2d, ApproxLinear, _ApproxMAC

__all__ = ["to_approx"]

# Modules with products that are not nn.Linear/nn.Conv2d forwards: converting them is not
# supported, and a model that has them is told so.
_EXACT_KINDS: tuple[type[nn.Module], ...] = (
    nn.Conv1d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
    nn.Bilinear, nn.RNNBase, nn.MultiheadAttention)


def _is_imc(m: nn.Module) -> bool:
    from .imc import _IMC

    return isinstance(m, _IMC)


def to_approx(model: nn.Module, multiplier: Any, *, bits: int | None = None,
              a_bits: int | None = None, b_bits: int | None = None,
              signed: bool | None = None, keep_first: bool = False, keep_last: bool = False,
              inplace: bool = False, **options: Any) -> nn.Module:
    """Replace every ``nn.Linear`` and ``nn.Conv2d`` (in module order, which is registration
    order) by its approximate layer with ``multiplier`` at the given widths (8-bit signed
    operands when none are given; see ``actc.nn.engines``), copying weights and biases;
    ``keep_first``/``keep_last`` keep the first/last such layer as it is. Layers that are
    already approximate or in-memory-computing are left alone. ``options``: the layers'
    ``per_channel``, ``momentum``, ``weight_transform`` (copied for each layer).
    ``inplace=False`` converts a deep copy and leaves ``model`` untouched. The converted
    layers must be calibrated (``actc.nn.calibrate``) or trained before evaluation.
    Returns the converted model."""
    unknown = set(options) - {"per_channel", "momentum", "weight_transform"}
    if unknown:
        raise TypeError(f"to_approx got unexpected options: {', '.join(sorted(unknown))}")
    widths = {"bits": bits, "a_bits": a_bits, "b_bits": b_bits, "signed": signed}

    def make(_: int, child: nn.Module) -> nn.Module:
        kw = {k: copy.deepcopy(v) if k == "weight_transform" else v for k, v in options.items()}
        if isinstance(child, nn.Linear):
            return ApproxLinear.from_linear(child, multiplier, **widths, **kw)
        return ApproxConv2d.from_conv2d(child, multiplier,  # type: ignore[arg-type]
                                        **widths, **kw)

    return convert_layers(model, make, keep_first=keep_first, keep_last=keep_last,
                          inplace=inplace, who="to_approx")


def convert_layers(model: nn.Module, make: Callable[[int, nn.Module], nn.Module], *,
                   keep_first: bool, keep_last: bool, inplace: bool, who: str) -> nn.Module:
    """What ``to_approx`` and ``to_imc`` share: every plain ``nn.Linear`` and ``nn.Conv2d``
    (module order; not the first/last with ``keep_first``/``keep_last``; never a layer
    already approximate or in-memory-computing) replaced by ``make(index, layer)``, in a
    deep copy unless ``inplace``; a ``UserWarning`` names the modules whose products stay
    exact. Returns the converted model."""
    target = model if inplace else copy.deepcopy(model)
    skipped: list[str] = []
    found: list[tuple[nn.Module, str, nn.Module]] = []

    def visit(parent: nn.Module, prefix: str) -> None:
        for name, child in parent.named_children():
            path = f"{prefix}{name}"
            if isinstance(child, _EXACT_KINDS):
                skipped.append(f"{path} ({type(child).__name__})")
            elif isinstance(child, _ApproxMAC) or _is_imc(child):
                pass
            elif type(child) in (nn.Linear, nn.Conv2d):
                found.append((parent, name, child))
            else:
                if isinstance(child, (nn.Linear, nn.Conv2d)):
                    skipped.append(f"{path} ({type(child).__name__}, a subclass)")
                visit(child, f"{path}.")

    visit(target, "")
    chosen = found[1 if keep_first else 0: len(found) - (1 if keep_last else 0)]
    for i, (parent, name, child) in enumerate(chosen):
        setattr(parent, name, make(i, child))
    if skipped:
        warnings.warn(f"{who} leaves these modules' products exact (not nn.Linear or "
                      f"nn.Conv2d forwards): {', '.join(skipped)}", UserWarning, stacklevel=3)
    return target
