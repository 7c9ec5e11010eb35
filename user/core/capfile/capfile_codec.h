/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The compression of SNAP and CHNK payloads: zlib streams (RFC 1950) in
 * formats 1 to 3, one zstd frame (RFC 8878) from format 4 on.  One object
 * per writer or reader; its zlib stream or zstd context is reused for
 * every frame.
 */
#ifndef TS_CAPFILE_CODEC_H
#define TS_CAPFILE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first format whose payloads are zstd frames. */
#define TS_CAP_VERSION_ZSTD 4
/* Default levels: the cheapest for the recorder (docs/CAPTURE_FORMAT.md). */
#define TS_CAPZ_ZLIB_LEVEL 1
#define TS_CAPZ_ZSTD_LEVEL 1

struct ts_capz;

/*
 * A compressor (enc) or decompressor for the payloads of format version;
 * level 0 is the codec's default.  Returns 0, -EINVAL for a level the
 * codec does not have, or -ENOMEM.
 */
int ts_capz__new(uint32_t version, int level, bool enc, struct ts_capz **out);
void ts_capz__free(struct ts_capz *z);
/* Most bytes len raw bytes may take compressed (a compressor's). */
size_t ts_capz__bound(struct ts_capz *z, size_t len);
/* Compress src into dst (cap >= ts_capz__bound); 0 or -EIO. */
int ts_capz__compress(struct ts_capz *z, void *dst, size_t cap, const void *src, size_t len,
		      size_t *stored);
/*
 * Decompress src into exactly raw bytes at dst, whatever the data says
 * about its own length.  Returns 0; -EOVERFLOW when the data goes on past
 * raw bytes; -EINVAL with *why naming the damage (too short, corrupt, not
 * one frame).
 */
int ts_capz__decompress(struct ts_capz *z, void *dst, size_t raw, const void *src, size_t stored,
			const char **why);
/* "inflate" (zlib) or "decompress" (zstd), for messages. */
const char *ts_capz__verb(const struct ts_capz *z);
/* "inflates" or "decompresses". */
const char *ts_capz__verbs(const struct ts_capz *z);

#endif
