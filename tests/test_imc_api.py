"""actc.nn IMC layers as a PyTorch user expects (issue 17): nn.Linear/nn.Conv2d subclasses
with every Conv2d option checked against Crossbar.matmul on the im2col rows, to_imc and
from_linear/from_conv2d, calibration through actc.nn.calibrate (eval before it raises), state
dicts (float ones load strict, another converter or crossbar refused, plain data)."""

import copy
import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from actc.adc import converter, engine
from actc.errors import ConfigError
from actc.nn import ApproxLinear, IMCConv2d, IMCLinear, calibrate, imc_layers, set_samples, to_imc
from actc.nn.imc import imc_network


def _integer_weights(layer, gen):
    """Weights that are their own codes (per-output scale 1) and an input scale of 1."""
    lo, hi = layer.crossbar.weight_range
    w = torch.randint(lo, hi + 1, layer.weight.shape, generator=gen).float()
    w.reshape(w.shape[0], -1)[:, 0] = hi
    with torch.no_grad():
        layer.weight.copy_(w)
        if layer.bias is not None:
            layer.bias.zero_()
        layer.act_max.fill_(float((1 << layer.crossbar.input_bits) - 1))
    return w


CONV_OPTIONS = [dict(stride=2, padding=1), dict(padding="same", dilation=2),
                dict(kernel_size=4, padding="same"), dict(padding="valid"),
                dict(groups=2, padding=1), dict(groups=4, padding=1),  # 4: depthwise
                dict(padding=2, padding_mode="reflect"), dict(padding=1, padding_mode="circular"),
                dict(padding=(1, 2), padding_mode="replicate", stride=(2, 1), dilation=(1, 2))]


@pytest.mark.parametrize("options", CONV_OPTIONS, ids=lambda o: ",".join(f"{k}={v}"
                                                                          for k, v in o.items()))
def test_every_conv_option_equals_the_crossbar_on_the_im2col_rows(options):
    """adc:3 over the crossbar's full range: each group's im2col rows (torch's own padding of
    an nn.Conv2d with the same options, then unfold) through Crossbar.matmul; the ideal
    converter equals nn.Conv2d itself on the integer codes."""
    opts = {"kernel_size": 3, **options}
    gen = torch.Generator().manual_seed(0)
    plain = nn.Conv2d(4, 4, bias=False, **opts)
    x = torch.randint(0, 16, (2, 4, 7, 8), generator=gen).float()
    for spec in ("adc:3", "ideal"):
        layer = IMCConv2d.from_conv2d(plain, spec, rows=16, clip="full" if spec != "ideal"
                                      else None).eval()
        w = _integer_weights(layer, torch.Generator().manual_seed(1))
        y = layer(x).detach()
        with torch.no_grad(), warnings.catch_warnings():
            # torch's own note on padding="same" with an even kernel (the reference)
            warnings.filterwarnings("ignore", "Using padding='same' with even kernel")
            plain.weight.copy_(w)
            reference = plain(x)
        assert y.shape == reference.shape
        if spec == "ideal":
            assert torch.equal(y, reference)
            continue
        xb = layer.crossbar
        pad = plain._reversed_padding_repeated_twice
        mode = "constant" if plain.padding_mode == "zeros" else plain.padding_mode
        padded = F.pad(x, pad, mode=mode) if any(pad) else x
        cols = F.unfold(padded, plain.kernel_size, plain.dilation, 0, plain.stride)
        rows = cols.transpose(1, 2).reshape(-1, cols.shape[1]).long().numpy()
        g, k = plain.groups, cols.shape[1] // plain.groups
        wm = w.reshape(4, -1).long().numpy()
        per = 4 // g
        parts = [xb.matmul(rows[:, i * k:(i + 1) * k], wm[i * per:(i + 1) * per].T, spec)
                 for i in range(g)]
        want = np.concatenate(parts, axis=1) * xb.output_lsb(spec)
        got = y.reshape(2, 4, -1).transpose(1, 2).reshape(-1, 4).numpy()
        assert np.allclose(got, want, rtol=0, atol=1e-3)
        exact = np.concatenate([rows[:, i * k:(i + 1) * k] @ wm[i * per:(i + 1) * per].T
                                for i in range(g)], axis=1)
        assert not np.allclose(got, exact, atol=0.5)  # the 3-bit conversions do show


