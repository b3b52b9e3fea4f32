"""actc designs as hls4ml activation layers (``pip install 'actc[hls4ml]'``).

hls4ml's own extension point for new layer implementations is its Extension API: a layer
class (``hls4ml.model.layers.register_layer``), the backend's config and function-call
templates (``backend.register_template``), and optimizer passes registered into a backend
flow (``backend.register_pass``), as its ``test_extensions_pytorch.py`` does. actc
registers, for the Vivado and Vitis backends:

- the layer ``ActcActivation`` (one input, one output, ``n_in`` values, io_parallel), whose
  function call is ``NAME_activation<input_t, output_t, configN>(in, out)``: the header
  ``--target hls`` emits (hls4ml's activation signature), written into the project's
  ``firmware/actc/`` by a pass in the backend's write flow;
- the pass ``actc_activation`` at the end of the backend's optimize flow: it replaces each
  activation node that carries an actc design (``ActcManifest`` in its layer config) by an
  ``ActcActivation``, after checking the design against the node (its function, its input
  and output precisions);
- PyTorch handlers for ``nn.GELU``, ``nn.SiLU``, ``nn.Mish``, ``nn.Softplus``,
  ``nn.Hardswish`` and ``nn.Hardsigmoid``, which hls4ml 1.3 cannot convert: they become
  activation nodes that need an actc design (conversion stops with a message naming the
  layer otherwise). Call ``register()`` before ``config_from_pytorch_model`` for such a
  model (``use`` calls it too; importing this module changes nothing in hls4ml).

Two ways in: before conversion, on the config (``config_from_pytorch_model(...,
granularity="name")``), ``use`` sets the layer's output precision from the manifest and
records the design; during conversion the tensor feeding the layer gets the manifest's
input precision where hls4ml would have chosen it ('auto'). After conversion, on the model,
``use`` replaces the node at once. Either way the node's input precision must end up the
manifest's input format and the output precision its output format, as ap_fixed (raw bits
= codes), else ConfigError names both.

>>> import actc.hls4ml
>>> callable(actc.hls4ml.use) and actc.hls4ml.BACKENDS
('Vivado', 'Vitis')
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np

from .errors import ConfigError, ManifestError, TargetError

__all__ = ["BACKENDS", "Design", "register", "use"]

BACKENDS = ("Vivado", "Vitis")
# hls4ml layer classes that apply one function to every element (Softmax does not; PReLU
# has a parameter per channel).
_ELEMENTWISE = ("Activation", "ParametrizedActivation", "HardActivation", "UnaryLUT")
# PyTorch modules hls4ml 1.3 cannot convert, and the activation name their nodes get.
_TORCH_ACTIVATIONS = {"GELU": "gelu", "SiLU": "silu", "Mish": "mish", "Softplus": "softplus",
                      "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid"}
_NEEDS_ACTC = frozenset(_TORCH_ACTIVATIONS.values()) - {"softplus"}
_CONFIG_KEY = "ActcManifest"  # layer config key; hls4ml makes it the attribute actc_manifest
_ATTR = "actc_manifest"


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    out: np.ndarray = erf(x)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


# The function an hls4ml activation node computes (its ``activation`` attribute), for the
# check that a design approximates the layer it replaces; a = its ``activ_param``.
_FUNCTIONS: dict[str, Any] = {
    "sigmoid": lambda x, a: _sigmoid(x),
    "tanh": lambda x, a: np.tanh(x),
    "relu": lambda x, a: np.maximum(x, 0.0),
    "linear": lambda x, a: x,
    "softplus": lambda x, a: np.logaddexp(0.0, x),
    "softsign": lambda x, a: x / (1.0 + np.abs(x)),
    "elu": lambda x, a: np.where(x > 0, x, (1.0 if a is None else a) * np.expm1(x)),
    "selu": lambda x, a: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                        * np.expm1(x)),
    "leakyrelu": lambda x, a: np.where(x > 0, x, (0.01 if a is None else a) * x),
    "thresholdedrelu": lambda x, a: np.where(x > (1.0 if a is None else a), x, 0.0),
    "gelu": lambda x, a: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "silu": lambda x, a: x * _sigmoid(x),
    "mish": lambda x, a: x * np.tanh(np.logaddexp(0.0, x)),
    "hardswish": lambda x, a: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    "hardsigmoid": lambda x, a: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
}


class Design:
    """An activation manifest as hls4ml sees it: the unit, its precisions as ap types and
    the HLS header ``--target hls`` emits for it (rendered from the manifest's design, so
    any activation manifest serves, whatever targets it was compiled for)."""

    def __init__(self, manifest: str | Path):
        from actc.manifest import load
        from actc.targets.hls.activation import ap_format

        self.path = Path(manifest).resolve()
        self.manifest, loaded = load(self.path)
        unit = cast(Any, loaded)  # an ActivationUnit, checked next
        if unit.kind != "activation":
            raise ManifestError(f"{self.path.name} holds a {unit.kind} unit; hls4ml layers take "
                                "activation designs")
        self.unit: Any = unit
        types = []
        for side, f in (("input", unit.in_format), ("output", unit.out_format)):
            t = None if f.is_float else ap_format(f)
            if t is None:
                raise TargetError(f"{self.path.name}: the {side} format {f.text} is no ap_fixed "
                                  "(hls4ml's precisions are ap_fixed, scale 2^-F, zero point 0): "
                                  "compile the design with fixed-point --in and --out")
            types.append(t)
        self.in_type, self.out_type = types

    @property
    def name(self) -> str:
        return str(self.unit.name)

    def header(self) -> str:
        """NAME.h, as ``actc compile --target hls`` writes it for this design."""
        from actc import __version__
        from actc.targets import TARGETS, EmitInfo

        space = self.unit.input_space()
        info = EmitInfo(version=__version__, error=self.manifest["error"], space=space,
                        provenance={"expression": self.manifest["expression"],
                                    "method": self.manifest["method"]},
                        expected=self.unit.evaluate(**space.vectors))
        hls = TARGETS["hls"]
        return hls.emit(self.unit, info, hls.options())[f"{self.name}.h"]

    def check_function(self, layer: str, activation: str, param: Any) -> None:
        """ConfigError when the design is further from the layer's function than its own
        error (plus one output LSB) on some input code: a design for another function."""
        f = _FUNCTIONS.get(activation.lower())
        if f is None:
            raise ConfigError(
                f"layer {layer!r} computes {activation}, which actc cannot check "
                f"{self.path.name} ({self.manifest['expression']}) against: pass "
                "check_function=False if the design is meant for it")
        fi, fo = self.unit.in_format, self.unit.out_format
        codes = self.unit.input_space().vectors["x"]
        x = fi.real(codes)
        y = fo.real(self.unit.evaluate(x=codes)["y"])
        want = np.asarray(f(x, param), dtype=np.float64)
        gap = np.abs(y - want)
        limit = float(self.manifest["error"]["max_abs"]) + fo.scale * (1 + 1e-9)
        k = int(np.argmax(gap))
        if gap[k] > limit:
            raise ConfigError(
                f"layer {layer!r} computes {activation}, but {self.path.name} "
                f"({self.manifest['expression']}) is {gap[k]:.4g} away from it at x = {x[k]:.6g} "
                f"(its own error is {self.manifest['error']['max_abs']:.3g}): use a design of "
                f"{activation}, or pass check_function=False")


def _precision_text(p: Any) -> str:
    """An hls4ml precision as ap type text (ap_fixed<16,6>, ap_uint<8>, ...)."""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

    if isinstance(p, IntegerPrecisionType):
        return f"ap_{'' if p.signed else 'u'}int<{p.width}>"
    if isinstance(p, FixedPrecisionType):
        return f"ap_{'' if p.signed else 'u'}fixed<{p.width}, {p.integer}>"
    return str(p)


def _same(p: Any, ap: str) -> bool:
    """Whether an hls4ml precision has the raw bits of the ap type ``ap`` (width, integer
    bits, signedness; rounding and saturation modes do not change the bits)."""
    return _precision_text(p).replace(" ", "") == ap.replace(" ", "")


def _hls_precision(ap: str) -> Any:
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

    signed = not ap.startswith("ap_u")
    args = [int(a) for a in ap[ap.index("<") + 1:-1].split(",")]
    if "int" in ap:
        return IntegerPrecisionType(width=args[0], signed=signed)
    return FixedPrecisionType(width=args[0], integer=args[1], signed=signed)


@cache
def _classes() -> dict[str, Any]:
    """The hls4ml classes actc registers (built once, on first use: importing actc.hls4ml
    neither imports hls4ml nor changes it)."""
    from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
    from hls4ml.model.attributes import Attribute
    from hls4ml.model.layers import Layer
    from hls4ml.model.optimizer import ModelOptimizerPass, OptimizerPass

    class ActcActivation(Layer):
        """An activation computed by an actc design (its HLS header)."""

        _expected_attributes = [
            Attribute("n_in"),
            Attribute("actc_name", value_type=str),
            Attribute("actc_header", value_type=str),
        ]

        def initialize(self) -> None:
            inp = self.get_input_variable()
            self.add_output_variable(inp.shape, precision=self.get_attr("actc_precision"))
            self.set_attr("n_in", inp.size())

    config_template = """struct config{index} {{
    static const unsigned n_in = {n_in};
    static const unsigned io_type = nnet::{iotype};
    static const unsigned reuse_factor = {reuse};
}};\n"""

    class ActcConfigTemplate(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(ActcActivation)

        def format(self, node: Any) -> str:
            return config_template.format(**self._default_config_params(node))

    class ActcFunctionTemplate(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(ActcActivation, include_header=[])

        def format(self, node: Any) -> str:
            params = self._default_function_params(node)
            return ("{actc_name}_activation<{input_t}, {output_t}, {config}>({input}, {output});"
                    .format(**params))

        def transform(self, model: Any, node: Any) -> bool:
            out: bool = super().transform(model, node)
            # the design's own header, included by parameters.h (firmware/actc/NAME.h)
            node.set_attr("include_header", [f"actc/{node.get_attr('actc_name')}.h"])
            return out

    class ActcActivationPass(OptimizerPass):
        """Replaces an activation node that carries an actc design by an ActcActivation."""

        def match(self, node: Any) -> bool:
            if node.class_name == "ActcActivation":
                return False
            return bool(node.get_attr(_ATTR)) or (
                node.class_name == "Activation"
                and str(node.get_attr("activation", "")).lower() in _NEEDS_ACTC)

        def transform(self, model: Any, node: Any) -> bool:
            manifest = node.get_attr(_ATTR)
            if not manifest:
                raise ConfigError(
                    f"layer {node.name!r} is a {node.get_attr('activation')}, which hls4ml has "
                    f"no implementation of: give it an actc design, actc.hls4ml.use(config, "
                    f"layer={node.name!r}, manifest=...)")
            _replace(model, node, Design(manifest), node.get_attr("actc_check", True),
                     set_input=True)
            return True

    def write_headers(model: Any) -> bool:
        """Writes each ActcActivation's header into firmware/actc/ (after write_hls)."""
        for node in model.get_layers():
            if node.class_name == "ActcActivation":
                d = Path(model.config.get_output_dir()) / "firmware" / "actc"
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{node.get_attr('actc_name')}.h").write_text(node.get_attr("actc_header"))
        return False

    class ActcWriteHeaders(ModelOptimizerPass):
        def __init__(self) -> None:
            super().__init__("actc_write_headers", write_headers)

    return {"layer": ActcActivation, "templates": (ActcConfigTemplate, ActcFunctionTemplate),
            "pass": ActcActivationPass, "writer": ActcWriteHeaders}


