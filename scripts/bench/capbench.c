// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture-file benchmark helper (libbpf-free, links tscore):
 *   capbench grow IN OUT N [LEVEL]
 *                            write OUT: IN's records repeated, with fresh
 *                            connection ids and later times, until N (zlib
 *                            LEVEL 1..9); prints the writer's cost
 *   capbench read FILE       decode every record (best of 3 runs) and
 *                            print records/s and bytes/record
 */
#include "core/capfile/capfile.h"
#include "core/util/parse.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int load(const char *path, struct ts_rec **out, size_t *n, struct ts_cap_header *h)
{
	struct ts_capr *r = NULL;
	struct ts_rec *v = NULL, rec;
	size_t cap = 0, k = 0;
	int err = ts_capr__open(path, &r);

	if (err) {
		fprintf(stderr, "capbench: %s: %s\n", path, r ? ts_capr__error(r) : strerror(-err));
		ts_capr__close(r);
		return err;
	}
	*h = *ts_capr__header(r);
	while (ts_capr__next(r, &rec) == 1) {
		if (k == cap) {
			struct ts_rec *p;

			cap = cap ? cap * 2 : 4096;
			p = realloc(v, cap * sizeof(*p));
			if (!p) {
				free(v);
				ts_capr__close(r);
				return -ENOMEM;
			}
			v = p;
		}
		v[k++] = rec;
	}
	ts_capr__close(r);
	*out = v;
	*n = k;
	return 0;
}

static int grow(const char *in, const char *out, uint64_t want, int level)
{
	struct ts_capw_opts o = {.path = out, .force = true, .level = level};
	double t0;
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct ts_rec *v;
	uint64_t done = 0, span, conn_step = 0;
	size_t n;
	int err = load(in, &v, &n, &h);

	if (err)
		return 1;
	if (!n) {
		fprintf(stderr, "capbench: %s holds no records\n", in);
		return 1;
	}
	span = v[n - 1].ts_ns - v[0].ts_ns + 1000;
	for (size_t i = 0; i < n; i++)
		if (v[i].conn > conn_step)
			conn_step = v[i].conn;
	err = ts_capw__open(&o, &h, NULL, 0, &w);
	t0 = now();
	for (uint64_t k = 0; !err && done < want; k++)
		for (size_t i = 0; i < n && !err && done < want; i++, done++) {
			struct ts_rec r = v[i];

			r.ts_ns += k * span;
			if (r.type != TS_REC_LOST)
				r.conn += k * conn_step;
			err = ts_capw__add(w, &r);
		}
	if (!err)
		err = ts_capw__finish(w);
	if (!err)
		printf("wrote %llu records at level %d: %.0f ns/record, %.2f bytes/record\n",
		       (unsigned long long)done, level ? level : 1,
		       (now() - t0) * 1e9 / (double)done, (double)ts_capw__bytes(w) / (double)done);
	if (err) {
		const char *msg;

		ts_capw__error(w, &msg);
		fprintf(stderr, "capbench: %s\n", *msg ? msg : strerror(-err));
	}
	ts_capw__free(w);
	free(v);
	return err ? 1 : 0;
}

static int readbench(const char *path)
{
	double best = 1e9;
	uint64_t n = 0;
	struct stat st;

	if (stat(path, &st)) {
		perror(path);
		return 1;
	}
	for (int run = 0; run < 3; run++) {
		struct ts_capr *r = NULL;
		struct ts_rec rec;
		double t0 = now(), dt;
		uint64_t sum = 0;

		n = 0;
		if (ts_capr__open(path, &r)) {
			fprintf(stderr, "capbench: %s: %s\n", path, r ? ts_capr__error(r) : "");
			ts_capr__close(r);
			return 1;
		}
		while (ts_capr__next(r, &rec) == 1) {
			sum += rec.ts_ns; /* keep the decode from being optimised out */
			n++;
		}
		ts_capr__close(r);
		dt = now() - t0;
		if (dt < best)
			best = dt;
		if (sum == 42)
			putchar(' ');
	}
	printf("%llu records, %lld bytes, %.2f bytes/record; decode %.3f s = %.2f M records/s\n",
	       (unsigned long long)n, (long long)st.st_size,
	       n ? (double)st.st_size / (double)n : 0.0, best, n / best / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t want;

	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "grow")) {
		uint64_t level = 0;

		if (ts_parse_u64(argv[4], 1, 1ULL << 40, &want) ||
		    (argc == 6 && ts_parse_u64(argv[5], 1, 9, &level))) {
			fprintf(stderr, "capbench: bad count or level\n");
			return 2;
		}
		return grow(argv[2], argv[3], want, (int)level);
	}
	if (argc == 3 && !strcmp(argv[1], "read"))
		return readbench(argv[2]);
	fprintf(stderr, "usage: capbench grow IN OUT N [LEVEL] | capbench read FILE\n");
	return 2;
}
