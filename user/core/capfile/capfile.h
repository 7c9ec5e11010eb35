/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture files: writer and reader of the format docs/CAPTURE_FORMAT.md
 * describes.  No libbpf, no stdio on the write path (frames go out with
 * write(2) so that a failed write can be undone with ftruncate).
 *
 * The file is a preamble and a sequence of self-checking frames:
 *	preamble | HEAD | SNAP* | CHNK* | TRLR
 * Every frame carries its length and a CRC-32, and a CHNK decodes on its
 * own, so a damaged file is readable up to its first damaged frame.
 */
#ifndef TS_CAPFILE_H
#define TS_CAPFILE_H

#include "core/stream/filter.h"
#include "core/stream/record.h"
#include "core/sock/sock.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 4: SNAP and CHNK payloads are zstd frames (1 to 3: zlib streams);
 * 3: events may carry a detail section (retransmission details, ...);
 * 2: descriptors carry the owner's cgroup (id and path).  1 and 2 still
 * read.
 */
#define TS_CAP_VERSION 4
/* Longest cgroup path a descriptor keeps (a longer one is stored empty). */
#define TS_CAP_MAX_CGROUP 1024
#define TS_CAP_PREAMBLE_LEN 16
#define TS_CAP_FRAME_HDR_LEN 16
/* Upper bounds the reader enforces before allocating anything. */
#define TS_CAP_MAX_HEAD 65536
#define TS_CAP_MAX_RAW (4U << 20)
#define TS_CAP_MAX_STR 4096
/* Sockets in the snapshot of a capture: the writer keeps at most this
 * many, the reader refuses more (memory: about 100 bytes each). */
#define TS_CAP_MAX_SNAP_SOCKS (1 << 18)
/* Raw (inflated) bytes per byte a frame takes in the file (its 16-byte
 * header counted): past it, a zip bomb, refused. */
#define TS_CAP_MAX_RATIO 64
/* Chunks are cut when their raw (uncompressed) size reaches this. */
#define TS_CAP_CHUNK_RAW 1048576

/* What the header says about the recording. */
struct ts_cap_header {
	uint32_t version;
	uint64_t start_mono_ns;	 /* CLOCK_MONOTONIC when recording began */
	int64_t wall_offset_ns;	 /* add to a record's ts_ns for wall clock */
	struct ts_filter filter; /* filters the recorder applied */
	char host[TS_CAP_MAX_STR];
	char kernel[TS_CAP_MAX_STR];
	char cmdline[TS_CAP_MAX_STR]; /* arguments joined with spaces */
};

struct ts_cap_trailer {
	uint64_t events; /* records written (loss records excluded) */
	uint64_t lost;	 /* ring-buffer reservations that failed */
	uint64_t chunks;
	uint64_t end_mono_ns; /* CLOCK_MONOTONIC when recording ended */
	uint64_t unwritten;   /* events a write error kept out of the file */
};

/* ---- writer ---------------------------------------------------------- */

struct ts_capw;

struct ts_capw_opts {
	const char *path;
	bool force;	    /* replace an existing file */
	int level;	    /* zstd level (zlib for version <= 3); 0: the default */
	uint64_t max_bytes; /* stop before the file grows past this; 0 none */
	uint64_t flush_ns;  /* longest time a record waits in memory */
	size_t chunk_raw;   /* 0: TS_CAP_CHUNK_RAW */
	uint32_t version;   /* 0: TS_CAP_VERSION; 1-3: the old layouts, zlib */
};

/*
 * Create the file (mode 0600, O_EXCL) and write the preamble, the header
 * and the snapshot.  With force, an existing regular file of ours is
 * replaced by a new file renamed over it (ts_capw__check_target says
 * what is refused).  Prints nothing; returns 0 or -errno.
 */
int ts_capw__open(const struct ts_capw_opts *o, const struct ts_cap_header *h,
		 const struct ts_sock *socks, size_t nsocks, struct ts_capw **out);
