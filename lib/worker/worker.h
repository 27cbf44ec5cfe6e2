/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_WORKER_H
#define IVGMP_WORKER_H

/*
 * worker: the data path. One worker per lcore, run to completion, bursts of
 * WORKER_BURST. LAN bursts become one ESP copy per remote site on the WAN
 * (encrypted per site with pairwise SAs, once per packet with a group SA);
 * WAN bursts are decrypted and the inner multicast packets re-injected on
 * the LAN. Reads the forwarding state (fwd) under RCU, never blocks, never
 * allocates from the heap, never takes a lock. Every drop has a counter.
 *
 * ivgmpd runs worker_loop on each worker lcore; ivgmp-bench drives
 * worker_lan_burst / worker_wan_burst, the same functions, directly.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <intel-ipsec-mb.h>

#include "esp/esp.h"
#include "fwd/fwd.h"

#define WORKER_BURST 32
/* Data room a header mbuf needs: Ethernet, outer IPv4, UDP. */
#define WORKER_HEADER_ROOM 64

/* Every counter a worker keeps; the names are what telemetry and the exit
 * report show, so an operator sees why packets died. */
#define WORKER_COUNTERS(X)                                                   \
	X(lan_rx_packets)                                                    \
	X(lan_drop_truncated)                                                \
	X(lan_drop_not_ipv4)                                                 \
	X(lan_drop_bad_ip_version)                                           \
	X(lan_drop_bad_ip_ihl)                                               \
	X(lan_drop_bad_ip_length)                                            \
	X(lan_drop_bad_ip_checksum)                                          \
	X(lan_drop_multi_segment)                                            \
	X(lan_drop_unicast)                                                  \
	X(lan_drop_link_local)                                               \
	X(lan_drop_scope_boundary)                                           \
	X(lan_igmp)                                                          \
	X(lan_igmp_rate_limited)                                             \
	X(lan_igmp_host_rate_limited)                                        \
	X(lan_igmp_ring_full)                                                \
	X(source_reports)                                                    \
	X(source_reports_rate_limited)                                       \
	X(source_reports_host_rate_limited)                                  \
	X(source_reports_ring_full)                                          \
	X(lan_drop_no_group)                                                 \
	X(lan_drop_too_big)                                                  \
	X(esp_out_copies)                                                    \
	X(esp_out_group_encryptions)                                         \
	X(esp_out_drop_sa_expired)                                           \
	X(drop_no_mbuf)                                                      \
	X(wan_tx_packets)                                                    \
	X(wan_drop_tx_full)                                                  \
	X(wan_rx_packets)                                                    \
	X(wan_drop_truncated)                                                \
	X(wan_drop_not_ipv4)                                                 \
	X(wan_drop_bad_ip_version)                                           \
	X(wan_drop_bad_ip_ihl)                                               \
	X(wan_drop_bad_ip_length)                                            \
	X(wan_drop_bad_ip_checksum)                                          \
	X(wan_drop_multi_segment)                                            \
	X(wan_drop_not_for_us)                                               \
	X(wan_drop_not_esp)                                                  \
	X(wan_drop_ike)                                                      \
	X(wan_drop_nat_keepalive)                                            \
	X(esp_in_drop_unknown_spi)                                           \
	X(esp_in_drop_truncated)                                             \
	X(esp_in_drop_replay)                                                \
	X(esp_in_drop_icv_fail)                                              \
	X(esp_in_drop_bad_trailer)                                           \
	X(esp_in_drop_not_ipv4)                                              \
	X(esp_in_drop_sa_expired)                                            \
	X(esp_in_drop_other_worker)                                          \
	X(esp_in_packets)                                                    \
	X(inner_drop_malformed)                                              \
	X(inner_drop_not_multicast)                                          \
	X(inner_drop_link_local)                                             \
	X(inner_drop_ttl_expired)                                            \
	X(inner_drop_scope_boundary)                                         \
	X(inner_drop_not_wanted)                                             \
	X(lan_tx_packets)                                                    \
	X(lan_drop_tx_full)                                                  \
	X(control_tx_packets)                                                \
	X(busy_cycles)                                                       \
	X(busy_bursts)

enum worker_counter {
#define WORKER_COUNTER_ENUM(name) WORKER_CTR_##name,
	WORKER_COUNTERS(WORKER_COUNTER_ENUM)
#undef WORKER_COUNTER_ENUM
	WORKER_CTR_MAX
};

/* Owned and written by one lcore only; read (racily, which is fine for
 * monotonic 64-bit counters on x86) by telemetry. */
struct worker_counters {
	uint64_t c[WORKER_CTR_MAX];
} __rte_cache_aligned;

const char *worker_counter_name(enum worker_counter id);
/* Does the counter count packets that died (and why)? */
bool worker_counter_is_drop(enum worker_counter id);

