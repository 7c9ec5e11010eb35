#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Traffic for the end-to-end tests: a server and a client whose closing
behaviour is chosen on the command line.  Runs inside a test namespace
(ip netns exec); every wait is bounded by --timeout."""
import argparse
import os
import socket
import struct
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def finish(sock, mode, side):
    """Close one connection the way the scenario asks."""
    if mode == "rst" and side == "client" or mode == "server-rst" and side == "server":
        # SO_LINGER with a zero timeout: close() sends RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return
    first = {"client-close": "client", "server-close": "server"}.get(mode)
    if first == side:
        sock.close()
        return
    # The other end closes first: wait for its FIN (EOF), then close.
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    sock.close()


def server(a):
    s = socket.socket(family_of(a.addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(128)
    s.settimeout(a.timeout)
    if a.ready:
        tmp = a.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (s.getsockname()[1], os.getpid()))
        os.rename(tmp, a.ready)
    for _ in range(a.count):
        c, _ = s.accept()
        c.settimeout(a.timeout)
        data = c.recv(a.size)
        if data:
            c.sendall(b"y" * len(data))
        finish(c, a.mode, "server")
    s.close()


def client(a):
    for _ in range(a.count):
        c = socket.socket(family_of(a.addr), socket.SOCK_STREAM)
        c.settimeout(a.timeout)
        try:
            c.connect((a.addr, a.port))
        except (ConnectionRefusedError, socket.timeout, OSError) as e:
            print("connect: %s" % e, file=sys.stderr)
            c.close()
            if not a.expect_fail:
                sys.exit(1)
            continue
        c.sendall(b"x" * a.size)
        got = 0
        while got < a.size:
            d = c.recv(a.size - got)
            if not d:
                break
            got += len(d)
        finish(c, a.mode, "client")
        if a.gap:
            time.sleep(a.gap)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=1)
    p.add_argument("--mode", default="client-close",
                   choices=["client-close", "server-close", "rst", "server-rst"])
    p.add_argument("--ready", help="server: write 'PORT PID' here when listening")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--gap", type=float, default=0.0)
    p.add_argument("--expect-fail", action="store_true")
    a = p.parse_args()
    server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    main()
