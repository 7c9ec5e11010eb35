#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""accept() by io_uring (IORING_OP_ACCEPT: no accept system call).

A listener made by one process (listen() names it the listener's owner),
its connections accepted by another, build/tests/uring_accept, through
io_uring, in its three ways (inline, a request armed before the
connection, an io-wq worker).  Where tcpscope tells accept() by fexit on
inet_csk_accept() (tcpscope probe: accept_owner), that function runs for
io_uring's accepts too: each connection belongs to the acceptor from its
accept on, marked accepted, named by the process (an io-wq worker is
named iou-wrk-N; before 5.12 it was a kernel thread, and such a
connection keeps its listener's owner).  Where it uses the syscalls:
tracepoints, io_uring's accepts are not seen: the connections keep the
listener's owner and none is marked accepted (docs/DESIGN.md) — nothing
wrong is shown either way."""
import os
import subprocess

import ownkit
import tslib
from tslib import TestSkip, expect

PORT = 18090
CONNS = 9
HELPER = os.path.join(os.environ.get("TS_BUILD", "build"), "tests", "uring_accept")

# Runs in the namespace: listens, hands the socket to the helper, reports
# both pids, waits for the helper.
LISTENER = r"""
import socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d))
s.listen(16)
p = subprocess.Popen([sys.argv[1], str(s.fileno()), "%d", "%d"], pass_fds=[s.fileno()],
                     stdout=subprocess.PIPE, text=True)
ready = p.stdout.readline().strip()
print("pids %%d %%d %%s" %% (__import__("os").getpid(), p.pid, ready or "-"), flush=True)
out = p.stdout.read()
sys.exit(p.wait())
"""

CLIENT = r"""
import socket, sys, time
for i in range(%d):
    if i %% 3 == 1:
        time.sleep(0.3)  # the helper's request waits before it (armed poll)
    c = socket.create_connection(("127.0.0.1", %d), timeout=20)
    data = b""
    while not data.endswith(b"\n"):
        b = c.recv(16)
        if not b:
            break
        data += b
    assert data == b"ok\n", data
    c.close()
"""


def test_uring_accept():
    expect(os.path.exists(HELPER), "missing %s (build the tests)" % HELPER)
    via = tslib.probe().get("accept_owner")
    expect(via in ("fexit", "syscalls"), "probe: accept_owner %r" % via)
    with tslib.Netns("urg") as ns:
        tr = lst = None
        try:
            tr = tslib.Tracer("--port", str(PORT))
            lst = ns.popen(["python3", "-c", LISTENER % (PORT, CONNS, int(30 * tslib.TIME_SCALE)),
                            HELPER], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
            first = lst.stdout.readline().split()
            if len(first) == 4 and first[3] == "-":
                lst.wait(timeout=30)
                err = lst.stderr.read()
                if lst.returncode == 3:
                    raise TestSkip("io_uring unavailable here: %s" % err.strip())
            expect(len(first) == 4 and first[3] == "ready",
                   "listener: %s %s" % (first, lst.stderr.read() if lst.poll() is not None else ""))
            lpid, hpid = int(first[1]), int(first[2])
            ns.run(["python3", "-c", CLIENT % (CONNS, PORT)], timeout=60)
            lst.wait(timeout=30 * tslib.TIME_SCALE)
            expect(lst.returncode == 0, "helper: rc %s %s" % (lst.returncode, lst.stderr.read()))
            recs = tr.stop()
            err = tr.stderr()
            ino = ns.inode()
        finally:
            if lst and lst.poll() is None:
                lst.kill()
                lst.wait(timeout=10)
            if tr:
                tr.kill()
    ownkit.expect_accept_programs(err, via)
    conns = ownkit.passive(recs, PORT, ino)
    expect(len(conns) == CONNS, "expected %d passive connections, got %d: %s"
           % (CONNS, len(conns), [tslib.transitions(c) for c in conns.values()]))
    # The client connects one at a time: connection i is the i-th born.
    for i, c in enumerate(sorted(conns.values(), key=lambda c: c[0]["ts_ns"])):
        expect(c[-1]["to"] == "CLOSE", "not closed: %s" % tslib.transitions(c))
        before = [r for r in c if not r["accepted"]]
        after = [r for r in c if r["accepted"]]
        expect(all(r["pid"] == lpid for r in before),
               "before accept(): the listener's owner %d, got %s" % (lpid, {r["pid"] for r in before}))
        by_acceptor = after and all(r["pid"] == hpid and r["comm"] == "uring_accept"
                                    for r in after)
        if via == "syscalls":
            expect(not after, "io_uring's accept is not seen by the syscall tracepoints, "
                   "yet records are marked accepted: %s" % after)
        elif i % 3 < 2:
            # In the helper's own task: inline, or its task work.
            expect(by_acceptor, "connection %d, io_uring's accept by %d (fexit): after it %s, %s"
                   % (i, hpid, {(r["pid"], r["comm"]) for r in after}, tslib.transitions(c)))
        else:
            # An io-wq worker: the helper's thread (5.12+), named by the
            # process; before, a kernel thread, which leaves the listener's.
            expect(by_acceptor or not after,
                   "connection %d, accepted by an io-wq worker: %s, %s"
                   % (i, {(r["pid"], r["comm"]) for r in after}, tslib.transitions(c)))


if __name__ == "__main__":
    tslib.main([test_uring_accept])
