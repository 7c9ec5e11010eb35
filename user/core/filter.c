// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "filter.h"

bool ts_filter_match(const struct ts_filter *f, const struct ts_rec *r)
{
	if (r->type == TS_REC_LOST)
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
	if (f->pid && r->pid != f->pid)
		return false;
	return true;
}