def _parse_torch_activation(operation: str, layer_name: str, input_names: list, input_shapes: list,
                            node: Any, class_object: Any, data_reader: Any,
                            config: Any) -> tuple[dict, list]:
    """PyTorch handler for the activations hls4ml 1.3 lacks: an Activation node."""
    layer = {"class_name": "Activation", "activation": _TORCH_ACTIVATIONS[operation],
             "name": layer_name, "inputs": input_names}
    return layer, input_shapes[0]


_registered = False


def register() -> None:
    """Register actc's layer, templates and passes with hls4ml's Vivado and Vitis backends
    and the PyTorch handlers (idempotent; ``use`` calls it)."""
    global _registered
    if _registered:
        return
    import hls4ml
    from hls4ml.converters import register_pytorch_layer_handler
    from hls4ml.model.flow import get_flow

    c = _classes()
    hls4ml.model.layers.register_layer("ActcActivation", c["layer"])
    from hls4ml.converters.pytorch_to_hls import get_supported_pytorch_layers

    known = set(get_supported_pytorch_layers())
    for op in _TORCH_ACTIVATIONS:
        if op not in known:
            register_pytorch_layer_handler(op, _parse_torch_activation)
    for name in BACKENDS:
        backend = hls4ml.backends.get_backend(name)
        ip = get_flow(backend.get_default_flow())
        optimize = next(f for f in ip.requires if f.endswith(":optimize") and f != "optimize")
        backend.register_pass(f"{name.lower()}:actc_activation", c["pass"], flow=optimize)
        backend.register_pass(f"{name.lower()}:actc_write_headers", c["writer"],
                              flow=backend.get_writer_flow())
        for template in c["templates"]:
            backend.register_template(template)
    _registered = True


