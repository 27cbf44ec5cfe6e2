/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_IGMP_PRIVATE_H
#define IVGMP_IGMP_PRIVATE_H

/*
 * Internals of the router half of lib/igmp, shared by igmp_router.c (object,
 * dispatch, timers), igmp_group.c (per-group state, RFC 3376 6.3-6.5 and 7.3.2)
 * and igmp_querier.c (RFC 3376 6.6: election and the queries we send).
 *
 * Every timer is an absolute deadline in milliseconds; 0 means "not running".
 * A source timer of 0 in EXCLUDE mode is the RFC's "excluded" source (the Y
 * set); in INCLUDE mode every source has a running timer.
 *
 * State is bounded: at most cfg.max_groups groups (a sorted array of pointers,
 * binary search, ascending address order for deterministic iteration) and at
 * most cfg.max_sources sources per group (a sorted array inside the group),
 * at most cfg.max_source_records sources in all groups together. Hitting a
 * bound is counted (group_limit_hit, source_limit_hit,
 * source_records_limit_hit) and the record, or the source, is not taken.
 */

#include <arpa/inet.h>

#include "igmp.h"

struct igmp_source {
	uint32_t addr;              /* network order */
	uint64_t timer;             /* source timer; 0: not running (excluded) */
	uint8_t retransmit;         /* group-and-source-specific queries still due (6.6.3.2) */
};

struct igmp_group {
	uint32_t addr;              /* network order */
	enum igmp_filter_mode mode;
	uint64_t group_timer;       /* running only in EXCLUDE mode (6.2.2) */
	uint64_t v1_host_timer;     /* IGMPv1 Host Present (7.3.2) */
	uint64_t v2_host_timer;     /* IGMPv2 Host Present (7.3.2) */
	uint8_t group_retransmit;   /* group-specific queries still due (6.6.3.1) */
	uint64_t group_query_at;    /* when the next one is due; 0: none */
	uint64_t source_query_at;   /* next group-and-source-specific query; 0: none */
	uint64_t deadline;          /* earliest of all the above and the source timers */
	bool changed;               /* forwarding state (6.3) changed during this event */
	uint32_t n_sources;
	uint32_t cap_sources;
	struct igmp_source *sources;    /* ascending by address */
};

struct igmp_router {
	struct igmp_config cfg;     /* as given, defaults applied */
	struct igmp_router_ops ops;
	void *ctx;

	/* Robustness Variable and Query Interval in force: the configured ones,
	 * or the querier's QRV and QQI while we are not querier (4.1.6, 4.1.7). */
	uint8_t robustness;
	uint32_t query_interval_ms;

	bool started;               /* igmp_router_start was called */
	bool querier;
	uint32_t querier_addr;      /* the querier we heard, when not us */
	uint64_t other_querier_timer;   /* Other Querier Present (6.6.2); 0: none */
	uint64_t general_query_at;  /* next general query when querier; 0: none */
	uint8_t startup_left;       /* startup queries still to send (8.6, 8.7) */

	uint32_t n_groups;
	uint32_t cap_groups;
	struct igmp_group **groups; /* ascending by address */
	uint32_t n_source_records;  /* in all groups: cfg.max_source_records bounds it */

	uint8_t *pkt;               /* one query being built */
	uint64_t counters[IGMP_CTR_MAX];
};

/* The largest IP packet a query goes in, and the number of sources that fits
 * a v3 query in it (24 bytes of IP header with Router Alert, 12 of query). */
#define IGMP_QUERY_PKT_MAX      1500
#define IGMP_QUERY_MAX_SOURCES  ((IGMP_QUERY_PKT_MAX - 24 - 12) / 4)

/* Ascending address order, whatever the byte order of the host. */
static inline int
igmp_addr_cmp(uint32_t a, uint32_t b)
{
	uint32_t ha = ntohl(a), hb = ntohl(b);

	return ha < hb ? -1 : ha > hb;
}

static inline void
igmp_counter_add(struct igmp_router *r, enum igmp_counter id, uint64_t n)
{
	r->counters[id] += n;
}

/* ---- intervals of RFC 3376 section 8, from the values in force ---- */

