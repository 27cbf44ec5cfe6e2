/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* A power of two at least twice n, so probes stay short and always end. */
static uint32_t
table_size(uint32_t n)
{
	uint32_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	return size;
}

static int
groups_fill(struct fwd_state *state, const struct fwd_spec *spec)
{
	uint16_t *next = state->site_lists;
	uint32_t *next_source = state->source_lists;

	for (uint32_t i = 0; i < spec->n_groups; i++) {
		const struct fwd_group_spec *gs = &spec->groups[i];
		uint32_t slot = fwd_hash32(gs->group);
		struct fwd_group *g;

		if (gs->group == 0)
			return -1;
		for (;; slot++) {
			g = &state->groups[slot & state->group_mask];
			if (g->group == gs->group)
				return -1;
			if (g->group == 0)
				break;
		}
		for (uint16_t j = 0; j < gs->n_sites; j++)
			if (gs->sites[j] >= spec->n_sites ||
			    (gs->sa_out == NULL && spec->sites[gs->sites[j]].sa_out == NULL))
				return -1;
		if (gs->n_sites)
			memcpy(next, gs->sites, gs->n_sites * sizeof(*next));
		if (gs->n_filter_sources)
			memcpy(next_source, gs->filter_sources,
			       gs->n_filter_sources * sizeof(*next_source));
		g->group = gs->group;
		g->filter = gs->filter;
		g->n_sites = gs->n_sites;
		g->sites = next;
		g->n_filter_sources = gs->n_filter_sources;
		g->filter_sources = next_source;
		if (gs->sa_out != NULL) {
			state->group_sas[state->n_group_sas++] = gs->sa_out;
			g->group_sa = state->n_group_sas;
		}
		next += gs->n_sites;
		next_source += gs->n_filter_sources;
	}
	return 0;
}

static int
spis_fill(struct fwd_state *state, const struct fwd_spec *spec)
{
	for (uint32_t i = 0; i < spec->n_inbound; i++) {
		const struct fwd_inbound_spec *in = &spec->inbound[i];
		uint32_t slot = fwd_hash32(in->sa->spi);
		struct fwd_spi_slot *s;

		if (in->sa->spi == 0 || (in->site >= spec->n_sites && in->site != FWD_SITE_NONE))
			return -1;
		for (;; slot++) {
			s = &state->spis[slot & state->spi_mask];
			if (s->spi == in->sa->spi)
				return -1;
			if (s->spi == 0)
				break;
		}
		s->spi = in->sa->spi;
		s->site = in->site;
		s->sa = in->sa;
	}
	return 0;
}

struct fwd_state *
fwd_state_create(const struct fwd_spec *spec)
{
	struct fwd_state *state = calloc(1, sizeof(*state));
	uint32_t n_groups = table_size(spec->n_groups);
	uint32_t n_spis = table_size(spec->n_inbound);
	size_t n_list = 0, n_source_list = 0, n_group_sas = 0;

	if (state == NULL)
		return NULL;
	if (spec->n_boundaries > FWD_MAX_BOUNDARIES) {
		free(state);
		return NULL;
	}
	for (uint32_t i = 0; i < spec->n_groups; i++) {
		n_list += spec->groups[i].n_sites;
		n_source_list += spec->groups[i].n_filter_sources;
		n_group_sas += spec->groups[i].sa_out != NULL;
	}
	state->n_boundaries = spec->n_boundaries;
	if (spec->n_boundaries)
		memcpy(state->boundaries, spec->boundaries,
		       spec->n_boundaries * sizeof(*state->boundaries));
	state->wan_addr = spec->wan_addr;
	state->outer_ttl = spec->outer_ttl;
	state->outer_df = spec->outer_df;
	state->wan_mtu = spec->wan_mtu;
	state->n_sites = spec->n_sites;
	state->group_mask = n_groups - 1;
	state->spi_mask = n_spis - 1;
	state->sites = calloc(spec->n_sites ? spec->n_sites : 1, sizeof(*state->sites));
	state->groups = calloc(n_groups, sizeof(*state->groups));
	state->spis = calloc(n_spis, sizeof(*state->spis));
	state->site_lists = calloc(n_list ? n_list : 1, sizeof(*state->site_lists));
	state->source_lists = calloc(n_source_list ? n_source_list : 1,
				     sizeof(*state->source_lists));
	state->group_sas = calloc(n_group_sas ? n_group_sas : 1, sizeof(*state->group_sas));
	if (!state->sites || !state->groups || !state->spis || !state->site_lists ||
	    !state->source_lists || !state->group_sas)
		goto fail;
	if (spec->n_sites)
		memcpy(state->sites, spec->sites, spec->n_sites * sizeof(*state->sites));
	if (groups_fill(state, spec) < 0 || spis_fill(state, spec) < 0)
		goto fail;
	return state;
fail:
	fwd_state_free(state);
	return NULL;
}

void
fwd_state_free(struct fwd_state *state)
{
	if (state == NULL)
		return;
	free(state->sites);
	free(state->groups);
	free(state->spis);
	free(state->site_lists);
	free(state->source_lists);
	free(state->group_sas);
	free(state);
}
