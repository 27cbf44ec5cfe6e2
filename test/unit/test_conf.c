/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/conf against doc/configuration.rst: what a good file
 * loads into, and that every refusal names the file, the line and a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <rte_config.h>

#include "conf/conf.h"

/* The example of doc/configuration.rst, verbatim. */
static const char example[] =
	"lan-port net_pcap0\n"
	"wan-port net_pcap1\n"
	"wan-address 10.99.0.1\n"
	"wan-nexthop-mac 02:00:00:00:00:fe\n"
	"\n"
	"site B 10.99.0.2\n"
	"site C 10.99.0.3 udp-encap\n"
	"\n"
	"sa out B spi 0x1002 aes-gcm-128 key 0x00112233445566778899aabbccddeeff01020304\n"
	"sa in  B spi 0x2001 aes-gcm-128 key 0xffeeddccbbaa99887766554433221100a1a2a3a4\n"
	"sa out C spi 0x1003 aes-gcm-256 key 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fc0c1c2c3\n"
	"\n"
	"group 239.1.1.1 send-to B C\n"
	"group 239.2.2.2 send-to B\n"
	"group 239.9.9.9 receive\n"
	"\n"
	"# 239.3.3.3 in group mode: one encryption for B and C, no 'sa out' needed\n"
	"group 239.3.3.3 send-to B C\n"
	"group-sa 239.3.3.3 spi 0x3003 aes-gcm-128 key 0x0f0e0d0c0b0a09080706050403020100b0b1b2b3\n";

/* A minimal good file of BASE_LINES lines; refusal tests append to it, so
 * the first appended line is line BASE_LINES + 1. */
#define BASE_LINES 7
#define base \
	"lan-port 0\n" \
	"wan-port 1\n" \
	"wan-address 192.0.2.1\n" \
	"wan-nexthop-mac 02:00:00:00:00:fe\n" \
	"site B 198.51.100.2\n" \
	"sa out B spi 4096 aes-gcm-128 key 00112233445566778899aabbccddeeff01020304\n" \
	"sa in B spi 8192 aes-gcm-128 key ffeeddccbbaa99887766554433221100a1a2a3a4\n"

#define KEY128 "00112233445566778899aabbccddeeff01020304"

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 |
		     (uint32_t)c << 8 | d);
}

static int
setup(void **state)
{
	struct conf *conf = conf_new();

	if (conf == NULL)
		return -1;
	*state = conf;
	return 0;
}

static int
teardown(void **state)
{
	conf_free(*state);
	return 0;
}

/* Load text, printing the error so that a failing test says why. */
static int
load(struct conf *conf, const char *text, char *err, size_t err_len)
{
	int rc;

	err[0] = '\0';
	rc = conf_load_string(conf, "test.conf", text, err, err_len);
	if (rc != 0)
		print_message("conf error: %s\n", err);
	return rc;
}

static void
load_ok(struct conf *conf, const char *text)
{
	char err[CONF_ERR_MAX];

	assert_int_equal(load(conf, text, err, sizeof(err)), 0);
}

static const struct conf_group *
group_find(const struct conf *conf, uint32_t group_be)
{
	for (uint32_t i = 0; i < conf->n_groups; i++)
		if (conf->groups[i].group == group_be)
			return &conf->groups[i];
	return NULL;
}

static const struct conf_sa *
sa_find(const struct conf *conf, bool inbound, uint32_t spi)
{
	for (uint16_t i = 0; i < conf->n_sas; i++)
		if (conf->sas[i].inbound == inbound &&
		    conf->sas[i].params.spi == spi)
			return &conf->sas[i];
	return NULL;
}

static bool
contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/*
 * Load text into a fresh configuration and expect a refusal: -1, an error
 * starting "test.conf:LINE:" ("test.conf:" when line is 0, a whole-file
 * problem) and holding at least one of the NULL-terminated words.
 */
static void
expect_refusal_(const char *text, unsigned int line, ...)
{
	struct conf *conf = conf_new();
	char err[CONF_ERR_MAX], prefix[32];
	const char *word;
	bool found = false;
	va_list ap;
	int rc;

	assert_non_null(conf);
	memset(err, 'X', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	rc = conf_load_string(conf, "test.conf", text, err, sizeof(err));
	conf_free(conf);
	print_message("    refused: %s\n", rc == 0 ? "(accepted!)" : err);
	assert_int_equal(rc, -1);
	assert_non_null(memchr(err, '\0', sizeof(err)));

	if (line)
		snprintf(prefix, sizeof(prefix), "test.conf:%u:", line);
	else
		snprintf(prefix, sizeof(prefix), "test.conf:");
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);

	va_start(ap, line);
	while ((word = va_arg(ap, const char *)) != NULL)
		if (contains_nocase(err + strlen(prefix), word))
			found = true;
	va_end(ap);
	if (!found)
		fail_msg("error \"%s\" gives no telling reason", err);
}

#define expect_refusal(text, line, ...) \
	expect_refusal_(text, line, __VA_ARGS__, (const char *)NULL)

/* base + one more line, refused at line BASE_LINES + 1. */
#define expect_line_refusal(extra, ...) \
	expect_refusal(base extra "\n", BASE_LINES + 1, __VA_ARGS__)


/* ------------------------------------------------------------ group SAs */

#define GROUP_SA_KEY "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"

static const struct conf_sa *
group_sa_of(const struct conf *conf, const struct conf_group *g)
{
	assert_non_null(g);
	assert_true(g->has_group_sa);
	assert_true(g->group_sa < conf->n_sas);
	return &conf->sas[g->group_sa];
}

