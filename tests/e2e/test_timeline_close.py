#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tcpscope trace --timeline on both ends of a veth link: the exact steps
and the close kind of each way a connection can end gracefully — client
closes first, server closes first, simultaneous close, an orphaned
FIN_WAIT2 — over IPv4 and IPv6, with the listener's own timeline."""
import os

import tslib
import timeline as tl
from tslib import expect


def graceful(first, addrs=tl.V4, *tracer_args):
    """The first to close shuts down writing and waits for the peer's FIN,
    so its FIN_WAIT2 lives in the full socket and TIME_WAIT is inferred."""
    with tl.Pair("tl", *tracer_args) as p:
        srv = tslib.Server(p.s, "--addr", addrs[1], "--mode", first, "--half-close")
        cli = tslib.client(p.c, "--addr", addrs[1], "--port", str(srv.port),
                           "--mode", first, "--half-close")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        rc, rs = p.stop()
    c, s = rc.one("client"), rs.one("server")
    if first == "client-close":
        tl.check_conn(c, tl.CLIENT_ACTIVE, "active", cli.pid)
        tl.check_conn(s, tl.SERVER_PASSIVE, "passive", srv.pid)
    else:
        tl.check_conn(c, tl.CLIENT_PASSIVE, "passive", cli.pid)
        tl.check_conn(s, tl.SERVER_ACTIVE, "active", srv.pid)
    active = c if first == "client-close" else s
    tw = [x for x in active["steps"] if x["to"] == "TIME_WAIT"]
    expect(tw and tw[0].get("inferred") and "(inferred)" in tw[0]["step"],
           "TIME_WAIT step: %s" % active["steps"])
    # The tuple: the client's local port is known although its first
    # record had none; both ends agree on it.
    expect(c["sport"] > 0 and c["dport"] == srv.port, "client tuple %s" % c)
    expect(s["sport"] == srv.port and s["dport"] == c["sport"], "server tuple %s" % s)
    expect(c["saddr"] == s["daddr"] == addrs[0] and c["daddr"] == s["saddr"] == addrs[1],
           "addresses %s / %s" % (c, s))
    expect(c["family"] == s["family"] == (6 if ":" in addrs[0] else 4), "family")
    for x in (c, s):
        expect(x["segs_out"] >= 3 and x["retrans_pct"] == 0 and sum(x["retransmits"].values()) == 0,
               "counters %s" % x)
        expect(x["comm"] == "python3", "comm %s" % x["comm"])
    lst = rs.one("listener")
    tl.check_conn(lst, tl.LISTENER, "active", srv.pid)
    expect(lst["sport"] == srv.port, "listener port %s" % lst)


@tl.retry_on_loss
def test_client_closes_first():
    graceful("client-close")


@tl.retry_on_loss
def test_server_closes_first():
    graceful("server-close")


@tl.retry_on_loss
def test_ipv6_client_closes_first():
    graceful("client-close", tl.V6)


@tl.retry_on_loss
def test_classic_tracepoints():
    graceful("server-close", tl.V4, "--tp-mode", "classic")


@tl.retry_on_loss
def test_orphaned_fin_wait2():
    """close() then the peer's ACK alone: the orphaned socket is handed to
    a timewait socket still in FIN_WAIT2, no TIME_WAIT is claimed."""
    with tl.Pair("tlo") as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", "client-close",
                           "--close-delay", "0.3")
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", str(srv.port),
                           "--mode", "client-close")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        rc, rs = p.stop()
    c = rc.one("client")
    tl.check_conn(c, tl.CLIENT_ACTIVE[:4] + [("FIN_WAIT2", "CLOSE")], "active", cli.pid)
    expect("orphaned" in c["steps"][-1]["step"], "last step %s" % c["steps"][-1])
    tl.check_conn(rs.one("server"), tl.SERVER_PASSIVE, "passive", srv.pid)


@tl.retry_on_loss
def test_simultaneous_close():
    """Both ends shut down together while a token bucket on each end of the
    link holds every segment ~65 ms: the two FINs cross."""
    d = tl.tmpdir()
    go, waiting = os.path.join(d, "go"), os.path.join(d, "wait")
    with tl.Pair("tls") as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", "simultaneous",
                           "--go", go, "--waiting", waiting)
        cli = p.c.popen(["python3", tslib.TCPKIT, "client", "--addr", tl.V4[1],
                         "--port", str(srv.port), "--mode", "simultaneous",
                         "--go", go, "--waiting", waiting],
                        stdout=tslib.subprocess.PIPE, stderr=tslib.subprocess.PIPE,
                        text=True)
        tl.wait_files([waiting + ".client", waiting + ".server"], 15, "both ends to wait")
        # 8 kbit/s with a 100-byte bucket: the 30-byte write before each
        # FIN empties the bucket, so each FIN waits ~65 ms on its way.
        for ns, dev in ((p.c, p.ifc), (p.s, p.ifs)):
            ns.run(["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "8kbit",
                    "burst", "100", "limit", "100000"])
        open(go, "w").close()
        cli.wait(timeout=30)
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        rc, rs = p.stop()
    sim = [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "CLOSING"),
           ("CLOSING", "TIME_WAIT"), ("TIME_WAIT", "CLOSE")]
    c, s = rc.one("client"), rs.one("server")
    tl.check_conn(c, tl.CLIENT_ACTIVE[:2] + sim, "simultaneous", cli.pid)
    tl.check_conn(s, tl.SERVER_ACTIVE[:2] + sim, "simultaneous", srv.pid)
    for x in (c, s):
        expect("simultaneous" in x["steps"][3]["step"], "label %s" % x["steps"][3])


if __name__ == "__main__":
    tslib.main([test_client_closes_first, test_server_closes_first,
                test_ipv6_client_closes_first, test_classic_tracepoints,
                test_orphaned_fin_wait2,
                test_simultaneous_close])