def _set_input(model: Any, node: Any, design: Design) -> bool:
    """Before conversion ends: give the tensor that feeds ``node`` the design's input
    precision, when the layer that makes it left its result precision to hls4ml ('auto' or
    unset) and feeds only this node. False when it cannot."""
    try:
        prev = node.get_input_node()
    except Exception:  # noqa: BLE001 - hls4ml raises plain exceptions on odd graphs
        return False
    if prev is None or prev.class_name == "Input":
        return False
    consumers = [n for n in model.get_layers() if prev.outputs[0] in n.inputs]
    if consumers != [node]:
        return False
    configured = model.config.get_layer_config(prev).get("Precision", {})
    given = configured.get("result") if isinstance(configured, dict) else configured
    if given not in (None, "auto"):
        return False
    prev.get_output_variable().type.precision = _hls_precision(design.in_type)
    return True


def _replace(model: Any, node: Any, design: Design, check: bool,
             set_input: bool = False) -> Any:
    """The checks, then the node replaced by an ActcActivation; returns the new node.
    ``set_input`` (conversion from a config): the input tensor's precision may be set from
    the design where hls4ml chose it."""
    name = node.name
    if node.class_name not in _ELEMENTWISE + ("ActcActivation",):
        raise ConfigError(f"layer {name!r} is a {node.class_name}, not an element-wise "
                          "activation: an actc design replaces Activation layers (ReLU, "
                          "Sigmoid, Tanh, GELU, ...)")
    backend = model.config.backend.name
    if backend not in BACKENDS:
        raise ConfigError(f"actc designs take the {' and '.join(BACKENDS)} backends, not "
                          f"{backend}")
    have_in = node.get_input_variable().type.precision
    if not _same(have_in, design.in_type) and set_input and _set_input(model, node, design):
        have_in = node.get_input_variable().type.precision
    if not _same(have_in, design.in_type):
        raise ConfigError(
            f"layer {name!r} input precision {_precision_text(have_in)} does not match "
            f"{design.path.name}'s input format {design.unit.in_format.text} "
            f"({design.in_type}): set the previous layer's result precision to "
            f"{design.in_type}, or compile the design with --in matching it")
    have_out = node.get_output_variable().type.precision
    if not _same(have_out, design.out_type):
        raise ConfigError(
            f"layer {name!r} output precision {_precision_text(have_out)} does not match "
            f"{design.path.name}'s output format {design.unit.out_format.text} "
            f"({design.out_type}): set its result precision to {design.out_type} "
            "(actc.hls4ml.use on the config does), or compile the design with --out matching it")
    # the layer's function (an ActcActivation keeps the one of the layer it replaced)
    actc_node = node.class_name == "ActcActivation"
    activation = str(node.get_attr("actc_activation" if actc_node else "activation", ""))
    param = node.get_attr("actc_activ_param" if actc_node else "activ_param")
    if check:
        design.check_function(name, activation, param)
    header = design.header()
    _check_names(model, node, design, header)
    attrs = {"actc_name": design.name, "actc_header": header,
             "actc_precision": _hls_precision(design.out_type), _ATTR: str(design.path),
             "n_in": node.get_attr("n_in"), "actc_activation": activation}
    if param is not None:
        attrs["actc_activ_param"] = param
    new = model.make_node("ActcActivation", name, attrs, list(node.inputs), list(node.outputs))
    model.replace_node(node, new)
    return new


