#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The kernel-side filters: -p PID (a client's own connections only; the
server's PID gives its listener and passive connections), --port, --sport,
--dport, -4 and -6.  Each tracer runs on the test's own namespace."""
import os
import subprocess
import tempfile

import tslib
from tslib import expect

N = 3  # connections per client


class Gated:
    """tcpkit.py started in ns but held until gate() is called, so that its
    PID is known before it makes any socket.  The shell waits (bounded) for
    a file, then execs python in its place: the PID stays the same."""

    def __init__(self, ns, *args):
        self.gate_file = os.path.join(tempfile.mkdtemp(prefix="tsgate"), "go")
        script = ('for i in $(seq 400); do [ -e "$1" ] && break; sleep 0.05; done; '
                  'shift; exec python3 "$@"')
        self.proc = ns.popen(["sh", "-c", script, "sh", self.gate_file, tslib.TCPKIT]
                             + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid

    def gate(self):
        open(self.gate_file, "w").close()

    def wait(self, timeout=30):
        self.proc.wait(timeout=timeout)
        expect(self.proc.returncode == 0, "tcpkit failed: %s" % self.proc.stderr.read())


def kinds(recs):
    """Split state records into client, server and listener sockets."""
    conns = tslib.connections(recs)
    cli = [c for c in conns.values() if (c[0]["from"], c[0]["to"]) == ("CLOSE", "SYN_SENT")]
    srv = [c for c in conns.values() if c[0]["from"] == "LISTEN"]
    lst = [c for c in conns.values() if c[0]["to"] == "LISTEN"]
    return cli, srv, lst


def listening(ns, port):
    """Whether /proc/net/tcp in ns shows a socket in LISTEN (0A) on port."""
    for line in ns.run(["cat", "/proc/net/tcp"]).stdout.splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and int(f[1].split(":")[1], 16) == port:
            return True
    return False


def run_pid_filter(pick, mode="btf"):
    """Server and two clients, PIDs known before they start; trace -p the
    one pick() chooses with the mode variant.  Returns (records, server,
    client a, client b)."""
    port = 5001  # the namespace is new: nothing else can hold it
    with tslib.Netns("pid") as ns:
        srv = Gated(ns, "server", "--port", str(port), "--count", str(2 * N))
        a = Gated(ns, "client", "--port", str(port), "--count", str(N))
        b = Gated(ns, "client", "--port", str(port), "--count", str(N))
        tr = tslib.Tracer("-p", str(pick(srv, a, b)), "--tp-mode", mode, netns=ns)
        try:
            srv.gate()
            tslib.wait_until(lambda: listening(ns, port), 10, "the server to listen")
            a.gate()
            b.gate()
            a.wait()
            b.wait()
            srv.wait()
            recs = tr.stop()
        finally:
            tr.kill()
            for p in (srv, a, b):
                if p.proc.poll() is None:
                    p.proc.kill()
    expect(recs[-1]["event"] == "summary" and recs[-1]["lost"] == 0, "summary %s" % recs[-1])
    return recs[:-1], srv, a, b


def test_pid_client():
    recs, srv, a, b = run_pid_filter(lambda srv, a, b: a.pid)
    cli, servers, lst = kinds(recs)
    expect(all(r["pid"] == a.pid for r in recs),
           "pids %s, wanted only %d" % ({r["pid"] for r in recs}, a.pid))
    expect(len(cli) == N, "client a: %d connections, wanted %d" % (len(cli), N))
    expect(all(len(c) == 5 for c in cli), "client connections incomplete")
    expect(not servers and not lst, "server sockets shown with -p of a client")


def test_pid_server(mode="btf"):
    recs, srv, a, b = run_pid_filter(lambda srv, a, b: srv.pid, mode)
    cli, servers, lst = kinds(recs)
    expect(all(r["pid"] == srv.pid for r in recs),
           "pids %s, wanted only %d" % ({r["pid"] for r in recs}, srv.pid))
    expect(not cli, "client connections shown with -p of the server")
    expect(len(servers) == 2 * N, "%d passive connections, wanted %d" % (len(servers), 2 * N))
    expect(all(len(c) == 5 and c[0]["owner_from_listener"] for c in servers),
           "passive connections incomplete or not owned through the listener")
    expect(len(lst) == 1 and tslib.transitions(lst[0]) == [("CLOSE", "LISTEN"),
                                                           ("LISTEN", "CLOSE")],
           "listener: %s" % [tslib.transitions(l) for l in lst])


def test_pid_server_classic():
    test_pid_server("classic")


def traffic(ns, servers):
    """Run one tcpkit server per (addr) and N client connections to each;
    returns the servers' ports in order."""
    ports = []
    for addr in servers:
        srv = tslib.Server(ns, "--addr", addr, "--count", str(N))
        cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port), "--count", str(N))
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        ports.append(srv.port)
    return ports


