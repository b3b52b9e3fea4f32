"""actc designs inside hls4ml models, run by hls4ml's own compile() and predict() (its g++
C simulation): bit-exact with actc's Python reference on every input code, inside a PyTorch
MLP against hls4ml's own emulation of the dense layers; and every refusal (docs/reference/hls.md).
hls4ml's compile() takes about 6 s here, so the compiled tests are few and share models."""

import subprocess
import sys

import hls4ml
import numpy as np
import pytest
import torch

import actc
import actc.hls4ml
from actc.errors import ConfigError, ManifestError, TargetError
from actc.manifest import load
from actc.targets.python import load_module


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    """Manifests (every target: Verilog, C, Python) of the designs the tests attach."""
    d = tmp_path_factory.mktemp("designs")
    out = {}
    for name, expr, opts in (
        ("sig", "sigmoid(x)", dict(in_format="s16.10", out_format="u16.16", method="auto",
                                   memory_bits=1800)),
        ("gelu_act", "gelu(x)", dict(in_format="s16.10", out_format="s16.10", method="knots",
                                     memory_bits=1500)),
        ("tanh_act", "tanh(x)", dict(in_format="s16.10", out_format="s16.15", method="auto",
                                     memory_bits=1500)),
        ("sig_affine", "sigmoid(x)", dict(in_format="s8:0.05:0", out_format="u8.8")),
        ("sig_uniform", "sigmoid(x)", dict(in_format="s16.10", out_format="u16.16",
                                           method="uniform", entries=64, interpolate=True)),
        ("w2", "sigmoid(x)", dict(in_format="s16.10", out_format="s16.10", method="uniform",
                                  entries=32)),
        ("dup", "sigmoid(x)", dict(in_format="s16.10", out_format="u16.16", method="uniform",
                                   entries=32)),
        ("dup_other", "tanh(x)", dict(in_format="s16.10", out_format="s16.15",
                                      method="uniform", entries=32)),
    ):
        design_name = "dup" if name == "dup_other" else name  # two designs of one name
        r = actc.compile(expr, name=design_name, **opts)
        r.write(d / name)
        out[name] = d / name / f"{design_name}.json"
    return out


def _config(model, shape, **kw):
    return hls4ml.utils.config_from_pytorch_model(model, shape, granularity="name",
                                                  backend="Vitis", **kw)


def _convert(model, config, out_dir, io_type="io_parallel"):
    return hls4ml.converters.convert_from_pytorch_model(
        model, hls_config=config, output_dir=str(out_dir), backend="Vitis", io_type=io_type)


