"""actc.nn without silent wrong results (issue 17): every change of the weights is seen,
set_multiplier keeps the layer's widths, an uncalibrated layer refuses to evaluate,
conflicting arguments raise, and a state dict cannot load into a layer with another
multiplier."""

import numpy as np
import pytest
import torch

from actc.mac.api import compile as compile_mac
from actc.mac.api import make_multiplier
from actc.nn import (
    AlphabetQuantizer,
    ApproxConv2d,
    ApproxLinear,
    HybridSchedule,
    MRENoise,
    calibrate,
    to_approx,
)


def _fresh_output(layer, x):
    """The output of a new layer with the same weights, range and multiplier (no cache)."""
    other = ApproxLinear(layer.in_features, layer.out_features, multiplier="mitchell").eval()
    other.load_state_dict(layer.state_dict(), strict=True)
    with torch.no_grad():
        return other(x)


def _replace_data(layer, new):
    layer.weight.data = new


def _copy_into_data(layer, new):
    layer.weight.data.copy_(new)


def _no_grad_in_place(layer, new):
    with torch.no_grad():
        layer.weight.copy_(new)


def _load_state(layer, new):
    state = layer.state_dict()
    state["weight"] = new
    layer.load_state_dict(state)


def _new_parameter(layer, new):
    layer.weight = torch.nn.Parameter(new)


def _vector_to_parameters(layer, new):
    torch.nn.utils.vector_to_parameters(torch.cat([new.flatten(), layer.bias.detach()]),
                                        layer.parameters())


def _numpy_view(layer, new):
    layer.weight.detach().numpy()[...] = new.numpy()  # shares memory, bumps no version


def _optimizer_step(layer, new):
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    opt.zero_grad()
    layer.weight.grad = layer.weight.detach() - new  # one step lands on new
    layer.bias.grad = torch.zeros_like(layer.bias)
    opt.step()


@pytest.mark.parametrize("change", [_replace_data, _copy_into_data, _no_grad_in_place,
                                    _load_state, _new_parameter, _vector_to_parameters,
                                    _numpy_view, _optimizer_step])
def test_every_change_of_the_weights_is_seen(change, monkeypatch):
    """After an evaluation forward (which may cache data derived from the weight codes),
    each way of changing the weights changes the output to exactly what a fresh layer gives;
    the cache key the layer passes to the GEMM engine changes with the codes and stays
    equal while they do not (so the engine may cache)."""
    torch.manual_seed(11)
    layer = ApproxLinear(16, 5, multiplier="mitchell")
    x = torch.randn(6, 16)
    calibrate(layer, x)
    layer.eval()
    keys = []
    matmul = layer.engine.matmul

    def recording(a, b, cache_key=None):
        keys.append(cache_key)
        return matmul(a, b, cache_key)

    monkeypatch.setattr(layer.engine, "matmul", recording)
    with torch.no_grad():
        y0 = layer(x)
        assert torch.equal(layer(x), y0)
    assert keys[0] is not None and keys[0] == keys[1]
    new = torch.randn(5, 16) * 0.3
    change(layer, new)
    assert torch.allclose(layer.weight.detach(), new)  # the optimiser's step rounds
    with torch.no_grad():
        y1 = layer(x)
    assert keys[2] != keys[1]
    assert not torch.equal(y1, y0)
    assert torch.equal(y1, _fresh_output(layer, x))


def test_training_passes_no_cache_key_and_traces_none():
    layer = ApproxLinear(8, 3, multiplier="drum:4")
    seen = []
    matmul = layer.engine.matmul
    layer.engine.matmul = lambda a, b, k=None: seen.append(k) or matmul(a, b, k)
    layer(torch.randn(4, 8))
    assert seen == [None]


def test_set_multiplier_keeps_widths_and_signedness_and_rebuilds_the_quantisers():
    torch.manual_seed(12)
    layer = ApproxLinear(6, 2, multiplier="drum:4")  # 8-bit signed
    x = torch.linspace(-2, 2, 60).reshape(10, 6)
    calibrate(layer, x)
    layer.eval()
    layer.set_multiplier("exact", bits=4)
    assert (layer.a_bits, layer.b_bits, layer.signed) == (4, 4, True)
    qx, qw = layer.operand_codes(x)
    # the input range 2 maps onto the new largest code 7, evenly: not clamped at 7/127 of it
    assert torch.equal(qx, torch.clamp(torch.round(x / (2 / 7)), -8, 7))
    assert qw.abs().max() == 7
    unsigned = ApproxLinear(6, 2, multiplier="drum:4", bits=6, signed=False)
    unsigned.set_multiplier("mitchell")
    assert (unsigned.a_bits, unsigned.b_bits, unsigned.signed) == (6, 6, False)
    assert unsigned.engine.codes == (-63, 63, -63, 63)  # sign-magnitude codes of 6 bits
    unsigned.set_multiplier("exact", a_bits=4, b_bits=8)
    assert unsigned.engine.codes == (-15, 15, -255, 255)
    unsigned.set_multiplier("exact", signed=True)
    assert (unsigned.a_bits, unsigned.b_bits, unsigned.signed) == (4, 8, True)


