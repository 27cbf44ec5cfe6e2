/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/worker/worker_control.c: what a worker hands the
 * management lcore is rate-limited per LAN host, then per worker, so that
 * one flooding host cannot starve the other hosts' joins and new sources.
 * No EAL: the rings live in plain memory, the mbufs are hand-made, the TSC
 * is a number the test sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "worker/worker_private.h"

#define HZ        1000000000ull        /* a 1 GHz TSC */
#define RING_SIZE 4096
#define L2_LEN    14

struct harness {
	struct worker *w;
	struct rte_ring *igmp_ring;
	struct rte_ring *source_ring;
	struct rte_mbuf mbuf;
	uint8_t frame[64];
};

static struct rte_ring *
ring_new(const char *name)
{
	ssize_t size = rte_ring_get_memsize(RING_SIZE);
	struct rte_ring *r;

	assert_true(size > 0);
	r = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)size);
	assert_non_null(r);
	assert_int_equal(rte_ring_init(r, name, RING_SIZE, RING_F_SC_DEQ), 0);
	return r;
}

/* A worker with the given limits (0 per host: none); TSC starts at 10 s. */
static struct harness *
harness_new(uint32_t igmp_rate, uint32_t igmp_per_host, uint32_t source_rate,
	    uint32_t source_per_host)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->w = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*h->w));
	assert_non_null(h->w);
	memset(h->w, 0, sizeof(*h->w));
	h->igmp_ring = ring_new("igmp");
	h->source_ring = ring_new("sources");
	h->w->cfg.igmp_ring = h->igmp_ring;
	h->w->cfg.source_ring = h->source_ring;
	h->w->cfg.igmp_rate = igmp_rate;
	h->w->cfg.igmp_rate_per_host = igmp_per_host;
	h->w->cfg.source_report_rate = source_rate;
	h->w->cfg.source_report_rate_per_host = source_per_host;
	h->w->now_tsc = 10 * HZ;
	worker_control_init(h->w, HZ, h->w->now_tsc);
	h->mbuf.buf_addr = h->frame;
	h->mbuf.data_off = 0;
	h->mbuf.l2_len = L2_LEN;
	return h;
}

static void
harness_free(struct harness *h)
{
	free(h->igmp_ring);
	free(h->source_ring);
	free(h->w);
	free(h);
}

static uint64_t
counter(const struct harness *h, enum worker_counter id)
{
	return h->w->counters.c[id];
}

/* n IGMP frames from host (host byte order); how many were handed over.
 * The ring is drained after each, as the management lcore would. */
static unsigned int
igmp_from(struct harness *h, uint32_t host, unsigned int n)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h->frame + L2_LEN);
	unsigned int handed = 0;
	void *out;

	ip->src_addr = htonl(host);
	for (unsigned int i = 0; i < n; i++) {
		if (!worker_igmp_punt(h->w, &h->mbuf))
			continue;
		assert_int_equal(rte_ring_sc_dequeue(h->igmp_ring, &out), 0);
		assert_ptr_equal(out, &h->mbuf);
		handed++;
	}
	return handed;
}

/* Data from source to n new groups; how many sightings were reported. */
static unsigned int
sources_from(struct harness *h, uint32_t source, uint32_t first_group, unsigned int n)
{
	unsigned int before = rte_ring_count(h->source_ring);

	for (unsigned int i = 0; i < n; i++)
		worker_source_note(h->w, htonl(source), htonl(first_group + i));
	return rte_ring_count(h->source_ring) - before;
}

/* A host whose bucket is not first's (the hash is seeded per worker). */
static uint32_t
other_host(const struct harness *h, uint32_t first)
{
	uint32_t host = first + 1;

	while (worker_host_slot(h->w, htonl(host)) == worker_host_slot(h->w, htonl(first)))
		host++;
	return host;
}

/* DPDK 22.11's RTE_IPV4 shifts an int: 192 << 24 overflows it (UBSan). */
#define IPV4_ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			       (uint32_t)(c) << 8 | (uint32_t)(d))
#define HOST_A IPV4_ADDR(192, 168, 1, 66)

