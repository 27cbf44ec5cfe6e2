/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "ivgmpd.h"

static int
sas_create(struct ivgmpd *d)
{
	const struct conf *conf = d->conf;

	for (uint16_t i = 0; i < conf->n_sas; i++) {
		struct esp_sa *sa = rte_zmalloc("esp_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);

		if (sa == NULL)
			return -1;
		d->sas[i] = sa;
		d->n_sas = i + 1;
		if (esp_sa_init(sa, &conf->sas[i].params, d->mb) < 0)
			return -1;
	}
	return 0;
}

int
ivgmpd_state_build(struct ivgmpd *d)
{
	const struct conf *conf = d->conf;
	struct fwd_site sites[CONF_MAX_SITES];
	struct fwd_group_spec *groups;
	struct fwd_inbound_spec inbound[CONF_MAX_SAS];
	struct fwd_spec spec = {
		.wan_addr = conf->wan_addr,
		.outer_ttl = conf->outer_ttl,
		.outer_df = (enum fwd_df)conf->outer_df,
		.wan_mtu = conf->wan_mtu,
		.n_sites = conf->n_sites,
		.sites = sites,
		.n_groups = conf->n_groups,
		.inbound = inbound,
	};
	struct fwd_state *state;

	if (sas_create(d) < 0)
		return -1;
	for (uint16_t i = 0; i < conf->n_sites; i++) {
		const struct conf_site *cs = &conf->sites[i];

		memset(&sites[i], 0, sizeof(sites[i]));
		sites[i].wan_addr = cs->wan_addr;
		memcpy(sites[i].dst_mac, cs->has_mac ? cs->mac : conf->nexthop_mac, 6);
		sites[i].udp_encap = cs->udp_encap;
		sites[i].sa_out = cs->sa_out >= 0 ? d->sas[cs->sa_out] : NULL;
	}
	for (uint16_t i = 0; i < conf->n_sas; i++) {
		if (!conf->sas[i].inbound)
			continue;
		inbound[spec.n_inbound].sa = d->sas[i];
		inbound[spec.n_inbound].site = conf->sas[i].site;
		spec.n_inbound++;
	}
	groups = calloc(conf->n_groups ? conf->n_groups : 1, sizeof(*groups));
	if (groups == NULL)
		return -1;
	for (uint32_t i = 0; i < conf->n_groups; i++) {
		groups[i].group = conf->groups[i].group;
		groups[i].receive = conf->groups[i].receive;
		groups[i].n_sites = conf->groups[i].n_send_to;
		groups[i].sites = conf->groups[i].send_to;
	}
	spec.groups = groups;
	state = fwd_state_create(&spec);
	free(groups);
	if (state == NULL)
		return -1;
	fwd_publish(&d->fwd, state);
	return 0;
}

void
ivgmpd_state_free(struct ivgmpd *d)
{
	fwd_state_free(d->fwd.current);
	d->fwd.current = NULL;
	for (uint16_t i = 0; i < d->n_sas; i++)
		rte_free(d->sas[i]);
	d->n_sas = 0;
}
