/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ctrl-C and SIGTERM end a run cleanly: they only set a flag. */
#ifndef TS_SIGNALS_H
#define TS_SIGNALS_H

#include <stdbool.h>

/* Installs SIGINT/SIGTERM handlers without SA_RESTART (so waits return
 * EINTR) and ignores SIGPIPE (write errors are reported instead). */
void ts_signals_install(void);
bool ts_stop_requested(void);
/* The signal that asked to stop, 0 if none. */
int ts_stop_signal(void);

#endif
