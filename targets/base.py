"""What every target shares: the Jinja environment, literal filters, the name rules."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from actc.errors import TargetError

__all__ = ["EmitInfo", "Target", "check_name", "Renderer", "comment_text"]

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

VERILOG_KEYWORDS = set("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign
default defparam design disable edge else end endcase endconfig endfunction endgenerate
endmodule endprimitive endspecify endtable endtask event for force forever fork function
generate genvar highz0 highz1 if ifnone incdir include initial inout input instance integer
join large liblist library localparam macromodule medium module nand negedge nmos nor
noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1
pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat
rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam
strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand
trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
logic bit byte int shortint longint string class module program interface
""".split())
C_KEYWORDS = set("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary alignas alignof and and_eq asm
bitand bitor bool catch class compl constexpr const_cast decltype delete dynamic_cast explicit
export false friend mutable namespace new noexcept not not_eq nullptr operator or or_eq private
protected public reinterpret_cast static_assert static_cast template this thread_local throw
true try typeid typename using virtual wchar_t xor xor_eq main
""".split())
# Standard C library functions a header must not redeclare (gcc knows many as built-ins).
C_LIBRARY = set("""
abs labs llabs div exp exp2 expm1 log log2 log10 log1p pow sqrt cbrt erf erfc tgamma lgamma
sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh fabs floor ceil round trunc
fmin fmax fma hypot min max malloc free printf exit time clock signal raise rand
""".split())
# The Python reference imports these; a module of the same name would shadow them.
PYTHON_RESERVED = {"numpy", "np"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def default_name(stem: str) -> str:
    """The design name for an expression whose default stem is a C library name."""
    return f"{stem}_act" if stem in C_LIBRARY else stem


def check_name(name: str) -> str:
    """A design name must be an identifier in Verilog, C, C++ and Python, and a file name."""
    if not _NAME.match(name):
        raise TargetError(
            f"--name {name!r} is not a valid identifier: use a letter, then letters, digits "
            "or underscores (at most 63 characters)"
        )
    low = name.lower()
    if (name in VERILOG_KEYWORDS or name in C_KEYWORDS or keyword.iskeyword(name)
            or keyword.issoftkeyword(name) or low in PYTHON_RESERVED):
        raise TargetError(f"--name {name!r} is a reserved word in one of the targets: pick another")
    if name in C_LIBRARY:
        raise TargetError(
            f"--name {name!r} clashes with the C library's {name}(): pick another, e.g. {name}_act"
        )
    if "__" in name:
        raise TargetError(f"--name {name!r}: double underscores are reserved in C++")
    return name


_SAFE = re.compile(r"[^A-Za-z0-9_ +\-*/^().,=<>:%!?'\[\]]")


def comment_text(text: str) -> str:
    """Text that stays inside a // or /* */ or # comment in every target: printable ASCII
    without line breaks, backslashes or comment terminators."""
    s = _SAFE.sub("?", " ".join(str(text).split()))
    while "*/" in s or "/*" in s:
        s = s.replace("*/", "* /").replace("/*", "/ *")
    return s


def hex_pattern(value: int, width: int) -> str:
    """Two's-complement bit pattern of value in width bits, as a Verilog literal."""
    return f"{width}'h{value & ((1 << width) - 1):0{(width + 3) // 4}x}"


def c_int_type(bits: int, signed: bool) -> str:
    for w in (8, 16, 32, 64):
        if bits <= w:
            return f"{'int' if signed else 'uint'}{w}_t"
    raise TargetError(f"{bits}-bit values do not fit a C integer type")


def c_literal(value: int, paren: bool = True) -> str:
    """A C integer literal of the right type everywhere: INT32_MIN cannot be written as a
    negated literal, and values beyond 32 bits need a suffix."""
    if 0 <= value < 2**31:
        return str(value)
    if -(2**31) < value < 0:
        return f"({value})" if paren else str(value)
    if value == -(2**31):
        return "(-2147483647 - 1)"
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    text = f"{value}LL" if value < 2**63 else f"{value}ULL"
    return f"({text})" if paren and value < 0 else text


def c_element(value: int) -> str:
    """A table element: a literal without parentheses."""
    return c_literal(value, paren=False)


def header_context(design, info) -> dict:
    """What every target prints in its header: names, provenance, formats, error."""
    fi, fo = design.in_format, design.out_format
    ctx = {
        "name": design.name,
        "NAME": design.name.upper(),
        "version": info.version,
        "expression": info.expression,
        "method": info.method,
        "summary": design_summary(design),
        "in_text": fi.text,
        "out_text": fo.text,
        "n": fi.bits,
        "m": fo.bits,
        "error_codes": info.error["codes"],
        "error_max_lsb": info.error["max_lsb"],
        "error_mean_lsb": info.error["mean_lsb"],
    }
    for prefix, f in (("in", fi), ("out", fo)):
        if not f.is_float:
            ctx.update({f"{prefix}_scale": repr(f.scale), f"{prefix}_zero": f.zero_point,
                        f"{prefix}_signed": f.signed, f"{prefix}_min": f.code_min,
                        f"{prefix}_max": f.code_max})
    return ctx


def fold_expression(fold, r: str = "r", e: str = "e", literal=str) -> str:
    """The mirrored half's result: sign*r + offset + slope*e, zero terms left out."""
    expr = r if fold.sign > 0 else f"-{r}"
    if fold.offset:
        expr += f" + {literal(fold.offset)}"
    if fold.slope:
        expr += f" + {e} * {literal(fold.slope)}"
    return expr


def f32_hex(value: float) -> str:
    """The float32 bit pattern of a value, as 0xXXXXXXXX."""
    return f"0x{int(np.array([value], dtype=np.float32).view(np.uint32)[0]):08X}"


def f32_rows(patterns, suffix: str = "") -> list[str]:
    """Rows of float32 bit patterns (already integers), 6 a row."""
    return rows(patterns, 6, lambda v: f"0x{v:08X}{suffix}")


def float_output_constants(fo) -> dict:
    """float32 constants of a fixed-point output of a float datapath (1/scale, zero point,
    code range), as bit patterns."""
    return {"inv_bits": f32_hex(1.0 / fo.scale), "zp_bits": f32_hex(fo.zero_point),
            "qmin_bits": f32_hex(fo.code_min), "qmax_bits": f32_hex(fo.code_max)}


def design_summary(design) -> str:
    """One line on the datapath, for file headers."""
    return design.core.summary() + f", {design.memory_bits} ROM bits"


def slope_rows(core) -> list[dict]:
    """A shift-add core's per-segment terms as text: signs, shifts, and the slope."""
    return [{"signs": ", ".join(str(g) for g, _ in core.segment_terms(i)),
             "shifts": ", ".join(str(r) for _, r in core.segment_terms(i)),
             "slope": core.slope_text(i)} for i in range(core.segments)]


def rows(values, per_row: int, fmt) -> list[str]:
    """Table literal rows of per_row formatted values."""
    vals = [fmt(int(v)) for v in values]
    return [", ".join(vals[i : i + per_row]) for i in range(0, len(vals), per_row)]


class Renderer:
    """One target's Jinja environment over templates/<target>/, built on first use, with the
    shared literal filters and the target's own."""

    def __init__(self, target: str, **filters):
        self.target = target
        self.filters = filters
        self._env = None

    def env(self):
        if self._env is None:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(_TEMPLATES / self.target)),
                autoescape=False,
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
            )
            env.filters.update(comment=comment_text, hexp=hex_pattern, c_int=c_literal)
            env.filters.update(self.filters)
            self._env = env
        return self._env

    def __call__(self, template: str, **context) -> str:
        return self.env().get_template(template).render(**context)


@dataclass(frozen=True, eq=False)
class EmitInfo:
    """What a target prints besides the design: provenance for headers, and the reference
    vectors (input codes and the evaluator's outputs) for testbenches."""

    expression: str
    canonical: str
    method: str
    error: dict
    version: str
    codes: np.ndarray
    outputs: np.ndarray


class Target:
    """A target formats a Design into files; ``run`` executes them on input codes."""

    name: ClassVar[str]

    def check(self, design) -> None:
        """Raise TargetError when this target cannot emit the design."""

    def emit(self, design, info: EmitInfo) -> dict[str, str]:  # pragma: no cover - interface
        raise NotImplementedError

    def run(self, directory: Path, design, files: list[str], codes: np.ndarray,
            expected: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError
