// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/filter.h"
#include "core/sock/sock.h"
#include "core/util/cgroup.h"

bool ts_filter_match(const struct ts_filter *f, const struct ts_rec *r)
{
	if (r->type == TS_REC_LOST || r->type == TS_REC_DROP_SUPPRESSED)
		return true;
	if (f->family && r->family != f->family)
		return false;
	if (f->netns && r->netns != f->netns)
		return false;
	if (f->sport && r->sport != f->sport)
		return false;
	if (f->dport && r->dport != f->dport)
		return false;
	if (f->port && r->sport != f->port && r->dport != f->port)
		return false;
	/* A drop has no owner of its own: with -p or --cgroup the kernel
	 * passed only those of a matching socket, and replay keeps those
	 * that join a connection the filter kept. */
	if (r->type == TS_REC_DROP)
		return true;
	if (f->pid && r->pid != f->pid)
		return false;
	if (f->cgroup && r->cgroup_id != f->cgroup_id &&
	    !(r->cgroup && ts_cgroup_under(r->cgroup, f->cgroup)))
		return false;
	return true;
}

size_t ts_filter_socks(const struct ts_filter *filter, struct ts_sock *socks, size_t n)
{
	struct ts_filter fc = *filter, *f = &fc;
	size_t kept = 0;

	/* A snapshot row has a holder but no cgroup. */
	fc.cgroup = NULL;

	for (size_t i = 0; i < n; i++) {
		struct ts_rec rec = {
			.type = TS_REC_STATE,
			.family = socks[i].family,
			.sport = socks[i].sport,
			.dport = socks[i].dport,
			.pid = socks[i].pid,
			.netns = socks[i].netns,
		};

		if (ts_filter_match(f, &rec))
			socks[kept++] = socks[i];
	}
	return kept;
}

int ts_filter_socks_copy(const struct ts_filter *f, const struct ts_sock *socks,
			 size_t n, struct ts_sock **out, size_t *kept)
{
	struct ts_sock *s = malloc((n + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (n)
		memcpy(s, socks, n * sizeof(*s));
	*kept = ts_filter_socks(f, s, n);
	*out = s;
	return 0;
}