def test_groups_draw_their_own_mtj_noise():
    """mtj:4 on a fixed range: each group is the engine's result for its own key, the keys
    drawn one after the other from the layer's generator (groups sharing a key would
    correlate their noise)."""
    gen = torch.Generator().manual_seed(2)
    c = converter("mtj:4", lo=-8, hi=8)
    layer = IMCConv2d(4, 4, 3, padding=1, groups=2, bias=False, converter=c, rows=16,
                      seed=5).eval()
    w = _integer_weights(layer, gen)
    x = torch.randint(0, 16, (1, 4, 5, 5), generator=gen).float()
    y = layer(x).detach().reshape(4, -1).t().numpy()
    keys = torch.Generator().manual_seed(5)
    rows = F.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 36).long().numpy()
    wm = w.reshape(4, -1).long().numpy()
    xb = layer.crossbar
    convs = xb.bind_slices(c)
    for g in range(2):
        key = int(torch.randint(0, 1 << 62, (1,), generator=keys))
        want = engine.matmul(xb, rows[:, g * 18:(g + 1) * 18], wm[2 * g:2 * g + 2].T, convs,
                             key, xb.zero_skip) * xb.output_lsb(c)
        assert np.array_equal(y[:, 2 * g:2 * g + 2], want.astype(np.float32))


def test_grouped_training_shares_one_clip_update_and_trains():
    """A grouped layer updates its running partial-sum RMS once per forward (not once per
    group) and its gradient reaches every group's weights."""
    torch.manual_seed(3)
    layer = IMCConv2d(4, 8, 3, padding=1, groups=4, converter="mtj:4", rows=16)
    x = torch.relu(torch.randn(4, 4, 6, 6))
    layer(x).pow(2).sum().backward()
    first = layer.ps_rms.clone()
    assert (first > 0).all() and layer.calibrated
    grad = layer.weight.grad.reshape(8, -1).abs().sum(1)
    assert (grad > 0).all()
    fresh = IMCConv2d(4, 8, 3, padding=1, groups=4, converter="mtj:4", rows=16)
    fresh.load_state_dict(layer.state_dict())
    fresh.ps_rms.zero_()
    fresh.act_max.zero_()
    fresh(x)
    assert torch.equal(fresh.ps_rms, first)  # one copy of the batch RMS, not g EMA steps
    # batch x pixels x sub-arrays x input slices x weight slices x outputs, per group
    assert layer.last_stats["conversions"] == 4 * (4 * 36 * 1 * 4 * 3 * 2)


def test_subclasses_see_init_loops_and_optimisers():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), IMCLinear(8, 8, rows=16), nn.ReLU(),
                          IMCConv2d(1, 2, 3, rows=16))
    assert isinstance(model[2], nn.Linear) and isinstance(model[4], nn.Conv2d)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.constant_(m.weight, 0.25)
    assert torch.all(model[2].weight == 0.25) and torch.all(model[4].weight == 0.25)
    decay = [p for m in model.modules() if isinstance(m, nn.Linear) for p in [m.weight]]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 0.1}], lr=0.1)
    assert any(p is model[2].weight for p in opt.param_groups[0]["params"])
    assert "in_features=8, out_features=8" in repr(model[2]) and "converter=ideal" in repr(
        model[2])


