# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for the tests of 'tcpscope serve': the real service on a free
loopback port, scrapes, the exposition parsed, and a real Prometheus
(Debian's prometheus package) scraping it with a storage directory of its
own on another free loopback port."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import tslib
import tsnet
from tslib import TestFailure, expect

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, timeout=5):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        expect(m, "bad exposition line: %r" % line)
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def total(metrics, name, **want):
    """Sum of the series of name whose labels include want."""
    s = 0.0
    for (n, labels), v in metrics.items():
        if n == name and all((k, str(w)) in labels for k, w in want.items()):
            s += v
    return s


class Serve:
    """tcpscope serve on 127.0.0.1:<free port>, stderr to a file."""

    def __init__(self, *args, netns=None, prefix=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="tsserve")
        self.err = os.path.join(self.dir, "err")
        self.out = os.path.join(self.dir, "out")
        argv = list(prefix) + [tslib.TCPSCOPE, "serve", "--listen", "127.0.0.1:0", "-v",
                               "--duration", "170"]
        if netns is not None:
            argv += ["--netns", netns.path]
        argv += list(args)
        self.proc = subprocess.Popen(argv, stdout=open(self.out, "w"),
                                     stderr=open(self.err, "w"), env=env)
        tslib.wait_until(lambda: "tracing (" in self.stderr() or self.proc.poll() is not None,
                         30, "serve to attach")
        m = re.search(r"serving http://([0-9.]+:[0-9]+)/metrics", self.stderr())
        if self.proc.poll() is not None or not m:
            raise TestFailure("serve did not start: %s" % self.stderr())
        self.addr = m.group(1)
        self.url = "http://%s/metrics" % self.addr

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def scrape(self, timeout=5):
        status, body = http_get(self.url, timeout)
        expect(status == 200, "GET /metrics answered %d: %s" % (status, body[:200]))
        return body

    def metrics(self):
        return parse_metrics(self.scrape())

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        expect(self.proc.returncode == 0, "serve exited with %s: %s"
               % (self.proc.returncode, self.stderr()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def promtool_check(text):
    """promtool check metrics accepts the exposition (lint included)."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    expect(r.returncode == 0, "promtool check metrics failed: %s %s"
           % (r.stdout.strip(), r.stderr.strip()))


class Prometheus:
    """A real Prometheus scraping target every second."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="tsprom")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: tcpscope\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        self.log = os.path.join(self.dir, "log")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.base = "http://127.0.0.1:%d" % self.port

        def ready():
            if self.proc.poll() is not None:
                raise TestFailure("prometheus exited: %s" % open(self.log).read()[-500:])
            try:
                return http_get(self.base + "/-/ready", 1)[0] == 200
            except OSError:
                return False
        tslib.wait_until(ready, 60, "prometheus to be ready", step=0.2)

    def query(self, expr, at=None):
        """The instant vector of expr: [(labels, value)]."""
        q = {"query": expr}
        if at is not None:
            q["time"] = "%.3f" % at
        status, body = http_get(self.base + "/api/v1/query?" + urllib.parse.urlencode(q), 10)
        expect(status == 200, "query %s: %d %s" % (expr, status, body[:300]))
        d = json.loads(body)
        expect(d["status"] == "success", "query %s: %s" % (expr, d))
        return [(r["metric"], float(r["value"][1])) for r in d["data"]["result"]]

    def scalar(self, expr, at=None):
        r = self.query(expr, at)
        expect(len(r) == 1, "query %s gave %r" % (expr, r))
        return r[0][1]

    def wait_scrape_after(self, t, timeout=30):
        """Wait until Prometheus holds a successful scrape taken after wall
        time t; returns that scrape's time."""
        got = []

        def scraped():
            r = self.query('timestamp(up{job="tcpscope"} == 1)')
            if r and r[0][1] > t:
                got.append(r[0][1])
                return True
            return False
        tslib.wait_until(scraped, timeout, "a scrape after %.1f" % t, step=0.25)
        return got[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def opens_match(ns, serve, conns):
    """Make conns connections in ns; then serve's opens must equal the
    namespace's TcpActiveOpens/TcpPassiveOpens deltas (and conns).
    Returns the metrics scraped after them."""
    before = tsnet.nstat(ns)
    srv = tslib.Server(ns, "--addr", "127.0.0.1", "--count", str(conns))
    cli = tslib.client(ns, "--addr", "127.0.0.1", "--port", str(srv.port),
                       "--count", str(conns))
    expect(cli.returncode == 0 and srv.wait() == 0, "traffic failed")
    after = tsnet.nstat(ns)
    time.sleep(1.0)  # a poll and the tracker's linger, with room
    m = serve.metrics()
    active = tsnet.delta(before, after, "TcpActiveOpens")
    passive = tsnet.delta(before, after, "TcpPassiveOpens")
    got_c = total(m, "tcpscope_connections_opened_total", role="client")
    got_s = total(m, "tcpscope_connections_opened_total", role="server")
    # The kernel's counters are the truth serve must equal; a very slow
    # (emulated) machine may count an extra open for a retried SYN, so
    # only fewer than conns is wrong here (as in test_trace_counts).
    expect(active >= conns and passive >= conns,
           "kernel counted %d/%d opens for %d connections" % (active, passive, conns))
    expect(got_c == active and got_s == passive,
           "opens %s client, %s server; TcpActiveOpens %d, TcpPassiveOpens %d"
           % (got_c, got_s, active, passive))
    return m
