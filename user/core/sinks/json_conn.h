/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The part of a record's JSON object that names its connection: "conn",
 * "sk", "pid", "comm", "family", "saddr", "sport", "daddr", "dport",
 * "netns", "cgroup_id", "cgroup", "container".  A connection's events
 * repeat all of it (ten per churned connection), so the records sink
 * keeps the text made for recent connections and copies it.
 *
 * The cache is direct-mapped by connection id, TS_JSON_CONN_SLOTS slots
 * (about 750 KiB in all, allocated once, touched as used).  A slot serves
 * a record only when every input of the text is the same as when it was
 * made: connection id, pid, comm, family, both addresses and ports,
 * network namespace, cgroup id and cgroup path (compared by content).
 * A record that misses is formatted and its text replaces the slot's;
 * its owner and cgroup parts come from 16 slots each, by process and by
 * cgroup, checked the same way.  A text or cgroup path too long for a
 * slot is formatted and not kept.  Output is the same either way.
 */
#ifndef TS_JSON_CONN_H
#define TS_JSON_CONN_H

#include "core/stream/record.h"
#include "core/util/jsonw.h"
#include <stdint.h>

#define TS_JSON_CONN_SLOTS 1024
/* The longest cgroup path (bytes, without the NUL) and text a slot keeps. */
#define TS_JSON_CONN_CG_MAX 191
#define TS_JSON_CONN_TEXT_MAX 448

/* The connection's fields, formatted (what the cache keeps). */
void ts_json_conn_fields(struct ts_jsonw *w, const struct ts_rec *r);

struct ts_json_conns;

struct ts_json_conns *ts_json_conns__new(void);
void ts_json_conns__free(struct ts_json_conns *c);
/* The record's connection fields into w, from the cache when they are
 * there (c may be NULL: no cache). */
void ts_json_conns__write(struct ts_json_conns *c, struct ts_jsonw *w, const struct ts_rec *r);
/* Records served from a slot, and records formatted. */
void ts_json_conns__counts(const struct ts_json_conns *c, uint64_t *hits, uint64_t *misses);

#endif
