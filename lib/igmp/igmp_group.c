/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-group membership state of an IGMPv3 router (RFC 3376 6.2-6.5): filter
 * mode, group timer, source records and source timers, and the IGMPv1/v2 Host
 * Present timers that give the group compatibility mode (7.3.2).
 *
 * Notation of the RFC: in INCLUDE mode A is the set of sources; in EXCLUDE
 * mode X is the set of sources with a running timer ("requested") and Y the
 * set of sources whose timer is 0 ("excluded"). A-B is the difference, A*B
 * the intersection; the union A+B of the new states is what the action
 * "(B)=T" makes, as it creates the records of B that are not there yet.
 * Source sets are sorted arrays of addresses (network order, ascending by
 * igmp_addr_cmp) without duplicates.
 */
#include <stdlib.h>
#include <string.h>

#include "igmp_private.h"
#include "pkt/pkt.h"

/* ------------------------------------------------------ set operations */

/* A-B */
static uint32_t
igmp_set_minus(const uint32_t *a, uint32_t n_a, const uint32_t *b, uint32_t n_b, uint32_t *out)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < n_a) {
		int c = j == n_b ? -1 : igmp_addr_cmp(a[i], b[j]);

		if (c < 0)
			out[n++] = a[i++];
		else if (c > 0)
			j++;
		else {
			i++;
			j++;
		}
	}
	return n;
}

/* A*B */
static uint32_t
igmp_set_times(const uint32_t *a, uint32_t n_a, const uint32_t *b, uint32_t n_b, uint32_t *out)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < n_a && j < n_b) {
		int c = igmp_addr_cmp(a[i], b[j]);

		if (c < 0)
			i++;
		else if (c > 0)
			j++;
		else {
			out[n++] = a[i++];
			j++;
		}
	}
	return n;
}

static int
igmp_addr_qsort_cmp(const void *a, const void *b)
{
	return igmp_addr_cmp(*(const uint32_t *)a, *(const uint32_t *)b);
}

/* A record's source list as a set: sorted, duplicates dropped. */
static uint32_t
igmp_set_from_record(const struct igmp_record *rec, uint32_t *out)
{
	uint32_t n = 0;

	if (rec->n_sources == 0)
		return 0;
	memcpy(out, rec->sources, 4u * rec->n_sources);
	qsort(out, rec->n_sources, sizeof(*out), igmp_addr_qsort_cmp);
	for (uint32_t i = 0; i < rec->n_sources; i++)
		if (n == 0 || out[n - 1] != out[i])
			out[n++] = out[i];
	return n;
}

/* ------------------------------------------------------ the group object */

struct igmp_group *
igmp_group_alloc(uint32_t addr)
{
	struct igmp_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->addr = addr;
	g->mode = IGMP_FILTER_INCLUDE;
	return g;
}

void
igmp_group_free(struct igmp_group *g)
{
	if (g == NULL)
		return;
	free(g->sources);
	free(g);
}