def test_to_imc_copies_every_setting_and_leaves_what_it_must():
    torch.manual_seed(4)
    float_model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(),
                                nn.Conv2d(4, 4, 3, stride=2, padding="same" if False else 1,
                                          dilation=2, groups=2, padding_mode="reflect"),
                                nn.ReLU(), nn.Flatten(), nn.Linear(16, 8), nn.ReLU(),
                                nn.Linear(8, 2)).double().eval()
    float_model[5].weight.requires_grad_(False)
    before = copy.deepcopy(float_model.state_dict())
    model = to_imc(float_model, "adc:4", rows=16, weight_bits=3, seed=9, inplace=False)
    assert all(torch.equal(v, float_model.state_dict()[k]) for k, v in before.items())
    assert [type(m).__name__ for m in float_model][2] == "Conv2d"  # the original untouched
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "ReLU", "IMCConv2d", "ReLU", "Flatten", "IMCLinear", "ReLU",
                     "Linear"]  # keep_first and keep_last by default
    conv, fc = model[2], model[5]
    assert (conv.stride, conv.padding, conv.dilation, conv.groups, conv.padding_mode) == \
        ((2, 2), (1, 1), (2, 2), 2, "reflect")
    assert conv.weight.dtype == torch.float64 and not conv.training and not fc.training
    assert torch.equal(conv.weight, float_model[2].weight)
    assert torch.equal(fc.bias, float_model[5].bias)
    assert not fc.weight.requires_grad and fc.bias.requires_grad
    assert conv.crossbar.weight_bits == 3 and fc.converter.spec == "adc:4"
    # seed + i per converted layer: the generators differ and follow the seed
    a, b = (int(torch.randint(0, 1 << 30, (1,), generator=m.generator)) for m in (conv, fc))
    assert a == int(torch.randint(0, 1 << 30, (1,), generator=torch.Generator().manual_seed(9)))
    assert b == int(torch.randint(0, 1 << 30, (1,), generator=torch.Generator().manual_seed(10)))
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    calibrate(model, x)
    assert model(x).dtype == torch.float64
    every = to_imc(float_model, "ideal", rows=16, keep_first=False, keep_last=False,
                   inplace=False)
    assert len(imc_layers(every)) == 4
    in_place = to_imc(float_model, "ideal", rows=16)
    assert in_place is float_model and len(imc_layers(float_model)) == 2


def test_to_imc_refuses_unknown_options_and_leaves_other_layers():
    approx = ApproxLinear(4, 4, multiplier="drum:4")
    model = nn.Sequential(nn.Linear(4, 4), approx, nn.Conv1d(1, 1, 1), nn.Linear(4, 4))
    with pytest.raises(TypeError, match="to_imc got unexpected options: row"):
        to_imc(model, "ideal", row=16)
    with pytest.warns(UserWarning, match=r"to_imc leaves .*2 \(Conv1d\)"):
        out = to_imc(model, "ideal", rows=16, keep_first=False, keep_last=False,
                     inplace=False)
    assert type(out[1]) is ApproxLinear  # an approximate layer is not turned into an IMC one
    assert [type(m).__name__ for m in out] == ["IMCLinear", "ApproxLinear", "Conv1d",
                                               "IMCLinear"]


def test_eval_before_calibration_raises_naming_calibrate():
    x = torch.rand(4, 32)
    for spec in ("ideal", "adc:4", "mtj:4"):
        layer = IMCLinear(32, 4, converter=spec, rows=16).eval()
        with pytest.raises(RuntimeError, match=r"no input range yet: run "
                                               r"actc\.nn\.calibrate\(model, batches\)"):
            layer(x)
    layer = IMCLinear(32, 4, converter="mtj:4", rows=16).eval()
    layer.act_max.fill_(1.0)  # an input range, but no partial-sum ranges
    with pytest.raises(RuntimeError, match=r"no partial-sum ranges yet: run actc\.nn\.calibrate"):
        layer(x)
    assert not layer.calibrated
    calibrate(layer, x)
    assert layer.calibrated and layer(x).shape == (4, 4)


