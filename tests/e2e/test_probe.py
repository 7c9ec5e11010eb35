#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tcpscope probe: what the running kernel offers, found by loading the
programs for real.  Its JSON is what the tests (and the kernel matrix)
skip by, so it must agree with what 'trace' and 'snapshot' then load."""
import json
import os

import ownkit
import tslib
from tslib import expect, run


def probe(env=None):
    r = run([tslib.TCPSCOPE, "probe", "--json"], env=env)
    return json.loads(r.stdout)


def test_agrees_with_trace():
    p = probe()
    for key in ("kernel", "variant", "btf_variant", "classic_variant", "resets",
                "synack_retransmits", "socket_cookies", "iterators", "snapshot_loader"):
        expect(key in p, "no %s in %s" % (key, p))
    expect(p["btf"] and p["variant"] in ("btf", "classic"), "nothing loads: %s" % p)
    expect((p["variant"] == "btf") == p["btf_variant"]["loads"], "variant %s" % p)
    expect(p["socket_cookies"] == (p["variant"] == "btf"), "cookies %s" % p)
    # trace -v names the same variant.
    with tslib.Netns("probe") as ns:
        r = run([tslib.TCPSCOPE, "trace", "-v", "-d", "200ms", "--netns", ns.path])
    expect("tracing (%s programs)" % p["variant"] in r.stderr,
           "probe says %s, trace -v: %r" % (p["variant"], r.stderr[-400:]))
    # Every feature has its reason.
    for key in ("resets", "synack_retransmits", "socket_cookies", "iterators"):
        expect(p.get(key + "_why"), "no reason for %s" % key)
    text = run([tslib.TCPSCOPE, "probe"]).stdout
    expect("trace loads                %s" % p["variant"] in text, text)
    # accept()'s owner: what the probe says is what trace attaches.
    expect(p.get("accept_owner") in ("fexit", "syscalls") and p.get("accept_owner_why"),
           "accept_owner %s" % p)
    ownkit.expect_accept_programs(r.stderr, p["accept_owner"])


def test_accept_without_fexit():
    """TCPSCOPE_TEST_NO_FEXIT (the seam for kernels that refuse
    trampolines): accept() by the syscall tracepoints, and the reason
    names it; trace then attaches those, and -v says what they cost."""
    env = dict(os.environ, TCPSCOPE_TEST_NO_FEXIT="1")
    p = probe(env)
    expect(p["accept_owner"] == "syscalls" and "TCPSCOPE_TEST_NO_FEXIT" in p["accept_owner_why"],
           "accept_owner %s: %s" % (p["accept_owner"], p["accept_owner_why"]))
    with tslib.Netns("probe") as ns:
        r = run([tslib.TCPSCOPE, "trace", "-v", "-d", "200ms", "--netns", ns.path], env=env)
    expect("attached syscalls:sys_exit_accept4" in r.stderr
           and "attached fexit" not in r.stderr
           and "every system call of the machine takes the tracing path" in r.stderr,
           "trace -v: %r" % r.stderr[-600:])


def test_without_btf_tracepoints():
    """With the tp_btf form of a required tracepoint hidden (the test seam
    for kernels without it), the btf variant does not load, the classic one
    is chosen, and the reasons say so."""
    env = dict(os.environ, TCPSCOPE_HIDE_TP="btf:inet_sock_set_state")
    p = probe(env)
    expect(not p["btf_variant"]["loads"] and p["btf_variant"]["error"],
           "btf variant: %s" % p["btf_variant"])
    expect(p["variant"] == "classic" and p["classic_variant"]["loads"], "variant %s" % p)
    expect(not p["socket_cookies"] and "btf variant" in p["socket_cookies_why"],
           "cookies %s" % p)
    expect(p["resets"] == (p["tracepoints"]["tcp_send_reset"]["classic"] and
                           p["tracepoints"]["tcp_receive_reset"]["classic"]), "resets %s" % p)


def test_usage():
    r = run([tslib.TCPSCOPE, "probe", "extra"], check=False)
    expect(r.returncode == 2 and len(r.stderr.strip().splitlines()) >= 1, "usage: %r" % r.stderr)


if __name__ == "__main__":
    tslib.main([test_agrees_with_trace, test_without_btf_tracepoints, test_accept_without_fexit,
                test_usage])
