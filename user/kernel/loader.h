/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Open, configure, load and attach the tracing programs, choosing the
 * variant the running kernel can take.  The only file that knows the
 * skeleton of tcpscope.bpf.c.
 */
#ifndef TS_LOADER_H
#define TS_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stream/filter.h"

enum ts_tp_mode {
	TS_TP_AUTO = 0,
	TS_TP_BTF,	/* tp_btf/: typed socket, cookies, socket storage */
	TS_TP_CLASSIC, /* tracepoint/: for kernels without the above */
};

struct ts_loader_opts {
	struct ts_filter filter;
	uint64_t ring_bytes;   /* power of two, multiple of the page size */
	uint64_t wakeup_bytes; /* wake the reader past this backlog; 0 never */
	enum ts_tp_mode mode;
};

struct ts_loader;

/* Returns 0, or a negative errno after printing one line saying why. */
int ts_loader__open(const struct ts_loader_opts *o, struct ts_loader **out);
int ts_loader__ring_fd(const struct ts_loader *l);
/* Events lost: failed reservations (per-CPU sum) plus the programs'
 * recursion misses. */
int ts_loader__drops(const struct ts_loader *l, uint64_t *out);
const char *ts_loader__mode_name(const struct ts_loader *l);
void ts_loader__free(struct ts_loader *l);

/* Mount tracefs or bpffs when missing (best effort). */
int ts_ensure_tracefs(void);
/* 0 if we can load tracing programs; -EPERM after an error line if not. */
/* what: the action refused, as the error line names it ("trace"). */
int ts_check_privileges(const char *what);
/* 0 if the kernel exposes BTF; -ENOENT after an error line if not. */
int ts_check_btf(void);

#endif
