#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The text view on real events: a connection refused on loopback shows the
reset the kernel sent for a SYN that found no socket as "RST sent (no
socket)", the client's side of it, and every line keeps the columns of the
header.  Output goes to a file, so no colour."""
import signal

import tslib
import tsnet
from tslib import expect

CLOSED_PORT = 9  # nothing listens in a new namespace


def test_refused_connection_text():
    with tslib.Netns("text") as ns:
        p, out, err = tsnet.start_to_files(ns, [])
        try:
            cli = tslib.client(ns, "--port", str(CLOSED_PORT), "--expect-fail")
            expect(cli.returncode == 0, "client: %s" % cli.stderr.read())
            tslib.wait_until(lambda: "SYN_SENT -> CLOSE" in open(out).read(), 5,
                             "the refused connection's close")
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            p.wait(timeout=20)
    expect(p.returncode == 0, "tracer exit %d" % p.returncode)
    lines = open(out).read().splitlines()
    expect(lines and lines[0].startswith("TIME "), "no header: %r" % lines[:1])
    header, body = lines[0], lines[1:]
    expect("\033[" not in "".join(lines), "colour in a file")
    rst = [l for l in body if "RST sent" in l]
    if not tslib.probe().get("socketless_resets"):
        # Before 6.10 tcp_send_reset fires only for full sockets: the
        # refusal is seen as the client's RST received alone (the probe).
        expect(not rst, "socketless reset lines on a kernel without them: %r" % rst)
    else:
        expect(len(rst) == 1, "reset lines: %r" % rst)
        expect("RST sent (no socket)" in rst[0] and "in CLOSE" not in rst[0], rst[0])
        # Local end of the reset is the closed port; no owner is known.
        fields = rst[0].split()
        expect(fields[1] == "-" and fields[2] == "-", "owner of a socketless reset: %r" % rst[0])
        expect(fields[3] == "127.0.0.1:%d" % CLOSED_PORT, "reset local end %r" % fields[3])
    expect(any("RST received in SYN_SENT" in l for l in body), "client did not see the RST")
    expect(any("CLOSE -> SYN_SENT" in l for l in body), "no SYN_SENT line")
    # Every column starts where the header puts it (v4 addresses fit).
    cols = [header.index(h) for h in ("PID", "COMM", "LOCAL", "REMOTE", "EVENT")]
    for l in body:
        for c in cols:
            expect(l[c - 1] == " " and l[c] != " ", "misaligned at %d: %r" % (c, l))
        expect(l == l.rstrip(), "trailing blanks: %r" % l)


if __name__ == "__main__":
    tslib.main([test_refused_connection_text])
