/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* TCP state names as netstat prints them (the protocol step each
 * transition stands for is in step_label.h). */
#ifndef TS_STATES_H
#define TS_STATES_H

#include <stdbool.h>
#include <stdint.h>

bool ts_state_valid(unsigned int state);
/* "ESTABLISHED", "SYN_SENT", ... ; "UNKNOWN" for anything else. */
const char *ts_state_name(unsigned int state);
/* Parse a netstat state name (case-insensitive, '-' or '_'); -1 if none. */
int ts_state_parse(const char *name);

#endif
