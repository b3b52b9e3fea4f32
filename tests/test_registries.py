"""Every registry is keyed by its objects' CLI names."""

import actc
from actc.activation.functions import FUNCTIONS
from actc.activation.ir import CORES
from actc.activation.passes import METHODS
from actc.targets import TARGETS


def test_methods_keyed_by_name():
    assert METHODS and all(key == cls.name for key, cls in METHODS.items())


def test_targets_keyed_by_name():
    assert TARGETS and all(key == t.name for key, t in TARGETS.items())


def test_functions_keyed_by_name():
    assert len(FUNCTIONS) >= 20 and all(key == f.name for key, f in FUNCTIONS.items())


def test_cores_keyed_by_kind():
    assert CORES and all(key == c.kind for key, c in CORES.items())


def test_unit_kinds_keyed_by_kind_and_every_target_declares_what_it_takes():
    from actc.unit import Unit, unit_kinds

    kinds = unit_kinds()
    assert kinds and all(key == c.kind for key, c in kinds.items())
    for t in TARGETS.values():
        assert set(t.kinds) <= set(kinds)
        for module in t.kinds.values():
            assert callable(module.accepts) and callable(module.emit)
    r = actc.compile("tanh(x)", bits=6, target="python")
    assert isinstance(r.unit, Unit)


def test_pass_module_and_class_names_match():
    for key, cls in METHODS.items():
        assert cls.__module__ == f"actc.activation.passes.{key}"
        assert cls.__name__ == key.capitalize() + "Pass"


def test_target_module_names_match():
    for key, t in TARGETS.items():
        assert type(t).__module__ == f"actc.targets.{key}"


def test_public_api_names_survive_submodule_imports():
    """Importing every module must not shadow the package's public functions."""
    import importlib
    import pkgutil

    import actc

    for mod in pkgutil.walk_packages(actc.__path__, "actc."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    for name in actc.__all__:
        assert not type(getattr(actc, name)).__name__ == "module", name
    assert callable(actc.compile) and callable(actc.verify) and callable(actc.build)


def test_target_all_leaves_out_the_targets_outside_it():
    """hls writes NAME.h as C does: --target all is every target with ``in_all``."""
    assert "hls" in TARGETS and not TARGETS["hls"].in_all
    r = actc.compile("tanh(x)", bits=6)
    assert r.manifest["targets"] == [k for k, t in TARGETS.items() if t.in_all]
