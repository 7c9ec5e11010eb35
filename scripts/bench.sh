#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The tcpscope benchmark, in one command (as root):
#   scripts/bench.sh                         measure, print the tables
#   scripts/bench.sh --docs docs/BENCHMARKS.md   ... and write them into the docs
#   scripts/bench.sh --quick                 seconds: proves the script works
# Builds first (skip with TS_BENCH_NO_BUILD=1); TS_BUILD picks the build
# directory (default build/).  Options are scripts/bench/bench.py's (--help).
# See docs/BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TS_BUILD:-$root/build}

if [[ $(id -u) -ne 0 ]]; then
	echo "bench: needs root (BPF, network namespaces): run it with sudo" >&2
	exit 1
fi
if [[ -z "${TS_BENCH_NO_BUILD:-}" ]]; then
	# bpftrace is the peer the tables compare with (Debian package).
	"$root/scripts/setup.sh" --bench
	"$root/scripts/build.sh" "$build" >/dev/null
else
	# Still make sure bpffs and tracefs are there.
	mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
	[[ -d /sys/kernel/tracing/events ]] ||
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
export TS_BUILD=$build
exec python3 "$root/scripts/bench/bench.py" "$@"
