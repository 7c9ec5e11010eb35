#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Verdicts of a kernel-matrix run: reads each kernel's run directory (meta,
results.log from the guest's second serial port, console.log) and prints
one line per kernel and a table; --markdown FILE writes the table for
docs/KERNELS.md.  Exit status 1 if any kernel failed.  --stalled DIR: exit
0 (and print the watchdog's line) when that guest stopped on a stall
before its tests ended, 1 otherwise."""
import json
import os
import re
import sys

RESULT = re.compile(r"^(ok|FAIL|skip)\s+(\S+?)(?::| \(|$)\s*(.*)$")


def read_meta(d):
    meta = {}
    try:
        with open(os.path.join(d, "meta")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                meta[k] = v
    except OSError:
        pass
    return meta


def tail(path, n):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
    except OSError:
        return []
    return lines[-n:]


def parse(d):
    k = {"dir": d, "meta": read_meta(d), "probe": {}, "files": {}, "booted": False,
         "done": False, "order": [], "left": None, "modules": []}
    cur = None
    try:
        f = open(os.path.join(d, "results.log"), errors="replace")
    except OSError:
        return k
    with f:
        for raw in f:
            line = raw.replace("\r", "").rstrip("\n")
            if line.startswith("tsguest: BOOTED"):
                k["booted"] = True
            elif line.startswith("tsguest: module"):
                k["modules"].append(line[len("tsguest: "):])
            elif line.startswith("TSPROBE "):
                try:
                    k["probe"] = json.loads(line[8:])
                except ValueError:
                    k["probe"] = {"error": line[8:][:200]}
            elif line.startswith("TSBEGIN "):
                cur = line.split()[1]
                k["order"].append(cur)
                k["files"][cur] = {"ok": [], "fail": [], "skip": [], "rc": None, "secs": None}
            elif line.startswith("TSEND ") and cur:
                m = re.search(r"rc=(\d+) secs=(\d+)", line)
                if m:
                    k["files"][cur]["rc"] = int(m.group(1))
                    k["files"][cur]["secs"] = int(m.group(2))
                cur = None
            elif line.startswith("TSLEFT "):
                k["left"] = line.split("=", 1)[1]
            elif line.startswith("TSDONE"):
                k["done"] = True
            elif cur:
                m = RESULT.match(line)
                if m:
                    kind = {"ok": "ok", "FAIL": "fail", "skip": "skip"}[m.group(1)]
                    k["files"][cur][kind].append((m.group(2), m.group(3)))
    return k


def console_line(d, pattern):
    """The first line of the guest's console.log that pattern matches,
    stripped; None when none does (or there is no console)."""
    try:
        with open(os.path.join(d, "console.log"), errors="replace") as f:
            for line in f:
                if re.search(pattern, line):
                    return line.strip()
    except OSError:
        pass
    return None


def kernel_bug(d):
    """The guest kernel's first complaint (a soft lockup panics the guest:
    kernel-matrix.sh boots it with softlockup_panic=1), as a one-line list."""
    line = console_line(d, r"BUG:|Kernel panic|self-detected stall|Oops")
    return [line] if line else []


# The guest kernel's watchdogs: a CPU that ran nothing else for 20 s (the
# soft-lockup detector, which panics the guest: softlockup_panic=1), or a
# grace period that did not end.  Under emulation both vCPUs can stop for
# that long when the host is busy (seen once on 5.10 in CI: both stuck
# 22 s at a jump-label patch site), which says nothing of tcpscope.
STALL = re.compile(r"soft lockup - CPU#\d+ stuck|self-detected stall|detected stalls on CPUs")


def emulation_stall(d):
    """The watchdog's first line when the guest stopped before its tests
    ended (no TSDONE) because of a stall; None otherwise."""
    if parse(d)["done"]:
        return None
    line = console_line(d, STALL)
    return line[:200] if line else None


def verdict(k):
    """(passed, reason) for one kernel."""
    meta = k["meta"]
    name = meta.get("suite", os.path.basename(k["dir"]))
    if "error" in meta:
        return False, "cannot fetch the kernel: " + meta["error"]
    rc = int(meta.get("qemu_rc", "0") or 0)
    if not k["booted"]:
        last = tail(os.path.join(k["dir"], "console.log"), 1)
        why = "killed at its %ss limit" % meta.get("limit") if rc in (124, 137) else "qemu exit %d" % rc
        return False, "guest did not boot (%s)%s" % (why, ": " + last[0][:120] if last else "")
    if not k["done"]:
        running = k["order"][-1] if k["order"] else "before the tests"
        if rc in (124, 137):
            bug = kernel_bug(k["dir"])
            return False, "guest hung: killed at its %ss limit during %s%s" % (
                meta.get("limit"), running, ": " + bug[0][:120] if bug else "")
        last = kernel_bug(k["dir"]) or tail(os.path.join(k["dir"], "console.log"), 1)
        return False, "guest stopped during %s (qemu exit %d)%s" % (
            running, rc, ": " + last[0][:120] if last else "")
    bad = []
    for fname in k["order"]:
        r = k["files"][fname]
        if r["fail"]:
            bad += ["%s.%s" % (fname, t) for t, _ in r["fail"]]
        elif r["rc"] != 0:
            bad.append("%s (exit %s)" % (fname, r["rc"]))
        elif not (r["ok"] or r["skip"]):
            bad.append("%s (ran no test)" % fname)
    if k["left"] not in (None, "0"):
        bad.append("%s namespaces left behind" % k["left"])
    if bad:
        return False, "failed: " + ", ".join(bad)
    del name
    return True, ""


def counts(k):
    p = sum(len(r["ok"]) for r in k["files"].values())
    f = sum(len(r["fail"]) for r in k["files"].values())
    s = sum(len(r["skip"]) for r in k["files"].values())
    return p, f, s


def yn(v):
    return "-" if v is None else ("yes" if v else "no")


def feature_row(k):
    pr = k["probe"]
    meta = k["meta"]
    return [meta.get("suite", "?"), meta.get("abi", "?"),
            pr.get("variant", "?"), yn(pr.get("resets")), yn(pr.get("synack_retransmits")),
            yn(pr.get("socket_cookies")), yn(pr.get("iterators")),
            pr.get("snapshot_loader", "?"), yn(pr.get("drop_reasons")),
            yn(pr.get("reset_reasons")), yn(pr.get("snapshot_reads_skipped_bucket")),
            pr.get("accept_owner", "-")]


FEATURE_HEAD = ["suite", "kernel", "variant", "resets", "synack rtx", "cookies",
                "iterators", "snapshot loader", "drops", "rst reasons", "iter skip", "accept"]


def cell(r):
    if r is None:
        return "-"
    s = "%d ok" % len(r["ok"])
    if r["fail"]:
        s += " %d FAIL" % len(r["fail"])
    if r["skip"]:
        s += " %d skip" % len(r["skip"])
    return s


def table(rows, head):
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    out = ["  ".join(str(h).ljust(w[i]) for i, h in enumerate(head))]
    for r in rows:
        out.append("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
    return out


def md(rows, head):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "--stalled":
        # kernel-matrix.sh: did this guest stop on a stall?  Exit 0 and
        # the watchdog's line if so.
        line = emulation_stall(argv[2])
        if line:
            print(line)
        return 0 if line else 1
    mdfile = None
    if len(argv) > 2 and argv[1] == "--markdown":
        mdfile = argv[2]
        argv = argv[2:]
    kernels = [parse(d) for d in argv[1:]]
    ok_all = True
    for k in kernels:
        ok, why = verdict(k)
        ok_all &= ok
        meta = k["meta"]
        p, f, s = counts(k)
        label = "%s %s" % (meta.get("suite", "?"), meta.get("abi", ""))
        if "error" in meta:
            print("kernel %-36s FAIL  -- %s" % (label, why), flush=True)
            continue
        extra = "variant=%s, %d passed, %d failed, %d skipped, guest %ss" % (
            k["probe"].get("variant", "?"), p, f, s, meta.get("guest_secs", "?"))
        print("kernel %-36s %s  %s%s" % (label, "PASS" if ok else "FAIL", extra,
                                        "" if ok else "  -- " + why), flush=True)
        if meta.get("stall_retry"):
            print("  ran twice: the first guest stalled (console-stall1.log, "
                  "results-stall1.log): %s" % meta["stall_retry"])
        for m in k["modules"]:
            print("  %s" % m)
        for fname in k["order"]:
            for t, why in k["files"][fname]["fail"]:
                print("  FAIL %s.%s: %s" % (fname, t, why[:300]))
            for t, why in k["files"][fname]["skip"]:
                print("  skip %s.%s: %s" % (fname, t, why))
    files = []
    for k in kernels:
        for fname in k["order"]:
            if fname not in files:
                files.append(fname)
    print()
    lines = table([feature_row(k) for k in kernels], FEATURE_HEAD)
    trows = [[f] + [cell(k["files"].get(f)) for k in kernels] for f in files]
    thead = ["test"] + [k["meta"].get("suite", "?") for k in kernels]
    lines += [""] + table(trows, thead)
    print("\n".join(lines))
    if mdfile:
        with open(mdfile, "w") as f:
            f.write("\n".join(md([feature_row(k) for k in kernels], FEATURE_HEAD)) + "\n\n")
            f.write("\n".join(md(trows, thead)) + "\n")
    p = sum(counts(k)[0] for k in kernels)
    fl = sum(counts(k)[1] for k in kernels)
    s = sum(counts(k)[2] for k in kernels)
    print("\nkernel matrix: %d of %d kernels passed" % (
        sum(verdict(k)[0] for k in kernels), len(kernels)))
    print("%d passed, %d failed, %d skipped" % (p, fl, s))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
