/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivgmpd: the edge device. Starts EAL, reads the configuration, starts the
 * LAN and WAN ports, publishes the forwarding state, launches one worker per
 * worker lcore, and keeps the main lcore for management until a signal.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ivgmpd.h"

#define MBUF_COUNT      16383   /* at least; more with more workers (mbuf_count) */
/* What one worker's queues can hold: an RX and a TX ring of 1024 on each
 * port (ivgmpd_port.c), and its mempool cache. */
#define MBUF_PER_WORKER (2 * (1024 + 1024) + MBUF_CACHE)
/* ESP copies in flight in a burst, IGMP frames on rings, the main lcore. */
#define MBUF_SPARE      8192
#define MBUF_CACHE      256
#define CONTROL_RING    1024
#define MANAGEMENT_PERIOD_US 1000

static struct ivgmpd daemon_state;
/* Group-SA copies: a small header mbuf chained to an indirect clone of the
 * encrypted body, both from here (lib/worker, worker_config.header_pool). */
static struct rte_mempool *header_pool;

struct options {
	const char *config;
	unsigned int workers;        /* 0: the configuration's "workers", else 1 */
	unsigned int idle_exit_ms;   /* 0: run until a signal */
};

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --config FILE [--workers N] [--idle-exit MS]\n"
		"  --config FILE    configuration (doc/configuration.rst)\n"
		"  --workers N      worker lcores to use (default: the configuration's\n"
		"                   'workers', else 1; EAL -l must give N+1 lcores)\n"
		"  --idle-exit MS   exit once no packet arrived for MS milliseconds\n"
		"                   (for runs on net_pcap files)\n", prog);
}

static int
options_parse(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opt->workers = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config = optarg;
			break;
		case 'w':
			opt->workers = (unsigned int)atoi(optarg);
			if (opt->workers < 1)
				return -1;
			break;
		case 'i':
			opt->idle_exit_ms = (unsigned int)atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	if (opt->config == NULL)
		return -1;
	return 0;
}

static void
on_signal(int sig __rte_unused)
{
	daemon_state.stop = true;
}

static int
ports_start(struct ivgmpd *d)
{
	const struct conf *conf = d->conf;

	if (ivgmpd_port_find(conf->lan_port, &d->lan_port) < 0) {
		IVGMP_LOG(ERR, main, "lan-port '%s': no such DPDK port", conf->lan_port);
		return -1;
	}
	if (ivgmpd_port_find(conf->wan_port, &d->wan_port) < 0) {
		IVGMP_LOG(ERR, main, "wan-port '%s': no such DPDK port", conf->wan_port);
		return -1;
	}
	if (d->lan_port == d->wan_port) {
		IVGMP_LOG(ERR, main, "lan-port and wan-port are the same port");
		return -1;
	}
	if (ivgmpd_port_start(d->lan_port, (uint16_t)d->n_workers, d->pool, true,
			      &d->control_txq) < 0 ||
	    ivgmpd_port_start(d->wan_port, (uint16_t)d->n_workers, d->pool, false, NULL) < 0) {
		IVGMP_LOG(ERR, main, "cannot start the ports");
		return -1;
	}
	IVGMP_LOG(INFO, main, "LAN port %u (%s), WAN port %u (%s), %u RX queue(s) each; "
		  "IGMP queries leave by %s", d->lan_port, conf->lan_port, d->wan_port,
		  conf->wan_port, d->n_workers,
		  d->control_txq >= 0 ? "a LAN queue of their own" : "worker 0's LAN queue");
	return 0;
}

