#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Real data retransmissions: client and server in two namespaces joined by
veth; an nftables rule in the server namespace's INPUT hook drops the
client's data segments until the client has retransmitted, then goes away
so the connection completes.  The tracer on the client's namespace must
report each retransmission on that very connection (same id as its state
events), in ESTABLISHED, owned by the client, as many as the kernel's
TcpRetransSegs delta says.  The failed-transmit tests add a drop in the
client's own OUTPUT hook: that retransmission fails (-EPERM) yet the
kernel counts it; records plus the timeline's untraced count equal the
kernel's, and the probe says which of the two it is on this kernel."""
import atexit
import json
import os
import shutil
import subprocess
import time

import ownkit
import servekit
import tslib
import tsnet
from tslib import expect

SIZE = 600  # data segments are far larger than any pure ACK
# Match segments carrying data: IP length beyond headers plus TCP options.
DATA_ONLY = {4: ["ip", "length", ">", "200"], 6: ["ip6", "length", ">", "180"]}
ADDRS = {4: ("198.18.0.1", "198.18.0.2"), 6: ("2001:db8::1", "2001:db8::2")}
NGINX_PORT = 8080  # in the server's own namespace


class Run:
    """What one client request told: the client's namespace counters
    before and after, the tracer's records, its capture, the server's port
    and what the drop phase measured."""


def client_argv(real, addr, port, body):
    """The one request: the test client sending SIZE bytes and reading
    them back, or (real) curl POSTing body (a file of SIZE bytes) to
    nginx."""
    if not real:
        return ["python3", tslib.TCPKIT, "client", "--addr", addr, "--port", str(port),
                "--size", str(SIZE), "--timeout", "20"]
    host = "[%s]" % addr if ":" in addr else addr
    return ["curl", "-sS", "-o", "/dev/null", "--max-time", "20", "-H", "Expect:",
            "--data-binary", "@" + body, "http://%s:%d/" % (host, port)]


