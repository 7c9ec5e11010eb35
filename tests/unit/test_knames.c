// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel names (drop and reset reasons, kallsyms functions), the drop
 * record's decoding, its description, its join to a connection by cookie
 * or by addresses, reset reasons given or inferred, and the capture's
 * round trip of drops and reset reasons with their names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "check.h"
#include "core/capfile/capfile.h"
#include "core/capfile/capfile_int.h"
#include "core/stream/knames.h"
#include "core/stream/record.h"
#include "core/stream/tracker.h"

static void test_tables(void)
{
	struct ts_knames *k = NULL;

	CHECK_INT(ts_knames__new(&k), 0);
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, 12, "NETFILTER_DROP"), 0);
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, 3, "NO_SOCKET"), 0);
	CHECK_INT(ts_knames__set(k, TS_KN_RST, 1, "NO_SOCKET"), 0);
	CHECK_STR(ts_knames__get(k, TS_KN_DROP, 12), "NETFILTER_DROP");
	CHECK(ts_knames__get(k, TS_KN_DROP, 4) == NULL);
	CHECK(ts_knames__get(k, TS_KN_DROP, 13) == NULL);
	CHECK(ts_knames__get(k, TS_KN_RST, 12) == NULL);
	CHECK_INT(ts_knames__count(k, TS_KN_DROP), 13);
	/* Untrusted names: no escapes, no blanks, bounded; values bounded. */
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, 5, "A\x1b[31m"), -EINVAL);
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, 5, "A B"), -EINVAL);
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, 5, ""), -EINVAL);
	CHECK_INT(ts_knames__set(k, TS_KN_DROP, TS_KNAME_VALUES, "X"), -EINVAL);
	CHECK_INT(ts_knames__set(k, TS_KN_KINDS, 1, "X"), -EINVAL);
	CHECK(ts_knames__get(NULL, TS_KN_DROP, 1) == NULL);
	/* Every byte: only [A-Za-z0-9_.$] make a name. */
	for (int c = 0, bad = 0; c < 256; c++) {
		char b = (char)c;
		bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$';

		if (ts_kname_ok(&b, 1) != want && !bad++)
			fprintf(stderr, "ts_kname_ok wrong for byte %d\n", c);
		if (c == 255)
			CHECK_INT(bad, 0);
	}
	ts_knames__free(k);
}

static void test_kallsyms(void)
{
	struct ts_knames *k = NULL;
	const char *s;
	uint32_t off;
	FILE *f = fopen(TS_TEST_DATA "/kallsyms_sample.txt", "r");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(ts_knames__new(&k), 0);
	/* Text symbols with an address and a clean name: 7 of the lines. */
	CHECK_INT(ts_knames__read_kallsyms(k, f), 7);
	fclose(f);
	s = ts_knames__sym(k, 0xffffffff81c0009aull, &off);
	CHECK_STR(s, "nf_hook_slow");
	CHECK_INT(off, 0x9a);
	/* The name with an escape was refused: the address is nf_hook_slow's. */
	s = ts_knames__sym(k, 0xffffffff81c00400ull, &off);
	CHECK_STR(s, "nf_hook_slow");
	CHECK_INT(off, 0x400);
	s = ts_knames__sym(k, 0xffffffff81a00100ull, &off);
	CHECK_STR(s, "tcp_v4_rcv");
	CHECK_INT(off, 0);
	s = ts_knames__sym(k, 0xffffffff81a000ffull, &off);
	CHECK_STR(s, "ip_rcv");
	/* Two names at one address: the first in name order. */
	s = ts_knames__sym(k, 0xffffffff81000010ull, &off);
	CHECK_STR(s, "_stext");
	s = ts_knames__sym(k, 0xffffffff81d00001ull, &off);
	CHECK_STR(s, "tcp_rcv_state_process.cold");
	CHECK(ts_knames__sym(k, 0xffffffff80000000ull, &off) == NULL);
	CHECK(ts_knames__sym(k, 0xffffffff81f00000ull + (1u << 25), &off) == NULL);
	s = ts_knames__sym(k, 0xffffffff81f00010ull, &off);
	CHECK_STR(s, "tcp_drop_reason");
	ts_knames__free(k);
}

