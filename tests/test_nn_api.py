"""actc.nn as a PyTorch user expects it (issue 17): to_approx / from_linear / from_conv2d
with every nn.Conv2d option, calibrate with its observers and its protocol, state dicts, and
the ML tutorial's script (docs/snippets/ml/1-convert.py)."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from actc.mac.api import make_multiplier
from actc.nn import ApproxConv2d, ApproxLinear, approximate_layers, calibrate, to_approx
from actc.nn.calibration import make_observer

ROOT = Path(__file__).resolve().parent.parent

CONVS = [  # (in, out, kernel, options): every nn.Conv2d setting the layers must honour
    (4, 6, 3, {"padding": 1}),
    (4, 4, 3, {"padding": "same", "groups": 4}),  # depthwise
    (4, 6, 3, {"padding": "same", "dilation": 2, "groups": 2}),
    (4, 6, (2, 3), {"padding": "valid", "stride": (2, 1)}),
    (4, 6, 3, {"padding": 2, "padding_mode": "reflect", "dilation": 2}),
    (4, 6, 3, {"padding": (1, 2), "padding_mode": "circular", "stride": 2}),
    (4, 6, 2, {"padding": "same", "padding_mode": "replicate", "bias": False}),  # asymmetric
]


def _reference_sums(multiplier, rows, weights, groups):
    """sum_k P(a, b) per group, from the multiplier's own numpy evaluator (two's complement
    codes), one output channel at a time."""
    a = rows.numpy().astype(np.int64)
    b = weights.numpy().astype(np.int64)
    k, n = b.shape[1], b.shape[0] // groups
    out = np.zeros((a.shape[0], b.shape[0]), dtype=np.int64)
    for o in range(b.shape[0]):
        g = o // n
        out[:, o] = multiplier.product(a[:, g * k:(g + 1) * k], b[o][None, :]).sum(-1)
    return out


@pytest.mark.parametrize("cin, cout, kernel, options", CONVS)
def test_conv2d_options_match_nn_conv2d_and_the_multipliers_products(cin, cout, kernel,
                                                                     options):
    torch.manual_seed(21)
    conv = nn.Conv2d(cin, cout, kernel, **options)
    x = torch.randn(2, cin, 7, 9)
    layer = ApproxConv2d.from_conv2d(conv, "drum:4")
    assert isinstance(layer, nn.Conv2d)
    for name in ("stride", "padding", "dilation", "groups", "padding_mode", "kernel_size"):
        assert getattr(layer, name) == getattr(conv, name)
    calibrate(layer, x)
    layer.eval()
    with torch.no_grad():
        y = layer(x)
        want = conv(x)
    assert y.shape == want.shape
    # the products are the multiplier's on the im2col rows of the padded codes
    rows, weights = layer.operand_codes(x)
    m = make_multiplier("drum:4", bits=8, signed=True)
    sums = _reference_sums(m, rows, weights, conv.groups)
    assert np.array_equal(layer.integer_output(x).numpy(), sums)
    # exact products: the quantised convolution, computed by torch (exact in float64)
    layer.approximate = False
    with torch.no_grad():
        qx = torch.clamp(torch.round(x / (layer.input_max / 127)), -128, 127).double()
        qw, _ = layer._weight_codes()
        exact = nn.functional.conv2d(layer._pad(qx), qw.double(), None, conv.stride, 0,
                                     conv.dilation, conv.groups)
        acc = layer.integer_output(x)
    assert torch.equal(acc.reshape(2, -1, cout).transpose(1, 2).reshape(exact.shape), exact)
    # and the float output is close to the float layer's (8-bit operands)
    assert (layer(x) - want).abs().max() < 0.05 * want.abs().max()


def test_to_approx_converts_linear_and_conv2d_with_their_weights():
    torch.manual_seed(22)
    inner = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, groups=3), nn.ReLU())
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding="same"), inner, nn.Flatten(),
                          nn.Linear(3 * 36, 16), nn.ReLU(), nn.Linear(16, 4, bias=False))
    model[3].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = to_approx(model, "drum:4", bits=6)
    assert out is not model and all(type(m) in (nn.Conv2d, nn.Linear)
                                    for m in model.modules()
                                    if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    layers = approximate_layers(out)
    assert [type(m).__name__ for m in layers] == ["ApproxConv2d", "ApproxConv2d", "ApproxLinear",
                                                   "ApproxLinear"]
    assert all(isinstance(m, (nn.Linear, nn.Conv2d)) and m.a_bits == 6 for m in layers)
    assert layers[1].groups == 3 and layers[0].padding == "same" and layers[3].bias is None
    assert not layers[2].weight.requires_grad and layers[3].weight.requires_grad
    for k, v in before.items():
        assert torch.equal(out.state_dict()[k], v)
    # an optimiser and an init loop see them as what they subclass
    params = {id(p) for p in out.parameters()}
    assert all(id(m.weight) in params for m in layers)
    same = to_approx(out, "exact", inplace=True)
    assert same is out and approximate_layers(same)[0].engine.multiplier.family.spec() == \
        "drum:4"  # already approximate: left alone


def test_to_approx_keeps_first_and_last_and_warns_about_what_it_cannot_convert():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4))
    out = to_approx(model, "exact", keep_first=True, keep_last=True, inplace=True)
    assert out is model
    assert [type(m).__name__ for m in out] == ["Linear", "ApproxLinear", "Linear"]
    attention = nn.Sequential(nn.MultiheadAttention(8, 2), nn.Conv1d(2, 2, 3), nn.Linear(8, 8))
    with pytest.warns(UserWarning, match=r"leaves these modules' products exact .*: 0 "
                                         r"\(MultiheadAttention\), 1 \(Conv1d\)"):
        converted = to_approx(attention, "exact")
    assert type(converted[0].out_proj) is not ApproxLinear  # its forward is never called
    assert isinstance(converted[2], ApproxLinear)
    with pytest.raises(TypeError, match="unexpected options: bitz"):
        to_approx(model, "exact", bitz=4)


def test_from_linear_copies_device_dtype_mode_and_values():
    fc = nn.Linear(5, 3).double().eval()
    layer = ApproxLinear.from_linear(fc, "mitchell", bits=6, signed=False)
    assert layer.weight.dtype == torch.float64 and not layer.training
    assert torch.equal(layer.weight, fc.weight) and torch.equal(layer.bias, fc.bias)
    assert layer.weight is not fc.weight  # a copy: the float model stays as it was
    x = torch.randn(4, 5, dtype=torch.float64)
    calibrate(layer, x)
    assert layer(x).dtype == torch.float64


def test_calibrate_sets_ranges_in_eval_mode_from_the_float_network():
    torch.manual_seed(23)
    model = to_approx(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5),
                                    nn.Linear(8, 2)), "drum:4")
    data = [torch.randn(10, 6) for _ in range(3)]
    model.train()
    values = calibrate(model, data)
    assert model.training  # restored
    with torch.no_grad():
        hidden = torch.cat([torch.relu(nn.functional.linear(x, model[0].weight, model[0].bias))
                            for x in data])
    assert values["0"]["input_max"] == pytest.approx(float(torch.cat(data).abs().max()))
    # no dropout (eval mode) and the float first layer: what the second layer saw
    assert values["3"]["input_max"] == pytest.approx(float(hidden.max()))
    assert model[3].calibration == "max" and model[3].input_max.item() == pytest.approx(
        values["3"]["input_max"])


def test_calibrate_takes_loaders_pairs_and_dicts():
    class Keyword(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = ApproxLinear(3, 2)

        def forward(self, *, features):
            return self.fc(features)

    x = torch.randn(12, 3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(12)),
                                         batch_size=5)
    fc = ApproxLinear(3, 2)
    assert calibrate(fc, loader)[""]["input_max"] == pytest.approx(float(x.abs().max()))
    model = Keyword()
    assert calibrate(model, [{"features": x}])["fc"]["input_max"] == pytest.approx(
        float(x.abs().max()))


def test_calibrate_refuses_and_changes_nothing():
    torch.manual_seed(24)

    class Branch(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = ApproxLinear(3, 3), ApproxLinear(3, 3)

        def forward(self, x):
            return self.used(x)

    model = Branch()
    with pytest.raises(ValueError, match="layer 'unused' saw no input during calibration"):
        calibrate(model, [torch.randn(4, 3)])
    assert not model.used.calibrated and model.used.input_max.item() == 0
    with pytest.raises(ValueError, match="the ApproxLinear saw only zeros during calibration"):
        calibrate(model.used, [torch.zeros(4, 3)], desc="zeros")
    with pytest.raises(ValueError, match="no batches"):
        calibrate(model.used, [])
    with pytest.raises(ValueError, match=r"observer 'median': use one of max, percentile:P, "
                                         "mse"):
        calibrate(model.used, [torch.randn(4, 3)], observer="median")
    with pytest.raises(ValueError, match=r"percentile must be a number in \(0, 100\]"):
        calibrate(model.used, [torch.randn(4, 3)], observer="percentile:0")
    with pytest.raises(ValueError, match="no layer to calibrate"):
        calibrate(nn.Linear(3, 3), [torch.randn(4, 3)])
    assert not model.used._observer and not model.unused._observer  # calibration mode left


def test_percentile_observer_matches_numpy_on_a_growing_range():
    """Batches whose maximum grows 1000-fold make the histogram double its range; the
    percentile stays within a bin of numpy's (interpolated) percentile of all values."""
    rng = np.random.default_rng(25)
    batches = [rng.standard_normal(5000) * s for s in (0.01, 1.0, 10.0)]
    every = np.abs(np.concatenate(batches))
    for p in (50.0, 99.0, 99.9):
        obs = make_observer(f"percentile:{p}")()
        for b in batches:
            obs.observe(torch.from_numpy(b))
        assert abs(obs.clip(127) - np.percentile(every, p)) <= obs.edge / 4096
    top = make_observer("percentile:100")()
    top.observe(torch.from_numpy(every))
    assert top.clip(127) == every.max()


