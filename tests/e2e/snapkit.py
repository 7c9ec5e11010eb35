#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Sockets in many states for the snapshot tests, held until killed.

Runs inside a test namespace (ip netns exec) with fixed ports of that
namespace: a server process (this one) listens on 127.0.0.1:P, [::1]:P+1,
127.0.0.1:P+2 (never accepted; the test drops the final ACK towards it so
its connections stay SYN_RECV) and [::]:P+3 (dual-stack, never used), and a
forked client process makes:
  - 3 ESTABLISHED connections to P, one with keepalive (idle 600 s);
  - 2 ESTABLISHED connections to [::1]:P+1;
  - 1 TIME_WAIT (the client closes first, the server then closes);
  - 1 CLOSE_WAIT on the client (the server closes, the client never does);
  - 1 connection to P+2 that sends data, which retransmits (its ACKs and
    data are dropped).
When all is set up, 'SERVER_PID CLIENT_PID KEEPALIVE_PORT RETRANS_PORT' is
written to --ready.  Every wait is bounded by --timeout.

Other scenarios (--scenario), for the -s hints:
  synflood:  a listener on 127.0.0.1:P with a large backlog and --count
             clients; with the test's final-ACK drop rule on P, each leaves a
             request socket (SYN_RECV) behind.  --ready gets 'ready'.
  closewait: a server on 127.0.0.1:P that closes every connection at once and
             a client that never closes its end: one more CLOSE_WAIT every
             --gap seconds, until --count.  --ready gets 'ready' at the first.
  sink:      a listener on 0.0.0.0:P that accepts and holds every connection.
             --ready gets 'ready'.
  clients:   --count connections to --peer:P, held, and no listener: the
             namespace of the client side.  --ready gets 'ready'."""
import argparse
import os
import select
import signal
import socket
import sys
import time


def listen(family, addr, port, backlog=16):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def client(a, ready_tmp):
    keep = []
    deadline = time.monotonic() + a.timeout

    def conn(addr, port):
        c = socket.create_connection((addr, port), timeout=a.timeout)
        keep.append(c)
        return c

    ka = None
    for i in range(3):
        c = conn("127.0.0.1", a.port)
        if i == 0:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 600)
            ka = c.getsockname()[1]
    for _ in range(2):
        conn("::1", a.port + 1)
    # TIME_WAIT here: our FIN first, the server closes on EOF; waiting for
    # its FIN makes the TIME_WAIT certain before --ready (a bare close()
    # leaves an orphan in FIN_WAIT2 until the server's loop gets to it).
    tw = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    tw.shutdown(socket.SHUT_WR)
    tw.settimeout(max(0.1, deadline - time.monotonic()))
    if tw.recv(1) != b"":
        sys.exit("expected EOF from the server")
    tw.close()
    # CLOSE_WAIT here: ask the server to close, never close this end.
    cw = conn("127.0.0.1", a.port)
    cw.sendall(b"C")
    cw.settimeout(max(0.1, deadline - time.monotonic()))
    if cw.recv(1) != b"":
        sys.exit("expected EOF from the server")
    # Retransmitting: the handshake completes here, but nothing reaches
    # the never-accepting listener, so data is retransmitted.
    rt = conn("127.0.0.1", a.port + 2)
    rt.sendall(b"x" * 100)
    with open(ready_tmp, "a") as f:
        f.write(" %d %d %d\n" % (os.getpid(), ka, rt.getsockname()[1]))
    os.rename(ready_tmp, a.ready)
    while time.monotonic() < deadline:
        time.sleep(0.2)


def ready(path):
    with open(path + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(path + ".tmp", path)


def synflood(a):
    lst = listen(socket.AF_INET, "127.0.0.1", a.port, backlog=4096)
    held = []
    for _ in range(a.count):
        # The handshake completes on this side (the SYN-ACK arrives); the
        # server's side stays a request socket as its ACK is dropped.
        held.append(socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout))
    ready(a.ready)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
    lst.close()


def closewait(a):
    lst = listen(socket.AF_INET, "127.0.0.1", a.port)
    held = []
    deadline = time.monotonic() + a.timeout
    for i in range(a.count):
        if time.monotonic() > deadline:
            break
        c = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
        s, _ = lst.accept()
        s.close()  # the server closes: the client end goes CLOSE_WAIT
        held.append(c)
        if i == 0:
            ready(a.ready)
        time.sleep(a.gap)
    while time.monotonic() < deadline:
        time.sleep(0.2)


def sink(a):
    lst = listen(socket.AF_INET, "0.0.0.0", a.port, backlog=1024)
    lst.settimeout(0.2)
    held = []
    ready(a.ready)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            held.append(lst.accept()[0])
        except socket.timeout:
            pass


def clients(a):
    held = [socket.create_connection((a.peer, a.port), timeout=a.timeout)
            for _ in range(a.count)]
    ready(a.ready)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline and held:
        time.sleep(0.2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", choices=["states", "synflood", "closewait", "sink", "clients"],
                   default="states")
    p.add_argument("--port", type=int, default=4001)
    p.add_argument("--ready", required=True)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--count", type=int, default=120)
    p.add_argument("--gap", type=float, default=0.25)
    p.add_argument("--peer", default="127.0.0.1")
    a = p.parse_args()
    if a.scenario == "synflood":
        return synflood(a)
    if a.scenario == "closewait":
        return closewait(a)
    if a.scenario == "sink":
        return sink(a)
    if a.scenario == "clients":
        return clients(a)

    l4 = listen(socket.AF_INET, "127.0.0.1", a.port)
    l6 = listen(socket.AF_INET6, "::1", a.port + 1)
    syn = listen(socket.AF_INET, "127.0.0.1", a.port + 2)
    dual = listen(socket.AF_INET6, "::", a.port + 3)
    ready_tmp = a.ready + ".tmp"
    with open(ready_tmp, "w") as f:
        f.write("%d" % os.getpid())
    pid = os.fork()
    if pid == 0:
        for s in (l4, l6, syn, dual):
            s.close()
        try:
            client(a, ready_tmp)
        finally:
            os._exit(0)
    deadline = time.monotonic() + a.timeout
    held = []
    socks = [l4, l6]
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.2)
        for s in r:
            if s in (l4, l6):
                c, _ = s.accept()
                socks.append(c)
                continue
            data = s.recv(16)
            if data == b"C" or data == b"":
                # Asked to close, or the client closed: close this end.
                socks.remove(s)
                s.close()
            else:
                held.append(data)
    os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
