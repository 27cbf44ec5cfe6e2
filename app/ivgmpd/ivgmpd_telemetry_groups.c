/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the site knows of groups: /ivgmp/igmp (the LAN's membership, RFC 3376
 * section 6), /ivgmp/groups (the VPN role wanted per group), /ivgmp/sources
 * (senders found on the LAN), and /ivgmp/group,<G>: all of it for one group,
 * with where the forwarding snapshot sends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "ivgmpd_telemetry.h"

#define VIEW_SOURCES 256        /* igmp max-sources default; more are cut */
#define GROUP_USAGE "usage: /ivgmp/group,<IPv4 multicast group>, e.g. /ivgmp/group,239.1.1.1"

static struct igmp_group_view *
igmp_view_alloc(void)
{
	struct igmp_group_view *view;

	view = malloc(sizeof(*view) + VIEW_SOURCES * sizeof(view->sources[0]));
	return view;
}

/* RFC 3376 6.2: filter mode, group timer, source timers; 7.3.2: the group's
 * compatibility mode. A group without state is INCLUDE {}, mode 0. */
static struct rte_tel_data *
igmp_group_dict(const struct ivgmpd *d, uint32_t group, struct igmp_group_view *view)
{
	struct rte_tel_data *one = rte_tel_data_alloc();
	struct rte_tel_data *sources = rte_tel_data_alloc();

	if (one == NULL || sources == NULL) {
		rte_tel_data_free(one);
		rte_tel_data_free(sources);
		return NULL;
	}
	if (!igmp_router_group_view(d->igmp, group, d->now_ms, view, VIEW_SOURCES))
		*view = (struct igmp_group_view){ .group = group, .mode = IGMP_FILTER_INCLUDE };
	rte_tel_data_start_dict(one);
	ivgmpd_tel_add_addr(one, "group", group);
	rte_tel_data_add_dict_string(one, "filter_mode",
				     view->mode == IGMP_FILTER_INCLUDE ? "include" : "exclude");
	rte_tel_data_add_dict_u64(one, "group_timer_ms", view->group_timer_ms);
	rte_tel_data_add_dict_u64(one, "compat_version", view->compat_version);
	rte_tel_data_start_dict(sources);
	for (uint16_t i = 0; i < view->n_sources; i++) {
		char key[INET_ADDRSTRLEN];

		ivgmpd_tel_addr_key(key, sizeof(key), view->sources[i].addr);
		rte_tel_data_add_dict_u64(sources, key, view->sources[i].timer_ms);
	}
	if (ivgmpd_tel_add_container(one, "source_timers_ms", sources) < 0) {
		rte_tel_data_free(one);
		return NULL;
	}
	return one;
}

/* The group manager's entry: the role after hysteresis, the wish before
 * it, each input, and what is about to expire. */
static void
group_view_fill(const struct ivgmpd *d, const struct group_view *view, struct rte_tel_data *one)
{
	uint64_t now = d->now_ms;

	ivgmpd_tel_add_addr(one, "group", view->group);
	rte_tel_data_add_dict_string(one, "role", ivgmpd_roles_name(view->roles));
	rte_tel_data_add_dict_string(one, "wanted", ivgmpd_roles_name(view->wanted));
	rte_tel_data_add_dict_string(one, "igmp", ivgmpd_roles_name(view->inputs[GROUP_INPUT_IGMP]));
	rte_tel_data_add_dict_string(one, "config",
				     ivgmpd_roles_name(view->inputs[GROUP_INPUT_CONFIG]));
	rte_tel_data_add_dict_u64(one, "sources", view->n_sources);
	rte_tel_data_add_dict_u64(one, "announce_receive_ms_left",
				  view->announce_expiry_ms[0] > now ? view->announce_expiry_ms[0] - now : 0);
	rte_tel_data_add_dict_u64(one, "announce_send_ms_left",
				  view->announce_expiry_ms[1] > now ? view->announce_expiry_ms[1] - now : 0);
	rte_tel_data_add_dict_u64(one, "leave_in_ms",
				  view->leave_at_ms > now ? view->leave_at_ms - now : 0);
}

static void
source_fill(const struct ivgmpd *d, const struct group_source_view *view,
	    struct rte_tel_data *one)
{
	ivgmpd_tel_add_addr(one, "source", view->source);
	ivgmpd_tel_add_addr(one, "group", view->group);
	rte_tel_data_add_dict_u64(one, "age_ms", d->now_ms - view->first_seen_ms);
	rte_tel_data_add_dict_u64(one, "idle_ms", d->now_ms - view->last_seen_ms);
}

