"""The digits network: a 64-64-64-10 numpy MLP on scikit-learn's handwritten digits (8x8,
1797 images), trained in float, then run with a unit in the loop: an activation unit (the
integer evaluator on the unit's codes), a multiplier (every product of every layer from its
evaluator) or a column back end (the hidden layers' matmuls through its crossbar and
converter). ``benchmarks/network.py`` studies methods with it; ``actc sweep`` uses it as the
"network" evaluation. Needs scikit-learn (the ``sweep`` extra).

Set-up (fixed, seeded, deterministic): stratified 70/30 split (``random_state=0``), inputs
standardised with the training set's statistics; Glorot-uniform weights (seeded), Adam (lr
1e-3), batch 32, softmax cross-entropy; seeds vary the initialisation and batch order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["BATCH", "EPOCHS", "HIDDEN", "LR", "accuracy", "crossbar_accuracy",
           "design_accuracy", "forward", "init_params", "load_data", "multiplier_accuracy",
           "quantise_weights", "train"]

HIDDEN = (64, 64)
TEST_SIZE = 0.3
SPLIT_SEED = 0
BATCH = 32
LR, EPOCHS = 1e-3, 60


@lru_cache(maxsize=1)
def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                          random_state=SPLIT_SEED)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    return (Xtr - mu) / sd, ytr, (Xte - mu) / sd, yte


def init_params(seed: int, sizes) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6.0 / (a + b))
        params.append((rng.uniform(-lim, lim, (a, b)), np.zeros(b)))
    return params


def quantise_weights(W: np.ndarray, bits: int | None) -> np.ndarray:
    """Symmetric per-layer rounding to ``bits`` (None: float)."""
    if not bits:
        return W
    q = (1 << (bits - 1)) - 1
    s = np.abs(W).max() / q
    return np.rint(W / s) * s if s > 0 else W


def forward(params, X, activations, weight_bits=None, keep=False):
    """Logits; ``activations[l](z) -> (a, da/dz)``. With ``keep``, also the cache for
    ``backward``."""
    a, cache = X, []
    for i, (W, b) in enumerate(params):
        z = a @ quantise_weights(W, weight_bits) + b
        if i == len(params) - 1:
            if keep:
                cache.append((a, None))
            return (z, cache) if keep else z
        out, d = activations[i](z)
        if keep:
            cache.append((a, d))
        a = out


def train(params, X, y, activations, *, epochs: int, lr: float, seed: int,
          weight_bits=None):
    """Adam on softmax cross-entropy; weights pass straight through their rounding."""
    params = [(W.copy(), b.copy()) for W, b in params]
    m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    rng = np.random.default_rng(seed + 1000)
    onehot = np.eye(10)[y]
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            logits, cache = forward(params, X[idx], activations, weight_bits, keep=True)
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = (p - onehot[idx]) / len(idx)
            t += 1
            for i in range(len(params) - 1, -1, -1):
                a_in, _ = cache[i]
                W, b = params[i]
                gW, gb = a_in.T @ g, g.sum(0)
                if i:
                    g = (g @ quantise_weights(W, weight_bits).T) * cache[i - 1][1]
                (mW, mb), (vW, vb) = m[i], v[i]
                for P, G, M, V in ((W, gW, mW, vW), (b, gb, mb, vb)):
                    M *= b1
                    M += (1 - b1) * G
                    V *= b2
                    V += (1 - b2) * G * G
                    P -= lr * (M / (1 - b1**t)) / (np.sqrt(V / (1 - b2**t)) + eps)
    return params


def accuracy(params, X, y, activations, weight_bits=None) -> float:
    return float(np.mean(forward(params, X, activations, weight_bits).argmax(1) == y) * 100)




def _relu(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(z, 0.0), (z > 0).astype(np.float64)


def _float_activation(expression: str) -> Any:
    """(f(z), f'(z)) in float64 for an actc expression (the derivative by sympy; ReLU's,
    a step, directly)."""
    if expression.replace(" ", "") == "relu(x)":
        return _relu
    from ..activation.frontend import parse
    from ..activation.numeric import eval_float

    e = parse(expression)
    import sympy as sp

    d = sp.diff(e.expr, e.symbol)

    def act(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = z.ravel()
        return (eval_float(e.expr, e.symbol, flat).reshape(z.shape),
                eval_float(d, e.symbol, flat).reshape(z.shape))

    return act


@lru_cache(maxsize=16)
def _trained(expression: str, seed: int) -> tuple[list, float]:
    """Float weights trained with the expression as the hidden activation, and their
    accuracy (cached: a worker trains each function once per seed)."""
    Xtr, ytr, Xte, yte = load_data()
    act = _float_activation(expression)
    acts = [act] * len(HIDDEN)
    params = train(init_params(seed, (Xtr.shape[1], *HIDDEN, 10)), Xtr, ytr, acts,
                   epochs=EPOCHS, lr=LR, seed=seed)
    return params, accuracy(params, Xte, yte, acts)


def design_accuracy(unit: Any, expression: str, seeds: int = 1,
                    weight_bits: int = 8) -> tuple[float, float]:
    """(test accuracy with the unit as the hidden activation, the float network's), means
    over ``seeds`` seeds, in percent: post-training, 8-bit weights, pre-activations
    quantised to the unit's input format (round half to even, saturating)."""
    from ..activation.evaluate import evaluate

    fi, fo = unit.in_format, unit.out_format

    def integer(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes = np.clip(np.rint(z / fi.scale) + fi.zero_point, fi.code_min, fi.code_max)
        y = evaluate(unit, codes.astype(np.int64).ravel()).reshape(z.shape)
        return fo.real(y), np.zeros_like(z)

    _, _, Xte, yte = load_data()
    got, ref = [], []
    for seed in range(seeds):
        params, acc = _trained(expression, seed)
        got.append(accuracy(params, Xte, yte, [integer] * len(HIDDEN), weight_bits))
        ref.append(acc)
    return float(np.mean(got)), float(np.mean(ref))


def _quantise(v: np.ndarray, top: int) -> tuple[np.ndarray, float]:
    """Integer codes in [-top, top] (symmetric, per tensor, round half to even) and the
    scale: v ~ scale * codes."""
    peak = float(np.abs(v).max())
    scale = peak / top if peak > 0 else 1.0
    return np.clip(np.rint(v / scale), -top, top).astype(np.int64), scale


def _integer_forward(params: list, X: np.ndarray, matmul: Any, first: bool) -> np.ndarray:
    """Logits with ``matmul(a, W) -> a @ W estimate`` on the layers it covers (every layer
    when ``first``, else all but the first, whose inputs may be negative), ReLU between."""
    a = X
    for i, (W, b) in enumerate(params):
        z = (matmul(a, W) if first or i else a @ W) + b
        if i == len(params) - 1:
            return z
        a = np.maximum(z, 0.0)
    raise AssertionError("unreachable")


def multiplier_accuracy(multiplier: Any, seeds: int = 1) -> tuple[float, float]:
    """(test accuracy with every product of every layer from ``multiplier``'s evaluator,
    the float network's), means over ``seeds`` seeds, in percent. The ReLU network is
    trained in float; per tensor, activations and weights are quantised symmetrically to the
    operand widths (a signed multiplier takes two's complement codes; an unsigned one takes
    magnitudes and the product gets the operands' signs, as in ``actc.nn``), and the integer
    sums of the products are scaled back."""
    m = multiplier
    ta = (1 << (m.a_bits - 1)) - 1 if m.signed else (1 << m.a_bits) - 1
    tb = (1 << (m.b_bits - 1)) - 1 if m.signed else (1 << m.b_bits) - 1
    table = m.table()  # [a - a_min][b - b_min]
    a_min, b_min = int(m.operands("a")[0]), int(m.operands("b")[0])

    def matmul(a: np.ndarray, W: np.ndarray) -> np.ndarray:
        ca, sa = _quantise(a, ta)
        cw, sw = _quantise(W, tb)
        if m.signed:
            p = table[(ca - a_min)[:, :, None], (cw - b_min)[None, :, :]]
        else:
            sign = np.sign(ca)[:, :, None] * np.sign(cw)[None, :, :]
            p = sign * table[np.abs(ca)[:, :, None], np.abs(cw)[None, :, :]]
        return p.sum(axis=1) * (sa * sw)

    return _network_accuracy(matmul, seeds, first=True)


def crossbar_accuracy(unit: Any, seeds: int = 1) -> tuple[float, float]:
    """(test accuracy with the hidden layers' matmuls on the column back end's crossbar and
    converter, the float network's), means over ``seeds`` seeds, in percent. The first
    layer (standardised pixels, negative inputs) stays in float, as StoX-Net keeps its first
    and last layers; the others take unsigned ``input_bits`` activations and signed
    ``weight_bits`` weights (per tensor, symmetric), through ``Crossbar.matmul`` with the
    seeded converter (MTJ sampling seeded by the seed)."""
    from ..adc.converters import converter
    from ..adc.crossbar import Crossbar

    xb = Crossbar(**{k: unit.crossbar[k] for k in ("rows", "cell_bits", "dac_bits",
                                                   "weight_bits", "input_bits", "signed",
                                                   "scheme")})
    conv = converter(unit.converter["spec"])
    top_x = (1 << xb.input_bits) - 1
    top_w = (1 << (xb.weight_bits - 1)) - 1 if xb.signed else (1 << xb.weight_bits) - 1
    rng = np.random.default_rng(0)

    def matmul(a: np.ndarray, W: np.ndarray) -> np.ndarray:
        ca, sa = _quantise(np.maximum(a, 0.0), top_x)
        cw, sw = _quantise(W, top_w)
        if not xb.signed:  # an unsigned crossbar holds no negative weight
            cw = np.maximum(cw, 0)
        y = xb.matmul(ca, cw, conv, rng=rng)
        return y * xb.output_lsb(conv) * (sa * sw)

    return _network_accuracy(matmul, seeds, first=False)


def _network_accuracy(matmul: Any, seeds: int, first: bool) -> tuple[float, float]:
    _, _, Xte, yte = load_data()
    got, ref = [], []
    for seed in range(seeds):
        params, acc = _trained("relu(x)", seed)
        logits = _integer_forward(params, Xte, matmul, first)
        got.append(float(np.mean(logits.argmax(1) == yte) * 100))
        ref.append(acc)
    return float(np.mean(got)), float(np.mean(ref))
