/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every BPF user of tcpscope checks before it loads anything: the
 * privileges, the kernel's BTF, tracefs, and where libbpf's own messages
 * go.  Shared by the tracing loader (loader.c) and the snapshot iterators
 * (snapshot.c).  Each check prints one line saying what is missing.
 */
#ifndef TS_PREFLIGHT_H
#define TS_PREFLIGHT_H

#include <stddef.h>

struct btf;

/* Route libbpf's messages to stderr for -v (-vv: its debug output too). */
void ts_preflight__libbpf_log(void);
/* Keep the verifier's last line of a refused load in why (NULL: stop). */
void ts_preflight__verifier_reason(char *why, size_t len);
/* 0 if we can load tracing programs; -EPERM after an error line if not,
 * naming what was refused ("trace", "read the sockets"). */
int ts_preflight__privileges(const char *what);
/* 0 if the kernel exposes BTF; -ENOENT (or the file's -errno) if not. */
int ts_preflight__btf(void);
/* Mount tracefs when missing (best effort); 0 or -errno. */
int ts_preflight__tracefs(void);
/* Raise RLIMIT_MEMLOCK for kernels before 5.11; a refusal is only said. */
void ts_preflight__memlock(void);

/*
 * Test seam (docs/DESIGN.md): TCPSCOPE_BTF_PATH names a BTF file read
 * instead of the kernel's, for CO-RE too.  NULL when unset.
 */
const char *ts_preflight__btf_path(void);
/* The kernel's types, from sysfs or TCPSCOPE_BTF_PATH; btf__free() them.
 * 0 or -errno after an error line. */
int ts_preflight__kernel_btf(struct btf **out);

#endif
