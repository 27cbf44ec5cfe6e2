/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_VNOC_CLIENT_H
#define IVGMP_VNOC_CLIENT_H

/*
 * vnoc_client: the edge device's side of the IVGMP-VNOC protocol
 * (001_aebc90bc0c46f8cb.txt 3.2; lib/vnoc/vnoc.h), run from ivgmpd's
 * management lcore. It registers the site, turns the group manager's desired
 * roles into JoinVpn / LeaveVpn, keeps a WatchUpdates long poll outstanding,
 * sends heartbeats, and hands every newer view of the VPN to its owner.
 *
 * It never blocks: HTTP goes through libcurl's multi interface and advances
 * only inside vnoc_client_poll(), which the owner calls often (every
 * millisecond on the management lcore). No threads; time is an argument
 * (ms, any monotonic origin), only libcurl's own transfer timeouts read a
 * clock.
 *
 * The client only reports: when the VNOC is unreachable the owner keeps
 * forwarding with the last view it was given, while the client retries with
 * exponential backoff and fails over to the next VNOC URL.
 *
 * States:   REGISTERING --RegisterSite ok--> READY
 *           REGISTERING / READY --transport failure, 5xx, timeout,
 *                         soap:Server fault--> BACKOFF (next URL)
 *           BACKOFF --delay elapsed--> REGISTERING
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnoc/vnoc.h"

#define VNOC_CLIENT_MAX_URLS 8
#define VNOC_CLIENT_URL_MAX  256
#define VNOC_CLIENT_FILE_MAX 256
#define VNOC_CLIENT_ERROR_MAX 160

struct vnoc_client_config {
	/* VNOC addresses, tried in order; a failure moves to the next. */
	uint16_t n_urls;
	char urls[VNOC_CLIENT_MAX_URLS][VNOC_CLIENT_URL_MAX];
	/* TLS: the VNOC's CA, and the site's certificate and key (its
	 * identity). Required for https:// URLs. */
	char ca_file[VNOC_CLIENT_FILE_MAX];
	char cert_file[VNOC_CLIENT_FILE_MAX];
	char key_file[VNOC_CLIENT_FILE_MAX];
	/* Tests only: plain http:// allowed, the site id goes in the
	 * X-Ivgmp-Site header instead of a certificate. */
	bool insecure_http;

	/* Who this site is (RegisterSite). */
	char site[VNOC_SITE_ID_MAX];
	uint32_t wan_addr;              /* network byte order */
	bool udp_encap;                 /* behind NAT */
	char software[64];

	uint32_t connect_timeout_ms;    /* TCP + TLS handshake */
	uint32_t request_timeout_ms;    /* whole exchange, WatchUpdates excepted */
	uint32_t watch_timeout_s;       /* asked for when the VNOC names none */
	uint32_t watch_slack_ms;        /* a long poll is given up this long after
					 * the VNOC should have answered */
	uint32_t heartbeat_s;           /* used when the VNOC names none */
	uint32_t backoff_min_ms;        /* first retry delay ... */
	uint32_t backoff_max_ms;        /* ... doubling up to this */
	uint8_t backoff_jitter_pct;     /* each delay drawn within +-this % */
	uint32_t denial_hold_ms;        /* a refused join is retried after this
					 * (or when the desired roles change) */
	uint32_t adopt_hold_ms;         /* roles a registration's view says the
					 * site holds but the owner has not asked
					 * for (a previous run's) are given up this
					 * long after it, unless asked for meanwhile:
					 * time for IGMP to find the members again */
	uint32_t max_groups;            /* groups with state here */
	uint32_t max_membership_inflight; /* JoinVpn/LeaveVpn in flight at once */
	uint32_t max_response_bytes;    /* a larger answer is a failure */
	uint64_t seed;                  /* jitter; 0 = from the clock and the
					 * site id, so sites differ */
};

/* Defaults: no URL; 3 s connect, 10 s request, 30 s watch (+10 s slack),
 * 30 s heartbeat, backoff 500 ms doubling to 60 s +-20 %, 10 min denial
 * hold, 30 s adopt hold, 4096 groups, 8 membership requests in flight, 64 MiB answers. */
void vnoc_client_config_defaults(struct vnoc_client_config *cfg);

/* What the site's data path counted, for Heartbeat (VNOC accounting), and
 * the outbound SAs it asks the VNOC to replace now (soft limit passed). */
struct vnoc_client_site_counters {
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t drops;
	uint8_t n_rekey;                /* at most VNOC_MAX_REKEY */
	uint32_t rekey_spi[VNOC_MAX_REKEY];
};

struct vnoc_client_ops {
	/* A view newer than any given before (RegisterSite's answer, or a
	 * WatchUpdates answer): rebuild the forwarding state from it. view is
	 * valid during the call only. */
	void (*view_changed)(void *ctx, const struct vnoc_view *view);
	/* The VNOC refused roles in group (JoinVpn answered by a fault, or
	 * granted fewer roles than asked). Called once per refusal; the
	 * client does not ask again until the desired roles of the group
	 * change or denial_hold_ms passes. May be NULL. */
	void (*denied)(void *ctx, uint32_t group, uint8_t roles,
		       const struct vnoc_fault_info *fault);
	/* Fill the counters sent with the next Heartbeat. May be NULL. */
	void (*counters)(void *ctx, struct vnoc_client_site_counters *out);
};

enum vnoc_client_state {
	VNOC_CLIENT_REGISTERING,        /* RegisterSite in flight */
	VNOC_CLIENT_READY,              /* registered; watch outstanding */
	VNOC_CLIENT_BACKOFF,            /* waiting to try the next URL */
};

const char *vnoc_client_state_name(enum vnoc_client_state s);