static struct ts_drop sample_drop(void)
{
	struct ts_drop d = {
		.type = TS_REC_DROP,
		.family = 4,
		.dir = TS_DROP_IN,
		.tcp_flags = 0x18,
		.sport = 8080,
		.dport = 40000,
		.netns = 4026531840u,
		.reason = 12,
		.ts_ns = 5000000,
		.conn = 0,
		.location = 0xffffffff81c0009aull,
		.seq = 1001,
		.ack = 77,
		.len = 1000,
		.state = 0,
		.has_base = 1,
		.seq_base = 1000,
	};

	d.saddr[0] = 198, d.saddr[1] = 18, d.saddr[3] = 2;
	d.daddr[0] = 198, d.daddr[1] = 18, d.daddr[3] = 1;
	return d;
}

/*
 * The kallsyms reader before it was rewritten (fgets and sscanf per line,
 * a name at a time through ts_knames__add_sym), kept as the reference the
 * hand parser must agree with.
 */
static int ref_read_kallsyms(struct ts_knames *k, FILE *f)
{
	char line[512];
	int err = 0;

	while (fgets(line, sizeof(line), f)) {
		char type, name[TS_KNAME_MAX + 2];
		unsigned long long addr;
		size_t len = strlen(line);

		if (len && line[len - 1] != '\n' && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (sscanf(line, "%llx %c %128s", &addr, &type, name) != 3)
			continue;
		if ((type != 't' && type != 'T') || !addr)
			continue;
		err = ts_knames__add_sym(k, addr, name);
		if (err == -EINVAL) {
			err = 0;
			continue;
		}
		if (err)
			break;
	}
	ts_knames__sort(k);
	return err ? err : (int)ts_knames__sym_count(k);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void gen_name(char *buf, size_t len)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz_0123456789.$ABCXYZ";

	for (size_t i = 0; i < len; i++)
		buf[i] = cs[rng(sizeof(cs) - 1)];
	buf[len] = '\0';
}

/*
 * A kallsyms-like file: the kernel's functions in address order with
 * aliases and data between them, then "modules" out of order, and every
 * kind of line the reader must leave out or survive.  The addresses are
 * what the kernel writes (16 hex digits); the old parser also took a sign,
 * a 0x prefix and over-long numbers, which the kernel never writes.
 */
static void gen_kallsyms(FILE *f)
{
	static const char types[] = "tTtTtTdDbBrRWwUuAaVv";
	uint64_t addr = 0xffffffff81000000ull;
	char name[600];

	for (int i = 0; i < 30000; i++) {
		char type = types[rng(sizeof(types) - 1)];
		int kind = rng(100);

		addr += rng(4) ? rng(4096) : 0; /* a quarter: an alias */
		gen_name(name, 1 + rng(40));
		if (kind < 70) {
			fprintf(f, "%016llx %c %s\n", (unsigned long long)addr, type, name);
		} else if (kind < 75) { /* a module, out of order, tab before it */
			fprintf(f, "%016llx %c %s\t[mod%u]\n",
				0xffffffffc0000000ull + rng(1u << 24), type, name, rng(9));
		} else if (kind < 77) { /* hidden address (kptr_restrict) */
			fprintf(f, "%016llx %c %s\n", 0ull, type, name);
		} else if (kind < 79) { /* names at and past the limit */
			gen_name(name, TS_KNAME_MAX - 1 + rng(4));
			fprintf(f, "%016llx %c %s\n", (unsigned long long)addr, type, name);
		} else if (kind < 81) { /* a name we do not print */
			name[rng((uint32_t)strlen(name))] = "\x1b[-/\x7f\xc3"[rng(6)];
			fprintf(f, "%016llx %c %s\n", (unsigned long long)addr, type, name);
		} else if (kind < 83) { /* lines around the 511-byte limit */
			int pad = 460 + (int)rng(60);

			fprintf(f, "%016llx %c %s%*s[m]\n", (unsigned long long)addr, type,
				name, pad, "");
		} else if (kind < 85) { /* odd blanks: leading, tabs, CR */
			fprintf(f, "%s%016llx\t%c\t%s\r\n", rng(2) ? "  " : "",
				(unsigned long long)addr, type, name);
		} else if (kind < 87) { /* short addresses */
			fprintf(f, "%llx %c %s\n", (unsigned long long)(addr & 0xffffff),
				type, name);
		} else if (kind < 89) { /* an exact duplicate */
			fprintf(f, "%016llx %c %s\n%016llx %c %s\n", (unsigned long long)addr,
				type, name, (unsigned long long)addr, type, name);
		} else if (kind < 95) { /* garbage */
			static const char *const bad[] = {
				"", " ", "garbage line", "ffffffff81000000",
				"ffffffff81000000 T", "ffffffff81000000 T ", "xyz T name",
				"ffffffff8100000g T name", "\t\t", "T name",
			};
			fprintf(f, "%s\n", bad[rng(sizeof(bad) / sizeof(bad[0]))]);
		} else { /* no blank between address and type */
			fprintf(f, "%016llx%c %s\n", (unsigned long long)addr,
				rng(2) ? 't' : 'T', name);
		}
		if (i == 15000) { /* a line longer than any buffer */
			fprintf(f, "%016llx T ", (unsigned long long)addr);
			for (int j = 0; j < 300000; j++)
				fputc('x', f);
			fputc('\n', f);
		}
	}
	/* The last line without its newline. */
	fprintf(f, "%016llx T last_function", (unsigned long long)addr + 16);
}

static void check_same_syms(const struct ts_knames *a, const struct ts_knames *b)
{
	size_t n = ts_knames__sym_count(a), bad = 0;

	CHECK_INT(ts_knames__sym_count(b), n);
	for (size_t i = 0; i < n && i < ts_knames__sym_count(b); i++) {
		uint64_t x = 0, y = 0;
		const char *p = ts_knames__sym_nth(a, i, &x), *q = ts_knames__sym_nth(b, i, &y);

		if (x != y || !p || !q || strcmp(p, q)) {
			if (!bad++)
				fprintf(stderr, "symbol %zu: %llx %s != %llx %s\n", i,
					(unsigned long long)x, p ? p : "-",
					(unsigned long long)y, q ? q : "-");
		}
	}
	CHECK_INT(bad, 0);
}

/* A private copy of path (a temporary file), or NULL. */
static FILE *copy_of(const char *path)
{
	FILE *in = fopen(path, "re"), *out = in ? tmpfile() : NULL;
	char buf[65536];
	size_t n;

	if (!out) {
		if (in)
			fclose(in);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return out;
}

/* Both parsers read f from its start; they agree.  The count. */
static int read_both(FILE *f, struct ts_knames *ref, struct ts_knames *k)
{
	int n;

	rewind(f);
	n = ref_read_kallsyms(ref, f);
	rewind(f);
	CHECK_INT(ts_knames__read_kallsyms(k, f), n);
	check_same_syms(ref, k);
	return n;
}

/* The hand parser against the old one: on a generated file of 1.5 MB (its
 * lines cross the reader's 128 KiB chunks; one line is longer than a
 * chunk) and on this machine's /proc/kallsyms. */
static void test_kallsyms_same(void)
{
	struct ts_knames *k = NULL, *ref = NULL;
	FILE *f = tmpfile();
	int n;

	CHECK(f != NULL);
	if (!f)
		return;
	gen_kallsyms(f);
	CHECK_INT(ts_knames__new(&k), 0);
	CHECK_INT(ts_knames__new(&ref), 0);
	n = read_both(f, ref, k);
	CHECK(n > 5000); /* some 9 000 of the 30 000 lines */
	/* Lookups: each function's own address and one inside it. */
	for (size_t i = 0; i < ts_knames__sym_count(ref); i += 97) {
		uint64_t addr;
		uint32_t o1, o2;

		ts_knames__sym_nth(ref, i, &addr);
		CHECK_STR(ts_knames__sym(k, addr + 3, &o2), ts_knames__sym(ref, addr + 3, &o1));
		CHECK_INT(o1, o2);
	}
	/* Read again: what was read before is replaced. */
	rewind(f);
	CHECK_INT(ts_knames__read_kallsyms(k, f), n);
	check_same_syms(ref, k);
	fclose(f);
	ts_knames__free(ref);
	ts_knames__free(k);

	/* The running kernel's (all zero addresses unless root: 0 each),
	 * copied once: BPF programs that load or go between two reads of
	 * /proc/kallsyms would make the parsers see two different files. */
	f = copy_of("/proc/kallsyms");
	if (!f)
		return;
	CHECK_INT(ts_knames__new(&k), 0);
	CHECK_INT(ts_knames__new(&ref), 0);
	read_both(f, ref, k);
	fclose(f);
	ts_knames__free(ref);
	ts_knames__free(k);
}

static void test_decode_drop(void)
{
	struct ts_drop d = sample_drop();
	struct ts_rec r;

	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), 0);
	CHECK_INT(r.type, TS_REC_DROP);
	CHECK_INT(r.sport, 8080);
	CHECK_INT(r.drop.reason, 12);
	CHECK_INT(r.drop.seq, 1001);
	CHECK_INT(r.drop.len, 1000);
	CHECK_INT(r.drop.dir, TS_DROP_IN);
	CHECK(r.drop.location == 0xffffffff81c0009aull);
	CHECK_INT(r.new_state, 0);
	CHECK(r.drop.has_base);
	CHECK_INT(r.drop.seq_base, 1000);
	CHECK_STR(ts_rec_type_name(r.type), "drop");
	CHECK_INT(ts_rec_decode(&d, sizeof(d) - 1, &r), -EINVAL);
	d.dir = 3;
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), -EINVAL);
	d = sample_drop();
	d.family = 5;
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), -EINVAL);
	d = sample_drop();
	d.state = 13;
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), -EINVAL);
}

