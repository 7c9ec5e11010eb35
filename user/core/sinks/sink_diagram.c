// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --diagram: each connection as the two-column ladder of RFC 793
 * (section 3.4/3.5): end A on the left, end B on the right, the segments
 * the events prove as arrows between them, each side's state beside them.
 *
 *	  TIME     A                                              B      TIME
 *	+0.000ms  SYN_SENT     ----------- SYN ---------->  LISTEN
 *	+0.081ms  ESTABLISHED  <-------- SYN,ACK ---------  SYN_RECV   +0.095ms
 *
 * When both sockets of a connection were traced on this host (loopback,
 * two namespaces), the tracker paired them (ts_conn.peer) and each column
 * shows that socket's real states and
 * times; a segment both ends saw is one row with both times.  Otherwise
 * B's states are what A's changes imply, in parentheses.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/sinks/pictures.h"
#include "core/sinks/picture_util.h"
#include "core/util/escape.h"
#include "core/stream/states.h"
#include "core/stream/tracker.h"
#include "core/util/fmt.h"

/* Columns: time(10) state(13) arrow(28) state(13) time(10), one space apart. */
#define W_TIME 10
#define W_STATE 13
#define W_ARROW 28
#define MAX_OBS ((TS_CONN_MAX_STEPS + 1 + TS_CONN_MAX_PEER_STEPS) * 2 + TS_CONN_MAX_MARKS + 4)
#define MAX_HELD 4096
#define HELD_BUCKETS 1024
#define FLUSHES_TO_WAIT 20

enum seg_kind {
	SEG_NOTE = 0, /* a state change that proves no segment */
	SEG_SYN,
	SEG_SYNACK,
	SEG_ACK,    /* of the SYN-ACK */
	SEG_FIN,
	SEG_FINACK, /* ACK of a FIN */
	SEG_RST,
	SEG_RTX,  /* a retransmission: only its sender sees it */
	SEG_DROP, /* a segment dropped on this host */
};

/* One thing one end saw: a segment it sent or received, or a note. */
struct obs {
	uint64_t ts;	  /* when this end saw it */
	uint64_t key;	  /* row order: the earlier of both ends' times */
	uint8_t kind;	  /* enum seg_kind */
	uint8_t rtx_of;	  /* SEG_RTX: the kind retransmitted (0: data) */
	bool out;	  /* sent by the observer */
	bool side_b;	  /* observed by B */
	bool show_time;	  /* first row of its step */
	bool inferred;	  /* the observer's step was deduced */
	uint8_t state;	  /* observer's state after it */
	uint8_t peer;	  /* the peer's state it implies, 0 none */
	int seq;	  /* order of observation on its side */
	int match;	  /* the same segment seen by the other end, -1 */
	char label[32];
};

struct held {
	struct ts_conn c;
	uint32_t flushes;
	struct held *hnext;
	struct held *prev, *next; /* FIFO: oldest first */
};

struct diagram {
	FILE *f;
	bool uni;
	uint64_t pair_wait_ns;
	uint64_t newest_ns;
	struct held *buckets[HELD_BUCKETS];
	struct held *head, *tail;
	uint32_t nheld;
	uint64_t pairs; /* connections drawn with both ends */
	bool any_inferred; /* a state marked '*' was drawn */
	const char *damage;
	int err;
};

bool ts_diagram_locale_utf8(const char *lc_all, const char *lc_ctype,
			    const char *lang)
{
	const char *v = lc_all && *lc_all ? lc_all :
			lc_ctype && *lc_ctype ? lc_ctype : lang;
	const char *dot;

	if (!v || !*v)
		return false;
	dot = strchr(v, '.');
	if (!dot)
		return false;
	return !strncasecmp(dot + 1, "utf-8", 5) || !strncasecmp(dot + 1, "utf8", 4);
}

/* ---- what a step proves ---- */

struct seg {
	bool out;
	uint8_t kind;
	uint8_t peer;
};

/*
 * The segments a transition of one socket proves, in the order they
 * crossed, with the state each leaves the peer in (RFC 793 figure 6).
 */
