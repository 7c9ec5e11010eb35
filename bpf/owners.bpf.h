/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who holds a connection (issue 12): the process that ss -p names.
 *
 *  - Active opens: the connect() caller (CLOSE -> SYN_SENT runs in it).
 *  - Listeners: the listen() caller, kept in 'listeners' keyed by
 *    namespace, address and port; passive children inherit it at birth.
 *  - accept(): no TCP tracepoint fires in it.  The syscall exit
 *    tracepoints of accept4/accept run in the accepting task: the new fd's
 *    socket is read through the task's file table (CO-RE probe reads, the
 *    pointers are not trusted BTF pointers there) and the owner is parked
 *    in the connection's own entry (conn_hash, or conn_lru: both keyed by
 *    socket address), until the connection's next event takes it
 *    (owner_settle).  Only a connection these cannot reach (kept in socket
 *    storage, once conn_hash is full) parks it in 'accepts', an LRU hash
 *    keyed the same way.
 *  - Connections older than the tracer: user space seeds 'seeded' (by
 *    socket inode) from the iterator snapshot of every namespace; the
 *    connection's first event takes its entry.
 *
 * Included once by tcpscope.bpf.c, after struct conn and struct tuple.
 */
#ifndef TCPSCOPE_OWNERS_BPF_H
#define TCPSCOPE_OWNERS_BPF_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000

static __always_inline void sk_tuple(const struct sock *sk, bool typed,
				     struct tuple *t);
static __always_inline __u32 sk_netns(const struct sock *sk, bool typed);

/* --cgroup: cg_filter[0] holds the cgroup (set by user space). */
const volatile bool filter_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cg_filter SEC(".maps");

/*
 * A plain hash, not an LRU: an entry leaves only with its own listener's
 * close, never to make room.  Memory stays bounded by max_entries and the
 * budgets of tcpscope.h (listener_charge).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_LISTEN_MAX);
	__type(key, struct ts_listen_key);
	__type(value, struct ts_listener);
} listeners SEC(".maps");

/* Listener entries per non-root uid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} listen_uids SEC(".maps");

/* Owners taken by accept(), waiting for the connection's next event. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ts_owner);
} accepts SEC(".maps");

/* Holders of sockets that existed at start, by inode (user space fills). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct ts_owner);
} seeded SEC(".maps");

/* Non-root entries in 'listeners', and listen()s left without an entry. */
__u32 listen_nonroot = 0;
__u64 listen_refused = 0;
/* Set once accept() parked an owner in 'accepts': until then no event
 * looks there. */
__u32 accepts_used = 0;

static __always_inline void owner_current(struct ts_owner *o)
{
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->cg_in = !filter_cgroup ||
		   bpf_current_task_under_cgroup(&cg_filter, 0) == 1;
	o->held = filter_pid && o->pid == filter_pid;
	o->pad = 0;
}

/* The inode of the socket's file (SOCK_INODE()), 0 when it has none. */
static __always_inline __u64 sock_ino(const struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);

	if (!so)
		return 0;
	return BPF_CORE_READ((struct socket_alloc *)so, vfs_inode.i_ino);
}

static __always_inline void listen_key(struct ts_listen_key *k, __u32 netns,
				       const struct tuple *t)
{
	k->netns = netns;
	k->port = t->sport;
	k->family = t->family;
	k->pad = 0;
	__builtin_memcpy(k->addr, t->saddr, TS_ADDR_LEN);
}

/* The listener of local end t: exact address first, then the wildcard. */
static __always_inline struct ts_listener *listener_find(__u32 netns,
							 const struct tuple *t)
{
	struct ts_listen_key k;
	struct ts_listener *v;

	listen_key(&k, netns, t);
	v = bpf_map_lookup_elem(&listeners, &k);
	if (v)
		return v;
	__builtin_memset(k.addr, 0, TS_ADDR_LEN);
	return bpf_map_lookup_elem(&listeners, &k);
}

/* Charge one entry to uid; false when its budget is spent. */
static __always_inline bool listener_charge(__u32 uid)
{
	__u32 zero = 0, *n;

	if (!uid)
		return true;
	n = bpf_map_lookup_elem(&listen_uids, &uid);
	if (!n) {
		bpf_map_update_elem(&listen_uids, &uid, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&listen_uids, &uid);
		if (!n)
			return false;
	}
	if (*n >= TS_LISTEN_PER_UID || listen_nonroot >= TS_LISTEN_NONROOT)
		return false;
	__sync_fetch_and_add(n, 1);
	__sync_fetch_and_add(&listen_nonroot, 1);
	return true;
}

static __always_inline void listener_uncharge(__u32 uid)
{
	__u32 *n;

	if (!uid)
		return;
	n = bpf_map_lookup_elem(&listen_uids, &uid);
	if (n && *n)
		__sync_fetch_and_add(n, -1);
	if (listen_nonroot)
		__sync_fetch_and_add(&listen_nonroot, -1);
}

