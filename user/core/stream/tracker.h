/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The connection tracker: joins records by connection id into the story of
 * each connection (role, owner, steps, retransmissions, resets, close kind,
 * final counters) and hands a finished connection to a callback.
 *
 * It knows nothing of where records come from.  Its notion of "now" is the
 * newest record time it has seen, or a clock the source gives it
 * (ts_tracker__advance), so live tracing and replay behave the same.
 * Memory is bounded: at most max_conns connections are held; past that the
 * least recently active one is emitted early and counted as evicted.  The
 * entries of up to 1024 emitted connections are kept for reuse.
 */
#ifndef TS_TRACKER_H
#define TS_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stream/record.h"
#include "core/stream/rtx.h"

/* Room for every transition TCP makes in one life plus an inferred one,
 * and the steps of its timewait socket deduced from a paired peer. */
#define TS_CONN_MAX_STEPS 12
#define TS_CONN_MAX_PEER_STEPS 2

enum ts_role {
	TS_ROLE_UNKNOWN = 0, /* joined mid-life, origin not known */
	TS_ROLE_CLIENT,	     /* began CLOSE -> SYN_SENT (connect()) */
	TS_ROLE_SERVER,	     /* child of a listener: LISTEN -> SYN_RECV */
	TS_ROLE_LISTENER,    /* CLOSE -> LISTEN (listen()) */
};

enum ts_close_kind {
	TS_CLOSE_OPEN = 0,	/* still alive when tracing ended (or evicted) */
	TS_CLOSE_ACTIVE,	/* we sent the first FIN (or closed a listener) */
	TS_CLOSE_PASSIVE,	/* the peer sent the first FIN */
	TS_CLOSE_SIMULTANEOUS,	/* FINs crossed: FIN_WAIT1 -> CLOSING */
	TS_CLOSE_RESET_SENT,	/* we aborted with RST */
	TS_CLOSE_RESET_RECEIVED, /* the peer aborted with RST */
	TS_CLOSE_REFUSED,	/* RST answered our SYN */
	TS_CLOSE_TIMEOUT,	/* handshake never completed, or retries ran out */
	TS_CLOSE_DUPLICATE,	/* a second child of one request, discarded by
				 * the kernel: its sibling is the connection */
	TS_CLOSE_KINDS,
};

/* What a connection's handshake time is measured from (or why it is not). */
enum ts_hs_basis {
	TS_HS_NONE = 0,		/* no complete handshake */
	TS_HS_SYN,		/* client: from its SYN (CLOSE -> SYN_SENT) */
	TS_HS_FIRST_SYNACK,	/* server: from the first SYN-ACK (a retransmission told it) */
	TS_HS_SYNACK_RTT,	/* server: the kernel's round trip of its one SYN-ACK */
	TS_HS_UNKNOWN_RETRANS,	/* server: SYN-ACK sent again, the first sending not seen */
	TS_HS_UNKNOWN_NO_SAMPLE, /* server: the kernel took no SYN-ACK round trip */
	TS_HS_UNKNOWN_NO_DETAIL, /* server: the record says nothing (older capture) */
};

/* ts_step.flags */
enum ts_step_flags {
	TS_STEP_INFERRED = 1 << 0, /* not reported by the kernel: deduced */
	TS_STEP_GAP = 1 << 1,	   /* does not follow the previous step */
	/* Deduced from the other end's records (a paired connection): the
	 * timewait socket's steps, after the full socket's CLOSE. */
	TS_STEP_PEER = 1 << 2,
};

/*
 * What is known of the connection's TIME_WAIT.  The kernel never reports
 * it for a full socket (tcp_time_wait() hands the connection to a timewait
 * socket and reports X -> CLOSE); see docs/TIMELINE.md.
 */
enum ts_tw {
	TS_TW_NONE = 0,	 /* not an active close that leads to TIME_WAIT */
	TS_TW_INFERRED,	 /* from its own closing record (peer's FIN seen) */
	TS_TW_FROM_PEER, /* from the paired other end's FIN and its ACK */
	TS_TW_UNKNOWN,	 /* handed over in FIN_WAIT2: see ts_tw_why */
};

/* Why TIME_WAIT is not known (TS_TW_UNKNOWN). */
enum ts_tw_why {
	TS_TWW_NONE = 0,
	TS_TWW_NO_PEER,	    /* the other end is not traced on this host */
	TS_TWW_AMBIGUOUS,   /* several traced connections could be it */
	TS_TWW_PEER_OPEN,   /* paired, but the peer had not sent its FIN */
	TS_TWW_PEER_NO_ACK, /* the peer closed without its FIN acknowledged */
	TS_TWW_KINDS,
};

struct ts_step {
	uint64_t ts_ns;
	uint64_t ns_in_old; /* time in 'from' (0: unknown) */
	uint8_t from;
	uint8_t to;
	uint8_t flags;	   /* enum ts_step_flags */
	uint8_t rec_flags; /* the record's TS_F_* */
	uint8_t label_id;  /* enum ts_label, set with label */
	const char *label; /* set when the connection is finished */
};