class Alone(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sig = torch.nn.Sigmoid()

    def forward(self, x):
        return self.sig(x)


def test_activation_alone_matches_the_reference_on_every_code(designs, tmp_path):
    """A converted model whose only layer is the activation; the design attached to the
    model (after conversion); every one of the 65536 input codes through predict()."""
    manifest = designs["sig"]
    _, unit = load(manifest)
    config = _config(Alone(), (256,), default_precision="ap_fixed<16,6>")
    config["LayerName"]["sig"]["Precision"]["result"] = "ap_ufixed<16,0>"
    model = _convert(Alone(), config, tmp_path / "prj")
    actc.hls4ml.use(model, layer="sig", manifest=manifest)
    assert [n.class_name for n in model.get_layers()] == ["Input", "ActcActivation"]
    model.compile()
    codes = np.arange(-(2**15), 2**15, dtype=np.int64)
    got = model.predict(unit.in_format.real(codes).reshape(-1, 256).astype(np.float32))
    got_codes = np.asarray(got, dtype=np.float64).reshape(-1) / unit.out_format.scale
    assert np.array_equal(got_codes, np.round(got_codes))  # exact codes, nothing between
    reference = load_module(manifest.parent / "sig.py")
    assert np.array_equal(got_codes.astype(np.int64), reference.evaluate(codes))
    # the project holds the header --target hls emits for the design
    assert (tmp_path / "prj" / "firmware" / "actc" / "sig.h").read_text() == \
        actc.hls4ml.Design(manifest).header()

    # Another design on the compiled model: predict() must not run the old library.
    other = designs["sig_uniform"]
    actc.hls4ml.use(model, layer="sig", manifest=other)
    with pytest.raises(Exception, match="Model not compiled"):
        model.predict(np.zeros((1, 256), dtype=np.float32))
    model.compile()
    got = model.predict(unit.in_format.real(codes).reshape(-1, 256).astype(np.float32))
    got_codes = np.asarray(got, dtype=np.float64).reshape(-1) / unit.out_format.scale
    want = load_module(other.parent / "sig_uniform.py").evaluate(codes)
    assert np.array_equal(got_codes, want) and not np.array_equal(want, reference.evaluate(codes))


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(16, 12)
        self.act = torch.nn.GELU()
        self.fc2 = torch.nn.Linear(12, 5)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Second(torch.nn.Module):
    def __init__(self, fc2):
        super().__init__()
        self.fc2 = fc2

    def forward(self, x):
        return self.fc2(x)


def test_mlp_with_an_actc_gelu_is_hls4mls_dense_around_the_reference(designs, tmp_path):
    """Linear, GELU (hls4ml 1.3 has none: the actc design is its implementation), Linear.
    The activation's outputs (traced) equal the reference on the first layer's outputs,
    and the model's outputs equal hls4ml's own second layer run on the reference's."""
    actc.hls4ml.register()  # before config_from_pytorch_model: hls4ml has no GELU handler
    torch.manual_seed(0)
    model = MLP().eval()
    manifest = designs["gelu_act"]
    _, unit = load(manifest)
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    actc.hls4ml.use(config, layer="act", manifest=manifest)
    for layer in config["LayerName"].values():
        layer["Trace"] = True
    hmodel = _convert(model, config, tmp_path / "mlp")
    act = hmodel.graph["act"]
    assert act.class_name == "ActcActivation"
    # the input precision was 'auto': the design's input format was set on the tensor
    assert act.get_input_variable().type.precision.width == 16
    x = np.random.default_rng(0).normal(0, 2, size=(200, 16)).astype(np.float32)
    y, trace = hmodel.trace(x)
    codes_in = trace["fc1"].reshape(-1) / unit.in_format.scale
    assert np.array_equal(codes_in, np.round(codes_in))
    reference = load_module(manifest.parent / "gelu_act.py")
    want = reference.evaluate(codes_in.astype(np.int64))
    got = trace["act"].reshape(-1) / unit.out_format.scale
    assert np.array_equal(got, want)
    assert len(np.unique(want)) > 100  # a real range of inputs went through

    second = Second(model.fc2).eval()
    config2 = _config(second, (12,), default_precision="ap_fixed<16,6>")
    h2 = _convert(second, config2, tmp_path / "fc2")
    h2.compile()
    y2 = h2.predict(unit.out_format.real(want).reshape(-1, 12).astype(np.float32))
    assert np.array_equal(np.asarray(y), np.asarray(y2))


class TwoActivations(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(16, 12)
        self.sig = torch.nn.Sigmoid()
        self.fc2 = torch.nn.Linear(12, 8)
        self.act = torch.nn.Tanh()
        self.fc3 = torch.nn.Linear(8, 4)

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.sig(self.fc1(x)))))


def test_two_actc_layers_in_io_stream(designs, tmp_path):
    """Two actc layers (sigmoid, tanh) in one model, io_stream (the header's stream form):
    each layer's outputs, traced, equal its design's reference on its inputs."""
    torch.manual_seed(1)
    model = TwoActivations().eval()
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    actc.hls4ml.use(config, layer="sig", manifest=designs["sig"])
    actc.hls4ml.use(config, layer="act", manifest=designs["tanh_act"])
    for layer in config["LayerName"].values():
        layer["Trace"] = True
    hmodel = _convert(model, config, tmp_path / "two", io_type="io_stream")
    assert [n.class_name for n in hmodel.get_layers()] == \
        ["Input", "Dense", "ActcActivation", "Dense", "ActcActivation", "Dense"]
    x = np.random.default_rng(1).normal(0, 2, size=(200, 16)).astype(np.float32)
    _, trace = hmodel.trace(x)
    for layer, before, key in (("sig", "fc1", "sig"), ("act", "fc2", "tanh_act")):
        manifest = designs[key]
        _, unit = load(manifest)
        codes_in = trace[before].reshape(-1) / unit.in_format.scale
        assert np.array_equal(codes_in, np.round(codes_in))
        want = load_module(manifest.parent / f"{key}.py").evaluate(codes_in.astype(np.int64))
        assert np.array_equal(trace[layer].reshape(-1) / unit.out_format.scale, want)
        assert len(np.unique(want)) > 100
        assert (tmp_path / "two" / "firmware" / "actc" / f"{key}.h").is_file()


# --- refusals (conversion only, no compile) ------------------------------------------------


def test_refusals_name_both_sides(designs, tmp_path):
    actc.hls4ml.register()
    model = MLP().eval()
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    with pytest.raises(ConfigError, match=r"layer 'fc1' is a Linear, not an element-wise "
                       r"activation"):
        actc.hls4ml.use(config, layer="fc1", manifest=designs["gelu_act"])
    with pytest.raises(ConfigError, match=r"the hls4ml config has no layer 'gelu'; its layers: "
                       r"x, fc1, act, fc2"):
        actc.hls4ml.use(config, layer="gelu", manifest=designs["gelu_act"])
    with pytest.raises(TargetError, match=r"the input format s8:0.05:0 is no ap_fixed"):
        actc.hls4ml.use(config, layer="act", manifest=designs["sig_affine"])
    # a GELU layer without a design cannot convert: hls4ml has no GELU
    with pytest.raises(ConfigError, match=r"layer 'act' is a gelu, which hls4ml has no "
                       r"implementation of"):
        _convert(model, config, tmp_path / "nogelu")
    # a design of another function
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    actc.hls4ml.use(config, layer="act", manifest=designs["tanh_act"])
    config["LayerName"]["act"]["Precision"]["result"] = "ap_fixed<16,1>"
    with pytest.raises(ConfigError, match=r"layer 'act' computes gelu, but tanh_act.json "
                       r"\(tanh\(x\)\) is .* away from it"):
        _convert(model, config, tmp_path / "wrongfn")


