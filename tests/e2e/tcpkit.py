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


def drain(sock):
    """Read until the peer's FIN (EOF) or a reset; bounded by the timeout."""
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass


def wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for %s" % path)
        time.sleep(0.001)


def finish(sock, mode, side, a=None):
    """Close one connection the way the scenario asks."""
    if mode == "simultaneous":
        # Both ends shut down together once the test says go; the test
        # delays segments on the link so that the two FINs cross.
        if a.waiting:
            with open(a.waiting + "." + side, "w") as f:
                f.write("%d\n" % os.getpid())
        wait_file(a.go, a.timeout)
        sock.sendall(b"z" * 30)
        sock.shutdown(socket.SHUT_WR)
        drain(sock)
        sock.close()
        return
    if mode == "rst" and side == "client" or mode == "server-rst" and side == "server":
        # SO_LINGER with a zero timeout: close() sends RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return
    first = {"client-close": "client", "server-close": "server"}.get(mode)
    if first == side:
        if a is not None and a.half_close:
            # Not orphaned: FIN_WAIT2 waits in the full socket for the FIN.
            sock.shutdown(socket.SHUT_WR)
            drain(sock)
        sock.close()
        return
    # The other end closes first: wait for its FIN (EOF), then close.
    drain(sock)
    if a is not None and a.close_delay:
        time.sleep(a.close_delay)
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
        want, got = a.size * a.chunks, 0
        while got < want:
            data = c.recv(min(65536, want - got))
            if not data:
                break
            got += len(data)
        if got:
            c.sendall(b"y" * min(got, a.size))
        finish(c, a.mode, "server", a)
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
        if a.chunks > 1:
            # One segment per write, so each loss costs one retransmit.
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(a.chunks):
            c.sendall(b"x" * a.size)
            if a.chunk_gap and i + 1 < a.chunks:
                time.sleep(a.chunk_gap)
        got = 0
        while got < a.size:
            d = c.recv(a.size - got)
            if not d:
                break
            got += len(d)
        finish(c, a.mode, "client", a)
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
                   choices=["client-close", "server-close", "rst", "server-rst",
                            "simultaneous"])
    p.add_argument("--half-close", action="store_true",
                   help="the first to close shuts down writing, waits for EOF, then closes")
    p.add_argument("--close-delay", type=float, default=0.0,
                   help="the second to close waits this long after EOF")
    p.add_argument("--go", help="simultaneous: shut down once this file exists")
    p.add_argument("--waiting", help="simultaneous: write PATH.<side> when waiting for --go")
    p.add_argument("--chunks", type=int, default=1, help="client: writes of --size bytes")
    p.add_argument("--chunk-gap", type=float, default=0.0)
    p.add_argument("--ready", help="server: write 'PORT PID' here when listening")
    # Emulated kernels (TS_TIME_SCALE, see tslib) get a longer default.
    p.add_argument("--timeout", type=float,
                   default=10.0 * max(1, int(os.environ.get("TS_TIME_SCALE", "1") or 1)))
    p.add_argument("--gap", type=float, default=0.0)
    p.add_argument("--expect-fail", action="store_true")
    a = p.parse_args()
    server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    main()
