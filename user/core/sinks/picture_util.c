// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <string.h>
#include "core/sinks/pictures.h"
#include "core/sinks/picture_util.h"
#include "core/stream/record.h"

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if none. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
			       (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

const char *ts_pic_escape(char *buf, size_t len, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = 0;

	if (!len)
		return buf;
	while (*p) {
		size_t k = utf8_len(p);
		char tmp[8];
		size_t tl;

		if (k == 1 && *p >= 0x20 && *p < 0x7f && *p != '\\') {
			tmp[0] = (char)*p;
			tl = 1;
		} else if (*p == '\\') {
			memcpy(tmp, "\\\\", 2);
			tl = 2;
		} else if (k > 1 && !(k == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			memcpy(tmp, p, k);
			tl = k;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			tl = 4;
			k = 1;
		}
		if (n + tl >= len)
			break;
		memcpy(buf + n, tmp, tl);
		n += tl;
		p += k ? k : 1;
	}
	buf[n] = '\0';
	return buf;
}

void ts_pic_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t k = utf8_len(p);

		if (k > 1) {
			fwrite(p, 1, k, f);
			p += k;
			continue;
		}
		if (k == 1 && *p >= 0x20 && *p != '"' && *p != '\\' && *p != '<' &&
		    *p != '>' && *p != '&' && *p != 0x7f)
			fputc(*p, f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fprintf(f, "\\u%04x", *p);
		p++;
	}
	fputc('"', f);
}

const char *ts_pic_mark_name(unsigned int rec_type)
{
	switch (rec_type) {
	case TS_REC_RETRANS:
		return "retransmit";
	case TS_REC_SYNACK_RETRANS:
		return "SYN-ACK retransmit";
	case TS_REC_RESET_SENT:
		return "RST sent";
	case TS_REC_RESET_RECV:
		return "RST received";
	default:
		return "drop";
	}
}

void ts_sink_picture__note_damage(struct ts_sink *s, const char *msg)
{
	ts_sink_diagram__note_damage(s, msg);
	ts_sink_html__note_damage(s, msg);
	ts_sink_perfetto__note_damage(s, msg);
}
