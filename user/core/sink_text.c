// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "sinks.h"
#include "states.h"
#include "step_label.h"

#define C_RESET "\033[0m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD_RED "\033[1;31m"

/* Endpoint columns fit any IPv4 endpoint and most IPv6 ones; a wider
 * endpoint widens them for the rest of the run, under a new header. */
#define ADDR_W 26

struct text_sink {
	FILE *f;
	struct ts_meta meta;
	bool header_done;
	int addr_w;
};

static const char *state_color(unsigned int state)
{
	switch (state) {
	case TS_ESTABLISHED:
		return C_GREEN;
	case TS_CLOSE:
		return C_RED;
	default:
		return "";
	}
}

static void write_header(FILE *f, int aw)
{
	fprintf(f, "%-12s %-7s %-16s %-*s %-*s %-28s %9s  %s\n", "TIME",
		"PID", "COMM", aw, "LOCAL", aw, "REMOTE", "EVENT", "MS_IN_OLD",
		"STEP");
}

void ts_text_write_header(FILE *f)
{
	write_header(f, ADDR_W);
}

static void write_event(FILE *f, const struct ts_rec *r, bool color)
{
	const char *on = "", *off = "";
	char ev[64];

	switch (r->type) {
	case TS_REC_STATE:
		snprintf(ev, sizeof(ev), "%s -> %s",
			 ts_state_name(r->old_state),
			 ts_state_name(r->new_state));
		on = state_color(r->new_state);
		break;
	case TS_REC_RETRANS:
		snprintf(ev, sizeof(ev), "RETRANSMIT in %s",
			 ts_state_name(r->new_state));
		on = C_YELLOW;
		break;
	case TS_REC_SYNACK_RETRANS:
		snprintf(ev, sizeof(ev), "SYN-ACK RETRANSMIT");
		on = C_YELLOW;
		break;
	case TS_REC_RESET_SENT:
		/* conn 0: the answer to a segment that found no socket (a
		 * SYN to a closed port); there is no state to name. */
		if (r->conn)
			snprintf(ev, sizeof(ev), "RST sent in %s",
				 ts_state_name(r->new_state));
		else
			snprintf(ev, sizeof(ev), "RST sent (no socket)");
		on = C_RED;
		break;
	case TS_REC_RESET_RECV:
		snprintf(ev, sizeof(ev), "RST received in %s",
			 ts_state_name(r->new_state));
		on = C_RED;
		break;
	default:
		snprintf(ev, sizeof(ev), "?");
	}
	if (color && *on)
		off = C_RESET;
	else
		on = "";
	fprintf(f, "%s%-28s%s", on, ev, off);
}

struct endpoints {
	char local[TS_ADDRSTR_LEN];
	char remote[TS_ADDRSTR_LEN];
};

static int fmt_endpoints(struct endpoints *e, const struct ts_rec *r)
{
	size_t l, rm;

	ts_fmt_endpoint(e->local, sizeof(e->local), r->family, r->saddr,
			r->sport);
	ts_fmt_endpoint(e->remote, sizeof(e->remote), r->family, r->daddr,
			r->dport);
	l = strlen(e->local);
	rm = strlen(e->remote);
	return (int)(l > rm ? l : rm);
}

static void write_rec(FILE *f, const struct ts_rec *r,
		      const struct ts_meta *m, const struct endpoints *e,
		      int aw)
{
	char t[TS_TIMESTR_LEN];
	char pid[16], ms[32];
	const char *step;

	ts_fmt_clock(t, sizeof(t), (int64_t)r->ts_ns + m->wall_offset_ns);
	if (r->type == TS_REC_LOST) {
		fprintf(f, "%-12s %s%" PRIu64
			   " events LOST (ring buffer full: try a larger --ring-size; or a program re-entered on a busy CPU)%s\n",
			t, m->color ? C_BOLD_RED : "", r->lost,
			m->color ? C_RESET : "");
		return;
	}
	if (r->pid)
		snprintf(pid, sizeof(pid), "%u", r->pid);
	else
		snprintf(pid, sizeof(pid), "-");
	fprintf(f, "%-12s %-7s %-16s %-*s %-*s ", t, pid,
		r->comm[0] ? r->comm : "-", aw, e->local, aw, e->remote);
	write_event(f, r, m->color);
	if (r->type == TS_REC_STATE && r->ns_in_old)
		snprintf(ms, sizeof(ms), "%.3f", r->ns_in_old / 1e6);
	else
		snprintf(ms, sizeof(ms), "-");
	step = r->type == TS_REC_STATE ?
		       ts_rec_step_label(r) : "";
	/* No trailing blanks when there is no step to show. */
	fprintf(f, " %9s%s%s\n", ms, *step ? "  " : "", step);
}

void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	struct endpoints e = {};

	if (r->type != TS_REC_LOST)
		fmt_endpoints(&e, r);
	write_rec(f, r, m, &e, ADDR_W);
}

static int text_rec(void *priv, const struct ts_rec *r)
{
	struct text_sink *s = priv;
	struct endpoints e = {};
	int w;

	if (r->type != TS_REC_LOST) {
		w = fmt_endpoints(&e, r);
		if (w > s->addr_w) {
			s->addr_w = w;
			s->header_done = false;
		}
	}
	if (!s->header_done) {
		write_header(s->f, s->addr_w);
		s->header_done = true;
	}
	write_rec(s->f, r, &s->meta, &e, s->addr_w);
	return ferror(s->f) ? -EIO : 0;
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

int ts_sink_text_new(struct ts_sink *out, FILE *f, const struct ts_meta *m)
{
	struct text_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	s->addr_w = ADDR_W;
	out->ops = &text_ops;
	out->priv = s;
	return 0;
}
