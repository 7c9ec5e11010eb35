// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel/knames_btf.h"
#include "kernel/preflight.h"
#include "core/util/log.h"

/* Each enumerator of enum ENUM, its PREFIX stripped, into table kind. */
static int from_enum(struct ts_knames *k, const struct btf *btf, const char *enum_name,
		     const char *prefix, enum ts_kname_kind kind)
{
	size_t plen = strlen(prefix);
	const struct btf_type *t;
	const struct btf_enum *e;
	int id, n = 0;

	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (!t)
		return 0;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);
		int err;

		if (!name || e->val < 0)
			continue;
		if (!strncmp(name, prefix, plen) && name[plen])
			name += plen;
		err = ts_knames__set(k, kind, (uint32_t)e->val, name);
		if (err == -ENOMEM)
			return err;
		n += !err;
	}
	return n;
}

int ts_knames__from_kernel(bool functions, struct ts_knames **out)
{
	struct ts_knames *k = NULL;
	struct btf *btf = NULL;
	FILE *f;
	int err, nd = 0, nr = 0, ns = 0;

	err = ts_knames__new(&k);
	if (err)
		return err;
	if (!ts_preflight__kernel_btf(&btf)) {
		nd = from_enum(k, btf, "skb_drop_reason", "SKB_DROP_REASON_", TS_KN_DROP);
		nr = from_enum(k, btf, "sk_rst_reason", "SK_RST_REASON_", TS_KN_RST);
		btf__free(btf);
		if (nd < 0 || nr < 0) {
			ts_knames__free(k);
			return -ENOMEM;
		}
	}
	f = functions ? fopen("/proc/kallsyms", "re") : NULL;
	if (f) {
		ns = ts_knames__read_kallsyms(k, f);
		fclose(f);
		if (ns == -ENOMEM) {
			ts_knames__free(k);
			return ns;
		}
	}
	ts_info("kernel names: %d drop reasons, %d reset reasons (BTF), %d functions (/proc/kallsyms%s)",
		nd, nr, ns > 0 ? ns : 0, !functions ? ": not read, no drops" :
					 ns > 0 ? "" : ": no addresses shown");
	*out = k;
	return 0;
}