/* listen() (CLOSE -> LISTEN, in the caller's context). */
static __always_inline void listener_add(const struct sock *sk, __u32 netns,
					 const struct tuple *t,
					 const struct ts_owner *o)
{
	struct ts_listener v = {}, *old;
	struct ts_listen_key k;

	listen_key(&k, netns, t);
	v.owner = *o;
	v.sk = (__u64)sk;
	v.ino = sock_ino(sk);
	v.uid = (__u32)bpf_get_current_uid_gid();
	old = bpf_map_lookup_elem(&listeners, &k);
	if (old) {
		/*
		 * The same address and port again: SO_REUSEPORT, which the
		 * kernel grants only to the same user, or root.  The entry
		 * keeps the budget it was charged to.
		 */
		v.uid = old->uid;
		*old = v;
		return;
	}
	if (!listener_charge(v.uid)) {
		__sync_fetch_and_add(&listen_refused, 1);
		return;
	}
	if (bpf_map_update_elem(&listeners, &k, &v, BPF_NOEXIST)) {
		listener_uncharge(v.uid);
		__sync_fetch_and_add(&listen_refused, 1);
	}
}

/* LISTEN -> CLOSE: remove the entry only if it is this socket's. */
static __always_inline void listener_del(const struct sock *sk, __u32 netns,
					 const struct tuple *t)
{
	struct ts_listen_key k;
	struct ts_listener *v;
	__u32 uid;

	listen_key(&k, netns, t);
	v = bpf_map_lookup_elem(&listeners, &k);
	if (!v)
		return;
	if (v->sk ? v->sk != (__u64)sk : v->ino != sock_ino(sk))
		return;
	uid = v->uid;
	if (!bpf_map_delete_elem(&listeners, &k))
		listener_uncharge(uid);
}

/*
 * A passive child is born (LISTEN -> SYN_RECV, while it is still a copy of
 * its listener: t is the listener's own address and port).
 */
static __always_inline void owner_from_listener(struct conn *c,
						const struct sock *sk,
						__u32 netns,
						const struct tuple *t)
{
	struct ts_listener *lo = listener_find(netns, t);
	__u64 key = (__u64)sk;

	/*
	 * A socket address reused: what accept() left for it is stale.  Looked
	 * up first: a miss is the rule, and an LRU delete takes its lock.
	 */
	if (accepts_used && bpf_map_lookup_elem(&accepts, &key))
		bpf_map_delete_elem(&accepts, &key);
	c->flags &= ~TS_F_ACCEPTED;
	if (lo) {
		c->owner = lo->owner;
		c->flags |= TS_F_OWNER_LISTENER;
		c->flags &= ~TS_F_NO_OWNER;
	} else {
		c->flags |= TS_F_NO_OWNER;
	}
}

static __always_inline void owner_accepted(struct conn *c,
					   const struct ts_owner *o)
{
	c->owner = *o;
	c->flags |= TS_F_ACCEPTED;
	c->flags &= ~TS_F_NO_OWNER;
}

/* The accept()ing process, once it is known, owns the connection. */
static __always_inline void owner_settle(struct conn *c, const struct sock *sk)
{
	struct ts_owner *a;
	__u64 key = (__u64)sk;

	if (!c || (c->flags & TS_F_ACCEPTED) ||
	    !(c->flags & (TS_F_OWNER_LISTENER | TS_F_NO_OWNER)))
		return;
	if (c->acc_ready) {
		owner_accepted(c, &c->accepted);
		return;
	}
	if (!accepts_used)
		return;
	a = bpf_map_lookup_elem(&accepts, &key);
	if (!a)
		return;
	owner_accepted(c, a);
	bpf_map_delete_elem(&accepts, &key);
}

/* First event of a socket older than the tracer: the snapshot's holder. */
static __always_inline void owner_seeded(struct conn *c, const struct sock *sk)
{
	struct ts_owner *o;
	__u64 ino;

	if (!(c->flags & TS_F_NO_OWNER))
		return;
	ino = sock_ino(sk);
	if (!ino)
		return;
	o = bpf_map_lookup_elem(&seeded, &ino);
	if (!o)
		return;
	c->owner = *o;
	c->flags &= ~TS_F_NO_OWNER;
	bpf_map_delete_elem(&seeded, &ino);
}

/*
 * SYN-ACK retransmissions happen on the listener: its own owner, or, for a
 * listener older than the tracer (no per-socket data), its entry in
 * 'listeners'.  tmp holds the latter.
 */
static __always_inline const struct conn *synack_owner(const struct conn *c,
						       __u32 netns,
						       const struct tuple *t,
						       struct conn *tmp)
{
	struct ts_listener *lo;

	if (c && !(c->flags & TS_F_NO_OWNER))
		return c;
	lo = listener_find(netns, t);
	if (!lo)
		return c;
	__builtin_memset(tmp, 0, sizeof(*tmp));
	tmp->owner = lo->owner;
	tmp->flags = TS_F_OWNER_LISTENER;
	return tmp;
}

