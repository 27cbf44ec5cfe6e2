/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/group: the group manager's hysteresis (a role is taken
 * at once, given up only after it stayed unwanted for the hold time), the
 * soft state of discovered sources and announcements, the bounds, the
 * read-only walks, and a seeded random run over many groups checked against
 * a reference model written here from the description in group.h.
 *
 * Every test records the role_changed and state_changed callbacks and
 * asserts on them exactly: which group, old and new roles, how many times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <cmocka.h>

#include "group/group.h"

#define R GROUP_ROLE_RECEIVER
#define S GROUP_ROLE_SENDER
#define RS (GROUP_ROLE_RECEIVER | GROUP_ROLE_SENDER)

#define HOLD_MS        5000
#define IDLE_MS        60000
#define MAX_LIFETIME_S 3600
#define NO_DEADLINE    UINT64_MAX

#define EVENTS_MAX 4096
#define VIEWS_MAX  64

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 |
		     (uint32_t)c << 8 | d);
}

#define G1 ip4(239, 1, 1, 1)
#define G2 ip4(239, 1, 1, 2)
#define G3 ip4(239, 1, 1, 3)
#define G4 ip4(239, 1, 1, 4)
#define S1 ip4(192, 168, 1, 11)
#define S2 ip4(192, 168, 1, 12)
#define S3 ip4(192, 168, 1, 13)

/* ---- the test context: the manager and what its callbacks said ---- */

struct role_event {
	uint32_t group;
	uint8_t old_roles;
	uint8_t new_roles;
};

struct test_ctx {
	struct group_manager *gm;
	struct role_event events[EVENTS_MAX];
	unsigned n_events;        /* role_changed calls, even beyond EVENTS_MAX */
	unsigned n_state_changed; /* state_changed calls */
};

static void
on_role_changed(void *arg, uint32_t group, uint8_t old_roles, uint8_t new_roles)
{
	struct test_ctx *t = arg;

	if (t->n_events < EVENTS_MAX)
		t->events[t->n_events] = (struct role_event){ group, old_roles, new_roles };
	t->n_events++;
	/* group.h: the callback may look the group up again, and must then
	 * see the role it is told about. */
	assert_int_equal(group_manager_roles(t->gm, group), new_roles);
}

static void
on_state_changed(void *arg)
{
	struct test_ctx *t = arg;

	t->n_state_changed++;
}

static const struct group_manager_ops test_ops = {
	.role_changed = on_role_changed,
	.state_changed = on_state_changed,
};

static const struct group_manager_config test_config = {
	.leave_hold_ms = HOLD_MS,
	.source_idle_ms = IDLE_MS,
	.max_groups = 16,
	.max_sources = 16,
	.max_announcements = 16,
	.max_announce_lifetime_s = MAX_LIFETIME_S,
};

/* Replace the manager with one made from cfg, forgetting all events. */
static void
ctx_reset(struct test_ctx *t, const struct group_manager_config *cfg)
{
	group_manager_free(t->gm);
	memset(t, 0, sizeof(*t));
	t->gm = group_manager_create(cfg, &test_ops, t);
	assert_non_null(t->gm);
}

static int
setup(void **state)
{
	struct test_ctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->gm = group_manager_create(&test_config, &test_ops, t);
	if (t->gm == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct test_ctx *t = *state;

	group_manager_free(t->gm);
	free(t);
	return 0;
}

static void
assert_role_event(const struct test_ctx *t, unsigned i, uint32_t group,
		  uint8_t old_roles, uint8_t new_roles)
{
	assert_true(i < t->n_events);
	assert_int_equal(ntohl(t->events[i].group), ntohl(group));
	assert_int_equal(t->events[i].old_roles, old_roles);
	assert_int_equal(t->events[i].new_roles, new_roles);
}

static uint64_t
counter(const struct test_ctx *t, enum group_counter id)
{
	return group_manager_counter(t->gm, id);
}

/* ---- the read-only walks, collected ---- */

struct views {
	struct group_view v[VIEWS_MAX];
	unsigned n;
	unsigned stop_after; /* 0: walk all */
};

static bool
collect_group(void *arg, const struct group_view *view)
{
	struct views *vs = arg;

	assert_true(vs->n < VIEWS_MAX);
	vs->v[vs->n++] = *view;
	return vs->stop_after == 0 || vs->n < vs->stop_after;
}

static unsigned
groups_collect(const struct test_ctx *t, struct views *vs)
{
	memset(vs, 0, sizeof(*vs));
	group_manager_foreach(t->gm, collect_group, vs);
	return vs->n;
}

static unsigned
groups_count(const struct test_ctx *t)
{
	struct views vs;

	return groups_collect(t, &vs);
}

/* The view of group, which must be there. */
static struct group_view
group_view_of(const struct test_ctx *t, uint32_t group)
{
	struct views vs;

	groups_collect(t, &vs);
	for (unsigned i = 0; i < vs.n; i++)
		if (vs.v[i].group == group)
			return vs.v[i];
	fail_msg("group %08x not in foreach", ntohl(group));
	return vs.v[0];
}

struct source_views {
	struct group_source_view v[VIEWS_MAX];
	unsigned n;
	unsigned stop_after;
};

static bool
collect_source(void *arg, const struct group_source_view *view)
{
	struct source_views *vs = arg;

	assert_true(vs->n < VIEWS_MAX);
	vs->v[vs->n++] = *view;
	return vs->stop_after == 0 || vs->n < vs->stop_after;
}

static unsigned
sources_collect(const struct test_ctx *t, struct source_views *vs)
{
	memset(vs, 0, sizeof(*vs));
	group_manager_foreach_source(t->gm, collect_source, vs);
	return vs->n;
}

static const struct group_source_view *
source_view_find(const struct source_views *vs, uint32_t source, uint32_t group)
{
	for (unsigned i = 0; i < vs->n; i++)
		if (vs->v[i].source == source && vs->v[i].group == group)
			return &vs->v[i];
	return NULL;
}

static int
announce(struct test_ctx *t, uint32_t group, uint8_t roles, uint32_t lifetime_s,
	 uint64_t now_ms)
{
	char err[128] = "";
	int rc = group_manager_announce(t->gm, group, 0, roles, lifetime_s, now_ms,
					err, sizeof(err));

	if (rc == 0)
		assert_string_equal(err, "");
	return rc;
}

/* ---- IGMP receiver and hysteresis ---- */

static void
test_igmp_receiver_takes_receiver_role_at_once(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, R);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(counter(t, GROUP_CTR_role_changes), 1);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	/* Members are not forwarding state of this module: no snapshot rebuild. */
	assert_int_equal(t->n_state_changed, 0);

	/* The same report again changes nothing. */
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 2000);
	group_manager_tick(t->gm, 100000);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_roles(t->gm, G2), 0);
}

static void
test_receiver_leave_kept_until_hold_time_then_dropped_exactly_at_deadline(void **state)
{
	struct test_ctx *t = *state;
	struct group_view v;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 2000);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_next_deadline(t->gm), 2000 + HOLD_MS);
	v = group_view_of(t, G1);
	assert_int_equal(v.roles, R);
	assert_int_equal(v.wanted, 0);
	assert_int_equal(v.leave_at_ms, 2000 + HOLD_MS);

	group_manager_tick(t->gm, 2000 + HOLD_MS - 1);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), R);

	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
	assert_int_equal(group_manager_roles(t->gm, G1), 0);
	assert_int_equal(counter(t, GROUP_CTR_role_changes), 2);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	assert_int_equal(groups_count(t), 0);

	group_manager_tick(t->gm, 100000);
	assert_int_equal(t->n_events, 2);
	assert_int_equal(t->n_state_changed, 0);
}

