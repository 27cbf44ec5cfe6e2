/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivgmpd and its VNOC: the group manager's roles become JoinVpn / LeaveVpn,
 * the VNOC's views become the forwarding state. The client never blocks the
 * management lcore; when the VNOC is away, forwarding goes on with the last
 * view while the client retries.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ivgmpd.h"

static void
on_view_changed(void *ctx, const struct vnoc_view *view)
{
	struct ivgmpd *d = ctx;

	if (ivgmpd_vnoc_view_apply(d, view) < 0)
		fprintf(stderr, "ivgmpd: VNOC view %llu not applied (out of memory); "
			"keeping the previous one\n", (unsigned long long)view->version);
	else
		printf("ivgmpd: VNOC view %llu: %u group(s), %u SA(s), %u remote site(s)\n",
		       (unsigned long long)view->version, view->n_groups, view->n_sas,
		       d->vnoc.n_peers);
	fflush(stdout);
}

static void
on_denied(void *ctx, uint32_t group, uint8_t roles, const struct vnoc_fault_info *fault)
{
	char addr[INET_ADDRSTRLEN];

	(void)ctx;
	printf("ivgmpd: VNOC refused %s%s%s for group %s: %s: %s\n",
	       roles & VNOC_ROLE_RECEIVER ? "receive" : "",
	       roles == (VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER) ? "+" : "",
	       roles & VNOC_ROLE_SENDER ? "send" : "",
	       inet_ntop(AF_INET, &group, addr, sizeof(addr)),
	       vnoc_fault_name(fault->reason), fault->text);
	fflush(stdout);
}

static void
on_counters(void *ctx, struct vnoc_client_site_counters *out)
{
	const struct ivgmpd *d = ctx;

	out->rx_packets = ivgmpd_counter_sum(d, WORKER_CTR_lan_rx_packets) +
			  ivgmpd_counter_sum(d, WORKER_CTR_wan_rx_packets);
	out->tx_packets = ivgmpd_counter_sum(d, WORKER_CTR_lan_tx_packets) +
			  ivgmpd_counter_sum(d, WORKER_CTR_wan_tx_packets);
	out->drops = ivgmpd_counter_sum(d, WORKER_CTR_esp_in_drop_icv_fail) +
		     ivgmpd_counter_sum(d, WORKER_CTR_esp_in_drop_replay);
}

static bool
roles_push(void *arg, const struct group_view *view)
{
	struct ivgmpd *d = arg;

	vnoc_client_set_roles(d->vnoc_client, view->group, view->roles, d->now_ms);
	return true;
}

int
ivgmpd_vnoc_create(struct ivgmpd *d)
{
	static const struct vnoc_client_ops ops = {
		.view_changed = on_view_changed,
		.denied = on_denied,
		.counters = on_counters,
	};
	const struct conf *conf = d->conf;
	struct vnoc_client_config cfg;
	char err[VNOC_CLIENT_ERROR_MAX];

	if (conf->n_vnoc_urls == 0)
		return 0;
	vnoc_client_config_defaults(&cfg);
	cfg.n_urls = conf->n_vnoc_urls;
	for (uint16_t i = 0; i < conf->n_vnoc_urls; i++)
		snprintf(cfg.urls[i], sizeof(cfg.urls[i]), "%s", conf->vnoc_urls[i]);
	snprintf(cfg.ca_file, sizeof(cfg.ca_file), "%s", conf->vnoc_ca);
	snprintf(cfg.cert_file, sizeof(cfg.cert_file), "%s", conf->vnoc_cert);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", conf->vnoc_key);
	cfg.insecure_http = conf->vnoc_insecure_http;
	snprintf(cfg.site, sizeof(cfg.site), "%s", conf->site_id);
	cfg.wan_addr = conf->wan_addr;
	cfg.udp_encap = conf->udp_encap;
	snprintf(cfg.software, sizeof(cfg.software), "ivgmpd %s", IVGMP_VERSION);
	d->vnoc_client = vnoc_client_create(&cfg, &ops, d, err, sizeof(err));
	if (d->vnoc_client == NULL) {
		fprintf(stderr, "ivgmpd: VNOC client: %s\n", err);
		return -1;
	}
	/* Roles taken before the client existed (configured groups). */
	group_manager_foreach(d->groups, roles_push, d);
	return 0;
}

