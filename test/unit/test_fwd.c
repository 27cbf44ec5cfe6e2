/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/fwd: building a forwarding snapshot from a spec
 * (fwd_state_create), what it refuses (duplicate group or SPI, a site index
 * out of range, a group sent to a site without an outbound SA), the group
 * and SPI tables (every key found, absent keys not), the source filter of
 * RFC 3376 6.3 (fwd_group_wants) and administrative scope boundaries
 * (fwd_scope_blocks).
 *
 * Only the pure functions are called: fwd_publish (RCU) is the daemon's and
 * the pcap suite's business. SAs are plain struct esp_sa objects with an SPI:
 * fwd only points at them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "fwd/fwd.h"

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

#define G1 ip4(239, 1, 1, 1)
#define G2 ip4(239, 2, 2, 2)
#define G3 ip4(239, 3, 3, 3)
#define S1 ip4(192, 168, 1, 11)
#define S2 ip4(192, 168, 1, 12)
#define S3 ip4(192, 168, 1, 13)
#define S4 ip4(192, 168, 1, 14)

#define N_SITES 4

/* Outbound SAs of the sites, and inbound SAs from them. fwd reads only .spi. */
static struct esp_sa sa_out[N_SITES];
static struct esp_sa sa_in[N_SITES];

static struct fwd_site sites[N_SITES];

static void
sites_init(void)
{
	for (int i = 0; i < N_SITES; i++) {
		memset(&sites[i], 0, sizeof(sites[i]));
		sites[i].wan_addr = ip4(10, 99, 0, (uint8_t)(2 + i));
		sites[i].dst_mac[0] = 0x02;
		sites[i].dst_mac[5] = (uint8_t)(0xb0 + i);
		sites[i].udp_encap = i % 2;
		sites[i].sa_out = &sa_out[i];
		sa_out[i].spi = 0x1000u + (uint32_t)i;
		sa_in[i].spi = 0x2000u + (uint32_t)i;
	}
}

static int
setup(void **state)
{
	(void)state;
	sites_init();
	return 0;
}

/* A spec with the four sites and their inbound SAs; groups set by the test. */
static struct fwd_spec
base_spec(const struct fwd_group_spec *groups, uint32_t n_groups,
	  const struct fwd_inbound_spec *inbound, uint32_t n_inbound)
{
	return (struct fwd_spec){
		.wan_addr = ip4(10, 99, 0, 1),
		.outer_ttl = 64,
		.outer_df = FWD_DF_COPY,
		.wan_mtu = 1500,
		.n_sites = N_SITES,
		.sites = sites,
		.n_groups = n_groups,
		.groups = groups,
		.n_inbound = n_inbound,
		.inbound = inbound,
	};
}

/* Distinct multicast groups from an index: multiplying by an odd constant is
 * a bijection modulo 2^28, so indices never collide, and the addresses come
 * out scattered over 224.0.0.0/4 like random ones. */
static uint32_t
group_of_index(uint32_t i)
{
	return htonl(0xe0000000u | ((i * 0x9e3779b1u + 0x5bd1e995u) & 0x0fffffffu));
}

/* ---- the snapshot keeps what the spec says ---- */

static void
test_fwd_state_create_copies_outer_fields_and_sites(void **state)
{
	static const uint16_t to_b_c[] = { 0, 1 };
	struct fwd_group_spec g = { .group = G1, .n_sites = 2, .sites = to_b_c };
	struct fwd_spec spec = base_spec(&g, 1, NULL, 0);
	struct fwd_state *s;

	(void)state;
	spec.outer_ttl = 17;
	spec.outer_df = FWD_DF_SET;
	spec.wan_mtu = 1400;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	assert_int_equal(s->wan_addr, ip4(10, 99, 0, 1));
	assert_int_equal(s->outer_ttl, 17);
	assert_int_equal(s->outer_df, FWD_DF_SET);
	assert_int_equal(s->wan_mtu, 1400);
	assert_int_equal(s->n_sites, N_SITES);
	for (int i = 0; i < N_SITES; i++) {
		assert_int_equal(s->sites[i].wan_addr, sites[i].wan_addr);
		assert_memory_equal(s->sites[i].dst_mac, sites[i].dst_mac, 6);
		assert_int_equal(s->sites[i].udp_encap, sites[i].udp_encap);
		assert_ptr_equal(s->sites[i].sa_out, &sa_out[i]);
	}
	assert_int_equal(s->n_boundaries, 0);
	fwd_state_free(s);
}

