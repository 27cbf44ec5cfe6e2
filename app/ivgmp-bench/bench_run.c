/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One size: the input and output ports, the SAs and the snapshot from the
 * configuration, a worker, and the measured loop on the worker lcore.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_dev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "fwd/fwd_conf.h"
#include "ivgmp_bench.h"

#define POOL_MBUFS   32767
#define RING_SIZE    1024

/* What the worker lcore's loop needs. */
struct bench_loop {
	struct worker *w;
	const struct fwd_state *state;
	enum bench_mode mode;
	uint16_t in_port;
	uint16_t burst;
	struct esp_sa *inbound;       /* decap: the SA whose window is reset */
	uint32_t frames;              /* frames in the input pcap */
	volatile bool stop;
	uint64_t tsc_start, tsc_end;
	double cpu_start, cpu_end;     /* this thread's CPU time, seconds */
	uint64_t replay_resets;
};

/* Decap replays the same sequence numbers on every pass over the input. The
 * window is on (RFC 4303 3.4.3, checked and updated for every packet) and is
 * reset once per pass, after the pass's last frame: the input arrives in
 * pcap order, a cycle of frames packets. */
static void
decap_burst(struct bench_loop *l, struct rte_mbuf **pkts, uint16_t n, uint32_t *left)
{
	while (n) {
		uint16_t take = (uint16_t)RTE_MIN((uint32_t)n, *left);

		worker_wan_burst(l->w, l->state, pkts, take);
		pkts += take;
		n -= take;
		*left -= take;
		if (*left == 0) {
			esp_replay_init(&l->inbound->replay, l->inbound->replay.window);
			l->replay_resets++;
			*left = l->frames;
		}
	}
}

/* CPU time the worker lcore's thread was given: on a shared machine the
 * scheduler takes the core away now and then, which wall time counts. */
static double
thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* worker_loop's accounting: busy cycles are those of bursts that carried
 * packets, from before the RX burst to after the TX burst. */
static int
bench_loop_run(void *arg)
{
	struct bench_loop *l = arg;
	struct worker *w = l->w;
	struct rte_mbuf *pkts[WORKER_BURST];
	uint32_t left = l->frames;

	l->cpu_start = thread_cpu_seconds();
	l->tsc_start = rte_rdtsc();
	while (!l->stop) {
		uint64_t start = rte_rdtsc();
		uint16_t n;

		w->now_tsc = start;
		n = rte_eth_rx_burst(l->in_port, 0, pkts, l->burst);
		if (n == 0)
			continue;
		if (l->mode == BENCH_ENCAP)
			worker_lan_burst(w, l->state, pkts, n);
		else
			decap_burst(l, pkts, n, &left);
		w->counters.c[WORKER_CTR_busy_cycles] += rte_rdtsc() - start;
		w->counters.c[WORKER_CTR_busy_bursts]++;
	}
	l->tsc_end = rte_rdtsc();
	l->cpu_end = thread_cpu_seconds();
	return 0;
}

