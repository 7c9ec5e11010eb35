#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Write seeds for fuzz_capfile into DIR: capture files built straight from
docs/CAPTURE_FORMAT.md (a second, independent writer), each prefixed with
the target's mode byte: 0 a whole file, 1 a raw chunk payload, 2 a raw
snapshot payload, 0x10 a chunk's raw length and stored zstd frame; modes
1, 2 and 0x10 then carry 24 bytes of header clocks (start, wall-clock
offset, --at delta) before the payload.

    mkseeds.py DIR [fuzz_parse]   the seeds of fuzz_parse instead"""
import os
import struct
import sys
import zlib

MAGIC = b"\x89TSCAP\r\n"


def zstd_frame(payload):
    """One zstd frame (RFC 8878) of Raw and RLE blocks: no entropy coding,
    so no zstd library is needed; a run of 16 or more equal bytes becomes
    an RLE block.  Single segment, 4-byte content size, no checksum."""
    blocks, i, lit = [], 0, b""  # (Block_Type, Block_Size, Block_Content)
    while i <= len(payload):
        j = i
        while j < len(payload) and payload[j] == payload[i] and j - i < 1 << 17:
            j += 1
        if j - i >= 16 or j == len(payload):
            lit += payload[i:j] if j - i < 16 else b""
            for k in range(0, len(lit), 1 << 17):  # Block_Maximum_Size 128 KiB
                blocks.append((0, len(lit[k:k + (1 << 17)]), lit[k:k + (1 << 17)]))
            lit = b""
            if j - i >= 16:
                blocks.append((1, j - i, payload[i:i + 1]))
            if j == len(payload):
                break
        else:
            lit += payload[i:j]
        i = j
    if not blocks:
        blocks.append((0, 0, b""))
    out = struct.pack("<IBI", 0xFD2FB528, 0xA0, len(payload))
    for n, (typ, size, content) in enumerate(blocks):
        hdr = (size << 3) | (typ << 1) | (n == len(blocks) - 1)
        out += struct.pack("<I", hdr)[:3] + content
    return out


def frame(typ, payload, compress):
    raw = len(payload)
    if compress == "zstd":
        stored = zstd_frame(payload)
    else:
        stored = zlib.compress(payload, 6) if compress else payload
    hdr = typ + struct.pack("<II", len(stored), raw)
    crc = zlib.crc32(stored, zlib.crc32(hdr))
    return hdr + struct.pack("<I", crc) + stored


def s16(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def head():
    p = struct.pack("<QqIIHHHBB", 1000, 1700000000 * 10**9, 0, 0, 80, 0, 0, 4, 0)
    return frame(b"HEAD", p + s16("seedhost") + s16("6.18.0") + s16("tcpscope record -w x"), False)


def sock(i, fam):
    return (struct.pack("<QQIIIIIiHHBBBBB", 100 + i, 7000 + i, 4026531840, 0, 42, 0, 1, 500,
                        8080, 40000 + i, fam, 1 + i % 11, i % 5, 0, 0)
            + bytes([127, 0, 0, 1] + [0] * 12) + bytes([127, 0, 0, 2] + [0] * 12)
            + b"srv".ljust(16, b"\0"))


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zz(v):
    return (v << 1) ^ (v >> 63) if v >= 0 else ((-v) << 1) - 1


def chunk_raw(base, events, descs, version=1):
    d = b""
    for conn, fam, sport, dport, pid, comm in descs:
        alen = 16 if fam == 6 else 4
        d += struct.pack("<QBHHII", conn, fam, sport, dport, pid, 4026531840)
        d += bytes([1] * alen) + bytes([2] * alen) + bytes([len(comm)]) + comm
        if version >= 2:  # cgroup id and path
            d += struct.pack("<QH", 77, 5) + b"/a/b1"
    e = b""
    last = base
    for ev in events:
        typ, flags, idx, ts, states, nio, stats = ev[:7]
        detail = ev[7] if len(ev) > 7 else b""
        if typ in (64, 65):  # loss and (format 3) suppressed drops
            e += bytes([typ, 0]) + varint(zz(ts - last)) + varint(idx)
        else:
            e += bytes([typ | (0x80 if detail else 0), flags]) + varint(idx)
            e += varint(zz(ts - last)) + bytes([states])
            e += varint(nio) + b"".join(varint(x) for x in stats)
            if detail:  # format 3: section length, then tag/length/bytes items
                e += varint(len(detail)) + detail
        last = ts
    return struct.pack("<QII", base, len(events), len(descs)) + d + e


def chunk(base, events, descs, version=1):
    """Format 4 on: the payload is a zstd frame (1 to 3: zlib)."""
    return frame(b"CHNK", chunk_raw(base, events, descs, min(version, 3)),
                 "zstd" if version >= 4 else True)


def rtx_item(seq, end, isn, rto_us, retransmits, backoff, ca_state=0, pending=0, flags=7):
    """Format 3 detail item 1: struct ts_rtx_info, 41 bytes."""
    b = struct.pack("<IIIIIIIIHBBBBBBB", seq, end, isn, seq, end, rto_us, 1500, 1, 1, 0x18,
                    ca_state, pending, retransmits, backoff, 0, flags)
    return bytes([1, len(b)]) + b


def name(n):
    return bytes([len(n)]) + n


def drop_item(reason, seq, base, rname, where):
    """Format 3 detail item 4: a drop, 35 bytes and two names."""
    b = struct.pack("<IBBIIIQIIB", reason, 1, 0x18, seq, 7, 1000, 0xffffffff81c0009a, 0x9a,
                    base, 1) + name(rname) + name(where)
    return bytes([4]) + varint(len(b)) + b


def rst_item(reason, hint, rname):
    """Format 3 detail item 5: a reset's reason."""
    b = bytes([reason, hint]) + name(rname)
    return bytes([5]) + varint(len(b)) + b