#define VNOC_CLIENT_COUNTERS(X)                                          \
	X(requests)             /* HTTP requests started */              \
	X(responses)            /* SOAP answers, faults included */      \
	X(faults)               /* SOAP faults (by reason: faults[]) */  \
	X(transport_failures)   /* no SOAP answer: connect, TLS, timeout, \
				 * HTTP status, malformed envelope */     \
	X(retries)              /* backoffs entered */                   \
	X(failovers)            /* moves to another URL */               \
	X(registrations)        /* RegisterSite accepted */              \
	X(joins)                /* JoinVpn accepted */                   \
	X(leaves)               /* LeaveVpn accepted */                  \
	X(denials)              /* refusals reported through denied() */ \
	X(views_applied)        /* view_changed() calls */               \
	X(watch_answers)        /* WatchUpdates answered */              \
	X(heartbeats)           /* Heartbeat accepted */                 \
	X(rekey_requests)       /* <rekey> SPIs in Heartbeats sent */     \
	X(group_limit_hit)      /* set_roles refused: max_groups */       \
	X(inflight_limit_waits) /* a due JoinVpn/LeaveVpn waited for      \
				 * max_membership_inflight (once each) */

enum vnoc_client_counter {
#define VNOC_CLIENT_COUNTER_ENUM(name) VNOC_CLIENT_CTR_##name,
	VNOC_CLIENT_COUNTERS(VNOC_CLIENT_COUNTER_ENUM)
#undef VNOC_CLIENT_COUNTER_ENUM
	VNOC_CLIENT_CTR_MAX
};

const char *vnoc_client_counter_name(enum vnoc_client_counter id);

struct vnoc_client_status {
	enum vnoc_client_state state;
	uint16_t url_index;             /* the URL in use or to be tried next */
	char url[VNOC_CLIENT_URL_MAX];
	uint64_t version;               /* of the last view applied; 0 = none */
	bool watch_outstanding;
	uint32_t outstanding;           /* requests in flight */
	uint32_t membership_in_flight;  /* JoinVpn/LeaveVpn of them: what
					 * max_membership_inflight bounds */
	uint32_t heartbeat_s;           /* in force (the VNOC's, or the default) */
	uint32_t watch_timeout_s;
	uint32_t backoff_ms;            /* the last delay drawn; 0 after success */
	uint64_t retry_at_ms;           /* BACKOFF: when the next URL is tried */
	char last_error[VNOC_CLIENT_ERROR_MAX]; /* the last failure, "" if none */
	uint64_t counters[VNOC_CLIENT_CTR_MAX];
	uint64_t faults[VNOC_FAULT_MAX]; /* by reason */
	uint32_t n_groups;
};

/* One group as the client sees it. */
struct vnoc_client_group_status {
	uint32_t group;
	uint8_t desired;                /* the group manager's wish */
	uint8_t granted;                /* what the VNOC confirmed */
	uint8_t adopted;                /* granted, not desired, found in a
					 * registration's view: left when the
					 * adopt hold ends */
	uint8_t in_flight;              /* roles of the JoinVpn/LeaveVpn in flight */
	bool in_flight_join;            /* ... and which of the two */
	uint8_t denied;                 /* roles refused, not asked again before
					 * denied_until_ms */
	enum vnoc_fault denied_reason;
	char denied_text[VNOC_TEXT_MAX];
	uint64_t denied_until_ms;
};

struct vnoc_client;

/* Validates cfg (at least one URL, a valid site id, https needs the three
 * TLS files, http needs insecure_http) and starts RegisterSite at the first
 * poll. Returns NULL with why in err. */
struct vnoc_client *vnoc_client_create(const struct vnoc_client_config *cfg,
				       const struct vnoc_client_ops *ops, void *ctx,
				       char *err, size_t err_len);
/* Aborts what is in flight; no callback is called. */
void vnoc_client_free(struct vnoc_client *c);

/* Advance transfers and timers; calls the ops from here only (an op may
 * call vnoc_client_set_roles, not vnoc_client_free). Never waits on the
 * network; the CPU it may spend is decoding an answer (a large view) and
 * the ops themselves. */
void vnoc_client_poll(struct vnoc_client *c, uint64_t now_ms);

/* Send a Heartbeat at the next poll when registered (after the one in
 * flight, if any), not only at the next period: an SA passed its soft
 * limit and counters() has its SPI to ask a rekey for. */
void vnoc_client_heartbeat_soon(struct vnoc_client *c);

/* The group manager's desired roles for group (VNOC_ROLE_* bits; 0 = none).
 * Roles gained become JoinVpn (one role per request, receiver first), roles
 * lost LeaveVpn, one request per group at a time; a change while one is in
 * flight is sent after it. A JoinVpn answer's roles are read as roles the
 * site holds in the group. Sent once the client is READY; after every
 * (re-)registration all desired roles are joined again, and roles the VNOC
 * lists for the site that are not desired are left after adopt_hold_ms.
 * Returns 0, or -1 when max_groups is reached: the group is not kept, and
 * the caller sets its roles again once there is room. */
int vnoc_client_set_roles(struct vnoc_client *c, uint32_t group, uint8_t roles,
			  uint64_t now_ms);

/* Groups set_roles may still add (max_groups minus those with state). A
 * group's slot is freed once nothing is desired, granted, denied or adopted. */
uint32_t vnoc_client_group_room(const struct vnoc_client *c);

void vnoc_client_status(const struct vnoc_client *c, struct vnoc_client_status *st);
/* Per-group state, for telemetry. fn returns false to stop the walk. */
void vnoc_client_foreach_group(const struct vnoc_client *c,
			       bool (*fn)(void *arg, const struct vnoc_client_group_status *gs),
			       void *arg);

#endif
