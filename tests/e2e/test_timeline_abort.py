#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tcpscope trace --timeline on both ends of a veth link for connections
that do not end with FINs: refused, reset by either end (SO_LINGER 0), a
connect() that is never answered, and a listener opened and closed."""
import tslib
import timeline as tl
from tslib import expect

EST_CLIENT = tl.CLIENT_ACTIVE[:2]
EST_SERVER = tl.SERVER_ACTIVE[:2]


@tl.retry_on_loss
def test_refused():
    with tl.Pair("tlr") as p:
        # Nothing listens on this port in the server namespace.
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", "9", "--expect-fail")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        rc, rs = p.stop()
    c = rc.one("client")
    tl.check_conn(c, [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")], "refused", cli.pid)
    expect(c["resets_received"] == 1 and c["sk_err"] == 111, "reset/err %s" % c)
    expect("refused" in c["steps"][-1]["step"], "label %s" % c["steps"][-1])
    expect(c["handshake_us"] is None, "no handshake: %s" % c["handshake_us"])
    # The server end has no socket for it: no connection there.
    expect(rs.conns == [], "server side: %s" % rs.conns)


def reset(mode, *tracer_args):
    tslib.require("resets")
    with tl.Pair("tlx", *tracer_args) as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", mode)
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", str(srv.port), "--mode", mode)
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        rc, rs = p.stop()
    c, s = rc.one("client"), rs.one("server")
    sender, receiver = (c, s) if mode == "rst" else (s, c)
    tl.check_conn(c, EST_CLIENT + [("ESTABLISHED", "CLOSE")],
                  "reset-sent" if sender is c else "reset-received", cli.pid)
    tl.check_conn(s, EST_SERVER + [("ESTABLISHED", "CLOSE")],
                  "reset-sent" if sender is s else "reset-received", srv.pid)
    # Both variants see the reset from both ends.
    expect(sender["resets_sent"] == 1 and sender["resets_received"] == 0,
           "sender resets %s" % sender)
    expect(receiver["resets_received"] == 1 and receiver["resets_sent"] == 0,
           "receiver resets %s" % receiver)
    expect(receiver["sk_err"] == 104, "ECONNRESET expected: %s" % receiver["sk_err"])
    expect(sender["steps"][-1]["step"].startswith("RST sent"), "%s" % sender["steps"][-1])
    expect(receiver["steps"][-1]["step"] == "RST received", "%s" % receiver["steps"][-1])


@tl.retry_on_loss
def test_reset_by_client():
    reset("rst")


@tl.retry_on_loss
def test_reset_by_server():
    reset("server-rst")


@tl.retry_on_loss
def test_reset_classic_tracepoints():
    reset("server-rst", "--tp-mode", "classic")


@tl.retry_on_loss
def test_connect_timeout():
    """SYNs dropped at the server: the client gives up (--timeout 1.5 s)
    after one SYN retransmission; close kind timeout."""
    with tl.Pair("tlt") as p:
        p.nft(p.s, "tcp flags & (syn|ack) == syn drop")
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", "80", "--timeout", "1.5",
                           "--expect-fail")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        segs = p.retrans_segs(p.c)
        rc, rs = p.stop()
    c = rc.one("client")
    tl.check_conn(c, [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")], "timeout", cli.pid)
    if c["retransmits"]["syn"] < segs == 1:
        tl.missing_only("SYN retransmits", c["retransmits"], segs)
    expect(c["retransmits"]["syn"] == segs == 1, "SYN retransmits %s, kernel %d"
           % (c["retransmits"], segs))
    expect(rs.conns == [], "server side: %s" % rs.conns)


@tl.retry_on_loss
def test_listener_only():
    with tl.Pair("tll") as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--count", "0")
        expect(srv.wait() == 0, "server failed")
        rc, rs = p.stop()
    lst = rs.one("listener")
    tl.check_conn(lst, tl.LISTENER, "active", srv.pid)
    expect(lst["handshake_us"] is None and lst["segs_out"] is None, "listener %s" % lst)
    expect(lst["steps"][0]["step"] == "listen()" and
           lst["steps"][1]["step"] == "listener closed", "labels %s" % lst["steps"])
    expect(rc.conns == [] and len(rs.conns) == 1, "connections %s %s" % (rc.conns, rs.conns))


if __name__ == "__main__":
    tslib.main([test_refused, test_reset_by_client, test_reset_by_server,
                test_reset_classic_tracepoints,
                test_connect_timeout, test_listener_only])