static void test_describe(void)
{
	char buf[256];

	ts_drop_describe(buf, sizeof(buf), TS_DROP_IN, 0x18, 1001, 1000, true, 1000,
			 "NETFILTER_DROP", 12, "nf_hook_slow");
	CHECK_STR(buf, "incoming data 1:1001 NETFILTER_DROP (nf_hook_slow)");
	ts_drop_describe(buf, sizeof(buf), TS_DROP_IN, 0x02, 4000000000u, 0, false, 0,
			 NULL, 3, NULL);
	CHECK_STR(buf, "incoming SYN seq 4000000000 reason#3");
	ts_drop_describe(buf, sizeof(buf), TS_DROP_OUT, 0x12, 5, 0, false, 0, "X", 1, "f");
	CHECK_STR(buf, "outgoing SYN-ACK seq 5 X (f)");
	CHECK_STR(ts_tcp_seg_kind(0x11, 0), "FIN");
	CHECK_STR(ts_tcp_seg_kind(0x14, 0), "RST");
	CHECK_STR(ts_tcp_seg_kind(0x10, 0), "ACK");
	/* Sequence numbers wrap as TCP's do. */
	ts_drop_describe(buf, sizeof(buf), TS_DROP_IN, 0x18, 10, 100, true, 4294967290u,
			 "R", 1, NULL);
	CHECK_STR(buf, "incoming data 16:116 R");
}