/* The snapshot owns copies: the builder's arrays may change or go away. */
static void
test_fwd_state_create_copies_site_and_source_lists(void **state)
{
	uint16_t to[] = { 3, 1 };
	uint32_t sources[] = { S2, S1 };
	struct fwd_group_spec g = { .group = G1, .filter = FWD_FILTER_INCLUDE, .n_sites = 2,
				    .sites = to, .n_filter_sources = 2,
				    .filter_sources = sources };
	struct fwd_spec spec = base_spec(&g, 1, NULL, 0);
	struct fwd_state *s = fwd_state_create(&spec);
	const struct fwd_group *found;

	(void)state;
	assert_non_null(s);
	to[0] = to[1] = 0;
	sources[0] = sources[1] = S3;
	sites[3].wan_addr = 0;
	found = fwd_group_lookup(s, G1);
	assert_non_null(found);
	assert_int_equal(found->n_sites, 2);
	assert_int_equal(found->sites[0], 3);
	assert_int_equal(found->sites[1], 1);
	assert_int_equal(found->n_filter_sources, 2);
	assert_true(fwd_group_wants(found, S1));
	assert_true(fwd_group_wants(found, S2));
	assert_false(fwd_group_wants(found, S3));
	assert_int_equal(s->sites[3].wan_addr, ip4(10, 99, 0, 5));
	fwd_state_free(s);
}

/* ---- group table ---- */

static void
test_fwd_group_lookup_finds_3000_groups_and_no_others(void **state)
{
	enum { N = 3000 };
	struct fwd_group_spec *groups = calloc(N, sizeof(*groups));
	uint16_t *site_of = calloc(N, sizeof(*site_of));
	struct fwd_spec spec;
	struct fwd_state *s;

	(void)state;
	assert_non_null(groups);
	assert_non_null(site_of);
	for (uint32_t i = 0; i < N; i++) {
		site_of[i] = (uint16_t)(i % N_SITES);
		groups[i] = (struct fwd_group_spec){
			.group = group_of_index(i),
			.filter = (enum fwd_filter)(i % 2 ? FWD_FILTER_ALL : FWD_FILTER_NONE),
			.n_sites = 1,
			.sites = &site_of[i],
		};
	}
	spec = base_spec(groups, N, NULL, 0);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	for (uint32_t i = 0; i < N; i++) {
		const struct fwd_group *g = fwd_group_lookup(s, group_of_index(i));

		assert_non_null(g);
		assert_int_equal(g->group, group_of_index(i));
		assert_int_equal(g->n_sites, 1);
		assert_int_equal(g->sites[0], i % N_SITES);
		assert_int_equal(g->filter, i % 2 ? FWD_FILTER_ALL : FWD_FILTER_NONE);
	}
	/* Other groups, from the same bijection: none of them is in the table. */
	for (uint32_t i = N; i < 4 * N; i++)
		assert_null(fwd_group_lookup(s, group_of_index(i)));
	assert_null(fwd_group_lookup(s, G1 ^ htonl(1)));
	assert_null(fwd_group_lookup(s, htonl(0xffffffffu)));
	fwd_state_free(s);
	free(groups);
	free(site_of);
}