static void
test_group_sa_gives_a_group_one_outbound_sa(void **state)
{
	struct conf *conf = *state;
	const struct conf_group *g, *pairwise;
	const struct conf_sa *sa;

	load_ok(conf, base
		"site C 198.51.100.3 udp-encap\n"
		"group 239.1.1.1 send-to B C\n"
		"group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key 0x" GROUP_SA_KEY
		" esn lifetime-packets 1000 lifetime-bytes 0x100000\n"
		"group 239.2.2.2 send-to B\n");
	g = group_find(conf, ip4(239, 1, 1, 1));
	sa = group_sa_of(conf, g);
	assert_true(sa->group);
	assert_false(sa->inbound);
	assert_int_equal(sa->group_addr, ip4(239, 1, 1, 1));
	assert_int_equal(sa->params.spi, 0x3001);
	assert_int_equal(sa->params.aead, ESP_AES_GCM_128);
	assert_int_equal(sa->params.key[0], 0xa0);
	assert_int_equal(sa->params.key[15], 0xaf);
	assert_int_equal(sa->params.salt[0], 0xb0);
	assert_int_equal(sa->params.salt[3], 0xb3);
	assert_true(sa->params.esn);
	assert_int_equal(sa->params.lifetime_packets, 1000);
	assert_int_equal(sa->params.lifetime_bytes, 0x100000);
	assert_int_equal(g->n_send_to, 2);
	/* The other group stays pairwise. */
	pairwise = group_find(conf, ip4(239, 2, 2, 2));
	assert_non_null(pairwise);
	assert_false(pairwise->has_group_sa);
	/* The site's own pairwise SA is untouched. */
	assert_int_equal(conf->sites[0].sa_out, 0);
}

/* The group-sa line may come first; its sites need no 'sa out'. */
static void
test_group_sa_before_send_to_and_sites_without_sa_out(void **state)
{
	struct conf *conf = *state;
	const struct conf_group *g;

	load_ok(conf, base
		"site C 198.51.100.3\n"
		"site D 198.51.100.4 udp-encap\n"
		"group-sa 239.1.1.1 spi 0x3001 aes-gcm-256 key "
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fc0c1c2c3\n"
		"group 239.1.1.1 send-to C D\n"
		"group 239.1.1.1 receive\n");
	g = group_find(conf, ip4(239, 1, 1, 1));
	assert_int_equal(group_sa_of(conf, g)->params.aead, ESP_AES_GCM_256);
	assert_int_equal(g->n_send_to, 2);
	assert_true(g->receive);
	assert_int_equal(conf->sites[1].sa_out, -1);
	assert_int_equal(conf->sites[2].sa_out, -1);
}

static void
test_refuses_group_sa_without_send_to(void **state)
{
	(void)state;
	/* Refused once the file is read, at the group-sa line. */
	expect_refusal(base "group 239.1.1.1 receive\n"
		       "group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n",
		       BASE_LINES + 2, "send-to");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY,
			    "send-to");
}

static void
test_refuses_group_sa_spi_used_by_another_sa(void **state)
{
	(void)state;
	/* base has sa out B spi 4096 and sa in B spi 8192. */
	expect_line_refusal("group-sa 239.1.1.1 spi 4096 aes-gcm-128 key " GROUP_SA_KEY,
			    "SPI", "already");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x2000 aes-gcm-128 key " GROUP_SA_KEY,
			    "SPI", "already");
	/* ... and an SA after the group-sa may not take its SPI either. */
	expect_refusal(base "group 239.1.1.1 send-to B\n"
		       "group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n"
		       "site C 198.51.100.3\n"
		       "sa in C spi 0x3001 aes-gcm-128 key " KEY128 "\n",
		       BASE_LINES + 4, "group SA", "SPI");
	/* Two groups, one SPI. */
	expect_refusal(base "group 239.1.1.1 send-to B\ngroup 239.1.1.2 send-to B\n"
		       "group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n"
		       "group-sa 239.1.1.2 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n",
		       BASE_LINES + 4, "SPI", "already");
}

static void
test_refuses_group_sa_with_a_vnoc(void **state)
{
	(void)state;
	expect_refusal(base "site-id A\nvnoc-url http://10.0.0.9:8080/vnoc\nvnoc-insecure-http\n"
		       "group 239.1.1.1 send-to B\n"
		       "group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n",
		       BASE_LINES + 5, "vnoc");
}

static void
test_refuses_second_group_sa_for_a_group(void **state)
{
	(void)state;
	expect_refusal(base "group 239.1.1.1 send-to B\n"
		       "group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY "\n"
		       "group-sa 239.1.1.1 spi 0x3002 aes-gcm-128 key " GROUP_SA_KEY "\n",
		       BASE_LINES + 3, "already has a group-sa");
}

static void
test_refuses_bad_group_sa_lines(void **state)
{
	(void)state;
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128", "missing", "expect");
	expect_line_refusal("group-sa 10.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY,
			    "not a multicast");
	expect_line_refusal("group-sa 224.0.0.5 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY,
			    "link-local");
	expect_line_refusal("group-sa 239.1.1.1 spy 0x3001 aes-gcm-128 key " GROUP_SA_KEY,
			    "expected 'spi'");
	expect_line_refusal("group-sa 239.1.1.1 spi 255 aes-gcm-128 key " GROUP_SA_KEY,
			    "reserved");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 chacha key " GROUP_SA_KEY,
			    "unknown AEAD");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key 0011",
			    "hex digits");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY
			    " replay-window 64", "inbound");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY
			    " lifetime-packets 0", "lifetime-packets");
	expect_line_refusal("group-sa 239.1.1.1 spi 0x3001 aes-gcm-128 key " GROUP_SA_KEY
			    " colour blue", "unknown SA option");
}

/* ------------------------------------------------------------ good files */

static void
test_new_holds_defaults(void **state)
{
	struct conf *conf = *state;

	assert_int_equal(conf->outer_ttl, 64);
	assert_int_equal(conf->outer_df, CONF_DF_COPY);
	assert_int_equal(conf->replay_window, 1024);
	assert_int_equal(conf->wan_mtu, 1500);
	assert_int_equal(conf->n_sites, 0);
	assert_int_equal(conf->n_sas, 0);
	assert_int_equal(conf->n_groups, 0);
	assert_non_null(conf->groups);
}

