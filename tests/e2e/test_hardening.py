#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hardening (issue 10), each against the real tool:

- a process that names itself with terminal escapes and bytes that are not
  UTF-8 (prctl PR_SET_NAME) is shown escaped by live trace, snapshot -p and
  every report view, and JSON stays valid UTF-8 that json.loads reads;
- bpffs pins: a foreign-owned pin directory and a planted symlink are
  neither followed nor trusted (an unprivileged user plants them);
- --force replaces only a regular file of ours, by a new file renamed over
  it; FIFOs, devices, symlinks, directories and other users' files are
  refused with one line; -w never blocks on a FIFO;
- SIGHUP ends trace like SIGTERM (totals printed);
- a closed stdout ends trace and report quietly with exit 0;
- --netns 0 says what is wrong."""
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import capkit
import tslib
import tsnet
from tslib import expect

# ESC ] 0 ; pwn BEL  ESC [ 2 J  then 0xff (never UTF-8) and a cut 2-byte
# sequence: 14 bytes, within the 15 a comm holds.
EVIL = b"\x1b]0;pwn\x07\x1b[2J\xff\xc3"
EVIL_TEXT = "\\x1b]0;pwn\\x07\\x1b[2J\\xff\\xc3"  # as ts_escape writes it
EVIL_JSON = "\x1b]0;pwn\x07\x1b[2J\u00ff\u00c3"  # bytes not UTF-8 read as Latin-1

# The hostile process: renames itself, listens, talks to itself, then
# tries a port whose SYNs are dropped (SYN retransmits carry its name), and
# holds its listener until killed.
EVIL_PROG = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(%r), 0, 0, 0)
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(8)
port = ls.getsockname()[1]
for _ in range(3):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = ls.accept()
    c.sendall(b"x"); a.recv(1); c.close(); a.close()
s = socket.socket(); s.settimeout(2.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[2])))
except OSError:
    pass
s.close()
open(sys.argv[1], "w").write("%%d\n" %% port)
time.sleep(60)
""" % EVIL


def run_bytes(args, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, **kw)
    expect(r.returncode == 0, "%s failed (%d): %r" % (" ".join(args), r.returncode, r.stderr))
    return r


def started(path, proc, what):
    """Wait for a -v tracer's "tracing (" line in its stderr file."""
    def ready():
        with open(path, "rb") as f:
            return b"tracing (" in f.read() or proc.poll() is not None
    tslib.wait_until(ready, 20, what)
    expect(proc.poll() is None, "%s exited early: %r" % (what, open(path, "rb").read()))


