#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# CO-RE relocates every field access at load time, so one header built on
# a recent kernel serves older ones too.
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(uname -m)" in
x86_64) arch=x86 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac
btf=${1:-/sys/kernel/btf/vmlinux}
mkdir -p "vmlinux/$arch"
bpftool btf dump file "$btf" format c >"vmlinux/$arch/vmlinux.h"
echo "vmlinux/$arch/vmlinux.h from $btf ($(uname -r))"