static void
test_example_loads_every_value(void **state)
{
	static const uint8_t nexthop[6] = { 0x02, 0, 0, 0, 0, 0xfe };
	static const uint8_t key_out_b[16] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t salt_out_b[4] = { 0x01, 0x02, 0x03, 0x04 };
	static const uint8_t key_in_b[16] = {
		0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
		0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 };
	static const uint8_t salt_in_b[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
	static const uint8_t salt_out_c[4] = { 0xc0, 0xc1, 0xc2, 0xc3 };
	uint8_t key_out_c[32];
	struct conf *conf = *state;
	const struct conf_sa *sa;
	const struct conf_group *g;
	int b, c;

	for (int i = 0; i < 32; i++)
		key_out_c[i] = (uint8_t)i;
	load_ok(conf, example);

	assert_string_equal(conf->lan_port, "net_pcap0");
	assert_string_equal(conf->wan_port, "net_pcap1");
	assert_int_equal(conf->wan_addr, ip4(10, 99, 0, 1));
	assert_memory_equal(conf->nexthop_mac, nexthop, 6);
	assert_int_equal(conf->outer_ttl, 64);
	assert_int_equal(conf->outer_df, CONF_DF_COPY);
	assert_int_equal(conf->replay_window, 1024);
	assert_int_equal(conf->wan_mtu, 1500);

	/* Sites. */
	assert_int_equal(conf->n_sites, 2);
	b = conf_site_find(conf, "B");
	c = conf_site_find(conf, "C");
	assert_int_equal(b, 0);
	assert_int_equal(c, 1);
	assert_int_equal(conf_site_find(conf, "D"), -1);
	assert_string_equal(conf->sites[b].name, "B");
	assert_string_equal(conf->sites[c].name, "C");
	assert_int_equal(conf->sites[b].wan_addr, ip4(10, 99, 0, 2));
	assert_int_equal(conf->sites[c].wan_addr, ip4(10, 99, 0, 3));
	assert_false(conf->sites[b].udp_encap);
	assert_true(conf->sites[c].udp_encap);
	assert_false(conf->sites[b].has_mac);
	assert_false(conf->sites[c].has_mac);

	/* SAs (the fourth is 239.3.3.3's group SA, below). */
	assert_int_equal(conf->n_sas, 4);
	sa = sa_find(conf, false, 0x1002);
	assert_non_null(sa);
	assert_int_equal(sa->site, b);
	assert_int_equal(sa->params.aead, ESP_AES_GCM_128);
	assert_memory_equal(sa->params.key, key_out_b, 16);
	assert_memory_equal(sa->params.salt, salt_out_b, 4);
	assert_false(sa->params.esn);
	assert_int_equal(sa->params.lifetime_packets, 0);
	assert_int_equal(sa->params.lifetime_bytes, 0);
	assert_ptr_equal(&conf->sas[conf->sites[b].sa_out], sa);

	sa = sa_find(conf, true, 0x2001);
	assert_non_null(sa);
	assert_int_equal(sa->site, b);
	assert_int_equal(sa->params.aead, ESP_AES_GCM_128);
	assert_memory_equal(sa->params.key, key_in_b, 16);
	assert_memory_equal(sa->params.salt, salt_in_b, 4);
	assert_false(sa->params.esn);
	/* Default window: either left to the default (0) or copied. */
	assert_true(sa->params.replay_window == 0 ||
		    sa->params.replay_window == 1024);

	sa = sa_find(conf, false, 0x1003);
	assert_non_null(sa);
	assert_int_equal(sa->site, c);
	assert_int_equal(sa->params.aead, ESP_AES_GCM_256);
	assert_memory_equal(sa->params.key, key_out_c, 32);
	assert_memory_equal(sa->params.salt, salt_out_c, 4);
	assert_false(sa->params.esn);
	assert_ptr_equal(&conf->sas[conf->sites[c].sa_out], sa);

	/* Groups. */
	assert_int_equal(conf->n_groups, 4);
	g = group_find(conf, ip4(239, 1, 1, 1));
	assert_non_null(g);
	assert_false(g->receive);
	assert_int_equal(g->n_send_to, 2);
	assert_int_equal(g->send_to[0], b);
	assert_int_equal(g->send_to[1], c);
	assert_int_equal(g->line, 13);

	g = group_find(conf, ip4(239, 2, 2, 2));
	assert_non_null(g);
	assert_false(g->receive);
	assert_int_equal(g->n_send_to, 1);
	assert_int_equal(g->send_to[0], b);
	assert_int_equal(g->line, 14);

	g = group_find(conf, ip4(239, 9, 9, 9));
	assert_non_null(g);
	assert_true(g->receive);
	assert_int_equal(g->n_send_to, 0);
	assert_int_equal(g->line, 15);
	assert_false(g->has_group_sa);

	g = group_find(conf, ip4(239, 3, 3, 3));
	assert_non_null(g);
	assert_int_equal(g->n_send_to, 2);
	assert_int_equal(g->line, 18);
	assert_true(g->has_group_sa);
	assert_int_equal(g->group_sa_line, 19);
	sa = &conf->sas[g->group_sa];
	assert_true(sa->group);
	assert_false(sa->inbound);
	assert_int_equal(sa->params.spi, 0x3003);
	assert_int_equal(sa->params.key[0], 0x0f);
	assert_int_equal(sa->params.salt[3], 0xb3);
	/* B and C keep their own pairwise SAs for the other groups. */
	assert_ptr_equal(&conf->sas[conf->sites[b].sa_out], sa_find(conf, false, 0x1002));
}

static void
test_optional_keywords_override_defaults(void **state)
{
	static const uint8_t site_mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct conf *conf = *state;
	const struct conf_site *s;

	load_ok(conf,
		"lan-port 0000:03:00.0\n"
		"wan-port 1\n"
		"wan-address 192.0.2.1\n"
		"outer-ttl 255\n"
		"outer-df set\n"
		"replay-window 4096\n"
		"wan-mtu 1400\n"
		"site X 198.51.100.7 mac 02:AA:bb:cc:dd:ee udp-encap\n"
		"site Y 198.51.100.8 mac 02:aa:bb:cc:dd:ee udp-encap\n");
	assert_string_equal(conf->lan_port, "0000:03:00.0");
	assert_string_equal(conf->wan_port, "1");
	assert_int_equal(conf->outer_ttl, 255);
	assert_int_equal(conf->outer_df, CONF_DF_SET);
	assert_int_equal(conf->replay_window, 4096);
	assert_int_equal(conf->wan_mtu, 1400);
	assert_int_equal(conf->n_sites, 2);
	for (int i = 0; i < 2; i++) {
		s = &conf->sites[i];
		assert_true(s->has_mac);
		assert_memory_equal(s->mac, site_mac, 6);
		assert_true(s->udp_encap);
		assert_int_equal(s->sa_out, -1);
	}
	assert_int_equal(conf->sites[1].wan_addr, ip4(198, 51, 100, 8));
}

static void
test_outer_df_clear_and_ttl_1(void **state)
{
	struct conf *conf = *state;

	load_ok(conf, base "outer-df clear\nouter-ttl 1\nreplay-window 64\n");
	assert_int_equal(conf->outer_df, CONF_DF_CLEAR);
	assert_int_equal(conf->outer_ttl, 1);
	assert_int_equal(conf->replay_window, 64);
}

static void
test_workers_sets_worker_count_and_defaults_to_unset(void **state)
{
	struct conf *conf = *state;

	assert_int_equal(conf->workers, 0);
	load_ok(conf, base "workers 4\n");
	assert_int_equal(conf->workers, 4);
}

static void
test_workers_accepts_one_to_max_lcore_minus_one(void **state)
{
	struct conf *conf = *state, *other = conf_new();
	char text[4096];

	assert_non_null(other);
	load_ok(conf, base "workers 1\n");
	assert_int_equal(conf->workers, 1);
	snprintf(text, sizeof(text), base "workers %d\n", RTE_MAX_LCORE - 1);
	load_ok(other, text);
	assert_int_equal(other->workers, RTE_MAX_LCORE - 1);
	conf_free(other);
}

static void
test_refuses_workers_0_too_many_or_not_a_number(void **state)
{
	char text[4096];

	(void)state;
	expect_line_refusal("workers 0", "workers", "1 to");
	/* One lcore is the main lcore's. */
	snprintf(text, sizeof(text), base "workers %d\n", RTE_MAX_LCORE);
	expect_refusal(text, BASE_LINES + 1, "workers", "1 to");
	expect_line_refusal("workers two", "workers", "number");
	expect_line_refusal("workers -1", "workers", "number");
	expect_line_refusal("workers", "missing", "workers");
	expect_line_refusal("workers 2 3", "one value", "workers");
}

static void
test_sa_options_esn_window_lifetimes(void **state)
{
	struct conf *conf = *state;
	const struct conf_sa *sa;

	load_ok(conf, base
		"site C 198.51.100.3\n"
		"sa in C spi 0x100 aes-gcm-128 key " KEY128
		" esn replay-window 128 lifetime-packets 1000000"
		" lifetime-bytes 0x40000000\n"
		"sa out C spi 256 aes-gcm-128 key 0x" KEY128 " esn\n");
	sa = sa_find(conf, true, 0x100);
	assert_non_null(sa);
	assert_int_equal(sa->site, conf_site_find(conf, "C"));
	assert_true(sa->params.esn);
	assert_int_equal(sa->params.replay_window, 128);
	assert_int_equal(sa->params.lifetime_packets, 1000000);
	assert_int_equal(sa->params.lifetime_bytes, 0x40000000);
	/* The SPI of an outbound SA need not differ from inbound ones. */
	sa = sa_find(conf, false, 256);
	assert_non_null(sa);
	assert_true(sa->params.esn);
	assert_true(sa->params.replay_window == 0 ||
		    sa->params.replay_window == 1024);
}

static void
test_sa_spi_hex_and_decimal_and_same_spi_both_directions(void **state)
{
	struct conf *conf = *state;

	/* spi 4096 is used by base's "sa out B": an inbound SA may reuse it,
	 * uniqueness is among inbound SAs only. */
	load_ok(conf, base
		"site C 198.51.100.3\n"
		"sa in C spi 0x1000 aes-gcm-128 key " KEY128 "\n"
		"sa out C spi 0xffffffff aes-gcm-128 key " KEY128 "\n");
	assert_non_null(sa_find(conf, true, 4096));
	assert_non_null(sa_find(conf, false, 4096));
	assert_non_null(sa_find(conf, false, 0xffffffffu));
}

static void
test_numbers_are_decimal_or_0x_hex_never_octal(void **state)
{
	struct conf *conf = *state;

	/* doc/configuration.rst: "N: decimal or 0x hex". A leading zero
	 * does not make a number octal. */
	load_ok(conf, base
		"outer-ttl 064\n"
		"site C 198.51.100.3\n"
		"sa in C spi 0400 aes-gcm-128 key " KEY128 "\n"
		"sa out C spi 0x0400 aes-gcm-128 key " KEY128 "\n");
	assert_int_equal(conf->outer_ttl, 64);
	assert_non_null(sa_find(conf, true, 400));
	assert_non_null(sa_find(conf, false, 0x400));
}

/* The window an inbound SA gets: its own, or the file's replay-window. */
static uint32_t
effective_window(const struct conf *conf, const struct conf_sa *sa)
{
	return sa->params.replay_window ? sa->params.replay_window
					: conf->replay_window;
}

static void
test_replay_window_applies_to_inbound_sas_wherever_it_stands(void **state)
{
	struct conf *conf = *state;
	const struct conf_sa *sa;

	/* base's "sa in B" (spi 8192) comes before the replay-window line and
	 * has no window of its own; C's has one. */
	load_ok(conf, base
		"site C 198.51.100.3\n"
		"sa in C spi 0x5000 aes-gcm-128 key " KEY128
		" replay-window 128\n"
		"replay-window 256\n"
		"site D 198.51.100.4\n"
		"sa in D spi 0x6000 aes-gcm-128 key " KEY128 "\n");
	assert_int_equal(conf->replay_window, 256);
	sa = sa_find(conf, true, 0x6000);
	assert_non_null(sa);
	assert_int_equal(effective_window(conf, sa), 256);
	sa = sa_find(conf, true, 0x5000);
	assert_non_null(sa);
	assert_int_equal(effective_window(conf, sa), 128);
	sa = sa_find(conf, true, 8192);
	assert_non_null(sa);
	assert_int_equal(effective_window(conf, sa), 256);
}

static void
test_comments_blank_lines_and_tabs_accepted(void **state)
{
	struct conf *conf = *state;
	const struct conf_group *g;

	load_ok(conf,
		"# ivgmpd test configuration\n"
		"\n"
		"   \n"
		"\t\n"
		"lan-port\tnet_pcap0   # the LAN\n"
		"\twan-port  net_pcap1\t\n"
		"  wan-address\t \t10.0.0.1#no space before the comment\n"
		"wan-nexthop-mac 02:00:00:00:00:01\n"
		"   # indented comment, sa out X spi 1 bogus\n"
		"site\tB\t10.0.0.2\n"
		"sa\tout B spi 0x1002 aes-gcm-128 key\t" KEY128 "   \n"
		"group 239.1.1.1\tsend-to\tB # to B\n"
		"#group 224.0.0.1 receive\n");
	assert_string_equal(conf->lan_port, "net_pcap0");
	assert_string_equal(conf->wan_port, "net_pcap1");
	assert_int_equal(conf->wan_addr, ip4(10, 0, 0, 1));
	assert_int_equal(conf->n_sites, 1);
	assert_int_equal(conf->n_sas, 1);
	assert_int_equal(conf->n_groups, 1);
	g = group_find(conf, ip4(239, 1, 1, 1));
	assert_non_null(g);
	assert_int_equal(g->n_send_to, 1);
	assert_int_equal(g->line, 12);
}

static void
test_last_line_without_newline_accepted(void **state)
{
	struct conf *conf = *state;

	load_ok(conf, base "group 239.5.5.5 receive");
	assert_int_equal(conf->n_groups, 1);
	assert_true(conf->groups[0].receive);
}

static void
test_same_group_on_several_lines_adds_up(void **state)
{
	struct conf *conf = *state;
	const struct conf_group *g;
	int b, c;

	load_ok(conf, base
		"site C 198.51.100.3 udp-encap\n"
		"sa out C spi 0x3001 aes-gcm-128 key " KEY128 "\n"
		"group 239.7.7.7 send-to B\n"            /* line 10 */
		"group 239.8.8.8 receive\n"
		"group 239.7.7.7 send-to C\n"
		"group 239.7.7.7 receive\n");
	b = conf_site_find(conf, "B");
	c = conf_site_find(conf, "C");
	assert_int_equal(conf->n_groups, 2);
	g = group_find(conf, ip4(239, 7, 7, 7));
	assert_non_null(g);
	assert_true(g->receive);
	assert_int_equal(g->n_send_to, 2);
	assert_int_equal(g->send_to[0], b);
	assert_int_equal(g->send_to[1], c);
	assert_int_equal(g->line, 10);
	g = group_find(conf, ip4(239, 8, 8, 8));
	assert_non_null(g);
	assert_true(g->receive);
	assert_int_equal(g->n_send_to, 0);
}

static void
test_site_with_own_mac_needs_no_nexthop_mac(void **state)
{
	struct conf *conf = *state;

	load_ok(conf,
		"lan-port 0\nwan-port 1\nwan-address 192.0.2.1\n"
		"site B 198.51.100.2 mac 02:00:00:00:00:0b\n"
		"sa out B spi 4096 aes-gcm-128 key " KEY128 "\n"
		"group 239.1.1.1 send-to B\n");
	assert_true(conf->sites[0].has_mac);
}

static void
test_load_file_reads_a_file(void **state)
{
	struct conf *conf = *state;
	char path[] = "/tmp/test_conf_XXXXXX";
	char err[CONF_ERR_MAX];
	int fd;
	FILE *f;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(example, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	assert_int_equal(conf_load_file(conf, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(conf->n_sites, 2);
	assert_int_equal(conf->n_sas, 4);
	assert_int_equal(conf->n_groups, 4);
}

/* ------------------------------------------------------------- refusals */

static void
test_refuses_unknown_keyword(void **state)
{
	(void)state;
	expect_line_refusal("wan-adress 1.2.3.4", "unknown", "keyword");
	expect_line_refusal("sites B 1.2.3.4", "unknown", "keyword");
}

static void
test_refuses_unknown_word_on_a_line(void **state)
{
	(void)state;
	expect_line_refusal("site C 198.51.100.3 udp-encapsulation",
			    "unknown", "unexpected", "option", "udp-encapsulation");
	expect_line_refusal("wan-port 1 2", "unexpected", "too many", "extra",
			    "argument", "trailing");
}

static void
test_refuses_missing_argument(void **state)
{
	(void)state;
	expect_refusal("lan-port\n", 1, "missing", "expect", "argument",
		       "needs", "requires");
	expect_line_refusal("site C", "missing", "expect", "argument",
			    "needs", "requires");
	expect_line_refusal("outer-ttl", "missing", "expect", "argument",
			    "needs", "requires");
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key",
			    "missing", "expect", "argument", "needs", "requires");
	expect_line_refusal("group 239.1.1.1 send-to", "missing", "expect",
			    "argument", "needs", "requires", "site");
	expect_line_refusal("site C 198.51.100.3 mac", "missing", "expect",
			    "argument", "needs", "requires", "mac");
}

static void
test_refuses_bad_ipv4_address(void **state)
{
	(void)state;
	expect_refusal("lan-port 0\nwan-port 1\nwan-address 10.0.0.256\n", 3,
		       "address", "ipv4");
	expect_line_refusal("site C 198.51.100", "address", "ipv4");
	expect_line_refusal("group 239.1.1 receive", "address", "ipv4");
}

static void
test_refuses_group_not_multicast(void **state)
{
	(void)state;
	expect_line_refusal("group 10.1.1.1 receive", "multicast");
	expect_line_refusal("group 240.0.0.1 receive", "multicast");
	expect_line_refusal("group 223.255.255.255 send-to B", "multicast");
}

static void
test_refuses_group_in_local_network_control_block(void **state)
{
	(void)state;
	expect_line_refusal("group 224.0.0.251 receive", "224.0.0",
			    "link-local", "local");
	expect_line_refusal("group 224.0.0.0 send-to B", "224.0.0",
			    "link-local", "local");
}

static void
test_accepts_group_just_outside_control_block(void **state)
{
	struct conf *conf = *state;

	load_ok(conf, base "group 224.0.1.0 receive\n"
		"group 239.255.255.255 send-to B\n");
	assert_int_equal(conf->n_groups, 2);
}

static void
test_refuses_send_to_unknown_site(void **state)
{
	(void)state;
	expect_line_refusal("group 239.1.1.1 send-to B Z", "unknown", "site",
			    "Z");
}

static void
test_refuses_send_to_site_without_sa_out(void **state)
{
	(void)state;
	/* C has only an inbound SA. */
	expect_refusal(base
		       "site C 198.51.100.3\n"
		       "sa in C spi 0x5001 aes-gcm-128 key " KEY128 "\n"
		       "group 239.1.1.1 send-to B C\n"
		       "group 239.2.2.2 receive\n",
		       BASE_LINES + 3, "sa out", "outbound", "no sa");
}

static void
test_refuses_duplicate_site_name(void **state)
{
	(void)state;
	expect_line_refusal("site B 198.51.100.9", "duplicate", "already",
			    "twice", "defined");
}

static void
test_refuses_duplicate_inbound_spi(void **state)
{
	(void)state;
	expect_refusal(base
		       "site C 198.51.100.3\n"
		       "sa in C spi 0x2000 aes-gcm-128 key " KEY128 "\n",
		       BASE_LINES + 2, "spi", "duplicate", "already");
}

static void
test_refuses_second_outbound_sa_for_a_site(void **state)
{
	(void)state;
	expect_line_refusal("sa out B spi 0x7000 aes-gcm-128 key " KEY128,
			    "sa out", "outbound", "already", "duplicate",
			    "second", "one");
}

static void
test_refuses_sa_for_unknown_site(void **state)
{
	(void)state;
	expect_line_refusal("sa out Z spi 0x7000 aes-gcm-128 key " KEY128,
			    "unknown", "site", "Z");
}

static void
test_refuses_spi_below_256(void **state)
{
	(void)state;
	expect_line_refusal("sa in B spi 255 aes-gcm-128 key " KEY128, "spi");
	expect_line_refusal("sa in B spi 0xff aes-gcm-128 key " KEY128, "spi");
	expect_line_refusal("sa in B spi 0 aes-gcm-128 key " KEY128, "spi");
	expect_line_refusal("sa in B spi 1 aes-gcm-128 key " KEY128, "spi");
}

static void
test_refuses_bad_spi_number(void **state)
{
	(void)state;
	expect_line_refusal("sa in B spi 0x1ffffffff aes-gcm-128 key " KEY128,
			    "spi");
	expect_line_refusal("sa in B spi 4096x aes-gcm-128 key " KEY128, "spi");
	expect_line_refusal("sa in B spi -4096 aes-gcm-128 key " KEY128, "spi");
}

static void
test_refuses_key_with_wrong_number_of_hex_digits(void **state)
{
	(void)state;
	/* aes-gcm-128: 16-byte key + 4-byte salt = 40 digits. */
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "0011223344556677889900112233445566778899"
			    "0", "key", "hex", "digits", "length");       /* 41 */
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "001122334455667788990011223344556677889",
			    "key", "hex", "digits", "length");            /* 39 */
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "000102030405060708090a0b0c0d0e0f"
			    "101112131415161718191a1b1c1d1e1fc0c1c2c3",
			    "key", "hex", "digits", "length");            /* 72 */
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "001122334455667788990011223344556677",
			    "key", "hex", "digits", "length");            /* 38 */
	/* aes-gcm-256: 72 digits, so 40 is wrong. */
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-256 key " KEY128,
			    "key", "hex", "digits", "length");
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key 0x",
			    "key", "hex", "digits", "length");
}

