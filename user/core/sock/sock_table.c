// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netstat's table, written for speed: a snapshot of 100 000 sockets should
 * print in a few tens of milliseconds, so rows are assembled by hand into
 * a line buffer instead of going through printf.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sock/sock_table.h"
#include "core/stream/states.h"

#define ADDR_MIN_WIDTH 23 /* netstat's */
#define PORTNAME_MAX 32	  /* longer service names print as numbers */
#define ENDPOINT_LEN TS_ENDPOINT_LEN(PORTNAME_MAX)

struct ts_portnames {
	char *name[65536];
};

/* --- port names ---------------------------------------------------------- */

int ts_portnames__load(const char *path, struct ts_portnames **out)
{
	struct ts_portnames *p;
	char line[512];
	FILE *f;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		/* No services file: ports stay numbers, as with -n. */
		*out = p;
		return 0;
	}
	/* "name  port/proto  aliases...  # comment"; the first name of a
	 * port wins, as getservbyport() returns it. */
	while (fgets(line, sizeof(line), f)) {
		char *name, *spec, *slash, *end, *save = NULL;
		unsigned long port;

		line[strcspn(line, "#\n")] = '\0';
		name = strtok_r(line, " \t", &save);
		spec = name ? strtok_r(NULL, " \t", &save) : NULL;
		if (!spec)
			continue;
		slash = strchr(spec, '/');
		if (!slash || strcmp(slash + 1, "tcp"))
			continue;
		*slash = '\0';
		errno = 0;
		port = strtoul(spec, &end, 10);
		if (errno || *end || end == spec || port == 0 || port > 65535)
			continue;
		if (p->name[port])
			continue;
		p->name[port] = strdup(name);
		if (!p->name[port]) {
			fclose(f);
			ts_portnames__free(p);
			return -ENOMEM;
		}
	}
	fclose(f);
	*out = p;
	return 0;
}

void ts_portnames__free(struct ts_portnames *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < 65536; i++)
		free(p->name[i]);
	free(p);
}

const char *ts_portname(const struct ts_portnames *p, uint16_t port)
{
	return p ? p->name[port] : NULL;
}

/* --- selection ----------------------------------------------------------- */

bool ts_table_selected(const struct ts_table_opts *o, const struct ts_sock *s)
{
	if (o->family && s->family != o->family)
		return false;
	if (s->state >= 32)
		return false;
	if (o->states)
		return o->states & (1u << s->state);
	if (o->listening)
		return s->state == TS_LISTEN;
	if (o->all)
		return true;
	return s->state != TS_LISTEN;
}

const char *ts_timer_name(unsigned int timer)
{
	switch (timer) {
	case TS_TIMER_ON:
		return "on";
	case TS_TIMER_KEEPALIVE:
		return "keepalive";
	case TS_TIMER_TIMEWAIT:
		return "timewait";
	case TS_TIMER_PROBE:
		return "probe";
	default:
		return "off";
	}
}

/* --- text ---------------------------------------------------------------- */

/* Output in large chunks: one fwrite per 64 KiB, not per field. */
struct obuf {
	FILE *f;
	size_t len;
	bool err;
	char buf[1 << 16];
};

static void ob_flush(struct obuf *b)
{
	if (b->len && fwrite(b->buf, 1, b->len, b->f) != b->len)
		b->err = true;
	b->len = 0;
}

/* Append a finished line (at most 1 KiB). */
static void ob_line(struct obuf *b, const char *s, size_t n)
{
	if (b->len + n > sizeof(b->buf))
		ob_flush(b);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	return p + ts_put_u64(p, v);
}

/* Pad with spaces from start to width characters. */
static char *pad_to(char *p, const char *start, size_t width)
{
	while ((size_t)(p - start) < width)
		*p++ = ' ';
	return p;
}

/* Right-align a number in width characters. */
static char *put_u64_right(char *p, uint64_t v, size_t width)
{
	char tmp[24];
	size_t n = (size_t)(put_u64(tmp, v) - tmp);

	while (n < width--)
		*p++ = ' ';
	memcpy(p, tmp, n);
	return p + n;
}

