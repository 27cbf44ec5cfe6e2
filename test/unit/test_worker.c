/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/worker's group-SA path (worker_outb.c): a LAN packet of a
 * group with a group SA is encrypted once, and each site's copy is either a
 * header mbuf chained to an indirect clone of the encrypted body (a WAN port
 * with multi-seg TX) or a flat copy. The WAN port is a net_ring vdev: what
 * the worker sends comes back on its RX queue as the very mbufs sent, so the
 * chains can be inspected. Each copy is opened with lib/esp's inbound path,
 * one inbound SA per receiving site, as each site would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "conf/conf.h"
#include "esp/esp.h"
#include "fwd/fwd_conf.h"
#include "pkt/pkt.h"
#include "worker/worker.h"

#define POOL_SIZE 1023
#define N_PACKETS 5
#define N_SITES   3
#define MAX_OUT   64
#define GROUP_KEY "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"

static const char conf_text[] =
	"lan-port 0\n"
	"wan-port 0\n"
	"wan-address 10.99.0.1\n"
	"wan-nexthop-mac 02:00:00:00:00:fe\n"
	"site B 10.99.0.2\n"
	"site C 10.99.0.3 udp-encap\n"
	"site D 10.99.0.4 mac 02:00:00:00:00:d4\n"
	"group 239.1.1.1 send-to B C D\n"
	"group-sa 239.1.1.1 spi 0x7001 aes-gcm-128 key " GROUP_KEY "\n";

static const uint32_t site_addr[N_SITES] = {
	RTE_IPV4(10, 99, 0, 2), RTE_IPV4(10, 99, 0, 3), RTE_IPV4(10, 99, 0, 4),
};

static struct rte_mempool *pool;
/* The last LAN packet's length: large, or too big for ESP-in-UDP. */
static uint16_t last_len = 1386;
static uint16_t ring_port;
static IMB_MGR *mb;

/* One frame the worker sent, linearised. */
struct sent {
	uint8_t bytes[2048];
	uint32_t len;
	uint16_t nb_segs;
	bool body_is_clone;
	const void *body_buf;        /* the second segment's buffer */
};