/*
 * A record that is not a state change (a retransmission, a reset, later a
 * drop), kept with its time so that pictures can draw it where it
 * happened.  The counts above stay exact when marks are dropped.
 */
#define TS_CONN_MAX_MARKS 8

struct ts_mark {
	uint64_t ts_ns;
	uint8_t type;	/* enum ts_rec_type */
	uint8_t state;	/* the socket's state at the time */
	uint16_t count; /* > 1: SYN-ACK retransmits joined from the request */
};

/*
 * A segment of this connection the kernel dropped (TS_REC_DROP), joined by
 * socket cookie or, without one, by namespace and addresses.  Names are
 * the source's strings (they outlive the tracker's callbacks).
 */
#define TS_CONN_MAX_DROPS 8

struct ts_conn_drop {
	uint64_t ts_ns;
	uint32_t reason;
	uint32_t seq;
	uint32_t len;
	uint8_t dir; /* enum ts_drop_dir */
	uint8_t tcp_flags;
	uint8_t state; /* the socket's, 0 unknown */
	bool has_base; /* seq_base: the peer's initial sequence number */
	uint32_t seq_base;
	bool by_tuple; /* joined by addresses: the kernel gave no socket */
	const char *reason_name; /* NULL: unknown to the source */
	const char *where;
	uint32_t where_off;
};

/* A reset's reason: the kernel's (6.10+), or what tcpscope infers. */
struct ts_rst_why {
	const char *name; /* NULL: none known */
	bool inferred;
};

/*
 * A retransmission with what the socket said (the record's detail): a
 * timed step of the connection's timeline.  At most TS_CONN_MAX_RTX a
 * connection and TS_TRACKER_MAX_RTX in the whole tracker are kept; the
 * counts stay exact beyond.
 */
#define TS_CONN_MAX_RTX 64
#define TS_TRACKER_MAX_RTX (1u << 18)

/*
 * The fields are in the order the tracker touches them: those every record
 * and the emit read first, the steps, then the arrays that most
 * connections never fill (marks, drops).  The arrays are valid up to their
 * counts only.
 */
struct ts_conn {
	uint64_t id;
	uint64_t start_ns; /* first step (or record) */
	uint64_t end_ns;   /* CLOSE, or the last record if still open */
	uint32_t netns;
	uint8_t family;
	uint8_t state;	  /* last known state */
	bool ended;	  /* reached CLOSE */
	bool joined_late; /* the first record seen was mid-life */
	uint16_t sport;
	uint16_t dport;
	uint8_t nsteps;
	uint8_t steps_dropped; /* steps beyond TS_CONN_MAX_STEPS */
	bool evicted;	  /* emitted early to bound memory */
	bool lost_events; /* the ring buffer lost records while it was open */
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	uint32_t pid;
	char comm[TS_COMM_LEN + 1];
	bool owner_from_listener;
	bool has_stats; /* the closing record carried the counters */
	bool has_hs;
	/* A passive connection's listener owner, before accept() named the
	 * holder (0: none seen). */
	uint32_t listener_pid;
	char listener_comm[TS_COMM_LEN + 1];
	uint8_t ndrops;	      /* kept, in time order */
	uint8_t nmarks;	      /* in time order */
	uint16_t marks_dropped; /* beyond TS_CONN_MAX_MARKS */
	uint64_t cgroup_id;  /* the (last) owner's cgroup, 0 unknown */
	const char *cgroup; /* its path, owned by the source; NULL unknown */

	struct ts_tcp_stats st;
	struct ts_hs_info hs;
	enum ts_role role;
	enum ts_close_kind close;
	uint32_t gaps;	  /* transitions missing between steps */
	int64_t handshake_ns; /* -1 when there was no complete handshake */
	enum ts_hs_basis hs_basis; /* where handshake_ns counts from, or why -1 */
	/* Server: when its first SYN-ACK left (from a SYN-ACK retransmission
	 * record; 0 unknown), and what the child said at ESTABLISHED. */
	uint64_t first_synack_ns;
	uint64_t lifetime_ns;

	/*
	 * The other end of this connection when it is traced too (its
	 * connection id, 0: none found), and what that tells of TIME_WAIT.
	 */
	uint64_t peer;
	enum ts_tw tw;
	enum ts_tw_why tw_why;

	uint32_t rtx[TS_RTX_KINDS];
	uint32_t rtx_total;
	/*
	 * Retransmissions the socket counted (its total_retrans) with no
	 * record: a run the kernel skipped, or a failed transmit on a kernel
	 * whose tracepoint fires on success only.  From the counter the
	 * records and the close carry, when a start is known: 0 after
	 * connect(), else what the first record implies.
	 */
	uint32_t rtx_untraced;
	uint32_t resets_sent;
	uint32_t resets_received;
	uint32_t drops_total; /* drop records joined to it */
	uint64_t rst_sent_ns; /* first one, 0: none */
	uint64_t rst_recv_ns;
	struct ts_rst_why rst_sent_why; /* of the first reset sent */
	struct ts_rst_why rst_recv_why; /* of the first reset received */

