#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Snapshot benchmark: 'tcpscope snapshot' against ss and netstat at several
# socket counts, in one run, in namespaces this script creates and removes.
#
#   scripts/bench/snapshot.sh [--sizes "10000 50000 100000"] [--runs 7]
#                             [--out docs/BENCH_SNAPSHOT.md]
#
# For each size, a fresh namespace holds SIZE/2 loopback connections (both
# ends open: SIZE sockets) spread over several processes (at most 18000 fds
# each; the limit here is 20000).  Every tool runs inside the namespace
# through nsenter, output to /dev/null; runs alternate between the tools
# (A B C ... A B C ...) and the table gives the median wall time of each.
# Needs root, python3, ss (iproute2), netstat (net-tools), nsenter.
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes="10000 50000 100000"
runs=7
out=docs/BENCH_SNAPSHOT.md
while (($#)); do
	case "$1" in
	--sizes) sizes=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) echo "snapshot.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]?$ ]] || { echo "snapshot.sh: --runs must be 1..99" >&2; exit 2; }
for s in $sizes; do
	[[ $s =~ ^[0-9]+$ ]] && ((s >= 10 && s <= 400000)) ||
		{ echo "snapshot.sh: sizes must be 10..400000 sockets" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "snapshot.sh: needs root" >&2; exit 1; }
mkdir -p "$(dirname "$out")" && touch "$out" ||
	{ echo "snapshot.sh: cannot write $out" >&2; exit 1; }
TCPSCOPE=${TCPSCOPE:-build/tcpscope}
[[ -x $TCPSCOPE ]] || { echo "snapshot.sh: no $TCPSCOPE (run scripts/build.sh build)" >&2; exit 1; }
for t in ss netstat nsenter python3; do
	command -v "$t" >/dev/null || { echo "snapshot.sh: $t is missing (scripts/setup.sh)" >&2; exit 1; }
done

ns=""
holder=""
tmp=$(mktemp -d /tmp/tsbench.XXXXXX)
cleanup() {
	[[ -n $holder ]] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null || true
	[[ -n $ns ]] && ip netns del "$ns" 2>/dev/null || true
	[[ -x $TCPSCOPE ]] && "$TCPSCOPE" snapshot --unpin 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Indexes matter below: 0/1 default, 2/3 pinned, 4/5 ss.
tools=("tcpscope snapshot -an" "tcpscope snapshot -anp"
       "tcpscope snapshot -an --pin" "tcpscope snapshot -anp --pin"
       "ss -tan" "ss -tanp" "netstat -tan" "netstat -tanp")

# Median of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Wall time of one run in seconds.
time_one() {
	local t0 t1
	t0=$EPOCHREALTIME
	nsenter --net="/run/netns/$ns" "$@" >/dev/null 2>"$tmp/err" ||
		{ echo "snapshot.sh: '$*' failed: $(head -1 "$tmp/err")" >&2; exit 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}'
}

declare -A med
rows=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for size in $sizes; do
	conns=$((size / 2))
	procs=$(((2 * conns + 17999) / 18000))
	((procs < 2)) && procs=2
	ns=tsbench-$$-$size
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
	echo "snapshot.sh: $size sockets ($conns connections, $procs processes)..." >&2
	t0=$SECONDS
	ip netns exec "$ns" python3 scripts/bench/sockhold.py --conns "$conns" --procs "$procs" \
		--base-port 5000 --ready "$tmp/ready" --timeout 900 &
	holder=$!
	while [[ ! -e $tmp/ready ]]; do
		kill -0 "$holder" 2>/dev/null || { echo "snapshot.sh: socket holder died" >&2; exit 1; }
		((SECONDS - t0 < 600)) || { echo "snapshot.sh: sockets not ready in 600 s" >&2; exit 1; }
		sleep 0.2
	done
	have=$(nsenter --net="/run/netns/$ns" ss -tanH | wc -l)
	ours=$(($(nsenter --net="/run/netns/$ns" "$TCPSCOPE" snapshot -an | wc -l) - 2))
	[[ $ours -eq $have ]] || { echo "snapshot.sh: tcpscope shows $ours rows, ss $have" >&2; exit 1; }
	# --pin: the first run loads and pins, the timed ones reuse the pins.
	nsenter --net="/run/netns/$ns" "$TCPSCOPE" snapshot -anp --pin >/dev/null
	for ((i = 0; i < ${#tools[@]}; i++)); do : >"$tmp/t$i"; done
	for ((r = 0; r < runs; r++)); do
		for ((i = 0; i < ${#tools[@]}; i++)); do
			read -ra cmd <<<"${tools[$i]}"
			[[ ${cmd[0]} == tcpscope ]] && cmd[0]=$TCPSCOPE
			time_one "${cmd[@]}" >>"$tmp/t$i"
		done
	done
	for ((i = 0; i < ${#tools[@]}; i++)); do
		med[$size,$i]=$(median <"$tmp/t$i")
		echo "snapshot.sh:   ${tools[$i]}: ${med[$size,$i]} s" >&2
	done
	rows+=("$size:$have")
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	holder=""
	rm -f "$tmp"/ready*
	ip netns del "$ns"
	ns=""
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
{
	echo "<!-- bench:snapshot:begin (written by scripts/bench/snapshot.sh) -->"
	echo "\`scripts/bench/snapshot.sh --sizes \"$sizes\" --runs $runs\`, one run, $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "Machine: $cpu, $(nproc) cores, $mem RAM, Linux $(uname -r), fd limit $(ulimit -n)/process;"
	echo "$(ss -V 2>&1 | head -1), $(netstat -V 2>&1 | head -1); load average before the run: $load0."
	echo
	echo "Median wall time in seconds of $runs runs per tool (runs alternate between tools),"
	echo "output to /dev/null, every tool run inside the namespace through nsenter."
	echo "Sockets: loopback connections with both ends open, spread over several processes."
	echo
	printf "| sockets |"
	for t in "${tools[@]}"; do printf " \`%s\` |" "$t"; done
	echo " ss -tan ÷ -an | ss -tan ÷ -an --pin | ss -tanp ÷ -anp | ss -tanp ÷ -anp --pin |"
	printf "|---:|"
	for _ in "${tools[@]}"; do printf -- "---:|"; done
	echo "---:|---:|---:|---:|"
	for row in "${rows[@]}"; do
		size=${row%%:*}
		printf "| %s |" "${row#*:}"
		for ((i = 0; i < ${#tools[@]}; i++)); do printf " %s |" "${med[$size,$i]}"; done
		awk -v an="${med[$size,0]}" -v anp="${med[$size,1]}" -v pan="${med[$size,2]}" \
			-v panp="${med[$size,3]}" -v ss="${med[$size,4]}" -v ssp="${med[$size,5]}" \
			'BEGIN {printf " %.1fx | %.1fx | %.1fx | %.1fx |\n", ss / an, ss / pan, ssp / anp, ssp / panp}'
	done
	echo "<!-- bench:snapshot:end -->"
} >"$tmp/table.md"
# Replace the marked section of $out (text around it is kept), or start it.
python3 - "$out" "$tmp/table.md" <<'PY'
import sys
out, table = sys.argv[1], open(sys.argv[2]).read()
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
b, e = "<!-- bench:snapshot:begin", "<!-- bench:snapshot:end -->"
if b in text and e in text:
    head = text[:text.index(b)]
    tail = text[text.index(e) + len(e) + 1:]
    text = head + table + tail
else:
    text = (text or "# Snapshot benchmark\n\n") + table
open(out, "w").write(text)
PY
cat "$tmp/table.md"
