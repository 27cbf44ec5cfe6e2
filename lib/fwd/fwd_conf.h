/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_FWD_CONF_H
#define IVGMP_FWD_CONF_H

/*
 * fwd_conf: the configured part of a forwarding snapshot.
 *
 * Turns a loaded configuration (lib/conf) into its SAs and into the sites,
 * inbound SPIs, scope boundaries and groups of a fwd_spec, as ivgmpd does at
 * start. ivgmpd adds what IGMP, announcements and the VNOC say on top;
 * ivgmp-bench builds its snapshot from the configuration alone
 * (fwd_conf_state_create), so both run the same state for the same file.
 */

#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "conf/conf.h"
#include "fwd.h"

/* One SA per conf->sas[i] into sas[i], keys expanded with mb. *n_sas counts
 * those allocated, also on failure, for fwd_conf_sas_free. 0 or -1. */
int fwd_conf_sas_create(const struct conf *conf, IMB_MGR *mb, struct esp_sa **sas,
			uint16_t *n_sas);
void fwd_conf_sas_free(struct esp_sa **sas, uint16_t n_sas);

/* conf->n_sites entries of sites, outbound SAs from sas. */
void fwd_conf_sites_fill(const struct conf *conf, struct esp_sa *const *sas,
			 struct fwd_site *sites);
/* The inbound SAs (up to conf->n_sas entries); returns how many. */
uint32_t fwd_conf_inbound_fill(const struct conf *conf, struct esp_sa *const *sas,
			       struct fwd_inbound_spec *inbound);
/* conf->n_boundaries entries. */
void fwd_conf_boundaries_fill(const struct conf *conf, struct fwd_boundary *boundaries);
/* Where one configured group goes, whether the LAN receives it and its
 * group SA (from sas, as fwd_conf_sas_create made them; NULL: pairwise);
 * spec points into group afterwards. */
void fwd_conf_group_fill(const struct conf_group *group, struct esp_sa *const *sas,
			 struct fwd_group_spec *spec);

/* The snapshot of a configuration alone (static sites, no IGMP, no VNOC). */
struct fwd_state *fwd_conf_state_create(const struct conf *conf, struct esp_sa *const *sas);

#endif
