/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "worker_private.h"

/* Did the port's owner configure it to send chained mbufs? The owner
 * checks the device's tx_offload_capa; a port that is not (yet) configured
 * gets flat copies. */
static bool
worker_port_multi_seg(uint16_t port)
{
	struct rte_eth_conf conf;

	if (!rte_eth_dev_is_valid_port(port) || rte_eth_dev_conf_get(port, &conf) != 0)
		return false;
	return (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
}

struct worker *
worker_create(const struct worker_config *cfg, int socket)
{
	struct worker *w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	IMB_ARCH arch;

	if (w == NULL)
		return NULL;
	w->cfg = *cfg;
	if (w->cfg.header_pool == NULL)
		w->cfg.header_pool = cfg->pool;
	w->mb = alloc_mb_mgr(0);
	if (w->mb == NULL) {
		rte_free(w);
		return NULL;
	}
	w->wan_multi_seg = cfg->wan_chained_force || worker_port_multi_seg(cfg->wan_port);
	/* Picks the widest code path this CPU runs: SSE, AVX, AVX2, AVX-512. */
	init_mb_mgr_auto(w->mb, &arch);
	if (imb_get_errno(w->mb) != 0) {
		worker_free(w);
		return NULL;
	}
	return w;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	free_mb_mgr(w->mb);
	rte_free(w);
}

/*
 * The poll loop. Per iteration:
 *   1. read the current forwarding snapshot,
 *   2. LAN RX burst -> worker_lan_burst (classify, lookup, encrypt per site, WAN TX),
 *   3. WAN RX burst -> worker_wan_burst (ESP, decrypt, verify, LAN TX),
 *   4. send what the management lcore queued for the LAN (IGMP queries),
 *   5. report a quiescent state: from here on this lcore holds no snapshot.
 */
int
worker_loop(void *arg)
{
	struct worker *w = arg;
	const struct worker_config *cfg = &w->cfg;
	struct rte_mbuf *pkts[WORKER_BURST];

	worker_control_init(w, rte_get_tsc_hz(), rte_rdtsc());
	rte_rcu_qsbr_thread_online(cfg->qsbr, cfg->qsbr_thread_id);
	while (!*cfg->stop) {
		const struct fwd_state *state = fwd_current(cfg->fwd);
		uint64_t start = rte_rdtsc();
		uint16_t n_lan, n_wan;

		w->now_tsc = start;
		n_lan = rte_eth_rx_burst(cfg->lan_port, cfg->lan_queue, pkts, WORKER_BURST);
		if (n_lan)
			worker_lan_burst(w, state, pkts, n_lan);
		n_wan = rte_eth_rx_burst(cfg->wan_port, cfg->wan_queue, pkts, WORKER_BURST);
		if (n_wan)
			worker_wan_burst(w, state, pkts, n_wan);
		if (n_lan || n_wan) {
			w->counters.c[WORKER_CTR_busy_cycles] += rte_rdtsc() - start;
			w->counters.c[WORKER_CTR_busy_bursts]++;
		}
		if (cfg->control_tx_ring)
			worker_control_tx(w);
		rte_rcu_qsbr_quiescent(cfg->qsbr, cfg->qsbr_thread_id);
	}
	rte_rcu_qsbr_thread_offline(cfg->qsbr, cfg->qsbr_thread_id);
	return 0;
}