static void
test_worker_igmp_flooding_host_is_limited_and_second_host_join_goes_through(void **state)
{
	struct harness *h = harness_new(1000, 10, 1000, 10);
	uint32_t host_b = other_host(h, HOST_A);

	(void)state;
	assert_int_equal(igmp_from(h, HOST_A, 500), 10);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_host_rate_limited), 490);
	/* The flood spent only its own bucket: the worker's has room. */
	assert_int_equal(igmp_from(h, host_b, 1), 1);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_rate_limited), 0);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp), 501);
	harness_free(h);
}

static void
test_worker_igmp_worker_limit_caps_all_hosts_together(void **state)
{
	struct harness *h = harness_new(20, 10, 1000, 10);
	uint32_t host = HOST_A;
	unsigned int handed = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		handed += igmp_from(h, host, 10);
		host = other_host(h, host);
	}
	assert_int_equal(handed, 20);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_rate_limited), 30);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_host_rate_limited), 0);
	harness_free(h);
}

static void
test_worker_igmp_host_bucket_refills_at_its_rate_up_to_one_second(void **state)
{
	struct harness *h = harness_new(1000, 10, 1000, 10);

	(void)state;
	assert_int_equal(igmp_from(h, HOST_A, 20), 10);
	h->w->now_tsc += HZ / 2;
	assert_int_equal(igmp_from(h, HOST_A, 20), 5);
	h->w->now_tsc += 100 * HZ;
	assert_int_equal(igmp_from(h, HOST_A, 20), 10);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_host_rate_limited), 35);
	harness_free(h);
}

static void
test_worker_source_flooding_host_is_limited_and_second_host_still_reported(void **state)
{
	struct harness *h = harness_new(1000, 10, 1000, 5);
	uint32_t host_b = other_host(h, HOST_A);

	(void)state;
	assert_int_equal(sources_from(h, HOST_A, IPV4_ADDR(239, 1, 0, 1), 300), 5);
	assert_int_equal(counter(h, WORKER_CTR_source_reports_host_rate_limited), 295);
	assert_int_equal(sources_from(h, host_b, IPV4_ADDR(239, 2, 0, 1), 1), 1);
	assert_int_equal(counter(h, WORKER_CTR_source_reports_rate_limited), 0);
	assert_int_equal(counter(h, WORKER_CTR_source_reports), 6);
	harness_free(h);
}

static void
test_worker_host_limit_zero_leaves_only_the_worker_limit(void **state)
{
	struct harness *h = harness_new(10, 0, 1000, 0);

	(void)state;
	assert_int_equal(igmp_from(h, HOST_A, 25), 10);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_rate_limited), 15);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_host_rate_limited), 0);
	harness_free(h);
}

/* After a long silence the buckets are full, not garbage: elapsed * rate
 * would overflow 64 bits (10^5 s at 1 GHz times 10^6 a second). */
static void
test_worker_limits_are_full_after_a_long_idle_spell(void **state)
{
	struct harness *h = harness_new(1000000, 0, 1000, 0);

	(void)state;
	assert_int_equal(igmp_from(h, HOST_A, 1000001), 1000000);
	h->w->now_tsc += 100000 * HZ;
	assert_int_equal(igmp_from(h, HOST_A, 1000001), 1000000);
	assert_int_equal(counter(h, WORKER_CTR_lan_igmp_rate_limited), 2);
	harness_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_igmp_flooding_host_is_limited_and_second_host_join_goes_through),
		cmocka_unit_test(test_worker_igmp_worker_limit_caps_all_hosts_together),
		cmocka_unit_test(test_worker_igmp_host_bucket_refills_at_its_rate_up_to_one_second),
		cmocka_unit_test(test_worker_source_flooding_host_is_limited_and_second_host_still_reported),
		cmocka_unit_test(test_worker_host_limit_zero_leaves_only_the_worker_limit),
		cmocka_unit_test(test_worker_limits_are_full_after_a_long_idle_spell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
