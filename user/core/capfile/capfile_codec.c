// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Payload compression of capture files (capfile_codec.h): zlib for the
 * formats 1-3 that files already on disk use, zstd from format 4 on (it
 * compresses and decompresses several times faster at a similar ratio).
 *
 * Decompression never trusts the data about its own length: the output
 * buffer is the frame header's raw length, the data must fill it exactly
 * and end there.  For zstd the payload must be exactly one zstd frame (no
 * skippable frames, nothing after it); its content size field only
 * decides whether it is refused early.
 */
#include "core/capfile/capfile_codec.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

struct ts_capz {
	bool zstd;
	bool enc;
	int level;
	bool z_ready;
	z_stream z;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

static int zstd_new(struct ts_capz *z)
{
	if (!z->level)
		z->level = TS_CAPZ_ZSTD_LEVEL;
	if (z->level < ZSTD_minCLevel() || z->level > ZSTD_maxCLevel())
		return -EINVAL;
	if (!z->enc) {
		z->dctx = ZSTD_createDCtx();
		return z->dctx ? 0 : -ENOMEM;
	}
	z->cctx = ZSTD_createCCtx();
	if (!z->cctx)
		return -ENOMEM;
	/* The frame CRC-32 covers the payload: no zstd checksum on top. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, z->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_contentSizeFlag, 1)))
		return -EINVAL;
	return 0;
}

static int zlib_new(struct ts_capz *z)
{
	int zr;

	if (!z->level)
		z->level = TS_CAPZ_ZLIB_LEVEL;
	if (z->level < 1 || z->level > 9)
		return -EINVAL;
	zr = z->enc ? deflateInit(&z->z, z->level) : inflateInit(&z->z);
	if (zr != Z_OK)
		return -ENOMEM;
	z->z_ready = true;
	return 0;
}

int ts_capz__new(uint32_t version, int level, bool enc, struct ts_capz **out)
{
	struct ts_capz *z = calloc(1, sizeof(*z));
	int err;

	*out = NULL;
	if (!z)
		return -ENOMEM;
	z->zstd = version >= TS_CAP_VERSION_ZSTD;
	z->enc = enc;
	z->level = level;
	err = z->zstd ? zstd_new(z) : zlib_new(z);
	if (err) {
		ts_capz__free(z);
		return err;
	}
	*out = z;
	return 0;
}

void ts_capz__free(struct ts_capz *z)
{
	if (!z)
		return;
	if (z->z_ready) {
		if (z->enc)
			deflateEnd(&z->z);
		else
			inflateEnd(&z->z);
	}
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z);
}

size_t ts_capz__bound(struct ts_capz *z, size_t len)
{
	if (z->zstd)
		return ZSTD_compressBound(len);
	return deflateBound(&z->z, (uLong)len);
}

int ts_capz__compress(struct ts_capz *z, void *dst, size_t cap, const void *src, size_t len,
		      size_t *stored)
{
	if (z->zstd) {
		size_t n = ZSTD_compress2(z->cctx, dst, cap, src, len);

		if (ZSTD_isError(n))
			return -EIO;
		*stored = n;
		return 0;
	}
	deflateReset(&z->z);
	z->z.next_in = (Bytef *)src;
	z->z.avail_in = (uInt)len;
	z->z.next_out = dst;
	z->z.avail_out = (uInt)cap;
	if (deflate(&z->z, Z_FINISH) != Z_STREAM_END)
		return -EIO;
	*stored = z->z.total_out;
	return 0;
}

static int zlib_dec(struct ts_capz *z, void *dst, size_t raw, const void *src, size_t stored,
		    const char **why)
{
	int zr;

	inflateReset(&z->z);
	z->z.next_in = (Bytef *)src;
	z->z.avail_in = (uInt)stored;
	z->z.next_out = dst;
	z->z.avail_out = (uInt)raw;
	zr = inflate(&z->z, Z_FINISH);
	if (zr != Z_STREAM_END && z->z.avail_out == 0 && z->z.avail_in)
		return -EOVERFLOW;
	if (zr != Z_STREAM_END || z->z.total_out != raw || z->z.avail_in) {
		*why = zr == Z_STREAM_END ? "length differs from its header"
		       : z->z.msg	  ? z->z.msg
					  : "ends early";
		return -EINVAL;
	}
	return 0;
}

static int zstd_dec(struct ts_capz *z, void *dst, size_t raw, const void *src, size_t stored,
		    const char **why)
{
	const uint8_t *p = src;
	size_t flen, n;

	/* One zstd frame, not a skippable one, and nothing after it. */
	if (stored < 4 ||
	    (p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24) != ZSTD_MAGICNUMBER) {
		*why = "not a zstd frame";
		return -EINVAL;
	}
	flen = ZSTD_findFrameCompressedSize(src, stored);
	if (ZSTD_isError(flen)) {
		*why = ZSTD_getErrorName(flen);
		return -EINVAL;
	}
	if (flen != stored) {
		*why = "data after the zstd frame";
		return -EINVAL;
	}
	n = ZSTD_decompressDCtx(z->dctx, dst, raw, src, stored);
	if (ZSTD_isError(n)) {
		if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			return -EOVERFLOW;
		*why = ZSTD_getErrorName(n);
		return -EINVAL;
	}
	if (n != raw) {
		*why = "length differs from its header";
		return -EINVAL;
	}
	return 0;
}

int ts_capz__decompress(struct ts_capz *z, void *dst, size_t raw, const void *src, size_t stored,
			const char **why)
{
	*why = "";
	return z->zstd ? zstd_dec(z, dst, raw, src, stored, why)
		       : zlib_dec(z, dst, raw, src, stored, why);
}

const char *ts_capz__verb(const struct ts_capz *z)
{
	return z->zstd ? "decompress" : "inflate";
}

const char *ts_capz__verbs(const struct ts_capz *z)
{
	return z->zstd ? "decompresses" : "inflates";
}
