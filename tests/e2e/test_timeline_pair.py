#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Both ends of a connection traced on this host are paired, and the
orphaned active closer's TIME_WAIT is told from its peer: close() leaves
the client's socket in FIN_WAIT2 when the server's ACK comes, the kernel
hands it to a timewait socket (FIN_WAIT2 -> CLOSE) and the server's FIN,
0.3 s later, is seen only by the server's records.  Between two namespaces
on a veth pair (one tracer for both, by port), on loopback (one
namespace), and unpaired: a tracer that sees only the client's namespace
says why TIME_WAIT is not observable.  Text (report of the capture) and
JSON name the peer both ways."""
import os
import random
import re
import subprocess

import tslib
import timeline as tl
from tslib import expect

ORPHAN_CLIENT = tl.CLIENT_ACTIVE[:4] + [("FIN_WAIT2", "CLOSE"), ("FIN_WAIT2", "TIME_WAIT"),
                                        ("TIME_WAIT", "TIME_WAIT")]
DELAY = 0.3


def orphaned_close(cns, sns, addr, port):
    srv = tslib.Server(sns, "--addr", addr, "--port", str(port), "--mode", "client-close",
                       "--close-delay", str(DELAY))
    cli = tslib.client(cns, "--addr", addr, "--port", str(port), "--mode", "client-close")
    expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
    expect(srv.wait() == 0, "server failed")
    return cli, srv


def check_paired(res, cli, srv):
    c, s = res.one("client"), res.one("server")
    tl.check_conn(c, ORPHAN_CLIENT, "active", cli.pid)
    tl.check_conn(s, tl.SERVER_PASSIVE, "passive", srv.pid)
    expect(c["peer"] == s["conn"] and s["peer"] == c["conn"],
           "peer ids: client %s peer %s, server %s peer %s"
           % (c["conn"], c["peer"], s["conn"], s["peer"]))
    expect(c["time_wait"] == "from_peer" and c["time_wait_why"] is None,
           "client time_wait %s/%s" % (c["time_wait"], c["time_wait_why"]))
    expect(s["time_wait"] is None, "server time_wait %s" % s["time_wait"])
    st = c["steps"]
    expect("orphaned" in st[4]["step"] and not st[4]["from_peer"], "handoff step %s" % st[4])
    tw, ack = st[5], st[6]
    expect(tw["from_peer"] and ack["from_peer"] and not tw["inferred"] and not tw["gap"],
           "peer steps %s %s" % (tw, ack))
    expect(tw["step"] == "FIN received, ACK sent (seen at the peer)", "label %s" % tw)
    expect(ack["step"] == "final ACK arrived (seen at the peer)", "label %s" % ack)
    # Times come from the server's records: its FIN went DELAY after the
    # client's close, the ACK came back within it.
    sfin = [x for x in s["steps"] if x["to"] == "LAST_ACK"][0]
    send = s["steps"][-1]
    off = s["ts_ns"] - c["ts_ns"]
    expect(abs(tw["t_us"] * 1000 - (sfin["t_us"] * 1000 + off)) < 2000,
           "TIME_WAIT at %s us, server FIN at %s us (+%d ns)" % (tw["t_us"], sfin["t_us"], off))
    expect(abs(ack["t_us"] * 1000 - (send["t_us"] * 1000 + off)) < 2000,
           "final ACK at %s us, server close at %s us" % (ack["t_us"], send["t_us"]))
    # The server closed DELAY after it saw our FIN; we were in FIN_WAIT2
    # (handed over, then in the timewait socket) all that time.
    scw = [x for x in s["steps"] if x["to"] == "CLOSE_WAIT"][0]
    expect(tw["t_us"] >= st[4]["t_us"] and
           tw["t_us"] * 1000 - (scw["t_us"] * 1000 + off) >= DELAY * 1e9 * 0.9,
           "the peer's FIN at %s us, its CLOSE_WAIT at %s us" % (tw["t_us"], scw["t_us"]))
    expect(abs(tw["in_state_us"] - (tw["t_us"] - st[3]["t_us"])) <= 1,
           "time in FIN_WAIT2 %s, steps at %s and %s" % (tw["in_state_us"], st[3]["t_us"],
                                                          tw["t_us"]))
    return c, s


def report_text(cap):
    r = subprocess.run([tslib.TCPSCOPE, "report", cap, "--timeline", "--wide"],
                       capture_output=True, text=True, timeout=60)
    expect(r.returncode == 0, "report failed: %s" % r.stderr)
    return r.stdout


def block(text, conn):
    for b in text.split("\n\n"):
        if b.startswith("conn %d " % conn):
            return b
    raise tslib.TestFailure("no block for conn %d in:\n%s" % (conn, text))


@tl.retry_on_loss
def test_veth_paired_and_unpaired():
    port = random.randint(20000, 60000)
    d = tl.tmpdir()
    cap, cap_c = os.path.join(d, "pair.cap"), os.path.join(d, "client.cap")
    with tslib.Netns("tpc") as cns, tslib.Netns("tps") as sns:
        tslib.veth(cns, sns)
        both = tslib.Tracer("--timeline", "--port", str(port), "-w", cap)
        alone = None
        try:
            alone = tslib.Tracer("--timeline", "--port", str(port), "-w", cap_c, netns=cns)
            cli, srv = orphaned_close(cns, sns, tl.V4[1], port)
            tslib.settle(cns, sns)
            res, res_c = tl.Result(both.stop()), tl.Result(alone.stop())
        finally:
            both.kill()
            if alone:
                alone.kill()
    c, s = check_paired(res, cli, srv)
    expect(c["netns"] != s["netns"], "two namespaces: %s" % [c["netns"], s["netns"]])
    # Only the client's namespace traced: its peer is not here.
    u = res_c.one("client")
    tl.check_conn(u, tl.CLIENT_ACTIVE[:4] + [("FIN_WAIT2", "CLOSE")], "active", cli.pid)
    expect(u["peer"] is None and u["time_wait"] == "not_observable" and
           u["time_wait_why"] == "peer_not_traced", "unpaired: %s" % u)
    expect(not res_c.role("server"), "server traced outside --netns")
    # The text view of the same run names the peer both ways.
    text = report_text(cap)
    bc, bs = block(text, c["conn"]), block(text, s["conn"])
    expect(re.search(r"close=active  sk:[0-9a-f]+  peer %d\n" % s["conn"], bc), bc)
    expect(re.search(r"peer %d\n" % c["conn"], bs), bs)
    expect(re.search(r"FIN_WAIT2 -> TIME_WAIT +FIN received, ACK sent \(seen at the peer\)", bc),
           bc)
    expect(re.search(r"TIME_WAIT -> TIME_WAIT +final ACK arrived \(seen at the peer\)", bc), bc)
    expect("TIME_WAIT not observable" not in bc, bc)
    bu = block(report_text(cap_c), u["conn"])
    expect(re.search(r"\n  TIME_WAIT not observable: peer not traced here "
                     r"\(remote, or filtered out\)\n?$", bu), bu)
    expect(" peer " not in bu.split("\n")[0], bu)


def loopback(tag, *filters):
    """An orphaned close on loopback in a namespace of its own, traced with
    the given filters; the timelines and the two ends' processes."""
    port = random.randint(20000, 60000)
    with tslib.Netns(tag) as ns:
        args = [a.replace("PORT", str(port)) for a in filters]
        tr = tslib.Tracer("--timeline", *args, netns=ns)
        try:
            cli, srv = orphaned_close(ns, ns, "127.0.0.1", port)
            tslib.settle(ns)
            res = tl.Result(tr.stop())
        finally:
            tr.kill()
    return res, cli, srv


@tl.retry_on_loss
def test_loopback_paired():
    res, cli, srv = loopback("tpl")
    c, s = check_paired(res, cli, srv)
    expect(c["netns"] == s["netns"], "one namespace")


@tl.retry_on_loss
def test_port_filter_unpaired():
    """The server's end filtered out by --dport: the client says why."""
    res, cli, _ = loopback("tpf", "--dport", "PORT")
    u = res.one("client")
    tl.check_conn(u, tl.CLIENT_ACTIVE[:4] + [("FIN_WAIT2", "CLOSE")], "active", cli.pid)
    expect(u["peer"] is None and u["time_wait"] == "not_observable" and
           u["time_wait_why"] == "peer_not_traced", "unpaired: %s" % u)
    expect(not res.role("server"), "the server's end passed --dport")


if __name__ == "__main__":
    tslib.main([test_veth_paired_and_unpaired, test_loopback_paired,
                test_port_filter_unpaired])
