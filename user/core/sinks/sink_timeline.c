// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Timeline sinks: one block of text, or one JSON object, per connection
 * when the tracker finishes it.  Loss records are still shown as they come.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/escape.h"
#include "core/util/fmt.h"
#include "core/util/fmt_fixed.h"
#include "core/util/tbuf.h"
#include "core/util/jsonw.h"
#include "core/sinks/sinks.h"
#include "core/sinks/colors.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/rtx.h"

/*
 * The text is built in the sink's buffer (core/util/tbuf.h) and written
 * when the buffer fills and when the pipeline flushes (after each batch
 * of records, live or from a file), not at the end of each connection:
 * stdio's work per write was 5 % of the sink's.  printf's
 * format parsing and its floating-point conversions were two thirds of
 * the tracer's CPU time under connection churn.  Every piece is written
 * byte for byte as the format strings of the older code wrote it (the
 * comments give them).
 */

/* A process name and its escaped text: most connections share a few. */
struct esc_cache {
	bool valid;
	char raw[TS_COMM_LEN + 1];
	char esc[TS_ESC_LEN(TS_COMM_LEN)];
	size_t len;
};

/*
 * The middle of a step line, from the transition's colour to the label
 * (and its padding): the same bytes for every step of one kind, so each
 * kind is made once and copied after.  Direct-mapped by (from, to, label);
 * a slot is replaced when another kind maps to it, and a text that does
 * not fit (never, with the tracker's labels) is made each time.
 * Memory: STEP_SLOTS * sizeof(struct step_text), about 50 KiB a sink.
 */
#define STEP_SLOTS 256
#define STEP_TEXT_MAX 192 /* a multiple of 32: copied in 32-byte blocks */

#define STEP_TAIL_MAX 24

struct step_text {
	const char *label; /* NULL: empty slot; the tracker's labels are static */
	uint32_t key;	   /* step_key() of what it was made from */
	uint8_t len;
	/* Text: what follows the time in the old state, "ms in %s" of the
	 * step's first state (tail_len bytes). */
	uint8_t tail_len;
	char tail[STEP_TAIL_MAX];
	char text[STEP_TEXT_MAX];
};

/*
 * The text of an address with what surrounds it in an endpoint ("[v6]:"
 * or "v4:"), the port left to add: most connections share a few
 * addresses (every one of a loopback test, both ends of each).
 * Direct-mapped by the address; each slot serves the exact family and 16
 * bytes it was made from.  Memory: ADDR_SLOTS * 82 bytes.
 */
#define ADDR_SLOTS 16
#define ADDR_TEXT_MAX 64

struct addr_text {
	uint8_t addr[TS_ADDR_LEN];
	uint8_t family;
	uint8_t len; /* 0: empty */
	char text[ADDR_TEXT_MAX];
};

struct timeline_sink {
	FILE *f;
	struct ts_meta meta;
	struct esc_cache comm[2]; /* the owner's, the listener's */
	struct ts_tbuf out;
	bool json; /* the steps' texts are JSON's */
	struct addr_text addrs[ADDR_SLOTS];
	struct step_text steps[STEP_SLOTS];
};

/* Retransmitted / sent segments, in percent; < 0 when unknown. */
static double retrans_pct(const struct ts_conn *c)
{
	if (!c->has_stats || !c->st.segs_out)
		return -1;
	return 100.0 * c->st.total_retrans / c->st.segs_out;
}

/* sign "%.3fms" of ns / 1e6 into t (room for TS_FIXED_LEN + 3). */
static size_t time_text(char *t, char sign, uint64_t ns)
{
	size_t n = 1;

	t[0] = sign;
	n += ts_put_ms3(t + n, ns);
	t[n++] = 'm';
	t[n++] = 's';
	return n;
}

/* A process name escaped for the terminal, from the cache when it is
 * the name before; returns its length. */
static const char *escaped(struct esc_cache *e, const char *comm, size_t *len)
{
	if (!e->valid || strcmp(e->raw, comm)) {
		size_t n = strnlen(comm, TS_COMM_LEN);

		memcpy(e->raw, comm, n);
		e->raw[n] = '\0';
		/* A longer name (never, from the tracker) is not cached. */
		if (comm[n]) {
			e->valid = false;
			ts_escape(e->esc, sizeof(e->esc), comm);
			*len = strlen(e->esc);
			return e->esc;
		}
		ts_escape(e->esc, sizeof(e->esc), e->raw);
		e->len = strlen(e->esc);
		e->valid = true;
	}
	*len = e->len;
	return e->esc;
}

static int timeline_rec(void *priv, const struct ts_rec *r)
{
	struct timeline_sink *s = priv;

	if (r->type != TS_REC_LOST)
		return 0;
	/* After the connections before it. */
	ts_tbuf__flush(&s->out);
	ts_text_write_rec(s->f, r, &s->meta);
	return ts_tbuf__error(&s->out);
}

static int timeline_lost_json(void *priv, const struct ts_rec *r)
{
	struct timeline_sink *s = priv;

	if (r->type != TS_REC_LOST)
		return 0;
	ts_json_write_rec(s->f, r, &s->meta);
	return ts_sink_werr(s->f);
}

/* How it ended, coloured as its closing step would be. */
static const char *close_color(enum ts_close_kind k)
{
	switch (k) {
	case TS_CLOSE_RESET_SENT:
	case TS_CLOSE_RESET_RECEIVED:
	case TS_CLOSE_REFUSED:
		return TS_C_RED;
	case TS_CLOSE_TIMEOUT:
		return TS_C_MAGENTA;
	case TS_CLOSE_ACTIVE:
	case TS_CLOSE_PASSIVE:
	case TS_CLOSE_SIMULTANEOUS:
		return TS_C_CYAN;
	default:
		return "";
	}
}

/*
 * "%s[%u] (listener %s[%u])", "%s[%u]" or "-" into o (room for
 * OWNER_LEN); returns its length.
 */
#define OWNER_LEN (2 * TS_ESC_LEN(TS_COMM_LEN) + 64)

