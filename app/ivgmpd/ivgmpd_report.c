/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters and SA statistics, for telemetry and the exit report. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ivgmpd.h"

uint64_t
ivgmpd_counter_sum(const struct ivgmpd *d, enum worker_counter id)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < d->n_workers; i++)
		sum += d->workers[i]->counters.c[id];
	return sum;
}

bool
ivgmpd_sa_at(const struct ivgmpd *d, uint32_t i, struct ivgmpd_sa_ref *out)
{
	if (i < d->n_sas) {
		out->sa = d->sas[i];
		out->inbound = d->conf->sas[i].inbound;
		out->peer = d->conf->sites[d->conf->sas[i].site].name;
		out->origin = "config";
		out->vnoc = NULL;
		return true;
	}
	i -= d->n_sas;
	if (i >= d->vnoc.n_sas)
		return false;
	out->sa = d->vnoc.sas[i].sa;
	out->inbound = d->vnoc.sas[i].inbound;
	out->peer = d->vnoc.sas[i].peer;
	out->origin = "vnoc";
	out->vnoc = &d->vnoc.sas[i];
	return true;
}

/* On stdout, not through rte_log: scripts and the pcap tests read it
 * (test/pcap/pcap_harness.py parse_report) whatever the log level. */
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
	printf("ivgmpd: membership\n");
	for (int id = 0; id < IGMP_CTR_MAX; id++) {
		uint64_t v = igmp_router_counter(d->igmp, (enum igmp_counter)id);

		if (v)
			printf("  igmp_%-23s %" PRIu64 "\n", igmp_counter_name((enum igmp_counter)id), v);
	}
	for (int v = 1; v < IGMP_VERDICT_MAX; v++)
		if (d->igmp_drops[v])
			printf("  igmp_drop_%-18s %" PRIu64 "\n",
			       igmp_verdict_name((enum igmp_verdict)v), d->igmp_drops[v]);
	for (int id = 0; id < GROUP_CTR_MAX; id++) {
		uint64_t v = group_manager_counter(d->groups, (enum group_counter)id);

		if (v)
			printf("  group_%-22s %" PRIu64 "\n", group_counter_name((enum group_counter)id), v);
	}
	if (d->sa_soft_limit_hits)
		printf("  %-28s %" PRIu64 "\n", "sa_soft_limit_hits", d->sa_soft_limit_hits);
	if (d->sa_lifetime_expiries)
		printf("  %-28s %" PRIu64 "\n", "sa_lifetime_expiries", d->sa_lifetime_expiries);
	if (d->vnoc_client != NULL) {
		struct vnoc_client_status st;

		vnoc_client_status(d->vnoc_client, &st);
		if (st.counters[VNOC_CLIENT_CTR_rekey_requests])
			printf("  %-28s %" PRIu64 "\n", "vnoc_rekey_requests",
			       st.counters[VNOC_CLIENT_CTR_rekey_requests]);
	}
	printf("ivgmpd: security associations\n");
	struct ivgmpd_sa_ref r;

	for (uint32_t i = 0; ivgmpd_sa_at(d, i, &r); i++) {
		const struct esp_sa *sa = r.sa;

		if (r.inbound)
			printf("  in  spi 0x%08x from %-8s packets %" PRIu64 " icv_failures %" PRIu64
			       " replay_drops %" PRIu64 " (%s)\n", sa->spi, r.peer,
			       sa->stats.packets, sa->stats.icv_failures, sa->stats.replay_drops,
			       r.origin);
		else if (r.vnoc == NULL)
			printf("  out spi 0x%08x to   %-8s packets %" PRIu64 " expired_drops %" PRIu64
			       " seq %" PRIu64 " (%s)\n", sa->spi, r.peer, esp_outb_packets(sa),
			       sa->stats.expired_drops, sa->seq_out, r.origin);
		else
			printf("  out spi 0x%08x to   %-8s packets %" PRIu64 " expired_drops %" PRIu64
			       " seq %" PRIu64 " rekey_asked %d lifetime_expired %d (%s)\n", sa->spi,
			       r.peer, esp_outb_packets(sa), sa->stats.expired_drops, sa->seq_out,
			       r.vnoc->rekey_asked, r.vnoc->lifetime_expired, r.origin);
	}
	fflush(stdout);
}