static void
test_receiver_leave_dropped_at_first_tick_after_deadline(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 2000);
	group_manager_tick(t->gm, 3000);
	group_manager_tick(t->gm, 2000 + HOLD_MS - 1);
	assert_int_equal(t->n_events, 1);
	/* The deadline stays where it was, however often we tick before it. */
	assert_int_equal(group_manager_next_deadline(t->gm), 2000 + HOLD_MS);

	group_manager_tick(t->gm, 2000 + HOLD_MS + 2500);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
	assert_int_equal(groups_count(t), 0);
}

static void
test_flapping_receiver_within_hold_time_changes_no_role(void **state)
{
	struct test_ctx *t = *state;
	uint64_t now = 1000;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, now);
	for (int i = 0; i < 20; i++) {
		group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, now + 100);
		/* Back one ms before the hold time runs out. */
		group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, now + 100 + HOLD_MS - 1);
		now += 100 + HOLD_MS - 1;
		group_manager_tick(t->gm, now + 1);
		assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	}
	group_manager_tick(t->gm, now + 10 * HOLD_MS);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, R);
	assert_int_equal(group_manager_roles(t->gm, G1), R);

	/* A later leave starts a fresh hold time, not an old one. */
	now += 10 * HOLD_MS;
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, now);
	assert_int_equal(group_manager_next_deadline(t->gm), now + HOLD_MS);
	group_manager_tick(t->gm, now + HOLD_MS - 1);
	assert_int_equal(t->n_events, 1);
	group_manager_tick(t->gm, now + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
}

/* ---- discovered sources ---- */

static void
test_discovered_source_makes_group_sender_at_once(void **state)
{
	struct test_ctx *t = *state;

	group_manager_source_seen(t->gm, S1, G1, 1000);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, S);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	assert_int_equal(t->n_state_changed, 1);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 1);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 0);
	assert_int_equal(group_manager_next_deadline(t->gm), 1000 + IDLE_MS);
	assert_false(group_manager_announced_receive(t->gm, G1));
}

static void
test_source_refreshed_expires_idle_after_last_sighting_then_sender_held(void **state)
{
	struct test_ctx *t = *state;
	struct source_views sv;
	const uint64_t last = 50000, expiry = last + IDLE_MS;
	struct group_view v;

	group_manager_source_seen(t->gm, S1, G1, 1000);
	group_manager_source_seen(t->gm, S1, G1, 30000);
	group_manager_source_seen(t->gm, S1, G1, last);
	/* A refresh is no news: one discovery, one rebuild, one role change. */
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 1);
	assert_int_equal(t->n_state_changed, 1);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(sources_collect(t, &sv), 1);
	assert_int_equal(sv.v[0].first_seen_ms, 1000);
	assert_int_equal(sv.v[0].last_seen_ms, last);
	assert_int_equal(group_manager_next_deadline(t->gm), expiry);

	/* Where it would have expired without the refreshes: still alive. */
	group_manager_tick(t->gm, 1000 + IDLE_MS);
	group_manager_tick(t->gm, expiry - 1);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 0);
	assert_int_equal(t->n_state_changed, 1);
	assert_int_equal(sources_collect(t, &sv), 1);

	group_manager_tick(t->gm, expiry);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(sources_collect(t, &sv), 0);
	/* The sender role outlives its source by the hold time. */
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	v = group_view_of(t, G1);
	assert_int_equal(v.n_sources, 0);
	assert_int_equal(v.wanted, 0);
	assert_int_equal(v.leave_at_ms, expiry + HOLD_MS);
	assert_int_equal(group_manager_next_deadline(t->gm), expiry + HOLD_MS);

	group_manager_tick(t->gm, expiry + HOLD_MS - 1);
	assert_int_equal(t->n_events, 1);
	group_manager_tick(t->gm, expiry + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, S, 0);
	assert_int_equal(groups_count(t), 0);
	/* Giving up a role is no forwarding state change. */
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 1);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 1);
}

static void
test_sender_kept_while_any_source_of_group_lives(void **state)
{
	struct test_ctx *t = *state;

	group_manager_source_seen(t->gm, S1, G1, 1000);
	group_manager_source_seen(t->gm, S2, G1, 20000);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 2);

	group_manager_tick(t->gm, 1000 + IDLE_MS);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 1);
	assert_int_equal(t->n_state_changed, 3);
	assert_int_equal(group_view_of(t, G1).n_sources, 1);
	assert_int_equal(group_view_of(t, G1).leave_at_ms, 0);
	assert_int_equal(group_manager_next_deadline(t->gm), 20000 + IDLE_MS);

	group_manager_tick(t->gm, 20000 + IDLE_MS);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 2);
	assert_int_equal(t->n_state_changed, 4);
	assert_int_equal(t->n_events, 1);
	group_manager_tick(t->gm, 20000 + IDLE_MS + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, S, 0);
}

static void
test_source_back_within_hold_time_is_discovered_anew_without_role_change(void **state)
{
	struct test_ctx *t = *state;

	group_manager_source_seen(t->gm, S1, G1, 0);
	group_manager_tick(t->gm, IDLE_MS);
	assert_int_equal(counter(t, GROUP_CTR_sources_expired), 1);
	group_manager_source_seen(t->gm, S1, G1, IDLE_MS + HOLD_MS - 1);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 2);
	assert_int_equal(t->n_state_changed, 3);
	group_manager_tick(t->gm, IDLE_MS + HOLD_MS);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	assert_int_equal(group_manager_next_deadline(t->gm), IDLE_MS + HOLD_MS - 1 + IDLE_MS);
}

/* ---- both roles ---- */

static void
test_both_roles_from_different_inputs_losing_receiver_keeps_sender(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_source_seen(t->gm, S1, G1, 2000);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 0, G1, 0, R);
	assert_role_event(t, 1, G1, R, RS);

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 3000);
	group_manager_tick(t->gm, 3000 + HOLD_MS - 1);
	assert_int_equal(group_manager_roles(t->gm, G1), RS);
	group_manager_tick(t->gm, 3000 + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, S);
	assert_int_equal(group_manager_next_deadline(t->gm), 2000 + IDLE_MS);
	group_manager_tick(t->gm, 2000 + IDLE_MS - 1);
	assert_int_equal(t->n_events, 3);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
}

static void
test_both_roles_from_different_inputs_losing_sender_keeps_receiver(void **state)
{
	struct test_ctx *t = *state;

	group_manager_source_seen(t->gm, S1, G1, 0);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, R, 0);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, S, RS);

	group_manager_tick(t->gm, IDLE_MS);
	group_manager_tick(t->gm, IDLE_MS + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, R);
	group_manager_tick(t->gm, 10 * IDLE_MS);
	assert_int_equal(t->n_events, 3);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
}

static void
test_each_role_is_held_for_its_own_hold_time(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, S, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 2000);
	/* The sender becomes unwanted 4 s after the receiver. */
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, 6000);
	assert_int_equal(group_manager_next_deadline(t->gm), 2000 + HOLD_MS);

	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, S);
	assert_int_equal(group_manager_next_deadline(t->gm), 6000 + HOLD_MS);
	group_manager_tick(t->gm, 6000 + HOLD_MS - 1);
	assert_int_equal(t->n_events, 3);
	group_manager_tick(t->gm, 6000 + HOLD_MS);
	assert_int_equal(t->n_events, 4);
	assert_role_event(t, 3, G1, S, 0);
}