static size_t owner_text(struct timeline_sink *s, char *o, const struct ts_conn *c)
{
	const char *e;
	size_t n = 0, len;

	if (!c->pid) {
		o[0] = '-';
		return 1;
	}
	e = escaped(&s->comm[0], c->comm, &len);
	memcpy(o, e, len);
	n = len;
	o[n++] = '[';
	n += ts_put_u32_small(o + n, c->pid);
	o[n++] = ']';
	if (c->listener_pid && c->listener_pid != c->pid) {
		memcpy(o + n, " (listener ", 11);
		n += 11;
		e = escaped(&s->comm[1], c->listener_comm, &len);
		memcpy(o + n, e, len);
		n += len;
		o[n++] = '[';
		n += ts_put_u32_small(o + n, c->listener_pid);
		o[n++] = ']';
		o[n++] = ')';
	}
	return n;
}

/* ts_put_endpoint(p, family, addr, port, NULL), the address's text from
 * the sink's cache (room for TS_ENDPOINT_LEN(0) + ADDR_TEXT_MAX). */
static size_t put_endpoint(struct timeline_sink *s, char *p, uint8_t family,
			   const uint8_t *addr, uint16_t port)
{
	uint32_t w[TS_ADDR_LEN / 4], h = family;
	struct addr_text *a;
	size_t n;

	memcpy(w, addr, sizeof(w));
	for (size_t i = 0; i < TS_ADDR_LEN / 4; i++)
		h = (h ^ w[i]) * 0x9e3779b1u;
	a = &s->addrs[h >> 28 & (ADDR_SLOTS - 1)];
	if (!a->len || a->family != family || memcmp(a->addr, addr, TS_ADDR_LEN)) {
		char t[TS_ENDPOINT_LEN(0)];

		/* The endpoint with port 0 ends in ":*": keep what comes
		 * before the '*'. */
		n = ts_put_endpoint(t, family, addr, 0, NULL) - 1;
		if (n > ADDR_TEXT_MAX || n > UINT8_MAX) {
			a->len = 0;
			return ts_put_endpoint(p, family, addr, port, NULL);
		}
		memcpy(a->text, t, n);
		memcpy(a->addr, addr, TS_ADDR_LEN);
		a->family = family;
		a->len = (uint8_t)n;
	}
	/* A fixed-size copy: the caller's room covers the whole slot. */
	memcpy(p, a->text, ADDR_TEXT_MAX);
	n = a->len;
	if (!port)
		p[n++] = '*';
	else
		n += ts_put_u32_small(p + n, port);
	return n;
}

/* Copy a string literal to p + n, adding its length to n. */
#define PUT_LIT(p, n, lit)                               \
	do {                                             \
		memcpy((p) + (n), "" lit, sizeof(lit) - 1); \
		(n) += sizeof(lit) - 1;                  \
	} while (0)

/* The same for a string whose length is not known when compiling. */
static inline size_t put_str(char *p, const char *str)
{
	size_t len = strlen(str);

	memcpy(p, str, len);
	return len;
}

/* Room for either header: at most about 700 bytes (two escaped names,
 * two IPv6 endpoints, every counter at its largest). */
#define HEADER_ROOM 1024

/* "%sconn %" PRIu64 "%s": the connection's number, bold in colour. */
static size_t put_conn_id(const struct timeline_sink *s, char *p, const struct ts_conn *c)
{
	size_t n = 0;

	if (s->meta.color)
		PUT_LIT(p, n, TS_C_BOLD);
	PUT_LIT(p, n, "conn ");
	n += ts_put_u64_small(p + n, c->id);
	if (s->meta.color)
		PUT_LIT(p, n, TS_C_RESET);
	return n;
}

/* "close=%s%s%s": the close kind in its colour. */
static size_t put_close(const struct timeline_sink *s, char *p, const struct ts_conn *c)
{
	const char *cc = s->meta.color ? close_color(c->close) : "";
	size_t n = 0;

	PUT_LIT(p, n, "close=");
	n += put_str(p + n, cc);
	n += put_str(p + n, ts_close_name(c->close));
	if (*cc)
		PUT_LIT(p, n, TS_C_RESET);
	return n;
}

/* "%s -> %s" of the two endpoints; "  peer %" PRIu64 when paired. */
static size_t put_tuple(struct timeline_sink *s, char *p, const struct ts_conn *c, bool peer)
{
	size_t n = put_endpoint(s, p, c->family, c->saddr, c->sport);

	PUT_LIT(p, n, " -> ");
	n += put_endpoint(s, p + n, c->family, c->daddr, c->dport);
	if (peer && c->peer) {
		PUT_LIT(p, n, "  peer ");
		n += ts_put_u64_small(p + n, c->peer);
	}
	return n;
}

/*
 * "  handshake %s  lifetime %s  retransmits syn=%u synack=%u data=%u
 * fin=%u"; the handshake "%.3fms" or "-", and what it counts from (a
 * server's counts from its first SYN-ACK: say so).
 */
static size_t put_times(char *p, const struct ts_conn *c)
{
	size_t n = 0;

	PUT_LIT(p, n, "  handshake ");
	if (c->handshake_ns >= 0) {
		n += ts_put_ms3(p + n, (uint64_t)c->handshake_ns);
		PUT_LIT(p, n, "ms");
	} else {
		p[n++] = '-';
	}
	if (c->hs_basis == TS_HS_FIRST_SYNACK)
		PUT_LIT(p, n, " (from the first SYN-ACK)");
	else if (c->hs_basis == TS_HS_SYNACK_RTT)
		PUT_LIT(p, n, " (SYN-ACK round trip)");
	PUT_LIT(p, n, "  lifetime ");
	n += ts_put_ms3(p + n, c->lifetime_ns);
	PUT_LIT(p, n, "ms  retransmits syn=");
	n += ts_put_u32_small(p + n, c->rtx[TS_RTX_SYN]);
	PUT_LIT(p, n, " synack=");
	n += ts_put_u32_small(p + n, c->rtx[TS_RTX_SYNACK]);
	PUT_LIT(p, n, " data=");
	n += ts_put_u32_small(p + n, c->rtx[TS_RTX_DATA]);
	PUT_LIT(p, n, " fin=");
	n += ts_put_u32_small(p + n, c->rtx[TS_RTX_FIN]);
	return n;
}

