"""C99: header-only files of ``static inline`` functions and ``static const`` tables, checked
by compiling a harness with the system compiler under strict flags."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from actc.errors import ToolError
from actc.unit import InputSpace, Unit

from ..base import Target
from . import activation, adc
from .harness import Harness

__all__ = ["C_FLAGS", "CTarget", "Harness", "c_compiler", "compile_and_run"]

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

C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-ffp-contract=off"]


class CTarget(Target):
    name: ClassVar[str] = "c"
    title: ClassVar[str] = "C99 header"
    kinds: ClassVar[dict[str, ModuleType]] = {"activation": activation, "adc": adc}
    reserved: ClassVar[frozenset[str]] = C_KEYWORDS

    def tool(self) -> str:
        return c_compiler()

    def name_problem(self, name: str) -> str | None:
        if name in C_LIBRARY:
            return (f"--name {name!r} clashes with the C library's {name}(): pick another, "
                    f"e.g. {name}_act")
        if "__" in name:
            return f"--name {name!r}: double underscores are reserved in C++"
        return super().name_problem(name)

    def run(self, directory: Path, unit: Unit, space: InputSpace,
            options: Any) -> dict[str, np.ndarray]:
        return compile_and_run((directory / f"{unit.name}.h").resolve(), unit, space)


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


def compile_and_run(header: Path, unit: Unit, space: InputSpace, compiler: str | None = None,
                    flags: list[str] | None = None) -> dict[str, np.ndarray]:
    """Compile a harness including the header with the system compiler (strict flags), run
    it on every vector of ``space``, return its outputs per output port."""
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
        cmd = [cc, *(flags or C_FLAGS), "-o", str(exe), str(src)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"{cc} failed on {header.name}:\n{(p.stdout + p.stderr)[-3000:]}")
        inp = t / "vectors.txt"
        cols = [space.vectors[n].tolist() for n in names]
        inp.write_text("".join(" ".join(map(str, row)) + "\n" for row in zip(*cols)))
        p = subprocess.run([str(exe), str(inp)], capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"the C harness for {header.name} failed: {p.stderr[-2000:]}")
        out = np.array(p.stdout.split(), dtype=np.int64).reshape(-1, len(harness.outputs))
    return {port.name: out[:, k] for k, port in enumerate(unit.outputs)}