/*
 * Does the connection pass -p and --cgroup?  Before accept() a passive
 * connection passes -p when the process holds its listener (user space
 * keeps those records until it knows who accepted the connection).
 */
static __always_inline bool owner_match(const struct conn *c)
{
	if (!filter_pid && !filter_cgroup)
		return true;
	if (!c)
		return false;
	if (filter_cgroup && !c->owner.cg_in)
		return false;
	if (!filter_pid || c->owner.pid == filter_pid)
		return true;
	return (c->flags & TS_F_OWNER_LISTENER) &&
	       !(c->flags & TS_F_ACCEPTED) && c->owner.held;
}

/* syscalls:sys_exit_accept4 / sys_exit_accept (format of every sys_exit_*). */
struct ts_sys_exit {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

/*
 * The task running now accepted sk (a TCP child, typed when the pointer
 * is a BTF one): it owns the connection from here on.  worker: the task
 * when it is an io_uring worker thread, named by its process's leader;
 * NULL otherwise.
 */
static __always_inline void accepted_by_current(const struct sock *sk,
						bool typed,
						struct task_struct *worker)
{
	struct ts_owner o = {};
	struct conn *c;
	__u64 key;

	owner_current(&o);
	if (worker)
		BPF_CORE_READ_STR_INTO(&o.comm, worker, group_leader, comm);
	key = (__u64)sk;
	/*
	 * The child's entry was made at its birth (LISTEN -> SYN_RECV), before
	 * it could be accepted; none when the filters left it out.  The owner
	 * is written before the flag that says it is there: the connection's
	 * next event may run on another CPU right now.
	 */
	if (classic_variant) {
		c = bpf_map_lookup_elem(&conn_lru, &key);
	} else {
		c = bpf_map_lookup_elem(&conn_hash, &key);
		/* conn_lru: only once the btf variant kept one there. */
		if (!c && storage_fallback)
			c = bpf_map_lookup_elem(&conn_lru, &key);
	}
	if (c) {
		if (!c->acc_ready) {
			c->accepted = o;
			__sync_fetch_and_add(&c->acc_ready, 1);
		}
	} else if (hash_full) {
		bpf_map_update_elem(&accepts, &key, &o, BPF_ANY);
		if (!accepts_used)
			accepts_used = 1;
	}
	/* -p follows the worker: its listener's next children pass too. */
	if (o.held) {
		struct ts_listener *lo;
		struct tuple t;

		sk_tuple(sk, typed, &t);
		lo = listener_find(sk_netns(sk, typed), &t);
		if (lo)
			lo->owner.held = 1;
	}
}

/* A TCP socket of either family (the child of an accept()). */
static __always_inline bool tcp_child(const struct sock *sk, bool typed)
{
	__u16 family;

	if (!sk || KREAD(typed, sk, sk_protocol) != IPPROTO_TCP)
		return false;
	family = KREAD(typed, sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6;
}

static __always_inline int on_accept(long fd)
{
	struct task_struct *task;
	struct fdtable *fdt;
	struct file **fds;
	struct file *file;
	struct socket *so;
	struct sock *sk;

	if (fd < 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (__u64)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	/* Another thread may have closed and reused the fd: check it. */
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	so = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (tcp_child(sk, false))
		accepted_by_current(sk, false, NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_accept4(struct ts_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_accept(struct ts_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

/*
 * The same by fexit on inet_csk_accept(), which returns the child, where
 * the kernel allows trampolines (the loader probes it): only an accept()
 * pays, not every system call of the machine, and io_uring's and the
 * kernel's own accepts count too.  Its arguments changed in 6.10 (sk,
 * flags, err, kern became sk, arg): a program for each, the loader keeps
 * the one that fits the kernel's BTF.
 */
#define TS_PF_IO_WORKER 0x00000010 /* include/linux/sched.h, since 5.5 */
#define TS_PF_KTHREAD 0x00200000

/*
 * io_uring accepts in the submitting task (inline, or in its task work
 * once a connection arrives) or, for a request it punts, in a worker:
 * since 5.12 a thread of the same process (its pid; the process's name is
 * its leader's, the worker's own is iou-wrk-N), before that a kernel
 * thread of its own, which holds nothing: the listener's owner stays.
 */
static __always_inline int on_fexit_accept(const struct sock *newsk)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	unsigned int pf = BPF_CORE_READ(task, flags);

	if (!tcp_child(newsk, true))
		return 0;
	if ((pf & (TS_PF_IO_WORKER | TS_PF_KTHREAD)) ==
	    (TS_PF_IO_WORKER | TS_PF_KTHREAD))
		return 0;
	accepted_by_current(newsk, true,
			    pf & TS_PF_IO_WORKER ? task : NULL);
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fx_accept4, struct sock *sk, int flags, int *err, bool kern,
	     struct sock *newsk)
{
	return on_fexit_accept(newsk);
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fx_accept2, struct sock *sk, void *arg, struct sock *newsk)
{
	return on_fexit_accept(newsk);
}

#endif /* TCPSCOPE_OWNERS_BPF_H */
