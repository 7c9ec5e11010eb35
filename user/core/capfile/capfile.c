// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Capture format pieces shared by writer and reader: header and sockets. */
#include "core/capfile/capfile_int.h"
#include "core/util/fmt.h"
#include "core/stream/states.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

const uint8_t ts_cap_magic[8] = {0x89, 'T', 'S', 'C', 'A', 'P', '\r', '\n'};

#define HEAD_FIXED 32

void ts_cap_sock_put(uint8_t *p, const struct ts_sock *s)
{
	put_u64(p, s->cookie);
	put_u64(p + 8, s->inode);
	put_u32(p + 16, s->netns);
	put_u32(p + 20, s->uid);
	put_u32(p + 24, s->pid);
	put_u32(p + 28, s->recv_q);
	put_u32(p + 32, s->send_q);
	put_u32(p + 36, (uint32_t)s->timer_ms);
	put_u16(p + 40, s->sport);
	put_u16(p + 42, s->dport);
	p[44] = s->family;
	p[45] = s->state;
	p[46] = s->timer;
	p[47] = s->retransmits;
	p[48] = s->probes;
	memcpy(p + 49, s->saddr, TS_ADDR_LEN);
	memcpy(p + 65, s->daddr, TS_ADDR_LEN);
	/* comm is NUL-padded to 16 bytes; strncpy's padding is the point. */
	memset(p + 81, 0, TS_COMM_LEN);
	memcpy(p + 81, s->comm, strnlen(s->comm, TS_COMM_LEN));
}

int ts_cap_sock_get(const uint8_t *p, struct ts_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->cookie = get_u64(p);
	s->inode = get_u64(p + 8);
	s->netns = get_u32(p + 16);
	s->uid = get_u32(p + 20);
	s->pid = get_u32(p + 24);
	s->recv_q = get_u32(p + 28);
	s->send_q = get_u32(p + 32);
	s->timer_ms = (int32_t)get_u32(p + 36);
	s->sport = get_u16(p + 40);
	s->dport = get_u16(p + 42);
	s->family = p[44];
	s->state = p[45];
	s->timer = p[46];
	s->retransmits = p[47];
	s->probes = p[48];
	memcpy(s->saddr, p + 49, TS_ADDR_LEN);
	memcpy(s->daddr, p + 65, TS_ADDR_LEN);
	memcpy(s->comm, p + 81, TS_COMM_LEN);
	s->comm[TS_COMM_LEN] = '\0';
	if ((s->family != 4 && s->family != 6) || !ts_state_valid(s->state) ||
	    s->timer > TS_TIMER_PROBE)
		return -EINVAL;
	return 0;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strnlen(s, TS_CAP_MAX_STR - 1);

	put_u16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return 2 + n;
}

size_t ts_cap_head_put(uint8_t *p, const struct ts_cap_header *h)
{
	size_t n = HEAD_FIXED;

	put_u64(p, h->start_mono_ns);
	put_u64(p + 8, (uint64_t)h->wall_offset_ns);
	put_u32(p + 16, h->filter.pid);
	put_u32(p + 20, h->filter.netns);
	put_u16(p + 24, h->filter.port);
	put_u16(p + 26, h->filter.sport);
	put_u16(p + 28, h->filter.dport);
	p[30] = h->filter.family;
	p[31] = 0;
	n += put_str(p + n, h->host);
	n += put_str(p + n, h->kernel);
	n += put_str(p + n, h->cmdline);
	return n;
}

static int get_str(const uint8_t *p, size_t len, size_t *pos, char *out)
{
	size_t n;

	if (len - *pos < 2)
		return -EINVAL;
	n = get_u16(p + *pos);
	*pos += 2;
	if (n >= TS_CAP_MAX_STR || len - *pos < n)
		return -EINVAL;
	memcpy(out, p + *pos, n);
	out[n] = '\0';
	*pos += n;
	return 0;
}

int ts_cap_head_get(const uint8_t *p, size_t len, struct ts_cap_header *h, const char **what)
{
	size_t pos = HEAD_FIXED;

	*what = "header too short";
	if (len < HEAD_FIXED)
		return -EINVAL;
	h->start_mono_ns = get_u64(p);
	h->wall_offset_ns = (int64_t)get_u64(p + 8);
	memset(&h->filter, 0, sizeof(h->filter));
	h->filter.pid = get_u32(p + 16);
	h->filter.netns = get_u32(p + 20);
	h->filter.port = get_u16(p + 24);
	h->filter.sport = get_u16(p + 26);
	h->filter.dport = get_u16(p + 28);
	h->filter.family = p[30];
	*what = "bad filter family in header";
	if (h->filter.family != 0 && h->filter.family != 4 && h->filter.family != 6)
		return -EINVAL;
	*what = "bad string length in header";
	if (get_str(p, len, &pos, h->host) || get_str(p, len, &pos, h->kernel) ||
	    get_str(p, len, &pos, h->cmdline))
		return -EINVAL;
	/* Later minor versions may append fields: ignore what follows. */
	return 0;
}

void ts_cap_header_init(struct ts_cap_header *h, int argc, char **argv, const struct ts_filter *f)
{
	struct utsname u;
	size_t n = 0;

	memset(h, 0, sizeof(*h));
	h->version = TS_CAP_VERSION;
	h->start_mono_ns = ts_now_mono_ns();
	h->wall_offset_ns = ts_mono_to_wall_offset();
	if (f)
		h->filter = *f;
	if (gethostname(h->host, sizeof(h->host) - 1))
		h->host[0] = '\0';
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	for (int i = 0; i < argc && n + 1 < sizeof(h->cmdline); i++) {
		int w =
		    snprintf(h->cmdline + n, sizeof(h->cmdline) - n, "%s%s", i ? " " : "", argv[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= sizeof(h->cmdline))
		h->cmdline[sizeof(h->cmdline) - 1] = '\0';
}
