/* SPDX-License-Identifier: BSD-3-Clause */
/* /ivgmp/info, /ivgmp/stats and /ivgmp/sa: the device, its counters, its SAs. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "ivgmpd_telemetry.h"

static void
add_port(struct rte_tel_data *data, const char *role, uint16_t port)
{
	char key[32], name[RTE_ETH_NAME_MAX_LEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr addr;

	snprintf(key, sizeof(key), "%s_port_id", role);
	rte_tel_data_add_dict_u64(data, key, port);
	snprintf(key, sizeof(key), "%s_port_name", role);
	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		snprintf(name, sizeof(name), "?");
	rte_tel_data_add_dict_string(data, key, name);
	snprintf(key, sizeof(key), "%s_mac", role);
	if (rte_eth_macaddr_get(port, &addr) == 0)
		rte_ether_format_addr(mac, sizeof(mac), &addr);
	else
		snprintf(mac, sizeof(mac), "?");
	rte_tel_data_add_dict_string(data, key, mac);
}

int
ivgmpd_telemetry_info(struct ivgmpd *d, const char *params __rte_unused,
		      struct rte_tel_data *data)
{
	const struct conf *conf = d->conf;
	struct rte_tel_data *lcores = rte_tel_data_alloc();
	struct rte_tel_data *urls = rte_tel_data_alloc();

	if (lcores == NULL || urls == NULL) {
		rte_tel_data_free(lcores);
		rte_tel_data_free(urls);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(data);
	rte_tel_data_add_dict_string(data, "version", IVGMP_VERSION);
	rte_tel_data_add_dict_string(data, "dpdk_version", rte_version());
	rte_tel_data_add_dict_u64(data, "pid", (uint64_t)getpid());
	rte_tel_data_add_dict_string(data, "site_id", conf->site_id);
	rte_tel_data_add_dict_string(data, "config", d->config_path);
	rte_tel_data_add_dict_u64(data, "uptime_s", (ivgmpd_now_ms() - d->started_ms) / 1000);
	add_port(data, "lan", d->lan_port);
	add_port(data, "wan", d->wan_port);
	ivgmpd_tel_add_addr(data, "lan_address", conf->lan_addr);
	ivgmpd_tel_add_addr(data, "wan_address", conf->wan_addr);
	rte_tel_data_add_dict_u64(data, "main_lcore", rte_get_main_lcore());
	rte_tel_data_add_dict_u64(data, "workers", d->n_workers);
	rte_tel_data_start_array(lcores, RTE_TEL_U64_VAL);
	for (unsigned int i = 0; i < d->n_workers; i++)
		rte_tel_data_add_array_u64(lcores, d->worker_lcores[i]);
	rte_tel_data_add_dict_string(data, "sa_mode", IVGMPD_SA_MODE);
	/* "static": without a vnoc-url, sites, SAs and groups are the file's alone. */
	rte_tel_data_add_dict_string(data, "control", conf->n_vnoc_urls ? "vnoc" : "static");
	rte_tel_data_start_array(urls, RTE_TEL_STRING_VAL);
	for (uint16_t i = 0; i < conf->n_vnoc_urls; i++)
		rte_tel_data_add_array_string(urls, conf->vnoc_urls[i]);
	if (ivgmpd_tel_add_container(data, "worker_lcores", lcores) < 0) {
		rte_tel_data_free(urls);
		return -EINVAL;
	}
	return ivgmpd_tel_add_container(data, "vnoc_urls", urls);
}

/* A port's own counters, as its driver keeps them: they include what the
 * workers never saw (rx_missed: the ring was full). */
static struct rte_tel_data *
port_stats(uint16_t port)
{
	struct rte_tel_data *one = rte_tel_data_alloc();
	char name[RTE_ETH_NAME_MAX_LEN];
	struct rte_eth_stats st;

	if (one == NULL)
		return NULL;
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_u64(one, "port_id", port);
	if (rte_eth_dev_get_name_by_port(port, name) == 0)
		rte_tel_data_add_dict_string(one, "name", name);
	if (rte_eth_stats_get(port, &st) != 0)
		return one;
	rte_tel_data_add_dict_u64(one, "rx_packets", st.ipackets);
	rte_tel_data_add_dict_u64(one, "tx_packets", st.opackets);
	rte_tel_data_add_dict_u64(one, "rx_bytes", st.ibytes);
	rte_tel_data_add_dict_u64(one, "tx_bytes", st.obytes);
	rte_tel_data_add_dict_u64(one, "rx_missed", st.imissed);
	rte_tel_data_add_dict_u64(one, "rx_errors", st.ierrors);
	rte_tel_data_add_dict_u64(one, "tx_errors", st.oerrors);
	rte_tel_data_add_dict_u64(one, "rx_nombuf", st.rx_nombuf);
	return one;
}

/* What each worker did, to see how RSS (or af_packet's fanout) spreads the
 * load: the counters that show traffic and work, one dict per worker, in
 * worker order ("worker_0", ...). A worker's counters are written by its
 * lcore alone; read here without a lock, like the sums. */
static const enum worker_counter per_worker_counters[] = {
	WORKER_CTR_lan_rx_packets, WORKER_CTR_esp_out_copies, WORKER_CTR_wan_tx_packets,
	WORKER_CTR_wan_rx_packets, WORKER_CTR_esp_in_packets, WORKER_CTR_lan_tx_packets,
	WORKER_CTR_esp_in_drop_other_worker, WORKER_CTR_busy_cycles,
};

