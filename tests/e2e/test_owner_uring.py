#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""accept() by io_uring (IORING_OP_ACCEPT: no accept system call).

A listener made by one process (listen() names it the listener's owner),
its connections accepted by another, build/tests/uring_accept, through
io_uring.  Where tcpscope tells accept() by fexit on inet_csk_accept()
(tcpscope probe: accept_owner), that function runs for io_uring's accepts
too: every connection belongs to the acceptor from its accept on, marked
accepted.  Where it uses the syscalls: tracepoints, io_uring's accepts are
not seen: the connections keep the listener's owner and none is marked
accepted (docs/DESIGN.md) — nothing wrong is shown either way."""
import os
import subprocess

import ownkit
import tslib
from tslib import TestSkip, expect

PORT = 18090
CONNS = 6
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
import socket, sys
for i in range(%d):
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
            tr = tslib.Tracer("-v", "--port", str(PORT))
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
            ns.run(["python3", "-c", CLIENT % (CONNS, PORT)], timeout=60 * tslib.TIME_SCALE)
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
    expect(("attached fexit inet_csk_accept()" in err) == (via == "fexit"),
           "accept() by %s expected; -v: %s" % (via, err))
    conns = ownkit.passive(recs, PORT, ino)
    expect(len(conns) == CONNS, "expected %d passive connections, got %d: %s"
           % (CONNS, len(conns), [tslib.transitions(c) for c in conns.values()]))
    for c in conns.values():
        expect(c[-1]["to"] == "CLOSE", "not closed: %s" % tslib.transitions(c))
        before = [r for r in c if not r["accepted"]]
        after = [r for r in c if r["accepted"]]
        expect(all(r["pid"] == lpid for r in before),
               "before accept(): the listener's owner %d, got %s" % (lpid, {r["pid"] for r in before}))
        if via == "fexit":
            expect(after and all(r["pid"] == hpid for r in after),
                   "io_uring's accept by %d (fexit): after it %s, %s"
                   % (hpid, {r["pid"] for r in after}, tslib.transitions(c)))
        else:
            expect(not after, "io_uring's accept is not seen by the syscall tracepoints, "
                   "yet records are marked accepted: %s" % after)


if __name__ == "__main__":
    tslib.main([test_uring_accept])
