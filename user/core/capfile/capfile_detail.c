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
#include "core/stream/knames.h"

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

/*
 * A drop: u32 reason, u8 dir, u8 tcp_flags, u32 seq, ack, len, u64
 * location, u32 where_off, u32 seq_base, u8 flags (1: seq_base known)
 * (35 bytes), then the reason's name and the
 * function's, each u8 length and bytes (0: unknown).  Names travel with
 * the records so that a report elsewhere names them as the recording
 * kernel did.
 */
#define DROP_LEN 35

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n > TS_KNAME_MAX)
		n = 0;
	p[0] = (uint8_t)n;
	memcpy(p + 1, name ? name : "", n);
	return 1 + n;
}

static size_t drop_put(uint8_t *p, const struct ts_rec *r)
{
	size_t n = DROP_LEN;

	put_u32(p, r->drop.reason);
	p[4] = r->drop.dir;
	p[5] = r->drop.tcp_flags;
	put_u32(p + 6, r->drop.seq);
	put_u32(p + 10, r->drop.ack);
	put_u32(p + 14, r->drop.len);
	put_u64(p + 18, r->drop.location);
	put_u32(p + 26, r->where ? r->where_off : 0);
	put_u32(p + 30, r->drop.seq_base);
	p[34] = r->drop.has_base ? 1 : 0;
	n += put_name(p + n, r->reason_name);
	n += put_name(p + n, r->where);
	return n;
}

/* A name at *p (u8 length, bytes) within end; false when cut. */
static bool get_name(const uint8_t **p, const uint8_t *end, struct ts_capr *r,
		     const char **out)
{
	size_t n;

	if (*p >= end)
		return false;
	n = **p;
	if ((size_t)(end - *p - 1) < n)
		return false;
	*out = n ? ts_capr__intern_name(r, *p + 1, n) : NULL;
	*p += 1 + n;
	return true;
}

static int drop_get(const uint8_t *p, size_t len, struct ts_rec *out, struct ts_capr *r)
{
	const uint8_t *q = p + DROP_LEN, *end = p + len;

	if (len < DROP_LEN)
		return -EINVAL;
	out->drop.reason = get_u32(p);
	out->drop.dir = p[4];
	out->drop.tcp_flags = p[5];
	out->drop.seq = get_u32(p + 6);
	out->drop.ack = get_u32(p + 10);
	out->drop.len = get_u32(p + 14);
	out->drop.location = get_u64(p + 18);
	out->where_off = get_u32(p + 26);
	out->drop.seq_base = get_u32(p + 30);
	out->drop.has_base = p[34] & 1;
	if (out->drop.dir != TS_DROP_IN && out->drop.dir != TS_DROP_OUT)
		return -EINVAL;
	if (!get_name(&q, end, r, &out->reason_name) || !get_name(&q, end, r, &out->where))
		return -EINVAL;
	if (!out->where)
		out->where_off = 0;
	return 0;
}

/* A reset sent: u8 rst_reason (+1, 0 none), u8 rst_hint, then its name. */
static size_t rst_put(uint8_t *p, const struct ts_rec *r)
{
	p[0] = r->rst_reason;
	p[1] = r->rst_hint;
	return 2 + put_name(p + 2, r->reason_name);
}

static int rst_get(const uint8_t *p, size_t len, struct ts_rec *out, struct ts_capr *r)
{
	const uint8_t *q = p + 2;

	if (len < 2)
		return -EINVAL;
	out->rst_reason = p[0];
	out->rst_hint = p[1];
	return get_name(&q, p + len, r, &out->reason_name) ? 0 : -EINVAL;
}

/* An item whose payload may pass 127 bytes: tag, varint length, payload. */
static size_t item_long(uint8_t *p, uint8_t tag, const uint8_t *payload, size_t len)
{
	size_t n = 1;

	p[0] = tag;
	n += put_varint(p + 1, len);
	memcpy(p + n, payload, len);
	return n + len;
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

	uint8_t buf[DROP_LEN + 2 * (TS_KNAME_MAX + 1)];

	if (r->has_rtx && r->type == TS_REC_RETRANS)
		n += item(p + n, TS_CAPD_RTX, rtx_put(p + n + 2, &r->rtx));
	if (r->type == TS_REC_DROP)
		n += item_long(p + n, TS_CAPD_DROP, buf, drop_put(buf, r));
	if (r->type == TS_REC_RESET_SENT && (r->rst_reason || r->rst_hint || r->reason_name))
		n += item_long(p + n, TS_CAPD_RST, buf, rst_put(buf, r));
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

int ts_cap_details_get(const uint8_t *p, size_t len, struct ts_rec *out,
		       struct ts_capr *r)
{
	const uint8_t *end = p + len;
	bool drop = false, rst = false;

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
		case TS_CAPD_DROP:
			if (out->type != TS_REC_DROP || drop ||
			    drop_get(p, (size_t)ilen, out, r))
				return -EINVAL;
			drop = true;
			break;
		case TS_CAPD_RST:
			if (out->type != TS_REC_RESET_SENT || rst ||
			    rst_get(p, (size_t)ilen, out, r))
				return -EINVAL;
			rst = true;
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
	/* A drop without its detail says nothing: damage. */
	return out->type == TS_REC_DROP && !drop ? -EINVAL : 0;
}
