/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Golden-file comparison for the unit tests: the output must equal
 * tests/data/NAME byte for byte; TS_UPDATE_GOLDEN=1 rewrites the file.
 * Include after check.h; the test is built with -DTS_TEST_DATA.
 */
#ifndef TS_GOLDEN_H
#define TS_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static char *golden_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void compare_golden(const char *name, const char *got, size_t len)
{
	char path[512];
	size_t wlen = 0;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", TS_TEST_DATA, name);
	if (getenv("TS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		CHECK(f != NULL);
		if (f) {
			fwrite(got, 1, len, f);
			fclose(f);
		}
		return;
	}
	want = golden_slurp(path, &wlen);
	CHECK(want != NULL);
	if (want && (wlen != len || memcmp(want, got, len))) {
		fprintf(stderr, "%s differs; got:\n%s\n", path, got);
		CHECK(0);
	}
	free(want);
}

#endif
