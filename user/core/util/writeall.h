/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * All of a buffer to a file descriptor, for the writers that bypass
 * stdio (ts_tbuf, ts_jsonw in direct mode).
 */
#ifndef TS_WRITEALL_H
#define TS_WRITEALL_H

#include <stddef.h>

/* A signal may cut a write short or interrupt one that wrote nothing:
 * tried again, at most this many interruptions in one call. */
#define TS_WRITE_EINTR_TRIES 1000

/*
 * Write len bytes of p to fd.  Returns 0, or the errno that stopped it
 * (EIO when a write took nothing, EINTR past TS_WRITE_EINTR_TRIES); *done
 * says how many bytes went out either way.
 */
int ts_write_all(int fd, const char *p, size_t len, size_t *done);

#endif
