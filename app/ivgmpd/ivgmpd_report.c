/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

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

/* One SA of either origin: the config file's, or the VNOC's last view. */
struct report_sa {
	const struct esp_sa *sa;
	bool inbound;
	const char *peer;
	const char *origin;
};

/* The i-th SA, configured ones first; false past the last. */
static bool
report_sa_at(const struct ivgmpd *d, uint32_t i, struct report_sa *out)
{
	if (i < d->n_sas) {
		out->sa = d->sas[i];
		out->inbound = d->conf->sas[i].inbound;
		out->peer = d->conf->sites[d->conf->sas[i].site].name;
		out->origin = "config";
		return true;
	}
	i -= d->n_sas;
	if (i >= d->vnoc.n_sas)
		return false;
	out->sa = d->vnoc.sas[i].sa;
	out->inbound = d->vnoc.sas[i].inbound;
	out->peer = d->vnoc.sas[i].peer;
	out->origin = "vnoc";
	return true;
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
	printf("ivgmpd: security associations\n");
	struct report_sa r;

	for (uint32_t i = 0; report_sa_at(d, i, &r); i++) {
		const struct esp_sa *sa = r.sa;

		if (r.inbound)
			printf("  in  spi 0x%08x from %-8s packets %" PRIu64 " icv_failures %" PRIu64
			       " replay_drops %" PRIu64 " (%s)\n", sa->spi, r.peer,
			       sa->stats.packets, sa->stats.icv_failures, sa->stats.replay_drops,
			       r.origin);
		else
			printf("  out spi 0x%08x to   %-8s packets %" PRIu64 " expired_drops %" PRIu64
			       " (%s)\n", sa->spi, r.peer, esp_outb_packets(sa),
			       sa->stats.expired_drops, r.origin);
	}
	fflush(stdout);
}

/* Add one to a dict; on refusal free it, so that nothing leaks. */
static int
dict_add_container(struct rte_tel_data *into, const char *key, struct rte_tel_data *one)
{
	if (rte_tel_data_add_dict_container(into, key, one, 0) == 0)
		return 0;
	rte_tel_data_free(one);
	return -EINVAL;
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
telemetry_sa_locked(const struct ivgmpd *d, struct rte_tel_data *data)
{
	struct report_sa r;

	rte_tel_data_start_dict(data);
	for (uint32_t i = 0; report_sa_at(d, i, &r); i++) {
		const struct esp_sa *sa = r.sa;
		struct rte_tel_data *one = rte_tel_data_alloc();
		char key[32];

		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_string(one, "direction", r.inbound ? "in" : "out");
		rte_tel_data_add_dict_string(one, "site", r.peer);
		rte_tel_data_add_dict_string(one, "origin", r.origin);
		rte_tel_data_add_dict_string(one, "aead", esp_aead_name(sa->aead));
		rte_tel_data_add_dict_u64(one, "esn", sa->esn);
		if (r.inbound) {
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
		}
		snprintf(key, sizeof(key), "0x%08x", sa->spi);
		if (dict_add_container(data, key, one) < 0)
			return -EINVAL;
	}
	return 0;
}

/* The lock: a VNOC view may replace SAs while we read them. */
static int
telemetry_sa(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = telemetry_sa_locked(d, data);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void
add_addr(struct rte_tel_data *data, const char *name, uint32_t addr)
{
	char text[INET_ADDRSTRLEN];

	rte_tel_data_add_dict_string(data, name, inet_ntop(AF_INET, &addr, text, sizeof(text)));
}

/* DPDK 22.11 telemetry names allow only [A-Za-z0-9_/]: an address becomes
 * 239_1_1_1 as a key, and goes as text in the entry itself too. */
static void
addr_key(char *key, size_t len, uint32_t addr)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, text, sizeof(text));
	snprintf(key, len, "%s", text);
	for (char *c = key; *c; c++)
		if (*c == '.')
			*c = '_';
}