static void
test_role_wished_again_does_not_hand_its_hold_deadline_to_the_other(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, S, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 2000);
	/* At 6000 the sender is unpinned and the receiver comes back. */
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, 6000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 6000);
	assert_int_equal(group_manager_next_deadline(t->gm), 6000 + HOLD_MS);

	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_int_equal(group_manager_roles(t->gm, G1), RS);
	group_manager_tick(t->gm, 6000 + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, R);
}

static void
test_source_expiring_at_receiver_deadline_still_holds_sender(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_source_seen(t->gm, S1, G1, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 1000 + IDLE_MS - HOLD_MS);
	/* One tick: the receiver's hold runs out and the source expires. */
	group_manager_tick(t->gm, 1000 + IDLE_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, S);
	assert_int_equal(group_manager_next_deadline(t->gm), 1000 + IDLE_MS + HOLD_MS);
	group_manager_tick(t->gm, 1000 + IDLE_MS + HOLD_MS);
	assert_int_equal(t->n_events, 4);
	assert_role_event(t, 3, G1, S, 0);
}

/* ---- announcements ---- */

static void
test_receive_announcement_takes_receiver_role_until_lifetime_ends(void **state)
{
	struct test_ctx *t = *state;
	struct group_view v;

	assert_int_equal(announce(t, G1, R, 10, 1000), 0);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, R);
	assert_int_equal(t->n_state_changed, 1);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 1);
	v = group_view_of(t, G1);
	assert_int_equal(v.announce_expiry_ms[0], 11000);
	assert_int_equal(v.announce_expiry_ms[1], 0);
	assert_int_equal(v.wanted, R);
	assert_int_equal(group_manager_next_deadline(t->gm), 11000);

	group_manager_tick(t->gm, 10999);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 0);
	assert_int_equal(t->n_state_changed, 1);

	group_manager_tick(t->gm, 11000);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	v = group_view_of(t, G1);
	assert_int_equal(v.announce_expiry_ms[0], 0);
	assert_int_equal(v.leave_at_ms, 11000 + HOLD_MS);
	assert_int_equal(group_manager_next_deadline(t->gm), 11000 + HOLD_MS);

	group_manager_tick(t->gm, 11000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(t->n_state_changed, 2);
}

static void
test_send_announcement_takes_sender_role_until_lifetime_ends(void **state)
{
	struct test_ctx *t = *state;
	char err[128] = "";

	/* For one source: a unicast source is fine. */
	assert_int_equal(group_manager_announce(t->gm, G1, S1, S, 20, 0, err, sizeof(err)), 0);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, S);
	assert_false(group_manager_announced_receive(t->gm, G1));
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[1], 20000);
	/* Announced senders are not discovered sources. */
	assert_int_equal(group_view_of(t, G1).n_sources, 0);

	group_manager_tick(t->gm, 20000);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	group_manager_tick(t->gm, 20000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, S, 0);
}

static void
test_announcement_for_both_roles_expires_both(void **state)
{
	struct test_ctx *t = *state;

	assert_int_equal(announce(t, G1, RS, 10, 1000), 0);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, RS);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 1);

	group_manager_tick(t->gm, 11000);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 2);
	assert_int_equal(t->n_state_changed, 2);
	group_manager_tick(t->gm, 11000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, RS, 0);
}

static void
test_announcement_refresh_extends_lifetime(void **state)
{
	struct test_ctx *t = *state;

	assert_int_equal(announce(t, G1, R, 10, 1000), 0);
	assert_int_equal(announce(t, G1, R, 10, 9000), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 2);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[0], 19000);
	assert_int_equal(group_manager_next_deadline(t->gm), 19000);

	group_manager_tick(t->gm, 11000);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 0);
	assert_true(group_manager_announced_receive(t->gm, G1));
	group_manager_tick(t->gm, 19000);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 1);
	assert_false(group_manager_announced_receive(t->gm, G1));
	group_manager_tick(t->gm, 19000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
}

static void
test_withdraw_ends_announcement_then_role_after_hold_time(void **state)
{
	struct test_ctx *t = *state;

	assert_int_equal(announce(t, G1, R, 100, 1000), 0);
	assert_int_equal(group_manager_withdraw(t->gm, G1, R, 2000), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcements_withdrawn), 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_false(group_manager_announced_receive(t->gm, G1));
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_next_deadline(t->gm), 2000 + HOLD_MS);

	/* Nothing left to withdraw, for this group or an unknown one. */
	assert_int_equal(group_manager_withdraw(t->gm, G1, R, 3000), -1);
	assert_int_equal(group_manager_withdraw(t->gm, G2, RS, 3000), -1);
	assert_int_equal(counter(t, GROUP_CTR_announcements_withdrawn), 1);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(groups_count(t), 1);

	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcements_expired), 0);
}

static void
test_withdraw_one_role_keeps_the_other_announced(void **state)
{
	struct test_ctx *t = *state;

	assert_int_equal(announce(t, G1, RS, 100, 1000), 0);
	/* Withdrawing what was not announced is refused and changes nothing. */
	assert_int_equal(announce(t, G2, R, 100, 1000), 0);
	assert_int_equal(group_manager_withdraw(t->gm, G2, S, 1500), -1);
	assert_true(group_manager_announced_receive(t->gm, G2));

	assert_int_equal(group_manager_withdraw(t->gm, G1, S, 2000), 0);
	assert_true(group_manager_announced_receive(t->gm, G1));
	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G1, RS, R);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[0], 101000);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[1], 0);
	assert_int_equal(counter(t, GROUP_CTR_announcements_withdrawn), 1);
}

struct bad_announcement {
	uint32_t group;
	uint32_t source;
	uint8_t roles;
	uint32_t lifetime_s;
	const char *reason; /* a word the refusal must say */
};

static void
test_invalid_announcements_refused_with_reason_and_change_nothing(void **state)
{
	struct test_ctx *t = *state;
	const struct bad_announcement bad[] = {
		{ ip4(10, 0, 0, 1), 0, R, 10, "multicast group" },
		{ ip4(240, 0, 0, 1), 0, R, 10, "multicast group" },
		{ ip4(224, 0, 0, 5), 0, R, 10, "multicast group" },
		{ ip4(224, 0, 0, 255), 0, S, 10, "multicast group" },
		{ G1, ip4(239, 9, 9, 9), S, 10, "source" },
		{ G2, ip4(224, 0, 0, 1), S, 10, "source" },
		{ G1, 0, 0, 10, "send, receive" },
		{ G2, 0, 0x4, 10, "send, receive" },
		{ G1, 0, R, 0, "lifetime" },
		{ G2, 0, S, 0, "lifetime" },
		{ G1, 0, R, MAX_LIFETIME_S + 1, "3600" },
		{ G2, 0, RS, UINT32_MAX, "lifetime" },
	};

	assert_int_equal(announce(t, G1, R, 10, 1000), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128] = "";

		assert_int_equal(group_manager_announce(t->gm, bad[i].group, bad[i].source,
							bad[i].roles, bad[i].lifetime_s,
							2000, err, sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].reason);
	}
	assert_int_equal(t->n_events, 1);
	assert_int_equal(t->n_state_changed, 1);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 1);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcement_limit_hit), 0);
	assert_int_equal(groups_count(t), 1);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[0], 11000);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[1], 0);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_next_deadline(t->gm), 11000);
}

