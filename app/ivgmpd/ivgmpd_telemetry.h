/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMPD_TELEMETRY_H
#define IVGMPD_TELEMETRY_H

/*
 * What the /ivgmp/ telemetry commands share (doc/telemetry.rst). Each
 * command runs on DPDK's telemetry thread with d->lock held: ivgmpd_telemetry.c
 * takes it around every call, so a command reads the management state as the
 * main lcore left it between two steps.
 *
 * DPDK 22.11 refuses dict keys outside [A-Za-z0-9_/]: addresses and names
 * become keys with '_' for every other character (239_1_1_1), and go as
 * text in the entry itself too.
 */

#include <stdint.h>

#include <rte_telemetry.h>

#include "ivgmpd.h"

/* How SAs are keyed: one per pair of sites, the only mode built so far
 * (group SAs come with a later issue). */
#define IVGMPD_SA_MODE "pairwise"

/* A command: params is what followed the comma, NULL when nothing did. */
typedef int (*ivgmpd_telemetry_fn)(struct ivgmpd *d, const char *params,
				   struct rte_tel_data *data);

/* ivgmpd_telemetry_device.c */
int ivgmpd_telemetry_info(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
int ivgmpd_telemetry_stats(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
int ivgmpd_telemetry_sa(struct ivgmpd *d, const char *params, struct rte_tel_data *data);

/* ivgmpd_telemetry_groups.c */
int ivgmpd_telemetry_igmp(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
int ivgmpd_telemetry_groups(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
int ivgmpd_telemetry_sources(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
int ivgmpd_telemetry_group(struct ivgmpd *d, const char *params, struct rte_tel_data *data);

/* ivgmpd_telemetry_sites.c */
int ivgmpd_telemetry_sites(struct ivgmpd *d, const char *params, struct rte_tel_data *data);

/* One remote site as the forwarding snapshot numbers them: the
 * configuration's sites first, then the VNOC's (ivgmpd_state_publish). */
struct ivgmpd_site_ref {
	const char *name;
	const char *origin;             /* "config" or "vnoc" */
	uint32_t wan_addr;
	bool udp_encap;
	const struct esp_sa *sa_out;    /* NULL when none */
};
bool ivgmpd_site_at(const struct ivgmpd *d, uint16_t i, struct ivgmpd_site_ref *out);
/* The site's key: its name, "_vnoc" added when a configured site has it too. */
void ivgmpd_site_key(const struct ivgmpd *d, const struct ivgmpd_site_ref *site,
		     char *key, size_t len);
/* The site's entry: name, origin, WAN address, encapsulation, outbound SPI
 * and SA packet counters. */
struct rte_tel_data *ivgmpd_telemetry_site_dict(const struct ivgmpd *d,
						const struct ivgmpd_site_ref *site);

/* ivgmpd_telemetry_limits.c */
int ivgmpd_telemetry_limits(struct ivgmpd *d, const char *params, struct rte_tel_data *data);

/* ivgmpd_telemetry_vnoc.c */
int ivgmpd_telemetry_vnoc(struct ivgmpd *d, const char *params, struct rte_tel_data *data);
/* The VNOC client's view of one group into data (a dict): desired, granted,
 * denied, in flight. Nothing when there is no client or no state. */
void ivgmpd_telemetry_vnoc_group(const struct ivgmpd *d, uint32_t group,
				 struct rte_tel_data *data);

/* ivgmpd_telemetry.c: helpers. */
/* Add a container to a dict; on refusal free it, so that nothing leaks. */
int ivgmpd_tel_add_container(struct rte_tel_data *into, const char *key,
			     struct rte_tel_data *one);
/* One entry of a table (a group, an SA, a site): past DPDK's 256 entries the
 * rest are left out, as DPDK leaves out what passes 16 KiB, and the reply
 * still comes. */
void ivgmpd_tel_add_entry(struct rte_tel_data *table, const char *key,
			  struct rte_tel_data *one);
void ivgmpd_tel_add_addr(struct rte_tel_data *data, const char *key, uint32_t addr);
/* addr as a key: 239_1_1_1. */
void ivgmpd_tel_addr_key(char *key, size_t len, uint32_t addr);
/* Any text as a key: characters DPDK refuses become '_'. */
void ivgmpd_tel_name_key(char *key, size_t len, const char *name);
/* "0x00001002": how /ivgmp/sa keys SAs. */
void ivgmpd_tel_spi_text(char *text, size_t len, uint32_t spi);
/* A group given as a parameter: a dotted IPv4 multicast address. */
int ivgmpd_tel_parse_group(const char *params, uint32_t *group);

#endif
