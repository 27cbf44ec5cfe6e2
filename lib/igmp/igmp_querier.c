/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The querier of RFC 3376 6.6: election (6.6.2), startup and general queries
 * (8.6, 8.7), group-specific and group-and-source-specific queries with their
 * retransmissions (6.6.3), and the timer updates a query causes (6.6.1).
 */
#include <string.h>

#include "igmp_private.h"

/* Build one query into r->pkt and hand it to ops->send. */
static bool
igmp_querier_send(struct igmp_router *r, uint32_t group, bool suppress,
		  const uint32_t *sources, uint16_t n_sources, uint32_t max_resp_ms)
{
	struct igmp_query_spec q = {
		.version = r->cfg.query_version,
		.ip_src = r->cfg.my_addr,
		.group = group,
		.max_resp_ms = max_resp_ms,
		.suppress = suppress,
		.qrv = r->robustness,
		.qqi_s = r->query_interval_ms / 1000,
		.n_sources = n_sources,
		.sources = sources,
	};
	size_t len = igmp_query_build(r->pkt, IGMP_QUERY_PKT_MAX, &q);

	if (len == 0)
		return false;
	if (r->ops.send)
		r->ops.send(r->ctx, r->pkt, len);
	return true;
}

/* General query, Max Resp = Query Response Interval (8.3). */
static void
igmp_querier_general_send(struct igmp_router *r)
{
	if (igmp_querier_send(r, 0, false, NULL, 0, r->cfg.query_response_ms))
		igmp_counter_add(r, IGMP_CTR_tx_general_queries, 1);
}

/* A general query now, and when the next one is due: Startup Query Count of
 * them Startup Query Interval apart, then one every Query Interval (8.6, 8.7). */
static void
igmp_querier_general_query(struct igmp_router *r, uint64_t t)
{
	igmp_querier_general_send(r);
	if (r->startup_left > 0)
		r->startup_left--;
	r->general_query_at = t + (r->startup_left > 0 ? r->cfg.startup_interval_ms
						       : r->query_interval_ms);
}

/* We are no longer querier: nothing more to send (6.6.2). */
static void
igmp_querier_stop(struct igmp_router *r)
{
	r->querier = false;
	r->general_query_at = 0;
	r->startup_left = 0;
	for (uint32_t i = 0; i < r->n_groups; i++) {
		struct igmp_group *g = r->groups[i];

		g->group_retransmit = 0;
		g->group_query_at = 0;
		g->source_query_at = 0;
		for (uint32_t j = 0; j < g->n_sources; j++)
			g->sources[j].retransmit = 0;
		igmp_group_deadline_update(g);
	}
}

void
igmp_querier_start(struct igmp_router *r, uint64_t now)
{
	if (r->started)
		return;
	r->started = true;
	/* A lower-addressed querier was heard already: wait for its timer. */
	if (r->other_querier_timer)
		return;
	r->querier = true;
	r->startup_left = r->cfg.startup_count;
	igmp_querier_general_query(r, now);
}

/*
 * RFC 3376 6.6.1: a query with the Suppress Router-Side Processing flag clear
 * lowers the timers it names:
 *
 *   Query      Action
 *   -----      ------
 *   Q(G,A)     Source Timer for sources in A are lowered to LMQT
 *   Q(G)       Group Timer is lowered to LMQT
 *
 * The querier's LMQT is its Last Member Query Count (its QRV, or ours when
 * it sent none) times the Max Resp Time of the query, which is its Last
 * Member Query Interval (8.8; RFC 2236 3 says the same for v2 queries).
 */
