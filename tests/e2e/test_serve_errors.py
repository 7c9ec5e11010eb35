#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Bad input to tcpscope serve: a busy port, an address that does not
resolve, bad label limits and log options each end it with one line and
exit status 1 (runtime) or 2 (usage).  Hostile HTTP clients (garbage, an
oversized request, a body-carrying method, idle connections held open) get
an HTTP error or a timeout, while tracing goes on: the connections made
after them are all counted, as nstat counts them."""
import socket
import subprocess

import servekit
import tslib
from tslib import expect

CONNS = 60


def one_line_exit(args, status, what):
    r = subprocess.run([tslib.TCPSCOPE, "serve"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    lines = r.stderr.strip().splitlines()
    expect(r.returncode == status, "%s: exit %d, wanted %d (%s)"
           % (what, r.returncode, status, r.stderr.strip()))
    expect(len(lines) == 1 and lines[0].startswith("tcpscope"),
           "%s: wanted one line, got %r" % (what, lines))
    return lines[0]


def test_busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        line = one_line_exit(["--listen", "127.0.0.1:%d" % port], 1, "busy port")
        expect("Address already in use" in line, "busy port: %r" % line)
    finally:
        s.close()


def test_bad_addresses():
    for arg in ("nosuchhost.invalid:9973", "300.1.2.3:9973", "127.0.0.1", "127.0.0.1:99999",
                "[::1:9973", ""):
        line = one_line_exit(["--listen", arg], 2, "--listen %r" % arg)
        expect("--listen" in line, "--listen %r: %r" % (arg, line))


def test_bad_options():
    cases = [
        (["--max-label-values", "0"], "--max-label-values"),
        (["--max-label-values", "257"], "--max-label-values"),
        (["--max-label-values", "many"], "--max-label-values"),
        (["--log-max-size", "1M"], "--log-json"),
        (["--log-json", "/tmp/x.json", "--log-max-size", "12"], "--log-max-size"),
        (["--log-json", "/tmp/x.json", "--log-keep", "-1"], "--log-keep"),
        (["--log-json", "-", "--log-max-size", "1M"], "stdout"),
        (["stray"], "stray"),
    ]
    for args, word in cases:
        line = one_line_exit(args, 2, " ".join(args))
        expect(word in line, "%s: %r" % (args, line))
    # A log file that cannot be opened is a runtime failure.
    line = one_line_exit(["--listen", "127.0.0.1:0", "--log-json", "/nonexistent/dir/x.json"],
                         1, "unwritable log")
    expect("/nonexistent/dir/x.json" in line, "unwritable log: %r" % line)


def raw(addr, data, read=True, timeout=5):
    """Send data on a fresh connection; return the status line."""
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\r\n")[0].decode(errors="replace")
    finally:
        if read:
            s.close()


def status_of(line):
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[0].startswith("HTTP/") else None


def test_hostile_http():
    with tslib.Netns("hostile") as ns:
        serve = servekit.Serve(netns=ns)
        idle = []
        try:
            st = status_of(raw(serve.addr, b"GARBAGE \x00\xff\r\n\r\n"))
            expect(st == 400, "garbage request answered %r" % st)
            big = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
            try:
                st = status_of(raw(serve.addr, big))
            except (ConnectionResetError, BrokenPipeError):
                st = "reset"
            expect(st in (413, 414, 431, "reset") and st != 200,
                   "oversized request answered %r" % st)
            st = status_of(raw(serve.addr, b"POST /metrics HTTP/1.1\r\nHost: x\r\n"
                                           b"Content-Length: 5\r\n\r\nhello"))
            expect(st == 405, "POST answered %r" % st)
            st = status_of(raw(serve.addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"))
            expect(st == 404, "unknown path answered %r" % st)
            # Idle connections, fewer than the per-address limit: the scrape
            # below still gets its answer.
            for _ in range(4):
                idle.append(raw(serve.addr, b"GET /metr", read=False))

            servekit.opens_match(ns, serve, CONNS)
            expect(serve.proc.poll() is None, "serve died: %s" % serve.stderr())
        finally:
            for s in idle:
                s.close()
            serve.stop()
            serve.kill()


if __name__ == "__main__":
    tslib.main([test_busy_port, test_bad_addresses, test_bad_options, test_hostile_http])