static int step_segs(const struct ts_conn *c, const struct ts_step *s,
		     bool last, struct seg *g)
{
	bool fin_rcvd = s->rec_flags & TS_F_FIN_RCVD;
	int from = s->from, to = s->to;

	if (last && to == TS_CLOSE) {
		switch (c->close) {
		case TS_CLOSE_REFUSED:
			/* Drawn from the RST record when there is one. */
			if (c->resets_received)
				return 0;
			g[0] = (struct seg){ false, SEG_RST, TS_CLOSE };
			return 1;
		case TS_CLOSE_RESET_SENT:
			if (c->resets_sent)
				return 0;
			g[0] = (struct seg){ true, SEG_RST, TS_CLOSE };
			return 1;
		case TS_CLOSE_RESET_RECEIVED:
			if (c->resets_received)
				return 0;
			g[0] = (struct seg){ false, SEG_RST, TS_CLOSE };
			return 1;
		case TS_CLOSE_TIMEOUT:
			return 0;
		default:
			break;
		}
	}
	if (from == TS_CLOSE && to == TS_SYN_SENT) {
		/* Refused: nothing listened, the peer never left CLOSE. */
		g[0] = (struct seg){ true, SEG_SYN,
				     c->close == TS_CLOSE_REFUSED ? TS_CLOSE : TS_SYN_RECV };
		return 1;
	}
	if (from == TS_SYN_SENT && to == TS_ESTABLISHED) {
		g[0] = (struct seg){ false, SEG_SYNACK, TS_SYN_RECV };
		g[1] = (struct seg){ true, SEG_ACK, TS_ESTABLISHED };
		return 2;
	}
	if ((from == TS_LISTEN || from == TS_SYN_SENT) && to == TS_SYN_RECV) {
		/* A retransmitted SYN-ACK: the first one did not arrive. */
		g[0] = (struct seg){ false, SEG_SYN, TS_SYN_SENT };
		g[1] = (struct seg){ true, SEG_SYNACK,
				     c->rtx[TS_RTX_SYNACK] ? TS_SYN_SENT : TS_ESTABLISHED };
		return 2;
	}
	if (from == TS_SYN_RECV && to == TS_ESTABLISHED) {
		g[0] = (struct seg){ false, SEG_ACK, TS_ESTABLISHED };
		return 1;
	}
	if ((from == TS_ESTABLISHED || from == TS_SYN_RECV) && to == TS_FIN_WAIT1) {
		g[0] = (struct seg){ true, SEG_FIN, TS_CLOSE_WAIT };
		return 1;
	}
	if (from == TS_FIN_WAIT1 && to == TS_FIN_WAIT2) {
		g[0] = (struct seg){ false, SEG_FINACK, TS_CLOSE_WAIT };
		return 1;
	}
	if ((from == TS_FIN_WAIT2 && (to == TS_TIME_WAIT || (to == TS_CLOSE && fin_rcvd))) ||
	    (from == TS_FIN_WAIT1 && (to == TS_TIME_WAIT || (to == TS_CLOSE && fin_rcvd)))) {
		g[0] = (struct seg){ false, SEG_FIN, TS_LAST_ACK };
		g[1] = (struct seg){ true, SEG_FINACK, TS_CLOSE };
		return 2;
	}
	if (from == TS_FIN_WAIT1 && to == TS_CLOSING) {
		g[0] = (struct seg){ false, SEG_FIN, TS_CLOSING };
		g[1] = (struct seg){ true, SEG_FINACK, TS_CLOSING };
		return 2;
	}
	if (from == TS_CLOSING && (to == TS_TIME_WAIT || to == TS_CLOSE)) {
		g[0] = (struct seg){ false, SEG_FINACK, TS_TIME_WAIT };
		return 1;
	}
	if (from == TS_ESTABLISHED && to == TS_CLOSE_WAIT) {
		g[0] = (struct seg){ false, SEG_FIN, TS_FIN_WAIT1 };
		g[1] = (struct seg){ true, SEG_FINACK, TS_FIN_WAIT2 };
		return 2;
	}
	if (from == TS_CLOSE_WAIT && to == TS_LAST_ACK) {
		g[0] = (struct seg){ true, SEG_FIN, TS_TIME_WAIT };
		return 1;
	}
	if (from == TS_LAST_ACK && to == TS_CLOSE) {
		g[0] = (struct seg){ false, SEG_FINACK, TS_CLOSE };
		return 1;
	}
	return 0;
}

static const char *seg_name(uint8_t kind)
{
	switch (kind) {
	case SEG_SYN:
		return "SYN";
	case SEG_SYNACK:
		return "SYN,ACK";
	case SEG_ACK:
	case SEG_FINACK:
		return "ACK";
	case SEG_FIN:
		return "FIN";
	case SEG_RST:
		return "RST";
	default:
		return "";
	}
}

