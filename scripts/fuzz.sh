#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Fuzz for longer than the test suite does, every target in turn:
#   scripts/fuzz.sh [SECONDS [TARGET]]   (default 600 s each, all targets)
# fuzz_capfile: the whole report path (reader, tracker, every sink);
# fuzz_parse: option parsers and the escaping of untrusted strings.
# Builds build-fuzz with clang and libFuzzer, runs under nice; the corpus
# grows in build-fuzz/tests/corpus/ (tests/fuzz/corpus/ is the small one
# kept in the repository), crashes land in build-fuzz/tests/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
only=${2:-}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number" >&2; exit 2; }
CC=clang scripts/build.sh build-fuzz -DTS_FUZZ=ON
status=0
for t in build-fuzz/tests/fuzz_*; do
	[[ -x "$t" ]] || continue
	n=$(basename "$t")
	[[ -z "$only" || "$only" == "$n" ]] || continue
	seeds=build-fuzz/tests/seeds/$n
	corpus=build-fuzz/tests/corpus/$n
	mkdir -p "$corpus"
	python3 tests/fuzz/mkseeds.py "$seeds" "$n"
	echo "fuzz: $n for ${secs}s" >&2
	nice "$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -close_fd_mask=2 \
		-print_final_stats=1 -artifact_prefix=build-fuzz/tests/ \
		"$corpus" "$seeds" "tests/fuzz/corpus/$n" || status=1
done
exit $status
