// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "core/stream/rtx.h"
#include "core/util/jsonw.h"
#include "core/stream/states.h"

const char *ts_rtx_name(enum ts_rtx_kind k)
{
	static const char *const names[TS_RTX_KINDS] = {
		[TS_RTX_SYN] = "syn",
		[TS_RTX_SYNACK] = "synack",
		[TS_RTX_DATA] = "data",
		[TS_RTX_FIN] = "fin",
	};

	return (unsigned int)k < TS_RTX_KINDS ? names[k] : "?";
}

enum ts_rtx_kind ts_rtx_kind_of(unsigned int state)
{
	switch (state) {
	case TS_SYN_SENT:
		return TS_RTX_SYN;
	case TS_SYN_RECV:
		return TS_RTX_SYNACK;
	case TS_FIN_WAIT1:
	case TS_CLOSING:
	case TS_LAST_ACK:
		return TS_RTX_FIN;
	default:
		return TS_RTX_DATA;
	}
}

#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10

/*
 * What the socket said as it sent the segment again.  The timer handler
 * clears icsk_pending before it retransmits (tcp_write_timer_handler()),
 * so 0 there is the retransmission timeout.  Otherwise the send comes
 * from ACK processing or another timer: in Recovery it is a fast
 * retransmit (duplicate ACKs, SACK, or RACK's reordering timer), in Loss
 * the rest of the window after a timeout.  A tail loss probe is sent only
 * in the Open state (tcp_schedule_loss_probe() arms it there alone), by
 * the handler of ICSK_TIME_LOSS_PROBE, which leaves icsk_pending set; the
 * same value is armed in Recovery too, which is why the state comes first.
 */
enum ts_rtx_reason ts_rtx__reason(const struct ts_rec *r)
{
	const struct ts_rtx_info *x = &r->rtx;

	if (r->type != TS_REC_RETRANS || !r->has_rtx)
		return TS_RTXR_UNKNOWN;
	if (x->pending == 0)
		return TS_RTXR_RTO;
	if (x->ca_state == TS_CA_RECOVERY)
		return TS_RTXR_FAST;
	if (x->ca_state == TS_CA_LOSS)
		return TS_RTXR_AFTER_RTO;
	if (x->pending == TS_ICSK_TIME_LOSS_PROBE)
		return TS_RTXR_TLP;
	return TS_RTXR_OTHER;
}

const char *ts_rtx__reason_name(enum ts_rtx_reason x)
{
	static const char *const names[TS_RTXR_COUNT] = {
		[TS_RTXR_UNKNOWN] = "unknown", [TS_RTXR_RTO] = "rto",
		[TS_RTXR_FAST] = "fast",       [TS_RTXR_TLP] = "tlp",
		[TS_RTXR_AFTER_RTO] = "after_rto", [TS_RTXR_OTHER] = "other",
	};

	return (unsigned int)x < TS_RTXR_COUNT ? names[x] : "unknown";
}

const char *ts_rtx__reason_text(enum ts_rtx_reason x)
{
	static const char *const names[TS_RTXR_COUNT] = {
		[TS_RTXR_UNKNOWN] = "reason unknown",
		[TS_RTXR_RTO] = "timeout",
		[TS_RTXR_FAST] = "fast retransmit",
		[TS_RTXR_TLP] = "tail loss probe",
		[TS_RTXR_AFTER_RTO] = "recovery after timeout",
		[TS_RTXR_OTHER] = "other",
	};

	return (unsigned int)x < TS_RTXR_COUNT ? names[x] : "reason unknown";
}

enum ts_rtx_kind ts_rtx__kind(const struct ts_rec *r)
{
	if (r->type == TS_REC_SYNACK_RETRANS)
		return TS_RTX_SYNACK;
	if (r->has_rtx && (r->rtx.flags & TS_RTX_F_SKB)) {
		uint8_t f = r->rtx.tcp_flags;

		if (f & TCPHDR_SYN)
			return f & TCPHDR_ACK ? TS_RTX_SYNACK : TS_RTX_SYN;
		if (f & TCPHDR_FIN)
			return TS_RTX_FIN;
		return TS_RTX_DATA;
	}
	return ts_rtx_kind_of(r->new_state);
}

uint32_t ts_rtx__len(const struct ts_rtx_info *x)
{
	uint32_t len = x->end_seq - x->seq;

	len -= (x->tcp_flags & TCPHDR_SYN) && len;
	len -= (x->tcp_flags & TCPHDR_FIN) && len;
	return len;
}

unsigned int ts_rtx__timeout_nr(const struct ts_rec *r)
{
	/*
	 * icsk_backoff is raised after the timer's retransmission (and
	 * cleared by an ACK that moves snd_una): it counts the timeouts of
	 * the segment before this one.  icsk_retransmits is no such count
	 * everywhere: kernels differ in whether the timer raises it before or
	 * after it retransmits (6.7, "tcp: new TCP_INFO stats for RTO
	 * events", raises it before, in tcp_update_rto_stats()).
	 */
	if (ts_rtx__reason(r) == TS_RTXR_RTO)
		return r->rtx.backoff + 1u;
	return 0;
}

const char *ts_rtx__ca_name(unsigned int ca_state)
{
	static const char *const names[] = { "open", "disorder", "cwr", "recovery", "loss" };

	return ca_state < 5 ? names[ca_state] : "?";
}

const char *ts_rtx__timer_name(unsigned int pending)
{
	switch (pending) {
	case 0:
		return "none";
	case TS_ICSK_TIME_RETRANS:
		return "retransmit";
	case 2:
		return "delayed_ack";
	case 3:
		return "zero_window_probe";
	case TS_ICSK_TIME_REO_TIMEOUT:
		return "reorder";
	case TS_ICSK_TIME_LOSS_PROBE:
		return "loss_probe";
	}
	return "?";
}

