#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hold many loopback TCP connections open, for the snapshot benchmark.

Run inside the benchmark's own namespace.  Forks --procs workers; each
listens on its own port and connects to itself --conns / --procs times,
keeping both ends: 2 sockets (fds) per connection, so a worker must stay
under the fd limit (20000 here).  Writes 'ready' to --ready once all are
connected, then sleeps until killed or --timeout passes."""
import argparse
import os
import resource
import signal
import socket
import sys
import time


def worker(port, n, timeout, done_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * n + 16
    if need > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(4096)
    held = []
    deadline = time.monotonic() + timeout
    for _ in range(n):
        if time.monotonic() > deadline:
            sys.exit("sockhold: timed out connecting")
        c = socket.socket()
        c.connect(("127.0.0.1", port))
        s, _ = lst.accept()
        held.append((c, s))
    open(done_path, "w").close()
    while time.monotonic() < deadline:
        time.sleep(0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--conns", type=int, required=True)
    p.add_argument("--procs", type=int, required=True)
    p.add_argument("--base-port", type=int, default=20000)
    p.add_argument("--ready", required=True)
    p.add_argument("--timeout", type=float, default=900)
    a = p.parse_args()
    per = [a.conns // a.procs + (1 if i < a.conns % a.procs else 0) for i in range(a.procs)]
    pids = []
    for i, n in enumerate(per):
        pid = os.fork()
        if pid == 0:
            try:
                worker(a.base_port + i, n, a.timeout, "%s.%d" % (a.ready, i))
            finally:
                os._exit(0)
        pids.append(pid)

    def stop(*_):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        if all(os.path.exists("%s.%d" % (a.ready, i)) for i in range(a.procs)):
            open(a.ready, "w").close()
            break
        if any(os.waitpid(pid, os.WNOHANG)[0] for pid in pids):
            stop()
        time.sleep(0.1)
    while time.monotonic() < deadline:
        time.sleep(0.5)
    stop()


if __name__ == "__main__":
    main()
