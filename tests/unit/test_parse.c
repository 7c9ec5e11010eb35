// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Range-checked parsing of option values and record filtering. */
#include <errno.h>
#include "check.h"
#include "core/stream/filter.h"
#include "core/util/parse.h"

static void test_port(void)
{
	uint16_t p = 7;

	CHECK_INT(ts_parse_port("80", &p), 0);
	CHECK_INT(p, 80);
	CHECK_INT(ts_parse_port("65535", &p), 0);
	CHECK_INT(ts_parse_port("0", &p), -ERANGE);
	CHECK_INT(ts_parse_port("65536", &p), -ERANGE);
	CHECK_INT(ts_parse_port("-1", &p), -EINVAL);
	CHECK_INT(ts_parse_port("80x", &p), -EINVAL);
	CHECK_INT(ts_parse_port("", &p), -EINVAL);
	CHECK_INT(ts_parse_port("99999999999999999999999", &p), -ERANGE);
	CHECK_INT(p, 65535);
}

static void test_size(void)
{
	uint64_t v = 0;

	CHECK_INT(ts_parse_size("4096", &v), 0);
	CHECK_INT(v, 4096);
	CHECK_INT(ts_parse_size("16M", &v), 0);
	CHECK_INT(v, 16 << 20);
	CHECK_INT(ts_parse_size("64KiB", &v), 0);
	CHECK_INT(v, 64 << 10);
	CHECK_INT(ts_parse_size("1g", &v), 0);
	CHECK_INT(v, 1 << 30);
	CHECK_INT(ts_parse_size("1T", &v), -EINVAL);
	CHECK_INT(ts_parse_size("M", &v), -EINVAL);
	CHECK_INT(ts_parse_size("12Mx", &v), -EINVAL);
}

static void test_duration(void)
{
	uint64_t v = 0;

	CHECK_INT(ts_parse_duration("2", &v), 0);
	CHECK_INT(v, 2000000000ull);
	CHECK_INT(ts_parse_duration("1.5s", &v), 0);
	CHECK_INT(v, 1500000000ull);
	CHECK_INT(ts_parse_duration("250ms", &v), 0);
	CHECK_INT(v, 250000000ull);
	CHECK_INT(ts_parse_duration("2m", &v), 0);
	CHECK_INT(v, 120000000000ull);
	CHECK_INT(ts_parse_duration("-1", &v), -EINVAL);
	CHECK_INT(ts_parse_duration("3d", &v), -EINVAL);
	CHECK_INT(ts_parse_duration("1e300", &v), -ERANGE);
}

static void test_netns(void)
{
	uint32_t ns = 0;

	CHECK_INT(ts_parse_netns("4026531840", &ns), 0);
	CHECK_INT(ns, 4026531840u);
	CHECK_INT(ts_parse_netns("/proc/self/ns/net", &ns), 0);
	CHECK(ns != 0);
	CHECK(ts_parse_netns("/nonexistent/netns", &ns) < 0);
	/* Files that are not network namespaces are refused. */
	CHECK_INT(ts_parse_netns("/proc/self/ns/uts", &ns), -EINVAL);
	CHECK_INT(ts_parse_netns("/proc/self/stat", &ns), -EINVAL);
	CHECK_INT(ts_parse_netns("", &ns), -EINVAL);
}

static void test_filter(void)
{
	struct ts_filter f = { 0 };
	struct ts_rec r = { 0 };

	r.type = TS_REC_STATE;
	r.family = 4;
	r.sport = 5000;
	r.dport = 80;
	r.pid = 10;
	CHECK(ts_filter_match(&f, &r));
	f.port = 80;
	CHECK(ts_filter_match(&f, &r));
	f.port = 5000;
	CHECK(ts_filter_match(&f, &r));
	f.port = 81;
	CHECK(!ts_filter_match(&f, &r));
	f = (struct ts_filter){ .dport = 5000 };
	CHECK(!ts_filter_match(&f, &r));
	f = (struct ts_filter){ .family = 6 };
	CHECK(!ts_filter_match(&f, &r));
	f = (struct ts_filter){ .pid = 11 };
	CHECK(!ts_filter_match(&f, &r));
	/* Losses are never filtered away. */
	r.type = TS_REC_LOST;
	CHECK(ts_filter_match(&f, &r));
}

int main(void)
{
	test_port();
	test_size();
	test_duration();
	test_netns();
	test_filter();
	return check_report();
}
