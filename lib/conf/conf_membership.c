/* SPDX-License-Identifier: BSD-3-Clause */
/* Keywords of LAN membership: IGMP timers, SSM range, scope boundaries,
 * pinned groups, soft-state lifetimes, the announcement socket. */
#include <stdio.h>
#include <string.h>

#include "pkt/pkt.h"
#include "conf_private.h"

static int
parse_duration_in(struct conf_cursor *cur, const char *key, const char *s,
		  uint32_t min_ms, uint32_t max_ms, uint32_t *ms)
{
	if (conf_parse_duration(s, ms) < 0 || *ms < min_ms || *ms > max_ms)
		return conf_fail(cur, "%s '%s' is not a duration from %ums to %ums "
				 "(write 125, 125s or 1500ms)", key, s, min_ms, max_ms);
	return 0;
}

static int
parse_count(struct conf_cursor *cur, const char *key, const char *s, uint32_t min,
	    uint32_t max, uint32_t *v)
{
	uint64_t v64;

	if (conf_parse_u64(s, &v64) < 0 || v64 < min || v64 > max)
		return conf_fail(cur, "%s '%s' is not a number from %u to %u", key, s, min, max);
	*v = (uint32_t)v64;
	return 0;
}

static int
parse_multicast_prefix(struct conf_cursor *cur, const char *key, const char *s,
		       struct conf_prefix *p)
{
	if (conf_parse_prefix(s, p) < 0)
		return conf_fail(cur, "%s '%s' is not a prefix A.B.C.D/LEN with no host bits",
				 key, s);
	if (!pkt_ipv4_is_multicast(p->addr) || (p->mask & 0xf0) != 0xf0)
		return conf_fail(cur, "%s %s is not inside 224.0.0.0/4", key, s);
	return 0;
}

static int
parse_group_addr(struct conf_cursor *cur, const char *key, const char *s, uint32_t *g)
{
	if (conf_parse_ipv4(s, g) < 0)
		return conf_fail(cur, "%s '%s' is not an IPv4 address", key, s);
	if (!pkt_ipv4_is_multicast(*g) || pkt_ipv4_is_link_local_multicast(*g))
		return conf_fail(cur, "%s %s is not a forwardable multicast group "
				 "(224.0.0.0/4 outside 224.0.0.0/24)", key, s);
	return 0;
}

static const char *const membership_keywords[] = {
	"lan-address", "igmp-version", "igmp-robustness", "igmp-query-interval",
	"igmp-query-response-interval", "igmp-last-member-interval",
	"igmp-startup-interval", "igmp-last-member-count", "igmp-startup-count",
	"igmp-max-groups", "igmp-max-sources", "igmp-max-source-records",
	"ssm-range", "scope-boundary", "pin",
	"source-idle-timeout", "vpn-leave-hold", "igmp-rate-limit",
	"source-report-rate", "announce-socket", "igmp-rate-limit-per-host",
	"source-report-rate-per-host", "vpn-max-groups", "vpn-max-sources", "announce-max",
};

bool
conf_membership_knows(const char *key)
{
	for (size_t i = 0; i < sizeof(membership_keywords) / sizeof(membership_keywords[0]); i++)
		if (strcmp(key, membership_keywords[i]) == 0)
			return true;
	return false;
}

