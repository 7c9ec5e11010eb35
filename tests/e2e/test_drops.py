#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Drops and reset reasons, from real kernel events in the test's own
namespaces: segments an nftables rule drops in the server's input hook
are NETFILTER_DROP drops of the server's connection, as many as the
rule's counter; a NO_SOCKET storm (connects to a closed port) loses no
state change while its drop records stay within the kernel's bound and
the rest is counted (records + counted == the kernel's TcpOutRsts);
reset reasons are the kernel's where tcp_send_reset has them (6.10+) and
inferred elsewhere (refused connect, unread data at close, SO_LINGER 0).
What a kernel lacks is skipped by the probe ("drop_reasons", "resets")."""
import json
import os
import tempfile
import time

import jsonschema

import timeline as tl
import tsnet
import tslib
from tslib import expect


SCHEMA = json.load(open(os.path.join(tslib.SRC, "docs", "schema", "tcpscope.schema.json")))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def validate(objs, per_kind=20):
    """Objects against docs/schema/tcpscope.schema.json: the first
    per_kind of each event kind (a whole storm would take minutes)."""
    seen = {}
    for o in objs:
        seen[o.get("event")] = seen.get(o.get("event"), 0) + 1
        if seen[o.get("event")] > per_kind:
            continue
        errs = list(VALIDATOR.iter_errors(o))
        expect(not errs, "%s: %s" % (o.get("event"), "; ".join(e.message for e in errs[:2])))


def nft_dropped(ns, table="tstl"):
    r = ns.run(["nft", "list", "table", "inet", table])
    n = 0
    for line in r.stdout.splitlines():
        f = line.split()
        if "counter" in f and "packets" in f:
            n += int(f[f.index("packets") + 1])
    return n


@tl.retry_on_loss
def test_netfilter_drops():
    tslib.require("drop_reasons")
    with tl.Pair("drp") as p:
        srv = tslib.Server(p.s, "--addr", tl.V4[1], "--mode", "client-close", "--half-close",
                           "--size", "1000", "--chunks", "20")
        p.nft(p.s, "tcp dport %d ip length > 500 numgen inc mod 4 == 0 counter drop" % srv.port)
        cli = tslib.client(p.c, "--addr", tl.V4[1], "--port", str(srv.port),
                           "--mode", "client-close", "--half-close", "--size", "1000",
                           "--chunks", "20", "--chunk-gap", "0.005")
        expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
        expect(srv.wait() == 0, "server failed")
        p.settle()
        dropped = nft_dropped(p.s)
        csegs = p.retrans_segs(p.c)
        rc, rs = p.stop()
    c, s = rc.one("client"), rs.one("server")
    validate(rc.recs + rs.recs)
    expect(dropped >= 1, "the rule dropped nothing")
    # Every segment the rule dropped is a drop of the server's connection.
    expect(s["drops_total"] == dropped,
           "server drops %d vs nft counter %d: %s" % (s["drops_total"], dropped, s["drops"]))
    expect(c["drops_total"] == 0, "client drops %s" % c["drops"])
    for d in s["drops"]:
        expect(d["reason"] == "NETFILTER_DROP" and d["direction"] == "incoming" and
               d["segment"] == "data" and d["len"] > 500, "drop %s" % d)
        # nf_hook_slow() frees it; newer kernels report nft_do_chain().
        expect(d["location"] is not None and
               d["location"].split("+")[0] in ("nf_hook_slow", "nft_do_chain"),
               "location %s" % d)
        expect(0 <= d["t_us"] <= s["lifetime_us"], "drop time %s" % d)
        # Relative to the client's initial sequence number: within the
        # 20000 bytes it sent (the first data byte is 1).
        expect(d["seq_rel"] is not None and 1 <= d["seq_rel"] and
               d["seq_rel"] + d["len"] <= 20001, "seq_rel %s" % d)
    # Each dropped segment was sent again, as the client's counters say.
    expect(csegs >= dropped and c["retransmits"]["data"] == csegs,
           "retransmits %s vs TcpRetransSegs %d, %d dropped" % (c["retransmits"], csegs, dropped))
    expect(rs.summary["drops"] >= dropped, "summary %s" % rs.summary)


STORM = """
import socket, sys, time
n = int(sys.argv[1])
t0 = time.monotonic()
for i in range(n):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 9))
    except ConnectionRefusedError:
        pass
    s.close()
