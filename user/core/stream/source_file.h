/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The file source: replays a capture into the same pipeline live tracing
 * feeds.  Nothing past it knows where the records came from.
 */
#ifndef TS_SOURCE_FILE_H
#define TS_SOURCE_FILE_H

#include "core/capfile/capfile.h"
#include "core/stream/pipeline.h"

/* The run's metadata as the recording saw it (wall-clock offset). */
void ts_source_file__meta(const struct ts_capr *r, struct ts_meta *m);
/*
 * Push every record up to the end or the first damage (the caller asks
 * ts_capr_status), flushing the sinks now and then.  Returns 0, or the
 * first sink error or allocation failure as a negative errno.
 */
int ts_source_file__run(struct ts_capr *r, struct ts_pipeline *p);

#endif
