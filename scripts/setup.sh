#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install tcpscope's Debian build and test dependencies (as root).
# Quiet and quick when everything is already there.
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang llvm libbpf-dev bpftool time
      libelf-dev zlib1g-dev libzstd-dev iproute2 nftables python3 net-tools netbase
      util-linux man-db groff-base libclang-rt-14-dev
      libmicrohttpd-dev prometheus python3-jsonschema dpkg-dev file systemd
      qemu-system-x86 busybox-static cpio kmod xz-utils zstd
      nginx-light redis-server curl chromium)
# (qemu-system-x86 ... zstd are for scripts/kernel-matrix.sh: Debian's
# kernels under qemu, an initramfs of busybox and modules; nginx-light,
# redis-server and curl for the owner tests; chromium opens the HTML page
# of 'report --html' in tests/e2e/test_pictures.py)
# --bench: the peers scripts/bench.sh compares with, bpftrace and
# libbpf-tools (bcc's tcpstates and tcplife, packaged), and perf for its
# profiles of where a traced churn's CPU went.
if [[ "${1:-}" == "--bench" ]]; then
	PKGS+=(bpftrace libbpf-tools linux-perf)
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs and tracefs may be unmounted on minimal systems.
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
[[ -d /sys/kernel/tracing/events ]] ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