print("%.3f" % (time.monotonic() - t0))
"""


def no_socket_storm(*tracer_args):
    tslib.require("drop_reasons")
    n = 2000
    with tslib.Netns("drs") as ns:
        tr = tslib.Tracer(*tracer_args, netns=ns)
        before = tsnet.nstat(ns)
        t0 = time.monotonic()
        r = ns.run(["python3", "-c", STORM, str(n)], timeout=120 * tslib.TIME_SCALE)
        elapsed = time.monotonic() - t0
        after = tsnet.nstat(ns)
        time.sleep(0.3)
        recs = tr.stop()
    rsts = tsnet.delta(before, after, "TcpOutRsts")
    validate(recs)
    summ = [x for x in recs if x["event"] == "summary"][-1]
    if summ["lost"]:
        raise tl.EventsLost("events lost: %s" % summ)
    states = {}
    for x in recs:
        if x["event"] == "state":
            states[(x["from"], x["to"])] = states.get((x["from"], x["to"]), 0) + 1
    # No state change was lost to the storm.
    expect(states.get(("CLOSE", "SYN_SENT")) == n and states.get(("SYN_SENT", "CLOSE")) == n,
           "state changes %s, %d connects" % (states, n))
    drops = [x for x in recs if x["event"] == "drop"]
    counted = sum(x["count"] for x in recs if x["event"] == "drops_suppressed")
    expect(all(d["reason"] == "NO_SOCKET" and d["segment"] == "SYN" and
               d["direction"] == "incoming" and d["conn"] == 0 for d in drops),
           "drops %s" % drops[:3])
    expect(summ["drops"] == len(drops) and summ["drops_suppressed"] == counted,
           "summary %s vs %d records, %d counted" % (summ, len(drops), counted))
    # Bounded in the kernel: a burst per CPU and a rate, the rest counted.
    ncpu = os.cpu_count() or 1
    bound = ncpu * (256 + 1000 * (elapsed + 1.0))
    expect(len(drops) <= bound, "%d drop records over the bound %d" % (len(drops), bound))
    if bound < n:
        expect(counted > 0, "nothing counted past the bound (%d records)" % len(drops))
    # Nothing missing: records + counted == the kernel's count of refusals.
    expect(rsts == n, "TcpOutRsts %d for %d refused connects" % (rsts, n))
    expect(len(drops) + counted == rsts,
           "%d records + %d counted != %d resets sent" % (len(drops), counted, rsts))
    print("storm: %d connects in %ss, %d drop records, %d counted"
          % (n, r.stdout.strip(), len(drops), counted))


def test_no_socket_storm():
    no_socket_storm()


def test_drops_in_capture():
    """trace -w: the capture holds the drops with their names and the
    counted ones; report shows what trace showed."""
    tslib.require("drop_reasons")
    cap = os.path.join(tempfile.mkdtemp(prefix="tsdrcap"), "d.cap")
    with tslib.Netns("drc") as ns:
        tr = tslib.Tracer("-w", cap, netns=ns)
        ns.run(["python3", "-c", STORM, "1200"], timeout=120 * tslib.TIME_SCALE)
        time.sleep(0.3)
        live = tr.stop()
    rep = tslib.run([tslib.TCPSCOPE, "report", "--json", cap]).stdout
    objs = [json.loads(l) for l in rep.splitlines() if l.strip()][1:]
    validate(objs)
    key = lambda o: (o["ts_ns"], o["sport"], o["dport"], o["seq"], o["reason"], o["location"])
    ld = sorted(key(o) for o in live if o["event"] == "drop")
    rd = sorted(key(o) for o in objs if o["event"] == "drop")
    expect(ld and ld == rd, "report's drops differ from trace's: %d vs %d" % (len(ld), len(rd)))
    lsum = [o for o in live if o["event"] == "summary"][-1]
    summ = json.loads(tslib.run([tslib.TCPSCOPE, "report", "--summary", "--json", cap])
                      .stdout.splitlines()[-1])
    validate([summ])
    expect(summ["drops"] == lsum["drops"] and summ["drops_suppressed"] == lsum["drops_suppressed"],
           "report --summary %s vs trace %s" % (summ, lsum))
    by = {r["reason"]: r["count"] for r in summ["drops_by_reason"]}
    expect(by.get("NO_SOCKET") == lsum["drops"], "drops by reason %s" % by)


def test_no_socket_storm_classic():
    no_socket_storm("--tp-mode", "classic")


RESETS = """
import socket, struct, sys, time
mode = sys.argv[1]
if mode == "refused":
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 9))
    except ConnectionRefusedError:
        pass
    sys.exit(0)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
