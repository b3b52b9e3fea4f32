"""Issue 16, sweeps: points counted before they are expanded, every spec value type-checked,
each point bounded in time and memory in a process of its own (a hanging point is a failed
row and the sweep finishes), and a damaged results table is one line from ``actc pick``."""

import subprocess
import sys

import pytest

from actc.sweep import sweep
from actc.sweep.point import run_bounded
from actc.sweep.spec import Point, SpecError, parse_spec

pytestmark = pytest.mark.xdist_group("sweep")  # the cluster shares the cores with test_sweep


def run(*args):
    p = subprocess.run([sys.executable, "-m", "actc", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def big(bits, entries, segments):
    return f"""
[[activation]]
expressions = ["gelu(x)", "tanh(x)", "sigmoid(x)", "silu(x)", "elu(x)"]
bits = {list(bits)}
[activation.methods.uniform]
entries = {list(entries)}
interpolate = [false, true]
[activation.methods.grau]
segments = {list(segments)}
slopes = ["pot", "apot2", "apot3", "apot4"]
"""


def test_points_are_counted_before_they_are_expanded():
    # 5 x 12 x (3000 x 2 + 999 x 4) = 599,760 points: refused from the counts alone
    with pytest.raises(SpecError) as info:
        parse_spec(big(range(6, 18), range(1, 3001), range(2, 1001)), "'big.toml'")
    assert str(info.value) == ("sweep spec 'big.toml' describes 599,760 points: above the limit "
                               "of 10,000 (raise it with --max-points N)")
    spec = parse_spec(big([8, 9], range(1, 101), range(2, 11)), "s", max_points=3000)
    assert len(spec.points) == 5 * 2 * (100 * 2 + 9 * 4)


SPECS = [
    ('[sweep]\nfamilies = [["x"]]\n[[mac]]\nmultipliers = ["exact"]\n',
     "sweep spec line 2: sweep.families: ['x'] is not a family name"),
    ('[sweep]\nfamilies = []\n[[mac]]\nmultipliers = ["exact"]\n',
     "sweep spec line 2: sweep.families: list at least one of xilinx, ice40"),
    ('[sweep]\nevaluations = [{a = 1}]\n[[mac]]\nmultipliers = ["exact"]\n',
     "sweep spec line 2: sweep.evaluations: {'a': 1} is not an evaluation name"),
    ('[sweep]\ntimeout_s = "soon"\n[[mac]]\nmultipliers = ["exact"]\n',
     "sweep spec line 2: sweep.timeout_s: 'soon': must be a number from 1 to 86400"),
    ('[sweep]\nname = 5\n[[mac]]\nmultipliers = ["exact"]\n',
     "sweep spec line 2: sweep.name: must be a line of text (at most 100 characters)"),
    ('[[activation]]\nexpressions = ["x"]\nbits = [4]\n[activation.methods]\ntable = 5\n',
     "sweep spec line 5: activation.methods.table: must be a table of options, e.g. "
     "[activation.methods.table]"),
    ('[[activation]]\nexpressions = ["x"]\nbits = []\n[activation.methods.table]\n',
     "sweep spec line 3: activation.bits: must be whole numbers of bits"),
    ('[[activation]]\nexpressions = ["x"]\nbits = [4]\ndomain = [0, inf]\n'
     '[activation.methods.table]\n', "sweep spec line 4: activation.domain: must be [LO, HI]"),
    ('[[activation]]\nexpressions = ["x"]\nbits = [4]\n[activation.methods.uniform]\n'
     'entries = [[4]]\n',
     "sweep spec line 5: activation.methods.uniform.entries: [4] is not an int"),
    ('[[activation]]\nexpressions = ["x"]\nbits = [4]\n[activation.methods.uniform]\n'
     'entries = []\n', "sweep spec line 5: activation.methods.uniform.entries: list at least one "
     "value"),
    ("mac = 3\n", "sweep spec line 1: mac: write [[mac]] (a list of blocks), not [mac]"),
    ("mac = [1, 2]\n", "sweep spec line 1: mac: write [[mac]] (a list of blocks), not [mac]"),
]


@pytest.mark.parametrize("text, message", SPECS, ids=[m[1][:40] for m in SPECS])
def test_malformed_specs_are_one_line_errors(text, message):
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert str(info.value) == message


def test_spec_files_that_are_not_text_or_too_large(tmp_path):
    p = tmp_path / "s.toml"
    p.write_bytes(b"\xff\xfe[[mac]]")
    code, _, err = run("sweep", str(p), "-o", str(tmp_path / "o"))
    assert (code, err) == (2, f"actc: error: sweep spec {str(p)!r} is not UTF-8 text\n")
    p.write_text("# " + "x" * (1 << 20))
    code, _, err = run("sweep", str(p), "-o", str(tmp_path / "o"))
    assert (code, err) == (2, f"actc: error: sweep spec {str(p)!r} is {(1 << 20) + 2} bytes: "
                              "specs take at most 1048576\n")
    assert not (tmp_path / "o").exists()


def test_max_points_flag(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[[mac]]\nmultipliers = ["exact", "drum:3"]\nbits = [4]\n')
    code, _, err = run("sweep", str(p), "-o", str(tmp_path / "o"), "--max-points", "1")
    assert (code, err) == (2, f"actc: error: sweep spec {str(p)!r} describes 2 points: above the "
                              "limit of 1 (raise it with --max-points N)\n")


SLOW = Point("activation", "gelu(x)", "optimal", {"objective": "mse"}, in_format="s20.16",
             out_format="s16.14")


def test_a_point_past_its_time_limit_is_killed_and_recorded():
    row, files = run_bounded(SLOW, 3, timeout_s=1)
    assert (row["status"], row["index"], files) == ("failed", 3, {})
    assert row["error_message"] == "stopped after 1 s, the point's time limit ([sweep] timeout_s)"


def test_a_point_beyond_its_memory_is_a_failed_row():
    row, _ = run_bounded(SLOW, 0, timeout_s=60, ram_gb=0.01)
    assert row["status"] == "failed" and "MemoryError" in row["error_message"]


def test_a_hanging_point_does_not_hang_the_sweep(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\ntimeout_s = 8\n'
                    '[[activation]]\nexpressions = ["gelu(x)"]\nformats = [["s20.16", "s16.14"]]'
                    '\n[activation.methods.optimal]\nobjective = "mse"\n'
                    '[[activation]]\nexpressions = ["tanh(x)"]\nbits = [5]\n'
                    '[activation.methods.table]\n')
    res = sweep(spec, tmp_path / "o", workers=2, progress=False)
    assert list(res.table["status"]) == ["failed", "ok"]
    assert res.table["error_message"][0] == ("stopped after 8 s, the point's time limit "
                                             "([sweep] timeout_s)")
    assert "## Failed points" in (tmp_path / "o" / "summary.md").read_text()


def test_pick_on_a_damaged_table_is_one_line(tmp_path):
    (tmp_path / "results.parquet").write_bytes(b"PAR1 not really")
    code, out, err = run("pick", str(tmp_path), "--max-error-lsb", "1")
    assert (code, out) == (2, "")
    assert err == (f"actc: error: {str(tmp_path / 'results.parquet')!r} is damaged: not a "
                   "readable Parquet table\n")
    import pandas as pd

    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "results.parquet")
    code, _, err = run("pick", str(tmp_path), "--max-error-lsb", "1")
    assert err == (f"actc: error: {str(tmp_path / 'results.parquet')!r} is not an actc sweep "
                   "table: no column 'key'\n")
