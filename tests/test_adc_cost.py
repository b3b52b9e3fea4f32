"""actc adc cost: the ResNet20 counts, per-read figures by hand, the StoX-Net headline
ratios, JSON, the chart, sensitivity and bad input."""

import json
import subprocess
import sys

import pytest

from actc.adc.converters import converter
from actc.adc.cost import PARAMETERS, Layer, cost_report, counts, per_read, resnet20
from actc.adc.crossbar import Crossbar
from actc.errors import ConfigError


def run(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True,
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def test_resnet20_shapes_and_counts():
    layers = resnet20()
    assert len(layers) == 20 and sum(not ly.digital for ly in layers) == 18
    assert sum(ly.macs for ly in layers if not ly.digital) == 40_108_032
    xb = Crossbar(rows=128, weight_bits=4, input_bits=4, scheme="offset")
    s3 = next(ly for ly in layers if ly.name == "s3b2c1")  # 64 -> 64, 3x3, 8x8
    c = counts(s3, xb, 128)
    # 576 rows -> 5 row tiles; 64 x 4 slices + 1 reference = 257 columns -> 3 column tiles;
    # 64 pixels x 4 input slices = 256 cycles
    assert (c.arrays, c.cycles, c.reads) == (15, 256, 256 * 15)
    assert c.conversions == c.reads * 128 and c.used_conversions == 256 * 5 * 257


def test_per_read_figures_by_hand():
    xb = Crossbar(rows=128, weight_bits=4, input_bits=4, scheme="offset")
    p = {q.name: q.value for q in PARAMETERS}
    b = per_read(converter("adc:8"), xb, 128, p)
    t = 128 * 0.78125e-9
    other = 0.3e-3 + 128 * 3.9e-6 + 128 * 9.8e-9 + 0.5 * 0.05e-3
    assert b.time == pytest.approx(100e-9)
    assert sum(b.energy.values()) == pytest.approx(other * t + 128 * 1.5625e-12)
    assert sum(b.area.values()) == pytest.approx((25 + 128 * 0.167 + 128 * 0.039 + 1200 + 30)
                                                 * 1e-12)
    m = per_read(converter("mtj:4"), xb, 128, p)
    assert m.time == pytest.approx(12.5e-9)
    assert sum(m.energy.values()) == pytest.approx((128 * 3.9e-6 + 0.025e-3) * 12.5e-9
                                                   + 128 * 4 * 20e-15)
    assert sum(m.area.values()) == pytest.approx((25 + 128 * 0.167 + 30 + 128 * 0.4) * 1e-12)
    # a 4-bit SAR: NeuroSim's scaling of ISAAC's 8-bit figures
    a4 = per_read(converter("adc:4"), xb, 128, p)
    scale = (1.0157 * 4 + 7.6286) * 5 / ((1.0157 * 8 + 7.6286) * 9)
    assert a4.energy["converter"] == pytest.approx(128 * 1.5625e-12 * scale)
    assert a4.time == pytest.approx(128 * 0.78125e-9 * 5 / 9)


def test_stoxnet_headline_ratios_within_30_percent():
    """StoX-Net (arXiv 2407.12378v2, abstract): 16x energy, 8x latency, 10x area versus a
    standard-ADC IMC, 130x EDP versus full-precision ADC and 24x versus a sparse low-bit
    ADC. Three MTJ parameters are calibrated (README), so this checks the model's
    consistency, not an independent prediction."""
    r = cost_report("resnet20", "mtj:4", "adc:8").ratio
    for key, want in (("energy", 16), ("latency", 8), ("area", 10), ("edp", 130)):
        assert abs(r[key] / want - 1) <= 0.30, (key, r[key])
    assert cost_report("resnet20", "mtj:4", "ideal").ratio == pytest.approx(r)  # 8 bits
    sparse = cost_report("resnet20", "mtj:4", "sparse:4").ratio["edp"]
    assert abs(sparse / 24 - 1) <= 0.30


def test_sensitivity_moves_the_ratio_each_parameter_drives():
    rows = cost_report("resnet20", "mtj:4", "adc:8", with_sensitivity=True).sensitivity
    get = {(r["parameter"], r["factor"]): r for r in rows}
    assert get[("E_sample", 2.0)]["energy"] < get[("E_sample", 0.5)]["energy"]
    assert get[("E_sample", 2.0)]["latency"] == pytest.approx(8.0)
    assert get[("t_sample", 2.0)]["latency"] < 4.2
    assert get[("A_conv", 2.0)]["area"] < get[("A_conv", 0.5)]["area"]
    assert get[("A_adc8", 2.0)]["area"] > 19 and get[("samples T", 0.5)]["edp"] > 500


def test_inhomogeneous_samples_per_layer():
    base = cost_report("resnet20", "mtj:4", "adc:8")
    same = cost_report("resnet20", "mtj:4", "adc:8", samples=[4] * 18)
    assert same.ratio == pytest.approx(base.ratio)
    ramp = cost_report("resnet20", "mtj:4", "adc:8", samples=[2] * 6 + [4] * 6 + [8] * 6)
    assert ramp.ratio["energy"] > base.ratio["energy"]
    assert [r["converter"]["samples_per_conversion"] for r in ramp.layers
            if not r["digital"]] == [2] * 6 + [4] * 6 + [8] * 6


def test_custom_network_file(tmp_path):
    f = tmp_path / "net.json"
    f.write_text(json.dumps([
        {"name": "c1", "kind": "conv", "in": 1, "out": 16, "kernel": 3, "out_size": 6,
         "digital": True},
        {"name": "c2", "kind": "conv", "in": 16, "out": 32, "kernel": 3, "out_size": [4, 4]},
        {"name": "fc", "kind": "linear", "in": 512, "out": 10}]))
    r = cost_report(str(f), "mtj:8", "adc:6", rows=64)
    assert [row["name"] for row in r.layers] == ["c1", "c2", "fc"]
    assert r.layers[1]["pixels"] == 16 and r.layers[2]["arrays"] == 8
    assert r.total["converter"]["energy_j"] > 0


def test_cli_table_json_and_chart(tmp_path):
    code, out, err = run("adc", "cost", "--network", "resnet20", "--converter", "mtj:4",
                         "--baseline", "adc:8", "--json", str(tmp_path / "r.json"), "--plot",
                         str(tmp_path / "r.png"))
    assert code == 0, err
    assert "ratio (baseline / converter): energy 16.83x, latency 8.00x, area 10.04x, " \
           "EDP 134.6x" in out
    assert "sensitivity" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert set(data) >= {"layers", "total", "ratio", "parameters", "sensitivity"}
    for key in ("converter", "baseline"):
        assert set(data["total"][key]) >= {"energy_j", "latency_s", "area_mm2"}
    assert set(data["ratio"]) == {"energy", "latency", "area", "edp"}
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    (["--converter", "flash:3"],
     "actc: error: unknown converter 'flash:3': use ideal, adc:N, sparse:N or mtj:T\n"),
    (["--rows", "8"], "actc: error: rows 8 is out of range: use 16 to 512\n"),
    (["--samples", "4,4"], "actc: error: --samples gives 2 values for 18 crossbar layers: "
     "give one per layer\n"),
    (["--samples", "4,x"],
     "actc: error: --samples '4,x': expected whole numbers separated by commas\n"),
    (["--set", "E_foo=1"], "actc: error: unknown cost parameter 'E_foo' (known: "),
    (["--network", "nope"],
     "actc: error: --network 'nope': not a built-in network (resnet20) and no such file\n"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    code, out, err = run("adc", "cost", *args, "--json", "r.json", cwd=tmp_path)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layer, message", [
    ({"kind": "pool", "in": 1, "out": 1}, "layer 0: unknown layer kind 'pool'"),
    ({"kind": "linear", "in": float("nan"), "out": 1},
     "layer 0: 'in' must be a positive integer, got nan"),
    ({"kind": "conv", "in": 1, "out": 2, "kernel": 3, "out_size": [4]},
     "layer 0: 'out_size' must be a positive integer or [h, w], got [4]"),
])
def test_bad_network_file(tmp_path, layer, message):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps([layer]))
    with pytest.raises(ConfigError) as e:
        cost_report(str(f), "mtj:4", "adc:8")
    assert message in str(e.value)


def test_layer_dataclass_macs():
    assert Layer("x", 16, 32, 3, 64).macs == 16 * 9 * 32 * 64
