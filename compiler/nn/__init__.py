"""``actc.nn``: PyTorch layers that simulate actc's multipliers and activations inside a
network, bit-exact, for evaluation and training (the optional extra ``actc[torch]``).

- ``ApproxLinear``, ``ApproxConv2d``: ``nn.Linear``/``nn.Conv2d`` subclasses whose integer
  products are those of any multiplier (a library spec such as ``"drum:4"``, a
  ``Multiplier``, a MAC manifest, or the statistical ``MRENoise``), accumulated exactly;
  straight-through gradients. ``to_approx`` converts a model's layers;
  ``calibrate`` sets their input ranges from data (a protocol other layers can implement).
- ``MRENoise``: product-level multiplicative noise of a given mean relative error.
- ``AlphabetQuantizer``: projection of weights onto an alphabet set multiplier's weights.
- ``HybridSchedule``: approximate products for the first epochs, exact for the last (or the
  reverse).
- ``ApproxActivation``: any compiled activation (its manifest) on integer codes.
- ``IMCLinear``, ``IMCConv2d``: ``nn.Linear``/``nn.Conv2d`` subclasses whose matmul runs
  through the ``actc.adc`` crossbar model and a converter (``to_imc`` converts a model's
  layers, ``from_linear``/``from_conv2d`` one layer; ``calibrate`` sets their input and
  partial-sum ranges; ``set_samples`` sets MTJ samples per layer, ``imc_layers`` lists
  them).
- ``quant``: the quantisers and straight-through functions they share; ``progress``: the
  progress bar every training or sweep loop uses.

Plain ``nn.Module``s with no global state: they run unchanged under DistributedDataParallel
and on any device the model is moved to.
"""

from __future__ import annotations

from .activation import ApproxActivation
from .alphabet import AlphabetQuantizer
from .calibration import calibrate
from .convert import to_approx
from .imc import IMCConv2d, IMCLinear, imc_layers, set_samples, to_imc
from .layers import ApproxConv2d, ApproxLinear, approximate_layers
from .noise import MRENoise
from .schedule import HybridSchedule

__all__ = ["AlphabetQuantizer", "ApproxActivation", "ApproxConv2d", "ApproxLinear",
           "HybridSchedule", "IMCConv2d", "IMCLinear", "MRENoise", "approximate_layers",
           "calibrate", "imc_layers", "set_samples", "to_approx", "to_imc"]
