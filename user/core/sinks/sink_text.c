// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fwrite_unlocked (a GNU extension): one writer per stream, no lock per line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/cgroup.h"
#include "core/util/escape.h"
#include "core/util/fmt.h"
#include "core/sinks/sinks.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/rtx.h"
#include "core/sinks/colors.h"

/* Endpoint columns fit any IPv4 endpoint and most IPv6 ones; a wider
 * endpoint widens them for the rest of the run, under a new header. */
#define ADDR_W 26

/*
 * The compact layout fits 80 columns with IPv4: TIME PID COMM (9) the
 * local port, the remote endpoint (21) and a short event (21); the step
 * label and the time in the old state are left to --wide.
 */
#define C_COMM_W 9
#define C_ADDR_W 21
#define C_EVENT_W 21

struct endpoints {
	char local[TS_ADDRSTR_LEN];
	char remote[TS_ADDRSTR_LEN];
	size_t llen, rlen;
};

/*
 * The endpoints of recent connections, formatted: a connection's later
 * events repeat its tuple (five state changes per side), and formatting
 * two addresses and ports was a fifth of `report`'s time.  Direct-mapped
 * by connection id; an entry serves only a record whose whole tuple it
 * matches, so the text is always what the record itself would give.
 */
#define EP_CACHE 256

struct ep_entry {
	uint64_t conn;
	uint16_t sport, dport;
	uint8_t family;
	bool valid;
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	struct endpoints e;
	/* The process name as it came and escaped, for the full layout. */
	char comm[TS_COMM_LEN + 1];
	char comm_esc[TS_ESC_LEN(TS_COMM_LEN)];
	bool comm_valid;
};

struct text_sink {
	FILE *f;
	struct ts_meta meta;
	bool header_done;
	int addr_w;
	/* Namespace and cgroup markers appear once records come from more
	 * than one of them (or, for the cgroup, with --wide). */
	uint32_t first_ns;
	uint64_t first_cg;
	bool show_ns;
	bool show_cg;
	struct ep_entry ep[EP_CACHE];
};

enum { SHOW_NS = 1, SHOW_CG = 2 };

static void write_header(FILE *f, int aw, bool compact)
{
	if (compact)
		fprintf(f, "%-12s %-7s %-*s %-5s %-*s %s\n", "TIME", "PID", C_COMM_W, "COMM",
			"LPORT", aw, "REMOTE", "EVENT");
	else
		fprintf(f, "%-12s %-7s %-16s %-*s %-*s %-28s %9s  %s\n", "TIME", "PID", "COMM",
			aw, "LOCAL", aw, "REMOTE", "EVENT", "MS_IN_OLD", "STEP");
}

void ts_text_write_header(FILE *f, const struct ts_meta *m)
{
	write_header(f, m->compact ? C_ADDR_W : ADDR_W, m->compact);
}

/* netstat's names, but ESTABLISHED as ss abbreviates it: compact only. */
static const char *short_state(unsigned int st)
{
	return st == TS_ESTABLISHED ? "ESTAB" : ts_state_name(st);
}

/*
 * The line is built in a buffer and written with one fwrite: printf's
 * format parsing was most of the tracer's CPU time per event.  The layout
 * is that of ts_text_write_header(): left-aligned columns padded with
 * spaces, never truncated.
 */
struct line {
	char buf[512];
	size_t n;
};

/* The end of a line: a newline even when the line was cut to the buffer. */
static void put_eol(struct line *l)
{
	if (l->n == sizeof(l->buf))
		l->n--;
	l->buf[l->n++] = '\n';
}

