// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper (not a test): write a synthetic capture with the capture
 * writer, for the picture tests (tests/e2e/test_pictures.py).
 *
 *	mkcap gallery FILE	every close kind, retransmissions, one pair
 *	mkcap many N FILE	N connections of mixed shapes (a large capture)
 */
#include <inttypes.h>
#include <stdio.h>
#include "scenarios.h"
#include "core/capfile/capfile.h"

static const char *const names[] = { "curl", "nginx", "redis-server", "python3", "wrk" };

/* Batch k of up to 1000 connections lives in [k * 100ms, k * 100ms + 70ms). */
static void many_batch(struct ts_scen *s, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++) {
		uint64_t t = (i / 1000) * 100 * SC_MS + (i % 1000) * 50 * SC_US + SC_MS;
		uint64_t hs = 20 * SC_US + (i * 7919 % 3000) * SC_US;
		struct ts_scen_end e = { 4, "10.1.0.1", "10.2.0.1", (uint16_t)(1024 + i % 60000),
					 (uint16_t)(i % 3 == 0 ? 80 : i % 3 == 1 ? 443 : 6379),
					 (uint32_t)(1000 + i % 40), names[i % 5], 1 };
		uint64_t id = 1000 + i;
		struct ts_rec *r;

		r = sc_add(s, &e, TS_REC_STATE, id, t, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST);
		r->sport = 0;
		if (i % 10 == 9) {
			sc_event(s, &e, TS_REC_RESET_RECV, id, t + 30 * SC_US, TS_SYN_SENT);
			sc_close(s, &e, id, t + 31 * SC_US, TS_SYN_SENT, 0, 111);
			continue;
		}
		sc_state(s, &e, id, t + hs, TS_SYN_SENT, TS_ESTABLISHED, 0);
		for (uint64_t k = 0; i % 97 == 0 && k <= i % 5; k++)
			sc_event(s, &e, TS_REC_RETRANS, id, t + hs + (k + 1) * 200 * SC_US,
				 TS_ESTABLISHED);
		if (i % 10 == 8) {
			sc_close(s, &e, id, t + hs + 5 * SC_MS, TS_ESTABLISHED, 0, 0);
			sc_event(s, &e, TS_REC_RESET_SENT, id, t + hs + 5 * SC_MS + 2 * SC_US,
				 TS_CLOSE);
		} else if (i % 2) {
			sc_passive_close(s, &e, id, t + hs + 8 * SC_MS);
		} else {
			sc_active_close(s, &e, id, t + hs + 8 * SC_MS);
		}
	}
}

int main(int argc, char **argv)
{
	struct ts_capw_opts o = { 0 };
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct ts_scen s = { 0 };
	uint64_t n = 0;
	int err;

	if (argc == 3 && !strcmp(argv[1], "gallery")) {
		o.path = argv[2];
	} else if (argc == 4 && !strcmp(argv[1], "many") && sscanf(argv[2], "%" SCNu64, &n) == 1) {
		o.path = argv[3];
	} else {
		fprintf(stderr, "usage: mkcap gallery FILE | mkcap many N FILE\n");
		return 2;
	}
	o.force = true;
	o.chunk_raw = 65536; /* many chunks: damage can cut between them */
	ts_cap_header_init(&h, argc, argv, NULL);
	h.start_mono_ns = 0;
	err = ts_capw__open(&o, &h, NULL, 0, &w);
	if (err) {
		fprintf(stderr, "mkcap: cannot write %s: %s\n", o.path, strerror(-err));
		return 1;
	}
	if (!n) {
		ts_scen_gallery(&s, 100, 10 * SC_MS);
		for (size_t i = 0; !err && i < s.n; i++)
			err = ts_capw__add(w, &s.r[i]);
	}
	for (uint64_t b = 0; !err && b * 1000 < n; b++) {
		s.n = 0;
		many_batch(&s, b * 1000, n - b * 1000 < 1000 ? n - b * 1000 : 1000);
		ts_scen_sort(&s);
		for (size_t i = 0; !err && i < s.n; i++)
			err = ts_capw__add(w, &s.r[i]);
	}
	if (!err)
		err = ts_capw__finish(w);
	ts_capw__free(w);
	ts_scen_free(&s);
	if (err) {
		fprintf(stderr, "mkcap: writing %s failed: %s\n", o.path, strerror(-err));
		return 1;
	}
	return 0;
}
