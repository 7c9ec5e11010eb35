#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The tcpscope benchmark (scripts/bench.sh runs this as root).

One run measures, side by side:
  - connection rate of the churn load generator with no tracer, with the
    floor (empty BPF programs on the same tracepoints), with tcpscope in its
    output modes and with bpftrace; runs alternate (A B C ... A B C ...) and
    the table gives medians and ratios to the no-tracer run;
  - the kernel cost per event of each tracer's programs
    (kernel.bpf_stats_enabled), as a ratio to the floor's;
  - losses: opens the kernel counted in the churn namespace
    (TcpActiveOpens/TcpPassiveOpens) against opens the tracer delivered,
    for the default and smaller ring buffers;
  - user-space cost of each tracer: CPU seconds per million events, peak RSS;
  - capture size and report speed, when `tcpscope record`/`report` exist;
  - snapshot against ss/netstat, when scripts/bench/snapshot.sh exists;
  - the peers in the same alternating rounds: bpftrace and the packaged
    libbpf-tools (tcpstates, tcplife);
  - each BPF program's own cost (one row per program the tracer loaded:
    a program this build lacks has none; PROGRAMS names the hooks);
  - scale: cost against connections held open while churning, CPUs
    (taskset) and the event rate (churn -r).

It refuses to start without root, without its tools, or on a busy machine
(--force), and always removes its namespaces, stops its processes and
restores the sysctls it changed, also on SIGINT/SIGTERM/SIGHUP.

Commands that are not built yet (record, report, trace --timeline) are
detected and skipped, so the same script measures whatever exists.
Nothing here passes or fails on a figure: the exit status only says whether
the runs themselves worked.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"
BEGIN_MARK = "<!-- bench:begin -->"
END_MARK = "<!-- bench:end -->"
# "N events, M lost" (trace) or "recorded N events (M lost)" (record).
SUMMARY_RE = re.compile(r"(\d+) events,? \(?(\d+) lost")
# libbpf-tools' perf-buffer loss message, one per CPU and batch.
PEER_LOST_RE = re.compile(r"lost (\d+) events on CPU")

# The packaged peer: bcc's libbpf-tools (Debian package libbpf-tools, in
# /usr/sbin).  tcpstates prints one line per state change, as `tcpscope
# trace` does; tcplife one line per closed socket.  (Bookworm's 0.26 has no
# tcpretrans: bpftrace's one-liner covers retransmissions.)
LIBBPF_TOOLS = [("tcpstates", "libbpf-tools tcpstates > file"),
                ("tcplife", "libbpf-tools tcplife > file")]

# The product's BPF programs, for the per-program cost table: the name the
# kernel shows (15 characters at most), where it is attached, what it
# pays for.  A new program is one more entry here; a program missing from
# this list still gets its row, with its hook unknown.  Names compare on
# their first 15 characters (BPF_OBJ_NAME_LEN: older bpftool prints them
# cut, newer ones the whole name from BTF).
PROGRAMS = [
    ("btf_state", "tp_btf sock:inet_sock_set_state", "every state change"),
    ("btf_state_nested", "tp_btf sock:inet_sock_set_state",
     "checks each state change's connection; makes those the kernel skipped btf_state for"),
    ("tp_state", "tracepoint sock:inet_sock_set_state", "every state change (classic)"),
    ("tp_accept4", "tracepoint syscalls:sys_exit_accept4",
     "every accept4() on the machine: owner of passive connections"),
    ("tp_accept", "tracepoint syscalls:sys_exit_accept",
     "every accept() on the machine: owner of passive connections"),
    ("fx_accept4", "fexit inet_csk_accept() (before 6.10)",
     "every accept: owner of passive connections, where the kernel allows fexit"),
    ("fx_accept2", "fexit inet_csk_accept() (6.10+)",
     "every accept: owner of passive connections, where the kernel allows fexit"),
    ("btf_retrans", "tp_btf tcp:tcp_retransmit_skb", "retransmission"),
    ("tp_retrans", "tracepoint tcp:tcp_retransmit_skb", "retransmission (classic)"),
    ("btf_synack", "tp_btf tcp:tcp_retransmit_synack", "SYN-ACK retransmission"),
    ("tp_synack", "tracepoint tcp:tcp_retransmit_synack", "SYN-ACK retransmission (classic)"),
    ("btf_rst_recv", "tp_btf tcp:tcp_receive_reset", "reset received"),
    ("tp_rst_recv", "tracepoint tcp:tcp_receive_reset", "reset received (classic)"),
    ("btf_rst_sent", "tp_btf tcp:tcp_send_reset", "reset sent"),
    ("tp_rst_sent", "tracepoint tcp:tcp_send_reset", "reset sent (classic)"),
    ("btf_drop", "tp_btf skb:kfree_skb", "every freed packet with a drop reason (issue 13)"),
    ("btf_drop_rx", "tp_btf skb:kfree_skb", "the same, with the receiving socket (6.11+)"),
    ("tp_drop", "tracepoint skb:kfree_skb", "every freed packet (classic)"),
    ("btf_destroy", "tp_btf tcp:tcp_destroy_sock",
     "every destroyed TCP socket: deletes its kept state (conn_hash)"),
]

# The floor's programs on sock:inet_sock_set_state (scripts/bench/floor.bpf.c),
# summed per event as tcpscope's are: --lean has two there (lean_state,
# lean_check) as tcpscope has btf_state and btf_state_nested.
FLOOR_STATE_PROGRAMS = ["floor_state", "ring_state", "store_state", "lru_state", "hash_state",
                        "perf_state", "lean_state", "lean_check", "pcpu_state"]

# bpftrace's equivalent of `tcpscope trace`: one line per state change and
# per retransmission, on the same two tracepoints.
BPFTRACE_SCRIPT = (
    'tracepoint:sock:inet_sock_set_state /args->protocol == 6/ '
    '{ printf("%d %s %d %d %d %d\\n", pid, comm, args->sport, args->dport, '
    'args->oldstate, args->newstate); } '
    'tracepoint:tcp:tcp_retransmit_skb '
    '{ printf("%d R %d %d %d\\n", pid, args->sport, args->dport, args->state); }')


class BenchError(Exception):
    pass


class Interrupted(BaseException):
    """SIGINT/SIGTERM/SIGHUP: unwinds through every cleanup on the way out."""


def on_signal(signum, frame):
    # Once: the cleanup that follows (namespaces, sysctls, processes) must
    # not be cut short by a second signal.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signal.Signals(signum).name)


class Sysctls:
    """The sysctls the benchmark changes, each restored on the way out."""

    def __init__(self):
        self.saved = []

    def set(self, path, value):
        with open(path) as f:
            old = f.read().strip()
        if path not in [p for p, _ in self.saved]:
            self.saved.append((path, old))
        with open(path, "w") as f:
            f.write(value)

    def restore(self):
        while self.saved:
            path, old = self.saved.pop()
            try:
                with open(path, "w") as f:
                    f.write(old)
            except OSError as e:
                log("could not restore %s to %s: %s" % (path, old, e))


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=600, **kw)


def perf_record(path, freq):
    """The command that samples every CPU into path while the command
    after it runs."""
    return ["perf", "record", "-q", "-a", "-F", str(freq), "-o", path, "--"]


def perf_works():
    """Whether `perf record -a` can sample every CPU here."""
    fd, path = tempfile.mkstemp(prefix="tsbench-perf.")
    os.close(fd)
    try:
        return works(perf_record(path, 99) + ["true"])
    finally:
        os.unlink(path)


def works(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def median(xs):
    return statistics.median(xs) if xs else None


# ---- the machine ----

def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    try:
        commit = run(["git", "-C", SRC, "rev-parse", "--short", "HEAD"]).stdout.strip()
        if run(["git", "-C", SRC, "status", "--porcelain", "--untracked-files=no"]).stdout:
            commit += "+dirty"
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        commit = "unknown"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "mem_gb": round(mem_kb / 1048576, 1), "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---- the churn namespace ----

class Netns:
    def __init__(self, tag=""):
        self.name = "tsbench%s%d" % (tag, os.getpid())

    def __enter__(self):
        run(["ip", "netns", "add", self.name])
        try:
            run(["ip", "-n", self.name, "link", "set", "lo", "up"])
            self.inode = os.stat("/run/netns/" + self.name).st_ino
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)

    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.name] + argv

    def opens(self):
        """(TcpActiveOpens, TcpPassiveOpens) of the namespace."""
        out = run(self.exec_argv(["cat", "/proc/net/snmp"])).stdout
        rows = [l.split() for l in out.splitlines() if l.startswith("Tcp:")]
        vals = dict(zip(rows[0][1:], rows[1][1:]))
        return int(vals["ActiveOpens"]), int(vals["PassiveOpens"])


