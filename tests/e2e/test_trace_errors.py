#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Bad input and a kernel or user that cannot trace: exactly one line on
stderr naming the problem, nothing on stdout, and a non-zero exit (2 for a
bad command line, 1 when tracing cannot start).  No BTF and a missing
tracepoint are simulated through the documented test seams
TCPSCOPE_BTF_PATH and TCPSCOPE_HIDE_TP, which drive the real code paths."""
import os
import shutil
import signal
import subprocess
import tempfile

import tslib
import tsnet
from tslib import expect

USAGE = [
    (["trace", "--bogus"], "unrecognized option '--bogus'"),
    (["trace", "-x"], "invalid option -- 'x'"),
    (["trace", "--port", "0"], "invalid --port '0'"),
    (["trace", "--port", "70000"], "invalid --port '70000'"),
    (["trace", "--sport", "0"], "invalid --sport '0'"),
    (["trace", "--dport", "65536"], "invalid --dport '65536'"),
    (["trace", "--port", "http"], "invalid --port 'http'"),
    (["trace", "--ring-size", "3K"], "invalid --ring-size '3K'"),
    (["trace", "--ring-size", "5000"], "invalid --ring-size '5000'"),
    (["trace", "--ring-size", "2G"], "invalid --ring-size '2G'"),
    (["trace", "--ring-size"], "option '--ring-size' requires an argument"),
    (["trace", "--netns", "/nonexistent/netns"], "invalid --netns '/nonexistent/netns'"),
    (["trace", "--netns", "/proc/self/ns/uts"], "not a network namespace file"),
    (["trace", "--netns", "/proc/self/stat"], "not a network namespace file"),
    (["trace", "-4", "-6"], "-4 and -6 exclude each other"),
    (["trace", "-p", "0"], "invalid --pid '0'"),
    (["trace", "-p", "x1"], "invalid --pid 'x1'"),
    (["trace", "--duration", "soon"], "invalid --duration 'soon'"),
    (["trace", "--flush-ms", "0"], "invalid --flush-ms '0'"),
    (["trace", "--tp-mode", "fast"], "invalid --tp-mode 'fast'"),
    (["trace", "--color", "red"], "invalid --color 'red'"),
    (["trace", "stray"], "unexpected argument 'stray'"),
    ([], "no command given"),
    (["bogus"], "unknown command 'bogus'"),
]


def tcpscope(args, env=None, prefix=(), timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(list(prefix) + [tslib.TCPSCOPE] + list(args), env=e,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def one_line(r, status, words):
    """r exited with status, printed nothing on stdout and exactly one line
    on stderr, which holds every one of words."""
    lines = r.stderr.splitlines()
    expect(r.returncode == status, "exit %d, wanted %d; stderr %r"
           % (r.returncode, status, r.stderr))
    expect(len(lines) == 1, "stderr has %d lines, wanted one: %r" % (len(lines), r.stderr))
    for w in words:
        expect(w in lines[0], "%r not in %r" % (w, lines[0]))
    expect(lines[0].startswith("tcpscope"), "message does not name tcpscope: %r" % lines[0])
    expect(r.stdout == "", "stdout not empty: %r" % r.stdout[:200])


def test_bad_command_lines():
    for args, words in USAGE:
        one_line(tcpscope(args), 2, [words])


def test_help_is_not_an_error():
    r = tcpscope(["--help"])
    expect(r.returncode == 0 and "trace" in r.stdout, "tcpscope --help: %r" % r.stderr)
    r = tcpscope(["trace", "--help"])
    expect(r.returncode == 0 and "--ring-size" in r.stdout and "--netns" in r.stdout,
           "tcpscope trace --help: %r" % r.stderr)
    expect(r.stdout.startswith("Usage: tcpscope trace"), "usage line: %r" % r.stdout[:60])


def private_copy():
    """The binary in a directory anyone may enter, for runs as nobody."""
    d = tempfile.mkdtemp(prefix="tsbin")
    os.chmod(d, 0o755)
    path = os.path.join(d, "tcpscope")
    shutil.copy2(tslib.TCPSCOPE, path)
    os.chmod(path, 0o755)
    return path


def test_not_root():
    binary = private_copy()
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        binary, "trace", "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    one_line(r, 1, ["root", "CAP_BPF", "CAP_PERFMON"])


def test_root_without_capabilities():
    # Root, but CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN out of the bounding
    # set: exec leaves them out of the effective set.
    r = tcpscope(["trace"], prefix=["setpriv", "--bounding-set=-sys_admin,-bpf,-perfmon"])
    one_line(r, 1, ["root", "CAP_BPF", "CAP_PERFMON"])


def test_no_btf():
    missing = "/nonexistent/btf/vmlinux"
    one_line(tcpscope(["trace", "--json"], env={"TCPSCOPE_BTF_PATH": missing}), 1,
             ["needs BTF", missing])
    junk = os.path.join(tempfile.mkdtemp(prefix="tsbtf"), "vmlinux")
    with open(junk, "wb") as f:
        f.write(os.urandom(4096))
    one_line(tcpscope(["trace"], env={"TCPSCOPE_BTF_PATH": junk}), 1,
             ["needs BTF", junk, "not a BTF file"])


def test_btf_from_a_file():
    """The seam is the real path: a copy of the kernel's BTF works."""
    copy = os.path.join(tempfile.mkdtemp(prefix="tsbtf"), "vmlinux")
    shutil.copyfile("/sys/kernel/btf/vmlinux", copy)
    with tslib.Netns("btfpath") as ns:
        r = tcpscope(["trace", "--json", "--netns", ns.path, "--duration", "300ms"],
                     env={"TCPSCOPE_BTF_PATH": copy})
    expect(r.returncode == 0, "with a BTF file: %r" % r.stderr)
    expect('"event":"summary"' in r.stdout, "no summary: %r" % r.stdout)


