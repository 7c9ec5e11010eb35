/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internals shared by the capture writer and reader: byte order, varints,
 * frame types.  Everything on disk is little-endian.
 */
#ifndef TS_CAPFILE_INT_H
#define TS_CAPFILE_INT_H

#include "core/capfile/capfile.h"
#include <stdint.h>
#include <string.h>

/* "\x89TSCAP\r\n": a high byte and CR LF catch 7-bit and text transfers. */
extern const uint8_t ts_cap_magic[8];

/* Frame types, four ASCII letters read as a little-endian u32. */
#define TS_FRAME(a, b, c, d)                                                                       \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TS_FR_HEAD TS_FRAME('H', 'E', 'A', 'D')
#define TS_FR_SNAP TS_FRAME('S', 'N', 'A', 'P')
#define TS_FR_CHNK TS_FRAME('C', 'H', 'N', 'K')
#define TS_FR_TRLR TS_FRAME('T', 'R', 'L', 'R')

#define TS_CAP_SOCK_LEN 97   /* one struct ts_sock in a SNAP frame */
#define TS_CAP_SNAP_MAX 8192 /* sockets per SNAP frame */
#define TS_CAP_TRLR_LEN 32
#define TS_CAP_TRLR_LEN_UNWRITTEN 40 /* with the count of unwritten events */
#define TS_CAP_CHUNK_HDR 16  /* u64 base_ts, u32 nevents, u32 ndesc */
#define TS_CAP_DESC_FIXED 21 /* conn, family, ports, pid, netns */
#define TS_CAP_DESC_MIN 30   /* v4 descriptor with an empty comm */
#define TS_CAP_DESC_MAX (70 + 10 + TS_CAP_MAX_CGROUP) /* v6, 16-byte comm, cgroup */
/* Format 3: an event's type byte with this bit carries a detail section
 * (varint length, then items: tag, varint length, bytes). */
#define TS_CAP_EV_DETAIL 0x80
#define TS_CAP_DETAIL_MAX 1024 /* bytes of one event's detail section */
/* type, flags, 3 varints, states, 8 stats, the detail section */
#define TS_CAP_EVENT_MAX (120 + 2 + TS_CAP_DETAIL_MAX)
#define TS_CAP_EVENT_MIN 4   /* loss record: type, flags, 1-byte varints */

static inline void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* LEB128: seven bits a byte, low bits first.  Returns bytes written. */
static inline int put_varint(uint8_t *p, uint64_t v)
{
	int n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Detail item tags (docs/CAPTURE_FORMAT.md); 0 is never used. */
enum ts_cap_detail_tag {
	TS_CAPD_RTX = 1,    /* struct ts_rtx_info of a retransmission */
	TS_CAPD_SYNACK = 2, /* struct ts_synack_info of a SYN-ACK retransmission */
	TS_CAPD_HS = 3,	    /* struct ts_hs_info of SYN_RECV -> ESTABLISHED */
	TS_CAPD_DROP = 4,   /* a dropped segment, with its reason's and place's names */
	TS_CAPD_RST = 5,    /* a reset's reason (value, hints, name) */
};

struct ts_capr;
/*
 * A kernel name (reason, function) read from a capture: checked
 * (ts_kname_ok), interned for the reader's life; NULL when refused or
 * when the reader already holds TS_CAPR_MAX_NAMES distinct ones.
 */
#define TS_CAPR_MAX_NAMES 1024
const char *ts_capr__intern_name(struct ts_capr *r, const uint8_t *p, size_t len);

/*
 * The detail items of r at p (at most TS_CAP_DETAIL_MAX bytes); returns
 * their length, 0 when r has none.
 */
size_t ts_cap_details_put(uint8_t *p, const struct ts_rec *r);
/* Read the items of a detail section into out (whose type is set);
 * unknown tags are skipped.  Returns 0 or -EINVAL. */
int ts_cap_details_get(const uint8_t *p, size_t len, struct ts_rec *out,
		       struct ts_capr *r);

/* Serialise one socket into TS_CAP_SOCK_LEN bytes and back. */
void ts_cap_sock_put(uint8_t *p, const struct ts_sock *s);
/* Returns 0, or -EINVAL for an impossible family or state. */
int ts_cap_sock_get(const uint8_t *p, struct ts_sock *s);

/* Header payload; returns its length (at most TS_CAP_MAX_HEAD). */
size_t ts_cap_head_put(uint8_t *p, const struct ts_cap_header *h);
/* Returns 0 or -EINVAL; *what says which field is wrong. */
int ts_cap_head_get(const uint8_t *p, size_t len, struct ts_cap_header *h, const char **what);

#endif
