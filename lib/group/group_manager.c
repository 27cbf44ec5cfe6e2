/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "group_private.h"

static const char *const counter_names[] = {
#define GROUP_COUNTER_NAME(name) #name,
	GROUP_COUNTERS(GROUP_COUNTER_NAME)
#undef GROUP_COUNTER_NAME
};

const char *
group_counter_name(enum group_counter id)
{
	return id < GROUP_CTR_MAX ? counter_names[id] : "unknown";
}

void
group_manager_config_defaults(struct group_manager_config *cfg)
{
	if (cfg->leave_hold_ms == 0)
		cfg->leave_hold_ms = 5000;
	if (cfg->source_idle_ms == 0)
		cfg->source_idle_ms = 60000;
	if (cfg->max_groups == 0)
		cfg->max_groups = 4096;
	if (cfg->max_sources == 0)
		cfg->max_sources = 4096;
	if (cfg->max_announcements == 0)
		cfg->max_announcements = 1024;
	if (cfg->max_announce_lifetime_s == 0)
		cfg->max_announce_lifetime_s = 86400;
}

struct group_manager *
group_manager_create(const struct group_manager_config *cfg,
		     const struct group_manager_ops *ops, void *ctx)
{
	struct group_manager *gm = calloc(1, sizeof(*gm));

	if (gm == NULL)
		return NULL;
	gm->cfg = *cfg;
	group_manager_config_defaults(&gm->cfg);
	gm->ops = *ops;
	gm->ctx = ctx;
	gm->groups = calloc(gm->cfg.max_groups, sizeof(*gm->groups));
	gm->sources = calloc(gm->cfg.max_sources, sizeof(*gm->sources));
	if (gm->groups == NULL || gm->sources == NULL) {
		group_manager_free(gm);
		return NULL;
	}
	return gm;
}

void
group_manager_free(struct group_manager *gm)
{
	if (gm == NULL)
		return;
	free(gm->groups);
	free(gm->sources);
	free(gm);
}

struct group_entry *
group_entry_find(const struct group_manager *gm, uint32_t group)
{
	for (uint32_t i = 0; i < gm->n_groups; i++)
		if (gm->groups[i].group == group)
			return &gm->groups[i];
	return NULL;
}

struct group_entry *
group_entry_get(struct group_manager *gm, uint32_t group)
{
	struct group_entry *e = group_entry_find(gm, group);

	if (e)
		return e;
	if (gm->n_groups == gm->cfg.max_groups) {
		gm->counters[GROUP_CTR_group_limit_hit]++;
		return NULL;
	}
	e = &gm->groups[gm->n_groups++];
	memset(e, 0, sizeof(*e));
	e->group = group;
	return e;
}

static uint8_t
entry_wanted(const struct group_entry *e, uint64_t now_ms)
{
	uint8_t wanted = 0;

	for (int i = 0; i < GROUP_INPUT_MAX; i++)
		wanted |= e->inputs[i];
	if (e->n_sources)
		wanted |= GROUP_ROLE_SENDER;
	if (e->announce_expiry_ms[GROUP_ANNOUNCE_RECEIVER] > now_ms)
		wanted |= GROUP_ROLE_RECEIVER;
	if (e->announce_expiry_ms[GROUP_ANNOUNCE_SENDER] > now_ms)
		wanted |= GROUP_ROLE_SENDER;
	return wanted;
}

static void
entry_delete(struct group_manager *gm, struct group_entry *e)
{
	*e = gm->groups[--gm->n_groups];
}

/*
 * Hysteresis: a role wished for is taken at once (a receiver waits for
 * nothing); a role no longer wished for is kept leave_hold_ms, and dropped
 * only if nobody wished for it again meanwhile. Each role has its own hold
 * time: one role going must not cut short the hold of the other.
 */
