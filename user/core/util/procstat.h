/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* This process's own figures, as Prometheus' process_* metrics name them. */
#ifndef TS_PROCSTAT_H
#define TS_PROCSTAT_H

#include <stdint.h>

struct ts_proc_stats {
	uint64_t cpu_ns;	 /* user + system time */
	uint64_t rss_bytes;
	uint64_t vsize_bytes;
	uint64_t open_fds;
	uint64_t max_fds;	 /* RLIMIT_NOFILE soft limit */
	uint64_t start_time_s;	 /* since the Unix epoch */
};

/* Read /proc/self/stat, /proc/self/fd and /proc/stat.  0 or -errno. */
int ts_proc_stats__read(struct ts_proc_stats *out);

#endif
