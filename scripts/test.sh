#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Quick start 2: install dependencies, build, and run every test:
# unit and end-to-end tests (the serve soak for TS_SOAK_SECONDS, 30 here),
# then the unit tests and the e2e tests that drive most of the userspace
# (capture files, report, serve, snapshot, hostile input, drops, pairing,
# CLI) again under ASan+UBSan, then the fuzz targets (clang, libFuzzer) for
# 20 s each, then the kernel matrix (scripts/kernel-matrix.sh: the e2e
# tests on Debian's 5.10, 6.1, 6.12 and newest kernels under qemu;
# TS_KERNEL_MATRIX=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# --bench: tests/e2e/test_bench_smoke.py runs the benchmark with its peers
# (bpftrace, libbpf-tools).
scripts/setup.sh --bench
scripts/build.sh build
scripts/build.sh build-asan -DTS_SANITIZE=ON
CC=clang scripts/build.sh build-fuzz -DTS_FUZZ=ON -DTS_FUZZ_SECONDS=20
status=0
ASAN_E2E='test_(capture_files|capture_roundtrip|capture_signals|capture_snapshot|hardening|report_limits|json_schema|drops|timeline_close|timeline_pair|cli_behaviour|serve_prometheus|snapshot|trace_basic|owner_forge)$'
(cd build && TS_SOAK_SECONDS=${TS_SOAK_SECONDS:-30} ctest --output-on-failure --timeout 300) || status=1
(cd build-asan && ctest --output-on-failure -L unit --timeout 600) || status=1
(cd build-asan && ctest --output-on-failure -L e2e -R "$ASAN_E2E" --timeout 600) || status=1
(cd build-fuzz && ctest --output-on-failure -L fuzz --timeout 300) || status=1
if [[ ${TS_KERNEL_MATRIX:-1} != 0 ]]; then
	scripts/kernel-matrix.sh --build build || status=1
fi
exit $status