/* Keys that share a home slot probe on and are all found. */
static void
test_fwd_group_lookup_finds_colliding_groups(void **state)
{
	enum { N = 8 };
	struct fwd_group_spec groups[N];
	uint32_t want[N];
	struct fwd_spec spec;
	struct fwd_state *s;
	uint32_t n = 0, home;

	(void)state;
	/* Groups whose hashes agree in their low 16 bits share a home slot in
	 * any table of up to 65536 slots, whatever size the snapshot picks. */
	home = fwd_hash32(group_of_index(0)) & 0xffff;
	for (uint32_t i = 0; n < N; i++)
		if ((fwd_hash32(group_of_index(i)) & 0xffff) == home)
			want[n++] = group_of_index(i);
	for (uint32_t i = 0; i < N; i++)
		groups[i] = (struct fwd_group_spec){ .group = want[i], .filter = FWD_FILTER_ALL };
	spec = base_spec(groups, N, NULL, 0);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	for (uint32_t i = 0; i < N; i++) {
		const struct fwd_group *g = fwd_group_lookup(s, want[i]);

		assert_non_null(g);
		assert_int_equal(g->group, want[i]);
	}
	fwd_state_free(s);
}

/* 0.0.0.0 marks an empty slot, so no group may be 0; the worker never looks it
 * up (not multicast), and if anything does, it must not forward anywhere. */
static void
test_fwd_group_zero_is_refused_and_lookup_of_zero_forwards_nothing(void **state)
{
	struct fwd_group_spec zero = { .group = 0, .filter = FWD_FILTER_ALL };
	struct fwd_group_spec one = { .group = G1, .filter = FWD_FILTER_ALL };
	struct fwd_spec spec = base_spec(&zero, 1, NULL, 0);
	const struct fwd_group *g;
	struct fwd_state *s;

	(void)state;
	assert_null(fwd_state_create(&spec));
	spec = base_spec(&one, 1, NULL, 0);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	g = fwd_group_lookup(s, 0);
	if (g != NULL) {
		assert_int_equal(g->n_sites, 0);
		assert_false(fwd_group_wants(g, S1));
	}
	fwd_state_free(s);
}

/* ---- SPI table ---- */

static void
test_fwd_spi_lookup_finds_each_inbound_sa_and_its_site(void **state)
{
	struct fwd_inbound_spec inbound[N_SITES];
	struct fwd_spec spec;
	struct fwd_state *s;

	(void)state;
	for (int i = 0; i < N_SITES; i++)
		inbound[i] = (struct fwd_inbound_spec){ .sa = &sa_in[i], .site = (uint16_t)i };
	spec = base_spec(NULL, 0, inbound, N_SITES);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	for (int i = 0; i < N_SITES; i++) {
		const struct fwd_spi_slot *slot = fwd_spi_lookup(s, sa_in[i].spi);

		assert_non_null(slot);
		assert_int_equal(slot->spi, sa_in[i].spi);
		assert_int_equal(slot->site, i);
		assert_ptr_equal(slot->sa, &sa_in[i]);
	}
	/* Outbound SPIs are not inbound ones; nor are neighbours or 0. */
	for (int i = 0; i < N_SITES; i++)
		assert_null(fwd_spi_lookup(s, sa_out[i].spi));
	assert_null(fwd_spi_lookup(s, 0x2000u + N_SITES));
	assert_null(fwd_spi_lookup(s, 0));
	assert_null(fwd_spi_lookup(s, 0xffffffffu));
	fwd_state_free(s);
}

static void
test_fwd_spi_lookup_finds_1000_spis_and_no_others(void **state)
{
	enum { N = 1000 };
	static struct esp_sa sas[N];
	static struct fwd_inbound_spec inbound[N];
	struct fwd_spec spec;
	struct fwd_state *s;

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		sas[i].spi = 0x100u + i * 0x10001u;
		inbound[i] = (struct fwd_inbound_spec){ .sa = &sas[i],
							.site = (uint16_t)(i % N_SITES) };
	}
	spec = base_spec(NULL, 0, inbound, N);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	for (uint32_t i = 0; i < N; i++) {
		const struct fwd_spi_slot *slot = fwd_spi_lookup(s, sas[i].spi);

		assert_non_null(slot);
		assert_ptr_equal(slot->sa, &sas[i]);
		assert_int_equal(slot->site, i % N_SITES);
		assert_null(fwd_spi_lookup(s, sas[i].spi + 1));
	}
	fwd_state_free(s);
}

/* ---- what a spec may not say ---- */