def _rms_by_crossbar(layer, rows):
    """Per input slice, the RMS of every partial sum (zero_skip none), from Crossbar."""
    xq, _ = layer._quantize_input(rows)
    wq, _ = layer._quantize_weight(layer.weight.t())
    ps, _ = layer.crossbar.partial_sums(xq.round().long().numpy(),
                                        wq.detach().round().long().numpy())
    return np.sqrt((ps.astype(np.float64) ** 2).mean(axis=(0, 1, 3, 4)))


def test_calibrate_sets_input_ranges_and_clips_from_all_batches():
    """Input range: the observer's, over the float network's activations (the second layer
    sees relu of the first's float output). Partial-sum ranges: the RMS over every batch at
    the new input range (not a mean of per-batch RMS), as Crossbar computes it."""
    torch.manual_seed(5)
    model = nn.Sequential(IMCLinear(40, 24, converter="adc:4", rows=16, zero_skip="none"),
                          nn.ReLU(),
                          IMCLinear(24, 3, converter="mtj:4", rows=16, zero_skip="none"))
    batches = [torch.rand(8, 40), torch.rand(8, 40) * 3]
    values = calibrate(model, batches)
    first, second = model[0], model[2]
    assert float(first.act_max) == pytest.approx(float(torch.cat(batches).max()), rel=1e-6)
    with torch.no_grad():
        h = torch.relu(F.linear(torch.cat(batches), first.weight, first.bias))
    assert float(second.act_max) == pytest.approx(float(h.max()), rel=1e-6)
    first.eval()
    want = _rms_by_crossbar(first, torch.cat(batches))
    assert np.allclose(first.ps_rms.numpy(), want, rtol=1e-6)
    per_batch = np.mean([_rms_by_crossbar(first, b) for b in batches], axis=0)
    assert not np.allclose(want, per_batch, rtol=1e-3)
    assert sorted(values["0"]) == ["input_max", "ps_rms.0", "ps_rms.1", "ps_rms.2",
                                   "ps_rms.3"]
    assert first.calibration == "max" and model.training  # the mode restored
    y = model(batches[0])
    assert float(first.act_max) == values["0"]["input_max"]  # eval leaves the ranges alone
    assert y.shape == (8, 3)
    pct = copy.deepcopy(model)
    calibrate(pct, batches, observer="percentile:90")
    assert float(pct[0].act_max) < float(first.act_max)


def test_calibrate_refuses_what_it_cannot_do():
    model = nn.Sequential(IMCLinear(16, 4, converter="mtj:4", rows=16), nn.ReLU(),
                          IMCLinear(4, 2, converter="adc:4", rows=16))
    with pytest.raises(ValueError, match="needs 2 passes over the batches .*not an iterator"):
        calibrate(model, (torch.rand(4, 16) for _ in range(2)))
    skip = nn.Module()
    skip.a = IMCLinear(16, 4, converter="mtj:4", rows=16)
    skip.b = IMCLinear(16, 4, converter="mtj:4", rows=16)
    skip.forward = lambda x: skip.a(x)
    with pytest.raises(ValueError, match="layer 'b' saw no input during calibration"):
        calibrate(skip, [torch.rand(4, 16)])
    assert float(skip.a.act_max) == 0 and float(skip.a.ps_rms.sum()) == 0  # nothing set
    ideal_only = nn.Sequential(IMCLinear(16, 4, rows=16))
    calibrate(ideal_only, iter([torch.rand(4, 16)]))  # one pass: an iterator will do
    assert ideal_only[0].calibrated


def test_recalibrate_clips_uses_the_next_batch_only():
    torch.manual_seed(6)
    layer = IMCLinear(32, 4, converter="mtj:4", rows=16)
    layer(torch.rand(16, 32))
    trained = layer.ps_rms.clone()
    layer.eval()
    layer.converter = converter("mtj:8")
    layer.recalibrate_clips()
    x = torch.rand(16, 32) * 0.5
    layer(x)
    set_once = layer.ps_rms.clone()
    assert not torch.equal(set_once, trained)
    layer(torch.rand(16, 32))
    assert torch.equal(layer.ps_rms, set_once)


