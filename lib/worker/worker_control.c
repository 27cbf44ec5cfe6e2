/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a worker hands the management lcore: IGMP frames and sightings of
 * LAN sources, both rate-limited so that a flood costs the data path a
 * counter increment and nothing more; and the frames the management lcore
 * sends through the worker's LAN queue.
 *
 * Two token buckets stand before each ring: one per LAN host (its IPv4
 * source), then the worker's own. The host's is taken first, so that what
 * a flooding host is refused does not spend the worker's budget, and the
 * other hosts' joins still find tokens there.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "worker_private.h"

/* A bucket of at most rate tokens refilled at rate a second. A second of
 * silence fills it: capping elapsed there also keeps elapsed * rate far from
 * overflowing after a long idle spell. */
static bool
bucket_take(uint64_t *tokens, uint64_t *last_tsc, uint64_t rate, uint64_t now_tsc,
	    uint64_t hz)
{
	uint64_t elapsed = now_tsc - *last_tsc;
	uint64_t refill;

	if (elapsed >= hz)
		refill = rate;
	else
		refill = hz ? elapsed * rate / hz : 0;
	if (refill) {
		*tokens = RTE_MIN(*tokens + refill, rate);
		*last_tsc = now_tsc;
	}
	if (*tokens == 0)
		return false;
	(*tokens)--;
	return true;
}

static bool
rate_limit_take(struct worker_rate_limit *rl, uint64_t now_tsc, uint64_t hz)
{
	return bucket_take(&rl->tokens, &rl->last_tsc, rl->rate, now_tsc, hz);
}

uint32_t
worker_host_slot(const struct worker *w, uint32_t host)
{
	/* Fibonacci hashing of the seeded address: the top 10 bits. */
	return (uint32_t)(((host ^ w->host_seed) * 0x9e3779b97f4a7c15ull) >> 54);
}

/* rate 0: no per-host limit. A zeroed slot is a full bucket (its last
 * refill lies more than a second back). */
static bool
host_limit_take(struct worker *w, struct worker_host_bucket *table, uint32_t rate,
		uint32_t host)
{
	struct worker_host_bucket *b;

	if (rate == 0)
		return true;
	b = &table[worker_host_slot(w, host)];
	return bucket_take(&b->tokens, &b->last_tsc, rate, w->now_tsc, w->tsc_hz);
}

void
worker_control_init(struct worker *w, uint64_t tsc_hz, uint64_t now_tsc)
{
	w->tsc_hz = tsc_hz;
	w->igmp_limit = (struct worker_rate_limit){ w->cfg.igmp_rate, now_tsc, w->cfg.igmp_rate };
	w->source_limit = (struct worker_rate_limit){
		w->cfg.source_report_rate, now_tsc, w->cfg.source_report_rate };
	w->host_seed = rte_rand();
	memset(w->igmp_host, 0, sizeof(w->igmp_host));
	memset(w->source_host, 0, sizeof(w->source_host));
}

bool
worker_igmp_punt(struct worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;

	worker_count(w, WORKER_CTR_lan_igmp);
	if (w->cfg.igmp_ring == NULL)
		return false;
	/* The parser checked the header and set l2_len. */
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
	if (!host_limit_take(w, w->igmp_host, w->cfg.igmp_rate_per_host, ip->src_addr)) {
		worker_count(w, WORKER_CTR_lan_igmp_host_rate_limited);
		return false;
	}
	if (!rate_limit_take(&w->igmp_limit, w->now_tsc, w->tsc_hz)) {
		worker_count(w, WORKER_CTR_lan_igmp_rate_limited);
		return false;
	}
	if (rte_ring_mp_enqueue(w->cfg.igmp_ring, m) != 0) {
		worker_count(w, WORKER_CTR_lan_igmp_ring_full);
		return false;
	}
	return true;
}

void
worker_source_note(struct worker *w, uint32_t source, uint32_t group)
{
	uint64_t key = (uint64_t)source << 32 | group;
	struct worker_source_seen *seen;
	uint64_t slot;

	if (w->cfg.source_ring == NULL)
		return;
	slot = (key * 0x9e3779b97f4a7c15ull) >> 54;     /* 10 bits: WORKER_SOURCE_CACHE */
	seen = &w->source_seen[slot];
	if (seen->key == key && w->now_tsc - seen->tsc < w->tsc_hz)
		return;
	if (!host_limit_take(w, w->source_host, w->cfg.source_report_rate_per_host, source)) {
		worker_count(w, WORKER_CTR_source_reports_host_rate_limited);
		return;
	}
	if (!rate_limit_take(&w->source_limit, w->now_tsc, w->tsc_hz)) {
		worker_count(w, WORKER_CTR_source_reports_rate_limited);
		return;
	}
	if (rte_ring_mp_enqueue_elem(w->cfg.source_ring, &key, sizeof(key)) != 0) {
		worker_count(w, WORKER_CTR_source_reports_ring_full);
		return;
	}
	seen->key = key;
	seen->tsc = w->now_tsc;
	worker_count(w, WORKER_CTR_source_reports);
}

void
worker_control_tx(struct worker *w)
{
	struct rte_mbuf *pkts[WORKER_BURST];
	unsigned int n;

	n = rte_ring_sc_dequeue_burst(w->cfg.control_tx_ring, (void **)pkts, WORKER_BURST, NULL);
	worker_tx(w, w->cfg.lan_port, w->cfg.lan_queue, pkts, (uint16_t)n,
		  WORKER_CTR_control_tx_packets, WORKER_CTR_lan_drop_tx_full);
}
