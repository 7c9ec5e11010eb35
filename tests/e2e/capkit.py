# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for the capture tests: a recorder process, report runs."""
import json
import os
import signal
import subprocess
import tempfile

import tslib
from tslib import TestFailure, expect


class Recorder:
    """tcpscope record -w FILE on one namespace, started and waited for."""

    def __init__(self, path, netns, *args):
        self.path = path
        self.dir = tempfile.mkdtemp(prefix="tsrec")
        self.err = os.path.join(self.dir, "err")
        argv = [tslib.TCPSCOPE, "record", "-w", path, "-v", "--duration", "120",
                "--netns", netns.path] + list(args)
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=open(self.err, "w"))
        tslib.wait_until(lambda: "recording (" in self.stderr() or
                         self.proc.poll() is not None, 20, "the recorder to attach")
        if self.proc.poll() is not None:
            raise TestFailure("recorder exited early: %s" % self.stderr())

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def report(path, *args):
    """Run tcpscope report; returns (returncode, stdout, stderr)."""
    r = tslib.run([tslib.TCPSCOPE, "report", path] + list(args), check=False)
    return r.returncode, r.stdout, r.stderr


def report_json(path, *args, want_rc=0):
    """The objects after the stream's header (checked and left out)."""
    rc, out, err = report(path, "--json", *args)
    expect(rc == want_rc, "report exited %d (wanted %d): %s" % (rc, want_rc, err.strip()))
    objs = [json.loads(line) for line in out.splitlines() if line.strip()]
    expect(objs and objs[0]["event"] == "header" and objs[0]["command"] == "report",
           "no header first: %s" % objs[:1])
    return objs[1:], err


def traffic(ns, count, addr="127.0.0.1", mode="client-close"):
    """count complete connections to a fresh server in ns."""
    srv = tslib.Server(ns, "--addr", addr, "--count", str(count), "--mode", mode)
    cli = tslib.client(ns, "--addr", addr, "--port", str(srv.port), "--count", str(count),
                       "--mode", mode, timeout=120)
    expect(cli.returncode == 0, "client failed: %s" % cli.stderr.read())
    expect(srv.wait(timeout=60) == 0, "server failed")
    return srv, cli


def kill_quietly(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def error_lines(stderr):
    """Lines that are errors or warnings, not -v information."""
    return [l for l in stderr.splitlines()
            if l.startswith("tcpscope: ") and "RLIMIT_MEMLOCK" not in l and ("warning" in l or "cannot" in l or
                                               "failed" in l or "No space" in l or
                                               "error" in l)]

