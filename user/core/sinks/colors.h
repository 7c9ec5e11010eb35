/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What each colour means, the same in every text sink: green a handshake
 * completed, cyan a graceful close step, red a reset or a refusal, magenta
 * a timeout or an abandoned connect, yellow a retransmission, bold red
 * lost events and the >1 % retransmission flag.  Only on a terminal, and
 * never with NO_COLOR (the command decides; sinks see ts_meta.color).
 */
#ifndef TS_COLORS_H
#define TS_COLORS_H

#include "core/stream/step_label.h"

#define TS_C_RESET "\033[0m"
#define TS_C_BOLD "\033[1m"
#define TS_C_GREEN "\033[32m"
#define TS_C_CYAN "\033[36m"
#define TS_C_RED "\033[31m"
#define TS_C_MAGENTA "\033[35m"
#define TS_C_YELLOW "\033[33m"
#define TS_C_ALERT "\033[1;31m"

static inline const char *ts_label_color(enum ts_label_class c)
{
	switch (c) {
	case TS_LC_OPEN:
		return TS_C_GREEN;
	case TS_LC_CLOSE:
		return TS_C_CYAN;
	case TS_LC_RESET:
	case TS_LC_REFUSED:
		return TS_C_RED;
	case TS_LC_TIMEOUT:
		return TS_C_MAGENTA;
	default:
		return "";
	}
}

#endif