static const char *kind_text(enum ts_rtx_kind k)
{
	switch (k) {
	case TS_RTX_SYN:
		return "SYN";
	case TS_RTX_SYNACK:
		return "SYN-ACK";
	case TS_RTX_FIN:
		return "FIN";
	default:
		return "data";
	}
}

/* "12.345 ms" with the precision the size deserves. */
static void fmt_us(char *buf, size_t n, uint32_t us)
{
	if (us >= 10000)
		snprintf(buf, n, "%u ms", (us + 500) / 1000);
	else
		snprintf(buf, n, "%.3f ms", us / 1000.0);
}

size_t ts_rtx__describe(char *buf, size_t n, const struct ts_rec *r)
{
	const struct ts_rtx_info *x = &r->rtx;
	enum ts_rtx_reason why = ts_rtx__reason(r);
	char rto[24], srtt[24];
	size_t k = 0;
	int w;

	if (!n)
		return 0;
	buf[0] = '\0';
	if (r->type != TS_REC_RETRANS || !r->has_rtx)
		return 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		w = snprintf(buf + k, n - k, __VA_ARGS__);                                         \
		if (w < 0 || (size_t)w >= n - k)                                                   \
			return strlen(buf);                                                        \
		k += (size_t)w;                                                                    \
	} while (0)
	ADD("%s", kind_text(ts_rtx__kind(r)));
	if (x->flags & TS_RTX_F_SKB) {
		uint32_t len = ts_rtx__len(x);

		if (x->flags & TS_RTX_F_ISN)
			ADD(len ? " %u:%u" : " seq %u", x->seq - x->isn, x->end_seq - x->isn);
		else
			ADD(len ? " %u:%u abs" : " seq %u abs", x->seq, x->end_seq);
		ADD(" (%u B", len);
		if (x->segs > 1)
			ADD(", %u segs", x->segs);
		ADD(")");
	}
	ADD(" %s", ts_rtx__reason_text(why));
	if (ts_rtx__timeout_nr(r))
		ADD(" #%u", ts_rtx__timeout_nr(r));
	if (x->flags & TS_RTX_F_RTO) {
		fmt_us(rto, sizeof(rto), x->rto_us);
		ADD(", RTO %s", rto);
	}
	ADD(", backoff %u", x->backoff);
	if (x->srtt_us) {
		fmt_us(srtt, sizeof(srtt), x->srtt_us);
		ADD(", srtt %s", srtt);
	}
#undef ADD
	return k;
}

void ts_rtx__rec(struct ts_rec *out, const struct ts_rtx_step *s)
{
	memset(out, 0, sizeof(*out));
	out->type = TS_REC_RETRANS;
	out->ts_ns = s->ts_ns;
	out->old_state = s->state;
	out->new_state = s->state;
	out->has_rtx = true;
	out->rtx = s->info;
}

void ts_rtx__json(struct ts_jsonw *w, const struct ts_rec *r)
{
	const struct ts_rtx_info *x = &r->rtx;
	bool skb = x->flags & TS_RTX_F_SKB, isn = x->flags & TS_RTX_F_ISN;
	unsigned int nr = ts_rtx__timeout_nr(r);

	if (r->type != TS_REC_RETRANS || !r->has_rtx)
		return;
	ts_jsonw__object_begin(w, "retransmit");
	ts_jsonw__str(w, "kind", ts_rtx_name(ts_rtx__kind(r)));
	ts_jsonw__str(w, "reason", ts_rtx__reason_name(ts_rtx__reason(r)));
	if (skb && isn) {
		ts_jsonw__u64(w, "seq", x->seq - x->isn);
		ts_jsonw__u64(w, "end_seq", x->end_seq - x->isn);
	} else {
		ts_jsonw__null(w, "seq");
		ts_jsonw__null(w, "end_seq");
	}
	if (skb) {
		ts_jsonw__u64(w, "seq_abs", x->seq);
		ts_jsonw__u64(w, "end_seq_abs", x->end_seq);
		ts_jsonw__u64(w, "len", ts_rtx__len(x));
		ts_jsonw__u64(w, "segs", x->segs);
	} else {
		ts_jsonw__null(w, "seq_abs");
		ts_jsonw__null(w, "end_seq_abs");
		ts_jsonw__null(w, "len");
		ts_jsonw__null(w, "segs");
	}
	if (isn)
		ts_jsonw__u64(w, "isn", x->isn);
	else
		ts_jsonw__null(w, "isn");
	ts_jsonw__u64(w, "snd_una", isn ? x->snd_una - x->isn : x->snd_una);
	if (nr)
		ts_jsonw__u64(w, "timeout_nr", nr);
	else
		ts_jsonw__null(w, "timeout_nr");
	if (x->flags & TS_RTX_F_RTO)
		ts_jsonw__u64(w, "rto_us", x->rto_us);
	else
		ts_jsonw__null(w, "rto_us");
	ts_jsonw__u64(w, "backoff", x->backoff);
	ts_jsonw__u64(w, "icsk_retransmits", x->retransmits);
	ts_jsonw__u64(w, "srtt_us", x->srtt_us);
	ts_jsonw__str(w, "ca_state", ts_rtx__ca_name(x->ca_state));
	ts_jsonw__str(w, "timer", ts_rtx__timer_name(x->pending));
	ts_jsonw__u64(w, "total_retrans", x->total_retrans);
	ts_jsonw__object_end(w);
}