static int
workers_create(struct ivgmpd *d)
{
	struct rte_ether_addr lan_mac, wan_mac;
	unsigned int lcore, i = 0;
	size_t qsbr_size = rte_rcu_qsbr_get_memsize(d->n_workers);

	d->qsbr = rte_zmalloc("qsbr", qsbr_size, RTE_CACHE_LINE_SIZE);
	if (d->qsbr == NULL || rte_rcu_qsbr_init(d->qsbr, d->n_workers) < 0)
		return -1;
	d->fwd.qsbr = d->qsbr;
	rte_eth_macaddr_get(d->lan_port, &lan_mac);
	rte_eth_macaddr_get(d->wan_port, &wan_mac);
	memcpy(d->lan_mac, lan_mac.addr_bytes, 6);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker_config cfg = {
			.lan_port = d->lan_port, .lan_queue = (uint16_t)i,
			.wan_port = d->wan_port, .wan_queue = (uint16_t)i,
			.pool = d->pool, .header_pool = header_pool, .fwd = &d->fwd, .qsbr = d->qsbr,
			.qsbr_thread_id = i, .stop = &d->stop,
			.igmp_ring = d->igmp_ring, .source_ring = d->source_ring,
			.igmp_rate = d->conf->igmp_rate,
			.source_report_rate = d->conf->source_report_rate,
			.igmp_rate_per_host = d->conf->igmp_rate_per_host,
			.source_report_rate_per_host = d->conf->source_report_rate_per_host,
			.control_tx_ring = i == 0 && d->control_txq < 0 ? d->control_tx_ring : NULL,
		};

		if (i == d->n_workers)
			break;
		memcpy(cfg.lan_mac, lan_mac.addr_bytes, 6);
		memcpy(cfg.wan_mac, wan_mac.addr_bytes, 6);
		d->workers[i] = worker_create(&cfg, (int)rte_lcore_to_socket_id(lcore));
		if (d->workers[i] == NULL)
			return -1;
		rte_rcu_qsbr_thread_register(d->qsbr, i);
		IVGMP_LOG(INFO, worker, "worker %u on lcore %u (socket %u): LAN and WAN queue %u",
			  i, lcore, rte_lcore_to_socket_id(lcore), i);
		d->worker_lcores[i++] = lcore;
	}
	if (i < d->n_workers) {
		IVGMP_LOG(ERR, main, "%u workers need %u lcores (EAL -l), got %u",
			  d->n_workers, d->n_workers + 1, i + 1);
		return -1;
	}
	return 0;
}