static void
test_refuses_non_hex_key(void **state)
{
	(void)state;
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "00112233445566778899aabbccddeeff0102030g",
			    "key", "hex");
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key "
			    "00112233445566778899xabbccddeeff01020304",
			    "key", "hex");
}

static void
test_refuses_unknown_aead(void **state)
{
	(void)state;
	expect_line_refusal("sa in B spi 0x5000 aes-cbc-128 key " KEY128,
			    "aead", "unknown", "algorithm", "cipher");
	expect_line_refusal("sa in B spi 0x5000 chacha20-poly1305 key " KEY128,
			    "aead", "unknown", "algorithm", "cipher");
}

static void
test_refuses_replay_window_not_power_of_two(void **state)
{
	(void)state;
	expect_line_refusal("replay-window 1000", "power", "replay");
	expect_line_refusal("replay-window 1025", "power", "replay");
	expect_line_refusal("sa in B spi 0x5000 aes-gcm-128 key " KEY128
			    " replay-window 96", "power", "replay");
}

static void
test_refuses_replay_window_out_of_range(void **state)
{
	(void)state;
	expect_line_refusal("replay-window 32", "replay", "range", "64");
	expect_line_refusal("replay-window 8192", "replay", "range", "4096");
	expect_line_refusal("replay-window 0", "replay", "range", "64", "power");
}

