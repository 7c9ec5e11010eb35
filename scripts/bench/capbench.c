// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture-file benchmark helper (libbpf-free, links tscore):
 *   capbench grow IN OUT N [CODEC [LEVEL]]
 *                            write OUT: IN's records repeated, with fresh
 *                            connection ids and later times, until N;
 *                            CODEC zstd (format 4, the default) or zlib
 *                            (format 3), LEVEL the codec's (0: default);
 *                            prints the writer's cost
 *   capbench read FILE       decode every record (best of 3 runs) and
 *                            print records/s and bytes/record
 * Times are CPU time (user + system) of the process, not wall-clock time.
 *   capbench codecs IN DIR N write N records of IN with zlib 1 and 6 and
 *                            zstd -5, -3, -1, 1, 2, 3 into DIR, read each back;
 *                            prints a Markdown table (best of 5 each)
 */
#include "core/capfile/capfile.h"
#include "core/capfile/capfile_codec.h"
#include "core/util/parse.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* CPU time of this process: on a machine other work shares, the cost
 * stays the codec's, not the scheduler's. */
static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * All of path's records (at least one, else an error); *rd stays open for
 * the caller to close: the records' strings (cgroup paths, kernel names)
 * belong to it.
 */
static int load(const char *path, struct ts_rec **out, size_t *n, struct ts_cap_header *h,
		struct ts_capr **rd)
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
	if (!k) {
		fprintf(stderr, "capbench: %s holds no records\n", path);
		free(v);
		ts_capr__close(r);
		return -ENODATA;
	}
	*rd = r;
	*out = v;
	*n = k;
	return 0;
}

struct grow_res {
	uint64_t records;
	uint64_t bytes;
	double secs;
};

static int grow_once(const struct ts_rec *v, size_t n, const struct ts_cap_header *h,
		     const char *out, uint64_t want, uint32_t version, int level,
		     struct grow_res *res)
{
	struct ts_capw_opts o = {.path = out, .force = true, .level = level, .version = version};
	struct ts_capw *w = NULL;
	uint64_t done = 0, span, conn_step = 0;
	double t0;
	int err;

	span = v[n - 1].ts_ns - v[0].ts_ns + 1000;
	for (size_t i = 0; i < n; i++)
		if (v[i].conn > conn_step)
			conn_step = v[i].conn;
	err = ts_capw__open(&o, h, NULL, 0, &w);
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
	res->secs = now() - t0;
	res->records = done;
	if (err) {
		const char *msg = "";

		if (w)
			ts_capw__error(w, &msg);
		fprintf(stderr, "capbench: %s: %s\n", out, *msg ? msg : strerror(-err));
	} else {
		res->bytes = ts_capw__bytes(w);
	}
	ts_capw__free(w);
	return err;
}

static int grow(const char *in, const char *out, uint64_t want, uint32_t version, int level)
{
	struct ts_cap_header h;
	struct grow_res res;
	struct ts_capr *rd = NULL;
	struct ts_rec *v;
	size_t n;
	int err = load(in, &v, &n, &h, &rd);

	if (err)
		return 1;
	err = grow_once(v, n, &h, out, want, version, level, &res);
	if (!err)
		printf("wrote %llu records with %s level %d: %.0f ns/record, %.2f bytes/record\n",
		       (unsigned long long)res.records,
		       version >= TS_CAP_VERSION_ZSTD ? "zstd" : "zlib",
		       level ? level : version >= TS_CAP_VERSION_ZSTD ? TS_CAPZ_ZSTD_LEVEL
								: TS_CAPZ_ZLIB_LEVEL,
		       res.secs * 1e9 / (double)res.records,
		       (double)res.bytes / (double)res.records);
	free(v);
	ts_capr__close(rd);
	return err ? 1 : 0;
}