def test_set_multiplier_rebuilds_the_weight_transform_or_refuses():
    layer = ApproxLinear(6, 2, weight_transform=AlphabetQuantizer("1,3", bits=8))
    layer.set_multiplier("exact", bits=6)
    assert layer.weight_transform.bits == 6
    assert layer.weight_transform.values.max() <= 31
    other = ApproxLinear(6, 2, weight_transform=torch.nn.Identity())
    other.set_multiplier("exact")  # the same widths: kept
    with pytest.raises(ValueError, match="cannot follow the weights to 4x4-bit signed codes"):
        other.set_multiplier("exact", bits=4)
    assert other.b_bits == 8  # nothing changed


def test_set_multiplier_after_an_mse_calibration_of_other_codes_asks_for_calibration():
    layer = ApproxLinear(6, 2, multiplier="drum:4")
    calibrate(layer, torch.randn(50, 6), observer="mse")
    layer.set_multiplier("mitchell")  # same codes: the range stays right
    assert layer.calibrated
    layer.set_multiplier("mitchell", bits=4)
    layer.eval()
    with pytest.raises(RuntimeError, match=r"actc\.nn\.calibrate"):
        layer(torch.randn(2, 6))


@pytest.mark.parametrize("make", [
    lambda: ApproxLinear(4, 2, multiplier="drum:4"),
    lambda: ApproxConv2d(1, 2, 3, multiplier="truncated:6"),
    lambda: to_approx(torch.nn.Sequential(torch.nn.Linear(4, 4)), "exact")[0],
])
def test_evaluation_before_calibration_raises_naming_calibrate(make):
    layer = make().eval()
    x = torch.randn(2, 4) if isinstance(layer, torch.nn.Linear) else torch.randn(1, 1, 5, 5)
    with pytest.raises(RuntimeError, match=r"no input range yet: run actc\.nn\.calibrate"):
        layer(x)
    with pytest.raises(RuntimeError, match="calibrate"):
        layer.integer_output(x)


def test_loading_a_float_state_dict_asks_for_calibration_again():
    float_model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    model = to_approx(float_model, "drum:4")
    calibrate(model, torch.randn(8, 4))
    model.load_state_dict(float_model.state_dict(), strict=True)
    with pytest.raises(RuntimeError, match="calibrate"):
        model.eval()(torch.randn(1, 4))


def test_conflicting_arguments_raise(tmp_path):
    r = compile_mac("drum:4", bits=8, signed=True, target="python", name="m8")
    r.write(tmp_path)
    path = tmp_path / "m8.json"
    with pytest.raises(ValueError, match=r"is 8x8-bit signed; the arguments ask for 4x4-bit "
                                         r"signed"):
        ApproxLinear(4, 2, multiplier=path, bits=4, signed=True)
    with pytest.raises(ValueError, match="8x8-bit signed; the arguments ask for 8x8-bit unsigned"):
        ApproxLinear(4, 2, multiplier=str(path), signed=False)
    with pytest.raises(ValueError, match="4x4-bit unsigned; the arguments ask for 8x8-bit"):
        ApproxLinear(4, 2, multiplier=make_multiplier("drum:3", bits=4), bits=8)
    with pytest.raises(ValueError, match=r"MRENoise\(mre=0.05, bias=0, bits=8\) is 8x8-bit "
                                         "signed; the arguments ask for 4x4-bit"):
        ApproxLinear(4, 2, multiplier=MRENoise(0.05), bits=4)
    with pytest.raises(ValueError, match="give bits or a_bits/b_bits, not both"):
        ApproxLinear(4, 2, multiplier="exact", bits=4, a_bits=4)
    with pytest.raises(ValueError, match="is for 8-bit signed weights; the layer's weights "
                                         "are 4-bit signed"):
        ApproxLinear(4, 2, bits=4, weight_transform=AlphabetQuantizer("1,3"))
    with pytest.raises(ValueError, match="is 8x8-bit signed; the arguments ask for 6x6"):
        to_approx(torch.nn.Sequential(torch.nn.Linear(4, 2)), path, bits=6)
    # agreeing arguments are fine, and the manifest's widths rule when none are given
    assert ApproxLinear(4, 2, multiplier=path, bits=8, signed=True).a_bits == 8
    layer = ApproxLinear(4, 2, multiplier=make_multiplier("drum:3", bits=4, signed=False))
    assert (layer.a_bits, layer.signed) == (4, False)


