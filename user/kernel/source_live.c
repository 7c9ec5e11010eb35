// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>
#include "kernel/source_live.h"
#include "kernel/knames_btf.h"
#include "core/util/signals.h"
#include "core/util/cgroup.h"
#include "core/util/fmt.h"
#include "core/util/log.h"

/*
 * Records are decoded into a batch in the ring-buffer callback and
 * processed after the callback returns: no output from inside libbpf.
 * A batch small enough to stay in the CPU's cache while it is filled and
 * read back (128 records of 320 bytes: 40 KiB); 4096 (1.3 MiB) made the
 * decode's stores miss.  Going back to the ring costs no system call.
 */
#define BATCH 128
#define BATCH_FULL 1 /* callback return: stop consuming, batch is full */
/*
 * Batches one look takes at most (32 768 records): a producer that keeps
 * the ring from emptying cannot hold the reader in one look, away from
 * SIGINT, --interval's tick and --duration.  The next look does not wait.
 */
#define DRAIN_BATCHES 256

struct ts_live {
	struct ts_loader *loader;
	struct ts_pipeline *pipe;
	struct ring_buffer *rb;
	int epfd;		    /* the ring, edge-triggered */
	bool more;		    /* the last look left records behind */
	uint64_t final_looks;	    /* looks that empty a full ring */
	struct ts_rec *batch;
	int n;
	uint64_t drops_seen;
	uint64_t nested_prev;	    /* skipped runs not taken over, a look */
	uint64_t nested_prev_ns;    /* taken then, SETTLE_NS or more ago */
	uint64_t nested_counted;    /* those counted lost */
	uint64_t bad;
	struct ts_cgnames *cgnames; /* cgroup ids to paths */
	struct ts_knames *knames;   /* reasons and kernel functions */
	bool functions_due;	    /* kallsyms not read yet, drops traced */
	uint64_t suppressed_seen;   /* drop records the kernel held back */
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct ts_live *lv = ctx;

	struct ts_rec *r = &lv->batch[lv->n];

	if (ts_rec_decode(data, len, r)) {
		lv->bad++;
		return 0;
	}
	if (r->cgroup_id)
		r->cgroup = ts_cgnames__path(lv->cgnames, r->cgroup_id);
	/* The sample is consumed even when we stop here: keep it. */
	if (++lv->n == BATCH)
		return -BATCH_FULL;
	return 0;
}

/*
 * How many looks the last drain may take: enough for a full ring of the
 * smallest records, plus what arrives meanwhile, and no more.
 */
static uint64_t final_looks(uint64_t ring_bytes)
{
	return ring_bytes / sizeof(struct ts_event) /
	       ((uint64_t)BATCH * DRAIN_BATCHES) + 2;
}

int ts_live__new(struct ts_loader *l, struct ts_pipeline *p,
		 struct ts_live **out)
{
	struct ts_live *lv = calloc(1, sizeof(*lv));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int err;

	if (!lv)
		return -ENOMEM;
	lv->epfd = -1;
	lv->loader = l;
	lv->pipe = p;
	lv->batch = calloc(BATCH, sizeof(*lv->batch));
	err = lv->batch ? ts_cgnames__new(NULL, &lv->cgnames) : -ENOMEM;
	lv->knames = ts_loader__take_knames(l);
	if (!err && !lv->knames)
		err = ts_knames__new(&lv->knames);
	lv->functions_due = ts_loader__drops_state(l) == TS_DROPS_ON;
	if (err)
		goto fail;
	lv->rb = ring_buffer__new(ts_loader__ring_fd(l), on_sample, lv, NULL);
	if (!lv->rb) {
		err = -errno;
		ts_err("cannot open the ring buffer: %s", strerror(-err));
		goto fail;
	}
	lv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lv->epfd < 0 ||
	    epoll_ctl(lv->epfd, EPOLL_CTL_ADD, ts_loader__ring_fd(l), &ev)) {
		err = -errno;
		ts_err("cannot wait for the ring buffer: %s", strerror(-err));
		goto fail;
	}
	lv->final_looks = final_looks(ts_loader__ring_bytes(l));
	*out = lv;
	return 0;
fail:
	ts_live__free(lv);
	return err;
}

/*
 * Name a record's reason and, for a drop, the function it happened in.
 * /proc/kallsyms is read at the first drop, not at start: most runs see
 * none, and reading it is most of what starting costs.  Every drop is
 * named from the same table as before; the first waits for it (some
 * 50-100 ms, after libbpf's callback: the ring holds what arrives).
 */
static int name_record(struct ts_live *lv, struct ts_rec *r)
{
	if (r->type == TS_REC_DROP && lv->functions_due) {
		int n = ts_knames__read_functions(lv->knames);

		lv->functions_due = false;
		if (n < 0)
			return n;
	}
	ts_knames__name(lv->knames, r);
	return 0;
}

static int push_batch(struct ts_live *lv)
{
	int err = 0;

	for (int i = 0; i < lv->n && !err; i++) {
		err = name_record(lv, &lv->batch[i]);
		if (!err)
			err = ts_pipeline__push(lv->pipe, &lv->batch[i]);
	}
	lv->n = 0;
	return err;
}

/* Drop records the kernel's bucket held back since the last look. */
static int check_suppressed(struct ts_live *lv)
{
	uint64_t seen, supp;
	struct ts_rec r;

	if (ts_loader__drops_state(lv->loader) != TS_DROPS_ON ||
	    ts_loader__drop_stats(lv->loader, &seen, &supp) ||
	    supp <= lv->suppressed_seen)
		return 0;
	ts_rec_lost(&r, ts_now_mono_ns(), supp - lv->suppressed_seen);
	r.type = TS_REC_DROP_SUPPRESSED;
	lv->suppressed_seen = supp;
	return ts_pipeline__push(lv->pipe, &r);
}