/* What a state change that proves no segment is shown as. */
static const char *step_note(const struct ts_conn *c, const struct ts_step *s,
			     bool last)
{
	if (s->to == TS_LISTEN)
		return "listen()";
	if (s->from == TS_LISTEN && s->to == TS_CLOSE)
		return "listener closed";
	if (s->from == TS_TIME_WAIT && s->to == TS_CLOSE)
		return "2 MSL, not traced";
	if (last && c->close == TS_CLOSE_DUPLICATE)
		return "duplicate, discarded";
	if (last && c->close == TS_CLOSE_TIMEOUT)
		return s->from == TS_SYN_SENT ? "no answer: gave up" : "timed out";
	if (last && (c->close == TS_CLOSE_RESET_SENT || c->close == TS_CLOSE_RESET_RECEIVED ||
		     c->close == TS_CLOSE_REFUSED))
		return "closed";
	if (s->from == TS_FIN_WAIT2 && s->to == TS_CLOSE)
		return "to a timewait socket";
	if (s->to == TS_CLOSE)
		return "closed";
	if (s->flags & TS_STEP_GAP)
		return "after missing events";
	return NULL;
}

static void rtx_label(char *buf, size_t len, const struct ts_mark *k)
{
	const char *what;

	switch (k->state) {
	case TS_SYN_SENT:
		what = "SYN";
		break;
	case TS_SYN_RECV:
		what = "SYN,ACK";
		break;
	case TS_FIN_WAIT1:
	case TS_CLOSING:
	case TS_LAST_ACK:
		what = "FIN";
		break;
	default:
		what = "data";
	}
	if (k->type == TS_REC_SYNACK_RETRANS)
		what = "SYN,ACK";
	if (k->count > 1)
		snprintf(buf, len, "%s rtx x%u", what, k->count);
	else
		snprintf(buf, len, "%s rtx", what);
}

static struct obs *new_obs(struct obs *o, int *n, int max, uint64_t ts, bool side_b,
			   int *seq)
{
	struct obs *x;

	if (*n >= max)
		return NULL;
	x = &o[(*n)++];
	memset(x, 0, sizeof(*x));
	x->ts = ts;
	x->side_b = side_b;
	x->show_time = true;
	x->seq = (*seq)++;
	x->match = -1;
	return x;
}

static void mark_obs(const struct ts_mark *k, bool side_b, struct obs *o, int *n,
		     int max, int *seq)
{
	struct obs *x = new_obs(o, n, max, k->ts_ns, side_b, seq);

	if (!x)
		return;
	x->state = k->state;
	switch (k->type) {
	case TS_REC_RESET_SENT:
	case TS_REC_RESET_RECV:
		x->kind = SEG_RST;
		x->out = k->type == TS_REC_RESET_SENT;
		x->peer = TS_CLOSE;
		snprintf(x->label, sizeof(x->label), "RST");
		break;
	case TS_REC_RETRANS:
	case TS_REC_SYNACK_RETRANS:
		x->kind = SEG_RTX;
		x->out = true;
		rtx_label(x->label, sizeof(x->label), k);
		if (k->type == TS_REC_SYNACK_RETRANS || k->state == TS_SYN_RECV)
			x->rtx_of = SEG_SYNACK;
		else if (k->state == TS_SYN_SENT)
			x->rtx_of = SEG_SYN;
		else if (k->state == TS_FIN_WAIT1 || k->state == TS_CLOSING ||
			 k->state == TS_LAST_ACK)
			x->rtx_of = SEG_FIN;
		break;
	default:
		x->kind = SEG_DROP;
		snprintf(x->label, sizeof(x->label), "dropped");
	}
}

/* The rows of one step; ts_known false: it happened before 'ts', when
 * exactly is not known. */
static void step_obs(const struct ts_conn *c, int i, bool side_b, uint64_t ts,
		     bool ts_known, struct obs *o, int *n, int max, int *seq)
{
	const struct ts_step *s = &c->steps[i];
	bool last = i == ts_conn_close_step(c);
	struct seg g[2];
	int ng = step_segs(c, s, last, g);
	struct obs *x;

	if (!ng) {
		const char *note = step_note(c, s, last);

		x = new_obs(o, n, max, ts, side_b, seq);
		if (!x)
			return;
		x->kind = SEG_NOTE;
		x->state = s->to;
		x->inferred = s->flags & (TS_STEP_INFERRED | TS_STEP_PEER);
		x->show_time = ts_known;
		if (note)
			snprintf(x->label, sizeof(x->label), "(%s)", note);
		else
			snprintf(x->label, sizeof(x->label), "(%s>%s)", ts_state_name(s->from),
				 ts_state_name(s->to));
		return;
	}
	for (int j = 0; j < ng; j++) {
		x = new_obs(o, n, max, ts, side_b, seq);
		if (!x)
			return;
		x->kind = g[j].kind;
		x->out = g[j].out;
		x->state = s->to;
		x->peer = g[j].peer;
		x->inferred = s->flags & (TS_STEP_INFERRED | TS_STEP_PEER);
		x->show_time = ts_known;
		snprintf(x->label, sizeof(x->label), "%s", seg_name(g[j].kind));
	}
}