def test_a_state_dict_of_another_multiplier_raises_naming_both():
    torch.manual_seed(13)
    saved = to_approx(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                          torch.nn.Linear(3, 2)), "drum:4")
    calibrate(saved, torch.randn(8, 4))
    other = to_approx(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                          torch.nn.Linear(3, 2)), "mitchell")
    before = other[0].weight.detach().clone()
    with pytest.raises(ValueError, match=r"saved with multiplier drum:4, 8x8-bit signed; this "
                                         r"ApproxLinear has mitchell, 8x8-bit signed"):
        other.load_state_dict(saved.state_dict())
    assert torch.equal(other[0].weight, before)  # the refusing layer copied nothing
    narrow = to_approx(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                           torch.nn.Linear(3, 2)), "drum:4", bits=6)
    with pytest.raises(ValueError, match="drum:4, 8x8-bit signed; this ApproxLinear has "
                                         "drum:4, 6x6-bit signed"):
        narrow.load_state_dict(saved.state_dict(), strict=False)
    noisy = ApproxLinear(4, 3, multiplier=MRENoise(0.1))
    with pytest.raises(ValueError, match=r"MRENoise\(mre=0.1, bias=0, bits=8\)"):
        saved[0].load_state_dict(noisy.state_dict())


def test_imported_tables_are_told_apart_by_their_digest(tmp_path):
    from pathlib import Path

    from actc.mac.importer import import_circuit

    fixtures = Path(__file__).resolve().parent / "fixtures"
    r = import_circuit(fixtures / "loa_mul_signed.c", bits=8, signed=True, target="python")
    r.write(tmp_path)
    layer = ApproxLinear(4, 2, multiplier=tmp_path / f"{r.unit.name}.json")
    state = layer.state_dict()["_extra_state"]
    assert len(state["multiplier"]["digest"]) == 16
    state["multiplier"]["digest"] = "0" * 16
    with pytest.raises(ValueError, match="saved with multiplier"):
        layer.set_extra_state(state)


def test_a_model_saved_mid_hybrid_schedule_reloads_in_the_same_mode(tmp_path):
    torch.manual_seed(14)

    def build():
        return to_approx(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(),
                                             torch.nn.Linear(4, 2)), "drum:4")

    model = build()
    schedule = HybridSchedule(2, 1)
    x = torch.randn(16, 4)
    for epoch in range(3):
        schedule.apply(model, epoch)
        model(x).sum().backward()
        if epoch == 2:  # the exact epoch
            torch.save(model.state_dict(), tmp_path / "mid.pt")
    again = build()
    assert all(layer.approximate for layer in again.modules() if hasattr(layer, "engine"))
    again.load_state_dict(torch.load(tmp_path / "mid.pt"))  # weights_only=True: plain data
    assert [m.approximate for m in again.modules() if hasattr(m, "engine")] == [False, False]
    assert all(m.calibrated and m.calibration == "training"
               for m in again.modules() if hasattr(m, "engine"))
    again.eval()
    model.eval()
    with torch.no_grad():
        assert torch.equal(again(x), model(x))


def test_outputs_do_not_depend_on_gradient_mode():
    """The straight-through output adds an exact zero: evaluating with gradients enabled
    gives the same bits as under no_grad."""
    torch.manual_seed(15)
    conv = ApproxConv2d(2, 3, 3, padding=1, multiplier="drum:4")
    x = torch.randn(2, 2, 6, 6)
    calibrate(conv, x)
    conv.eval()
    with_grad = conv(x)
    with torch.no_grad():
        assert torch.equal(conv(x), with_grad)
    assert with_grad.requires_grad


def test_numpy_reference_of_set_multiplier_codes():
    """After set_multiplier to 4-bit unsigned, the integer sums are the multiplier's on
    sign-magnitude codes."""
    torch.manual_seed(16)
    layer = ApproxLinear(12, 3, multiplier="exact")
    x = torch.randn(5, 12)
    calibrate(layer, x)
    layer.set_multiplier("drum:3", bits=4, signed=False)
    layer.eval()
    a, b = (t.numpy().astype(np.int64) for t in layer.operand_codes(x))
    m = make_multiplier("drum:3", bits=4, signed=False)
    sign = np.sign(a)[:, None, :] * np.sign(b)[None, :, :]
    want = (sign * m.product(np.abs(a)[:, None, :], np.abs(b)[None, :, :])).sum(-1)
    assert np.abs(a).max() == 15
    assert np.array_equal(layer.integer_output(x).numpy(), want)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_models_do_not_overflow_the_sums(dtype):
    """8-bit products summed over 576 inputs reach 9.3e6, beyond float16's 65504: the sums
    are scaled before they are rounded to the model's type, and the engine's product table
    keeps its type through ``.to(dtype)``. bfloat16 inputs themselves carry 8 significant
    bits, so some input codes move by one."""
    torch.manual_seed(17)
    conv = ApproxConv2d(64, 4, 3, padding=1, multiplier="drum:4")
    x = torch.rand(2, 64, 5, 5)
    calibrate(conv, x)
    conv.eval()
    table_dtype = conv.engine.table.dtype
    assert not table_dtype.is_floating_point or table_dtype.itemsize >= 4
    with torch.no_grad():
        full = conv(x)
        half = conv.to(dtype)(x.to(dtype))
    assert half.dtype == dtype and torch.isfinite(half).all()
    assert conv.engine.table.dtype == table_dtype
    assert (half.float() - full).abs().max() < 0.05 * full.abs().max()