/*
 * "  rst sent=%u received=%u" when there were resets, "  segs_out %u
 * retrans %s%s%s%s" with the counters ("%.2f%%" or "-", flagged over 1 %);
 * 0 when there is nothing to say.
 */
static size_t put_counts(const struct timeline_sink *s, char *p, const struct ts_conn *c)
{
	bool col = s->meta.color;
	size_t n = 0;

	if (c->resets_sent || c->resets_received) {
		PUT_LIT(p, n, "  rst sent=");
		n += ts_put_u32_small(p + n, c->resets_sent);
		PUT_LIT(p, n, " received=");
		n += ts_put_u32_small(p + n, c->resets_received);
	}
	if (c->has_stats) {
		bool hot = retrans_pct(c) > 1.0;

		PUT_LIT(p, n, "  segs_out ");
		n += ts_put_u32_small(p + n, c->st.segs_out);
		PUT_LIT(p, n, "  retrans ");
		if (hot && col)
			PUT_LIT(p, n, TS_C_ALERT);
		if (c->st.segs_out) {
			n += ts_put_pct2(p + n, c->st.total_retrans, c->st.segs_out);
			p[n++] = '%';
		} else {
			p[n++] = '-';
		}
		if (hot)
			PUT_LIT(p, n, " (>1%: needs a look)");
		if (hot && col)
			PUT_LIT(p, n, TS_C_RESET);
	}
	return n;
}

/*
 * The wide header's two lines, built in one pass:
 * "%sconn %" PRIu64 "%s  %-8s %-24s %s -> %s  close=%s%s%s  sk:%" PRIx64
 * ["  peer %" PRIu64] "\n", then put_times(), put_counts() and "\n".
 */
static size_t header_wide(struct timeline_sink *s, char *p, const struct ts_conn *c)
{
	static const char spaces[24] = "                        ";
	size_t n, len;

	n = put_conn_id(s, p, c);
	PUT_LIT(p, n, "  ");
	/* %-8s, then %-24s of the owner: spaces, the text over them. */
	memcpy(p + n, spaces, 8);
	len = put_str(p + n, ts_role_name(c->role));
	n += len < 8 ? 8 : len;
	p[n++] = ' ';
	memcpy(p + n, spaces, 24);
	len = owner_text(s, p + n, c);
	n += len < 24 ? 24 : len;
	p[n++] = ' ';
	n += put_tuple(s, p + n, c, false);
	PUT_LIT(p, n, "  ");
	n += put_close(s, p + n, c);
	PUT_LIT(p, n, "  sk:");
	n += ts_put_x64(p + n, c->id);
	if (c->peer) {
		PUT_LIT(p, n, "  peer ");
		n += ts_put_u64_small(p + n, c->peer);
	}
	p[n++] = '\n';
	n += put_times(p + n, c);
	n += put_counts(s, p + n, c);
	p[n++] = '\n';
	return n;
}

/*
 * Three short lines instead of two long ones:
 * "%sconn %" PRIu64 "%s sk:%" PRIx64 "  %s  %s  close=%s%s%s\n", the
 * tuple, put_times(), and put_counts() when it says anything.
 */
static size_t header_compact(struct timeline_sink *s, char *p, const struct ts_conn *c)
{
	size_t n, k;

	n = put_conn_id(s, p, c);
	PUT_LIT(p, n, " sk:");
	n += ts_put_x64(p + n, c->id);
	PUT_LIT(p, n, "  ");
	n += put_str(p + n, ts_role_name(c->role));
	PUT_LIT(p, n, "  ");
	n += owner_text(s, p + n, c);
	PUT_LIT(p, n, "  ");
	n += put_close(s, p + n, c);
	PUT_LIT(p, n, "\n  ");
	n += put_tuple(s, p + n, c, true);
	p[n++] = '\n';
	n += put_times(p + n, c);
	p[n++] = '\n';
	k = put_counts(s, p + n, c);
	if (k) {
		n += k;
		p[n++] = '\n';
	}
	return n;
}

static void out_notes(struct timeline_sink *s, const struct ts_conn *c)
{
	const char *why = ts_hs_basis_why(c->hs_basis);

	if (!(c->joined_late || c->gaps || c->lost_events || c->evicted || c->steps_dropped ||
	      c->rtx_not_kept || c->rtx_untraced || why))
		return;
	ts_tbuf__lit(&s->out, "  note:");
	if (c->joined_late)
		ts_tbuf__lit(&s->out,
			     " joined late (began before tracing or its first events were lost);");
	if (c->gaps) {
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__u64(&s->out, c->gaps);
		ts_tbuf__lit(&s->out, " transition(s) missing;");
	}
	if (c->lost_events)
		ts_tbuf__lit(&s->out, " events were lost while it was open;");
	if (c->evicted)
		ts_tbuf__lit(&s->out, " evicted (--max-conns reached), still open;");
	if (c->steps_dropped) {
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__u64(&s->out, c->steps_dropped);
		ts_tbuf__lit(&s->out, " step(s) not kept;");
	}
	if (c->rtx_not_kept) {
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__u64(&s->out, c->rtx_not_kept);
		ts_tbuf__lit(&s->out, " retransmission step(s) not kept;");
	}
	if (c->rtx_untraced) {
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__u64(&s->out, c->rtx_untraced);
		ts_tbuf__lit(&s->out, " retransmission(s) counted by the socket, not traced;");
	}
	if (why) {
		ts_tbuf__lit(&s->out, " handshake time unknown: ");
		ts_tbuf__puts(&s->out, why);
		ts_tbuf__putc(&s->out, ';');
	}
	ts_tbuf__putc(&s->out, '\n');
}