def churn(cfg, ns, mode=None, count=None, ms=None, rate=None, cpus=None, wrap=None):
    """One churn run; rate paces it (connections/s), cpus pins it (taskset);
    wrap runs it under another command (perf record)."""
    argv = [cfg.churn, "-n", str(count or cfg.churn_max), "-d", str(ms or cfg.churn_ms),
            "-c", str(cfg.threads), "-s", str(cfg.threads), "-m", mode or cfg.mode]
    if rate:
        argv += ["-r", str(rate)]
    if cpus:
        argv = ["taskset", "-c", cpus] + argv
    before = ns.opens()
    stats = stats_enabled()
    cpu0 = cpu_jiffies()
    p = subprocess.run((wrap or []) + ns.exec_argv(argv), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE,
                       text=True, timeout=(ms or cfg.churn_ms) / 1000 + 120)
    cpu1 = cpu_jiffies()
    after = ns.opens()
    m = re.search(r"^churn: (.*)$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise BenchError("churn failed: %s" % (p.stderr.strip() or p.stdout.strip()))
    res = dict(kv.split("=", 1) for kv in m.group(1).split())
    total = sum(cpu1) - sum(cpu0)
    return {"rate": float(res["rate"]), "conns": int(res["conns"]), "secs": float(res["secs"]),
            "active": after[0] - before[0], "passive": after[1] - before[1],
            # kernel.bpf_stats_enabled while it ran: on, every program run
            # also reads the clock twice (the kernel cost and scale runs).
            "bpf_stats": stats,
            # The machine's idle share while churn ran (idle and iowait,
            # from /proc/stat; its start and end included, so a little
            # more than the churn itself left).
            "idle": (cpu1[3] + cpu1[4] - cpu0[3] - cpu0[4]) / total if total > 0 else None,
            # What the hypervisor ran elsewhere while this VM's CPUs wanted
            # to run (steal): time taken from every run alike, tracer or
            # not, which only the rounds' alternation shares out.
            "steal": (cpu1[7] - cpu0[7]) / total if total > 0 else None}


def stats_enabled():
    """kernel.bpf_stats_enabled as a string ("0", "1"), None if unreadable."""
    try:
        with open(STATS_SYSCTL) as f:
            return f.read().strip()
    except OSError:
        return None


def cpu_jiffies():
    """The machine's CPU time so far, /proc/stat's first line: user, nice,
    system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]


# ---- tracers ----

def fd_info(pid):
    """Links and program ids held by a process, from /proc/PID/fdinfo."""
    links, progs = 0, set()
    try:
        names = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return 0, progs
    for fd in names:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                text = f.read()
        except OSError:
            continue
        if "link_type:" in text:
            links += 1
        else:
            # Older kernels (before 5.15) attach tracepoint programs
            # through perf events, not BPF links.
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]":
                    links += 1
            except OSError:
                pass
        m = re.search(r"^prog_id:\s+(\d+)", text, re.M)
        if m:
            progs.add(int(m.group(1)))
    return links, progs


class Tracer:
    """One tracer process, started, awaited until attached, and stopped.

    spec: name, argv, out ("null", "file" or "pipe": through cat as a
    terminal stands in), ready ("links": attached BPF links appear in
    fdinfo; "attaching": bpftrace's banner in its output), kind.
    """

    def __init__(self, spec, workdir):
        self.spec = spec
        self.workdir = workdir
        self.proc = self.cat = None
        self.out_path = os.path.join(workdir, "out.%s" % spec["key"])
        self.err_path = os.path.join(workdir, "err.%s" % spec["key"])
        self.rusage = None

    def start(self):
        spec = self.spec
        err = open(self.err_path, "w")
        if spec["out"] == "file":
            out = open(self.out_path, "w")
        elif spec["out"] == "pipe":
            out = subprocess.PIPE
        else:
            out = subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(spec["argv"], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
            if spec["out"] == "pipe":
                self.cat = subprocess.Popen(["cat"], stdin=self.proc.stdout,
                                            stdout=subprocess.DEVNULL)
                self.proc.stdout.close()
        finally:
            err.close()
            if spec["out"] == "file":
                out.close()
        self.wait_ready()
        self.wait_idle()
        return self

    def wait_idle(self, limit=10.0):
        """Until the tracer's start-up work is over (what it does after
        attaching: reading the sockets already open, seeding owners): its
        CPU time stands (almost: one clock tick) still for 0.4 s, or limit
        seconds pass."""
        deadline = time.monotonic() + limit
        last, still = proc_cpu(self.proc.pid), 0
        while last is not None and still < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            now = proc_cpu(self.proc.pid)
            still = still + 1 if now is not None and now - last <= 0.011 else 0
            last = now

    def wait_ready(self):
        deadline = time.monotonic() + 30
        last, stable = -1, 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("%s exited early: %s" % (self.spec["name"], self.errors()))
            if self.spec["ready"] == "attaching":
                try:
                    with open(self.out_path) as f:
                        if "Attaching" in f.read(4096):
                            time.sleep(0.3)
                            return
                except OSError:
                    pass
            else:
                links, _ = fd_info(self.proc.pid)
                # Ready once the links stop appearing (optional probes too).
                stable = (stable + 1 if links == last and
                          links >= self.spec.get("min_links", 2) else 0)
                last = links
                if stable >= 3:
                    return
            time.sleep(0.05)
        raise BenchError("%s did not attach within 30 s" % self.spec["name"])

    def prog_ids(self):
        return fd_info(self.proc.pid)[1]

    def errors(self):
        try:
            with open(self.err_path) as f:
                lines = [l for l in f.read().splitlines()
                         if l.strip() and "RLIMIT_MEMLOCK" not in l]
        except OSError:
            return ""
        return " / ".join(lines[-3:])

    def stop(self):
        """SIGINT, then reap with wait4 for the tracer's own rusage."""
        if not self.proc:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 60
            while True:
                pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
                if pid:
                    self.proc.returncode = os.waitstatus_to_exitcode(status)
                    self.rusage = ru
                    break
                if time.monotonic() > deadline:
                    self.proc.kill()
                    _, status, ru = os.wait4(self.proc.pid, 0)
                    self.proc.returncode = os.waitstatus_to_exitcode(status)
                    raise BenchError("%s did not stop on SIGINT" % self.spec["name"])
                time.sleep(0.02)
        if self.cat:
            self.cat.wait(timeout=60)

    def kill(self):
        for p in (self.proc, self.cat):
            if p and p.poll() is None:
                p.kill()
                p.wait()

    def result(self):
        """Events delivered and lost, CPU seconds, peak RSS in MB."""
        ok_codes = (0, -signal.SIGINT, 130)
        if self.proc.returncode not in ok_codes:
            raise BenchError("%s failed (exit %s): %s" % (self.spec["name"],
                             self.proc.returncode, self.errors()))
        events = lost = None
        try:
            with open(self.err_path) as f:
                m = None
                for m in SUMMARY_RE.finditer(f.read()):
                    pass
                if m:
                    events, lost = int(m.group(1)), int(m.group(2))
        except OSError:
            pass
        if events is None and self.spec["kind"] == "bpftrace" and self.spec["out"] == "file":
            events = count_lines(self.out_path, skip_prefix="Attaching")
        if events is None and self.spec["kind"] == "libbpf-tools":
            # Lines written, but the column header.
            events = max(0, count_lines(self.out_path) - 1)
            try:
                with open(self.err_path) as f:
                    lost = sum(int(n) for n in PEER_LOST_RE.findall(f.read()))
            except OSError:
                pass
        ru = self.rusage
        return {"events": events, "lost": lost,
                "cpu": (ru.ru_utime + ru.ru_stime) if ru else None,
                "sys": ru.ru_stime if ru else None,
                "rss_mb": ru.ru_maxrss / 1024 if ru else None}


def count_lines(path, skip_prefix=None):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if skip_prefix and line.startswith(skip_prefix.encode()):
                continue
            n += 1
    return n


def with_tracer(spec, workdir, fn):
    """Run fn(tracer or None) with the tracer attached; return (fn(), result)."""
    if spec["kind"] == "none":
        return fn(None), None
    tr = Tracer(spec, workdir)
    try:
        tr.start()
        value = fn(tr)
        tr.stop()
        return value, tr.result()
    finally:
        tr.kill()


class Features:
    def __init__(self, cfg):
        ts = cfg.tcpscope
        help_text = ""
        try:
            help_text = subprocess.run([ts, "trace", "--help"], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True,
                                       timeout=30).stdout
        except OSError:
            pass
        self.timeline = "--timeline" in help_text
        self.no_drops = "--no-drops" in help_text
        self.no_accept = "--no-accept" in help_text
        self.record = works([ts, "record", "--help"])
        self.report = works([ts, "report", "--help"])
        # The peers are required (preflight) unless left out by option.
        self.bpftrace = not cfg.no_bpftrace
        self.libbpf_tools = [t for t in LIBBPF_TOOLS if not cfg.no_libbpf_tools]
        self.floor = os.access(cfg.floor, os.X_OK)
        self.snapshot_script = os.path.join(HERE, "snapshot.sh")
        self.snapshot = os.path.exists(self.snapshot_script)
        # Debian's linux-perf (scripts/setup.sh --bench): the profiles,
        # where perf may sample every CPU (not in every container).
        self.perf = bool(shutil.which("perf")) and perf_works()
        # How tcpscope learns accept()'s owner here: fexit where the kernel
        # allows it, else the syscalls: tracepoints (tcpscope probe).
        self.accept = "?"
        try:
            pr = json.loads(subprocess.run([ts, "probe", "--json"], stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True,
                                           timeout=120).stdout)
            self.accept = pr.get("accept_owner_why") or pr.get("accept_owner", "?")
        except (OSError, ValueError, subprocess.SubprocessError):
            pass

    def describe(self):
        have = lambda b: "yes" if b else "no (skipped)"
        return [("trace --timeline", have(self.timeline)), ("record -w", have(self.record)),
                ("report", have(self.report)), ("bpftrace", have(self.bpftrace)),
                ("libbpf-tools (%s)" % ", ".join(t for t, _ in LIBBPF_TOOLS),
                 have(self.libbpf_tools)),
                ("scripts/bench/snapshot.sh", have(self.snapshot)),
                ("perf (where the CPU went)", have(self.perf)),
                ("tcpscope's accept() programs", self.accept)]


LEAN_NAME = "floor + lean record (no per-socket state)"
NOACCEPT_NAME = "tcpscope trace --no-accept > /dev/null"


def tracer_specs(cfg, feat, workdir):
    ts = cfg.tcpscope
    specs = [{"key": "none", "name": "no tracer", "kind": "none"}]
    if feat.floor:
        specs.append({"key": "floor", "name": "floor (empty tp_btf programs)", "kind": "floor",
                      "argv": [cfg.floor], "out": "null", "ready": "links"})
        # What any tracer that reports each state change pays at least:
        # a ring record per event, and per-socket state (as tcpscope).
        specs.append({"key": "floorstore", "name": "floor + 96-byte ring record + socket storage",
                      "kind": "floor", "argv": [cfg.floor, "--storage", "96"], "out": "null",
                      "ready": "links", "min_links": 1})
        # The same state in a preallocated LRU hash by socket address:
        # nothing allocated or freed per socket.
        specs.append({"key": "floorlru", "name": "floor + 96-byte ring record + LRU hash",
                      "kind": "floor", "argv": [cfg.floor, "--lru", "96"], "out": "null",
                      "ready": "links", "min_links": 1})
        # ... and in a plain preallocated hash (tcpscope's btf variant).
        specs.append({"key": "floorhash", "name": "floor + 96-byte ring record + hash",
                      "kind": "floor", "argv": [cfg.floor, "--hash", "96"], "out": "null",
                      "ready": "links", "min_links": 1})
        # No per-socket state at all: what tcpscope reads per event,
        # user space joining the rest (issue 17).
        specs.append({"key": "floorlean", "name": LEAN_NAME, "kind": "floor",
                      "argv": [cfg.floor, "--lean", "96"], "out": "null", "ready": "links",
                      "min_links": 2})
    specs.append({"key": "trace", "name": "tcpscope trace > /dev/null", "kind": "tcpscope",
                  "argv": [ts, "trace"], "out": "null", "ready": "links"})
    if cfg.baseline:
        specs.append({"key": "baseline", "name": "baseline: %s trace > /dev/null" %
                      cfg.baseline_name, "kind": "tcpscope",
                      "argv": [cfg.baseline, "trace"], "out": "null", "ready": "links"})
    if feat.no_drops:
        # The drop program's cost: the same tracer without it (the issue
        # wants the difference within 2 % of the churn rate).
        specs.append({"key": "nodrops", "name": "tcpscope trace --no-drops > /dev/null",
                      "kind": "tcpscope", "argv": [ts, "trace", "--no-drops"], "out": "null",
                      "ready": "links"})
    if feat.no_accept and feat.accept.startswith("syscalls"):
        # Where the kernel refuses fexit (this machine), accept()'s owner
        # comes from syscalls: tracepoints, which put every system call of
        # the machine on the slow path: the same tracer without them shows
        # what that takes from the connection rate (kernels that allow
        # fexit pay one program run an accept() instead).
        specs.append({"key": "noaccept", "name": NOACCEPT_NAME, "kind": "tcpscope",
                      "argv": [ts, "trace", "--no-accept"], "out": "null", "ready": "links"})
    specs.append({"key": "json", "name": "tcpscope trace --json > file", "kind": "tcpscope",
                  "argv": [ts, "trace", "--json"], "out": "file", "ready": "links"})
    if feat.timeline:
        specs.append({"key": "timeline", "name": "tcpscope trace --timeline, to a pipe",
                      "kind": "tcpscope", "argv": [ts, "trace", "--timeline"],
                      "out": "pipe", "ready": "links"})
    if feat.record:
        specs.append({"key": "record", "name": "tcpscope record -w file", "kind": "tcpscope",
                      "argv": [ts, "record", "--force", "-w", os.path.join(workdir, "rate.tscap")],
                      "out": "null", "ready": "links"})
    if feat.bpftrace:
        specs.append({"key": "bpftrace", "name": "bpftrace one-liner > file", "kind": "bpftrace",
                      "argv": ["bpftrace", "-e", BPFTRACE_SCRIPT], "out": "file",
                      "ready": "attaching"})
    for tool, name in feat.libbpf_tools:
        specs.append({"key": tool, "name": name, "kind": "libbpf-tools",
                      "argv": [shutil.which(tool) or tool], "out": "file", "ready": "links"})
    return specs


# ---- the measurements ----

WARMUP = 2


def bench_rate(cfg, ns, specs, workdir, mode, rounds):
    """Alternating rounds: every tracer once per round.  Each round starts
    one tracer further along, so that no tracer always runs right after the
    same neighbour (or first, on a cold machine).  Before them, WARMUP
    untraced runs that count for nothing: the namespace's TIME_WAIT
    sockets reach the level every later run finds (tcp_max_tw_buckets;
    runs of a fresh namespace were 15-20 % slower while it filled)."""
    runs = {s["key"]: [] for s in specs}
    # --quick measures nothing: its runs are too short to fill anything.
    for _ in range(0 if cfg.quick else WARMUP):
        churn(cfg, ns, mode=mode)
    for r in range(rounds):
        k = r % len(specs)
        for s in specs[k:] + specs[:k]:
            value, res = with_tracer(s, workdir, lambda tr: timed_churn(cfg, ns, tr, mode))
            runs[s["key"]].append((value, res))
        log("rate %s: round %d/%d done" % (mode, r + 1, rounds))
    return runs


def refused_once(ns):
    """One connection refused in the namespace: the SYN finds no socket
    and the kernel drops it (NO_SOCKET), which a tracer of drops sees."""
    code = ("import socket\n"
            "s = socket.socket()\n"
            "try:\n"
            "    s.connect(('127.0.0.1', 9))\n"
            "except OSError:\n"
            "    pass\n")
    subprocess.run(ns.exec_argv([sys.executable, "-c", code]), timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed_churn(cfg, ns, tr, mode):
    """churn(), with the CPU the tracer had used when it started (its
    start-up: loading, attaching, the snapshot of open connections).
    Before it, one dropped SYN and a pause: what a tracer does once, at
    the first event of a kind (tcpscope reads /proc/kallsyms at the first
    drop, ~50 ms), counts as start-up, not as a cost per event."""
    if tr:
        refused_once(ns)
        time.sleep(0.3)
    cpu0 = proc_cpu(tr.proc.pid) if tr else None
    sys0 = proc_cpu(tr.proc.pid, system_only=True) if tr else None
    c = churn(cfg, ns, mode=mode)
    c["cpu0"] = cpu0
    c["sys0"] = sys0
    return c


def read_prog_stats(ids):
    total_ns = total_cnt = 0
    per = []
    for pid in sorted(ids):
        try:
            d = json.loads(run(["bpftool", "prog", "show", "id", str(pid), "--json"]).stdout)
        except (subprocess.CalledProcessError, ValueError):
            continue
        n, t = d.get("run_cnt", 0), d.get("run_time_ns", 0)
        total_ns += t
        total_cnt += n
        per.append((d.get("name", "?"), t, n))
    return total_ns, total_cnt, per


def state_cost(per):
    """(run_time_ns, events) on sock:inet_sock_set_state from a tracer's
    programs: the sum of tcpscope's programs attached there (btf_state and
    btf_state_nested both run on every event), per event, and so of the
    floor's (lean_state and lean_check); for a peer, whose programs
    PROGRAMS does not know, the program that ran most.  What tcpscope
    spends on tcp:tcp_destroy_sock (deleting a socket's kept state, which
    the state programs would otherwise pay for) is added to the state
    events' time, so that a cost moved out of them still counts."""
    hooks = {p[0][:15]: p[1] for p in PROGRAMS}
    hooks.update((name[:15], "tp_btf sock:inet_sock_set_state")
                 for name in FLOOR_STATE_PROGRAMS)
    state = [(t, n) for name, t, n in per
             if hooks.get(name[:15], "").endswith("sock:inet_sock_set_state")]
    kept = sum(t for name, t, _ in per
               if hooks.get(name[:15], "").endswith("tcp:tcp_destroy_sock"))
    if state:
        return sum(t for t, _ in state) + kept, max(n for _, n in state)
    _, t, n = max(per, key=lambda p: p[2], default=("", 0, 0))
    return t, n


def syscall_ns(cfg):
    """ns per getppid() (scripts/bench/syscost.c): what every system call
    of the machine pays.  A program on a syscalls:* tracepoint puts every
    task on the system-call slow path while it is attached, a cost that no
    program's run time includes."""
    got = []
    # The least of seven short runs: on this VM a run now and then takes
    # 20-25 % longer with no tracer at all (the host's noise, which only
    # ever adds).
    for _ in range(7):
        p = run([cfg.syscost, str(cfg.syscost_calls // 7)])
        m = re.search(r"^syscost: ns=(\S+)$", p.stdout, re.M)
        if not m:
            raise BenchError("syscost printed no figure: %s" % p.stdout.strip())
        got.append(float(m.group(1)))
    return min(got)


def bench_kernel_cost(cfg, ns, sysctls, specs, workdir, rounds, syscalls):
    """Per tracer and round: (ns per event of the program on
    inet_sock_set_state, [(program, run_time_ns, run_cnt)], connections).
    syscalls gets, per tracer (and "none"), the ns of a system call while
    it was attached, once per round."""
    runs = {s["key"]: [] for s in specs}
    sysctls.set(STATS_SYSCTL, "1")
    for r in range(rounds):
        syscalls.setdefault("none", []).append(syscall_ns(cfg))
        for s in specs:
            def body(tr):
                c = churn(cfg, ns)
                return c["conns"], read_prog_stats(tr.prog_ids()), syscall_ns(cfg)
            (conns, (t, n, per), sc), _ = with_tracer(s, workdir, body)
            syscalls.setdefault(s["key"], []).append(sc)
            # The churn's events all go to the programs on
            # inet_sock_set_state.
            t, n = state_cost(per)
            if n:
                runs[s["key"]].append((t / n, per, conns))
        log("kernel cost: round %d/%d done" % (r + 1, rounds))
    return runs


def count_opens_json(path):
    """Opens (CLOSE->SYN_SENT, LISTEN->SYN_RECV), events, lost in JSON lines."""
    active = passive = events = lost = 0
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            ev = r.get("event")
            if ev == "lost":
                lost += r.get("count", 0)
            elif ev == "state":
                events += 1
                if r.get("from") == "CLOSE" and r.get("to") == "SYN_SENT":
                    active += 1
                elif r.get("from") == "LISTEN" and r.get("to") == "SYN_RECV":
                    passive += 1
            elif ev in ("retransmit", "reset", "synack_retransmit"):
                events += 1
    return active, passive, events, lost


def bench_losses(cfg, ns, feat, workdir):
    ts = cfg.tcpscope
    nsopt = ["--netns", str(ns.inode)]
    cases = [("trace --json, default ring", [ts, "trace", "--json"] + nsopt)]
    for size in cfg.small_rings:
        cases.append(("trace --json, --ring-size %s" % size,
                      [ts, "trace", "--json", "--ring-size", size] + nsopt))
    rows = []
    for name, argv in cases:
        spec = {"key": "loss", "name": name, "kind": "tcpscope", "argv": argv,
                "out": "file", "ready": "links"}
        c, res = with_tracer(spec, workdir, lambda tr: churn(cfg, ns))
        a, p, events, lost_lines = count_opens_json(os.path.join(workdir, "out.loss"))
        rows.append({"name": name, "rate": c["rate"], "expected": c["active"] + c["passive"],
                     "seen": a + p, "events": events,
                     "lost": res["lost"] if res["lost"] is not None else lost_lines})
    if feat.record and feat.report:
        cap = os.path.join(workdir, "loss.tscap")
        spec = {"key": "lossrec", "name": "record -w", "kind": "tcpscope",
                "argv": [ts, "record", "--force", "-w", cap] + nsopt, "out": "null", "ready": "links"}
        c, res = with_tracer(spec, workdir, lambda tr: churn(cfg, ns))
        js = os.path.join(workdir, "loss.json")
        with open(js, "w") as out:
            subprocess.run([ts, "report", "--json", cap], stdout=out,
                           stderr=subprocess.DEVNULL, timeout=600)
        a, p, events, lost_lines = count_opens_json(js)
        rows.append({"name": "record -w, default ring", "rate": c["rate"],
                     "expected": c["active"] + c["passive"], "seen": a + p, "events": events,
                     "lost": res["lost"] if res["lost"] is not None else lost_lines})
    return rows


def bench_capture(cfg, feat, workdir):
    """In a namespace of its own: a capture starts with a snapshot of the
    sockets already there, and the churn namespace is full of TIME_WAIT
    sockets by now, which would count as bytes of the events."""
    if not feat.record:
        return None
    with Netns("cap") as ns:
        return capture_in(cfg, ns, feat, workdir)


def capture_in(cfg, ns, feat, workdir):
    ts = cfg.tcpscope
    cap = os.path.join(workdir, "big.tscap")
    # About ten events per connection.
    conns = cfg.capture_events // 10 + 1000
    spec = {"key": "cap", "name": "record -w (capture size)", "kind": "tcpscope",
            "argv": [ts, "record", "--force", "-w", cap, "--netns", str(ns.inode)], "out": "null",
            "ready": "links"}
    c, res = with_tracer(spec, workdir,
                         lambda tr: churn(cfg, ns, count=conns, ms=cfg.capture_ms))
    size = os.path.getsize(cap)
    events = res["events"]
    out = {"conns": c["conns"], "events": events, "bytes": size,
           "bytes_per_event": size / events if events else None, "lost": res["lost"]}
    if feat.report:
        times = []
        for _ in range(cfg.report_rounds):
            t0 = time.monotonic()
            p = subprocess.run([ts, "report", cap], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=600)
            times.append(time.monotonic() - t0)
            if p.returncode != 0:
                raise BenchError("report failed: %s" % p.stderr.strip())
        out["report_s"] = median(times)
        out["report_eps"] = events / out["report_s"] if events else None
    return out


def proc_cpu(pid, system_only=False):
    """CPU seconds (user + system, or system alone) a live process has used
    so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[12]) if system_only else int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class Holders:
    """scripts/bench/sockhold.py in a namespace: n loopback connections held
    open (both ends) by as many processes as the fd limit needs (20000 per
    process here: 9000 connections, 18000 fds each).  The group is killed
    on the way out, whatever happens."""

    PER_PROC = 9000

    def __init__(self, ns, n, workdir):
        self.ns, self.n, self.proc = ns, n, None
        self.ready = os.path.join(workdir, "held.%d" % n)

    def __enter__(self):
        procs = max(1, -(-self.n // self.PER_PROC))
        argv = self.ns.exec_argv([sys.executable, os.path.join(HERE, "sockhold.py"),
                                  "--conns", str(self.n), "--procs", str(procs),
                                  "--ready", self.ready, "--timeout", "1200"])
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while not os.path.exists(self.ready):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("could not hold %d connections open: %s" % (
                        self.n, self.proc.stderr.read().decode(errors="replace")[-300:]
                        if self.proc.poll() is not None else "timed out"))
                time.sleep(0.1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc.stderr.close()
            self.proc = None


def scale_point(cfg, ns, workdir, rounds, **kw):
    """No tracer and `trace > /dev/null`, alternating, `rounds` runs each,
    kernel statistics on for both; churn options in kw (rate, cpus).  The
    tracer's CPU is counted while churn runs only (not its start, which
    seeds every connection already open)."""
    none, traced = [], []
    argv = [cfg.tcpscope, "trace"]
    if kw.get("cpus"):
        argv = ["taskset", "-c", kw["cpus"]] + argv
    spec = {"key": "scale", "name": "tcpscope trace > /dev/null", "kind": "tcpscope",
            "argv": argv, "out": "null", "ready": "links"}
    for _ in range(rounds):
        none.append(churn(cfg, ns, **kw))

        def body(tr):
            cpu0 = proc_cpu(tr.proc.pid)
            c = churn(cfg, ns, **kw)
            cpu1 = proc_cpu(tr.proc.pid)
            return c, cpu1 - cpu0, read_prog_stats(tr.prog_ids())
        (c, cpu, (_, _, per)), res = with_tracer(spec, workdir, body)
        t, n = state_cost(per)
        traced.append({"rate": c["rate"], "secs": c["secs"], "ns": t / n if n else None,
                       "cpu": cpu, "events": res["events"] or 0,
                       # Ten events per connection: the churn's own, in
                       # the window measured.
                       "churn_events": 10 * c["conns"]})
    base = median([c["rate"] for c in none])
    rate = median([t["rate"] for t in traced])
    cpu = sum(t["cpu"] for t in traced)
    ev = sum(t["churn_events"] for t in traced)
    return {"none": base, "traced": rate, "ratio": rate / base if base else None,
            "ns": median([t["ns"] for t in traced if t["ns"]]),
            "cpu_per_m": cpu / (ev / 1e6) if ev else None,
            "cpu_share": cpu / sum(t["secs"] for t in traced),
            "events_s": 10 * rate}


def bench_scale(cfg, sysctls, workdir):
    """Cost against connections held open, CPUs, and the event rate; each
    in a namespace of its own (the held sockets must not stay in the
    others')."""
    out = {"held": [], "cpus": [], "rate": []}
    sysctls.set(STATS_SYSCTL, "1")
    for n in cfg.scale_held:
        with Netns("held") as ns, Holders(ns, n, workdir):
            out["held"].append((n, scale_point(cfg, ns, workdir, cfg.scale_rounds)))
        log("scale: %d connections held: done" % n)
    with Netns("cpu") as ns:
        for cpus in cfg.scale_cpus:
            out["cpus"].append((cpus, scale_point(cfg, ns, workdir, cfg.scale_rounds,
                                                  cpus=cpus)))
        log("scale: CPUs done")
        for r in cfg.scale_rates:
            out["rate"].append((r, scale_point(cfg, ns, workdir, cfg.scale_rounds, rate=r)))
        log("scale: event rates done")
    return out


# perf's sampling rate for the profiles, per CPU.
PERF_FREQ = 999
# Where an idle CPU's samples land (the halt or the idle loop).
IDLE_SYMS = {"pv_native_safe_halt", "native_safe_halt", "default_idle", "default_idle_call",
             "acpi_safe_halt", "acpi_idle_do_entry", "mwait_idle_with_hints", "intel_idle",
             "cpu_idle_poll", "poll_idle", "cpuidle_enter_state", "do_idle"}
# The kernel's code that runs for a tracer beyond its programs: tracepoint
# dispatch, the programs' entry, maps, the ring, helpers (the clock, reads
# of kernel memory), the system-call slow path a syscalls: tracepoint puts
# every task on.  By name, not by absence from the untraced profile: a
# rare function that one run's samples happened to miss is not the tracer's.
OWN_KERNEL_RE = re.compile(
    r"(_*bpf_|_*htab_|lookup_(nulls_)?elem_raw|_*pcpu_freelist|_*ringbuf|__traceiter_|"
    r"perf_syscall_|ftrace_syscall_|syscall_trace_enter|syscall_exit_work|trace_call_bpf|"
    r"perf_trace_|perf_tp_event|"
    r"copy_from_kernel_nofault|ktime_get_mono_fast_ns|_*sk_storage|_*local_storage)")
PROFILE_KEYS = ("trace", "noaccept", "json", "timeline", "record")


def perf_samples(path):
    """[[comm, symbol, samples]] of a perf.data (symbols as '[k] name',
    '[.] name'), a list so that --raw can keep it."""
    out = run(["perf", "report", "-i", path, "--no-children", "--sort", "comm,sym",
               "-F", "sample,comm,sym", "-t", "|", "--stdio"]).stdout
    rows = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        parts = line.split("|", 2)
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        key = (parts[1].strip(), parts[2].strip())
        rows[key] = rows.get(key, 0) + int(parts[0])
    return [[comm, sym, n] for (comm, sym), n in sorted(rows.items())]


def profiled_churn(cfg, ns, workdir, mode):
    """One churn under `perf record -a`: its figures, and the samples of
    every CPU while it ran."""
    data = os.path.join(workdir, "perf.data")
    c = churn(cfg, ns, mode=mode, wrap=perf_record(data, PERF_FREQ))
    c["samples"] = perf_samples(data)
    os.unlink(data)
    return c


def bench_profile(cfg, ns, specs, workdir):
    """Per churn mode, cfg.profile_rounds rounds of: an untraced profile,
    then one for each of tcpscope's rate rows; and a last untraced one.
    Each tracer's rounds, and the untraced runs, are summed: one run's
    CPU per connection wanders by several per cent."""
    out = {}
    todo = [s for s in specs if s["key"] in PROFILE_KEYS]
    for mode in (cfg.mode, "client-close" if cfg.mode == "server-close" else "server-close"):
        for _ in range(0 if cfg.quick else WARMUP):
            churn(cfg, ns, mode=mode)
        # The tracer's processes: tcpscope, and cat reading its pipe.
        got = {"none": [], "freq": PERF_FREQ,
               "comms": {s["key"]: ["tcpscope"] + (["cat"] if s["out"] == "pipe" else [])
                         for s in todo}}
        for _ in range(cfg.profile_rounds):
            got["none"].append(profiled_churn(cfg, ns, workdir, mode))
            for spec in todo:
                c, _ = with_tracer(spec, workdir,
                                   lambda tr: profiled_churn(cfg, ns, workdir, mode))
                got.setdefault(spec["key"], []).append(c)
        got["none"].append(profiled_churn(cfg, ns, workdir, mode))
        out[mode] = got
        log("profile %s done" % mode)
    return out


def profile_split(none, traced, comms, freq):
    """Where traced churns' CPU went, against the untraced runs', in
    microseconds per connection: the untraced work (c0, idle left out),
    the traced (c1), and the difference split into the tracer's BPF
    programs (JIT-compiled bpf_prog_*), the rest of its work in the kernel
    (OWN_KERNEL_RE: dispatch, maps, the ring, helpers, the system-call
    slow path), the tracer's processes (comms: tcpscope, and
    cat reading its pipe), idle, and the rest: the kernel's and the
    churn's own work taking more (or less) per connection.  cap: the room
    the tracer's own work leaves a churn that keeps every CPU busy,
    c0 / (c0 + programs + kernel + process)."""
    def per_conn(runs, skip_comms):
        syms, idle, proc, conns = {}, 0.0, 0.0, sum(r["conns"] for r in runs)
        if not conns:
            return None
        unit = 1e6 / freq / conns
        for r in runs:
            for comm, sym, n in r["samples"]:
                if comm in skip_comms:
                    proc += n * unit
                elif sym.split()[-1] in IDLE_SYMS:
                    idle += n * unit
                else:
                    syms[sym] = syms.get(sym, 0.0) + n * unit
        return syms, idle, proc
    base, got = per_conn(none, ()), per_conn(traced, set(comms))
    if not base or not got:
        return None
    (b, b_idle, _), (t, t_idle, proc) = base, got
    progs = kern = rest = 0.0
    for sym in set(b) | set(t):
        tb, tt = b.get(sym, 0.0), t.get(sym, 0.0)
        name = sym.split()[-1] if sym.startswith("[k]") else ""
        if name.startswith("bpf_prog_"):
            progs += tt - tb
        elif OWN_KERNEL_RE.match(name):
            kern += tt - tb
        else:
            rest += tt - tb
    c0 = sum(b.values())
    own = progs + kern + proc
    return {"c0": c0, "c1": sum(t.values()) + proc, "programs": progs, "kernel": kern,
            "process": proc, "idle": t_idle - b_idle, "rest": rest, "own": own,
            "cap": c0 / (c0 + own) if c0 + own > 0 else None}


def bench_snapshot(cfg, feat, workdir):
    if not feat.snapshot:
        return None
    env = dict(os.environ, TCPSCOPE=cfg.tcpscope, TS_BUILD=cfg.build,
               TS_BENCH_QUICK="1" if cfg.quick else "0")
    # Its table comes back on stdout; the file it also writes stays in
    # the work directory (never the repository's docs from a test run).
    argv = ["bash", feat.snapshot_script, "--out", os.path.join(workdir, "snapshot.md")]
    if cfg.quick:
        argv += ["--sizes", "200", "--runs", "1"]
    p = subprocess.run(argv, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=900)
    if p.returncode != 0:
        raise BenchError("snapshot.sh failed: %s" % p.stderr.strip()[-500:])
    return p.stdout.strip()


# ---- the report ----

def fmt(v, spec="%.0f", none="–"):
    return none if v is None else spec % v


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def rate_stats(runs, key, base):
    """One tracer's figures in one churn mode: median rate, its share of
    the untraced rate, CPU per million events after start-up (and the
    system part of it), median start-up CPU, RSS, events and losses."""
    rates = [v["rate"] for v, _ in runs[key]]
    med = median(rates)
    both = [(v, r) for v, r in runs[key] if r and r["cpu"] is not None
            and r["events"] is not None]
    # Per event: what the tracer used after its start-up.
    cpu = sum(r["cpu"] - (v.get("cpu0") or 0) for v, r in both)
    evs = sum(r["events"] for _, r in both)
    # The kernel's share of it (system time: reading the ring, writing
    # the output): what the program's own code cannot cut.
    sys_both = [(v, r) for v, r in both if r.get("sys") is not None]
    sys_cpu = sum(r["sys"] - (v.get("sys0") or 0) for v, r in sys_both)
    res = [r for _, r in runs[key] if r]
    evl = [r["events"] for r in res if r["events"] is not None]
    secs = sum(v["secs"] for v, _ in both)
    return {"rate": med,
            # The tracer's CPU while the churn ran, in CPUs (1.0: one whole
            # CPU): what it took from a churn that keeps every CPU busy.
            "cpus": cpu / secs if secs else None,
            "eps": evs / secs if secs else None,
            "share": med / base if med is not None and base else None,
            "min": min(rates) if rates else None, "max": max(rates) if rates else None,
            "cpu_per_m": cpu / (evs / 1e6) if evs else None,
            "sys_per_m": sys_cpu / (evs / 1e6) if evs and len(sys_both) == len(both)
            else None,
            "start": median([v["cpu0"] for v, _ in both if v.get("cpu0") is not None]),
            "rss": max((r["rss_mb"] for r in res if r["rss_mb"] is not None), default=None),
            "events": sum(evl) if evl else None,
            "lost": sum(r["lost"] for r in res if r["lost"] is not None) if res else None}


def rate_table(specs, runs):
    base = median([v["rate"] for v, _ in runs["none"]])
    rows = []
    for s in specs:
        a = rate_stats(runs, s["key"], base)
        rows.append(["`%s`" % s["name"] if s["kind"] != "none" else s["name"],
                     fmt(a["rate"]), "%.1f %%" % (100 * a["share"]),
                     "%s–%s" % (fmt(a["min"]), fmt(a["max"])),
                     fmt(a["cpu_per_m"], "%.2f"), fmt(a["sys_per_m"], "%.2f"),
                     fmt(a["start"], "%.2f"), fmt(a["rss"], "%.1f"),
                     fmt(a["events"]), fmt(a["lost"])])
    return table(["tracer", "conn/s (median)", "vs no tracer", "range",
                  "tracer CPU s / M events", "of it system", "start-up CPU s", "peak RSS MB", "events",
                  "lost"], rows)


def cost_table(specs, runs):
    floor = median([c[0] for c in runs.get("floor", [])])
    rows = []
    for s in specs:
        costs = [c[0] for c in runs.get(s["key"], [])]
        if not costs:
            continue
        med = median(costs)
        progs = {}
        for _, per, _ in runs[s["key"]]:
            for name, t, n in per:
                a = progs.setdefault(name, [0, 0])
                a[0] += t
                a[1] += n
        detail = ", ".join("%s %.0f (%d)" % (n, t / c, c)
                           for n, (t, c) in sorted(progs.items()) if c)
        rows.append(["`%s`" % s["name"], fmt(med, "%.0f"),
                     fmt(med / floor if floor else None, "%.1f×"), detail])
    return table(["tracer", "ns per event (median)", "vs floor",
                  "all programs (ns/run, runs)"], rows)


def syscall_table(specs, sc):
    """What one system call (getppid()) took while each tracer was
    attached, against no tracer, medians of the cost rounds."""
    none = median(sc.get("none", []))
    rows = [["no tracer", fmt(none, "%.0f"), "–"]] if none else []
    for s in specs:
        v = median(sc.get(s["key"], []))
        if v is None:
            continue
        rows.append(["`%s`" % s["name"], fmt(v, "%.0f"),
                     ("%+.0f ns (%+.0f %%)" % (v - none, 100 * (v - none) / none))
                     if none else "–"])
    return table(["tracer", "ns per getppid()", "vs no tracer"], rows)


def program_table(runs, keys):
    """One row per BPF program of the tcpscope runs in keys: PROGRAMS'
    order, then any program PROGRAMS does not know yet; a program of
    PROGRAMS that no run loaded says so (another variant's, or refused
    here: fexit where the kernel allows no trampolines)."""
    acc = {}
    for key in keys:
        for _, per, conns in runs.get(key, []):
            for name, t, n in per:
                a = acc.setdefault(name, {"per_run": [], "t": 0, "n": 0, "conns": 0})
                if n:
                    a["per_run"].append(t / n)
                a["t"] += t
                a["n"] += n
                a["conns"] += conns
    known = {p[0][:15]: p for p in PROGRAMS}
    order = sorted(acc, key=lambda n: (0, PROGRAMS.index(known[n[:15]])) if n[:15] in known
                   else (1, n))
    rows = []
    seen = {n[:15] for n in acc}
    missing = [p for p in PROGRAMS if p[0][:15] not in seen] if acc else []
    for name in order:
        a = acc[name]
        _, hook, what = known.get(name[:15], (name, "?", "(not in bench.py's PROGRAMS yet)"))
        rows.append(["`%s`" % name, hook, what, fmt(a["n"] / a["conns"] if a["conns"] else None,
                                                     "%.2f"),
                     fmt(median(a["per_run"]), "%.0f"),
                     fmt(a["t"] / a["conns"] if a["conns"] else None, "%.0f")])
    for name, hook, what in missing:
        rows.append(["`%s`" % name, hook, what, "not loaded here", "–", "–"])
    return table(["program", "attached to", "runs on", "runs per connection",
                  "ns per run (median)", "ns per connection"], rows)


def scale_table(first, points, label):
    rows = [[label(k), fmt(p["none"]), fmt(p["traced"]),
             fmt(100 * p["ratio"] if p["ratio"] else None, "%.1f %%"),
             fmt(p["events_s"]), fmt(p["ns"]), fmt(p["cpu_per_m"], "%.2f"),
             fmt(100 * p["cpu_share"], "%.1f %%")] for k, p in points]
    return table([first, "conn/s, no tracer", "conn/s, `trace`", "ratio", "events/s",
                  "kernel ns/event", "tracer CPU s / M events", "tracer CPU, % of one CPU"],
                 rows)


def profiles(results):
    """{mode: {key: profile_split()}} of the run's profiles."""
    out = {}
    for mode, got in (results.get("profile") or {}).items():
        out[mode] = {}
        for key, c in got.items():
            if key in ("none", "comms", "freq"):
                continue
            split = profile_split(got["none"], c, got["comms"].get(key, ["tcpscope"]),
                                  got["freq"])
            if split:
                out[mode][key] = split
    return out


def profile_table(results, names):
    """A table per mode: where a traced churn's CPU went, per connection."""
    L = []
    for mode, got in profiles(results).items():
        if not got:
            continue
        c0 = next(iter(got.values()))["c0"]
        rows = [["no tracer", "%.1f" % c0, "100 %", "–", "–", "–", "–", "–", "–"]]
        for key, p in got.items():
            rows.append(["`%s`" % names.get(key, key), "%.1f" % p["c1"],
                         "%.0f %%" % (100 * p["c1"] / c0) if c0 else "–",
                         "%.1f" % p["programs"], "%.1f" % p["kernel"], "%.1f" % p["process"],
                         "%+.1f" % p["rest"], "%+.1f" % p["idle"],
                         "%.1f %%" % (100 * p["cap"]) if p["cap"] else "–"])
        L += ["%s churn, µs of CPU a connection:" % mode, ""]
        L += table(["tracer", "CPU a connection", "vs untraced", "its BPF programs",
                    "the rest of its kernel work", "its processes",
                    "the kernel's and churn's own work", "idle", "room by the profile"],
                   rows) + [""]
    return L


def loss_table(rows):
    return table(["tracer", "conn/s", "opens expected (kernel)", "opens seen", "events seen",
                  "events lost"],
                 [["`%s`" % r["name"], fmt(r["rate"]), r["expected"], r["seen"], r["events"],
                   fmt(r["lost"])] for r in rows])


# Issue 17's targets.  Per output: (rate-table key, name, the least share
# of the untraced connection rate, the most tracer CPU per million events).
TARGETS = [("trace", "`trace`", 0.95, 0.5), ("json", "`trace --json`", 0.90, 0.5),
           ("timeline", "`trace --timeline`", 0.90, 0.5), ("record", "`record -w`", 0.95, 0.5)]
KERNEL_TARGET = 6.0    # ns per event, times the empty programs'
REPORT_TARGET = 5e6    # `report` events per second
# The floor's steps above the empty programs, measured in the same run:
# what a design pays at least, so the reason a target is out of reach.
# What each keeps of a connection: "bare" nothing (it cannot tell
# connections apart); "lru" a state that an LRU hash hands to new sockets
# once more are open than it holds (an idle long-lived connection
# forgets its owner, handshake and retransmission baseline); "kept" every
# connection's state, with no second program to catch the state changes
# the kernel skipped a program for; "checked" a design complete in both
# (the lean step joins in user space and has its second program).
FLOOR_STEPS = [("floorring96", "a bare 96-byte ring record", "bare"),
               ("floorpcpu", "the same in a ring per CPU", "bare"),
               ("floorlean", "a record with no per-socket state", "checked"),
               ("floorstore", "a record with socket storage", "kept"),
               ("floorlru", "a record with an LRU hash", "lru"),
               ("floorhash", "a record with a preallocated hash", "kept")]
NESTED = "btf_state_nested"


def verdict(states):
    """states is [(mode, "met" | "out" | "not")]: '**met**', 'out of reach
    here' when every mode not met is out of reach, else 'not met'; with
    where it was met."""
    if all(st == "met" for _, st in states):
        return "**met**"
    good = [m for m, st in states if st == "met"]
    head = "out of reach here" if all(st != "not" for _, st in states) else "not met"
    return head + (" (met in %s)" % ", ".join(good) if good else "")


# A run's steal share worth counting under the targets table.
STEAL_NOTE = 0.05


def mode_context(runs, base):
    """What the floor's steps that send a record per state change (what
    every such design pays before its own work) and the untraced runs did
    in one mode's rounds; None without floor steps."""
    none = [v["rate"] for v, _ in runs["none"]]
    idle = [v["idle"] for v, _ in runs["none"] if v.get("idle") is not None]
    ctx = {"none": none, "idle": median(idle) if idle else None,
           "spread": (max(none) - min(none)) / base if len(none) > 1 and base else None}
    steal = [(v["steal"], k, i + 1) for k, rs in runs.items()
             for i, (v, _) in enumerate(rs) if v.get("steal") is not None]
    if steal:
        ctx["steal"] = (median([x for x, _, _ in steal]), max(steal),
                        sum(1 for x, _, _ in steal if x >= STEAL_NOTE), len(steal))
    if runs.get("noaccept"):
        ctx["noaccept"] = rate_stats(runs, "noaccept", base)["share"]
    steps = [(what, rate_stats(runs, k, base)["share"]) for k, what, _ in FLOOR_STEPS
             if runs.get(k)]
    if not steps:
        return ctx
    best, hi = max(steps, key=lambda st: st[1])
    ctx.update({"lo": min(s for _, s in steps), "hi": hi, "best": best,
                "empty": rate_stats(runs, "floor", base)["share"] if runs.get("floor")
                else None})
    return ctx


def context_line(mode, ctx, names=None):
    """The floor and the machine's own noise in one mode's rounds, said
    once under the targets table."""
    if "hi" in ctx:
        text = ("%s: the floor's steps that send a record per change kept %.1f–%.1f %% of "
                "the untraced rate (best: %s)" % (mode, 100 * ctx["lo"], 100 * ctx["hi"],
                                                   ctx["best"]))
        if ctx["empty"] is not None:
            text += ", the empty programs %.1f %%" % (100 * ctx["empty"])
    else:
        text = "%s: no floor steps in this run" % mode
    if ctx["spread"] is not None:
        text += ("; the untraced runs themselves spread %s–%s conn/s (%.0f %% of their "
                 "median)" % (fmt(min(ctx["none"])), fmt(max(ctx["none"])),
                              100 * ctx["spread"]))
    elif ctx["none"]:
        text += "; one untraced run: the machine's own spread unmeasured"
    if ctx["idle"] is not None:
        text += "; they left %.1f %% of the CPUs idle" % (100 * ctx["idle"])
    if ctx.get("steal"):
        mid, (top, key, rnd), many, n = ctx["steal"]
        text += ("; the hypervisor took %.1f %% of the CPUs in the median churn run "
                 "(steal), %.1f %% at most (`%s`, round %d)"
                 % (100 * mid, 100 * top, (names or {}).get(key, key), rnd))
        if many:
            text += ", %d %% or more in %d of %d runs" % (100 * STEAL_NOTE, many, n)
    return text + "."


def rate_bound(ctx, got, extra_ns):
    """The most of the untraced rate a churn that keeps every CPU busy can
    keep beside a tracer, from what the tracer's own work took of the CPUs
    in the same rounds.  Untraced, R0 connections/s at c CPU-seconds each
    fill the CPUs that were not idle: R0 c = N (1 - idle0).  Traced, the
    programs and the tracer process take a share s of the N CPUs, the
    connections at most the rest: R1 c <= N (1 - s).  So R1 / R0 <=
    (1 - s) / (1 - idle0).  s counts only what is measured: the programs'
    time, each run less an empty program's (extra_ns per event: the
    statistics' own clock reads left out; the dispatch is not in it),
    times the tracer's events per second, and the tracer process's CPU;
    what no figure shows (the system-call slow path, caches) only lowers
    the real bound."""
    cores = os.cpu_count() or 1
    if extra_ns is None or not got.get("eps") or got.get("cpus") is None:
        return None
    prog = max(extra_ns, 0) * got["eps"] / 1e9 / cores
    proc = got["cpus"] / cores
    idle = ctx.get("idle") or 0.0
    return {"cap": (1 - prog - proc) / (1 - idle), "prog": prog, "proc": proc,
            "idle": idle, "cores": cores, "eps": got["eps"], "extra": extra_ns,
            "spread": ctx.get("spread")}


def bound_text(b, share, got, least):
    """What the bound says, in bold when it is under the target, and what
    the target would need; least: what the least complete design's state
    programs take an event (each run less an empty program's), for
    comparison."""
    room = 1 - b["proc"] - share * (1 - b["idle"])
    need = (room * b["cores"] * 1e9 / b["eps"]) if room > 0 else None
    head = "room for at most %.1f %%" % (100 * b["cap"])
    text = ("%s (all the programs took %.1f %% of the %d CPUs, each "
            "run less an empty one's: %.0f ns an event × %s events/s; the tracer process "
            "%.1f %%; the untraced runs left %.1f %% idle)"
            % ("**%s**" % head if b["cap"] < share else head, 100 * b["prog"], b["cores"],
               b["extra"], fmt(b["eps"]), 100 * b["proc"], 100 * b["idle"]))
    if got["share"] is not None and got["share"] > b["cap"]:
        text += (" — this run's median is above it: the untraced runs spread %.0f %%"
                 % (100 * b["spread"]) if b.get("spread") is not None else
                 " — this run's median is above it")
    if need is None:
        return text + "; the tracer process alone leaves no room"
    text += ("; %.0f %% needs the programs under %.0f ns an event"
             % (100 * share, need))
    if least is not None and need < least:
        text += (", where the least design that keeps every connection's state and "
                 "catches skipped changes pays %.0f ns in its state programs alone"
                 % least)
    return text


def under_bound(bound, prof, share):
    """Whether the statistics' bound or the profiles' room is under a
    rate target: out of reach here."""
    return bool((bound and bound["cap"] < share) or
                (prof and prof["cap"] is not None and prof["cap"] < share))


def profile_text(p, share):
    """What a profile says of a rate target: the room the tracer's own
    work leaves, in bold when it is under the target."""
    room = "room for at most %.1f %%" % (100 * p["cap"])
    return ("by the profiles (perf), %s (the tracer's own work %.1f µs a "
            "connection beside the untraced %.1f µs: its BPF programs %.1f, the rest of "
            "its kernel work %.1f, its processes %.1f); the kernel's and churn's own work "
            "%+.1f µs, idle %+.1f µs" % (
                "**%s**" % room if p["cap"] < share else room, p["own"], p["c0"],
                p["programs"], p["kernel"], p["process"], p["rest"], p["idle"]))


def rate_reason(ctx, share, got, bound, least, prof=None):
    """Why a rate target was not met, from the same rounds: the bound a
    churn that keeps every CPU busy puts on it, the room the profiles say
    the tracer's own work leaves, whether the floor's best step reaches it
    and how far the untraced runs spread."""
    parts = [bound_text(bound, share, got, least)] if bound else []
    if prof and prof["cap"] is not None:
        parts.append(profile_text(prof, share))
    if ctx.get("noaccept") is not None:
        parts.append("accept()'s owner by the syscalls: tracepoints here (fexit refused), "
                     "which slow every system call: without them (`trace --no-accept`) "
                     "%.1f %%" % (100 * ctx["noaccept"]))
    if under_bound(bound, prof, share):
        return "; ".join(parts)
    if "hi" in ctx:
        parts.append("**out of the floor's reach** (its best step %.1f %%)" % (100 * ctx["hi"])
                     if ctx["hi"] < share else
                     "the floor's best step reaches it (%.1f %%)" % (100 * ctx["hi"]))
    parts.append("the untraced runs spread %.0f %%" % (100 * ctx["spread"])
                 if ctx["spread"] is not None else "one untraced run: the spread unmeasured")
    return "; ".join(parts)


def above_bound(ctx, bound, prof):
    """A median that reached its target above the room a bound leaves:
    which bound, and the untraced runs' spread it landed within."""
    rooms = []
    if bound:
        rooms.append("%.1f %% by the kernel statistics" % (100 * bound["cap"]))
    if prof and prof["cap"] is not None:
        rooms.append("%.1f %% by the profiles" % (100 * prof["cap"]))
    spread = ("the untraced runs spread %.0f %%" % (100 * ctx["spread"])
              if ctx.get("spread") is not None else "one untraced run: the spread unmeasured")
    return ("met by the median, above the room the tracer's measured work leaves (%s): "
            "the medians land within the machine's noise (%s)" % (", ".join(rooms), spread))


def programs_extra_ns(cost, key, empty):
    """ns per state event that a tracer's programs ran beyond what the
    statistics themselves add (median of its cost rounds): every program
    (the state programs and those that run once a connection or a socket:
    accept(), the drop program, tcp_destroy_sock), each run less the empty
    program's time (empty ns).  An empty program's measured run is almost
    all the statistics' own two clock reads, which a run without them
    does not pay; the dispatch around a run is outside the timed window
    and so in neither."""
    got = []
    for _, per, _ in cost.get(key, []):
        _, n = state_cost(per)
        if n:
            got.append(sum(max(t - c * empty, 0) for _, t, c in per) / n)
    return median(got) if got else None


def nested_ns(cost):
    """ns per run of tcpscope's second program on inet_sock_set_state
    (median of the `trace` cost rounds), None when it did not run."""
    got = [t / n for _, per, _ in cost.get("trace", []) for name, t, n in per
           if name[:15] == NESTED[:15] and n]
    return median(got) if got else None


def kernel_reason(cost, floor):
    """Why the kernel target was not met: (out of reach, text, the least
    complete design's ns per event, each run less an empty program's).
    The least a design complete in both ways pays: a step that keeps
    every connection's state plus a second program like btf_state_nested
    (its own cost in tcpscope's runs), or the lean step, which has one."""
    steps = [(k, what, kind, median([c[0] for c in cost[k]]) / floor)
             for k, what, kind in FLOOR_STEPS if cost.get(k)]
    if not steps:
        return False, "", None
    nested = nested_ns(cost)
    second = (nested if nested is not None else floor) / floor
    complete = [(x + second, "%s (%.1f×) and a second program that catches the changes "
                             "the kernel skipped the first for (%.1f×)" % (what, x, second))
                for _, what, kind, x in steps if kind == "kept"]
    complete += [(x, "%s, its second program included" % what)
                 for _, what, kind, x in steps if kind == "checked"]
    listed = "same run: " + ", ".join("%s %.1f×" % (w, x) for _, w, _, x in steps)
    if not complete:
        return False, listed, None
    least, how = min(complete)
    lru = [(w, x) for _, w, kind, x in steps if kind == "lru"]
    text = ("%sthe least a design pays that keeps every connection's state and catches "
            "the changes the kernel skips: %s, %.1f×" %
            ("**out of reach here**: " if least > KERNEL_TARGET else "", how, least))
    if lru:
        text += ("; %s (%.1f×) forgets idle connections once more sockets are open than "
                 "it holds" % lru[0])
    # Both complete kinds run two programs a change: in the rate bound's
    # terms (each run less an empty one's), least - 2 empty programs.
    return least > KERNEL_TARGET, text + "; " + listed, (least - 2) * floor


def targets_table(cfg, results, names=None):
    """Each target of issue 17 against this run's figures and, beside a
    target not met, the reason measured in the same run: for the kernel,
    the floor's steps (what any design of that kind pays before tcpscope's
    own work); for a rate, the bound that what the tracer took of the
    CPUs puts on it, the floor's steps and the untraced runs' spread."""
    rows = []
    cost = results.get("cost") or {}
    floor = median([c[0] for c in cost.get("floor", [])])
    trace = median([c[0] for c in cost.get("trace", [])])
    least = None
    if floor and trace:
        ok = trace / floor <= KERNEL_TARGET
        out, why, least = kernel_reason(cost, floor)
        if ok:
            out, why = False, ""
        rows.append(["kernel ns per event ≤ %.0f× the empty programs'" % KERNEL_TARGET,
                     "%.1f× (%.0f against %.0f ns)" % (trace / floor, trace, floor),
                     verdict([("", "met" if ok else "out" if out else "not")]), why])
    rate = results.get("rate") or {}
    bases = {m: median([v["rate"] for v, _ in runs["none"]]) for m, runs in rate.items()}
    ctxs = {m: mode_context(runs, bases[m]) for m, runs in rate.items()}
    # Every program's time, measured under server-close churn: the same
    # ten changes a connection in either mode.
    extra = programs_extra_ns(cost, "trace", floor) if floor else None
    profs = profiles(results)
    for key, name, share, cpu in TARGETS:
        got = [(m, rate_stats(runs, key, bases[m])) for m, runs in rate.items()
               if runs.get(key)]
        if not got:
            continue
        states, whys = [], []
        for m, a in got:
            b = rate_bound(ctxs[m], a, extra)
            p = profs.get(m, {}).get(key)
            met = a["share"] is not None and a["share"] >= share
            out = under_bound(b, p, share)
            states.append((m, "met" if met else "out" if out else "not"))
            if not met:
                whys.append("%s: %s" % (m, rate_reason(ctxs[m], share, a, b, least, p)))
            elif out:
                whys.append("%s: %s" % (m, above_bound(ctxs[m], b, p)))
        rows.append(["%s ≥ %.0f %% of the untraced connection rate" % (name, 100 * share),
                     "; ".join("%.1f %% %s" % (100 * a["share"], m) for m, a in got),
                     verdict(states), " — ".join(whys)])
        states = [(m, "met" if a["cpu_per_m"] is not None and a["cpu_per_m"] <= cpu
                   else "not") for m, a in got]
        rows.append(["%s tracer CPU ≤ %.1f s per million events" % (name, cpu),
                     "; ".join("%s s %s" % (fmt(a["cpu_per_m"], "%.2f"), m) for m, a in got),
                     verdict(states), ""])
    cap = results.get("capture") or {}
    if cap.get("report_eps"):
        rows.append(["`report` ≥ %.0f M events/s" % (REPORT_TARGET / 1e6),
                     "%.2f M/s" % (cap["report_eps"] / 1e6),
                     verdict([("", "met" if cap["report_eps"] >= REPORT_TARGET else "not")]),
                     ""])
    if not rows:
        return []
    out = table(["target", "this run", "", "why not, measured in the same run"], rows)
    lines = ["- " + context_line(m, c, names) for m, c in ctxs.items() if c]
    if lines:
        out += ["", "In these rounds (what the reasons above compare with):", ""] + lines
    return out


def stats_note(mach):
    """A paragraph when the run found the kernel's per-program statistics
    on (left so by another tool): the rates were measured with them off."""
    found = mach.get("stats_found")
    if found in (None, "0"):
        return []
    return ["kernel.bpf_stats_enabled was %s when the run began (another tool "
            "left it so): switched off for every table but the kernel cost and "
            "scale ones, since every program run pays two clock reads while it is "
            "on; restored at the end." % found, ""]


def report(cfg, mach, feat, specs, results):
    L = ["## Results", "",
         "Measured %s on commit %s with `scripts/bench.sh %s`." % (
             mach["date"], mach["commit"], " ".join(cfg.argv_shown)), "",
         "Machine: %s, %d cores, %.1f GB RAM, kernel %s; load average %.2f at the "
         "start%s." % (mach["cpu"], mach["cores"], mach["mem_gb"], mach["kernel"],
                       mach["load"], " (above --max-load %.2f: run with --force, the "
                       "figures are noisier)" % cfg.max_load
                       if mach["load"] >= cfg.max_load else ""), "",
         ] + stats_note(mach) + [
         "Churn: `churn -c %d -s %d`, %d ms per run (at most %d connections), in a "
         "network namespace of its own; %d alternating rounds in %s mode, %d in the "
         "other." % (cfg.threads, cfg.threads, cfg.churn_ms, cfg.churn_max, cfg.rounds,
                     cfg.mode, cfg.other_rounds), ""]
    L += table(["what", "available"], feat.describe()) + [""]
    tg = targets_table(cfg, results, {sp["key"]: sp["name"] for sp in specs})
    if tg:
        L += ["### Targets (issue 17)", "",
              "Each target against this run's medians (the tables below); beside a "
              "target not met, why, measured in the same run. **Out of reach here** "
              "says that it cannot be met on this machine, by what the same run "
              "measured. For a rate: the churn keeps every CPU busy (the untraced "
              "runs leave the idle share said under the table), so what the tracer "
              "takes of the CPUs is taken from the connections. With s that share "
              "— every program's time in the kernel cost runs, each run less an "
              "empty program's (mostly the statistics' own clock reads), times the "
              "tracer's events per second, plus the tracer process's CPU — a churn "
              "has **room for at most** (1 − s) / (1 − the idle share) of its "
              "untraced rate; what no figure shows (the system-call slow path, the "
              "caches) only lowers that. The profiles (perf, below) give a second "
              "bound that sees the slow path and the tracepoints' dispatch too: the "
              "tracer's own work a connection (its programs, the kernel's functions "
              "that run for it, its processes) beside the untraced CPU a connection "
              "c0 leaves **room for at most** c0 / (c0 + own); under either bound a "
              "rate is out of reach here. A median that lands above a bound (the "
              "untraced runs themselves spread, said under the table) is met, and "
              "the row says which bound it passed. For the kernel: the least a design pays "
              "that keeps every connection's state (an LRU hash forgets idle ones) "
              "and catches the state changes the kernel skips a program for (a "
              "second program, as `btf_state_nested`, at its cost in tcpscope's "
              "runs) is above the target; the floor's steps "
              "(scripts/bench/floor.bpf.c) are what each such design pays before "
              "tcpscope's own work. A rate not met otherwise says whether the "
              "floor's best step reached it and how far the untraced runs "
              "themselves spread: the machine's noise. Where accept()'s owner comes "
              "from syscalls: tracepoints (the kernel refuses fexit), a rate not met "
              "also says what `trace --no-accept` kept in the same rounds: the slow "
              "path those tracepoints put every system call on is outside the bound.",
              ""]
        L += tg + [""]
    for mode, runs in results["rate"].items():
        L += ["### Connection rate (%s)" % mode, ""]
        L += rate_table(specs, runs) + [""]
    if results["rate"]:
        L += ["CPU and RSS are the tracer process's own (wait4 rusage); events are what "
              "it reported delivering (bpftrace: lines written). Start-up CPU is what it "
              "had used when the churn began (loading, attaching, reading the sockets "
              "already open, and what it did once for a connection refused in the "
              "namespace just before: tcpscope reads /proc/kallsyms at its first drop); CPU per million events is the rest (median start-up; "
              "rounds summed), and \"of it system\" its system time: the kernel "
              "working for the tracer (reading the ring, writing its output to the "
              "file or pipe). `floor + 96-byte ring record + socket storage` is the "
              "least any tracer that reports each state change with per-socket state "
              "in socket storage costs; `+ LRU hash` keeps that state in a "
              "preallocated hash by socket address instead; `%s` keeps none: "
              "what a tcpscope whose user space joins each connection's events "
              "would read per event at least (tuple, cookie, namespace on births, "
              "owner on system-call transitions, listener lookup on passive "
              "births, a 96-byte record, and a second program checking that the "
              "first ran) (scripts/bench/floor.bpf.c)." % LEAN_NAME]
        if any(runs.get("noaccept") for runs in results["rate"].values()):
            L[-1] += (" `%s` runs only where the kernel refuses fexit, so that "
                      "accept()'s owner comes from syscalls: tracepoints (the table of "
                      "what is available): the same tracer without them and without "
                      "the slow path they put every system call on; where fexit is "
                      "allowed, tcpscope pays one program run an accept() instead, "
                      "and no system call pays." % NOACCEPT_NAME)
        L += [""]
    pt = profile_table(results, {sp["key"]: sp["name"] for sp in specs})
    if pt:
        L += ["### Where a traced churn's CPU went (perf)", "",
              "Churns under `perf record -a -F %d` (every CPU sampled): %d of each of "
              "tcpscope's rate rows against %d untraced ones (summed, alternating), in "
              "each mode; "
              "microseconds of CPU a connection, idle left out. Its BPF programs: the "
              "JIT-compiled `bpf_prog_*`; the rest of its kernel work: the kernel's "
              "functions that run for a tracer (`OWN_KERNEL_RE` in "
              "scripts/bench/bench.py: tracepoint dispatch, maps, the ring, helpers, "
              "the system-call slow path); its processes: tcpscope, "
              "and `cat` reading its pipe. The kernel's and churn's own work is what "
              "the untraced runs did too, taking more (or less) a connection: caches "
              "shared with the tracer, and one run's noise. Room by the profile: what "
              "the tracer's own work (the three columns) leaves a churn that keeps "
              "every CPU busy, c0 / (c0 + own), c0 the untraced CPU a connection; the "
              "targets above use it beside the kernel statistics' bound."
              % (PERF_FREQ, cfg.profile_rounds, cfg.profile_rounds + 1), ""] + pt
    if results.get("cost"):
        L += ["### Kernel cost per event", "",
              "`kernel.bpf_stats_enabled=1` for these runs and the scale tables' "
              "only (it adds two clock reads to every program run); run_time_ns / "
              "run_cnt of each tracer's "
              "programs on sock:inet_sock_set_state (summed per event when there are "
              "two: btf_state and btf_state_nested), which get all the churn's events "
              "(median of %d rounds, %s churn); the floor's steps likewise "
              "(`%s`: lean_state and lean_check). The other programs ran only on "
              "whatever else the machine did (other tests' retransmissions and resets)."
              % (cfg.cost_rounds, cfg.mode, LEAN_NAME), ""]
        L += cost_table([s for s in specs if s["kind"] != "none"] + results["cost_extra"],
                        results["cost"]) + [""]
        L += ["### Cost of each BPF program", "",
              "Each of tcpscope's programs, from the same runs (`trace` and `trace "
              "--tp-mode classic`): how often it ran per churn connection, its average "
              "run, and what it adds per connection. Programs on syscalls or the whole "
              "stack also count what the rest of the machine did while churn ran.", ""]
        L += program_table(results["cost"], ["trace", "classic"]) + [""]
    if results.get("syscalls"):
        L += ["### What every system call pays", "",
              "`build/syscost` (scripts/bench/syscost.c): ns per getppid(), a system "
              "call that does almost nothing, while each tracer was attached, right "
              "after its churn run: the least of seven runs (the host's noise only "
              "adds), median of %d rounds. A program on a `syscalls:` "
              "tracepoint (tcpscope's `tp_accept` and `tp_accept4`, which learn who "
              "accepted each connection where the kernel refuses fexit on "
              "`inet_csk_accept()`: the table of what is available says which this "
              "run used) puts every task of the machine on the "
              "system-call slow path: a cost no program's run time shows, paid by "
              "every system call of every process." % cfg.cost_rounds, ""]
        L += syscall_table([s for s in specs if s["kind"] != "none"] + results["cost_extra"],
                           results["syscalls"]) + [""]
    if results.get("loss"):
        L += ["### Losses at the highest churn rate (%s)" % cfg.mode, "",
              "Opens expected are the namespace's TcpActiveOpens + TcpPassiveOpens deltas; "
              "opens seen are CLOSE→SYN_SENT plus LISTEN→SYN_RECV events delivered "
              "(`--netns` filter).", ""]
        L += loss_table(results["loss"]) + [""]
    sc = results.get("scale")
    if sc:
        L += ["### Scale", "",
              "`trace > /dev/null` against no tracer, alternating, %d runs each per line "
              "(medians), kernel statistics on for both; %s churn. Tracer CPU is "
              "counted while churn runs (not the start, which seeds the connections "
              "already open); per million of the churn's events (ten per connection)."
              % (cfg.scale_rounds, cfg.mode), ""]
        L += ["Connections held open (both ends, by `scripts/bench/sockhold.py`, "
              "%d per process: the fd limit) in the churn's namespace while it "
              "churns:" % Holders.PER_PROC, ""]
        L += scale_table("held open", sc["held"], lambda n: "%d" % n) + [""]
        L += ["CPUs: churn and tracer pinned with `taskset -c` (both on CPU 0, or both "
              "free on 0 and 1):", ""]
        L += scale_table("CPUs", sc["cpus"],
                         lambda c: "%d (`%s`)" % (len(c.split(",")), c)) + [""]
        L += ["Event rate: churn paced with `churn -r` (connections per second; ten "
              "events each):", ""]
        L += scale_table("paced conn/s", sc["rate"], lambda r: "%d" % r) + [""]
    cap = results.get("capture")
    if cap:
        L += ["### Capture file and report", ""]
        rows = [["connections", cap["conns"]], ["events", fmt(cap["events"])],
                ["events lost", fmt(cap["lost"])], ["file size (bytes)", cap["bytes"]],
                ["bytes per event", fmt(cap["bytes_per_event"], "%.2f")]]
        if "report_s" in cap:
            rows += [["`report` time (s, median of %d)" % cfg.report_rounds,
                      fmt(cap["report_s"], "%.3f")],
                     ["`report` events/s", fmt(cap["report_eps"])]]
        L += table(["capture", "value"], rows) + [""]
    snap = results.get("snapshot")
    if snap:
        L += ["### Snapshot vs ss/netstat (scripts/bench/snapshot.sh)", "", snap, ""]
    return "\n".join(L) + "\n"


def write_docs(path, text):
    with open(path) as f:
        doc = f.read()
    a, b = doc.find(BEGIN_MARK), doc.find(END_MARK)
    if a < 0 or b < a:
        raise BenchError("%s has no %s ... %s section" % (path, BEGIN_MARK, END_MARK))
    doc = doc[:a + len(BEGIN_MARK)] + "\n" + text + doc[b:]
    with open(path, "w") as f:
        f.write(doc)


SECTIONS = ["rate", "profile", "cost", "loss", "capture", "scale", "snapshot"]


def preflight(cfg, feat):
    """Why the benchmark cannot run here, in one line; None when it can."""
    if os.geteuid() != 0:
        return "needs root (BPF, network namespaces, sysctls): run it with sudo"
    for b in (cfg.tcpscope, cfg.churn, cfg.syscost):
        if not os.access(b, os.X_OK):
            return "%s is missing: build first (scripts/build.sh)" % b
    tools = ["ip", "bpftool", "taskset"]
    if feat.bpftrace:
        tools.append("bpftrace")
    tools += [t for t, _ in feat.libbpf_tools]
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        return ("missing tools: %s (scripts/setup.sh --bench installs them; "
                "--no-peers leaves the peers out)" % ", ".join(missing))
    load = os.getloadavg()[0]
    if load >= cfg.max_load and not cfg.force:
        return ("machine busy: load average %.2f over the last minute, at or above %.2f: "
                "the figures would measure the other work too; wait, or use --force "
                "(TS_BENCH_FORCE=1)" % (load, cfg.max_load))
    return None


def parse_args(argv):
    ap = argparse.ArgumentParser(description="tcpscope benchmark (run as root)")
    ap.add_argument("--build", default=os.environ.get("TS_BUILD", os.path.join(SRC, "build")),
                    help="build directory (default $TS_BUILD or build/)")
    ap.add_argument("--out", help="write the results (markdown) here too")
    ap.add_argument("--raw", help="write every run's figures (JSON) here too: the "
                    "rounds behind the medians")
    ap.add_argument("--docs", help="replace the results section of this file "
                    "(docs/BENCHMARKS.md)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--cost-rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=3.0, help="seconds per churn run")
    ap.add_argument("--threads", type=int, default=4, help="churn client/server threads")
    ap.add_argument("--mode", default="server-close",
                    choices=["client-close", "server-close"], help="churn mode of the "
                    "main tables (the other mode gets a rate table too)")
    ap.add_argument("--capture-events", type=int, default=5000000)
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes: proves the script works, measures nothing")
    ap.add_argument("--no-bpftrace", action="store_true", help="leave the bpftrace peer out")
    ap.add_argument("--no-libbpf-tools", action="store_true",
                    help="leave the libbpf-tools peers (tcpstates, tcplife) out")
    ap.add_argument("--no-peers", action="store_true",
                    help="leave every peer out (--no-bpftrace --no-libbpf-tools)")
    ap.add_argument("--force", action="store_true",
                    default=os.environ.get("TS_BENCH_FORCE", "") not in ("", "0"),
                    help="run even on a busy machine (or TS_BENCH_FORCE=1); the "
                    "results say so")
    ap.add_argument("--max-load", type=float, default=None,
                    help="refuse to run when the 1-minute load average is at or above "
                    "this (default $TS_BENCH_MAX_LOAD or half the CPUs)")
    ap.add_argument("--scale-rounds", type=int, default=3,
                    help="runs per line of the scale tables (default 3)")
    ap.add_argument("--baseline", metavar="TCPSCOPE",
                    help="another tcpscope binary (e.g. built from an older commit) to "
                    "measure alongside: before/after in one run")
    ap.add_argument("--baseline-name", default="baseline",
                    help="what to call it in the tables")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections to run (default: all of %s)"
                    % ",".join(SECTIONS))
    cfg = ap.parse_args(argv)
    cfg.argv_shown = argv
    cfg.only = set(cfg.only.split(","))
    if cfg.no_peers:
        cfg.no_bpftrace = cfg.no_libbpf_tools = True
    if cfg.max_load is None:
        env = os.environ.get("TS_BENCH_MAX_LOAD")
        try:
            cfg.max_load = float(env) if env else 0.5 * (os.cpu_count() or 1)
        except ValueError:
            ap.error("TS_BENCH_MAX_LOAD=%r is not a number" % env)
    bad = cfg.only - set(SECTIONS)
    if bad:
        ap.error("unknown section(s) in --only: %s" % ",".join(sorted(bad)))
    cfg.churn_ms = max(1, int(cfg.secs * 1000))
    cfg.churn_max = 10000000
    cfg.small_rings = ["1M", "256K", "64K"]
    cfg.report_rounds = 3
    cfg.capture_ms = 120000
    cfg.other_rounds = max(1, cfg.rounds * 3 // 5)
    cfg.scale_held = [1000, 10000, 100000]
    cfg.scale_cpus = ["0", "0,1"]
    cfg.scale_rates = [1000, 4000, 16000]
    cfg.syscost_calls = 2000000
    cfg.profile_rounds = 2
    if cfg.quick:
        cfg.profile_rounds = 1
        cfg.rounds = cfg.cost_rounds = cfg.other_rounds = cfg.report_rounds = 1
        cfg.churn_ms = min(cfg.churn_ms, 300)
        cfg.churn_max = 2000
        cfg.syscost_calls = 200000
        cfg.capture_events = min(cfg.capture_events, 20000)
        cfg.capture_ms = 10000
        cfg.small_rings = ["64K"]
        cfg.scale_rounds = 1
        cfg.scale_held = [200]
        cfg.scale_cpus = ["0"]
        cfg.scale_rates = [500]
    cfg.build = os.path.abspath(cfg.build)
    cfg.tcpscope = os.path.join(cfg.build, "tcpscope")
    cfg.churn = os.path.join(cfg.build, "churn")
    cfg.syscost = os.path.join(cfg.build, "syscost")
    cfg.floor = os.path.join(cfg.build, "tcpscope-floor")
    return cfg


def main(argv):
    cfg = parse_args(argv)
    feat = Features(cfg)
    why = preflight(cfg, feat)
    if why:
        print("bench: " + why, file=sys.stderr)
        return 1
    mach = machine()
    mach["load"] = os.getloadavg()[0]
    other = "client-close" if cfg.mode == "server-close" else "server-close"
    results = {"rate": {}}
    t0 = time.monotonic()
    sysctls = Sysctls()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        # The kernel's per-program statistics cost every program run two
        # clock reads (on this VM's kvm-clock, more than an empty program
        # takes): on only for the tables that read them (kernel cost,
        # scale), whatever the machine had, which is put back at the end.
        mach["stats_found"] = stats_enabled()
        sysctls.set(STATS_SYSCTL, "0")
        # The work directory outlives the namespace: the snapshot section
        # (its own namespaces) writes its table there too.
        with tempfile.TemporaryDirectory(prefix="tsbench.") as workdir:
            with Netns() as ns:
                specs = tracer_specs(cfg, feat, workdir)
                if "rate" in cfg.only:
                    results["rate"][cfg.mode] = bench_rate(cfg, ns, specs, workdir, cfg.mode,
                                                           cfg.rounds)
                    results["rate"][other] = bench_rate(cfg, ns, specs, workdir, other,
                                                        cfg.other_rounds)
                if "profile" in cfg.only and feat.perf:
                    results["profile"] = bench_profile(cfg, ns, specs, workdir)
                if "cost" in cfg.only:
                    cost_specs = [s for s in specs
                                  if s["kind"] in ("floor", "bpftrace", "libbpf-tools")
                                  or s["key"] in ("trace", "baseline", "noaccept")]
                    classic = {"key": "classic",
                               "name": "tcpscope trace --tp-mode classic > /dev/null",
                               "kind": "tcpscope", "out": "null", "ready": "links",
                               "argv": [cfg.tcpscope, "trace", "--tp-mode", "classic"]}
                    results["cost_extra"] = [classic]
                    if feat.no_accept and not any(x["key"] == "noaccept" for x in specs):
                        results["cost_extra"].append(
                            {"key": "noaccept", "name": NOACCEPT_NAME,
                             "kind": "tcpscope", "out": "null", "ready": "links",
                             "argv": [cfg.tcpscope, "trace", "--no-accept"]})
                    if feat.floor:
                        # The steps between the floor and tcpscope (floor.bpf.c);
                        # those of the rate tables (socket storage, LRU hash, lean
                        # record) are in cost_specs already.
                        for key, name, args in (
                                ("floorring32", "floor + 32-byte ring record", ["--ring", "32"]),
                                ("floorring96", "floor + 96-byte ring record", ["--ring", "96"]),
                                ("floorpcpu", "floor + 96-byte record, a ring per CPU",
                                 ["--percpu", "96"]),
                                ("floorperf", "floor + 96-byte perf-buffer record", ["--perf"])):
                            results["cost_extra"].append(
                                {"key": key, "name": name, "kind": "floor", "out": "null",
                                 "ready": "links", "min_links": 1, "argv": [cfg.floor] + args})
                    results["syscalls"] = {}
                    results["cost"] = bench_kernel_cost(cfg, ns, sysctls,
                                                        cost_specs + results["cost_extra"],
                                                        workdir, cfg.cost_rounds,
                                                        results["syscalls"])
                    sysctls.set(STATS_SYSCTL, "0")
                if "loss" in cfg.only:
                    results["loss"] = bench_losses(cfg, ns, feat, workdir)
                    log("losses done")
                if "capture" in cfg.only:
                    results["capture"] = bench_capture(cfg, feat, workdir)
                if "scale" in cfg.only:
                    results["scale"] = bench_scale(cfg, sysctls, workdir)
                    sysctls.set(STATS_SYSCTL, "0")
            if "snapshot" in cfg.only:
                results["snapshot"] = bench_snapshot(cfg, feat, workdir)
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    except Interrupted as e:
        print("bench: interrupted (%s): namespaces removed, sysctls restored" % e,
              file=sys.stderr)
        return 130 if str(e) == "SIGINT" else 143
    finally:
        sysctls.restore()
    text = report(cfg, mach, feat, specs, results)
    text += "\nThe whole run took %.0f s.\n" % (time.monotonic() - t0)
    sys.stdout.write(text)
    if cfg.out:
        with open(cfg.out, "w") as f:
            f.write(text)
    if cfg.raw:
        with open(cfg.raw, "w") as f:
            json.dump({"machine": mach, "argv": cfg.argv_shown, "results": results}, f,
                      default=str, indent=1)
    if cfg.docs:
        try:
            write_docs(cfg.docs, text)
        except (OSError, BenchError) as e:
            print("bench: %s" % e, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
