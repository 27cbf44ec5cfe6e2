/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding snapshot is the union of three sources:
 *   - the configuration: where each group is sent (until the VNOC says so),
 *     and groups delivered on the LAN whatever the LAN says;
 *   - IGMP: which groups the LAN wants, from which sources (RFC 3376 6.3);
 *   - announcements: groups a host announced it receives.
 * The configured part (SAs, sites, inbound SPIs, boundaries, groups) is
 * lib/fwd's fwd_conf.h, which ivgmp-bench uses too.
 */
#include <stdlib.h>
#include <string.h>

#include "ivgmpd.h"

/* The groups of a snapshot being built, and the storage behind them. */
struct state_groups {
	struct fwd_group_spec *specs;
	uint32_t n, cap;
	uint32_t *sources;            /* filter source lists, back to back */
	uint32_t n_sources, cap_sources;
	struct igmp_group_view *view; /* scratch for one IGMP group */
	uint16_t view_cap;
	struct ivgmpd *d;
	bool failed;
	uint16_t *merged_sites;       /* site lists of groups both sources name */
	uint32_t n_merged, cap_merged;
};

static struct fwd_group_spec *
state_group_get(struct state_groups *sg, uint32_t group)
{
	for (uint32_t i = 0; i < sg->n; i++)
		if (sg->specs[i].group == group)
			return &sg->specs[i];
	if (sg->n == sg->cap) {
		uint32_t cap = sg->cap ? 2 * sg->cap : 64;
		struct fwd_group_spec *specs = realloc(sg->specs, cap * sizeof(*specs));

		if (specs == NULL) {
			sg->failed = true;
			return NULL;
		}
		sg->specs = specs;
		sg->cap = cap;
	}
	memset(&sg->specs[sg->n], 0, sizeof(sg->specs[0]));
	sg->specs[sg->n].group = group;
	return &sg->specs[sg->n++];
}

/* RFC 3376 6.3: INCLUDE forwards the sources with running timers; EXCLUDE
 * forwards everything but the sources whose timers ran out. Offsets into
 * sg->sources are kept until the end, as the array may move. */
static bool
state_group_add_igmp(void *arg, uint32_t group)
{
	struct state_groups *sg = arg;
	struct igmp_group_view *view = sg->view;
	struct fwd_group_spec *spec;
	enum fwd_filter filter;

	if (!igmp_router_group_view(sg->d->igmp, group, sg->d->now_ms, view, sg->view_cap))
		return true;
	spec = state_group_get(sg, group);
	if (spec == NULL)
		return false;
	if (spec->filter == FWD_FILTER_ALL)
		return true;
	filter = view->mode == IGMP_FILTER_INCLUDE ? FWD_FILTER_INCLUDE : FWD_FILTER_EXCLUDE;
	if (sg->n_sources + view->n_sources > sg->cap_sources) {
		uint32_t cap = 2 * (sg->n_sources + view->n_sources) + 64;
		uint32_t *sources = realloc(sg->sources, cap * sizeof(*sources));

		if (sources == NULL) {
			sg->failed = true;
			return false;
		}
		sg->sources = sources;
		sg->cap_sources = cap;
	}
	spec->filter = filter;
	spec->filter_sources = (const uint32_t *)(uintptr_t)sg->n_sources;
	for (uint16_t i = 0; i < view->n_sources; i++) {
		bool running = view->sources[i].timer_ms > 0;

		if (running == (filter == FWD_FILTER_INCLUDE))
			sg->sources[sg->n_sources++] = view->sources[i].addr;
	}
	spec->n_filter_sources = (uint16_t)(sg->n_sources - (uint32_t)(uintptr_t)spec->filter_sources);
	return true;
}

static bool
state_group_add_announced(void *arg, const struct group_view *view)
{
	struct state_groups *sg = arg;
	struct fwd_group_spec *spec;

	if (view->announce_expiry_ms[0] == 0)
		return true;
	spec = state_group_get(sg, view->group);
	if (spec == NULL)
		return false;
	spec->filter = FWD_FILTER_ALL;
	spec->n_filter_sources = 0;
	return true;
}

static void
state_groups_from_conf(struct state_groups *sg, const struct conf *conf)
{
	for (uint32_t i = 0; i < conf->n_groups && !sg->failed; i++) {
		struct fwd_group_spec *spec = state_group_get(sg, conf->groups[i].group);

		if (spec == NULL)
			return;
		fwd_conf_group_fill(&conf->groups[i], sg->d->sas, spec);
	}
}

/* Sites the VNOC told of come after the configured ones. */
static void
vnoc_sites_fill(const struct ivgmpd *d, struct fwd_site *sites)
{
	for (uint16_t i = 0; i < d->vnoc.n_peers; i++) {
		const struct ivgmpd_vnoc_peer *p = &d->vnoc.peers[i];

		memset(&sites[i], 0, sizeof(sites[i]));
		sites[i].wan_addr = p->wan_addr;
		memcpy(sites[i].dst_mac, d->conf->nexthop_mac, 6);
		sites[i].udp_encap = p->udp_encap;
		sites[i].sa_out = p->sa_out;
	}
}