/* "1.2.3.4:80", "[::1]:http", "0.0.0.0:*"; returns the end (no NUL). */
static char *put_endpoint(char *p, int family, const uint8_t *a, uint16_t port,
			  const struct ts_portnames *names)
{
	const char *name = port ? ts_portname(names, port) : NULL;

	if (name && strlen(name) >= PORTNAME_MAX)
		name = NULL;
	return p + ts_put_endpoint(p, family, a, port, name);
}

/* User names for -e, with a one-entry cache (most sockets share a uid). */
struct user_cache {
	uint32_t uid;
	bool valid;
	char name[33];
};

static const char *user_name(struct user_cache *c, uint32_t uid, bool numeric)
{
	struct passwd *pw;

	if (c->valid && c->uid == uid)
		return c->name;
	c->uid = uid;
	c->valid = true;
	pw = numeric ? NULL : getpwuid(uid);
	if (pw && strlen(pw->pw_name) < sizeof(c->name))
		strcpy(c->name, pw->pw_name);
	else
		snprintf(c->name, sizeof(c->name), "%u", uid);
	return c->name;
}

/* Timer seconds as netstat prints them: two decimals. */
static char *put_secs(char *p, int32_t ms)
{
	uint32_t v = ms < 0 ? 0 : (uint32_t)ms;

	p = put_u64(p, v / 1000);
	*p++ = '.';
	ts_put_u64_fixed(p, (v % 1000) / 10, 2);
	return p + 2;
}

static char *trim(char *start, char *p)
{
	while (p > start && p[-1] == ' ')
		p--;
	return p;
}

int ts_table__print(FILE *f, const struct ts_table_opts *o,
		   const struct ts_portnames *names, const struct ts_sock *s,
		   size_t n)
{
	const struct ts_portnames *nm = o->numeric ? NULL : names;
	struct user_cache users = {};
	size_t aw = ADDR_MIN_WIDTH;
	char line[1024], *p, *col;
	struct obuf *b;
	int rows = 0;

	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->f = f;
	b->len = 0;
	b->err = false;

	/* Width of the address columns: only IPv6 can pass netstat's 23. */
	for (size_t i = 0; i < n; i++) {
		char ep[ENDPOINT_LEN];
		size_t w;

		if (s[i].family != 6 || !ts_table_selected(o, &s[i]))
			continue;
		w = (size_t)(put_endpoint(ep, 6, s[i].saddr, s[i].sport, nm) - ep);
		if (w > aw)
			aw = w;
		w = (size_t)(put_endpoint(ep, 6, s[i].daddr, s[i].dport, nm) - ep);
		if (w > aw)
			aw = w;
	}

	if (o->title) {
		p = line;
		p = put_str(p, "Active Internet connections ");
		if (o->states)
			p = put_str(p, "(selected states)");
		else if (o->listening)
			p = put_str(p, "(only servers)");
		else if (o->all)
			p = put_str(p, "(servers and established)");
		else
			p = put_str(p, "(w/o servers)");
		*p++ = '\n';
		ob_line(b, line, (size_t)(p - line));
	}
	p = line;
	p = put_str(p, "Proto Recv-Q Send-Q ");
	col = p;
	p = pad_to(put_str(p, "Local Address"), col, aw + 1);
	col = p;
	p = pad_to(put_str(p, "Foreign Address"), col, aw + 1);
	col = p;
	p = pad_to(put_str(p, "State"), col, 12);
	if (o->extend) {
		col = p;
		p = pad_to(put_str(p, "User"), col, 11);
		col = p;
		p = pad_to(put_str(p, "Inode"), col, 11);
	}
	if (o->pids) {
		col = p;
		p = pad_to(put_str(p, "PID/Program name"), col, 21);
	}
	if (o->timers)
		p = put_str(p, "Timer");
	p = trim(line, p);
	*p++ = '\n';
	ob_line(b, line, (size_t)(p - line));

	for (size_t i = 0; i < n; i++) {
		const struct ts_sock *k = &s[i];

		if (!ts_table_selected(o, k))
			continue;
		p = line;
		p = put_str(p, k->family == 6 ? "tcp6 " : "tcp  ");
		p = put_u64_right(p, k->recv_q, 6);
		*p++ = ' ';
		p = put_u64_right(p, k->send_q, 6);
		*p++ = ' ';
		col = p;
		p = pad_to(put_endpoint(p, k->family, k->saddr, k->sport, nm), col, aw + 1);
		col = p;
		p = pad_to(put_endpoint(p, k->family, k->daddr, k->dport, nm), col, aw + 1);
		col = p;
		p = pad_to(put_str(p, ts_state_name(k->state)), col, 12);
		if (o->extend) {
			col = p;
			p = pad_to(put_str(p, user_name(&users, k->uid, o->numeric)),
				   col, 11);
			col = p;
			p = pad_to(put_u64(p, k->inode), col, 11);
		}
		if (o->pids) {
			col = p;
			if (k->pid) {
				p = put_u64(p, k->pid);
				*p++ = '/';
				p = put_str(p, k->comm);
			} else {
				*p++ = '-';
			}
			p = pad_to(p, col, 21);
		}
		if (o->timers) {
			p = put_str(p, ts_timer_name(k->timer));
			p = put_str(p, " (");
			p = put_secs(p, k->timer ? k->timer_ms : 0);
			*p++ = '/';
			p = put_u64(p, k->retransmits);
			*p++ = '/';
			p = put_u64(p, k->probes);
			*p++ = ')';
		}
		p = trim(line, p);
		*p++ = '\n';
		ob_line(b, line, (size_t)(p - line));
		rows++;
	}
	ob_flush(b);
	if (b->err || ferror(f))
		rows = -EIO;
	free(b);
	return rows;
}

