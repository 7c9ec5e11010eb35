#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Check the include graph of user/ against the layout (docs/DESIGN.md):

* no cycle between modules (a module is x.c with its x.h, and x_int.h
  if it has a private header: loader.c including snapshot.h while
  snapshot.c includes loader.h is a cycle);
* core/ includes neither libbpf (<bpf/...>, skeletons) nor anything from
  kernel/ or cmd/; kernel/ includes nothing from cmd/.

Usage: check-includes.py [SOURCE_DIR]   (default: the repository of this
script).  Prints one line per problem and exits 1 if there is any.
check-includes.py --self-test builds small trees that break each rule and
checks that each is caught (exit 0 when all are)."""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def modules(user):
    """{module: [(file, kind, target)]} for every .c/.h under user/."""
    mods = {}
    for root, _, files in os.walk(user):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, user)
            mod = os.path.splitext(rel)[0]
            # x_int.h is the private half of module x (capfile_int.h).
            if mod.endswith("_int") and name.endswith(".h"):
                mod = mod[:-len("_int")]
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            incs = [(k, t) for k, t in INCLUDE.findall(text)]
            mods.setdefault(mod, []).extend((rel, k, t) for k, t in incs)
    return mods


def layer_problems(mods):
    out = []
    for mod, incs in sorted(mods.items()):
        top = mod.split("/", 1)[0]
        for rel, kind, target in incs:
            if top == "core":
                if kind == "<" and target.startswith("bpf/"):
                    out.append("%s: core/ includes libbpf <%s>" % (rel, target))
                elif target.endswith((".skel.h", ".lskel.h")):
                    out.append("%s: core/ includes a BPF skeleton %s" % (rel, target))
                elif kind == '"' and target.startswith(("kernel/", "cmd/")):
                    out.append("%s: core/ includes %s (core/ may use only core/ and bpf/)"
                               % (rel, target))
            elif top == "kernel" and kind == '"' and target.startswith("cmd/"):
                out.append("%s: kernel/ includes %s (commands sit above the kernel edge)"
                           % (rel, target))
    return out


def graph(mods):
    edges = {m: set() for m in mods}
    for mod, incs in mods.items():
        for _, kind, target in incs:
            dep = os.path.splitext(target)[0]
            if dep.endswith("_int"):
                dep = dep[:-len("_int")]
            if kind == '"' and dep in mods and dep != mod:
                edges[mod].add(dep)
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(src):
    """The problems of the tree under src/user, and a summary line."""
    mods = modules(os.path.join(src, "user"))
    problems = layer_problems(mods)
    edges = graph(mods)
    for comp in cycles(edges):
        problems.append("include cycle between modules: %s" % " <-> ".join(comp))
    return problems, "%d modules, %d edges" % (len(mods), sum(len(e) for e in edges.values()))


def self_test():
    import tempfile
    cases = {
        "cycle": {"kernel/a.c": '#include "kernel/b.h"', "kernel/a.h": "",
                  "kernel/b.c": '#include "kernel/a.h"', "kernel/b.h": ""},
        "libbpf in core": {"core/x.c": "#include <bpf/libbpf.h>"},
        "kernel/ in core": {"core/x.c": '#include "kernel/loader.h"'},
        "cmd/ in core": {"core/x.c": '#include "cmd/trace.h"'},
        "skeleton in core": {"core/x.c": '#include "tcpscope.skel.h"'},
        "cmd/ in kernel": {"kernel/x.c": '#include "cmd/capture.h"'},
    }
    clean = {"core/p.c": '#include "core/p_int.h"', "core/p.h": "",
             "core/p_int.h": '#include "core/p.h"',
             "kernel/l.c": '#include <bpf/libbpf.h>\n#include "core/p.h"',
             "cmd/c.c": '#include "kernel/l.h"\n#include "core/p.h"'}
    failed = 0
    for name, files in list(cases.items()) + [("clean", clean)]:
        with tempfile.TemporaryDirectory() as d:
            for rel, text in files.items():
                path = os.path.join(d, "user", rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text + "\n")
            problems, _ = check(d)
        if bool(problems) != (name != "clean"):
            print("self-test %s: %s" % (name, problems or "not caught"))
            failed += 1
    print("check-includes self-test: %d of %d cases right"
          % (len(cases) + 1 - failed, len(cases) + 1))
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    user = os.path.join(src, "user")
    if not os.path.isdir(user):
        print("check-includes: no user/ under %s" % src, file=sys.stderr)
        return 2
    problems, summary = check(src)
    for p in problems:
        print(p)
    if problems:
        return 1
    print("check-includes: %s, no cycle, layers respected" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
