#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""report against hostile capture files (tests/e2e/hostile.py writes them):
memory stays under the documented bound (docs/SECURITY.md: 192 MiB with the
default --max-conns), measured as peak RSS with /usr/bin/time -v; damage is
one line naming the byte offset, exit 3 (or 1); non-regular inputs are read
as streams after the magic (report /dev/zero fails at once); extreme header
clocks print sane times.  No root needed, no BPF."""
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time

import hostile
import tslib
from tslib import expect

BOUND_KB = 192 * 1024  # docs/SECURITY.md
# A regression must fail the test, not take the machine's memory: the
# report runs with its data segment limited (or, under ASan, whose shadow
# memory counts as data, with ASan's own RSS limit).
LIMIT = 2 << 30


def sanitized():
    with open(tslib.TCPSCOPE, "rb") as f:
        return b"__asan_init" in f.read()


SANITIZED = sanitized()


def limit_memory():
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))


def report(*args, want_rc=None, stdin=None):
    """(rc, stdout bytes, stderr text, peak RSS in KiB)."""
    tf = tempfile.NamedTemporaryFile(prefix="tstime", delete=False)
    tf.close()
    try:
        env = dict(os.environ)
        # ASan keeps freed memory in a quarantine (256 MiB by default) and
        # adds its shadow: the bound is checked with a small quarantine and
        # doubled for a sanitized binary.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + (
            ":hard_rss_limit_mb=%d:quarantine_size_mb=8" % (LIMIT >> 20))
        r = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, tslib.TCPSCOPE, "report"]
                           + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=stdin, timeout=120, preexec_fn=limit_memory, env=env)
        with open(tf.name) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    finally:
        os.unlink(tf.name)
    err = r.stderr.decode("utf-8")  # strict: the messages are UTF-8
    expect(m, "no RSS from /usr/bin/time")
    if want_rc is not None:
        expect(r.returncode == want_rc, "report %s: exit %d, wanted %d: %s" %
               (" ".join(args), r.returncode, want_rc, err))
    return r.returncode, r.stdout, err, int(m.group(1))


def one_damage_line(err, *needles):
    lines = [l for l in err.splitlines() if l.strip()]
    expect(len(lines) == 1, "want one line, got: %s" % err)
    expect("byte offset" in lines[0], "no byte offset: %s" % lines[0])
    for n in needles:
        expect(n in lines[0], "%r not in %r" % (n, lines[0]))


def under_bound(what, rss):
    bound = BOUND_KB * (2 if SANITIZED else 1)
    print("  %-34s peak RSS %6.1f MiB" % (what, rss / 1024))
    expect(rss < bound, "%s: peak RSS %d KiB over the %d KiB bound" % (what, rss, bound))


def test_hostile_files():
    d = tempfile.mkdtemp(prefix="tshostile")
    try:
        hostile.main(d)
        p = lambda n: os.path.join(d, n)  # noqa: E731
        # 100 frames of 43 240 sockets, 1.4 MB: 447 MB (886 MB with --at) before.
        for extra in ([], ["--at", "+0s"], ["-s"]):
            rc, out, err, rss = report(p("snap_frames.cap"), *extra, want_rc=3)
            one_damage_line(err, "decompression bomb")
            under_bound("snap_frames " + " ".join(extra), rss)
        # 327 680 varied sockets: past the 262 144 a capture may hold.
        for extra in ([], ["--at", "+0s"]):
            rc, out, err, rss = report(p("snap_total.cap"), *extra, want_rc=3)
            one_damage_line(err, "past 262144 sockets")
            under_bound("snap_total " + " ".join(extra), rss)
        # 16 million handshake times: --summary keeps a bounded sketch.
        rc, out, err, rss = report(p("samples.cap"), "-s", "--json", want_rc=0)
        s = [o for o in map(json.loads, out.decode().splitlines())
             if o.get("event") == "report_summary"][0]
        hs = s["handshake"]["client"]
        expect(hs["count"] >= 16_000_000, "count %s" % hs)
        expect(50 <= hs["p50_us"] <= 5000 and hs["p50_us"] <= hs["p99_us"] <= hs["max_us"],
               "percentiles out of the data's range: %s" % hs)
        under_bound("samples -s", rss)
        # A million connections that never close.
        rc, out, err, rss = report(p("conns.cap"), "--at", "+1s", want_rc=0)
        expect("524288" in err and "not applied" in err, "--at past its limit: %s" % err)
        under_bound("conns --at", rss)
        # The tracker behind -s and -T holds at most --max-conns.
        rc, out, err, rss = report(p("conns.cap"), "-s", want_rc=0)
        under_bound("conns -s", rss)
        # Zip bombs are called what they are, before anything is inflated.
        rc, out, err, rss = report(p("zipbomb.cap"), want_rc=3)
        one_damage_line(err, "decompression bomb", "offset 121")
        expect(len(out) < 1000, "output of a zip bomb: %d bytes" % len(out))
        rc, out, err, rss = report(p("liar.cap"), want_rc=3)
        one_damage_line(err, "inflates past the 60000 bytes")
        # The same in format 4 (zstd).
        rc, out, err, rss = report(p("zbomb.cap"), want_rc=3)
        one_damage_line(err, "claims to decompress", "decompression bomb", "offset 125")
        expect(len(out) < 1000, "output of a zstd bomb: %d bytes" % len(out))
        rc, out, err, rss = report(p("zliar.cap"), want_rc=3)
        one_damage_line(err, "decompresses past the 60000 bytes")
        under_bound("zliar", rss)
    finally:
        shutil.rmtree(d)


def test_streams():
    d = tempfile.mkdtemp(prefix="tsstream")
    try:
        # /dev/zero: the magic is checked on the first 16 bytes, not after
        # reading until memory runs out.
        start = time.monotonic()
        rc, out, err, rss = report("/dev/zero", want_rc=1)
        expect(time.monotonic() - start < 5, "report /dev/zero took long")
        expect("bad magic at byte offset 0" in err and len(err.splitlines()) == 1, err)
        under_bound("/dev/zero", rss)
        # A capture through a pipe reads the same as from the file, frame by
        # frame (memory: one frame, not the file).
        hostile.samples(os.path.join(d, "s.cap"), total=2_000_000)
        f = os.path.join(d, "s.cap")
        rc, whole, err, _ = report(f, "-s", "--json", want_rc=0)
        with open(f, "rb") as fh:
            rc, piped, err, rss = report("/dev/stdin", "-s", "--json", want_rc=0, stdin=fh)
        expect(piped == whole, "a pipe reads differently from the file")
        under_bound("2M samples through a pipe", rss)
        # A truncated stream is damage with an offset, like a truncated file.
        with open(f, "rb") as fh:
            data = fh.read(300_000)
        p = subprocess.Popen([tslib.TCPSCOPE, "report", "/dev/stdin", "--json"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        _, perr = p.communicate(data, timeout=60)
        expect(p.returncode == 3, "truncated stream: exit %d" % p.returncode)
        one_damage_line(perr.decode(), "truncated chunk frame")
    finally:
        shutil.rmtree(d)


def test_extreme_clocks():
    d = tempfile.mkdtemp(prefix="tsclock")
    try:
        for name, offset, year in (("max", 2**63 - 1, "2262-"), ("min", -2**63, "1677-")):
            f = os.path.join(d, name + ".cap")
            hostile.clock(f, offset)
            rc, out, err, _ = report(f, "--json", want_rc=0)
            recs = [json.loads(l) for l in out.decode().splitlines()]
            times = [r["time"] for r in recs if "time" in r]
            # The first two events are 10 and 20 ns after the monotonic
            # zero: their wall time is the offset itself, saturated.
            expect(times[0].startswith(year) and times[1].startswith(year),
                   "offset %d: times %s" % (offset, times))
            if offset > 0:
                expect(all(t.startswith("2262-") for t in times),
                       "a saturated clock must not wrap: %s" % times)
            for extra in ([], ["-s"], ["-T"], ["--at", "+1s"], ["-s", "--json"]):
                rc, out, err, _ = report(f, *extra, want_rc=0)
                text = out.decode()
                expect(not re.search(r"\b1[0-5]\d\d-|\b1[0-6][0-6]\d-", text),
                       "impossible year in %s: %s" % (extra, text))
        rc = tslib.run([tslib.TCPSCOPE, "report", f, "--at", "2300-01-01T00:00:00Z"],
                       check=False)
        expect(rc.returncode == 2 or rc.returncode == 1, "--at 2300: %d" % rc.returncode)
        expect("invalid --at" in rc.stderr and "1715" not in rc.stdout, rc.stderr)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    tslib.main([test_hostile_files, test_streams, test_extreme_clocks])
