/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the picture sinks share: escaping of capture strings, and the
 * per-sink hooks behind ts_sink_picture__note_damage. */
#ifndef TS_PICTURE_UTIL_H
#define TS_PICTURE_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include "core/stream/pipeline.h"

#define TS_PIC_ESC_LEN(n) (4 * (n) + 1)

/*
 * Terminal text: printable ASCII and well-formed UTF-8 (U+00A0 and up)
 * pass, a backslash doubles, every other byte becomes \xNN.
 */
const char *ts_pic_escape(char *buf, size_t len, const char *src);

/*
 * s as a JSON string literal that is also safe inside an HTML <script>
 * element: '<', '>' and '&' as \u00XX (no "</script>" can appear), control
 * characters escaped, bytes that are not well-formed UTF-8 as \u00XX.
 */
void ts_pic_json_str(FILE *f, const char *s);

/* What a mark (struct ts_mark) of this record type is called in the
 * page and the trace: "retransmit", "RST sent", ... ; "drop" otherwise. */
const char *ts_pic_mark_name(unsigned int rec_type);

void ts_sink_diagram__note_damage(struct ts_sink *s, const char *msg);
void ts_sink_html__note_damage(struct ts_sink *s, const char *msg);
void ts_sink_perfetto__note_damage(struct ts_sink *s, const char *msg);

#endif