def test_missing_tracepoint():
    hide = {"TCPSCOPE_HIDE_TP": "inet_sock_set_state"}
    one_line(tcpscope(["trace", "--json"], env=hide), 1,
             ["kernel lacks tracepoint sock:inet_sock_set_state", "neither"])
    hide = {"TCPSCOPE_HIDE_TP": "tcp_send_reset,tcp_retransmit_skb"}
    one_line(tcpscope(["trace", "--tp-mode", "btf"], env=hide), 1,
             ["kernel lacks tracepoint tcp:tcp_retransmit_skb", "btf form"])
    one_line(tcpscope(["trace", "--tp-mode", "classic"], env=hide), 1,
             ["kernel lacks tracepoint tcp:tcp_retransmit_skb", "classic form"])


def test_auto_falls_back_to_classic():
    """Without the BTF form of a required tracepoint, --tp-mode auto (the
    default) chooses the classic programs, says so with -v, and traces."""
    with tslib.Netns("fallback") as ns:
        p, out, err = tsnet.start_to_files(ns, ["--json"],
                                           env={"TCPSCOPE_HIDE_TP": "btf:tcp_retransmit_skb"})
        try:
            srv = tslib.Server(ns, "--count", "1")
            cli = tslib.client(ns, "--port", str(srv.port))
            expect(cli.returncode == 0 and srv.wait() == 0, "traffic failed")
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=20)
    out, err = open(out).read(), open(err).read()
    expect(p.returncode == 0, "exit %d: %r" % (p.returncode, err))
    expect("using classic tracepoint programs" in err, "no word of the fallback: %r" % err)
    expect("attached sock:inet_sock_set_state (classic)" in err, "classic not attached: %r" % err)
    expect('"to":"ESTABLISHED"' in out, "classic programs traced nothing: %r" % out[:300])
    # Without the seam the same kernel gets the BTF variant, where the
    # probe says it loads (5.12+).
    with tslib.Netns("nofallback") as ns:
        tr = tslib.Tracer(netns=ns)
        tr.stop()
    want = ("using tp_btf programs" if tslib.probe()["btf_variant"]["loads"] else
            "using classic tracepoint programs")
    expect(want in tr.stderr(), "default variant: %r" % tr.stderr())


def test_optional_tracepoint_missing():
    """A tracepoint tcpscope can do without is skipped, and said so with -v."""
    with tslib.Netns("opttp") as ns:
        r = tcpscope(["trace", "-v", "--json", "--netns", ns.path, "--duration", "300ms"],
                     env={"TCPSCOPE_HIDE_TP": "tcp_send_reset"})
    expect(r.returncode == 0, "exit %d: %r" % (r.returncode, r.stderr))
    expect("tcp:tcp_send_reset not in this kernel: skipped" in r.stderr,
           "no word on the skipped tracepoint: %r" % r.stderr)
    expect("attached tcp:tcp_send_reset" not in r.stderr, "hidden tracepoint attached")


if __name__ == "__main__":
    tslib.main([test_bad_command_lines, test_help_is_not_an_error, test_not_root,
                test_root_without_capabilities, test_no_btf, test_btf_from_a_file,
                test_missing_tracepoint, test_auto_falls_back_to_classic,
                test_optional_tracepoint_missing])
