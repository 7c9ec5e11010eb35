/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fill the kernel name tables (core/stream/knames.h) from the running
 * kernel: drop and reset reasons from its BTF, so that reasons a newer
 * kernel adds are named right; functions from /proc/kallsyms.
 */
#ifndef TS_KNAMES_BTF_H
#define TS_KNAMES_BTF_H

#include "core/stream/knames.h"

struct btf;

/*
 * A new table with the drop and reset reasons vmlinux (the running
 * kernel's BTF, the one the loader parsed: not parsed again) names; a
 * kernel without these enums leaves them empty.  0 or -ENOMEM.
 */
int ts_knames__from_btf(const struct btf *vmlinux, struct ts_knames **out);
/*
 * Add the functions of /proc/kallsyms to k: what drops need to name where
 * they happened (some 120 000 functions, 5 MB, 50-100 ms of CPU, mostly
 * the kernel's), so it is done at the first drop, not at start.  Best
 * effort: kallsyms without addresses leaves k without functions and -v
 * says so.  The number read, or -ENOMEM.
 */
int ts_knames__read_functions(struct ts_knames *k);

#endif