static void text_header(struct timeline_sink *s, const struct ts_conn *c)
{
	char *p = ts_tbuf__room(&s->out, HEADER_ROOM);

	s->out.n += s->meta.compact ? header_compact(s, p, c) : header_wide(s, p, c);
	out_notes(s, c);
}

/* A dropped segment, in the place its time gives it among the steps:
 * "  %*s  %sDROPPED%s %s\n". */
static void text_drop(struct timeline_sink *s, const struct ts_conn_drop *d, uint64_t t0)
{
	char t[TS_FIXED_LEN + 3], what[TS_KNAME_MAX * 2 + 64];
	const char *on = s->meta.color ? TS_C_MAGENTA : "";
	size_t tn;

	tn = time_text(t, d->ts_ns >= t0 ? '+' : '-',
		       d->ts_ns >= t0 ? d->ts_ns - t0 : t0 - d->ts_ns);
	ts_drop_describe(what, sizeof(what), d->dir, d->tcp_flags, d->seq, d->len, d->has_base,
			 d->seq_base, d->reason_name, d->reason, d->where);
	ts_tbuf__lit(&s->out, "  ");
	ts_tbuf__right(&s->out, t, tn, s->meta.compact ? 10 : 12);
	ts_tbuf__lit(&s->out, "  ");
	ts_tbuf__puts(&s->out, on);
	ts_tbuf__lit(&s->out, "DROPPED");
	if (*on)
		ts_tbuf__lit(&s->out, TS_C_RESET);
	ts_tbuf__putc(&s->out, ' ');
	ts_tbuf__puts(&s->out, what);
	ts_tbuf__putc(&s->out, '\n');
}

/* Why the first reset sent / received, when known: "  rst %s: %s%s\n". */
static void text_resets(struct timeline_sink *s, const struct ts_conn *c)
{
	const struct ts_rst_why *w[2] = { &c->rst_sent_why, &c->rst_recv_why };
	const char *what[2] = { "sent", "received" };

	for (int i = 0; i < 2; i++) {
		if (!w[i]->name)
			continue;
		ts_tbuf__lit(&s->out, "  rst ");
		ts_tbuf__puts(&s->out, what[i]);
		ts_tbuf__lit(&s->out, ": ");
		ts_tbuf__puts(&s->out, w[i]->name);
		if (w[i]->inferred)
			ts_tbuf__lit(&s->out, " (inferred)");
		ts_tbuf__putc(&s->out, '\n');
	}
}

/*
 * The middle of a step line, "%s%s%s%*s ": the transition (a b c) in its
 * colour, padded to 'width' columns, and a space.
 */
static void out_transition(struct timeline_sink *s, const char *on, const char *a,
			   const char *b, const char *c, size_t width)
{
	size_t len;

	ts_tbuf__puts(&s->out, on);
	len = ts_tbuf__puts(&s->out, a);
	len += ts_tbuf__puts(&s->out, b);
	len += ts_tbuf__puts(&s->out, c);
	if (*on)
		ts_tbuf__lit(&s->out, TS_C_RESET);
	ts_tbuf__pad(&s->out, (len < width ? width - len : 0) + 1);
}

/*
 * A retransmission step: when, what and why, and the wait since the
 * previous retransmission of the connection (the backoff shows there).
 * Compact "  %10s %sRETRANSMIT%s %s\n", wide "  %12s  %s%s%s%*s %-52s %s\n"
 * with "RETRANSMIT in <state>" in 26 columns.
 */
static void text_rtx(struct timeline_sink *s, const struct ts_conn *c, int k, uint64_t t0)
{
	const struct ts_rtx_step *x = &c->rtxs[k];
	const char *on = s->meta.color ? TS_C_YELLOW : "";
	char t[TS_FIXED_LEN + 3], what[160];
	struct ts_rec r;
	size_t tn;

	ts_rtx__rec(&r, x);
	ts_rtx__describe(what, sizeof(what), &r);
	tn = time_text(t, '+', x->ts_ns - (x->ts_ns < t0 ? x->ts_ns : t0));
	ts_tbuf__lit(&s->out, "  ");
	if (s->meta.compact) {
		ts_tbuf__right(&s->out, t, tn, 10);
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__puts(&s->out, on);
		ts_tbuf__lit(&s->out, "RETRANSMIT");
		if (*on)
			ts_tbuf__lit(&s->out, TS_C_RESET);
		ts_tbuf__putc(&s->out, ' ');
		ts_tbuf__puts(&s->out, what);
		ts_tbuf__putc(&s->out, '\n');
		return;
	}
	ts_tbuf__right(&s->out, t, tn, 12);
	ts_tbuf__lit(&s->out, "  ");
	out_transition(s, on, "RETRANSMIT in ", ts_state_name(x->state), "", 26);
	ts_tbuf__left(&s->out, what, 52);
	ts_tbuf__putc(&s->out, ' ');
	if (k) {
		ts_tbuf__ms(&s->out, x->ts_ns - c->rtxs[k - 1].ts_ns);
		ts_tbuf__lit(&s->out, " after the previous");
	} else {
		ts_tbuf__putc(&s->out, '-');
	}
	ts_tbuf__putc(&s->out, '\n');
}

/*
 * What out_transition() and the label write for a step (compact
 * "%s%s%s%s%*s %s", wide "%s%s%s%s%*s %-52s "), into t (STEP_TEXT_MAX);
 * returns its length, or 0 when it does not fit.
 */