def safe_text(what, data):
    """data (bytes) is UTF-8 with no control but newline/tab, no C1."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise tslib.TestFailure("%s: not UTF-8: %s" % (what, e))
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
    expect(not bad, "%s: control characters reach the terminal: %r" % (what, bad[:5]))
    return text


def json_lines(what, data):
    text = data.decode("utf-8")  # strict: raises on bytes that are not UTF-8
    try:
        return [json.loads(l) for l in text.splitlines() if l.strip()]
    except ValueError as e:
        raise tslib.TestFailure("%s: json.loads: %s" % (what, e))


def comms(obj):
    """Every "comm" value anywhere in a JSON value."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "comm" and isinstance(v, str):
                yield v
            else:
                yield from comms(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from comms(v)


def check_text(what, data):
    text = safe_text(what, data)
    expect(EVIL_TEXT in text, "%s: the escaped name is missing:\n%s" % (what, text[-2000:]))


def check_json(what, data):
    recs = json_lines(what, data)
    expect(EVIL_JSON in set(c for r in recs for c in comms(r)),
           "%s: no record names the process %r" % (what, EVIL_JSON))


def test_hostile_names():
    d = tempfile.mkdtemp(prefix="tsesc")
    cap = os.path.join(d, "evil.cap")
    ready = os.path.join(d, "ready")
    evil = None
    with tslib.Netns("esc") as ns:
        base = [tslib.TCPSCOPE, "trace", "-v", "--netns", ns.path, "-d", "60"]
        files = {n: open(os.path.join(d, n), "wb") for n in ("txt", "txt.err", "js", "js.err")}
        live_txt = subprocess.Popen(base + ["-w", cap], stdout=files["txt"],
                                    stderr=files["txt.err"])
        live_json = subprocess.Popen(base + ["--json"], stdout=files["js"],
                                     stderr=files["js.err"])
        try:
            started(os.path.join(d, "txt.err"), live_txt, "trace -w")
            started(os.path.join(d, "js.err"), live_json, "trace --json")
            with tsnet.InputDrop(ns, 9) as drop:
                evil = ns.popen(["python3", "-c", EVIL_PROG, ready, "9"])
                tslib.wait_until(lambda: os.path.exists(ready) or evil.poll() is not None,
                                 30, "the renamed process")
                expect(drop.dropped() >= 2, "no SYN retransmit: %d drops" % drop.dropped())
            snap = run_bytes([tslib.TCPSCOPE, "snapshot", "-p", "-l", "--netns", ns.path])
            check_text("snapshot -p", snap.stdout)
            snap = run_bytes([tslib.TCPSCOPE, "snapshot", "-a", "--json", "--netns", ns.path])
            check_json("snapshot --json", snap.stdout)
            # The capture is stopped while the listener is still there.
            for p in (live_txt, live_json):
                p.send_signal(signal.SIGINT)
                p.wait(timeout=30)
        finally:
            for p in (live_txt, live_json, evil):
                if p:
                    capkit.kill_quietly(p)
    for f in files.values():
        f.close()

    def read(n):
        with open(os.path.join(d, n), "rb") as f:
            return f.read()
    expect(live_txt.returncode == 0 and live_json.returncode == 0,
           "tracers: %r %r" % (read("txt.err"), read("js.err")))
    check_text("live trace", read("txt"))
    check_json("live trace --json", read("js"))
    for args, js in ((["--json"], True), ([], False), (["-T"], False), (["-T", "--json"], True),
                     (["-s"], False), (["-s", "--json"], True),
                     (["--at", "+120s"], False), (["--at", "+120s", "--json"], True)):
        r = run_bytes([tslib.TCPSCOPE, "report", cap, "--color", "never"] + args)
        what = "report " + " ".join(args)
        safe_text(what + " (stderr)", r.stderr)
        (check_json if js else check_text)(what, r.stdout)
    shutil.rmtree(d)


# --- bpffs pins ------------------------------------------------------------

PIN_SCRIPT = r"""
set -e
mount -t bpf bpf /sys/fs/bpf
chmod 1777 /sys/fs/bpf
# An unprivileged user creates the pin directory first, mode 0700 or not,
# and plants a link to a directory of root's files.
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '
  mkdir -m 0755 /sys/fs/bpf/tcpscope
  ln -s "$1" /sys/fs/bpf/tcpscope/snap-evil' - "$VICTIM"
echo "== pin"
"$TCPSCOPE" snapshot --pin -n -l >/dev/null 2>"$OUT/pin.err" && echo "pin rc=0" || echo "pin rc=$?"
echo "== unpin"
"$TCPSCOPE" snapshot --unpin 2>"$OUT/unpin.err" && echo "unpin rc=0" || echo "unpin rc=$?"
ls -la /sys/fs/bpf/tcpscope > "$OUT/ls1"
# The same user's directory, this time mode 0700: still not ours.
rm -rf /sys/fs/bpf/tcpscope
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '
  mkdir -m 0700 /sys/fs/bpf/tcpscope'
"$TCPSCOPE" snapshot --unpin 2>"$OUT/unpin2.err" && echo "unpin2 rc=0" || echo "unpin2 rc=$?"
rmdir /sys/fs/bpf/tcpscope
# Ours: pin works, and a symlink planted inside (root could only) by name
# is removed itself by --unpin, never followed.
"$TCPSCOPE" snapshot --pin -n -l >/dev/null
ls /sys/fs/bpf/tcpscope/snap-*/tcp >/dev/null
d=$(ls -d /sys/fs/bpf/tcpscope/snap-*)
stat -c '%a %u' /sys/fs/bpf/tcpscope "$d" > "$OUT/modes"
"$TCPSCOPE" snapshot --unpin
test ! -e /sys/fs/bpf/tcpscope && echo "removed"
"""


def test_pins():
    d = tempfile.mkdtemp(prefix="tspin")
    victim = os.path.join(d, "victim")
    out = os.path.join(d, "out")
    os.makedirs(victim)
    os.makedirs(out)
    os.chmod(d, 0o755)
    for n in ("tcp", "files", "precious"):
        with open(os.path.join(victim, n), "w") as f:
            f.write("root's\n")
    # A bpffs of our own in a private mount namespace: other users of the
    # machine's /sys/fs/bpf (other test runs) see nothing of this.
    r = tslib.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", PIN_SCRIPT],
                  check=False, env=dict(os.environ, TCPSCOPE=tslib.TCPSCOPE, VICTIM=victim,
                                        OUT=out))
    expect(r.returncode == 0, "pin script failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))
    expect(sorted(os.listdir(victim)) == ["files", "precious", "tcp"],
           "files behind the planted link were removed: %s" % os.listdir(victim))

    def read(n):
        with open(os.path.join(out, n)) as f:
            return f.read()
    expect("pin rc=0" in r.stdout, "snapshot --pin must still work (without pins): %s" % r.stdout)
    perr = read("pin.err")
    expect("cannot pin" in perr and "another user" in perr and len(perr.splitlines()) == 1,
           "--pin into a foreign directory: %r" % perr)
    expect("unpin rc=1" in r.stdout and "another user" in read("unpin.err"),
           "--unpin of a foreign directory: %s / %s" % (r.stdout, read("unpin.err")))
    expect("snap-evil" in read("ls1"), "the planted link must stay untouched: %s" % read("ls1"))
    expect("unpin2 rc=1" in r.stdout, "a foreign 0700 directory is not ours: %s" % r.stdout)
    expect(read("modes").split() == ["700", "0", "700", "0"], "pin modes: %s" % read("modes"))
    expect("removed" in r.stdout, "--unpin of our own pins: %s" % r.stdout)
    shutil.rmtree(d)


# --- files: --force, FIFOs, devices ----------------------------------------

def record(path, *args, timeout=20):
    start = time.monotonic()
    r = tslib.run([tslib.TCPSCOPE, "record", "-w", path, "-d", "0.3"] + list(args),
                  check=False, timeout=timeout)
    return r, time.monotonic() - start


def refused(path, why, *args):
    before = os.lstat(path)
    r, took = record(path, "--force", *args)
    lines = r.stderr.strip().splitlines()
    expect(r.returncode == 1 and len(lines) == 1 and why in lines[0],
           "--force on %s: exit %d, %r" % (path, r.returncode, r.stderr))
    after = os.lstat(path)
    expect((after.st_ino, after.st_mode, after.st_uid) ==
           (before.st_ino, before.st_mode, before.st_uid), "%s was changed" % path)
    expect(took < 5, "refusing took %.1fs" % took)


def test_force():
    d = tempfile.mkdtemp(prefix="tsforce")
    os.chmod(d, 0o1777)  # like /tmp
    nobody = pwd.getpwnam("nobody")
    try:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        # Without --force: "exists", at once (no open of the FIFO).
        r, took = record(fifo)
        expect(r.returncode == 1 and "exists" in r.stderr and took < 5,
               "FIFO without --force: %d %r (%.1fs)" % (r.returncode, r.stderr, took))
        refused(fifo, "FIFO")
        dev = os.path.join(d, "null")
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(dev, 0o666)
        refused(dev, "device")
        expect(stat.S_IMODE(os.stat(dev).st_mode) == 0o666, "device mode changed")
        r, _ = record("/dev/null", "--force")
        expect(r.returncode == 1 and "device" in r.stderr, "/dev/null: %r" % r.stderr)
        sub = os.path.join(d, "dir")
        os.mkdir(sub)
        refused(sub, "directory")
        target = os.path.join(d, "target")
        with open(target, "w") as f:
            f.write("keep\n")
        link = os.path.join(d, "link")
        os.symlink(target, link)
        refused(link, "symbolic link")
        expect(open(target).read() == "keep\n", "the link's target was written")
        theirs = os.path.join(d, "theirs.cap")
        tslib.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "sh", "-c", "umask 0; echo x > " + theirs])
        expect(os.stat(theirs).st_uid == nobody.pw_uid, "setup: nobody's file")
        refused(theirs, "another user")
        # Ours: replaced by a new inode, root's, 0600, a valid capture.
        mine = os.path.join(d, "mine.cap")
        with open(mine, "w") as f:
            f.write("old\n")
        os.chmod(mine, 0o644)
        ino = os.stat(mine).st_ino
        r, _ = record(mine, "--force")
        expect(r.returncode == 0, "--force on our file: %s" % r.stderr)
        st = os.stat(mine)
        expect(st.st_ino != ino and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
               "replaced file: ino %d->%d mode %o uid %d" % (ino, st.st_ino, st.st_mode, st.st_uid))
        expect(not [n for n in os.listdir(d) if n.startswith(".tcpscope-")],
               "temporary file left: %s" % os.listdir(d))
        rc, _, err = capkit.report(mine)
        expect(rc == 0, "the replaced capture reads back: %s" % err)
        # trace -w: the same rules, and no "0 events, 0 lost" after a refusal.
        r = tslib.run([tslib.TCPSCOPE, "trace", "-w", fifo, "--force", "-d", "0.3"], check=False,
                      timeout=20)
        expect(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and
               "events," not in r.stderr, "trace -w FIFO: %r" % r.stderr)
    finally:
        shutil.rmtree(d)


