// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope probe: what the running kernel offers and what tcpscope would
 * load there, found by loading its programs for real (the same probes that
 * 'trace' and 'snapshot' use to choose).  The kernel matrix and the e2e
 * tests ask it which tests a kernel can run.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include "cmd/cmds.h"
#include "cmd/usage.h"
#include "kernel/loader.h"
#include "kernel/probe.h"
#include "kernel/snapshot.h"
#include "core/util/jsonw.h"
#include "core/util/log.h"

struct probe_opts {
	bool json;
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "One JSON object", 0 },
	{ "verbose", 'v', NULL, 0, "Say more (-vv: libbpf debug output)", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct probe_opts *o = state->input;

	(void)arg;
	switch (key) {
	case 'j':
		o->json = true;
		return 0;
	case 'v':
		ts_log_set_verbose(ts_log_verbose() + 1);
		return 0;
	case ARGP_KEY_ARG:
		ts_usage_error(state, "unexpected argument '%s'", arg);
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* The features tests and users ask about, each with why. */
struct probe_view {
	struct ts_kernel_probe k;
	const char *variant;
	bool resets, synack, cookies, drops, rst_reasons;
	char resets_why[256], synack_why[256], cookies_why[256];
	char drops_why[160], rst_reasons_why[160], accept_why[160];
	const char *failed_rtx_why;
	bool iter, iter_files, iter_cookie_helper;
	const char *iter_loader;
	char iter_why[120];
	enum ts_iter_walk iter_walk;
};

static void why_variant(const struct ts_kernel_probe *k, char *buf, size_t n,
			const char *what)
{
	if (k->chosen == TS_TP_CLASSIC)
		snprintf(buf, n, "%s only in the btf variant, which does not load here (%.100s)",
			 what, k->btf_why);
	else
		snprintf(buf, n, "no variant loads");
}

static void view(struct probe_view *v)
{
	const struct ts_kernel_probe *k = &v->k;
	bool btf = k->chosen == TS_TP_BTF;
	const bool *tp = btf ? k->tp_btf : k->tp_classic;
	const char *form = btf ? "tp_btf" : "classic";

	v->variant = btf ? "btf" : k->chosen == TS_TP_CLASSIC ? "classic" : "none";
	v->resets = k->chosen != TS_TP_AUTO && tp[TS_PROBE_SEND_RESET] &&
		    tp[TS_PROBE_RECV_RESET];
	if (v->resets)
		snprintf(v->resets_why, sizeof(v->resets_why),
			 "%s tcp_send_reset and tcp_receive_reset", form);
	else
		snprintf(v->resets_why, sizeof(v->resets_why),
			 "kernel lacks tcp_send_reset or tcp_receive_reset (%s)", form);
	v->synack = k->chosen != TS_TP_AUTO && tp[TS_PROBE_SYNACK];
	snprintf(v->synack_why, sizeof(v->synack_why), "%s tcp_retransmit_synack%s",
		 form, v->synack ? "" : " missing");
	v->drops = k->chosen != TS_TP_AUTO && k->drop_reasons && !k->drops_refused;
	snprintf(v->drops_why, sizeof(v->drops_why), "%s",
		 !k->drop_reasons ? "skb:kfree_skb has no drop reason before 5.17: drops are not observable" :
		 k->drops_refused ? "the verifier refused the drop program (tcpscope probe -v): drops are off" :
		 k->drop_rx_sk ? "skb:kfree_skb with reason and rx_sk (6.11+)" :
				 "skb:kfree_skb with reason (5.17+)");
	v->rst_reasons = v->resets && k->reset_reasons;
	snprintf(v->rst_reasons_why, sizeof(v->rst_reasons_why), "%s",
		 v->rst_reasons ? "tcp_send_reset has reason (6.10+)" :
				  "tcp_send_reset has no reason before 6.10: reasons are inferred");
	v->failed_rtx_why = k->retransmit_err ?
		"tcp_retransmit_skb has err: failed attempts too" :
		"success only: failed ones are shown as untraced";
	if (k->accept_fexit)
		snprintf(v->accept_why, sizeof(v->accept_why),
			 "fexit on inet_csk_accept() (%d arguments): only accept() pays",
			 k->accept_fexit);
	else
		snprintf(v->accept_why, sizeof(v->accept_why),
			 "syscalls: tracepoints: every system call pays (fexit %s)",
			 ts_probe__fexit_why(k->accept_fexit_why));
	v->cookies = btf;
	if (btf)
		snprintf(v->cookies_why, sizeof(v->cookies_why),
			 "bpf_get_socket_cookie() in tp_btf programs");
	else
		why_variant(k, v->cookies_why, sizeof(v->cookies_why),
			    "connection ids are socket cookies");
}

static void probe_iterators(struct probe_view *v)
{
	struct ts_snapshot_opts so = { .pids = true };
	struct ts_snapshotter *s = NULL;
	int err;

	err = ts_snapshotter__new(&so, &s);
	if (err) {
		snprintf(v->iter_why, sizeof(v->iter_why),
			 "the snapshot iterators did not load: %s", strerror(-err));
		v->iter_loader = "none";
		return;
	}
	v->iter = v->iter_files = true;
	v->iter_walk = ts_probe__iter_walk();
	v->iter_loader = ts_snapshotter__loader_name(s);
	v->iter_cookie_helper = ts_snapshotter__cookie_helper(s);
	snprintf(v->iter_why, sizeof(v->iter_why), "iter/tcp and iter/task_file load");
	ts_snapshotter__free(s);
}

static void print_json(const struct probe_view *v, const char *release)
{
	const struct ts_kernel_probe *k = &v->k;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, stdout);
	ts_jsonw__str(&w, "kernel", release);
	ts_jsonw__bool(&w, "btf", k->btf);
	ts_jsonw__str(&w, "variant", v->variant);
	ts_jsonw__object_begin(&w, "btf_variant");
	ts_jsonw__bool(&w, "loads", !k->btf_err);
	ts_jsonw__str(&w, "error", k->btf_err ? k->btf_why : "");
	ts_jsonw__object_end(&w);
	ts_jsonw__object_begin(&w, "classic_variant");
	ts_jsonw__bool(&w, "loads", !k->classic_err);
	ts_jsonw__str(&w, "error", k->classic_err ? k->classic_why : "");
	ts_jsonw__object_end(&w);
	ts_jsonw__object_begin(&w, "tracepoints");
	for (int i = 0; i < TS_PROBE_NTP; i++) {
		ts_jsonw__object_begin(&w, ts_probe_tp_names[i]);
		ts_jsonw__bool(&w, "tp_btf", k->tp_btf[i]);
		ts_jsonw__bool(&w, "classic", k->tp_classic[i]);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__object_end(&w);
	ts_jsonw__bool(&w, "resets", v->resets);
	ts_jsonw__str(&w, "resets_why", v->resets_why);
	ts_jsonw__bool(&w, "drop_reasons", v->drops);
	ts_jsonw__str(&w, "drop_reasons_why", v->drops_why);
	ts_jsonw__bool(&w, "reset_reasons", v->rst_reasons);
	ts_jsonw__str(&w, "reset_reasons_why", v->rst_reasons_why);
	ts_jsonw__bool(&w, "failed_retransmits", k->retransmit_err);
	ts_jsonw__str(&w, "failed_retransmits_why", v->failed_rtx_why);
	ts_jsonw__bool(&w, "synack_retransmits", v->synack);
	ts_jsonw__str(&w, "synack_retransmits_why", v->synack_why);
	ts_jsonw__bool(&w, "socket_cookies", v->cookies);
	ts_jsonw__str(&w, "socket_cookies_why", v->cookies_why);
	ts_jsonw__bool(&w, "iterators", v->iter);
	ts_jsonw__str(&w, "iterators_why", v->iter_why);
	ts_jsonw__str(&w, "snapshot_loader", v->iter_loader);
	ts_jsonw__bool(&w, "snapshot_cookie_helper", v->iter_cookie_helper);
	ts_jsonw__bool(&w, "snapshot_reads_skipped_bucket", v->iter && v->iter_walk == TS_ITER_WALK_OFFSETS);
	ts_jsonw__bool(&w, "socketless_resets", v->resets && k->socketless_resets);
	ts_jsonw__bool(&w, "memcg_accounting", k->memcg_accounting);
	ts_jsonw__str(&w, "accept_owner", k->accept_fexit ? "fexit" : "syscalls");
	ts_jsonw__str(&w, "accept_owner_why", v->accept_why);
	ts_jsonw__end(&w);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no ";
}

static void print_text(const struct probe_view *v, const char *release)
{
	const struct ts_kernel_probe *k = &v->k;

	printf("kernel %s, BTF %s\n", release, k->btf ? "yes" : "no");
	printf("btf variant (tp_btf)       %s  %s\n", k->btf_err ? "no " : "yes",
	       k->btf_err ? k->btf_why : "loads");
	printf("classic variant            %s  %s\n", k->classic_err ? "no " : "yes",
	       k->classic_err ? k->classic_why : "loads");
	printf("trace loads                %s\n", v->variant);
	printf("socket cookies as ids      %s  %s\n", yes(v->cookies), v->cookies_why);
	printf("resets without a socket    %s  %s\n", yes(v->resets && k->socketless_resets),
	       k->socketless_resets ? "tcp_send_reset fires for them (its own record class)" :
				      "tcp_send_reset fires for full sockets only (before 6.10)");
	printf("BPF memory in the memcg    %s  %s\n", yes(k->memcg_accounting),
	       k->memcg_accounting ? "CAP_BPF + CAP_PERFMON suffice" :
				     "charged to RLIMIT_MEMLOCK: capabilities alone need CAP_SYS_RESOURCE too");
	printf("resets                     %s  %s\n", yes(v->resets), v->resets_why);
	printf("SYN-ACK retransmits        %s  %s\n", yes(v->synack), v->synack_why);
	printf("drops (with reasons)       %s  %s\n", yes(v->drops), v->drops_why);
	printf("accept() by fexit          %s  %s\n", yes(k->accept_fexit), v->accept_why);
	printf("reset reasons (kernel's)   %s  %s\n", yes(v->rst_reasons), v->rst_reasons_why);
	printf("failed retransmits traced  %s  %s\n", yes(k->retransmit_err), v->failed_rtx_why);
	printf("snapshot iterators         %s  %s (loader: %s, cookies: %s)\n",
	       yes(v->iter), v->iter_why, v->iter_loader,
	       v->iter_cookie_helper ? "bpf_get_socket_cookie()" : "cached");
	if (v->iter)
		printf("iterator bucket skip       %s  %s\n",
		       yes(v->iter_walk == TS_ITER_WALK_OFFSETS),
		       v->iter_walk == TS_ITER_WALK_OFFSETS ?
			       "iter/tcp can skip a hash bucket: the snapshot reads it itself" :
		       v->iter_walk == TS_ITER_WALK_COOKIES ? "iter/tcp resumes by socket cookie" :
		       v->iter_walk == TS_ITER_WALK_SOCKETS ? "iter/tcp reads socket by socket" :
							      "unknown (no BTF)");
}

int cmd_probe(int argc, char **argv)
{
	static const struct argp argp = {
		options, parse_opt, NULL,
		"Say what this kernel offers and what tcpscope loads on it.\v"
		"Loads tcpscope's programs for real (both variants of 'trace', the\n"
		"iterators of 'snapshot') and drops them; -v shows the verifier logs.",
		NULL, NULL, NULL,
	};
	struct probe_opts o = {};
	struct probe_view v = {};
	struct utsname u;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return 2;
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	err = ts_loader__probe(&v.k);
	if (err)
		return 1;
	view(&v);
	probe_iterators(&v);
	if (o.json)
		print_json(&v, u.release);
	else
		print_text(&v, u.release);
	return 0;
}
