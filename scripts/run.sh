#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Quick start 1: install dependencies, build, and run 'tcpscope trace'.
# Arguments are passed to tcpscope (default: trace).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build >&2
if (($# == 0)); then
	set -- trace
fi
exec build/tcpscope "$@"
