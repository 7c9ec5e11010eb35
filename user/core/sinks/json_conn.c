// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/sinks/json_conn.h"
#include "core/sinks/sinks.h"
#include "core/util/fmt.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	/* The inputs the text was made from. */
	uint64_t conn;
	uint64_t cgroup_id;
	uint32_t pid;
	uint32_t netns;
	uint16_t sport, dport;
	uint8_t family;
	bool valid;
	bool has_cg; /* cgroup path known (not NULL) */
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN + 1];
	char cg[TS_JSON_CONN_CG_MAX + 1];
	/* The text, from the comma before "conn" to the container's value;
	 * where in it the digits of "sport" are (0: not known). */
	uint16_t len;
	uint16_t sport_off;
	uint8_t sport_len;
	char text[TS_JSON_CONN_TEXT_MAX];
};

/*
 * A new connection misses, and so does one whose tuple just changed (the
 * local port of a connect() is known from its second event on); the
 * owner and the cgroup it shares with its process's other connections
 * are then copied from these: "pid", "comm" by pid and name; "netns",
 * "cgroup_id", "cgroup", "container" by namespace, cgroup id and path.
 */
#define PART_SLOTS 16
#define PART_TEXT_MAX 256

struct owner_part {
	bool valid;
	uint32_t pid;
	char comm[TS_COMM_LEN + 1];
	uint16_t len;
	char text[PART_TEXT_MAX];
};

struct group_part {
	bool valid;
	bool has_cg;
	uint32_t netns;
	uint64_t cgroup_id;
	char cg[TS_JSON_CONN_CG_MAX + 1];
	uint16_t len;
	char text[PART_TEXT_MAX];
};

struct ts_json_conns {
	uint64_t hits, misses;
	struct slot slot[TS_JSON_CONN_SLOTS];
	struct owner_part owner[PART_SLOTS];
	struct group_part group[PART_SLOTS];
};

void ts_json_conn_fields(struct ts_jsonw *w, const struct ts_rec *r)
{
	ts_json_conn_id(w, r->conn);
	ts_json_owner(w, r->pid, r->comm);
	ts_json_tuple(w, r->family, r->saddr, r->sport, r->daddr, r->dport);
	TS_JSONW_U64(w, "netns", r->netns);
	ts_json_cgroup(w, r->cgroup_id, r->cgroup);
}

struct ts_json_conns *ts_json_conns__new(void)
{
	return calloc(1, sizeof(struct ts_json_conns));
}

void ts_json_conns__free(struct ts_json_conns *c)
{
	free(c);
}

void ts_json_conns__counts(const struct ts_json_conns *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}