/* Index of addr in g's sources, or where it would go (*found false). */
static uint32_t
igmp_group_source_index(const struct igmp_group *g, uint32_t addr, bool *found)
{
	uint32_t lo = 0, hi = g->n_sources;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = igmp_addr_cmp(g->sources[mid].addr, addr);

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

struct igmp_source *
igmp_group_source_find(const struct igmp_group *g, uint32_t addr)
{
	bool found;
	uint32_t i = igmp_group_source_index(g, addr, &found);

	return found ? &g->sources[i] : NULL;
}

/* A new source record, timer not running; NULL at cfg.max_sources in the
 * group or cfg.max_source_records in the router (each counted). */
static struct igmp_source *
igmp_group_source_add(struct igmp_router *r, struct igmp_group *g, uint32_t addr)
{
	bool found;
	uint32_t i = igmp_group_source_index(g, addr, &found);

	if (found)
		return &g->sources[i];
	if (g->n_sources >= r->cfg.max_sources) {
		igmp_counter_add(r, IGMP_CTR_source_limit_hit, 1);
		return NULL;
	}
	if (r->n_source_records >= r->cfg.max_source_records) {
		igmp_counter_add(r, IGMP_CTR_source_records_limit_hit, 1);
		return NULL;
	}
	if (g->n_sources == g->cap_sources) {
		uint32_t cap = g->cap_sources ? g->cap_sources * 2 : 4;
		struct igmp_source *s;

		if (cap > r->cfg.max_sources)
			cap = r->cfg.max_sources;
		s = realloc(g->sources, cap * sizeof(*s));
		if (s == NULL)
			return NULL;
		g->sources = s;
		g->cap_sources = cap;
	}
	memmove(&g->sources[i + 1], &g->sources[i], (g->n_sources - i) * sizeof(*g->sources));
	memset(&g->sources[i], 0, sizeof(g->sources[i]));
	g->sources[i].addr = addr;
	g->n_sources++;
	r->n_source_records++;
	g->changed = true;
	return &g->sources[i];
}

static void
igmp_group_source_remove_at(struct igmp_router *r, struct igmp_group *g, uint32_t i)
{
	memmove(&g->sources[i], &g->sources[i + 1], (g->n_sources - i - 1) * sizeof(*g->sources));
	g->n_sources--;
	r->n_source_records--;
	g->changed = true;
}

/* 7.3.2: the Host Compatibility Mode follows the Host Present timers. */
uint8_t
igmp_group_compat_version(const struct igmp_group *g)
{
	if (g->v1_host_timer)
		return 1;
	if (g->v2_host_timer)
		return 2;
	return 3;
}

static void
igmp_deadline_min(uint64_t *d, uint64_t t)
{
	if (t != 0 && (*d == 0 || t < *d))
		*d = t;
}

void
igmp_group_deadline_update(struct igmp_group *g)
{
	uint64_t d = 0;

	igmp_deadline_min(&d, g->group_timer);
	igmp_deadline_min(&d, g->v1_host_timer);
	igmp_deadline_min(&d, g->v2_host_timer);
	igmp_deadline_min(&d, g->group_query_at);
	igmp_deadline_min(&d, g->source_query_at);
	for (uint32_t i = 0; i < g->n_sources; i++)
		igmp_deadline_min(&d, g->sources[i].timer);
	g->deadline = d;
}

/* ------------------------------------------------------ source sets of a group */

/* A: every source of an INCLUDE-mode group. */
static uint32_t
igmp_group_present(const struct igmp_group *g, uint32_t *out)
{
	for (uint32_t i = 0; i < g->n_sources; i++)
		out[i] = g->sources[i].addr;
	return g->n_sources;
}

/* X: the sources of an EXCLUDE-mode group with a running timer. */
static uint32_t
igmp_group_requested(const struct igmp_group *g, uint32_t *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < g->n_sources; i++)
		if (g->sources[i].timer != 0)
			out[n++] = g->sources[i].addr;
	return n;
}

/* Y: the sources of an EXCLUDE-mode group whose timer is 0. */
static uint32_t
igmp_group_excluded(const struct igmp_group *g, uint32_t *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < g->n_sources; i++)
		if (g->sources[i].timer == 0)
			out[n++] = g->sources[i].addr;
	return n;
}

/* The table action "(S)=T": every source of S gets timer T, a record being
 * created for those not there yet. A new source, or one whose timer starts
 * or stops, changes the forwarding state; a mere refresh does not. */
static void
igmp_group_sources_timer_set(struct igmp_router *r, struct igmp_group *g,
			     const uint32_t *set, uint32_t n, uint64_t timer)
{
	for (uint32_t i = 0; i < n; i++) {
		struct igmp_source *s = igmp_group_source_find(g, set[i]);

		if (s == NULL) {
			s = igmp_group_source_add(r, g, set[i]);
			if (s == NULL)
				continue;
		} else if ((s->timer == 0) != (timer == 0)) {
			g->changed = true;
		}
		s->timer = timer;
		if (timer == 0)
			s->retransmit = 0;
	}
}

/* The table action "Delete (S)". */
static void
igmp_group_sources_delete(struct igmp_router *r, struct igmp_group *g, const uint32_t *set,
			  uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		bool found;
		uint32_t at = igmp_group_source_index(g, set[i], &found);

		if (found)
			igmp_group_source_remove_at(r, g, at);
	}
}

