// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the picture sinks: any capture, damaged or not, goes
 * through the tracker into the diagram (ASCII or Unicode), the HTML page
 * (a few rows, so that the heap and the aggregated row both work) and the
 * Perfetto trace, and must end without a crash or a sanitizer report.
 * Inputs are the ones fuzz_capfile takes (a mode byte, then a file); the
 * mode byte's low bit picks the diagram's characters.
 */
#include <stdio.h>
#include <stdlib.h>
#include "core/capfile/capfile.h"
#include "core/sinks/pictures.h"
#include "core/stream/pipeline.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_diagram_opts dopts = { 0 };
	struct ts_html_opts hopts = { .max_conns = 4, .title = "fuzz" };
	struct ts_tracker_opts to = { .max_conns = 64 };
	struct ts_meta meta = { 0 };
	struct ts_capr *r = NULL;
	struct ts_pipeline p;
	struct ts_sink s;
	struct ts_rec rec;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (size < 1)
		return 0;
	dopts.unicode = data[0] & 1;
	if (ts_capr__open_mem(data + 1, size - 1, &r)) {
		ts_capr__close(r);
		return 0;
	}
	meta.wall_offset_ns = ts_capr__header(r)->wall_offset_ns;
	ts_pipeline__init(&p, NULL, &meta);
	if (ts_pipeline__track(&p, &to) ||
	    ts_sink_diagram__new(&s, devnull, &meta, &dopts) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_html__new(&s, devnull, &meta, &hopts) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_perfetto__new(&s, devnull, &meta) || ts_pipeline__add_sink(&p, s))
		abort();
	while (ts_capr__next(r, &rec) == 1)
		ts_pipeline__push(&p, &rec);
	ts_pipeline__flush(&p);
	if (ts_capr__status(r) != TS_CAPR_OK)
		for (int i = 0; i < p.nsinks; i++)
			ts_sink_picture__note_damage(&p.sinks[i], ts_capr__error(r));
	ts_pipeline__finish(&p);
	ts_pipeline__free(&p);
	ts_capr__close(r);
	return 0;
}
