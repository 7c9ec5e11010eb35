#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The benchmark's verdicts on issue 17's targets (scripts/bench/bench.py),
from made-up figures whose answers are worked out by hand: the bound a
CPU-bound churn puts on a rate, 'out of reach here' only under it, the
kernel target against the least complete design (an LRU hash is not one;
a step without a second program pays for one).  No root, no BPF."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts", "bench"))
import bench  # noqa: E402

# The figures below are worked out for two CPUs, as this machine has.
os.cpu_count = lambda: 2
FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("FAIL: %s" % what)


def run(rate, secs=3.0, idle=None, cpu=None, events=None, steal=None):
    """One churn run as bench_rate() keeps it: (churn's figures, the
    tracer's), the tracer's None for the untraced runs."""
    v = {"rate": rate, "secs": secs, "cpu0": 0.0, "sys0": 0.0, "idle": idle,
         "steal": steal}
    if cpu is None:
        return (v, None)
    return (v, {"cpu": cpu, "sys": cpu / 2, "events": events, "rss_mb": 40.0, "lost": 0})


def cost(ns_state, progs, conns=100000):
    """One kernel-cost round: (ns per event, [(program, run_time_ns,
    run_cnt)], connections)."""
    return (ns_state, progs, conns)


def results(trace_rate, json_rate, hash_x=5.5, lru_x=4.0, nested=50.0):
    """Empty programs at 50 ns an event; tcpscope's programs: btf_state
    450 ns and btf_state_nested a run each of 1 000 000 events, tp_accept
    700 ns on 100 000 connections.  The untraced runs make 30 000 conn/s
    and leave 1 % idle; every tracer reports 300 000 events a second and
    uses 0.03 CPU-seconds a second (1.5 % of 2 CPUs)."""
    n = 1000000
    trace_progs = [("btf_state", 450 * n, n), ("btf_state_nested", int(nested * n), n),
                   ("tp_accept", 700 * 100000, 100000)]
    c = {"floor": [cost(50.0, [("floor_state", 50 * n, n)])],
         "trace": [cost(450.0 + nested, trace_progs)],
         "floorhash": [cost(hash_x * 50, [("hash_state", int(hash_x * 50 * n), n)])],
         "floorlru": [cost(lru_x * 50, [("lru_state", int(lru_x * 50 * n), n)])]}
    none = [run(30000, idle=0.01), run(30000, idle=0.01)]
    tr = [run(trace_rate, cpu=0.09, events=900000)]
    js = [run(json_rate, cpu=0.09, events=900000)]
    return {"cost": c, "rate": {"server-close": {"none": none, "trace": tr, "json": js}}}


def rows(res):
    out = bench.targets_table(None, res)
    return {r.split(" | ")[0].lstrip("| "): r.split(" | ") for r in out if r.startswith("| ")
            and not r.startswith("| target")}


def test_bound():
    # s = (programs less an empty one a run) x events/s / CPUs + process:
    # (400 + 0 + 65) ns x 300 000 / 2e9 = 6.975 %, + 1.5 %; idle 1 %.
    extra = bench.programs_extra_ns(results(0, 0)["cost"], "trace", 50.0)
    check(abs(extra - 465.0) < 1e-6, "extra ns an event %r, want 465" % extra)
    ctx = bench.mode_context(results(0, 0)["rate"]["server-close"], 30000)
    got = bench.rate_stats(results(0, 0)["rate"]["server-close"], "trace", 30000)
    b = bench.rate_bound(ctx, got, extra)
    want = (1 - 0.06975 - 0.015) / 0.99
    check(abs(b["cap"] - want) < 1e-9, "bound %r, want %r" % (b["cap"], want))


