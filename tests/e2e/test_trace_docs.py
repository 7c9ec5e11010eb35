#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""--help, the man page and the README tell the same truth, for every
command: tcpscope(8) renders without warnings; every option of
'tcpscope COMMAND --help' is in the command's SYNOPSIS and every option the
SYNOPSIS lists exists; trace's OPTIONS section and the README's trace table
list every trace option; the STEP LABELS section is the label table;
docs/JSON.md describes every event of the JSON schema; 'tcpscope help
COMMAND' is 'tcpscope COMMAND --help'."""
import json
import os
import re
import subprocess

import tslib
from tslib import expect

MAN = os.path.join(tslib.SRC, "docs", "tcpscope.8")
README = os.path.join(tslib.SRC, "README.md")
JSON_MD = os.path.join(tslib.SRC, "docs", "JSON.md")
SCHEMA = os.path.join(tslib.SRC, "docs", "schema", "tcpscope.schema.json")
LABELS_C = os.path.join(tslib.SRC, "user", "core", "stream", "step_label.c")
COMMANDS = ("trace", "record", "report", "snapshot")


def unman(text):
    """Man source to plain text, enough to compare words."""
    text = text.replace("\\-", "-").replace("\\(dq", '"').replace("\\(en", "-")
    return re.sub(r"\\f[BIRP]", "", text)


def help_options(cmd):
    """[(short or None, long)] from 'tcpscope CMD --help'."""
    out = tslib.run([tslib.TCPSCOPE, cmd, "--help"]).stdout
    opts = []
    for m in re.finditer(r"^\s+(?:-(\w|\?), )?--([a-z][a-z0-9-]+)", out, re.M):
        if m.group(2) in ("help", "usage"):
            continue
        opts.append((m.group(1), m.group(2)))
    expect(len(opts) >= 8, "%s --help: only %d options" % (cmd, len(opts)))
    return opts


def synopsis(cmd):
    """The SYNOPSIS lines of one command, as plain text."""
    src = open(MAN).read()
    syn = src.split(".SH SYNOPSIS", 1)[1].split(".SH DESCRIPTION", 1)[0]
    blocks = syn.split(".br\n")
    mine = [b for b in blocks if b.startswith(".B tcpscope %s" % cmd)]
    expect(len(mine) == 1, "no SYNOPSIS line for %s" % cmd)
    return unman(mine[0])


def test_man_page_renders():
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    expect(r.returncode == 0 and not r.stderr.strip(), "groff warnings: %r" % r.stderr)
    r = subprocess.run(["man", "-l", MAN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30, env=dict(os.environ, MANPAGER="cat", PAGER="cat"))
    expect(r.returncode == 0, "man -l failed: %r" % r.stderr)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "TEXT OUTPUT",
                    "STEP LABELS", "CONNECTION IDS", "JSON OUTPUT", "EXIT STATUS",
                    "EXAMPLES", "FILES", "SEE ALSO"):
        expect(re.search(r"^%s$" % section, r.stdout, re.M), "no %s section" % section)


def test_synopsis_lists_every_option():
    for cmd in COMMANDS:
        syn = synopsis(cmd)
        in_syn = set(re.findall(r"(?<![\w-])(--?[a-zA-Z0-9][a-z0-9-]*)", syn))
        known = set()
        for short, long in help_options(cmd):
            names = {"--" + long} | ({"-" + short} if short else set())
            known |= names
            expect(names & in_syn, "%s: --%s is in --help, not in the SYNOPSIS" % (cmd, long))
        expect(in_syn <= known, "%s: in the SYNOPSIS, not in --help: %s" %
               (cmd, in_syn - known))


def test_trace_options_section():
    helped = {long for _, long in help_options("trace")}
    man = unman(open(MAN).read())
    opts = man.split(".SH OPTIONS", 1)[1].split(".SH TEXT OUTPUT", 1)[0]
    in_man = set(re.findall(r"--([a-z][a-z0-9-]+)", opts))
    expect(helped - in_man == set(), "in --help, not in OPTIONS: %s" % (helped - in_man))
    expect(in_man - helped == set(), "in OPTIONS, not in --help: %s" % (in_man - helped))


def test_readme_trace_table():
    readme = open(README).read()
    table = readme.split("## trace", 1)[1].split("Filters run in the kernel", 1)[0]
    for short, long in help_options("trace"):
        expect("`--%s" % long in table or (short and "`-%s`" % short in table),
               "README's trace table lacks --%s" % long)
    expect("| `-p`, `--pid PID` |" in table, "README: -p is a PID")


def test_step_labels_documented():
    labels = re.findall(r'\[TS_L_\w+\] = \{ "([^"]+)"', open(LABELS_C).read())
    man = unman(open(MAN).read())
    section = man.split(".SH STEP LABELS", 1)[1].split(".SH ", 1)[0]
    for label in labels:
        expect('"%s"' % label in section, "man page STEP LABELS lacks %r" % label)


def test_json_md_covers_the_schema():
    schema = json.load(open(SCHEMA))
    doc = open(JSON_MD).read()
    for ev in schema["properties"]["event"]["enum"]:
        expect(re.search(r"^### .*\b%s\b" % ev, doc, re.M), "docs/JSON.md: no %s" % ev)
        props = schema["definitions"]["event_" + ev]["properties"]
        for field in props:
            expect("`%s`" % field in doc or field in ("event",) or
                   field in ("segs_in", "data_segs_out", "bytes_acked", "bytes_received",
                             "saddr", "sport", "daddr", "dport", "family"),
                   "docs/JSON.md: %s.%s undocumented" % (ev, field))


def test_help_command():
    for cmd in COMMANDS:
        a = tslib.run([tslib.TCPSCOPE, "help", cmd]).stdout
        b = tslib.run([tslib.TCPSCOPE, cmd, "--help"]).stdout
        expect(a == b and a.startswith("Usage: tcpscope %s" % cmd),
               "help %s: %r" % (cmd, a[:80]))
    r = tslib.run([tslib.TCPSCOPE, "help", "bogus"], check=False)
    expect(r.returncode == 2 and "unknown command" in r.stderr, "help bogus: %r" % r.stderr)


if __name__ == "__main__":
    tslib.main([test_man_page_renders, test_synopsis_lists_every_option,
                test_trace_options_section, test_readme_trace_table,
                test_step_labels_documented, test_json_md_covers_the_schema,
                test_help_command])
