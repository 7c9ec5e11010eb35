#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The same options mean the same everywhere, with the same exit codes:
2 for usage (-4 -6, a bad namespace, --at yesterday), 1 at run time (not
root, not a capture), 3 for a damaged capture.  --netns takes a name, a
path or an inode in every command; an unknown inode or PID is a warning.
'trace | head -1' ends quietly with 0; snapshot -c 2 repeats every two
seconds; on a terminal trace says it is tracing and record shows a status
line, and Ctrl-C does not glue the totals to "^C"."""
import fcntl
import os
import pty
import select
import subprocess
import tempfile
import termios
import time

import capkit
import tslib
from tslib import expect

T = tslib.TCPSCOPE


def rc_err(args, **kw):
    r = tslib.run([T] + args, check=False, **kw)
    return r.returncode, r.stderr


def one_line(args, code, text):
    rc, err = rc_err(args)
    lines = err.strip().splitlines()
    expect(rc == code and len(lines) == 1 and text in lines[0],
           "%s: exit %d (wanted %d), stderr %r" % (" ".join(args), rc, code, err))
    return lines[0]


def test_usage_errors_alike():
    cap = os.path.join(tempfile.mkdtemp(prefix="tscli"), "x.cap")
    with tslib.Netns("cli") as ns:
        r = tslib.run([T, "record", "-w", cap, "-d", "1", "--netns", ns.name])
        expect(os.path.exists(cap), "record by namespace name: %s" % r.stderr)
        lines = {}
        for cmd, extra in (("trace", []), ("record", ["-w", cap + "2"]), ("report", [cap]),
                           ("snapshot", [])):
            l46 = one_line([cmd, "-4", "-6"] + extra, 2, "-4 and -6 exclude each other")
            lbad = one_line([cmd, "--netns", "no-such-ns"] + extra, 2,
                            "invalid --netns 'no-such-ns': no such network namespace")
            lfile = one_line([cmd, "--netns", "/etc/hostname"] + extra, 2,
                             "not a network namespace file")
            lines[cmd] = [l.split(": ", 1)[1] for l in (l46, lbad, lfile)]
        expect(len({tuple(v) for v in lines.values()}) == 1,
               "the same errors differ between commands: %s" % lines)
        # A name, a path and an inode name the same namespace everywhere.
        for form in (ns.name, ns.path, str(ns.inode())):
            r = tslib.run([T, "snapshot", "-an", "--netns", form])
            expect(r.returncode == 0, "snapshot --netns %s" % form)
            rc, err = rc_err(["report", "--netns", form, cap])
            expect(rc == 0, "report --netns %s: %s" % (form, err))
            rc, err = rc_err(["trace", "-d", "1", "--netns", form])
            expect(rc == 0 and "warning" not in err, "trace --netns %s: %s" % (form, err))
        one_line(["report", "--at", "yesterday", cap], 2, "invalid --at 'yesterday'")
        rc, err = rc_err(["report", "--at", "+1h", cap])
        expect(rc == 0 and "outside the capture (" in err, "--at +1h: %r" % err)
    one_line(["trace", "--port", "0"], 2, "invalid --port")
    one_line(["bogus"], 2, "unknown command")
    one_line(["trace", "-w", "-"], 2, "-w -")


def test_runtime_and_damage_codes():
    d = tempfile.mkdtemp(prefix="tscli")
    one_line(["report", "/etc/hostname"], 1, "not a tcpscope capture")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    r = tslib.run(nobody + [T, "snapshot"], check=False)
    expect(r.returncode == 1 and "not allowed to read the sockets" in r.stderr,
           "non-root snapshot: %d %r" % (r.returncode, r.stderr))
    r = tslib.run(nobody + [T, "trace", "-d", "1"], check=False)
    expect(r.returncode == 1 and "not allowed to trace" in r.stderr,
           "non-root trace: %d %r" % (r.returncode, r.stderr))
    with tslib.Netns("clidmg") as ns:
        cap = os.path.join(d, "ok.cap")
        rec = capkit.Recorder(cap, ns)
        capkit.traffic(ns, 5)
        cli = tslib.client(ns, "--port", "9", "--expect-fail")
        expect(cli.returncode == 0, "refused client")
        expect(rec.stop() == 0, "recorder")
    # report --at truth: the reset for the SYN to a closed port found no
    # socket and makes no row.
    objs, _ = capkit.report_json(cap, "--at", "+1h")
    expect(objs[0]["event"] == "snapshot" and
           not [o for o in objs[1:] if o["conn"] == 0 or 9 in (o["sport"], o["dport"])],
           "phantom rows at the end: %s" % objs)
    recs, _ = capkit.report_json(cap)
    # Kernels before 6.10 fire tcp_send_reset for full sockets only.
    expect(any(r["event"] == "reset_sent" and r["conn"] == 0 for r in recs) ==
           tslib.probe()["socketless_resets"],
           "socketless resets recorded: not what tcpscope probe says the kernel does")
    data = open(cap, "rb").read()
    cut = os.path.join(d, "cut.cap")
    open(cut, "wb").write(data[:-10])
    rc, err = rc_err(["report", cut])
    expect(rc == 3 and "warning" in err, "damaged capture: %d %r" % (rc, err))
    # The same capture through a pipe: report - reads stdin.
    with open(cap, "rb") as f:
        r = subprocess.run([T, "report", "-"], stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
    expect(r.returncode == 0 and r.stdout == tslib.run([T, "report", cap]).stdout.encode(),
           "report - differs from report FILE: %r" % r.stderr)


def test_warnings_for_unknown_targets():
    rc, err = rc_err(["trace", "-d", "1", "--netns", "4000000000"])
    expect(rc == 0 and "no network namespace with inode 4000000000" in err, err)
    rc, err = rc_err(["trace", "-d", "1", "-p", "2147483000"])
    expect(rc == 0 and "no process 2147483000" in err, err)


def test_head_ends_quietly():
    with tslib.Netns("clihead") as ns:
        for args in ([], ["--json"]):
            p = subprocess.Popen([T, "trace", "--netns", ns.path, "-d", "60"] + args,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                time.sleep(1.0)
                capkit.traffic(ns, 2)
                line = p.stdout.readline()
                expect(line, "no first line")
                p.stdout.close()  # as 'head -1' does
                deadline = time.monotonic() + 20
                while p.poll() is None and time.monotonic() < deadline:
                    capkit.traffic(ns, 2)
                expect(p.poll() is not None, "trace kept running after its reader left")
                err = p.stderr.read().decode()
                expect(p.returncode == 0 and "fail" not in err and "error" not in err,
                       "trace %s | head -1: exit %s, %r" % (args, p.returncode, err))
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=10)


def test_snapshot_c_2():
    with tslib.Netns("clic") as ns:
        t0 = time.monotonic()
        r = tslib.run([T, "snapshot", "--netns", ns.path, "-c", "2", "--count", "2", "--json"])
        took = time.monotonic() - t0
        snaps = [l for l in r.stdout.splitlines() if '"event":"snapshot"' in l]
        expect(len(snaps) == 2 and took >= 1.9, "-c 2: %d snapshots in %.1fs" % (len(snaps), took))


def controlling_tty():
    """In the child: a session of its own whose terminal is stdin (the pty),
    so that a Ctrl-C typed there is echoed as "^C" and sends SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def on_terminal(args, stop_after, ready):
    """Run with stderr on a pseudo-terminal, type Ctrl-C stop_after seconds
    after the terminal first shows ready (a slow machine takes seconds to
    load the programs); returns (rc, what the terminal showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, stdin=slave,
                         close_fds=True, preexec_fn=controlling_tty)
    os.close(slave)
    out = b""
    deadline = None  # when to type Ctrl-C
    give_up = time.monotonic() + 30 * tslib.TIME_SCALE
    end = None  # Ctrl-C typed: how long to wait for the exit
    try:
        while p.poll() is None and (end is None or time.monotonic() < end):
            now = time.monotonic()
            if deadline is None and ready in out:
                deadline = now + stop_after
            if end is None and (now >= give_up or (deadline is not None and now >= deadline)):
                os.write(master, b"\x03")
                end = now + 10 * tslib.TIME_SCALE
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
        p.wait(timeout=20)
        while True:
            r, _, _ = select.select([master], [], [], 0.1)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    return p.returncode, out.decode(errors="replace")


def test_signs_of_life_on_a_terminal():
    d = tempfile.mkdtemp(prefix="tscli")
    with tslib.Netns("clitty") as ns:
        rc, text = on_terminal([T, "trace", "--netns", ns.path], 1.0, b"Ctrl-C to stop")
        expect(rc == 0 and "tracing (" in text and "Ctrl-C to stop" in text, "trace: %r" % text)
        expect("^C" in text and "^Ctcpscope" not in text and
               "\ntcpscope: 0 events" in text.replace("\r", ""), "totals glued: %r" % text)
        rc, err = rc_err(["trace", "--netns", ns.path, "-d", "1"])
        expect("tracing (" not in err, "the note went to a file: %r" % err)
        cap = os.path.join(d, "tty.cap")
        rc, text = on_terminal([T, "record", "-w", cap, "--netns", ns.path], 3.5,
                               b"\rtcpscope: 00:00:0")
        expect(rc == 0 and text.count("\rtcpscope: 00:00:0") >= 2 and " bytes" in text,
               "record status line: %r" % text)
        expect("^Ctcpscope" not in text and "\ntcpscope: recorded" in text.replace("\r", ""),
               "record totals: %r" % text)


if __name__ == "__main__":
    tslib.main([test_usage_errors_alike, test_runtime_and_damage_codes,
                test_warnings_for_unknown_targets, test_head_ends_quietly, test_snapshot_c_2,
                test_signs_of_life_on_a_terminal])
