#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The kernel matrix's verdicts (tests/kernels/report.py) on made-up guest
run directories: which stopped guests kernel-matrix.sh runs once more (a
watchdog's stall before the tests ended, and nothing else), and that a
kernel run twice says so.  No root, no guest."""
import contextlib
import io
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "kernels"))
import report  # noqa: E402

FAILS = []
SOFT = "[  204.113305] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [tcpscope:612]"
RCU = "[  310.000001] rcu: INFO: rcu_sched self-detected stall on CPU"
PANIC = "[   50.000000] Kernel panic - not syncing: Attempted to kill init!"
DONE = ("tsguest: BOOTED 5.10.0-32-amd64\nTSBEGIN test_trace_basic\n"
        "ok   test_ipv4_btf (3.0s)\n1 passed, 0 failed\n"
        "TSEND test_trace_basic rc=0 secs=3\nTSLEFT netns=0\nTSDONE\n")
CUT = "tsguest: BOOTED 5.10.0-32-amd64\nTSBEGIN test_trace_basic\n"


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("FAIL: %s" % what)


def guest(root, name, results, console, meta="suite=bullseye\nabi=5.10.0-32-amd64\nqemu_rc=0\n"):
    d = os.path.join(root, name)
    os.mkdir(d)
    for f, text in (("results.log", results), ("console.log", console), ("meta", meta)):
        with open(os.path.join(d, f), "w") as fh:
            fh.write(text)
    return d


def stalled(d):
    """report.py --stalled DIR as kernel-matrix.sh runs it: (status, line)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = report.main(["report.py", "--stalled", d])
    return rc, out.getvalue().strip()


def main():
    with tempfile.TemporaryDirectory() as root:
        boot = "[    0.000000] Linux version 5.10.0-32-amd64\n"
        rc, line = stalled(guest(root, "soft", CUT, boot + SOFT + "\n" + PANIC + "\n"))
        check(rc == 0 and line == SOFT.strip(), "soft lockup mid-test: %d %r" % (rc, line))
        rc, line = stalled(guest(root, "rcu", CUT, boot + RCU + "\n"))
        check(rc == 0 and "self-detected stall" in line, "RCU stall mid-test: %d %r" % (rc, line))
        # A guest that finished its tests is never run again, whatever
        # its console says.
        rc, _ = stalled(guest(root, "done", DONE, boot + SOFT + "\n"))
        check(rc == 1, "a finished guest taken for stalled")
        # Another death (a panic, an oops, qemu killed) is the verdict.
        rc, _ = stalled(guest(root, "panic", CUT, boot + PANIC + "\n"))
        check(rc == 1, "a panic without a stall taken for one")
        rc, _ = stalled(guest(root, "oops", CUT, boot + "[ 9.1] BUG: kernel NULL pointer dereference\n"))
        check(rc == 1, "an oops taken for a stall")
        rc, _ = stalled(os.path.join(root, "missing"))
        check(rc == 1, "a directory without logs taken for stalled")
        # The run after a stall: its verdict, and a line saying it ran twice.
        d = guest(root, "again", DONE, boot,
                  "suite=bullseye\nabi=5.10.0-32-amd64\nqemu_rc=0\nstall_retry=%s\n"
                  "qemu_rc=0\nguest_secs=200\n" % SOFT.strip())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = report.main(["report.py", d])
        text = out.getvalue()
        check(rc == 0 and "PASS" in text, "the second run's pass: %s" % text)
        check("ran twice: the first guest stalled" in text and "CPU#1 stuck" in text,
              "no word of the first run: %s" % text)
    print("kernel_report: %d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
