#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Least privilege: tcpscope serve as an unprivileged user (uid 65534) with
only ambient capabilities, as setpriv (and the systemd unit) gives them.

 - CAP_BPF + CAP_PERFMON: tracing works; its counts equal the kernel's.
   With --netns the socket table (tcpscope_sockets) is left out with a
   warning: the iterator enters the namespace with setns(), which needs
   CAP_SYS_ADMIN;
 - adding CAP_SYS_ADMIN brings tcpscope_sockets back;
 - --tp-mode classic needs CAP_DAC_READ_SEARCH and CAP_SYS_ADMIN too;
 - no capabilities: one line saying what is missing, exit status 1."""
import subprocess

import servekit
import tslib
from tslib import expect

CONNS = 40
NOBODY = "65534"


def setpriv(caps):
    argv = ["setpriv", "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"]
    if caps:
        c = ",".join("+" + x for x in caps)
        argv += ["--inh-caps", c, "--ambient-caps", c]
    return argv + ["--"]


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return line.split()[1]
    return None


def run_with(caps, *args):
    if caps:
        # Before 5.11 BPF maps are charged to RLIMIT_MEMLOCK, which only
        # CAP_SYS_RESOURCE may raise: these capabilities alone do not do.
        tslib.require("memcg_accounting", "BPF memory charged to the memory cgroup")
    with tslib.Netns("caps") as ns:
        serve = servekit.Serve(*args, netns=ns, prefix=setpriv(caps))
        try:
            expect(uid_of(serve.proc.pid) == NOBODY, "serve does not run as uid %s" % NOBODY)
            m = servekit.opens_match(ns, serve, CONNS)
            err = serve.stderr()
            serve.stop()
        finally:
            serve.kill()
    return m, err


def test_bpf_perfmon():
    m, err = run_with(["bpf", "perfmon"])
    expect(not any(n == "tcpscope_sockets" for n, _ in m),
           "tcpscope_sockets without CAP_SYS_ADMIN in another namespace?")
    expect("no tcpscope_sockets metric" in err, "no warning about the socket table: %s" % err)


def test_bpf_perfmon_sys_admin():
    m, _ = run_with(["bpf", "perfmon", "sys_admin"])
    expect(any(n == "tcpscope_sockets" for n, _ in m), "no tcpscope_sockets with CAP_SYS_ADMIN")


def test_classic():
    """--tp-mode classic: tracefs (root-only, mode 0700) needs
    CAP_DAC_READ_SEARCH, and libbpf walks the kernel's BTF objects, which
    needs CAP_SYS_ADMIN."""
    run_with(["bpf", "perfmon", "dac_read_search", "sys_admin"], "--tp-mode", "classic")
    r = subprocess.run(setpriv(["bpf", "perfmon"]) +
                       [tslib.TCPSCOPE, "serve", "--listen", "127.0.0.1:0", "--tp-mode", "classic"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    expect(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
           "classic without tracefs access: exit %d, %r" % (r.returncode, r.stderr))


def test_no_caps():
    r = subprocess.run(setpriv([]) + [tslib.TCPSCOPE, "serve", "--listen", "127.0.0.1:0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    lines = r.stderr.strip().splitlines()
    expect(r.returncode == 1 and len(lines) == 1, "without capabilities: exit %d, %r"
           % (r.returncode, lines))


if __name__ == "__main__":
    tslib.main([test_bpf_perfmon, test_bpf_perfmon_sys_admin, test_classic, test_no_caps])