static void
test_announcement_limits_accepted_at_their_edges(void **state)
{
	struct test_ctx *t = *state;

	/* Just outside 224.0.0.0/24, the longest lifetime, the shortest. */
	assert_int_equal(announce(t, ip4(224, 0, 1, 1), R, MAX_LIFETIME_S, 0), 0);
	assert_int_equal(announce(t, ip4(239, 255, 255, 255), S, 1, 0), 0);
	assert_int_equal(group_view_of(t, ip4(224, 0, 1, 1)).announce_expiry_ms[0],
			 MAX_LIFETIME_S * 1000ull);
	assert_int_equal(group_manager_next_deadline(t->gm), 1000);
	assert_int_equal(t->n_events, 2);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 2);
}

static void
test_announced_receive_true_while_receive_announcement_lives(void **state)
{
	struct test_ctx *t = *state;

	/* Members, a send announcement or nothing at all: no. */
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 0);
	assert_int_equal(announce(t, G1, S, 10, 0), 0);
	assert_false(group_manager_announced_receive(t->gm, G1));
	assert_false(group_manager_announced_receive(t->gm, G3));

	assert_int_equal(announce(t, G2, R, 5, 1000), 0);
	assert_true(group_manager_announced_receive(t->gm, G2));
	assert_false(group_manager_announced_receive(t->gm, G1));
	group_manager_tick(t->gm, 5999);
	assert_true(group_manager_announced_receive(t->gm, G2));
	group_manager_tick(t->gm, 6000);
	assert_false(group_manager_announced_receive(t->gm, G2));
	/* The receiver role is still held; the announcement is gone. */
	assert_int_equal(group_manager_roles(t->gm, G2), R);

	assert_int_equal(announce(t, G2, R, 5, 7000), 0);
	assert_true(group_manager_announced_receive(t->gm, G2));
	assert_int_equal(group_manager_withdraw(t->gm, G2, R, 8000), 0);
	assert_false(group_manager_announced_receive(t->gm, G2));
}

/* ---- configuration input ---- */

static void
test_config_pinned_group_is_sender_until_unpinned_then_held(void **state)
{
	struct test_ctx *t = *state;
	const uint64_t later = 1000ull * IDLE_MS;

	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, S, 0);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, S);
	assert_int_equal(t->n_state_changed, 0);
	/* A level input does not expire. */
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	group_manager_tick(t->gm, later);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	assert_int_equal(group_view_of(t, G1).inputs[GROUP_INPUT_CONFIG], S);

	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, later);
	assert_int_equal(group_manager_next_deadline(t->gm), later + HOLD_MS);
	group_manager_tick(t->gm, later + HOLD_MS - 1);
	assert_int_equal(t->n_events, 1);
	group_manager_tick(t->gm, later + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, S, 0);
	assert_int_equal(groups_count(t), 0);
}

static void
test_config_receive_group_is_receiver_and_flaps_like_igmp(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, R, 0);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, R, 2000);
	group_manager_tick(t->gm, 1000 + HOLD_MS);
	assert_int_equal(t->n_events, 1);
	assert_role_event(t, 0, G1, 0, R);

	/* Receive and pin at once: both roles in one change. */
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G2, RS, 3000);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G2, 0, RS);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G2, S, 4000);
	group_manager_tick(t->gm, 4000 + HOLD_MS);
	assert_int_equal(t->n_events, 3);
	assert_role_event(t, 2, G2, RS, S);
}

static void
test_inputs_are_tracked_separately(void **state)
{
	struct test_ctx *t = *state;
	struct group_view v;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 0);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, R, 0);
	assert_int_equal(t->n_events, 1);

	/* The members leave; the configuration still wants the receiver. */
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 1000);
	v = group_view_of(t, G1);
	assert_int_equal(v.inputs[GROUP_INPUT_IGMP], 0);
	assert_int_equal(v.inputs[GROUP_INPUT_CONFIG], R);
	assert_int_equal(v.wanted, R);
	assert_int_equal(v.leave_at_ms, 0);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	group_manager_tick(t->gm, 1000 + HOLD_MS);
	assert_int_equal(t->n_events, 1);

	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, 10000);
	group_manager_tick(t->gm, 10000 + HOLD_MS);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 1, G1, R, 0);
}

/* ---- bounds ---- */

static void
test_max_groups_hit_is_counted_and_existing_groups_unaffected(void **state)
{
	struct test_ctx *t = *state;
	struct group_manager_config cfg = test_config;
	struct source_views sv;
	char err[128] = "";

	cfg.max_groups = 3;
	ctx_reset(t, &cfg);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 0);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G2, R, 0);
	assert_int_equal(group_manager_room(t->gm), 1);
	assert_int_equal(group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G3, R, 0), 0);
	assert_int_equal(t->n_events, 3);
	assert_int_equal(group_manager_room(t->gm), 0);

	/* Refused: said to the caller, who must set it again later. */
	assert_int_equal(group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G4, R, 1000), -1);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 1);
	group_manager_source_seen(t->gm, S1, G4, 1000);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 2);
	assert_int_equal(group_manager_announce(t->gm, G4, 0, R, 10, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many groups"));
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 3);
	/* Clearing a group never seen needs no room. */
	assert_int_equal(group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G4, 0, 1000), 0);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 3);

	assert_int_equal(t->n_events, 3);
	assert_int_equal(t->n_state_changed, 0);
	assert_int_equal(group_manager_roles(t->gm, G4), 0);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 0);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 0);
	assert_int_equal(sources_collect(t, &sv), 0);
	assert_int_equal(groups_count(t), 3);
	assert_int_equal(group_manager_roles(t->gm, G1), R);
	assert_int_equal(group_manager_roles(t->gm, G2), R);
	assert_int_equal(group_manager_roles(t->gm, G3), R);

	/* Existing groups still take new state when the table is full. */
	group_manager_source_seen(t->gm, S1, G2, 2000);
	assert_int_equal(group_manager_roles(t->gm, G2), RS);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 3);

	/* Once a group is gone, there is room again. */
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 3000);
	group_manager_tick(t->gm, 3000 + HOLD_MS);
	assert_int_equal(groups_count(t), 2);
	assert_int_equal(group_manager_room(t->gm), 1);
	assert_int_equal(group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G4, R, 9000), 0);
	assert_int_equal(group_manager_roles(t->gm, G4), R);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 3);
	assert_int_equal(t->n_events, 6);
	assert_role_event(t, 3, G2, R, RS);
	assert_role_event(t, 4, G1, R, 0);
	assert_role_event(t, 5, G4, 0, R);
}

static void
test_max_sources_hit_is_counted_and_existing_sources_unaffected(void **state)
{
	struct test_ctx *t = *state;
	struct group_manager_config cfg = test_config;
	struct source_views sv;

	cfg.max_sources = 2;
	ctx_reset(t, &cfg);
	group_manager_source_seen(t->gm, S1, G1, 1000);
	group_manager_source_seen(t->gm, S2, G1, 2000);
	group_manager_source_seen(t->gm, S3, G2, 3000);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 1);
	group_manager_source_seen(t->gm, S3, G1, 3000);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 2);
	/* A refresh needs no room. */
	group_manager_source_seen(t->gm, S1, G1, 30000);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 2);

	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 2);
	assert_int_equal(t->n_state_changed, 2);
	assert_int_equal(t->n_events, 1);
	assert_int_equal(group_manager_roles(t->gm, G2), 0);
	assert_int_equal(groups_count(t), 1);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 0);
	assert_int_equal(sources_collect(t, &sv), 2);
	assert_non_null(source_view_find(&sv, S1, G1));
	assert_int_equal(source_view_find(&sv, S1, G1)->last_seen_ms, 30000);
	assert_non_null(source_view_find(&sv, S2, G1));

	/* S2 expires: room for the one refused. */
	group_manager_tick(t->gm, 2000 + IDLE_MS);
	group_manager_source_seen(t->gm, S3, G2, 2000 + IDLE_MS);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 3);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 2);
	assert_int_equal(group_manager_roles(t->gm, G2), S);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
}

