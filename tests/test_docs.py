"""The documentation: the site builds with ``mkdocs build --strict`` (a warning, a broken link
or anchor, a docstring mkdocstrings cannot render, fails it); every command has its section in
the reference generated from the argparse parsers; every tutorial's commands and scripts
(``docs/snippets/<tutorial>/``, included into its page) run, in order, in an empty directory;
the README stays a front page."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = ROOT / "docs" / "snippets"
TUTORIALS = sorted(p.name for p in SNIPPETS.iterdir() if p.is_dir())
# files a tutorial's directory gets besides its snippets (what its page says the user has)
FIXTURES = {"ml": [ROOT / "tests" / "fixtures" / "evoapproxlib" / "mul8s_1KR3.v"]}
# what each tutorial's run must print: the page's claims, checked
EXPECTED = {
    "fpga": ["PASS 256 vectors", "OK: every claim checked", "figures written to out/gelu.json",
             "wrote gelu_report.png", "7 ok, 0 failed", "gelu(x) s8.4 -> s8.4: grau"],
    "firmware": ["sigmoid(code 1000) = code 255", ".rodata.sigmoid_y_lut     129",
                 "sigmoid {'c_bytes': 129}", "tanh_act {'c_bytes': 256}", ".progmem.data"],
    "hls4ml": ["OK: every claim checked", "ActcActivation: 1200 activations bit-exact"],
    "ml": ["reloaded", "mul8s_1KR3_imported.json", "OK: every claim checked",
           "asm:1,3 with alphabet-aware fine-tuning"],
    "imc": ["ideal     rms error / std of x @ w = 0.0000", "mtj:4 post-training",
            "mtj:4 after PS-QAT", "digits MLP with an mtj:8",
            "OK: every claim checked"],
    "dse": ["16 points (16 run now, 0 finished before): 16 ok, 0 failed",
            "same results as the local cluster"],
}


def _hook():
    spec = importlib.util.spec_from_file_location("actc_docs", ROOT / "docs/hooks/actc_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_builds_strict(tmp_path):
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                        "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert p.returncode == 0, p.stdout + p.stderr
    site = tmp_path / "site"
    cli = (site / "reference" / "cli" / "index.html").read_text()
    for words, _, _ in _hook().commands():
        assert f'id="{_hook().anchor(words)}"' in cli, words
    # the generated pages hold what the code says
    assert "--max-error-lsb" in cli and "--zero-skip" in cli and "--multiplier" in cli
    manifest = (site / "reference" / "manifest" / "index.html").read_text()
    assert all(f"Kind <code>{k}</code>" in manifest for k in ("activation", "mac", "adc"))
    cost = (site / "reference" / "adc-cost" / "index.html").read_text()
    assert "E_sample" in cost and "arXiv 2211.16588" in cost
    api = (site / "api" / "nn" / "index.html").read_text()
    assert "actc.nn.convert.to_approx" in api and "HybridSchedule" in api


def test_every_command_has_its_section():
    """Every leaf command of the parsers actc runs (found here by walking them, not by the
    generator's list) has a section with its usage and each of its options."""
    from actc.cli import _parser

    hook = _hook()
    text = hook.cli_reference()
    top = _parser()
    leaves = []
    for name, sub in hook._subcommands(top).items():
        inner = hook._subcommands(sub)
        leaves += [(name, n) for n in inner] if inner else [(name,)]
    assert {w for w, _, _ in hook.commands()} == set(leaves)
    assert len(leaves) >= 14
    for words, parser, _ in hook.commands():
        section = text.split(f"{{#{hook.anchor(words)}}}")[1].split("\n## ")[0]
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in section, (words, flag)


@pytest.mark.parametrize("tutorial", TUTORIALS)
def test_tutorial_runs(tutorial, tmp_path):
    """The page includes every snippet of its directory, and its scripts run, in order."""
    page = (ROOT / "docs" / "tutorials" / f"{tutorial}.md").read_text()
    files = sorted((SNIPPETS / tutorial).iterdir())
    for f in files:
        assert f'--8<-- "docs/snippets/{tutorial}/{f.name}"' in page, f.name
    included = re.findall(rf'--8<-- "docs/snippets/{tutorial}/([^"]+)"', page)
    assert included and all((SNIPPETS / tutorial / name).is_file() for name in included)
    for f in files + FIXTURES.get(tutorial, []):
        shutil.copy(f, tmp_path / f.name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    output = []
    for f in files:
        if f.suffix == ".sh":
            command = ["bash", "-euo", "pipefail", f.name]
        elif f.suffix == ".py":
            command = [sys.executable, f.name]
        else:
            continue
        p = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                           env=env)
        assert p.returncode == 0, f"{f.name}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        output.append(p.stdout)
    text = "\n".join(output)
    for expected in EXPECTED[tutorial]:
        assert expected in text, (expected, text[-3000:])


def test_every_tutorial_has_expectations():
    assert set(EXPECTED) == set(TUTORIALS) == {"fpga", "firmware", "hls4ml", "ml", "imc", "dse"}


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    # .ci/run runs exactly this command
    assert "```\nbash tests/setup.sh && python3 -m pytest -q\n```" in text
    assert "bash tests/setup.sh && python3 -m pytest -q" in (ROOT / ".ci" / "run").read_text()
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not link.startswith("http")]
    assert len(local) > 20
    assert all((ROOT / link).exists() for link in local), [
        link for link in local if not (ROOT / link).exists()]
    for section in ("## Install and run", "## Test", "## What it does", "## How to cite"):
        assert section in text
