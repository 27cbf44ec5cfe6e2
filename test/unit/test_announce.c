/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/announce: the one-line requests of ivgmp-announce.
 *
 *   announce send|receive|both GROUP [source S] lifetime SECONDS
 *   withdraw send|receive|both GROUP
 *
 * Good lines parse into the request they say; every refusal names what is
 * wrong (the word at fault, or what was expected), since the reason goes
 * back to the user verbatim as "error: <reason>"; and what
 * announce_request_format writes parses back to the same request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "announce/announce.h"

#define SEND    ANNOUNCE_ROLE_SEND
#define RECEIVE ANNOUNCE_ROLE_RECEIVE
#define BOTH    (ANNOUNCE_ROLE_SEND | ANNOUNCE_ROLE_RECEIVE)

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

static void
assert_request(const struct announce_request *req, bool withdraw, uint8_t roles,
	       uint32_t group, uint32_t source, uint32_t lifetime_s)
{
	assert_int_equal(req->withdraw, withdraw);
	assert_int_equal(req->roles, roles);
	assert_int_equal(req->group, group);
	assert_int_equal(req->source, source);
	assert_int_equal(req->lifetime_s, lifetime_s);
}

/* Parse a line that must be accepted. */
static struct announce_request
parse_ok(const char *line)
{
	struct announce_request req;
	char err[128] = "";
	int rc = announce_request_parse(line, &req, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s' refused: %s", line, err);
	return req;
}

/* Parse a line that must be refused, with a reason that contains each of
 * the given fragments (the word at fault, what was expected). */
static void
assert_refused(const char *line, const char *fragment, const char *fragment2)
{
	struct announce_request req;
	char err[256] = "";

	if (announce_request_parse(line, &req, err, sizeof(err)) != -1)
		fail_msg("'%s' accepted", line);
	if (err[0] == '\0')
		fail_msg("'%s' refused without a reason", line);
	if (strstr(err, fragment) == NULL || (fragment2 && strstr(err, fragment2) == NULL))
		fail_msg("'%s' refused with '%s', which does not say '%s'%s%s%s", line, err,
			 fragment, fragment2 ? " and '" : "", fragment2 ? fragment2 : "",
			 fragment2 ? "'" : "");
}

/* ---- good lines ---- */

static void
test_announce_parse_send_with_lifetime(void **state)
{
	struct announce_request req = parse_ok("announce send 239.1.2.3 lifetime 600");

	(void)state;
	assert_request(&req, false, SEND, ip4(239, 1, 2, 3), 0, 600);
}

static void
test_announce_parse_receive_and_both(void **state)
{
	struct announce_request r = parse_ok("announce receive 239.9.9.9 lifetime 1");
	struct announce_request b = parse_ok("announce both 224.0.1.129 lifetime 4294967295");

	(void)state;
	assert_request(&r, false, RECEIVE, ip4(239, 9, 9, 9), 0, 1);
	assert_request(&b, false, BOTH, ip4(224, 0, 1, 129), 0, UINT32_MAX);
}

/* "source" and "lifetime" in either order. */
static void
test_announce_parse_with_source(void **state)
{
	struct announce_request a = parse_ok("announce send 232.1.1.1 source 10.0.0.7 lifetime 30");
	struct announce_request b = parse_ok("announce receive 232.1.1.1 lifetime 30 source 10.0.0.7");

	(void)state;
	assert_request(&a, false, SEND, ip4(232, 1, 1, 1), ip4(10, 0, 0, 7), 30);
	assert_request(&b, false, RECEIVE, ip4(232, 1, 1, 1), ip4(10, 0, 0, 7), 30);
}

static void
test_announce_parse_withdraw(void **state)
{
	struct announce_request s = parse_ok("withdraw send 239.1.2.3");
	struct announce_request r = parse_ok("withdraw receive 239.1.2.3");
	struct announce_request b = parse_ok("withdraw both 239.1.2.3");

	(void)state;
	assert_request(&s, true, SEND, ip4(239, 1, 2, 3), 0, 0);
	assert_request(&r, true, RECEIVE, ip4(239, 1, 2, 3), 0, 0);
	assert_request(&b, true, BOTH, ip4(239, 1, 2, 3), 0, 0);
}

/* A datagram may end in a newline (echo | socat); words may be separated by
 * several spaces or tabs. */
static void
test_announce_parse_tolerates_whitespace_and_newline(void **state)
{
	struct announce_request a = parse_ok("  announce\tsend   239.1.2.3 lifetime\t\t5\n");
	struct announce_request w = parse_ok("withdraw both 239.1.2.3\r\n");

	(void)state;
	assert_request(&a, false, SEND, ip4(239, 1, 2, 3), 0, 5);
	assert_request(&w, true, BOTH, ip4(239, 1, 2, 3), 0, 0);
}

/* A refused line leaves no stale fields behind from an earlier request. */
static void
test_announce_parse_clears_the_request(void **state)
{
	struct announce_request req;
	char err[128];

	(void)state;
	memset(&req, 0xa5, sizeof(req));
	assert_int_equal(announce_request_parse("withdraw send 239.1.2.3", &req, err,
						sizeof(err)), 0);
	assert_request(&req, true, SEND, ip4(239, 1, 2, 3), 0, 0);
}

/* ---- refusals ---- */

static void
test_announce_parse_refuses_unknown_verb(void **state)
{
	(void)state;
	assert_refused("join send 239.1.2.3 lifetime 5", "announce|withdraw", NULL);
	assert_refused("Announce send 239.1.2.3 lifetime 5", "announce|withdraw", NULL);
	assert_refused("announced send 239.1.2.3 lifetime 5", "announce|withdraw", NULL);
	assert_refused("", "announce|withdraw", NULL);
	assert_refused("announce send", "announce|withdraw", NULL);
}

static void
test_announce_parse_refuses_bad_role(void **state)
{
	(void)state;
	assert_refused("announce sned 239.1.2.3 lifetime 5", "'sned'", "send, receive or both");
	assert_refused("announce sender 239.1.2.3 lifetime 5", "'sender'", NULL);
	assert_refused("withdraw all 239.1.2.3", "'all'", "send, receive or both");
}

static void
test_announce_parse_refuses_bad_group(void **state)
{
	(void)state;
	assert_refused("announce send 239.1.2 lifetime 5", "'239.1.2'", "group");
	assert_refused("announce send 239.1.2.256 lifetime 5", "'239.1.2.256'", "group");
	assert_refused("announce send group lifetime 5", "'group'", "group");
	assert_refused("withdraw send ff02::1", "'ff02::1'", "IPv4");
}

static void
test_announce_parse_refuses_bad_source(void **state)
{
	(void)state;
	assert_refused("announce send 232.1.1.1 source 10.0.0 lifetime 5", "'10.0.0'", "source");
	assert_refused("announce send 232.1.1.1 source me lifetime 5", "'me'", "source");
	/* "source" without its address. */
	assert_refused("announce send 232.1.1.1 lifetime 5 source", "'source'", NULL);
}

static void
test_announce_parse_refuses_missing_lifetime(void **state)
{
	(void)state;
	assert_refused("announce send 239.1.2.3", "lifetime", NULL);
	assert_refused("announce send 239.1.2.3 source 10.0.0.7", "lifetime", NULL);
	/* "lifetime" without its number. */
	assert_refused("announce send 239.1.2.3 lifetime", "'lifetime'", NULL);
}

static void
test_announce_parse_refuses_zero_lifetime(void **state)
{
	(void)state;
	assert_refused("announce send 239.1.2.3 lifetime 0", "lifetime", "1 or more");
	assert_refused("announce both 239.1.2.3 lifetime 000", "lifetime", "1 or more");
}

static void
test_announce_parse_refuses_non_numeric_lifetime(void **state)
{
	(void)state;
	assert_refused("announce send 239.1.2.3 lifetime ten", "'ten'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime 10s", "'10s'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime -5", "'-5'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime +5", "'+5'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime 0x10", "'0x10'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime 4294967296", "'4294967296'", "seconds");
	assert_refused("announce send 239.1.2.3 lifetime 99999999999999999999999",
		       "'99999999999999999999999'", "seconds");
}

static void
test_announce_parse_refuses_lifetime_on_withdraw(void **state)
{
	(void)state;
	assert_refused("withdraw send 239.1.2.3 lifetime 5", "'lifetime'", NULL);
	assert_refused("withdraw receive 239.1.2.3 source 10.0.0.7", "'source'", NULL);
}

static void
test_announce_parse_refuses_extra_words(void **state)
{
	(void)state;
	assert_refused("announce send 239.1.2.3 lifetime 5 now", "'now'", NULL);
	assert_refused("announce send 239.1.2.3 lifetime 5 please now", "'please'", NULL);
	assert_refused("announce send 239.1.2.3 ttl 5", "'ttl'", NULL);
	assert_refused("withdraw send 239.1.2.3 now", "'now'", NULL);
	assert_refused("announce send 239.1.2.3 lifetime 5 source 10.0.0.1 a b c d",
		       "too many words", NULL);
}

static void
test_announce_parse_refuses_overlong_line(void **state)
{
	char line[ANNOUNCE_LINE_MAX + 64];
	char fits[ANNOUNCE_LINE_MAX];
	int n;

	(void)state;
	/* A good request padded with spaces to exactly the limit. */
	n = snprintf(fits, sizeof(fits), "announce send 239.1.2.3 lifetime 5");
	memset(fits + n, ' ', sizeof(fits) - 1 - (size_t)n);
	fits[sizeof(fits) - 1] = '\0';
	assert_int_equal(strlen(fits), ANNOUNCE_LINE_MAX - 1);
	parse_ok(fits);
	/* One byte more. */
	memcpy(line, fits, sizeof(fits) - 1);
	line[ANNOUNCE_LINE_MAX - 1] = ' ';
	line[ANNOUNCE_LINE_MAX] = '\0';
	assert_refused(line, "longer than 255 bytes", NULL);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_refused(line, "longer than", NULL);
}

/* ---- format ---- */

static void
test_announce_format_writes_the_request_line(void **state)
{
	struct announce_request a = { .roles = SEND, .group = ip4(239, 1, 2, 3),
				      .lifetime_s = 600 };
	struct announce_request s = { .roles = RECEIVE, .group = ip4(232, 1, 1, 1),
				      .source = ip4(10, 0, 0, 7), .lifetime_s = 30 };
	struct announce_request w = { .withdraw = true, .roles = BOTH, .group = ip4(239, 1, 2, 3) };
	char buf[ANNOUNCE_LINE_MAX];

	(void)state;
	assert_int_equal(announce_request_format(&a, buf, sizeof(buf)),
			 (int)strlen("announce send 239.1.2.3 lifetime 600"));
	assert_string_equal(buf, "announce send 239.1.2.3 lifetime 600");
	announce_request_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "announce receive 232.1.1.1 source 10.0.0.7 lifetime 30");
	announce_request_format(&w, buf, sizeof(buf));
	assert_string_equal(buf, "withdraw both 239.1.2.3");
}

