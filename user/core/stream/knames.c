// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/knames.h"

/* A function: its address and its name's offset in the arena. */
struct ksym {
	uint64_t addr;
	uint64_t name; /* offset into ts_knames.arena */
};

struct ts_knames {
	char **names[TS_KN_KINDS];
	uint32_t n[TS_KN_KINDS];
	struct ksym *syms;
	size_t nsyms, cap;
	/* Every function's name, NUL-terminated, one after the other: one
	 * allocation for 100 000 names instead of one each. */
	char *arena;
	size_t alen, acap;
	bool sorted;
};

int ts_knames__new(struct ts_knames **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void free_syms(struct ts_knames *k)
{
	free(k->syms);
	free(k->arena);
	k->syms = NULL;
	k->arena = NULL;
	k->nsyms = k->cap = k->alen = k->acap = 0;
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

/* The bytes a name may hold: [A-Za-z0-9_.$]. */
static bool kname_char(unsigned char c)
{
	static const uint32_t ok[8] = {
		[1] = 0x03ff4010, /* $ . 0-9 */
		[2] = 0x87fffffe, /* A-Z _ */
		[3] = 0x07fffffe, /* a-z */
	};

	return ok[c >> 5] >> (c & 31) & 1;
}

bool ts_kname_ok(const char *name, size_t len)
{
	if (!len || len > TS_KNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!kname_char((unsigned char)name[i]))
			return false;
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

/* Append name (len bytes, already checked) at addr. */
static int push_sym(struct ts_knames *k, uint64_t addr, const char *name, size_t len)
{
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
	if (k->acap - k->alen < len + 1) {
		size_t cap = k->acap ? k->acap * 2 : 1u << 16;
		char *v;

		while (cap - k->alen < len + 1)
			cap *= 2;
		v = realloc(k->arena, cap);
		if (!v)
			return -ENOMEM;
		k->arena = v;
		k->acap = cap;
	}
	memcpy(k->arena + k->alen, name, len);
	k->arena[k->alen + len] = '\0';
	k->syms[k->nsyms++] = (struct ksym){ addr, k->alen };
	k->alen += len + 1;
	k->sorted = false;
	return 0;
}

int ts_knames__add_sym(struct ts_knames *k, uint64_t addr, const char *name)
{
	size_t len = name ? strnlen(name, TS_KNAME_MAX + 1) : 0;

	if (!addr || !name || !ts_kname_ok(name, len))
		return -EINVAL;
	return push_sym(k, addr, name, len);
}

/* By address, then by name: aliases of one address in name order. */
static int cmp_sym(const void *a, const void *b, void *arena)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp((const char *)arena + x->name, (const char *)arena + y->name);
}

/*
 * kallsyms lists the kernel's own functions in address order and then each
 * module's: the leading run in order is kept as it is, the rest sorted and
 * merged into it (n + m log m instead of n log n comparisons).
 */
void ts_knames__sort(struct ts_knames *k)
{
	size_t run = 1, n = k->nsyms, i, j, o;
	struct ksym *tmp;

	k->sorted = true;
	if (n < 2)
		return;
	while (run < n && k->syms[run - 1].addr <= k->syms[run].addr)
		run++;
	/* Aliases (one address, several names) into name order. */
	for (i = 0; i < run; i = j) {
		for (j = i + 1; j < run && k->syms[j].addr == k->syms[i].addr; j++)
			;
		if (j - i > 1)
			qsort_r(k->syms + i, j - i, sizeof(*k->syms), cmp_sym, k->arena);
	}
	if (run == n)
		return;
	tmp = malloc(run * sizeof(*tmp));
	if (!tmp) {
		qsort_r(k->syms, n, sizeof(*k->syms), cmp_sym, k->arena);
		return;
	}
	qsort_r(k->syms + run, n - run, sizeof(*k->syms), cmp_sym, k->arena);
	memcpy(tmp, k->syms, run * sizeof(*tmp));
	/* Merge tmp (the run) and syms[run..n) into syms from the front: the
	 * write index never passes the read index of the second half. */
	for (i = 0, j = run, o = 0; i < run && j < n; o++) {
		if (cmp_sym(&tmp[i], &k->syms[j], k->arena) <= 0)
			k->syms[o] = tmp[i++];
		else
			k->syms[o] = k->syms[j++];
	}
	while (i < run)
		k->syms[o++] = tmp[i++];
	free(tmp);
}

/* isspace() of the C locale: what separates kallsyms' fields. */
static bool ks_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int ks_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One kallsyms line without its newline, "ADDR TYPE NAME [MODULE]": a text
 * symbol (t, T) with a non-zero address and a name as ts_kname_ok() takes
 * it gives its address and name; anything else false.
 * Fields as the kernel writes them: hex digits (at most 64 bits of them),
 * one type letter, the name up to the next blank; the rest is ignored.
 */
static bool ks_line(const char *s, const char *e, uint64_t *addr, const char **name,
		    size_t *len)
{
	const char *d;
	uint64_t a = 0;
	char type;
	int v;

	while (s < e && ks_space(*s))
		s++;
	for (d = s; s < e && (v = ks_hex(*s)) >= 0; s++) {
		if (a >> 60)
			return false; /* more than 64 bits */
		a = a << 4 | (uint64_t)v;
	}
	if (s == d)
		return false;
	while (s < e && ks_space(*s))
		s++;
	if (s == e)
		return false;
	type = *s++;
	if ((type != 't' && type != 'T') || !a)
		return false;
	while (s < e && ks_space(*s))
		s++;
	/* The name runs to the next blank and is all name bytes. */
	for (d = s; s < e && kname_char((unsigned char)*s); s++)
		;
	if (s == d || s - d > TS_KNAME_MAX || (s < e && !ks_space(*s)))
		return false;
	*addr = a;
	*name = d;
	*len = (size_t)(s - d);
	return true;
}

/* Lines of more bytes than this (without the newline) are left out whole. */
#define KS_LINE_MAX 510
#define KS_CHUNK (1u << 17)

int ts_knames__read_kallsyms(struct ts_knames *k, FILE *f)
{
	size_t have = 0, n;
	bool skipping = false; /* inside a line too long to keep */
	char *buf;
	int err = 0;

	free_syms(k);
	buf = malloc(KS_CHUNK);
	if (!buf)
		return -ENOMEM;
	do {
		char *p = buf, *end, *nl;

		n = fread(buf + have, 1, KS_CHUNK - have, f);
		end = buf + have + n;
		while (!err && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			uint64_t addr;
			const char *name;
			size_t len;

			if (!skipping && nl - p <= KS_LINE_MAX &&
			    ks_line(p, nl, &addr, &name, &len))
				err = push_sym(k, addr, name, len);
			skipping = false;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (err)
			break;
		if (!n) { /* the end (or an error): a last line without newline */
			uint64_t addr;
			const char *name;
			size_t len;

			if (!skipping && have && have <= KS_LINE_MAX &&
			    ks_line(p, end, &addr, &name, &len))
				err = push_sym(k, addr, name, len);
			break;
		}
		if (have > KS_LINE_MAX) {
			skipping = true;
			have = 0;
		}
		memmove(buf, p, have);
	} while (1);
	free(buf);
	ts_knames__sort(k);
	if (err == -E2BIG)
		err = 0;
	return err ? err : (int)(k->nsyms > INT32_MAX ? INT32_MAX : k->nsyms);
}

size_t ts_knames__sym_count(const struct ts_knames *k)
{
	return k ? k->nsyms : 0;
}

const char *ts_knames__sym_nth(const struct ts_knames *k, size_t i, uint64_t *addr)
{
	if (!k || i >= k->nsyms)
		return NULL;
	*addr = k->syms[i].addr;
	return k->arena + k->syms[i].name;
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
	return k->arena + k->syms[lo].name;
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