def test_rate_verdicts():
    # The bound is ~92.4 %: 95 % is out of reach, 90 % is not.
    r = rows(results(trace_rate=27000, json_rate=26400))
    t = r["`trace` ≥ 95 % of the untraced connection rate"]
    check(t[2] == "out of reach here", "trace verdict %r" % t[2])
    check("**room for at most 92.4 %**" in t[3], "trace reason %r" % t[3])
    j = r["`trace --json` ≥ 90 % of the untraced connection rate"]
    check(j[2] == "not met", "json verdict %r" % j[2])
    check("room for at most 92.4 %" in j[3] and "untraced runs spread" in j[3]
          and "**" not in j[3].split(";")[0], "json reason %r" % j[3])
    # Met when the median reaches it, whatever the bound says.
    r = rows(results(trace_rate=28800, json_rate=27300))
    check(r["`trace` ≥ 95 % of the untraced connection rate"][2] == "**met**", "trace met")
    check(r["`trace --json` ≥ 90 % of the untraced connection rate"][2] == "**met**",
          "json met")


def test_kernel_verdicts():
    # The LRU step (4.0x) is cheaper, but forgets idle connections: the
    # least complete design is the hash (5.5x) and a second program (1.0x).
    r = rows(results(27000, 26400))
    k = [v for n, v in r.items() if n.startswith("kernel ns per event")][0]
    check(k[1].startswith("10.0×"), "tcpscope %r" % k[1])
    check(k[2] == "out of reach here", "kernel verdict %r" % k[2])
    check(re.search(r"preallocated hash \(5\.5×\) and a second program .*\(1\.0×\), 6\.5×",
                    k[3]) is not None, "kernel reason %r" % k[3])
    check("LRU hash (4.0×) forgets idle connections" in k[3], "LRU left out: %r" % k[3])
    # At the target is not above it: not met, not out of reach.
    r = rows(results(27000, 26400, hash_x=5.0))
    k = [v for n, v in r.items() if n.startswith("kernel ns per event")][0]
    check(k[2] == "not met", "kernel verdict at 6.0x %r" % k[2])


def test_steal():
    # What the hypervisor took, over every run of the mode: the median, the
    # most (named by its tracer and round), and how many runs lost 5 % or
    # more; nothing said when no run measured it.
    res = results(27000, 26400)
    rr = res["rate"]["server-close"]
    rr["none"] = [run(30000, idle=0.01, steal=0.0), run(30000, idle=0.01, steal=0.01)]
    rr["trace"] = [run(27000, cpu=0.09, events=900000, steal=0.005)]
    rr["json"] = [run(14000, cpu=0.09, events=900000, steal=0.2)]
    out = "\n".join(bench.targets_table(None, res, {"json": "tcpscope trace --json > file"}))
    check("the hypervisor took 0.8 % of the CPUs in the median churn run (steal), 20.0 % "
          "at most (`tcpscope trace --json > file`, round 1), 5 % or more in 1 of 4 runs"
          in out, "steal line: %s" % out)
    out = "\n".join(bench.targets_table(None, results(27000, 26400)))
    check("hypervisor" not in out, "steal said without a measure: %s" % out)


def test_no_accept():
    # Where accept()'s owner comes from syscalls: tracepoints, the same
    # tracer without them is a row of the rate tables: its share is said
    # beside each rate not met, out of reach or not, and nowhere when the
    # row did not run (fexit allowed).
    res = results(trace_rate=27000, json_rate=26400)
    res["rate"]["server-close"]["noaccept"] = [run(28200, cpu=0.08, events=900000)]
    r = rows(res)
    for name in ("`trace` ≥ 95 %", "`trace --json` ≥ 90 %"):
        why = r[name + " of the untraced connection rate"][3]
        check("without them (`trace --no-accept`) 94.0 %" in why,
              "%s: no-accept share %r" % (name, why))
    why = rows(results(27000, 26400))["`trace` ≥ 95 % of the untraced connection rate"][3]
    check("no-accept" not in why, "no-accept said without its row: %r" % why)


def profiled(conns, samples):
    """One profiled churn as bench_profile() keeps it."""
    return {"conns": conns, "samples": [[c, s, n] for (c, s), n in samples.items()]}


