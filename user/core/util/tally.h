/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Counts by name, bounded: the reasons a report groups records by (why a
 * segment was retransmitted, dropped, reset).  Names come from the records
 * (the kernel's BTF names new reasons), so their number is not known in
 * advance: past TS_TALLY_MAX distinct names the rest are counted as
 * "other".  Names are copied, truncated to TS_TALLY_NAME - 1 bytes; they
 * are untrusted: escape them before a terminal.  A name tcpscope inferred
 * (a reset's, when the kernel gave none) is a row of its own, apart from
 * the same name given by the source.
 */
#ifndef TS_TALLY_H
#define TS_TALLY_H

#include <stdbool.h>
#include <stdint.h>

#define TS_TALLY_MAX 64
#define TS_TALLY_NAME 48

struct ts_tally_row {
	char name[TS_TALLY_NAME]; /* "": the record gave none */
	bool inferred;
	uint64_t count;
};

struct ts_tally {
	uint32_t n;
	uint64_t other; /* counts of names past TS_TALLY_MAX */
	uint64_t total;
	struct ts_tally_row rows[TS_TALLY_MAX];
};

/* name: the source's, NULL or "" for none. */
void ts_tally__add(struct ts_tally *t, const char *name, uint64_t count);
/* name: one tcpscope inferred from the record. */
void ts_tally__add_inferred(struct ts_tally *t, const char *name, uint64_t count);
/* Rows by count, largest first (then by name), for printing. */
void ts_tally__sort(struct ts_tally *t);

#endif
