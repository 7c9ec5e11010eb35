/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Range-checked parsing of command-line values. */
#ifndef TS_PARSE_H
#define TS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* All return 0, or -EINVAL / -ERANGE with *out untouched. */
int ts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int ts_parse_port(const char *s, uint16_t *out); /* 1..65535 */
/* "4096", "64K", "16M", "1G" (powers of 1024) */
int ts_parse_size(const char *s, uint64_t *out);
/* "1.5", "2s", "500ms", "3m" into nanoseconds */
int ts_parse_duration(const char *s, uint64_t *out_ns);
/* A netns inode number, an 'ip netns' name (/run/netns/NAME) or the path
 * of a network namespace file (/proc/PID/ns/net); -EINVAL for any other
 * file, -ENOENT for a name or path that does not exist. */
int ts_parse_netns(const char *s, uint32_t *out);
/* The same, also giving the file's path ("" for an inode number). */
int ts_netns_resolve(const char *s, uint32_t *ino, char *path, size_t len);

#endif
