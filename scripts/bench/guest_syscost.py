#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What a system call costs in a kernel of the matrix with tcpscope's
two ways of learning accept()'s owner (docs/BENCHMARKS-HISTORY.md, "accept() by
fexit").  Run inside the guests, as a test path of the kernel matrix:

    scripts/kernel-matrix.sh --kernels bullseye,bookworm,trixie,sid \\
        --tests "$PWD/scripts/bench/guest_syscost.py"

ns per getppid() (build/syscost) with no tracer ("none"), with `trace`
("trace": accept() by fexit on inet_csk_accept() where the kernel allows
it, the -v line printed says which) and with
`trace` under TCPSCOPE_TEST_NO_FEXIT (the syscalls: tracepoints, which put
every system call on the tracing path; "syscalls"): the least of 5 runs per
condition (the emulation's noise only adds), 3 alternating rounds, the
median printed, as lines the matrix's report counts ("ok   NAME: ...").
A measurement, not a test: it fails only when a tool does (each
kernel's results.log keeps the figures)."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

TCPSCOPE = os.environ.get("TCPSCOPE", "build/tcpscope")
SYSCOST = os.path.join(os.environ.get("TS_BUILD", "build"), "syscost")
ROUNDS, RUNS, CALLS = 3, 5, "200000"


def cost():
    """The least ns per call of RUNS runs."""
    best = None
    for _ in range(RUNS):
        out = subprocess.run([SYSCOST, CALLS], stdout=subprocess.PIPE, text=True,
                             timeout=120, check=True).stdout
        m = re.search(r"syscost: ns=([\d.]+)", out)
        if not m:
            raise RuntimeError("syscost said %r" % out)
        ns = float(m.group(1))
        best = ns if best is None else min(best, ns)
    return best


def attached(err_path, deadline):
    """Wait for the tracer's "tracing (" line; its stderr so far."""
    while time.monotonic() < deadline:
        with open(err_path) as f:
            text = f.read()
        if "tracing (" in text:
            return text
        time.sleep(0.2)
    raise RuntimeError("the tracer did not attach")


def measure(cond):
    """One round of one condition: (ns, the accept() line of -v)."""
    if cond == "none":
        return cost(), ""
    env = dict(os.environ)
    if cond == "syscalls":
        env["TCPSCOPE_TEST_NO_FEXIT"] = "1"
    # The tracer's stderr in a file of our own making (no fixed /tmp name).
    with tempfile.NamedTemporaryFile("w", prefix="guest_syscost.") as err:
        p = subprocess.Popen([TCPSCOPE, "trace", "-v", "--duration", "600"],
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            text = attached(err.name, time.monotonic() + 120)
            ns = cost()
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=60)
    how = [line for line in text.splitlines() if "attached" in line and "accept" in line]
    return ns, how[0] if how else "no accept() program attached"


def main():
    res = {"none": [], "trace": [], "syscalls": []}
    for r in range(ROUNDS):
        for cond in res:
            ns, how = measure(cond)
            res[cond].append(ns)
            print("ok   syscost.%s.round%d: %.0f ns; %s" % (cond, r + 1, ns, how), flush=True)
    base = sorted(res["none"])[ROUNDS // 2]
    for cond, v in res.items():
        mid = sorted(v)[ROUNDS // 2]
        print("ok   syscost.%s: %s ns, median %.0f (%+.0f %%)"
              % (cond, " ".join("%.0f" % x for x in v), mid, 100 * (mid - base) / base))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("FAIL guest_syscost: %s" % e)
        sys.exit(1)
