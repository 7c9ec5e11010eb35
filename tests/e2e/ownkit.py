# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Real servers for the owner tests (issue 12): nginx with a master and two
workers, redis, and clients that hold keep-alive connections open, each in
a namespace the test created, with config files in a temporary directory,
listening only inside that namespace.  Every server is always stopped."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import tslib
from tslib import TestFailure, expect

NGINX_CONF = """worker_processes 2;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  keepalive_timeout 60;
  keepalive_requests 1000;
  server {{
    listen {addr}:{port};
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""

REDIS_CONF = """port {port}
bind {bind}
protected-mode no
daemonize no
save ""
appendonly no
dir {d}
logfile {d}/redis.log
"""


def children(pid):
    """Pids whose parent is pid."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
        except OSError:
            continue
        # comm may hold spaces: the fields after the last ')' are fixed.
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(e))
    return sorted(out)


def listening(ns, port, holders):
    r = ns.run(["ss", "-Htlnp", "sport = :%d" % port], check=False)
    return r.stdout.count("pid=") >= holders


class Daemon:
    """A server process in ns, stopped (and its children) on exit."""

    def __init__(self, ns, argv, port, holders, what):
        self.ns = ns
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="tsown")
        self.proc = None
        self.argv = argv
        self.holders = holders
        self.what = what

    def start(self):
        # 'ip netns exec' execs the server: its pid is the server's.
        self.proc = self.ns.popen(self.argv, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(self.dir, "stderr"), "w"))
        tslib.wait_until(lambda: listening(self.ns, self.port, self.holders)
                         or self.proc.poll() is not None, 20, self.what + " to listen")
        if self.proc.poll() is not None:
            raise TestFailure("%s exited: %s" % (self.what, open(os.path.join(self.dir, "stderr")).read()))
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kids = children(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10 * tslib.TIME_SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class Nginx(Daemon):
    def __init__(self, ns, port, addr="127.0.0.1"):
        super().__init__(ns, [], port, 3, "nginx")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(d=self.dir, port=port,
                                      addr="[%s]" % addr if ":" in addr else addr))
        self.argv = ["nginx", "-c", conf, "-p", self.dir]

    def workers(self):
        tslib.wait_until(lambda: len(children(self.pid)) == 2, 10, "nginx's two workers")
        return children(self.pid)


class Redis(Daemon):
    def __init__(self, ns, port, bind="127.0.0.1"):
        super().__init__(ns, [], port, 1, "redis-server")
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write(REDIS_CONF.format(d=self.dir, port=port, bind=bind))
        self.argv = ["redis-server", conf]


HOLDER = r"""
import os, socket, sys, time
port, n, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req, want = sys.argv[4].encode().decode("unicode_escape").encode(), sys.argv[5].encode()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    buf = b""
    while not buf.endswith(want):
        d = s.recv(4096)
        if not d:
            sys.exit("closed early")
        buf += d
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
for s in socks:
    s.close()
"""


class Holder:
    """n client connections that made one request each and stay open
    until release(); .ports are their local ports."""

    def __init__(self, ns, port, n, req, want):
        self.dir = tempfile.mkdtemp(prefix="tshold")
        self.go = os.path.join(self.dir, "go")
        self.released = False
        self.proc = ns.popen(["python3", "-c", HOLDER, str(port), str(n), self.go, req, want],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.release()
            raise TestFailure("holder failed: %s" % self.proc.stderr.read())
        self.ports = [int(p) for p in line.split()]

    def release(self):
        if self.released:
            return
        self.released = True
        open(self.go, "w").close()
        try:
            self.proc.wait(timeout=30 * tslib.TIME_SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def ss_holders(ns, port):
    """{peer port: pid} of the established sockets with local port 'port',
    as ss -tnp shows them."""
    r = ns.run(["ss", "-Htnp", "state", "established", "( sport = :%d )" % port])
    out = {}
    for line in r.stdout.splitlines():
        m = re.search(r"\S+:%d\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)" % port, line)
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


def expect_accept_programs(err, want):
    """trace -v (err) attached the accept() programs 'want' names:
    "fexit" (on inet_csk_accept()) or "syscalls" (the syscalls:
    tracepoints), as tcpscope probe's accept_owner says."""
    fexit = "attached fexit inet_csk_accept()" in err
    sysc = "attached syscalls:sys_exit_accept4" in err
    expect(want in ("fexit", "syscalls"), "probe: accept_owner %r" % want)
    expect((fexit, sysc) == (want == "fexit", want == "syscalls"),
           "accept() by %s expected; -v: %r" % (want, err[-600:]))


def passive(recs, port, netns=None):
    """{conn: records} of the passive connections on local port 'port' (in
    namespace netns: a host-wide tracer may see other tests' traffic)."""
    conns = tslib.connections(recs)
    return {k: v for k, v in conns.items()
            if v[0]["from"] == "LISTEN" and v[0]["to"] == "SYN_RECV" and v[0]["sport"] == port
            and (netns is None or v[0]["netns"] == netns)}


def peer_port(recs):
    """The client's port: the first record with both ends known."""
    for r in recs:
        if r["dport"]:
            return r["dport"]
    return 0


def complete(steps):
    """LISTEN -> SYN_RECV ... -> CLOSE with no step missing."""
    if not steps or (steps[0]["from"], steps[0]["to"]) != ("LISTEN", "SYN_RECV"):
        return False
    if steps[-1]["to"] != "CLOSE":
        return False
    return all(a["to"] == b["from"] for a, b in zip(steps, steps[1:]))


def wait_stopped(p, timeout=10):
    deadline = time.monotonic() + timeout * tslib.TIME_SCALE
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    expect(p.poll() is not None, "process did not stop")
