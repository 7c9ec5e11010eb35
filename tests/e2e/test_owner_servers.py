#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Owners of real servers' connections, tracing host-wide (issue 12).

nginx (a master, two workers) in a namespace: every passive connection
belongs, from accept() on, to the worker that ss -tnp shows holding it,
and -p WORKER gives each of its connections' complete timeline.  redis
started before the tracer in another namespace: -p REDIS gives complete
timelines, and a connection that already existed is followed from its
first event on (its holder comes from the start-up snapshot)."""
import subprocess

import ownkit
import tslib
from tslib import expect

NGINX_PORT = 18080
REDIS_PORT = 16379
HTTP_REQ = "GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n"


def accept_source(err, env):
    """Which programs told accept(): fexit on inet_csk_accept() where the
    probe says the kernel allows it, the syscalls: tracepoints elsewhere
    or with TCPSCOPE_TEST_NO_FEXIT; -v names what was attached."""
    want = "syscalls" if env and "TCPSCOPE_TEST_NO_FEXIT" in env else \
        tslib.probe().get("accept_owner")
    ownkit.expect_accept_programs(err, want)


def dup_child(t, tls):
    """t: LISTEN -> SYN_RECV -> CLOSE beside a complete timeline with the
    same client port."""
    steps = [(x["from"], x["to"]) for x in t["steps"]]
    return steps == tslib.DUPLICATE_CHILD and any(
        o is not t and o["dport"] == t["dport"] and ownkit.complete(o["steps"]) for o in tls)


def nginx(mode, env=None):
    """env: where the btf variant keeps connections (the tests' switches
    of bpf/tcpscope.bpf.c): accept() parks its owner in the connection's
    own entry (conn_hash, conn_lru), or, for one kept in socket storage,
    in the accepts LRU (bpf/owners.bpf.h); or what tells accept()
    (TCPSCOPE_TEST_NO_FEXIT: the syscalls: tracepoints)."""
    with tslib.Netns("ngx") as ns, ownkit.Nginx(ns, NGINX_PORT) as ngx:
        workers = ngx.workers()
        # Host-wide: no --netns.  One tracer sees everything on the port,
        # one per worker follows that worker with -p.
        tr, per = None, {}
        try:
            tr = tslib.Tracer("--tp-mode", mode, "--port", str(NGINX_PORT), env=env)
            for w in workers:
                per[w] = tslib.Tracer("--tp-mode", mode, "-p", str(w), "--timeline",
                                      env=env)
            for _ in range(20):
                ns.run(["curl", "-s", "-o", "/dev/null", "--max-time", "10",
                        "http://127.0.0.1:%d/" % NGINX_PORT])
            hold = ownkit.Holder(ns, NGINX_PORT, 8, HTTP_REQ, "ok\n")
            try:
                held = ownkit.ss_holders(ns, NGINX_PORT)
            finally:
                hold.release()
            recs = tr.stop()
            err = tr.stderr()
            lines = {w: t.stop() for w, t in per.items()}
            ino = ns.inode()
        finally:
            for t in [tr] + list(per.values()):
                if t:
                    t.kill()

    accept_source(err, env)
    expect(sorted(held) == sorted(hold.ports) and set(held.values()) <= set(workers),
           "ss -tnp: %s, holder ports %s, workers %s" % (held, hold.ports, workers))
    conns = ownkit.passive(recs, NGINX_PORT, ino)
    expect(len(conns) >= 28, "expected 28 passive connections, got %d" % len(conns))
    # Per connection: (client port, owner).  A client port can come back
    # within the test (TIME_WAIT is reused on loopback: tcp_tw_reuse=2),
    # so ports are compared as lists, repeats included.
    final = {}
    for k, c in conns.items():
        before = [r for r in c if not r["accepted"]]
        after = [r for r in c if r["accepted"]]
        expect(after and c[-1]["to"] == "CLOSE",
               "connection never accepted or not closed: %s" % tslib.transitions(c))
        expect(all(r["pid"] == ngx.pid for r in before),
               "before accept() the listener's owner (master %d): %s"
               % (ngx.pid, {r["pid"] for r in before}))
        owners = {r["pid"] for r in after}
        expect(len(owners) == 1 and owners <= set(workers),
               "after accept() one worker of %s, got %s" % (workers, owners))
        port = ownkit.peer_port(c)
        final[k] = (port, owners.pop())
    for port, pid in held.items():
        got = [o for p, o in final.values() if p == port]
        expect(pid in got, "client port %d: ss -tnp shows pid %d, tcpscope %s" % (port, pid, got))

    # -p WORKER: each worker's timelines are exactly its connections, complete.
    for w in workers:
        tls = [r for r in lines[w] if r.get("event") == "connection" and r["sport"] == NGINX_PORT
               and r["netns"] == ino]
        # A child the kernel made twice and discarded (tslib.duplicate_children)
        # is born from the worker's listener, so -p shows it too: not a
        # connection of its own.
        tls = [t for t in tls if not dup_child(t, tls)]
        mine = sorted(p for p, o in final.values() if o == w)
        got = sorted(t["dport"] for t in tls)
        expect(got == mine, "-p %d: timelines of client ports %s, expected %s" % (w, got, mine))
        for t in tls:
            expect(t["pid"] == w and t["listener_pid"] == ngx.pid,
                   "-p %d: owner %s listener %s (master %d), client port %s, steps %s"
                   % (w, t["pid"], t["listener_pid"], ngx.pid, t["dport"],
                      [(x["from"], x["to"]) for x in t["steps"]]))
            expect(ownkit.complete(t["steps"]),
                   "-p %d: incomplete timeline %s" % (w, [(s["from"], s["to"]) for s in t["steps"]]))
    expect(any(o for _, o in final.values()), "no connection accepted")


def nginx_no_accept():
    """--no-accept: accept() untraced (no syscall tracepoint slows the
    machine's system calls), so every passive connection keeps its
    listener's owner, the master, and none is marked accepted; -v says
    so."""
    with tslib.Netns("ngx") as ns, ownkit.Nginx(ns, NGINX_PORT) as ngx:
        tr = None
        try:
            tr = tslib.Tracer("--no-accept", "--port", str(NGINX_PORT))
            for _ in range(10):
                ns.run(["curl", "-s", "-o", "/dev/null", "--max-time", "10",
                        "http://127.0.0.1:%d/" % NGINX_PORT])
            recs = tr.stop()
            err = tr.stderr()
            ino = ns.inode()
        finally:
            if tr:
                tr.kill()
    expect("accept(): not traced (--no-accept)" in err, "-v says nothing of it: %s" % err)
    conns = ownkit.passive(recs, NGINX_PORT, ino)
    expect(len(conns) >= 10, "expected 10 passive connections, got %d" % len(conns))
    for c in conns.values():
        expect(c[-1]["to"] == "CLOSE", "not closed: %s" % tslib.transitions(c))
        expect(all(r["pid"] == ngx.pid and not r["accepted"] for r in c),
               "--no-accept: owners %s (master %d), accepted %s"
               % ({r["pid"] for r in c}, ngx.pid, {r["accepted"] for r in c}))


def redis(mode):
    with tslib.Netns("rds") as ns, ownkit.Redis(ns, REDIS_PORT) as rds:
        # A client connection older than the tracer.
        old = ownkit.Holder(ns, REDIS_PORT, 1, "PING\\r\\n", "+PONG\r\n")
        tr = None
        try:
            tr = tslib.Tracer("--tp-mode", mode, "-p", str(rds.pid), "--timeline")
            for _ in range(5):
                r = ns.run(["redis-cli", "-p", str(REDIS_PORT), "ping"])
                expect(r.stdout.strip() == "PONG", "redis-cli: %r" % r.stdout)
            old.release()
            tslib.wait_until(lambda: not ownkit.ss_holders(ns, REDIS_PORT), 10,
                             "the old connection to close")
            recs = tr.stop()
        finally:
            old.release()
            if tr:
                tr.kill()
    tls = [r for r in recs if r.get("event") == "connection"]
    expect(all(t["pid"] == rds.pid for t in tls), "owners %s" % {t["pid"] for t in tls})
    new = [t for t in tls if not t["joined_late"]]
    expect(len(new) == 5 and all(ownkit.complete(t["steps"]) for t in new),
           "expected 5 complete timelines: %s"
           % [[(s["from"], s["to"]) for s in t["steps"]] for t in new])
    late = [t for t in tls if t["joined_late"]]
    expect(len(late) == 1 and late[0]["dport"] == old.ports[0],
           "the old connection: %s" % [(t["dport"], t["steps"]) for t in late])
    steps = [(s["from"], s["to"]) for s in late[0]["steps"]]
    expect(steps == [("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")],
           "the old connection's steps: %s" % steps)


def test_nginx_workers_btf():
    nginx("btf")


def test_nginx_workers_classic():
    nginx("classic")


def test_nginx_workers_storage():
    """Connections in socket storage (conn_hash taken as full)."""
    nginx("btf", {"TCPSCOPE_TEST_HASH_FULL": "1"})


def test_nginx_workers_lru():
    """Connections in conn_lru (no storage either)."""
    nginx("btf", {"TCPSCOPE_TEST_NO_STORAGE": "1"})


def test_nginx_workers_syscalls():
    """accept() told by the syscalls: tracepoints, where fexit would be
    taken (the same as test_nginx_workers_btf where it is refused)."""
    nginx("auto", {"TCPSCOPE_TEST_NO_FEXIT": "1"})


def test_nginx_no_accept():
    nginx_no_accept()


def test_redis_started_before_btf():
    redis("btf")


def test_redis_started_before_classic():
    redis("classic")


if __name__ == "__main__":
    tslib.main([test_nginx_workers_btf, test_nginx_workers_classic, test_nginx_workers_storage,
                test_nginx_workers_lru, test_nginx_workers_syscalls, test_nginx_no_accept,
                test_redis_started_before_btf, test_redis_started_before_classic])
