#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Nothing missed over many connections: in a fresh namespace, the number of
CLOSE -> SYN_SENT events equals the kernel's TcpActiveOpens delta and
LISTEN -> SYN_RECV equals TcpPassiveOpens, as nstat reports them inside the
namespace, with no event lost."""
import json
import os
import re
import subprocess

import tslib
import tsnet
from tslib import expect

CONNS = 400


def count(recs, old, new):
    return sum(1 for r in recs if r.get("event") == "state" and r["from"] == old
               and r["to"] == new)


CLIENT = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
          ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]
SERVER = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
          ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]


def subsequence(got, of):
    it = iter(of)
    return all(any(step == o for o in it) for step in got)


def check_accounted(recs, summary):
    """Where a loss was reported: every socket's steps are its life's, in
    order, none twice, and the steps missing are no more than the count
    reported lost (a loss said, never a silent one)."""
    conns = tslib.by_conn(recs)
    missing = 0
    socks = 0
    for k, c in conns.items():
        got = tslib.transitions(c)
        if got and got[0] == ("CLOSE", "LISTEN"):
            continue
        socks += 1
        expect(subsequence(got, CLIENT) or subsequence(got, SERVER),
               "socket %s: steps %s are no life's" % (k, got))
        missing += 5 - len(got)
    missing += 5 * max(0, 2 * CONNS - socks)
    expect(socks <= 2 * CONNS, "%d sockets for %d connections" % (socks, CONNS))
    expect(missing <= summary["lost"], "%d steps missing, %d said lost: a silent loss"
           % (missing, summary["lost"]))


def conn_hash_entries(tr):
    """Entries of the tracer's conn_hash map (the btf variant's
    per-connection state), found through the tracer's descriptors."""
    fdinfo = "/proc/%d/fdinfo" % tr.proc.pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                m = re.search(r"^map_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if not m:
            continue
        show = subprocess.run(["bpftool", "-j", "map", "show", "id", m.group(1)],
                              capture_output=True, text=True)
        if show.returncode or json.loads(show.stdout).get("name") != "conn_hash":
            continue
        dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", m.group(1)],
                              capture_output=True, text=True, check=True)
        return len(json.loads(dump.stdout))
    raise tslib.TestFailure("no conn_hash map among the tracer's descriptors")


def _check_counts(addr, mode, env=None, loss_ok=False, hash_use=None):
    """hash_use: (entries with the listener up, entries once every socket
    is gone) in conn_hash, checked when given."""
    with tslib.Netns("counts") as ns:
        tr = tslib.Tracer("--tp-mode", mode, netns=ns, env=env)
        try:
            before = tsnet.nstat(ns)
            srv = tslib.Server(ns, "--addr", addr, "--count", str(CONNS))
            if hash_use:
                n = conn_hash_entries(tr)
                expect(n == hash_use[0], "conn_hash holds %d entries with the listener up, "
                       "not %d" % (n, hash_use[0]))
            cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port),
                               "--count", str(CONNS), timeout=90)
            expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
            expect(srv.wait() == 0, "server failed")
            tslib.settle(ns)
            after = tsnet.nstat(ns)
            if hash_use:
                # The listener closed with the server; each socket's entry
                # goes when the kernel destroys it (btf_destroy).
                left = [None]

                def emptied():
                    left[0] = conn_hash_entries(tr)
                    return left[0] == hash_use[1]
                try:
                    tslib.wait_until(emptied, 10, "conn_hash to hold %d entries" % hash_use[1])
                except tslib.TestFailure as e:
                    raise tslib.TestFailure("%s (%s left)" % (e, left[0]))
            recs = tr.stop()
        finally:
            tr.kill()
    active = tsnet.delta(before, after, "TcpActiveOpens")
    passive = tsnet.delta(before, after, "TcpPassiveOpens")
    # The kernel's counters are the truth the events must equal; a very
    # slow machine (an emulated kernel) may count an extra open, say for a
    # client's retried connection, so only fewer than CONNS is wrong here.
    expect(active >= CONNS and passive >= CONNS,
           "kernel counted %d active, %d passive opens for %d connections"
           % (active, passive, CONNS))
    summary = recs[-1]
    expect(summary["event"] == "summary", "no summary line: %s" % summary)
    why = [ln for ln in tr.stderr().splitlines() if "lost:" in ln or "skipped, by" in ln]
    if loss_ok and summary["lost"]:
        check_accounted(recs, summary)
        return tr.stderr()
    expect(summary["lost"] == 0, "events lost: %s %s" % (summary, why))
    expect(not [r for r in recs if r.get("event") == "lost"], "lost records in the stream")
    syn_sent = count(recs, "CLOSE", "SYN_SENT")
    syn_recv = count(recs, "LISTEN", "SYN_RECV")
    expect(syn_sent == active, "CLOSE->SYN_SENT events %d != TcpActiveOpens delta %d"
           % (syn_sent, active))
    expect(syn_recv == passive, "LISTEN->SYN_RECV events %d != TcpPassiveOpens delta %d"
           % (syn_recv, passive))
    # Every connection was seen whole: one id per socket, five steps each.
    conns = tslib.by_conn(recs)
    whole = [c for c in conns.values() if len(c) == 5 and c[-1]["to"] == "CLOSE"]
    other = [(k, tslib.transitions(c)) for k, c in conns.items()
             if not (len(c) == 5 and c[-1]["to"] == "CLOSE")]
    expect(len(whole) >= 2 * CONNS, "%d of %d sockets seen from start to CLOSE; the others: %s"
           % (len(whole), 2 * CONNS, other[:4]))
    return tr.stderr()