/* What a worker needs to know about its ports and its site. */
struct worker_config {
	uint16_t lan_port, lan_queue;
	uint16_t wan_port, wan_queue;
	uint8_t lan_mac[6];
	uint8_t wan_mac[6];
	struct rte_mempool *pool;       /* for the ESP copies */
	/* Small mbufs (RTE_PKTMBUF_HEADROOM + WORKER_HEADER_ROOM of data
	 * room, or more) for group-mode copies made of a header mbuf and an
	 * indirect clone of the encrypted body: the headers and the clones
	 * touch few cache lines. NULL: pool. */
	struct rte_mempool *header_pool;
	/* Group-mode copies are chained mbufs when the WAN port was configured
	 * with RTE_ETH_TX_OFFLOAD_MULTI_SEGS, flat otherwise; this forces
	 * chained ones on a port that frees them unread without saying so
	 * (ivgmp-bench on net_null). */
	bool wan_chained_force;
	struct fwd_publisher *fwd;      /* where the forwarding state is published */
	struct rte_rcu_qsbr *qsbr;
	unsigned int qsbr_thread_id;
	const volatile bool *stop;
	/* To the management lcore: IGMP frames (mbufs) and (S,G) sightings
	 * (uint64_t source << 32 | group). Multi-producer, single-consumer. */
	struct rte_ring *igmp_ring;
	struct rte_ring *source_ring;
	uint32_t igmp_rate;             /* IGMP frames handed over per second, at most */
	uint32_t source_report_rate;    /* sightings reported per second, at most */
	/* The same, per LAN host (IPv4 source) within this worker; 0: no
	 * per-host limit, only the worker's. */
	uint32_t igmp_rate_per_host;
	uint32_t source_report_rate_per_host;
	/* Frames the management lcore sends through this worker's LAN queue,
	 * when the port has no TX queue to spare for it; else NULL. */
	struct rte_ring *control_tx_ring;
};

/* A token bucket: at most rate events a second, bursts of rate. */
struct worker_rate_limit {
	uint64_t tokens;
	uint64_t last_tsc;
	uint64_t rate;
};

/* Each (S,G) is reported at most once a second: a direct-mapped cache of
 * what was reported when. Collisions only cost an extra report. */
#define WORKER_SOURCE_CACHE 1024
struct worker_source_seen {
	uint64_t key;
	uint64_t tsc;
};

/* Per-host token buckets: a direct-mapped table indexed by a keyed hash of
 * the host's address, no key stored. Hosts that share a slot share one
 * bucket: a host that collides with a flooder is limited with it, which with
 * 1024 slots and a seed drawn per worker (an outsider cannot aim at a
 * victim's slot) is rare; storing keys and evicting would be worse, as a
 * flooder cycling source addresses would then earn a full bucket each time. */
#define WORKER_HOST_BUCKETS 1024
struct worker_host_bucket {
	uint64_t tokens;
	uint64_t last_tsc;
};

struct worker {
	struct worker_config cfg;
	IMB_MGR *mb;
	/* The WAN port sends chained mbufs (RTE_ETH_TX_OFFLOAD_MULTI_SEGS
	 * configured): a group-mode copy is a header mbuf chained to an
	 * indirect clone of the encrypted body; else a flat copy of it. */
	bool wan_multi_seg;
	uint16_t ip_id;
	uint64_t now_tsc;               /* read once per burst */
	uint64_t tsc_hz;
	struct worker_rate_limit igmp_limit;
	struct worker_rate_limit source_limit;
	uint64_t host_seed;             /* keys the per-host hash */
	struct worker_counters counters;
	struct worker_source_seen source_seen[WORKER_SOURCE_CACHE];
	struct worker_host_bucket igmp_host[WORKER_HOST_BUCKETS];
	struct worker_host_bucket source_host[WORKER_HOST_BUCKETS];
} __rte_cache_aligned;

/* Allocate a worker on socket (its own ipsec-mb manager). NULL on failure. */
struct worker *worker_create(const struct worker_config *cfg, int socket);
void worker_free(struct worker *w);

/* lcore entry point: poll LAN and WAN until *cfg.stop. */
int worker_loop(void *worker);

/* One LAN burst: classify, look up, encrypt one copy per remote site, send on
 * the WAN. Consumes every mbuf in pkts. */
void worker_lan_burst(struct worker *w, const struct fwd_state *state,
		      struct rte_mbuf **pkts, uint16_t n);

/* One WAN burst: ESP in, decrypt, verify, re-inject the inner multicast
 * packet on the LAN. Consumes every mbuf in pkts. */
void worker_wan_burst(struct worker *w, const struct fwd_state *state,
		      struct rte_mbuf **pkts, uint16_t n);

#endif
