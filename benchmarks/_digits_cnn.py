"""The small CNN on scikit-learn's digits that the MAC benchmarks train (mac_training.py,
mac_asm.py): two 3x3 convolutions and a classifier, every product through actc.nn layers
(per-channel weight scales, per-tensor activation scales, operand widths as given).

    conv 1 -> 8 (3x3, pad 1) - ReLU - conv 8 -> 16 (3x3, pad 1) - ReLU - 2x2 max pool -
    linear 256 -> 10

Data: ``load_digits`` (1797 8x8 images, pixels 0..16 divided by 16). Every image is used:
repeated stratified k-fold (scikit-learn's ``RepeatedStratifiedKFold``, ``random_state=0``)
gives the units of the statistics: unit i = (repeat, fold) trains on the other folds and
tests on its fold; the unit's number seeds the initialisation and the batch order, so the
methods compared on one unit share both (paired differences). Adam, cosine decay, batch 64.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from actc.nn import ApproxConv2d, ApproxLinear, approximate_layers
from actc.nn.progress import progress

__all__ = ["Data", "Unit", "build", "data", "evaluate", "paired", "set_multiplier", "train",
           "units"]


@dataclass
class Data:
    x: torch.Tensor
    y: torch.Tensor


@dataclass
class Unit:
    """One fold of one repeat: the seed and the train/test indices."""

    seed: int
    train: np.ndarray
    test: np.ndarray


def data() -> Data:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return Data(torch.from_numpy(x), torch.from_numpy(d.target).long())


def units(d: Data, folds: int, repeats: int) -> list[Unit]:
    """Every (repeat, fold) of a repeated stratified k-fold over all the images."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    split = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=0)
    return [Unit(i, tr, te) for i, (tr, te) in enumerate(split.split(d.x.numpy(), d.y.numpy()))]


def build(multiplier: Any = "exact", weight_transform: Any = None, **widths: Any) -> nn.Module:
    """The network with ``multiplier`` at ``widths`` (``bits=``, ``a_bits=``/``b_bits=``;
    none for a multiplier that carries its own)."""
    kw = {"multiplier": multiplier, "weight_transform": weight_transform, **widths}
    return nn.Sequential(
        ApproxConv2d(1, 8, 3, padding=1, **kw), nn.ReLU(),
        ApproxConv2d(8, 16, 3, padding=1, **kw), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        ApproxLinear(256, 10, **kw))


def macs_per_image() -> int:
    return 64 * 9 * 8 + 64 * 72 * 16 + 256 * 10


def set_multiplier(model: nn.Module, multiplier: Any) -> None:
    for layer in approximate_layers(model):
        layer.set_multiplier(multiplier)


def learning_rates(epochs: int, lr: float, phases: tuple[int, ...] = ()) -> list[float]:
    """Cosine decay from lr over the epochs, restarted at each epoch in ``phases`` (a warm
    restart: every phase decays over its own length)."""
    starts = [0, *phases, epochs]
    out = []
    for a, b in zip(starts, starts[1:]):
        out += [lr * 0.5 * (1 + math.cos(math.pi * (e - a) / (b - a))) for e in range(a, b)]
    return out


def train(model: nn.Module, d: Data, idx: np.ndarray, epochs: int, seed: int,
          schedule: Any = None, lr: float = 3e-3, desc: str = "",
          restart: bool = False) -> None:
    """Adam, batch 64, cosine decay over the epochs; ``restart``: the decay restarts where
    the schedule switches between approximate and exact products."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    phases: tuple[int, ...] = ()
    if restart and schedule is not None:
        modes = [schedule.approximate(e) for e in range(epochs)]
        phases = tuple(e for e in range(1, epochs) if modes[e] != modes[e - 1])
    rates = learning_rates(epochs, lr, phases)
    x, y = d.x[idx], d.y[idx]
    n = len(y)
    for epoch in progress(range(epochs), desc=desc, total=epochs):
        if schedule is not None:
            schedule.apply(model, epoch)
        for group in opt.param_groups:
            group["lr"] = rates[epoch]
        model.train()
        order = torch.randperm(n, generator=g)
        for s in range(0, n, 64):
            batch = order[s:s + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            opt.step()


def evaluate(model: nn.Module, d: Data, idx: np.ndarray, approximate: bool | None = None) -> float:
    """Accuracy in % on the images ``idx``; ``approximate`` forces the layers' products
    (None: as they are)."""
    layers = approximate_layers(model)
    saved = [layer.approximate for layer in layers]
    if approximate is not None:
        for layer in layers:
            layer.approximate = approximate
    model.eval()
    with torch.no_grad():
        acc = (model(d.x[idx]).argmax(1) == d.y[idx]).float().mean().item() * 100
    for layer, s in zip(layers, saved):
        layer.approximate = s
    return acc


def paired(a: list[float], b: list[float]) -> dict[str, float]:
    """Mean of the paired differences a - b, its standard error (sd / sqrt n) and z."""
    diff = [x - y for x, y in zip(a, b, strict=True)]
    mean = statistics.mean(diff)
    se = statistics.stdev(diff) / math.sqrt(len(diff)) if len(diff) > 1 else math.inf
    return {"mean": mean, "se": se, "z": mean / se if se > 0 else math.copysign(math.inf, mean)
            if mean else 0.0, "n": len(diff)}


def stat(v: list[float]) -> dict[str, Any]:
    return {"mean": statistics.mean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
            "values": v}
