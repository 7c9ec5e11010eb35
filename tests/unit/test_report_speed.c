// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What 'report' keeps or runs beside its main work, against the same work
 * done plainly: the queue of record batches between the file source's
 * reading thread and the pipeline (order, count, the consumer stopping
 * early), the file source reading ahead against reading in one thread
 * (the same records, status, error and trailer, whole and damaged
 * captures; a sink error stops the run), the text sink's caches
 * (endpoint texts and step labels against formatting each input, slots
 * shared) and the whole text sink over random records against each
 * record written alone (ts_text_write_rec), in both layouts, with and
 * without colour.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check.h"
#include "sinkcheck.h"
#include "core/capfile/capfile.h"
#include "core/sinks/sinks.h"
#include "core/sinks/text_cache.h"
#include "core/stream/pipeline.h"
#include "core/stream/recq.h"
#include "core/stream/source_file.h"
#include "core/stream/step_label.h"
#include "core/util/fmt.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the queue ----------------------------------------------------------- */

struct producer {
	struct ts_recq *q;
	unsigned int batches; /* to send; the last one says so */
	unsigned int sent;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct ts_recq_batch *b;

	while (p->sent < p->batches && (b = ts_recq__fill_begin(p->q))) {
		b->n = 1 + p->sent % TS_RECQ_BATCH;
		for (unsigned int i = 0; i < b->n; i++)
			b->recs[i].conn = (uint64_t)p->sent << 32 | i;
		b->last = p->sent + 1 < p->batches;
		p->sent++;
		ts_recq__fill_end(p->q);
	}
	return NULL;
}

static void test_recq_order(void)
{
	struct producer p = { .batches = 3000 };
	unsigned int got = 0, bad = 0;
	pthread_t t;

	CHECK_INT(ts_recq__new(3, &p.q), 0);
	CHECK_INT(pthread_create(&t, NULL, produce, &p), 0);
	for (;;) {
		struct ts_recq_batch *b = ts_recq__take_begin(p.q);
		int last = b->last;

		bad += b->n != 1 + got % TS_RECQ_BATCH;
		for (unsigned int i = 0; i < b->n; i++)
			bad += b->recs[i].conn != ((uint64_t)got << 32 | i);
		got++;
		ts_recq__take_end(p.q);
		if (last <= 0)
			break;
	}
	pthread_join(t, NULL);
	CHECK_INT(got, 3000);
	CHECK_INT(bad, 0);
	ts_recq__free(p.q);
}

/* The consumer stops after one batch: the producer, blocked on a full
 * queue, gets NULL and ends. */
static void test_recq_cancel(void)
{
	struct producer p = { .batches = 1000000 };
	pthread_t t;

	CHECK_INT(ts_recq__new(2, &p.q), 0);
	CHECK_INT(pthread_create(&t, NULL, produce, &p), 0);
	ts_recq__take_begin(p.q);
	ts_recq__take_end(p.q);
	ts_recq__cancel(p.q);
	pthread_join(t, NULL);
	/* At most the one taken and the two the queue holds. */
	CHECK(p.sent >= 1 && p.sent <= 3);
	ts_recq__free(p.q);
}

/* ---- the file source reading ahead ---------------------------------------- */

/* A sink that keeps every record (and fails at record fail_at if set). */
struct keep {
	struct ts_rec *recs;
	size_t n, cap;
	size_t fail_at;
	unsigned int flushes;
};

static int keep_rec(void *priv, const struct ts_rec *r)
{
	struct keep *k = priv;

	if (k->fail_at && k->n + 1 == k->fail_at)
		return -EPIPE;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 1024;
		k->recs = realloc(k->recs, k->cap * sizeof(*k->recs));
	}
	k->recs[k->n++] = *r;
	return 0;
}

static int keep_flush(void *priv)
{
	((struct keep *)priv)->flushes++;
	return 0;
}