static void
igmp_querier_timers_lower(struct igmp_router *r, const struct igmp_msg *msg, uint64_t now)
{
	struct igmp_group *g = igmp_router_group_find(r, msg->group);
	uint32_t count = msg->qrv ? msg->qrv : r->cfg.last_member_count;
	uint64_t lowered = now + (uint64_t)count * msg->max_resp_ms;

	if (g == NULL || msg->suppress)
		return;
	if (lowered == 0)
		lowered = 1;    /* 0 would read "not running" */
	if (msg->n_sources == 0) {
		if (g->mode == IGMP_FILTER_EXCLUDE && g->group_timer > lowered)
			g->group_timer = lowered;
	} else {
		for (uint16_t i = 0; i < msg->n_sources; i++) {
			uint32_t addr;
			struct igmp_source *s;

			memcpy(&addr, msg->sources + 4u * i, 4);
			s = igmp_group_source_find(g, addr);
			if (s != NULL && s->timer > lowered)
				s->timer = lowered;
		}
	}
	igmp_group_deadline_update(g);
}

/*
 * RFC 3376 6.6.2: the router with the lowest address is the querier. A query
 * from a lower address makes us a non-querier for Other Querier Present
 * Interval; a query from a higher address changes nothing. Queries from
 * 0.0.0.0 (snooping switches, RFC 4541 2.1.1) and our own take no part.
 * A non-querier adopts the querier's QRV and QQI (4.1.6, 4.1.7).
 */
void
igmp_querier_receive(struct igmp_router *r, const struct igmp_msg *msg, uint64_t now)
{
	if (msg->ip_src == 0 || msg->ip_src == r->cfg.my_addr)
		return;
	if (igmp_addr_cmp(msg->ip_src, r->cfg.my_addr) > 0)
		return;

	if (r->querier) {
		igmp_querier_stop(r);
		igmp_counter_add(r, IGMP_CTR_querier_elections_lost, 1);
	}
	r->querier_addr = msg->ip_src;
	if (msg->query_version == 3) {
		if (msg->qrv != 0)
			r->robustness = msg->qrv;
		if (msg->qqi_s != 0)
			r->query_interval_ms = msg->qqi_s * 1000;
	}
	r->other_querier_timer = now + igmp_router_oqpi(r);
	if (msg->group != 0)
		igmp_querier_timers_lower(r, msg, now);
}

uint64_t
igmp_querier_deadline(const struct igmp_router *r)
{
	uint64_t d = r->other_querier_timer;

	if (r->querier && r->general_query_at && (d == 0 || r->general_query_at < d))
		d = r->general_query_at;
	return d;
}

/* Other Querier Present expiry (6.6.2): we are the querier again and say so
 * with a general query; and the general queries due. */
void
igmp_querier_expire(struct igmp_router *r, uint64_t t)
{
	if (r->other_querier_timer && r->other_querier_timer <= t) {
		r->other_querier_timer = 0;
		r->querier_addr = 0;
		if (r->started) {
			/* Back to our own values: they are the ones our queries
			 * announce from now on. */
			r->querier = true;
			r->robustness = r->cfg.robustness;
			r->query_interval_ms = r->cfg.query_interval_ms;
			r->startup_left = 0;
			igmp_counter_add(r, IGMP_CTR_querier_takeovers, 1);
			igmp_querier_general_query(r, t);
			return;
		}
	}
	if (r->querier && r->general_query_at && r->general_query_at <= t)
		igmp_querier_general_query(r, t);
}

/* One group-specific query (6.6.3.1): the S flag is set when the group timer
 * is above LMQT (a report came in since the query started). A v2 query has no
 * S flag: that retransmission is not sent, lest the other routers lower their
 * timers for a group that has just been reported. */
static void
igmp_querier_group_send(struct igmp_router *r, struct igmp_group *g, uint64_t t)
{
	bool suppress = g->group_timer > t + igmp_router_lmqt(r);

	if (!(suppress && r->cfg.query_version < 3) &&
	    igmp_querier_send(r, g->addr, suppress, NULL, 0, r->cfg.last_member_interval_ms))
		igmp_counter_add(r, IGMP_CTR_tx_group_queries, 1);
	if (g->group_retransmit > 0)
		g->group_retransmit--;
	g->group_query_at = g->group_retransmit ? t + r->cfg.last_member_interval_ms : 0;
}