def check_counts(addr, mode, env=None, loss_ok=False, hash_use=None):
    """Once more, and only once, when the tracer itself reported lost
    records (ring reservations the kernel refused, seen under emulation on
    7.2): a loss is said, never silent, but the counts must then hold.
    With loss_ok a reported loss is checked against what is missing."""
    try:
        return _check_counts(addr, mode, env, loss_ok, hash_use)
    except tslib.TestFailure as e:
        if not str(e).startswith("events lost"):
            raise
        print("retry: the tracer reported a loss (%s)" % e)
        return _check_counts(addr, mode, env, loss_ok, hash_use)


def test_ipv4_btf():
    """Also: the btf variant keeps each socket's state in conn_hash from
    its first event until the kernel destroys it, and then no longer."""
    check_counts("127.0.0.1", "btf", hash_use=(1, 0))


def test_ipv6_btf():
    check_counts("::1", "btf", hash_use=(1, 0))


def test_hash_full_btf():
    """Where conn_hash is full (TS_CONN_HASH_MAX sockets traced at once),
    socket storage keeps the rest: nothing lost, every count the
    kernel's, and nothing in the hash."""
    err = check_counts("127.0.0.1", "btf", {"TCPSCOPE_TEST_HASH_FULL": "1"}, hash_use=(0, 0))
    expect("the others' state was kept in socket storage" in err,
           "-v does not say the hash was full: %s" % err[-400:])


def test_storage_refused_btf():
    """Where conn_hash is full and the kernel refuses socket storage too
    (7.x may, under contention), the btf variant keeps the connection in
    its fallback map: nothing lost, every count still the kernel's."""
    err = check_counts("127.0.0.1", "btf", {"TCPSCOPE_TEST_NO_STORAGE": "1"})
    expect("refused socket storage for some connections" in err,
           "-v does not say storage was refused: %s" % err[-400:])


def test_skipped_state_program_btf():
    """The kernel skips btf_state where it is already running on the CPU
    (a softirq, or a task preempted inside it, holds it): btf_state_nested
    takes each such change over, once.  Here btf_state leaves half of them
    at random: every count is still the kernel's, none twice.  Where the
    kernel skipped btf_state_nested too (7.2 under emulation: a dozen runs
    in 4 000), half of those changes are lost: said, and then only the
    steps missing must be no more than the loss said."""
    err = check_counts("127.0.0.1", "btf", {"TCPSCOPE_TEST_SKIP_STATE": "1"}, loss_ok=True)
    m = re.search(r"(\d+) such runs taken over by the second program", err)
    # About half of 10 changes per connection, both ends.
    expect(m and int(m.group(1)) >= 2 * CONNS, "the second program took over %s changes: %s"
           % (m.group(1) if m else "no", err[-400:]))


def test_ipv4_classic():
    check_counts("127.0.0.1", "classic")


def test_ipv6_classic():
    check_counts("::1", "classic")


if __name__ == "__main__":
    tslib.main([test_ipv4_btf, test_ipv6_btf, test_hash_full_btf, test_storage_refused_btf,
                test_skipped_state_program_btf, test_ipv4_classic, test_ipv6_classic])
