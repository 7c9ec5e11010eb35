#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A server that was listening before the tracer started: its passive
connections still get the server as owner (the listeners map is seeded
from an iterator snapshot at start), so -p SERVER_PID shows them."""
import tslib
from tslib import expect


def check(mode):
    with tslib.Netns("owner") as ns:
        srv = tslib.Server(ns, "--count", "2", "--mode", "client-close")
        tr = tslib.Tracer("--tp-mode", mode, "-p", str(srv.pid), netns=ns)
        try:
            cli = tslib.client(ns, "--port", str(srv.port), "--count", "2")
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            recs = tr.stop()
        finally:
            tr.kill()
    conns = tslib.connections(recs)
    passive = [c for c in conns.values() if c[0]["from"] == "LISTEN" and c[0]["to"] == "SYN_RECV"]
    expect(len(passive) == 2, "expected the 2 passive connections, got %d: %s"
           % (len(passive), [tslib.transitions(c) for c in conns.values()]))
    for c in passive:
        expect(all(r["pid"] == srv.pid and r["comm"] == "python3" for r in c),
               "passive connection owner %s" % {(r["pid"], r["comm"]) for r in c})
    # The client's connections are another process's: filtered out.
    expect(not any(c[0]["to"] == "SYN_SENT" for c in conns.values()), "client shown")


def test_listener_older_than_tracer_btf():
    check("btf")


def test_listener_older_than_tracer_classic():
    check("classic")


if __name__ == "__main__":
    tslib.main([test_listener_older_than_tracer_btf, test_listener_older_than_tracer_classic])