static int ncaught;
static struct ts_conn caught[8];

static int catch_conn(void *ctx, const struct ts_conn *c)
{
	(void)ctx;
	if (ncaught < 8)
		caught[ncaught++] = *c;
	return 0;
}

static struct ts_rec state_rec(uint64_t conn, uint64_t ts, int from, int to)
{
	struct ts_rec r = {
		.type = TS_REC_STATE, .family = 4, .old_state = (uint8_t)from,
		.new_state = (uint8_t)to, .sport = 8080, .dport = 40000,
		.netns = 4026531840u, .ts_ns = ts, .conn = conn,
	};

	r.saddr[0] = 198, r.saddr[1] = 18, r.saddr[3] = 2;
	r.daddr[0] = 198, r.daddr[1] = 18, r.daddr[3] = 1;
	return r;
}

static void test_tracker_join(void)
{
	struct ts_tracker_opts o = { .max_conns = 16 };
	struct ts_tracker *t = NULL;
	struct ts_tracker_stats st;
	struct ts_drop d = sample_drop();
	struct ts_rec r;

	CHECK_INT(ts_tracker__new(&o, catch_conn, NULL, &t), 0);
	r = state_rec(77, 1000000, TS_LISTEN, TS_SYN_RECV);
	ts_tracker__push(t, &r);
	r = state_rec(77, 2000000, TS_SYN_RECV, TS_ESTABLISHED);
	ts_tracker__push(t, &r);
	/* No socket named: joined by addresses. */
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), 0);
	r.reason_name = "NETFILTER_DROP";
	r.where = "nf_hook_slow";
	ts_tracker__push(t, &r);
	/* By cookie. */
	d.conn = 77;
	d.ts_ns = 6000000;
	d.state = TS_ESTABLISHED;
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), 0);
	ts_tracker__push(t, &r);
	/* Another flow: never a new connection, only counted. */
	d = sample_drop();
	d.dport = 40001;
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), 0);
	ts_tracker__push(t, &r);
	d.conn = 999; /* an unknown cookie, no tuple match either */
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &r), 0);
	ts_tracker__push(t, &r);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.live, 1);
	CHECK_INT(st.drops_unattributed, 2);
	r = state_rec(77, 7000000, TS_ESTABLISHED, TS_CLOSE);
	ts_tracker__push(t, &r);
	ts_tracker__finish(t);
	CHECK_INT(ncaught, 1);
	CHECK_INT(caught[0].drops_total, 2);
	CHECK_INT(caught[0].ndrops, 2);
	CHECK(caught[0].drops[0].by_tuple);
	CHECK(!caught[0].drops[1].by_tuple);
	CHECK_STR(caught[0].drops[0].reason_name, "NETFILTER_DROP");
	CHECK_STR(caught[0].drops[0].where, "nf_hook_slow");
	CHECK_INT(caught[0].drops[1].state, TS_ESTABLISHED);
	ts_tracker__free(t);
}

