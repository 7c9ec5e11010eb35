#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""--max-conns bounds what the tracker holds: with 200 connections kept
open on loopback and --max-conns 50, the least recently active ones are
shown early as evicted, counted in the JSON summary, the text view and a
warning on stderr; connections that complete are all still whole."""
import json
import subprocess

import tslib
from tslib import expect

HOLD = r"""
import socket, sys
n, done = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(512)
port = l.getsockname()[1]
keep = []
for i in range(n):                      # kept open while tracing
    c = socket.create_connection(("127.0.0.1", port))
    keep.append((c, l.accept()[0]))
for i in range(done):                   # complete, client closes first
    c = socket.create_connection(("127.0.0.1", port))
    s = l.accept()[0]
    c.shutdown(socket.SHUT_WR); s.recv(1); s.close(); c.recv(1); c.close()
print("ready", flush=True)
sys.stdin.readline()
"""


def run(json_out):
    with tslib.Netns("tlb") as ns:
        argv = ["--timeline", "--max-conns", "50"]
        tr = tslib.Tracer(*argv, netns=ns) if json_out else None
        if not json_out:
            # The text view: a Tracer-like run without --json.
            out = open(tslib.tempfile.mktemp(prefix="tstlb"), "w+")
            err = open(out.name + ".err", "w+")
            p = subprocess.Popen([tslib.TCPSCOPE, "trace", "-v", "--netns", ns.path,
                                  "--duration", "60"] + argv, stdout=out, stderr=err)
            tslib.wait_until(lambda: "tracing (" in open(err.name).read(), 20,
                             "the tracer to attach")
        h = ns.popen(["python3", "-c", HOLD, "200", "20"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True)
        expect(h.stdout.readline().strip() == "ready", "load failed")
        if json_out:
            recs = tr.stop()
        else:
            p.send_signal(2)
            p.wait(timeout=20)
            expect(p.returncode == 0, "tracer exit %s" % p.returncode)
            recs = (open(out.name).read(), open(err.name).read())
        h.stdin.write("\n")
        h.stdin.flush()
        h.wait(timeout=30)
    return recs


def test_evicted_json():
    recs = run(True)
    summ = recs[-1]
    conns = [r for r in recs if r.get("event") == "connection"]
    evicted = [c for c in conns if c["evicted"]]
    expect(summ["event"] == "summary" and summ["max_conns"] == 50, "summary %s" % summ)
    # 400 ends held open and a listener, at most 50 held at once.
    expect(summ["evicted"] == len(evicted) >= 351, "evicted %s / %d" % (summ, len(evicted)))
    expect(all(c["close"] == "open" for c in evicted), "evicted ones are open")
    whole = [c for c in conns if c["close"] in ("active", "passive")]
    expect(len(whole) == 40 and all(c["missing_steps"] == 0 and not c["joined_late"]
                                    for c in whole),
           "complete connections: %d %s" % (len(whole), whole[:1]))
    expect(summ["connections"] == len(conns), "count")


def test_evicted_text():
    out, err = run(False)
    expect("connections evicted (more than 50 open at once: raise --max-conns)" in out,
           "text summary: %s" % out[-300:])
    expect("connections evicted (raise --max-conns)" in err, "stderr: %s" % err)
    expect("evicted (--max-conns reached), still open" in out, "note on evicted blocks")


if __name__ == "__main__":
    tslib.main([test_evicted_json, test_evicted_text])
