# A 128-row crossbar with 1-bit cells and DACs, 4-bit signed weights (differential pairs) and
# 4-bit inputs: partial sums per (input slice, sub-array, weight slice), converted, accumulated.
import numpy as np

from actc.adc import Crossbar, converter

rng = np.random.default_rng(0)
xb = Crossbar(rows=128, cell_bits=1, dac_bits=1, weight_bits=4, input_bits=4)
x = rng.integers(0, 16, size=(64, 256))            # unsigned input codes
w = rng.integers(-7, 8, size=(256, 32))            # signed weights (3 magnitude bits)
exact = x @ w
ps, _ = xb.partial_sums(x, w)          # (batch, sub-arrays, input slices, weight slices, out)
rms = float(np.sqrt(np.mean(ps.astype(float) ** 2)))
# a converter spans the full partial-sum range or a clip: here 3x the partial sums' RMS for
# the ADC, 1x for the MTJ (the IMC layers' defaults, calibrated from data)
for spec, clip in (("ideal", None), ("adc:4", 3 * rms), ("mtj:4", rms), ("mtj:16", rms),
                   ("mtj:64", rms)):
    conv = converter(spec) if clip is None else converter(spec, clip=clip)
    y = xb.matmul(x, w, conv, rng=1) * xb.output_lsb(conv)   # seeded: MTJs are stochastic
    rel = np.sqrt(np.mean((y - exact) ** 2)) / exact.std()
    print(f"{spec:9s} rms error / std of x @ w = {rel:.4f}")