void
group_entry_evaluate(struct group_manager *gm, struct group_entry *e, uint64_t now_ms)
{
	uint8_t wanted = entry_wanted(e, now_ms);
	uint8_t old = e->roles;
	uint32_t group;
	uint8_t roles;

	for (int slot = 0; slot < 2; slot++) {
		uint8_t role = slot ? GROUP_ROLE_SENDER : GROUP_ROLE_RECEIVER;

		if (wanted & role) {
			e->roles |= role;
			e->leave_at_ms[slot] = 0;
		} else if (!(e->roles & role)) {
			continue;
		} else if (e->leave_at_ms[slot] == 0) {
			e->leave_at_ms[slot] = now_ms + gm->cfg.leave_hold_ms;
		} else if (now_ms >= e->leave_at_ms[slot]) {
			e->roles &= (uint8_t)~role;
			e->leave_at_ms[slot] = 0;
		}
	}
	if (e->roles != old)
		gm->counters[GROUP_CTR_role_changes]++;
	/* Tell last: the callback may look the group up again. */
	roles = e->roles;
	group = e->group;
	if (roles == 0 && wanted == 0 && e->n_sources == 0 &&
	    e->announce_expiry_ms[0] == 0 && e->announce_expiry_ms[1] == 0)
		entry_delete(gm, e);
	if (roles != old && gm->ops.role_changed)
		gm->ops.role_changed(gm->ctx, group, old, roles);
}

int
group_manager_input_set(struct group_manager *gm, enum group_input input, uint32_t group,
			uint8_t roles, uint64_t now_ms)
{
	struct group_entry *e;

	if (input >= GROUP_INPUT_MAX)
		return 0;
	roles &= GROUP_ROLE_RECEIVER | GROUP_ROLE_SENDER;
	e = roles ? group_entry_get(gm, group) : group_entry_find(gm, group);
	if (e == NULL)
		return roles ? -1 : 0;
	e->inputs[input] = roles;
	group_entry_evaluate(gm, e, now_ms);
	return 0;
}

uint32_t
group_manager_room(const struct group_manager *gm)
{
	return gm->cfg.max_groups - gm->n_groups;
}

uint8_t
group_manager_roles(const struct group_manager *gm, uint32_t group)
{
	const struct group_entry *e = group_entry_find(gm, group);

	return e ? e->roles : 0;
}

bool
group_manager_announced_receive(const struct group_manager *gm, uint32_t group)
{
	const struct group_entry *e = group_entry_find(gm, group);

	return e && e->announce_expiry_ms[GROUP_ANNOUNCE_RECEIVER] != 0;
}

uint64_t
group_manager_counter(const struct group_manager *gm, enum group_counter id)
{
	return id < GROUP_CTR_MAX ? gm->counters[id] : 0;
}

static uint64_t
min_deadline(uint64_t a, uint64_t b)
{
	return (b != 0 && b < a) ? b : a;
}

/* When the first role will be given up; 0 when none. */
static uint64_t
entry_leave_at(const struct group_entry *e)
{
	uint64_t next = min_deadline(UINT64_MAX, e->leave_at_ms[0]);

	next = min_deadline(next, e->leave_at_ms[1]);
	return next == UINT64_MAX ? 0 : next;
}

uint64_t
group_manager_next_deadline(const struct group_manager *gm)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < gm->n_sources; i++)
		next = min_deadline(next, gm->sources[i].last_seen_ms + gm->cfg.source_idle_ms);
	for (uint32_t i = 0; i < gm->n_groups; i++) {
		const struct group_entry *e = &gm->groups[i];

		next = min_deadline(next, e->leave_at_ms[0]);
		next = min_deadline(next, e->leave_at_ms[1]);
		next = min_deadline(next, e->announce_expiry_ms[0]);
		next = min_deadline(next, e->announce_expiry_ms[1]);
	}
	return next;
}

void
group_manager_foreach(const struct group_manager *gm,
		      bool (*fn)(void *arg, const struct group_view *view), void *arg)
{
	for (uint32_t i = 0; i < gm->n_groups; i++) {
		const struct group_entry *e = &gm->groups[i];
		struct group_view v = {
			.group = e->group,
			.roles = e->roles,
			.leave_at_ms = entry_leave_at(e),
			.n_sources = e->n_sources,
		};

		memcpy(v.inputs, e->inputs, sizeof(v.inputs));
		memcpy(v.announce_expiry_ms, e->announce_expiry_ms, sizeof(v.announce_expiry_ms));
		for (int j = 0; j < GROUP_INPUT_MAX; j++)
			v.wanted |= e->inputs[j];
		if (e->n_sources)
			v.wanted |= GROUP_ROLE_SENDER;
		if (e->announce_expiry_ms[0])
			v.wanted |= GROUP_ROLE_RECEIVER;
		if (e->announce_expiry_ms[1])
			v.wanted |= GROUP_ROLE_SENDER;
		if (!fn(arg, &v))
			return;
	}
}