static size_t step_text_make(const struct timeline_sink *s, char *t, const char *on,
			     const char *from, const char *to, const char *label)
{
	size_t lon = strlen(on), lf = strlen(from), lt = strlen(to), ll = strlen(label);
	size_t width = s->meta.compact ? 24 : 26, tr = lf + 4 + lt, n = 0;
	size_t pad = (tr < width ? width - tr : 0) + 1;
	size_t lpad = !s->meta.compact && ll < 52 ? 52 - ll : 0;
	size_t need = lon + tr + (lon ? sizeof(TS_C_RESET) - 1 : 0) + pad + ll + lpad + 1;

	if (need > STEP_TEXT_MAX || need > UINT8_MAX)
		return 0;
	memcpy(t + n, on, lon);
	n += lon;
	memcpy(t + n, from, lf);
	n += lf;
	memcpy(t + n, " -> ", 4);
	n += 4;
	memcpy(t + n, to, lt);
	n += lt;
	if (lon) {
		memcpy(t + n, TS_C_RESET, sizeof(TS_C_RESET) - 1);
		n += sizeof(TS_C_RESET) - 1;
	}
	memset(t + n, ' ', pad);
	n += pad;
	memcpy(t + n, label, ll);
	n += ll;
	if (!s->meta.compact) {
		memset(t + n, ' ', lpad + 1);
		n += lpad + 1;
	}
	return n;
}

/* "ms in %s" of from into x's tail; false when it does not fit. */
static bool step_tail_make(struct step_text *x, const char *from)
{
	size_t lf = strlen(from);

	if (6 + lf > STEP_TAIL_MAX)
		return false;
	memcpy(x->tail, "ms in ", 6);
	memcpy(x->tail + 6, from, lf);
	x->tail_len = (uint8_t)(6 + lf);
	return true;
}

/* Nothing in s that a JSON string escapes (jsonw.c's stop_tab). */
static bool json_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' ||
		    *s == '\\')
			return false;
	return true;
}

/*
 * What the JSON writer writes for a step after its "t_us":
 * ,"from":"%s","to":"%s","step":"%s" into t (STEP_TEXT_MAX); returns its
 * length, or 0 when it does not fit or a name would need escaping.
 */
static size_t step_json_make(char *t, const char *from, const char *to, const char *label)
{
	const char *part[6] = { ",\"from\":\"", from, "\",\"to\":\"", to, "\",\"step\":\"", label };
	size_t n = 0;

	if (!json_plain(from) || !json_plain(to) || !json_plain(label))
		return 0;
	for (int i = 0; i < 6; i++) {
		size_t len = strlen(part[i]);

		if (n + len + 1 > STEP_TEXT_MAX || n + len + 1 > UINT8_MAX)
			return 0;
		memcpy(t + n, part[i], len);
		n += len;
	}
	t[n++] = '"';
	return n;
}

/* What a step's kept text depends on besides its label (never 0). */
static inline uint32_t step_key(const struct ts_step *st)
{
	return 1u << 24 | (uint32_t)st->label_id << 16 | (uint32_t)st->to << 8 | st->from;
}

/* Make x's texts for st; NULL when they cannot be kept. */
static const struct step_text *step_text_fill(struct timeline_sink *s, struct step_text *x,
					      const struct ts_step *st, const char *label)
{
	const char *on;
	size_t n;

	if (s->json) {
		n = step_json_make(x->text, ts_state_name(st->from), ts_state_name(st->to), label);
	} else {
		on = s->meta.color ?
			     ts_label_color(ts_label_class_of((enum ts_label)st->label_id)) :
			     "";
		n = step_text_make(s, x->text, on, ts_state_name(st->from),
				   ts_state_name(st->to), label);
		if (n && !step_tail_make(x, ts_state_name(st->from)))
			n = 0;
	}
	if (!n) {
		x->label = NULL;
		return NULL;
	}
	x->label = label;
	x->key = step_key(st);
	x->len = (uint8_t)n;
	return x;
}

/* The step's middle text from the cache, made on a miss; NULL when it
 * cannot be kept. */
static inline const struct step_text *step_text(struct timeline_sink *s,
						const struct ts_step *st, const char *label)
{
	uint32_t key = step_key(st), h = key * 0x9e3779b1u;
	struct step_text *x = &s->steps[(h >> 16) & (STEP_SLOTS - 1)];

	if (!label)
		return NULL;
	if (x->key == key && x->label == label)
		return x;
	return step_text_fill(s, x, st, label);
}

/* x's text to p: whole 32-byte blocks, the room covering STEP_TEXT_MAX. */
static inline size_t put_step_text(char *p, const struct step_text *x)
{
	for (size_t i = 0; i < x->len; i += 32)
		memcpy(p + i, x->text + i, 32);
	return x->len;
}

/*
 * A state change.  Compact "  %10s %s%s%s%*s %s%s\n" (the transition in
 * 24 columns: 2 + 10 + 1 + 24 + 1 + the label, at most 42: 80); wide
 * "  %12s  %s%s%s%*s %-52s %s%s\n" (26 columns, then the time in the old
 * state "%.3fms in %s" or "-").
 */
static void text_step_slow(struct timeline_sink *s, const struct ts_step *st, uint64_t t0,
			   const char *label, const struct step_text *x)
{
	const char *from = ts_state_name(st->from), *to = ts_state_name(st->to), *on = "";
	char t[TS_FIXED_LEN + 3];
	size_t tn = time_text(t, '+', st->ts_ns - t0);

	if (!x && s->meta.color)
		on = ts_label_color(ts_label_class_of((enum ts_label)st->label_id));
	ts_tbuf__lit(&s->out, "  ");
	if (s->meta.compact) {
		ts_tbuf__right(&s->out, t, tn, 10);
		ts_tbuf__putc(&s->out, ' ');
		if (x) {
			ts_tbuf__put(&s->out, x->text, x->len);
		} else {
			out_transition(s, on, from, " -> ", to, 24);
			ts_tbuf__puts(&s->out, label);
		}
		if (st->flags & TS_STEP_GAP)
			ts_tbuf__lit(&s->out, " (gap)");
		ts_tbuf__putc(&s->out, '\n');
		return;
	}
	ts_tbuf__right(&s->out, t, tn, 12);
	ts_tbuf__lit(&s->out, "  ");
	if (x) {
		ts_tbuf__put(&s->out, x->text, x->len);
	} else {
		out_transition(s, on, from, " -> ", to, 26);
		ts_tbuf__left(&s->out, label, 52);
		ts_tbuf__putc(&s->out, ' ');
	}
	if (st->ns_in_old) {
		ts_tbuf__ms(&s->out, st->ns_in_old);
		ts_tbuf__lit(&s->out, " in ");
		ts_tbuf__puts(&s->out, from);
	} else {
		ts_tbuf__putc(&s->out, '-');
	}
	if (st->flags & TS_STEP_GAP)
		ts_tbuf__lit(&s->out, "  (after missing events)");
	ts_tbuf__putc(&s->out, '\n');
}

