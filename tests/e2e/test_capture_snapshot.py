#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A capture starts with the sockets that already existed (taken with the
BPF iterators in the recorded namespace), and their later events join them:
the snapshot's connection ids are the ids the events carry."""
import os
import subprocess
import tempfile
import time

import capkit
import tslib
from tslib import expect

# Holds a listener and one connection open until GO appears, then the
# client end closes first; bounded by a 20 s wait.
HOLDER = r"""
import os, socket, sys, time
go = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
print(s.getsockname()[1], c.getsockname()[1], flush=True)
deadline = time.monotonic() + 20
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
c.close(); a.recv(1); a.close(); s.close()
"""


def test_snapshot_then_events():
    # The snapshot's ids are socket cookies: events carry them only where
    # tracing programs can ask for cookies (the btf variant).
    tslib.require("socket_cookies", "events with the snapshot's ids")
    tmp = tempfile.mkdtemp(prefix="tscapsnap")
    go = os.path.join(tmp, "go")
    cap = os.path.join(tmp, "c.tcap")
    with tslib.Netns("capsnap") as ns:
        holder = ns.popen(["python3", "-c", HOLDER, go], stdout=subprocess.PIPE, text=True)
        lport, cport = (int(x) for x in holder.stdout.readline().split())
        rec = capkit.Recorder(cap, ns)
        try:
            open(go, "w").close()
            holder.wait(timeout=30)
            time.sleep(0.3)
            expect(rec.stop() == 0, "recorder failed: %s" % rec.stderr())
        finally:
            rec.kill()
    at_start, _ = capkit.report_json(cap, "--at", "+0s")
    socks = {(s["sport"], s["dport"]): s for s in at_start if s["event"] == "socket"}
    expect(set(socks) == {(lport, 0), (lport, cport), (cport, lport)},
           "snapshot sockets %s" % sorted(socks))
    for s in socks.values():
        expect(s["source"] == "snapshot", "source %s" % s)
        expect(s["pid"] == holder.pid, "snapshot pid %d != %d" % (s["pid"], holder.pid))
    expect(socks[(lport, 0)]["state"] == "LISTEN", "listener state")
    expect(socks[(cport, lport)]["state"] == "ESTABLISHED", "client state")

    recs, _ = capkit.report_json(cap)
    conns = tslib.by_conn(recs)
    client = conns.get(socks[(cport, lport)]["conn"])
    server = conns.get(socks[(lport, cport)]["conn"])
    listener = conns.get(socks[(lport, 0)]["conn"])
    expect(client and server and listener,
           "events do not carry the snapshot's ids: %s" % sorted(conns))
    expect(tslib.transitions(client)[0] == ("ESTABLISHED", "FIN_WAIT1"),
           "client steps %s" % tslib.transitions(client))
    expect(tslib.transitions(server)[0] == ("ESTABLISHED", "CLOSE_WAIT"),
           "server steps %s" % tslib.transitions(server))
    expect(tslib.transitions(listener) == [("LISTEN", "CLOSE")],
           "listener steps %s" % tslib.transitions(listener))

    at_end, _ = capkit.report_json(cap, "--at", "+30s")
    left = {(s["sport"], s["dport"]): s["state"] for s in at_end if s["event"] == "socket"}
    # The active closer's socket lives on as an (inferred) TIME_WAIT one.
    expect(left == {(cport, lport): "TIME_WAIT"}, "sockets at the end: %s" % left)


if __name__ == "__main__":
    tslib.main([test_snapshot_then_events])
