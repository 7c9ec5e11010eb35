#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Quick start 2: install dependencies, build, and run every test:
# unit and end-to-end tests, then both again under ASan+UBSan (the e2e
# suite drives the sanitized tracer; benchmarks, soak and package tests are
# left out there), then the fuzz targets (clang, libFuzzer) for 20 s each
# (60 s in all), then the kernel matrix (scripts/kernel-matrix.sh: the e2e
# tests on Debian's 5.10, 6.1, 6.12 and newest kernels under qemu;
# TS_KERNEL_MATRIX=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
scripts/build.sh build-asan -DTS_SANITIZE=ON
CC=clang scripts/build.sh build-fuzz -DTS_FUZZ=ON -DTS_FUZZ_SECONDS=20
status=0
(cd build && ctest --output-on-failure --timeout 300) || status=1
(cd build-asan && ctest --output-on-failure -L 'unit|e2e' --timeout 600) || status=1
(cd build-fuzz && ctest --output-on-failure -L fuzz --timeout 300) || status=1
if [[ ${TS_KERNEL_MATRIX:-1} != 0 ]]; then
	scripts/kernel-matrix.sh --build build || status=1
fi
exit $status
