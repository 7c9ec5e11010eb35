// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/util/escape.h"
#include <stdbool.h>
#include <string.h>

size_t ts_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned int cp, min;

	if (!n)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1, 0xf5.. */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

const char *ts_escape(char *buf, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;

	if (!len)
		return buf;
	while (n) {
		size_t seq = ts_utf8_seq(p, n);
		/* Two-byte sequences C2 80..C2 9F are the C1 controls. */
		bool plain = (seq == 1 && *p >= 0x20 && *p < 0x7f && *p != '\\') ||
			     (seq == 2 && !(p[0] == 0xc2 && p[1] < 0xa0)) || seq > 2;
		char tmp[4];
		size_t k;

		if (plain) {
			k = seq;
			memcpy(tmp, p, k);
		} else if (*p == '\\') {
			k = 2;
			tmp[0] = tmp[1] = '\\';
			seq = 1;
		} else {
			k = 4;
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[*p >> 4];
			tmp[3] = hex[*p & 0xf];
			seq = 1;
		}
		if (o + k + 1 > len)
			break;
		memcpy(buf + o, tmp, k);
		o += k;
		p += seq;
		n -= seq;
	}
	buf[o] = '\0';
	return buf;
}