static struct rte_tel_data *
workers_stats(const struct ivgmpd *d)
{
	struct rte_tel_data *all = rte_tel_data_alloc();

	if (all == NULL)
		return NULL;
	rte_tel_data_start_dict(all);
	for (unsigned int i = 0; i < d->n_workers; i++) {
		struct rte_tel_data *one = rte_tel_data_alloc();
		char key[24];

		if (one == NULL)
			break;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_u64(one, "lcore", d->worker_lcores[i]);
		rte_tel_data_add_dict_u64(one, "queue", i);
		for (size_t k = 0; k < RTE_DIM(per_worker_counters); k++)
			rte_tel_data_add_dict_u64(one, worker_counter_name(per_worker_counters[k]),
						  d->workers[i]->counters.c[per_worker_counters[k]]);
		snprintf(key, sizeof(key), "worker_%u", i);
		ivgmpd_tel_add_container(all, key, one);
	}
	return all;
}

/* Flat: every worker counter, summed over the workers (what scripts read).
 * "ports": each port's own counters. "drops": the drop counters that are
 * not zero, so that why packets died shows at a glance. "workers": a few
 * counters per worker (workers_stats). */
int
ivgmpd_telemetry_stats(struct ivgmpd *d, const char *params __rte_unused,
		       struct rte_tel_data *data)
{
	struct rte_tel_data *ports = rte_tel_data_alloc();
	struct rte_tel_data *drops = rte_tel_data_alloc();
	struct rte_tel_data *lan = port_stats(d->lan_port);
	struct rte_tel_data *wan = port_stats(d->wan_port);
	struct rte_tel_data *workers;
	uint64_t total = 0;

	if (ports == NULL || drops == NULL || lan == NULL || wan == NULL) {
		rte_tel_data_free(ports);
		rte_tel_data_free(drops);
		rte_tel_data_free(lan);
		rte_tel_data_free(wan);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(data);
	rte_tel_data_start_dict(ports);
	rte_tel_data_start_dict(drops);
	for (int id = 0; id < WORKER_CTR_MAX; id++) {
		uint64_t v = ivgmpd_counter_sum(d, (enum worker_counter)id);
		const char *name = worker_counter_name((enum worker_counter)id);

		rte_tel_data_add_dict_u64(data, name, v);
		if (v && worker_counter_is_drop((enum worker_counter)id)) {
			rte_tel_data_add_dict_u64(drops, name, v);
			total += v;
		}
	}
	rte_tel_data_add_dict_u64(data, "drops_total", total);
	ivgmpd_tel_add_container(ports, "lan", lan);
	ivgmpd_tel_add_container(ports, "wan", wan);
	if (ivgmpd_tel_add_container(data, "ports", ports) < 0) {
		rte_tel_data_free(drops);
		return -EINVAL;
	}
	if (ivgmpd_tel_add_container(data, "drops", drops) < 0)
		return -EINVAL;
	workers = workers_stats(d);
	if (workers == NULL)
		return -ENOMEM;
	return ivgmpd_tel_add_container(data, "workers", workers);
}

static struct rte_tel_data *
sa_dict(const struct ivgmpd_sa_ref *r)
{
	const struct esp_sa *sa = r->sa;
	struct rte_tel_data *one = rte_tel_data_alloc();

	if (one == NULL)
		return NULL;
	/* No key, no salt: this goes to whoever can read the socket. */
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_u64(one, "spi", sa->spi);
	rte_tel_data_add_dict_string(one, "direction", r->inbound ? "in" : "out");
	rte_tel_data_add_dict_string(one, "site", r->peer);
	rte_tel_data_add_dict_string(one, "origin", r->origin);
	rte_tel_data_add_dict_string(one, "aead", esp_aead_name(sa->aead));
	rte_tel_data_add_dict_u64(one, "esn", sa->esn);
	if (r->inbound) {
		rte_tel_data_add_dict_u64(one, "packets", sa->stats.packets);
		rte_tel_data_add_dict_u64(one, "bytes", sa->stats.bytes);
		rte_tel_data_add_dict_u64(one, "highest_seq", sa->replay.top);
		rte_tel_data_add_dict_u64(one, "icv_failures", sa->stats.icv_failures);
		rte_tel_data_add_dict_u64(one, "replay_drops", sa->stats.replay_drops);
	} else {
		rte_tel_data_add_dict_u64(one, "packets", esp_outb_packets(sa));
		rte_tel_data_add_dict_u64(one, "seq", sa->seq_out);
		rte_tel_data_add_dict_u64(one, "bytes", sa->bytes_out);
		rte_tel_data_add_dict_u64(one, "expired_drops", sa->stats.expired_drops);
		if (r->vnoc != NULL) {
			rte_tel_data_add_dict_u64(one, "rekey_asked", r->vnoc->rekey_asked);
			rte_tel_data_add_dict_u64(one, "lifetime_expired",
						  r->vnoc->lifetime_expired);
		}
	}
	return one;
}

int
ivgmpd_telemetry_sa(struct ivgmpd *d, const char *params __rte_unused,
		    struct rte_tel_data *data)
{
	struct ivgmpd_sa_ref r;

	rte_tel_data_start_dict(data);
	for (uint32_t i = 0; ivgmpd_sa_at(d, i, &r); i++) {
		struct rte_tel_data *one = sa_dict(&r);
		char key[16];

		if (one == NULL)
			return -ENOMEM;
		ivgmpd_tel_spi_text(key, sizeof(key), r.sa->spi);
		ivgmpd_tel_add_entry(data, key, one);
	}
	return 0;
}
