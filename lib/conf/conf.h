/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_CONF_H
#define IVGMP_CONF_H

/*
 * conf: the ivgmpd configuration file.
 *
 * Owns the file format (doc/configuration.rst) and its validation: every
 * refusal names the file, the line and the reason, and a file that loads is
 * consistent (every site a group sends to has an outbound SA, SPIs unique).
 * Holds plain values only; app/ivgmpd turns them into ports, SAs and the
 * forwarding state.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/esp.h"

#define CONF_NAME_MAX     32
#define CONF_PORT_MAX     128
#define CONF_MAX_SITES    256
#define CONF_MAX_SAS      1024
#define CONF_MAX_GROUPS   4096
#define CONF_ERR_MAX      512
#define CONF_MAX_BOUNDARIES 16
#define CONF_MAX_PINNED   64
#define CONF_PATH_MAX     108   /* sun_path */
#define CONF_MAX_VNOC_URLS 8
#define CONF_URL_MAX      256
#define CONF_FILE_MAX     256

/* RFC 4301 5.1.2.1: what the outer header's DF bit is. */
enum conf_df {
	CONF_DF_COPY,   /* from the inner header (default) */
	CONF_DF_SET,
	CONF_DF_CLEAR,
};

struct conf_site {
	char name[CONF_NAME_MAX];
	uint32_t wan_addr;          /* network byte order */
	uint8_t mac[6];             /* next hop towards it, when not the default */
	bool has_mac;
	bool udp_encap;             /* send ESP in UDP 4500 (RFC 3948), for NAT */
	int sa_out;                 /* index in conf.sas, -1 when none */
	unsigned int line;          /* where it was defined, for errors */
};

struct conf_sa {
	bool inbound;
	bool group;                 /* a group SA (group-sa line): outbound, one per
				     * group, for every site the group is sent to */
	uint16_t site;              /* index in conf.sites; 0 and meaningless for a group SA */
	uint32_t group_addr;        /* group SA: its group, network byte order */
	struct esp_sa_params params;
};

struct conf_group {
	uint32_t group;             /* network byte order */
	bool receive;               /* deliver on the LAN what remote sites send */
	uint16_t n_send_to;
	uint16_t send_to[CONF_MAX_SITES]; /* indices in conf.sites */
	bool has_group_sa;          /* group-sa line: encrypt once for every site */
	uint16_t group_sa;          /* index in conf.sas when has_group_sa */
	unsigned int group_sa_line; /* where the group-sa line is, for errors */
	unsigned int line;          /* where it was first defined, for errors */
};

/* An IPv4 prefix, network byte order. */
struct conf_prefix {
	uint32_t addr;
	uint32_t mask;
};

/* Membership on the LAN (RFC 3376 section 8 names); 0 = the RFC default. */
struct conf_igmp {
	uint8_t version;                /* queries sent: 2 or 3 */
	uint8_t robustness;
	uint32_t query_interval_ms;
	uint32_t query_response_ms;
	uint32_t last_member_interval_ms;
	uint8_t last_member_count;
	uint32_t startup_interval_ms;
	uint8_t startup_count;
	struct conf_prefix ssm;         /* 232.0.0.0/8 unless set */
	uint32_t max_groups;
	uint32_t max_sources;
	uint32_t max_source_records;    /* in all groups */
};

struct conf {
	char lan_port[CONF_PORT_MAX];   /* DPDK device name or port number */
	char wan_port[CONF_PORT_MAX];
	uint32_t wan_addr;              /* network byte order */
	uint8_t nexthop_mac[6];         /* default destination MAC on the WAN */
	bool has_nexthop_mac;
	uint8_t outer_ttl;
	enum conf_df outer_df;
	uint32_t replay_window;         /* default for inbound SAs */
	uint16_t wan_mtu;               /* largest outer IPv4 packet sent */
	uint32_t lan_addr;              /* the device on the LAN; 0: never queries */
	uint32_t workers;               /* worker lcores, 1..RTE_MAX_LCORE - 1; 0: not set */

