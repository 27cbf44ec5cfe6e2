/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IGMPv3 router object: configuration, the group table, dispatch of
 * received messages, and the timer loop. The membership state machine is in
 * igmp_group.c, the querier in igmp_querier.c.
 *
 * Nothing here reads a clock: tick and receive take the time. Timers due at
 * the same instant fire in a fixed order: the querier's, then the groups in
 * ascending address order, each group's compatibility timers, source timers,
 * group timer and query retransmissions in that order. When tick is late,
 * the instants between are replayed one after the other, so a late tick
 * ends in the state a punctual one would have reached.
 */
#include <stdlib.h>
#include <string.h>

#include "igmp_private.h"

/* ------------------------------------------------------ configuration */

/* RFC 3376 section 8 (and 232/8 of RFC 4607 for SSM). */
void
igmp_config_defaults(struct igmp_config *cfg)
{
	if (cfg->robustness == 0)
		cfg->robustness = 2;                    /* 8.1 */
	if (cfg->query_interval_ms == 0)
		cfg->query_interval_ms = 125000;        /* 8.2 */
	if (cfg->query_response_ms == 0)
		cfg->query_response_ms = 10000;         /* 8.3 */
	if (cfg->last_member_interval_ms == 0)
		cfg->last_member_interval_ms = 1000;    /* 8.8 */
	if (cfg->last_member_count == 0)
		cfg->last_member_count = cfg->robustness;      /* 8.9 */
	if (cfg->startup_interval_ms == 0)
		cfg->startup_interval_ms = cfg->query_interval_ms / 4;  /* 8.6 */
	if (cfg->startup_count == 0)
		cfg->startup_count = cfg->robustness;   /* 8.7 */
	if (cfg->query_version == 0)
		cfg->query_version = 3;
	if (cfg->ssm_prefix == 0 && cfg->ssm_mask == 0) {
		cfg->ssm_prefix = htonl(0xe8000000);    /* 232.0.0.0 */
		cfg->ssm_mask = htonl(0xff000000);
	}
	if (cfg->max_groups == 0)
		cfg->max_groups = 4096;
	if (cfg->max_sources == 0)
		cfg->max_sources = 256;
	if (cfg->max_source_records == 0)
		cfg->max_source_records = 65536;
}

const char *
igmp_counter_name(enum igmp_counter id)
{
	static const char *const names[] = {
#define IGMP_COUNTER_NAME(name) #name,
		IGMP_COUNTERS(IGMP_COUNTER_NAME)
#undef IGMP_COUNTER_NAME
	};

	return (unsigned int)id < IGMP_CTR_MAX ? names[id] : "unknown";
}

