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


# Emulated kernels (the kernel matrix's guests run under qemu without KVM)
# are many times slower: their budgets for whole programs scale by this.
TIME_SCALE = max(1, int(os.environ.get("TS_TIME_SCALE", "1") or 1))


class TestFailure(Exception):
    pass


class TestSkip(Exception):
    """The kernel lacks what the test needs (as tcpscope's probes say)."""


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


def run(args, check=True, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=kw.pop("timeout", 60) * TIME_SCALE, **kw)
    if check and r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                  r.stderr.strip()))
    return r


def wait_until(pred, timeout, what, step=0.05):
    """Poll pred() until true; at most timeout seconds (times TIME_SCALE:
    these are bounds against hangs, never assertions on speed)."""
    timeout *= TIME_SCALE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))


def settle(*nss, timeout=10):
    """Wait until every connection in the namespaces has closed (TIME_WAIT
    and LISTEN sockets aside).  A process's exit does not wait for its
    sockets: the last segments of a close, and on an emulated kernel the
    softirq work that handles them, may come after; so may a FIN sent
    again.  Stop a tracer only after this, or its last events are missed."""
    def quiet():
        for ns in nss:
            for l in ns.run(["ss", "-Htan"]).stdout.split("\n"):
                if l.split() and l.split()[0] not in ("TIME-WAIT", "LISTEN"):
                    return False
        return True
    wait_until(quiet, timeout, "the connections to close")


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
        self.proc.wait(timeout=timeout * TIME_SCALE)
        return self.proc.returncode


def client(ns, *args, timeout=60):
    """Run tcpkit.py client to completion; returns (pid, returncode)."""
    p = ns.popen(["python3", TCPKIT, "client"] + list(args),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.wait(timeout=timeout * TIME_SCALE)
    return p


class Tracer:
    """The real tcpscope, started with --json on one namespace."""

    def __init__(self, *args, netns=None, cmd="trace", env=None):
        self.dir = tempfile.mkdtemp(prefix="tstrace")
        self.out = os.path.join(self.dir, "out")
        self.err = os.path.join(self.dir, "err")
        require_mode(args)
        argv = [TCPSCOPE, cmd, "--json", "-v", "--duration", "120"]
        if netns is not None:
            argv += ["--netns", netns.path]
        argv += list(args)
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=open(self.out, "w"),
                                     stderr=open(self.err, "w"),
                                     env=dict(os.environ, **env) if env else None)
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
        self.proc.wait(timeout=20 * TIME_SCALE)
        expect(self.proc.returncode == 0,
               "tracer exited with %s: %s" % (self.proc.returncode, self.stderr()))
        return self.records()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def wait_syn_sent(ns, port, timeout=15):
    """Wait until a socket of ns has sent its SYN to port, so that a test's
    own clock starts at the SYN and not at a (slowly starting) client."""
    def sent():
        r = ns.run(["ss", "-Htn", "state", "syn-sent", "dport", "= :%d" % port])
        return bool(r.stdout.strip())
    wait_until(sent, timeout, "a SYN to port %d" % port)


def by_conn(recs, event="state"):
    """{conn: [records in time order]} for one event kind."""
    out = {}
    for r in sorted((r for r in recs if r.get("event") == event), key=lambda r: r["ts_ns"]):
        out.setdefault(r["conn"], []).append(r)
    return out


def transitions(recs):
    return [(r["from"], r["to"]) for r in recs]


DUPLICATE_CHILD = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "CLOSE")]


def duplicate_children(conns):
    """Ids of the kernel's discarded duplicate children in by_conn()'s
    result.  When two CPUs take one request's final ACK (and the first
    data) at once, each makes a child; the kernel keeps one and closes
    the other at once (inet_ehash_nolisten() fails).  That socket really
    lived, and is traced as it was, LISTEN -> SYN_RECV -> CLOSE, with the
    same addresses as its sibling that went on to ESTABLISHED: no
    connection of its own.  Rare (seen under emulation on 6.1)."""
    def tup(c):
        r = c[-1]
        return (r["netns"], r["saddr"], r["sport"], r["daddr"], r["dport"])
    kept = {tup(c) for c in conns.values() if any(r["to"] == "ESTABLISHED" for r in c)}
    return {k for k, c in conns.items()
            if transitions(c) == DUPLICATE_CHILD and tup(c) in kept}