/* Past its bounds a flood of sightings costs no memory: the tables are
 * allocated at their bounds when the manager is made. */
static void
test_group_bounds_stop_allocation_not_just_counting(void **state)
{
	struct test_ctx *t = *state;
	struct group_manager_config cfg = test_config;
	struct mallinfo2 before, after;

	cfg.max_groups = 4;
	cfg.max_sources = 16;
	ctx_reset(t, &cfg);
	for (uint32_t i = 0; i < 8; i++)
		group_manager_source_seen(t->gm, htonl(0x0a000001u + i), htonl(0xef000001u + (i & 3)),
					  1000);
	before = mallinfo2();
	/* New sources in groups never seen: the groups are full. */
	for (uint32_t i = 0; i < 10000; i++)
		group_manager_source_seen(t->gm, htonl(0x0c000001u + i), htonl(0xef100001u + i), 2000);
	/* New sources in a group held: 8 fit, then the sources are full. */
	for (uint32_t i = 0; i < 10000; i++)
		group_manager_source_seen(t->gm, htonl(0x0b000001u + i), htonl(0xef000001u), 2000);
	after = mallinfo2();
	assert_int_equal(after.uordblks, before.uordblks);
	assert_int_equal(groups_count(t), 4);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 16);
	assert_int_equal(counter(t, GROUP_CTR_group_limit_hit), 10000);
	assert_int_equal(counter(t, GROUP_CTR_source_limit_hit), 9992);
}

static void
test_max_announcements_hit_is_counted_and_existing_unaffected(void **state)
{
	struct test_ctx *t = *state;
	struct group_manager_config cfg = test_config;
	char err[128] = "";

	cfg.max_announcements = 2;
	ctx_reset(t, &cfg);
	assert_int_equal(announce(t, G1, RS, 10, 1000), 0);
	assert_int_equal(group_manager_announce(t->gm, G2, 0, R, 10, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many announcements"));
	assert_int_equal(counter(t, GROUP_CTR_announcement_limit_hit), 1);
	assert_int_equal(groups_count(t), 1);
	assert_int_equal(group_manager_roles(t->gm, G2), 0);

	/* Refreshing a live announcement needs no room. */
	assert_int_equal(announce(t, G1, R, 10, 2000), 0);
	assert_int_equal(announce(t, G1, RS, 10, 3000), 0);
	assert_int_equal(counter(t, GROUP_CTR_announcement_limit_hit), 1);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[0], 13000);
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[1], 13000);

	/* One slot free, two asked: refused whole. */
	assert_int_equal(group_manager_withdraw(t->gm, G1, S, 4000), 0);
	assert_int_equal(group_manager_announce(t->gm, G2, 0, RS, 10, 4000, err, sizeof(err)), -1);
	assert_int_equal(counter(t, GROUP_CTR_announcement_limit_hit), 2);
	assert_int_equal(groups_count(t), 1);
	assert_int_equal(announce(t, G2, R, 10, 4000), 0);

	assert_int_equal(counter(t, GROUP_CTR_announcements_accepted), 4);
	assert_int_equal(t->n_state_changed, 5);
	assert_int_equal(t->n_events, 2);
	assert_role_event(t, 0, G1, 0, RS);
	assert_role_event(t, 1, G2, 0, R);
	assert_true(group_manager_announced_receive(t->gm, G1));
	assert_int_equal(group_view_of(t, G1).announce_expiry_ms[0], 13000);
}

/* ---- what foreach shows ---- */

static void
test_group_with_nothing_left_leaves_foreach_once_its_roles_are_gone(void **state)
{
	struct test_ctx *t = *state;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, S, 1000);
	group_manager_source_seen(t->gm, S1, G1, 1000);
	assert_int_equal(announce(t, G1, R, 10, 1000), 0);

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, 0, 2000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, 0, 2000);
	assert_int_equal(group_manager_withdraw(t->gm, G1, R, 2000), 0);
	assert_int_equal(groups_count(t), 1);
	group_manager_tick(t->gm, 2000 + HOLD_MS);
	assert_int_equal(group_manager_roles(t->gm, G1), S);
	assert_int_equal(groups_count(t), 1);
	group_manager_tick(t->gm, 1000 + IDLE_MS);
	assert_int_equal(groups_count(t), 1);
	group_manager_tick(t->gm, 1000 + IDLE_MS + HOLD_MS);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(t->n_events, 4);
	assert_role_event(t, 0, G1, 0, R);
	assert_role_event(t, 1, G1, R, RS);
	assert_role_event(t, 2, G1, RS, S);
	assert_role_event(t, 3, G1, S, 0);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);

	/* Clearing or withdrawing for unknown groups creates nothing. */
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G2, 0, 100000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G2, 0, 100000);
	assert_int_equal(group_manager_withdraw(t->gm, G2, RS, 100000), -1);
	assert_int_equal(groups_count(t), 0);
}

static void
test_foreach_reports_groups_inputs_announcements_and_sources(void **state)
{
	struct test_ctx *t = *state;
	struct source_views sv;
	const struct group_source_view *s;
	struct group_view v;

	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G1, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, G1, S, 1000);
	group_manager_source_seen(t->gm, S1, G1, 1000);
	assert_int_equal(announce(t, G1, R, 10, 1000), 0);
	group_manager_source_seen(t->gm, S2, G2, 2000);
	group_manager_source_seen(t->gm, S3, G2, 3000);
	group_manager_source_seen(t->gm, S2, G2, 4000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G3, R, 1000);
	group_manager_input_set(t->gm, GROUP_INPUT_IGMP, G3, 0, 5000);

	assert_int_equal(groups_count(t), 3);
	v = group_view_of(t, G1);
	assert_int_equal(v.roles, RS);
	assert_int_equal(v.wanted, RS);
	assert_int_equal(v.inputs[GROUP_INPUT_IGMP], R);
	assert_int_equal(v.inputs[GROUP_INPUT_CONFIG], S);
	assert_int_equal(v.announce_expiry_ms[0], 11000);
	assert_int_equal(v.announce_expiry_ms[1], 0);
	assert_int_equal(v.leave_at_ms, 0);
	assert_int_equal(v.n_sources, 1);

	v = group_view_of(t, G2);
	assert_int_equal(v.roles, S);
	assert_int_equal(v.wanted, S);
	assert_int_equal(v.inputs[GROUP_INPUT_IGMP], 0);
	assert_int_equal(v.inputs[GROUP_INPUT_CONFIG], 0);
	assert_int_equal(v.announce_expiry_ms[0], 0);
	assert_int_equal(v.announce_expiry_ms[1], 0);
	assert_int_equal(v.n_sources, 2);

	v = group_view_of(t, G3);
	assert_int_equal(v.roles, R);
	assert_int_equal(v.wanted, 0);
	assert_int_equal(v.leave_at_ms, 5000 + HOLD_MS);
	assert_int_equal(v.n_sources, 0);

	assert_int_equal(sources_collect(t, &sv), 3);
	s = source_view_find(&sv, S1, G1);
	assert_non_null(s);
	assert_int_equal(s->first_seen_ms, 1000);
	assert_int_equal(s->last_seen_ms, 1000);
	s = source_view_find(&sv, S2, G2);
	assert_non_null(s);
	assert_int_equal(s->first_seen_ms, 2000);
	assert_int_equal(s->last_seen_ms, 4000);
	s = source_view_find(&sv, S3, G2);
	assert_non_null(s);
	assert_int_equal(s->first_seen_ms, 3000);
	assert_int_equal(s->last_seen_ms, 3000);
	assert_null(source_view_find(&sv, S1, G2));

	assert_int_equal(t->n_state_changed, 4);
	assert_int_equal(counter(t, GROUP_CTR_sources_discovered), 3);
}