static void
test_refuses_outer_ttl_0_and_256(void **state)
{
	(void)state;
	expect_line_refusal("outer-ttl 0", "ttl", "range", "1..255");
	expect_line_refusal("outer-ttl 256", "ttl", "range", "1..255");
	expect_line_refusal("outer-ttl -1", "ttl", "range", "1..255", "number");
}

static void
test_refuses_bad_outer_df(void **state)
{
	(void)state;
	expect_line_refusal("outer-df maybe", "df", "copy");
}

static void
test_refuses_bad_mac(void **state)
{
	(void)state;
	expect_refusal("wan-nexthop-mac 02:00:00:00:00\n", 1, "mac");
	expect_line_refusal("site C 198.51.100.3 mac zz:00:00:00:00:01", "mac");
}

static void
test_refuses_missing_wan_address(void **state)
{
	(void)state;
	expect_refusal("lan-port 0\nwan-port 1\n"
		       "wan-nexthop-mac 02:00:00:00:00:fe\n", 0,
		       "wan-address");
}

static void
test_refuses_missing_lan_port(void **state)
{
	(void)state;
	expect_refusal("wan-port 1\nwan-address 192.0.2.1\n"
		       "wan-nexthop-mac 02:00:00:00:00:fe\n", 0, "lan-port");
}