static void
test_fwd_state_create_refuses_duplicate_group(void **state)
{
	static const uint16_t to_b[] = { 0 }, to_c[] = { 1 };
	struct fwd_group_spec groups[] = {
		{ .group = G1, .n_sites = 1, .sites = to_b },
		{ .group = G2, .n_sites = 1, .sites = to_b },
		{ .group = G1, .n_sites = 1, .sites = to_c },
	};
	struct fwd_spec spec = base_spec(groups, 3, NULL, 0);
	struct fwd_state *s;

	(void)state;
	assert_null(fwd_state_create(&spec));
	/* Without the repeated line the same groups build. */
	spec.n_groups = 2;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	fwd_state_free(s);
}

static void
test_fwd_state_create_refuses_duplicate_spi(void **state)
{
	struct esp_sa twin = { .spi = 0 };
	struct fwd_inbound_spec inbound[] = {
		{ .sa = &sa_in[0], .site = 0 },
		{ .sa = &sa_in[1], .site = 1 },
		{ .sa = &twin, .site = 2 },
	};
	struct fwd_spec spec = base_spec(NULL, 0, inbound, 3);
	struct fwd_state *s;

	(void)state;
	/* The same SPI from two sites: the receiver could not tell them apart. */
	twin.spi = sa_in[0].spi;
	assert_null(fwd_state_create(&spec));
	/* The same SA object twice. */
	inbound[2].sa = &sa_in[1];
	assert_null(fwd_state_create(&spec));
	/* An SPI of 0 is reserved (RFC 4303 2.1). */
	twin.spi = 0;
	inbound[2].sa = &twin;
	assert_null(fwd_state_create(&spec));
	/* And three distinct ones build. */
	twin.spi = 0x7777;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	fwd_state_free(s);
}

static void
test_fwd_state_create_refuses_site_index_out_of_range(void **state)
{
	static const uint16_t to_last[] = { N_SITES - 1 }, to_beyond[] = { 0, N_SITES };
	struct fwd_group_spec g = { .group = G1, .n_sites = 1, .sites = to_last };
	struct fwd_inbound_spec in = { .sa = &sa_in[0], .site = N_SITES - 1 };
	struct fwd_spec spec = base_spec(&g, 1, &in, 1);
	struct fwd_state *s;

	(void)state;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	fwd_state_free(s);
	/* A group sending to a site that does not exist. */
	g.n_sites = 2;
	g.sites = to_beyond;
	assert_null(fwd_state_create(&spec));
	g.sites = (const uint16_t[]){ 0, UINT16_MAX };
	assert_null(fwd_state_create(&spec));
	/* An inbound SA from a site that does not exist. */
	g.n_sites = 1;
	g.sites = to_last;
	in.site = N_SITES;
	assert_null(fwd_state_create(&spec));
}

static void
test_fwd_inbound_sa_of_no_site_is_found_by_spi(void **state)
{
	struct fwd_inbound_spec in = { .sa = &sa_in[0], .site = FWD_SITE_NONE };
	struct fwd_spec spec = base_spec(NULL, 0, &in, 1);
	const struct fwd_spi_slot *slot;
	struct fwd_state *s;

	(void)state;
	spec.n_sites = 0;       /* its sender is no site of the snapshot any more */
	s = fwd_state_create(&spec);
	assert_non_null(s);
	slot = fwd_spi_lookup(s, sa_in[0].spi);
	assert_non_null(slot);
	assert_ptr_equal(slot->sa, &sa_in[0]);
	fwd_state_free(s);
}

static void
test_fwd_state_create_refuses_group_to_site_without_sa_out(void **state)
{
	static const uint16_t to_b_c[] = { 0, 1 }, to_b[] = { 0 };
	struct fwd_group_spec g = { .group = G1, .n_sites = 2, .sites = to_b_c };
	struct fwd_spec spec = base_spec(&g, 1, NULL, 0);
	struct fwd_state *s;

	(void)state;
	sites[1].sa_out = NULL;
	assert_null(fwd_state_create(&spec));
	/* A site without an outbound SA is fine as long as nothing goes to it. */
	g.sites = to_b;
	g.n_sites = 1;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	assert_null(s->sites[1].sa_out);
	fwd_state_free(s);
}

