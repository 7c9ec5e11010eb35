// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "core/sinks/text_cache.h"
#include "core/stream/step_label.h"

static unsigned int ep_hash(const uint8_t *addr, uint16_t port)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	a ^= b * 0x9e3779b97f4a7c15ULL;
	a ^= (uint64_t)port << 32 | port;
	a *= 0xff51afd7ed558ccdULL;
	return (unsigned int)(a >> 54) & (TS_EPTEXT_SLOTS - 1);
}

const char *ts_eptext__get(struct ts_eptext *c, uint8_t family, const uint8_t *addr,
			   uint16_t port, size_t *len)
{
	struct ts_eptext_slot *s = &c->slot[ep_hash(addr, port)];

	if (!s->len || s->port != port || s->family != family ||
	    memcmp(s->addr, addr, sizeof(s->addr))) {
		ts_fmt_endpoint(s->text, sizeof(s->text), family, addr, port);
		s->len = (uint8_t)strlen(s->text);
		s->port = port;
		s->family = family;
		memcpy(s->addr, addr, sizeof(s->addr));
	}
	*len = s->len;
	return s->text;
}

const struct ts_steptext_slot *ts_steptext__make(struct ts_steptext *c, const struct ts_rec *r,
						 uint64_t key)
{
	size_t len;

	unsigned int i = ts_steptext__slot(key), k;

	/* An empty slot of the key's ways, else the first one. */
	for (k = 0; k < TS_STEPTEXT_WAYS; k++)
		if (!c->slot[(i + k) & (TS_STEPTEXT_SLOTS - 1)].key)
			break;
	i = (i + (k < TS_STEPTEXT_WAYS ? k : 0)) & (TS_STEPTEXT_SLOTS - 1);
	c->slot[i].key = key;
	c->slot[i].text = ts_rec_step_label(r);
	len = strlen(c->slot[i].text);
	c->slot[i].col_len = 0;
	if (len && len + 2 <= TS_STEPTEXT_COL) {
		memcpy(c->slot[i].col, "  ", 2);
		memcpy(c->slot[i].col + 2, c->slot[i].text, len);
		c->slot[i].col_len = (uint8_t)(len + 2);
	}
	return &c->slot[i];
}
