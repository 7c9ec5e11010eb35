#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Every command's JSON, in every mode, on real traffic in a namespace,
validates against docs/schema/tcpscope.schema.json (Debian's
python3-jsonschema): trace, trace --timeline, trace --snapshot --interval,
record -> report (events, --timeline, --summary, --at), record -w - |
report -, snapshot, snapshot -s, snapshot -c.  Each stream starts with one
header object naming the schema, the command and the mode; the step
labels the schema allows are exactly the label table's."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import jsonschema

import capkit
import tslib
from tslib import expect

SCHEMA_PATH = os.path.join(tslib.SRC, "docs", "schema", "tcpscope.schema.json")
LABELS_C = os.path.join(tslib.SRC, "user", "core", "stream", "step_label.c")


def load_schema():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return schema


SCHEMA = load_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
# One validator per event kind: a failure names the field, not "oneOf".
BY_EVENT = {}
for name in SCHEMA["properties"]["event"]["enum"]:
    sub = dict(SCHEMA["definitions"]["event_" + name])
    sub["definitions"] = SCHEMA["definitions"]
    BY_EVENT[name] = jsonschema.Draft7Validator(sub)


def validate_stream(text, command, mode):
    """Parse a JSON stream, check its header, validate every object.
    Returns the objects after the header."""
    objs = []
    for n, line in enumerate(text.splitlines(), 1):
        expect(line.strip(), "blank line %d in %s %s" % (n, command, mode))
        o = json.loads(line)
        ev = o.get("event")
        expect(ev in BY_EVENT, "%s %s line %d: unknown event %r" % (command, mode, n, ev))
        errs = sorted(BY_EVENT[ev].iter_errors(o), key=lambda e: list(e.path))
        expect(not errs, "%s %s line %d (%s): %s" %
               (command, mode, n, ev, "; ".join("%s: %s" % (list(e.path), e.message)
                                                for e in errs[:3])))
        # The whole schema (its oneOf) agrees with the per-event check.
        VALIDATOR.validate(o)
        objs.append(o)
    expect(objs, "%s %s printed nothing" % (command, mode))
    head = objs[0]
    expect(head["event"] == "header" and head["schema"] == "tcpscope/1" and
           head["command"] == command and head["mode"] == mode,
           "%s %s: header %s" % (command, mode, head))
    expect(sum(o["event"] == "header" for o in objs) == 1, "%s %s: more than one header" %
           (command, mode))
    return objs[1:]


def events(objs):
    return {o["event"] for o in objs}


def traffic(ns):
    """Connections of every ending: graceful both ways, reset, refused."""
    capkit.traffic(ns, 3, "127.0.0.1", "client-close")
    capkit.traffic(ns, 2, "::1", "server-close")
    capkit.traffic(ns, 2, "127.0.0.1", "rst")
    cli = tslib.client(ns, "--port", "9", "--expect-fail")
    expect(cli.returncode == 0, "refused client: %s" % cli.stderr.read())


def test_label_table_is_the_schema_enum():
    src = open(LABELS_C).read()
    table = re.findall(r'\[TS_L_\w+\] = \{ "([^"]+)"', src)
    expect(len(table) >= 20, "label table not found: %d" % len(table))
    expect(sorted(table) == sorted(SCHEMA["definitions"]["step"]["enum"]),
           "schema step enum differs from step_label.c: %s" %
           (set(table) ^ set(SCHEMA["definitions"]["step"]["enum"])))
    expect(all(t for t in table) and len(set(table)) == len(table), "blank or repeated labels")


def test_trace_modes():
    with tslib.Netns("schema") as ns:
        # A socket from before tracing, for --snapshot's known marker.
        # It waits while three tracers start: minutes under emulation.
        srv = tslib.Server(ns, "--count", "1", "--mode", "client-close",
                           "--timeout", str(60 * tslib.TIME_SCALE))
        tr = tslib.Tracer(netns=ns)
        tl = tslib.Tracer("--timeline", netns=ns)
        sn = tslib.Tracer("--snapshot", "--interval", "1", netns=ns)
        try:
            traffic(ns)
            cli = tslib.client(ns, "--port", str(srv.port), "--count", "1",
                               "--mode", "client-close")
            expect(cli.returncode == 0 and srv.wait() == 0, "pre-existing server")
            tslib.wait_until(lambda: '"event":"stats"' in open(sn.out).read(), 10,
                             "an --interval object")
            for t in (tr, tl, sn):
                t.stop()
        finally:
            for t in (tr, tl, sn):
                t.kill()
        objs = validate_stream(open(tr.out).read(), "trace", "events")
        want = {"state", "reset_sent", "reset_received", "summary"}
        expect(want <= events(objs), "trace events %s" % events(objs))
        expect(objs[-1]["event"] == "summary", "no summary last")
        noowner = [o for o in objs if o["event"] == "reset_sent" and o["conn"] == 0]
        # Kernels before 6.10 fire tcp_send_reset for full sockets only
        # (tcpscope probe: socketless_resets): then there is none to see.
        if tslib.probe()["socketless_resets"]:
            expect(noowner and all(o["pid"] is None and o["comm"] is None for o in noowner),
                   "socketless reset owner: %s" % noowner[:1])
        else:
            expect(not noowner, "socketless resets on a kernel without them: %s" % noowner[:1])
        objs = validate_stream(open(tl.out).read(), "trace", "timeline")
        conns = [o for o in objs if o["event"] == "connection"]
        expect(len(conns) >= 14, "only %d timelines" % len(conns))
        closes = {c["close"] for c in conns}
        expect({"active", "passive", "refused"} <= closes, "close kinds %s" % closes)
        objs = validate_stream(open(sn.out).read(), "trace", "events")
        expect({"snapshot", "socket", "stats", "state"} <= events(objs),
               "trace --snapshot --interval: %s" % events(objs))
        # Events join the snapshot's rows by connection id: socket cookies
        # on both sides, which only the btf variant has (tcpscope probe).
        if tslib.probe().get("socket_cookies"):
            expect(any(o.get("known") for o in objs if o["event"] == "state"),
                   "no event marked known")


