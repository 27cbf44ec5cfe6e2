/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desired vs granted roles per group: the paper's JOIN_VPN / LEAVE_VPN
 * (001_aebc90bc0c46f8cb.txt 3.2). The group manager says what the site
 * wishes (desired); the VNOC says what it holds (granted). Per group:
 *
 *   event                         actions
 *   desired changes               forget a denial; mark the group due
 *   group due, nothing in flight  join  = (desired & ~granted | resync) & ~denied
 *                                 leave = granted & ~desired & ~adopted
 *                                 JoinVpn(one role of join: receiver first)
 *                                 if any, else LeaveVpn(leave)
 *   JoinVpn answered (roles R)    granted |= R; roles asked but not in R are
 *                                 denied; mark due (desired may have moved)
 *   JoinVpn refused (fault)       the roles asked are denied until
 *                                 denial_hold_ms passes; denied() once
 *   LeaveVpn answered or refused  granted &= ~roles left (the VNOC does not
 *                                 count them any more either way)
 *   (re-)registered               resync = desired: join again; every role
 *                                 the view lists for this site is granted,
 *                                 and adopted when not desired
 *   adopt hold over               adopted = 0 (so such roles are left)
 *
 * One request per group at a time, so changes made while one is in flight
 * coalesce into the difference sent after it.
 *
 * Adoption is how a restarted site gives up what its previous run held:
 * the new run starts with nothing desired and nothing granted, while the
 * VNOC still counts the old roles, and would go on sending copies to a
 * site whose receivers left while it was down. The registration's view
 * says what the VNOC holds; whatever of it IGMP and source discovery have
 * not asked for again within the adopt hold is left.
 */
#include <stdio.h>
#include <string.h>

#include "vnoc_client_private.h"

static struct vnoc_client_group *
group_find(struct vnoc_client *c, uint32_t group)
{
	for (uint32_t i = 0; i < c->n_groups; i++)
		if (c->groups[i].group == group)
			return &c->groups[i];
	return NULL;
}

int
vnoc_client_set_roles(struct vnoc_client *c, uint32_t group, uint8_t roles, uint64_t now_ms)
{
	struct vnoc_client_group *g = group_find(c, group);

	(void)now_ms;
	roles &= VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER;
	if (g == NULL) {
		if (roles == 0)
			return 0;
		if (c->n_groups == c->cfg.max_groups) {
			c->counters[VNOC_CLIENT_CTR_group_limit_hit]++;
			return -1;
		}
		g = &c->groups[c->n_groups++];
		memset(g, 0, sizeof(*g));
		g->group = group;
	}
	/* Asked for again: no longer a previous run's leftover. */
	g->adopted &= (uint8_t)~roles;
	if (g->desired == roles)
		return 0;
	g->desired = roles;
	/* A new wish is a new question: the old refusal does not answer it. */
	g->denied = 0;
	g->denied_reason = VNOC_FAULT_NONE;
	g->denied_text[0] = '\0';
	g->denied_until_ms = 0;
	c->groups_dirty = true;
	return 0;
}

uint32_t
vnoc_client_group_room(const struct vnoc_client *c)
{
	return c->cfg.max_groups - c->n_groups;
}

void
vnoc_client_group_resync(struct vnoc_client *c)
{
	for (uint32_t i = 0; i < c->n_groups; i++)
		c->groups[i].resync = c->groups[i].desired;
	c->groups_dirty = true;
}

void
vnoc_client_group_adopt(struct vnoc_client *c, const struct vnoc_view *view)
{
	bool any = false;

	for (uint32_t i = 0; i < c->n_groups; i++)
		c->groups[i].adopted = 0;
	for (uint32_t i = 0; i < view->n_groups; i++) {
		const struct vnoc_group *vg = &view->groups[i];

		for (uint16_t j = 0; j < vg->n_members; j++) {
			const struct vnoc_member *m = &vg->members[j];
			uint8_t roles = m->roles & (VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER);
			struct vnoc_client_group *g;

			if (strcmp(m->site, c->cfg.site) != 0 || roles == 0)
				continue;
			g = group_find(c, vg->group);
			if (g == NULL) {
				if (c->n_groups == c->cfg.max_groups) {
					c->counters[VNOC_CLIENT_CTR_group_limit_hit]++;
					continue;
				}
				g = &c->groups[c->n_groups++];
				memset(g, 0, sizeof(*g));
				g->group = vg->group;
			}
			g->granted |= roles;
			g->adopted = (uint8_t)(roles & ~g->desired);
			any |= g->adopted != 0;
		}
	}
	c->adopt_until_ms = c->now_ms + c->cfg.adopt_hold_ms;
	c->adopt_pending = any;
	c->groups_dirty = true;
}

void
vnoc_client_group_forget_in_flight(struct vnoc_client *c)
{
	for (uint32_t i = 0; i < c->n_groups; i++)
		c->groups[i].in_flight = 0;
	c->groups_dirty = true;
}

static bool
group_start(struct vnoc_client *c, struct vnoc_client_group *g, bool join, uint8_t roles)
{
	struct vnoc_msg msg = { .op = join ? VNOC_OP_JOIN_VPN : VNOC_OP_LEAVE_VPN };
	struct vnoc_client_request *req;

	strcpy(msg.u.membership_req.site, c->cfg.site);
	msg.u.membership_req.group = g->group;
	msg.u.membership_req.roles = roles;
	req = vnoc_client_request_start(c, &msg, c->cfg.request_timeout_ms);
	if (req == NULL) {
		vnoc_client_fail(c, true, "%s could not be sent", vnoc_op_name(msg.op));
		return false;
	}
	req->group = g->group;
	req->roles = roles;
	g->in_flight = roles;
	g->in_flight_join = join;
	g->waiting = false;
	c->n_membership_in_flight++;
	return true;
}

