// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/knames.h"

struct ksym {
	uint64_t addr;
	char *name;
};

struct ts_knames {
	char **names[TS_KN_KINDS];
	uint32_t n[TS_KN_KINDS];
	struct ksym *syms;
	size_t nsyms, cap;
	bool sorted;
};

int ts_knames__new(struct ts_knames **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void free_syms(struct ts_knames *k)
{
	for (size_t i = 0; i < k->nsyms; i++)
		free(k->syms[i].name);
	free(k->syms);
	k->syms = NULL;
	k->nsyms = k->cap = 0;
}

void ts_knames__free(struct ts_knames *k)
{
	if (!k)
		return;
	for (int t = 0; t < TS_KN_KINDS; t++) {
		for (uint32_t i = 0; i < k->n[t]; i++)
			free(k->names[t][i]);
		free(k->names[t]);
	}
	free_syms(k);
	free(k);
}

bool ts_kname_ok(const char *name, size_t len)
{
	if (!len || len > TS_KNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$'))
			return false;
	}
	return true;
}

int ts_knames__set(struct ts_knames *k, enum ts_kname_kind kind, uint32_t value,
		   const char *name)
{
	char *dup;

	if ((unsigned int)kind >= TS_KN_KINDS || value >= TS_KNAME_VALUES ||
	    !name || !ts_kname_ok(name, strlen(name)))
		return -EINVAL;
	if (value >= k->n[kind]) {
		char **v = realloc(k->names[kind], (value + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + k->n[kind], 0, (value + 1 - k->n[kind]) * sizeof(*v));
		k->names[kind] = v;
		k->n[kind] = value + 1;
	}
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	free(k->names[kind][value]);
	k->names[kind][value] = dup;
	return 0;
}

const char *ts_knames__get(const struct ts_knames *k, enum ts_kname_kind kind,
			   uint32_t value)
{
	if (!k || (unsigned int)kind >= TS_KN_KINDS || value >= k->n[kind])
		return NULL;
	return k->names[kind][value];
}

uint32_t ts_knames__count(const struct ts_knames *k, enum ts_kname_kind kind)
{
	return k && (unsigned int)kind < TS_KN_KINDS ? k->n[kind] : 0;
}

int ts_knames__add_sym(struct ts_knames *k, uint64_t addr, const char *name)
{
	char *dup;

	if (!addr || !name || !ts_kname_ok(name, strlen(name)))
		return -EINVAL;
	if (k->nsyms >= TS_KSYMS_MAX)
		return -E2BIG;
	if (k->nsyms == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4096;
		struct ksym *v = realloc(k->syms, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->syms = v;
		k->cap = cap;
	}
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	k->syms[k->nsyms++] = (struct ksym){ addr, dup };
	k->sorted = false;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

void ts_knames__sort(struct ts_knames *k)
{
	if (k->nsyms > 1)
		qsort(k->syms, k->nsyms, sizeof(*k->syms), cmp_sym);
	k->sorted = true;
}

int ts_knames__read_kallsyms(struct ts_knames *k, FILE *f)
{
	char line[512];
	int err = 0;

	free_syms(k);
	while (fgets(line, sizeof(line), f)) {
		char type, name[TS_KNAME_MAX + 2];
		unsigned long long addr;
		size_t len = strlen(line);

		/* A line longer than the buffer: skip its rest, keep nothing. */
		if (len && line[len - 1] != '\n' && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (sscanf(line, "%llx %c %128s", &addr, &type, name) != 3)
			continue;
		if ((type != 't' && type != 'T') || !addr)
			continue;
		err = ts_knames__add_sym(k, addr, name);
		if (err == -EINVAL) {
			err = 0; /* a name we do not print: left out */
			continue;
		}
		if (err)
			break;
	}
	ts_knames__sort(k);
	if (err == -E2BIG)
		err = 0;
	return err ? err : (int)(k->nsyms > INT32_MAX ? INT32_MAX : k->nsyms);
}

const char *ts_knames__sym(const struct ts_knames *k, uint64_t addr, uint32_t *off)
{
	size_t lo = 0, hi;

	*off = 0;
	if (!k || !k->nsyms || !k->sorted || addr < k->syms[0].addr)
		return NULL;
	hi = k->nsyms;
	/* The last symbol at or below addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Aliases at one address: the first in name order. */
	while (lo > 0 && k->syms[lo - 1].addr == k->syms[lo].addr)
		lo--;
	/* Past the last function by more than any function is long. */
	if (addr - k->syms[lo].addr > (1u << 24))
		return NULL;
	*off = (uint32_t)(addr - k->syms[lo].addr);
	return k->syms[lo].name;
}

void ts_knames__name(const struct ts_knames *k, struct ts_rec *r)
{
	if (!k)
		return;
	if (r->type == TS_REC_DROP) {
		r->reason_name = ts_knames__get(k, TS_KN_DROP, r->drop.reason);
		r->where = ts_knames__sym(k, r->drop.location, &r->where_off);
	} else if (r->type == TS_REC_RESET_SENT && r->rst_reason) {
		r->reason_name = ts_knames__get(k, TS_KN_RST, r->rst_reason - 1u);
	}
}

const char *ts_tcp_seg_kind(uint8_t f, uint32_t len)
{
	if (f & 0x04)
		return "RST";
	if ((f & 0x12) == 0x12)
		return "SYN-ACK";
	if (f & 0x02)
		return "SYN";
	if (f & 0x01)
		return "FIN";
	return len ? "data" : "ACK";
}

const char *ts_drop_dir_name(uint8_t dir, bool shortname)
{
	if (dir == TS_DROP_IN)
		return shortname ? "in" : "incoming";
	if (dir == TS_DROP_OUT)
		return shortname ? "out" : "outgoing";
	return "?";
}

void ts_drop_describe(char *buf, size_t len, uint8_t dir, uint8_t tcp_flags,
		      uint32_t seq, uint32_t seglen, bool has_base, uint32_t seq_base,
		      const char *reason_name, uint32_t reason, const char *where)
{
	char rs[32], range[32] = "";
	uint32_t from = has_base ? seq - seq_base : seq;

	if (!reason_name) {
		snprintf(rs, sizeof(rs), "reason#%u", reason);
		reason_name = rs;
	}
	if (seglen)
		snprintf(range, sizeof(range), " %u:%u", from, from + seglen);
	else
		snprintf(range, sizeof(range), " seq %u", from);
	snprintf(buf, len, "%s %s%s %s%s%s%s", ts_drop_dir_name(dir, false),
		 ts_tcp_seg_kind(tcp_flags, seglen), range, reason_name,
		 where ? " (" : "", where ? where : "", where ? ")" : "");
}