static const struct ts_sink_ops keep_ops = { .name = "keep", .rec = keep_rec,
					     .flush = keep_flush };

static void make_rec(struct ts_rec *r, int i)
{
	static const char *const comms[] = { "nginx", "curl", "a\"b", "\x1b[31m", "\xff\xfe" };

	memset(r, 0, sizeof(*r));
	r->type = i % 50 == 7 ? TS_REC_RETRANS : TS_REC_STATE;
	r->family = i % 3 ? 4 : 6;
	r->conn = 1000 + (uint64_t)i / 5;
	r->old_state = (uint8_t)(1 + i % 11);
	r->new_state = (uint8_t)(1 + (i + 1) % 11);
	r->sport = (uint16_t)(30000 + i / 5);
	r->dport = 80;
	r->pid = 100 + (uint32_t)(i / 5 % 7);
	r->netns = 4026531840u;
	r->saddr[0] = 127, r->saddr[3] = 1;
	r->daddr[0] = 10, r->daddr[3] = (uint8_t)i;
	r->ts_ns = 1000000000ULL + (uint64_t)i * 12345;
	r->ns_in_old = (uint64_t)i * 777;
	strcpy(r->comm, comms[i / 5 % 5]);
}

/* A capture of n records in a memfd; its bytes in *out (malloc'd). */
static size_t write_capture(int n, uint8_t **out)
{
	struct ts_capw_opts o = { .path = "test", .chunk_raw = 4096 };
	char *argv[] = { "tcpscope", "record", "-w", "x.cap" };
	int fd = memfd_create("cap", 0);
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct ts_rec r;
	off_t end;

	ts_cap_header_init(&h, 4, argv, NULL);
	CHECK_INT(ts_capw__open_fd(dup(fd), &o, &h, NULL, 0, &w), 0);
	for (int i = 0; i < n; i++) {
		make_rec(&r, i);
		CHECK_INT(ts_capw__add(w, &r), 0);
	}
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	end = lseek(fd, 0, SEEK_END);
	*out = malloc((size_t)end);
	CHECK(pread(fd, *out, (size_t)end, 0) == end);
	close(fd);
	return (size_t)end;
}

/* Every record of buf read plainly (ts_capr__next), and the reader's end. */
static void read_plain(const uint8_t *buf, size_t len, struct keep *k, int *status,
		       char *err, size_t errlen, uint64_t *end_ns)
{
	struct ts_capr *r = NULL;
	struct ts_cap_trailer t;
	struct ts_rec rec;

	CHECK_INT(ts_capr__open_mem(buf, len, &r), 0);
	while (ts_capr__next(r, &rec) > 0)
		keep_rec(k, &rec);
	*status = ts_capr__status(r);
	snprintf(err, errlen, "%s", ts_capr__error(r));
	*end_ns = ts_capr__trailer(r, &t) ? t.end_mono_ns : 0;
	ts_capr__close(r);
}

/* The file source (reading ahead) against plain reading, over buf. */
static void check_source(const uint8_t *buf, size_t len)
{
	struct keep plain = {}, ahead = {};
	struct ts_pipeline p;
	struct ts_capr *r = NULL;
	char err1[512], err2[512];
	uint64_t end1;
	int st1;

	read_plain(buf, len, &plain, &st1, err1, sizeof(err1), &end1);
	ts_pipeline__init(&p, NULL, NULL);
	CHECK_INT(ts_pipeline__add_sink(&p, (struct ts_sink){ &keep_ops, &ahead }), 0);
	CHECK_INT(ts_capr__open_mem(buf, len, &r), 0);
	CHECK(!ts_capr__is_stream(r));
	CHECK_INT(ts_source_file__run(r, &p), 0);
	snprintf(err2, sizeof(err2), "%s", ts_capr__error(r));
	CHECK_INT(ts_capr__status(r), st1);
	CHECK_STR(err2, err1);
	CHECK_INT(p.totals.end_ns, end1);
	CHECK_INT(ahead.n, plain.n);
	CHECK(ahead.n == plain.n && !memcmp(ahead.recs, plain.recs, plain.n * sizeof(*plain.recs)));
	/* One flush at the end, one per 65536 records. */
	CHECK_INT(ahead.flushes, 1 + plain.n / 65536);
	ts_capr__close(r);
	ts_pipeline__free(&p);
	free(plain.recs);
	free(ahead.recs);
}

