#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Tracing starts with one snapshot of the sockets, taken once the
programs are attached: 'trace -w FILE --snapshot' walks the iterators once
(-v says so once), and that snapshot seeds the listener's owner, is the
table --snapshot prints and the capture's initial snapshot.  Without a
drop, /proc/kallsyms is not read."""
import json
import os
import subprocess
import tempfile

import capkit
import tslib
from tslib import expect

# Holds a listener open until GO appears; bounded by a 20 s wait.
HOLDER = r"""
import os, socket, sys, time
go = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
deadline = time.monotonic() + 20
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
s.close()
"""


def iter_walks(stderr):
    return sum(1 for line in stderr.splitlines() if line.startswith("tcpscope: iter/tcp:"))


def test_one_snapshot():
    tmp = tempfile.mkdtemp(prefix="tsstartup")
    go = os.path.join(tmp, "go")
    cap = os.path.join(tmp, "t.tcap")
    rec = os.path.join(tmp, "r.tcap")
    with tslib.Netns("startup") as ns:
        holder = ns.popen(["python3", "-c", HOLDER, go], stdout=subprocess.PIPE, text=True)
        try:
            port = int(holder.stdout.readline())
            r = tslib.run([tslib.TCPSCOPE, "trace", "-v", "--json", "--snapshot", "-w", cap,
                           "-d", "1", "--netns", ns.path], timeout=60)
            expect(iter_walks(r.stderr) == 1,
                   "trace -w --snapshot walked iter/tcp %d times:\n%s"
                   % (iter_walks(r.stderr), r.stderr))
            expect("owners of 1 existing listening sockets" in r.stderr,
                   "listener not seeded from the snapshot:\n%s" % r.stderr)
            socks = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
            socks = [s for s in socks if s.get("event") == "socket"]
            expect([(s["sport"], s["pid"]) for s in socks] == [(port, holder.pid)],
                   "--snapshot table %s, expected port %d pid %d" % (socks, port, holder.pid))
            at, _ = capkit.report_json(cap, "--at", "+0s")
            at = [s for s in at if s["event"] == "socket"]
            # The ids agree where they are socket cookies (tcpscope probe);
            # without cookies (before 5.12) each view numbers on its own.
            cookies = tslib.probe()["socket_cookies"]
            expect([(s["sport"], s["pid"], s["conn"] if cookies else None) for s in at] ==
                   [(port, holder.pid, socks[0]["conn"] if cookies else None)],
                   "capture snapshot %s differs from the --snapshot table %s" % (at, socks))

            r = tslib.run([tslib.TCPSCOPE, "record", "-v", "-w", rec, "-d", "1",
                           "--netns", ns.path], timeout=60)
            expect(iter_walks(r.stderr) == 1,
                   "record walked iter/tcp %d times:\n%s" % (iter_walks(r.stderr), r.stderr))
            at, _ = capkit.report_json(rec, "--at", "+0s")
            expect([(s["sport"], s["pid"]) for s in at if s["event"] == "socket"] ==
                   [(port, holder.pid)], "record's capture snapshot %s" % at)

            r = tslib.run([tslib.TCPSCOPE, "trace", "-v", "-d", "1", "--netns", ns.path],
                          timeout=60)
            expect(iter_walks(r.stderr) == 1,
                   "trace walked iter/tcp %d times:\n%s" % (iter_walks(r.stderr), r.stderr))
            # No drop, so /proc/kallsyms (most of what starting cost) was
            # never read; the reasons came from the loader's BTF.
            expect("tcpscope: kernel names:" in r.stderr and "kallsyms" not in r.stderr,
                   "kallsyms read without a drop:\n%s" % r.stderr)
        finally:
            open(go, "w").close()
            holder.wait(timeout=30)


if __name__ == "__main__":
    tslib.main([test_one_snapshot])
