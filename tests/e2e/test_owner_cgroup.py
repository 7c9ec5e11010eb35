#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Every connection carries its owner's cgroup (issue 12).

Servers moved into cgroups the test creates (a docker-like scope and a
kubepods-like path) show those paths and the container id; --cgroup keeps
only the connections of owners in that tree; bad --cgroup values and a -p
PID that does not exist are handled as documented."""
import json
import os
import shutil
import subprocess
import tempfile

import tslib
from tslib import expect

DOCKER_ID = "d0c4e1" + "0123456789abcdef" * 3 + "0123456789"
KUBE_ID = "cafe01" + "fedcba9876543210" * 3 + "0123456789"


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        roots = [l.split()[1] for l in f if l.split()[2] == "cgroup2"]
    expect(roots, "no cgroup2 mount")
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in roots else roots[0]


class Cgroups:
    """A cgroup tree under the cgroup2 mount; removed (bottom-up) on exit."""

    def __init__(self, name, leaves):
        self.root = cgroup2_root()
        self.base = "/" + name
        self.leaves = leaves

    def path(self, rel):
        return self.root + rel

    def __enter__(self):
        for leaf in self.leaves:
            os.makedirs(self.path(leaf), exist_ok=True)
        return self

    def __exit__(self, *exc):
        dirs = []
        for top, subs, _ in os.walk(self.path(self.base)):
            dirs.append(top)
        for d in sorted(dirs, key=len, reverse=True):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), 9)
                        except ProcessLookupError:
                            pass
            except OSError:
                pass
        for d in sorted(dirs, key=len, reverse=True):
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    import time
                    time.sleep(0.05)


def server_in(ns, cg_dir, port, tmp, tag):
    """tcpkit server moved into cgroup cg_dir before it listens; returns
    (proc, pid).  'ip netns exec' mounts a sysfs of its own, without the
    cgroup mounts: the move is made from here."""
    ready = os.path.join(tmp, "ready-" + tag)
    go = os.path.join(tmp, "go-" + tag)
    argv = ["sh", "-c", 'i=0; while [ ! -e "$0" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; '
            'exec python3 "$1" server --ready "$2" --port "$3"', go, tslib.TCPKIT, ready, str(port)]
    p = ns.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(os.path.join(cg_dir, "cgroup.procs"), "w") as f:
        f.write(str(p.pid))
    open(go, "w").close()
    tslib.wait_until(lambda: os.path.exists(ready) or p.poll() is not None, 15, "server " + tag)
    if p.poll() is not None:
        raise tslib.TestFailure("server %s failed: %s" % (tag, p.stderr.read()))
    pid = int(open(ready).read().split()[1])
    expect(pid == p.pid, "the server is not the process moved")
    return p, pid


def test_cgroup_path_container_filter():
    name = "ts-i12-%d" % os.getpid()
    docker = "/%s/system.slice/docker-%s.scope" % (name, DOCKER_ID)
    kube = "/%s/kubepods/besteffort/pod4f1c2a7e-0000-4000-8000-000000000001/%s" % (name, KUBE_ID)
    other = "/ts-i12o-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="tscg")
    with tslib.Netns("cg") as ns, Cgroups(name, [docker, kube]) as cg, Cgroups(other[1:], [other]) as cgo:
        cap = os.path.join(tmp, "cg.cap")
        tr = tslib.Tracer("--cgroup", "/" + name, "-w", cap, netns=ns)
        wide = tslib.Tracer(netns=ns)  # no filter: the path of every owner
        procs = []
        try:
            pd, d_pid = server_in(ns, cg.path(docker), 7001, tmp, "docker")
            pk, k_pid = server_in(ns, cg.path(kube), 7002, tmp, "kube")
            po, o_pid = server_in(ns, cgo.path(other), 7003, tmp, "other")
            procs = [pd, pk, po]
            ids = {docker: os.stat(cg.path(docker)).st_ino, kube: os.stat(cg.path(kube)).st_ino}
            for port in (7001, 7002, 7003):
                c = tslib.client(ns, "--port", str(port))
                expect(c.returncode == 0, "client failed")
            for p in procs:
                p.wait(timeout=20)
            recs = tr.stop()
            allrecs = wide.stop()
            rep = tslib.run([tslib.TCPSCOPE, "report", "--json", cap]).stdout
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            tr.kill()
            wide.kill()
    shutil.rmtree(tmp, ignore_errors=True)

    # The capture keeps them: report shows what trace showed.
    key = lambda r: (r["conn"], r["ts_ns"], r["pid"], r["cgroup_id"], r["cgroup"], r["container"])
    live = sorted(key(r) for r in recs if r.get("event") == "state")
    replay = sorted(key(json.loads(l)) for l in rep.splitlines()
                    if l.strip() and json.loads(l).get("event") == "state")
    expect(live and live == replay, "report differs from trace: %s vs %s" % (live[:3], replay[:3]))

    st = [r for r in recs if r.get("event") == "state"]
    pids = {r["pid"] for r in st}
    expect(pids == {d_pid, k_pid}, "--cgroup kept owners %s, expected %s" % (pids, {d_pid, k_pid}))
    for r in st:
        want = (docker, DOCKER_ID) if r["pid"] == d_pid else (kube, KUBE_ID)
        expect((r["cgroup"], r["container"]) == want,
               "pid %d: cgroup %r container %r, expected %r" % (r["pid"], r["cgroup"], r["container"], want))
        expect(r["cgroup_id"] == ids[want[0]], "cgroup_id %s" % r["cgroup_id"])
    # Without the filter the third server is there, with its own path.
    others = {r["cgroup"] for r in allrecs if r.get("event") == "state" and r["pid"] == o_pid}
    expect(others == {other}, "unfiltered: the other server's cgroup %s" % others)


def test_cgroup_bad_input():
    r = tslib.run([tslib.TCPSCOPE, "trace", "--cgroup", "/no-such-cgroup-%d" % os.getpid(),
                   "-d", "1"], check=False)
    expect(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
           "not a cgroup: rc %d, %r" % (r.returncode, r.stderr))
    r = tslib.run([tslib.TCPSCOPE, "trace", "--cgroup", "/proc", "-d", "1"], check=False)
    expect(r.returncode == 2, "/proc: rc %d" % r.returncode)
    # A PID that does not run: one warning line, tracing goes on.
    r = tslib.run([tslib.TCPSCOPE, "trace", "-p", "2147483000", "-d", "1"], check=False)
    warn = [l for l in r.stderr.splitlines() if "warning" in l]
    expect(r.returncode == 0 and len(warn) == 1 and "2147483000" in warn[0],
           "-p of no process: rc %d, %r" % (r.returncode, r.stderr))


def test_netns_marker():
    """Host-wide text view: once events come from two namespaces, lines
    say which one (' ns=INODE')."""
    tmp = tempfile.mkdtemp(prefix="tsmk")
    out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    with tslib.Netns("mk") as a, tslib.Netns("mk") as b:
        p = subprocess.Popen([tslib.TCPSCOPE, "trace", "-v", "--port", "47310", "-d", "60"],
                             stdout=open(out, "w"), stderr=open(err, "w"))
        try:
            tslib.wait_until(lambda: "tracing (" in open(err).read() or p.poll() is not None,
                             20, "the tracer")
            for ns in (a, b):
                srv = tslib.Server(ns, "--port", "47310")
                c = tslib.client(ns, "--port", "47310")
                expect(c.returncode == 0 and srv.wait() == 0, "client/server failed")
            tslib.wait_until(lambda: "ns=%d" % b.inode() in open(out).read(), 10, "marked lines")
        finally:
            p.send_signal(2)
            p.wait(timeout=20)
        ino_a, ino_b = a.inode(), b.inode()
    lines = [l for l in open(out).read().splitlines() if ":47310" in l]
    shutil.rmtree(tmp, ignore_errors=True)
    first_a = [l for l in lines if "ns=" not in l]
    marked_b = [l for l in lines if l.endswith(" ns=%d" % ino_b)]
    expect(first_a and not any("ns=" in l for l in lines[:len(first_a)]),
           "the first namespace's lines come unmarked: %s" % lines)
    expect(len(marked_b) >= 4 and all("ns=%d" % ino_a not in l for l in marked_b),
           "the second namespace's lines are marked: %s" % lines)


if __name__ == "__main__":
    tslib.main([test_cgroup_path_container_filter, test_cgroup_bad_input, test_netns_marker])
