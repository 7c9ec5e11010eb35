/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record filters.  Live tracing applies the same ones in the kernel; the
 * user-space copy serves replay and keeps both paths identical.
 */
#ifndef TS_FILTER_H
#define TS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/stream/record.h"

struct ts_filter {
	uint32_t pid;	/* owner process; 0 = any */
	uint32_t netns; /* inode; 0 = any */
	uint16_t port;	/* either end */
	uint16_t sport; /* local */
	uint16_t dport; /* remote */
	uint8_t family; /* 4, 6, 0 = any */
};

/* Loss records always pass: nothing is hidden by a filter. */
bool ts_filter_match(const struct ts_filter *f, const struct ts_rec *r);

struct ts_sock;
/* Keep the sockets of a snapshot that match, in place, in order; returns
 * how many were kept. */
size_t ts_filter_socks(const struct ts_filter *f, struct ts_sock *socks, size_t n);
/* The same into a fresh array (free() it): 0 or -ENOMEM. */
int ts_filter_socks_copy(const struct ts_filter *f, const struct ts_sock *socks,
			 size_t n, struct ts_sock **out, size_t *kept);

#endif