def stop_all(tracers):
    out = []
    for t in tracers:
        recs = t.stop()
        expect(recs[-1]["event"] == "summary" and recs[-1]["lost"] == 0,
               "summary %s" % recs[-1])
        out.append(recs[:-1])
    return out


def test_ports():
    # The ports are only known once the servers listen, so each tracer
    # filters on a port fixed in advance.
    p1, p2 = 5101, 5102
    with tslib.Netns("ports") as ns:
        trs = [tslib.Tracer(flag, str(p1), netns=ns) for flag in ("--port", "--sport", "--dport")]
        try:
            for port in (p1, p2):
                srv = tslib.Server(ns, "--port", str(port), "--count", str(N))
                cli = tslib.client(ns, "--port", str(port), "--count", str(N))
                expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
                expect(srv.wait() == 0, "server failed")
            both, local, remote = stop_all(trs)
        finally:
            for t in trs:
                t.kill()
    expect(all(p1 in (r["sport"], r["dport"]) for r in both), "--port let another port through")
    cli, srv, lst = kinds(both)
    expect(len(cli) == N and len(srv) == N and len(lst) == 1,
           "--port: %d client, %d server, %d listener sockets" % (len(cli), len(srv), len(lst)))
    expect(all(len(c) == 5 for c in cli + srv), "--port: connections incomplete")

    expect(all(r["sport"] == p1 for r in local), "--sport let another local port through")
    cli, srv, lst = kinds(local)
    expect(not cli and len(srv) == N and len(lst) == 1,
           "--sport: %d client, %d server, %d listener sockets" % (len(cli), len(srv), len(lst)))

    expect(all(r["dport"] == p1 for r in remote), "--dport let another remote port through")
    cli, srv, lst = kinds(remote)
    expect(len(cli) == N and not srv and not lst,
           "--dport: %d client, %d server, %d listener sockets" % (len(cli), len(srv), len(lst)))
    expect(all(len(c) == 5 for c in cli), "--dport: client connections incomplete")


def test_family():
    with tslib.Netns("family") as ns:
        trs = [tslib.Tracer(flag, netns=ns) for flag in ("-4", "-6")]
        try:
            traffic(ns, ["127.0.0.1", "::1"])
            v4, v6 = stop_all(trs)
        finally:
            for t in trs:
                t.kill()
    for recs, fam, addr in ((v4, 4, "127.0.0.1"), (v6, 6, "::1")):
        expect(recs and all(r["family"] == fam for r in recs),
               "-%d: families %s" % (fam, {r["family"] for r in recs}))
        cli, srv, lst = kinds(recs)
        expect(len(cli) == N and len(srv) == N and len(lst) == 1,
               "-%d: %d client, %d server, %d listener sockets" % (fam, len(cli), len(srv), len(lst)))
        expect(all(c[1]["daddr"] == addr for c in cli), "-%d: wrong peer address" % fam)


if __name__ == "__main__":
    tslib.main([test_pid_client, test_pid_server, test_pid_server_classic, test_ports,
                test_family])
