#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Retransmissions inside the connection they belong to, split by kind,
their count equal to the socket's total_retrans and to the namespace's
TcpRetransSegs: SYN and SYN-ACK retransmits (SYN-ACKs dropped for 1.2 s in
the client's input hook), and data retransmits (every 5th data segment
dropped in the server's input hook)."""
import time

import tslib
import timeline as tl
from tslib import expect


def syn_and_synack_retransmits(*tracer_args):
    tslib.require("synack_retransmits")
    with tl.Pair("tlsyn", *tracer_args) as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", "client-close", "--half-close")
        p.nft(p.c, "tcp flags & (syn|ack) == syn|ack drop")
        cli = p.c.popen(["python3", tslib.TCPKIT, "client", "--addr", tl.V4[1],
                         "--port", str(srv.port), "--mode", "client-close", "--half-close"],
                        stdout=tslib.subprocess.PIPE, stderr=tslib.subprocess.PIPE, text=True)
        # The first SYN and its retransmission (after 1 s) go unanswered.
        tslib.wait_syn_sent(p.c, srv.port)
        time.sleep(1.2)
        p.nft(p.c)
        cli.wait(timeout=30)
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        p.settle()
        csegs, ssegs = p.retrans_segs(p.c), p.retrans_segs(p.s)
        rc, rs = p.stop()
    c, s = rc.one("client"), rs.one("server")
    tl.check_conn(c, tl.CLIENT_ACTIVE, "active", cli.pid)
    tl.check_conn(s, tl.SERVER_PASSIVE, "passive", srv.pid)
    tl.check_retrans_total(c, csegs, "syn")
    tl.check_retrans_total(s, ssegs, "synack")
    expect(c["retransmits"]["syn"] == sum(c["retransmits"].values()), "client %s" % c["retransmits"])
    expect(s["retransmits"]["synack"] == sum(s["retransmits"].values()), "server %s" % s["retransmits"])
    # The handshake took the retransmission's time: at least the 1 s RTO.
    expect(c["handshake_us"] >= 1000000, "client handshake %s" % c["handshake_us"])


@tl.retry_on_loss
def test_syn_and_synack_retransmits():
    syn_and_synack_retransmits()


@tl.retry_on_loss
def test_synack_retransmits_classic():
    syn_and_synack_retransmits("--tp-mode", "classic")


@tl.retry_on_loss
def test_data_retransmits():
    with tl.Pair("tldat") as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", "client-close", "--half-close",
                           "--size", "1000", "--chunks", "40")
        p.nft(p.s, "tcp dport %d ip length > 500 numgen inc mod 5 == 0 drop" % srv.port)
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", str(srv.port),
                           "--mode", "client-close", "--half-close", "--size", "1000",
                           "--chunks", "40", "--chunk-gap", "0.005")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        p.settle()
        csegs, ssegs = p.retrans_segs(p.c), p.retrans_segs(p.s)
        rc, rs = p.stop()
    c, s = rc.one("client"), rs.one("server")
    tl.check_conn(c, tl.CLIENT_ACTIVE, "active", cli.pid)
    tl.check_conn(s, tl.SERVER_PASSIVE, "passive", srv.pid)
    tl.check_retrans_total(c, csegs, "data")
    expect(c["retransmits"]["syn"] == c["retransmits"]["synack"] == 0, "%s" % c["retransmits"])
    expect(c["retrans_pct"] > 1.0, "retrans_pct %s" % c["retrans_pct"])
    expect(sum(s["retransmits"].values()) == ssegs == 0, "server %s / %d" % (s["retransmits"], ssegs))
    expect(c["bytes_acked"] >= 40000 and s["bytes_received"] >= 40000, "bytes %s %s" % (c, s))


if __name__ == "__main__":
    tslib.main([test_syn_and_synack_retransmits, test_synack_retransmits_classic,
                test_data_retransmits])
