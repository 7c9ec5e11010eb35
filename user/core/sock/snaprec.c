// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "core/sock/snaprec.h"
#include "core/stream/states.h"
#include "core/util/hz.h"

_Static_assert(sizeof(struct ts_snap_sock) == TS_SNAP_REC_SIZE,
	       "socket record size is ABI");
_Static_assert(sizeof(struct ts_snap_end) == TS_SNAP_REC_SIZE,
	       "the end record has the size of a socket record");
_Static_assert((int)TS_SNAP_TIMER_PROBE == (int)TS_TIMER_PROBE &&
		       (int)TS_SNAP_TIMER_TIMEWAIT == (int)TS_TIMER_TIMEWAIT &&
		       (int)TS_SNAP_TIMER_KEEPALIVE == (int)TS_TIMER_KEEPALIVE,
	       "timer kinds share their values");

unsigned int ts_snap_infer_hz(uint64_t jiffies, uint64_t mono_ns)
{
	unsigned int hz = ts_hz__guess(mono_ns, jiffies);

	/* Within seconds of the wrap every HZ fits: Debian's. */
	return hz ? hz : 250;
}

int ts_snap_check_end(const struct ts_snap_end *h)
{
	if (h->type != TS_SNAP_END || h->rec_size != TS_SNAP_REC_SIZE)
		return -EINVAL;
	if (h->version != TS_SNAP_VERSION)
		return -EPROTO;
	return 0;
}

int ts_snap_decode_sock(const struct ts_snap_sock *r, unsigned int hz,
			struct ts_sock *out)
{
	int64_t ms;

	if (r->type != TS_SNAP_SOCK || (r->family != 4 && r->family != 6) ||
	    !ts_state_valid(r->state) || r->state == TS_NEW_SYN_RECV ||
	    r->timer > TS_SNAP_TIMER_PROBE || !hz || r->timer_jiffies < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->cookie = r->cookie;
	out->inode = r->inode;
	out->uid = r->uid;
	out->recv_q = r->recv_q;
	out->send_q = r->send_q;
	ms = (int64_t)r->timer_jiffies * 1000 / hz;
	out->timer_ms = ms > INT32_MAX ? INT32_MAX : (int32_t)ms;
	out->sport = r->sport;
	out->dport = r->dport;
	out->family = r->family;
	out->state = r->state;
	out->timer = r->timer;
	out->retransmits = r->retransmits;
	out->probes = r->probes;
	memcpy(out->saddr, r->saddr, TS_ADDR_LEN);
	memcpy(out->daddr, r->daddr, TS_ADDR_LEN);
	return 0;
}
