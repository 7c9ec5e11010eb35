#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A bounded soak of tcpscope serve: connection churn as fast as the churn
generator goes, for SOAK seconds in a namespace, while the test samples
serve's resident memory and scrapes /metrics every couple of seconds.

 - memory is flat: after a warm-up, no sample exceeds the warm-up's highest
   by more than MARGIN;
 - every scrape during the churn answers within a second (the HTTP thread
   never waits for the tracing loop beyond a copy under the mutex);
 - the counters agree with the kernel's: the opens equal the namespace's
   TcpActiveOpens and TcpPassiveOpens deltas (when no event was lost;
   otherwise the opens missing are no more than
   tcpscope_events_lost_total).
The figures are printed for docs/SERVE.md."""
import os
import re
import subprocess
import time

import servekit
import tslib
import tsnet
from tslib import expect

SOAK = int(os.environ.get("TS_SOAK_SECONDS", "60"))
WARMUP = 15
MARGIN = 8 << 20  # bytes
EVERY = 2.0


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) * 1024


def test_soak():
    churn = os.path.join(os.environ.get("TS_BUILD", os.path.join(tslib.SRC, "build")), "churn")
    expect(os.access(churn, os.X_OK), "no churn generator at %s" % churn)
    with tslib.Netns("soak") as ns:
        serve = servekit.Serve("--max-conns", "65536", netns=ns)
        gen = None
        try:
            before = tsnet.nstat(ns)
            gen = ns.popen([churn, "-n", "100000000", "-d", str(SOAK * 1000), "-c", "2", "-s", "2",
                            "-m", "client-close"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
            start = time.monotonic()
            samples, slowest, scrapes = [], 0.0, 0
            while gen.poll() is None and time.monotonic() - start < SOAK + 30:
                time.sleep(EVERY)
                t = time.monotonic()
                status, body = servekit.http_get(serve.url, timeout=1.0)
                took = time.monotonic() - t
                expect(status == 200, "scrape during churn answered %d" % status)
                slowest = max(slowest, took)
                scrapes += 1
                samples.append((time.monotonic() - start, rss(serve.proc.pid)))
            out, err = gen.communicate(timeout=30)
            expect(gen.returncode == 0, "churn failed: %s" % (err.strip() or out.strip()))
            after = tsnet.nstat(ns)
            time.sleep(1.0)
            m = serve.metrics()
            end_rss = rss(serve.proc.pid)
            serve.stop()
        finally:
            if gen and gen.poll() is None:
                gen.kill()
            serve.kill()
    active = tsnet.delta(before, after, "TcpActiveOpens")
    passive = tsnet.delta(before, after, "TcpPassiveOpens")
    warm = [r for t, r in samples if t <= WARMUP]
    late = [r for t, r in samples if t > WARMUP]
    expect(warm and late, "too few samples: %r" % samples)
    base = max(warm)
    peak = max(late)
    lost = servekit.total(m, "tcpscope_events_lost_total")
    opened_c = servekit.total(m, "tcpscope_connections_opened_total", role="client")
    opened_s = servekit.total(m, "tcpscope_connections_opened_total", role="server")
    print("soak: %ds churn, %d connections (%.0f/s), %d scrapes, slowest %.3fs; RSS after "
          "warm-up %.1f MiB, highest later %.1f MiB, at the end %.1f MiB; %d events lost"
          % (SOAK, active, active / SOAK, scrapes, slowest, base / 2**20, peak / 2**20,
             end_rss / 2**20, lost))
    expect(active > 1000, "churn made only %d connections" % active)
    expect(peak <= base + MARGIN, "RSS grew from %d to %d bytes (margin %d)"
           % (base, peak, MARGIN))
    if lost == 0:
        expect(opened_c == active and opened_s == passive,
               "opens %d/%d, kernel %d/%d" % (opened_c, opened_s, active, passive))
    else:
        # A loss may be any record (a close, a drop): the opens missing are
        # no more than the loss said, and none is counted twice.
        expect(opened_c <= active and opened_s <= passive,
               "opens %d/%d, more than the kernel's %d/%d" % (opened_c, opened_s, active, passive))
        expect((active - opened_c) + (passive - opened_s) <= lost,
               "opens %d/%d, kernel %d/%d: more missing than the %d said lost"
               % (opened_c, opened_s, active, passive, lost))


if __name__ == "__main__":
    tslib.main([test_soak])