def test_trace_w_fails_quietly():
    """A -w that fails after the programs loaded prints no totals."""
    d = tempfile.mkdtemp(prefix="tstw")
    try:
        os.chmod(d, 0o500)  # root can still create: use a missing directory
        path = os.path.join(d, "missing", "x.cap")
        r = tslib.run([tslib.TCPSCOPE, "trace", "-w", path, "-d", "0.3"], check=False, timeout=20)
        expect(r.returncode == 1, "exit %d" % r.returncode)
        expect("events," not in r.stderr and "cannot create" in r.stderr,
               "failed trace -w: %r" % r.stderr)
    finally:
        os.chmod(d, 0o700)
        shutil.rmtree(d)


# --- signals, pipes, messages ------------------------------------------------

def test_sighup_trace():
    d = tempfile.mkdtemp(prefix="tshup")
    errf = os.path.join(d, "err")
    with tslib.Netns("hup") as ns:
        p = subprocess.Popen([tslib.TCPSCOPE, "trace", "--netns", ns.path, "-d", "60", "-v"],
                             stdout=subprocess.DEVNULL, stderr=open(errf, "w"))
        try:
            started(errf, p, "trace")
            capkit.traffic(ns, 5)
            p.send_signal(signal.SIGHUP)
            p.wait(timeout=20)
        finally:
            capkit.kill_quietly(p)
    err = open(errf).read()
    shutil.rmtree(d)
    expect(p.returncode == 0, "trace after SIGHUP exited %d: %s" % (p.returncode, err))
    expect("events," in err and "lost" in err, "no totals after SIGHUP: %s" % err)