static uint32_t
vnoc_inbound_fill(const struct ivgmpd *d, struct fwd_inbound_spec *inbound)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->vnoc.n_sas; i++) {
		const struct ivgmpd_vnoc_sa *s = &d->vnoc.sas[i];

		if (!s->inbound)
			continue;
		/* The site index is informative only: an SA whose sender is no
		 * peer any more (one lingering after its view) still decrypts. */
		inbound[n].sa = s->sa;
		inbound[n].site = FWD_SITE_NONE;
		for (uint16_t p = 0; p < d->vnoc.n_peers; p++)
			if (strcmp(d->vnoc.peers[p].name, s->peer) == 0)
				inbound[n].site = (uint16_t)(d->conf->n_sites + p);
		n++;
	}
	return n;
}

/* The VNOC's groups: their remote receivers join the configured ones, if any. */
static void
state_groups_from_vnoc(struct state_groups *sg, const struct ivgmpd *d)
{
	uint32_t need = 0;

	for (uint32_t i = 0; i < d->vnoc.n_groups; i++)
		need += d->vnoc.groups[i].n_sites + CONF_MAX_SITES;
	sg->merged_sites = calloc(need ? need : 1, sizeof(*sg->merged_sites));
	if (sg->merged_sites == NULL) {
		sg->failed = true;
		return;
	}
	for (uint32_t i = 0; i < d->vnoc.n_groups && !sg->failed; i++) {
		const struct ivgmpd_vnoc_group *vg = &d->vnoc.groups[i];
		struct fwd_group_spec *spec;
		uint16_t *list = sg->merged_sites + sg->n_merged;
		uint16_t n = 0;

		if (vg->n_sites == 0)
			continue;
		spec = state_group_get(sg, vg->group);
		if (spec == NULL)
			return;
		/* One SA for the whole group: the sites the configuration adds
		 * do not hold it, so the VNOC's group has it alone. */
		if (vg->sa_out != NULL) {
			spec->n_sites = 0;
			spec->sa_out = vg->sa_out;
		}
		for (uint16_t j = 0; j < spec->n_sites; j++)
			list[n++] = spec->sites[j];
		for (uint16_t j = 0; j < vg->n_sites; j++)
			list[n++] = (uint16_t)(d->conf->n_sites + vg->sites[j]);
		spec->sites = list;
		spec->n_sites = n;
		sg->n_merged += n;
	}
}

int
ivgmpd_state_publish(struct ivgmpd *d)
{
	const struct conf *conf = d->conf;
	struct fwd_site sites[CONF_MAX_SITES + IVGMPD_MAX_PEERS];
	struct fwd_inbound_spec *inbound = calloc(CONF_MAX_SAS + d->vnoc.n_sas, sizeof(*inbound));
	struct fwd_boundary boundaries[CONF_MAX_BOUNDARIES];
	struct state_groups sg = { .d = d, .view_cap = UINT16_MAX };
	struct fwd_spec spec = {
		.wan_addr = conf->wan_addr,
		.outer_ttl = conf->outer_ttl,
		.outer_df = (enum fwd_df)conf->outer_df,
		.wan_mtu = conf->wan_mtu,
		.n_sites = (uint16_t)(conf->n_sites + d->vnoc.n_peers),
		.sites = sites,
		.inbound = inbound,
		.n_boundaries = conf->n_boundaries,
		.boundaries = boundaries,
	};
	struct fwd_state *state = NULL;

	fwd_conf_sites_fill(conf, d->sas, sites);
	if (inbound == NULL)
		return -1;
	vnoc_sites_fill(d, sites + conf->n_sites);
	spec.n_inbound = fwd_conf_inbound_fill(conf, d->sas, inbound);
	spec.n_inbound += vnoc_inbound_fill(d, inbound + spec.n_inbound);
	fwd_conf_boundaries_fill(conf, boundaries);

	sg.view = malloc(sizeof(*sg.view) + UINT16_MAX * sizeof(sg.view->sources[0]));
	if (sg.view == NULL) {
		free(inbound);
		return -1;
	}
	state_groups_from_conf(&sg, conf);
	state_groups_from_vnoc(&sg, d);
	if (d->groups)
		group_manager_foreach(d->groups, state_group_add_announced, &sg);
	if (d->igmp)
		igmp_router_foreach_group(d->igmp, state_group_add_igmp, &sg);
	if (!sg.failed) {
		/* Offsets become pointers now that the source array stays put. */
		for (uint32_t i = 0; i < sg.n; i++)
			if (sg.specs[i].filter == FWD_FILTER_INCLUDE ||
			    sg.specs[i].filter == FWD_FILTER_EXCLUDE)
				sg.specs[i].filter_sources =
					sg.sources + (uintptr_t)sg.specs[i].filter_sources;
		spec.n_groups = sg.n;
		spec.groups = sg.specs;
		state = fwd_state_create(&spec);
	}
	free(sg.specs);
	free(sg.sources);
	free(sg.view);
	free(sg.merged_sites);
	free(inbound);
	if (state == NULL)
		return -1;
	fwd_publish(&d->fwd, state);
	return 0;
}

int
ivgmpd_state_build(struct ivgmpd *d)
{
	if (fwd_conf_sas_create(d->conf, d->mb, d->sas, &d->n_sas) < 0)
		return -1;
	return ivgmpd_state_publish(d);
}

void
ivgmpd_state_free(struct ivgmpd *d)
{
	fwd_state_free(d->fwd.current);
	d->fwd.current = NULL;
	ivgmpd_vnoc_view_free(d);
	fwd_conf_sas_free(d->sas, d->n_sas);
	d->n_sas = 0;
}
