"""Emitted C on real microcontroller toolchains: cross-compile for Cortex-M0 and Cortex-M4
with arm-none-eabi-gcc, run under qemu-system-arm (boards microbit and mps2-an386, output
through semihosting), inspect objects with arm-none-eabi-nm/-size, and build for AVR
(avr-gcc). Used by tests/test_firmware.py and benchmarks/firmware.py.

One firmware image runs a batch of designs: each design gets its own translation unit
(``run_NAME.c``: every input code through ``NAME_array`` in chunks, each result checked
against the scalar ``NAME``, the outputs written to ``NAME.bin`` on the host, then the
out-of-range probes through ``NAME``), so objects can be inspected design by design.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actc.targets.c import C_FLAGS

HERE = Path(__file__).resolve().parent

# the emitted C must build clean with these on every target (C_FLAGS without host tuning)
STRICT = [f for f in C_FLAGS if not f.startswith("-O")]

# 64-bit integer and double-precision runtime helpers (ARM EABI and generic libgcc names)
HELPER_64 = re.compile(
    r"^(__aeabi_(lmul|llsl|llsr|lasr|u?ldivmod|u?lcmp|u?l2[fd]|f2u?lz|d\w+)"
    r"|__(u?divdi3|u?moddi3|muldi3|ashldi3|ashrdi3|lshrdi3|(clz|ctz|popcount|ffs)di2|u?cmpdi2)"
    r"|__\w*df\w*)$")

# input codes written through the scalar call after the exhaustive run: out-of-range on
# purpose (the documented clamp), as int32_t
PROBES = (-(2**31), -(2**20), -40000, -129, 128, 255, 256, 40000, 70000, 2**31 - 1)


@dataclass(frozen=True)
class Board:
    """A qemu-system-arm board and the compiler flags of its core."""

    name: str
    machine: str
    flags: tuple[str, ...]
    flash: int
    ram: int


BOARDS = {
    "m0": Board("Cortex-M0", "microbit", ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
                256 * 1024, 16 * 1024),
    "m4": Board("Cortex-M4", "mps2-an386", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                                            "-mfpu=fpv4-sp-d16"), 4 * 1024 * 1024, 256 * 1024),
}


@dataclass(frozen=True)
class Design:
    """An emitted design as the firmware sees it: its directory, name, unit and layout."""

    directory: Path
    name: str
    unit: Any
    layout: str

    @property
    def float_input(self) -> bool:
        return bool(self.unit.in_format.is_float)

    @property
    def types(self) -> tuple[str, str]:
        """(array element in, array element out) C types."""
        return io_types(self.unit)

    def codes(self) -> np.ndarray:
        """Every input code, in the order the firmware runs them."""
        f = self.unit.in_format
        if self.float_input:
            return np.arange(1 << f.bits, dtype=np.int64)
        return np.arange(f.code_min, f.code_max + 1, dtype=np.int64)

    def out_dtype(self) -> np.dtype:
        f = self.unit.out_format
        if f.is_float:
            return np.dtype("<u2") if f.bits == 16 else np.dtype("<u4")
        size = next(b for b in (8, 16, 32) if f.bits <= b) // 8
        return np.dtype(f"<{'i' if f.signed else 'u'}{size}")


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 300) -> str:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n"
                             f"{(p.stdout + p.stderr)[-4000:]}")
    return p.stdout


def _runner(d: Design, chunk: int) -> str:
    """run_NAME.c: the design's exhaustive run, in its own translation unit."""
    f = d.unit.in_format
    n, N = d.name, d.name.upper()
    first, last = ("0", f"{(1 << f.bits) - 1}u") if d.float_input else \
        (f"{N}_IN_MIN", f"{N}_IN_MAX")
    loop_t = "uint32_t" if d.float_input else "int32_t"
    probes = "" if d.float_input else f"""
    for (k = 0u; k < n_probes; k++) {{
        out[k] = {n}(probes[k]);
    }}
    sh_write(fd, out, n_probes * sizeof out[0]);"""
    return f"""#include <stddef.h>
#include <stdint.h>
#include "semihost.h"
#include "{d.directory / n}.h"

uint32_t run_{n}(const char *file, const int32_t *probes, size_t n_probes);

/* Every input code through {n}_array, {chunk} at a time, checked against {n}; the outputs
 * go to the host file; then the probes through {n}. Returns the mismatches. */
uint32_t run_{n}(const char *file, const int32_t *probes, size_t n_probes)
{{
    {d.types[0]} in[{chunk}];
    {d.types[1]} out[{chunk}];
    const int fd = sh_open(file, SH_WRITE_BINARY);
    {loop_t} c = {first};
    uint32_t bad = 0u;
    size_t k;
    (void)probes;
    (void)n_probes;
    for (;;) {{
        size_t m = 0u;
        int done = 0;
        while (m < {chunk}u && !done) {{
            in[m++] = ({d.types[0]})c;
            if (c == {last}) {{
                done = 1;
            }} else {{
                c++;
            }}
        }}
        {n}_array(in, out, m);
        for (k = 0u; k < m; k++) {{
            if (out[k] != {n}(in[k])) {{
                bad++;
            }}
        }}
        sh_write(fd, out, m * sizeof out[0]);
        if (done) {{
            break;
        }}
    }}{probes}
    sh_close(fd);
    return bad;
}}
"""


