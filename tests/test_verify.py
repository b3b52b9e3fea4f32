"""Issue 16: ``actc verify`` checks every claim of a manifest, for every unit kind. Each
tampering the issue found passing as OK, and each malformed value it found crashing, is a
case here with its whole message."""

import hashlib
import json
import shutil

import pytest

import actc
from actc.adc.backend import compile_column
from actc.cli import main
from actc.mac.api import compile as compile_mac

pytestmark = pytest.mark.xdist_group("verify")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """One manifest of each kind (Python target: fast to run), and an activation with every
    target (for the testbench's own vectors)."""
    d = tmp_path_factory.mktemp("verify")
    actc.compile("gelu(x)", bits=6, method="knots", memory_bytes=24, name="kn",
                 target="python").write(d / "act")
    actc.compile("tanh(x)", bits=6, method="grau", segments=4, name="gr",
                 target="all").write(d / "all")
    compile_mac("drum:3", bits=4, target="python").write(d / "mac")
    compile_column("adc:3", rows=16, weight_bits=2, input_bits=2, target="python").write(
        d / "adc")
    return d


def _verify(path, capsys):
    code = main(["verify", str(path)])
    out, err = capsys.readouterr()
    return code, out.strip().splitlines()[-1] if out.strip() else "", err


def _tampered(compiled, tmp_path, sub, name, edit=None, files=None):
    d = tmp_path / sub
    shutil.copytree(compiled / sub, d)
    m = json.loads((d / f"{name}.json").read_text())
    if edit is not None:
        edit(m)
    if files is not None:
        files(d, m)
    (d / f"{name}.json").write_text(json.dumps(m, indent=1))
    return d / f"{name}.json"


@pytest.mark.parametrize("sub, name", [("act", "kn"), ("all", "gr"), ("mac", "drum3"),
                                       ("adc", "col")])
def test_every_kind_verifies_with_every_claim_checked(compiled, sub, name, capsys):
    code, last, err = _verify(compiled / sub / f"{name}.json", capsys)
    assert (code, last, err) == (
        0, "OK: every claim checked; every target matches the evaluator", "")


