#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Losses are reported, never hidden: with a 4 KiB ring buffer and the
reader stopped (SIGSTOP) during a burst of connections, the ring overflows;
the tracer must then print {"event":"lost","count":N} lines whose sum is the
summary's lost count and the total on stderr, and events received plus
events lost must account for every transition the burst made.
Liveness: with output going to a file, one connection's events are in the
file within 2 s while the tracer keeps running."""
import os
import re
import signal
import time

import tslib
import tsnet
from tslib import expect

BURST = 100  # connections; 10 transitions each on loopback


def test_ring_overflow_reported():
    with tslib.Netns("lost") as ns:
        # Only state changes compete for the ring here (a stopped reader
        # makes closes purge queues: drop records would share the loss).
        tr = tslib.Tracer("--ring-size", "4K", "--no-drops", netns=ns)
        try:
            before = tsnet.nstat(ns)
            os.kill(tr.proc.pid, signal.SIGSTOP)
            try:
                srv = tslib.Server(ns, "--count", str(BURST))
                cli = tslib.client(ns, "--port", str(srv.port), "--count", str(BURST))
                expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
                expect(srv.wait() == 0, "server failed")
            finally:
                os.kill(tr.proc.pid, signal.SIGCONT)
            after = tsnet.nstat(ns)
            # The loss is reported as soon as the reader sees it.
            tslib.wait_until(lambda: '"event":"lost"' in open(tr.out).read(), 5,
                             "a lost record while tracing")
            expect(tr.proc.poll() is None, "tracer stopped")
            recs = tr.stop()
        finally:
            tr.kill()
    lost = [r for r in recs if r["event"] == "lost"]
    summary = recs[-1]
    expect(summary["event"] == "summary", "no summary: %s" % summary)
    total = sum(r["count"] for r in lost)
    expect(total > 0 and all(r["count"] > 0 for r in lost), "lost records %s" % lost)
    expect(summary["lost"] == total, "summary lost %d != sum of lost records %d"
           % (summary["lost"], total))
    m = re.search(r"tcpscope: (\d+) events, (\d+) lost", tr.stderr())
    expect(m, "no total line on stderr: %r" % tr.stderr())
    expect(int(m.group(2)) == total, "stderr says %s lost, records say %d" % (m.group(2), total))
    # Records of every kind count: on a slow (emulated) machine a timer
    # may retransmit a segment of the burst, a record that can be lost too.
    kinds = ("state", "retransmit", "synack_retransmit", "reset_sent", "reset_received")
    events = [r for r in recs if r["event"] in kinds]
    expect(int(m.group(1)) == summary["records"] == len(events),
           "event counts: stderr %s, summary %d, stream %d"
           % (m.group(1), summary["records"], len(events)))
    # Every transition is either shown or counted as lost: 5 per client,
    # 5 per server socket, and the listener's two; and every segment the
    # kernel retransmitted and reset it sent (nstat, in the namespace).
    extra = (tsnet.delta(before, after, "TcpRetransSegs") +
             tsnet.delta(before, after, "TcpOutRsts"))
    expected = 10 * BURST + 2 + extra
    expect(len(events) + total == expected,
           "%d shown + %d lost != %d transitions made (+ %d retransmitted/reset)"
           % (len(events), total, expected, extra))


def check_live(args, marker, sig=signal.SIGINT):
    """Start tcpscope with stdout to a file, make one connection, and wait
    (2 s at most) for marker to show in the file while it still runs; then
    stop it with sig, which must end it cleanly."""
    with tslib.Netns("live") as ns:
        p, out, err = tsnet.start_to_files(ns, args)
        try:
            srv = tslib.Server(ns, "--count", "1")
            cli = tslib.client(ns, "--port", str(srv.port))
            expect(cli.returncode == 0 and srv.wait() == 0, "traffic failed")
            done = time.monotonic()
            tslib.wait_until(lambda: open(out).read().count(marker) >= 2, 2.0,
                             "both ends' closing events in the output file")
            expect(time.monotonic() - done <= 2.0, "events took over 2 s")
            expect(p.poll() is None, "tracer exited early")
        finally:
            if p.poll() is None:
                p.send_signal(sig)
            p.wait(timeout=20)
    expect(p.returncode == 0, "tracer exit status %d: %s" % (p.returncode, open(err).read()))
    expect(re.search(r"tcpscope: \d+ events, 0 lost", open(err).read()), "no total line")
    return open(out).read()


def test_live_json_to_file():
    text = check_live(["--json"], '"to":"CLOSE"', sig=signal.SIGTERM)
    # SIGTERM ends the stream as cleanly as Ctrl-C: with its summary.
    expect(text.splitlines()[-1].startswith('{"event":"summary"'), "no summary after SIGTERM")


def test_live_text_to_file():
    check_live(["--flush-ms", "50"], "-> CLOSE ")


if __name__ == "__main__":
    tslib.main([test_ring_overflow_reported, test_live_json_to_file, test_live_text_to_file])
