#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Installed like a system tool: scripts/package.sh builds the .deb with
CPack; it declares its dependencies and holds the binary, the man page,
the systemd unit, the bash completion and the docs, the same files as
'cmake --install' puts in place; 'dpkg -i' installs it
(then the test purges it); the installed unit passes 'systemd-analyze
verify'; the completion loads in bash and completes every command's
options; the installed binary runs.  (systemd does not run on the test
machine, so the unit is verified, not started.)"""
import os
import re
import shutil
import subprocess
import tempfile

import tslib
from tslib import expect

PKG_DIR = os.path.join(os.environ.get("TS_BUILD", os.path.join(tslib.SRC, "build")), "pkg")
COMPLETION = "/usr/share/bash-completion/completions/tcpscope"
UNIT = "/usr/lib/systemd/system/tcpscope.service"


def installed():
    r = tslib.run(["dpkg-query", "-W", "-f=${Status}", "tcpscope"], check=False)
    return "ok installed" in r.stdout


def complete(words):
    """COMPREPLY for the command line words (the last one being completed)."""
    script = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _tcpscope; '
              'printf "%%s\\n" "${COMPREPLY[@]}"'
              % (COMPLETION, " ".join("'%s'" % w for w in words), len(words) - 1))
    return tslib.run(["bash", "-c", script]).stdout.split()


def test_deb():
    expect(not installed(), "a tcpscope package is installed already: not touching it")
    r = tslib.run([os.path.join(tslib.SRC, "scripts", "package.sh"), PKG_DIR], timeout=800)
    deb = r.stdout.strip().splitlines()[-1]
    expect(deb.endswith(".deb") and os.path.exists(deb), "package.sh printed %r" % r.stdout)
    info = tslib.run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    for dep in ("libbpf1", "libmicrohttpd12", "libc6", "zlib1g", "libzstd1"):
        expect(dep in info, "Depends lacks %s: %s" % (dep, info))
    files = tslib.run(["dpkg-deb", "-c", deb]).stdout
    for f in ("./usr/sbin/tcpscope", "./usr/share/man/man8/tcpscope.8", "." + UNIT,
              "." + COMPLETION, "./usr/share/doc/tcpscope/SERVE.md",
              "./usr/share/doc/tcpscope/README.md"):
        expect(f in files, "%s not in the package" % f)
    # cmake --install puts the same files in place as the package.
    dest = tempfile.mkdtemp(prefix="tsinstall")
    try:
        tslib.run(["cmake", "--install", PKG_DIR], env=dict(os.environ, DESTDIR=dest))
        installed_files = set()
        for root, _, names in os.walk(dest):
            for n in names:
                installed_files.add("." + os.path.join(root, n)[len(dest):])
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    in_deb = {l.split()[-1] for l in files.splitlines() if not l.startswith("d")}
    expect(installed_files == in_deb, "cmake --install and the .deb differ: %s"
           % sorted(installed_files ^ in_deb))
    try:
        tslib.run(["dpkg", "-i", deb], timeout=120)
        expect(installed(), "dpkg -i did not install tcpscope")
        v = tslib.run(["systemd-analyze", "verify", UNIT], check=False)
        expect(v.returncode == 0 and "tcpscope" not in v.stderr,
               "systemd-analyze verify: %d %s" % (v.returncode, v.stderr.strip()))
        c = tslib.run(["bash", "-c", "source %s; complete -p tcpscope" % COMPLETION])
        expect("-F _tcpscope tcpscope" in c.stdout, "completion not loaded: %r" % c.stdout)
        expect(set(complete(["tcpscope", "s"])) == {"snapshot", "serve"}, "command completion")
        got = complete(["tcpscope", "serve", "--"])
        for opt in ("--listen", "--max-label-values", "--log-json", "--log-max-size",
                    "--log-keep", "--netns", "--port", "--tp-mode"):
            expect(opt in got, "serve %s not completed: %s" % (opt, got))
        for cmd in ("trace", "record", "report", "snapshot", "serve"):
            helps = tslib.run(["/usr/sbin/tcpscope", cmd, "--help"]).stdout
            longs = {"--" + o for o in re.findall(r"--([a-z][a-z0-9-]+)", helps)}
            got = set(complete(["tcpscope", cmd, "--"]))
            expect(longs <= got, "%s: options not completed: %s" % (cmd, sorted(longs - got)))
        expect(complete(["tcpscope", "serve", "--tp-mode", ""]) == ["auto", "btf", "classic"],
               "--tp-mode values")
        v = tslib.run(["/usr/sbin/tcpscope", "--version"])
        expect(v.stdout.startswith("tcpscope "), "installed binary: %r" % v.stdout)
        expect(tslib.run(["man", "-w", "tcpscope"], check=False).returncode == 0,
               "man page not found")
    finally:
        tslib.run(["dpkg", "--purge", "tcpscope"], check=False, timeout=120)
    expect(not installed() and not os.path.exists("/usr/sbin/tcpscope")
           and not os.path.exists(UNIT), "purge left files behind")


if __name__ == "__main__":
    tslib.main([test_deb])