/* Start what is due, within max_membership_inflight; drop groups with
 * nothing left to say. */
void
vnoc_client_group_schedule(struct vnoc_client *c)
{
	uint64_t now = c->now_ms;
	uint64_t next_expiry = UINT64_MAX;
	bool adopt_over = c->adopt_pending && now >= c->adopt_until_ms;

	if (adopt_over)
		c->adopt_pending = false;

	for (uint32_t i = 0; i < c->n_groups; i++) {
		struct vnoc_client_group *g = &c->groups[i];

		if (g->denied && now >= g->denied_until_ms) {
			g->denied = 0;
			g->denied_reason = VNOC_FAULT_NONE;
			g->denied_text[0] = '\0';
		}
		if (g->denied && g->denied_until_ms < next_expiry)
			next_expiry = g->denied_until_ms;
		if (adopt_over)
			g->adopted = 0;
		if (g->in_flight)
			continue;

		uint8_t join = (uint8_t)(((g->desired & ~g->granted) | g->resync) & ~g->denied);
		uint8_t leave = (uint8_t)(g->granted & ~g->desired & ~g->adopted);

		if (join || leave) {
			/* At the bound, the next answer marks the groups due
			 * again. Each request that waits is counted once, not
			 * at every pass (a flood makes thousands of passes). */
			if (c->n_membership_in_flight >= c->cfg.max_membership_inflight) {
				if (!g->waiting)
					c->counters[VNOC_CLIENT_CTR_inflight_limit_waits]++;
				g->waiting = true;
				continue;
			}
			/* One role per JoinVpn: the VNOC's policy answers
			 * each role on its own, and a refused sender must not
			 * cost the site its receiver. */
			if (join)
				join = join & VNOC_ROLE_RECEIVER ? VNOC_ROLE_RECEIVER
								 : VNOC_ROLE_SENDER;
			if (!group_start(c, g, join != 0, join ? join : leave))
				return;         /* the client went to BACKOFF */
			continue;
		}
		g->resync = 0;
		if (g->desired == 0 && g->granted == 0 && g->denied == 0 && g->adopted == 0) {
			c->groups[i] = c->groups[--c->n_groups];
			i--;
		}
	}
	c->groups_dirty = false;
	c->next_denial_expiry_ms = next_expiry;
}

static void
group_deny(struct vnoc_client *c, struct vnoc_client_group *g, uint8_t roles,
	   const struct vnoc_fault_info *fault)
{
	uint32_t group = g->group;

	g->denied |= roles;
	g->denied_reason = fault->reason;
	snprintf(g->denied_text, sizeof(g->denied_text), "%s", fault->text);
	g->denied_until_ms = c->now_ms + c->cfg.denial_hold_ms;
	if (g->denied_until_ms < c->next_denial_expiry_ms)
		c->next_denial_expiry_ms = g->denied_until_ms;
	c->counters[VNOC_CLIENT_CTR_denials]++;
	/* Last: the callback may call vnoc_client_set_roles. */
	if (c->ops.denied != NULL)
		c->ops.denied(c->ctx, group, roles, fault);
}

void
vnoc_client_group_done(struct vnoc_client *c, const struct vnoc_client_request *req,
		       enum vnoc_client_outcome outcome, const struct vnoc_msg *msg,
		       const struct vnoc_fault_info *fault)
{
	struct vnoc_client_group *g = group_find(c, req->group);
	bool join = req->op == VNOC_OP_JOIN_VPN;

	c->n_membership_in_flight--;
	c->groups_dirty = true;
	if (g == NULL)
		return;
	g->in_flight = 0;
	g->resync &= (uint8_t)~req->roles;
	if (!join) {
		/* Answered or refused (UnknownGroup, ...), the VNOC no longer
		 * counts these roles for the site. */
		g->granted &= (uint8_t)~req->roles;
		if (outcome == VNOC_CLIENT_ANSWER)
			c->counters[VNOC_CLIENT_CTR_leaves]++;
		return;
	}
	if (outcome == VNOC_CLIENT_FAULT) {
		group_deny(c, g, req->roles, fault);
		return;
	}
	c->counters[VNOC_CLIENT_CTR_joins]++;
	g->granted |= msg->u.membership_resp.roles & (VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER);

	uint8_t refused = (uint8_t)(req->roles & ~msg->u.membership_resp.roles);

	if (refused) {
		struct vnoc_fault_info f = { .reason = VNOC_FAULT_NOT_AUTHORIZED };

		snprintf(f.text, sizeof(f.text), "JoinVpn granted roles 0x%x of 0x%x",
			 msg->u.membership_resp.roles, req->roles);
		group_deny(c, g, refused, &f);
	}
}

void
vnoc_client_foreach_group(const struct vnoc_client *c,
			  bool (*fn)(void *arg, const struct vnoc_client_group_status *gs),
			  void *arg)
{
	for (uint32_t i = 0; i < c->n_groups; i++) {
		const struct vnoc_client_group *g = &c->groups[i];
		struct vnoc_client_group_status gs = {
			.group = g->group,
			.desired = g->desired,
			.granted = g->granted,
			.adopted = g->adopted,
			.in_flight = g->in_flight,
			.in_flight_join = g->in_flight_join,
			.denied = g->denied,
			.denied_reason = g->denied_reason,
			.denied_until_ms = g->denied ? g->denied_until_ms : 0,
		};

		strcpy(gs.denied_text, g->denied_text);
		if (!fn(arg, &gs))
			return;
	}
}