def _save_load(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_state_dict_round_trip_is_plain_data_and_checked():
    torch.manual_seed(7)

    def build(spec="mtj:4", **kw):
        m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 2))
        return to_imc(m, spec, rows=16, **kw)

    model = build()
    set_samples(model, 2)
    x = torch.rand(6, 8)
    calibrate(model, x, observer="percentile:99")
    state = _save_load(model.state_dict())
    extra = state["2._extra_state"]
    assert extra["converter"]["spec"] == "mtj:4" and extra["crossbar"]["rows"] == 16
    assert extra["samples"] == 2 and extra["calibration"] == "percentile:99"
    again = build()
    again.load_state_dict(state, strict=True)
    layer, other = model[2], again[2]
    assert other.samples == 2 and other.calibration == "percentile:99" and other.calibrated
    assert torch.equal(other.ps_rms, layer.ps_rms) and torch.equal(other.act_max, layer.act_max)
    layer.generator.manual_seed(1)
    other.generator.manual_seed(1)
    assert torch.equal(model.eval()(x), again.eval()(x))
    with pytest.raises(ValueError, match=r"saved with converter mtj:4.*this IMCLinear has "
                                         r"converter adc:4"):
        build("adc:4").load_state_dict(state)
    with pytest.raises(ValueError, match=r"rows 16.*rows 32"):
        to_imc(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                             nn.Linear(16, 2)), "mtj:4", rows=32).load_state_dict(state)
    with pytest.raises(ValueError, match=r"clip 1.0.*clip 2.0"):
        build(clip=2.0).load_state_dict(state)
    with pytest.raises(ValueError, match=r"zero_skip hardware.*zero_skip stoxnet"):
        build(zero_skip="stoxnet").load_state_dict(state)


def test_float_state_dict_loads_strict_and_leaves_the_layer_uncalibrated():
    torch.manual_seed(8)
    float_model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3),
                                nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    model = to_imc(float_model, "adc:4", rows=16, keep_first=False, keep_last=False,
                   inplace=False)
    calibrate(model, torch.rand(2, 1, 6, 6))
    retrained = copy.deepcopy(float_model)
    with torch.no_grad():
        for p in retrained.parameters():
            p.mul_(-1)
    model.load_state_dict(_save_load(retrained.state_dict()), strict=True)
    assert torch.equal(model[2].weight, retrained[2].weight)
    assert all(not m.calibrated and m.calibration is None for m in imc_layers(model))
    with pytest.raises(RuntimeError, match="actc.nn.calibrate"):
        model.eval()(torch.rand(1, 1, 6, 6))


def test_half_precision_layer_computes_in_float32():
    """A float16 layer's crossbar result is computed in float32 and rounded once: an integer
    result beyond 2048 (or 65504) would be rounded (or overflow) in float16 arithmetic."""
    torch.manual_seed(9)
    layer = IMCLinear(512, 4, bias=False, converter="adc:8", rows=128, clip="full",
                      weight_bits=8, input_bits=8)
    x = torch.rand(3, 512) * 4
    calibrate(layer, x)
    half = copy.deepcopy(layer).half().eval()
    single = copy.deepcopy(half).float()
    got = half(x.half())
    assert got.dtype == torch.float16 and torch.isfinite(got).all()
    assert torch.equal(got, single(x.half().float()).half())


def test_imc_network_refuses_layers_the_cost_model_cannot_describe():
    model = nn.Sequential(IMCConv2d(2, 2, 3, groups=2, rows=16))
    x = torch.rand(1, 2, 5, 5)
    calibrate(model, x)
    with pytest.raises(ConfigError, match="groups 1 and square shapes"):
        imc_network(model, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        square = nn.Sequential(IMCConv2d(2, 2, 3, stride=2, rows=16))
        calibrate(square, x)
        assert imc_network(square, x)[0]["out_size"] == 2
