"""actc.nn: the layers' forward bit-exact with the emitted Python reference, the noise model's
statistics, the schedules, the alphabet projection, compiled activations inside a network,
and a short training run (seconds)."""

import math

import numpy as np
import pytest
import torch

import actc
from actc.mac.api import compile as compile_mac
from actc.mac.api import make_multiplier
from actc.nn import (
    AlphabetQuantizer,
    ApproxActivation,
    ApproxConv2d,
    ApproxLinear,
    HybridSchedule,
    MRENoise,
    approximate_layers,
    calibrate,
)
from actc.nn.gemm import ApproxGemm
from actc.targets.python import load_module


def reference_products(module, multiplier, a, b):
    """Products from the emitted Python reference (sign-magnitude for an unsigned one)."""
    if multiplier.signed:
        return module.product(a, b)
    sign = np.where(a < 0, -1, 1) * np.where(b < 0, -1, 1)
    return sign * module.product(np.abs(a), np.abs(b))


@pytest.mark.parametrize("spec, signed", [("exact", True), ("truncated:5", True),
                                          ("bam:2,6", False), ("drum:4", True),
                                          ("mitchell", False), ("mbm", True), ("ilm:1", True),
                                          ("asm:1,3", True), ("asm:1", False)])
def test_layers_forward_is_bit_exact_with_the_python_reference(tmp_path, spec, signed):
    r = compile_mac(spec, bits=8, signed=signed, target="python", name="ref")
    r.write(tmp_path)
    ref = load_module(tmp_path / "ref.py")
    torch.manual_seed(1)
    lin = ApproxLinear(24, 6, multiplier=r.unit.multiplier)
    calibrate(lin, [torch.full((1, 24), 2.5)])
    lin.eval()
    x = torch.randn(10, 24)
    acc = lin.integer_output(x).numpy()
    qx, qw = lin.operand_codes(x)
    a = qx.numpy().astype(np.int64)
    b = qw.numpy().astype(np.int64)
    want = reference_products(ref, r.unit.multiplier, a[:, None, :], b[None, :, :]).sum(-1)
    assert np.array_equal(acc, want)
    assert a.min() < 0 and a.max() > 0 and np.abs(b).max() == lin.engine.codes[3]
    # the float output is the integer sum, scaled
    sx = lin.input_max / lin.engine.codes[1]
    y = lin(x).detach()
    sw = lin.weight.detach().abs().amax(1) / lin.engine.codes[3]
    assert torch.allclose(y, torch.from_numpy(want).float() * sx * sw + lin.bias.detach(),
                          rtol=1e-5, atol=1e-6)


def test_conv2d_matches_the_reference_gather_on_im2col_rows(tmp_path):
    r = compile_mac("drum:4", bits=8, signed=True, target="python", name="ref")
    r.write(tmp_path)
    ref = load_module(tmp_path / "ref.py")
    torch.manual_seed(2)
    conv = ApproxConv2d(3, 5, 3, padding=1, stride=2, multiplier=r.unit.multiplier)
    x = torch.randn(2, 3, 9, 9)
    y = conv(x)
    assert y.shape == torch.nn.functional.conv2d(x, conv.weight, padding=1, stride=2).shape
    qx, qw = conv.operand_codes(x)
    a = qx.numpy().astype(np.int64)
    b = qw.numpy().astype(np.int64)
    want = ref.product(a[:, None, :], b[None, :, :]).sum(-1)
    assert np.array_equal(conv.integer_output(x).numpy(), want)


def test_imported_multiplier_from_a_manifest(tmp_path):
    from pathlib import Path

    from actc.mac.importer import import_circuit

    fixtures = Path(__file__).resolve().parent / "fixtures"
    r = import_circuit(fixtures / "loa_mul_signed.c", bits=8, signed=True, target="python")
    r.write(tmp_path)
    lin = ApproxLinear(8, 3, multiplier=tmp_path / f"{r.unit.name}.json")
    assert lin.engine.method == "table"
    x = torch.randn(4, 8)
    calibrate(lin, x)
    qx, qw = lin.operand_codes(x)
    a, b = qx.long(), qw.long()
    want = ((a[:, None, :] * b[None, :, :]) & ~1).sum(-1).double()
    assert torch.equal(lin.integer_output(x), want)