struct telemetry_walk {
	struct rte_tel_data *data;
	struct igmp_group_view *view;
	const struct ivgmpd *d;
	uint32_t group;                 /* /ivgmp/group: the one asked for */
	bool found;
	struct group_view group_view;
	int error;
};

static bool
walk_igmp_group(void *arg, uint32_t group)
{
	struct telemetry_walk *walk = arg;
	struct rte_tel_data *one = igmp_group_dict(walk->d, group, walk->view);
	char key[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	ivgmpd_tel_addr_key(key, sizeof(key), group);
	ivgmpd_tel_add_entry(walk->data, key, one);
	return true;
}

int
ivgmpd_telemetry_igmp(struct ivgmpd *d, const char *params __rte_unused,
		      struct rte_tel_data *data)
{
	struct telemetry_walk walk = { .d = d };
	struct rte_tel_data *groups = rte_tel_data_alloc();

	walk.view = igmp_view_alloc();
	if (groups == NULL || walk.view == NULL) {
		rte_tel_data_free(groups);
		free(walk.view);
		return -ENOMEM;
	}
	walk.data = groups;
	rte_tel_data_start_dict(data);
	rte_tel_data_start_dict(groups);
	rte_tel_data_add_dict_string(data, "querier",
				     igmp_router_is_querier(d->igmp) ? "self" : "other");
	ivgmpd_tel_add_addr(data, "lan_address", d->conf->lan_addr);
	for (int id = 0; id < IGMP_CTR_MAX; id++)
		rte_tel_data_add_dict_u64(data, igmp_counter_name((enum igmp_counter)id),
					  igmp_router_counter(d->igmp, (enum igmp_counter)id));
	for (int v = 1; v < IGMP_VERDICT_MAX; v++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", igmp_verdict_name((enum igmp_verdict)v));
		rte_tel_data_add_dict_u64(data, name, d->igmp_drops[v]);
	}
	igmp_router_foreach_group(d->igmp, walk_igmp_group, &walk);
	free(walk.view);
	if (ivgmpd_tel_add_container(data, "groups", groups) < 0)
		return -EINVAL;
	return walk.error;
}

static bool
walk_group(void *arg, const struct group_view *view)
{
	struct telemetry_walk *walk = arg;
	struct rte_tel_data *one = rte_tel_data_alloc();
	char key[INET_ADDRSTRLEN];

	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	group_view_fill(walk->d, view, one);
	ivgmpd_tel_addr_key(key, sizeof(key), view->group);
	ivgmpd_tel_add_entry(walk->data, key, one);
	return true;
}

int
ivgmpd_telemetry_groups(struct ivgmpd *d, const char *params __rte_unused,
			struct rte_tel_data *data)
{
	struct telemetry_walk walk = { .d = d, .data = data };

	rte_tel_data_start_dict(data);
	group_manager_foreach(d->groups, walk_group, &walk);
	return walk.error;
}

static bool
walk_source(void *arg, const struct group_source_view *view)
{
	struct telemetry_walk *walk = arg;
	struct rte_tel_data *one;
	char key[2 * INET_ADDRSTRLEN + 4], s[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (walk->group != 0 && view->group != walk->group)
		return true;
	one = rte_tel_data_alloc();
	if (one == NULL) {
		walk->error = -ENOMEM;
		return false;
	}
	rte_tel_data_start_dict(one);
	source_fill(walk->d, view, one);
	ivgmpd_tel_addr_key(s, sizeof(s), view->source);
	ivgmpd_tel_addr_key(g, sizeof(g), view->group);
	/* One group's sources are keyed by source alone. */
	if (walk->group != 0)
		snprintf(key, sizeof(key), "%s", s);
	else
		snprintf(key, sizeof(key), "%s_%s", s, g);
	ivgmpd_tel_add_entry(walk->data, key, one);
	return true;
}

int
ivgmpd_telemetry_sources(struct ivgmpd *d, const char *params __rte_unused,
			 struct rte_tel_data *data)
{
	struct telemetry_walk walk = { .d = d, .data = data };

	rte_tel_data_start_dict(data);
	group_manager_foreach_source(d->groups, walk_source, &walk);
	return walk.error;
}

static bool
find_group(void *arg, const struct group_view *view)
{
	struct telemetry_walk *walk = arg;

	if (view->group != walk->group)
		return true;
	walk->group_view = *view;
	walk->found = true;
	return false;
}

static const char *
filter_name(enum fwd_filter filter)
{
	static const char *const names[] = {
		[FWD_FILTER_NONE] = "none", [FWD_FILTER_ALL] = "all",
		[FWD_FILTER_INCLUDE] = "include", [FWD_FILTER_EXCLUDE] = "exclude",
	};

	return filter < RTE_DIM(names) ? names[filter] : "?";
}

/* The sites the current snapshot sends the group to, configured or the
 * VNOC's. None when the group is inside a scope boundary: the workers never
 * send it, whatever a list says. */
static int
remote_sites_fill(const struct ivgmpd *d, const struct fwd_group *g, bool scoped,
		  struct rte_tel_data *sites)
{
	struct ivgmpd_site_ref site;

	for (uint16_t i = 0; g && !scoped && i < g->n_sites; i++) {
		struct rte_tel_data *one;
		char key[CONF_NAME_MAX + 8];

		if (!ivgmpd_site_at(d, g->sites[i], &site))
			continue;
		one = ivgmpd_telemetry_site_dict(d, &site);
		if (one == NULL)
			return -ENOMEM;
		ivgmpd_site_key(d, &site, key, sizeof(key));
		ivgmpd_tel_add_entry(sites, key, one);
	}
	return 0;
}

/* A dict added to data under key, to be filled after: DPDK renders it when
 * the command returns. NULL when out of memory. */
static struct rte_tel_data *
child_dict(struct rte_tel_data *data, const char *key)
{
	struct rte_tel_data *child = rte_tel_data_alloc();

	if (child == NULL)
		return NULL;
	/* DPDK checks the type of a container when it is added. */
	rte_tel_data_start_dict(child);
	return ivgmpd_tel_add_container(data, key, child) == 0 ? child : NULL;
}

/* The role the group manager wants, and the VNOC client's side of it. */
static void
group_vpn_fill(const struct ivgmpd *d, uint32_t group, struct rte_tel_data *vpn)
{
	struct telemetry_walk walk = { .d = d, .group = group };

	group_manager_foreach(d->groups, find_group, &walk);
	if (!walk.found)
		walk.group_view = (struct group_view){ .group = group };
	group_view_fill(d, &walk.group_view, vpn);
	ivgmpd_telemetry_vnoc_group(d, group, vpn);
}

/* A bad parameter is answered with an "error" entry: DPDK turns a negative
 * return into a bare null, which tells the operator nothing. */
int
ivgmpd_telemetry_group(struct ivgmpd *d, const char *params, struct rte_tel_data *data)
{
	struct telemetry_walk walk = { .d = d };
	struct rte_tel_data *igmp, *vpn, *sites;
	const struct fwd_group *g;
	bool scoped;

	rte_tel_data_start_dict(data);
	if (ivgmpd_tel_parse_group(params, &walk.group) < 0) {
		rte_tel_data_add_dict_string(data, "error", GROUP_USAGE);
		return 0;
	}
	g = d->fwd.current ? fwd_group_lookup(d->fwd.current, walk.group) : NULL;
	scoped = ivgmpd_group_is_scoped(d, walk.group);
	ivgmpd_tel_add_addr(data, "group", walk.group);
	rte_tel_data_add_dict_u64(data, "scope_boundary", scoped);
	rte_tel_data_add_dict_string(data, "lan_delivery",
				     filter_name(g ? g->filter : FWD_FILTER_NONE));
	rte_tel_data_add_dict_string(data, "sa_mode", IVGMPD_SA_MODE);

	walk.view = igmp_view_alloc();
	igmp = walk.view ? igmp_group_dict(d, walk.group, walk.view) : NULL;
	/* Only a group without state has compatibility mode 0. */
	rte_tel_data_add_dict_u64(data, "lan_members",
				  walk.view && walk.view->compat_version != 0);
	free(walk.view);
	if (igmp == NULL || ivgmpd_tel_add_container(data, "igmp", igmp) < 0)
		return -ENOMEM;
	vpn = child_dict(data, "vpn");
	if (vpn == NULL)
		return -ENOMEM;
	group_vpn_fill(d, walk.group, vpn);
	walk.data = child_dict(data, "local_sources");
	if (walk.data == NULL)
		return -ENOMEM;
	group_manager_foreach_source(d->groups, walk_source, &walk);
	sites = child_dict(data, "remote_sites");
	if (sites == NULL)
		return -ENOMEM;
	return walk.error < 0 ? walk.error : remote_sites_fill(d, g, scoped, sites);
}
