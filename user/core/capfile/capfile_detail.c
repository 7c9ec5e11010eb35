// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Details (format 3): the type-specific section an event may carry after
 * its common fields.  The section is a list of items, each a tag byte, a
 * varint length and that many bytes in a fixed little-endian layout of
 * its own.  A reader skips the items it does not know and ignores the
 * bytes past the fields it knows (an item may grow at its end), so new
 * details need no new format version.  docs/CAPTURE_FORMAT.md lists the
 * tags.
 */
#include "core/capfile/capfile_int.h"
#include <errno.h>

/* struct ts_rtx_info, field by field: 8 u32, u16, 7 u8. */
#define RTX_LEN 41

static size_t rtx_put(uint8_t *p, const struct ts_rtx_info *x)
{
	put_u32(p, x->seq);
	put_u32(p + 4, x->end_seq);
	put_u32(p + 8, x->isn);
	put_u32(p + 12, x->snd_una);
	put_u32(p + 16, x->snd_nxt);
	put_u32(p + 20, x->rto_us);
	put_u32(p + 24, x->srtt_us);
	put_u32(p + 28, x->total_retrans);
	put_u16(p + 32, x->segs);
	p[34] = x->tcp_flags;
	p[35] = x->ca_state;
	p[36] = x->pending;
	p[37] = x->retransmits;
	p[38] = x->backoff;
	p[39] = x->sacked;
	p[40] = x->flags;
	return RTX_LEN;
}

static void rtx_get(const uint8_t *p, struct ts_rtx_info *x)
{
	memset(x, 0, sizeof(*x));
	x->seq = get_u32(p);
	x->end_seq = get_u32(p + 4);
	x->isn = get_u32(p + 8);
	x->snd_una = get_u32(p + 12);
	x->snd_nxt = get_u32(p + 16);
	x->rto_us = get_u32(p + 20);
	x->srtt_us = get_u32(p + 24);
	x->total_retrans = get_u32(p + 28);
	x->segs = get_u16(p + 32);
	x->tcp_flags = p[34];
	x->ca_state = p[35];
	x->pending = p[36];
	x->retransmits = p[37];
	x->backoff = p[38];
	x->sacked = p[39];
	x->flags = p[40];
}

/* One item: tag, varint length, the payload put() wrote at p + 2. */
static size_t item(uint8_t *p, uint8_t tag, size_t len)
{
	/* Every payload is shorter than 128 bytes: a one-byte varint. */
	p[0] = tag;
	p[1] = (uint8_t)len;
	return 2 + len;
}

/* struct ts_synack_info: u64 first_synack_ns, u32 num_retrans. */
#define SYNACK_LEN 12
/* struct ts_hs_info: u32 synack_rtt_us, u32 synack_retrans. */
#define HS_LEN 8

static bool is_established_from_syn_recv(const struct ts_rec *r)
{
	return r->type == TS_REC_STATE && r->old_state == TS_SYN_RECV &&
	       r->new_state == TS_ESTABLISHED;
}

size_t ts_cap_details_put(uint8_t *p, const struct ts_rec *r)
{
	size_t n = 0;

	if (r->has_rtx && r->type == TS_REC_RETRANS)
		n += item(p + n, TS_CAPD_RTX, rtx_put(p + n + 2, &r->rtx));
	if (r->has_synack && r->type == TS_REC_SYNACK_RETRANS) {
		put_u64(p + n + 2, r->synack.first_synack_ns);
		put_u32(p + n + 10, r->synack.num_retrans);
		n += item(p + n, TS_CAPD_SYNACK, SYNACK_LEN);
	}
	if (r->has_hs && is_established_from_syn_recv(r)) {
		put_u32(p + n + 2, r->hs.synack_rtt_us);
		put_u32(p + n + 6, r->hs.synack_retrans);
		n += item(p + n, TS_CAPD_HS, HS_LEN);
	}
	return n;
}

static bool varint_len(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (p == end)
			return false;
		x |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*v = x;
			*pp = p;
			return true;
		}
	}
	return false;
}

int ts_cap_details_get(const uint8_t *p, size_t len, struct ts_rec *out)
{
	const uint8_t *end = p + len;

	while (p < end) {
		uint8_t tag = *p++;
		uint64_t ilen;

		if (!varint_len(&p, end, &ilen) || ilen > (uint64_t)(end - p))
			return -EINVAL;
		switch (tag) {
		case TS_CAPD_RTX:
			/* Only a retransmission has one, and once. */
			if (ilen < RTX_LEN || out->type != TS_REC_RETRANS || out->has_rtx)
				return -EINVAL;
			rtx_get(p, &out->rtx);
			out->has_rtx = true;
			break;
		case TS_CAPD_SYNACK:
			if (ilen < SYNACK_LEN || out->type != TS_REC_SYNACK_RETRANS ||
			    out->has_synack)
				return -EINVAL;
			memset(&out->synack, 0, sizeof(out->synack));
			out->synack.first_synack_ns = get_u64(p);
			out->synack.num_retrans = get_u32(p + 8);
			out->has_synack = true;
			break;
		case TS_CAPD_HS:
			if (ilen < HS_LEN || !is_established_from_syn_recv(out) || out->has_hs)
				return -EINVAL;
			out->hs.synack_rtt_us = get_u32(p);
			out->hs.synack_retrans = get_u32(p + 4);
			out->has_hs = true;
			break;
		default:
			/* A detail from a later tcpscope: skipped. */
			break;
		}
		p += ilen;
	}
	return 0;
}
