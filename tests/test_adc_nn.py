"""actc.nn IMC layers: the torch forward equals the numpy crossbar model, the gradient is
the exact matmul's within the clamp, MTJ sampling is seeded, to_imc keeps first and last."""

import numpy as np
import pytest
import torch
from torch import nn

from actc.adc import Crossbar
from actc.errors import ConfigError
from actc.nn import IMCConv2d, IMCLinear, calibrate, imc_layers, set_samples, to_imc

CASES = [("ideal", "differential", None), ("adc:4", "differential", "full"),
         ("adc:6", "differential", "full"), ("sparse:3", "differential", None),
         ("adc:5", "offset", "full"), ("ideal", "offset", None), ("adc:3", "unsigned", "full")]


@pytest.mark.parametrize("conv, scheme, clip", CASES)
def test_forward_equals_the_numpy_crossbar(conv, scheme, clip):
    torch.manual_seed(0)
    layer = IMCLinear(70, 5, bias=False, converter=conv, rows=16, weight_bits=4,
                      input_bits=4, scheme=scheme, clip=clip).eval()
    xb = layer.crossbar
    lo, hi = xb.weight_range
    w = torch.randint(-hi if lo < 0 else 0, hi + 1, (5, 70)).float()
    w[:, 0] = hi  # per-channel scale 1: the weights are their own codes
    layer.weight.data = w
    layer.act_max.fill_(15.0)  # input scale 1
    x = torch.randint(0, 16, (6, 70)).float()
    want = xb.matmul(x.long().numpy(), w.t().long().numpy(), conv) * xb.output_lsb(conv)
    assert np.allclose(layer(x).detach().numpy(), want, rtol=0, atol=1e-3)
    assert layer.last_conversions == 5 * 4 * (3 * 5 if scheme == "differential" else
                                              4 * 5 + (scheme == "offset"))


def test_gradient_is_the_matmuls_within_the_clamp():
    """adc:8 over the full range never clamps: the gradient equals that of x @ w exactly;
    a tight clip zeroes the gradient of clamped partial sums."""
    torch.manual_seed(1)
    layer = IMCLinear(40, 3, bias=False, converter="adc:8", rows=16, clip="full")
    x = torch.rand(4, 40, requires_grad=True)
    layer(x).sum().backward()
    g = x.grad.clone()
    ref = IMCLinear(40, 3, bias=False, converter="ideal", rows=16)
    ref.weight.data = layer.weight.data.clone()
    x2 = x.detach().clone().requires_grad_(True)
    ref(x2).sum().backward()
    assert torch.allclose(g, x2.grad, atol=1e-5)
    tight = IMCLinear(40, 3, bias=False, converter="adc:4", rows=16, clip=0.05)
    tight.weight.data = layer.weight.data.clone()
    x3 = x.detach().clone().requires_grad_(True)
    tight(x3).sum().backward()
    assert tight.last_clamped > 0.5 and x3.grad.abs().sum() < g.abs().sum()


def test_mtj_sampling_is_seeded_and_unbiased_in_the_linear_region():
    torch.manual_seed(2)
    a = IMCLinear(64, 4, converter="mtj:8", rows=16, seed=7).eval()
    b = IMCLinear(64, 4, converter="mtj:8", rows=16, seed=7).eval()
    calibrate(a, torch.rand(5, 64))  # eval needs the ranges
    b.load_state_dict(a.state_dict())
    x = torch.rand(5, 64)
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x), a(x))  # the generator moves on
    set_samples(a, 2)
    assert a.samples == 2 and "samples=2" in repr(a)


def test_conv_matches_unfolded_linear():
    torch.manual_seed(3)
    conv = IMCConv2d(3, 4, 3, padding=1, converter="ideal", rows=16).eval()
    x = torch.rand(2, 3, 5, 5)
    calibrate(conv, x)  # eval needs the input range
    y = conv(x)
    plain = nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
    assert y.shape == plain.shape == (2, 4, 5, 5)
    assert torch.corrcoef(torch.stack([y.flatten(), plain.flatten()]))[0, 1] > 0.99
    assert conv.last_conversions == 25 * 2 * 4 * 3 * 4  # pixels x sub-arrays x J x S x out


def test_to_imc_keeps_first_and_last_full_precision():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(),
                          nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    to_imc(model, "mtj:4", rows=16)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "ReLU", "IMCConv2d", "ReLU", "Flatten", "IMCLinear", "ReLU",
                     "Linear"]
    assert len(imc_layers(model)) == 2
    with pytest.raises(ConfigError, match="3 sample counts for 2 IMC layers"):
        set_samples(model, [1, 2, 4])


def test_training_steps_reduce_the_loss():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(),
                          IMCLinear(32, 16, converter="mtj:4", rows=16), nn.ReLU(),
                          nn.Linear(16, 2))
    x = torch.rand(128, 20)
    y = (x[:, 0] > 0.5).long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_bad_layer_configuration():
    with pytest.raises(ConfigError, match="rows 8 is out of range"):
        IMCLinear(4, 4, rows=8)
    with pytest.raises(ConfigError, match="sparse:N has a fixed step"):
        IMCLinear(4, 4, converter="sparse:4", clip=2.0)
    assert Crossbar(rows=16).subarrays(40) == 3