/* Everything one socket saw, in time order. */
static int observe(const struct ts_conn *c, bool side_b, struct obs *o, int max)
{
	int n = 0, mi = 0, seq = 0, first = 0;

	/*
	 * A server's LISTEN -> SYN_RECV is reported with the child socket, at
	 * the ACK; its SYN-ACK retransmits came earlier, so its SYN and
	 * SYN-ACK did too: drawn before them, with no time of their own.
	 */
	if (c->nsteps && c->nmarks && c->steps[0].from == TS_LISTEN &&
	    c->steps[0].to == TS_SYN_RECV && c->marks[0].ts_ns < c->steps[0].ts_ns) {
		step_obs(c, 0, side_b, c->marks[0].ts_ns, false, o, &n, max, &seq);
		first = 1;
	}
	for (int i = first; i <= c->nsteps; i++) {
		uint64_t limit = i < c->nsteps ? c->steps[i].ts_ns : UINT64_MAX;

		/* Marks before this step (a retransmit precedes the change it causes). */
		for (; mi < c->nmarks && c->marks[mi].ts_ns <= limit; mi++)
			mark_obs(&c->marks[mi], side_b, o, &n, max, &seq);
		/* The peer's own column shows its ACK arriving. */
		if (i < c->nsteps && (c->steps[i].flags & TS_STEP_PEER) &&
		    c->steps[i].from == c->steps[i].to)
			continue;
		if (i < c->nsteps)
			step_obs(c, i, side_b, c->steps[i].ts_ns, true, o, &n, max, &seq);
	}
	return n;
}

/* The state a socket was in at ts (before its first step: that step's from). */
static uint8_t state_at(const struct ts_conn *c, uint64_t ts)
{
	uint8_t st = c->nsteps ? c->steps[0].from : c->state;

	for (int i = 0; i < c->nsteps && c->steps[i].ts_ns <= ts; i++)
		st = c->steps[i].to;
	return st;
}

static uint64_t first_ts(const struct ts_conn *c)
{
	uint64_t t = c->nsteps ? c->steps[0].ts_ns : c->start_ns;

	if (c->nmarks && c->marks[0].ts_ns < t)
		t = c->marks[0].ts_ns;
	return t;
}

/* ---- drawing ---- */

struct line {
	char b[TS_DIAGRAM_COLS * 4 + 16];
	size_t n;   /* bytes */
	int cols;   /* display columns */
};

static void put(struct line *l, const char *s, int cols)
{
	size_t len = strlen(s);

	if (l->cols + cols > TS_DIAGRAM_COLS || l->n + len >= sizeof(l->b))
		return;
	memcpy(l->b + l->n, s, len);
	l->n += len;
	l->cols += cols;
	l->b[l->n] = '\0';
}

/* ASCII text (or escaped text: one column per byte or code point). */
static void put_text(struct line *l, const char *s)
{
	for (; *s; s++) {
		char one[2] = { *s, 0 };

		/* A UTF-8 continuation byte adds no column. */
		if (((unsigned char)*s & 0xc0) == 0x80) {
			if (l->n + 1 < sizeof(l->b)) {
				l->b[l->n++] = *s;
				l->b[l->n] = '\0';
			}
			continue;
		}
		if (l->cols >= TS_DIAGRAM_COLS)
			break;
		put(l, one, 1);
	}
}

static void pad_to(struct line *l, int col)
{
	while (l->cols < col)
		put(l, " ", 1);
}

static void emit_line(struct diagram *d, struct line *l)
{
	/* No trailing blanks. */
	while (l->n && l->b[l->n - 1] == ' ')
		l->b[--l->n] = '\0';
	fputs(l->b, d->f);
	fputc('\n', d->f);
	l->n = 0;
	l->cols = 0;
	l->b[0] = '\0';
}

static void fmt_rel(char *buf, size_t len, uint64_t t, uint64_t t0)
{
	uint64_t d = t >= t0 ? t - t0 : 0;

	if (d < 1000000000ull)
		snprintf(buf, len, "+%.3fms", d / 1e6);
	else if (d < 100000000000000ull)
		snprintf(buf, len, "+%.3fs", d / 1e9);
	else
		snprintf(buf, len, "+%.0fs", d / 1e9);
}