# hls4ml's own global names: weight arrays (w2, b2, s4, ...), layer configs, output arrays and
# their types (layer2_out, layer2_t), the model's ports' types.
_HLS4ML_NAME = re.compile(r"^((w|b|s|z|p|d|t|e|a|wr|br|tl|th|output_transform_w)\d+|config\d+|"
                          r"layer\d+_\w*|input_t|result_t)$")


def _check_names(model: Any, node: Any, design: Design, header: str) -> None:
    """ConfigError when the header's global names (NAME, NAME_in_t, NAME_out_t, NAME_core,
    NAME_activation) clash with the project's (hls4ml's weight arrays, types and configs, the
    top function), or when another layer has a different design of the same name (the second
    header would stop the build with #error)."""
    ours = {design.name, *(f"{design.name}_{s}" for s in ("in_t", "out_t", "core",
                                                          "activation"))}
    theirs: dict[str, str] = {}
    project = model.config.get_project_name()
    for n in (project, f"{project}_float", f"{project}_double"):
        theirs[n] = "the project's top function"
    for other in model.get_layers():
        if other is node:
            continue
        theirs[f"config{other.index}"] = f"layer {other.name!r}'s config"
        for v in (*other.variables.values(), *other.weights.values()):
            theirs[v.name] = f"layer {other.name!r}'s {v.name}"
            theirs[v.type.name] = f"layer {other.name!r}'s type {v.type.name}"
        for t in other.types.values():
            theirs[t.name] = f"layer {other.name!r}'s type {t.name}"
        if other.class_name == "ActcActivation" and other.get_attr("actc_name") == design.name \
                and other.get_attr("actc_header") != header:
            raise ConfigError(
                f"layers {other.name!r} and {node.name!r} take different designs named "
                f"{design.name!r} ({other.get_attr(_ATTR)} and {design.path}): compile one "
                "with another --name")
    for n in sorted(ours):
        what = theirs.get(n) or ("hls4ml's names" if _HLS4ML_NAME.match(n) else None)
        if what:
            raise ConfigError(f"{design.path.name}: the design name {design.name!r} gives the "
                              f"header the global {n}, which clashes with {what}: compile the "
                              "design with another --name")