struct telemetry_walk {
	struct rte_tel_data *data;
	struct igmp_group_view *view;
	const struct ivgmpd *d;
	int error;
};

static bool
telemetry_igmp_group(void *arg, uint32_t group)
{
	struct telemetry_walk *walk = arg;
	struct igmp_group_view *view = walk->view;
	struct rte_tel_data *one, *sources;
	char key[INET_ADDRSTRLEN];

	if (!igmp_router_group_view(walk->d->igmp, group, walk->d->now_ms, view, 256))
		return true;
	one = rte_tel_data_alloc();
	sources = rte_tel_data_alloc();
	if (one == NULL || sources == NULL) {
		rte_tel_data_free(one);
		rte_tel_data_free(sources);
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	add_addr(one, "group", group);
	rte_tel_data_add_dict_string(one, "filter_mode",
				     view->mode == IGMP_FILTER_INCLUDE ? "include" : "exclude");
	rte_tel_data_add_dict_u64(one, "group_timer_ms", view->group_timer_ms);
	rte_tel_data_add_dict_u64(one, "compat_version", view->compat_version);
	rte_tel_data_start_dict(sources);
	for (uint16_t i = 0; i < view->n_sources; i++) {
		char source[INET_ADDRSTRLEN];

		addr_key(source, sizeof(source), view->sources[i].addr);
		rte_tel_data_add_dict_u64(sources, source, view->sources[i].timer_ms);
	}
	if (dict_add_container(one, "source_timers_ms", sources) < 0)
		walk->error = -EINVAL;
	addr_key(key, sizeof(key), group);
	if (dict_add_container(walk->data, key, one) < 0)
		walk->error = -EINVAL;
	return true;
}

static int
telemetry_igmp(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	struct telemetry_walk walk = { .d = d };
	struct rte_tel_data *groups = rte_tel_data_alloc();

	walk.view = malloc(sizeof(*walk.view) + 256 * sizeof(walk.view->sources[0]));
	if (groups == NULL || walk.view == NULL) {
		rte_tel_data_free(groups);
		free(walk.view);
		return -ENOMEM;
	}
	walk.data = groups;
	rte_tel_data_start_dict(data);
	rte_tel_data_start_dict(groups);
	pthread_mutex_lock(&d->lock);
	rte_tel_data_add_dict_string(data, "querier",
				     igmp_router_is_querier(d->igmp) ? "self" : "other");
	add_addr(data, "lan_address", d->conf->lan_addr);
	for (int id = 0; id < IGMP_CTR_MAX; id++)
		rte_tel_data_add_dict_u64(data, igmp_counter_name((enum igmp_counter)id),
					  igmp_router_counter(d->igmp, (enum igmp_counter)id));
	for (int v = 1; v < IGMP_VERDICT_MAX; v++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", igmp_verdict_name((enum igmp_verdict)v));
		rte_tel_data_add_dict_u64(data, name, d->igmp_drops[v]);
	}
	igmp_router_foreach_group(d->igmp, telemetry_igmp_group, &walk);
	pthread_mutex_unlock(&d->lock);
	free(walk.view);
	if (dict_add_container(data, "groups", groups) < 0)
		return -EINVAL;
	return walk.error;
}

static const char *
roles_text(uint8_t roles)
{
	static const char *const names[] = { "none", "receiver", "sender", "receiver+sender" };

	return names[roles & 3];
}

static bool
telemetry_group(void *arg, const struct group_view *view)
{
	struct telemetry_walk *walk = arg;
	struct rte_tel_data *one = rte_tel_data_alloc();
	uint64_t now = walk->d->now_ms;
	char key[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	add_addr(one, "group", view->group);
	rte_tel_data_add_dict_string(one, "role", roles_text(view->roles));
	rte_tel_data_add_dict_string(one, "wanted", roles_text(view->wanted));
	rte_tel_data_add_dict_string(one, "igmp", roles_text(view->inputs[GROUP_INPUT_IGMP]));
	rte_tel_data_add_dict_string(one, "config", roles_text(view->inputs[GROUP_INPUT_CONFIG]));
	rte_tel_data_add_dict_u64(one, "sources", view->n_sources);
	rte_tel_data_add_dict_u64(one, "announce_receive_ms_left",
				  view->announce_expiry_ms[0] > now ? view->announce_expiry_ms[0] - now : 0);
	rte_tel_data_add_dict_u64(one, "announce_send_ms_left",
				  view->announce_expiry_ms[1] > now ? view->announce_expiry_ms[1] - now : 0);
	rte_tel_data_add_dict_u64(one, "leave_in_ms",
				  view->leave_at_ms > now ? view->leave_at_ms - now : 0);
	addr_key(key, sizeof(key), view->group);
	if (dict_add_container(walk->data, key, one) < 0)
		walk->error = -EINVAL;
	return true;
}

static int
telemetry_groups(const char *cmd __rte_unused, const char *params __rte_unused,
		 struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	struct telemetry_walk walk = { .d = d, .data = data };

	rte_tel_data_start_dict(data);
	pthread_mutex_lock(&d->lock);
	group_manager_foreach(d->groups, telemetry_group, &walk);
	pthread_mutex_unlock(&d->lock);
	return walk.error;
}

static bool
telemetry_source(void *arg, const struct group_source_view *view)
{
	struct telemetry_walk *walk = arg;
	struct rte_tel_data *one = rte_tel_data_alloc();
	char key[2 * INET_ADDRSTRLEN + 4], s[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	add_addr(one, "source", view->source);
	add_addr(one, "group", view->group);
	rte_tel_data_add_dict_u64(one, "age_ms", walk->d->now_ms - view->first_seen_ms);
	rte_tel_data_add_dict_u64(one, "idle_ms", walk->d->now_ms - view->last_seen_ms);
	addr_key(s, sizeof(s), view->source);
	addr_key(g, sizeof(g), view->group);
	snprintf(key, sizeof(key), "%s_%s", s, g);
	if (dict_add_container(walk->data, key, one) < 0)
		walk->error = -EINVAL;
	return true;
}

static int
telemetry_sources(const char *cmd __rte_unused, const char *params __rte_unused,
		  struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	struct telemetry_walk walk = { .d = d, .data = data };

	rte_tel_data_start_dict(data);
	pthread_mutex_lock(&d->lock);
	group_manager_foreach_source(d->groups, telemetry_source, &walk);
	pthread_mutex_unlock(&d->lock);
	return walk.error;
}

static int
telemetry_vnoc(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = ivgmpd_vnoc_telemetry(d, data);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int
ivgmpd_telemetry_register(struct ivgmpd *d)
{
	telemetry_daemon = d;
	if (rte_telemetry_register_cmd("/ivgmp/vnoc", telemetry_vnoc,
				       "VNOC client: state, URL, view version, per-group roles "
				       "granted and denied. No parameters") < 0)
		return -1;
	if (rte_telemetry_register_cmd("/ivgmp/stats", telemetry_stats,
				       "Data path counters summed over workers. No parameters") < 0 ||
	    rte_telemetry_register_cmd("/ivgmp/sa", telemetry_sa,
				       "Security associations and their counters. No parameters") < 0 ||
	    rte_telemetry_register_cmd("/ivgmp/igmp", telemetry_igmp,
				       "IGMP querier, counters and per-group state. No parameters") < 0 ||
	    rte_telemetry_register_cmd("/ivgmp/groups", telemetry_groups,
				       "Desired VPN role per group and its inputs. No parameters") < 0)
		return -1;
	return rte_telemetry_register_cmd("/ivgmp/sources", telemetry_sources,
					  "LAN sources discovered from traffic. No parameters");
}
