# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for tcpscope's end-to-end tests: network namespaces that each
test creates and always removes, the real tracer, and bounded waits.

Addresses: loopback inside a namespace, or 198.18.0.0/15 (RFC 2544) and
2001:db8::/32 (documentation) on veth pairs between the test's own
namespaces.  No traffic ever leaves them."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TS_SRC", os.path.dirname(os.path.dirname(HERE)))
TCPSCOPE = os.environ.get("TCPSCOPE", os.path.join(SRC, "build", "tcpscope"))
TCPKIT = os.path.join(HERE, "tcpkit.py")


class TestFailure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


def run(args, check=True, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=kw.pop("timeout", 60), **kw)
    if check and r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                  r.stderr.strip()))
    return r


def wait_until(pred, timeout, what, step=0.05):
    """Poll pred() until true; at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))


class Netns:
    """A network namespace with loopback up; removed on exit."""
    count = 0

    def __init__(self, tag):
        Netns.count += 1
        self.name = "ts-%s-%d-%d" % (tag, os.getpid(), Netns.count)
        self.path = "/run/netns/" + self.name

    def __enter__(self):
        run(["ip", "netns", "add", self.name])
        self.run(["ip", "link", "set", "lo", "up"])
        return self

    def __exit__(self, *exc):
        # Kill whatever still runs inside, then remove the namespace.
        r = run(["ip", "netns", "pids", self.name], check=False)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", self.name], check=False)

    def inode(self):
        return os.stat(self.path).st_ino

    def cmd(self, args):
        return ["ip", "netns", "exec", self.name] + list(args)

    def run(self, args, check=True, **kw):
        return run(self.cmd(args), check=check, **kw)

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), **kw)


def veth(a, b, v4=("198.18.0.1", "198.18.0.2"), v6=("2001:db8::1", "2001:db8::2")):
    """Link namespaces a and b with a veth pair and give each end addresses."""
    ia, ib = "v%da" % Netns.count, "v%db" % Netns.count
    run(["ip", "link", "add", ia, "netns", a.name, "type", "veth", "peer",
         "name", ib, "netns", b.name])
    for ns, ifc, a4, a6 in ((a, ia, v4[0], v6[0]), (b, ib, v4[1], v6[1])):
        ns.run(["ip", "addr", "add", a4 + "/24", "dev", ifc])
        ns.run(["ip", "addr", "add", a6 + "/64", "dev", ifc, "nodad"])
        ns.run(["ip", "link", "set", ifc, "up"])
    return ia, ib


class Server:
    """tcpkit.py server in a namespace; .port and .pid once listening."""

    def __init__(self, ns, *args):
        self.tmp = tempfile.mkdtemp(prefix="tssrv")
        ready = os.path.join(self.tmp, "ready")
        self.proc = ns.popen(["python3", TCPKIT, "server", "--ready", ready] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: os.path.exists(ready) or self.proc.poll() is not None,
                   15, "the test server to listen")
        if not os.path.exists(ready):
            raise TestFailure("test server died: %s" % self.proc.stderr.read())
        port, pid = open(ready).read().split()
        self.port, self.pid = int(port), int(pid)

    def wait(self, timeout=30):
        self.proc.wait(timeout=timeout)
        return self.proc.returncode


def client(ns, *args, timeout=60):
    """Run tcpkit.py client to completion; returns (pid, returncode)."""
    p = ns.popen(["python3", TCPKIT, "client"] + list(args),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.wait(timeout=timeout)
    return p


class Tracer:
    """The real tcpscope, started with --json on one namespace."""

    def __init__(self, *args, netns=None, cmd="trace"):
        self.dir = tempfile.mkdtemp(prefix="tstrace")
        self.out = os.path.join(self.dir, "out")
        self.err = os.path.join(self.dir, "err")
        argv = [TCPSCOPE, cmd, "--json", "-v", "--duration", "120"]
        if netns is not None:
            argv += ["--netns", netns.path]
        argv += list(args)
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=open(self.out, "w"),
                                     stderr=open(self.err, "w"))
        wait_until(lambda: "tracing (" in self.stderr() or self.proc.poll() is not None,
                   20, "the tracer to attach")
        if self.proc.poll() is not None:
            raise TestFailure("tracer exited early: %s" % self.stderr())

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def records(self):
        """The objects after the stream's header (checked, left out)."""
        recs = []
        with open(self.out) as f:
            for line in f:
                line = line.strip()
                if line:
                    recs.append(json.loads(line))
        if recs:
            expect(recs[0].get("event") == "header" and recs[0]["schema"] == "tcpscope/1",
                   "the stream does not start with its header: %s" % recs[0])
            recs = recs[1:]
        return recs

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=20)
        expect(self.proc.returncode == 0,
               "tracer exited with %s: %s" % (self.proc.returncode, self.stderr()))
        return self.records()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def by_conn(recs, event="state"):
    """{conn: [records in time order]} for one event kind."""
    out = {}
    for r in sorted((r for r in recs if r.get("event") == event), key=lambda r: r["ts_ns"]):
        out.setdefault(r["conn"], []).append(r)
    return out


def transitions(recs):
    return [(r["from"], r["to"]) for r in recs]


def main(tests):
    """Run test functions; print the closing count line; exit 0 only if all pass."""
    passed = failed = 0
    for t in tests:
        start = time.monotonic()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.monotonic() - start))
        except Exception as e:  # report every kind of failure the same way
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
