#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Nothing lost: SIGTERM and Ctrl-C during 'record' close the file with
its trailer; SIGKILL leaves a file readable up to its last chunk (written
at least every second), reported with a warning and exit status 3."""
import os
import signal
import tempfile
import time

import capkit
import tslib
from tslib import expect

CONNS = 20
PER_CONN = 10  # 5 state changes on each side of a client-close connection


def conn_events(recs):
    """State changes of connections (the listener's own two left out)."""
    return [r for r in recs if r.get("event") == "state" and
            (r["from"], r["to"]) not in (("CLOSE", "LISTEN"), ("LISTEN", "CLOSE"))]


def run_stop(sig):
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "sig.cap")
    with tslib.Netns("capsig") as ns:
        rec = capkit.Recorder(path, ns)
        try:
            capkit.traffic(ns, CONNS)
            # Stop right away: the last events are still in memory.
            rc = rec.stop(sig)
        finally:
            rec.kill()
    expect(rc == 0, "recorder exited %d: %s" % (rc, rec.stderr()))
    expect("recorded %d events" % (CONNS * PER_CONN + 2) in rec.stderr(),
           "recorder summary: %s" % rec.stderr())
    recs, err = capkit.report_json(path, "--info")
    expect(len(conn_events(recs)) == CONNS * PER_CONN,
           "%d connection events, wanted %d" % (len(conn_events(recs)), CONNS * PER_CONN))
    expect("trailer: %d events, 0 lost" % (CONNS * PER_CONN + 2) in err, "trailer: %s" % err)
    expect("warning" not in err, "warning on a complete file: %s" % err)


def test_sigterm():
    run_stop(signal.SIGTERM)


def test_sigint():
    run_stop(signal.SIGINT)


def test_sigkill():
    path = os.path.join(tempfile.mkdtemp(prefix="tscap"), "kill.cap")
    with tslib.Netns("capkill") as ns:
        rec = capkit.Recorder(path, ns)
        try:
            capkit.traffic(ns, CONNS)
            # Chunks are written at least every second: after 2.5 s the
            # connections above are on disk even though the writer is
            # killed without any chance to flush.
            time.sleep(2.5)
            rec.stop(signal.SIGKILL)
        finally:
            rec.kill()
    expect(rec.proc.returncode == -signal.SIGKILL, "not killed: %s" % rec.proc.returncode)
    recs, err = capkit.report_json(path, want_rc=3)
    expect(len(conn_events(recs)) == CONNS * PER_CONN,
           "%d connection events survived, wanted %d" % (len(conn_events(recs)), CONNS * PER_CONN))
    warn = capkit.error_lines(err)
    expect(len(warn) == 1, "expected one warning line: %s" % err)
    expect("no trailer" in warn[0] or "truncated" in warn[0], "warning: %s" % warn[0])
    expect("byte offset" in warn[0], "warning names no offset: %s" % warn[0])
    expect(recs[-1]["event"] == "summary", "the sinks still finish: %s" % recs[-1])


if __name__ == "__main__":
    tslib.main([test_sigterm, test_sigint, test_sigkill])