	/* Retransmission steps, in time order (NULL until the first). */
	struct ts_rtx_step *rtxs;
	uint16_t nrtx;
	uint32_t rtx_not_kept; /* beyond the bounds above */

	struct ts_step steps[TS_CONN_MAX_STEPS + 1 + TS_CONN_MAX_PEER_STEPS];
	struct ts_mark marks[TS_CONN_MAX_MARKS];
	struct ts_conn_drop drops[TS_CONN_MAX_DROPS];
};

struct ts_tracker_opts {
	uint32_t max_conns; /* 0: TS_TRACKER_DEFAULT_CONNS */
	/*
	 * How long a closed connection waits for its trailing records before
	 * it is emitted (the RST of an abortive close comes after the CLOSE
	 * record; records from other CPUs can be slightly out of order).
	 * 0: TS_TRACKER_DEFAULT_LINGER_NS.
	 */
	uint64_t linger_ns;
	/*
	 * How long a closed connection whose TIME_WAIT its paired peer can
	 * still tell (an orphaned FIN_WAIT2 waiting for the peer's FIN) waits
	 * for the peer to close.  0: TS_TRACKER_DEFAULT_PEER_WAIT_NS.
	 */
	uint64_t peer_wait_ns;
};

#define TS_TRACKER_DEFAULT_CONNS 65536
#define TS_TRACKER_MAX_CONNS (1u << 22)
#define TS_TRACKER_DEFAULT_LINGER_NS 100000000ull
/* tcp_fin_timeout's default: an orphaned FIN_WAIT2 lives that long. */
#define TS_TRACKER_DEFAULT_PEER_WAIT_NS 60000000000ull

struct ts_tracker_stats {
	uint64_t conns;		  /* connections emitted */
	uint64_t evicted;	  /* of which emitted early by the bound */
	uint64_t live;		  /* held right now */
	uint64_t peak;		  /* most held at once */
	uint64_t unattributed;	  /* retransmit/reset records without a conn */
	uint64_t synack_unjoined; /* SYN-ACK retransmits never joined */
	uint64_t paired;	  /* connections whose other end was found */
	uint64_t pair_ambiguous;  /* left unpaired: more than one candidate */
	uint64_t drops_unattributed; /* drop records of no traced connection */
	uint64_t duplicates;	  /* children discarded for a sibling (close "duplicate") */
};

/* Called for each finished connection; a non-zero return is kept. */
typedef int (*ts_conn_fn)(void *ctx, const struct ts_conn *c);

struct ts_tracker;

int ts_tracker__new(const struct ts_tracker_opts *o, ts_conn_fn fn, void *ctx,
		   struct ts_tracker **out);
/* Feed one record (any type).  Returns 0 or the callback's error. */
int ts_tracker__push(struct ts_tracker *t, const struct ts_rec *r);
/* Time has reached now_ns (CLOCK_MONOTONIC): emit what has lingered. */
int ts_tracker__advance(struct ts_tracker *t, uint64_t now_ns);
/* End of input: emit every connection, open ones with close "open". */
int ts_tracker__finish(struct ts_tracker *t);
void ts_tracker__get_stats(const struct ts_tracker *t,
			  struct ts_tracker_stats *out);
void ts_tracker__free(struct ts_tracker *t);

const char *ts_role_name(enum ts_role r);
/* JSON "handshake_from" ("syn", "first_synack", "synack_rtt"; NULL when
 * unknown) and the sentence that says why it is unknown (NULL if known). */
const char *ts_hs_basis_name(enum ts_hs_basis b);
const char *ts_hs_basis_why(enum ts_hs_basis b);
const char *ts_close_name(enum ts_close_kind k);
const char *ts_tw_name(enum ts_tw t);	  /* JSON: null for TS_TW_NONE */
const char *ts_tw_why_name(enum ts_tw_why w); /* JSON token, NULL for none */
/* Why, in plain words after "TIME_WAIT " (at most 64 characters). */
const char *ts_tw_why_text(enum ts_tw_why w);

/*
 * The index of the step that closed the full socket (its X -> CLOSE), or
 * -1 when it is still open.  Steps after it are the timewait socket's,
 * deduced from the peer (TS_STEP_PEER).
 */
static inline int ts_conn_close_step(const struct ts_conn *c)
{
	if (!c->ended)
		return -1;
	for (int i = c->nsteps - 1; i >= 0; i--)
		if (!(c->steps[i].flags & TS_STEP_PEER))
			return i;
	return -1;
}
/*
 * Why a reset was sent or received: the name the source gave the kernel's
 * reason, else one inferred from the record (no socket, unread data at
 * close, SO_LINGER 0, a refused connect).
 */
struct ts_rst_why ts_rst_why_of(const struct ts_rec *r);

#endif
