/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one escaping of untrusted strings (process names from the kernel,
 * strings read from capture files) on their way to a terminal or a JSON
 * document.  Every text sink and every message that carries such a string
 * goes through ts_escape(); the JSON writer goes through ts_utf8_seq().
 *
 * Terminal text: printable ASCII and well-formed UTF-8 of U+00A0 and above
 * pass unchanged; a backslash becomes "\\"; every other byte (C0 and C1
 * controls, DEL, ESC, bytes that are not well-formed UTF-8) becomes "\xNN".
 * No byte that a terminal could act on gets through.
 */
#ifndef TS_ESCAPE_H
#define TS_ESCAPE_H

#include <stddef.h>

/* Worst case of ts_escape() for n input bytes, NUL included. */
#define TS_ESC_LEN(n) (4 * (n) + 1)

/*
 * Escape the NUL-terminated src into buf (always NUL-terminated; an
 * escape sequence is never cut in half).  Returns buf.
 */
const char *ts_escape(char *buf, size_t len, const char *src);

/*
 * Length (1..4) of the well-formed UTF-8 sequence at p (at most n bytes),
 * or 0 when p does not start one (a stray continuation byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, a cut sequence).
 */
size_t ts_utf8_seq(const unsigned char *p, size_t n);

#endif
