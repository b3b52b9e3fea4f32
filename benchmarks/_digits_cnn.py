"""The small CNN on scikit-learn's digits that the MAC benchmarks train (mac_training.py,
mac_asm.py): two 3x3 convolutions and a classifier, every product through actc.nn layers
with 8-bit signed operands (int8, per-channel weight scales, per-tensor activation scales).

    conv 1 -> 8 (3x3, pad 1) - ReLU - conv 8 -> 16 (3x3, pad 1) - ReLU - 2x2 max pool -
    linear 256 -> 10

Data: ``load_digits`` (1797 8x8 images, pixels 0..16 divided by 16), stratified 75/25 split
with ``random_state=0`` (the same split for every seed: 1347 training, 450 test images; one
test image is 0.22 points). Seeds vary the initialisation and the batch order. Adam, learning
rate 3e-3 with cosine decay, batch 64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from actc.nn import ApproxConv2d, ApproxLinear, approximate_layers
from actc.nn.progress import progress

__all__ = ["Data", "build", "data", "evaluate", "set_multiplier", "train"]


@dataclass
class Data:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def data() -> Data:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=0.25, random_state=0,
                                          stratify=d.target)
    return Data(torch.from_numpy(xtr), torch.from_numpy(ytr).long(), torch.from_numpy(xte),
                torch.from_numpy(yte).long())


def build(multiplier: Any = "exact", weight_transform: Any = None) -> nn.Module:
    kw = {"multiplier": multiplier, "weight_transform": weight_transform}
    return nn.Sequential(
        ApproxConv2d(1, 8, 3, padding=1, **kw), nn.ReLU(),
        ApproxConv2d(8, 16, 3, padding=1, **kw), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        ApproxLinear(256, 10, **kw))


def macs_per_image() -> int:
    return 64 * 9 * 8 + 64 * 72 * 16 + 256 * 10


def set_multiplier(model: nn.Module, multiplier: Any) -> None:
    for layer in approximate_layers(model):
        layer.set_multiplier(multiplier)


def train(model: nn.Module, d: Data, epochs: int, seed: int, schedule: Any = None,
          lr: float = 3e-3, desc: str = "") -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    n = len(d.y_train)
    for epoch in progress(range(epochs), desc=desc, total=epochs):
        if schedule is not None:
            schedule.apply(model, epoch)
        model.train()
        order = torch.randperm(n, generator=g)
        for s in range(0, n, 64):
            idx = order[s:s + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(d.x_train[idx]), d.y_train[idx])
            loss.backward()
            opt.step()
        sched.step()


def evaluate(model: nn.Module, d: Data, approximate: bool | None = None) -> float:
    """Test accuracy in %; ``approximate`` forces the layers' products (None: as they are)."""
    layers = approximate_layers(model)
    saved = [layer.approximate for layer in layers]
    if approximate is not None:
        for layer in layers:
            layer.approximate = approximate
    model.eval()
    with torch.no_grad():
        acc = (model(d.x_test).argmax(1) == d.y_test).float().mean().item() * 100
    for layer, s in zip(layers, saved):
        layer.approximate = s
    return acc
