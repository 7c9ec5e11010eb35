// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fwrite_unlocked (a GNU extension): one writer per stream, no lock per line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
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
#include "core/sinks/text_cache.h"

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
#define EP_CACHE 1024

struct ep_entry {
	uint64_t conn;
	uint16_t sport, dport;
	uint8_t family;
	bool valid;
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	struct endpoints e;
	/* The process name as it came, escaped for the full layout and
	 * for the compact one ("-" for no name, cut to its column). */
	char comm[TS_COMM_LEN + 1];
	char comm_esc[TS_ESC_LEN(TS_COMM_LEN)];
	char comm_cc[C_COMM_W + 1];
	bool comm_valid;
	/* The full layout's PID, COMM, LOCAL and REMOTE columns as made for
	 * pid, this comm and these endpoints in columns addr_w wide. */
	bool cols_valid;
	bool cols_no_comm; /* made with "-" for a record without a name */
	uint32_t cols_pid;
	int cols_aw;
	size_t cols_len;
	char cols[256];
};

#define EV_STATES 16

/* Output is collected here and written when it fills or at a flush: one
 * write of many lines instead of a stdio call per line. */
#define OUT_BUF (64 << 10)

struct text_sink {
	FILE *f;
	struct ts_meta meta;
	int err; /* the stream's error at the last write, as ts_sink_werr */
	/* The TIME column of the last millisecond seen (wall clock in ms,
	 * truncated as ts_put_clock divides), padded as write_rec puts it. */
	bool t_valid;
	int64_t t_ms;
	size_t t_len;
	char t_text[TS_TIMESTR_LEN + 1];
	bool header_done;
	int addr_w;
	/* Namespace and cgroup markers appear once records come from more
	 * than one of them (or, for the cgroup, with --wide). */
	uint32_t first_ns;
	uint64_t first_cg;
	bool show_ns;
	bool show_cg;
	struct ep_entry ep[EP_CACHE];
	struct ts_eptext ept;
	struct ts_steptext steps;
	/* The full layout's EVENT column of a state change without colour,
	 * padded, by old and new state: a few dozen texts make every line. */
	struct {
		uint8_t len; /* 0: not made yet */
		char text[72];
	} ev[EV_STATES][EV_STATES];
	size_t out_n;
	char out[OUT_BUF];
};

enum { SHOW_NS = 1, SHOW_CG = 2 };