/* Best of 3 decodes of path: seconds and records. */
static int read_best(const char *path, double *best, uint64_t *n)
{
	*best = 1e9;
	for (int run = 0; run < 3; run++) {
		struct ts_capr *r = NULL;
		struct ts_rec rec;
		double t0 = now(), dt;
		uint64_t sum = 0;

		*n = 0;
		if (ts_capr__open(path, &r)) {
			fprintf(stderr, "capbench: %s: %s\n", path, r ? ts_capr__error(r) : "");
			ts_capr__close(r);
			return 1;
		}
		while (ts_capr__next(r, &rec) == 1) {
			sum += rec.ts_ns; /* keep the decode from being optimised out */
			(*n)++;
		}
		ts_capr__close(r);
		dt = now() - t0;
		if (dt < *best)
			*best = dt;
		if (sum == 42)
			putchar(' ');
	}
	return 0;
}

static int codecs(const char *in, const char *dir, uint64_t want)
{
	static const struct {
		uint32_t version;
		int level;
	} runs[] = {{3, 1}, {3, 6}, {4, -5}, {4, -3}, {4, -1}, {4, 1}, {4, 2}, {4, 3}};
	struct ts_cap_header h;
	struct ts_capr *rd = NULL;
	struct ts_rec *v;
	size_t n;
	int err = load(in, &v, &n, &h, &rd);

	if (err)
		return 1;
	printf("| codec, level | write ns/record | bytes/record | read M records/s |\n");
	printf("|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const char *name = runs[i].version >= TS_CAP_VERSION_ZSTD ? "zstd" : "zlib";
		double wbest = 1e9, rbest;
		struct grow_res res = {};
		char path[PATH_MAX];
		uint64_t got;

		snprintf(path, sizeof(path), "%s/capbench-%s%d.cap", dir, name, runs[i].level);
		for (int k = 0; k < 5; k++) {
			err = grow_once(v, n, &h, path, want, runs[i].version, runs[i].level, &res);
			if (err)
				break;
			if (res.secs < wbest)
				wbest = res.secs;
		}
		if (err || read_best(path, &rbest, &got))
			break;
		printf("| %s %d | %.0f | %.2f | %.1f |\n", name, runs[i].level,
		       wbest * 1e9 / (double)res.records, (double)res.bytes / (double)res.records,
		       (double)got / rbest / 1e6);
		fflush(stdout);
		unlink(path);
	}
	free(v);
	ts_capr__close(rd);
	return err ? 1 : 0;
}

static int readbench(const char *path)
{
	double best;
	uint64_t n = 0;
	struct stat st;

	if (stat(path, &st)) {
		perror(path);
		return 1;
	}
	if (read_best(path, &best, &n))
		return 1;
	printf("%llu records, %lld bytes, %.2f bytes/record; decode %.3f s = %.2f M records/s\n",
	       (unsigned long long)n, (long long)st.st_size,
	       n ? (double)st.st_size / (double)n : 0.0, best, n / best / 1e6);
	return 0;
}

/* A level: an int in [-100, 22]. */
static int parse_level(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < -100 || v > 22)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t want;

	if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "grow")) {
		uint32_t version = TS_CAP_VERSION;
		int level = 0;

		if (argc >= 6 && !strcmp(argv[5], "zlib"))
			version = 3;
		else if (argc >= 6 && strcmp(argv[5], "zstd"))
			argc = 0; /* usage */
		if (argc && (ts_parse_u64(argv[4], 1, 1ULL << 40, &want) ||
			     (argc == 7 && parse_level(argv[6], &level)))) {
			fprintf(stderr, "capbench: bad count or level\n");
			return 2;
		}
		if (argc)
			return grow(argv[2], argv[3], want, version, level);
	}
	if (argc == 3 && !strcmp(argv[1], "read"))
		return readbench(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "codecs")) {
		if (ts_parse_u64(argv[4], 1, 1ULL << 40, &want)) {
			fprintf(stderr, "capbench: bad count\n");
			return 2;
		}
		return codecs(argv[2], argv[3], want);
	}
	fprintf(stderr, "usage: capbench grow IN OUT N [zstd|zlib [LEVEL]] | capbench read FILE | "
			"capbench codecs IN DIR N\n");
	return 2;
}
