/* SPDX-License-Identifier: BSD-3-Clause */
/* /ivgmp/vnoc: the VNOC client's connection, its requests, its groups. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "ivgmpd_telemetry.h"

static const char *
in_flight_text(const struct vnoc_client_group_status *gs, char *text, size_t len)
{
	if (gs->in_flight == 0)
		return "none";
	snprintf(text, len, "%s %s", gs->in_flight_join ? "join" : "leave",
		 ivgmpd_roles_name(gs->in_flight));
	return text;
}

/* One group's entry; prefix tells /ivgmp/group's vnoc_* keys from the
 * group dict of /ivgmp/vnoc. */
static void
vnoc_group_fill(const struct ivgmpd *d, const struct vnoc_client_group_status *gs,
		const char *prefix, struct rte_tel_data *one)
{
	char key[64], text[64];

#define GROUP_KEY(name) (snprintf(key, sizeof(key), "%s%s", prefix, name), key)
	rte_tel_data_add_dict_string(one, GROUP_KEY("desired"), ivgmpd_roles_name(gs->desired));
	rte_tel_data_add_dict_string(one, GROUP_KEY("granted"), ivgmpd_roles_name(gs->granted));
	rte_tel_data_add_dict_string(one, GROUP_KEY("in_flight"),
				     in_flight_text(gs, text, sizeof(text)));
	rte_tel_data_add_dict_string(one, GROUP_KEY("denied"), ivgmpd_roles_name(gs->denied));
	/* A previous run's roles, given up unless IGMP asks for them again. */
	if (gs->adopted)
		rte_tel_data_add_dict_string(one, GROUP_KEY("adopted"),
					     ivgmpd_roles_name(gs->adopted));
	if (gs->denied) {
		rte_tel_data_add_dict_string(one, GROUP_KEY("denied_reason"),
					     vnoc_fault_name(gs->denied_reason));
		rte_tel_data_add_dict_string(one, GROUP_KEY("denied_text"), gs->denied_text);
		rte_tel_data_add_dict_u64(one, GROUP_KEY("denied_retry_in_ms"),
					  gs->denied_until_ms > d->now_ms ?
					  gs->denied_until_ms - d->now_ms : 0);
	}
#undef GROUP_KEY
}

struct vnoc_walk {
	const struct ivgmpd *d;
	struct rte_tel_data *groups;
	uint32_t pending;               /* groups whose desired roles are not granted */
	uint32_t group;                 /* ivgmpd_telemetry_vnoc_group: the one asked for */
	int error;
};

static bool
walk_vnoc_group(void *arg, const struct vnoc_client_group_status *gs)
{
	struct vnoc_walk *walk = arg;
	struct rte_tel_data *one = rte_tel_data_alloc();
	char key[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	if (gs->desired != gs->granted)
		walk->pending++;
	rte_tel_data_start_dict(one);
	ivgmpd_tel_add_addr(one, "group", gs->group);
	vnoc_group_fill(walk->d, gs, "", one);
	ivgmpd_tel_addr_key(key, sizeof(key), gs->group);
	ivgmpd_tel_add_entry(walk->groups, key, one);
	return true;
}

static void
status_fill(const struct ivgmpd *d, const struct vnoc_client_status *st,
	    struct rte_tel_data *data)
{
	rte_tel_data_add_dict_string(data, "state", vnoc_client_state_name(st->state));
	rte_tel_data_add_dict_string(data, "url", st->url);
	rte_tel_data_add_dict_u64(data, "url_index", st->url_index);
	rte_tel_data_add_dict_u64(data, "urls", d->conf->n_vnoc_urls);
	rte_tel_data_add_dict_string(data, "last_error", st->last_error);
	/* "outstanding" is the older name of pending_requests. */
	rte_tel_data_add_dict_u64(data, "pending_requests", st->outstanding);
	rte_tel_data_add_dict_u64(data, "outstanding", st->outstanding);
	rte_tel_data_add_dict_u64(data, "watch_outstanding", st->watch_outstanding);
	rte_tel_data_add_dict_u64(data, "backoff_ms", st->backoff_ms);
	rte_tel_data_add_dict_u64(data, "retry_in_ms",
				  st->state == VNOC_CLIENT_BACKOFF && st->retry_at_ms > d->now_ms ?
				  st->retry_at_ms - d->now_ms : 0);
	rte_tel_data_add_dict_u64(data, "heartbeat_s", st->heartbeat_s);
	rte_tel_data_add_dict_u64(data, "watch_timeout_s", st->watch_timeout_s);
	rte_tel_data_add_dict_u64(data, "view_version", st->version);
	rte_tel_data_add_dict_u64(data, "remote_sites", d->vnoc.n_peers);
	rte_tel_data_add_dict_u64(data, "sas", d->vnoc.n_sas);
	rte_tel_data_add_dict_u64(data, "sa_soft_limit_hits", d->sa_soft_limit_hits);
	rte_tel_data_add_dict_u64(data, "sa_lifetime_expiries", d->sa_lifetime_expiries);
	for (int i = 0; i < VNOC_CLIENT_CTR_MAX; i++)
		rte_tel_data_add_dict_u64(data, vnoc_client_counter_name((enum vnoc_client_counter)i),
					  st->counters[i]);
	for (int i = VNOC_FAULT_NONE + 1; i < VNOC_FAULT_MAX; i++) {
		char key[64];

		snprintf(key, sizeof(key), "fault_%s", vnoc_fault_name((enum vnoc_fault)i));
		rte_tel_data_add_dict_u64(data, key, st->faults[i]);
	}
}

int
ivgmpd_telemetry_vnoc(struct ivgmpd *d, const char *params __rte_unused,
		      struct rte_tel_data *data)
{
	struct vnoc_client_status st;
	struct vnoc_walk walk = { .d = d };

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
	status_fill(d, &st, data);
	vnoc_client_foreach_group(d->vnoc_client, walk_vnoc_group, &walk);
	rte_tel_data_add_dict_u64(data, "pending_groups", walk.pending);
	if (ivgmpd_tel_add_container(data, "groups", walk.groups) < 0)
		return -EINVAL;
	return walk.error;
}

struct vnoc_find {
	uint32_t group;
	struct vnoc_client_group_status found;
	bool hit;
};

static bool
find_vnoc_group(void *arg, const struct vnoc_client_group_status *gs)
{
	struct vnoc_find *find = arg;

	if (gs->group != find->group)
		return true;
	find->found = *gs;
	find->hit = true;
	return false;
}

void
ivgmpd_telemetry_vnoc_group(const struct ivgmpd *d, uint32_t group, struct rte_tel_data *data)
{
	struct vnoc_find find = { .group = group };

	if (d->vnoc_client == NULL)
		return;
	vnoc_client_foreach_group(d->vnoc_client, find_vnoc_group, &find);
	if (find.hit)
		vnoc_group_fill(d, &find.found, "vnoc_", data);
}
