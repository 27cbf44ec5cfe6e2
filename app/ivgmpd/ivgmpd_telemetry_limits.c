/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /ivgmp/limits: every bound on what outside input can make the device
 * hold or do, its configured value, how much of it is in use, and the
 * counter that counts its hits. One place for an operator to see which
 * bound a flood ran into (doc/configuration.rst "Bounds").
 */
#include <errno.h>

#include "ivgmpd_telemetry.h"

/* UINT64_MAX: no in-use figure (a rate has none). */
#define LIMIT_NO_USE UINT64_MAX

static int
limit_add(struct rte_tel_data *data, const char *key, uint64_t limit, uint64_t in_use,
	  const char *counter, uint64_t hits)
{
	struct rte_tel_data *one = rte_tel_data_alloc();

	if (one == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_u64(one, "limit", limit);
	if (in_use != LIMIT_NO_USE)
		rte_tel_data_add_dict_u64(one, "in_use", in_use);
	rte_tel_data_add_dict_string(one, "counter", counter);
	rte_tel_data_add_dict_u64(one, "hits", hits);
	return ivgmpd_tel_add_container(data, key, one);
}

static bool
count_igmp_group(void *arg, uint32_t group __rte_unused)
{
	(*(uint64_t *)arg)++;
	return true;
}

struct group_usage {
	uint64_t groups;
	uint64_t announcements;
};

static bool
count_group(void *arg, const struct group_view *view)
{
	struct group_usage *u = arg;

	u->groups++;
	u->announcements += (view->announce_expiry_ms[0] != 0) + (view->announce_expiry_ms[1] != 0);
	return true;
}

static bool
count_source(void *arg, const struct group_source_view *view __rte_unused)
{
	(*(uint64_t *)arg)++;
	return true;
}

int
ivgmpd_telemetry_limits(struct ivgmpd *d, const char *params __rte_unused,
			struct rte_tel_data *data)
{
	const struct conf *conf = d->conf;
	struct igmp_config igmp_cfg = {
		.max_groups = conf->igmp.max_groups, .max_sources = conf->igmp.max_sources,
		.max_source_records = conf->igmp.max_source_records,
	};
	struct group_usage usage = { 0 };
	uint64_t igmp_groups = 0, sources = 0;
	int ret = 0;

	igmp_config_defaults(&igmp_cfg);
	igmp_router_foreach_group(d->igmp, count_igmp_group, &igmp_groups);
	group_manager_foreach(d->groups, count_group, &usage);
	group_manager_foreach_source(d->groups, count_source, &sources);
	rte_tel_data_start_dict(data);
	ret |= limit_add(data, "igmp_groups", igmp_cfg.max_groups, igmp_groups,
			 "igmp_group_limit_hit",
			 igmp_router_counter(d->igmp, IGMP_CTR_group_limit_hit));
	ret |= limit_add(data, "igmp_sources_per_group", igmp_cfg.max_sources, LIMIT_NO_USE,
			 "igmp_source_limit_hit",
			 igmp_router_counter(d->igmp, IGMP_CTR_source_limit_hit));
	ret |= limit_add(data, "igmp_source_records", igmp_cfg.max_source_records,
			 igmp_router_source_records(d->igmp), "igmp_source_records_limit_hit",
			 igmp_router_counter(d->igmp, IGMP_CTR_source_records_limit_hit));
	ret |= limit_add(data, "vpn_groups", conf->vpn_max_groups, usage.groups,
			 "group_group_limit_hit",
			 group_manager_counter(d->groups, GROUP_CTR_group_limit_hit));
	ret |= limit_add(data, "vpn_sources", conf->vpn_max_sources, sources,
			 "group_source_limit_hit",
			 group_manager_counter(d->groups, GROUP_CTR_source_limit_hit));
	ret |= limit_add(data, "announcements", conf->announce_max, usage.announcements,
			 "group_announcement_limit_hit",
			 group_manager_counter(d->groups, GROUP_CTR_announcement_limit_hit));
	if (d->vnoc_client != NULL) {
		struct vnoc_client_status st;

		vnoc_client_status(d->vnoc_client, &st);
		ret |= limit_add(data, "vnoc_groups", conf->vnoc_max_groups, st.n_groups,
				 "vnoc_group_limit_hit", st.counters[VNOC_CLIENT_CTR_group_limit_hit]);
		ret |= limit_add(data, "vnoc_inflight", conf->vnoc_max_inflight,
				 st.membership_in_flight,
				 "vnoc_inflight_limit_waits",
				 st.counters[VNOC_CLIENT_CTR_inflight_limit_waits]);
	}
	/* Rates: per worker; the hits are summed over the workers. */
	ret |= limit_add(data, "igmp_rate_per_worker", conf->igmp_rate, LIMIT_NO_USE,
			 "lan_igmp_rate_limited", ivgmpd_counter_sum(d, WORKER_CTR_lan_igmp_rate_limited));
	ret |= limit_add(data, "igmp_rate_per_host", conf->igmp_rate_per_host, LIMIT_NO_USE,
			 "lan_igmp_host_rate_limited",
			 ivgmpd_counter_sum(d, WORKER_CTR_lan_igmp_host_rate_limited));
	ret |= limit_add(data, "source_report_rate_per_worker", conf->source_report_rate,
			 LIMIT_NO_USE, "source_reports_rate_limited",
			 ivgmpd_counter_sum(d, WORKER_CTR_source_reports_rate_limited));
	ret |= limit_add(data, "source_report_rate_per_host", conf->source_report_rate_per_host,
			 LIMIT_NO_USE, "source_reports_host_rate_limited",
			 ivgmpd_counter_sum(d, WORKER_CTR_source_reports_host_rate_limited));
	ret |= limit_add(data, "igmp_ring", rte_ring_get_capacity(d->igmp_ring),
			 rte_ring_count(d->igmp_ring), "lan_igmp_ring_full",
			 ivgmpd_counter_sum(d, WORKER_CTR_lan_igmp_ring_full));
	ret |= limit_add(data, "source_ring", rte_ring_get_capacity(d->source_ring),
			 rte_ring_count(d->source_ring), "source_reports_ring_full",
			 ivgmpd_counter_sum(d, WORKER_CTR_source_reports_ring_full));
	return ret < 0 ? -ENOMEM : 0;
}