def test_record_report_modes():
    d = tempfile.mkdtemp(prefix="tsschema")
    try:
        path = os.path.join(d, "run.cap")
        with tslib.Netns("schemarec") as ns:
            srv = tslib.Server(ns, "--count", "1", "--mode", "client-close")
            rec = capkit.Recorder(path, ns)
            # The same traffic through a pipe: record -w - | report -.
            perr = os.path.join(d, "pipe.err")
            prec = subprocess.Popen([tslib.TCPSCOPE, "record", "-w", "-", "-v", "--duration",
                                     "120", "--netns", ns.path], stdout=subprocess.PIPE,
                                    stderr=open(perr, "w"))
            prep = subprocess.Popen([tslib.TCPSCOPE, "report", "--json", "-"],
                                    stdin=prec.stdout, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            prec.stdout.close()
            try:
                tslib.wait_until(lambda: "recording (" in open(perr).read() or
                                 prec.poll() is not None, 20, "the piped recorder")
                traffic(ns)
                cli = tslib.client(ns, "--port", str(srv.port), "--count", "1",
                                   "--mode", "client-close")
                expect(cli.returncode == 0 and srv.wait() == 0, "pre-existing server")
                expect(rec.stop() == 0, "recorder: %s" % rec.stderr())
                prec.send_signal(signal.SIGTERM)
                prec.wait(timeout=20)
                out, err = prep.communicate(timeout=30)
            finally:
                for p in (prec, prep):
                    if p.poll() is None:
                        p.kill()
                        p.wait(timeout=10)
        expect(prec.returncode == 0, "record -w -: %s" % open(perr).read())
        expect(prep.returncode == 0, "report -: %d %s" % (prep.returncode, err))
        piped = validate_stream(out, "report", "events")
        expect({"state", "summary"} <= events(piped), "piped report: %s" % events(piped))

        for args, mode, want in (([], "events", {"state", "reset_sent", "summary"}),
                                 (["--timeline"], "timeline", {"connection", "summary"}),
                                 (["--summary"], "summary", {"report_summary"}),
                                 (["--at", "+0s"], "at", {"snapshot", "socket"}),
                                 (["--at", "+1h"], "at", {"snapshot"})):
            rc, out, err = capkit.report(path, "--json", *args)
            expect(rc == 0, "report %s: %d %s" % (args, rc, err))
            objs = validate_stream(out, "report", mode)
            expect(want <= events(objs), "report %s: %s" % (args, events(objs)))
        summ = validate_stream(capkit.report(path, "--json", "--summary")[1], "report",
                               "summary")[0]
        labels = {t["step"] for t in summ["transitions"]}
        expect("RST received: connection refused" in labels and
               "RST sent (abortive close)" in labels, "summary labels %s" % labels)
    finally:
        shutil.rmtree(d)


def test_snapshot_modes():
    with tslib.Netns("schemasnap") as ns:
        srv = tslib.Server(ns, "--count", "1", "--mode", "client-close")
        try:
            base = [tslib.TCPSCOPE, "snapshot", "--json", "--netns", ns.path]
            out = tslib.run(base + ["-a"]).stdout
            objs = validate_stream(out, "snapshot", "sockets")
            expect(objs[0]["event"] == "snapshot" and objs[0]["sockets"] == len(objs) - 1 >= 1,
                   "snapshot -a: %s" % objs[:2])
            objs = validate_stream(tslib.run(base + ["-s"]).stdout, "snapshot", "stats")
            expect([o["event"] for o in objs] == ["stats"], "snapshot -s: %s" % objs)
            out = tslib.run(base + ["-a", "-c", "1", "--count", "2"]).stdout
            objs = validate_stream(out, "snapshot", "sockets")
            expect(sum(o["event"] == "snapshot" for o in objs) == 2, "snapshot -c: %s" %
                   [o["event"] for o in objs])
            out = tslib.run(base + ["-s", "-c", "1", "--count", "2"]).stdout
            objs = validate_stream(out, "snapshot", "stats")
            expect(len(objs) == 2 and objs[1]["ts_ns"] > objs[0]["ts_ns"], "snapshot -s -c")
        finally:
            cli = tslib.client(ns, "--port", str(srv.port), "--count", "1",
                               "--mode", "client-close")
            srv.wait()
            expect(cli.returncode == 0, "client")


if __name__ == "__main__":
    tslib.main([test_label_table_is_the_schema_enum, test_trace_modes,
                test_record_report_modes, test_snapshot_modes])