static void put_n(struct line *l, const char *s, size_t len)
{
	if (len > sizeof(l->buf) - l->n)
		len = sizeof(l->buf) - l->n;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

static void put(struct line *l, const char *s)
{
	put_n(l, s, strlen(s));
}

/* s (len bytes) left-aligned in 'width' columns, then 'gap' spaces. */
static void put_col_n(struct line *l, const char *s, size_t len, size_t width, size_t gap)
{
	size_t start = l->n, pad;

	put_n(l, s, len);
	pad = l->n - start < width ? width - (l->n - start) : 0;
	pad += gap;
	if (pad > sizeof(l->buf) - l->n)
		pad = sizeof(l->buf) - l->n;
	memset(l->buf + l->n, ' ', pad);
	l->n += pad;
}

/* s left-aligned in 'width' columns (like "%-*s"), then 'gap' spaces. */
static void put_col(struct line *l, const char *s, size_t width, size_t gap)
{
	put_col_n(l, s, strlen(s), width, gap);
}

/* s right-aligned in 'width' columns (like "%*s"). */
static void put_right(struct line *l, const char *s, size_t width)
{
	size_t len = strlen(s), pad = len < width ? width - len : 0;

	if (pad > sizeof(l->buf) - l->n)
		pad = sizeof(l->buf) - l->n;
	memset(l->buf + l->n, ' ', pad);
	l->n += pad;
	put(l, s);
}

/* The EVENT column, coloured by what it means; returns its visible width. */
static size_t put_event(struct line *l, const struct ts_rec *r, bool color, bool compact)
{
	const char *(*name)(unsigned int) = compact ? short_state : ts_state_name;
	const char *on = "", *a = "", *b = "", *c = "";
	size_t start, len;
	char kind[16];

	switch (r->type) {
	case TS_REC_STATE:
		a = name(r->old_state);
		b = compact ? ">" : " -> ";
		c = name(r->new_state);
		on = ts_label_color(ts_label_class_of(ts_rec_label(r)));
		break;
	case TS_REC_RETRANS:
		a = compact ? "RETRANS " : "RETRANSMIT in ";
		b = name(r->new_state);
		on = TS_C_YELLOW;
		break;
	case TS_REC_SYNACK_RETRANS:
		a = compact ? "SYN-ACK RETRANS" : "SYN-ACK RETRANSMIT";
		on = TS_C_YELLOW;
		break;
	case TS_REC_RESET_SENT:
		/* conn 0: the answer to a segment that found no socket (a
		 * SYN to a closed port); there is no state to name. */
		if (r->conn) {
			a = compact ? "RST sent " : "RST sent in ";
			b = name(r->new_state);
		} else {
			a = "RST sent (no socket)";
		}
		on = TS_C_RED;
		break;
	case TS_REC_RESET_RECV:
		a = compact ? "RST rcvd " : "RST received in ";
		b = name(r->new_state);
		on = TS_C_RED;
		break;
	case TS_REC_DROP:
		a = compact ? "DROP " : "DROPPED ";
		b = ts_drop_dir_name(r->drop.dir, compact);
		snprintf(kind, sizeof(kind), " %s",
			 ts_tcp_seg_kind(r->drop.tcp_flags, r->drop.len));
		c = kind;
		on = TS_C_MAGENTA;
		break;
	default:
		a = "?";
	}
	if (color && *on)
		put(l, on);
	else
		on = "";
	start = l->n;
	put(l, a);
	put(l, b);
	put(l, c);
	/* The old snprintf into 64 bytes: at most 63 characters. */
	if (l->n - start > 63)
		l->n = start + 63;
	len = l->n - start;
	if (*on)
		put(l, TS_C_RESET);
	return len;
}

static void put_u32(struct line *l, uint32_t v)
{
	char tmp[21];

	tmp[ts_put_u64(tmp, v)] = '\0';
	put(l, tmp);
}

/*
 * ns as milliseconds with three decimals, exactly as "%.3f" of ns / 1e6
 * prints it.  Integer rounding agrees with printf's rounding of the double
 * except at an exact half (the double then decides) and where the double
 * has too few bits (hours); those rare cases go to snprintf.
 */
static void put_ms3(struct line *l, uint64_t ns)
{
	uint64_t us = ns / 1000, rem = ns % 1000;
	char tmp[32];
	size_t n;

	if (rem == 500 || ns >= (1ULL << 43)) {
		snprintf(tmp, sizeof(tmp), "%.3f", ns / 1e6);
		put_right(l, tmp, 9);
		return;
	}
	us += rem > 500;
	n = ts_put_u64(tmp, us / 1000);
	tmp[n++] = '.';
	ts_put_u64_fixed(tmp + n, us % 1000, 3);
	tmp[n + 3] = '\0';
	put_right(l, tmp, 9);
}

static int fmt_endpoints(struct endpoints *e, const struct ts_rec *r)
{
	ts_fmt_endpoint(e->local, sizeof(e->local), r->family, r->saddr,
			r->sport);
	ts_fmt_endpoint(e->remote, sizeof(e->remote), r->family, r->daddr,
			r->dport);
	e->llen = strlen(e->local);
	e->rlen = strlen(e->remote);
	return (int)(e->llen > e->rlen ? e->llen : e->rlen);
}

/* The record's cache entry, its endpoints filled in (from the cache when
 * its tuple is there). */
static struct ep_entry *cached_endpoints(struct text_sink *s, const struct ts_rec *r)
{
	struct ep_entry *c = &s->ep[r->conn % EP_CACHE];

	if (!c->valid || c->conn != r->conn || c->family != r->family ||
	    c->sport != r->sport || c->dport != r->dport ||
	    memcmp(c->saddr, r->saddr, sizeof(c->saddr)) ||
	    memcmp(c->daddr, r->daddr, sizeof(c->daddr))) {
		c->conn = r->conn;
		c->family = r->family;
		c->sport = r->sport;
		c->dport = r->dport;
		memcpy(c->saddr, r->saddr, sizeof(c->saddr));
		memcpy(c->daddr, r->daddr, sizeof(c->daddr));
		fmt_endpoints(&c->e, r);
		c->valid = true;
		c->comm_valid = false;
	}
	return c;
}

/* The record's process name escaped for the full layout, from the entry
 * when it is the same name. */
static const char *cached_comm(struct ep_entry *c, const struct ts_rec *r)
{
	if (!c->comm_valid || strcmp(c->comm, r->comm)) {
		memcpy(c->comm, r->comm, sizeof(c->comm));
		ts_escape(c->comm_esc, sizeof(c->comm_esc), r->comm);
		c->comm_valid = true;
	}
	return c->comm_esc;
}

/* " ns=INODE", " cg=PATH", " ctr=ID" at the end of a line. */
static void put_markers(struct line *l, const struct ts_rec *r, unsigned int show)
{
	char ctr[TS_CONTAINER_LEN];
	char num[24];

	if (show & SHOW_NS) {
		snprintf(num, sizeof(num), " ns=%u", r->netns);
		put(l, num);
	}
	if (!(show & SHOW_CG))
		return;
	put(l, " cg=");
	if (r->cgroup) {
		/* A path: printable ASCII only, up to what the line holds. */
		for (const char *p = r->cgroup; *p && l->n < sizeof(l->buf) - 160; p++)
			l->buf[l->n++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
	} else if (r->cgroup_id) {
		snprintf(num, sizeof(num), "#%llu", (unsigned long long)r->cgroup_id);
		put(l, num);
	} else {
		put(l, "-");
	}
	if (r->cgroup && ts_cgroup_container(r->cgroup, ctr, sizeof(ctr))) {
		put(l, " ctr=");
		for (const char *p = ctr; *p && l->n < sizeof(l->buf) - 8; p++)
			l->buf[l->n++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
	}
}

/* A drop's reason and place, a reset's reason: after the time column. */
static void put_why(struct line *l, const struct ts_rec *r)
{
	char buf[TS_KNAME_MAX * 2 + 64];

	if (r->type == TS_REC_DROP) {
		ts_drop_describe(buf, sizeof(buf), r->drop.dir, r->drop.tcp_flags,
				 r->drop.seq, r->drop.len, r->drop.has_base, r->drop.seq_base,
				 r->reason_name, r->drop.reason, r->where);
		put(l, "  ");
		/* Past direction and kind, already in EVENT. */
		put(l, strchr(strchr(buf, ' ') + 1, ' ') + 1);
	} else if (r->type == TS_REC_RESET_SENT || r->type == TS_REC_RESET_RECV) {
		struct ts_rst_why w = ts_rst_why_of(r);

		if (!w.name)
			return;
		snprintf(buf, sizeof(buf), "  reason %s%s", w.name,
			 w.inferred ? " (inferred)" : "");
		put(l, buf);
	}
}

/* comm_esc: the process name already escaped (full layout), or NULL. */
static void write_rec(FILE *f, const struct ts_rec *r,
		      const struct ts_meta *m, const struct endpoints *e,
		      const char *comm_esc, int aw, unsigned int show)
{
	char t[TS_TIMESTR_LEN];
	char comm[TS_ESC_LEN(TS_COMM_LEN)];
	struct line l = { .n = 0 };
	const char *step;
	size_t start, len, evlen;
	char rtx[160];

	ts_fmt_clock(t, sizeof(t), ts_wall_ns(r->ts_ns, m->wall_offset_ns));
	if (r->type == TS_REC_DROP_SUPPRESSED) {
		fprintf(f, "%-12s %" PRIu64 " more drops only counted (over %u a second per CPU)\n", t,
			r->lost, TS_DROP_PER_SEC);
		return;
	}
	if (r->type == TS_REC_LOST) {
		fprintf(f, "%-12s %s%" PRIu64 " events LOST (ring buffer full: try a larger --ring-size%s)%s\n",
			t, m->color ? TS_C_ALERT : "", r->lost,
			m->compact ? "" : "; or a program re-entered on a busy CPU",
			m->color ? TS_C_RESET : "");
		return;
	}
	put_col(&l, t, 12, 1);
	start = l.n;
	if (r->pid)
		put_u32(&l, r->pid);
	else
		put(&l, "-");
	put_col(&l, "", 7 > l.n - start ? 7 - (l.n - start) : 0, 1);
	if (m->compact) {
		/* Escaped, then cut to the column: never inside an escape. */
		char cc[C_COMM_W + 1];

		put_col(&l, ts_escape(cc, sizeof(cc), r->comm[0] ? r->comm : "-"), C_COMM_W, 1);
		start = l.n;
		if (r->sport)
			put_u32(&l, r->sport);
		else
			put(&l, "*");
		put_col(&l, "", 5 > l.n - start ? 5 - (l.n - start) : 0, 1);
		put_col_n(&l, e->remote, e->rlen, (size_t)aw, 1);
		len = l.n; /* no colour before EVENT: bytes are columns */
		evlen = put_event(&l, r, m->color, true);
		/* The step too, when the reader's width is known to have room
		 * for the longest label (all lines have it, or none). */
		step = r->type == TS_REC_STATE ? ts_rec_step_label(r) : "";
		if (*step && m->columns &&
		    len + C_EVENT_W + 2 + TS_LABEL_MAX_LEN <= m->columns) {
			put_col(&l, "", evlen < C_EVENT_W ? C_EVENT_W - evlen : 0, 2);
			put(&l, step);
		}
		put_markers(&l, r, show);
		put_eol(&l);
		fwrite_unlocked(l.buf, 1, l.n, f);
		return;
	}
	if (!r->comm[0])
		comm_esc = "-";
	else if (!comm_esc)
		comm_esc = ts_escape(comm, sizeof(comm), r->comm);
	put_col(&l, comm_esc, 16, 1);
	put_col_n(&l, e->local, e->llen, (size_t)aw, 1);
	put_col_n(&l, e->remote, e->rlen, (size_t)aw, 1);
	len = put_event(&l, r, m->color, false);
	put_col(&l, "", len < 28 ? 28 - len : 0, 1);
	if (r->type == TS_REC_STATE && r->ns_in_old)
		put_ms3(&l, r->ns_in_old);
	else
		put_right(&l, "-", 9);
	step = r->type == TS_REC_STATE ? ts_rec_step_label(r) : "";
	if (r->has_rtx) {
		ts_rtx__describe(rtx, sizeof(rtx), r);
		step = rtx;
	}
	/* No trailing blanks when there is no step to show. */
	if (*step) {
		put(&l, "  ");
		put(&l, step);
	} else {
		put_why(&l, r);
	}
	put_markers(&l, r, show);
	put_eol(&l);
	fwrite_unlocked(l.buf, 1, l.n, f);
}

void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	struct endpoints e = {};

	if (r->type != TS_REC_LOST && r->type != TS_REC_DROP_SUPPRESSED)
		fmt_endpoints(&e, r);
	write_rec(f, r, m, &e, NULL, m->compact ? C_ADDR_W : ADDR_W, m->wide ? SHOW_CG : 0);
}

static int text_rec(void *priv, const struct ts_rec *r)
{
	struct text_sink *s = priv;
	static const struct endpoints none;
	const struct endpoints *e = &none;
	const char *comm_esc = NULL;
	struct ep_entry *c;
	int w;

	if (r->type != TS_REC_LOST && r->type != TS_REC_DROP_SUPPRESSED) {
		if (!s->first_ns)
			s->first_ns = r->netns;
		else if (r->netns != s->first_ns)
			s->show_ns = true;
		if (!s->first_cg)
			s->first_cg = r->cgroup_id;
		else if (r->cgroup_id && r->cgroup_id != s->first_cg)
			s->show_cg = true;
		c = cached_endpoints(s, r);
		e = &c->e;
		if (!s->meta.compact && r->comm[0])
			comm_esc = cached_comm(c, r);
		w = (int)(e->llen > e->rlen ? e->llen : e->rlen);
		if (s->meta.compact)
			w = (int)e->rlen;
		if (w > s->addr_w) {
			s->addr_w = w;
			s->header_done = false;
		}
	}
	if (!s->header_done) {
		write_header(s->f, s->addr_w, s->meta.compact);
		s->header_done = true;
	}
	write_rec(s->f, r, &s->meta, e, comm_esc, s->addr_w,
		  (s->show_ns ? SHOW_NS : 0) |
			  ((s->show_cg && s->meta.cgroup_filtered) || s->meta.wide ? SHOW_CG : 0));
	return ts_sink_werr(s->f);
}

static int text_flush(void *priv)
{
	struct text_sink *s = priv;

	return fflush(s->f) ? -errno : 0;
}

static void text_destroy(void *priv)
{
	free(priv);
}

static const struct ts_sink_ops text_ops = {
	.name = "text",
	.rec = text_rec,
	.flush = text_flush,
	.destroy = text_destroy,
};

int ts_sink_text__new(struct ts_sink *out, FILE *f, const struct ts_meta *m)
{
	struct text_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	s->addr_w = m->compact ? C_ADDR_W : ADDR_W;
	out->ops = &text_ops;
	out->priv = s;
	return 0;
}