/* The header line into buf (len bytes); returns its length, cut to len - 1. */
static size_t header_line(char *buf, size_t len, int aw, bool compact)
{
	int n;

	if (compact)
		n = snprintf(buf, len, "%-12s %-7s %-*s %-5s %-*s %s\n", "TIME", "PID", C_COMM_W,
			     "COMM", "LPORT", aw, "REMOTE", "EVENT");
	else
		n = snprintf(buf, len, "%-12s %-7s %-16s %-*s %-*s %-28s %9s  %s\n", "TIME", "PID",
			     "COMM", aw, "LOCAL", aw, "REMOTE", "EVENT", "MS_IN_OLD", "STEP");
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void ts_text_write_header(FILE *f, const struct ts_meta *m)
{
	char buf[256];

	fwrite_unlocked(buf, 1,
			header_line(buf, sizeof(buf), m->compact ? C_ADDR_W : ADDR_W, m->compact),
			f);
}

/* netstat's names, but ESTABLISHED as ss abbreviates it: compact only. */
static const char *short_state(unsigned int st)
{
	return st == TS_ESTABLISHED ? "ESTAB" : ts_state_name(st);
}

/*
 * A line is built in place, in the sink's output buffer (or in a buffer
 * of the caller's), at most LINE_LEN bytes: printf's format parsing was
 * most of the tracer's CPU time per event.  The layout is that of
 * ts_text_write_header(): left-aligned columns padded with spaces, never
 * truncated.
 */
#define LINE_LEN 512

struct line {
	char *buf; /* room for LINE_LEN bytes */
	size_t n;
};

/* The end of a line: a newline even when the line was cut to the buffer. */
static void put_eol(struct line *l)
{
	if (l->n == LINE_LEN)
		l->n--;
	l->buf[l->n++] = '\n';
}

static void put_n(struct line *l, const char *s, size_t len)
{
	if (len > LINE_LEN - l->n)
		len = LINE_LEN - l->n;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

/*
 * len bytes of s, whose buffer holds at least 'fixed' bytes: when they
 * fit, 'fixed' bytes are copied, a size known when compiling (a few
 * stores, no call), and len of them count.
 */
static inline __attribute__((always_inline)) void put_kept(struct line *l, const char *s,
							   size_t len, size_t fixed)
{
	if (len <= fixed && LINE_LEN - l->n >= fixed) {
		memcpy(l->buf + l->n, s, fixed);
		l->n += len;
	} else {
		put_n(l, s, len);
	}
}

static void put(struct line *l, const char *s)
{
	put_n(l, s, strlen(s));
}

/*
 * pad spaces.  The line's buffer always has LINE_LEN bytes: a short pad
 * is written as a fixed 32 bytes, which the compiler makes two stores
 * instead of a call, and only pad of them count.
 */
static inline void put_pad(struct line *l, size_t pad)
{
	size_t room = LINE_LEN - l->n;

	if (pad > room)
		pad = room;
	if (pad <= 32 && room >= 32)
		memset(l->buf + l->n, ' ', 32);
	else
		memset(l->buf + l->n, ' ', pad);
	l->n += pad;
}

/* s (len bytes) left-aligned in 'width' columns, then 'gap' spaces. */
static void put_col_n(struct line *l, const char *s, size_t len, size_t width, size_t gap)
{
	size_t start = l->n;

	put_n(l, s, len);
	put_pad(l, (l->n - start < width ? width - (l->n - start) : 0) + gap);
}

/* s left-aligned in 'width' columns (like "%-*s"), then 'gap' spaces. */
static void put_col(struct line *l, const char *s, size_t width, size_t gap)
{
	put_col_n(l, s, strlen(s), width, gap);
}

/* s (len bytes) right-aligned in 'width' columns (like "%*s"). */
static void put_right_n(struct line *l, const char *s, size_t len, size_t width)
{
	put_pad(l, len < width ? width - len : 0);
	put_n(l, s, len);
}

static void put_right(struct line *l, const char *s, size_t width)
{
	put_right_n(l, s, strlen(s), width);
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
		/* Classifying the step costs: only for colour. */
		if (color)
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

/* The full layout's EVENT column: the event, padded to 28, a space. */
static void put_event_col(struct line *l, const struct ts_rec *r, bool color)
{
	size_t len = put_event(l, r, color, false);

	put_pad(l, (len < 28 ? 28 - len : 0) + 1);
}

static void put_u32(struct line *l, uint32_t v)
{
	char tmp[21];

	if (LINE_LEN - l->n >= sizeof(tmp)) {
		l->n += ts_put_u64(l->buf + l->n, v);
		return;
	}
	put_n(l, tmp, ts_put_u64(tmp, v));
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
	/* Right-aligned in 9 columns: spaces, then the digits built from the
	 * end (at most 11 characters below 2^43 ns), copied as 16 bytes. */
	{
		char b[40], *p = b + 24;
		uint64_t ms = us / 1000;
		unsigned int frac = (unsigned int)(us % 1000);

		memset(b + 8, ' ', 16);
		p -= 3;
		p[0] = (char)('0' + frac / 100);
		p[1] = (char)('0' + frac / 10 % 10);
		p[2] = (char)('0' + frac % 10);
		*--p = '.';
		do {
			*--p = (char)('0' + ms % 10);
			ms /= 10;
		} while (ms);
		n = (size_t)(b + 24 - p);
		if (n < 9)
			n = 9;
		put_kept(l, b + 24 - n, n, 16);
	}
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

/* fmt_endpoints(), the texts from the sink's endpoint cache. */
static void cached_pair(struct text_sink *s, struct endpoints *e, const struct ts_rec *r)
{
	const char *t;

	/* Endpoint texts are under 48 bytes: copied as 48, a fixed size. */
	_Static_assert(sizeof(e->local) >= 48 && sizeof(s->ept.slot[0].text) >= 48,
		       "endpoint buffers");
	t = ts_eptext__get(&s->ept, r->family, r->saddr, r->sport, &e->llen);
	if (e->llen < 48)
		memcpy(e->local, t, 48);
	else
		memcpy(e->local, t, e->llen + 1);
	t = ts_eptext__get(&s->ept, r->family, r->daddr, r->dport, &e->rlen);
	if (e->rlen < 48)
		memcpy(e->remote, t, 48);
	else
		memcpy(e->remote, t, e->rlen + 1);
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
		cached_pair(s, &c->e, r);
		c->valid = true;
		/* The name stays: cached_comm() compares it. */
		c->cols_valid = false;
	}
	return c;
}

/* The record's process name escaped for the full layout, from the entry
 * when it is the same name. */
static const char *cached_comm(struct ep_entry *c, const struct ts_rec *r)
{
	/* The whole array: a name is NUL-padded, and a byte after its end
	 * that differs costs a miss, never a wrong text. */
	if (!c->comm_valid || memcmp(c->comm, r->comm, sizeof(c->comm))) {
		memcpy(c->comm, r->comm, sizeof(c->comm));
		ts_escape(c->comm_esc, sizeof(c->comm_esc), r->comm);
		ts_escape(c->comm_cc, sizeof(c->comm_cc), r->comm[0] ? r->comm : "-");
		c->comm_valid = true;
		c->cols_valid = false;
	}
	return c->comm_esc;
}

/* A state change's EVENT column (full layout, no colour): it depends on
 * the two states only. NULL for states past the table. */
static inline __attribute__((always_inline)) const char *
cached_event(struct text_sink *s, const struct ts_rec *r, size_t *len)
{
	char buf[LINE_LEN];
	struct line l = { .buf = buf };

	if (r->old_state >= EV_STATES || r->new_state >= EV_STATES)
		return NULL;
	if (!s->ev[r->old_state][r->new_state].len) {
		put_event_col(&l, r, false);
		if (l.n > sizeof(s->ev[0][0].text))
			return NULL;
		memcpy(s->ev[r->old_state][r->new_state].text, l.buf, l.n);
		s->ev[r->old_state][r->new_state].len = (uint8_t)l.n;
	}
	*len = s->ev[r->old_state][r->new_state].len;
	return s->ev[r->old_state][r->new_state].text;
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
		for (const char *p = r->cgroup; *p && l->n < LINE_LEN - 160; p++)
			l->buf[l->n++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
	} else if (r->cgroup_id) {
		snprintf(num, sizeof(num), "#%llu", (unsigned long long)r->cgroup_id);
		put(l, num);
	} else {
		put(l, "-");
	}
	if (r->cgroup && ts_cgroup_container(r->cgroup, ctr, sizeof(ctr))) {
		put(l, " ctr=");
		for (const char *p = ctr; *p && l->n < LINE_LEN - 8; p++)
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

/* The PID column (7 wide), then a space. */
static void put_pid(struct line *l, const struct ts_rec *r)
{
	size_t start = l->n;

	if (r->pid)
		put_u32(l, r->pid);
	else
		put_n(l, "-", 1);
	put_pad(l, (7 > l->n - start ? 7 - (l->n - start) : 0) + 1);
}

/* The full layout's PID, COMM, LOCAL and REMOTE columns.  comm_esc: the
 * process name already escaped, or NULL. */
static void put_conn_cols(struct line *l, const struct ts_rec *r, const struct endpoints *e,
			  const char *comm_esc, int aw)
{
	char comm[TS_ESC_LEN(TS_COMM_LEN)];

	put_pid(l, r);
	if (!r->comm[0])
		comm_esc = "-";
	else if (!comm_esc)
		comm_esc = ts_escape(comm, sizeof(comm), r->comm);
	put_col(l, comm_esc, 16, 1);
	put_col_n(l, e->local, e->llen, (size_t)aw, 1);
	put_col_n(l, e->remote, e->rlen, (size_t)aw, 1);
}

/* The entry's connection columns for r, made again when the pid, the
 * name or the width changed (cached_comm() drops them when the name
 * does); NULL when they do not fit the entry. */
static const char *cached_cols(struct ep_entry *c, const struct ts_rec *r,
			       const char *comm_esc, int aw)
{
	char buf[LINE_LEN];
	/* The buffer is not cleared: only what is written is read. */
	struct line l = { .buf = buf };

	if (c->cols_valid && c->cols_pid == r->pid && c->cols_aw == aw &&
	    c->cols_no_comm == !r->comm[0])
		return c->cols;
	put_conn_cols(&l, r, &c->e, comm_esc, aw);
	if (l.n > sizeof(c->cols))
		return NULL;
	memcpy(c->cols, l.buf, l.n);
	c->cols_len = l.n;
	c->cols_pid = r->pid;
	c->cols_aw = aw;
	c->cols_no_comm = !r->comm[0];
	c->cols_valid = true;
	return c->cols;
}

/* The TIME column as "%-12s " prints it, into t (TS_TIMESTR_LEN + 1
 * bytes); returns its length. */
static size_t time_col(char *t, const struct ts_rec *r, const struct ts_meta *m)
{
	/* As ts_fmt_clock() gives it, without copying it twice. */
	size_t n = ts_put_clock(t, ts_wall_ns(r->ts_ns, m->wall_offset_ns));

	while (n < 12)
		t[n++] = ' ';
	t[n++] = ' ';
	return n;
}

/* A printf-made line (the rare ones), cut to the line's room. */
static void put_fmt(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put_fmt(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->n, LINE_LEN - l->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->n += (size_t)n < LINE_LEN - l->n ? (size_t)n : LINE_LEN - 1 - l->n;
}

/*
 * One record's line into l (empty).  t (tlen bytes, in a buffer of at
 * least 32): its TIME column as time_col() makes it.  comm_esc: the process name already escaped (full
 * layout), or NULL; comm_cc: the compact layout's COMM text, or NULL;
 * cols (cols_len bytes, in a buffer of at least 128): the full layout's
 * connection columns as put_conn_cols() makes them for this record, or
 * NULL; ev (ev_len bytes, in a buffer of at least 64): its EVENT column as put_event_col() makes it, or NULL; step:
 * its ts_rec_step_label(), or NULL; step_col (step_col_len bytes, in a
 * buffer of TS_STEPTEXT_COL): "  " and that label, or NULL.
 */
static void write_rec(struct line *l, const struct ts_rec *r,
		      const struct ts_meta *m, const struct endpoints *e,
		      const char *t, size_t tlen,
		      const char *comm_esc, const char *comm_cc,
		      const char *cols, size_t cols_len,
		      const char *ev, size_t ev_len, const char *step,
		      const char *step_col, size_t step_col_len, int aw, unsigned int show)
{
	const char *label;
	size_t start, len, evlen;
	char rtx[160];

	put_kept(l, t, tlen, 32);
	if (r->type == TS_REC_DROP_SUPPRESSED) {
		put_fmt(l, "%" PRIu64 " more drops only counted (over %u a second per CPU)",
			r->lost, TS_DROP_PER_SEC);
		put_eol(l);
		return;
	}
	if (r->type == TS_REC_LOST) {
		put_fmt(l, "%s%" PRIu64 " events LOST (ring buffer full: try a larger --ring-size%s)%s",
			m->color ? TS_C_ALERT : "", r->lost,
			m->compact ? "" : "; or a program re-entered on a busy CPU",
			m->color ? TS_C_RESET : "");
		put_eol(l);
		return;
	}
	if (m->compact) {
		char cc[C_COMM_W + 1];

		put_pid(l, r);
		/* Escaped, then cut to the column: never inside an escape. */
		if (!comm_cc)
			comm_cc = ts_escape(cc, sizeof(cc), r->comm[0] ? r->comm : "-");
		put_col(l, comm_cc, C_COMM_W, 1);
		start = l->n;
		if (r->sport)
			put_u32(l, r->sport);
		else
			put(l, "*");
		put_pad(l, (5 > l->n - start ? 5 - (l->n - start) : 0) + 1);
		put_col_n(l, e->remote, e->rlen, (size_t)aw, 1);
		len = l->n; /* no colour before EVENT: bytes are columns */
		evlen = put_event(l, r, m->color, true);
		/* The step too, when the reader's width is known to have room
		 * for the longest label (all lines have it, or none). */
		if (!step)
			step = ts_rec_step_label(r);
		if (*step && m->columns &&
		    len + C_EVENT_W + 2 + TS_LABEL_MAX_LEN <= m->columns) {
			put_pad(l, (evlen < C_EVENT_W ? C_EVENT_W - evlen : 0) + 2);
			put(l, step);
		}
		if (show)
			put_markers(l, r, show);
		put_eol(l);
		return;
	}
	if (cols)
		put_kept(l, cols, cols_len, 128);
	else
		put_conn_cols(l, r, e, comm_esc, aw);
	if (ev)
		put_kept(l, ev, ev_len, 64);
	else
		put_event_col(l, r, m->color);
	if (r->type == TS_REC_STATE && r->ns_in_old)
		put_ms3(l, r->ns_in_old);
	else
		put_right(l, "-", 9);
	if (!step)
		step = ts_rec_step_label(r);
	label = step;
	if (r->has_rtx) {
		ts_rtx__describe(rtx, sizeof(rtx), r);
		step = rtx;
	}
	/* No trailing blanks when there is no step to show. */
	if (step_col && step == label) {
		put_kept(l, step_col, step_col_len, TS_STEPTEXT_COL);
	} else if (*step) {
		put(l, "  ");
		put(l, step);
	} else {
		put_why(l, r);
	}
	if (show)
		put_markers(l, r, show);
	put_eol(l);
}

void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	struct endpoints e = {};
	char t[TS_TIMESTR_LEN + 1], buf[LINE_LEN];
	struct line l = { .buf = buf };

	if (r->type != TS_REC_LOST && r->type != TS_REC_DROP_SUPPRESSED)
		fmt_endpoints(&e, r);
	write_rec(&l, r, m, &e, t, time_col(t, r, m), NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, 0,
		  m->compact ? C_ADDR_W : ADDR_W, m->wide ? SHOW_CG : 0);
	fwrite_unlocked(l.buf, 1, l.n, f);
}

/* What the buffer holds, to the stream; the stream's error, if any. */
static int out_write(struct text_sink *s)
{
	if (s->out_n)
		fwrite_unlocked(s->out, 1, s->out_n, s->f);
	s->out_n = 0;
	s->err = ts_sink_werr(s->f);
	return s->err;
}

/* Room for a line (or the header) at the end of the buffer. */
static struct line out_line(struct text_sink *s)
{
	struct line l = { .n = 0 };

	if (OUT_BUF - s->out_n < LINE_LEN)
		out_write(s);
	l.buf = s->out + s->out_n;
	return l;
}

/* r's TIME column, kept from the last record of the same millisecond. */
static const char *cached_time(struct text_sink *s, const struct ts_rec *r, size_t *len)
{
	int64_t ms = ts_wall_ns(r->ts_ns, s->meta.wall_offset_ns) / 1000000;

	if (!s->t_valid || ms != s->t_ms) {
		s->t_len = time_col(s->t_text, r, &s->meta);
		s->t_ms = ms;
		s->t_valid = true;
	}
	*len = s->t_len;
	return s->t_text;
}

static int text_rec(void *priv, const struct ts_rec *r)
{
	struct text_sink *s = priv;
	static const struct endpoints none;
	const struct endpoints *e = &none;
	const char *comm_esc = NULL, *comm_cc = NULL, *cols = NULL, *ev = NULL, *t;
	const char *step, *step_col;
	size_t ev_len = 0, tlen, step_col_len;
	struct ep_entry *c = NULL;
	struct line l;
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
		comm_esc = cached_comm(c, r);
		comm_cc = c->comm_cc;
		if (!r->comm[0])
			comm_esc = NULL;
		w = (int)(e->llen > e->rlen ? e->llen : e->rlen);
		if (s->meta.compact)
			w = (int)e->rlen;
		if (w > s->addr_w) {
			s->addr_w = w;
			s->header_done = false;
		}
	}
	if (!s->header_done) {
		l = out_line(s);
		s->out_n += header_line(l.buf, LINE_LEN, s->addr_w, s->meta.compact);
		s->header_done = true;
	}
	if (c && !s->meta.compact)
		cols = cached_cols(c, r, comm_esc, s->addr_w);
	if (r->type == TS_REC_STATE && !s->meta.compact && !s->meta.color)
		ev = cached_event(s, r, &ev_len);
	step = ts_steptext__get(&s->steps, r, &step_col, &step_col_len);
	t = cached_time(s, r, &tlen);
	l = out_line(s);
	write_rec(&l, r, &s->meta, e, t, tlen, comm_esc, comm_cc, cols, cols ? c->cols_len : 0,
		  ev, ev_len, step, step_col, step_col_len, s->addr_w,
		  (s->show_ns ? SHOW_NS : 0) |
			  ((s->show_cg && s->meta.cgroup_filtered) || s->meta.wide ? SHOW_CG : 0));
	s->out_n += l.n;
	return s->err;
}

static int text_flush(void *priv)
{
	struct text_sink *s = priv;
	int err = out_write(s);

	if (fflush(s->f) && !err)
		err = -errno;
	return err;
}

static int text_finish(void *priv, const struct ts_totals *t)
{
	(void)t;
	return text_flush(priv);
}

/* What is left goes out as stdio would have written it at exit. */
static void text_destroy(void *priv)
{
	struct text_sink *s = priv;

	if (s->out_n)
		out_write(s);
	free(s);
}

static const struct ts_sink_ops text_ops = {
	.name = "text",
	.rec = text_rec,
	.flush = text_flush,
	.finish = text_finish,
	.destroy = text_destroy,
};

int ts_sink_text__new(struct ts_sink *out, FILE *f, const struct ts_meta *m)
{
	/* Not calloc'd: the output buffer need not be cleared. */
	struct text_sink *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(s, 0, offsetof(struct text_sink, out));
	s->f = f;
	s->meta = *m;
	s->addr_w = m->compact ? C_ADDR_W : ADDR_W;
	out->ops = &text_ops;
	out->priv = s;
	return 0;
}
