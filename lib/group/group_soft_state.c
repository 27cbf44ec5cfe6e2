/* SPDX-License-Identifier: BSD-3-Clause */
/* Soft state: discovered sources and announcements, both expire. */
#include <stdio.h>
#include <string.h>

#include "pkt/pkt.h"
#include "group_private.h"

static struct group_source *
source_find(struct group_manager *gm, uint32_t source, uint32_t group)
{
	for (uint32_t i = 0; i < gm->n_sources; i++)
		if (gm->sources[i].source == source && gm->sources[i].group == group)
			return &gm->sources[i];
	return NULL;
}

/* Paper 3.2: a sending host says nothing; the edge device learns it from
 * the traffic itself, and forgets it when the traffic stops. */
void
group_manager_source_seen(struct group_manager *gm, uint32_t source, uint32_t group,
			  uint64_t now_ms)
{
	struct group_source *s = source_find(gm, source, group);
	struct group_entry *e;

	if (s) {
		s->last_seen_ms = now_ms;
		return;
	}
	if (gm->n_sources == gm->cfg.max_sources) {
		gm->counters[GROUP_CTR_source_limit_hit]++;
		return;
	}
	e = group_entry_get(gm, group);
	if (e == NULL)
		return;
	s = &gm->sources[gm->n_sources++];
	s->source = source;
	s->group = group;
	s->first_seen_ms = now_ms;
	s->last_seen_ms = now_ms;
	e->n_sources++;
	gm->counters[GROUP_CTR_sources_discovered]++;
	group_entry_evaluate(gm, e, now_ms);
	if (gm->ops.state_changed)
		gm->ops.state_changed(gm->ctx);
}

int
group_manager_announce(struct group_manager *gm, uint32_t group, uint32_t source,
		       uint8_t roles, uint32_t lifetime_s, uint64_t now_ms,
		       char *err, size_t err_len)
{
	struct group_entry *e;
	uint32_t fresh = 0;

	if (!pkt_ipv4_is_multicast(group) || pkt_ipv4_is_link_local_multicast(group)) {
		snprintf(err, err_len, "not a forwardable multicast group");
		return -1;
	}
	if (source != 0 && pkt_ipv4_is_multicast(source)) {
		snprintf(err, err_len, "source is a multicast address");
		return -1;
	}
	if (roles == 0 || (roles & ~(GROUP_ROLE_RECEIVER | GROUP_ROLE_SENDER))) {
		snprintf(err, err_len, "announce send, receive, or both");
		return -1;
	}
	if (lifetime_s == 0 || lifetime_s > gm->cfg.max_announce_lifetime_s) {
		snprintf(err, err_len, "lifetime must be 1 to %u seconds",
			 gm->cfg.max_announce_lifetime_s);
		return -1;
	}
	e = group_entry_get(gm, group);
	if (e == NULL) {
		snprintf(err, err_len, "too many groups");
		return -1;
	}
	for (int slot = 0; slot < 2; slot++)
		if ((roles & (slot ? GROUP_ROLE_SENDER : GROUP_ROLE_RECEIVER)) &&
		    e->announce_expiry_ms[slot] == 0)
			fresh++;
	if (gm->n_announcements + fresh > gm->cfg.max_announcements) {
		gm->counters[GROUP_CTR_announcement_limit_hit]++;
		snprintf(err, err_len, "too many announcements");
		group_entry_evaluate(gm, e, now_ms);
		return -1;
	}
	gm->n_announcements += fresh;
	if (roles & GROUP_ROLE_RECEIVER)
		e->announce_expiry_ms[GROUP_ANNOUNCE_RECEIVER] = now_ms + lifetime_s * 1000ull;
	if (roles & GROUP_ROLE_SENDER)
		e->announce_expiry_ms[GROUP_ANNOUNCE_SENDER] = now_ms + lifetime_s * 1000ull;
	gm->counters[GROUP_CTR_announcements_accepted]++;
	group_entry_evaluate(gm, e, now_ms);
	if (gm->ops.state_changed)
		gm->ops.state_changed(gm->ctx);
	return 0;
}

static bool
announce_clear(struct group_manager *gm, struct group_entry *e, uint8_t roles)
{
	bool cleared = false;

	for (int slot = 0; slot < 2; slot++) {
		if (!(roles & (slot ? GROUP_ROLE_SENDER : GROUP_ROLE_RECEIVER)) ||
		    e->announce_expiry_ms[slot] == 0)
			continue;
		e->announce_expiry_ms[slot] = 0;
		gm->n_announcements--;
		cleared = true;
	}
	return cleared;
}

int
group_manager_withdraw(struct group_manager *gm, uint32_t group, uint8_t roles,
		       uint64_t now_ms)
{
	struct group_entry *e = group_entry_find(gm, group);

	if (e == NULL || !announce_clear(gm, e, roles))
		return -1;
	gm->counters[GROUP_CTR_announcements_withdrawn]++;
	group_entry_evaluate(gm, e, now_ms);
	if (gm->ops.state_changed)
		gm->ops.state_changed(gm->ctx);
	return 0;
}

static bool
sources_expire(struct group_manager *gm, uint64_t now_ms)
{
	bool changed = false;

	for (uint32_t i = 0; i < gm->n_sources; ) {
		struct group_source *s = &gm->sources[i];
		struct group_entry *e;

		if (s->last_seen_ms + gm->cfg.source_idle_ms > now_ms) {
			i++;
			continue;
		}
		e = group_entry_find(gm, s->group);
		*s = gm->sources[--gm->n_sources];
		gm->counters[GROUP_CTR_sources_expired]++;
		changed = true;
		if (e) {
			e->n_sources--;
			group_entry_evaluate(gm, e, now_ms);
		}
	}
	return changed;
}

void
group_manager_tick(struct group_manager *gm, uint64_t now_ms)
{
	bool changed = sources_expire(gm, now_ms);

	/* Walk backwards: evaluating may delete the entry, moving the last one here. */
	for (uint32_t i = gm->n_groups; i-- > 0; ) {
		struct group_entry *e = &gm->groups[i];

		for (int slot = 0; slot < 2; slot++) {
			if (e->announce_expiry_ms[slot] && e->announce_expiry_ms[slot] <= now_ms) {
				e->announce_expiry_ms[slot] = 0;
				gm->n_announcements--;
				gm->counters[GROUP_CTR_announcements_expired]++;
				changed = true;
			}
		}
		if (e->leave_at_ms[0] || e->leave_at_ms[1] || changed)
			group_entry_evaluate(gm, e, now_ms);
	}
	if (changed && gm->ops.state_changed)
		gm->ops.state_changed(gm->ctx);
}

void
group_manager_foreach_source(const struct group_manager *gm,
			     bool (*fn)(void *arg, const struct group_source_view *view),
			     void *arg)
{
	for (uint32_t i = 0; i < gm->n_sources; i++) {
		const struct group_source *s = &gm->sources[i];
		struct group_source_view v = {
			.source = s->source, .group = s->group,
			.first_seen_ms = s->first_seen_ms, .last_seen_ms = s->last_seen_ms,
		};

		if (!fn(arg, &v))
			return;
	}
}