static void
test_foreach_stops_when_callback_returns_false(void **state)
{
	struct test_ctx *t = *state;
	struct views vs = { .stop_after = 1 };
	struct source_views sv = { .stop_after = 2 };

	group_manager_source_seen(t->gm, S1, G1, 0);
	group_manager_source_seen(t->gm, S2, G2, 0);
	group_manager_source_seen(t->gm, S3, G3, 0);
	group_manager_foreach(t->gm, collect_group, &vs);
	assert_int_equal(vs.n, 1);
	group_manager_foreach_source(t->gm, collect_source, &sv);
	assert_int_equal(sv.n, 2);
}

static void
test_counter_names_are_the_telemetry_words(void **state)
{
	(void)state;
	assert_string_equal(group_counter_name(GROUP_CTR_role_changes), "role_changes");
	assert_string_equal(group_counter_name(GROUP_CTR_sources_expired), "sources_expired");
	assert_string_equal(group_counter_name(GROUP_CTR_announcement_limit_hit),
			    "announcement_limit_hit");
	assert_string_equal(group_counter_name(GROUP_CTR_MAX), "unknown");
}

static void
test_config_defaults_fill_only_unset_fields(void **state)
{
	struct group_manager_config cfg = { .leave_hold_ms = 1234, .max_sources = 7 };

	(void)state;
	group_manager_config_defaults(&cfg);
	assert_int_equal(cfg.leave_hold_ms, 1234);
	assert_int_equal(cfg.max_sources, 7);
	assert_true(cfg.source_idle_ms > 0);
	assert_true(cfg.max_groups > 0);
	assert_true(cfg.max_announcements > 0);
	assert_true(cfg.max_announce_lifetime_s > 0);
}

/* ---- many groups against a reference model ---- */

/*
 * The model follows group.h, role by role: a role wished for by any input,
 * live source or live announcement is taken at once; a role no longer wished
 * for gets its own deadline leave_hold_ms after it was first found unwanted,
 * is dropped at the first evaluation at/after that deadline, and the
 * deadline is forgotten as soon as the role is wished for again.
 */
#define MODEL_GROUPS      1000
#define MODEL_HOT_GROUPS  40
#define MODEL_SOURCES     3   /* per group */
#define MODEL_HOLD_MS     5000
#define MODEL_IDLE_MS     20000
#define MODEL_STEPS       60000

struct model_group {
	bool present;
	uint8_t inputs[GROUP_INPUT_MAX];
	uint64_t announce_expiry_ms[2];
	uint8_t roles;
	uint64_t leave_at_ms[2]; /* receiver, sender; 0 when none */
	bool source_live[MODEL_SOURCES];
	uint64_t source_first_ms[MODEL_SOURCES];
	uint64_t source_last_ms[MODEL_SOURCES];
	uint32_t n_sources;
};

struct model {
	struct model_group g[MODEL_GROUPS];
	uint64_t counters[GROUP_CTR_MAX];
	unsigned n_state_changed;
	struct role_event expected[EVENTS_MAX];
	unsigned n_expected;
};

static const uint8_t role_bit[2] = { GROUP_ROLE_RECEIVER, GROUP_ROLE_SENDER };

static uint32_t
model_group_addr(unsigned i)
{
	return ip4(239, 10, (uint8_t)(i >> 8), (uint8_t)i);
}

static unsigned
model_group_index(uint32_t group)
{
	return ntohl(group) & 0xffff;
}

static uint32_t
model_source_addr(unsigned j)
{
	return ip4(10, 0, (uint8_t)j, 1);
}

static uint8_t
model_wanted(const struct model_group *g, uint64_t now_ms)
{
	uint8_t wanted = 0;

	for (int i = 0; i < GROUP_INPUT_MAX; i++)
		wanted |= g->inputs[i];
	if (g->n_sources)
		wanted |= S;
	for (int slot = 0; slot < 2; slot++)
		if (g->announce_expiry_ms[slot] > now_ms)
			wanted |= role_bit[slot];
	return wanted;
}

static void
model_evaluate(struct model *m, unsigned i, uint64_t now_ms)
{
	struct model_group *g = &m->g[i];
	uint8_t wanted = model_wanted(g, now_ms);
	uint8_t old = g->roles;

	for (int r = 0; r < 2; r++) {
		uint8_t bit = role_bit[r];

		if (wanted & bit) {
			g->roles |= bit;
			g->leave_at_ms[r] = 0;
		} else if (g->roles & bit) {
			if (g->leave_at_ms[r] == 0) {
				g->leave_at_ms[r] = now_ms + MODEL_HOLD_MS;
			} else if (now_ms >= g->leave_at_ms[r]) {
				g->roles &= (uint8_t)~bit;
				g->leave_at_ms[r] = 0;
			}
		}
	}
	if (g->roles != old) {
		m->counters[GROUP_CTR_role_changes]++;
		assert_true(m->n_expected < EVENTS_MAX);
		m->expected[m->n_expected++] =
			(struct role_event){ model_group_addr(i), old, g->roles };
	}
	if (g->roles == 0 && wanted == 0 && g->n_sources == 0 &&
	    g->announce_expiry_ms[0] == 0 && g->announce_expiry_ms[1] == 0)
		memset(g, 0, sizeof(*g));
}

static void
model_input_set(struct model *m, unsigned i, enum group_input input, uint8_t roles,
		uint64_t now_ms)
{
	struct model_group *g = &m->g[i];

	if (!g->present && roles == 0)
		return;
	g->present = true;
	g->inputs[input] = roles;
	model_evaluate(m, i, now_ms);
}

static void
model_source_seen(struct model *m, unsigned i, unsigned j, uint64_t now_ms)
{
	struct model_group *g = &m->g[i];

	if (g->present && g->source_live[j]) {
		g->source_last_ms[j] = now_ms;
		return;
	}
	g->present = true;
	g->source_live[j] = true;
	g->source_first_ms[j] = now_ms;
	g->source_last_ms[j] = now_ms;
	g->n_sources++;
	m->counters[GROUP_CTR_sources_discovered]++;
	model_evaluate(m, i, now_ms);
	m->n_state_changed++;
}

static void
model_announce(struct model *m, unsigned i, uint8_t roles, uint32_t lifetime_s,
	       uint64_t now_ms)
{
	struct model_group *g = &m->g[i];

	g->present = true;
	for (int slot = 0; slot < 2; slot++)
		if (roles & role_bit[slot])
			g->announce_expiry_ms[slot] = now_ms + lifetime_s * 1000ull;
	m->counters[GROUP_CTR_announcements_accepted]++;
	model_evaluate(m, i, now_ms);
	m->n_state_changed++;
}

