"""Shared by the ADC benchmarks: the digits data set, the small CNN, training and
evaluation with progress bars (actc.nn IMC layers; needs torch and scikit-learn)."""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from actc.nn import imc_layers, to_imc

ROWS = 32  # sub-arrays of 32 rows: the IMC layers span 5, 9 and 4 of them


def digits(split_seed: int = 0, validation: int = 300):
    """scikit-learn's 8x8 digits, scaled to [0, 1]: the last 300 images of one fixed
    permutation are the test set, the ``validation`` before them the validation set, the
    rest (1197 with the default) the training set."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None]
    y = torch.tensor(d.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(split_seed))
    x, y = x[perm], y[perm]
    a, b = 1497 - validation, 1497
    return (x[:a], y[:a]), (x[a:b], y[a:b]), (x[b:], y[b:])


class Net(nn.Module):
    """conv 1->16 (full precision) | conv 16->32, conv 32->32, fc 128->64 (crossbar) |
    fc 64->10 (full precision); BatchNorm and ReLU between, 2x2 max pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(128, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def make_net(seed: int, converter: str = "ideal", weight_bits: int = 4, input_bits: int = 4,
             rows: int = ROWS) -> nn.Module:
    torch.manual_seed(seed)
    return to_imc(Net(), converter, rows=rows, weight_bits=weight_bits, input_bits=input_bits,
                  seed=1000 * seed)


def set_converter(model: nn.Module, spec: str, samples=None, clip=None) -> None:
    """Swap the converter of every IMC layer (weights and input scales kept; the partial-sum
    calibration restarts: the next training or first eval forward sets it). ``clip``: the
    calibrated range in RMS units (None: the layer's default for the converter)."""
    from actc.adc import converter
    from actc.nn.imc import _DEFAULT_CLIP

    for i, layer in enumerate(imc_layers(model)):
        layer.converter = converter(spec)
        default = _DEFAULT_CLIP.get(layer.converter.name, "full")
        layer.clip = clip if clip is not None and default != "full" else default
        layer.samples = samples[i] if isinstance(samples, list) else samples
        layer.ps_rms.zero_()


@torch.no_grad()
def calibrate(model: nn.Module, x: torch.Tensor) -> None:
    """Set the partial-sum ranges from training images (one eval-mode forward, each layer's
    ranges from its own input in the IMC network: ``recalibrate_clips``)."""
    for layer in imc_layers(model):
        layer.recalibrate_clips()
    model.eval()
    model(x)


def reseed(model: nn.Module, seed: int) -> None:
    """Common random numbers: every IMC layer's generator restarted from a seed."""
    for i, layer in enumerate(imc_layers(model)):
        layer.generator.manual_seed(seed * 101 + i)


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal or forced)."""

    def __init__(self, total: int, label: str, enabled: bool | None = None):
        self.total, self.label, self.n = total, label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.perf_counter()

    def update(self, note: str = "") -> None:
        self.n += 1
        if self.enabled:
            width = 30
            done = int(width * self.n / self.total)
            rate = self.n / max(time.perf_counter() - self.start, 1e-9)
            sys.stderr.write(f"\r{self.label} [{'#' * done}{'.' * (width - done)}] "
                             f"{self.n}/{self.total} {rate:.1f}/s {note}   ")
            if self.n == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def train(model: nn.Module, data, epochs: int, lr: float, seed: int, label: str = "train",
          batch: int = 64) -> None:
    (x, y) = data
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    g = torch.Generator().manual_seed(seed)
    bar = Progress(epochs, label)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(y), generator=g)
        total = 0.0
        for i in range(0, len(y), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        bar.update(f"loss {total / len(y):.3f}")


@torch.no_grad()
def accuracy(model: nn.Module, data, seed: int = 0) -> float:
    model.eval()
    reseed(model, seed)
    x, y = data
    return float((model(x).argmax(1) == y).float().mean()) * 100


@torch.no_grad()
def correct(model: nn.Module, data, seeds) -> np.ndarray:
    """Per image, the fraction of the MTJ noise seeds ``seeds`` that classify it right
    (the same seeds for every model: common random numbers)."""
    model.eval()
    x, y = data
    hits = []
    for s in seeds:
        reseed(model, s)
        hits.append((model(x).argmax(1) == y).numpy())
    return np.mean(hits, axis=0)


def mean_std(values) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0
