"""The quick network benchmark (benchmarks/network.py): a digits MLP whose hidden activation
is the emitted Python reference model, on the bit-exact integer path."""

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "network.py"


@pytest.fixture(scope="module")
def network():
    name = "actc_bench_network"
    spec = importlib.util.spec_from_file_location(name, _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up here
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(name, None)


def test_8bit_table_network_within_a_point_of_float(network):
    res = network.run(functions=("relu", "silu"), settings=("8",),
                      methods=("table", "no_such_method"), seeds=(0,), epochs=30,
                      qat_epochs=0, log=lambda *a: None)
    for fname in ("relu", "silu"):
        float_acc = res["float"][fname][0]
        cell = res["cells"][fname]["8"]["table"]
        assert float_acc > 95.0
        assert cell["status"] == "ok"
        assert abs(cell["ptq"][0] - float_acc) <= 1.0
        assert max(map(max, cell["unit_max_lsb"])) <= 0.5 + 1e-9  # the correctly rounded f
        missing = res["cells"][fname]["8"]["no_such_method"]
        assert missing["status"] == "method 'no_such_method' not in the installed actc"
    assert "n/a [1]" in network.format_report(res)
