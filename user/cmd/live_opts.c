// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd/live_opts.h"
#include "cmd/opt_values.h"
#include "cmd/usage.h"
#include "core/util/log.h"
#include "core/util/parse.h"

#define DEFAULT_FLUSH_MS 100

enum {
	OPT_RING = 0x1800,
	OPT_FLUSH,
	OPT_MODE,
	OPT_FORCE,
	OPT_NO_DROPS,
	OPT_NO_ACCEPT,
};

static const struct argp_option options[] = {
	{ "duration", 'd', "TIME", 0, "Stop after TIME (e.g. 10, 10s, 500ms, 2m)", 2 },
	{ "ring-size", OPT_RING, "SIZE", 0,
	  "Ring buffer size (power of two, at least 4K; default 16M)", 2 },
	{ "flush-ms", OPT_FLUSH, "MS", 0,
	  "Longest delay before an event is written out (default 100)", 2 },
	{ "tp-mode", OPT_MODE, "MODE", 0,
	  "Tracepoint form: auto (default), btf (tp_btf) or classic", 2 },
	{ "write", 'w', "FILE", 0,
	  "Record to capture FILE, created with mode 0600 (trace: while showing "
	  "the events; tracing stops if FILE cannot be written; record: '-' writes "
	  "the capture to stdout, for 'tcpscope report -')", 2 },
	{ "force", OPT_FORCE, NULL, 0, "Replace FILE (-w) if it exists", 2 },
	{ "no-drops", OPT_NO_DROPS, NULL, 0,
	  "Do not trace the TCP segments the kernel drops (skb:kfree_skb)", 2 },
	{ "no-accept", OPT_NO_ACCEPT, NULL, 0,
	  "Do not trace accept() (where fexit is refused, its syscall tracepoints "
	  "slow every system call of the machine): passive connections keep "
	  "their listener's owner", 2 },
	{ "verbose", 'v', NULL, 0,
	  "Say which programs were loaded and why (-vv: libbpf debug output)", 2 },
	{},
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct ts_live_opts *o = state->input;

	switch (key) {
	case 'd':
		ts_opt_duration(state, arg, &o->duration_ns);
		break;
	case OPT_RING:
		ts_opt_ring_size(state, arg, &o->ring_bytes);
		break;
	case OPT_FLUSH:
		if (ts_parse_u64(arg, 1, 10000, &o->flush_ms))
			ts_usage_error(state, "invalid --flush-ms '%s': expected 1..10000", arg);
		break;
	case OPT_MODE:
		ts_opt_tp_mode(state, arg, &o->mode);
		break;
	case 'w':
		o->cap.path = arg;
		break;
	case OPT_FORCE:
		o->cap.force = true;
		break;
	case OPT_NO_DROPS:
		o->no_drops = true;
		break;
	case OPT_NO_ACCEPT:
		o->no_accept = true;
		break;
	case 'v':
		ts_log_set_verbose(ts_log_verbose() + 1);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp ts_live_argp = {
	.options = options,
	.parser = parse,
};

void ts_live_opts__init(struct ts_live_opts *o)
{
	*o = (struct ts_live_opts){
		.ring_bytes = TS_DEFAULT_RING,
		.flush_ms = DEFAULT_FLUSH_MS,
	};
}

void ts_live_opts__loader(const struct ts_live_opts *o, const struct ts_filter *f,
			  struct ts_loader_opts *out)
{
	*out = (struct ts_loader_opts){
		.filter = *f,
		.ring_bytes = o->ring_bytes,
		/* Wake the reader early only when an eighth of the ring is
		 * used, so bursts cannot overrun it between two polls. */
		.wakeup_bytes = o->ring_bytes / 8,
		.mode = o->mode,
		.no_drops = o->no_drops,
		.no_accept = o->no_accept,
	};
}
