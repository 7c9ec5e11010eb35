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

struct text_sink {
	FILE *f;
	struct ts_meta meta;
	bool header_done;
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

void ts_text_write_header(FILE *f)
{
	fprintf(f, "%-12s %-7s %-16s %-26s %-26s %-28s %9s  %s\n", "TIME",
		"PID", "COMM", "LOCAL", "REMOTE", "EVENT", "MS_IN_OLD",
		"STEP");
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
		snprintf(ev, sizeof(ev), "RST sent in %s",
			 ts_state_name(r->new_state));
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

void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	char t[TS_TIMESTR_LEN], l[TS_ADDRSTR_LEN], rm[TS_ADDRSTR_LEN];
	char pid[16], ms[32];

	ts_fmt_clock(t, sizeof(t), (int64_t)r->ts_ns + m->wall_offset_ns);
	if (r->type == TS_REC_LOST) {
		fprintf(f, "%-12s %s%" PRIu64
			   " events LOST (ring buffer full: try a larger --ring-size; or a program re-entered on a busy CPU)%s\n",
			t, m->color ? C_BOLD_RED : "", r->lost,
			m->color ? C_RESET : "");
		return;
	}
	ts_fmt_endpoint(l, sizeof(l), r->family, r->saddr, r->sport);
	ts_fmt_endpoint(rm, sizeof(rm), r->family, r->daddr, r->dport);
	if (r->pid)
		snprintf(pid, sizeof(pid), "%u", r->pid);
	else
		snprintf(pid, sizeof(pid), "-");
	fprintf(f, "%-12s %-7s %-16s %-26s %-26s ", t, pid,
		r->comm[0] ? r->comm : "-", l, rm);
	write_event(f, r, m->color);
	if (r->type == TS_REC_STATE && r->ns_in_old)
		snprintf(ms, sizeof(ms), "%.3f", r->ns_in_old / 1e6);
	else
		snprintf(ms, sizeof(ms), "-");
	fprintf(f, " %9s  %s\n", ms,
		r->type == TS_REC_STATE ?
			ts_rec_step_label(r) : "");
}

static int text_rec(void *priv, const struct ts_rec *r)
{
	struct text_sink *s = priv;

	if (!s->header_done) {
		ts_text_write_header(s->f);
		s->header_done = true;
	}
	ts_text_write_rec(s->f, r, &s->meta);
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
	out->ops = &text_ops;
	out->priv = s;
	return 0;
}