static void test_rst_why(void)
{
	struct ts_rec r = { .type = TS_REC_RESET_SENT, .new_state = TS_CLOSE };
	struct ts_rst_why w;

	w = ts_rst_why_of(&r);
	CHECK(w.name == NULL);
	r.rst_hint = TS_RST_NO_SOCKET;
	w = ts_rst_why_of(&r);
	CHECK_STR(w.name, "no socket");
	CHECK(w.inferred);
	r.rst_hint = TS_RST_UNREAD | TS_RST_LINGER0;
	CHECK_STR(ts_rst_why_of(&r).name, "unread data at close");
	r.rst_hint = TS_RST_LINGER0;
	CHECK_STR(ts_rst_why_of(&r).name, "SO_LINGER 0");
	/* The kernel's word wins. */
	r.reason_name = "TCP_ABORT_ON_CLOSE";
	w = ts_rst_why_of(&r);
	CHECK_STR(w.name, "TCP_ABORT_ON_CLOSE");
	CHECK(!w.inferred);
	r = (struct ts_rec){ .type = TS_REC_RESET_RECV, .new_state = TS_SYN_SENT };
	CHECK_STR(ts_rst_why_of(&r).name, "connection refused");
	r.new_state = TS_ESTABLISHED;
	CHECK(ts_rst_why_of(&r).name == NULL);
}