if mode == "unread":
    c.sendall(b"x" * 100)
    time.sleep(0.1)
    a.close()        # 100 bytes never read: RST
elif mode == "linger0":
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()        # abortive close: RST
time.sleep(0.1)
"""


def reset_reason(mode, tracer_args):
    with tslib.Netns("drr") as ns:
        tr = tslib.Tracer(*tracer_args, netns=ns)
        ns.run(["python3", "-c", RESETS, mode], timeout=30 * tslib.TIME_SCALE)
        time.sleep(0.2)
        recs = tr.stop()
    return [x for x in recs if x["event"] in ("reset_sent", "reset_received")]


def reset_reasons(*tracer_args):
    tslib.require("resets")
    tslib.require_mode(tracer_args)
    kernel = tslib.probe().get("reset_reasons")
    # Refused: the client's RST received is inferred on every kernel; the
    # RST without a socket is seen where tcp_send_reset fires for it.
    rs = reset_reason("refused", tracer_args)
    got = [x for x in rs if x["event"] == "reset_received"]
    expect(len(got) == 1 and got[0]["reason"] == "connection refused" and
           got[0]["reason_inferred"], "refused: %s" % rs)
    sent = [x for x in rs if x["event"] == "reset_sent"]
    if tslib.probe().get("socketless_resets"):
        expect(len(sent) == 1, "refused: %s" % rs)
        want = ("NO_SOCKET", False) if kernel else ("no socket", True)
        expect((sent[0]["reason"], sent[0]["reason_inferred"]) == want, "refused: %s" % sent)
    # Unread data at close and SO_LINGER 0: the kernel's reason (6.10+),
    # else what the socket said, inferred.
    for mode, kname, inferred in (("unread", "TCP_ABORT_ON_CLOSE", "unread data at close"),
                                  ("linger0", None, "SO_LINGER 0")):
        rs = reset_reason(mode, tracer_args)
        sent = [x for x in rs if x["event"] == "reset_sent"]
        expect(len(sent) == 1, "%s: %s" % (mode, rs))
        if kernel:
            expect(not sent[0]["reason_inferred"] and sent[0]["reason"] and
                   (kname is None or sent[0]["reason"] == kname), "%s: %s" % (mode, sent))
        else:
            expect(sent[0]["reason_inferred"] and sent[0]["reason"] == inferred,
                   "%s: %s" % (mode, sent))


def test_reset_reasons():
    reset_reasons()


def test_reset_reasons_classic():
    reset_reasons("--tp-mode", "classic")


def test_no_drops_option():
    tslib.require("drop_reasons")
    with tslib.Netns("drn") as ns:
        tr = tslib.Tracer("--no-drops", netns=ns)
        ns.run(["python3", "-c", STORM, "20"], timeout=60 * tslib.TIME_SCALE)
        time.sleep(0.2)
        recs = tr.stop()
        err = tr.stderr()
    expect(not [x for x in recs if x["event"] in ("drop", "drops_suppressed")],
           "drops with --no-drops")
    expect("drops: off (--no-drops)" in err, "-v says nothing of drops: %s" % err)


if __name__ == "__main__":
    tslib.main([test_netfilter_drops, test_no_socket_storm, test_no_socket_storm_classic,
                test_drops_in_capture,
                test_reset_reasons, test_reset_reasons_classic,
                test_no_drops_option])
