/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Messages to stderr: errors are one line, "tcpscope: what failed: why". */
#ifndef TS_LOG_H
#define TS_LOG_H

#include <stdbool.h>

/* 0 quiet, 1 (-v) what was chosen and why, 2 (-vv) libbpf's debug too. */
void ts_log_set_verbose(int level);
int ts_log_verbose(void);
void ts_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ts_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only with -v. */
void ts_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A sign of life for a person: on stderr when it is a terminal (or -v). */
void ts_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