static void test_source(void)
{
	uint8_t *buf;
	size_t len = write_capture(140000, &buf);

	check_source(buf, len);
	/* Cut in the middle of a chunk; a byte changed in a chunk. */
	check_source(buf, len / 2);
	buf[len / 3] ^= 0x40;
	check_source(buf, len);
	free(buf);
	len = write_capture(3, &buf); /* smaller than a batch */
	check_source(buf, len);
	free(buf);
}

/* A sink that fails stops the run with its error; the reading thread ends. */
static void test_source_sink_error(void)
{
	struct keep k = { .fail_at = 1000 };
	struct ts_pipeline p;
	struct ts_capr *r = NULL;
	uint8_t *buf;
	size_t len = write_capture(100000, &buf);

	ts_pipeline__init(&p, NULL, NULL);
	CHECK_INT(ts_pipeline__add_sink(&p, (struct ts_sink){ &keep_ops, &k }), 0);
	CHECK_INT(ts_capr__open_mem(buf, len, &r), 0);
	CHECK_INT(ts_source_file__run(r, &p), -EPIPE);
	CHECK_INT(k.n, 999);
	ts_capr__close(r);
	ts_pipeline__free(&p);
	free(k.recs);
	free(buf);
}

/* ---- the text sink's caches ------------------------------------------------ */

static void test_eptext(void)
{
	struct ts_eptext *c = calloc(1, sizeof(*c));
	unsigned int bad = 0;

	for (int i = 0; i < 200000; i++) {
		uint64_t x = check_rnd();
		uint8_t addr[TS_ADDR_LEN] = { 0 }, family = x & 1 ? 6 : 4;
		uint16_t port = (x >> 1) % 4 == 0 ? 0 : (uint16_t)(x >> 8) % 3000;
		char want[TS_ADDRSTR_LEN];
		const char *got;
		size_t len;

		/* Few addresses, so that entries are hit and slots shared. */
		addr[0] = (uint8_t)((x >> 24) % 3 ? 127 : 0x20);
		addr[15] = (uint8_t)((x >> 30) % 5);
		addr[3] = (uint8_t)((x >> 40) % 2);
		ts_fmt_endpoint(want, sizeof(want), family, addr, port);
		got = ts_eptext__get(c, family, addr, port, &len);
		bad += strcmp(got, want) != 0 || len != strlen(want);
	}
	CHECK_INT(bad, 0);
	free(c);
}

static void test_steptext(void)
{
	struct ts_steptext *c = calloc(1, sizeof(*c));
	unsigned int bad = 0;
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 200000; i++) {
		uint64_t x = check_rnd();

		r.type = x % 7 ? TS_REC_STATE : TS_REC_RETRANS;
		r.old_state = (uint8_t)((x >> 3) % 13);
		r.new_state = (uint8_t)((x >> 8) % 13);
		r.flags = (uint8_t)(x >> 16);
		r.has_stats = (x >> 24) & 1;
		r.st.err = (x >> 25) % 3 ? 0 : (uint32_t)(x >> 27) % 120;
		const char *want = ts_rec_step_label(&r), *col;
		size_t col_len;
		char two[TS_STEPTEXT_COL + 8];

		bad += strcmp(ts_steptext__get(c, &r, &col, &col_len), want) != 0;
		/* The column: "  " and the label, or nothing for no label. */
		snprintf(two, sizeof(two), "  %s", want);
		bad += *want ? !col || col_len != strlen(two) || memcmp(col, two, col_len) :
			       col != NULL;
	}
	CHECK_INT(bad, 0);
	free(c);
}