static void fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000000ull)
		snprintf(buf, len, "%.3fms", ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", ns / 1e9);
}

/* The arrow between the columns: W_ARROW cells. */
static void put_arrow(struct diagram *d, struct line *l, const struct obs *x,
		      bool to_right)
{
	const char *line = d->uni ? "\u2500" : "-";
	const char *head = to_right ? (d->uni ? "\u25b6" : ">") : (d->uni ? "\u25c0" : "<");
	int len = (int)strlen(x->label), w = W_ARROW, before, i;
	int cell = 0;

	if (x->kind == SEG_NOTE) {
		before = (w - len) / 2;
		for (i = 0; i < before; i++)
			put(l, " ", 1);
		put_text(l, x->label);
		return;
	}
	if (x->kind == SEG_RTX)
		line = d->uni ? "\u2550" : "=";
	if (x->kind == SEG_DROP) {
		/* Lost on the way: the arrow stops short with a cross. */
		head = d->uni ? "\u00d7" : "x";
	}
	before = (w - len - 2) / 2;
	if (!to_right) {
		put(l, head, 1);
		cell++;
	}
	for (; cell < before; cell++)
		put(l, line, 1);
	put(l, " ", 1);
	put_text(l, x->label);
	put(l, " ", 1);
	cell += len + 2;
	for (; cell < w - (to_right ? 1 : 0); cell++)
		put(l, line, 1);
	if (to_right)
		put(l, head, 1);
}

static void put_state(struct line *l, uint8_t st, bool implied, bool inferred)
{
	char buf[24];

	if (!st)
		return;
	if (implied)
		snprintf(buf, sizeof(buf), "(%s)", ts_state_name(st));
	else
		snprintf(buf, sizeof(buf), "%s%s", ts_state_name(st), inferred ? "*" : "");
	put_text(l, buf);
}

/* "client curl[1234]" with the name escaped and cut to fit. */
static void owner(char *buf, size_t len, const struct ts_conn *c)
{
	char esc[TS_ESC_LEN(TS_COMM_LEN + 1)];

	if (!c->pid) {
		snprintf(buf, len, "%s, owner unknown", ts_role_name(c->role));
		return;
	}
	ts_escape(esc, sizeof(esc), c->comm);
	snprintf(buf, len, "%s %s[%u]", ts_role_name(c->role), esc, c->pid);
}

/* "  A  addr:port  who", or two lines when that is too wide. */
static void end_line(struct diagram *d, const char *name, const char *ep, const char *who)
{
	struct line l = { .n = 0 };
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "  %s  %s", name, ep);
	put_text(&l, tmp);
	if (l.cols + 2 + (int)strlen(who) > TS_DIAGRAM_COLS) {
		emit_line(d, &l);
		pad_to(&l, 5);
	} else {
		put_text(&l, "  ");
	}
	put_text(&l, who);
	emit_line(d, &l);
}

