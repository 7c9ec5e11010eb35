#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Capture files on disk: a full disk stops recording with one error line
and a valid file; files are created 0600 and never replaced without
--force; bad files get one line naming the damage and its byte offset;
'report --at' rebuilds the socket table of a moment; and the cost in bytes
per event of a real capture (printed, not judged)."""
import datetime
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import capkit
import tslib
from tslib import expect


def test_disk_full():
    mnt = tempfile.mkdtemp(prefix="tsfull")
    tslib.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tsfull", mnt])
    try:
        path = os.path.join(mnt, "full.cap")
        with tslib.Netns("capfull") as ns:
            rec = capkit.Recorder(path, ns)
            try:
                # About 90 bytes per connection: 64 KiB fill up early on.
                for _ in range(8):
                    capkit.traffic(ns, 300)
                    if rec.proc.poll() is not None:
                        break
                    time.sleep(1.2)  # let a chunk go out
                rec.proc.wait(timeout=10)
            finally:
                rec.kill()
        err = rec.stderr()
        expect(rec.proc.returncode == 1, "recorder exit %s: %s" % (rec.proc.returncode, err))
        errs = [l for l in err.splitlines() if "No space left on device" in l]
        expect(len(errs) == 1 and "byte offset" in errs[0] and "warning" not in err,
               "want one disk-full line: %s" % err)
        size = os.stat(path).st_size
        expect(size <= 64 * 1024, "file larger than the disk: %d" % size)
        m = re.search(r"the last (\d+) events could not be written", err)
        expect(m and int(m.group(1)) > 0, "recorder counts no unwritten events: %s" % err)
        unwritten = int(m.group(1))
        # Valid as a file (trailer and all), incomplete as a recording: the
        # trailer counts what was not written and report says so, exit 3.
        recs, rerr = capkit.report_json(path, "--info", want_rc=3)
        expect(len(recs) > 100, "only %d records survived" % len(recs))
        expect("%d not written" % unwritten in rerr, "trailer: %s" % rerr)
        warn = capkit.error_lines(rerr)
        expect(len(warn) == 1 and "%d events could not be written" % unwritten in warn[0],
               "report must warn once about the unwritten events: %s" % rerr)
        print("  disk full after %d bytes, %d records readable; recorder said: %s" %
              (size, len(recs) - 1, errs[0]))
    finally:
        subprocess.run(["umount", mnt], check=False)
        os.rmdir(mnt)


def test_max_size():
    d = tempfile.mkdtemp(prefix="tsmax")
    try:
        path = os.path.join(d, "max.cap")
        with tslib.Netns("capmax") as ns:
            rec = capkit.Recorder(path, ns, "--max-size", "16K")
            try:
                for _ in range(8):
                    capkit.traffic(ns, 300)
                    if rec.proc.poll() is not None:
                        break
                    time.sleep(1.2)
                rec.proc.wait(timeout=10)
            finally:
                rec.kill()
        err = rec.stderr()
        expect(rec.proc.returncode == 0, "recorder exit %s: %s" % (rec.proc.returncode, err))
        warn = [l for l in err.splitlines() if "warning" in l]
        expect(len(warn) == 1 and "reached the size limit (16384 bytes)" in warn[0],
               "want one size-limit line: %s" % err)
        expect(os.stat(path).st_size <= 16384, "file grew past --max-size")
        recs, rerr = capkit.report_json(path, "--info")
        n = len(recs) - 1
        expect(n > 100 and "trailer: %d events" % n in rerr, "%d records; %s" % (n, rerr))
    finally:
        shutil.rmtree(d)


def test_mode_and_overwrite():
    d = tempfile.mkdtemp(prefix="tsmode")
    path = os.path.join(d, "m.cap")
    old = os.umask(0)  # even so, the file must be 0600
    try:
        with tslib.Netns("capmode") as ns:
            rec = capkit.Recorder(path, ns)
            rec.stop()
            expect(os.stat(path).st_mode & 0o777 == 0o600, "mode %o" % os.stat(path).st_mode)
            r = tslib.run([tslib.TCPSCOPE, "record", "-w", path, "--netns", ns.path,
                           "--duration", "1"], check=False)
            expect(r.returncode == 1 and "exists (use --force" in r.stderr and
                   len(r.stderr.strip().splitlines()) == 1, "overwrite: %s" % r.stderr)
            os.chmod(path, 0o644)
            r = tslib.run([tslib.TCPSCOPE, "record", "-w", path, "--netns", ns.path,
                           "--duration", "0.3", "--force"], check=False)
            expect(r.returncode == 0, "--force: %s" % r.stderr)
            expect(os.stat(path).st_mode & 0o777 == 0o600, "mode after --force")
    finally:
        os.umask(old)
        shutil.rmtree(d)


def one_line(rc_want, args, *needles):
    rc, out, err = capkit.report(*args)
    lines = err.strip().splitlines()
    expect(rc == rc_want, "report %s exit %d, wanted %d: %s" % (args, rc, rc_want, err))
    expect(len(lines) == 1, "want one line, got: %s" % err)
    for n in needles:
        expect(n in lines[0], "%r not in %r" % (n, lines[0]))
    return out


def test_bad_files():
    d = tempfile.mkdtemp(prefix="tsbad")
    try:
        good = os.path.join(d, "good.cap")
        with tslib.Netns("capbad") as ns:
            rec = capkit.Recorder(good, ns)
            capkit.traffic(ns, 30)
            time.sleep(1.3)
            capkit.traffic(ns, 30)
            expect(rec.stop() == 0, "recorder")
        data = open(good, "rb").read()
        empty = os.path.join(d, "empty")
        open(empty, "wb").close()
        one_line(1, [empty], "empty file (0 bytes)")
        text = os.path.join(d, "text")
        open(text, "w").write("hello, this is not a capture\n")
        one_line(1, [text], "not a tcpscope capture file", "byte offset 0")
        one_line(1, [os.path.join(d, "missing")], "No such file")
        one_line(1, [d], "Is a directory")
        fut = os.path.join(d, "future")
        open(fut, "wb").write(data[:8] + struct.pack("<I", 9) + data[12:])
        one_line(1, [fut], "format version 9 at byte offset 8 is newer")

        # Find the frames, then cut and corrupt the last chunk.
        pos, frames = 16, []
        while pos + 16 <= len(data):
            typ, stored = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
            frames.append((typ, pos))
            pos += 16 + stored
        chunks = [p for t, p in frames if t == b"CHNK"]
        expect(len(chunks) >= 2, "want 2 chunks, frames %s" % frames)
        full, _ = capkit.report_json(good)
        cut = os.path.join(d, "cut")
        open(cut, "wb").write(data[:chunks[-1] + 20])
        out = one_line(3, [cut, "--json"], "warning", "truncated chunk frame",
                       "byte offset %d" % chunks[-1])
        part = [l for l in out.splitlines() if l.strip()]
        expect(0 < len(part) < len(full), "truncated: %d of %d records" % (len(part), len(full)))
        bad = os.path.join(d, "crc")
        b = bytearray(data)
        b[chunks[-1] + 30] ^= 0xff
        open(bad, "wb").write(bytes(b))
        one_line(3, [bad, "--json"], "bad CRC-32 in chunk frame at byte offset %d" % chunks[-1])
        ln = os.path.join(d, "len")
        b = bytearray(data)
        b[chunks[-1] + 4:chunks[-1] + 8] = struct.pack("<I", 0x7ffffff0)
        open(ln, "wb").write(bytes(b))
        one_line(3, [ln, "--json"], "bad frame length", "byte offset %d" % (chunks[-1] + 4))
    finally:
        shutil.rmtree(d)


AT_SCRIPT = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8)
c = socket.create_connection(("127.0.0.1", s.getsockname()[1]))
a, _ = s.accept()
time.sleep(0.6); t_open = time.time(); time.sleep(0.6)
c.close(); time.sleep(0.2); a.close(); time.sleep(0.6)
t_closed = time.time(); time.sleep(0.6)
s.close()
print("%.6f %.6f" % (t_open, t_closed))
"""


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def test_report_at():
    d = tempfile.mkdtemp(prefix="tsat")
    try:
        path = os.path.join(d, "at.cap")
        with tslib.Netns("capat") as ns:
            rec = capkit.Recorder(path, ns)
            p = ns.popen(["python3", "-c", AT_SCRIPT], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
            out, _ = p.communicate(timeout=30)
            expect(p.returncode == 0, "script failed")
            expect(rec.stop() == 0, "recorder")
        t_open, t_closed = out.split()
        live, _ = capkit.report_json(path)
        lst = next(r for r in live if r.get("to") == "LISTEN")
        port, pid = lst["sport"], lst["pid"]

        socks = at_socks(path, rfc3339(float(t_open)))
        got = sorted((s["state"], s["sport"] == port, s["pid"]) for s in socks)
        expect(got == sorted([("LISTEN", True, pid), ("ESTABLISHED", False, pid),
                              ("ESTABLISHED", True, pid)]), "at open: %s" % socks)
        socks = at_socks(path, rfc3339(float(t_closed)))
        got = sorted((s["state"], s["sport"] == port, s["inferred"]) for s in socks)
        expect(got == [("LISTEN", True, False), ("TIME_WAIT", False, True)],
               "at closed: %s" % socks)
        # After everything, from an offset: only the inferred TIME_WAIT.
        socks = at_socks(path, "+30s")
        expect([s["state"] for s in socks] == ["TIME_WAIT"], "at +30s: %s" % socks)
        rc, txt, err = capkit.report(path, "--at", rfc3339(float(t_open)))
        expect(rc == 0 and "ESTABLISHED" in txt and "Local Address" in txt, "text: %s" % txt)
        rc, _, err = capkit.report(path, "--at", "yesterday")
        expect(rc == 2 and "invalid --at" in err, "bad --at: %s" % err)
        # The local clock as trace prints it, and a moment past the end.
        clock = time.strftime("%H:%M:%S", time.localtime(float(t_open))) + \
            (".%03d" % (int(float(t_open) * 1000) % 1000))
        expect(at_socks(path, clock) == at_socks(path, rfc3339(float(t_open))),
               "--at %s differs from RFC 3339" % clock)
        rc, _, err = capkit.report(path, "--at", "+1h")
        expect(rc == 0 and "outside the capture (" in err, "past the end: %s" % err)
    finally:
        shutil.rmtree(d)


def at_socks(path, at):
    """report --at: the snapshot object, then its sockets (returned)."""
    objs, _ = capkit.report_json(path, "--at", at)
    expect(objs and objs[0]["event"] == "snapshot" and objs[0]["source"] == "capture" and
           objs[0]["sockets"] == len(objs) - 1, "--at %s: %s" % (at, objs[:1]))
    return objs[1:]


def test_bytes_per_event():
    d = tempfile.mkdtemp(prefix="tsbpe")
    try:
        path = os.path.join(d, "bpe.cap")
        with tslib.Netns("capbpe") as ns:
            rec = capkit.Recorder(path, ns)
            capkit.traffic(ns, 2000, "127.0.0.1", "client-close")
            capkit.traffic(ns, 1000, "::1", "server-close")
            expect(rec.stop() == 0, "recorder: %s" % rec.stderr())
        recs, _ = capkit.report_json(path)
        n = len(recs) - 1
        size = os.stat(path).st_size
        expect(n >= 29000, "only %d records for 3000 connections" % n)
        print("  capture of %d connections: %d events in %d bytes = %.2f bytes/event" %
              (3000, n, size, size / n))
    finally:
        shutil.rmtree(d)


class LostInRun(Exception):
    pass


def test_format_3():
    """record writes format 4 (zstd chunks); --format 3 writes the zlib
    format older builds read, and both report the same records.  A run in
    which either recorder reported lost events (said, never silent) cannot
    compare them: it runs once more."""
    try:
        format_3()
    except LostInRun as e:
        print("note: %s; running it again" % e)
        try:
            format_3()
        except LostInRun as e2:
            raise tslib.TestFailure(str(e2))


def format_3():
    d = tempfile.mkdtemp(prefix="tsfmt")
    try:
        paths = {4: os.path.join(d, "f4.cap"), 3: os.path.join(d, "f3.cap")}
        with tslib.Netns("capfmt") as ns:
            recs = {4: capkit.Recorder(paths[4], ns),
                    3: capkit.Recorder(paths[3], ns, "--format", "3")}
            try:
                capkit.traffic(ns, 50, "127.0.0.1", "client-close")
                capkit.traffic(ns, 20, "::1", "server-close")
                for v, rec in recs.items():
                    expect(rec.stop() == 0, "recorder %d: %s" % (v, rec.stderr()))
            finally:
                for rec in recs.values():
                    rec.kill()
        got = {}
        for v, path in paths.items():
            with open(path, "rb") as f:
                data = f.read()
            expect(struct.unpack_from("<I", data, 8)[0] == v, "%s: format %d" %
                   (path, struct.unpack_from("<I", data, 8)[0]))
            # The first frame after the header is the snapshot: its payload
            # starts with zstd's magic (format 4) or zlib's CMF byte (3).
            off = 16 + 16 + struct.unpack_from("<I", data, 20)[0]
            expect(data[off:off + 4] == b"SNAP", "no snapshot frame at %d" % off)
            payload = data[off + 16:off + 20]
            want = b"\x28\xb5\x2f\xfd" if v == 4 else b"\x78"
            expect(payload.startswith(want), "format %d payload starts %s" % (v, payload.hex()))
            # Each recorder's programs take their own timestamps, and two
            # CPUs' events may interleave differently in two ring buffers:
            # compare what is not a time, in a fixed order.
            got[v] = sorted(json.dumps({k: x for k, x in r.items() if k not in ("ts_ns", "time")
                                        and not k.endswith(("_us", "_ns", "_ms"))},
                                       sort_keys=True)
                            for r in capkit.report_json(path)[0])
        lost = [v for v in got if any('"event": "lost"' in r for r in got[v])]
        if lost:
            raise LostInRun("recorder(s) %s reported lost events" % lost)
        n = len(got[4]) - 1
        expect(n >= 70 * 9, "only %d records for 70 connections" % n)
        expect(got[3] == got[4], "formats 3 and 4 differ: %d vs %d records; only in 4: %s" %
               (len(got[3]), len(got[4]), sorted(set(got[4]) - set(got[3]))[:2]))
        rc, _, err = capkit.report(paths[4], "--format", "3")
        expect(rc == 2, "report --format: exit %d %s" % (rc, err))
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    tslib.main([test_disk_full, test_max_size, test_mode_and_overwrite, test_bad_files, test_report_at,
                test_bytes_per_event, test_format_3])
