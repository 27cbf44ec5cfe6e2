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

#include "ivgmpd.h"

static void
on_view_changed(void *ctx, const struct vnoc_view *view)
{
	struct ivgmpd *d = ctx;

	if (ivgmpd_vnoc_view_apply(d, view) < 0)
		IVGMP_LOG(ERR, vnoc, "VNOC view %llu not applied (out of memory); "
			  "keeping the previous one", (unsigned long long)view->version);
	else
		ivgmpd_event("VNOC view %llu: %u group(s), %u SA(s), %u remote site(s)",
			     (unsigned long long)view->version, view->n_groups, view->n_sas,
			     d->vnoc.n_peers);
}

static void
on_denied(void *ctx, uint32_t group, uint8_t roles, const struct vnoc_fault_info *fault)
{
	char addr[INET_ADDRSTRLEN];

	(void)ctx;
	ivgmpd_event("VNOC refused %s%s%s for group %s: %s: %s",
		     roles & VNOC_ROLE_RECEIVER ? "receive" : "",
		     roles == (VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER) ? "+" : "",
		     roles & VNOC_ROLE_SENDER ? "send" : "",
		     inet_ntop(AF_INET, &group, addr, sizeof(addr)),
		     vnoc_fault_name(fault->reason), fault->text);
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
	out->n_rekey = ivgmpd_vnoc_sa_rekey_list(d, out->rekey_spi, VNOC_MAX_REKEY);
}

/* The client refuses a new group at vnoc-max-groups and keeps nothing of
 * it; the group manager tells a role once. So remember the refusal, or a
 * group refused in a flood would never be joined once the flood left. */
static void
roles_set(struct ivgmpd *d, uint32_t group, uint8_t roles)
{
	if (vnoc_client_set_roles(d->vnoc_client, group, roles, d->now_ms) < 0)
		d->vnoc_refused.pending = true;
}

static bool
roles_push(void *arg, const struct group_view *view)
{
	struct ivgmpd *d = arg;

	roles_set(d, view->group, view->roles);
	return true;
}

/* Groups the client knows cost a lookup and send nothing; a new one takes
 * a free slot. Stops when none is left, so a group is counted in
 * group_limit_hit when refused, not again at each retry. */
static bool
roles_retry_push(void *arg, const struct group_view *view)
{
	struct ivgmpd *d = arg;

	if (view->roles == 0)
		return true;
	if (vnoc_client_group_room(d->vnoc_client) == 0) {
		d->vnoc_refused.pending = true;
		return false;
	}
	roles_set(d, view->group, view->roles);
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
	cfg.adopt_hold_ms = ivgmpd_membership_adopt_hold_ms(d);
	cfg.max_groups = conf->vnoc_max_groups;
	cfg.max_membership_inflight = conf->vnoc_max_inflight;
	d->vnoc_client = vnoc_client_create(&cfg, &ops, d, err, sizeof(err));
	if (d->vnoc_client == NULL) {
		IVGMP_LOG(ERR, vnoc, "VNOC client: %s", err);
		return -1;
	}
	d->vnoc_logged_state = VNOC_CLIENT_REGISTERING;
	d->vnoc_logged_error[0] = '\0';
	IVGMP_LOG(INFO, vnoc, "VNOC client for site %s: %u URL(s), first %s", cfg.site,
		  cfg.n_urls, cfg.urls[0]);
	/* Roles taken before the client existed (configured groups). */
	group_manager_foreach(d->groups, roles_push, d);
	return 0;
}

void
ivgmpd_vnoc_role_changed(struct ivgmpd *d, uint32_t group, uint8_t roles)
{
	if (d->vnoc_client)
		roles_set(d, group, roles);
}

/* The client only reports through its status: log what changed since the
 * last poll, once. A failure is a warning; the recovery says so. */
static void
status_log(struct ivgmpd *d)
{
	struct vnoc_client_status st;

	vnoc_client_status(d->vnoc_client, &st);
	if (st.last_error[0] && strcmp(st.last_error, d->vnoc_logged_error) != 0)
		IVGMP_LOG(WARNING, vnoc, "VNOC: %s", st.last_error);
	snprintf(d->vnoc_logged_error, sizeof(d->vnoc_logged_error), "%s", st.last_error);
	if (st.state == d->vnoc_logged_state)
		return;
	/* A retry is routine (DEBUG); giving up on a URL and getting through are
	 * what an operator follows (NOTICE). */
	if (st.state == VNOC_CLIENT_BACKOFF)
		IVGMP_LOG(NOTICE, vnoc, "VNOC client: %s -> backoff: next URL %s in %u ms",
			  vnoc_client_state_name(d->vnoc_logged_state), st.url, st.backoff_ms);
	else if (st.state == VNOC_CLIENT_READY)
		IVGMP_LOG(NOTICE, vnoc, "VNOC client: registered at %s", st.url);
	else
		IVGMP_LOG(DEBUG, vnoc, "VNOC client: %s -> %s (%s)",
			  vnoc_client_state_name(d->vnoc_logged_state),
			  vnoc_client_state_name(st.state), st.url);
	d->vnoc_logged_state = st.state;
}

void
ivgmpd_vnoc_poll(struct ivgmpd *d, uint64_t now_ms)
{
	if (d->vnoc_client == NULL)
		return;
	/* Before the poll: a Heartbeat asked for here goes out in it. */
	ivgmpd_vnoc_sa_check(d, now_ms);
	if (ivgmpd_vnoc_view_linger_end(d, now_ms) < 0)
		IVGMP_LOG(ERR, vnoc, "SAs gone from the VNOC's view not dropped (out of memory); "
			  "retrying");
	if (ivgmpd_refused_retry_due(&d->vnoc_refused, now_ms,
				     vnoc_client_group_room(d->vnoc_client)))
		group_manager_foreach(d->groups, roles_retry_push, d);
	vnoc_client_poll(d->vnoc_client, now_ms);
	status_log(d);
}

void
ivgmpd_vnoc_free(struct ivgmpd *d)
{
	vnoc_client_free(d->vnoc_client);
	d->vnoc_client = NULL;
}