/* Drops, a reset with its reason and a suppressed count survive a capture. */
static void test_capture(void)
{
	struct ts_capw_opts o = { .path = "test", .chunk_raw = 65536 };
	char *argv[] = { "tcpscope", "record" };
	struct ts_filter f = {};
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct ts_capr *rd = NULL;
	struct ts_drop d = sample_drop();
	struct ts_rec in[3], out;
	char longname[200];
	int fd = memfd_create("cap", 0), n = 0;
	off_t len;
	uint8_t *p;

	CHECK_INT(ts_rec_decode(&d, sizeof(d), &in[0]), 0);
	in[0].reason_name = "NETFILTER_DROP";
	in[0].where = "nf_hook_slow";
	in[0].where_off = 0x9a;
	in[1] = state_rec(5, 6000000, TS_ESTABLISHED, TS_ESTABLISHED);
	in[1].type = TS_REC_RESET_SENT;
	in[1].rst_reason = 12;
	in[1].rst_hint = TS_RST_UNREAD;
	in[1].reason_name = "TCP_ABORT_ON_CLOSE";
	ts_rec_lost(&in[2], 7000000, 42);
	in[2].type = TS_REC_DROP_SUPPRESSED;
	ts_cap_header_init(&h, 2, argv, &f);
	CHECK_INT(ts_capw__open_fd(dup(fd), &o, &h, NULL, 0, &w), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT(ts_capw__add(w, &in[i]), 0);
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	len = lseek(fd, 0, SEEK_END);
	p = malloc((size_t)len);
	CHECK(pread(fd, p, (size_t)len, 0) == len);
	CHECK_INT(ts_capr__open_mem(p, (size_t)len, &rd), 0);
	while (rd && ts_capr__next(rd, &out) == 1) {
		if (n == 0) {
			CHECK_INT(out.type, TS_REC_DROP);
			CHECK_INT(out.drop.seq, 1001);
			CHECK_INT(out.drop.len, 1000);
			CHECK_INT(out.drop.reason, 12);
			CHECK_INT(out.drop.dir, TS_DROP_IN);
			CHECK_STR(out.reason_name, "NETFILTER_DROP");
			CHECK_STR(out.where, "nf_hook_slow");
			CHECK_INT(out.where_off, 0x9a);
			CHECK(out.drop.has_base);
			CHECK_INT(out.drop.seq_base, 1000);
		} else if (n == 1) {
			CHECK_INT(out.type, TS_REC_RESET_SENT);
			CHECK_INT(out.rst_reason, 12);
			CHECK_INT(out.rst_hint, TS_RST_UNREAD);
			CHECK_STR(out.reason_name, "TCP_ABORT_ON_CLOSE");
		} else {
			CHECK_INT(out.type, TS_REC_DROP_SUPPRESSED);
			CHECK_INT(out.lost, 42);
		}
		n++;
	}
	CHECK_INT(n, 3);
	CHECK_INT(ts_capr__status(rd), TS_CAPR_OK);
	/* Interned names from a capture are checked like the kernel's. */
	memset(longname, 'a', sizeof(longname));
	CHECK(ts_capr__intern_name(rd, (const uint8_t *)"ok_name", 7) != NULL);
	CHECK(ts_capr__intern_name(rd, (const uint8_t *)"bad\x1b", 4) == NULL);
	CHECK(ts_capr__intern_name(rd, (const uint8_t *)longname, sizeof(longname)) == NULL);
	ts_capr__close(rd);
	free(p);
	close(fd);
}

int main(void)
{
	test_tables();
	test_kallsyms();
	test_kallsyms_same();
	test_decode_drop();
	test_describe();
	test_tracker_join();
	test_rst_why();
	test_capture();
	return check_report();
}