def one_request(family, mode, drops, real=False, serve=False):
    """Client and server in two namespaces joined by veth, the tracer (and
    a capture) on the client's; drops(cns, sns, port, start) starts the
    client's one request with start() inside the drop rules it sets, waits
    for them to act and returns what it measured.  real: nginx (a master
    and two workers) answers a POST from curl, instead of the test's own
    server and client.  serve: `tcpscope serve` traces the client's
    namespace too; run.metrics is its last scrape, once the connection's
    retransmissions are all in it (or after 10 s)."""
    srv_addr = ADDRS[family][1]
    run = Run()
    with tslib.Netns("rtxc") as cns, tslib.Netns("rtxs") as sns:
        tslib.veth(cns, sns)
        # Resolve the neighbour first: a SYN that waits for it would be
        # retransmitted, leaving no RTT sample and a one-second RTO.
        tsnet.wait_path(cns, srv_addr)
        tmp = tslib.tempfile.mkdtemp(prefix="tsrtx")
        run.cap = os.path.join(tmp, "r.cap")
        body = os.path.join(tmp, "body")
        with open(body, "w") as f:
            f.write("x" * SIZE)
        tr = tslib.Tracer("--tp-mode", mode, "-w", run.cap, netns=cns)
        clis = []
        srv = nginx = sv = None

        def start():
            clis.append(cns.popen(client_argv(real, srv_addr, run.port, body),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            return clis[-1]
        try:
            if serve:
                sv = servekit.Serve("--tp-mode", mode, netns=cns)
            if real:
                nginx = ownkit.Nginx(sns, NGINX_PORT, addr=srv_addr).start()
                run.port = NGINX_PORT
            else:
                srv = tslib.Server(sns, "--addr", srv_addr, "--size", str(SIZE))
                run.port = srv.port
            run.before = tsnet.nstat(cns)
            run.measured = drops(cns, sns, run.port, start)
            cli = clis[0]
            cli.wait(timeout=30 * tslib.TIME_SCALE)
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            if srv:
                expect(srv.wait() == 0, "server failed")
            run.after = tsnet.nstat(cns)
            if sv:
                segs = tsnet.delta(run.before, run.after, "TcpRetransSegs")
                run.metrics = {}

                def counted():
                    run.metrics = sv.metrics()
                    return (servekit.total(run.metrics, "tcpscope_retransmissions_total") +
                            servekit.total(run.metrics,
                                           "tcpscope_retransmissions_untraced_total")) >= segs
                try:
                    tslib.wait_until(counted, 10, "serve's counts")
                except tslib.TestFailure:
                    pass  # the caller says what was missing
                sv.stop()
            run.recs = tr.stop()
            run.warnings = [x for x in tr.stderr().splitlines()
                            if "malformed" in x or "lost" in x or "skipped" in x]
            run.pid = cli.pid
        finally:
            tr.kill()
            for cli in clis:
                if cli.poll() is None:
                    cli.kill()
            if nginx:
                nginx.stop()
            if sv:
                sv.kill()
    # The capture is read after this returns: gone when the test ends.
    atexit.register(shutil.rmtree, tmp, True)
    return run


def drop_twice(family):
    """The first copy and at least one retransmission dropped in the
    server's INPUT hook; returns how many were dropped."""
    def drops(cns, sns, port, start):
        with tsnet.InputDrop(sns, port, DATA_ONLY[family]) as drop:
            start()
            tslib.wait_until(lambda: drop.dropped() >= 2, 10,
                             "two dropped data segments")
            return drop.dropped()
    return drops


def check_retransmit(family, mode):
    cli_addr, srv_addr = ADDRS[family]
    run = one_request(family, mode, drop_twice(family))
    before, after, recs, cap, dropped = run.before, run.after, run.recs, run.cap, run.measured
    retrans_segs = tsnet.delta(before, after, "TcpRetransSegs")
    expect(retrans_segs >= dropped - 1 >= 1,
           "kernel counted %d retransmitted segments for %d drops" % (retrans_segs, dropped))
    conns = tslib.by_conn(recs)
    mine = [c for c in conns.values()
            if c[0]["from"] == "CLOSE" and c[0]["to"] == "SYN_SENT"]
    expect(len(mine) == 1, "expected one client connection, got %d" % len(mine))
    states = mine[0]
    est = [r for r in states if r["to"] == "ESTABLISHED"]
    expect(len(est) == 1, "client never ESTABLISHED: %s" % tslib.transitions(states))
    tup = (est[0]["saddr"], est[0]["sport"], est[0]["daddr"], est[0]["dport"])
    expect(tup == (cli_addr, tup[1], srv_addr, run.port), "client tuple %s" % (tup,))
    rtx = [r for r in recs if r.get("event") == "retransmit"]
    lost = recs[-1].get("lost", 0) if recs and recs[-1].get("event") == "summary" else 0
    if lost and len(rtx) < retrans_segs:
        # An event the kernel skipped (e.g. a classic tracepoint program
        # interrupted on its CPU) is reported as lost: honest, but this run
        # cannot check the count.  The caller runs the scenario again.
        raise ReportedLoss("%d retransmit records, %d reported lost" % (len(rtx), lost))
    if len(rtx) < retrans_segs == states[-1].get("total_retrans"):
        # Fewer records than the socket's own counter, none wrong: the
        # skipped-program gap (docs/TIMELINE.md, "Skipped programs"); the
        # timeline must tell it ("Untraced retransmissions").
        r = tslib.run([tslib.TCPSCOPE, "report", "--timeline", "--json", cap])
        told = [c.get("retransmissions_untraced") for c in map(json.loads, r.stdout.split("\n")[:-1])
                if c.get("event") == "connection" and c.get("role") == "client"]
        expect(told == [retrans_segs - len(rtx)], "the timeline tells %s untraced, %d records "
               "and %d counted" % (told, len(rtx), retrans_segs))
        raise ReportedLoss("%d retransmit records, %d counted by the socket; the timeline "
                           "tells %d untraced; records: %s; the tracer said: %s"
                           % (len(rtx), retrans_segs, told[0],
                              [(x["ts_ns"], x["retransmit"].get("reason"),
                                x["retransmit"].get("total_retrans")) for x in rtx],
                              run.warnings))
    expect(len(rtx) == retrans_segs,
           "%d retransmit records, TcpRetransSegs delta %d" % (len(rtx), retrans_segs))
    for r in rtx:
        expect(r["conn"] == states[0]["conn"],
               "retransmit conn %d is not the connection's %d" % (r["conn"], states[0]["conn"]))
        expect((r["saddr"], r["sport"], r["daddr"], r["dport"]) == tup,
               "retransmit tuple %s" % r)
        expect(r["state"] == "ESTABLISHED", "retransmit in %s" % r["state"])
        expect(r["pid"] == run.pid, "retransmit pid %d != client %d" % (r["pid"], run.pid))
        expect(r["family"] == family, "family %s" % r["family"])
        expect(est[0]["ts_ns"] < r["ts_ns"] < states[-1]["ts_ns"],
               "retransmit outside the connection's life")
    # The close record's counters agree with what was seen live.
    expect(states[-1]["to"] == "CLOSE", "client did not close")
    expect(states[-1]["total_retrans"] == len(rtx),
           "total_retrans %d at close, %d records" % (states[-1]["total_retrans"], len(rtx)))


class ReportedLoss(Exception):
    pass


def check_failed_transmit(family, mode, real=False):
    """A retransmission whose transmit fails on the client (an OUTPUT hook
    drop: -EPERM) is counted by the kernel (TcpRetransSegs, the socket's
    total_retrans, TcpExtTCPRetransFail) but nothing leaves the host.  A
    kernel whose tcp_retransmit_skb has err fires it for the failure too
    (a record); an older one does not, and the timeline says how many the
    socket counted beyond the records.  Either way records and untraced
    add up to the kernel's counts, and the probe says which kernel this is."""
    def drops(cns, sns, port, start):
        with tsnet.InputDrop(sns, port, DATA_ONLY[family]) as lost:
            start()
            # The first copy left and was lost on the way in; then the
            # client's next attempt fails in its own OUTPUT hook.
            tslib.wait_until(lambda: lost.dropped() >= 1, 10,
                             "the first copy dropped")
            with tsnet.InputDrop(cns, port, DATA_ONLY[family], hook="output") as fail:
                tslib.wait_until(lambda: fail.dropped() >= 1, 10,
                                 "a retransmission failed on the client")
    run = one_request(family, mode, drops, real, serve=True)
    before, after, recs, cap = run.before, run.after, run.recs, run.cap
    lost_recs = sum(r.get("lost", 0) for r in recs if r.get("event") == "summary")
    if lost_recs:
        raise ReportedLoss("%d records reported lost" % lost_recs)
    segs = tsnet.delta(before, after, "TcpRetransSegs")
    failed = tsnet.delta(before, after, "TcpExtTCPRetransFail")
    rtx = [r for r in recs if r.get("event") == "retransmit"]
    r = tslib.run([tslib.TCPSCOPE, "report", "--timeline", "--json", cap])
    tl = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    conns = [c for c in tl if c.get("event") == "connection" and c.get("role") == "client"]
    expect(len(conns) == 1, "timeline: %d client connections" % len(conns))
    c = conns[0]
    untraced = c["retransmissions_untraced"]
    has_err = tslib.probe().get("failed_retransmits")
    print("TcpRetransSegs %d, TCPRetransFail %d; %d records, %d untraced, total_retrans %s; "
          "the kernel traces failed attempts: %s" % (segs, failed, len(rtx), untraced,
                                                     c["total_retrans"], has_err))
    expect(failed >= 1, "no retransmission failed (TcpExtTCPRetransFail delta %d)" % failed)
    if real:
        expect((c["comm"], c["pid"]) == ("curl", run.pid),
               "the connection is %s's (%s), not curl's (%d)" % (c["comm"], c["pid"], run.pid))
    expect(c["total_retrans"] == segs, "total_retrans %s at close, TcpRetransSegs delta %d"
           % (c["total_retrans"], segs))
    expect(sum(x["retransmit"]["segs"] for x in rtx) == len(rtx) == sum(c["retransmits"].values()),
           "records %d, timeline %s" % (len(rtx), c["retransmits"]))
    if len(rtx) + untraced != segs:
        raise ReportedLoss("%d records and %d untraced, TcpRetransSegs delta %d"
                           % (len(rtx), untraced, segs)) if untraced else \
            tslib.TestFailure("%d records, none untraced, TcpRetransSegs delta %d"
                              % (len(rtx), segs))
    if has_err:
        expect(untraced == 0, "%d untraced where the failed attempts are traced" % untraced)
    else:
        expect(untraced == failed, "%d untraced, %d failed transmits" % (untraced, failed))
    text = tslib.run([tslib.TCPSCOPE, "report", "--timeline", cap]).stdout
    note = "%d retransmission(s) counted by the socket, not traced" % untraced
    expect((note in text) == bool(untraced), "timeline text (untraced %d): %s" % (untraced, text))
    # serve, beside it: its counters tell the same (records, untraced).
    got = (servekit.total(run.metrics, "tcpscope_retransmissions_total"),
           servekit.total(run.metrics, "tcpscope_retransmissions_untraced_total"))
    expect(got == (len(rtx), untraced), "serve counted %d retransmissions and %d untraced; "
           "the capture %d and %d" % (got + (len(rtx), untraced)))


def check_once_more_on_loss(family, mode, check=None):
    """A run whose losses the tracer reported is repeated, twice at most
    (CI once saw two in a row, seconds apart: a pause before each); silent
    losses, or losses three times in a row, fail."""
    check = check or check_retransmit
    for attempt in range(3):
        try:
            check(family, mode)
            return
        except ReportedLoss as e:
            if attempt == 2:
                raise
            print("note: %s; running the scenario again" % e)
            time.sleep(2)


def test_ipv4_btf():
    check_once_more_on_loss(4, "btf")


def test_failed_transmit_btf():
    check_once_more_on_loss(4, "btf", check_failed_transmit)


def test_failed_transmit_classic():
    check_once_more_on_loss(6, "classic", check_failed_transmit)


def test_failed_transmit_curl_nginx():
    """The same with curl POSTing to nginx (two workers): a real client's
    retransmission fails, the socket counts it."""
    check_once_more_on_loss(4, "auto", lambda f, m: check_failed_transmit(f, m, real=True))


def test_ipv6_btf():
    check_once_more_on_loss(6, "btf")


def test_ipv4_classic():
    check_once_more_on_loss(4, "classic")


if __name__ == "__main__":
    tslib.main([test_ipv4_btf, test_ipv6_btf, test_ipv4_classic, test_failed_transmit_btf,
                test_failed_transmit_classic, test_failed_transmit_curl_nginx])
