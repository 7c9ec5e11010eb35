/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capture sink: a pipeline sink that writes every record it is given
 * to a capture file (record -w, trace -w).
 */
#ifndef TS_SINK_CAPTURE_H
#define TS_SINK_CAPTURE_H

#include "core/capfile/capfile.h"
#include "core/stream/pipeline.h"
#include <stdbool.h>

struct ts_capsink;

/*
 * Wrap an open writer (the sink owns it from now on).  *handle stays
 * valid until the pipeline is freed and lets the command ask whether
 * recording had to stop.
 */
int ts_sink_capture__new(struct ts_sink *out, struct ts_capw *w, struct ts_capsink **handle);
/*
 * True once the writer cannot take more (disk full, write error, size
 * limit).  The reason was printed once, as one line, when it happened.
 * NULL-safe: a command without -w asks too.
 */
bool ts_sink_capture__stopped(const struct ts_capsink *s);
/* 0, -EFBIG (size limit: a normal end), or the write error. */
int ts_sink_capture__error(const struct ts_capsink *s);
/* Bytes in the file and records written, valid after finish too. */
uint64_t ts_sink_capture__bytes(const struct ts_capsink *s);
uint64_t ts_sink_capture__events(const struct ts_capsink *s);
/* Records accepted but not written because of a write error. */
uint64_t ts_sink_capture__dropped(const struct ts_capsink *s);

#endif
