/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Texts the text sink makes again and again, kept: an endpoint's
 * "addr:port" (both ends of a loopback connection, and every connection
 * to one server, share endpoints), a state change's step label.  Each
 * cache is direct-mapped and bounded; an entry serves only the exact
 * input it was made from (every input compared), so the text is always
 * what formatting the input gives.
 */
#ifndef TS_TEXT_CACHE_H
#define TS_TEXT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/stream/record.h"
#include "core/util/fmt.h"

#define TS_EPTEXT_SLOTS 1024

struct ts_eptext_slot {
	uint8_t addr[TS_ADDR_LEN];
	uint16_t port;
	uint8_t family;
	uint8_t len; /* 0: empty */
	char text[TS_ADDRSTR_LEN];
};

struct ts_eptext {
	struct ts_eptext_slot slot[TS_EPTEXT_SLOTS];
};

/* ts_fmt_endpoint()'s text of (family, addr, port), NUL-terminated;
 * *len its length.  Valid until the next call. */
const char *ts_eptext__get(struct ts_eptext *c, uint8_t family, const uint8_t *addr,
			   uint16_t port, size_t *len);

#define TS_STEPTEXT_SLOTS 256
#define TS_STEPTEXT_WAYS 4

/* The text sink's STEP column: two spaces and the label. */
#define TS_STEPTEXT_COL 48

/* ts_rec_step_label() of state changes, by what it depends on. */
struct ts_steptext {
	struct ts_steptext_slot {
		uint64_t key; /* 0: empty (no key is 0: old_state + 1 is in it) */
		const char *text;
		/* "  " and the label, col_len bytes; col_len 0 when it does not
		 * fit (a label is at most TS_LABEL_MAX_LEN characters). */
		uint8_t col_len;
		char col[TS_STEPTEXT_COL];
	} slot[TS_STEPTEXT_SLOTS];
};

const struct ts_steptext_slot *ts_steptext__make(struct ts_steptext *c, const struct ts_rec *r,
						 uint64_t key);

/* What ts_rec_label() reads of a state change: both states, the flags,
 * the socket's error when it has stats. */
static inline uint64_t ts_steptext__key(const struct ts_rec *r)
{
	return (uint64_t)(r->old_state + 1) | (uint64_t)r->new_state << 9 |
	       (uint64_t)r->flags << 17 | (uint64_t)r->has_stats << 25 |
	       (uint64_t)(r->has_stats ? r->st.err : 0) << 32;
}

static inline unsigned int ts_steptext__slot(uint64_t key)
{
	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >> 56) & (TS_STEPTEXT_SLOTS - 1);
}

/*
 * ts_rec_step_label(r): "" unless a state change.  *col (*col_len bytes,
 * in a buffer of TS_STEPTEXT_COL): "  " and the label; NULL for "" or a
 * label that does not fit.
 */
static inline const char *ts_steptext__get(struct ts_steptext *c, const struct ts_rec *r,
					   const char **col, size_t *col_len)
{
	const struct ts_steptext_slot *s = NULL;
	uint64_t key;
	unsigned int i;

	*col = NULL;
	*col_len = 0;
	if (r->type != TS_REC_STATE)
		return "";
	key = ts_steptext__key(r);
	i = ts_steptext__slot(key);
	/* Two keys may share a slot: the next ones are tried too. */
	for (unsigned int k = 0; k < TS_STEPTEXT_WAYS && !s; k++)
		if (c->slot[(i + k) & (TS_STEPTEXT_SLOTS - 1)].key == key)
			s = &c->slot[(i + k) & (TS_STEPTEXT_SLOTS - 1)];
	if (!s)
		s = ts_steptext__make(c, r, key);
	if (s->col_len) {
		*col = s->col;
		*col_len = s->col_len;
	}
	return s->text;
}

#endif
