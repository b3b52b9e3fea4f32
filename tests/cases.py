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
]

from .cases_pwl import PWL_CASES  # noqa: E402 - the GRAU and threshold designs

CASES += PWL_CASES
