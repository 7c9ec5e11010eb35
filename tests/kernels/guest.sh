#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs inside a kernel-matrix guest, chrooted into the host's root (read-only
# over 9p, tmpfs on /tmp, /run, /root, /var/tmp).  $1 is the plan that
# scripts/kernel-matrix.sh wrote: shell assignments (TCPSCOPE, TS_BUILD,
# TS_SRC, TS_TEST_TIMEOUT) and one TESTS line of "file[:fn,fn...]" entries.
# Everything printed goes to the host through the guest's second serial port.
set -u
plan=$1
# shellcheck source=/dev/null
. "$plan"
export TCPSCOPE TS_BUILD TS_SRC
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8 TERM=dumb
# A test that needs what this kernel lacks (by tcpscope's probe) skips.
export TS_ALLOW_SKIP=1
# Emulation is slow: whole-program budgets (the benchmark harness) scale.
export TS_TIME_SCALE=6
# Tests of a file that check this machine rather than the kernel.
export TS_HOST_ONLY=$TS_SRC/tests/kernels/host-only.list
mkdir -p /run/netns
ip link set lo up

echo "TSKERNEL $(uname -r)"
# What tcpscope itself finds on this kernel: the same probes decide the
# variant it loads and which tests skip.
# Tests read it from TS_PROBE_FILE rather than probing again (a probe
# loads every program: seconds under emulation, for each test file).
"$TCPSCOPE" probe --json >/tmp/ts-probe.json 2>/dev/null
[[ -s /tmp/ts-probe.json ]] && export TS_PROBE_FILE=/tmp/ts-probe.json
echo "TSPROBE $(tr -d "\n" </tmp/ts-probe.json)"
for t in $TESTS; do
	file=${t%%:*}
	only=
	[[ $t == *:* ]] && only=${t#*:}
	echo "TSBEGIN $file"
	start=$(date +%s)
	script=$TS_SRC/tests/e2e/$file.py
	# A path runs that script (to look at something inside a guest).
	[[ $file == /* ]] && script=$file
	TS_ONLY=$only timeout -k 10 "$TS_TEST_TIMEOUT" python3 "$script" 2>&1
	rc=$?
	echo "TSEND $file rc=$rc secs=$(($(date +%s) - start))"
done
# Nothing may be left behind: namespaces the tests made are gone.
left=$(ip netns list 2>/dev/null | grep -c '^ts-')
echo "TSLEFT netns=$left"
echo "TSDONE"
