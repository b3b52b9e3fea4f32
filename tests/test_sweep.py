"""actc sweep / pick / compile --max-error-lsb, on real Dask local clusters and real Yosys."""

import json
import math
import subprocess
import sys
import time

import pandas as pd
import pytest

from actc.errors import ActcError
from actc.sweep import pick, sweep
from actc.sweep.choose import compile_best
from actc.sweep.spec import SpecError, parse_spec

pytestmark = pytest.mark.xdist_group("sweep")  # one worker: the clusters share the cores

SPEC = """
[sweep]
name = "small"
evaluations = ["cost"]

[[activation]]
expressions = ["gelu(x)", "tanh(x)"]
bits = [6]

[activation.methods.table]
[activation.methods.threshold]
[activation.methods.grau]
segments = [3, 4]

[[activation]]
expressions = ["sigmoid(x)"]
formats = [["s24.20", "u8.8"]]
[activation.methods.threshold]

[[mac]]
multipliers = ["exact", "drum:3"]
bits = [4]

[[adc]]
converters = ["mtj:4", "adc:3"]
rows = [16]
weight_bits = [2]
input_bits = [2]
"""


def run(*args):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The small sweep run once with 2 workers; and again with 1 worker elsewhere."""
    root = tmp_path_factory.mktemp("sweep")
    spec = root / "spec.toml"
    spec.write_text(SPEC)
    two = sweep(spec, root / "two", workers=2, progress=False)
    one = sweep(spec, root / "one", workers=1, progress=False)
    return root, spec, one, two


def test_results_do_not_depend_on_the_number_of_workers(swept):
    root, _, one, two = swept
    assert len(one.table) == 13 and one.computed == two.computed == 13
    pd.testing.assert_frame_equal(one.table, two.table)
    # every output but the timing log is byte-identical, whatever the number of workers
    for name in ("results.parquet", "results.csv", "summary.md"):
        assert (root / "one" / name).read_bytes() == (root / "two" / name).read_bytes(), name
    assert list(one.timing.columns) == ["key", "index", "fit_s", "cost_s", "network_s"]


def test_every_point_is_kept_and_measured(swept):
    root, _, _, two = swept
    df = two.table
    ok = df[df["status"] == "ok"]
    assert len(ok) == 12 and (ok["luts"] > 0).all()
    act = ok[ok["kind"] == "activation"]
    assert (act["max_lsb"] > 0).all() and (act["error"] == act["max_lsb"]).all()
    for _, r in ok.iterrows():
        manifest = json.loads((root / "two" / "designs" / r["key"] / f"{r['name']}.json")
                              .read_text())
        assert manifest["kind"] == r["kind"]
        if r["kind"] == "activation":
            assert manifest["error"]["max_lsb"] == r["max_lsb"]
        assert manifest["cost"]["xilinx"]["luts"] == r["luts"]
    # multipliers: the manifest's EvoApproxLib metrics; exact has none, DRUM-3 some
    mac = ok[ok["kind"] == "mac"].set_index("expression")
    assert list(mac["group"]) == ["mac 4x4 unsigned"] * 2
    assert mac.loc["exact", "error"] == mac.loc["exact", "mre_percent"] == 0
    assert mac.loc["drum:3", "mre_percent"] > 0 and mac.loc["drum:3", "ep_percent"] > 0
    # column back ends: the model's error against the exact dot products
    adc = ok[ok["kind"] == "adc"].set_index("expression")
    assert (adc["rms_rel"] > 0).all() and (adc["error"] == adc["rms_rel"]).all()
    assert (adc["sqnr_db"] == -20 * adc["rms_rel"].map(math.log10)).all()
    # table and threshold are both correctly rounded: the same error
    for expr in ("gelu(x)", "tanh(x)"):
        sub = df[df["expression"] == expr].set_index("method")
        assert sub.loc["table", "max_lsb"] == sub.loc["threshold", "max_lsb"]
    for name in ("results.parquet", "results.csv", "summary.md", "pareto_gelu_x.png",
                 "pareto_mac_4x4_unsigned.png",
                 "pareto_adc_rows_16_cell_1_dac_1_w2_x2_subarrays_1_differential.png"):
        assert (root / "two" / name).stat().st_size > 0
    assert pd.read_csv(root / "two" / "results.csv").shape == df.shape


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(swept):
    df = swept[3].table
    bad = df[df["status"] == "failed"]
    assert list(bad["expression"]) == ["sigmoid(x)"]
    assert "threshold places a threshold on every output step" in bad.iloc[0]["error_message"]
    assert "## Failed points" in (swept[0] / "two" / "summary.md").read_text()


def test_an_interrupted_sweep_resumes_without_redoing_finished_points(swept, tmp_path):
    root, spec, _, two = swept
    d = tmp_path / "again"
    d.mkdir()
    lines = (root / "two" / "results.jsonl").read_text().splitlines()
    # interrupted after 5 points, the last line torn mid-write
    (d / "results.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    again = sweep(spec, d, workers=1, progress=False)
    assert again.computed == 8
    pd.testing.assert_frame_equal(again.table, two.table)


def test_pick_chooses_the_cheapest_within_the_bound(swept):
    root = swept[0] / "two"
    df = swept[3].table
    picks = pick(root, 1.0, "luts")
    assert [p["expression"] for p in picks] == ["gelu(x)", "tanh(x)"]  # sigmoid(x) failed
    for p in picks[:2]:
        grp = df[(df["expression"] == p["expression"]) & (df["max_lsb"] <= 1.0)]
        assert p["luts"] == grp["luts"].min() and p["max_lsb"] <= 1.0
    code, out, _ = run("pick", str(root), "--max-error-lsb", "1", "--minimize", "memory")
    assert code == 0 and "gelu(x) s6.2 -> s6.2:" in out
    code, out, err = run("pick", str(root), "--max-error-lsb", "0.01")
    assert code == 2 and out == ""
    assert err.startswith("actc: error: no design in the sweep meets --max-error-lsb 0.01: the "
                          "best reached ")


@pytest.mark.parametrize("text, message", [
    ("[sweep]\nevaluations = [\"cost\"]\nfoo = 1\n",
     "sweep spec line 3: sweep.foo: unknown key: use evaluations, families, name, "
     "network_seeds"),
    ("[[activation]]\nexpressions = [\"gelu(x)\"]\nbits = [8]\n[activation.methods.fancy]\n",
     "sweep spec line 4: activation.methods.fancy: unknown method: use table, uniform, geba, "
     "optimal, knots, auto, grau, threshold"),
    ("[[activation]]\nexpressions = [\"gelu(x)\"]\nbits = [8]\n[activation.methods.grau]\n"
     "segments = [4, \"six\"]\n",
     "sweep spec line 5: activation.methods.grau.segments: 'six' is not an int"),
    ("[[activation]]\nexpressions = [\"gelu(x)\"]\nbits = [8]\n[activation.methods.grau]\n"
     "entries = 4\n",
     "sweep spec line 5: activation.methods.grau.entries: grau has no option 'entries': it "
     "takes segments, slopes"),
    ("[[activation]]\nexpressions = [\"gelu(x)\"]\nwidth = [8]\n",
     "sweep spec line 3: activation.width: unknown key: use bits, domain, expressions, "
     "formats, methods"),
    ("[sweep]\nevaluations = [\"speed\"]\n",
     "sweep spec line 2: sweep.evaluations: unknown evaluation 'speed': use metrics, cost, "
     "network"),
    ("[[mac]]\nmultipliers = [\"exact\"]\nlane = [2]\n",
     "sweep spec line 3: mac.lane: unknown key: use multipliers, bits, signed, lanes"),
    ("[[mac]]\nmultipliers = [\"exact\", \"drum:0\"]\n",
     "sweep spec line 2: mac.multipliers: drum:0: --multiplier 'drum:0': K 0 is out of "
     "range for 8x8-bit operands (use 2 to 8)"),
    ("[[adc]]\nconverters = [\"ideal\"]\nrows = [8]\n",
     "sweep spec line 1: adc: ideal: rows 8 is out of range: use 16 to 512"),
    ("[[mac]]\nmultipliers = [\"exact\"]\nsigned = [1]\n",
     "sweep spec line 3: mac.signed: 1 is not a bool"),
    ("[[adc]]\nconverters = [\"mtj:x\"]\n",
     "sweep spec line 2: adc.converters: converter 'mtj:x': write mtj:T with a whole number "
     "(samples)"),
    ("[[adc]]\nconverters = []\n",
     "sweep spec line 2: adc.converters: list at least one value, e.g. converters = "
     "['mtj:8']"),
    ("[adc]\nconverters = [\"ideal\"]\n",
     "sweep spec line 1: adc: write [[adc]] (a list of blocks), not [adc]"),
])
def test_bad_specs_name_the_key_and_the_line(text, message):
    with pytest.raises(SpecError) as err:
        parse_spec(text)
    assert str(err.value).startswith(message)


def test_bad_spec_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text("[[activation]]\nexpressions = [\"gelu(x)\"]\nbits = [8]\n"
                    "[activation.methods.table]\nfoo = 1\n")
    code, out, err = run("sweep", str(spec), "-o", str(tmp_path / "out"))
    assert (code, out) == (2, "")
    assert err == ("actc: error: sweep spec line 5: activation.methods.table.foo: table has no "
                   "option 'foo': it takes symmetry\n")
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text("[[activation]]\nexpressions = [\"gelu(x)\"]\nbits = [4]\n"
                    "[activation.methods.table]\n")
    t = time.perf_counter()
    code, out, err = run("sweep", str(spec), "-o", str(tmp_path / "o"), "--scheduler",
                         "tcp://127.0.0.1:9")
    assert time.perf_counter() - t < 30
    assert (code, out) == (2, "")
    assert err.startswith("actc: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 "
                          "(waited 10 s)")
    assert "Traceback" not in err


def test_network_evaluation_runs_the_design_in_the_digits_network(tmp_path):
    spec = tmp_path / "n.toml"
    spec.write_text("[sweep]\nevaluations = [\"network\"]\n[[activation]]\n"
                    "expressions = [\"silu(x)\"]\nbits = [8]\n[activation.methods.table]\n"
                    "[activation.methods.grau]\nsegments = [3]\n")
    df = sweep(spec, tmp_path / "out", workers=1, progress=False).table
    assert (df["status"] == "ok").all()
    # 8-bit units stay within two points of the float network (one test image is 0.19 pt)
    assert (df["network_float_accuracy"] > 95).all()
    assert (abs(df["network_accuracy"] - df["network_float_accuracy"]) < 2).all()


def test_network_evaluation_of_multipliers_and_column_back_ends(tmp_path):
    """Multipliers: every product of the digits network from the evaluator (an exact 8-bit
    multiplier loses at most a point to float, a coarse truncation more); back ends: the
    hidden layers through the crossbar (ideal conversion of 4-bit operands stays within
    three points; a 1-bit ADC without training collapses, as StoX-Net reports)."""
    spec = tmp_path / "n.toml"
    spec.write_text("[sweep]\nevaluations = [\"network\"]\n"
                    "[[mac]]\nmultipliers = [\"exact\", \"truncated:12\"]\nbits = [8]\n"
                    "signed = [true]\n"
                    "[[adc]]\nconverters = [\"ideal\", \"adc:1\"]\nrows = [32]\n")
    df = sweep(spec, tmp_path / "out", workers=1, progress=False).table.set_index("expression")
    assert (df["status"] == "ok").all() and (df["network_float_accuracy"] > 95).all()
    gap = df["network_float_accuracy"] - df["network_accuracy"]
    assert abs(gap["exact"]) <= 1 and gap["truncated:12"] > gap["exact"] + 2
    assert abs(gap["ideal"]) <= 3 and gap["adc:1"] > 20


def test_compile_max_error_lsb_compiles_the_cheapest_meeting_the_bound(tmp_path):
    r = compile_best("tanh(x)", max_error_lsb=1.0, minimize="memory",
                                       bits=6, workers=2, target="python")
    sel = r.manifest["selection"]
    ok = [c for c in sel["candidates"] if c["status"] == "ok" and c["max_lsb"] <= 1.0]
    assert r.error["max_lsb"] <= 1.0
    assert r.design.memory_bits == min(c["memory_bits"] for c in ok)
    assert sel["candidates"][sel["chosen"]]["memory_bits"] == r.design.memory_bits
    assert json.loads(r.files["tanh_act.json"])["selection"] == sel
    # verify checks the selection's chosen candidate against the compiled design
    from actc.verification import verify

    r.write(tmp_path / "chosen")
    manifest = tmp_path / "chosen" / "tanh_act.json"
    assert verify(manifest).ok
    m = json.loads(manifest.read_text())
    m["selection"]["candidates"][sel["chosen"]]["max_lsb"] = 0.001
    manifest.write_text(json.dumps(m))
    assert verify(manifest).problem == (
        f"claims: selection: the chosen candidate's max_lsb is 0.001, the design's "
        f"{r.error['max_lsb']!r}")
    code, out, err = run("compile", "tanh(x)", "--bits", "6", "--max-error-lsb", "0.05",
                         "--minimize", "memory", "--workers", "1", "-o", str(tmp_path / "x"))
    assert (code, out) == (2, "")
    assert err.startswith("actc: error: no design meets --max-error-lsb 0.05 for tanh(x) "
                          "(s6.3 -> s6.5): the best reached 0.")
    assert not (tmp_path / "x").exists()
    code, _, err = run("compile", "tanh(x)", "--max-error-lsb", "1", "--method", "grau")
    assert code == 2 and "--method and --max-error-lsb exclude each other" in err


def test_max_error_lsb_needs_no_method_and_rejects_stray_options():
    with pytest.raises(ActcError, match="--minimize 'speed': choose luts, memory, depth"):
        compile_best("tanh(x)", max_error_lsb=1.0, minimize="speed")
