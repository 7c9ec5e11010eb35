#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Measure that `tcpscope trace --timeline` keeps flat memory over many
connections: churn N loopback connections in a fresh namespace (plus a few
that stay open, and with --max-conns small, many that never close) and
print the tracer's RSS after each slice.  A measurement, not a test.

usage: scripts/timeline-rss.py [--conns N] [--slices K] [--max-conns M]
       [--idle I]   (run as root from the source tree, after a build)"""
import argparse
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import tslib  # noqa: E402

CHURN = r"""
import socket, sys
n, idle = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(512)
port = l.getsockname()[1]
keep = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = l.accept()
    if i < idle:
        keep.append((c, s))          # never closed while tracing
        continue
    c.close(); s.recv(1); s.close()
print("done", flush=True)
sys.stdin.readline()
"""


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=20000)
    ap.add_argument("--slices", type=int, default=4)
    ap.add_argument("--max-conns", type=int, default=0)
    ap.add_argument("--idle", type=int, default=0,
                    help="connections per slice that stay open")
    a = ap.parse_args()
    with tslib.Netns("rss") as ns:
        argv = [tslib.TCPSCOPE, "trace", "--timeline", "--json", "--netns", ns.path]
        if a.max_conns:
            argv += ["--max-conns", str(a.max_conns)]
        out = open(os.devnull, "w")
        tr = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        per = a.conns // a.slices
        held = []
        print("slice  connections  tracer_rss_kb  seconds")
        for k in range(a.slices):
            t0 = time.monotonic()
            p = ns.popen(["python3", "-c", CHURN, str(per), str(a.idle)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            held.append(p)
            time.sleep(0.5)  # let the tracer drain and emit
            print("%5d  %11d  %13d  %7.2f" % (k + 1, per * (k + 1), rss_kb(tr.pid),
                                             time.monotonic() - t0))
        for p in held:
            p.stdin.write("\n")
            p.stdin.flush()
            p.wait(timeout=60)
        tr.send_signal(2)
        err = tr.communicate(timeout=60)[1]
        print(err.strip())


if __name__ == "__main__":
    main()
