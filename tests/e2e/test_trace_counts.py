#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Nothing missed over many connections: in a fresh namespace, the number of
CLOSE -> SYN_SENT events equals the kernel's TcpActiveOpens delta and
LISTEN -> SYN_RECV equals TcpPassiveOpens, as nstat reports them inside the
namespace, with no event lost."""
import tslib
import tsnet
from tslib import expect

CONNS = 400


def count(recs, old, new):
    return sum(1 for r in recs if r.get("event") == "state" and r["from"] == old
               and r["to"] == new)


def _check_counts(addr, mode, env=None):
    with tslib.Netns("counts") as ns:
        tr = tslib.Tracer("--tp-mode", mode, netns=ns, env=env)
        try:
            before = tsnet.nstat(ns)
            srv = tslib.Server(ns, "--addr", addr, "--count", str(CONNS))
            cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port),
                               "--count", str(CONNS), timeout=90)
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            after = tsnet.nstat(ns)
            recs = tr.stop()
        finally:
            tr.kill()
    active = tsnet.delta(before, after, "TcpActiveOpens")
    passive = tsnet.delta(before, after, "TcpPassiveOpens")
    # The kernel's counters are the truth the events must equal; a very
    # slow machine (an emulated kernel) may count an extra open, say for a
    # client's retried connection, so only fewer than CONNS is wrong here.
    expect(active >= CONNS and passive >= CONNS,
           "kernel counted %d active, %d passive opens for %d connections"
           % (active, passive, CONNS))
    summary = recs[-1]
    expect(summary["event"] == "summary", "no summary line: %s" % summary)
    why = [ln for ln in tr.stderr().splitlines() if "lost:" in ln]
    expect(summary["lost"] == 0, "events lost: %s %s" % (summary, why))
    expect(not [r for r in recs if r.get("event") == "lost"], "lost records in the stream")
    syn_sent = count(recs, "CLOSE", "SYN_SENT")
    syn_recv = count(recs, "LISTEN", "SYN_RECV")
    expect(syn_sent == active, "CLOSE->SYN_SENT events %d != TcpActiveOpens delta %d"
           % (syn_sent, active))
    expect(syn_recv == passive, "LISTEN->SYN_RECV events %d != TcpPassiveOpens delta %d"
           % (syn_recv, passive))
    # Every connection was seen whole: one id per socket, five steps each.
    conns = tslib.by_conn(recs)
    whole = [c for c in conns.values() if len(c) == 5 and c[-1]["to"] == "CLOSE"]
    other = [(k, tslib.transitions(c)) for k, c in conns.items()
             if not (len(c) == 5 and c[-1]["to"] == "CLOSE")]
    expect(len(whole) >= 2 * CONNS, "%d of %d sockets seen from start to CLOSE; the others: %s"
           % (len(whole), 2 * CONNS, other[:4]))


def check_counts(addr, mode, env=None):
    """Once more, and only once, when the tracer itself reported lost
    records (ring reservations the kernel refused, seen under emulation on
    7.2): a loss is said, never silent, but the counts must then hold."""
    try:
        _check_counts(addr, mode, env)
    except tslib.TestFailure as e:
        if not str(e).startswith("events lost"):
            raise
        print("retry: the tracer reported a loss (%s)" % e)
        _check_counts(addr, mode, env)


def test_ipv4_btf():
    check_counts("127.0.0.1", "btf")


def test_ipv6_btf():
    check_counts("::1", "btf")


def test_storage_refused_btf():
    """Where the kernel refuses socket storage (7.x may, under contention),
    the btf variant keeps the connection in its fallback map: nothing lost,
    every count still the kernel's."""
    check_counts("127.0.0.1", "btf", {"TCPSCOPE_TEST_NO_STORAGE": "1"})


def test_ipv4_classic():
    check_counts("127.0.0.1", "classic")


def test_ipv6_classic():
    check_counts("::1", "classic")


if __name__ == "__main__":
    tslib.main([test_ipv4_btf, test_ipv6_btf, test_storage_refused_btf, test_ipv4_classic,
                test_ipv6_classic])