static void
test_fwd_state_create_refuses_more_than_16_boundaries(void **state)
{
	struct fwd_boundary b[FWD_MAX_BOUNDARIES + 1];
	struct fwd_spec spec = base_spec(NULL, 0, NULL, 0);
	struct fwd_state *s;

	(void)state;
	for (int i = 0; i <= FWD_MAX_BOUNDARIES; i++)
		b[i] = (struct fwd_boundary){ ip4(239, (uint8_t)(100 + i), 0, 0),
					      ip4(255, 255, 0, 0) };
	spec.boundaries = b;
	spec.n_boundaries = FWD_MAX_BOUNDARIES + 1;
	assert_null(fwd_state_create(&spec));
	spec.n_boundaries = FWD_MAX_BOUNDARIES;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	assert_int_equal(s->n_boundaries, FWD_MAX_BOUNDARIES);
	assert_true(fwd_scope_blocks(s, ip4(239, 115, 9, 9)));
	assert_false(fwd_scope_blocks(s, ip4(239, 116, 9, 9)));
	fwd_state_free(s);
}

/* ---- RFC 3376 6.3: which sources the LAN wants ---- */

static struct fwd_group
group_with(enum fwd_filter filter, const uint32_t *sources, uint16_t n)
{
	return (struct fwd_group){ .group = G1, .filter = filter, .n_filter_sources = n,
				   .filter_sources = sources };
}

static void
test_fwd_group_wants_nothing_when_filter_none(void **state)
{
	const uint32_t listed[] = { S1 };
	struct fwd_group g = group_with(FWD_FILTER_NONE, listed, 1);

	(void)state;
	assert_false(fwd_group_wants(&g, S1));
	assert_false(fwd_group_wants(&g, S2));
	assert_false(fwd_group_wants(&g, 0));
}

static void
test_fwd_group_wants_every_source_when_filter_all(void **state)
{
	const uint32_t listed[] = { S1 };
	struct fwd_group g = group_with(FWD_FILTER_ALL, listed, 1);

	(void)state;
	assert_true(fwd_group_wants(&g, S1));
	assert_true(fwd_group_wants(&g, S2));
	assert_true(fwd_group_wants(&g, S4));
}

/* INCLUDE {S1, S2}: forward S1 and S2, nothing else. */
static void
test_fwd_group_wants_only_listed_sources_when_include(void **state)
{
	const uint32_t listed[] = { S1, S2 };
	struct fwd_group g = group_with(FWD_FILTER_INCLUDE, listed, 2);
	struct fwd_group empty = group_with(FWD_FILTER_INCLUDE, NULL, 0);

	(void)state;
	assert_true(fwd_group_wants(&g, S1));
	assert_true(fwd_group_wants(&g, S2));
	assert_false(fwd_group_wants(&g, S3));
	assert_false(fwd_group_wants(&g, S4));
	/* INCLUDE {}: no state, nothing forwarded. */
	assert_false(fwd_group_wants(&empty, S1));
}

/* EXCLUDE {S3}: forward everything but S3. */
static void
test_fwd_group_wants_all_but_listed_sources_when_exclude(void **state)
{
	const uint32_t listed[] = { S3 };
	struct fwd_group g = group_with(FWD_FILTER_EXCLUDE, listed, 1);
	struct fwd_group empty = group_with(FWD_FILTER_EXCLUDE, NULL, 0);

	(void)state;
	assert_true(fwd_group_wants(&g, S1));
	assert_true(fwd_group_wants(&g, S2));
	assert_false(fwd_group_wants(&g, S3));
	assert_true(fwd_group_wants(&g, S4));
	/* EXCLUDE {}: every source. */
	assert_true(fwd_group_wants(&empty, S3));
}

