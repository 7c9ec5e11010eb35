/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A very small test harness: CHECK macros and a closing count line. */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

/* xorshift64*: the same sequence on every run from one seed. */
static uint64_t check_rnd_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t check_rnd(void)
{
	check_rnd_state ^= check_rnd_state >> 12;
	check_rnd_state ^= check_rnd_state << 25;
	check_rnd_state ^= check_rnd_state >> 27;
	return check_rnd_state * 0x2545f4914f6cdd1dULL;
}

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (cond) {                                                   \
			check_passed++;                                       \
		} else {                                                      \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                             \
		}                                                             \
	} while (0)

#define CHECK_INT(a, b)                                                       \
	do {                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);           \
		if (_a == _b) {                                               \
			check_passed++;                                       \
		} else {                                                      \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",  \
				__FILE__, __LINE__, #a, _a, _b);              \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *_a = (a), *_b = (b);                              \
		if (_a && _b && !strcmp(_a, _b)) {                            \
			check_passed++;                                       \
		} else {                                                      \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",   \
				_b ? _b : "(null)");                          \
		}                                                             \
	} while (0)

#ifdef TS_TEST_DATA
/* Compare len bytes of buf with tests/data/name; TS_UPDATE_GOLDEN=1
 * rewrites the file instead. */
static inline void check_golden(const char *buf, size_t len, const char *name)
{
	char path[512], *want;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", TS_TEST_DATA, name);
	if (getenv("TS_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fwrite(buf, 1, len, f);
			fclose(f);
		}
		return;
	}
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	want = calloc(1, 1 << 16);
	n = want ? fread(want, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	if (want && n == len && !memcmp(want, buf, len)) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "%s differs; got:\n%.*s", name, (int)len, buf);
	}
	free(want);
}
#endif

/* Closing line in the form CI runners read: "N passed, N failed". */
static inline int check_report(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