static void
test_refuses_missing_wan_port(void **state)
{
	(void)state;
	expect_refusal("lan-port 0\nwan-address 192.0.2.1\n"
		       "wan-nexthop-mac 02:00:00:00:00:fe\n", 0, "wan-port");
}

static void
test_refuses_empty_file(void **state)
{
	(void)state;
	expect_refusal("", 0, "lan-port", "wan-port", "wan-address",
		       "missing", "required");
	expect_refusal("# nothing\n\n", 0, "lan-port", "wan-port",
		       "wan-address", "missing", "required");
}

static void
test_refuses_site_without_mac_when_no_nexthop_mac(void **state)
{
	(void)state;
	/* B has its own MAC, C has none and there is no default. */
	expect_refusal("lan-port 0\nwan-port 1\nwan-address 192.0.2.1\n"
		       "site B 198.51.100.2 mac 02:00:00:00:00:0b\n"
		       "site C 198.51.100.3\n", 0,
		       "wan-nexthop-mac", "mac");
}

static void
test_load_file_missing_names_path(void **state)
{
	struct conf *conf = *state;
	const char *path = "/nonexistent/dir/ivgmpd-missing.conf";
	char err[CONF_ERR_MAX];

	err[0] = '\0';
	assert_int_equal(conf_load_file(conf, path, err, sizeof(err)), -1);
	print_message("    refused: %s\n", err);
	assert_non_null(strstr(err, path));
}