def trailer(events, lost, chunks):
    return frame(b"TRLR", struct.pack("<QQQQ", events, lost, chunks, 99), False)


def main(out):
    os.makedirs(out, exist_ok=True)
    descs = [(1, 4, 0, 80, 42, b"curl"), (1, 4, 5000, 80, 42, b"curl"),
             (2, 6, 80, 5000, 43, b"nginx-worker")]
    ev1 = [(1, 2, 0, 10, 0x72, 0, []), (1, 0, 1, 20, 0x21, 10, []),
           (2, 0, 1, 25, 0x11, 0, []), (1, 0x21, 2, 30, 0x57, 3, [1, 2, 3, 4, 0, 1, 55, 104]),
           (64, 0, 7, 31, 0, 0, []), (5, 0, 2, 40, 0x55, 0, [])]
    files = {
        "basic.cap": head() + frame(b"SNAP", struct.pack("<I", 3) + sock(0, 4) + sock(1, 6)
                                    + sock(2, 4), True)
        + chunk(5, ev1, descs) + chunk(50, ev1[:2], descs[:2]) + trailer(7, 7, 2),
        "nosnap.cap": head() + frame(b"SNAP", struct.pack("<I", 0), True) + chunk(5, ev1, descs)
        + trailer(5, 7, 1),
        "killed.cap": head() + frame(b"SNAP", struct.pack("<I", 0), True) + chunk(5, ev1, descs),
    }
    # Format 3: retransmissions with details (RTO backoff, a fast
    # retransmit), an unknown detail tag and an unknown record type.
    ev3 = [(1, 2, 0, 10, 0x72, 0, []), (1, 0, 1, 20, 0x21, 10, []),
           (2, 0, 1, 25, 0x11, 0, [], rtx_item(1001, 2001, 1000, 204000, 0, 0)),
           (2, 0, 1, 230, 0x11, 0, [], rtx_item(1001, 2001, 1000, 408000, 1, 1)),
           (2, 0, 1, 240, 0x11, 0, [], bytes([99, 2, 0, 0]) + rtx_item(5001, 6001, 1000, 204000,
                                                                   0, 0, 3, 1)),
           (9, 0, 1, 245, 0x11, 0, [], bytes([50, 1, 7])),
           (6, 4, 1, 250, 0x11, 0, [], drop_item(12, 2001, 1000, b"NETFILTER_DROP",
                                                  b"nf_hook_slow")),
           (6, 4, 1, 251, 0x00, 0, [], drop_item(3, 77, 0, b"NO_SOCKET", b"")),
           (65, 0, 1234, 252, 0, 0, []),
           (4, 0, 1, 260, 0x11, 0, [], rst_item(12, 2, b"TCP_ABORT_ON_CLOSE")),
           (1, 0x21, 2, 300, 0x57, 3, [1, 2, 3, 4, 0, 1, 55, 104])]
    files["details.cap"] = (head() + frame(b"SNAP", struct.pack("<I", 0), True)
                            + chunk(5, ev3, descs, 3) + trailer(11, 0, 1))
    # Format 4: zstd frames (zstd_frame: Raw and RLE blocks).
    files["details4.cap"] = (head() + frame(b"SNAP", struct.pack("<I", 3) + sock(0, 4)
                                            + sock(1, 6) + sock(2, 4), "zstd")
                             + chunk(5, ev3, descs, 4) + chunk(300, ev1[:2], descs[:2], 4)
                             + trailer(13, 0, 2))
    for name, body in files.items():
        version = {"details.cap": 3, "details4.cap": 4}.get(name, 1)
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"\0" + MAGIC + struct.pack("<II", version, 0) + body)
    clocks = {"": struct.pack("<QqQ", 1000, 1700000000 * 10**9, 10**9),
              "_maxclock": struct.pack("<QqQ", 2**64 - 1, 2**63 - 1, 2**64 - 1),
              "_minclock": struct.pack("<QqQ", 0, -2**63, 2**63)}
    for tag, c in clocks.items():
        with open(os.path.join(out, "chunk%s.raw" % tag), "wb") as f:
            f.write(b"\1" + c + chunk_raw(5, ev1, descs))
        with open(os.path.join(out, "chunk3%s.raw" % tag), "wb") as f:
            f.write(b"\1" + c + chunk_raw(5, ev3, descs, 3))
        # Mode 0x10 (a chunk, 16 % 3 == 1): raw length, then a stored zstd
        # frame the target does not compress again.
        raw3 = chunk_raw(5, ev3, descs, 3)
        with open(os.path.join(out, "zchunk%s.raw" % tag), "wb") as f:
            f.write(b"\x10" + c + struct.pack("<I", len(raw3)) + zstd_frame(raw3))
        with open(os.path.join(out, "snap%s.raw" % tag), "wb") as f:
            f.write(b"\2" + c + struct.pack("<I", 3) + sock(0, 4) + sock(1, 6) + sock(2, 4))


