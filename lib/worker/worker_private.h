/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_WORKER_PRIVATE_H
#define IVGMP_WORKER_PRIVATE_H

#include <rte_ethdev.h>

#include "pkt/pkt.h"
#include "worker.h"

#define WORKER_TX_BATCH   64
#define WORKER_NATT_PORT  4500   /* RFC 3948 */
#define WORKER_UDP_LEN    8

static inline void
worker_count(struct worker *w, enum worker_counter id)
{
	w->counters.c[id]++;
}

/* Parse-verdict counters, one table per direction. */
static inline enum worker_counter
worker_parse_drop_counter(enum pkt_verdict v, bool lan)
{
	/* The lan_/wan_ parse counters follow pkt_verdict order. */
	enum worker_counter first = lan ? WORKER_CTR_lan_drop_truncated
					: WORKER_CTR_wan_drop_truncated;

	return (enum worker_counter)(first + (v - PKT_TRUNCATED));
}

/* Send what fits; drop and count the rest (the TX ring is full). */
static inline void
worker_tx(struct worker *w, uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
	  uint16_t n, enum worker_counter sent_ctr, enum worker_counter full_ctr)
{
	uint16_t sent = n ? rte_eth_tx_burst(port, queue, pkts, n) : 0;

	w->counters.c[sent_ctr] += sent;
	if (unlikely(sent < n)) {
		w->counters.c[full_ctr] += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

/* worker_control.c */
void worker_control_init(struct worker *w, uint64_t tsc_hz, uint64_t now_tsc);
/* The per-host bucket slot of host (tests: hosts that share one). */
uint32_t worker_host_slot(const struct worker *w, uint32_t host);
/* Hand an IGMP frame over; false (counted) when m stays with the caller. */
bool worker_igmp_punt(struct worker *w, struct rte_mbuf *m);
/* A multicast packet from source to group crossed the LAN port. */
void worker_source_note(struct worker *w, uint32_t source, uint32_t group);
/* Send what the management lcore queued for this worker's LAN queue. */
void worker_control_tx(struct worker *w);

#endif