static int
model_withdraw(struct model *m, unsigned i, uint8_t roles, uint64_t now_ms)
{
	struct model_group *g = &m->g[i];
	bool cleared = false;

	if (!g->present)
		return -1;
	for (int slot = 0; slot < 2; slot++) {
		if ((roles & role_bit[slot]) && g->announce_expiry_ms[slot]) {
			g->announce_expiry_ms[slot] = 0;
			cleared = true;
		}
	}
	if (!cleared)
		return -1;
	m->counters[GROUP_CTR_announcements_withdrawn]++;
	model_evaluate(m, i, now_ms);
	m->n_state_changed++;
	return 0;
}

static void
model_tick(struct model *m, uint64_t now_ms)
{
	bool changed = false;

	for (unsigned i = 0; i < MODEL_GROUPS; i++) {
		struct model_group *g = &m->g[i];
		bool expired = false;

		if (!g->present)
			continue;
		for (unsigned j = 0; j < MODEL_SOURCES; j++) {
			if (g->source_live[j] && g->source_last_ms[j] + MODEL_IDLE_MS <= now_ms) {
				g->source_live[j] = false;
				g->n_sources--;
				m->counters[GROUP_CTR_sources_expired]++;
				expired = true;
			}
		}
		if (expired) {
			changed = true;
			model_evaluate(m, i, now_ms);
		}
	}
	for (unsigned i = 0; i < MODEL_GROUPS; i++) {
		struct model_group *g = &m->g[i];

		if (!g->present)
			continue;
		for (int slot = 0; slot < 2; slot++) {
			if (g->announce_expiry_ms[slot] && g->announce_expiry_ms[slot] <= now_ms) {
				g->announce_expiry_ms[slot] = 0;
				m->counters[GROUP_CTR_announcements_expired]++;
				changed = true;
			}
		}
		model_evaluate(m, i, now_ms);
	}
	if (changed)
		m->n_state_changed++;
}

static uint64_t
deadline_min(uint64_t a, uint64_t b)
{
	return (b != 0 && b < a) ? b : a;
}

static uint64_t
model_next_deadline(const struct model *m)
{
	uint64_t next = NO_DEADLINE;

	for (unsigned i = 0; i < MODEL_GROUPS; i++) {
		const struct model_group *g = &m->g[i];

		if (!g->present)
			continue;
		for (unsigned j = 0; j < MODEL_SOURCES; j++)
			if (g->source_live[j])
				next = deadline_min(next, g->source_last_ms[j] + MODEL_IDLE_MS);
		for (int r = 0; r < 2; r++) {
			next = deadline_min(next, g->leave_at_ms[r]);
			next = deadline_min(next, g->announce_expiry_ms[r]);
		}
	}
	return next;
}

/* The view has one deadline: that of the first role to go; 0 when none. */
static uint64_t
model_leave_at(const struct model_group *g)
{
	uint64_t next = deadline_min(deadline_min(NO_DEADLINE, g->leave_at_ms[0]),
				     g->leave_at_ms[1]);

	return next == NO_DEADLINE ? 0 : next;
}

struct model_check {
	const struct model *m;
	unsigned seen;
};

static bool
model_check_group(void *arg, const struct group_view *v)
{
	struct model_check *c = arg;
	unsigned i = model_group_index(v->group);
	const struct model_group *g;
	uint8_t wanted;

	assert_true(i < MODEL_GROUPS);
	assert_int_equal(v->group, model_group_addr(i));
	g = &c->m->g[i];
	assert_true(g->present);
	assert_int_equal(v->roles, g->roles);
	assert_int_equal(v->inputs[GROUP_INPUT_IGMP], g->inputs[GROUP_INPUT_IGMP]);
	assert_int_equal(v->inputs[GROUP_INPUT_CONFIG], g->inputs[GROUP_INPUT_CONFIG]);
	assert_int_equal(v->announce_expiry_ms[0], g->announce_expiry_ms[0]);
	assert_int_equal(v->announce_expiry_ms[1], g->announce_expiry_ms[1]);
	assert_int_equal(v->n_sources, g->n_sources);
	/* The view's wanted counts an announcement until a tick expires it. */
	wanted = g->inputs[GROUP_INPUT_IGMP] | g->inputs[GROUP_INPUT_CONFIG];
	if (g->n_sources || g->announce_expiry_ms[1])
		wanted |= S;
	if (g->announce_expiry_ms[0])
		wanted |= R;
	assert_int_equal(v->wanted, wanted);
	assert_int_equal(v->leave_at_ms, model_leave_at(g));
	c->seen++;
	return true;
}

static bool
model_check_source(void *arg, const struct group_source_view *v)
{
	struct model_check *c = arg;
	unsigned i = model_group_index(v->group);
	unsigned j = (ntohl(v->source) >> 8) & 0xff;
	const struct model_group *g;

	assert_true(i < MODEL_GROUPS);
	assert_true(j < MODEL_SOURCES);
	assert_int_equal(v->source, model_source_addr(j));
	g = &c->m->g[i];
	assert_true(g->present && g->source_live[j]);
	assert_int_equal(v->first_seen_ms, g->source_first_ms[j]);
	assert_int_equal(v->last_seen_ms, g->source_last_ms[j]);
	c->seen++;
	return true;
}

static void
model_check_all(const struct test_ctx *t, const struct model *m)
{
	struct model_check c = { .m = m };
	unsigned present = 0, live = 0;

	for (unsigned i = 0; i < MODEL_GROUPS; i++) {
		present += m->g[i].present;
		live += m->g[i].n_sources;
	}
	group_manager_foreach(t->gm, model_check_group, &c);
	assert_int_equal(c.seen, present);
	c.seen = 0;
	group_manager_foreach_source(t->gm, model_check_source, &c);
	assert_int_equal(c.seen, live);
	for (int id = 0; id < GROUP_CTR_MAX; id++)
		if (group_manager_counter(t->gm, id) != m->counters[id])
			fail_msg("counter %s: %ju, model %ju", group_counter_name(id),
				 (uintmax_t)group_manager_counter(t->gm, id),
				 (uintmax_t)m->counters[id]);
}

static int
role_event_cmp(const void *a, const void *b)
{
	const struct role_event *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->old_roles != y->old_roles)
		return x->old_roles < y->old_roles ? -1 : 1;
	return (int)x->new_roles - (int)y->new_roles;
}

/* The role changes of one step, in any order across groups, exactly. */
static void
model_check_events(struct test_ctx *t, struct model *m, unsigned step)
{
	if (t->n_events != m->n_expected)
		fail_msg("step %u: %u role changes, model %u", step, t->n_events, m->n_expected);
	qsort(t->events, t->n_events, sizeof(t->events[0]), role_event_cmp);
	qsort(m->expected, m->n_expected, sizeof(m->expected[0]), role_event_cmp);
	for (unsigned k = 0; k < t->n_events; k++) {
		const struct role_event *a = &t->events[k], *e = &m->expected[k];

		if (a->group != e->group || a->old_roles != e->old_roles ||
		    a->new_roles != e->new_roles)
			fail_msg("step %u: group 239.10.%u.%u %x -> %x, model %x -> %x",
				 step, (ntohl(a->group) >> 8) & 0xff, ntohl(a->group) & 0xff,
				 a->old_roles, a->new_roles, e->old_roles, e->new_roles);
	}
	if (t->n_state_changed != m->n_state_changed)
		fail_msg("step %u: %u state changes, model %u", step, t->n_state_changed,
			 m->n_state_changed);
	t->n_events = 0;
	m->n_expected = 0;
}

