#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Build the .deb (binary, man page, systemd unit, bash completion, docs)
# with CPack into build-pkg/ (or $1); prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-pkg}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_INSTALL_PREFIX=/usr -DTS_E2E=OFF >/dev/null
cmake --build "$dir" -j"${TS_JOBS:-2}" --target tcpscope >/dev/null
(cd "$dir" && cpack -G DEB >/dev/null 2>&1) || { echo "package: cpack failed (run cpack -G DEB in $dir)" >&2; exit 1; }
(cd "$dir" && ls "$PWD"/tcpscope_*.deb)
