#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Fuzz the capture reader for longer than the test suite does:
#   scripts/fuzz.sh [SECONDS]   (default 600)
# Builds build-fuzz with clang and libFuzzer; the corpus grows in
# build-fuzz/tests/corpus/, crashes land in build-fuzz/tests/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number" >&2; exit 2; }
CC=clang scripts/build.sh build-fuzz -DTS_FUZZ=ON
status=0
for t in build-fuzz/tests/fuzz_*; do
	[[ -x "$t" ]] || continue
	n=$(basename "$t")
	seeds=build-fuzz/tests/seeds/$n
	corpus=build-fuzz/tests/corpus/$n
	mkdir -p "$corpus"
	python3 tests/fuzz/mkseeds.py "$seeds"
	echo "fuzz: $n for ${secs}s" >&2
	"$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=build-fuzz/tests/ \
		"$corpus" "$seeds" || status=1
done
exit $status