/*
 * May path be written?  0 when it does not exist (or exists, is a regular
 * file of this user and force is set); -EEXIST without force; with force
 * -ELOOP (symlink), -EISDIR, -ESPIPE (FIFO, socket), -ENODEV (device),
 * -EPERM (another user's file).  ts_capw__refusal() words these.
 */
int ts_capw__check_target(const char *path, bool force);
const char *ts_capw__refusal(int err);
/* Same, on a descriptor the caller opened (tests, fuzz corpus). */
int ts_capw__open_fd(int fd, const struct ts_capw_opts *o, const struct ts_cap_header *h,
		    const struct ts_sock *socks, size_t nsocks, struct ts_capw **out);
/*
 * Add one record.  Writes a chunk when the current one is full.  Returns
 * 0, -EFBIG when max_bytes is reached, or -errno of a failed write; after
 * an error the writer accepts nothing more, and the file still ends on a
 * complete frame.
 */
int ts_capw__add(struct ts_capw *w, const struct ts_rec *r);
/* Write the pending chunk if it is older than flush_ns (or if force). */
int ts_capw__flush(struct ts_capw *w, bool force);
/*
 * Write the last chunk and the trailer (counts of what the file holds),
 * and close the file; w stays for the questions below until freed.
 * Returns 0 or the first error of the writer's life (ts_capw__error).
 */
int ts_capw__finish(struct ts_capw *w);
/* Free (closing the file as it stands if not finished).  NULL-safe. */
void ts_capw__free(struct ts_capw *w);
uint64_t ts_capw__bytes(const struct ts_capw *w);
/* Records in the file, or in it once the pending chunk is written. */
uint64_t ts_capw__events(const struct ts_capw *w);
/* Snapshot sockets left out for an impossible family, state or timer. */
uint64_t ts_capw__snapshot_skipped(const struct ts_capw *w);
/* Records offered but not written because of a write error (counted in
 * the trailer too). */
uint64_t ts_capw__dropped(const struct ts_capw *w);
/* First error (negative errno) and a sentence saying what failed. */
int ts_capw__error(const struct ts_capw *w, const char **msg);

/* ---- reader ---------------------------------------------------------- */

struct ts_capr;

enum ts_capr_status {
	TS_CAPR_OK = 0,	     /* complete file with its trailer */
	TS_CAPR_DAMAGED = 1, /* records up to the damage were read */
	TS_CAPR_BAD = 2,     /* nothing usable: not a capture, bad header */
};

/* Open a file (mmap).  On failure *out is still set when the reader could
 * say what is wrong: see ts_capr__error().  Returns 0 or -errno. */
int ts_capr__open(const char *path, struct ts_capr **out);
/* Read from memory the caller keeps alive (fuzzing, tests). */
int ts_capr__open_mem(const void *buf, size_t len, struct ts_capr **out);
const struct ts_cap_header *ts_capr__header(const struct ts_capr *r);
/* The sockets that existed when recording began. */
void ts_capr__snapshot(const struct ts_capr *r, const struct ts_sock **socks, size_t *n);
/*
 * Next record: returns 1 with *out filled, 0 at the end of the records
 * (clean or at the first damage: see ts_capr_status), or -errno for an
 * allocation failure.
 */
int ts_capr__next(struct ts_capr *r, struct ts_rec *out);
enum ts_capr_status ts_capr__status(const struct ts_capr *r);
/* Records of a type this build does not know (format 3), skipped. */
uint64_t ts_capr__skipped(const struct ts_capr *r);
/* What is wrong and at which byte offset ("" when nothing). */
const char *ts_capr__error(const struct ts_capr *r);
/* Is the capture read as a stream (a pipe, stdin), where the next read
 * may wait for the writer, rather than mapped or in memory? */
bool ts_capr__is_stream(const struct ts_capr *r);
/* The trailer, if the file has one. */
bool ts_capr__trailer(const struct ts_capr *r, struct ts_cap_trailer *t);
void ts_capr__close(struct ts_capr *r);

/* ---- helpers shared with tests ----------------------------------------- */

/* Fill host name, kernel release and the clock offsets for "now". */
void ts_cap_header_init(struct ts_cap_header *h, int argc, char **argv, const struct ts_filter *f);

#endif
