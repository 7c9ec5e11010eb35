#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Every link between the repository's Markdown pages resolves: a relative
link names a file or directory that exists, and a #fragment names a
heading of the page it points to (GitHub's anchors: lower case, spaces
to hyphens, punctuation dropped, repeats numbered).  Links to other sites
are not followed.  --self-test checks the anchor rules on made-up
headings and the checker on two made-up pages.  No root, no network."""
import os
import re
import sys
import tempfile

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^()\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(text):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"<[^>]+>", "", text)          # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def lines_outside_code(text):
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


ANCHORS = {}


def anchors(path):
    """The anchors a page's headings (and <a name/id>) make."""
    if path not in ANCHORS:
        text, seen, out = read(path), {}, set()
        for _, line in lines_outside_code(text):
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            k = seen.get(s, 0)
            seen[s] = k + 1
            out.add(s if k == 0 else "%s-%d" % (s, k))
        out.update(re.findall(r'<a\s+(?:name|id)="([^"]+)"', text))
        ANCHORS[path] = out
    return ANCHORS[path]


def pages():
    for top in ("README.md", "docs"):
        p = os.path.join(SRC, top)
        if p.endswith(".md"):
            yield p
            continue
        for root, _, files in os.walk(p):
            for name in sorted(files):
                if name.endswith(".md"):
                    yield os.path.join(root, name)


def check(page):
    bad = []
    for n, line in lines_outside_code(read(page)):
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            where = "%s:%d: %s" % (os.path.relpath(page, SRC), n, target)
            if not os.path.exists(dest):
                bad.append(where + ": no such file")
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                bad.append(where + ": no such heading")
    return bad


def self_test():
    want = {"Issue 17: the churn's own limit; record size, per-CPU rings (2026-12-06, session 18)":
            "issue-17-the-churns-own-limit-record-size-per-cpu-rings-2026-12-06-session-18",
            "What it measures, and how": "what-it-measures-and-how",
            "`--json` output": "--json-output",
            "Snapshot vs ss/netstat (scripts/bench/snapshot.sh)":
            "snapshot-vs-ssnetstat-scriptsbenchsnapshotsh"}
    fails = ["slug(%r) = %r, want %r" % (h, slug(h), s) for h, s in want.items() if slug(h) != s]
    # Two pages: every kind of link, good and broken; only the broken found.
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "A.md"), "w") as f:
            f.write("# Top\n\n## Twice\n\n## Twice\n\n```\n## Not a heading\n[x](#nope)\n```\n"
                    "[ok](#top) [ok](#twice-1) [ok](B.md#far-away) [ok](B.md) "
                    "[ok](https://example.org/#x) `[code](#nope)`\n"
                    "[bad](#twice-2) [bad](B.md#near) [bad](C.md) [bad](#not-a-heading)\n")
        with open(os.path.join(d, "B.md"), "w") as f:
            f.write("# Far away\n")
        got = sorted(b.split(": ")[1] for b in check(os.path.join(d, "A.md")))
        want_bad = sorted(["#twice-2", "B.md#near", "C.md", "#not-a-heading"])
        if got != want_bad:
            fails.append("broken links found %r, want %r" % (got, want_bad))
    for f in fails:
        print("FAIL: " + f)
    return fails


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(1 if self_test() else 0)
    bad = [b for p in pages() for b in check(p)]
    for b in bad:
        print("FAIL: " + b)
    print("%d broken links" % len(bad) if bad else "ok")
    sys.exit(1 if bad else 0)