/* The longest step line text_step() builds in place. */
#define STEP_LINE_ROOM (2 + TS_FIXED_LEN + 3 + 2 + STEP_TEXT_MAX + TS_FIXED_LEN + STEP_TAIL_MAX + 32)

/* A step line as text_step_slow() writes it, built in one pass from the
 * step's kind's kept texts. */
static void text_step(struct timeline_sink *s, const struct ts_step *st, uint64_t t0)
{
	const char *label = st->label ? st->label : ts_step_label(st->from, st->to);
	const struct step_text *x = step_text(s, st, label);
	char *p;
	size_t n;

	if (!x) {
		text_step_slow(s, st, t0, label, x);
		return;
	}
	p = ts_tbuf__room(&s->out, STEP_LINE_ROOM);
	p[0] = ' ';
	p[1] = ' ';
	if (s->meta.compact) {
		n = 2 + ts_put_ms_field(p + 2, '+', st->ts_ns - t0, 10);
		p[n++] = ' ';
		n += put_step_text(p + n, x);
		if (st->flags & TS_STEP_GAP)
			PUT_LIT(p, n, " (gap)");
	} else {
		n = 2 + ts_put_ms_field(p + 2, '+', st->ts_ns - t0, 12);
		p[n++] = ' ';
		p[n++] = ' ';
		n += put_step_text(p + n, x);
		if (st->ns_in_old) {
			n += ts_put_ms3(p + n, st->ns_in_old);
			/* A fixed-size copy: the room covers the whole tail. */
			memcpy(p + n, x->tail, STEP_TAIL_MAX);
			n += x->tail_len;
		} else {
			p[n++] = '-';
		}
		if (st->flags & TS_STEP_GAP)
			PUT_LIT(p, n, "  (after missing events)");
	}
	p[n++] = '\n';
	s->out.n += n;
}

static int timeline_text_conn(void *priv, const struct ts_conn *c)
{
	struct timeline_sink *s = priv;
	uint64_t t0 = c->nsteps ? c->steps[0].ts_ns : c->start_ns;
	int k = 0, di = 0;

	text_header(s, c);
	text_resets(s, c);
	for (int i = 0; i <= c->nsteps; i++) {
		/* Retransmissions and drops before this step, in time order. */
		for (;;) {
			bool rtx = k < c->nrtx &&
				   (i == c->nsteps || c->rtxs[k].ts_ns < c->steps[i].ts_ns);
			bool drop = di < c->ndrops &&
				    (i == c->nsteps || c->drops[di].ts_ns <= c->steps[i].ts_ns);

			if (rtx && (!drop || c->rtxs[k].ts_ns <= c->drops[di].ts_ns))
				text_rtx(s, c, k++, t0);
			else if (drop)
				text_drop(s, &c->drops[di++], t0);
			else
				break;
		}
		if (i == c->nsteps)
			break;
		text_step(s, &c->steps[i], t0);
	}
	if (c->drops_total > c->ndrops) {
		ts_tbuf__lit(&s->out, "  (");
		ts_tbuf__u64(&s->out, c->drops_total - c->ndrops);
		ts_tbuf__lit(&s->out, " more drops not kept)\n");
	}
	if (c->tw == TS_TW_UNKNOWN) {
		ts_tbuf__lit(&s->out, "  TIME_WAIT ");
		ts_tbuf__puts(&s->out, ts_tw_why_text(c->tw_why));
		ts_tbuf__putc(&s->out, '\n');
	}
	ts_tbuf__putc(&s->out, '\n');
	return ts_tbuf__error(&s->out);
}

/* {"name": ..., "inferred": ...} or null. */
static void json_rst(struct ts_jsonw *w, const char *key, const struct ts_rst_why *why)
{
	if (!why->name) {
		ts_jsonw__null(w, key);
		return;
	}
	ts_jsonw__object_begin(w, key);
	TS_JSONW_STR(w, "name", why->name);
	TS_JSONW_BOOL(w, "inferred", why->inferred);
	ts_jsonw__object_end(w);
}

/*
 * A constant key and "%.2f" of 100.0 * num / den (den > 0), as
 * ts_jsonw__double() wrote it, in integer arithmetic (fmt_fixed.h).
 */
#define json_pct2(w, key, num, den) (TS_JSONW_KEY(w, key), put_pct2(w, num, den))

static void put_pct2(struct ts_jsonw *w, uint32_t num, uint32_t den)
{
	/* The writer's buffer is at least TS_JSONW_BUF bytes. */
	if (w->n + TS_FIXED_LEN > TS_JSONW_BUF)
		ts_jsonw__flush(w);
	w->n += ts_put_pct2(w->buf + w->n, num, den);
	w->need_comma = true;
}

/* Text made by the program, put in the writer as it is; a value ends it. */
static void json_raw(struct ts_jsonw *w, const char *t, size_t len)
{
	/* The writer's buffer is at least TS_JSONW_BUF bytes; len is less. */
	if (w->n + len > TS_JSONW_BUF)
		ts_jsonw__flush(w);
	memcpy(w->buf + w->n, t, len);
	w->n += len;
	w->need_comma = true;
}

/* The end of a step's object, by its flags (bit 0 inferred, 1 gap, 2 from_peer). */
#define STEP_TAIL(i, g, p) ",\"inferred\":" #i ",\"gap\":" #g ",\"from_peer\":" #p "}"
static const char *const step_json_tail[8] = {
	STEP_TAIL(false, false, false), STEP_TAIL(true, false, false),
	STEP_TAIL(false, true, false),	STEP_TAIL(true, true, false),
	STEP_TAIL(false, false, true),	STEP_TAIL(true, false, true),
	STEP_TAIL(false, true, true),	STEP_TAIL(true, true, true),
};

