/* SPDX-License-Identifier: BSD-3-Clause */
/* /ivgmp/sites: every remote site, configured or told by the VNOC. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ivgmpd_telemetry.h"

bool
ivgmpd_site_at(const struct ivgmpd *d, uint16_t i, struct ivgmpd_site_ref *out)
{
	const struct conf *conf = d->conf;

	if (i < conf->n_sites) {
		const struct conf_site *cs = &conf->sites[i];

		out->name = cs->name;
		out->origin = "config";
		out->wan_addr = cs->wan_addr;
		out->udp_encap = cs->udp_encap;
		out->sa_out = cs->sa_out >= 0 ? d->sas[cs->sa_out] : NULL;
		return true;
	}
	i -= conf->n_sites;
	if (i >= d->vnoc.n_peers)
		return false;
	out->name = d->vnoc.peers[i].name;
	out->origin = "vnoc";
	out->wan_addr = d->vnoc.peers[i].wan_addr;
	out->udp_encap = d->vnoc.peers[i].udp_encap;
	out->sa_out = d->vnoc.peers[i].sa_out;
	return true;
}

void
ivgmpd_site_key(const struct ivgmpd *d, const struct ivgmpd_site_ref *site, char *key,
		size_t len)
{
	char name[CONF_NAME_MAX + 8];
	bool twice = strcmp(site->origin, "vnoc") == 0 && conf_site_find(d->conf, site->name) >= 0;

	snprintf(name, sizeof(name), "%s%s", site->name, twice ? "_vnoc" : "");
	ivgmpd_tel_name_key(key, len, name);
}

/* What the site's inbound SAs of the same origin decrypted. */
static uint64_t
site_packets_in(const struct ivgmpd *d, const struct ivgmpd_site_ref *site)
{
	struct ivgmpd_sa_ref r;
	uint64_t packets = 0;

	for (uint32_t i = 0; ivgmpd_sa_at(d, i, &r); i++)
		if (r.inbound && strcmp(r.origin, site->origin) == 0 &&
		    strcmp(r.peer, site->name) == 0)
			packets += r.sa->stats.packets;
	return packets;
}

struct rte_tel_data *
ivgmpd_telemetry_site_dict(const struct ivgmpd *d, const struct ivgmpd_site_ref *site)
{
	struct rte_tel_data *one = rte_tel_data_alloc();
	char spi[16];

	if (one == NULL)
		return NULL;
	rte_tel_data_start_dict(one);
	rte_tel_data_add_dict_string(one, "name", site->name);
	rte_tel_data_add_dict_string(one, "origin", site->origin);
	ivgmpd_tel_add_addr(one, "wan_address", site->wan_addr);
	rte_tel_data_add_dict_u64(one, "udp_encap", site->udp_encap);
	if (site->sa_out) {
		ivgmpd_tel_spi_text(spi, sizeof(spi), site->sa_out->spi);
		rte_tel_data_add_dict_string(one, "sa_out_spi", spi);
		rte_tel_data_add_dict_u64(one, "sa_out_packets", esp_outb_packets(site->sa_out));
	} else {
		rte_tel_data_add_dict_string(one, "sa_out_spi", "none");
		rte_tel_data_add_dict_u64(one, "sa_out_packets", 0);
	}
	rte_tel_data_add_dict_u64(one, "sa_in_packets", site_packets_in(d, site));
	return one;
}

/* Groups the current snapshot sends to each of its sites. A group inside a
 * scope boundary is never sent, whatever its site list says. */
static void
groups_per_site(const struct ivgmpd *d, uint32_t *counts, uint16_t n_sites)
{
	const struct fwd_state *state = d->fwd.current;

	if (state == NULL)
		return;
	for (uint32_t i = 0; i <= state->group_mask; i++) {
		const struct fwd_group *g = &state->groups[i];

		if (g->group == 0 || fwd_scope_blocks(state, g->group))
			continue;
		for (uint16_t s = 0; s < g->n_sites; s++)
			if (g->sites[s] < n_sites)
				counts[g->sites[s]]++;
	}
}

int
ivgmpd_telemetry_sites(struct ivgmpd *d, const char *params __rte_unused,
		       struct rte_tel_data *data)
{
	uint32_t counts[CONF_MAX_SITES + IVGMPD_MAX_PEERS] = { 0 };
	uint16_t n_sites = (uint16_t)(d->conf->n_sites + d->vnoc.n_peers);
	struct ivgmpd_site_ref site;

	groups_per_site(d, counts, n_sites);
	rte_tel_data_start_dict(data);
	for (uint16_t i = 0; ivgmpd_site_at(d, i, &site); i++) {
		struct rte_tel_data *one = ivgmpd_telemetry_site_dict(d, &site);
		char key[CONF_NAME_MAX + 8];

		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_add_dict_u64(one, "groups", counts[i]);
		ivgmpd_site_key(d, &site, key, sizeof(key));
		ivgmpd_tel_add_entry(data, key, one);
	}
	return 0;
}