static void
test_announce_format_refuses_a_short_buffer(void **state)
{
	struct announce_request a = { .roles = SEND, .group = ip4(239, 1, 2, 3),
				      .lifetime_s = 600 };
	const int len = (int)strlen("announce send 239.1.2.3 lifetime 600");
	char buf[64];

	(void)state;
	assert_int_equal(announce_request_format(&a, buf, (size_t)len), -1);
	assert_int_equal(announce_request_format(&a, buf, (size_t)len + 1), len);
}

/* Every request a line can say, formatted, parses back to itself. */
static void
test_announce_format_round_trips_through_parse(void **state)
{
	static const uint8_t roles[] = { SEND, RECEIVE, BOTH };
	const uint32_t groups[] = { ip4(224, 0, 1, 1), ip4(232, 255, 0, 1),
				    ip4(239, 255, 255, 255) };
	const uint32_t sources[] = { 0, ip4(10, 0, 0, 7), ip4(255, 255, 255, 254) };
	static const uint32_t lifetimes[] = { 1, 3600, UINT32_MAX };
	unsigned int checked = 0;

	(void)state;
	for (int withdraw = 0; withdraw < 2; withdraw++)
	for (size_t r = 0; r < 3; r++)
	for (size_t g = 0; g < 3; g++)
	for (size_t s = 0; s < 3; s++)
	for (size_t l = 0; l < 3; l++) {
		struct announce_request req = {
			.withdraw = withdraw, .roles = roles[r], .group = groups[g],
			.source = withdraw ? 0 : sources[s],
			.lifetime_s = withdraw ? 0 : lifetimes[l],
		};
		struct announce_request back;
		char buf[ANNOUNCE_LINE_MAX], err[128];
		int n = announce_request_format(&req, buf, sizeof(buf));

		assert_true(n > 0);
		assert_int_equal(strlen(buf), (size_t)n);
		if (announce_request_parse(buf, &back, err, sizeof(err)) != 0)
			fail_msg("'%s' does not parse: %s", buf, err);
		assert_request(&back, req.withdraw, req.roles, req.group, req.source,
			       req.lifetime_s);
		/* And the parsed request formats to the same line. */
		{
			char again[ANNOUNCE_LINE_MAX];

			assert_int_equal(announce_request_format(&back, again, sizeof(again)), n);
			assert_string_equal(again, buf);
		}
		checked++;
	}
	assert_int_equal(checked, 2 * 3 * 3 * 3 * 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_parse_send_with_lifetime),
		cmocka_unit_test(test_announce_parse_receive_and_both),
		cmocka_unit_test(test_announce_parse_with_source),
		cmocka_unit_test(test_announce_parse_withdraw),
		cmocka_unit_test(test_announce_parse_tolerates_whitespace_and_newline),
		cmocka_unit_test(test_announce_parse_clears_the_request),
		cmocka_unit_test(test_announce_parse_refuses_unknown_verb),
		cmocka_unit_test(test_announce_parse_refuses_bad_role),
		cmocka_unit_test(test_announce_parse_refuses_bad_group),
		cmocka_unit_test(test_announce_parse_refuses_bad_source),
		cmocka_unit_test(test_announce_parse_refuses_missing_lifetime),
		cmocka_unit_test(test_announce_parse_refuses_zero_lifetime),
		cmocka_unit_test(test_announce_parse_refuses_non_numeric_lifetime),
		cmocka_unit_test(test_announce_parse_refuses_lifetime_on_withdraw),
		cmocka_unit_test(test_announce_parse_refuses_extra_words),
		cmocka_unit_test(test_announce_parse_refuses_overlong_line),
		cmocka_unit_test(test_announce_format_writes_the_request_line),
		cmocka_unit_test(test_announce_format_refuses_a_short_buffer),
		cmocka_unit_test(test_announce_format_round_trips_through_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
