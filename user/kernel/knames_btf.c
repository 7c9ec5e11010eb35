// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel/knames_btf.h"
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

int ts_knames__from_btf(const struct btf *vmlinux, struct ts_knames **out)
{
	struct ts_knames *k = NULL;
	int err, nd = 0, nr = 0;

	*out = NULL;
	err = ts_knames__new(&k);
	if (err)
		return err;
	if (vmlinux) {
		nd = from_enum(k, vmlinux, "skb_drop_reason", "SKB_DROP_REASON_", TS_KN_DROP);
		nr = from_enum(k, vmlinux, "sk_rst_reason", "SK_RST_REASON_", TS_KN_RST);
		if (nd < 0 || nr < 0) {
			ts_knames__free(k);
			return -ENOMEM;
		}
	}
	ts_info("kernel names: %d drop reasons, %d reset reasons (BTF)", nd, nr);
	*out = k;
	return 0;
}

int ts_knames__read_functions(struct ts_knames *k)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	int n;

	if (!f) {
		ts_info("kernel functions: cannot read /proc/kallsyms: %s", strerror(errno));
		return 0;
	}
	n = ts_knames__read_kallsyms(k, f);
	fclose(f);
	if (n == -ENOMEM)
		return n;
	ts_info("kernel functions: %d (/proc/kallsyms%s)", n > 0 ? n : 0,
		n > 0 ? "" : ": no addresses shown");
	return n > 0 ? n : 0;
}