def test_gemm_methods_agree_with_a_gather_on_every_code():
    torch.manual_seed(3)
    for spec, signed in (("truncated:8,correction=mean", True), ("asm:1,3,5,7", False),
                         ("exact", False)):
        g = ApproxGemm(make_multiplier(spec, bits=8, signed=signed))
        assert g.method == "factorised"
        lo, hi, blo, bhi = g.codes
        a = torch.arange(lo, hi + 1).repeat(3)[None, :].double()  # every code, K = 3 x range
        b = torch.randint(blo, bhi + 1, (a.shape[1], 7)).double()
        want = g.product(a[:, :, None].long(), b[None].long()).double().sum(1)
        assert torch.equal(g.matmul(a, b), want)
        # the table method gives the same sums
        g.method = "table"
        assert torch.equal(g.matmul(a, b), want)


def test_table_method_caches_expanded_weights_only_while_they_do_not_change():
    lin = ApproxLinear(16, 4, multiplier="mitchell")
    x = torch.randn(5, 16)
    calibrate(lin, x)
    lin.eval()
    with torch.no_grad():
        y1 = lin(x)
        assert lin.engine._cache is not None
        lin.weight.mul_(-1)  # in place: the version changes
        y2 = lin(x)
    assert not torch.equal(y1, y2)
    fresh = ApproxLinear(16, 4, multiplier="mitchell").eval()
    fresh.load_state_dict(lin.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(fresh(x), y2)


def test_backward_is_the_exact_products_gradient():
    torch.manual_seed(4)
    lin = ApproxLinear(6, 3, multiplier="drum:3")
    x = torch.randn(4, 6, requires_grad=True)
    lin(x).sum().backward()
    g_approx = x.grad.clone()
    exact = ApproxLinear(6, 3, multiplier="exact")
    state = lin.state_dict()
    del state["_extra_state"]  # another multiplier's: take the weights and the range
    exact.load_state_dict(state, strict=False)
    exact.calibrated = True
    x.grad = None
    exact.train(False)
    lin.train(False)
    exact(x).sum().backward()
    assert torch.allclose(g_approx, x.grad)


def test_mre_noise_statistics():
    """The model's relative error: mean |e| = mre and mean e = bias, measured on single
    products (K = 1) over 200000 draws: standard error about 0.0002, bounds 5x that."""
    torch.manual_seed(5)
    n = MRENoise(0.05, bias=0.01)
    a = torch.full((200000, 1), 37.0)
    b = torch.full((1, 1), -11.0)
    rel = n.matmul(a, b)[:, 0] / (37 * -11) - 1
    assert abs(rel.abs().mean().item() - 0.05) < 0.001
    assert abs(rel.mean().item() - 0.01) < 0.001
    # sums: the spread is sqrt of the sum of squared products
    a = torch.tensor([[3.0, 4.0]]).repeat(200000, 1)
    b = torch.tensor([[5.0], [-2.0]])
    y = n.matmul(a, b)[:, 0]
    assert abs(y.std().item() - n.sigma * math.sqrt(15 ** 2 + 8 ** 2)) < 0.05
    assert abs(y.mean().item() - 7 * 1.01) < 0.05


def test_mre_noise_from_a_real_multiplier():
    n = MRENoise.from_multiplier("drum:4")
    m = make_multiplier("drum:4", bits=8, signed=True)
    a = m.operands("a")[:, None]
    b = m.operands("b")[None, :]
    nz = a * b != 0
    rel = ((m.product(a, b) - a * b)[nz] / (a * b)[nz])
    assert n.mre == pytest.approx(np.abs(rel).mean()) and n.bias == pytest.approx(rel.mean())
    assert n.mre == pytest.approx(0.0586, abs=1e-3)


def test_hybrid_schedule_switches_layers():
    model = torch.nn.Sequential(ApproxLinear(4, 4, multiplier="drum:4"), torch.nn.ReLU(),
                                ApproxLinear(4, 2, multiplier="drum:4"))
    s = HybridSchedule(3, 1)
    assert [s.apply(model, e) for e in range(4)] == [True, True, True, False]
    assert all(not layer.approximate for layer in approximate_layers(model))
    r = HybridSchedule(3, 1, order="exact-first")
    assert [r.approximate(e) for e in range(4)] == [False, True, True, True]
    assert (s.switch_epoch, r.switch_epoch) == (3, 1)
    with pytest.raises(ValueError):
        HybridSchedule(0, 0)


def test_alphabet_quantizer_projects_like_the_asm_multiplier_below_the_top():
    torch.manual_seed(6)
    q = AlphabetQuantizer("1,3", bits=8)
    assert q.representable == 48  # |w| <= 127; 128 is the 49th for the ASM hardware
    codes = torch.arange(-127.0, 128.0, requires_grad=True)
    out = q(codes)
    out.sum().backward()
    assert torch.all(codes.grad == 1)  # straight through
    rounding = make_multiplier("asm:1,3", bits=8, signed=True).family.represent(
        np.arange(-127, 128), 8, True)
    below = np.abs(rounding) <= 127
    assert np.array_equal(out.detach().numpy().astype(int)[below], rounding[below])
    assert out.detach().abs().max() == 108  # 0x6C; 0x78 needs a 7, 0x80 is out of range
    with_asm = ApproxLinear(12, 4, multiplier="asm:1,3").eval()
    projected = ApproxLinear(12, 4, multiplier="exact", weight_transform=q).eval()
    projected.weight.data.copy_(with_asm.weight.data)
    for layer in (with_asm, projected):
        calibrate(layer, [torch.full((1, 12), 3.0)])
    with torch.no_grad():
        with_asm.weight.clamp_(-0.5, 0.5)
        with_asm.weight[:, 0] = 0.6  # the channel maximum (code 127): 128 vs 108
        projected.weight.copy_(with_asm.weight)
    x = torch.randn(6, 12)
    x[:, 0] = 0.0  # the top codes' products differ; every other product agrees
    assert torch.equal(with_asm.integer_output(x), projected.integer_output(x))


def test_approx_activation_from_a_manifest_matches_the_unit(tmp_path):
    r = actc.compile("gelu(x)", bits=8, method="grau", target="python")
    r.write(tmp_path)
    act = ApproxActivation.from_manifest(tmp_path / "gelu.json")
    fi, fo = r.unit.in_format, r.unit.out_format
    codes = np.arange(fi.code_min, fi.code_max + 1)
    x = torch.tensor(fi.real(codes), dtype=torch.float32, requires_grad=True)
    y = act(x)
    want = fo.real(r.unit.evaluate(x=codes)["y"])
    assert np.allclose(y.detach().numpy(), want, atol=1e-7)
    y.sum().backward()
    assert x.grad[len(codes) // 2 + 20] > 0.5  # GELU's slope near x = 1.25 is about 1
    outside = torch.tensor([100.0], requires_grad=True)
    act(outside).sum().backward()
    assert outside.grad.item() == 0.0


def test_a_network_with_approximate_macs_and_activation_trains(tmp_path):
    """Seconds of training on the digits set: loss falls, accuracy beats chance by far."""
    from sklearn.datasets import load_digits

    r = actc.compile("relu(x)", bits=8, target="python", domain=(-4, 4))
    r.write(tmp_path)
    torch.manual_seed(7)
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    model = torch.nn.Sequential(ApproxLinear(64, 32, multiplier="drum:6"),
                                ApproxActivation.from_manifest(tmp_path / "relu.json"),
                                ApproxLinear(32, 10, multiplier="drum:6"))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert losses[-1] < 0.5 * losses[0] and acc > 0.8