static int
setup_eal(void **state)
{
	char prefix[64];
	char *argv[] = { "test_worker", "--no-huge", "-m", "256", "--no-pci", "-l", "0",
			 "--log-level", "warning", "--vdev", "net_ring0", "--no-shconf",
			 "--file-prefix", prefix };
	struct rte_eth_conf eth = { 0 };

	(void)state;
	snprintf(prefix, sizeof(prefix), "ivgmp-unit-worker-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	/* No cache: the pool's count is exact, so a leak shows. */
	pool = rte_pktmbuf_pool_create("unit_worker", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL || rte_eth_dev_get_port_by_name("net_ring0", &ring_port) != 0 ||
	    rte_eth_dev_configure(ring_port, 1, 1, &eth) != 0 ||
	    rte_eth_rx_queue_setup(ring_port, 0, 256, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(ring_port, 0, 256, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start(ring_port) != 0)
		return -1;
	mb = alloc_mb_mgr(0);
	if (mb == NULL)
		return -1;
	init_mb_mgr_auto(mb, NULL);
	return 0;
}

static int
teardown_eal(void **state)
{
	char cmd[600];

	(void)state;
	free_mb_mgr(mb);
	rte_eth_dev_stop(ring_port);
	rte_eth_dev_close(ring_port);
	/* The EAL leaves its runtime directory behind. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	return system(cmd) == 0 ? 0 : -1;
}

/* A LAN multicast UDP packet of ip_len bytes to 239.1.1.1. */
static struct rte_mbuf *
lan_packet(uint16_t ip_len, uint8_t seed, uint8_t *l3_copy)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t f[1600];
	uint16_t sum;

	assert_non_null(m);
	assert_true(14u + ip_len <= sizeof(f));
	memcpy(f, "\x01\x00\x5e\x01\x01\x01\x02\x00\x00\x00\x01\x0a\x08\x00", 14);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[22] = 16;                       /* TTL */
	f[23] = 17;                       /* UDP */
	memcpy(f + 26, "\x0a\x01\x00\x0a\xef\x01\x01\x01", 8);
	sum = pkt_ipv4_checksum(f + 14, 20);
	f[24] = (uint8_t)(sum >> 8);
	f[25] = (uint8_t)sum;
	for (uint16_t i = 34; i < 14 + ip_len; i++)
		f[i] = (uint8_t)(seed * 31 + i);
	memcpy(l3_copy, f + 14, ip_len);
	assert_non_null(rte_pktmbuf_append(m, (uint16_t)(14 + ip_len)));
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, 14u + ip_len);
	return m;
}

struct run {
	struct conf *conf;
	struct esp_sa *sas[4];
	uint16_t n_sas;
	struct fwd_state *state;
	struct worker *w;
	uint8_t l3[N_PACKETS][1600];
	uint16_t l3_len[N_PACKETS];
	struct sent out[MAX_OUT];
	uint16_t n_out;
};

/* Run N_PACKETS LAN packets through worker_lan_burst with fresh SAs (so
 * that two runs number alike) and collect what reached the WAN. */
static void
run_group(struct run *r, bool chained)
{
	char err[CONF_ERR_MAX];
	struct worker_config wc = { .lan_port = ring_port, .wan_port = ring_port,
				    .pool = pool, .wan_chained_force = chained };
	struct rte_mbuf *in[N_PACKETS], *got[MAX_OUT];
	uint16_t n;

	memset(r, 0, sizeof(*r));
	r->conf = conf_new();
	assert_non_null(r->conf);
	assert_int_equal(conf_load_string(r->conf, "unit.conf", conf_text, err, sizeof(err)), 0);
	assert_int_equal(fwd_conf_sas_create(r->conf, mb, r->sas, &r->n_sas), 0);
	r->state = fwd_conf_state_create(r->conf, r->sas);
	assert_non_null(r->state);
	memcpy(wc.wan_mac, "\x02\x00\x00\x00\x00\x01", 6);
	r->w = worker_create(&wc, SOCKET_ID_ANY);
	assert_non_null(r->w);
	for (int i = 0; i < N_PACKETS; i++) {
		/* Inner lengths give every padding length, and one large packet. */
		r->l3_len[i] = (uint16_t)(i == N_PACKETS - 1 ? last_len : 38 + i);
		in[i] = lan_packet(r->l3_len[i], (uint8_t)i, r->l3[i]);
	}
	worker_lan_burst(r->w, r->state, in, N_PACKETS);
	n = rte_eth_rx_burst(ring_port, 0, got, MAX_OUT);
	for (uint16_t i = 0; i < n; i++) {
		struct sent *s = &r->out[i];
		const void *p;

		s->len = rte_pktmbuf_pkt_len(got[i]);
		s->nb_segs = got[i]->nb_segs;
		if (got[i]->nb_segs > 1) {
			s->body_is_clone = RTE_MBUF_CLONED(got[i]->next);
			s->body_buf = got[i]->next->buf_addr;
		}
		assert_true(s->len <= sizeof(s->bytes));
		p = rte_pktmbuf_read(got[i], 0, s->len, s->bytes);
		if (p != s->bytes)
			memcpy(s->bytes, p, s->len);
		rte_pktmbuf_free(got[i]);
	}
	r->n_out = n;
}

static void
run_free(struct run *r)
{
	worker_free(r->w);
	fwd_state_free(r->state);
	fwd_conf_sas_free(r->sas, r->n_sas);
	conf_free(r->conf);
}

/* Bytes before the ESP header of a frame to site j (C is UDP 4500). */
static uint32_t
esp_offset(int site)
{
	return 14 + 20 + (site == 1 ? 8 : 0);
}

/* What site j does: check the outer headers, decrypt with its own copy of
 * the group SA, and compare with the LAN packet. */
static void
check_frame(struct sent *s, int site, const uint8_t *l3, uint16_t l3_len, struct esp_sa *in_sa)
{
	uint8_t *ip = s->bytes + 14;
	uint32_t off = esp_offset(site), inner_len = 0;
	uint16_t total = (uint16_t)(ip[2] << 8 | ip[3]);
	uint32_t dst;

	memcpy(&dst, ip + 16, 4);
	assert_int_equal(ntohl(dst), site_addr[site]);
	assert_memory_equal(s->bytes, site == 2 ? "\x02\x00\x00\x00\x00\xd4" :
			    "\x02\x00\x00\x00\x00\xfe", 6);
	assert_int_equal(total, s->len - 14);
	assert_int_equal(pkt_ipv4_checksum(ip, 20), (uint16_t)(ip[10] << 8 | ip[11]));
	assert_int_equal(ip[9], site == 1 ? 17 : 50);
	if (site == 1) {
		assert_int_equal(ip[20] << 8 | ip[21], 4500);
		assert_int_equal(ip[22] << 8 | ip[23], 4500);
		assert_int_equal(ip[24] << 8 | ip[25], total - 20);
	}
	assert_int_equal(esp_spi(s->bytes + off), 0x7001);
	assert_int_equal(esp_decrypt(mb, in_sa, s->bytes + off, s->len - off, &inner_len),
			 ESP_INB_OK);
	assert_int_equal(inner_len, l3_len);
	assert_memory_equal(s->bytes + off + ESP_HDR_LEN + ESP_IV_LEN, l3, l3_len);
}

/* The receiving sites' inbound SAs: the group SA's key, one per site. */
static void
inbound_sas(const struct run *r, struct esp_sa in[N_SITES])
{
	const struct conf_group *g = &r->conf->groups[0];
	struct esp_sa_params p = r->conf->sas[g->group_sa].params;

	p.replay_window = 64;
	for (int j = 0; j < N_SITES; j++)
		assert_int_equal(esp_sa_init(&in[j], &p, mb), 0);
}

static void
check_group_run(bool chained)
{
	static struct run r;
	static struct esp_sa in[N_SITES] __attribute__((aligned(64)));
	unsigned int before = rte_mempool_avail_count(pool);

	run_group(&r, chained);
	inbound_sas(&r, in);
	assert_int_equal(r.n_out, N_PACKETS * N_SITES);
	assert_int_equal(r.w->counters.c[WORKER_CTR_esp_out_group_encryptions], N_PACKETS);
	assert_int_equal(r.w->counters.c[WORKER_CTR_esp_out_copies], N_PACKETS * N_SITES);
	/* The group SA counted each packet once. */
	assert_int_equal(esp_outb_packets(r.sas[0]), N_PACKETS);
	for (int i = 0; i < N_PACKETS; i++) {
		struct sent *first = &r.out[i * N_SITES];
		uint32_t esp_len = first->len - esp_offset(0);
		uint8_t esp[2048];

		/* Kept aside: check_frame decrypts each frame in place. */
		memcpy(esp, first->bytes + esp_offset(0), esp_len);

		for (int j = 0; j < N_SITES; j++) {
			struct sent *s = &r.out[i * N_SITES + j];

			assert_int_equal(s->nb_segs, chained ? 2 : 1);
			if (chained) {
				/* Every site's copy points at one encrypted body. */
				assert_true(s->body_is_clone);
				assert_ptr_equal(s->body_buf, first->body_buf);
			}
			/* One encryption: the ESP bytes are the same for every site. */
			assert_int_equal(s->len - esp_offset(j), esp_len);
			assert_memory_equal(s->bytes + esp_offset(j), esp, esp_len);
			assert_int_equal(esp_spi(s->bytes + esp_offset(j)), 0x7001);
			check_frame(s, j, r.l3[i], r.l3_len[i], &in[j]);
		}
	}
	run_free(&r);
	/* Headers, clones and bodies all went back to the pool. */
	assert_int_equal(rte_mempool_avail_count(pool), before);
}

static void
test_group_sa_chained_copies_share_one_encrypted_body(void **state)
{
	(void)state;
	check_group_run(true);
}

static void
test_group_sa_flat_copies_when_the_port_takes_no_chains(void **state)
{
	(void)state;
	check_group_run(false);
}

static void
test_group_sa_chained_and_flat_copies_are_the_same_bytes(void **state)
{
	static struct run chained, flat;

	(void)state;
	run_group(&chained, true);
	run_group(&flat, false);
	assert_int_equal(chained.n_out, flat.n_out);
	for (uint16_t i = 0; i < chained.n_out; i++) {
		/* Only the outer IPv4 identification differs (one per copy, from
		 * a per-worker counter that both runs start at 0). */
		assert_int_equal(chained.out[i].len, flat.out[i].len);
		assert_memory_equal(chained.out[i].bytes, flat.out[i].bytes, chained.out[i].len);
	}
	run_free(&chained);
	run_free(&flat);
}

/* 1446 bytes fit a 1500-byte outer packet as plain ESP, not in UDP: C's
 * copy is dropped and counted; B's and D's share the body, which still goes
 * back to the pool once both are sent. */
static void
test_group_sa_too_big_for_udp_skips_that_site_only(void **state)
{
	static struct run r;
	unsigned int before = rte_mempool_avail_count(pool);
	uint32_t dst;

	(void)state;
	for (int chained = 0; chained < 2; chained++) {
		last_len = 1446;
		run_group(&r, chained);
		last_len = 1386;
		assert_int_equal(r.n_out, N_PACKETS * N_SITES - 1);
		assert_int_equal(r.w->counters.c[WORKER_CTR_lan_drop_too_big], 1);
		assert_int_equal(r.w->counters.c[WORKER_CTR_esp_out_group_encryptions], N_PACKETS);
		/* The last two frames: the big packet to B and D. */
		assert_int_equal(r.out[r.n_out - 2].len, 14 + 20 + 8 + 8 + 1448 + 16);
		assert_int_equal(r.out[r.n_out - 1].len, 14 + 20 + 8 + 8 + 1448 + 16);
		/* The outer destination: a frame's byte 30 is not 4-byte aligned. */
		memcpy(&dst, r.out[r.n_out - 1].bytes + 30, 4);
		assert_int_equal(ntohl(dst), site_addr[2]);
		run_free(&r);
		assert_int_equal(rte_mempool_avail_count(pool), before);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_sa_chained_copies_share_one_encrypted_body),
		cmocka_unit_test(test_group_sa_flat_copies_when_the_port_takes_no_chains),
		cmocka_unit_test(test_group_sa_chained_and_flat_copies_are_the_same_bytes),
		cmocka_unit_test(test_group_sa_too_big_for_udp_skips_that_site_only),
	};

	return cmocka_run_group_tests(tests, setup_eal, teardown_eal);
}