	struct conf_igmp igmp;
	uint16_t n_boundaries;          /* administrative scope: never crosses the VPN */
	struct conf_prefix boundaries[CONF_MAX_BOUNDARIES];
	uint16_t n_pinned;              /* pre-defined groups, answered as a host */
	uint32_t pinned[CONF_MAX_PINNED];
	uint32_t source_idle_ms;        /* a discovered LAN source expires */
	uint32_t vpn_leave_hold_ms;     /* hysteresis before a VPN role is given up */
	uint32_t igmp_rate;             /* IGMP frames per second a worker hands over */
	uint32_t source_report_rate;    /* new-source reports per second per worker */
	uint32_t igmp_rate_per_host;    /* the same per LAN host, within a worker */
	uint32_t source_report_rate_per_host;
	/* State bounds (doc/configuration.rst "Bounds"): each is counted when hit. */
	uint32_t vpn_max_groups;        /* groups the group manager tracks */
	uint32_t vpn_max_sources;       /* discovered LAN sources (S,G) */
	uint32_t announce_max;          /* live ivgmp-announce announcements */
	uint32_t vnoc_max_groups;       /* groups the VNOC client keeps state for */
	uint32_t vnoc_max_inflight;     /* JoinVpn/LeaveVpn requests in flight */
	uint64_t sa_rekey_packets;      /* outbound SAs from the VNOC are due for
					 * replacement after this many packets;
					 * 0: 3/4 of the hard limit */
	char announce_socket[CONF_PATH_MAX];

	/* The VNOC (doc/configuration.rst "VNOC"): without a vnoc-url line the
	 * device runs on the static site, sa and group lines alone. */
	char site_id[CONF_NAME_MAX];
	uint16_t n_vnoc_urls;
	char vnoc_urls[CONF_MAX_VNOC_URLS][CONF_URL_MAX];
	char vnoc_ca[CONF_FILE_MAX];
	char vnoc_cert[CONF_FILE_MAX];
	char vnoc_key[CONF_FILE_MAX];
	bool vnoc_insecure_http;        /* tests only: plain HTTP, site id in a header */
	bool udp_encap;                 /* this site is behind NAT: peers send it ESP in UDP */

	uint16_t n_sites;
	struct conf_site sites[CONF_MAX_SITES];
	uint16_t n_sas;
	struct conf_sa sas[CONF_MAX_SAS];
	uint32_t n_groups;
	struct conf_group *groups;      /* CONF_MAX_GROUPS entries */
};

/* Allocate a configuration holding the defaults. NULL when out of memory. */
struct conf *conf_new(void);
void conf_free(struct conf *conf);

/* Parse and validate. On failure returns -1 and writes "FILE:LINE: reason"
 * (or "FILE: reason" for whole-file problems) into err. */
int conf_load_file(struct conf *conf, const char *path, char *err, size_t err_len);
int conf_load_string(struct conf *conf, const char *name, const char *text,
		     char *err, size_t err_len);

/* Index of the site called name, or -1. */
int conf_site_find(const struct conf *conf, const char *name);

/* Small parsers the other tools share (0 on success, -1 otherwise). */
int conf_parse_ipv4(const char *s, uint32_t *addr_be);
int conf_parse_mac(const char *s, uint8_t mac[6]);
int conf_parse_hex(const char *s, uint8_t *out, size_t out_len);
/* "A.B.C.D/LEN"; the address must have no bits outside the mask. */
int conf_parse_prefix(const char *s, struct conf_prefix *prefix);
/* "125", "125s", "1500ms": a duration in milliseconds (seconds by default). */
int conf_parse_duration(const char *s, uint32_t *ms);

static inline bool
conf_prefix_match(const struct conf_prefix *p, uint32_t addr_be)
{
	return (addr_be & p->mask) == p->addr;
}

#endif