@pytest.mark.parametrize("top", [7, 127])
def test_mse_observer_minimises_the_quantisation_error(top):
    """Heavy-tailed data (Student t, 3 degrees of freedom): the chosen range's mean squared
    error over the raw samples is within 1 % of the best of the same 256 candidates computed
    directly, and beats max and a clip far too small."""
    rng = np.random.default_rng(26)
    x = rng.standard_t(3, 200000)

    def mse(r):
        s = r / top
        return np.mean((x - np.clip(np.round(x / s), -top, top) * s) ** 2)

    obs = make_observer("mse")()
    obs.observe(torch.from_numpy(x))
    chosen = obs.clip(top)
    peak = np.abs(x).max()
    best = min(mse(peak * i / 256) for i in range(1, 257))
    assert mse(chosen) <= 1.01 * best
    assert mse(chosen) < 0.5 * mse(peak) and mse(chosen) < mse(peak / 256)


def test_calibration_protocol_is_duck_typed():
    """Any module with calibration_begin/values/end takes part (e.g. an IMC layer later)."""

    class Clip(nn.Module):
        def __init__(self):
            super().__init__()
            self.clip = 0.0
            self.observers = []

        def calibration_begin(self, make_observer):
            self.observers = [make_observer(), make_observer()]

        def calibration_values(self):
            return {"clip": self.observers[1].clip(15)}

        def calibration_end(self, values):
            if values is not None:
                self.clip = values["clip"]
            self.observers = []

        def forward(self, x):
            if self.observers:
                self.observers[0].observe(x)
                self.observers[1].observe(2 * x)
            return x

    model = nn.Sequential(Clip(), ApproxLinear(2, 2))
    values = calibrate(model, torch.tensor([[1.0, -3.0]]))
    assert values == {"0": {"clip": 6.0}, "1": {"input_max": 3.0}} and model[0].clip == 6.0