def profile(programs=5, kernel=5, process=5):
    """Untraced: two runs of 1 000 connections, 100 samples of TCP work
    and 10 idle each (at 1 000 Hz, 0.5 us a sample over 2 000 connections:
    c0 = 100 us, idle 10 us).  Traced: one run of 1 000 connections (1 us a
    sample): the same TCP work, the programs, the kernel's functions that
    run for a tracer (the ring, a map, the system-call slow path: kernel
    samples in all), the tracer's processes (tcpscope and cat: process),
    a function the untraced runs happened to miss (2 us: the rest), idle
    15 us."""
    base = {("churn", "[k] tcp_ack"): 100, ("swapper", "[k] pv_native_safe_halt"): 10}
    k = {("churn", "[k] __bpf_ringbuf_reserve"): kernel - kernel // 2 - 1,
         ("ksoftirqd/0", "[k] htab_map_update_elem"): kernel // 2,
         ("churn", "[k] syscall_exit_work"): 1}
    t = {("churn", "[k] tcp_ack"): 100, ("swapper", "[k] pv_native_safe_halt"): 15,
         ("churn", "[k] bpf_prog_0123456789abcdef_btf_state"): programs,
         ("tcpscope", "[.] text_rec"): process - 2, ("tcpscope", "[k] do_syscall_64"): 1,
         ("cat", "[k] pipe_read"): 1, ("churn", "[k] rarely_sampled"): 2}
    t.update(k)
    return {"server-close": {"none": [profiled(1000, base), profiled(1000, base)],
                             "trace": [profiled(1000, t)], "json": [profiled(1000, t)],
                             "freq": 1000, "comms": {"trace": ["tcpscope", "cat"],
                                                      "json": ["tcpscope", "cat"]}}}


def test_profile():
    got = bench.profiles({"profile": profile()})["server-close"]["trace"]
    want = {"c0": 100.0, "programs": 5.0, "kernel": 5.0, "process": 5.0, "rest": 2.0,
            "idle": 5.0, "own": 15.0, "c1": 117.0}
    for k, v in want.items():
        check(abs(got[k] - v) < 1e-9, "profile %s %r, want %r" % (k, got[k], v))
    check(abs(got["cap"] - 100 / 115) < 1e-9, "profile room %r" % got["cap"])
    # The kernel statistics' bound (~92.4 %) leaves room for 90 %; the
    # profile (100 / 115 = 87.0 %) does not: out of reach, said in bold.
    res = results(trace_rate=27000, json_rate=26400)
    res["profile"] = profile()
    j = rows(res)["`trace --json` ≥ 90 % of the untraced connection rate"]
    check(j[2] == "out of reach here", "json verdict with the profile %r" % j[2])
    check("**room for at most 87.0 %** (the tracer's own work 15.0 µs a connection "
          "beside the untraced 100.0 µs: its BPF programs 5.0, the rest of its kernel "
          "work 5.0, its processes 5.0)" in j[3], "json reason %r" % j[3])
    # A median above the profile's room: met, and said to be the noise.
    res = results(trace_rate=27000, json_rate=27300)
    res["profile"] = profile()
    j = rows(res)["`trace --json` ≥ 90 % of the untraced connection rate"]
    check(j[2] == "**met**" and "above the room the tracer's measured work leaves (92.4 % "
          "by the kernel statistics, 87.0 % by the profiles)" in j[3]
          and "untraced runs spread 0 %" in j[3], "json met above its room %r" % (j,))
    # A profile with room for 90 % changes nothing: not met, the noise said.
    res = results(trace_rate=27000, json_rate=26400)
    res["profile"] = profile(programs=2, kernel=3, process=3)
    j = rows(res)["`trace --json` ≥ 90 % of the untraced connection rate"]
    check(j[2] == "not met" and "room for at most 92.6 %" in j[3]
          and "untraced runs spread" in j[3], "json with a roomy profile %r" % (j,))


if __name__ == "__main__":
    for t in (test_bound, test_rate_verdicts, test_kernel_verdicts, test_steal,
              test_no_accept, test_profile):
        t()
    print("%d failed" % len(FAILS) if FAILS else "ok")
    sys.exit(1 if FAILS else 0)
