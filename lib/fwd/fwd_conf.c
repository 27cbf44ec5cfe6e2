/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration -> SAs and the configured part of a forwarding snapshot. */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "fwd_conf.h"

int
fwd_conf_sas_create(const struct conf *conf, IMB_MGR *mb, struct esp_sa **sas,
		    uint16_t *n_sas)
{
	*n_sas = 0;
	for (uint16_t i = 0; i < conf->n_sas; i++) {
		struct esp_sa *sa = rte_zmalloc("esp_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);

		if (sa == NULL)
			return -1;
		sas[i] = sa;
		*n_sas = i + 1;
		if (esp_sa_init(sa, &conf->sas[i].params, mb) < 0)
			return -1;
	}
	return 0;
}

void
fwd_conf_sas_free(struct esp_sa **sas, uint16_t n_sas)
{
	for (uint16_t i = 0; i < n_sas; i++)
		rte_free(sas[i]);
}

void
fwd_conf_sites_fill(const struct conf *conf, struct esp_sa *const *sas, struct fwd_site *sites)
{
	for (uint16_t i = 0; i < conf->n_sites; i++) {
		const struct conf_site *cs = &conf->sites[i];

		memset(&sites[i], 0, sizeof(sites[i]));
		sites[i].wan_addr = cs->wan_addr;
		memcpy(sites[i].dst_mac, cs->has_mac ? cs->mac : conf->nexthop_mac, 6);
		sites[i].udp_encap = cs->udp_encap;
		sites[i].sa_out = cs->sa_out >= 0 ? sas[cs->sa_out] : NULL;
	}
}

uint32_t
fwd_conf_inbound_fill(const struct conf *conf, struct esp_sa *const *sas,
		      struct fwd_inbound_spec *inbound)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < conf->n_sas; i++) {
		if (!conf->sas[i].inbound)
			continue;
		inbound[n].sa = sas[i];
		inbound[n].site = conf->sas[i].site;
		n++;
	}
	return n;
}

void
fwd_conf_boundaries_fill(const struct conf *conf, struct fwd_boundary *boundaries)
{
	for (uint16_t i = 0; i < conf->n_boundaries; i++) {
		boundaries[i].addr = conf->boundaries[i].addr;
		boundaries[i].mask = conf->boundaries[i].mask;
	}
}

void
fwd_conf_group_fill(const struct conf_group *group, struct esp_sa *const *sas,
		    struct fwd_group_spec *spec)
{
	spec->n_sites = group->n_send_to;
	spec->sites = group->send_to;
	spec->filter = group->receive ? FWD_FILTER_ALL : FWD_FILTER_NONE;
	spec->sa_out = group->has_group_sa ? sas[group->group_sa] : NULL;
}

struct fwd_state *
fwd_conf_state_create(const struct conf *conf, struct esp_sa *const *sas)
{
	struct fwd_site *sites = calloc(conf->n_sites + 1, sizeof(*sites));
	struct fwd_inbound_spec *inbound = calloc(conf->n_sas + 1, sizeof(*inbound));
	struct fwd_group_spec *groups = calloc(conf->n_groups + 1, sizeof(*groups));
	struct fwd_boundary boundaries[CONF_MAX_BOUNDARIES];
	struct fwd_spec spec = {
		.wan_addr = conf->wan_addr,
		.outer_ttl = conf->outer_ttl,
		.outer_df = (enum fwd_df)conf->outer_df,
		.wan_mtu = conf->wan_mtu,
		.n_sites = conf->n_sites,
		.sites = sites,
		.n_groups = conf->n_groups,
		.groups = groups,
		.inbound = inbound,
		.n_boundaries = conf->n_boundaries,
		.boundaries = boundaries,
	};
	struct fwd_state *state = NULL;

	if (sites != NULL && inbound != NULL && groups != NULL) {
		fwd_conf_sites_fill(conf, sas, sites);
		spec.n_inbound = fwd_conf_inbound_fill(conf, sas, inbound);
		fwd_conf_boundaries_fill(conf, boundaries);
		for (uint32_t i = 0; i < conf->n_groups; i++) {
			groups[i].group = conf->groups[i].group;
			fwd_conf_group_fill(&conf->groups[i], sas, &groups[i]);
		}
		state = fwd_state_create(&spec);
	}
	free(sites);
	free(inbound);
	free(groups);
	return state;
}