/* xorshift64*, seeded, so that a failure can be replayed. */
static uint64_t rng_state;

static uint32_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t
rng_below(uint32_t n)
{
	return rng_next() % n;
}

/* Most events hit a few hot groups, so that holds, refreshes and expiries
 * of one group interleave; the rest spread over all groups. */
static unsigned
model_pick_group(void)
{
	return rng_below(10) < 8 ? rng_below(MODEL_HOT_GROUPS) : rng_below(MODEL_GROUPS);
}

static void
model_run(struct test_ctx *t, uint64_t seed)
{
	struct group_manager_config cfg = {
		.leave_hold_ms = MODEL_HOLD_MS,
		.source_idle_ms = MODEL_IDLE_MS,
		.max_groups = 2 * MODEL_GROUPS,
		.max_sources = MODEL_GROUPS * MODEL_SOURCES,
		.max_announcements = 2 * MODEL_GROUPS,
		.max_announce_lifetime_s = 30,
	};
	struct model *m = calloc(1, sizeof(*m));
	uint64_t now = 1;

	assert_non_null(m);
	ctx_reset(t, &cfg);
	rng_state = seed;
	for (unsigned step = 0; step < MODEL_STEPS; step++) {
		unsigned op = rng_below(100), i = model_pick_group();
		uint32_t group = model_group_addr(i);

		now += rng_below(40);
		if (op < 20) {
			uint8_t roles = rng_below(2) ? R : 0;

			group_manager_input_set(t->gm, GROUP_INPUT_IGMP, group, roles, now);
			model_input_set(m, i, GROUP_INPUT_IGMP, roles, now);
		} else if (op < 28) {
			uint8_t roles = (uint8_t)rng_below(4);

			group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, group, roles, now);
			model_input_set(m, i, GROUP_INPUT_CONFIG, roles, now);
		} else if (op < 50) {
			unsigned j = rng_below(MODEL_SOURCES);

			group_manager_source_seen(t->gm, model_source_addr(j), group, now);
			model_source_seen(m, i, j, now);
		} else if (op < 62) {
			uint8_t roles = (uint8_t)(1 + rng_below(3));
			uint32_t lifetime_s = 1 + rng_below(30);

			assert_int_equal(announce(t, group, roles, lifetime_s, now), 0);
			model_announce(m, i, roles, lifetime_s, now);
		} else if (op < 70) {
			uint8_t roles = (uint8_t)(1 + rng_below(3));

			assert_int_equal(group_manager_withdraw(t->gm, group, roles, now),
					 model_withdraw(m, i, roles, now));
		} else {
			uint64_t deadline = group_manager_next_deadline(t->gm);

			/* Often exactly at the next deadline, else wherever we are. */
			if (op < 85 && deadline != NO_DEADLINE && deadline > now)
				now = deadline;
			group_manager_tick(t->gm, now);
			model_tick(m, now);
		}
		model_check_events(t, m, step);
		assert_int_equal(group_manager_roles(t->gm, group), m->g[i].roles);
		if (group_manager_next_deadline(t->gm) != model_next_deadline(m))
			fail_msg("seed %ju step %u: next deadline %ju, model %ju", (uintmax_t)seed,
				 step, (uintmax_t)group_manager_next_deadline(t->gm),
				 (uintmax_t)model_next_deadline(m));
		if (step % 97 == 0)
			model_check_all(t, m);
	}
	model_check_all(t, m);

	/* Take every wish away: after the longest soft state and a hold time,
	 * no group is left. */
	for (unsigned i = 0; i < MODEL_GROUPS; i++) {
		uint32_t group = model_group_addr(i);

		group_manager_input_set(t->gm, GROUP_INPUT_IGMP, group, 0, now);
		model_input_set(m, i, GROUP_INPUT_IGMP, 0, now);
		group_manager_input_set(t->gm, GROUP_INPUT_CONFIG, group, 0, now);
		model_input_set(m, i, GROUP_INPUT_CONFIG, 0, now);
	}
	model_check_events(t, m, MODEL_STEPS);
	now += MODEL_IDLE_MS + 30 * 1000;
	group_manager_tick(t->gm, now);
	model_tick(m, now);
	now += MODEL_HOLD_MS;
	group_manager_tick(t->gm, now);
	model_tick(m, now);
	model_check_events(t, m, MODEL_STEPS + 1);
	model_check_all(t, m);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(group_manager_next_deadline(t->gm), NO_DEADLINE);
	free(m);
}

static void
test_many_groups_random_events_match_reference_model(void **state)
{
	static const uint64_t seeds[] = { 0x1c0ffee, 0xdeadbeef, 20240611 };

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++)
		model_run(*state, seeds[k]);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_igmp_receiver_takes_receiver_role_at_once),
		T(test_receiver_leave_kept_until_hold_time_then_dropped_exactly_at_deadline),
		T(test_receiver_leave_dropped_at_first_tick_after_deadline),
		T(test_flapping_receiver_within_hold_time_changes_no_role),
		T(test_discovered_source_makes_group_sender_at_once),
		T(test_source_refreshed_expires_idle_after_last_sighting_then_sender_held),
		T(test_sender_kept_while_any_source_of_group_lives),
		T(test_source_back_within_hold_time_is_discovered_anew_without_role_change),
		T(test_both_roles_from_different_inputs_losing_receiver_keeps_sender),
		T(test_both_roles_from_different_inputs_losing_sender_keeps_receiver),
		T(test_each_role_is_held_for_its_own_hold_time),
		T(test_role_wished_again_does_not_hand_its_hold_deadline_to_the_other),
		T(test_source_expiring_at_receiver_deadline_still_holds_sender),
		T(test_receive_announcement_takes_receiver_role_until_lifetime_ends),
		T(test_send_announcement_takes_sender_role_until_lifetime_ends),
		T(test_announcement_for_both_roles_expires_both),
		T(test_announcement_refresh_extends_lifetime),
		T(test_withdraw_ends_announcement_then_role_after_hold_time),
		T(test_withdraw_one_role_keeps_the_other_announced),
		T(test_invalid_announcements_refused_with_reason_and_change_nothing),
		T(test_announcement_limits_accepted_at_their_edges),
		T(test_announced_receive_true_while_receive_announcement_lives),
		T(test_config_pinned_group_is_sender_until_unpinned_then_held),
		T(test_config_receive_group_is_receiver_and_flaps_like_igmp),
		T(test_inputs_are_tracked_separately),
		T(test_max_groups_hit_is_counted_and_existing_groups_unaffected),
		T(test_max_sources_hit_is_counted_and_existing_sources_unaffected),
		T(test_max_announcements_hit_is_counted_and_existing_unaffected),
		T(test_group_bounds_stop_allocation_not_just_counting),
		T(test_group_with_nothing_left_leaves_foreach_once_its_roles_are_gone),
		T(test_foreach_reports_groups_inputs_announcements_and_sources),
		T(test_foreach_stops_when_callback_returns_false),
		T(test_counter_names_are_the_telemetry_words),
		T(test_config_defaults_fill_only_unset_fields),
		T(test_many_groups_random_events_match_reference_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
