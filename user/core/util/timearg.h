/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The moment 'report --at' asks for, as the capture's clock counts it. */
#ifndef TS_TIMEARG_H
#define TS_TIMEARG_H

#include <stdint.h>

/*
 * s is RFC 3339 ("2026-11-21T12:00:05Z", "...05.250+01:00", a space for
 * the T allowed; without a zone, local time), the local clock as trace
 * prints it ("12:00:05.250", on the day the capture started), or an
 * offset from the start of the recording ("+5s", "+1.5", "+250ms").  Returns 0 with *mono_ns set, -EINVAL or -ERANGE.
 */
int ts_parse_at(const char *s, uint64_t start_mono_ns, int64_t wall_offset_ns, uint64_t *mono_ns);

#endif
