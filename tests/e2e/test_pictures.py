#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Pictures of connections (docs/PICTURES.md):
- the HTML page of a real capture (traffic between two namespaces, both
  ends traced) and of synthetic ones opened in headless Chromium, itself run
  in a namespace with no network: no console message, one row per
  connection, a screenshot that is not blank (pixels decoded here with
  zlib); a page for a 100 000-connection capture renders within the limit
  docs/PICTURES.md states (30 s);
- the Perfetto file validated against the trace-event format (required
  fields, complete X events or balanced B/E, timestamps monotonic per
  track, every track named);
- live 'trace --timeline --diagram' pairs both ends of real connections;
- a damaged capture: the pictures cover what was read and say where the
  damage starts (exit 3); an unwritable output path: one line, exit 1."""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

import capkit
import tslib
import tsnet
from tslib import expect

MKCAP = os.path.join(os.environ.get("TS_BUILD", "build"), "tests", "mkcap")
PAGE_LIMIT_S = 30  # docs/PICTURES.md: a page renders within this


def chromium(ns, url, tmp, screenshot=None):
    """Run headless Chromium on url inside ns (no network there); returns
    (dom, console lines, seconds)."""
    args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            "--user-data-dir=" + tempfile.mkdtemp(prefix="chr", dir=tmp),
            "--enable-logging=stderr", "--v=0", "--window-size=1200,900"]
    if screenshot:
        args.append("--screenshot=" + screenshot)
    else:
        args.append("--dump-dom")
    start = time.monotonic()
    p = ns.popen(args + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise tslib.TestFailure("chromium did not finish in 120 s")
    took = time.monotonic() - start
    # Messages of the page itself (Chromium's own chrome:// pages log too).
    console = [l for l in err.splitlines() if ":CONSOLE" in l and "source: " + url.split("#")[0] in l]
    return out, console, took


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA PNG (non-interlaced) with zlib; returns
    (width, height, set of distinct pixel values)."""
    data = open(path, "rb").read()
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            expect(depth == 8 and ctype in (2, 6) and not interlace,
                   "unexpected PNG type depth=%d color=%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colors = set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colors.add(bytes(line[x:x + 3]))
        prev = line
    return w, h, colors


def validate_perfetto(path):
    """The trace-event JSON object format: returns (tracks, slices, instants)."""
    doc = json.load(open(path))
    expect(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list),
           "no traceEvents array")
    last, open_b, named, tracks = {}, {}, set(), set()
    slices = instants = 0
    for e in doc["traceEvents"]:
        for k in ("ph", "name", "pid", "tid"):
            expect(k in e, "event without %s: %r" % (k, e))
        expect(isinstance(e["pid"], int) and isinstance(e["tid"], int), "bad ids %r" % e)
        ph, key = e["ph"], (e["pid"], e["tid"])
        if ph == "M":
            expect(e["name"] in ("process_name", "thread_name") and
                   isinstance(e.get("args", {}).get("name"), str), "bad metadata %r" % e)
            if e["name"] == "thread_name":
                named.add(key)
            continue
        expect(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, "bad ts %r" % e)
        if e["tid"]:
            expect(e["ts"] >= last.get(key, 0), "time goes back on track %r: %r" % (key, e))
            last[key] = e["ts"]
            tracks.add(key)
        if ph == "X":
            expect(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, "bad dur %r" % e)
            slices += 1
        elif ph == "B":
            open_b[key] = open_b.get(key, 0) + 1
        elif ph == "E":
            expect(open_b.get(key, 0) > 0, "E without B on %r" % (key,))
            open_b[key] -= 1
        elif ph == "i":
            expect(e.get("s") in ("t", "p", "g"), "bad instant scope %r" % e)
            instants += 1
        else:
            raise tslib.TestFailure("unexpected phase %r" % ph)
    expect(not any(open_b.values()), "unbalanced B/E: %r" % open_b)
    expect(tracks <= named, "tracks without a name: %r" % (tracks - named))
    return doc, len(tracks), slices, instants


def render_all(cap, tmp, *extra):
    html, trace = os.path.join(tmp, "page.html"), os.path.join(tmp, "trace.json")
    rc, out, err = capkit.report(cap, "--html", html, "--perfetto", trace, *extra)
    return rc, out, err, html, trace


