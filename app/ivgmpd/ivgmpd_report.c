/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>

#include <rte_telemetry.h>

#include "ivgmpd.h"

/* The telemetry callbacks have no argument of their own to carry the daemon. */
static struct ivgmpd *telemetry_daemon;

uint64_t
ivgmpd_counter_sum(const struct ivgmpd *d, enum worker_counter id)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < d->n_workers; i++)
		sum += d->workers[i]->counters.c[id];
	return sum;
}

static const char *
sa_peer(const struct ivgmpd *d, uint16_t i)
{
	return d->conf->sites[d->conf->sas[i].site].name;
}

void
ivgmpd_report_print(const struct ivgmpd *d)
{
	uint64_t packets = ivgmpd_counter_sum(d, WORKER_CTR_lan_rx_packets) +
			   ivgmpd_counter_sum(d, WORKER_CTR_wan_rx_packets);

	printf("ivgmpd: counters\n");
	for (int id = 0; id < WORKER_CTR_MAX; id++) {
		uint64_t v = ivgmpd_counter_sum(d, (enum worker_counter)id);

		if (v)
			printf("  %-28s %" PRIu64 "\n", worker_counter_name((enum worker_counter)id), v);
	}
	if (packets)
		printf("  %-28s %.1f\n", "busy_cycles_per_rx_packet",
		       (double)ivgmpd_counter_sum(d, WORKER_CTR_busy_cycles) / (double)packets);
	printf("ivgmpd: security associations\n");
	for (uint16_t i = 0; i < d->n_sas; i++) {
		const struct esp_sa *sa = d->sas[i];

		if (d->conf->sas[i].inbound)
			printf("  in  spi 0x%08x from %-8s packets %" PRIu64 " icv_failures %" PRIu64
			       " replay_drops %" PRIu64 "\n", sa->spi, sa_peer(d, i),
			       sa->stats.packets, sa->stats.icv_failures, sa->stats.replay_drops);
		else
			printf("  out spi 0x%08x to   %-8s packets %" PRIu64 " expired_drops %" PRIu64
			       "\n", sa->spi, sa_peer(d, i), sa->seq_out, sa->stats.expired_drops);
	}
	fflush(stdout);
}

static int
telemetry_stats(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *data)
{
	rte_tel_data_start_dict(data);
	for (int id = 0; id < WORKER_CTR_MAX; id++)
		rte_tel_data_add_dict_u64(data, worker_counter_name((enum worker_counter)id),
					  ivgmpd_counter_sum(telemetry_daemon,
							     (enum worker_counter)id));
	return 0;
}

static int
telemetry_sa(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *data)
{
	const struct ivgmpd *d = telemetry_daemon;

	rte_tel_data_start_dict(data);
	for (uint16_t i = 0; i < d->n_sas; i++) {
		const struct esp_sa *sa = d->sas[i];
		struct rte_tel_data *one = rte_tel_data_alloc();
		char key[32];

		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_string(one, "direction", d->conf->sas[i].inbound ? "in" : "out");
		rte_tel_data_add_dict_string(one, "site", sa_peer(d, i));
		rte_tel_data_add_dict_string(one, "aead", esp_aead_name(sa->aead));
		rte_tel_data_add_dict_u64(one, "esn", sa->esn);
		if (d->conf->sas[i].inbound) {
			rte_tel_data_add_dict_u64(one, "packets", sa->stats.packets);
			rte_tel_data_add_dict_u64(one, "bytes", sa->stats.bytes);
			rte_tel_data_add_dict_u64(one, "highest_seq", sa->replay.top);
			rte_tel_data_add_dict_u64(one, "icv_failures", sa->stats.icv_failures);
			rte_tel_data_add_dict_u64(one, "replay_drops", sa->stats.replay_drops);
		} else {
			rte_tel_data_add_dict_u64(one, "seq", sa->seq_out);
			rte_tel_data_add_dict_u64(one, "bytes", sa->bytes_out);
			rte_tel_data_add_dict_u64(one, "expired_drops", sa->stats.expired_drops);
		}
		snprintf(key, sizeof(key), "0x%08x", sa->spi);
		rte_tel_data_add_dict_container(data, key, one, 0);
	}
	return 0;
}

int
ivgmpd_telemetry_register(struct ivgmpd *d)
{
	telemetry_daemon = d;
	if (rte_telemetry_register_cmd("/ivgmp/stats", telemetry_stats,
				       "Data path counters summed over workers. No parameters") < 0)
		return -1;
	return rte_telemetry_register_cmd("/ivgmp/sa", telemetry_sa,
					  "Security associations and their counters. No parameters");
}
