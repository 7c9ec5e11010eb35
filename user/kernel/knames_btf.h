/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fill the kernel name tables (core/stream/knames.h) from the running
 * kernel: drop and reset reasons from its BTF, so that reasons a newer
 * kernel adds are named right; functions from /proc/kallsyms.
 */
#ifndef TS_KNAMES_BTF_H
#define TS_KNAMES_BTF_H

#include "core/stream/knames.h"

/*
 * A new table with what this kernel offers (best effort: a kernel without
 * these enums, or kallsyms without addresses, leaves that part empty and
 * -v says so).  functions: read /proc/kallsyms too (what drops need:
 * some 10 MB for a distribution kernel's 120 000 functions).  0 or -ENOMEM.
 */
int ts_knames__from_kernel(bool functions, struct ts_knames **out);

#endif