struct igmp_router *
igmp_router_create(const struct igmp_config *cfg, const struct igmp_router_ops *ops, void *ctx)
{
	struct igmp_router *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (cfg != NULL)
		r->cfg = *cfg;
	igmp_config_defaults(&r->cfg);
	/* Our queries are v2 or v3 (igmp_query_build); the timers need
	 * intervals that move time forward. */
	if ((r->cfg.query_version != 2 && r->cfg.query_version != 3) ||
	    r->cfg.startup_interval_ms == 0) {
		free(r);
		return NULL;
	}
	if (ops != NULL)
		r->ops = *ops;
	r->ctx = ctx;
	r->robustness = r->cfg.robustness;
	r->query_interval_ms = r->cfg.query_interval_ms;
	r->pkt = malloc(IGMP_QUERY_PKT_MAX);
	if (r->pkt == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
igmp_router_free(struct igmp_router *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->n_groups; i++)
		igmp_group_free(r->groups[i]);
	free(r->groups);
	free(r->pkt);
	free(r);
}

/* ------------------------------------------------------ the group table */

static uint32_t
igmp_router_group_index(const struct igmp_router *r, uint32_t addr, bool *found)
{
	uint32_t lo = 0, hi = r->n_groups;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = igmp_addr_cmp(r->groups[mid]->addr, addr);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct igmp_group *
igmp_router_group_find(const struct igmp_router *r, uint32_t addr)
{
	bool found;
	uint32_t i = igmp_router_group_index(r, addr, &found);

	return found ? r->groups[i] : NULL;
}

struct igmp_group *
igmp_router_group_add(struct igmp_router *r, uint32_t addr)
{
	bool found;
	uint32_t i = igmp_router_group_index(r, addr, &found);
	struct igmp_group *g;

	if (found)
		return r->groups[i];
	if (r->n_groups >= r->cfg.max_groups) {
		igmp_counter_add(r, IGMP_CTR_group_limit_hit, 1);
		return NULL;
	}
	if (r->n_groups == r->cap_groups) {
		uint32_t cap = r->cap_groups ? r->cap_groups * 2 : 16;
		struct igmp_group **groups;

		if (cap > r->cfg.max_groups)
			cap = r->cfg.max_groups;
		groups = realloc(r->groups, cap * sizeof(*groups));
		if (groups == NULL)
			return NULL;
		r->groups = groups;
		r->cap_groups = cap;
	}
	g = igmp_group_alloc(addr);
	if (g == NULL)
		return NULL;
	memmove(&r->groups[i + 1], &r->groups[i], (r->n_groups - i) * sizeof(*r->groups));
	r->groups[i] = g;
	r->n_groups++;
	return g;
}

void
igmp_router_group_remove(struct igmp_router *r, struct igmp_group *g)
{
	bool found;
	uint32_t i = igmp_router_group_index(r, g->addr, &found);

	if (!found || r->groups[i] != g)
		return;
	memmove(&r->groups[i], &r->groups[i + 1], (r->n_groups - i - 1) * sizeof(*r->groups));
	r->n_groups--;
	r->n_source_records -= g->n_sources;
	igmp_group_free(g);
}

uint32_t
igmp_router_source_records(const struct igmp_router *r)
{
	return r->n_source_records;
}

void
igmp_router_notify(struct igmp_router *r, uint32_t group)
{
	if (r->ops.group_changed)
		r->ops.group_changed(r->ctx, group);
}

bool
igmp_router_is_ssm(const struct igmp_router *r, uint32_t group)
{
	return (group & r->cfg.ssm_mask) == r->cfg.ssm_prefix;
}

/* ------------------------------------------------------ time */

uint64_t
igmp_router_next_deadline(const struct igmp_router *r)
{
	uint64_t d = igmp_querier_deadline(r);

	for (uint32_t i = 0; i < r->n_groups; i++) {
		uint64_t g = r->groups[i]->deadline;

		if (g != 0 && (d == 0 || g < d))
			d = g;
	}
	return d == 0 ? UINT64_MAX : d;
}

/* Everything due at t, t being the earliest deadline. */
static void
igmp_router_expire(struct igmp_router *r, uint64_t t)
{
	uint32_t i = 0;

	igmp_querier_expire(r, t);
	while (i < r->n_groups) {
		struct igmp_group *g = r->groups[i];

		if (g->deadline == 0 || g->deadline > t || igmp_group_expire(r, g, t))
			i++;
	}
}

void
igmp_router_tick(struct igmp_router *r, uint64_t now_ms)
{
	for (;;) {
		uint64_t t = igmp_router_next_deadline(r);

		if (t > now_ms)
			break;
		igmp_router_expire(r, t);
	}
}

void
igmp_router_start(struct igmp_router *r, uint64_t now_ms)
{
	igmp_router_tick(r, now_ms);
	igmp_querier_start(r, now_ms);
}

/* ------------------------------------------------------ receive */

void
igmp_router_receive(struct igmp_router *r, const struct igmp_msg *msg, uint64_t now_ms)
{
	struct igmp_record rec;
	uint32_t cursor = 0;

	/* The state the message meets is the state at now_ms. */
	igmp_router_tick(r, now_ms);

	switch (msg->type) {
	case IGMP_MSG_QUERY:
		igmp_counter_add(r, IGMP_CTR_rx_queries, 1);
		igmp_querier_receive(r, msg, now_ms);
		break;
	case IGMP_MSG_V1_REPORT:
		igmp_counter_add(r, IGMP_CTR_rx_v1_reports, 1);
		igmp_group_v1_report(r, msg->group, now_ms);
		break;
	case IGMP_MSG_V2_REPORT:
		igmp_counter_add(r, IGMP_CTR_rx_v2_reports, 1);
		igmp_group_v2_report(r, msg->group, now_ms);
		break;
	case IGMP_MSG_V2_LEAVE:
		igmp_counter_add(r, IGMP_CTR_rx_v2_leaves, 1);
		igmp_group_v2_leave(r, msg->group, now_ms);
		break;
	case IGMP_MSG_V3_REPORT:
		igmp_counter_add(r, IGMP_CTR_rx_v3_reports, 1);
		while (igmp_record_next(msg, &cursor, &rec)) {
			igmp_counter_add(r, IGMP_CTR_rx_records, 1);
			igmp_group_record(r, &rec, now_ms);
		}
		break;
	}
}

/* ------------------------------------------------------ what the LAN wants */

/*
 * RFC 3376 6.3:
 *
 *   Group Filter-Mode  Source Timer Value  Action
 *   -----------------  ------------------  ------
 *   INCLUDE            TIMER > 0           Suggest to forward traffic from source
 *   INCLUDE            TIMER == 0          Suggest to stop forwarding traffic from
 *                                          source and remove source record
 *   INCLUDE            No Source Elements  Suggest to not forward traffic from source
 *   EXCLUDE            TIMER > 0           Suggest to forward traffic from source
 *   EXCLUDE            TIMER == 0          Suggest to not forward traffic from source
 *   EXCLUDE            No Source Elements  Suggest to forward traffic from source
 */
bool
igmp_router_wants(const struct igmp_router *r, uint32_t group, uint32_t source)
{
	const struct igmp_group *g = igmp_router_group_find(r, group);
	const struct igmp_source *s;

	if (g == NULL)
		return false;
	s = igmp_group_source_find(g, source);
	if (g->mode == IGMP_FILTER_INCLUDE)
		return s != NULL && s->timer != 0;
	return s == NULL || s->timer != 0;
}

bool
igmp_router_is_querier(const struct igmp_router *r)
{
	return r->querier;
}

uint64_t
igmp_router_counter(const struct igmp_router *r, enum igmp_counter id)
{
	return (unsigned int)id < IGMP_CTR_MAX ? r->counters[id] : 0;
}

static uint64_t
igmp_remaining(uint64_t timer, uint64_t now)
{
	return timer > now ? timer - now : 0;
}

bool
igmp_router_group_view(const struct igmp_router *r, uint32_t group, uint64_t now_ms,
		       struct igmp_group_view *view, uint16_t max_sources)
{
	const struct igmp_group *g = igmp_router_group_find(r, group);
	uint16_t n = 0;

	if (g == NULL)
		return false;
	view->group = g->addr;
	view->mode = g->mode;
	view->group_timer_ms = igmp_remaining(g->group_timer, now_ms);
	view->compat_version = igmp_group_compat_version(g);
	for (uint32_t i = 0; i < g->n_sources && n < max_sources; i++, n++) {
		view->sources[n].addr = g->sources[i].addr;
		view->sources[n].timer_ms = igmp_remaining(g->sources[i].timer, now_ms);
	}
	view->n_sources = n;
	return true;
}

void
igmp_router_foreach_group(const struct igmp_router *r, bool (*fn)(void *arg, uint32_t group),
			  void *arg)
{
	for (uint32_t i = 0; i < r->n_groups; i++)
		if (!fn(arg, r->groups[i]->addr))
			return;
}