/*
 * RFC 3376 6.6.3.1: "Send Q(G)": the group timer is lowered to LMQT, a
 * group-specific query goes now and Last Member Query Count - 1 more follow,
 * Last Member Query Interval apart.
 *
 * Not while an IGMPv1 host is present: it cannot answer within LMQT, and RFC
 * 3376 7.3.2 ignores IGMPv2 leaves then for that very reason.
 */
void
igmp_querier_group_query(struct igmp_router *r, struct igmp_group *g, uint64_t now)
{
	uint64_t lmqt = now + igmp_router_lmqt(r);

	if (!r->querier || igmp_group_compat_version(g) == 1)
		return;
	if (g->group_timer > lmqt)
		g->group_timer = lmqt;
	else if (g->group_retransmit > 0)
		return;     /* already being queried, timer already low */
	g->group_retransmit = r->cfg.last_member_count;
	igmp_querier_group_send(r, g, now);
}

/* One pass of 6.6.3.2: the sources with retransmission state whose timer is
 * above LMQT (above true: S flag set) or not (S flag clear), as many queries
 * as they need. Every source sent loses one retransmission. */
static void
igmp_querier_source_send_pass(struct igmp_router *r, struct igmp_group *g, uint64_t t,
			      bool above)
{
	uint32_t batch[IGMP_QUERY_MAX_SOURCES];
	uint64_t lmqt = t + igmp_router_lmqt(r);
	uint16_t n = 0;

	for (uint32_t i = 0; i <= g->n_sources; i++) {
		if (i < g->n_sources) {
			struct igmp_source *s = &g->sources[i];

			if (s->retransmit == 0 || (s->timer > lmqt) != above)
				continue;
			s->retransmit--;
			batch[n++] = s->addr;
			if (n < IGMP_QUERY_MAX_SOURCES)
				continue;
		}
		if (n > 0 && igmp_querier_send(r, g->addr, above, batch, n,
					       r->cfg.last_member_interval_ms))
			igmp_counter_add(r, IGMP_CTR_tx_group_source_queries, 1);
		n = 0;
	}
}

/*
 * RFC 3376 6.6.3.2: two queries per transmission, the first with the S flag
 * set and the sources with retransmission state and timers above LMQT, the
 * second with it clear and those with timers at or below LMQT; either is not
 * sent when it has no source.
 */
static void
igmp_querier_source_send(struct igmp_router *r, struct igmp_group *g, uint64_t t)
{
	bool more = false;

	igmp_querier_source_send_pass(r, g, t, true);
	igmp_querier_source_send_pass(r, g, t, false);
	for (uint32_t i = 0; i < g->n_sources && !more; i++)
		more = g->sources[i].retransmit > 0;
	g->source_query_at = more ? t + r->cfg.last_member_interval_ms : 0;
}

/*
 * RFC 3376 6.6.3.2: "Send Q(G,X)", for each source of X whose timer is above
 * LMQT: retransmissions = Last Member Query Count, source timer lowered to
 * LMQT; then a query now and the retransmissions Last Member Query Interval
 * apart. A v2 query cannot name sources: in v2 query mode nothing is done
 * and the source timers run out on their own.
 */
void
igmp_querier_source_query(struct igmp_router *r, struct igmp_group *g,
			  const uint32_t *x, uint32_t n_x, uint64_t now)
{
	uint64_t lmqt = now + igmp_router_lmqt(r);
	bool marked = false;

	if (!r->querier || r->cfg.query_version < 3)
		return;
	for (uint32_t i = 0; i < n_x; i++) {
		struct igmp_source *s = igmp_group_source_find(g, x[i]);

		if (s != NULL && s->timer > lmqt) {
			s->timer = lmqt;
			s->retransmit = r->cfg.last_member_count;
			marked = true;
		}
	}
	if (marked)
		igmp_querier_source_send(r, g, now);
}

void
igmp_querier_retransmit(struct igmp_router *r, struct igmp_group *g, uint64_t t)
{
	if (g->group_query_at && g->group_query_at <= t)
		igmp_querier_group_send(r, g, t);
	if (g->source_query_at && g->source_query_at <= t)
		igmp_querier_source_send(r, g, t);
}