static int
port_start(const char *name, const char *args, struct rte_mempool *pool, uint16_t *port)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eal_hotplug_add("vdev", name, args) < 0 || rte_eth_dev_get_port_by_name(name, port) < 0) {
		fprintf(stderr, "ivgmp-bench: cannot create %s,%s\n", name, args);
		return -1;
	}
	/* As ivgmpd does (ivgmpd_port.c): chained mbufs where the device takes
	 * them, for group-mode copies. */
	if (rte_eth_dev_info_get(*port, &info) == 0 &&
	    (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (rte_eth_dev_configure(*port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(*port, 0, RING_SIZE, rte_socket_id(), NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(*port, 0, RING_SIZE, rte_socket_id(), NULL) < 0 ||
	    rte_eth_dev_start(*port) < 0) {
		fprintf(stderr, "ivgmp-bench: cannot start %s\n", name);
		return -1;
	}
	rte_eth_stats_reset(*port);
	return 0;
}

static void
port_remove(const char *name)
{
	uint16_t port;

	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return;
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", name);
}

/* Everything one size's run holds, freed by run_teardown. */
struct bench_env {
	char pcap_name[32], null_name[32];
	struct rte_mempool *pool;
	struct rte_mempool *header_pool;    /* group mode's header mbufs and clones */
	struct conf *conf;
	IMB_MGR *mb;
	struct esp_sa *sas[CONF_MAX_SAS];
	uint16_t n_sas;
	struct fwd_state *state;
	struct worker *w;
};

static void
run_teardown(struct bench_env *e)
{
	port_remove(e->pcap_name);
	port_remove(e->null_name);
	worker_free(e->w);
	if (e->state)
		fwd_state_free(e->state);
	fwd_conf_sas_free(e->sas, e->n_sas);
	if (e->mb)
		free_mb_mgr(e->mb);
	conf_free(e->conf);
	rte_mempool_free(e->pool);
	rte_mempool_free(e->header_pool);
}

/* The configuration through lib/conf, kept next to the input. */
static int
run_configure(const struct bench_options *o, struct bench_env *e, const char *dir)
{
	const char *lan = o->mode == BENCH_ENCAP ? e->pcap_name : e->null_name;
	const char *wan = o->mode == BENCH_ENCAP ? e->null_name : e->pcap_name;
	char *text = bench_conf_text(o, lan, wan);
	char path[512], err[CONF_ERR_MAX];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%u.conf", dir, bench_mode_name(o->mode), o->sites);
	e->conf = conf_new();
	if (text == NULL || e->conf == NULL)
		goto out;
	f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	if (conf_load_string(e->conf, path, text, err, sizeof(err)) < 0)
		fprintf(stderr, "ivgmp-bench: %s\n", err);
	else
		ret = 0;
out:
	free(text);
	return ret;
}

static struct esp_sa *
inbound_sa(const struct bench_env *e)
{
	for (uint16_t i = 0; i < e->conf->n_sas; i++)
		if (e->conf->sas[i].inbound)
			return e->sas[i];
	return NULL;
}

int
bench_run(const struct bench_options *o, unsigned int lcore, uint16_t size,
	  const char *dir, unsigned int index, struct bench_result *r)
{
	struct bench_env e = { .n_sas = 0 };
	struct bench_loop l = { .mode = o->mode, .burst = o->burst };
	struct worker_config wc = { .lan_queue = 0, .wan_queue = 0 };
	char pcap_path[512], pcap_args[600];
	struct rte_eth_stats stats;
	uint16_t in_port, out_port;
	IMB_ARCH arch;
	int frames;

	snprintf(e.pcap_name, sizeof(e.pcap_name), "net_pcap_bench%u", index);
	snprintf(e.null_name, sizeof(e.null_name), "net_null_bench%u", index);
	snprintf(pcap_path, sizeof(pcap_path), "%s/%s-%u.pcap", dir, bench_mode_name(o->mode), size);
	snprintf(pcap_args, sizeof(pcap_args), "rx_pcap=%s,infinite_rx=1", pcap_path);
	e.mb = alloc_mb_mgr(0);
	if (e.mb == NULL || run_configure(o, &e, dir) < 0)
		goto fail;
	init_mb_mgr_auto(e.mb, &arch);
	if (fwd_conf_sas_create(e.conf, e.mb, e.sas, &e.n_sas) < 0 ||
	    (e.state = fwd_conf_state_create(e.conf, e.sas)) == NULL) {
		fprintf(stderr, "ivgmp-bench: cannot build the SAs and the snapshot\n");
		goto fail;
	}
	frames = bench_input_write(o, e.conf, size, pcap_path);
	if (frames < 0) {
		fprintf(stderr, "ivgmp-bench: cannot write %s\n", pcap_path);
		goto fail;
	}
	e.pool = rte_pktmbuf_pool_create("bench_pool", POOL_MBUFS, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (e.pool == NULL) {
		fprintf(stderr, "ivgmp-bench: no mbuf pool: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	/* Group mode: the header mbufs and the clones of the encrypted body, as
	 * ivgmpd creates them. */
	e.header_pool = rte_pktmbuf_pool_create("bench_hdr", POOL_MBUFS, 256, 0,
						RTE_PKTMBUF_HEADROOM + WORKER_HEADER_ROOM,
						(int)rte_socket_id());
	if (e.header_pool == NULL) {
		fprintf(stderr, "ivgmp-bench: no header mbuf pool: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	if (port_start(e.pcap_name, pcap_args, e.pool, &in_port) < 0 ||
	    port_start(e.null_name, "no-rx=1", e.pool, &out_port) < 0)
		goto fail;

	wc.lan_port = o->mode == BENCH_ENCAP ? in_port : out_port;
	wc.wan_port = o->mode == BENCH_ENCAP ? out_port : in_port;
	memcpy(wc.lan_mac, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(wc.wan_mac, "\x02\x00\x00\x00\x00\x01", 6);
	wc.pool = e.pool;
	wc.header_pool = e.header_pool;
	/* net_null announces no multi-seg TX but frees chains unread, as a NIC
	 * with multi-seg TX would send them: group copies are chained unless
	 * --group-copies flat asks for ivgmpd's fallback. */
	wc.wan_chained_force = o->sa_mode == BENCH_SA_GROUP && !o->group_flat;
	wc.stop = &l.stop;
	e.w = worker_create(&wc, (int)rte_lcore_to_socket_id(lcore));
	if (e.w == NULL) {
		fprintf(stderr, "ivgmp-bench: cannot create the worker\n");
		goto fail;
	}
	l.w = e.w;
	l.state = e.state;
	l.in_port = in_port;
	l.frames = (uint32_t)frames;
	l.inbound = inbound_sa(&e);

	if (rte_eal_remote_launch(bench_loop_run, &l, lcore) != 0)
		goto fail;
	rte_delay_us_sleep((unsigned int)(o->duration_s * 1e6));
	l.stop = true;
	rte_eal_wait_lcore(lcore);

	memset(r, 0, sizeof(*r));
	rte_eth_stats_get(out_port, &stats);
	r->size = size;
	r->out_frame_len = bench_output_frame_len(o->mode, size);
	r->seconds = (double)(l.tsc_end - l.tsc_start) / (double)rte_get_tsc_hz();
	r->cpu_seconds = l.cpu_end - l.cpu_start;
	memcpy(r->counters, e.w->counters.c, sizeof(r->counters));
	r->input_packets = r->counters[o->mode == BENCH_ENCAP ? WORKER_CTR_lan_rx_packets
							       : WORKER_CTR_wan_rx_packets];
	r->output_packets = stats.opackets;
	/* net_null counts no bytes: every output frame has the same length. */
	r->output_bytes = stats.obytes ? stats.obytes : stats.opackets * r->out_frame_len;
	r->replay_resets = l.replay_resets;
	r->wan_chained = e.w->wan_multi_seg;
	run_teardown(&e);
	return 0;
fail:
	run_teardown(&e);
	return -1;
}
