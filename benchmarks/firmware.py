"""Issue 10 firmware figures: the emitted C of every method, sigmoid and tanh, at 8 and 16
bits, on Cortex-M0 and Cortex-M4.

    python benchmarks/firmware.py [--functions sigmoid,tanh]

Formats: 8 bits as TFLite Micro's int8 kernels want them (input s8 with scale 1/16, so
[-8, 8); logistic output scale 1/256 zero point -128, tanh output scale 1/128), 16 bits as
CMSIS-NN's ``arm_nn_activation_s16`` (input s16.12, output s16.15).

Per design and core (arm-none-eabi-gcc 12, -Os, -mcpu=cortex-m0 / cortex-m4 -mfloat-abi=hard,
the default header layout):

- ``text``, ``rodata``: bytes a user links for the batch call: a translation unit whose only
  function calls ``NAME_array``, linked with ``--gc-sections`` and that function as entry
  (arm-none-eabi-size -A of the result: runtime helpers and alignment padding included);
- ``insn``: instructions per element through ``NAME_array`` on 256 codes at a time, under
  qemu-system-arm with ``-icount shift=0`` (one instruction = 1 ns of virtual time) timed by
  SysTick and calibrated against a loop of known length (boards microbit for the M0,
  mps2-an386 for the M4; every input code, 8-bit designs 64 times over). qemu counts
  instructions, not cycles: on a real Cortex-M0/M4 loads take 2 cycles and taken branches
  more than one, so cycles exceed these counts (not measured here). Under -icount the counts are
  deterministic (two runs give identical figures), so one run is enough;
- ``max``, ``mean``: error in output LSBs over every input code against the true function;
  the outputs the firmware wrote are checked against actc's evaluator on every code.

Results: benchmarks/results/firmware.json and firmware.txt. The CMSIS-NN and TFLite Micro
rows of firmware.txt come from benchmarks/results/firmware_baselines.json, measured with
this script's harness (``measure``) on those libraries built the same way, outside this
repository (their code is not part of actc; the file says how).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from _util import RESULTS, save  # noqa: E402

from tests.firmware import BOARDS, HERE, STRICT, run, section_sizes  # noqa: E402

FORMATS = {
    ("sigmoid", 8): ("s8:0.0625:0", "s8:0.00390625:-128"),
    ("tanh", 8): ("s8:0.0625:0", "s8:0.0078125:0"),
    ("sigmoid", 16): ("s16.12", "s16.15"),
    ("tanh", 16): ("s16.12", "s16.15"),
}

# (label, compile options) per width: the methods' defaults, and at 16 bits also sizes near
# CMSIS-NN's 512-byte table (uniform-64i, optimal-64); threshold would need 2^16 - 1
# thresholds at 16 bits
METHODS = {
    8: [("table", {}), ("uniform-32", dict(method="uniform", entries=32)),
        ("uniform-16i", dict(method="uniform", entries=16, interpolate=True)),
        ("geba", dict(method="geba")), ("optimal", dict(method="optimal")),
        ("grau-apot2", dict(method="grau", slopes="apot2")),
        ("threshold", dict(method="threshold"))],
    16: [("table", {}), ("uniform-256", dict(method="uniform", entries=256)),
         ("uniform-64i", dict(method="uniform", entries=64, interpolate=True)),
         ("uniform-256i", dict(method="uniform", entries=256, interpolate=True)),
         ("geba", dict(method="geba")), ("optimal-64", dict(method="optimal", entries=64)),
         ("grau-apot2-32", dict(method="grau", slopes="apot2", segments=32))],
}

CHUNK = 256


@dataclass
class Subject:
    """A batch function to measure: ``call`` is C calling it on (in, out, n); ``prelude``
    the C that declares it; ``sources`` the files that define it."""

    name: str
    prelude: str
    call: str
    in_t: str
    out_t: str
    codes: np.ndarray
    sources: list[Path] = field(default_factory=list)
    include: list[Path] = field(default_factory=list)
    cxx: bool = False  # the wrapper calls C++ (the wrapper is then C++ with C linkage)
    strict: bool = True  # build with actc's warning flags (third-party code: without)
    defines: list[str] = field(default_factory=list)  # -D flags for every source


def _flags(board: str, cxx: bool = False, strict: bool = True) -> list[str]:
    b = BOARDS[board]
    common = ["-Os", "-ffunction-sections", "-fdata-sections"]
    if cxx:
        return ["arm-none-eabi-g++", *b.flags, "-std=c++17", "-fno-exceptions", "-fno-rtti",
                *common]
    return ["arm-none-eabi-gcc", *b.flags, *(STRICT if strict else ["-std=c99"]), *common]


def _compile(s: Subject, board: str, work: Path) -> list[Path]:
    """The subject's bench_NAME wrapper and sources as objects."""
    inc = [f"-I{p}" for p in s.include] + [f"-D{d}" for d in s.defines]
    wrapper = work / f"bench_{s.name}.c"
    linkage = 'extern "C" ' if s.cxx else ""
    wrapper.write_text(f"""#include <stddef.h>
#include <stdint.h>
{s.prelude}
{linkage}void bench_{s.name}(const {s.in_t} *in, {s.out_t} *out, size_t n);
{linkage}void bench_{s.name}(const {s.in_t} *in, {s.out_t} *out, size_t n)
{{
    {s.call};
}}
""")
    objs = [work / f"bench_{s.name}.o"]
    run([*_flags(board, s.cxx, s.strict), *inc, "-c", "-o", str(objs[0]), "-x",
         "c++" if s.cxx else "c", str(wrapper)])
    for src in s.sources:  # a source several subjects share is compiled (and linked) once
        objs.append(work / f"src_{abs(hash(str(src)))}.o")
        if not objs[-1].exists():
            cxx = src.suffix in (".cc", ".cpp")
            run([*_flags(board, cxx, s.strict), *inc, "-c", "-o", str(objs[-1]), str(src)])
    return objs