/* Returns 1 when key is not one of ours, else 0 or -1. */
int
conf_membership_parse(struct conf_cursor *cur, const char *key, const char *value)
{
	struct conf *conf = cur->conf;
	struct conf_igmp *igmp = &conf->igmp;
	uint32_t v = 0;

	if (strcmp(key, "lan-address") == 0) {
		if (conf_parse_ipv4(value, &conf->lan_addr) < 0)
			return conf_fail(cur, "lan-address '%s' is not an IPv4 address", value);
		if (conf->lan_addr == 0 || pkt_ipv4_is_multicast(conf->lan_addr))
			return conf_fail(cur, "lan-address %s is not a unicast address", value);
		return 0;
	}
	if (strcmp(key, "igmp-version") == 0) {
		if (parse_count(cur, key, value, 2, 3, &v) < 0)
			return -1;
		igmp->version = (uint8_t)v;
		return 0;
	}
	if (strcmp(key, "igmp-robustness") == 0) {
		/* RFC 3376 8.1: must not be 0, should not be 1; QRV holds 1..7. */
		if (parse_count(cur, key, value, 1, 7, &v) < 0)
			return -1;
		igmp->robustness = (uint8_t)v;
		return 0;
	}
	if (strcmp(key, "igmp-query-interval") == 0)
		return parse_duration_in(cur, key, value, 1000, 31744000, &igmp->query_interval_ms);
	if (strcmp(key, "igmp-query-response-interval") == 0)
		return parse_duration_in(cur, key, value, 100, 3174400, &igmp->query_response_ms);
	if (strcmp(key, "igmp-last-member-interval") == 0)
		return parse_duration_in(cur, key, value, 100, 3174400,
					 &igmp->last_member_interval_ms);
	if (strcmp(key, "igmp-startup-interval") == 0)
		return parse_duration_in(cur, key, value, 100, 31744000, &igmp->startup_interval_ms);
	if (strcmp(key, "igmp-last-member-count") == 0 || strcmp(key, "igmp-startup-count") == 0) {
		if (parse_count(cur, key, value, 1, 10, &v) < 0)
			return -1;
		if (key[5] == 'l')
			igmp->last_member_count = (uint8_t)v;
		else
			igmp->startup_count = (uint8_t)v;
		return 0;
	}
	if (strcmp(key, "igmp-max-groups") == 0)
		return parse_count(cur, key, value, 1, 1u << 20, &igmp->max_groups);
	if (strcmp(key, "igmp-max-sources") == 0)
		return parse_count(cur, key, value, 1, 1u << 16, &igmp->max_sources);
	if (strcmp(key, "igmp-max-source-records") == 0)
		return parse_count(cur, key, value, 1, 1u << 22, &igmp->max_source_records);
	if (strcmp(key, "ssm-range") == 0)
		return parse_multicast_prefix(cur, key, value, &igmp->ssm);
	if (strcmp(key, "scope-boundary") == 0) {
		if (conf->n_boundaries == CONF_MAX_BOUNDARIES)
			return conf_fail(cur, "too many scope-boundary lines (at most %d)",
					 CONF_MAX_BOUNDARIES);
		if (parse_multicast_prefix(cur, key, value, &conf->boundaries[conf->n_boundaries]) < 0)
			return -1;
		conf->n_boundaries++;
		return 0;
	}
	if (strcmp(key, "pin") == 0) {
		if (conf->n_pinned == CONF_MAX_PINNED)
			return conf_fail(cur, "too many pin lines (at most %d)", CONF_MAX_PINNED);
		if (parse_group_addr(cur, key, value, &conf->pinned[conf->n_pinned]) < 0)
			return -1;
		conf->n_pinned++;
		return 0;
	}
	if (strcmp(key, "source-idle-timeout") == 0)
		return parse_duration_in(cur, key, value, 1000, 86400000, &conf->source_idle_ms);
	if (strcmp(key, "vpn-leave-hold") == 0)
		return parse_duration_in(cur, key, value, 0, 3600000, &conf->vpn_leave_hold_ms);
	if (strcmp(key, "igmp-rate-limit") == 0)
		return parse_count(cur, key, value, 1, 1000000, &conf->igmp_rate);
	if (strcmp(key, "source-report-rate") == 0)
		return parse_count(cur, key, value, 1, 1000000, &conf->source_report_rate);
	if (strcmp(key, "igmp-rate-limit-per-host") == 0)
		return parse_count(cur, key, value, 1, 1000000, &conf->igmp_rate_per_host);
	if (strcmp(key, "source-report-rate-per-host") == 0)
		return parse_count(cur, key, value, 1, 1000000, &conf->source_report_rate_per_host);
	if (strcmp(key, "vpn-max-groups") == 0)
		return parse_count(cur, key, value, 1, 1u << 20, &conf->vpn_max_groups);
	if (strcmp(key, "vpn-max-sources") == 0)
		return parse_count(cur, key, value, 1, 1u << 20, &conf->vpn_max_sources);
	if (strcmp(key, "announce-max") == 0)
		return parse_count(cur, key, value, 1, 1u << 16, &conf->announce_max);
	if (strcmp(key, "announce-socket") == 0) {
		if (value[0] != '/' || strlen(value) >= CONF_PATH_MAX)
			return conf_fail(cur, "announce-socket '%s' is not an absolute path shorter "
					 "than %d characters", value, CONF_PATH_MAX);
		strcpy(conf->announce_socket, value);
		return 0;
	}
	return 1;
}

void
conf_membership_defaults(struct conf *conf)
{
	conf->igmp.ssm.addr = 0x000000e8u;      /* 232.0.0.0/8, network order */
	conf->igmp.ssm.mask = 0x000000ffu;
	conf->source_idle_ms = 60000;
	conf->vpn_leave_hold_ms = 5000;
	conf->igmp_rate = 1000;
	conf->source_report_rate = 1000;
	/* A tenth of the worker's: one host cannot take it all. */
	conf->igmp_rate_per_host = 100;
	conf->source_report_rate_per_host = 100;
	/* The group manager's and the VNOC client's defaults
	 * (group_manager_config_defaults, vnoc_client_config_defaults). */
	conf->vpn_max_groups = 4096;
	conf->vpn_max_sources = 4096;
	conf->announce_max = 1024;
	conf->vnoc_max_groups = 4096;
	conf->vnoc_max_inflight = 8;
	/* Empty: DPDK's runtime directory of this process, beside the telemetry
	 * socket, so that each --file-prefix has its own. */
	conf->announce_socket[0] = '\0';
}