static void header(struct diagram *d, const struct ts_conn *a,
		   const struct ts_conn *b)
{
	char ep[TS_ADDRSTR_LEN], ow[128], hs[32], life[32], tmp[256];
	struct line l = { .n = 0 };

	if (b)
		snprintf(tmp, sizeof(tmp), "conn %" PRIu64 " + conn %" PRIu64 "  both ends traced  close=%s/%s",
			 a->id, b->id, ts_close_name(a->close), ts_close_name(b->close));
	else
		snprintf(tmp, sizeof(tmp), "conn %" PRIu64 "  close=%s", a->id,
			 ts_close_name(a->close));
	put_text(&l, tmp);
	emit_line(d, &l);

	if (a->handshake_ns >= 0)
		fmt_dur(hs, sizeof(hs), (uint64_t)a->handshake_ns);
	else
		snprintf(hs, sizeof(hs), "-");
	fmt_dur(life, sizeof(life), a->lifetime_ns);
	snprintf(tmp, sizeof(tmp), "  handshake %s  lifetime %s  retransmits %u  resets sent %u received %u",
		 hs, life, a->rtx_total + (b ? b->rtx_total : 0),
		 a->resets_sent + (b ? b->resets_sent : 0),
		 a->resets_received + (b ? b->resets_received : 0));
	put_text(&l, tmp);
	emit_line(d, &l);

	ts_fmt_endpoint(ep, sizeof(ep), a->family, a->saddr, a->sport);
	owner(ow, sizeof(ow), a);
	end_line(d, "A", ep, ow);
	ts_fmt_endpoint(ep, sizeof(ep), a->family, a->daddr, a->dport);
	if (b)
		owner(ow, sizeof(ow), b);
	else
		snprintf(ow, sizeof(ow), "not traced: (STATES) inferred from A");
	end_line(d, "B", ep, ow);
	if (a->joined_late || a->gaps || a->lost_events || a->evicted ||
	    a->marks_dropped || a->steps_dropped ||
	    (b && (b->joined_late || b->gaps || b->lost_events || b->marks_dropped))) {
		snprintf(tmp, sizeof(tmp), "  note:%s%s%s%s%s",
			 a->joined_late || (b && b->joined_late) ? " joined late;" : "",
			 a->gaps || (b && b->gaps) ? " transitions missing;" : "",
			 a->lost_events || (b && b->lost_events) ? " events lost;" : "",
			 a->evicted ? " still open (evicted);" : "",
			 a->marks_dropped || a->steps_dropped || (b && b->marks_dropped) ?
				 " some events not drawn;" : "");
		put_text(&l, tmp);
		emit_line(d, &l);
	}
	pad_to(&l, W_TIME - 4);
	put_text(&l, "TIME");
	pad_to(&l, W_TIME + 1);
	put_text(&l, "A");
	pad_to(&l, W_TIME + 1 + W_STATE + 1 + W_ARROW + 1);
	put_text(&l, "B");
	if (b) {
		pad_to(&l, TS_DIAGRAM_COLS - 2 - 4);
		put_text(&l, "TIME");
	}
	emit_line(d, &l);
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct obs *a = *(const struct obs *const *)pa;
	const struct obs *b = *(const struct obs *const *)pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->side_b != b->side_b)
		return a->side_b ? 1 : -1;
	return a->seq - b->seq;
}

/*
 * Pair each segment B saw with the same one A saw (same kind, opposite
 * direction seen from each end, same rank among those).  A segment A sent
 * and then retransmitted reached B, if at all, as its last copy: B's
 * receipt pairs with that retransmission.
 */
static void match(struct obs *oa, int na, struct obs *ob, int nb)
{
	int from = 0;

	for (int i = 0; i < na; i++) {
		struct obs *x = &oa[i];
		int pick = i;

		if (x->kind == SEG_NOTE || x->kind == SEG_RTX || x->kind == SEG_DROP)
			continue;
		for (int k = i + 1; x->out && k < na; k++) {
			if (oa[k].kind == SEG_RTX && oa[k].rtx_of == x->kind)
				pick = k;
			else if (oa[k].kind != SEG_NOTE && oa[k].kind != SEG_RTX)
				break;
		}
		for (int j = from; j < nb; j++) {
			struct obs *y = &ob[j];

			if (y->match >= 0 || y->kind != x->kind || y->out == x->out)
				continue;
			oa[pick].match = j;
			y->match = pick;
			/* Later segments of A match later ones of B. */
			from = j + 1;
			break;
		}
	}
}

/* A time is shown when that end's clock moved since its last one shown. */
static void put_time(struct line *l, const struct obs *x, uint64_t t0, bool right,
		     uint64_t *last)
{
	char t[32];
	int len;

	if (!x || !x->show_time || x->ts == *last)
		return;
	*last = x->ts;
	fmt_rel(t, sizeof(t), x->ts, t0);
	len = (int)strlen(t);
	if (!right)
		pad_to(l, W_TIME - len > 0 ? W_TIME - len : 0);
	put_text(l, t);
}