def test_readme_actc_nn_script_runs(tmp_path):
    """The actc.nn script of the ML tutorial (docs/tutorials/ml.md includes
    docs/snippets/ml/1-convert.py: conversion, calibration, save and reload) as written."""
    blocks = [(ROOT / "docs" / "snippets" / "ml" / "1-convert.py").read_text()]
    assert blocks[0].startswith("# actc.nn in one script")
    p = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert re.search(r"float \d+\.\d %, drum:4 \d+\.\d %, reloaded \d+\.\d %",
                     p.stdout), p.stdout
    assert (tmp_path / "digits_drum4.pt").exists()
    reloaded = float(re.search(r"reloaded (\d+\.\d) %", p.stdout).group(1))
    assert reloaded > 80
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.load(tmp_path / "digits_drum4.pt")  # plain tensors and data


def test_calibrate_draws_a_progress_bar(monkeypatch):
    """calibrate iterates through actc.nn.progress (tqdm on a terminal) with a description
    and the number of batches."""
    import actc.nn.calibration as module

    calls = []

    def recording(iterable, **kw):
        calls.append(kw)
        return iter(iterable)

    monkeypatch.setattr(module, "progress", recording)
    calibrate(ApproxLinear(3, 2), [torch.randn(2, 3)] * 3, desc="calibrating")
    assert calls == [{"desc": "calibrating", "total": 3}]


@pytest.mark.parametrize("cin, cout, kernel, options", CONVS)
def test_conv2d_gradient_is_the_quantised_convolutions(cin, cout, kernel, options):
    """Straight-through: the gradient (input and weight) is that of the float convolution of
    the quantised operands, padding mode and groups included; approximate products do not
    change it."""
    from actc.nn.quant import channel_scale, quantize

    torch.manual_seed(27)
    layer = ApproxConv2d(cin, cout, kernel, multiplier="drum:3", bits=6, **options)
    x = torch.randn(2, cin, 7, 9, requires_grad=True)
    calibrate(layer, x.detach())
    r = torch.randn_like(layer(x))
    (layer(x) * r).sum().backward()
    got = x.grad.clone(), layer.weight.grad.clone()
    x.grad = None
    layer.weight.grad = None
    sx = layer.input_max / 31
    sw = channel_scale(layer.weight, 31)
    qx = quantize(x, sx, -32, 31) * sx
    qw = quantize(layer.weight, sw, -32, 31) * sw
    mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
    padded = nn.functional.pad(qx, layer._reversed_padding_repeated_twice, mode=mode)
    ref = nn.functional.conv2d(padded, qw, None, layer.stride, 0, layer.dilation, layer.groups)
    (ref * r).sum().backward()
    assert torch.allclose(got[0], x.grad, atol=1e-6) and torch.allclose(got[1],
                                                                       layer.weight.grad,
                                                                       atol=1e-5)