/* ---- the whole text sink ----------------------------------------------------- */

static void random_rec(struct ts_rec *r)
{
	static const char *const comms[] = { "nginx", "curl", "a\"b\\c", "\x1b[31mred",
					     "\xff\xfe\x80", "", "tab\there", "\xc3\xa9t\xc3\xa9" };
	uint64_t x = check_rnd();

	memset(r, 0, sizeof(*r));
	r->type = (x >> 12) % 10 == 0 ? TS_REC_RETRANS :
		  (x >> 12) % 10 == 1 ? TS_REC_RESET_SENT :
		  (x >> 12) % 10 == 2 ? TS_REC_RESET_RECV :
		  (x >> 12) % 40 == 3 ? TS_REC_LOST :
		  (x >> 12) % 40 == 13 ? TS_REC_DROP_SUPPRESSED :
					 TS_REC_STATE;
	/* Connections 1024 apart share the sink's slot. */
	r->conn = (x % 6) * 1024 + (x >> 3) % 3;
	r->old_state = (uint8_t)(1 + (x >> 16) % 12);
	r->new_state = (uint8_t)(1 + (x >> 20) % 12);
	r->flags = (uint8_t)(x >> 24);
	r->pid = (x >> 32) % 5 == 0 ? 0 : 1000 + (uint32_t)((x >> 35) % 3);
	strcpy(r->comm, comms[(x >> 38) % 8]);
	r->family = (x >> 41) & 1 ? 6 : 4;
	if (r->family == 6) {
		r->saddr[15] = 1;
		r->daddr[15] = (uint8_t)(x >> 42) % 3;
	} else {
		r->saddr[0] = 127, r->saddr[3] = 1;
		r->daddr[0] = 10, r->daddr[3] = (uint8_t)(x >> 42) % 3;
	}
	r->sport = (x >> 44) % 4 == 0 ? 0 : (uint16_t)(40000 + r->conn % 7);
	r->dport = (x >> 46) % 2 ? 80 : 8080;
	r->netns = 4026531840u;
	/* Runs of records in one millisecond, and across seconds. */
	r->ts_ns = 1000000000ULL * 86400 * 400 + (check_rnd() % 3000) * 1000000 + (x >> 50) % 3;
	r->ns_in_old = (x >> 52) % 3 ? check_rnd() % 100000000 : 0;
	r->lost = x >> 50;
	if ((x >> 55) & 1) {
		r->has_stats = true;
		r->st.err = (x >> 56) % 3 ? 0 : 104;
	}
}

/* The sink against ts_text_write_rec() record by record: the same lines
 * after the header (every endpoint fits the default width, one netns). */
static void check_sink(bool compact, bool color)
{
	struct ts_meta meta = { .wall_offset_ns = 1700000000LL * 1000000000 - 7,
				.compact = compact, .color = color };
	char *got = NULL, *want = NULL;
	size_t glen = 0, wlen = 0;
	FILE *gf = open_memstream(&got, &glen), *wf = open_memstream(&want, &wlen);
	struct ts_sink s;

	CHECK_INT(ts_sink_text__new(&s, gf, &meta), 0);
	ts_text_write_header(wf, &meta);
	sinkcheck_run(&s, gf, &got, &glen, wf, &want, &wlen, &meta, random_rec,
		      ts_text_write_rec, 30000, 5000, NULL);
}

int main(void)
{
	check_rnd_state = 0x2545f4914f6cdd1dULL;
	test_recq_order();
	test_recq_cancel();
	test_source();
	test_source_sink_error();
	test_eptext();
	test_steptext();
	check_sink(false, false);
	check_sink(false, true);
	check_sink(true, false);
	check_sink(true, true);
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}
