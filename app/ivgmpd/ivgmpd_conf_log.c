/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration as ivgmpd understood it: one INFO line, and at DEBUG
 * (--log-level=ivgmp.conf:debug) every site, SA, group and boundary, so
 * that an operator checks what a file meant without reading the code. Keys
 * are never logged.
 */
#include <arpa/inet.h>

#include "ivgmpd.h"

static const char *
addr_text(uint32_t addr, char *text)
{
	return inet_ntop(AF_INET, &addr, text, INET_ADDRSTRLEN);
}

static void
sites_log(const struct conf *conf)
{
	char a[INET_ADDRSTRLEN];

	for (uint16_t i = 0; i < conf->n_sites; i++) {
		const struct conf_site *s = &conf->sites[i];

		IVGMP_LOG(DEBUG, conf, "site %s: WAN %s, %s, outbound SA %s", s->name,
			  addr_text(s->wan_addr, a), s->udp_encap ? "ESP in UDP" : "ESP",
			  s->sa_out >= 0 ? "yes" : "none");
	}
	for (uint16_t i = 0; i < conf->n_sas; i++) {
		const struct conf_sa *sa = &conf->sas[i];

		IVGMP_LOG(DEBUG, conf, "SA %s %s %s: spi 0x%08x %s%s", sa->inbound ? "in" : "out",
			  sa->inbound ? "from" : "to", conf->sites[sa->site].name, sa->params.spi,
			  esp_aead_name(sa->params.aead), sa->params.esn ? " esn" : "");
	}
}

static void
groups_log(const struct conf *conf)
{
	char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];

	for (uint32_t i = 0; i < conf->n_groups; i++) {
		const struct conf_group *g = &conf->groups[i];

		IVGMP_LOG(DEBUG, conf, "group %s: %s, sent to %u site(s)",
			  addr_text(g->group, a), g->receive ? "received" : "not received",
			  g->n_send_to);
	}
	for (uint16_t i = 0; i < conf->n_pinned; i++)
		IVGMP_LOG(DEBUG, conf, "group %s: pinned (answered as a host)",
			  addr_text(conf->pinned[i], a));
	for (uint16_t i = 0; i < conf->n_boundaries; i++)
		IVGMP_LOG(DEBUG, conf, "scope boundary %s mask %s",
			  addr_text(conf->boundaries[i].addr, a),
			  addr_text(conf->boundaries[i].mask, m));
	for (uint16_t i = 0; i < conf->n_vnoc_urls; i++)
		IVGMP_LOG(DEBUG, conf, "VNOC URL %u: %s", i + 1, conf->vnoc_urls[i]);
}

/*
 * A static outbound SA starts at sequence number 1 on every start, and the
 * sequence number is the AES-GCM IV: the same key and salt in the next run
 * repeat nonces (RFC 4106 8.1). Only a VNOC, which gives a restarted site
 * new SAs, makes restarts safe. Said at INFO, beside the configuration
 * summary: labs and tests run with static keys on purpose, and a warning
 * on every start would teach operators to ignore warnings.
 */
static void
static_keys_warn(const struct conf *conf)
{
	uint16_t n_out = 0;

	for (uint16_t i = 0; i < conf->n_sas; i++)
		n_out += !conf->sas[i].inbound;
	if (n_out > 0)
		IVGMP_LOG(INFO, conf, "%u static outbound SA(s): their sequence numbers "
			  "restart at 1, so give them new keys before every start of ivgmpd "
			  "(doc/configuration.rst)", n_out);
}

void
ivgmpd_conf_log(const struct conf *conf, const char *path)
{
	char wan[INET_ADDRSTRLEN], lan[INET_ADDRSTRLEN];

	IVGMP_LOG(INFO, conf, "configuration %s: site '%s', WAN %s, LAN %s, %u site(s), "
		  "%u SA(s), %u group(s), %s", path, conf->site_id, addr_text(conf->wan_addr, wan),
		  addr_text(conf->lan_addr, lan), conf->n_sites, conf->n_sas, conf->n_groups,
		  conf->n_vnoc_urls ? "VNOC" : "static");
	sites_log(conf);
	groups_log(conf);
	static_keys_warn(conf);
}
