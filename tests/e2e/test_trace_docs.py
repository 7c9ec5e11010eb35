#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""--help and the man page tell the same truth: tcpscope(8) renders without
warnings, and every option of 'tcpscope trace --help' is in the man page
and every trace option the man page lists exists."""
import os
import re
import subprocess

import tslib
from tslib import expect

MAN = os.path.join(tslib.SRC, "docs", "tcpscope.8")


def test_man_page_renders():
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    expect(r.returncode == 0 and not r.stderr.strip(), "groff warnings: %r" % r.stderr)
    r = subprocess.run(["man", "-l", MAN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30, env=dict(os.environ, MANPAGER="cat", PAGER="cat"))
    expect(r.returncode == 0, "man -l failed: %r" % r.stderr)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS",
                    "EXIT STATUS", "EXAMPLES", "FILES", "SEE ALSO"):
        expect(re.search(r"^%s$" % section, r.stdout, re.M), "no %s section" % section)


def test_options_agree():
    helptext = tslib.run([tslib.TCPSCOPE, "trace", "--help"]).stdout
    in_help = set(re.findall(r"--([a-z][a-z0-9-]+)", helptext)) - {"help", "usage"}
    man = open(MAN).read()
    opts = man.split(".SH OPTIONS", 1)[1].split(".SH TEXT OUTPUT", 1)[0]
    in_man = set(re.findall(r"\\-\\-([a-z][a-z0-9\\-]+)", opts))
    in_man = {o.replace("\\-", "-") for o in in_man}
    expect(in_help - in_man == set(), "in --help, not in the man page: %s" % (in_help - in_man))
    expect(in_man - in_help == set(), "in the man page, not in --help: %s" % (in_man - in_help))


if __name__ == "__main__":
    tslib.main([test_man_page_renders, test_options_agree])