def test_names_that_clash_are_refused(designs, tmp_path):
    """A design named like one of hls4ml's globals (w2, the first layer's weights), two
    different designs of one name, the model's input as the layer."""
    model = TwoActivations().eval()
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    with pytest.raises(ConfigError, match=r"^layer 'x' is the model's input, not an "
                       r"activation$"):
        actc.hls4ml.use(config, layer="x", manifest=designs["sig"])
    actc.hls4ml.use(config, layer="sig", manifest=designs["w2"])
    with pytest.raises(ConfigError, match=r"^w2.json: the design name 'w2' gives the header "
                       r"the global w2, which clashes with layer 'fc1''s w2: compile the design "
                       r"with another --name$"):
        _convert(model, config, tmp_path / "w2")
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    actc.hls4ml.use(config, layer="sig", manifest=designs["dup"])
    actc.hls4ml.use(config, layer="act", manifest=designs["dup_other"])
    with pytest.raises(ConfigError, match=r"^layers 'sig' and 'act' take different designs "
                       r"named 'dup' \(.*dup/dup.json and .*dup_other/dup.json\): compile one "
                       r"with another --name$"):
        _convert(model, config, tmp_path / "dup")
    # the same design on two layers is one header
    config = _config(model, (16,), default_precision="ap_fixed<16,6>")
    actc.hls4ml.use(config, layer="sig", manifest=designs["dup"])
    config["LayerName"]["fc2"]["Precision"]["result"] = "ap_fixed<16,6>"
    actc.hls4ml.use(config, layer="act", manifest=designs["dup"], check_function=False)
    h = _convert(model, config, tmp_path / "same")
    assert [n.get_attr("actc_name") for n in h.get_layers()
            if n.class_name == "ActcActivation"] == ["dup", "dup"]


def test_bad_manifests_and_unknown_functions(designs, tmp_path):
    config = _config(Alone(), (8,))
    with pytest.raises(ManifestError, match=r"manifest '.*none.json' not found"):
        actc.hls4ml.use(config, layer="sig", manifest=tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ManifestError, match=r"bad.json' is damaged: invalid JSON"):
        actc.hls4ml.use(config, layer="sig", manifest=tmp_path / "bad.json")
    assert "ActcManifest" not in config["LayerName"]["sig"]  # nothing changed
    with pytest.raises(ConfigError, match=r"^layer 'a' computes swish_beta, which actc cannot "
                       r"check sig.json \(sigmoid\(x\)\) against: pass check_function=False if "
                       r"the design is meant for it$"):
        actc.hls4ml.Design(designs["sig"]).check_function("a", "swish_beta", None)


def test_model_precisions_must_match(designs, tmp_path):
    config = _config(Alone(), (8,), default_precision="ap_fixed<16,6>")
    model = _convert(Alone(), config, tmp_path / "prj")
    with pytest.raises(ConfigError, match=r"layer 'sig' output precision ap_fixed<16, 6> does "
                       r"not match sig.json's output format u16.16 \(ap_ufixed<16, 0>\)"):
        actc.hls4ml.use(model, layer="sig", manifest=designs["sig"])
    config = _config(Alone(), (8,), default_precision="ap_fixed<12,4>")
    config["LayerName"]["sig"]["Precision"]["result"] = "ap_ufixed<16,0>"
    model = _convert(Alone(), config, tmp_path / "prj2")
    with pytest.raises(ConfigError, match=r"layer 'sig' input precision ap_fixed<12, 4> does "
                       r"not match sig.json's input format s16.10 \(ap_fixed<16, 6>\)"):
        actc.hls4ml.use(model, layer="sig", manifest=designs["sig"])
    assert model.graph["sig"].class_name == "Activation"  # nothing changed


def test_non_activation_manifest_is_refused(tmp_path):
    from actc.mac.api import compile as compile_mac

    r = compile_mac("drum:4", bits=8, target="python", name="m")
    r.write(tmp_path)
    config = _config(Alone(), (8,))
    with pytest.raises(ManifestError, match=r"m.json holds a mac unit; hls4ml layers take "
                       r"activation designs"):
        actc.hls4ml.use(config, layer="sig", manifest=tmp_path / "m.json")


def test_importing_actc_hls4ml_leaves_hls4ml_alone():
    code = "import sys, actc.hls4ml; assert 'hls4ml' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