/* "pid", "comm" (after a value), from the owners kept. */
static void owner_fields(struct ts_json_conns *c, struct ts_jsonw *w, const struct ts_rec *r)
{
	struct owner_part *o = &c->owner[r->pid % PART_SLOTS];
	struct ts_jsonw_mark m;
	const char *text;
	size_t len;

	if (o->valid && o->pid == r->pid && !memcmp(o->comm, r->comm, sizeof(o->comm))) {
		ts_jsonw__raw(w, o->text, o->len);
		return;
	}
	m = ts_jsonw__mark(w);
	ts_json_owner(w, r->pid, r->comm);
	text = ts_jsonw__since(w, m, &len);
	o->valid = text && len <= sizeof(o->text);
	if (!o->valid)
		return;
	o->pid = r->pid;
	memcpy(o->comm, r->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = '\0';
	memcpy(o->text, text, len);
	o->len = (uint16_t)len;
}

/* "netns", "cgroup_id", "cgroup", "container" (after a value), from the
 * groups kept. */
static void group_fields(struct ts_json_conns *c, struct ts_jsonw *w, const struct ts_rec *r)
{
	struct group_part *g = &c->group[(r->netns ^ r->cgroup_id) % PART_SLOTS];
	size_t len, cg_len = r->cgroup ? strlen(r->cgroup) : 0;
	struct ts_jsonw_mark m;
	const char *text;

	if (g->valid && g->netns == r->netns && g->cgroup_id == r->cgroup_id &&
	    g->has_cg == (r->cgroup != NULL) && (!r->cgroup || !strcmp(g->cg, r->cgroup))) {
		ts_jsonw__raw(w, g->text, g->len);
		return;
	}
	m = ts_jsonw__mark(w);
	TS_JSONW_U64(w, "netns", r->netns);
	ts_json_cgroup(w, r->cgroup_id, r->cgroup);
	text = ts_jsonw__since(w, m, &len);
	g->valid = text && len <= sizeof(g->text) && cg_len <= TS_JSON_CONN_CG_MAX;
	if (!g->valid)
		return;
	g->netns = r->netns;
	g->cgroup_id = r->cgroup_id;
	g->has_cg = r->cgroup != NULL;
	memcpy(g->cg, r->cgroup ? r->cgroup : "", cg_len + 1);
	memcpy(g->text, text, len);
	g->len = (uint16_t)len;
}

/* Whether s holds the text made from r's inputs, but for the local port
 * (a connect()'s is known from its second event on). */
static bool same_but_sport(const struct slot *s, const struct ts_rec *r)
{
	if (!s->valid || s->conn != r->conn || s->pid != r->pid || s->netns != r->netns ||
	    s->dport != r->dport || s->family != r->family ||
	    s->cgroup_id != r->cgroup_id || s->has_cg != (r->cgroup != NULL))
		return false;
	if (memcmp(s->saddr, r->saddr, sizeof(s->saddr)) ||
	    memcmp(s->daddr, r->daddr, sizeof(s->daddr)))
		return false;
	/* Both NUL-terminated within the array (and kept whole): equal
	 * arrays are the same name; unequal ones only miss. */
	if (memcmp(s->comm, r->comm, sizeof(s->comm)))
		return false;
	/* Equal means the same path. */
	return !r->cgroup || !strcmp(s->cg, r->cgroup);
}

/* s's text with r's local port in place of its own (s was made from all
 * of r's other inputs); false when s does not know where it is or the
 * text would not fit. */
static bool patch_sport(struct slot *s, const struct ts_rec *r)
{
	char digits[24];
	size_t dl = ts_put_u64(digits, r->sport), off = s->sport_off;
	size_t tail = (size_t)s->len - off - s->sport_len;

	if (!off || (size_t)s->len - s->sport_len + dl > sizeof(s->text))
		return false;
	memmove(s->text + off + dl, s->text + off + s->sport_len, tail);
	memcpy(s->text + off, digits, dl);
	s->len = (uint16_t)(off + dl + tail);
	s->sport_len = (uint8_t)dl;
	s->sport = r->sport;
	return true;
}
/* Keep r's inputs and text in s; false (slot left empty) when either is
 * too long for it. */
static bool keep(struct slot *s, const struct ts_rec *r, const char *text, size_t len)
{
	size_t cg_len = r->cgroup ? strlen(r->cgroup) : 0;

	s->valid = false;
	if (!text || len > sizeof(s->text) || cg_len > TS_JSON_CONN_CG_MAX)
		return false;
	s->conn = r->conn;
	s->cgroup_id = r->cgroup_id;
	s->pid = r->pid;
	s->netns = r->netns;
	s->sport = r->sport;
	s->dport = r->dport;
	s->family = r->family;
	s->has_cg = r->cgroup != NULL;
	memcpy(s->saddr, r->saddr, sizeof(s->saddr));
	memcpy(s->daddr, r->daddr, sizeof(s->daddr));
	/* comm is NUL-terminated within its array (record.h). */
	memcpy(s->comm, r->comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = '\0';
	memcpy(s->cg, r->cgroup ? r->cgroup : "", cg_len + 1);
	memcpy(s->text, text, len);
	s->len = (uint16_t)len;
	s->sport_off = 0;
	s->sport_len = 0;
	s->valid = true;
	return true;
}

/* The digits of "sport" in s's text start at off (0: not known). */
static void set_sport(struct slot *s, size_t off)
{
	size_t i = off;

	if (!off || off >= s->len)
		return;
	while (i < s->len && s->text[i] >= '0' && s->text[i] <= '9')
		i++;
	s->sport_off = (uint16_t)off;
	s->sport_len = (uint8_t)(i - off);
}
void ts_json_conns__write(struct ts_json_conns *c, struct ts_jsonw *w, const struct ts_rec *r)
{
	struct ts_jsonw_mark m;
	const char *text;
	struct slot *s;
	size_t len, sport_at;

	/* The text kept starts with the comma before "conn": only for a
	 * writer where a value came before. */
	if (!c || !w->need_comma) {
		ts_json_conn_fields(w, r);
		return;
	}
	s = &c->slot[r->conn % TS_JSON_CONN_SLOTS];
	if (same_but_sport(s, r)) {
		if (s->sport == r->sport) {
			c->hits++;
			ts_jsonw__raw(w, s->text, s->len);
			return;
		}
		/* Counted as a miss: not the text as it was kept. */
		if (patch_sport(s, r)) {
			c->misses++;
			ts_jsonw__raw(w, s->text, s->len);
			return;
		}
	}
	c->misses++;
	m = ts_jsonw__mark(w);
	/* As ts_json_conn_fields() makes them. */
	ts_json_conn_id(w, r->conn);
	owner_fields(c, w, r);
	sport_at = ts_json_tuple_at(w, r->family, r->saddr, r->sport, r->daddr, r->dport);
	group_fields(c, w, r);
	text = ts_jsonw__since(w, m, &len);
	/* Where the port is in the text, when the buffer did not go out
	 * since m (else nothing is kept). */
	if (keep(s, r, text, len) && sport_at > m.n)
		set_sport(s, sport_at - m.n);
}
