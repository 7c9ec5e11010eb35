#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tcpscope serve scraped by a real Prometheus: while connections are made
in a fresh namespace, the increase of tcpscope_connections_opened_total
(queried from Prometheus' HTTP API, scrapes before and after the traffic)
equals the namespace's TcpActiveOpens and TcpPassiveOpens deltas from
nstat, the handshake histograms count every connection, and promtool
accepts the exposition and docs/prometheus-scrape.yml."""
import time

import servekit
import tslib
import tsnet
from tslib import expect

CONNS = 150
# A connection reaches the counters within a poll (100 ms) plus the
# tracker's linger (100 ms); a scrape this long after the traffic sees all.
SETTLE = 1.0

OPENED = 'sum(tcpscope_connections_opened_total{role="%s"}) or vector(0)'
HS_COUNT = 'sum(tcpscope_handshake_duration_seconds_count{role="%s"})'
CLOSED = 'sum(tcpscope_connections_closed_total{role="%s"}) or vector(0)'


def values(prom, at):
    return {
        "client": prom.scalar(OPENED % "client", at),
        "server": prom.scalar(OPENED % "server", at),
        "hs_client": prom.scalar(HS_COUNT % "client", at),
        "hs_server": prom.scalar(HS_COUNT % "server", at),
        "closed_client": prom.scalar(CLOSED % "client", at),
        "closed_server": prom.scalar(CLOSED % "server", at),
    }


def check(addr):
    with tslib.Netns("prom") as ns:
        serve = servekit.Serve(netns=ns)
        prom = None
        try:
            prom = servekit.Prometheus(serve.addr)
            t0 = time.time()
            before = tsnet.nstat(ns)
            at0 = prom.wait_scrape_after(t0)
            v0 = values(prom, at0)

            srv = tslib.Server(ns, "--addr", addr, "--count", str(CONNS))
            cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port),
                               "--count", str(CONNS), timeout=90)
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            after = tsnet.nstat(ns)
            at1 = prom.wait_scrape_after(time.time() + SETTLE)
            v1 = values(prom, at1)

            text = serve.scrape()
            servekit.promtool_check(text)
            m = servekit.parse_metrics(text)
            expect(servekit.total(m, "tcpscope_build_info") == 1, "no tcpscope_build_info")
            expect(servekit.total(m, "tcpscope_events_lost_total") == 0, "events lost")
            expect(any(n == "tcpscope_sockets" for n, _ in m), "no tcpscope_sockets")
            expect(servekit.total(m, "process_resident_memory_bytes") > 0, "no process metrics")
        finally:
            if prom:
                prom.stop()
            serve.kill()
    active = tsnet.delta(before, after, "TcpActiveOpens")
    passive = tsnet.delta(before, after, "TcpPassiveOpens")
    expect(active == CONNS and passive == CONNS,
           "kernel counted %d active, %d passive opens for %d connections"
           % (active, passive, CONNS))
    inc = {k: v1[k] - v0[k] for k in v0}
    expect(inc["client"] == active, "client opens rose by %s in Prometheus, TcpActiveOpens by %d"
           % (inc["client"], active))
    expect(inc["server"] == passive, "server opens rose by %s in Prometheus, TcpPassiveOpens by %d"
           % (inc["server"], passive))
    expect(inc["hs_client"] == active and inc["hs_server"] == passive,
           "handshake histograms counted %s client, %s server for %d connections"
           % (inc["hs_client"], inc["hs_server"], CONNS))
    expect(inc["closed_client"] == CONNS and inc["closed_server"] == CONNS,
           "closed: %s client, %s server" % (inc["closed_client"], inc["closed_server"]))


def test_prometheus_ipv4():
    check("127.0.0.1")


def test_prometheus_ipv6():
    check("::1")


def test_scrape_config_in_docs():
    r = tslib.run([servekit.PROMTOOL, "check", "config",
                   tslib.os.path.join(tslib.SRC, "docs", "prometheus-scrape.yml")], check=False)
    expect(r.returncode == 0, "promtool rejects docs/prometheus-scrape.yml: %s %s"
           % (r.stdout, r.stderr))


if __name__ == "__main__":
    tslib.main([test_prometheus_ipv4, test_prometheus_ipv6, test_scrape_config_in_docs])