def sizes(s: Subject, board: str, objs: list[Path], work: Path) -> dict[str, int]:
    """.text and .rodata of what the batch call links (entry bench_NAME, --gc-sections)."""
    elf = work / f"size_{s.name}.elf"
    run(["arm-none-eabi-gcc", *BOARDS[board].flags, "-nostartfiles", "-Wl,--gc-sections",
         f"-Wl,-e,bench_{s.name}", "-o", str(elf), *map(str, objs), "-lc", "-lgcc"])
    sec = section_sizes(elf)
    return {"text": sum(v for k, v in sec.items() if k.startswith(".text")),
            "rodata": sum(v for k, v in sec.items() if k.startswith(".rodata"))}


def _timer(subjects: list[Subject]) -> str:
    """main.c: SysTick calibration, then each subject on every code, timed per call."""
    parts = ["#include <stddef.h>", "#include <stdint.h>", '#include "semihost.h"', "",
             "#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)",
             "#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)",
             "#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)",
             "#define BARRIER() __asm__ volatile(\"\" ::: \"memory\")", "",
             "static void put(int fd, uint32_t v)", "{", "    char b[12];", "    int i = 11;",
             "    b[i] = '\\n';", "    do {", "        b[--i] = (char)('0' + v % 10u);",
             "        v /= 10u;", "    } while (v != 0u);",
             "    sh_write(fd, b + i, (size_t)(12 - i));", "}", "",
             "/* ticks for 2 * n instructions (subs + bne) */",
             "static uint32_t calibrate(uint32_t n)", "{", "    uint32_t t0, t1;",
             "    t0 = SYST_CVR;",
             "    __asm__ volatile(\"1: subs %0, %0, #1\\n\\tbne 1b\" : \"+l\"(n) : : \"cc\");",
             "    t1 = SYST_CVR;", "    return (t0 - t1) & 0xFFFFFFu;", "}", ""]
    for s in subjects:
        lo, hi = int(s.codes[0]), int(s.codes[-1])
        assert np.array_equal(s.codes, np.arange(lo, hi + 1))
        repeat = max(1, (1 << 16) // len(s.codes))
        parts.append(f"void bench_{s.name}(const {s.in_t} *in, {s.out_t} *out, size_t n);")
        parts.append(f"""static uint32_t time_{s.name}(int fd)
{{
    {s.in_t} in[{CHUNK}];
    {s.out_t} out[{CHUNK}];
    uint32_t ticks = 0u;
    uint32_t r;
    for (r = 0u; r < {repeat}u; r++) {{
        int32_t c = {lo};
        while (c <= {hi}) {{
            size_t m = 0u;
            uint32_t t0, t1;
            while (m < {CHUNK}u && c <= {hi}) {{
                in[m++] = ({s.in_t})c;
                c++;
            }}
            BARRIER();
            t0 = SYST_CVR;
            BARRIER();
            bench_{s.name}(in, out, m);
            BARRIER();
            t1 = SYST_CVR;
            ticks += (t0 - t1) & 0xFFFFFFu;
            if (r == 0u) {{
                sh_write(fd, out, m * sizeof out[0]);
            }}
        }}
    }}
    return ticks;
}}
""")
    parts.append("int main(void)\n{\n    const int log = sh_open(\"timing.txt\", 4);")
    parts.append("    SYST_RVR = 0xFFFFFFu;\n    SYST_CVR = 0u;\n    SYST_CSR = 5u;")
    parts.append("    put(log, calibrate(200000u));")
    for s in subjects:
        parts.append(f'    {{\n        const int fd = sh_open("{s.name}.bin", SH_WRITE_BINARY);'
                     f"\n        put(log, time_{s.name}(fd));\n        sh_close(fd);\n    }}")
    parts.append("    sh_close(log);\n    return 0;\n}\n")
    return "\n".join(parts)


def measure(subjects: list[Subject], board: str) -> dict[str, dict]:
    """Sizes, instructions per element and the outputs (every code, in order) of each
    subject on one core."""
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="actc-fw-") as tmp:
        work = Path(tmp)
        objects: list[Path] = []
        for s in subjects:
            objs = _compile(s, board, work)
            out[s.name] = sizes(s, board, objs, work)
            objects += [o for o in objs if o not in objects]
        main = work / "main.c"
        main.write_text(_timer(subjects))
        b = BOARDS[board]
        cc = ["arm-none-eabi-gcc", *b.flags, "-std=c99", "-Os", "-masm-syntax-unified", "-I",
              str(HERE)]
        run([*cc, "-c", "-o", str(work / "main.o"), str(main)])
        run([*cc, "-c", "-o", str(work / "start.o"), str(HERE / "start.c")])
        elf = work / "timing.elf"
        run(["arm-none-eabi-g++" if any(s.cxx for s in subjects) else "arm-none-eabi-gcc",
             *b.flags, "-nostartfiles", "-Wl,--gc-sections",
             f"-Wl,--defsym=FLASH_SIZE={b.flash}", f"-Wl,--defsym=RAM_SIZE={b.ram}",
             "-T", str(HERE / "cortexm.ld"), "-o", str(elf), str(work / "start.o"),
             str(work / "main.o"), *map(str, objects), "-lc", "-lgcc"])
        run(["qemu-system-arm", "-icount", "shift=0", "-M", b.machine, "-nographic",
             "-monitor", "none", "-serial", "none", "-semihosting-config",
             "enable=on,target=native", "-kernel", str(elf)], cwd=work, timeout=600)
        lines = [int(x) for x in (work / "timing.txt").read_text().split()]
        per_tick = 400000 / lines[0]  # instructions per SysTick tick
        for s, ticks in zip(subjects, lines[1:]):
            repeat = max(1, (1 << 16) // len(s.codes))
            bits = int(s.out_t.removeprefix("u").removeprefix("int").removesuffix("_t"))
            dtype = np.dtype(f"<{'u' if s.out_t.startswith('u') else 'i'}{bits // 8}")
            out[s.name].update(
                insn=ticks * per_tick / (repeat * len(s.codes)),
                outputs=np.fromfile(work / f"{s.name}.bin", dtype=dtype).astype(np.int64))
    return out


def actc_subject(name: str, unit, directory: Path) -> Subject:
    from actc.targets.c.activation import _io_types

    _, _, in_t, out_t = _io_types(unit)
    f = unit.in_format
    return Subject(name, f'#include "{directory / name}.h"', f"{name}_array(in, out, n)",
                   in_t, out_t, np.arange(f.code_min, f.code_max + 1))


def table(rows: list[dict], baselines: list[dict] | None) -> str:
    head = ("| function | bits | method | M0 .text | M0 .rodata | M0 insn/elem | M4 .text | "
            "M4 .rodata | M4 insn/elem | max LSB | mean LSB |")
    lines = [head, "|" + "---|" * 11]
    for r in [*rows, *(baselines or [])]:
        m0, m4 = r["m0"], r["m4"]
        lines.append(f"| {r['function']} | {r['bits']} | {r['method']} | {m0['text']} | "
                     f"{m0['rodata']} | {m0['insn']:.1f} | {m4['text']} | {m4['rodata']} | "
                     f"{m4['insn']:.1f} | {r['max_lsb']:.3f} | {r['mean_lsb']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--functions", default="sigmoid,tanh")
    args = ap.parse_args()
    import actc
    from actc.activation.evaluate import evaluate

    rows, subjects, units = [], [], {}
    with tempfile.TemporaryDirectory(prefix="actc-designs-") as tmp:
        for fn in args.functions.split(","):
            for bits in (8, 16):
                fi, fo = FORMATS[(fn, bits)]
                for label, opts in METHODS[bits]:
                    name = f"{fn}{bits}_{label.replace('-', '_')}"
                    r = actc.compile(f"{fn}(x)", target="c", in_format=fi, out_format=fo,
                                     name=name, **opts)
                    r.write(Path(tmp) / name)
                    subjects.append(actc_subject(name, r.unit, Path(tmp) / name))
                    units[name] = r.unit
                    rows.append({"function": fn, "bits": bits, "method": label, "name": name,
                                 "formats": [fi, fo], "max_lsb": r.error["max_lsb"],
                                 "mean_lsb": r.error["mean_lsb"],
                                 "c_bytes": r.manifest["storage"]["c_bytes"],
                                 "memory_bits": r.manifest["memory_bits"]})
                    print(f"compiled {name}", flush=True)
        for board in BOARDS:
            got = measure(subjects, board)
            for row, s in zip(rows, subjects):
                m = got[s.name]
                assert np.array_equal(m.pop("outputs"), evaluate(units[s.name], s.codes)), \
                    f"{s.name} on {board} differs from the evaluator"
                row[board] = m
            print(f"measured on {BOARDS[board].name}", flush=True)
    path = RESULTS / "firmware_baselines.json"
    baselines = json.loads(path.read_text())["rows"] if path.exists() else None
    text = table(rows, baselines)
    if baselines:
        text += "\n" + json.loads(path.read_text())["note"] + "\n"
    save("firmware", {"toolchain": run(["arm-none-eabi-gcc", "--version"]).splitlines()[0],
                      "qemu": run(["qemu-system-arm", "--version"]).splitlines()[0],
                      "rows": rows})
    (RESULTS / "firmware.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
