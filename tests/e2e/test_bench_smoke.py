#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""scripts/bench.sh --quick works end to end: it runs every section at a
tiny size, prints the tables, writes them into a copy of the docs between
the markers, restores kernel.bpf_stats_enabled and removes its namespace.
The figures themselves are not checked: benchmarks are never pass/fail."""
import os
import re
import shutil
import subprocess
import tempfile

import tslib
from tslib import expect

BENCH = os.path.join(tslib.SRC, "scripts", "bench.sh")
BUILD = os.environ.get("TS_BUILD", os.path.dirname(tslib.TCPSCOPE))
STATS = "/proc/sys/kernel/bpf_stats_enabled"


def table_rows(text, heading):
    """Data rows of the markdown table under a heading."""
    part = text.split(heading, 1)
    expect(len(part) == 2, "no section %r in:\n%s" % (heading, text))
    rows = []
    for line in part[1].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]


def netns_names():
    try:
        return {n for n in os.listdir("/run/netns") if n.startswith("tsbench")}
    except FileNotFoundError:
        return set()


def test_quick_run():
    with open(STATS) as f:
        stats_before = f.read().strip()
    ns_before = netns_names()
    tmp = tempfile.mkdtemp(prefix="tsbench-test.")
    try:
        docs = os.path.join(tmp, "BENCHMARKS.md")
        shutil.copy(os.path.join(tslib.SRC, "docs", "BENCHMARKS.md"), docs)
        out = os.path.join(tmp, "results.md")
        env = dict(os.environ, TS_BENCH_NO_BUILD="1", TS_BUILD=BUILD)
        p = subprocess.run([BENCH, "--quick", "--out", out, "--docs", docs], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=150 * tslib.TIME_SCALE)
        expect(p.returncode == 0, "bench.sh exit %d: %s" % (p.returncode, p.stderr[-2000:]))
        with open(out) as f:
            text = f.read()
        expect(text == p.stdout, "--out differs from what was printed")
        rates = table_rows(text, "### Connection rate (server-close)")
        names = [r[0] for r in rates]
        for want in ("no tracer", "`floor (empty tp_btf programs)`",
                     "`tcpscope trace > /dev/null`", "`tcpscope trace --json > file`"):
            expect(want in names, "rate table lacks %s: %s" % (want, names))
        for r in rates:
            expect(re.fullmatch(r"\d+", r[1]) and int(r[1]) > 0, "bad rate row %s" % r)
        table_rows(text, "### Connection rate (client-close)")
        costs = table_rows(text, "### Kernel cost per event")
        expect(any(r[0].startswith("`floor") and r[2] == "1.0×" for r in costs),
               "no floor row in the cost table: %s" % costs)
        expect(any("btf_state" in r[3] for r in costs), "no btf_state cost: %s" % costs)
        losses = table_rows(text, "### Losses at the highest churn rate")
        expect(len(losses) >= 2, "loss table: %s" % losses)
        for r in losses:
            expect(int(r[2]) > 0, "no opens counted by the kernel: %s" % r)
        with open(docs) as f:
            doc = f.read()
        expect("<!-- bench:begin -->\n" + text in doc, "docs section not replaced")
        expect(doc.count("<!-- bench:end -->") == 1, "docs end marker")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(STATS) as f:
        expect(f.read().strip() == stats_before, "kernel.bpf_stats_enabled not restored")
    left = netns_names(); expect(left == ns_before, "bench left a namespace behind: %s -> %s" % (sorted(ns_before), sorted(left)))


if __name__ == "__main__":
    tslib.main([test_quick_run])