static void draw(struct diagram *d, const struct ts_conn *a, const struct ts_conn *b)
{
	struct obs oa[MAX_OBS], ob[MAX_OBS];
	struct obs *rows[2 * MAX_OBS];
	int na = observe(a, false, oa, MAX_OBS), nb = 0, nr = 0;
	uint64_t t0 = first_ts(a);
	struct line l = { .n = 0 };
	uint64_t prev = 0, last_a = UINT64_MAX, last_b = UINT64_MAX;
	uint8_t cur_a = 0, cur_b = 0; /* the state last drawn on each side */

	if (b) {
		uint64_t tb = first_ts(b);

		nb = observe(b, true, ob, MAX_OBS);
		match(oa, na, ob, nb);
		if (tb < t0)
			t0 = tb;
	}
	for (int i = 0; i < na; i++) {
		struct obs *x = &oa[i];

		x->key = x->ts;
		if (x->match >= 0 && ob[x->match].ts < x->key)
			x->key = ob[x->match].ts;
		/* Never before a row A saw earlier: A's own order stands. */
		if (x->key < prev)
			x->key = prev;
		prev = x->key;
		rows[nr++] = x;
	}
	for (int j = 0; j < nb; j++) {
		ob[j].key = ob[j].ts;
		if (ob[j].match < 0)
			rows[nr++] = &ob[j];
	}
	qsort(rows, nr, sizeof(rows[0]), cmp_row);

	header(d, a, b);
	for (int i = 0; i < nr; i++) {
		const struct obs *x = rows[i];
		const struct obs *xa = x->side_b ? NULL : x;
		const struct obs *xb = x->side_b ? x : (x->match >= 0 ? &ob[x->match] : NULL);
		/* Segments travel A -> B when A sent them or B received them. */
		bool to_right = x->side_b ? !x->out : x->out;
		uint8_t sa, sb;

		/* A side that saw nothing here keeps the state it last showed. */
		sa = xa ? xa->state : cur_a ? cur_a : state_at(a, x->key);
		cur_a = sa;
		put_time(&l, xa, t0, false, &last_a);
		pad_to(&l, W_TIME + 1);
		put_state(&l, sa, false, xa && xa->inferred);
		if ((xa && xa->inferred) || (xb && xb->inferred))
			d->any_inferred = true;
		pad_to(&l, W_TIME + 1 + W_STATE + 1);
		put_arrow(d, &l, x, to_right);
		pad_to(&l, W_TIME + 1 + W_STATE + 1 + W_ARROW + 1);
		if (b) {
			sb = xb ? xb->state : cur_b ? cur_b : state_at(b, x->key);
			cur_b = sb;
			put_state(&l, sb, false, xb && xb->inferred);
			pad_to(&l, TS_DIAGRAM_COLS - W_TIME);
			put_time(&l, xb, t0, true, &last_b);
		} else {
			put_state(&l, x->peer, true, false);
		}
		emit_line(d, &l);
	}
	fputc('\n', d->f);
	if (b)
		d->pairs++;
}

/* A listening socket: one line, it exchanges no segments of its own. */
static void draw_listener(struct diagram *d, const struct ts_conn *c)
{
	char ep[TS_ADDRSTR_LEN], ow[128], life[32], tmp[256];
	struct line l = { .n = 0 };

	ts_fmt_endpoint(ep, sizeof(ep), c->family, c->saddr, c->sport);
	owner(ow, sizeof(ow), c);
	fmt_dur(life, sizeof(life), c->lifetime_ns);
	snprintf(tmp, sizeof(tmp), "conn %" PRIu64 "  %s  %s  listened %s%s", c->id, ep, ow,
		 life, c->ended ? "" : " (still open)");
	put_text(&l, tmp);
	emit_line(d, &l);
	fputc('\n', d->f);
}

/* ---- pairing the two ends ---- */

/* The tracker paired them (reversed addresses, lived together, the only
 * candidate: docs/TIMELINE.md); the diagram follows its rule. */
static bool is_peer(const struct ts_conn *a, const struct ts_conn *b)
{
	return a->id != b->id && a->peer == b->id && b->peer == a->id;
}

/* The same bucket for both ends: the two endpoints in a fixed order. */
static uint32_t pair_hash(const struct ts_conn *c)
{
	uint64_t h = 1469598103934665603ull, x = 0, y = 0;

	for (int i = 0; i < TS_ADDR_LEN; i++) {
		x = x * 31 + c->saddr[i];
		y = y * 31 + c->daddr[i];
	}
	x = x * 65537 + c->sport;
	y = y * 65537 + c->dport;
	h ^= x < y ? x : y;
	h *= 1099511628211ull;
	h ^= x < y ? y : x;
	h *= 1099511628211ull;
	return (uint32_t)(h ^ (h >> 29)) & (HELD_BUCKETS - 1);
}

static void unhold(struct diagram *d, struct held *h)
{
	struct held **pp = &d->buckets[pair_hash(&h->c)];

	while (*pp && *pp != h)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = h->hnext;
	if (h->prev)
		h->prev->next = h->next;
	else
		d->head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		d->tail = h->prev;
	d->nheld--;
}

static int check(struct diagram *d)
{
	if (ferror(d->f) && !d->err)
		d->err = -EIO;
	return d->err;
}

static void draw_alone(struct diagram *d, const struct ts_conn *c)
{
	if (c->role == TS_ROLE_LISTENER)
		draw_listener(d, c);
	else
		draw(d, c, NULL);
}

