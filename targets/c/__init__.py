"""C99 for firmware: a header of ``static inline`` functions and flash tables (layout
``header``), or a header of declarations plus one .c file (layout ``split``); checked by
compiling a harness with the system compiler under strict flags (docs/reference/firmware.md)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from actc.errors import TargetError, ToolError
from actc.options import option
from actc.unit import InputSpace, Unit

from ..base import Target
from . import activation, adc, mac
from .harness import Harness

__all__ = ["C_FLAGS", "COptions", "CTarget", "C_LAYOUTS", "Harness", "WARNINGS", "c_compiler",
           "compile_and_run"]

C_LAYOUTS = ("header", "split")


@dataclass(frozen=True)
class COptions:
    """How the C is packaged (the arithmetic and the tables are the same in both)."""

    c_layout: str = option(
        "header", "header (NAME.h only: static inline functions and tables, default) or split "
        "(NAME.h with macros and prototypes, NAME.c with the tables and functions, linked once)",
        choices=C_LAYOUTS)

    def __post_init__(self) -> None:
        if self.c_layout not in C_LAYOUTS:
            raise TargetError(f"--c-layout {self.c_layout!r}: choose {', '.join(C_LAYOUTS)}")

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary alignas alignof and and_eq asm
bitand bitor bool catch class compl constexpr const_cast decltype delete dynamic_cast explicit
export false friend mutable namespace new noexcept not not_eq nullptr operator or or_eq private
protected public reinterpret_cast static_assert static_cast template this thread_local throw
true try typeid typename using virtual wchar_t xor xor_eq main
""".split())
# Standard C library functions a header must not redeclare (gcc knows many as built-ins).
C_LIBRARY = frozenset("""
abs labs llabs div exp exp2 expm1 log log2 log10 log1p pow sqrt cbrt erf erfc tgamma lgamma
sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh fabs floor ceil round trunc
fmin fmax fma hypot min max malloc free printf exit time clock signal raise rand
""".split())

# What the emitted C compiles clean under (docs/reference/firmware.md); C_FLAGS add the C-only ones.
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wsign-conversion",
            "-Wshadow", "-Wundef", "-Wcast-align"]
# Arguments of the functions that call NAME (NAME_array, NAME_code): a design of that name
# would be shadowed by them.
C_ARGUMENTS = frozenset({"in", "out", "n", "k", "code"})

C_FLAGS = ["-std=c99", *WARNINGS, "-Wdeclaration-after-statement", "-Wstrict-prototypes",
           "-Wmissing-prototypes", "-O2", "-ffp-contract=off"]


class CTarget(Target):
    name: ClassVar[str] = "c"
    title: ClassVar[str] = "C99 header"
    kinds: ClassVar[dict[str, ModuleType]] = {"activation": activation, "mac": mac, "adc": adc}
    options: ClassVar[type] = COptions
    reserved: ClassVar[frozenset[str]] = C_KEYWORDS

    def tool(self) -> str:
        return c_compiler()

    def name_problem(self, name: str) -> str | None:
        if name in C_LIBRARY:
            return (f"--name {name!r} clashes with the C library's {name}(): pick another, "
                    f"e.g. {name}_act")
        if "__" in name:
            return f"--name {name!r}: double underscores are reserved in C++"
        if name in C_ARGUMENTS:
            return (f"--name {name!r} is an argument name of the emitted C functions: pick "
                    "another")
        return super().name_problem(name)

    def run(self, directory: Path, unit: Unit, space: InputSpace,
            options: Any) -> dict[str, np.ndarray]:
        return compile_and_run((directory / f"{unit.name}.h").resolve(), unit, space,
                               sources=sources(directory, unit.name, options))

    def storage(self, unit: Unit, options: Any) -> dict[str, int]:
        """``c_bytes``: the bytes of the constant tables emitted (one copy)."""
        out: dict[str, int] = self.kinds[unit.kind].storage(unit, options)
        return out


def sources(directory: Path, name: str, options: Any) -> list[Path]:
    """The .c files to compile with the header: NAME.c in the split layout."""
    split = getattr(options, "c_layout", "header") == "split"
    return [(directory / f"{name}.c").resolve()] if split else []


def c_compiler() -> str:
    for cc in ("cc", "gcc", "clang"):
        if shutil.which(cc):
            return cc
    raise ToolError("no C compiler found: install gcc (apt-get install gcc)")


_HARNESS = """#include <stdio.h>
#include <stdlib.h>
#include "{header}"

int main(int argc, char **argv)
{{
    FILE *in = fopen(argv[1], "r");
    long long {decl};
{state}    if (argc < 2 || in == NULL) return 2;
    while (fscanf(in, "{scan}", {refs}) == {count}) {{
{step}        printf("{formats}\\n", {prints});
    }}
    fclose(in);
    return 0;
}}
"""


def _build(cmd: list[str], what: Path) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise ToolError(f"{cmd[0]} failed on {what.name}:\n{(p.stdout + p.stderr)[-3000:]}")


def compile_and_run(header: Path, unit: Unit, space: InputSpace, compiler: str | None = None,
                    flags: list[str] | None = None,
                    sources: list[Path] | None = None) -> dict[str, np.ndarray]:
    """Compile a harness including the header (and the design's ``sources``, its .c in the
    split layout) with the system compiler (strict flags), run it on every vector of
    ``space``, return its outputs per output port."""
    cc = compiler or c_compiler()
    names = [p.name for p in unit.inputs]
    args = [f"in_{n}" for n in names]
    call = CTarget.kinds[unit.kind].harness_call(unit, args)
    harness = call if isinstance(call, Harness) else Harness([call])
    with tempfile.TemporaryDirectory(prefix="actc-c-") as tmp:
        t = Path(tmp)
        src = t / "harness.c"
        src.write_text(_HARNESS.format(
            header=header.resolve(), decl=", ".join(args), scan=" ".join(["%lld"] * len(args)),
            refs=", ".join(f"&{a}" for a in args), count=len(args),
            state="".join(f"    {line}\n" for line in harness.state.splitlines()),
            step="".join(f"        {line}\n" for line in harness.step.splitlines()),
            formats=" ".join(["%lld"] * len(harness.outputs)),
            prints=", ".join(f"(long long){o}" for o in harness.outputs)))
        exe = t / "harness"
        objects = []
        for k, source in enumerate(sources or []):  # C sources, whatever compiles the harness
            objects.append(str(t / f"source{k}.o"))
            _build([c_compiler(), *C_FLAGS, "-c", "-o", objects[-1], str(source)], source)
        _build([cc, *(flags or C_FLAGS), "-o", str(exe), str(src), "-x", "none", *objects],
               header)
        inp = t / "vectors.txt"
        cols = [space.vectors[n].tolist() for n in names]
        inp.write_text("".join(" ".join(map(str, row)) + "\n" for row in zip(*cols)))
        p = subprocess.run([str(exe), str(inp)], capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"the C harness for {header.name} failed: {p.stderr[-2000:]}")
        out = np.array(p.stdout.split(), dtype=np.int64).reshape(-1, len(harness.outputs))
    return {port.name: out[:, k] for k, port in enumerate(unit.outputs)}
