"""The ADC companion: crossbar partial sums, converters (ideal, adc:N, sparse:N, mtj:T),
the cost model and the digital column back end (docs/reference/adc.md).

>>> import numpy as np
>>> from actc.adc import Crossbar, converter
>>> xb = Crossbar(rows=64, cell_bits=1, dac_bits=1, weight_bits=4, input_bits=4)
>>> x = np.arange(128).reshape(1, 128) % 16; w = (np.arange(128 * 2).reshape(128, 2) % 15) - 7
>>> y = xb.matmul(x, w, converter("mtj:8"), rng=np.random.default_rng(0))
>>> y.shape, xb.output_lsb("mtj:8")
((1, 2), 8.0)
"""

from __future__ import annotations

from .converters import (
    CONVERTERS,
    Adc,
    Converter,
    Decode,
    Ideal,
    Mtj,
    Sparse,
    converter,
)
from .crossbar import Crossbar, Term

__all__ = ["CONVERTERS", "Adc", "Converter", "Crossbar", "Decode", "Ideal", "Mtj", "Sparse",
           "Term", "converter"]