def connections(recs):
    """by_conn() of the state records without the kernel's discarded
    duplicate children (duplicate_children())."""
    conns = by_conn(recs)
    dup = duplicate_children(conns)
    return {k: c for k, c in conns.items() if k not in dup}


_PROBE = None


def probe():
    """What tcpscope finds on the running kernel ('tcpscope probe --json'):
    the same probes that choose what it loads decide what tests skip."""
    global _PROBE
    if _PROBE is None:
        # A kernel-matrix guest probes once for all test files.
        cached = os.environ.get("TS_PROBE_FILE")
        if cached:
            with open(cached) as f:
                _PROBE = json.load(f)
        else:
            r = run([TCPSCOPE, "probe", "--json"], timeout=120)
            _PROBE = json.loads(r.stdout)
    return _PROBE


def require(feature, what=None):
    """Skip the running test unless the probe says feature is there.
    feature is a key of the probe's JSON ("resets", "synack_retransmits",
    "socket_cookies", "iterators", "btf_variant", "classic_variant")."""
    p = probe()
    v = p.get(feature)
    if isinstance(v, dict):
        ok, why = v.get("loads"), v.get("error") or "does not load"
    else:
        ok, why = bool(v), p.get(feature + "_why") or "not on this kernel"
    if not ok:
        raise TestSkip("%s: %s" % (what or feature, why))


def require_mode(args):
    """Skip unless the variant that args ask for (--tp-mode btf/classic)
    loads on this kernel; auto loads whichever does."""
    args = list(args)
    for i, a in enumerate(args[:-1]):
        if a == "--tp-mode" and args[i + 1] in ("btf", "classic"):
            require(args[i + 1] + "_variant", "the %s variant" % args[i + 1])


def _host_only():
    """{test: reason} of this file's tests that the kernel matrix leaves to
    the host (tests/kernels/host-only.list, "file:test reason" lines),
    when TS_HOST_ONLY names that list (the matrix's guests set it)."""
    path = os.environ.get("TS_HOST_ONLY")
    me = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    out = {}
    if not path:
        return out
    with open(path) as f:
        for line in f:
            parts = line.split(None, 1)
            if not parts or parts[0].startswith("#") or ":" not in parts[0]:
                continue
            fname, test = parts[0].split(":", 1)
            if fname == me:
                out[test] = parts[1].strip() if len(parts) > 1 else "host-only"
    return out


def main(tests):
    """Run test functions; print the closing count line; exit 0 only if
    none failed.  TS_ONLY=a,b runs only the named tests (kernel matrix)."""
    passed = failed = skipped = 0
    only = [n for n in os.environ.get("TS_ONLY", "").split(",") if n]
    unknown = set(only) - {t.__name__ for t in tests}
    if unknown:
        print("FAIL TS_ONLY: no test named %s" % ", ".join(sorted(unknown)))
        failed += 1
    host_only = _host_only()
    for t in tests:
        if only and t.__name__ not in only:
            continue
        if t.__name__ in host_only:
            skipped += 1
            print("skip %s: host-only: %s" % (t.__name__, host_only[t.__name__]), flush=True)
            continue
        start = time.monotonic()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.monotonic() - start), flush=True)
        except TestSkip as e:
            # Only where skips are expected (the kernel matrix's guests set
            # TS_ALLOW_SKIP=1); elsewhere a kernel that lacks something is a
            # failure, never a silent pass.
            if os.environ.get("TS_ALLOW_SKIP") == "1":
                skipped += 1
                print("skip %s: %s" % (t.__name__, e), flush=True)
            else:
                failed += 1
                print("FAIL %s: would skip (set TS_ALLOW_SKIP=1 to allow): %s" % (t.__name__, e),
                      flush=True)
        except Exception as e:  # report every kind of failure the same way
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e), flush=True)
    print("%d passed, %d failed%s" % (passed, failed,
                                      ", %d skipped" % skipped if skipped else ""))
    sys.exit(1 if failed else 0)