def parse_seeds(out):
    """fuzz_parse: selector, 16 bytes of clocks, the string."""
    os.makedirs(out, exist_ok=True)
    c = struct.pack("<Qq", 1000, 1700000000 * 10**9)
    seeds = [(0, "8080"), (1, "65535"), (2, "16M"), (2, "1G"), (3, "1.5"), (3, "250ms"),
             (4, "+5s"), (4, "2026-11-21T12:00:05Z"), (4, "2026-11-21T13:00:05.25+01:00"),
             (4, "2300-01-01T00:00:00Z"), (5, "curl"), (5, "\x1b]0;pwn\x07\x1b[2J\xff\xc3"),
             (5, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d \xc2\x9b"),
             (6, "ffffffff81000000 T _stext\nffffffff81000000 T startup_64\n"
                 "ffffffff81a00100 t tcp_v4_rcv\nffffffff81b00000 D some_data\n"
                 "0000000000000000 T hidden\nffffffffc0001000 t nft_do_chain\t[nf_tables]\n"
                 "ffffffff81a00000 T ip_rcv\ngarbage\nffffffff81c00000 t bad\x1bname\n"
                 "ffffffff81f00000 T last")]
    for i, (sel, text) in enumerate(seeds):
        with open(os.path.join(out, "seed%02d" % i), "wb") as f:
            f.write(bytes([sel]) + c + text.encode("latin-1"))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "fuzz_parse":
        parse_seeds(sys.argv[1])
    else:
        main(sys.argv[1])