static int
rings_create(struct ivgmpd *d)
{
	d->igmp_ring = rte_ring_create("igmp", CONTROL_RING, (int)rte_socket_id(),
				       RING_F_SC_DEQ);
	d->source_ring = rte_ring_create_elem("sources", sizeof(uint64_t), CONTROL_RING,
					      (int)rte_socket_id(), RING_F_SC_DEQ);
	d->control_tx_ring = rte_ring_create("control_tx", CONTROL_RING, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
	return d->igmp_ring && d->source_ring && d->control_tx_ring ? 0 : -1;
}

/* Enough mbufs for every worker's rings to be full at once, as a 2^k - 1
 * (the size a mempool's ring wastes least with). */
static unsigned int
mbuf_count(unsigned int n_workers)
{
	unsigned int need = n_workers * MBUF_PER_WORKER + MBUF_SPARE, n = MBUF_COUNT;

	while (n < need)
		n = 2 * n + 1;
	return n;
}

/* The management lcore: membership, timers, announcements, and the end of
 * the run. It sleeps between steps: it must not take a core from a worker. */
static void
management_loop(struct ivgmpd *d, unsigned int idle_exit_ms)
{
	uint64_t last_rx = 0, idle_since = rte_get_timer_cycles();
	uint64_t hz = rte_get_timer_hz();

	while (!d->stop) {
		usleep(MANAGEMENT_PERIOD_US);
		pthread_mutex_lock(&d->lock);
		ivgmpd_membership_poll(d, ivgmpd_now_ms());
		pthread_mutex_unlock(&d->lock);
		if (idle_exit_ms == 0)
			continue;
		uint64_t rx = ivgmpd_counter_sum(d, WORKER_CTR_lan_rx_packets) +
			      ivgmpd_counter_sum(d, WORKER_CTR_wan_rx_packets);
		uint64_t now = rte_get_timer_cycles();

		if (rx != last_rx) {
			last_rx = rx;
			idle_since = now;
		} else if ((now - idle_since) * 1000 / hz >= idle_exit_ms) {
			d->stop = true;
		}
	}
}

int
main(int argc, char **argv)
{
	struct ivgmpd *d = &daemon_state;
	struct options opt = { 0 };
	char err[CONF_ERR_MAX];
	IMB_ARCH arch;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		IVGMP_LOG(ERR, main, "EAL initialisation failed");
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (options_parse(argc, argv, &opt) < 0) {
		usage("ivgmpd");
		rte_eal_cleanup();
		return 2;
	}
	d->started_ms = ivgmpd_now_ms();
	d->config_path = opt.config;
	d->conf = conf_new();
	/* The text of a refusal ("FILE:LINE: reason") is what tests pin. */
	if (d->conf == NULL || conf_load_file(d->conf, opt.config, err, sizeof(err)) < 0) {
		IVGMP_LOG(ERR, conf, "%s", d->conf ? err : "out of memory");
		rte_eal_cleanup();
		return 1;
	}
	ivgmpd_conf_log(d->conf, opt.config);
	/* The command line wins over the file (a one-off run, a test). */
	d->n_workers = opt.workers ? opt.workers : d->conf->workers ? d->conf->workers : 1;
	if (d->n_workers > IVGMPD_MAX_WORKERS) {
		IVGMP_LOG(ERR, main, "%u workers: this build of ivgmpd runs at most %d",
			  d->n_workers, IVGMPD_MAX_WORKERS);
		rte_eal_cleanup();
		return 1;
	}
	if (rte_lcore_count() < d->n_workers + 1) {
		IVGMP_LOG(ERR, main, "%u workers need %u lcores (EAL -l), got %u",
			  d->n_workers, d->n_workers + 1, rte_lcore_count());
		rte_eal_cleanup();
		return 1;
	}
	IVGMP_LOG(INFO, main, "%u worker(s), from %s", d->n_workers,
		  opt.workers ? "--workers" : d->conf->workers ? "the configuration" : "the default");
	d->mb = alloc_mb_mgr(0);
	if (d->mb == NULL) {
		IVGMP_LOG(ERR, main, "cannot allocate an ipsec-mb manager");
		return 1;
	}
	init_mb_mgr_auto(d->mb, &arch);
	d->pool = rte_pktmbuf_pool_create("mbufs", mbuf_count(d->n_workers), MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (d->pool == NULL) {
		IVGMP_LOG(ERR, main, "cannot create the mbuf pool: %s", rte_strerror(rte_errno));
		return 1;
	}
	IVGMP_LOG(INFO, main, "mbuf pool: %u mbufs of %u bytes", d->pool->size,
		  (unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE);
	header_pool = rte_pktmbuf_pool_create("header_mbufs", mbuf_count(d->n_workers), MBUF_CACHE,
					      0, RTE_PKTMBUF_HEADROOM + WORKER_HEADER_ROOM,
					      (int)rte_socket_id());
	if (header_pool == NULL) {
		IVGMP_LOG(ERR, main, "cannot create the header mbuf pool: %s",
			  rte_strerror(rte_errno));
		return 1;
	}
	pthread_mutex_init(&d->lock, NULL);
	if (rings_create(d) < 0) {
		IVGMP_LOG(ERR, main, "cannot create rings: %s", rte_strerror(rte_errno));
		return 1;
	}
	if (ports_start(d) < 0)
		return 1;
	if (workers_create(d) < 0 || ivgmpd_membership_create(d) < 0 ||
	    ivgmpd_state_build(d) < 0) {
		IVGMP_LOG(ERR, main, "cannot build the workers and forwarding state");
		return 1;
	}
	if (ivgmpd_vnoc_create(d) < 0)
		return 1;
	/* Announcements are a convenience: run without them rather than not at all. */
	ivgmpd_announce_open(d);
	/* Telemetry is for the operator: run without it rather than not at all. */
	ivgmpd_telemetry_register(d);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (unsigned int i = 0; i < d->n_workers; i++)
		rte_eal_remote_launch(worker_loop, d->workers[i], d->worker_lcores[i]);
	ivgmpd_event("ready: %u worker(s), %u site(s), %u group(s), %u SA(s)",
		     d->n_workers, d->conf->n_sites, d->conf->n_groups, d->conf->n_sas);

	management_loop(d, opt.idle_exit_ms);

	rte_eal_mp_wait_lcore();
	IVGMP_LOG(INFO, main, "stopping after %llu s",
		  (unsigned long long)((ivgmpd_now_ms() - d->started_ms) / 1000));
	pthread_mutex_lock(&d->lock);
	ivgmpd_report_print(d);
	pthread_mutex_unlock(&d->lock);
	ivgmpd_telemetry_close(d);
	ivgmpd_announce_close(d);
	ivgmpd_vnoc_free(d);
	ivgmpd_port_stop(d->lan_port);
	ivgmpd_port_stop(d->wan_port);
	for (unsigned int i = 0; i < d->n_workers; i++)
		worker_free(d->workers[i]);
	ivgmpd_state_free(d);
	ivgmpd_membership_free(d);
	free_mb_mgr(d->mb);
	conf_free(d->conf);
	rte_free(d->qsbr);
	rte_eal_cleanup();
	return 0;
}