def record_real(tmp):
    """A capture of real connections between two namespaces, both ends."""
    path = os.path.join(tmp, "real.cap")
    with tslib.Netns("piccli") as cli, tslib.Netns("picsrv") as srv:
        tslib.veth(cli, srv)
        argv = [tslib.TCPSCOPE, "record", "-w", path, "-v", "--duration", "60",
                "--port", "8089"]
        errf = os.path.join(tmp, "rec.err")
        rec = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(errf, "w"))
        try:
            tslib.wait_until(lambda: "recording (" in open(errf).read() or
                             rec.poll() is not None, 20, "the recorder")
            for mode in ("client-close", "server-close", "rst"):
                s = tslib.Server(srv, "--addr", "198.18.0.2", "--port", "8089",
                                 "--mode", mode)
                c = tslib.client(cli, "--addr", "198.18.0.2", "--port", "8089", "--mode", mode)
                expect(c.returncode == 0, "client failed: %s" % c.stderr.read())
                s.wait()
            time.sleep(0.3)
        finally:
            rec.send_signal(2)
            rec.wait(timeout=20)
    return path


def test_real_capture_pictures():
    tmp = tempfile.mkdtemp(prefix="tspic")
    try:
        cap = record_real(tmp)
        rc, out, err, html, trace = render_all(cap, tmp, "--timeline", "--diagram", "--ascii")
        expect(rc == 0, "report exited %d: %s" % (rc, err))
        # Three connections, each with both ends, plus their listeners.
        expect(out.count("both ends traced") == 3, "pairs not drawn:\n" + out)
        expect("----------- SYN ----------->" in out and "RST" in out, out)
        expect(max(len(l) for l in out.splitlines()) <= 80, "wider than 80 columns")
        expect(all(ord(ch) < 128 for ch in out), "--ascii printed non-ASCII")
        doc, tracks, slices, instants = validate_perfetto(trace)
        expect(tracks == 9, "perfetto tracks %d, want 6 connections + 3 listeners" % tracks)
        expect(slices >= 20 and instants >= 2, "slices %d instants %d" % (slices, instants))
        with tslib.Netns("picweb") as web:
            dom, console, _ = chromium(web, "file://" + html, tmp)
            expect(not console, "console messages: %r" % console)
            expect('data-status="rendered"' in dom, "page did not render")
            rows = re.search(r'data-rows="(\d+)"', dom)
            expect(rows and int(rows.group(1)) == 9, "rows: %r" % (rows and rows.group(1)))
            expect(dom.count('class="row"') == 9, "one SVG row per connection")
            # The filters, given in the address as a user can.
            for frag, want in (("close=reset-sent", 1), ("port=8089&close=active", 5),
                               ("proc=no-such-process", 0), ("port=1", 0)):
                dom, console, _ = chromium(web, "file://" + html + "#" + frag, tmp)
                expect(not console, "console messages: %r" % console)
                got = re.search(r'data-rows="(\d+)"', dom)
                expect(got and int(got.group(1)) == want,
                       "#%s: %s rows, want %d" % (frag, got and got.group(1), want))
            png = os.path.join(tmp, "page.png")
            chromium(web, "file://" + html, tmp, screenshot=png)
            w, h, colors = png_pixels(png)
            expect(w == 1200 and h == 900, "screenshot %dx%d" % (w, h))
            # White page, text, and the state colours: far more than a blank page.
            expect(len(colors) > 20, "screenshot nearly blank: %d colours" % len(colors))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_large_capture_page():
    tmp = tempfile.mkdtemp(prefix="tspic")
    try:
        cap = os.path.join(tmp, "big.cap")
        tslib.run([MKCAP, "many", "100000", cap])
        rc, out, err, html, trace = render_all(cap, tmp, "--html-max-conns", "400")
        expect(rc == 0, "report exited %d: %s" % (rc, err))
        expect(out == "", "pictures only: nothing on stdout")
        page = open(html).read()
        expect('"total":100000,"max":400,' in page, "page totals")
        expect('"rest":{"count":99600,' in page, "the rest aggregated")
        with tslib.Netns("picbig") as web:
            dom, console, took = chromium(web, "file://" + html, tmp)
        expect(not console, "console messages: %r" % console)
        expect('data-rows="400"' in dom and 'data-status="rendered"' in dom, "not rendered")
        expect("99600 aggregated" in dom, "the page says how many were left out")
        print("100000-connection page: %.1f s to render in headless chromium, %d bytes"
              % (took, len(page)))
        expect(took < PAGE_LIMIT_S, "page took %.1f s (limit %d s)" % (took, PAGE_LIMIT_S))
        doc, tracks, slices, _ = validate_perfetto(trace)
        expect(tracks == 100000, "perfetto tracks %d" % tracks)
        expect(doc["metadata"]["connections"] == 100000, "metadata")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_damaged_and_unwritable():
    tmp = tempfile.mkdtemp(prefix="tspic")
    try:
        cap = os.path.join(tmp, "g.cap")
        tslib.run([MKCAP, "many", "3000", cap])
        data = open(cap, "rb").read()
        cut = os.path.join(tmp, "cut.cap")
        with open(cut, "wb") as f:
            f.write(data[:len(data) * 2 // 3])
        rc, out, err, html, trace = render_all(cut, tmp, "--timeline", "--diagram")
        expect(rc == 3, "damaged capture: exit %d (want 3): %s" % (rc, err))
        m = re.search(r"at byte offset (\d+)", err)
        expect(m, "the warning names the offset: %s" % err)
        where = "at byte offset " + m.group(1)
        expect("capture damaged:" in out and where in out, "diagram says where")
        expect(where in open(html).read(), "page says where")
        doc, tracks, _, _ = validate_perfetto(trace)
        expect(where in doc["metadata"]["damage"], "perfetto metadata says where")
        expect(0 < tracks < 3000, "the pictures cover what was read: %d" % tracks)
        for opt in ("--html", "--perfetto"):
            rc, out, err = capkit.report(cap, opt, "/nonexistent/dir/out")
            lines = err.strip().splitlines()
            expect(rc == 1, "%s to a bad path: exit %d" % (opt, rc))
            expect(len(lines) == 1 and "cannot write /nonexistent/dir/out" in lines[0],
                   "one line: %r" % lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_readme_pictures_are_current():
    """The pictures under docs/img/ are what the commands make of the
    committed capture (scripts/make-pictures.sh --render remakes them)."""
    cap = os.path.join(tslib.SRC, "tests", "data", "pictures.cap")
    img = os.path.join(tslib.SRC, "docs", "img")
    r = subprocess.run([tslib.TCPSCOPE, "report", cap, "--timeline", "--diagram"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                       env=dict(os.environ, LANG="C.UTF-8", LC_ALL="", LC_CTYPE=""))
    expect(r.returncode == 0, "report: %s" % r.stderr)
    expect(r.stdout == open(os.path.join(img, "diagram.txt")).read(),
           "docs/img/diagram.txt is stale: run scripts/make-pictures.sh --render")
    readme = open(os.path.join(tslib.SRC, "README.md")).read()
    block = [b for b in r.stdout.split("\n\n") if "SYN rtx" in b][0]
    expect(block in readme, "the README's diagram is not what the command prints")
    tmp = tempfile.mkdtemp(prefix="tspic")
    try:
        rc, _, err, html, trace = render_all(cap, tmp)
        expect(rc == 0, "report: %s" % err)
        expect(open(trace).read() == open(os.path.join(img, "pictures.perfetto.json")).read(),
               "docs/img/pictures.perfetto.json is stale")
        expect(open(html).read() == open(os.path.join(img, "pictures.html")).read(),
               "docs/img/pictures.html is stale")
        validate_perfetto(trace)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_live_diagram():
    """trace --timeline --diagram live: both ends of a loopback connection
    in one ladder, box-drawing characters under a UTF-8 locale."""
    with tslib.Netns("piclive") as ns:
        p, out, err = tsnet.start_to_files(ns, ["--timeline", "--diagram"],
                                           env={"LANG": "C.UTF-8", "LC_ALL": "", "LC_CTYPE": ""})
        try:
            capkit.traffic(ns, 2)
            tslib.wait_until(lambda: open(out).read().count("both ends traced") >= 2, 20,
                             "both connections drawn")
        finally:
            capkit.kill_quietly(p)
        text = open(out).read()
        expect("\u2500\u2500\u2500 SYN \u2500" in text and "\u25b6" in text, text)
        expect(max(len(l) for l in text.splitlines()) <= 80, "wider than 80 columns")


def test_live_diagram_one_end():
    """Only the client's namespace traced: B's states are inferred and in
    parentheses; the connection is drawn alone once the wait for its
    other end is over."""
    with tslib.Netns("picone") as cli, tslib.Netns("pictwo") as srv:
        tslib.veth(cli, srv)
        p, out, err = tsnet.start_to_files(cli, ["--timeline", "--diagram", "--ascii"])
        try:
            s = tslib.Server(srv, "--addr", "198.18.0.2", "--mode", "server-close")
            c = tslib.client(cli, "--addr", "198.18.0.2", "--port", str(s.port),
                             "--mode", "server-close")
            expect(c.returncode == 0, "client failed: %s" % c.stderr.read())
            s.wait()
            tslib.wait_until(lambda: "close=passive" in open(out).read(), 20,
                             "the connection drawn")
        finally:
            capkit.kill_quietly(p)
        text = open(out).read()
        expect("not traced: (STATES) inferred from A" in text, text)
        expect("both ends traced" not in text, text)
        expect(re.search(r"CLOSE_WAIT +<-+ FIN -+ \(FIN_WAIT1\)", text), text)
        expect(re.search(r"LAST_ACK +-+ FIN -+> \(TIME_WAIT\)", text), text)


if __name__ == "__main__":
    tslib.main([test_real_capture_pictures, test_large_capture_page,
                test_damaged_and_unwritable, test_readme_pictures_are_current,
                test_live_diagram, test_live_diagram_one_end])