static void
igmp_group_mode_set(struct igmp_group *g, enum igmp_filter_mode mode)
{
	if (g->mode == mode)
		return;
	g->mode = mode;
	g->changed = true;
	if (mode == IGMP_FILTER_INCLUDE) {
		/* 6.2.2: the group timer is used in EXCLUDE mode only. */
		g->group_timer = 0;
		g->group_retransmit = 0;
		g->group_query_at = 0;
	}
}

/* Room for the sets a table computes: each is at most |present| + |new|. */
struct igmp_work {
	uint32_t *s1, *s2, *s3, *s4;
};

/* ------------------------------------------------------ RFC 3376 6.4.1 */

/*
 * RFC 3376 6.4.1, Reception of Current-State Records:
 *
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    IS_IN (B)     INCLUDE (A+B)            (B)=GMI
 */
static void
igmp_group_include_is_in(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now)
{
	igmp_group_sources_timer_set(r, g, b, n_b, now + igmp_router_gmi(r));
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    IS_EX (B)     EXCLUDE (A*B,B-A)        (B-A)=0
 *                                                         Delete (A-B)
 *                                                         Group Timer=GMI
 */
static void
igmp_group_include_is_ex(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now, struct igmp_work *w)
{
	uint32_t *a = w->s1, *a_minus_b = w->s2, *b_minus_a = w->s3;
	uint32_t n_a, n_a_minus_b, n_b_minus_a;

	n_a = igmp_group_present(g, a);
	n_a_minus_b = igmp_set_minus(a, n_a, b, n_b, a_minus_b);
	n_b_minus_a = igmp_set_minus(b, n_b, a, n_a, b_minus_a);

	igmp_group_mode_set(g, IGMP_FILTER_EXCLUDE);
	igmp_group_sources_delete(r, g, a_minus_b, n_a_minus_b);
	igmp_group_sources_timer_set(r, g, b_minus_a, n_b_minus_a, 0);
	g->group_timer = now + igmp_router_gmi(r);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  IS_IN (A)     EXCLUDE (X+A,Y-A)        (A)=GMI
 */
static void
igmp_group_exclude_is_in(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now)
{
	igmp_group_sources_timer_set(r, g, a, n_a, now + igmp_router_gmi(r));
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  IS_EX (A)     EXCLUDE (A-Y,Y*A)        (A-X-Y)=GMI
 *                                                         Delete (X-A)
 *                                                         Delete (Y-A)
 *                                                         Group Timer=GMI
 */
static void
igmp_group_exclude_is_ex(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now, struct igmp_work *w)
{
	uint32_t *x = w->s1, *y = w->s2, *t = w->s3, *set = w->s4;
	uint32_t n_x, n_y, n_t, n;

	n_x = igmp_group_requested(g, x);
	n_y = igmp_group_excluded(g, y);

	/* A-X-Y, before the deletions change X and Y. */
	n_t = igmp_set_minus(a, n_a, x, n_x, t);
	n_t = igmp_set_minus(t, n_t, y, n_y, set);
	memcpy(t, set, n_t * sizeof(*t));

	n = igmp_set_minus(x, n_x, a, n_a, set);
	igmp_group_sources_delete(r, g, set, n);
	n = igmp_set_minus(y, n_y, a, n_a, set);
	igmp_group_sources_delete(r, g, set, n);
	igmp_group_sources_timer_set(r, g, t, n_t, now + igmp_router_gmi(r));
	g->group_timer = now + igmp_router_gmi(r);
}

/* ------------------------------------------------------ RFC 3376 6.4.2 */

/*
 * RFC 3376 6.4.2, Reception of Filter-Mode-Change and Source-List-Change
 * Records:
 *
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    ALLOW (B)     INCLUDE (A+B)            (B)=GMI
 */
static void
igmp_group_include_allow(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now)
{
	igmp_group_sources_timer_set(r, g, b, n_b, now + igmp_router_gmi(r));
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    BLOCK (B)     INCLUDE (A)              Send Q(G,A*B)
 */
static void
igmp_group_include_block(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now, struct igmp_work *w)
{
	uint32_t *a = w->s1, *a_times_b = w->s2;
	uint32_t n_a, n_a_times_b;

	n_a = igmp_group_present(g, a);
	n_a_times_b = igmp_set_times(a, n_a, b, n_b, a_times_b);
	igmp_querier_source_query(r, g, a_times_b, n_a_times_b, now);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    TO_EX (B)     EXCLUDE (A*B,B-A)        (B-A)=0
 *                                                         Delete (A-B)
 *                                                         Send Q(G,A*B)
 *                                                         Group Timer=GMI
 */
static void
igmp_group_include_to_ex(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now, struct igmp_work *w)
{
	uint32_t *a = w->s1, *a_minus_b = w->s2, *b_minus_a = w->s3, *a_times_b = w->s4;
	uint32_t n_a, n_a_minus_b, n_b_minus_a, n_a_times_b;

	n_a = igmp_group_present(g, a);
	n_a_minus_b = igmp_set_minus(a, n_a, b, n_b, a_minus_b);
	n_b_minus_a = igmp_set_minus(b, n_b, a, n_a, b_minus_a);
	n_a_times_b = igmp_set_times(a, n_a, b, n_b, a_times_b);

	igmp_group_mode_set(g, IGMP_FILTER_EXCLUDE);
	igmp_group_sources_delete(r, g, a_minus_b, n_a_minus_b);
	igmp_group_sources_timer_set(r, g, b_minus_a, n_b_minus_a, 0);
	g->group_timer = now + igmp_router_gmi(r);
	igmp_querier_source_query(r, g, a_times_b, n_a_times_b, now);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   INCLUDE (A)    TO_IN (B)     INCLUDE (A+B)            (B)=GMI
 *                                                         Send Q(G,A-B)
 */
static void
igmp_group_include_to_in(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *b, uint32_t n_b, uint64_t now, struct igmp_work *w)
{
	uint32_t *a = w->s1, *a_minus_b = w->s2;
	uint32_t n_a, n_a_minus_b;

	n_a = igmp_group_present(g, a);
	n_a_minus_b = igmp_set_minus(a, n_a, b, n_b, a_minus_b);

	igmp_group_sources_timer_set(r, g, b, n_b, now + igmp_router_gmi(r));
	igmp_querier_source_query(r, g, a_minus_b, n_a_minus_b, now);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  ALLOW (A)     EXCLUDE (X+A,Y-A)        (A)=GMI
 */
static void
igmp_group_exclude_allow(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now)
{
	igmp_group_sources_timer_set(r, g, a, n_a, now + igmp_router_gmi(r));
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  BLOCK (A)     EXCLUDE (X+(A-Y),Y)      (A-X-Y)=Group Timer
 *                                                         Send Q(G,A-Y)
 */
static void
igmp_group_exclude_block(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now, struct igmp_work *w)
{
	uint32_t *x = w->s1, *y = w->s2, *a_minus_x_minus_y = w->s3, *a_minus_y = w->s4;
	uint32_t n_x, n_y, n_a_minus_x_minus_y, n_a_minus_y;

	n_x = igmp_group_requested(g, x);
	n_y = igmp_group_excluded(g, y);
	n_a_minus_y = igmp_set_minus(a, n_a, y, n_y, a_minus_y);
	n_a_minus_x_minus_y = igmp_set_minus(a_minus_y, n_a_minus_y, x, n_x, a_minus_x_minus_y);

	igmp_group_sources_timer_set(r, g, a_minus_x_minus_y, n_a_minus_x_minus_y, g->group_timer);
	igmp_querier_source_query(r, g, a_minus_y, n_a_minus_y, now);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  TO_EX (A)     EXCLUDE (A-Y,Y*A)        (A-X-Y)=Group Timer
 *                                                         Delete (X-A)
 *                                                         Delete (Y-A)
 *                                                         Send Q(G,A-Y)
 *                                                         Group Timer=GMI
 */
static void
igmp_group_exclude_to_ex(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now, struct igmp_work *w)
{
	uint32_t *x = w->s1, *y = w->s2, *a_minus_x_minus_y = w->s3, *set = w->s4;
	uint32_t n_x, n_y, n_a_minus_x_minus_y, n;

	n_x = igmp_group_requested(g, x);
	n_y = igmp_group_excluded(g, y);
	n = igmp_set_minus(a, n_a, y, n_y, set);
	n_a_minus_x_minus_y = igmp_set_minus(set, n, x, n_x, a_minus_x_minus_y);

	n = igmp_set_minus(x, n_x, a, n_a, set);
	igmp_group_sources_delete(r, g, set, n);
	n = igmp_set_minus(y, n_y, a, n_a, set);
	igmp_group_sources_delete(r, g, set, n);
	igmp_group_sources_timer_set(r, g, a_minus_x_minus_y, n_a_minus_x_minus_y, g->group_timer);
	/* A-Y with the Y of the old state: the A-Y = A-X-Y + A*X sources. */
	n = igmp_set_minus(a, n_a, y, n_y, set);
	igmp_querier_source_query(r, g, set, n, now);
	g->group_timer = now + igmp_router_gmi(r);
}

/*
 *   Router State   Report Rec'd  New Router State         Actions
 *   ------------   ------------  ----------------         -------
 *   EXCLUDE (X,Y)  TO_IN (A)     EXCLUDE (X+A,Y-A)        (A)=GMI
 *                                                         Send Q(G,X-A)
 *                                                         Send Q(G)
 */
static void
igmp_group_exclude_to_in(struct igmp_router *r, struct igmp_group *g,
			 const uint32_t *a, uint32_t n_a, uint64_t now, struct igmp_work *w)
{
	uint32_t *x = w->s1, *x_minus_a = w->s2;
	uint32_t n_x, n_x_minus_a;

	n_x = igmp_group_requested(g, x);
	n_x_minus_a = igmp_set_minus(x, n_x, a, n_a, x_minus_a);

	igmp_group_sources_timer_set(r, g, a, n_a, now + igmp_router_gmi(r));
	igmp_querier_source_query(r, g, x_minus_a, n_x_minus_a, now);
	igmp_querier_group_query(r, g, now);
}

/* ------------------------------------------------------ dispatch */

static void
igmp_group_apply(struct igmp_router *r, struct igmp_group *g, uint8_t type,
		 const uint32_t *b, uint32_t n_b, uint64_t now, struct igmp_work *w)
{
	if (g->mode == IGMP_FILTER_INCLUDE) {
		switch (type) {
		case IGMP_MODE_IS_INCLUDE:
			igmp_group_include_is_in(r, g, b, n_b, now);
			break;
		case IGMP_MODE_IS_EXCLUDE:
			igmp_group_include_is_ex(r, g, b, n_b, now, w);
			break;
		case IGMP_ALLOW_NEW_SOURCES:
			igmp_group_include_allow(r, g, b, n_b, now);
			break;
		case IGMP_BLOCK_OLD_SOURCES:
			igmp_group_include_block(r, g, b, n_b, now, w);
			break;
		case IGMP_CHANGE_TO_EXCLUDE:
			igmp_group_include_to_ex(r, g, b, n_b, now, w);
			break;
		case IGMP_CHANGE_TO_INCLUDE:
			igmp_group_include_to_in(r, g, b, n_b, now, w);
			break;
		}
	} else {
		switch (type) {
		case IGMP_MODE_IS_INCLUDE:
			igmp_group_exclude_is_in(r, g, b, n_b, now);
			break;
		case IGMP_MODE_IS_EXCLUDE:
			igmp_group_exclude_is_ex(r, g, b, n_b, now, w);
			break;
		case IGMP_ALLOW_NEW_SOURCES:
			igmp_group_exclude_allow(r, g, b, n_b, now);
			break;
		case IGMP_BLOCK_OLD_SOURCES:
			igmp_group_exclude_block(r, g, b, n_b, now, w);
			break;
		case IGMP_CHANGE_TO_EXCLUDE:
			igmp_group_exclude_to_ex(r, g, b, n_b, now, w);
			break;
		case IGMP_CHANGE_TO_INCLUDE:
			igmp_group_exclude_to_in(r, g, b, n_b, now, w);
			break;
		}
	}
}

bool
igmp_group_settle(struct igmp_router *r, struct igmp_group *g, bool created)
{
	uint32_t addr = g->addr;

	if (g->mode == IGMP_FILTER_INCLUDE && g->n_sources == 0) {
		/* 6.3 / 6.5: INCLUDE ({}) is no state at all. */
		igmp_router_group_remove(r, g);
		if (!created)
			igmp_router_notify(r, addr);
		return false;
	}
	igmp_group_deadline_update(g);
	if (g->changed) {
		g->changed = false;
		igmp_router_notify(r, addr);
	}
	return true;
}

/* Run one record of type over the set b against group (no state: INCLUDE
 * ({})), creating the group if the record leaves state. */
static void
igmp_group_record_run(struct igmp_router *r, uint32_t group, uint8_t type,
		      const uint32_t *b, uint32_t n_b, uint64_t now,
		      uint64_t *v1_timer, uint64_t *v2_timer)
{
	struct igmp_group *g = igmp_router_group_find(r, group);
	bool created = false;
	struct igmp_work w;
	uint32_t room;
	uint32_t *mem;

	if (g == NULL) {
		/* INCLUDE ({}): only these leave state behind. */
		bool creates = type == IGMP_MODE_IS_EXCLUDE || type == IGMP_CHANGE_TO_EXCLUDE ||
			       (n_b > 0 && type != IGMP_BLOCK_OLD_SOURCES);

		if (!creates)
			return;
		g = igmp_router_group_add(r, group);
		if (g == NULL)
			return;
		g->changed = true;
		created = true;
	}
	if (v1_timer)
		g->v1_host_timer = *v1_timer;
	if (v2_timer)
		g->v2_host_timer = *v2_timer;

	room = g->n_sources + n_b + 1;
	mem = malloc(4u * (size_t)room * sizeof(*mem));
	if (mem == NULL) {
		igmp_group_settle(r, g, created);
		return;
	}
	w.s1 = mem;
	w.s2 = mem + room;
	w.s3 = mem + 2 * (size_t)room;
	w.s4 = mem + 3 * (size_t)room;
	igmp_group_apply(r, g, type, b, n_b, now, &w);
	free(mem);
	igmp_group_settle(r, g, created);
}

static bool
igmp_group_addr_ok(uint32_t group)
{
	return pkt_ipv4_is_multicast(group) && !pkt_ipv4_is_link_local_multicast(group);
}

void
igmp_group_record(struct igmp_router *r, const struct igmp_record *rec, uint64_t now)
{
	struct igmp_group *g;
	uint8_t type = rec->type;
	uint32_t *b = NULL;
	uint32_t n_b = 0;

	if (!igmp_group_addr_ok(rec->group) || type < IGMP_MODE_IS_INCLUDE ||
	    type > IGMP_BLOCK_OLD_SOURCES)
		return;
	/* RFC 4604 2.2.1: in the SSM range only INCLUDE-mode state. */
	if (igmp_router_is_ssm(r, rec->group) &&
	    (type == IGMP_MODE_IS_EXCLUDE || type == IGMP_CHANGE_TO_EXCLUDE)) {
		igmp_counter_add(r, IGMP_CTR_ssm_ignored, 1);
		return;
	}
	/* 7.3.2: with older hosts present, BLOCK records are ignored and so
	 * are the source lists of TO_EX records. */
	g = igmp_router_group_find(r, rec->group);
	if (g != NULL && igmp_group_compat_version(g) < 3) {
		if (type == IGMP_BLOCK_OLD_SOURCES)
			return;
		if (type == IGMP_CHANGE_TO_EXCLUDE) {
			igmp_group_record_run(r, rec->group, type, NULL, 0, now, NULL, NULL);
			return;
		}
	}
	if (rec->n_sources > 0) {
		b = malloc(rec->n_sources * sizeof(*b));
		if (b == NULL)
			return;
		n_b = igmp_set_from_record(rec, b);
	}
	igmp_group_record_run(r, rec->group, type, b, n_b, now, NULL, NULL);
	free(b);
}

/* 7.3.2: an IGMPv1 report is IS_EX ({}) and (re)starts the IGMPv1 Host
 * Present timer (Older Version Host Present Interval, 8.13). */
void
igmp_group_v1_report(struct igmp_router *r, uint32_t group, uint64_t now)
{
	uint64_t timer = now + igmp_router_gmi(r);

	if (!igmp_group_addr_ok(group))
		return;
	if (igmp_router_is_ssm(r, group)) {
		igmp_counter_add(r, IGMP_CTR_ssm_ignored, 1);
		return;
	}
	igmp_group_record_run(r, group, IGMP_MODE_IS_EXCLUDE, NULL, 0, now, &timer, NULL);
}

/* 7.3.2: an IGMPv2 report is IS_EX ({}) and (re)starts the IGMPv2 Host
 * Present timer. */
void
igmp_group_v2_report(struct igmp_router *r, uint32_t group, uint64_t now)
{
	uint64_t timer = now + igmp_router_gmi(r);

	if (!igmp_group_addr_ok(group))
		return;
	if (igmp_router_is_ssm(r, group)) {
		igmp_counter_add(r, IGMP_CTR_ssm_ignored, 1);
		return;
	}
	igmp_group_record_run(r, group, IGMP_MODE_IS_EXCLUDE, NULL, 0, now, NULL, &timer);
}

/* 7.3.2: an IGMPv2 leave is TO_IN ({}), and is ignored while an IGMPv1
 * host is present (it would not answer the group-specific queries). */
void
igmp_group_v2_leave(struct igmp_router *r, uint32_t group, uint64_t now)
{
	struct igmp_group *g;

	if (!igmp_group_addr_ok(group))
		return;
	if (igmp_router_is_ssm(r, group)) {
		igmp_counter_add(r, IGMP_CTR_ssm_ignored, 1);
		return;
	}
	g = igmp_router_group_find(r, group);
	if (g == NULL || igmp_group_compat_version(g) == 1)
		return;
	igmp_group_record_run(r, group, IGMP_CHANGE_TO_INCLUDE, NULL, 0, now, NULL, NULL);
}

/* ------------------------------------------------------ timers: 6.3, 6.5, 7.3.2 */

/*
 * RFC 3376 6.3, source timer expiry:
 *
 *   Filter Mode  Source Timer Value  Action
 *   -----------  ------------------  ------
 *   INCLUDE      TIMER == 0          Suggest to stop forwarding traffic from
 *                                    source and remove source record. If
 *                                    there are no more source records for
 *                                    the group, delete group record.
 *   EXCLUDE      TIMER == 0          Suggest to not forward traffic from
 *                                    source (DO NOT remove record)
 *
 * RFC 3376 6.5, group timer expiry:
 *
 *   Group Timer  Action
 *   -----------  ------
 *   G Timer > 0  No transition, still EXCLUDE
 *   G Timer == 0 If there are source records with running timers: switch
 *                to INCLUDE filter-mode using those source records.
 *                Else delete group record.
 *
 * Source timers are expired before the group timer of the same instant: a
 * source lowered to LMQT with the group (TO_IN ({}) in EXCLUDE mode) is not
 * carried into INCLUDE mode for nothing.
 */
bool
igmp_group_expire(struct igmp_router *r, struct igmp_group *g, uint64_t t)
{
	uint32_t i = 0;

	/* 7.3.2: v1 timer gone: IGMPv2 mode if its timer runs, else IGMPv3. */
	if (g->v1_host_timer && g->v1_host_timer <= t)
		g->v1_host_timer = 0;
	if (g->v2_host_timer && g->v2_host_timer <= t)
		g->v2_host_timer = 0;

	while (i < g->n_sources) {
		struct igmp_source *s = &g->sources[i];

		if (s->timer == 0 || s->timer > t) {
			i++;
			continue;
		}
		if (g->mode == IGMP_FILTER_INCLUDE) {
			igmp_group_source_remove_at(r, g, i);
			continue;
		}
		s->timer = 0;
		s->retransmit = 0;
		g->changed = true;
		i++;
	}

	if (g->mode == IGMP_FILTER_EXCLUDE && g->group_timer && g->group_timer <= t) {
		i = 0;
		while (i < g->n_sources) {
			if (g->sources[i].timer == 0)
				igmp_group_source_remove_at(r, g, i);
			else
				i++;
		}
		igmp_group_mode_set(g, IGMP_FILTER_INCLUDE);
	}

	if (g->mode == IGMP_FILTER_INCLUDE && g->n_sources == 0)
		return igmp_group_settle(r, g, false);
	igmp_querier_retransmit(r, g, t);
	return igmp_group_settle(r, g, false);
}
