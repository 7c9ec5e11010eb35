#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tcpscope trace on real loopback connections in a fresh namespace:
every transition of client and server, IPv4 and IPv6, each attributed to
the process that owns it (the accepting server for passive ones)."""
import tslib
from tslib import expect

CLIENT_STEPS = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"),
                ("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"),
                ("FIN_WAIT2", "CLOSE")]
SERVER_STEPS = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"),
                ("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"),
                ("LAST_ACK", "CLOSE")]


def check_run(addr, family, mode="btf"):
    with tslib.Netns("basic") as ns:
        nsino = ns.inode()
        tr = tslib.Tracer("--tp-mode", mode, netns=ns)
        try:
            srv = tslib.Server(ns, "--addr", addr, "--count", "3", "--mode", "client-close")
            cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port), "--count", "3",
                               "--mode", "client-close")
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            tslib.settle(ns)
            cli_pid = cli.pid  # ip netns exec execs python in place
            recs = tr.stop()
        finally:
            tr.kill()
    expect(all(r["netns"] == nsino for r in recs if "conn" in r),
           "records from outside the traced namespace")
    expect(recs[-1]["event"] == "summary" and recs[-1]["lost"] == 0, "summary: %s" % recs[-1])
    conns = tslib.connections(recs)
    clients = [c for c in conns.values() if c[0]["from"] == "CLOSE" and c[0]["to"] == "SYN_SENT"]
    servers = [c for c in conns.values() if c[0]["from"] == "LISTEN"]
    listeners = [c for c in conns.values() if c[0]["to"] == "LISTEN"]
    expect(len(clients) == 3, "expected 3 client connections, got %d" % len(clients))
    expect(len(servers) == 3, "expected 3 server connections, got %d" % len(servers))
    expect(len(listeners) == 1, "expected 1 listener, got %d" % len(listeners))
    for c in clients:
        expect(tslib.transitions(c) == CLIENT_STEPS, "client steps %s" % tslib.transitions(c))
        expect(all(r["pid"] == cli_pid for r in c),
               "client pid %s != %d" % ({r['pid'] for r in c}, cli_pid))
        expect(all(r["family"] == family for r in c), "family")
        expect(c[1]["dport"] == srv.port and c[1]["sport"] > 0, "client ports")
        # The closing record carries the socket's counters.
        expect(c[-1]["segs_out"] >= 3, "segs_out on close: %s" % c[-1])
        expect(all(r.get("in_state_us") is not None for r in c[1:]), "in_state_us")
    for c in servers:
        expect(tslib.transitions(c) == SERVER_STEPS, "server steps %s" % tslib.transitions(c))
        expect(all(r["pid"] == srv.pid for r in c),
               "server pid %s != %d" % ({r['pid'] for r in c}, srv.pid))
        expect(c[0]["owner_from_listener"], "owner should come from the listener")
        expect(all(r["sport"] == srv.port for r in c), "server local port")
        # The first record already names the peer (kernels before 6.15
        # fire it before the child socket has its addresses).
        peer = {(r["daddr"], r["dport"]) for r in c}
        expect(len(peer) == 1 and c[0]["dport"] > 0 and c[0]["daddr"] == addr,
               "server peer %s (expected %s, one client port)" % (sorted(peer), addr))
    lst = listeners[0]
    expect(tslib.transitions(lst) == [("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")],
           "listener steps %s" % tslib.transitions(lst))
    expect(lst[0]["pid"] == srv.pid, "listener pid")


def test_ipv4():
    check_run("127.0.0.1", 4)


def test_ipv6():
    check_run("::1", 6)


def test_ipv4_classic_tracepoints():
    check_run("127.0.0.1", 4, mode="classic")


def test_ipv6_classic_tracepoints():
    check_run("::1", 6, mode="classic")


def passive_ids(mode):
    """Many clients of one listener at once: every accepted connection has
    an id of its own (not the listener's), and each id's records name one
    peer, the client that connected."""
    n = 20
    with tslib.Netns("ids") as ns:
        tr = tslib.Tracer("--tp-mode", mode, netns=ns)
        try:
            srv = tslib.Server(ns, "--addr", "127.0.0.1", "--count", str(n),
                               "--mode", "client-close")
            cli = tslib.client(ns, "--addr", "127.0.0.1", "--port", str(srv.port),
                               "--count", str(n), "--mode", "client-close")
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            recs = tr.stop()
        finally:
            tr.kill()
    dup = tslib.duplicate_children(tslib.by_conn(recs))
    states = [r for r in recs if r.get("event") == "state" and r["conn"] not in dup]
    born = [r for r in states if (r["from"], r["to"]) == ("LISTEN", "SYN_RECV")]
    listen = [r for r in states if r["to"] == "LISTEN"]
    expect(len(born) == n, "%d LISTEN -> SYN_RECV records for %d connections" % (len(born), n))
    ids = [r["conn"] for r in born]
    expect(len(set(ids)) == n, "passive connections share ids: %d distinct of %d"
           % (len(set(ids)), n))
    expect(listen and listen[0]["conn"] not in ids, "a passive connection has the listener's id")
    clients = {r["sport"] for r in states if r["from"] == "SYN_SENT"}
    for cid in ids:
        peers = {r["dport"] for r in states if r["conn"] == cid}
        expect(len(peers) == 1 and peers <= clients,
               "connection %d: peer ports %s, client ports %s" % (cid, peers, sorted(clients)[:5]))


def test_passive_ids_btf():
    passive_ids("btf")


def test_passive_ids_classic():
    passive_ids("classic")


if __name__ == "__main__":
    tslib.main([test_ipv4, test_ipv6, test_ipv4_classic_tracepoints,
                test_ipv6_classic_tracepoints, test_passive_ids_btf, test_passive_ids_classic])
