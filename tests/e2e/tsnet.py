# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""More helpers for the end-to-end tests, beside tslib: kernel counters
(nstat read inside a test namespace), nftables drop rules in a namespace's
INPUT hook (a drop there makes the sender retransmit; an OUTPUT drop would
only be a local send failure), and a tracer writing to plain files."""
import os
import subprocess
import tempfile

import tslib


def nstat(ns):
    """{counter: absolute value} for namespace ns, as nstat reports them.
    NSTAT_HISTORY points at a private file and -s keeps nstat from writing
    it, so the user's own nstat history is never touched."""
    hist = os.path.join(tempfile.mkdtemp(prefix="tsnstat"), "history")
    env = dict(os.environ, NSTAT_HISTORY=hist)
    r = ns.run(["nstat", "-a", "-z", "-s"], env=env)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and not line.startswith("#"):
            out[f[0]] = int(f[1])
    tslib.expect("TcpActiveOpens" in out, "nstat printed no Tcp counters: %r" % r.stdout[:200])
    return out


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


PROBE = """
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(0.5)
try:
    s.connect((a, 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(0)
"""


def wait_path(ns, addr, timeout=10):
    """Wait until a TCP segment from ns reaches addr and is answered (a
    connection refused on the discard port, which nobody listens on)."""
    tslib.wait_until(lambda: ns.run(["python3", "-c", PROBE, addr],
                                    check=False).returncode == 0,
                     timeout, "a path to %s" % addr, step=0.1)


class InputDrop:
    """An nftables table in namespace ns whose INPUT hook (or hook) drops
    TCP segments to port that match extra (nft expression words); removed
    on exit or by remove().  In the OUTPUT hook the sender's transmit fails
    (-EPERM): the kernel counts a retransmission so dropped, and
    TcpExtTCPRetransFail."""

    def __init__(self, ns, port, extra=(), hook="input"):
        self.ns = ns
        self.table = "tsdrop%s%d" % (hook, os.getpid())
        rules = ("table inet %s {\n"
                 " chain %s {\n"
                 "  type filter hook %s priority 0; policy accept;\n"
                 "  tcp dport %d %s counter drop\n"
                 " }\n"
                 "}\n") % (self.table, hook, hook, port, " ".join(extra))
        self.file = os.path.join(tempfile.mkdtemp(prefix="tsnft"), "rules.nft")
        with open(self.file, "w") as f:
            f.write(rules)
        self.active = False

    def __enter__(self):
        self.ns.run(["nft", "-f", self.file])
        self.active = True
        return self

    def dropped(self):
        """Packets the rule has dropped so far."""
        r = self.ns.run(["nft", "list", "table", "inet", self.table])
        for line in r.stdout.splitlines():
            f = line.split()
            if "counter" in f and "packets" in f:
                return int(f[f.index("packets") + 1])
        return 0

    def remove(self):
        if self.active:
            self.ns.run(["nft", "delete", "table", "inet", self.table], check=False)
            self.active = False

    def __exit__(self, *exc):
        self.remove()


def start_to_files(ns, args, env=None):
    """tcpscope trace on ns (extra environment env) with stdout and stderr
    to files; returns (process, stdout path, stderr path) once -v says it
    is tracing."""
    d = tempfile.mkdtemp(prefix="tslive")
    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out, "w") as fo, open(err, "w") as fe:
        p = subprocess.Popen([tslib.TCPSCOPE, "trace", "-v", "--netns", ns.path,
                              "--duration", "60"] + args, stdout=fo, stderr=fe,
                             env=dict(os.environ, **(env or {})))
    tslib.wait_until(lambda: "tracing (" in open(err).read() or p.poll() is not None,
                     20, "the tracer to attach")
    tslib.expect(p.poll() is None, "tracer exited: %s" % open(err).read())
    return p, out, err
