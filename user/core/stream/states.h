/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* TCP state names as netstat prints them, and the protocol step each
 * transition stands for (RFC 793, section 3.5 and figure 6). */
#ifndef TS_STATES_H
#define TS_STATES_H

#include <stdbool.h>
#include <stdint.h>

bool ts_state_valid(unsigned int state);
/* "ESTABLISHED", "SYN_SENT", ... ; "UNKNOWN" for anything else. */
const char *ts_state_name(unsigned int state);
/* Parse a netstat state name (case-insensitive, '-' or '_'); -1 if none. */
int ts_state_parse(const char *name);
/* The protocol step of old -> new without a record's evidence, e.g.
 * "SYN sent"; never empty (see step_label.h). */
const char *ts_step_label(unsigned int old_state, unsigned int new_state);

#endif