/*
 * A run the kernel skipped is counted when skipped, and its takeover a
 * moment later, by the program after it (later still when the task is
 * preempted in between): a look in between sees a loss that is not one.
 * So a skipped run counts once it is still not taken over at a look
 * SETTLE_NS or more later.
 */
#define SETTLE_NS (10 * 1000 * 1000ULL)

static int check_drops(struct ts_live *lv)
{
	struct ts_losses d;
	uint64_t drops, nested, now;
	struct ts_rec r;
	int err = check_suppressed(lv);

	if (err || ts_loader__losses(lv->loader, &d))
		return err;
	nested = d.nested < lv->nested_prev ? d.nested : lv->nested_prev;
	now = ts_now_mono_ns();
	if (now - lv->nested_prev_ns >= SETTLE_NS) {
		lv->nested_prev = d.nested;
		lv->nested_prev_ns = now;
	}
	if (nested > lv->nested_counted)
		lv->nested_counted = nested;
	drops = d.ring + d.state + lv->nested_counted;
	if (drops <= lv->drops_seen)
		return 0;
	ts_rec_lost(&r, now, drops - lv->drops_seen);
	lv->drops_seen = drops;
	return ts_pipeline__push(lv->pipe, &r);
}

/*
 * Wait for the BPF side's wakeup (data waiting past an eighth of the
 * ring) or the timeout.  Edge-triggered: libbpf's own wait is
 * level-triggered and returns at once while any record is in the ring,
 * so after one wakeup under a steady load the reader went round for
 * every few hundred records, each time paying the loss counters' system
 * calls and a write (strace of a churn: 2 284 waits in 3.5 s, against 35
 * when no wakeup had come).  Now it drains and sleeps again; a wakeup
 * during a drain makes the next wait return at once, and that is all.
 */
static int wait_ring(struct ts_live *lv, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(lv->epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

int ts_live__poll(struct ts_live *lv, int timeout_ms)
{
	int total = 0, err, got = 0;
	uint64_t now;

	err = wait_ring(lv, lv->more ? 0 : timeout_ms);
	if (err && err != -EINTR)
		return err;
	/* Every record stamped before now is in the ring. */
	now = ts_now_mono_ns();
	/* Until the ring is found empty: what came in meanwhile is ours. */
	for (int i = 0; i < DRAIN_BATCHES; i++) {
		got = ring_buffer__consume(lv->rb);
		if (got < 0 && got != -BATCH_FULL)
			return got;
		total += lv->n;
		err = push_batch(lv);
		if (err)
			return err;
		if (!got)
			break;
	}
	/*
	 * Only a ring found empty tells the tracker that nothing stamped
	 * before now is still to come; otherwise the next look goes on.
	 */
	lv->more = got != 0;
	if (!lv->more)
		ts_pipeline__set_clock(lv->pipe, now);
	err = check_drops(lv);
	if (!err)
		err = ts_pipeline__flush(lv->pipe);
	return err ? err : total;
}

static int poll_once(struct ts_live *lv, int timeout_ms)
{
	int err = ts_live__poll(lv, timeout_ms);

	/* -EPIPE: stdout's reader went away; the command ends quietly. */
	if (err < 0 && err != -EINTR) {
		if (err != -EPIPE)
			ts_err("reading events failed: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ts_live__run(struct ts_live *lv, const struct ts_live_run_opts *o)
{
	uint64_t start = ts_now_mono_ns(), next_tick = start + o->tick_ns;
	int err;

	while (!ts_stop_requested() && !(o->stop && o->stop(o->ctx))) {
		if (o->tick_ns && ts_now_mono_ns() >= next_tick) {
			err = o->tick(o->ctx);
			if (err)
				return err;
			next_tick += o->tick_ns;
		}
		err = poll_once(lv, o->poll_ms);
		if (err)
			return err;
		if (o->duration_ns && ts_now_mono_ns() - start >= o->duration_ns)
			break;
	}
	/* What the ring holds now, bounded: producers do not stop with us. */
	for (uint64_t i = 0; i < lv->final_looks; i++) {
		err = poll_once(lv, 0);
		if (err)
			return err;
		if (!lv->more)
			break;
	}
	/* The last skipped runs: a look now, and one SETTLE_NS later. */
	lv->nested_prev_ns = 0;
	err = check_drops(lv);
	if (!err) {
		usleep(SETTLE_NS / 1000);
		err = check_drops(lv);
	}
	if (!err)
		err = ts_pipeline__flush(lv->pipe);
	if (err < 0 && err != -EPIPE)
		ts_err("reading events failed: %s", strerror(-err));
	return err;
}

int ts_live__losses(const struct ts_live *lv, struct ts_losses *out)
{
	int err = ts_loader__losses(lv->loader, out);

	if (!err)
		out->nested = lv->nested_counted;
	return err;
}

uint64_t ts_live__bad_records(const struct ts_live *lv)
{
	return lv->bad;
}

void ts_live__free(struct ts_live *lv)
{
	if (!lv)
		return;
	if (lv->epfd >= 0)
		close(lv->epfd);
	ring_buffer__free(lv->rb);
	ts_cgnames__free(lv->cgnames);
	ts_knames__free(lv->knames);
	free(lv->batch);
	free(lv);
}
