#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What the owner programs of issue 12 cost in the kernel: nginx (a master,
# two workers) in a namespace of its own answers N HTTP/1.0 requests (one
# connection each, accept()ed by a worker) while 'tcpscope trace --port'
# runs; bpftool's per-program run time (kernel.bpf_stats_enabled, switched
# on for the run only) gives the average cost of each program the tracer
# loaded.  Compare two builds:  owners.sh BUILD_A/tcpscope BUILD_B/tcpscope
# Needs root, nginx-light, bpftool.  Everything is removed at the end.
set -euo pipefail

N=${N:-3000}
PORT=${PORT:-18181}
ROUNDS=${ROUNDS:-3}
(($# >= 1)) || { echo "usage: $0 TCPSCOPE [TCPSCOPE...]" >&2; exit 2; }

stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
D=$(mktemp -d)
NS=tsownbench-$$
cleanup() {
	[[ -n "${NPID:-}" ]] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	echo "$stats_before" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$D"
}
trap cleanup EXIT

cat >"$D/nginx.conf" <<EOC
worker_processes 2; daemon off; pid $D/nginx.pid; error_log $D/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $D/b; proxy_temp_path $D/p;
  fastcgi_temp_path $D/f; uwsgi_temp_path $D/u; scgi_temp_path $D/s;
  keepalive_timeout 0;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } } }
EOC
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" nginx -c "$D/nginx.conf" -p "$D" &
NPID=$!
sleep 1
echo 1 >/proc/sys/kernel/bpf_stats_enabled

for ((r = 1; r <= ROUNDS; r++)); do
	for bin in "$@"; do
		bpftool prog show -j >"$D/before.json"
		"$bin" trace --port "$PORT" -d 120 >/dev/null 2>"$D/err" &
		tpid=$!
		timeout 20 bash -c "until grep -q 'tracing (' '$D/err' 2>/dev/null || grep -q . '$D/err'; do sleep 0.1; done" || true
		sleep 1
		ip netns exec "$NS" python3 -c '
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
' "$N" "$PORT"
		bpftool prog show -j >"$D/after.json"
		kill -INT "$tpid"
		wait "$tpid" || true
		# Programs that appeared with this tracer (another tracer
		# started meanwhile on a shared machine would be counted too).
		python3 - "$D/before.json" "$D/after.json" "$bin" "$r" <<'EOP'
import json, sys
old = {p["id"] for p in json.load(open(sys.argv[1]))}
for p in json.load(open(sys.argv[2])):
    if p["id"] in old or not p.get("run_cnt"):
        continue
    print("round %s  %-40s %-12s runs %7d  avg %5.0f ns"
          % (sys.argv[4], sys.argv[3], p.get("name", "?"), p["run_cnt"],
             p["run_time_ns"] / p["run_cnt"]))
EOP
	done
done
