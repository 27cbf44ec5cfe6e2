/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /ivgmp/ telemetry commands: one table, one dispatcher that takes the
 * management lock around every command, and the helpers the commands share.
 * What each command answers is in doc/telemetry.rst.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkt/pkt.h"
#include "ivgmpd_telemetry.h"

struct telemetry_command {
	const char *name;
	ivgmpd_telemetry_fn fn;
	const char *help;
};

static const struct telemetry_command commands[] = {
	{ "/ivgmp/info", ivgmpd_telemetry_info,
	  "Version, site, ports, lcores, uptime, configuration file, VNOC. No parameters" },
	{ "/ivgmp/stats", ivgmpd_telemetry_stats,
	  "Data path counters summed over workers, per port, and drops by reason. No parameters" },
	{ "/ivgmp/sa", ivgmpd_telemetry_sa,
	  "Security associations and their counters (no keys). No parameters" },
	{ "/ivgmp/sites", ivgmpd_telemetry_sites,
	  "Remote sites: address, encapsulation, origin, outbound SPI, groups sent, packets. "
	  "No parameters" },
	{ "/ivgmp/igmp", ivgmpd_telemetry_igmp,
	  "IGMP querier, counters and per-group state. No parameters" },
	{ "/ivgmp/groups", ivgmpd_telemetry_groups,
	  "Desired VPN role per group and its inputs. No parameters" },
	{ "/ivgmp/group", ivgmpd_telemetry_group,
	  "One group: IGMP state, local sources, VPN role, remote sites, SA mode. "
	  "Parameters: IPv4 group address" },
	{ "/ivgmp/sources", ivgmpd_telemetry_sources,
	  "LAN sources discovered from traffic. No parameters" },
	{ "/ivgmp/limits", ivgmpd_telemetry_limits,
	  "Every bound on state and rates: limit, in use, the counter of its hits. "
	  "No parameters" },
	{ "/ivgmp/vnoc", ivgmpd_telemetry_vnoc,
	  "VNOC client: state, URL, last error, requests in flight, per-group roles. "
	  "No parameters" },
};

/* The telemetry callbacks have no argument of their own to carry the daemon. */
static struct ivgmpd *telemetry_daemon;

static int
telemetry_dispatch(const char *cmd, const char *params, struct rte_tel_data *data)
{
	struct ivgmpd *d = telemetry_daemon;
	int ret = -ENOENT;

	IVGMP_LOG(DEBUG, telemetry, "telemetry: %s%s%s", cmd, params ? "," : "",
		  params ? params : "");
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < RTE_DIM(commands); i++) {
		if (strcmp(commands[i].name, cmd) != 0)
			continue;
		ret = d->telemetry_closed ? -ENODEV : commands[i].fn(d, params, data);
		break;
	}
	pthread_mutex_unlock(&d->lock);
	if (ret < 0)
		IVGMP_LOG(DEBUG, telemetry, "telemetry: %s: %s", cmd, strerror(-ret));
	return ret;
}

int
ivgmpd_telemetry_register(struct ivgmpd *d)
{
	telemetry_daemon = d;
	for (size_t i = 0; i < RTE_DIM(commands); i++)
		if (rte_telemetry_register_cmd(commands[i].name, telemetry_dispatch,
					       commands[i].help) < 0) {
			IVGMP_LOG(WARNING, telemetry, "telemetry command %s not registered",
				  commands[i].name);
			return -1;
		}
	return 0;
}

/* DPDK cannot unregister a command: from here on they answer null, as the
 * state they read is about to be freed. */
void
ivgmpd_telemetry_close(struct ivgmpd *d)
{
	pthread_mutex_lock(&d->lock);
	d->telemetry_closed = true;
	pthread_mutex_unlock(&d->lock);
}

int
ivgmpd_tel_add_container(struct rte_tel_data *into, const char *key, struct rte_tel_data *one)
{
	if (rte_tel_data_add_dict_container(into, key, one, 0) == 0)
		return 0;
	rte_tel_data_free(one);
	return -EINVAL;
}

void
ivgmpd_tel_add_entry(struct rte_tel_data *table, const char *key, struct rte_tel_data *one)
{
	ivgmpd_tel_add_container(table, key, one);
}

void
ivgmpd_tel_add_addr(struct rte_tel_data *data, const char *key, uint32_t addr)
{
	char text[INET_ADDRSTRLEN];

	rte_tel_data_add_dict_string(data, key, inet_ntop(AF_INET, &addr, text, sizeof(text)));
}

void
ivgmpd_tel_name_key(char *key, size_t len, const char *name)
{
	snprintf(key, len, "%s", name);
	for (char *c = key; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			*c = '_';
}

void
ivgmpd_tel_addr_key(char *key, size_t len, uint32_t addr)
{
	char text[INET_ADDRSTRLEN];

	ivgmpd_tel_name_key(key, len, inet_ntop(AF_INET, &addr, text, sizeof(text)));
}

void
ivgmpd_tel_spi_text(char *text, size_t len, uint32_t spi)
{
	snprintf(text, len, "0x%08x", spi);
}

int
ivgmpd_tel_parse_group(const char *params, uint32_t *group)
{
	struct in_addr addr;

	if (params == NULL || inet_pton(AF_INET, params, &addr) != 1 ||
	    !pkt_ipv4_is_multicast(addr.s_addr))
		return -EINVAL;
	*group = addr.s_addr;
	return 0;
}
