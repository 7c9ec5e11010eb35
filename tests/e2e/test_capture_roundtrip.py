#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Record a real scenario with 'trace -w' while it is shown live; 'report'
of the file then prints exactly what live tracing printed, through the same
pipeline (same filters, same JSON), and --summary counts the same."""
import collections
import os
import signal
import tempfile
import time

import capkit
import tslib
from tslib import expect


def scenario(ns):
    """IPv4 and IPv6, client and server closing first, and resets."""
    capkit.traffic(ns, 5, "127.0.0.1", "client-close")
    capkit.traffic(ns, 5, "::1", "server-close")
    capkit.traffic(ns, 3, "127.0.0.1", "rst")


def test_report_equals_live():
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "run.cap")
    with tslib.Netns("caprt") as ns:
        tr = tslib.Tracer("-w", path, netns=ns)
        try:
            scenario(ns)
            live = tr.stop()
        finally:
            tr.kill()
    expect(os.stat(path).st_mode & 0o777 == 0o600, "capture mode %o" % os.stat(path).st_mode)
    rep, err = capkit.report_json(path)
    expect(len(live) > 100, "only %d live records" % len(live))
    expect(rep == live, "report differs from live: %d vs %d records; first difference %s" %
           (len(rep), len(live),
            next(((a, b) for a, b in zip(rep, live) if a != b), "(length)")))
    fams = {r["family"] for r in live if "family" in r}
    expect(fams == {4, 6}, "families %s" % fams)
    expect(any(r["event"] == "reset_sent" for r in live) or
           any(r.get("to") == "CLOSE" and r.get("from") == "ESTABLISHED" for r in live),
           "no reset in the scenario")

    # The same filters, applied in user space to the file.
    port = next(r["dport"] for r in live if r.get("from") == "CLOSE" and r.get("to") == "SYN_SENT")
    rep6, _ = capkit.report_json(path, "-6")
    expect(rep6[:-1] == [r for r in live[:-1] if r.get("family") == 6],
           "-6 filter differs")
    repp, _ = capkit.report_json(path, "--port", str(port))
    expect(repp[:-1] == [r for r in live[:-1]
                         if port in (r.get("sport"), r.get("dport"))], "--port differs")

    # --summary counts what live showed.
    summ, _ = capkit.report_json(path, "--summary")
    expect(len(summ) == 1 and summ[0]["event"] == "report_summary", "summary %s" % summ)
    s = summ[0]
    # One row per transition and label: the labels trace gave them.
    want = collections.Counter((r["from"], r["to"], r["step"]) for r in live
                               if r["event"] == "state")
    got = {(t["from"], t["to"], t["step"]): t["count"] for t in s["transitions"]}
    expect(got == dict(want), "summary transitions %s != %s" % (got, dict(want)))
    expect(s["records"] == live[-1]["records"], "summary records")
    hs = sum(1 for r in live if r.get("from") == "SYN_SENT" and r.get("to") == "ESTABLISHED")
    expect(s["handshake"]["client"]["count"] == hs, "client handshakes")
    expect(s["handshake"]["client"]["p50_us"] <= s["handshake"]["client"]["max_us"], "pct order")

    # The text report is the live text format, one line per record.
    rc, out, err = capkit.report(path, "--color", "never")
    expect(rc == 0, "text report: %s" % err)
    expect(len(out.splitlines()) == len(live) - 1 + 1, "text lines %d" % len(out.splitlines()))


def test_retransmits_in_capture():
    """SYNs dropped at the server (nftables input hook): the client's SYN
    retransmissions are recorded and --summary names the connection."""
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "rt.cap")
    with tslib.Netns("capcli") as a, tslib.Netns("capsrv") as b:
        tslib.veth(a, b)
        srv = tslib.Server(b, "--addr", "198.18.0.2", "--count", "1")
        b.run(["nft", "add table inet tsrt"])
        b.run(["nft", "add chain inet tsrt in { type filter hook input priority 0 ; }"])
        b.run(["nft", "add rule inet tsrt in tcp dport %d tcp flags syn drop" % srv.port])
        tr = tslib.Tracer("-w", path, netns=a)
        try:
            cli = a.popen(["python3", tslib.TCPKIT, "client", "--addr", "198.18.0.2",
                           "--port", str(srv.port), "--timeout", "20"])
            # The first SYN and its retransmission 1 s later are dropped.
            tslib.wait_syn_sent(a, srv.port)
            time.sleep(1.5)
            b.run(["nft", "delete table inet tsrt"])
            expect(cli.wait(timeout=30) == 0, "client failed")
            expect(srv.wait() == 0, "server failed")
            live = tr.stop()
        finally:
            tr.kill()
    rep, _ = capkit.report_json(path)
    expect(rep == live, "report differs from live")
    rts = [r for r in live if r["event"] == "retransmit"]
    expect(len(rts) >= 1 and all(r["state"] == "SYN_SENT" for r in rts),
           "SYN retransmits: %s" % rts)
    s = capkit.report_json(path, "--summary")[0][0]
    expect(s["retransmits_by_state"].get("SYN_SENT") == len(rts), "summary retransmits %s" % s)
    top = s["top_retransmits"]
    expect(len(top) == 1 and top[0]["conn"] == rts[0]["conn"] and
           top[0]["retransmits_total"] == len(rts) and top[0]["dport"] == srv.port,
           "top retransmitters %s" % top)
    rc, out, _ = capkit.report(path, "--summary")
    expect(rc == 0 and "Top connections by retransmissions" in out, "text summary")


def test_losses_in_stream():
    """A 4 KiB ring buffer overflows while the tracer is stopped (SIGSTOP,
    so that nothing drains it): the loss records are in the file where
    they happened, and the trailer counts them."""
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "lost.cap")
    with tslib.Netns("caplost") as ns:
        tr = tslib.Tracer("-w", path, "--ring-size", "4096", netns=ns)
        try:
            capkit.traffic(ns, 5)
            time.sleep(0.3)
            os.kill(tr.proc.pid, signal.SIGSTOP)
            try:
                capkit.traffic(ns, 200)
            finally:
                os.kill(tr.proc.pid, signal.SIGCONT)
            capkit.traffic(ns, 5)
            live = tr.stop()
        finally:
            tr.kill()
    lost = [r for r in live if r["event"] == "lost"]
    expect(lost and live[-1]["lost"] == sum(r["count"] for r in lost),
           "the burst should overflow a 4 KiB ring: %s" % live[-1])
    first_loss = next(i for i, r in enumerate(live) if r["event"] == "lost")
    expect(any(r["event"] == "state" for r in live[first_loss:]),
           "no events after the loss: it should sit inside the stream")
    rep, err = capkit.report_json(path, "--info")
    expect(rep == live, "report differs from live (%d vs %d records)" % (len(rep), len(live)))
    expect("trailer: %d events, %d lost" % (live[-1]["records"], live[-1]["lost"]) in err,
           "trailer: %s" % err)


def test_timelines_equal_live():
    """trace --timeline -w FILE shows each connection's story live; report
    --timeline of FILE tells the same stories (same tracker, same records)."""
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "tl.cap")
    with tslib.Netns("captl") as ns:
        tr = tslib.Tracer("--timeline", "-w", path, netns=ns)
        try:
            scenario(ns)
            live = tr.stop()
        finally:
            tr.kill()
    rep, _ = capkit.report_json(path, "--timeline")
    lconns = {c["conn"]: c for c in live if c.get("event") == "connection"}
    rconns = {c["conn"]: c for c in rep if c.get("event") == "connection"}
    # 13 client and 13 server connections, 3 listeners.
    expect(len(lconns) >= 29, "only %d live connections" % len(lconns))
    expect(set(rconns) == set(lconns), "connections differ: %s" %
           sorted(set(rconns) ^ set(lconns)))
    for conn, c in lconns.items():
        expect(rconns[conn] == c, "timeline of %d differs:\nlive   %s\nreport %s"
               % (conn, c, rconns[conn]))
    kinds = collections.Counter(c["close"] for c in lconns.values())
    expect(kinds["active"] >= 10 and kinds["passive"] >= 10, "close kinds %s" % kinds)


if __name__ == "__main__":
    tslib.main([test_report_equals_live, test_timelines_equal_live, test_retransmits_in_capture, test_losses_in_stream])
