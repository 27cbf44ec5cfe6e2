/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a worker hands the management lcore: IGMP frames and sightings of
 * LAN sources, both rate-limited so that a flood costs the data path a
 * counter increment and nothing more; and the frames the management lcore
 * sends through the worker's LAN queue.
 */
#include <rte_ring.h>

#include "worker_private.h"

static bool
rate_limit_take(struct worker_rate_limit *rl, uint64_t now_tsc, uint64_t hz)
{
	uint64_t elapsed = now_tsc - rl->last_tsc;
	uint64_t refill = rl->rate ? elapsed * rl->rate / hz : 0;

	if (refill) {
		rl->tokens = RTE_MIN(rl->tokens + refill, rl->rate);
		rl->last_tsc = now_tsc;
	}
	if (rl->tokens == 0)
		return false;
	rl->tokens--;
	return true;
}

void
worker_control_init(struct worker *w, uint64_t tsc_hz, uint64_t now_tsc)
{
	w->tsc_hz = tsc_hz;
	w->igmp_limit = (struct worker_rate_limit){ w->cfg.igmp_rate, now_tsc, w->cfg.igmp_rate };
	w->source_limit = (struct worker_rate_limit){
		w->cfg.source_report_rate, now_tsc, w->cfg.source_report_rate };
}

bool
worker_igmp_punt(struct worker *w, struct rte_mbuf *m)
{
	worker_count(w, WORKER_CTR_lan_igmp);
	if (w->cfg.igmp_ring == NULL)
		return false;
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