def test_closed_stdout():
    d = tempfile.mkdtemp(prefix="tspipe")
    cap = os.path.join(d, "p.cap")
    try:
        with tslib.Netns("pipe") as ns:
            rec = capkit.Recorder(cap, ns)
            try:
                capkit.traffic(ns, 300)
                rec.stop()
            finally:
                rec.kill()
            # report | head -1
            p = subprocess.Popen([tslib.TCPSCOPE, "report", cap], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            p.stdout.readline()
            p.stdout.close()
            err = p.stderr.read().decode()
            p.wait(timeout=20)
            expect(p.returncode == 0 and not err.strip(),
                   "report | head: exit %d: %r" % (p.returncode, err))
            # trace | head -1 while events flow
            p = ns.popen([tslib.TCPSCOPE, "trace", "-d", "30"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
            try:
                time.sleep(2)
                capkit.traffic(ns, 50)
                p.stdout.readline()
                p.stdout.close()
                capkit.traffic(ns, 200)  # the next writes meet the closed pipe
                p.wait(timeout=20)
                err = p.stderr.read().decode()
            finally:
                capkit.kill_quietly(p)
            expect(p.returncode == 0, "trace | head: exit %d: %r" % (p.returncode, err))
            expect("Input/output error" not in err and "failed" not in err,
                   "trace | head: %r" % err)
    finally:
        shutil.rmtree(d)


def test_netns_zero():
    r = tslib.run([tslib.TCPSCOPE, "trace", "--netns", "0", "-d", "0.1"], check=False)
    expect(r.returncode == 2 and "No such file" not in r.stderr and "1..4294967295" in r.stderr,
           "--netns 0: %r" % r.stderr)


if __name__ == "__main__":
    tslib.main([test_hostile_names, test_pins, test_force, test_trace_w_fails_quietly,
                test_sighup_trace, test_closed_stdout, test_netns_zero])
