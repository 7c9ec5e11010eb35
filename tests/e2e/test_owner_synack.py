#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""SYN-ACK retransmissions carry the listener's owner (issue 12), also for
a listener older than the tracer (its owner comes from the start-up
snapshot: no socket storage of the listener exists).  The client's final
ACK is dropped in the server namespace's INPUT hook until one SYN-ACK
retransmission was seen."""
import json

import tslib
from tslib import expect

PORT = 9191


def retransmits(tr):
    out = []
    with open(tr.out) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("event") == "synack_retransmit":
                    out.append(r)
    return out


def test_synack_retransmit_owner():
    with tslib.Netns("synack") as ns:
        srv = tslib.Server(ns, "--port", str(PORT), "--count", "1")
        ns.run(["nft", "add", "table", "inet", "tsown"])
        ns.run(["nft", "add", "chain", "inet", "tsown", "in",
                "{ type filter hook input priority 0; }"])
        ns.run(["nft", "add", "rule", "inet", "tsown", "in", "tcp", "dport", str(PORT),
                "tcp", "flags", "&", "(syn|ack)", "==", "ack", "drop"])
        tr = tslib.Tracer("--tp-mode", "btf", netns=ns)
        try:
            cli = ns.popen(["python3", tslib.TCPKIT, "client", "--port", str(PORT)])
            tslib.wait_until(lambda: retransmits(tr), 15, "a SYN-ACK retransmission")
            ns.run(["nft", "delete", "table", "inet", "tsown"])
            cli.wait(timeout=60)
            expect(cli.returncode == 0, "client failed")
            expect(srv.wait() == 0, "server failed")
            recs = tr.stop()
        finally:
            tr.kill()
    rtx = [r for r in recs if r.get("event") == "synack_retransmit"]
    expect(rtx and all(r["pid"] == srv.pid and r["comm"] == "python3" for r in rtx),
           "SYN-ACK retransmits' owners %s, want %d" % ([(r["pid"], r["comm"]) for r in rtx], srv.pid))


if __name__ == "__main__":
    tslib.main([test_synack_retransmit_owner])