def use(model_or_config: Any, layer: str, manifest: str | Path, *,
        check_function: bool = True) -> Any:
    """Give an hls4ml activation layer an actc design; returns its first argument.

    ``model_or_config``: the config dict of ``hls4ml.utils.config_from_pytorch_model(...,
    granularity="name")`` (before conversion: the layer's output precision is set from the
    manifest, the design is checked and put in place during conversion), or a converted
    ``ModelGraph`` (the node is replaced now; its precisions must already match).
    ``check_function``: refuse a design further from the layer's function than its error.

    Example (a PyTorch model whose activation module is named ``sig``)::

        config = hls4ml.utils.config_from_pytorch_model(model, (16,), granularity="name",
                                                        default_precision="ap_fixed<16,6>")
        actc.hls4ml.use(config, layer="sig", manifest="out/sig.json")
        hls_model = hls4ml.converters.convert_from_pytorch_model(model, hls_config=config,
                                                                 output_dir="prj", backend="Vitis")
        hls_model.compile(); y = hls_model.predict(x)
    """
    design = Design(manifest)
    register()
    if isinstance(model_or_config, dict):
        layers = model_or_config.get("LayerName")
        if not isinstance(layers, dict):
            raise ConfigError("the hls4ml config has no LayerName section: make it with "
                              "config_from_pytorch_model(..., granularity='name')")
        if layer not in layers:
            raise ConfigError(f"the hls4ml config has no layer {layer!r}; its layers: "
                              f"{', '.join(layers)}")
        _check_torch_module(model_or_config.get("PytorchModel"), layer)
        entry = layers[layer]
        entry.setdefault("Precision", {})
        if not isinstance(entry["Precision"], dict):
            entry["Precision"] = {}
        entry["Precision"]["result"] = design.out_type
        entry[_CONFIG_KEY] = str(design.path)
        entry["ActcCheck"] = bool(check_function)
        return model_or_config
    graph = getattr(model_or_config, "graph", None)
    if graph is None or layer not in graph:
        names = ", ".join(graph) if graph is not None else ""
        raise ConfigError(f"the hls4ml model has no layer {layer!r}" +
                          (f"; its layers: {names}" if names else ""))
    new = _replace(model_or_config, graph[layer], design, check_function)
    # A compiled model would go on predicting with the library it has, built without the
    # design: drop it, so that predict() asks for compile() (hls4ml: "Model not compiled").
    if getattr(model_or_config, "_top_function_lib", None) is not None:
        model_or_config._top_function_lib = None
    # the conversion's later passes for the new node: backend types, then its templates
    from hls4ml.model.optimizer import get_optimizer

    prefix = model_or_config.config.backend.name.lower()
    for opt_name in ("vivado:transform_types", f"{prefix}:actcactivation_config_template",
                     f"{prefix}:actcactivation_function_template"):
        opt = get_optimizer(opt_name)
        if opt.match(new):
            opt.transform(model_or_config, new)
    return model_or_config


def _check_torch_module(model: Any, layer: str) -> None:
    """Before conversion: refuse a layer whose PyTorch module is not an activation."""
    if model is None:
        return
    import inspect

    if layer in inspect.signature(model.forward).parameters:
        raise ConfigError(f"layer {layer!r} is the model's input, not an activation")
    modules = {name.replace(".", "_"): m for name, m in model.named_modules()}
    m = modules.get(layer)
    if m is None:
        return  # a functional call (torch.sigmoid(x)): checked at conversion
    kind = type(m).__name__
    known = {"ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Threshold", *_TORCH_ACTIVATIONS}
    if kind not in known:
        raise ConfigError(f"layer {layer!r} is a {kind}, not an element-wise activation: an actc "
                          f"design replaces activations ({', '.join(sorted(known))})")