def test_the_report_lists_each_check(compiled, capsys):
    assert main(["verify", str(compiled / "all" / "gr.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "files      ok      5 files, each with the sha256 recorded at compile time"
    assert lines[2].startswith("claims     ok      compiled again: all ")
    assert lines[3] == "emitted    ok      5 files byte-identical to actc's emission"
    assert lines[4] == "testbench  ok      verilog: PASS 64 vectors"


def _rehash(name):
    """Edit a file and record its new sha256, as someone covering their tracks would."""
    def files(d, m):
        p = d / name
        text = p.read_text()
        lines = text.splitlines()
        lines[-1] = lines[-1][:-1] + ("1" if lines[-1][-1] == "0" else "0")
        p.write_text("\n".join(lines) + "\n")
        m["sha256"][name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


TAMPERED = [
    ("act", "kn", "expression", lambda m: m.__setitem__("expression", "gelu_tanh(x)"), None,
     "FAILED: claims: canonical: the manifest states 'x*(erf(sqrt(2)*x/2) + 1)/2', recomputed "
     "'x*(tanh(sqrt(2)*(8943*x**3/200000 + x)/sqrt(pi)) + 1)/2' (and 6 more)"),
    ("act", "kn", "method", lambda m: m.__setitem__("method", "geba"), None,
     "FAILED: claims: design.core.kind: the manifest states 'knots', recomputed 'segments' "
     "(and 38 more)"),
    ("act", "kn", "max_lsb", lambda m: m["error"].__setitem__("max_lsb", 0.1), None,
     "FAILED: claims: error.max_lsb: the manifest states 0.1, recomputed 1.0000000000001428"),
    ("act", "kn", "memory_bits", lambda m: m.__setitem__("memory_bits", 12), None,
     "FAILED: claims: memory_bits: the manifest states 12, recomputed 96"),
    ("act", "kn", "scale", lambda m: (m["output"].__setitem__("scale", 0.5),
                                      m["design"]["output"].__setitem__("scale", 0.5)), None,
     "FAILED: claims: design.output.text: the manifest states 's6.2', recomputed 's6.1' "
     "(and 33 more)"),
    ("act", "kn", "zero_point", lambda m: (m["input"].__setitem__("zero_point", 3),
                                           m["design"]["input"].__setitem__("zero_point", 3)),
     None, "FAILED: claims: design.input.text: the manifest states 's6.2', recomputed "
     "'s6:0.25:3' (and 33 more)"),
    ("act", "kn", "search", lambda m: m["search"]["candidates"][0].__setitem__("max_lsb", 0.01),
     None, "FAILED: claims: search.candidates[0].max_lsb: the manifest states 0.01, recomputed "
     "1.0000000000001428"),
    ("act", "kn", "design", lambda m: m["design"]["core"]["knots"].__setitem__(
        2, m["design"]["core"]["knots"][2] + 1), None,
     "FAILED: claims: design.core.knots[2]: the manifest states 141, recomputed 140"),
    ("act", "kn", "version", lambda m: m.__setitem__("actc_version", "9.9"), None,
     "FAILED: claims: actc_version: the manifest states '9.9', recomputed '0.1.0'"),
    ("act", "kn", "extra key", lambda m: m.__setitem__("verified", True), None,
     "FAILED: claims: verified: the manifest states True, a key actc does not write"),
    # found by benchmarks/fuzz.py --seed 18: a null cost passed the schema and crashed verify
    ("act", "kn", "null cost", lambda m: m.__setitem__("cost", None), None,
     "FAILED: claims: cost: the manifest states None, actc writes Yosys figures per family "
     "(actc cost)"),
    ("act", "kn", "no sha256", lambda m: m.pop("sha256"), None,
     "FAILED: files: the manifest records no sha256 of its files (written before actc recorded "
     "them): compile it again"),
    ("all", "gr", "targets", lambda m: (m.__setitem__("targets", ["c", "python"]),
                                        m["target_options"].pop("verilog")), None,
     "FAILED: claims: files: the manifest lists 6 items, recomputed 3 (and 3 more)"),
    ("all", "gr", "vectors", None,
     lambda d, m: (d / "gr_vectors.hex").write_text((d / "gr_vectors.hex").read_text() + "00\n"),
     "FAILED: files: gr_vectors.hex has changed since it was compiled (its sha256 differs from "
     "the one recorded)"),
    ("all", "gr", "vectors rehashed", None, _rehash("gr_vectors.hex"),
     "FAILED: claims: sha256.gr_vectors.hex: the manifest states '"),
    ("mac", "drum3", "metric", lambda m: m["metrics"].__setitem__("mre_percent", 1.0), None,
     "FAILED: claims: metrics.mre_percent: the manifest states 1.0, recomputed "
     "9.147227975435694"),
    ("mac", "drum3", "family", lambda m: m["design"]["multiplier"]["family"].__setitem__("k", 2),
     None, "FAILED: claims: design.multiplier.spec: the manifest states 'drum:3', recomputed "
     "'drum:2' (and 13 more)"),
    ("adc", "col", "decode", lambda m: m["decode"].__setitem__("lsb", 2.0), None,
     "FAILED: claims: decode.lsb: the manifest states 2.0, recomputed 2.2857142857142856"),
    ("adc", "col", "seed", lambda m: m["design"].__setitem__("seed", 5), None,
     "FAILED: claims: vectors.seed: the manifest states 0, recomputed 5"),
]


@pytest.mark.parametrize("sub, name, what, edit, files, message", TAMPERED,
                         ids=[t[2] for t in TAMPERED])
def test_tampered_claims_exit_1_naming_the_difference(compiled, tmp_path, capsys, sub, name,
                                                      what, edit, files, message):
    path = _tampered(compiled, tmp_path, sub, name, edit, files)
    code, last, err = _verify(path, capsys)
    assert (code, err) == (1, "")
    assert last.startswith(message) if what == "vectors rehashed" else last == message


def test_a_file_that_is_not_actcs_emission_never_runs(compiled, tmp_path, capsys):
    """Code added to the Python model, its sha256 recorded again: refused before anything
    is imported or run."""
    def inject(d, m):
        p = d / "gr.py"
        p.write_text(p.read_text() + "raise SystemExit('ran')\n")
        m["sha256"]["gr.py"] = hashlib.sha256(p.read_bytes()).hexdigest()
    path = _tampered(compiled, tmp_path, "all", "gr", None, inject)
    code = main(["verify", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[1] == "files      ok      5 files, each with the sha256 recorded at compile time"
    assert out[2].startswith("claims     FAILED  sha256.gr.py: the manifest states '")
    lines = len((compiled / "all" / "gr.py").read_text().splitlines())
    assert out[3] == ("emitted    FAILED  gr.py is not what actc emits for this design "
                      f"({lines + 1} lines instead of {lines})")
    assert len(out) == 5 and out[4].startswith("FAILED: claims: sha256.gr.py")


MALFORMED = [
    ("name ../evil", lambda m: m.__setitem__("name", "../evil"),
     "name: String should match pattern '^[A-Za-z][A-Za-z0-9_]{0,62}$'"),
    ("file ../evil.py", lambda m: m["files"].append("../evil.py"),
     "files.2: String should match pattern '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'"),
    ("absolute file", lambda m: m["files"].append("/etc/passwd"),
     "files.2: String should match pattern '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'"),
    ("string for a number", lambda m: m.__setitem__("memory_bits", "96"),
     "memory_bits: Input should be a valid integer"),
    ("10**30", lambda m: m.__setitem__("memory_bits", 10**30),
     "memory_bits: Input should be less than 9223372036854775808"),
    ("64-bit width", lambda m: m["design"]["input"].__setitem__("bits", 64),
     "design.input.bits: Input should be less than or equal to 32"),
    ("unknown target option", lambda m: m["target_options"].__setitem__("c", {"fast": True}),
     "target_options.c.fast: Extra inputs are not permitted"),
    ("unknown target", lambda m: m["targets"].append("vhdl"),
     "targets: unknown target 'vhdl' (registered: verilog, c, python, hls)"),
    ("bad architecture", lambda m: m["target_options"].__setitem__(
        "verilog", {"registered": True, "architecture": "serial"}),
     "target_options.verilog: --registered adds an output register to a combinational unit; a "
     "serial unit is clocked already: drop --registered"),
    ("core of no kind", lambda m: m["design"]["core"].__setitem__("kind", "nope"),
     "design.core: Input tag 'nope' found using 'kind' does not match any of the expected tags: "
     "'segments', 'knots', 'float_segments', 'shiftadd', 'threshold'"),
    ("invalid IR", lambda m: m["design"]["core"].__setitem__("region_bits", 9),
     "design: invalid IR: region bits must lie in 0..in_bits - 1"),
]


@pytest.mark.parametrize("what, edit, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_manifests_are_refused_by_the_schema(compiled, tmp_path, capsys, what, edit,
                                                       message):
    path = _tampered(compiled, tmp_path, "act", "kn", edit)
    code, last, err = _verify(path, capsys)
    assert (code, last) == (2, "")
    assert err == f"actc: error: manifest {str(path)!r} is invalid: {message}\n"


@pytest.mark.parametrize("text, message", [
    ("[" * 200_000 + "]" * 200_000, "nests 200000 levels deep: manifests take at most 32"),
    ('{"schema": "actc-manifest/1", "memory_bits": 1e400}',
     "is invalid: 1e400 is beyond a 64-bit float"),
    ('{"schema": "actc-manifest/1", "memory_bits": NaN}', "is invalid: NaN is not a JSON number"),
    ('{"a": ' + "9" * 5000 + "}", "is invalid: an integer of 5000 digits"),
])
def test_malformed_json_is_refused_before_parsing_it_whole(tmp_path, capsys, text, message):
    p = tmp_path / "m.json"
    p.write_text(text)
    code, _, err = _verify(p, capsys)
    assert (code, err) == (2, f"actc: error: manifest {str(p)!r} {message}\n")


def test_a_symlink_escaping_the_directory_is_refused(compiled, tmp_path, capsys):
    def link(d, m):
        (d / "kn.py").unlink()
        (d / "kn.py").symlink_to(compiled / "all" / "gr.py")
    path = _tampered(compiled, tmp_path, "act", "kn", None, link)
    code, _, err = _verify(path, capsys)
    assert (code, err) == (2, f"actc: error: {str(path.parent / 'kn.py')!r} is a symbolic link: "
                              "verify reads only the files in the manifest's directory\n")


def test_cost_figures_are_synthesised_again(tmp_path, capsys):
    actc.compile("relu(x)", bits=4, target="verilog", name="r").write(tmp_path)
    path = tmp_path / "r.json"
    assert main(["cost", str(path)]) == 0
    capsys.readouterr()
    assert _verify(path, capsys)[:2] == (
        0, "OK: every claim checked; every target matches the evaluator")
    m = json.loads(path.read_text())
    luts = m["cost"]["xilinx"]["luts"]
    m["cost"]["xilinx"]["luts"] = luts + 1
    path.write_text(json.dumps(m))
    assert _verify(path, capsys)[:2] == (
        1, f"FAILED: claims: cost.xilinx.luts: the manifest states {luts + 1}, recomputed {luts}")