/* The same filters, built through fwd_state_create and found by lookup. */
static void
test_fwd_group_wants_filters_built_into_a_snapshot(void **state)
{
	const uint32_t inc[] = { S2, S1 }, exc[] = { S3 };
	struct fwd_group_spec groups[] = {
		{ .group = G1, .filter = FWD_FILTER_INCLUDE, .n_filter_sources = 2,
		  .filter_sources = inc },
		{ .group = G2, .filter = FWD_FILTER_EXCLUDE, .n_filter_sources = 1,
		  .filter_sources = exc },
		{ .group = G3, .filter = FWD_FILTER_NONE },
	};
	struct fwd_spec spec = base_spec(groups, 3, NULL, 0);
	struct fwd_state *s = fwd_state_create(&spec);
	const struct fwd_group *g1, *g2, *g3;

	(void)state;
	assert_non_null(s);
	g1 = fwd_group_lookup(s, G1);
	g2 = fwd_group_lookup(s, G2);
	g3 = fwd_group_lookup(s, G3);
	assert_non_null(g1);
	assert_non_null(g2);
	assert_non_null(g3);
	assert_true(fwd_group_wants(g1, S1) && fwd_group_wants(g1, S2));
	assert_false(fwd_group_wants(g1, S3));
	assert_true(fwd_group_wants(g2, S1) && fwd_group_wants(g2, S4));
	assert_false(fwd_group_wants(g2, S3));
	assert_false(fwd_group_wants(g3, S1));
	fwd_state_free(s);
}

/* ---- administrative scope (RFC 2365) ---- */

static void
test_fwd_scope_blocks_inside_and_at_the_edges_of_boundaries(void **state)
{
	struct fwd_boundary boundaries[2];
	struct fwd_spec spec = base_spec(NULL, 0, NULL, 0);
	struct fwd_state *s;

	(void)state;
	boundaries[0] = (struct fwd_boundary){ ip4(239, 255, 0, 0), ip4(255, 255, 0, 0) };
	boundaries[1] = (struct fwd_boundary){ ip4(239, 192, 0, 0), ip4(255, 252, 0, 0) };
	spec.boundaries = boundaries;
	spec.n_boundaries = 2;
	s = fwd_state_create(&spec);
	assert_non_null(s);
	/* 239.255.0.0/16: the local scope. */
	assert_true(fwd_scope_blocks(s, ip4(239, 255, 1, 1)));
	assert_true(fwd_scope_blocks(s, ip4(239, 255, 0, 0)));
	assert_true(fwd_scope_blocks(s, ip4(239, 255, 255, 255)));
	assert_false(fwd_scope_blocks(s, ip4(239, 254, 255, 255)));
	/* 239.192.0.0/14: the organization-local scope, 239.192.0.0..239.195.255.255. */
	assert_true(fwd_scope_blocks(s, ip4(239, 192, 0, 0)));
	assert_true(fwd_scope_blocks(s, ip4(239, 193, 7, 7)));
	assert_true(fwd_scope_blocks(s, ip4(239, 195, 255, 255)));
	assert_false(fwd_scope_blocks(s, ip4(239, 191, 255, 255)));
	assert_false(fwd_scope_blocks(s, ip4(239, 196, 0, 0)));
	/* Elsewhere. */
	assert_false(fwd_scope_blocks(s, ip4(239, 1, 1, 1)));
	assert_false(fwd_scope_blocks(s, ip4(224, 0, 1, 1)));
	assert_false(fwd_scope_blocks(s, ip4(232, 1, 1, 1)));
	assert_false(fwd_scope_blocks(s, ip4(255, 255, 1, 1)));
	assert_false(fwd_scope_blocks(s, ip4(238, 255, 1, 1)));
	fwd_state_free(s);
}

static void
test_fwd_scope_blocks_nothing_without_boundaries(void **state)
{
	struct fwd_spec spec = base_spec(NULL, 0, NULL, 0);
	struct fwd_state *s = fwd_state_create(&spec);

	(void)state;
	assert_non_null(s);
	assert_false(fwd_scope_blocks(s, ip4(239, 255, 1, 1)));
	assert_false(fwd_scope_blocks(s, ip4(239, 192, 0, 0)));
	fwd_state_free(s);
}

/* ---- sizes ---- */