def _main(designs: list[Design]) -> str:
    decls = "\n".join(f"uint32_t run_{d.name}(const char *file, const int32_t *probes, "
                      f"size_t n_probes);" for d in designs)
    calls = "\n".join(f'    bad += run_{d.name}("{d.name}.bin", probes, {len(PROBES)}u);'
                      for d in designs)
    values = ", ".join(f"(-{-p - 1} - 1)" if p < 0 else str(p) for p in PROBES)
    return f"""#include <stddef.h>
#include <stdint.h>
#include "semihost.h"

{decls}

static const int32_t probes[{len(PROBES)}] = {{{values}}};

int main(void)
{{
    uint32_t bad = 0u;
{calls}
    return bad == 0u ? 0 : 1;
}}
"""


def io_types(unit: Any) -> tuple[str, str]:
    """(array element in, array element out) C types of an emitted design."""
    from actc.targets.c.activation import _io_types

    _, _, in_t, out_t = _io_types(unit)
    return in_t, out_t


@dataclass
class Image:
    """A built firmware image: the ELF, its board, and the objects per design."""

    elf: Path
    board: Board
    objects: dict[str, list[Path]]  # design name -> its objects (runner, and NAME.c if split)


def build_image(designs: list[Design], board: str, work: Path, chunk: int = 128) -> Image:
    """Cross-compile the designs and the runner into one image for ``board``."""
    b = BOARDS[board]
    work.mkdir(parents=True, exist_ok=True)
    cc = ["arm-none-eabi-gcc", *b.flags, *STRICT, "-Os", "-ffunction-sections",
          "-fdata-sections", "-I", str(HERE)]
    objects: dict[str, list[Path]] = {}
    for d in designs:
        src = work / f"run_{d.name}.c"
        src.write_text(_runner(d, chunk))
        objs = [work / f"run_{d.name}.o"]
        run([*cc, "-c", "-o", str(objs[0]), str(src)])
        if d.layout == "split":
            objs.append(work / f"{d.name}.o")
            run([*cc, "-c", "-o", str(objs[1]), str(d.directory / f"{d.name}.c")])
        objects[d.name] = objs
    main = work / "main.c"
    main.write_text(_main(designs))
    start_flags = [f for f in cc if f not in ("-pedantic", "-Wmissing-prototypes")]
    run([*start_flags, "-c", "-o", str(work / "main.o"), str(main)])
    run([*start_flags, "-c", "-o", str(work / "start.o"), str(HERE / "start.c")])
    elf = work / f"firmware_{board}.elf"
    run(["arm-none-eabi-gcc", *b.flags, "-nostartfiles", "-Wl,--gc-sections",
         f"-Wl,--defsym=FLASH_SIZE={b.flash}", f"-Wl,--defsym=RAM_SIZE={b.ram}",
         "-T", str(HERE / "cortexm.ld"), "-o", str(elf), str(work / "start.o"),
         str(work / "main.o"), *[str(o) for objs in objects.values() for o in objs],
         "-lc", "-lgcc"])
    return Image(elf, b, objects)


def run_image(image: Image, work: Path, timeout: float = 300, icount: bool = False) -> str:
    """Run the image under qemu-system-arm; the host files appear in ``work``. Returns the
    semihosting console output; raises when the firmware exits non-zero."""
    cmd = ["qemu-system-arm", "-M", image.board.machine, "-nographic", "-monitor", "none",
           "-serial", "none", "-semihosting-config", "enable=on,target=native",
           "-kernel", str(image.elf)]
    if icount:
        cmd[1:1] = ["-icount", "shift=0"]
    return run(cmd, cwd=work, timeout=timeout)


def outputs(design: Design, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """(outputs of every input code, outputs of the probes) the firmware wrote."""
    data = np.fromfile(work / f"{design.name}.bin", dtype=design.out_dtype()).astype(np.int64)
    n = len(design.codes())
    return data[:n], data[n:]


def undefined_symbols(obj: Path) -> list[str]:
    """Symbols an object references but does not define (arm-none-eabi-nm -u)."""
    out = run(["arm-none-eabi-nm", "-u", str(obj)])
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def section_sizes(obj: Path, tool: str = "arm-none-eabi-size") -> dict[str, int]:
    """{section: bytes} of an object or image (``size -A``)."""
    out = run([tool, "-A", str(obj)])
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes
