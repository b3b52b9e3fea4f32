"""The design matrix every target is checked on, exhaustively."""

CASES = [
    # (id, expression, compile options)
    ("gelu8", "gelu(x)", dict(bits=8)),
    ("sigmoid8_reg", "sigmoid(x)", dict(bits=8, registered=True)),
    ("tanh4", "tanh(x)", dict(bits=4)),
    ("silu_u6", "silu(x)", dict(in_format="u6.3", out_format="u7.4")),
    ("mish_affine", "mish(x)", dict(in_format="s8:0.03:-20", out_format="u8:0.02:12")),
    ("elu_tflite", "elu(x)", dict(in_format="s8:0.0625:0", out_format="s8:0.03125:64")),
    ("hardswish10", "hardswish(x)", dict(in_format="s10.6", out_format="s9.5")),
    ("exp_12_6", "exp(x)", dict(in_format="s12.9", out_format="u6.2")),
    ("softplus16", "softplus(x)", dict(in_format="s16.12", out_format="u16.13")),
    ("gelu_tanh16", "gelu_tanh(x)", dict(in_format="s16.12", out_format="s16.12")),
    ("leaky14", "leaky_relu(x, 0.1)", dict(in_format="s14.8", out_format="s12.6")),
    ("sigmoid_uniform", "sigmoid(x)", dict(bits=8, method="uniform", entries=32)),
    ("tanh_uniform_interp", "tanh(x)",
     dict(bits=10, method="uniform", entries=16, interpolate=True)),
    ("gelu_uniform_interp_reg", "gelu(x)",
     dict(in_format="s12.8", out_format="s12.8", method="uniform", entries=64,
          interpolate=True, registered=True)),
    ("swish_u16_interp", "swish(x, 1.5)",
     dict(in_format="u16.12", out_format="u16.12", method="uniform", entries=256,
          interpolate=True)),
    ("tanh16_interp", "tanh(x)",
     dict(in_format="s16.12", out_format="s16.15", method="uniform", entries=256,
          interpolate=True)),
    ("affine_uniform", "sigmoid(x)",
     dict(in_format="u8:0.05:128", out_format="u8:0.00390625:0", method="uniform",
          entries=64, interpolate=True)),
    ("wide_out", "exp(x)", dict(in_format="s6.2", out_format="u24.8")),
    ("x_to_s4", "x", dict(in_format="s8.4", out_format="s4")),
    # above 20 bits: the documented sample, segment boundaries included
    ("wide24_interp", "tanh(x)", dict(in_format="s24.20", out_format="s16.15", method="uniform",
                                      entries=256, interpolate=True)),
    # symmetry off, and folds of every kind
    ("gelu8_nosym", "gelu(x)", dict(bits=8, symmetry="off")),
    ("relu_fold", "relu(x)", dict(in_format="s9.4", out_format="u10.5")),
    ("abs_even_fold", "abs(x)", dict(in_format="s7.3", out_format="u7.3")),
    ("sigmoid_fold_affine", "sigmoid(x)",
     dict(in_format="s8:0.05:0", out_format="u8:0.00390625:0", method="uniform", entries=16,
          interpolate=True)),
    # geba and optimal, folded or not, with memory budgets and objectives
    ("tanh_geba12", "tanh(x)", dict(in_format="s12.9", out_format="s12.11", method="geba",
                                    entries=24, c_layout="split")),
    ("gelu_geba_nosym", "gelu(x)", dict(in_format="s10.6", out_format="s10.6", method="geba",
                                        entries=12, symmetry="off", registered=True)),
    ("swish_geba_mse", "swish(x)", dict(in_format="u11.7", out_format="u12.8", method="geba",
                                        memory_bits=900, objective="mse")),
    ("sigmoid_geba_uniform", "sigmoid(x)", dict(in_format="s9.5", out_format="u9.9",
                                                method="geba", spacing="uniform", entries=8)),
    ("tanh_optimal16", "tanh(x)", dict(in_format="s16.12", out_format="s16.15",
                                       method="optimal", entries=48)),
    ("silu_optimal_mse", "silu(x)", dict(in_format="s10.6", out_format="s10.7",
                                         method="optimal", objective="mse", entries=10,
                                         search_steps=1)),
    ("exp_geba_affine", "exp(x)", dict(in_format="s8:0.04:20", out_format="u8:0.05:0",
                                       method="geba", entries=8, search_steps=3)),
]

from .cases_pwl import PWL_CASES  # noqa: E402 - the GRAU and threshold designs

CASES += PWL_CASES
