#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""serve --log-json: one object per connection, the same objects (same
fields) as 'trace --timeline --json' running beside it, and valid against
docs/schema/tcpscope.schema.json when that file exists; rotation at
--log-max-size keeps whole objects and --log-keep files; SIGHUP reopens the
file after it was moved away (logrotate); SIGTERM ends with the summary
and exit status 0.  serve -w records a capture that report reads."""
import glob
import json
import os
import signal
import time

import servekit
import tslib
from tslib import expect

CONNS = 120
MORE = 15
MAX = 16384


def objects(path):
    out = []
    with open(path) as f:
        for line in f:
            expect(line.endswith("\n"), "%s: a line cut short: %r" % (path, line[-80:]))
            out.append(json.loads(line))
    return out


def traffic(ns, n):
    srv = tslib.Server(ns, "--addr", "127.0.0.1", "--count", str(n))
    cli = tslib.client(ns, "--addr", "127.0.0.1", "--port", str(srv.port), "--count", str(n))
    expect(cli.returncode == 0 and srv.wait() == 0, "traffic failed")


def schema_validator():
    path = os.path.join(tslib.SRC, "docs", "schema", "tcpscope.schema.json")
    if not os.path.exists(path):
        print("note: %s not there yet: checked against trace's objects only" % path)
        return None
    import jsonschema
    with open(path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def test_log_rotation_and_hup():
    with tslib.Netns("log") as ns:
        d = os.path.join(servekit.tempfile.mkdtemp(prefix="tslog"))
        log = os.path.join(d, "conns.json")
        serve = servekit.Serve("--log-json", log, "--log-max-size", str(MAX),
                               "--log-keep", "60", netns=ns)
        tr = tslib.Tracer("-T", netns=ns)
        try:
            traffic(ns, CONNS)
            time.sleep(1.0)
            rotated = sorted(glob.glob(log + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1]))
            expect(len(rotated) >= 3, "only %d rotated files" % len(rotated))
            for p in rotated + [log]:
                expect(os.path.getsize(p) <= MAX, "%s is %d bytes, over %d"
                       % (p, os.path.getsize(p), MAX))
            first = []
            for p in rotated + [log]:  # oldest first
                first += objects(p)
            for p in rotated:
                os.unlink(p)

            # logrotate's way: move the file, then SIGHUP.
            os.rename(log, log + ".moved")
            serve.proc.send_signal(signal.SIGHUP)
            tslib.wait_until(lambda: os.path.exists(log), 10, "the log to be reopened")
            traffic(ns, MORE)
            time.sleep(1.0)
            serve.stop(signal.SIGTERM)
            theirs = [o for o in tr.stop() if o.get("event") == "connection"]
            second = []
            for p in sorted(glob.glob(log + ".[0-9]*"),
                            key=lambda p: -int(p.rsplit(".", 1)[1])) + [log]:
                second += objects(p)
            moved = objects(log + ".moved")
        finally:
            tr.kill()
            serve.kill()
    conns1 = [o for o in first if o["event"] == "connection"]
    conns2 = [o for o in second if o["event"] == "connection"]
    # Each traffic run: CONNS client and server connections plus a listener.
    expect(len(conns1) == 2 * CONNS + 1, "%d objects before SIGHUP, wanted %d"
           % (len(conns1), 2 * CONNS + 1))
    expect(len(conns2) == 2 * MORE + 1, "%d objects after SIGHUP, wanted %d"
           % (len(conns2), 2 * MORE + 1))
    expect(len(moved) == len(objects_tail(first, moved)), "moved file mangled")
    expect(second[-1]["event"] == "summary", "no summary at SIGTERM: %r" % second[-1])
    # The same connections, with the same fields, as trace --timeline --json.
    mine = conns1 + conns2
    by_id = {o["conn"]: o for o in theirs}
    expect(sorted(by_id) == sorted(o["conn"] for o in mine),
           "serve logged %d connections, trace showed %d" % (len(mine), len(theirs)))
    for o in mine:
        expect(sorted(o) == sorted(by_id[o["conn"]]), "fields differ from trace's: %s vs %s"
               % (sorted(o), sorted(by_id[o["conn"]])))
        expect(o["close"] == by_id[o["conn"]]["close"], "close kinds differ")
    v = schema_validator()
    if v:
        for o in first + second:
            errs = list(v.iter_errors(o))
            expect(not errs, "object not valid against the schema: %s: %s"
                   % (errs[0].message if errs else "", json.dumps(o)[:300]))


def test_capture_while_serving():
    """serve -w FILE records a capture as trace -w does; report reads it."""
    n = 25
    with tslib.Netns("logcap") as ns:
        cap = os.path.join(servekit.tempfile.mkdtemp(prefix="tslogcap"), "serve.cap")
        serve = servekit.Serve("-w", cap, netns=ns)
        try:
            servekit.opens_match(ns, serve, n)
            serve.stop()
        finally:
            serve.kill()
    r = tslib.run([tslib.TCPSCOPE, "report", cap, "--timeline", "--json"])
    conns = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    roles = [o.get("role") for o in conns if o.get("event") == "connection"]
    expect(roles.count("client") == n and roles.count("server") == n,
           "the capture holds %d client, %d server connections, wanted %d each"
           % (roles.count("client"), roles.count("server"), n))


def objects_tail(first, moved):
    """The moved file is the tail of what was written before SIGHUP."""
    expect(first[-len(moved):] == moved, "moved file is not the newest objects")
    return moved


if __name__ == "__main__":
    tslib.main([test_log_rotation_and_hup, test_capture_while_serving])
