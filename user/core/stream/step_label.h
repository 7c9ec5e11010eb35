/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The protocol step a state record stands for, refined with what the record
 * itself tells (the peer's FIN seen, socket orphaned, sk_err at close):
 * states.c knows only the pair of states.
 */
#ifndef TS_STEP_LABEL_H
#define TS_STEP_LABEL_H

#include "core/stream/record.h"

/* "" for records that are not state changes. */
const char *ts_rec_step_label(const struct ts_rec *r);

#endif