/* 8.4 Group Membership Interval = RV * QI + QRI; 8.13 Older Host Present
 * Interval has the same value. */
static inline uint64_t
igmp_router_gmi(const struct igmp_router *r)
{
	return (uint64_t)r->robustness * r->query_interval_ms + r->cfg.query_response_ms;
}

/* 8.5 Other Querier Present Interval = RV * QI + QRI / 2. */
static inline uint64_t
igmp_router_oqpi(const struct igmp_router *r)
{
	return (uint64_t)r->robustness * r->query_interval_ms + r->cfg.query_response_ms / 2;
}

/* 8.10 Last Member Query Time = LMQI * LMQC. */
static inline uint64_t
igmp_router_lmqt(const struct igmp_router *r)
{
	return (uint64_t)r->cfg.last_member_interval_ms * r->cfg.last_member_count;
}

/* ---- igmp_router.c ---- */

struct igmp_group *igmp_router_group_find(const struct igmp_router *r, uint32_t addr);
/* NULL when cfg.max_groups groups exist (counted) or memory runs out. */
struct igmp_group *igmp_router_group_add(struct igmp_router *r, uint32_t addr);
void igmp_router_group_remove(struct igmp_router *r, struct igmp_group *g);
void igmp_router_notify(struct igmp_router *r, uint32_t group);
bool igmp_router_is_ssm(const struct igmp_router *r, uint32_t group);

/* ---- igmp_group.c ---- */

struct igmp_group *igmp_group_alloc(uint32_t addr);
void igmp_group_free(struct igmp_group *g);
struct igmp_source *igmp_group_source_find(const struct igmp_group *g, uint32_t addr);
/* 7.3.2: 1, 2 or 3. */
uint8_t igmp_group_compat_version(const struct igmp_group *g);
void igmp_group_deadline_update(struct igmp_group *g);

/* One v3 group record at now, through the SSM (RFC 4604) and compatibility
 * (7.3.2) rules, then the tables of 6.4.1 and 6.4.2. Its sources may come in
 * any order, duplicates included. */
void igmp_group_record(struct igmp_router *r, const struct igmp_record *rec, uint64_t now);
/* v1 / v2 reports and v2 leaves, through the compatibility rules (7.3.2). */
void igmp_group_v1_report(struct igmp_router *r, uint32_t group, uint64_t now);
void igmp_group_v2_report(struct igmp_router *r, uint32_t group, uint64_t now);
void igmp_group_v2_leave(struct igmp_router *r, uint32_t group, uint64_t now);

/* Expire what of g is due at t (6.3, 6.5, 7.3.2) and send its due query
 * retransmissions. Returns false when g was deleted. */
bool igmp_group_expire(struct igmp_router *r, struct igmp_group *g, uint64_t t);

/* After an event on g: delete it when INCLUDE with no source left, refresh
 * its deadline, tell group_changed. created: g did not exist before the
 * event (a group that comes and goes within one event is never told).
 * Returns false when g was deleted. */
bool igmp_group_settle(struct igmp_router *r, struct igmp_group *g, bool created);

/* ---- igmp_querier.c ---- */

/* A query heard on the LAN (6.6.1, 6.6.2). */
void igmp_querier_receive(struct igmp_router *r, const struct igmp_msg *msg, uint64_t now);
/* Querier timers due at t: Other Querier Present, the next general query. */
void igmp_querier_expire(struct igmp_router *r, uint64_t t);
uint64_t igmp_querier_deadline(const struct igmp_router *r);
void igmp_querier_start(struct igmp_router *r, uint64_t now);

/* 6.6.3.1 "Send Q(G)" and 6.6.3.2 "Send Q(G,X)" table actions: lower the
 * timers to LMQT and start the last member queries (querier only). X is
 * sorted. */
void igmp_querier_group_query(struct igmp_router *r, struct igmp_group *g, uint64_t now);
void igmp_querier_source_query(struct igmp_router *r, struct igmp_group *g,
			       const uint32_t *x, uint32_t n_x, uint64_t now);
/* The retransmissions of g due at t. */
void igmp_querier_retransmit(struct igmp_router *r, struct igmp_group *g, uint64_t t);

#endif
