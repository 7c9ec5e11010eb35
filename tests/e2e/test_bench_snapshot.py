#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The snapshot benchmark script works: one run at a tiny size (the real
run is scripts/bench/snapshot.sh; timings are never asserted here)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tslib  # noqa: E402
from tslib import expect, run  # noqa: E402

SCRIPT = os.path.join(tslib.SRC, "scripts", "bench", "snapshot.sh")


def test_tiny_run():
    # The table's directory goes with the test (it was left in /tmp).
    with tempfile.TemporaryDirectory(prefix="tsbench") as tmp:
        out = os.path.join(tmp, "bench.md")
        r = run([SCRIPT, "--sizes", "200", "--runs", "1", "--out", out], timeout=150,
                env=dict(os.environ, TCPSCOPE=tslib.TCPSCOPE))
        with open(out) as f:
            table = f.read()
    expect("| sockets |" in table and "`ss -tanp`" in table, "no table: %s" % table)
    # 100 connections, both ends, and the 2 listeners of the holder.
    rows = [l for l in table.splitlines() if l.startswith("| 202 |")]
    expect(len(rows) == 1, "no row for 202 sockets: %s\n%s" % (table, r.stderr))
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    expect(len(cells) == 13 and all(c for c in cells), "incomplete row %s" % cells)
    expect(not os.path.exists("/sys/fs/bpf/tcpscope"), "pins left behind")
    names = run(["ip", "netns", "list"]).stdout
    expect("tsbench-" not in names, "namespace left behind: %s" % names)


if __name__ == "__main__":
    tslib.main([test_tiny_run])