/* A is the end that opened (connect()), or the one seen first. */
static void draw_pair(struct diagram *d, const struct ts_conn *x, const struct ts_conn *y)
{
	bool y_first = (y->role == TS_ROLE_CLIENT && x->role != TS_ROLE_CLIENT) ||
		       (x->role == y->role && y->start_ns < x->start_ns);

	if (y_first)
		draw(d, y, x);
	else
		draw(d, x, y);
}

static int diagram_conn(void *priv, const struct ts_conn *c)
{
	struct diagram *d = priv;
	struct held *h;

	if (c->role == TS_ROLE_LISTENER || !c->sport || !c->dport) {
		draw_alone(d, c);
		return check(d);
	}
	for (h = d->buckets[pair_hash(c)]; h; h = h->hnext) {
		if (is_peer(&h->c, c)) {
			unhold(d, h);
			draw_pair(d, &h->c, c);
			free(h);
			return check(d);
		}
	}
	if (d->nheld >= MAX_HELD) {
		h = d->head;
		unhold(d, h);
		draw_alone(d, &h->c);
		free(h);
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		draw_alone(d, c);
		return check(d);
	}
	h->c = *c;
	h->c.rtxs = NULL; /* the tracker's, freed after this call */
	h->c.nrtx = 0;
	uint32_t b = pair_hash(c);

	h->hnext = d->buckets[b];
	d->buckets[b] = h;
	h->prev = d->tail;
	if (d->tail)
		d->tail->next = h;
	else
		d->head = h;
	d->tail = h;
	d->nheld++;
	return 0;
}

static int diagram_rec(void *priv, const struct ts_rec *r)
{
	struct diagram *d = priv;

	if (r->ts_ns > d->newest_ns)
		d->newest_ns = r->ts_ns;
	if (r->type == TS_REC_LOST) {
		fprintf(d->f, "-- %" PRIu64 " events lost here (ring buffer full) --\n\n", r->lost);
		return check(d);
	}
	return 0;
}

/* Draw alone what waited long enough for its other end. */
static int diagram_flush(void *priv)
{
	struct diagram *d = priv;
	struct held *h = d->head, *next;

	for (; h; h = next) {
		next = h->next;
		if (++h->flushes < FLUSHES_TO_WAIT &&
		    h->c.end_ns + d->pair_wait_ns > d->newest_ns)
			continue;
		unhold(d, h);
		draw_alone(d, &h->c);
		free(h);
	}
	if (fflush(d->f) && !d->err)
		d->err = -errno;
	return check(d);
}

static int diagram_finish(void *priv, const struct ts_totals *t)
{
	struct diagram *d = priv;

	while (d->head) {
		struct held *h = d->head;

		unhold(d, h);
		draw_alone(d, &h->c);
		free(h);
	}
	fprintf(d->f, "%" PRIu64 " connections, %" PRIu64 " drawn with both ends", t->conns,
		2 * d->pairs);
	if (t->conns_evicted)
		fprintf(d->f, "; %" PRIu64 " evicted (raise --max-conns)", t->conns_evicted);
	fputc('\n', d->f);
	if (d->damage)
		fprintf(d->f, "capture damaged: %s; the pictures end there\n", d->damage);
	if (d->any_inferred)
		fputs("STATE*: inferred (the kernel does not report it): see docs/TIMELINE.md\n", d->f);
	if (fflush(d->f) && !d->err)
		d->err = -errno;
	return check(d);
}

static void diagram_destroy(void *priv)
{
	struct diagram *d = priv;

	while (d && d->head) {
		struct held *h = d->head;

		unhold(d, h);
		free(h);
	}
	free(d);
}

static const struct ts_sink_ops diagram_ops = {
	.name = "diagram",
	.rec = diagram_rec,
	.flush = diagram_flush,
	.finish = diagram_finish,
	.destroy = diagram_destroy,
	.conn_end = diagram_conn,
};

int ts_sink_diagram__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
			 const struct ts_diagram_opts *o)
{
	struct diagram *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->f = f;
	(void)m; /* times are relative: no wall clock needed */
	d->uni = o && o->unicode;
	d->pair_wait_ns = o && o->pair_wait_ns ? o->pair_wait_ns : TS_DIAGRAM_PAIR_WAIT_NS;
	out->ops = &diagram_ops;
	out->priv = d;
	return 0;
}

void ts_sink_diagram__note_damage(struct ts_sink *s, const char *msg)
{
	if (s->ops == &diagram_ops)
		((struct diagram *)s->priv)->damage = msg;
}