static void
test_error_truncated_to_err_len(void **state)
{
	struct conf *conf = *state;
	char err[16 + 8];

	memset(err, 'X', sizeof(err));
	assert_int_equal(conf_load_string(conf, "test.conf",
					  base "bogus-keyword-that-is-long\n",
					  err, 16), -1);
	/* NUL-terminated inside the 16 bytes given, nothing written after. */
	assert_non_null(memchr(err, '\0', 16));
	for (size_t i = 16; i < sizeof(err); i++)
		assert_int_equal(err[i], 'X');
	assert_int_equal(strncmp(err, "test.conf:8:", 12), 0);
}

static void
test_refusal_names_the_file(void **state)
{
	struct conf *conf = *state;
	char err[CONF_ERR_MAX];

	assert_int_equal(conf_load_string(conf, "/etc/ivgmp/other.conf",
					  "lan-port 0\nfoo\n", err,
					  sizeof(err)), -1);
	assert_int_equal(strncmp(err, "/etc/ivgmp/other.conf:2:", 24), 0);
}

/* --------------------------------------------------------- small parsers */

static void
test_parse_ipv4_good_and_bad(void **state)
{
	static const char *const bad[] = {
		"1.2.3", "1.2.3.256", "1.2.3.4.5", "", "a.b.c.d", "1..2.3",
		"1.2.3.4x", "256.1.1.1", "1.2.3.", "-1.2.3.4", "1.2.3.4 ",
	};
	uint32_t a;

	(void)state;
	assert_int_equal(conf_parse_ipv4("1.2.3.4", &a), 0);
	assert_int_equal(a, ip4(1, 2, 3, 4));
	assert_int_equal(conf_parse_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(conf_parse_ipv4("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	assert_int_equal(conf_parse_ipv4("239.1.2.3", &a), 0);
	assert_int_equal(a, ip4(239, 1, 2, 3));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("    %s\n", bad[i]);
		assert_int_equal(conf_parse_ipv4(bad[i], &a), -1);
	}
}

static void
test_parse_mac_good_and_bad(void **state)
{
	static const uint8_t want[6] = { 0x01, 0x02, 0x0a, 0xbc, 0xde, 0xff };
	static const char *const bad[] = {
		"01:02:03:04:05", "zz:02:03:04:05:06", "01:02:03:04:05:06:07",
		"01:02:03:04:05:0g", "", "01-02-03-04-05", "0102030405",
		"01:02:03:04:05:", "001:02:03:04:05:06", "01:02:03:04:05:06x",
	};
	uint8_t mac[6];

	(void)state;
	assert_int_equal(conf_parse_mac("01:02:0a:bc:de:ff", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(conf_parse_mac("01:02:0A:BC:DE:FF", mac), 0);
	assert_memory_equal(mac, want, 6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("    %s\n", bad[i]);
		assert_int_equal(conf_parse_mac(bad[i], mac), -1);
	}
}

static void
test_parse_hex_good_and_bad(void **state)
{
	static const uint8_t want[4] = { 0x00, 0xab, 0xCD, 0x9f };
	uint8_t out[4 + 4];

	(void)state;
	memset(out, 0x55, sizeof(out));
	assert_int_equal(conf_parse_hex("00abCD9f", out, 4), 0);
	assert_memory_equal(out, want, 4);
	/* Nothing written past out_len. */
	for (size_t i = 4; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x55);

	assert_int_equal(conf_parse_hex("00abCD9", out, 4), -1);   /* odd */
	assert_int_equal(conf_parse_hex("0", out, 1), -1);          /* odd */
	assert_int_equal(conf_parse_hex("zzabcd9f", out, 4), -1);
	assert_int_equal(conf_parse_hex("00abcd9g", out, 4), -1);
	assert_int_equal(conf_parse_hex("00ab cd9f", out, 4), -1);
	assert_int_equal(conf_parse_hex("00abcd", out, 4), -1);     /* short */
	assert_int_equal(conf_parse_hex("", out, 4), -1);
	memset(out, 0x55, sizeof(out));
	assert_int_equal(conf_parse_hex("00abcd9f11", out, 4), -1); /* long */
	for (size_t i = 4; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x55);
}
/* ------------------------------------------------------------ bounds */

/* doc/configuration.rst "Bounds": each bound's default. */
static void
test_bounds_default_to_the_documented_values(void **state)
{
	struct conf *conf = *state;

	assert_int_equal(conf->igmp_rate, 1000);
	assert_int_equal(conf->igmp_rate_per_host, 100);
	assert_int_equal(conf->source_report_rate, 1000);
	assert_int_equal(conf->source_report_rate_per_host, 100);
	assert_int_equal(conf->vpn_max_groups, 4096);
	assert_int_equal(conf->vpn_max_sources, 4096);
	assert_int_equal(conf->announce_max, 1024);
	assert_int_equal(conf->vnoc_max_groups, 4096);
	assert_int_equal(conf->vnoc_max_inflight, 8);
}

static void
test_bound_keywords_set_each_bound(void **state)
{
	struct conf *conf = *state;

	load_ok(conf, base
		"igmp-rate-limit-per-host 7\n"
		"source-report-rate-per-host 9\n"
		"vpn-max-groups 100\n"
		"vpn-max-sources 200\n"
		"announce-max 30\n"
		"vnoc-max-groups 40\n"
		"vnoc-max-inflight 2\n"
		"igmp-max-source-records 5000\n");
	assert_int_equal(conf->igmp.max_source_records, 5000);
	assert_int_equal(conf->igmp_rate_per_host, 7);
	assert_int_equal(conf->source_report_rate_per_host, 9);
	assert_int_equal(conf->vpn_max_groups, 100);
	assert_int_equal(conf->vpn_max_sources, 200);
	assert_int_equal(conf->announce_max, 30);
	assert_int_equal(conf->vnoc_max_groups, 40);
	assert_int_equal(conf->vnoc_max_inflight, 2);
}

/* A bound of 0 would refuse everything; past the top, it bounds nothing. */
static void
test_refuses_bounds_of_zero_or_too_large(void **state)
{
	(void)state;
	expect_line_refusal("igmp-rate-limit-per-host 0", "number");
	expect_line_refusal("source-report-rate-per-host 1000001", "number");
	expect_line_refusal("vpn-max-groups 0", "number");
	expect_line_refusal("vpn-max-sources 1048577", "number");
	expect_line_refusal("announce-max 65537", "number");
	expect_line_refusal("vnoc-max-groups 4097", "number");
	expect_line_refusal("vnoc-max-inflight 0", "number");
	expect_line_refusal("vnoc-max-inflight 2 3", "one value");
	expect_line_refusal("igmp-max-source-records 0", "number");
	expect_line_refusal("igmp-max-source-records 4194305", "number");
}

/* The soft limit of the VNOC's outbound SAs: 0 (unset) is 3/4 of the hard
 * limit (esp_outb_soft_packets). */
static void
test_sa_rekey_packets_sets_the_soft_limit(void **state)
{
	struct conf *conf = *state, *most = conf_new();

	assert_true(conf->sa_rekey_packets == 0);
	load_ok(conf, base "sa-rekey-packets 500\n");
	assert_true(conf->sa_rekey_packets == 500);
	assert_non_null(most);
	load_ok(most, base "sa-rekey-packets 18446744073709551615\n");
	assert_true(most->sa_rekey_packets == UINT64_MAX);
	conf_free(most);
}

static void
test_sa_rekey_packets_refuses_zero_and_non_numbers(void **state)
{
	(void)state;
	expect_line_refusal("sa-rekey-packets 0", "sa-rekey-packets '0' is not a number from 1");
	expect_line_refusal("sa-rekey-packets many", "is not a number");
	expect_line_refusal("sa-rekey-packets 18446744073709551616", "is not a number");
	expect_line_refusal("sa-rekey-packets", "needs a value");
	expect_line_refusal("sa-rekey-packets 5 6", "one value");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_holds_defaults),
		T(test_sa_rekey_packets_sets_the_soft_limit),
		T(test_sa_rekey_packets_refuses_zero_and_non_numbers),
		T(test_example_loads_every_value),
		T(test_optional_keywords_override_defaults),
		T(test_outer_df_clear_and_ttl_1),
		T(test_workers_sets_worker_count_and_defaults_to_unset),
		T(test_workers_accepts_one_to_max_lcore_minus_one),
		T(test_refuses_workers_0_too_many_or_not_a_number),
		T(test_group_sa_gives_a_group_one_outbound_sa),
		T(test_group_sa_before_send_to_and_sites_without_sa_out),
		T(test_refuses_group_sa_without_send_to),
		T(test_refuses_group_sa_spi_used_by_another_sa),
		T(test_refuses_second_group_sa_for_a_group),
		T(test_refuses_group_sa_with_a_vnoc),
		T(test_refuses_bad_group_sa_lines),
		T(test_sa_options_esn_window_lifetimes),
		T(test_sa_spi_hex_and_decimal_and_same_spi_both_directions),
		T(test_numbers_are_decimal_or_0x_hex_never_octal),
		T(test_replay_window_applies_to_inbound_sas_wherever_it_stands),
		T(test_comments_blank_lines_and_tabs_accepted),
		T(test_last_line_without_newline_accepted),
		T(test_same_group_on_several_lines_adds_up),
		T(test_site_with_own_mac_needs_no_nexthop_mac),
		T(test_load_file_reads_a_file),
		T(test_refuses_unknown_keyword),
		T(test_refuses_unknown_word_on_a_line),
		T(test_refuses_missing_argument),
		T(test_refuses_bad_ipv4_address),
		T(test_refuses_group_not_multicast),
		T(test_refuses_group_in_local_network_control_block),
		T(test_accepts_group_just_outside_control_block),
		T(test_refuses_send_to_unknown_site),
		T(test_refuses_send_to_site_without_sa_out),
		T(test_refuses_duplicate_site_name),
		T(test_refuses_duplicate_inbound_spi),
		T(test_refuses_second_outbound_sa_for_a_site),
		T(test_refuses_sa_for_unknown_site),
		T(test_refuses_spi_below_256),
		T(test_refuses_bad_spi_number),
		T(test_refuses_key_with_wrong_number_of_hex_digits),
		T(test_refuses_non_hex_key),
		T(test_refuses_unknown_aead),
		T(test_refuses_replay_window_not_power_of_two),
		T(test_refuses_replay_window_out_of_range),
		T(test_refuses_outer_ttl_0_and_256),
		T(test_refuses_bad_outer_df),
		T(test_refuses_bad_mac),
		T(test_refuses_missing_wan_address),
		T(test_refuses_missing_lan_port),
		T(test_refuses_missing_wan_port),
		T(test_refuses_empty_file),
		T(test_refuses_site_without_mac_when_no_nexthop_mac),
		T(test_load_file_missing_names_path),
		T(test_error_truncated_to_err_len),
		T(test_refusal_names_the_file),
		T(test_parse_ipv4_good_and_bad),
		T(test_parse_mac_good_and_bad),
		T(test_parse_hex_good_and_bad),
		T(test_bounds_default_to_the_documented_values),
		T(test_bound_keywords_set_each_bound),
		T(test_refuses_bounds_of_zero_or_too_large),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