void
ivgmpd_vnoc_role_changed(struct ivgmpd *d, uint32_t group, uint8_t roles)
{
	if (d->vnoc_client)
		vnoc_client_set_roles(d->vnoc_client, group, roles, d->now_ms);
}

void
ivgmpd_vnoc_poll(struct ivgmpd *d, uint64_t now_ms)
{
	if (d->vnoc_client)
		vnoc_client_poll(d->vnoc_client, now_ms);
}

void
ivgmpd_vnoc_free(struct ivgmpd *d)
{
	vnoc_client_free(d->vnoc_client);
	d->vnoc_client = NULL;
}

static const char *
roles_text(uint8_t roles)
{
	static const char *const names[] = { "none", "receiver", "sender", "receiver+sender" };

	return names[roles & 3];
}

struct vnoc_walk {
	struct rte_tel_data *groups;
	int error;
};

static bool
telemetry_vnoc_group(void *arg, const struct vnoc_client_group_status *gs)
{
	struct vnoc_walk *walk = arg;
	struct rte_tel_data *one = rte_tel_data_alloc();
	char key[INET_ADDRSTRLEN], text[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_string(one, "group",
				     inet_ntop(AF_INET, &gs->group, text, sizeof(text)));
	rte_tel_data_add_dict_string(one, "desired", roles_text(gs->desired));
	rte_tel_data_add_dict_string(one, "granted", roles_text(gs->granted));
	rte_tel_data_add_dict_string(one, "denied", roles_text(gs->denied));
	if (gs->denied) {
		rte_tel_data_add_dict_string(one, "denied_reason", vnoc_fault_name(gs->denied_reason));
		rte_tel_data_add_dict_string(one, "denied_text", gs->denied_text);
	}
	snprintf(key, sizeof(key), "%s", text);
	for (char *c = key; *c; c++)
		if (*c == '.')
			*c = '_';
	if (rte_tel_data_add_dict_container(walk->groups, key, one, 0) < 0) {
		rte_tel_data_free(one);
		walk->error = -EINVAL;
	}
	return true;
}

int
ivgmpd_vnoc_telemetry(struct ivgmpd *d, struct rte_tel_data *data)
{
	struct vnoc_client_status st;
	struct vnoc_walk walk = { 0 };

	rte_tel_data_start_dict(data);
	if (d->vnoc_client == NULL) {
		rte_tel_data_add_dict_string(data, "state", "disabled (no vnoc-url)");
		return 0;
	}
	walk.groups = rte_tel_data_alloc();
	if (walk.groups == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(walk.groups);
	vnoc_client_status(d->vnoc_client, &st);
	rte_tel_data_add_dict_string(data, "state", vnoc_client_state_name(st.state));
	rte_tel_data_add_dict_string(data, "url", st.url);
	rte_tel_data_add_dict_u64(data, "view_version", st.version);
	rte_tel_data_add_dict_u64(data, "remote_sites", d->vnoc.n_peers);
	rte_tel_data_add_dict_u64(data, "sas", d->vnoc.n_sas);
	rte_tel_data_add_dict_u64(data, "outstanding", st.outstanding);
	rte_tel_data_add_dict_u64(data, "backoff_ms", st.backoff_ms);
	rte_tel_data_add_dict_string(data, "last_error", st.last_error);
	for (int i = 0; i < VNOC_CLIENT_CTR_MAX; i++)
		rte_tel_data_add_dict_u64(data, vnoc_client_counter_name((enum vnoc_client_counter)i),
					  st.counters[i]);
	vnoc_client_foreach_group(d->vnoc_client, telemetry_vnoc_group, &walk);
	if (rte_tel_data_add_dict_container(data, "groups", walk.groups, 0) < 0) {
		rte_tel_data_free(walk.groups);
		return -EINVAL;
	}
	return walk.error;
}