/* --- JSON ---------------------------------------------------------------- */

void ts_sock_json(FILE *f, const struct ts_sock *s)
{
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", "socket");
	ts_json_conn_id(&w, s->cookie);
	ts_json_owner(&w, s->pid, s->comm);
	ts_json_tuple(&w, s->family, s->saddr, s->sport, s->daddr, s->dport);
	ts_jsonw__u64(&w, "netns", s->netns);
	ts_jsonw__str(&w, "state", ts_state_name(s->state));
	ts_jsonw__u64(&w, "recv_q", s->recv_q);
	ts_jsonw__u64(&w, "send_q", s->send_q);
	ts_jsonw__u64(&w, "uid", s->uid);
	ts_jsonw__u64(&w, "inode", s->inode);
	ts_jsonw__str(&w, "timer", ts_timer_name(s->timer));
	if (s->timer)
		ts_jsonw__u64(&w, "timer_us", s->timer_ms > 0 ? (uint64_t)s->timer_ms * 1000 : 0);
	else
		ts_jsonw__null(&w, "timer_us");
	ts_jsonw__u64(&w, "timer_retransmits", s->retransmits);
	ts_jsonw__u64(&w, "timer_probes", s->probes);
	ts_jsonw__end(&w);
}

int ts_table__print_json(FILE *f, const struct ts_table_opts *o, const struct ts_sock *s,
			 size_t n, uint64_t ts_ns, int64_t wall_offset_ns)
{
	struct ts_jsonw w;
	int rows = 0;

	for (size_t i = 0; i < n; i++)
		rows += ts_table_selected(o, &s[i]);
	/* One object says when the sockets were taken and how many follow. */
	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", "snapshot");
	ts_json_time(&w, "", ts_ns, wall_offset_ns);
	ts_jsonw__str(&w, "source", "live");
	ts_jsonw__u64(&w, "sockets", (uint64_t)rows);
	ts_jsonw__end(&w);
	for (size_t i = 0; i < n; i++)
		if (ts_table_selected(o, &s[i]))
			ts_sock_json(f, &s[i]);
	return ferror(f) ? -EIO : rows;
}