static void
test_fwd_state_create_empty_spec_finds_nothing(void **state)
{
	struct fwd_spec spec = { .wan_addr = ip4(10, 99, 0, 1), .outer_ttl = 64,
				 .wan_mtu = 1500 };
	struct fwd_state *s = fwd_state_create(&spec);

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->n_sites, 0);
	assert_null(fwd_group_lookup(s, G1));
	assert_null(fwd_group_lookup(s, group_of_index(7)));
	assert_null(fwd_spi_lookup(s, 0x2000));
	assert_false(fwd_scope_blocks(s, G1));
	fwd_state_free(s);
	fwd_state_free(NULL);
}

/* The configuration's limit: 4096 groups, each to every site. */
static void
test_fwd_state_create_builds_4096_groups_to_4_sites(void **state)
{
	enum { N = 4096 };
	static const uint16_t all_sites[N_SITES] = { 0, 1, 2, 3 };
	const uint32_t excluded[] = { S3 };
	struct fwd_group_spec *groups = calloc(N, sizeof(*groups));
	struct fwd_inbound_spec inbound[N_SITES];
	struct fwd_spec spec;
	struct fwd_state *s;

	(void)state;
	assert_non_null(groups);
	for (uint32_t i = 0; i < N; i++)
		groups[i] = (struct fwd_group_spec){
			.group = group_of_index(i), .n_sites = N_SITES, .sites = all_sites,
			.filter = FWD_FILTER_EXCLUDE, .n_filter_sources = 1,
			.filter_sources = excluded,
		};
	for (int i = 0; i < N_SITES; i++)
		inbound[i] = (struct fwd_inbound_spec){ .sa = &sa_in[i], .site = (uint16_t)i };
	spec = base_spec(groups, N, inbound, N_SITES);
	s = fwd_state_create(&spec);
	assert_non_null(s);
	/* At least twice as many slots as keys: probes stay short and end. */
	assert_true(s->group_mask + 1 >= 2 * N);
	for (uint32_t i = 0; i < N; i++) {
		const struct fwd_group *g = fwd_group_lookup(s, group_of_index(i));

		assert_non_null(g);
		assert_int_equal(g->n_sites, N_SITES);
		for (int j = 0; j < N_SITES; j++)
			assert_int_equal(g->sites[j], j);
		assert_false(fwd_group_wants(g, S3));
		assert_true(fwd_group_wants(g, S1));
	}
	assert_null(fwd_group_lookup(s, group_of_index(N)));
	for (int i = 0; i < N_SITES; i++)
		assert_non_null(fwd_spi_lookup(s, sa_in[i].spi));
	fwd_state_free(s);
	free(groups);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup(name, setup)
	const struct CMUnitTest tests[] = {
		T(test_fwd_state_create_copies_outer_fields_and_sites),
		T(test_fwd_state_create_copies_site_and_source_lists),
		T(test_fwd_group_lookup_finds_3000_groups_and_no_others),
		T(test_fwd_group_lookup_finds_colliding_groups),
		T(test_fwd_group_zero_is_refused_and_lookup_of_zero_forwards_nothing),
		T(test_fwd_spi_lookup_finds_each_inbound_sa_and_its_site),
		T(test_fwd_spi_lookup_finds_1000_spis_and_no_others),
		T(test_fwd_state_create_refuses_duplicate_group),
		T(test_fwd_state_create_refuses_duplicate_spi),
		T(test_fwd_state_create_refuses_site_index_out_of_range),
		T(test_fwd_inbound_sa_of_no_site_is_found_by_spi),
		T(test_fwd_state_create_refuses_group_to_site_without_sa_out),
		T(test_fwd_state_create_refuses_more_than_16_boundaries),
		T(test_fwd_group_wants_nothing_when_filter_none),
		T(test_fwd_group_wants_every_source_when_filter_all),
		T(test_fwd_group_wants_only_listed_sources_when_include),
		T(test_fwd_group_wants_all_but_listed_sources_when_exclude),
		T(test_fwd_group_wants_filters_built_into_a_snapshot),
		T(test_fwd_scope_blocks_inside_and_at_the_edges_of_boundaries),
		T(test_fwd_scope_blocks_nothing_without_boundaries),
		T(test_fwd_state_create_empty_spec_finds_nothing),
		T(test_fwd_state_create_builds_4096_groups_to_4_sites),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
