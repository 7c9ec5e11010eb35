#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hostile capture files, written from docs/CAPTURE_FORMAT.md with the
fuzz seeds' writer (tests/fuzz/mkseeds.py): each is valid where the reader
looks first and built to make 'report' spend memory or output.

    hostile.py DIR      writes every file below into DIR

snap_frames.cap   100 snapshot frames of 43 240 sockets (4 MiB raw each)
snap_total.cap    40 snapshot frames of 8 192 varied sockets (327 680 in all)
samples.cap       16 million handshake times (--summary keeps samples)
conns.cap         a million connections that never close (--at keeps them)
zipbomb.cap       a chunk of 4 MiB that deflates to 4 KiB
liar.cap          a chunk whose data inflates past the length its frame states
zliar.cap         the same in format 4: a zstd frame of 8 MiB (RLE blocks)
zbomb.cap         format 4: a zstd frame of 4 MiB in 192 bytes (RLE blocks)
clock_max.cap     header clock offset INT64_MAX (and clock_min.cap: INT64_MIN)"""
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
import mkseeds  # noqa: E402
from mkseeds import MAGIC, varint, zz  # noqa: E402

SYN_SENT, ESTABLISHED = 2, 1


def preamble():
    return MAGIC + struct.pack("<II", 1, 0)


def raw_frame(typ, stored, raw_len=None):
    raw_len = len(stored) if raw_len is None else raw_len
    hdr = typ + struct.pack("<II", len(stored), raw_len)
    return hdr + struct.pack("<I", zlib.crc32(stored, zlib.crc32(hdr))) + stored


def head(offset=1700000000 * 10**9):
    p = struct.pack("<QqIIHHHBB", 1000, offset, 0, 0, 0, 0, 0, 0, 0)
    return raw_frame(b"HEAD", p + mkseeds.s16("hostile") + mkseeds.s16("6.18.0")
                     + mkseeds.s16("hostile.py"))


def snap(socks):
    return mkseeds.frame(b"SNAP", struct.pack("<I", len(socks)) + b"".join(socks), True)


def desc(conn, sport=40000, comm=b"x"):
    return (struct.pack("<QBHHII", conn, 4, sport, 80, 42, 4026531840)
            + bytes([127, 0, 0, 1]) + bytes([127, 0, 0, 2]) + bytes([len(comm)]) + comm)


def trailer(events, chunks):
    return mkseeds.trailer(events, 0, chunks)


def snap_frames(path):
    n = (4 * 1024 * 1024 - 4) // 97
    body = snap([mkseeds.sock(0, 4)] * n)  # 4 MiB raw, 4 KiB stored
    with open(path, "wb") as f:
        f.write(preamble() + head())
        for _ in range(100):
            f.write(body)
        f.write(trailer(0, 0))


def snap_total(path):
    rnd = random.Random(1)
    with open(path, "wb") as f:
        f.write(preamble() + head())
        for fr in range(40):
            socks = []
            for i in range(8192):
                s = bytearray(mkseeds.sock(i, 4))
                s[0:8] = rnd.getrandbits(64).to_bytes(8, "little")  # cookie
                s[8:16] = rnd.getrandbits(64).to_bytes(8, "little")  # inode
                s[49:53] = rnd.getrandbits(32).to_bytes(4, "little")  # local address
                socks.append(bytes(s))
            f.write(snap(socks))
        f.write(trailer(0, 0))


def samples(path, total=16_000_000):
    """Chunks of SYN_SENT -> ESTABLISHED with varied handshake times."""
    rnd = random.Random(2)
    times = [rnd.randrange(50_000, 5_000_000) for _ in range(16)]
    ev = bytearray()
    per = 0
    d = desc(1)
    room = 4 * 1024 * 1024 - 16 - len(d) - 16
    while len(ev) < room:
        # type 1 (state), no flags, descriptor 0, delta 0, states, ns_in_old
        ev += bytes([1, 0, 0, 0, SYN_SENT << 4 | ESTABLISHED]) + varint(rnd.choice(times))
        per += 1
    raw = struct.pack("<QII", 5, per, 1) + d + bytes(ev)
    frame = mkseeds.frame(b"CHNK", raw, True)
    chunks = (total + per - 1) // per
    with open(path, "wb") as f:
        f.write(preamble() + head() + snap([]))
        for _ in range(chunks):
            f.write(frame)
        f.write(trailer(chunks * per, chunks))
    return chunks * per


def conns(path, total=1_000_000):
    """Connections that enter SYN_SENT and are never heard of again."""
    rnd = random.Random(3)
    per = 100_000
    with open(path, "wb") as f:
        f.write(preamble() + head() + snap([]))
        n = 0
        while n < total:
            k = min(per, total - n)
            ds = b"".join(desc(rnd.getrandbits(63) | 1, 1024 + i % 60000) for i in range(k))
            ev = b"".join(bytes([1, 0]) + varint(i) + b"\0" + bytes([7 << 4 | SYN_SENT, 0])
                          for i in range(k))
            f.write(mkseeds.frame(b"CHNK", struct.pack("<QII", 5, k, k) + ds + ev, True))
            n += k
        f.write(trailer(total, (total + per - 1) // per))


def zipbomb(path):
    raw = struct.pack("<QII", 5, 1, 1) + desc(1) + bytes([1, 0, 0, 0, 0x72, 0])
    raw += b"\0" * (4 * 1024 * 1024 - len(raw))  # stray bytes: never reached
    with open(path, "wb") as f:
        f.write(preamble() + head() + snap([]) + mkseeds.frame(b"CHNK", raw, True)
                + trailer(1, 1))


def liar(path):
    stored = zlib.compress(b"\0" * (8 * 1024 * 1024), 9)
    with open(path, "wb") as f:
        f.write(preamble() + head() + snap([]) + raw_frame(b"CHNK", stored, 60000)
                + trailer(1, 1))


def zliar(path):
    """Format 4: a zstd frame (mkseeds' writer: a 1000-byte raw block, then
    RLE blocks) that decompresses to 8 MiB, in a frame stating 60000."""
    rnd = random.Random(4)
    data = bytes(rnd.getrandbits(8) for _ in range(1000)) + b"\0" * (8 * 1024 * 1024)
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<II", 4, 0) + head()
                + mkseeds.frame(b"SNAP", struct.pack("<I", 0), "zstd")
                + raw_frame(b"CHNK", mkseeds.zstd_frame(data), 60000) + trailer(1, 1))


def zbomb(path):
    """Format 4: 4 MiB of zeros after one real chunk header, stored in
    192 bytes (RLE blocks)."""
    raw = struct.pack("<QII", 5, 1, 1) + desc(1) + bytes([1, 0, 0, 0, 0x72, 0])
    raw += b"\0" * (4 * 1024 * 1024 - len(raw))
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<II", 4, 0) + head()
                + mkseeds.frame(b"SNAP", struct.pack("<I", 0), "zstd")
                + mkseeds.frame(b"CHNK", raw, "zstd") + trailer(1, 1))


def clock(path, offset):
    ds = [(1, 4, 40000, 80, 42, b"curl")]
    ev = [(1, 0, 0, 10, 0x72, 0, []), (1, 0, 0, 20, 0x21, 10, []),
          (1, 0x20, 0, 2**62, 0x17, 5, [1, 2, 3, 4, 0, 1, 55, 0])]
    with open(path, "wb") as f:
        f.write(preamble() + head(offset) + snap([mkseeds.sock(0, 4)])
                + mkseeds.chunk(5, ev, ds) + trailer(3, 1))


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda n: os.path.join(out, n)  # noqa: E731
    snap_frames(p("snap_frames.cap"))
    snap_total(p("snap_total.cap"))
    samples(p("samples.cap"))
    conns(p("conns.cap"))
    zipbomb(p("zipbomb.cap"))
    liar(p("liar.cap"))
    zliar(p("zliar.cap"))
    zbomb(p("zbomb.cap"))
    clock(p("clock_max.cap"), 2**63 - 1)
    clock(p("clock_min.cap"), -2**63)


if __name__ == "__main__":
    main(sys.argv[1])
