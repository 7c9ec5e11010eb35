/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Names of kernel values that differ from kernel to kernel: drop reasons
 * (enum skb_drop_reason), reset reasons (enum sk_rst_reason) and the
 * functions that kernel addresses fall in (/proc/kallsyms).  A plain
 * table, filled by whoever knows them (user/kernel/knames_btf.c from the
 * running kernel's BTF; a capture's reader from the names stored in it)
 * and read by the source that names its records.  No libbpf here.
 *
 * Every name is checked on the way in: at most TS_KNAME_MAX bytes of
 * [A-Za-z0-9_.$], else it is refused; tables are bounded.
 */
#ifndef TS_KNAMES_H
#define TS_KNAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/stream/record.h"

#define TS_KNAME_MAX 127	 /* bytes of one name */
#define TS_KNAME_VALUES 4096	 /* enum values kept per table */
#define TS_KSYMS_MAX (1u << 21) /* functions kept from kallsyms */

enum ts_kname_kind {
	TS_KN_DROP = 0, /* enum skb_drop_reason, SKB_DROP_REASON_ stripped */
	TS_KN_RST,	/* enum sk_rst_reason, SK_RST_REASON_ stripped */
	TS_KN_KINDS,
};

struct ts_knames;

int ts_knames__new(struct ts_knames **out);
void ts_knames__free(struct ts_knames *k);

/* Name value of table kind.  0, -EINVAL (bad name or value), -ENOMEM. */
int ts_knames__set(struct ts_knames *k, enum ts_kname_kind kind, uint32_t value,
		   const char *name);
/* The name of value, or NULL. */
const char *ts_knames__get(const struct ts_knames *k, enum ts_kname_kind kind,
			   uint32_t value);
/* Values named in table kind: the highest + 1 (0: empty). */
uint32_t ts_knames__count(const struct ts_knames *k, enum ts_kname_kind kind);

/*
 * Read kallsyms lines ("ADDR TYPE NAME [MODULE]") from f: text symbols
 * (t, T) with a non-zero address and a name ts_kname_ok() takes, at most
 * TS_KSYMS_MAX of them, sorted; a line of more than 510 bytes is left out.
 * Returns the number kept (0 when the file shows no addresses: not root),
 * or a negative errno.  Replaces what was read before.
 */
int ts_knames__read_kallsyms(struct ts_knames *k, FILE *f);
/* Add one function (a capture's stored symbol); call ts_knames__sort after. */
int ts_knames__add_sym(struct ts_knames *k, uint64_t addr, const char *name);
void ts_knames__sort(struct ts_knames *k);
/* Functions held, and the i-th of them (address order once sorted): its
 * name and *addr, or NULL past the end. */
size_t ts_knames__sym_count(const struct ts_knames *k);
const char *ts_knames__sym_nth(const struct ts_knames *k, size_t i, uint64_t *addr);
/* The function holding addr and the offset into it, or NULL. */
const char *ts_knames__sym(const struct ts_knames *k, uint64_t addr, uint32_t *off);

/* Set r's reason_name and where/where_off from the tables (drop and reset
 * records; other records are left alone). */
void ts_knames__name(const struct ts_knames *k, struct ts_rec *r);

/*
 * What a dropped segment was, from its flags and payload: "SYN",
 * "SYN-ACK", "RST", "FIN", "data" or "ACK".
 */
const char *ts_tcp_seg_kind(uint8_t tcp_flags, uint32_t len);
/* "incoming" / "outgoing" (short: "in" / "out"). */
const char *ts_drop_dir_name(uint8_t dir, bool shortname);
/*
 * The drop as the timeline says it, without the time:
 * "incoming data 1:1001 NETFILTER_DROP (nf_hook_slow)".  seq_base is
 * subtracted from the sequence numbers when has_base (relative, as
 * Wireshark shows them); reason_name NULL gives "reason#N".
 */
void ts_drop_describe(char *buf, size_t len, uint8_t dir, uint8_t tcp_flags,
		      uint32_t seq, uint32_t seglen, bool has_base, uint32_t seq_base,
		      const char *reason_name, uint32_t reason, const char *where);

/* A name as the tables accept it: 1..TS_KNAME_MAX of [A-Za-z0-9_.$]. */
bool ts_kname_ok(const char *name, size_t len);

#endif
