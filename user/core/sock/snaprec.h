/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Decoding of the snapshot iterators' binary records (bpf/snapshot.h). */
#ifndef TS_SNAPREC_H
#define TS_SNAPREC_H

#include <stddef.h>
#include <stdint.h>
#include "core/sock/sock.h"
#include "bpf/snapshot.h"

/*
 * The kernel's HZ, inferred from one reading of jiffies and of
 * CLOCK_MONOTONIC taken together: jiffies start at INITIAL_JIFFIES
 * (2^32 - 300 * HZ) when the monotonic clock starts at about 0, so only
 * one of the usual HZ values fits.  Returns that value (100, 250, 300 or
 * 1000).
 */
unsigned int ts_snap_infer_hz(uint64_t jiffies, uint64_t mono_ns);

/* Check an end record; 0 or -EINVAL (-EPROTO for another version). */
int ts_snap_check_end(const struct ts_snap_end *h);

/* One socket record into a row; 0, or -EINVAL for a record with an unknown
 * type, family, state or timer kind. */
int ts_snap_decode_sock(const struct ts_snap_sock *r, unsigned int hz,
			struct ts_sock *out);

#endif