/* A connection as JSON; s (may be NULL) keeps the steps' texts. */
static void json_conn(struct timeline_sink *s, FILE *f, const struct ts_conn *c,
		      const struct ts_meta *m)
{
	uint64_t t0 = c->nsteps ? c->steps[0].ts_ns : c->start_ns;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	TS_JSONW_STR(&w, "event", "connection");
	ts_json_time(&w, "", c->start_ns, m->wall_offset_ns);
	ts_json_conn_id(&w, c->id);
	ts_json_owner(&w, c->pid, c->comm);
	ts_json_tuple(&w, c->family, c->saddr, c->sport, c->daddr, c->dport);
	TS_JSONW_U64(&w, "netns", c->netns);
	if (c->listener_pid) {
		TS_JSONW_U64(&w, "listener_pid", c->listener_pid);
		TS_JSONW_STR(&w, "listener_comm", c->listener_comm);
	} else {
		TS_JSONW_NULL(&w, "listener_pid");
		TS_JSONW_NULL(&w, "listener_comm");
	}
	ts_json_cgroup(&w, c->cgroup_id, c->cgroup);
	TS_JSONW_BOOL(&w, "owner_from_listener", c->owner_from_listener);
	TS_JSONW_STR(&w, "role", ts_role_name(c->role));
	TS_JSONW_STR(&w, "close", ts_close_name(c->close));
	if (c->peer)
		TS_JSONW_U64(&w, "peer", c->peer);
	else
		TS_JSONW_NULL(&w, "peer");
	if (ts_tw_name(c->tw))
		TS_JSONW_STR(&w, "time_wait", ts_tw_name(c->tw));
	else
		TS_JSONW_NULL(&w, "time_wait");
	if (ts_tw_why_name(c->tw_why))
		TS_JSONW_STR(&w, "time_wait_why", ts_tw_why_name(c->tw_why));
	else
		TS_JSONW_NULL(&w, "time_wait_why");
	if (c->handshake_ns >= 0)
		TS_JSONW_U64(&w, "handshake_us", (uint64_t)c->handshake_ns / 1000);
	else
		TS_JSONW_NULL(&w, "handshake_us");
	if (ts_hs_basis_name(c->hs_basis))
		TS_JSONW_STR(&w, "handshake_from", ts_hs_basis_name(c->hs_basis));
	else
		TS_JSONW_NULL(&w, "handshake_from");
	if (ts_hs_basis_why(c->hs_basis))
		TS_JSONW_STR(&w, "handshake_unknown", ts_hs_basis_why(c->hs_basis));
	else
		TS_JSONW_NULL(&w, "handshake_unknown");
	TS_JSONW_U64(&w, "lifetime_us", c->lifetime_ns / 1000);
	TS_JSONW_KEY(&w, "retransmits");
	ts_jsonw__object_begin(&w, NULL);
	/* ts_rtx_name()'s, in its order. */
	TS_JSONW_U64(&w, "syn", c->rtx[TS_RTX_SYN]);
	TS_JSONW_U64(&w, "synack", c->rtx[TS_RTX_SYNACK]);
	TS_JSONW_U64(&w, "data", c->rtx[TS_RTX_DATA]);
	TS_JSONW_U64(&w, "fin", c->rtx[TS_RTX_FIN]);
	ts_jsonw__object_end(&w);
	TS_JSONW_U64(&w, "resets_sent", c->resets_sent);
	TS_JSONW_U64(&w, "resets_received", c->resets_received);
	json_rst(&w, "reset_sent_reason", &c->rst_sent_why);
	json_rst(&w, "reset_received_reason", &c->rst_recv_why);
	TS_JSONW_U64(&w, "drops_total", c->drops_total);
	TS_JSONW_KEY(&w, "drops");
	ts_jsonw__array_begin(&w, NULL);
	for (int i = 0; i < c->ndrops; i++) {
		const struct ts_conn_drop *d = &c->drops[i];

		ts_jsonw__object_begin(&w, NULL);
		TS_JSONW_KEY(&w, "t_us");
		ts_jsonw__i64(&w, NULL, ((int64_t)d->ts_ns - (int64_t)t0) / 1000);
		ts_json_drop(&w, d->dir, d->tcp_flags, d->seq, d->len, d->has_base, d->seq_base,
			     d->reason_name, d->reason, d->where, d->where_off);
		TS_JSONW_BOOL(&w, "by_addresses", d->by_tuple);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	ts_json_stats(&w, c->has_stats ? &c->st : NULL);
	if (c->has_stats)
		TS_JSONW_U64(&w, "sk_err", c->st.err);
	else
		TS_JSONW_NULL(&w, "sk_err");
	if (c->has_stats && c->st.segs_out)
		json_pct2(&w, "retrans_pct", c->st.total_retrans, c->st.segs_out);
	else
		TS_JSONW_NULL(&w, "retrans_pct");
	TS_JSONW_BOOL(&w, "joined_late", c->joined_late);
	TS_JSONW_U64(&w, "missing_steps", c->gaps);
	TS_JSONW_BOOL(&w, "lost_events", c->lost_events);
	TS_JSONW_BOOL(&w, "evicted", c->evicted);
	TS_JSONW_U64(&w, "steps_dropped", c->steps_dropped);
	TS_JSONW_KEY(&w, "steps");
	ts_jsonw__array_begin(&w, NULL);
	for (int i = 0; i < c->nsteps; i++) {
		const struct ts_step *st = &c->steps[i];
		const char *label = st->label ? st->label : ts_step_label(st->from, st->to);
		const struct step_text *x = s ? step_text(s, st, label) : NULL;
		const char *tail;

		ts_jsonw__object_begin(&w, NULL);
		TS_JSONW_U64(&w, "t_us", (st->ts_ns - t0) / 1000);
		if (x) {
			json_raw(&w, x->text, x->len);
		} else {
			TS_JSONW_STR(&w, "from", ts_state_name(st->from));
			TS_JSONW_STR(&w, "to", ts_state_name(st->to));
			TS_JSONW_STR(&w, "step", label);
		}
		if (st->ns_in_old)
			TS_JSONW_U64(&w, "in_state_us", st->ns_in_old / 1000);
		else
			TS_JSONW_NULL(&w, "in_state_us");
		/* "inferred", "gap", "from_peer" and the object's end. */
		tail = step_json_tail[(st->flags & TS_STEP_INFERRED ? 1 : 0) |
				      (st->flags & TS_STEP_GAP ? 2 : 0) |
				      (st->flags & TS_STEP_PEER ? 4 : 0)];
		json_raw(&w, tail, strlen(tail));
	}
	ts_jsonw__array_end(&w);
	/* Retransmission steps, timed like the steps (t_us). */
	TS_JSONW_KEY(&w, "retransmissions");
	ts_jsonw__array_begin(&w, NULL);
	for (int k = 0; k < c->nrtx; k++) {
		const struct ts_rtx_step *x = &c->rtxs[k];
		struct ts_rec r;

		ts_rtx__rec(&r, x);
		ts_jsonw__object_begin(&w, NULL);
		TS_JSONW_U64(&w, "t_us", x->ts_ns > t0 ? (x->ts_ns - t0) / 1000 : 0);
		TS_JSONW_STR(&w, "state", ts_state_name(x->state));
		if (k)
			TS_JSONW_U64(&w, "since_previous_us", (x->ts_ns - c->rtxs[k - 1].ts_ns) / 1000);
		else
			TS_JSONW_NULL(&w, "since_previous_us");
		ts_rtx__json(&w, &r);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	TS_JSONW_U64(&w, "retransmissions_not_kept", c->rtx_not_kept);
	TS_JSONW_U64(&w, "retransmissions_untraced", c->rtx_untraced);
	ts_jsonw__end(&w);
}

void ts_json_write_conn(FILE *f, const struct ts_conn *c, const struct ts_meta *m)
{
	json_conn(NULL, f, c, m);
}

static int timeline_json_conn(void *priv, const struct ts_conn *c)
{
	struct timeline_sink *s = priv;

	json_conn(s, s->f, c, &s->meta);
	return ts_sink_werr(s->f);
}

static int timeline_flush(void *priv)
{
	struct timeline_sink *s = priv;

	/* A failed write shows at the next connection (ts_tbuf__error()), as
	 * a failed fwrite did through the stream's error flag. */
	ts_tbuf__flush(&s->out);
	return fflush(s->f) ? -errno : 0;
}

static int timeline_text_finish(void *priv, const struct ts_totals *t)
{
	struct timeline_sink *s = priv;

	ts_tbuf__flush(&s->out);
	fprintf(s->f, "%" PRIu64 " connections", t->conns);
	if (t->drops || t->drops_suppressed)
		fprintf(s->f, "; %" PRIu64 " drops recorded, %" PRIu64 " more only counted (over %u/s per CPU)",
			t->drops, t->drops_suppressed, TS_DROP_PER_SEC);
	/* Compact (80 columns): the shorter form, as for evictions. */
	if (t->rtx_untraced)
		fprintf(s->f, s->meta.compact ? "; %" PRIu64 " retransmission%s not traced" :
			"; %" PRIu64 " retransmission%s counted by the sockets, not traced",
			t->rtx_untraced, t->rtx_untraced == 1 ? "" : "s");
	if (t->conns_evicted && s->meta.compact)
		fprintf(s->f, "; %" PRIu64 " evicted (over %u open: raise --max-conns)",
			t->conns_evicted, t->max_conns);
	else if (t->conns_evicted)
		fprintf(s->f, "; %" PRIu64 " connections evicted (more than %u open at once: raise --max-conns)",
			t->conns_evicted, t->max_conns);
	fputc('\n', s->f);
	if (fflush(s->f))
		return -errno;
	return ts_tbuf__error(&s->out);
}

static int timeline_json_finish(void *priv, const struct ts_totals *t)
{
	struct timeline_sink *s = priv;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, s->f);
	ts_jsonw__str(&w, "event", "summary");
	ts_jsonw__u64(&w, "records", t->records);
	ts_jsonw__u64(&w, "lost", t->lost);
	ts_jsonw__u64(&w, "connections", t->conns);
	ts_jsonw__u64(&w, "evicted", t->conns_evicted);
	ts_jsonw__u64(&w, "max_conns", t->max_conns);
	ts_jsonw__u64(&w, "drops", t->drops);
	ts_jsonw__u64(&w, "drops_suppressed", t->drops_suppressed);
	ts_jsonw__u64(&w, "retransmissions_untraced", t->rtx_untraced);
	ts_jsonw__end(&w);
	return fflush(s->f) ? -errno : 0;
}

static void timeline_destroy(void *priv)
{
	free(priv);
}

static const struct ts_sink_ops timeline_text_ops = {
	.name = "timeline-text",
	.rec = timeline_rec,
	.flush = timeline_flush,
	.finish = timeline_text_finish,
	.destroy = timeline_destroy,
	.conn_end = timeline_text_conn,
};

static const struct ts_sink_ops timeline_json_ops = {
	.name = "timeline-json",
	.rec = timeline_lost_json,
	.flush = timeline_flush,
	.finish = timeline_json_finish,
	.destroy = timeline_destroy,
	.conn_end = timeline_json_conn,
};

static int timeline_new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
			const struct ts_sink_ops *ops)
{
	struct timeline_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	s->json = ops == &timeline_json_ops;
	ts_tbuf__init(&s->out, f);
	out->ops = ops;
	out->priv = s;
	return 0;
}

int ts_sink_timeline_text__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m)
{
	return timeline_new(out, f, m, &timeline_text_ops);
}

int ts_sink_timeline_json__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m)
{
	return timeline_new(out, f, m, &timeline_json_ops);
}
