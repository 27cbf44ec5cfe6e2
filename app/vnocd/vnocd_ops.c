/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VNOC's operations (001_aebc90bc0c46f8cb.txt 3.2; design.md 6). Each
 * runs under vnocd.lock in one SQLite transaction: checks, changes, a
 * version bump for the sites whose view changed, the answer, COMMIT, and
 * only then the wake-up of their WatchUpdates. A refusal that leaves an
 * accounting row (deny) commits that row and answers the fault.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnocd.h"

/* Current SAs one site may have at its ends: its view also holds the
 * superseded inbound ones during a replacement, at most twice as many. */
#define OPS_SA_LIMIT (VNOC_MAX_SAS / 2)

struct ops_ctx {
	struct vnocd *d;
	int64_t now;
	struct vnocd_siteset changed;
	uint64_t version;               /* after the bump */
	bool commit_fault;              /* a fault whose rows are kept */
	char *why;
	size_t why_len;
};

/* ---- helpers ---- */

static bool
ops_wan_valid(uint32_t addr)
{
	uint32_t a = ntohl(addr);

	return a != 0 && (a >> 28) < 0xe;
}

static enum vnoc_fault
ops_fault(struct ops_ctx *c, enum vnoc_fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum vnoc_fault
ops_fault(struct ops_ctx *c, enum vnoc_fault f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->why_len, fmt, ap);
	va_end(ap);
	return f;
}

static enum vnoc_fault
ops_store_fault(struct ops_ctx *c)
{
	vnocd_log("store: %s", vnocd_store_error(&c->d->store));
	return ops_fault(c, VNOC_FAULT_SERVER, "the VNOC's database failed; retry later");
}

/* ---- operations ---- */

static enum vnoc_fault
ops_site_known(struct ops_ctx *c, const char *site, struct vnocd_site *row)
{
	int rc = vnocd_store_site_get(&c->d->store, site, row);

	if (rc < 0)
		return ops_store_fault(c);
	if (rc > 0)
		return ops_fault(c, VNOC_FAULT_UNKNOWN_SITE,
				 "site %s is not registered (RegisterSite first)", site);
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_bump(struct ops_ctx *c)
{
	if (c->changed.n == 0) {
		if (vnocd_store_version(&c->d->store, &c->version) < 0)
			return ops_store_fault(c);
		return VNOC_FAULT_NONE;
	}
	if (vnocd_version_bump(c->d, &c->changed, &c->version) < 0)
		return ops_store_fault(c);
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_register(struct ops_ctx *c, const struct vnoc_register_req *req,
	     struct vnoc_register_resp *resp)
{
	struct vnocd_store *st = &c->d->store;
	struct vnocd_site old;
	char wan[INET_ADDRSTRLEN];
	enum vnoc_fault f;
	sqlite3_stmt *s;
	int rc;

	if (strcmp(req->site, VNOCD_ADMIN_ID) == 0)
		return ops_fault(c, VNOC_FAULT_NOT_AUTHORIZED, "'%s' is reserved for the operator",
				 VNOCD_ADMIN_ID);
	if (!ops_wan_valid(req->wan_addr))
		return ops_fault(c, VNOC_FAULT_BAD_REQUEST, "WAN address %s is not unicast",
				 vnocd_ip_str(req->wan_addr, wan));
	rc = vnocd_store_site_get(st, req->site, &old);
	if (rc < 0)
		return ops_store_fault(c);
	if (rc > 0) {
		s = vnocd_store_stmt(st, VNOCD_SQL_SITE_INSERT);
		sqlite3_bind_text(s, 1, req->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ntohl(req->wan_addr));
		sqlite3_bind_int(s, 3, req->udp_encap);
		sqlite3_bind_text(s, 4, req->software, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, c->now);
		sqlite3_bind_int64(s, 6, 0);
		if (vnocd_store_exec(st, s) < 0 || vnocd_siteset_add(&c->changed, req->site) < 0)
			return ops_store_fault(c);
	} else {
		s = vnocd_store_stmt(st, VNOCD_SQL_SITE_UPDATE);
		sqlite3_bind_text(s, 1, req->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ntohl(req->wan_addr));
		sqlite3_bind_int(s, 3, req->udp_encap);
		sqlite3_bind_text(s, 4, req->software, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, c->now);
		if (vnocd_store_exec(st, s) < 0)
			return ops_store_fault(c);
		/* Every view that lists this site carries its address. */
		if (old.wan_addr != req->wan_addr || old.udp_encap != req->udp_encap) {
			s = vnocd_store_stmt(st, VNOCD_SQL_SITE_PEERS);
			sqlite3_bind_text(s, 1, req->site, -1, SQLITE_STATIC);
			while ((rc = sqlite3_step(s)) == SQLITE_ROW)
				if (vnocd_siteset_add(&c->changed,
						      (const char *)sqlite3_column_text(s, 0)) < 0)
					break;
			sqlite3_reset(s);
			if (rc != SQLITE_DONE || vnocd_siteset_add(&c->changed, req->site) < 0)
				return ops_store_fault(c);
		}
		if (req->fresh_start &&
		    vnocd_keys_renew_outbound(c->d, req->site, c->now, &c->changed) < 0)
			return ops_store_fault(c);
	}
	f = ops_bump(c);
	if (f != VNOC_FAULT_NONE)
		return f;
	resp->heartbeat_s = c->d->cfg.heartbeat_s;
	resp->watch_timeout_s = c->d->cfg.watch_timeout_s;
	f = vnocd_view_build(c->d, req->site, 0, &resp->view, c->why, c->why_len);
	if (f == VNOC_FAULT_NONE)
		vnocd_log("register %s wan %s%s software \"%s\" (%s, version %llu)", req->site,
			  vnocd_ip_str(req->wan_addr, wan), req->udp_encap ? " udp-encap" : "",
			  req->software, rc > 0 ? "new" : req->fresh_start ? "restarted" : "again",
			  (unsigned long long)resp->view.version);
	return f;
}

static enum vnoc_fault
ops_membership_check(struct ops_ctx *c, const struct vnoc_membership_req *req)
{
	char g[INET_ADDRSTRLEN];

	if (!vnocd_group_valid(req->group))
		return ops_fault(c, VNOC_FAULT_BAD_REQUEST,
				 "%s is not a multicast group outside 224.0.0.0/24",
				 vnocd_ip_str(req->group, g));
	if (req->roles == 0 || (req->roles & ~(VNOC_ROLE_SENDER | VNOC_ROLE_RECEIVER)))
		return ops_fault(c, VNOC_FAULT_BAD_REQUEST, "roles must be send and/or receive");
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_deny(struct ops_ctx *c, const char *site, uint32_t group, uint8_t roles, enum vnoc_fault f,
	 const char *reason)
{
	char g[INET_ADDRSTRLEN];

	if (vnocd_accounting_add(c->d, c->now, site, group, roles, "deny", reason) < 0)
		return ops_store_fault(c);
	vnocd_log("deny %s %s %s: %s", site, vnocd_ip_str(group, g), vnocd_roles_str(roles), reason);
	c->commit_fault = true;
	return ops_fault(c, f, "%s", reason);
}

static enum vnoc_fault
ops_join(struct ops_ctx *c, const struct vnoc_membership_req *req,
	 struct vnoc_membership_resp *resp)
{
	struct vnocd *d = c->d;
	struct vnocd_store *st = &d->store;
	char reason[VNOCD_REASON_MAX], g[INET_ADDRSTRLEN];
	struct vnocd_member *mem = NULL;
	uint8_t allowed, granted, refused, old, added;
	uint32_t n_mem = 0, n;
	struct vnocd_site row;
	enum vnoc_fault f;
	sqlite3_stmt *s;
	bool group_mode;

	f = ops_membership_check(c, req);
	if (f == VNOC_FAULT_NONE)
		f = ops_site_known(c, req->site, &row);
	if (f != VNOC_FAULT_NONE)
		return f;
	if (vnocd_store_membership_get(st, req->site, req->group, &old) < 0)
		return ops_store_fault(c);
	group_mode = vnocd_policy_sa_mode(d->policy, req->group) == VNOC_SA_GROUP;
	allowed = vnocd_policy_roles(d->policy, req->site, req->group, reason, sizeof(reason));
	granted = req->roles & allowed;
	refused = req->roles & ~allowed;
	added = granted & ~old;

	if (refused != 0) {
		if (granted == 0)
			return ops_deny(c, req->site, req->group, refused,
					VNOC_FAULT_NOT_AUTHORIZED, reason);
		/* Some roles granted: the refusal is recorded, the answer
		 * names only the granted roles. */
		if (vnocd_accounting_add(d, c->now, req->site, req->group, refused, "deny",
					 reason) < 0)
			return ops_store_fault(c);
		vnocd_log("deny %s %s %s: %s", req->site, vnocd_ip_str(req->group, g),
			  vnocd_roles_str(refused), reason);
	}
	if (added == 0)
		goto answer;                    /* joins are idempotent */

	/* Limits, before anything changes. */
	if (old == 0) {
		uint32_t max = vnocd_policy_max_groups_per_site(d->policy);

		if (vnocd_store_count(st, VNOCD_SQL_SITE_GROUP_COUNT, req->site, 0, &n) < 0)
			return ops_store_fault(c);
		if (n >= max) {
			snprintf(reason, sizeof(reason), "limit: max-groups-per-site %u reached", max);
			return ops_deny(c, req->site, req->group, added, VNOC_FAULT_LIMIT, reason);
		}
		max = vnocd_policy_max_sites_per_group(d->policy);
		if (vnocd_store_count(st, VNOCD_SQL_GROUP_MEMBER_COUNT, NULL, req->group, &n) < 0)
			return ops_store_fault(c);
		if (n >= max) {
			snprintf(reason, sizeof(reason), "limit: max-sites-per-group %u reached", max);
			return ops_deny(c, req->site, req->group, added, VNOC_FAULT_LIMIT, reason);
		}
	}
	if (vnocd_group_members(d, req->group, &mem, &n_mem) < 0)
		return ops_store_fault(c);
	{
		uint32_t new_sas = 0, mine;

		if (vnocd_store_count(st, VNOCD_SQL_SA_COUNT_CURRENT, req->site, 0, &mine) < 0)
			goto store_fail;
		for (uint32_t i = 0; i < n_mem; i++) {
			uint32_t theirs, k;

			/* At most one SA per direction with each member
			 * (fewer when the pair already has them). */
			k = ((added & VNOC_ROLE_SENDER) && (mem[i].roles & VNOC_ROLE_RECEIVER)) +
			    ((added & VNOC_ROLE_RECEIVER) && (mem[i].roles & VNOC_ROLE_SENDER));
			if (strcmp(mem[i].site, req->site) == 0 || k == 0)
				continue;
			new_sas += k;
			if (vnocd_store_count(st, VNOCD_SQL_SA_COUNT_CURRENT, mem[i].site, 0,
					      &theirs) < 0)
				goto store_fail;
			if (theirs + k > OPS_SA_LIMIT) {
				snprintf(reason, sizeof(reason),
					 "limit: site %s would hold more than %u SAs", mem[i].site,
					 OPS_SA_LIMIT);
				free(mem);
				return ops_deny(c, req->site, req->group, added, VNOC_FAULT_LIMIT,
						reason);
			}
		}
		if (mine + new_sas > OPS_SA_LIMIT) {
			snprintf(reason, sizeof(reason), "limit: the site would hold more than %u SAs",
				 OPS_SA_LIMIT);
			free(mem);
			return ops_deny(c, req->site, req->group, added, VNOC_FAULT_LIMIT, reason);
		}
	}

	s = vnocd_store_stmt(st, VNOCD_SQL_MEMBERSHIP_PUT);
	sqlite3_bind_text(s, 1, req->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ntohl(req->group));
	sqlite3_bind_int(s, 3, old | granted);
	sqlite3_bind_int64(s, 4, c->now);
	if (vnocd_store_exec(st, s) < 0 ||
	    vnocd_accounting_add(d, c->now, req->site, req->group, added, "join", "granted") < 0 ||
	    vnocd_siteset_add(&c->changed, req->site) < 0)
		goto store_fail;
	for (uint32_t i = 0; i < n_mem; i++) {
		const struct vnocd_member *m = &mem[i];

		if (strcmp(m->site, req->site) == 0)
			continue;
		if (vnocd_siteset_add(&c->changed, m->site) < 0)
			goto store_fail;
		if (group_mode) {
			/* One SA per sender for the whole group. */
			if ((added & VNOC_ROLE_SENDER) && (m->roles & VNOC_ROLE_RECEIVER) &&
			    vnocd_group_sa_ensure(d, req->site, req->group, c->now) < 0)
				goto store_fail;
			if ((added & VNOC_ROLE_RECEIVER) && (m->roles & VNOC_ROLE_SENDER) &&
			    vnocd_group_sa_ensure(d, m->site, req->group, c->now) < 0)
				goto store_fail;
			continue;
		}
		if ((added & VNOC_ROLE_SENDER) && (m->roles & VNOC_ROLE_RECEIVER) &&
		    vnocd_keys_sa_ensure(d, req->site, m->site, c->now) < 0)
			goto store_fail;
		if ((added & VNOC_ROLE_RECEIVER) && (m->roles & VNOC_ROLE_SENDER) &&
		    vnocd_keys_sa_ensure(d, m->site, req->site, c->now) < 0)
			goto store_fail;
	}
	free(mem);
	mem = NULL;
answer:
	f = ops_bump(c);
	if (f != VNOC_FAULT_NONE)
		return f;
	if (added != 0) {
		vnocd_log("join %s %s %s (holds %s, version %llu)", req->site,
			  vnocd_ip_str(req->group, g), vnocd_roles_str(added),
			  vnocd_roles_str(old | granted), (unsigned long long)c->version);
	}
	resp->roles = granted;
	resp->version = c->version;
	return VNOC_FAULT_NONE;
store_fail:
	free(mem);
	return ops_store_fault(c);
}

/* Takes roles `remove` of site in group away; the SAs no pair needs any
 * more are deleted at once (doc/vnocd.rst): the receiver's edge device keeps
 * its inbound copy a few seconds, so the sender stops before it forgets. */
static int
ops_leave_roles(struct ops_ctx *c, const char *site, uint32_t group, uint8_t remove,
		const char *reason, uint8_t *left)
{
	struct vnocd *d = c->d;
	struct vnocd_store *st = &d->store;
	struct vnocd_member *mem = NULL;
	uint32_t n_mem;
	uint8_t old;
	char g[INET_ADDRSTRLEN];
	sqlite3_stmt *s;
	int rc;

	if (vnocd_store_membership_get(st, site, group, &old) < 0)
		return -1;
	remove &= old;
	*left = old & ~remove;
	if (remove == 0)
		return 0;
	if (vnocd_group_members(d, group, &mem, &n_mem) < 0)
		return -1;
	if (*left != 0) {
		s = vnocd_store_stmt(st, VNOCD_SQL_MEMBERSHIP_PUT);
		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ntohl(group));
		sqlite3_bind_int(s, 3, *left);
		sqlite3_bind_int64(s, 4, c->now);
	} else {
		s = vnocd_store_stmt(st, VNOCD_SQL_MEMBERSHIP_DELETE);
		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ntohl(group));
	}
	if (vnocd_store_exec(st, s) < 0 ||
	    vnocd_accounting_add(d, c->now, site, group, remove, "leave", reason) < 0)
		goto fail;
	/* Group SAs: a sender that stops takes its SA along; a receiver that
	 * leaves makes every sender's SA of the group change key. Whatever the
	 * mode in force: a policy reload may have changed it. */
	if ((remove & VNOC_ROLE_SENDER) && vnocd_group_sa_drop(d, site, group) < 0)
		goto fail;
	if ((remove & VNOC_ROLE_RECEIVER) && vnocd_group_sa_after_leave(d, group, c->now) < 0)
		goto fail;
	for (uint32_t i = 0; i < n_mem; i++) {
		const char *pair[2][2] = { { site, mem[i].site }, { mem[i].site, site } };
		const uint8_t need[2] = { VNOC_ROLE_SENDER, VNOC_ROLE_RECEIVER };

		if (vnocd_siteset_add(&c->changed, mem[i].site) < 0)
			goto fail;
		if (strcmp(mem[i].site, site) == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			if (!(remove & need[k]))
				continue;
			s = vnocd_store_stmt(st, VNOCD_SQL_PAIR_NEEDED);
			sqlite3_bind_text(s, 1, pair[k][0], -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, pair[k][1], -1, SQLITE_STATIC);
			rc = sqlite3_step(s);
			sqlite3_reset(s);
			if (rc == SQLITE_ROW)
				continue;
			if (rc != SQLITE_DONE)
				goto fail;
			s = vnocd_store_stmt(st, VNOCD_SQL_SA_DELETE_PAIR);
			sqlite3_bind_text(s, 1, pair[k][0], -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, pair[k][1], -1, SQLITE_STATIC);
			if (vnocd_store_exec(st, s) < 0)
				goto fail;
		}
	}
	free(mem);
	vnocd_log("leave %s %s %s (holds %s): %s", site, vnocd_ip_str(group, g),
		  vnocd_roles_str(remove), vnocd_roles_str(*left), reason);
	return 0;
fail:
	free(mem);
	return -1;
}

static enum vnoc_fault
ops_leave(struct ops_ctx *c, const struct vnoc_membership_req *req,
	  struct vnoc_membership_resp *resp)
{
	struct vnocd_site row;
	enum vnoc_fault f;
	uint8_t left;

	f = ops_membership_check(c, req);
	if (f == VNOC_FAULT_NONE)
		f = ops_site_known(c, req->site, &row);
	if (f != VNOC_FAULT_NONE)
		return f;
	if (ops_leave_roles(c, req->site, req->group, req->roles, "request", &left) < 0)
		return ops_store_fault(c);
	f = ops_bump(c);
	if (f != VNOC_FAULT_NONE)
		return f;
	resp->roles = left;
	resp->version = c->version;
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_get_group(struct ops_ctx *c, const char *site, uint32_t group, struct vnoc_view *view)
{
	struct vnocd_site row;
	char g[INET_ADDRSTRLEN];
	enum vnoc_fault f;
	uint8_t roles;
	int rc;

	if (!vnocd_group_valid(group))
		return ops_fault(c, VNOC_FAULT_BAD_REQUEST,
				 "%s is not a multicast group outside 224.0.0.0/24",
				 vnocd_ip_str(group, g));
	f = ops_site_known(c, site, &row);
	if (f != VNOC_FAULT_NONE)
		return f;
	rc = vnocd_store_membership_get(&c->d->store, site, group, &roles);
	if (rc < 0)
		return ops_store_fault(c);
	if (rc > 0)
		return ops_fault(c, VNOC_FAULT_NOT_AUTHORIZED, "site %s is not a member of %s",
				 site, vnocd_ip_str(group, g));
	return vnocd_view_build(c->d, site, group, view, c->why, c->why_len);
}

/*
 * The <rekey> SPIs of a Heartbeat (vnocd_keys_rekey_asked). One that is not
 * the site's own outbound SA is refused without a fault: the answer tells
 * the asker nothing about other sites' SPIs; it is counted and logged (one
 * line per second at most: a hostile site cannot flood the log).
 */
static enum vnoc_fault
ops_rekey(struct ops_ctx *c, const struct vnoc_heartbeat_req *req)
{
	struct vnocd *d = c->d;
	uint32_t refused = 0, first = 0;

	for (uint8_t i = 0; i < req->n_rekey; i++) {
		int rc = vnocd_keys_rekey_asked(d, req->site, req->rekey_spi[i], c->now,
						&c->changed);

		if (rc < 0)
			return ops_store_fault(c);
		d->rekey_received++;
		if (rc == VNOCD_REKEY_HONOURED)
			d->rekey_honoured++;
		else if (rc == VNOCD_REKEY_ALREADY)
			d->rekey_already++;
		else if (refused++ == 0)
			first = req->rekey_spi[i];
	}
	d->rekey_refused += refused;
	if (refused > 0 && c->now > d->rekey_refused_logged_s) {
		d->rekey_refused_logged_s = c->now;
		vnocd_log("rekey: site %s asked to replace %u SA(s) that are not its outbound "
			  "SAs (SPI 0x%08x first): refused (%llu refused in all)", req->site,
			  refused, first, (unsigned long long)d->rekey_refused);
	}
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_heartbeat(struct ops_ctx *c, const struct vnoc_heartbeat_req *req, uint64_t *version)
{
	struct vnocd_store *st = &c->d->store;
	struct vnocd_site row;
	enum vnoc_fault f;
	sqlite3_stmt *s;

	f = ops_site_known(c, req->site, &row);
	if (f != VNOC_FAULT_NONE)
		return f;
	s = vnocd_store_stmt(st, VNOCD_SQL_SITE_HEARTBEAT);
	sqlite3_bind_text(s, 1, req->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->now);
	sqlite3_bind_int64(s, 3, (int64_t)req->rx_packets);
	sqlite3_bind_int64(s, 4, (int64_t)req->tx_packets);
	sqlite3_bind_int64(s, 5, (int64_t)req->drops);
	if (vnocd_store_exec(st, s) < 0)
		return ops_store_fault(c);
	f = ops_rekey(c, req);
	if (f != VNOC_FAULT_NONE)
		return f;
	*version = row.view_version;
	if (c->changed.n > 0) {
		f = ops_bump(c);
		if (f != VNOC_FAULT_NONE)
			return f;
		for (uint32_t i = 0; i < c->changed.n; i++)
			if (strcmp(c->changed.id[i], req->site) == 0)
				*version = c->version;
	}
	return VNOC_FAULT_NONE;
}

static enum vnoc_fault
ops_list_groups(struct ops_ctx *c, struct vnoc_group_list *list)
{
	return vnocd_view_all_groups(c->d, list, c->why, c->why_len);
}

static enum vnoc_fault
ops_get_accounting(struct ops_ctx *c, const struct vnoc_accounting_req *req,
		   struct vnoc_accounting_resp *resp)
{
	if (vnocd_accounting_page(c->d, req->since, resp) < 0)
		return ops_store_fault(c);
	return VNOC_FAULT_NONE;
}

/* The site a request speaks for. */
static const char *
ops_request_site(const struct vnoc_msg *req)
{
	switch (req->op) {
	case VNOC_OP_REGISTER_SITE:
		return req->u.register_req.site;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		return req->u.membership_req.site;
	case VNOC_OP_GET_GROUP_VPN:
		return req->u.group_req.site;
	case VNOC_OP_WATCH_UPDATES:
		return req->u.watch_req.site;
	case VNOC_OP_HEARTBEAT:
		return req->u.heartbeat_req.site;
	default:
		return NULL;
	}
}

static enum vnoc_fault
ops_identity_check(const char *who, const struct vnoc_msg *req, char *why, size_t why_len)
{
	const char *site = ops_request_site(req);

	if (req->op == VNOC_OP_LIST_GROUPS || req->op == VNOC_OP_GET_ACCOUNTING) {
		if (strcmp(who, VNOCD_ADMIN_ID) != 0) {
			snprintf(why, why_len, "%s is for the operator (%s) only",
				 vnoc_op_name(req->op), VNOCD_ADMIN_ID);
			return VNOC_FAULT_NOT_AUTHORIZED;
		}
		return VNOC_FAULT_NONE;
	}
	if (site == NULL) {
		snprintf(why, why_len, "not a request");
		return VNOC_FAULT_BAD_REQUEST;
	}
	if (strcmp(site, who) != 0) {
		snprintf(why, why_len, "the client is site %s and may not speak for site %s", who,
			 site);
		return VNOC_FAULT_NOT_AUTHORIZED;
	}
	return VNOC_FAULT_NONE;
}

static void
ops_ctx_init(struct ops_ctx *c, struct vnocd *d, char *why, size_t why_len)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->now = vnocd_time();
	c->why = why;
	c->why_len = why_len;
	why[0] = '\0';
}

/* Under the lock, inside BEGIN: COMMIT on success (or a fault whose rows
 * stay), then wake the waiters of the changed views. */
static enum vnoc_fault
ops_finish(struct ops_ctx *c, enum vnoc_fault f)
{
	if (f == VNOC_FAULT_NONE || c->commit_fault) {
		if (vnocd_store_commit(&c->d->store) < 0) {
			vnocd_store_rollback(&c->d->store);
			vnocd_siteset_free(&c->changed);
			return ops_store_fault(c);
		}
		if (f == VNOC_FAULT_NONE && c->changed.n > 0)
			vnocd_watch_notify(&c->d->watch, &c->changed, c->version);
	} else {
		vnocd_store_rollback(&c->d->store);
	}
	vnocd_siteset_free(&c->changed);
	return f;
}

enum vnoc_fault
vnocd_ops_run(struct vnocd *d, const char *who, const struct vnoc_msg *req,
	      struct vnoc_msg *resp, char *why, size_t why_len)
{
	struct ops_ctx c;
	enum vnoc_fault f;

	ops_ctx_init(&c, d, why, why_len);
	memset(resp, 0, sizeof(*resp));
	resp->op = req->op;
	resp->response = true;
	f = ops_identity_check(who, req, why, why_len);
	if (f != VNOC_FAULT_NONE)
		return f;
	pthread_mutex_lock(&d->lock);
	if (vnocd_store_begin(&d->store) < 0) {
		f = ops_store_fault(&c);
		pthread_mutex_unlock(&d->lock);
		return f;
	}
	switch (req->op) {
	case VNOC_OP_REGISTER_SITE:
		f = ops_register(&c, &req->u.register_req, &resp->u.register_resp);
		break;
	case VNOC_OP_JOIN_VPN:
		f = ops_join(&c, &req->u.membership_req, &resp->u.membership_resp);
		break;
	case VNOC_OP_LEAVE_VPN:
		f = ops_leave(&c, &req->u.membership_req, &resp->u.membership_resp);
		break;
	case VNOC_OP_GET_GROUP_VPN:
		f = ops_get_group(&c, req->u.group_req.site, req->u.group_req.group, &resp->u.view);
		break;
	case VNOC_OP_HEARTBEAT:
		f = ops_heartbeat(&c, &req->u.heartbeat_req, &resp->u.heartbeat_resp.version);
		break;
	case VNOC_OP_LIST_GROUPS:
		f = ops_list_groups(&c, &resp->u.group_list);
		break;
	case VNOC_OP_GET_ACCOUNTING:
		f = ops_get_accounting(&c, &req->u.accounting_req, &resp->u.accounting_resp);
		break;
	default:
		f = ops_fault(&c, VNOC_FAULT_BAD_REQUEST, "%s is not served here",
			      vnoc_op_name(req->op));
		break;
	}
	f = ops_finish(&c, f);
	pthread_mutex_unlock(&d->lock);
	if (f != VNOC_FAULT_NONE)
		vnocd_ops_release(resp);
	return f;
}

void
vnocd_ops_release(struct vnoc_msg *resp)
{
	switch (resp->op) {
	case VNOC_OP_REGISTER_SITE:
		vnocd_view_free(&resp->u.register_resp.view);
		break;
	case VNOC_OP_GET_GROUP_VPN:
	case VNOC_OP_WATCH_UPDATES:
		vnocd_view_free(&resp->u.view);
		break;
	case VNOC_OP_LIST_GROUPS: {
		struct vnoc_view v = { .n_groups = resp->u.group_list.n_groups,
				       .groups = resp->u.group_list.groups };

		vnocd_view_free(&v);
		memset(&resp->u.group_list, 0, sizeof(resp->u.group_list));
		break;
	}
	case VNOC_OP_GET_ACCOUNTING:
		free(resp->u.accounting_resp.rows);
		memset(&resp->u.accounting_resp, 0, sizeof(resp->u.accounting_resp));
		break;
	default:
		break;
	}
}

static int
ops_receiver_holds(struct vnocd *d, void *site, struct vnocd_siteset *changed)
{
	return vnocd_keys_receiver_holds(d, site, changed);
}

enum vnocd_watch_start
vnocd_ops_watch_begin(struct vnocd *d, const struct vnoc_watch_req *req,
		      struct vnocd_waiter *waiter, struct vnoc_msg *resp,
		      struct vnoc_fault_info *fault)
{
	struct vnocd_site row;
	uint64_t version;
	uint32_t timeout;
	int rc;

	memset(resp, 0, sizeof(*resp));
	resp->op = VNOC_OP_WATCH_UPDATES;
	resp->response = true;
	fault->text[0] = '\0';
	pthread_mutex_lock(&d->lock);
	rc = vnocd_store_site_get(&d->store, req->site, &row);
	if (rc == 0 && vnocd_store_version(&d->store, &version) < 0)
		rc = -1;
	if (rc != 0) {
		pthread_mutex_unlock(&d->lock);
		if (rc > 0) {
			fault->reason = VNOC_FAULT_UNKNOWN_SITE;
			snprintf(fault->text, sizeof(fault->text),
				 "site %s is not registered (RegisterSite first)", req->site);
		} else {
			vnocd_log("store: %s", vnocd_store_error(&d->store));
			fault->reason = VNOC_FAULT_SERVER;
			snprintf(fault->text, sizeof(fault->text),
				 "the VNOC's database failed; retry later");
		}
		return VNOCD_WATCH_FAULT;
	}
	timeout = req->timeout_s ? req->timeout_s : d->cfg.watch_timeout_s;
	if (timeout > d->cfg.watch_timeout_max_s)
		timeout = d->cfg.watch_timeout_max_s;
	/* Newer view, or a `since` this VNOC never gave (a client that
	 * knew another VNOC's numbers): answer now. */
	if (row.view_version > req->since || req->since > version || d->stopping) {
		fault->reason = vnocd_view_build(d, req->site, 0, &resp->u.view, fault->text,
						 sizeof(fault->text));
		pthread_mutex_unlock(&d->lock);
		return fault->reason == VNOC_FAULT_NONE ? VNOCD_WATCH_ANSWER : VNOCD_WATCH_FAULT;
	}
	/* Up to date: the site holds every SA of its view, so the ones that
	 * wait for it may carry traffic now. */
	if (vnocd_keys_pending_to(d, req->site))
		vnocd_change(d, "keys", ops_receiver_holds, (void *)req->site);
	snprintf(waiter->site, sizeof(waiter->site), "%s", req->site);
	waiter->since = req->since;
	waiter->deadline_ms = vnocd_now_ms() + (uint64_t)timeout * 1000;
	vnocd_watch_suspend(&d->watch, waiter);
	vnocd_timer_kick(d, waiter->deadline_ms);
	pthread_mutex_unlock(&d->lock);
	return VNOCD_WATCH_SUSPENDED;
}

enum vnoc_fault
vnocd_ops_watch_end(struct vnocd *d, const struct vnoc_watch_req *req, struct vnoc_msg *resp,
		    char *why, size_t why_len)
{
	enum vnoc_fault f;

	memset(resp, 0, sizeof(*resp));
	resp->op = VNOC_OP_WATCH_UPDATES;
	resp->response = true;
	pthread_mutex_lock(&d->lock);
	f = vnocd_view_build(d, req->site, 0, &resp->u.view, why, why_len);
	pthread_mutex_unlock(&d->lock);
	return f;
}

void
vnocd_ops_policy_swap(struct vnocd *d, struct vnocd_policy *p)
{
	struct vnocd_store *st = &d->store;
	struct vnocd_policy *old;
	struct {
		char site[VNOC_SITE_ID_MAX];
		uint32_t group;
		uint8_t roles;
	} *rows = NULL;
	size_t n = 0, cap = 0;
	char why[VNOCD_REASON_MAX];
	struct ops_ctx c;
	enum vnoc_fault f = VNOC_FAULT_NONE;
	unsigned int revoked = 0;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&d->lock);
	old = d->policy;
	d->policy = p;
	ops_ctx_init(&c, d, why, sizeof(why));
	if (vnocd_store_begin(st) < 0) {
		f = ops_store_fault(&c);
		goto out;
	}
	s = vnocd_store_stmt(st, VNOCD_SQL_MEMBERSHIP_ALL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t k = cap ? cap * 2 : 64;
			void *q = realloc(rows, k * sizeof(*rows));

			if (q == NULL)
				break;
			rows = q;
			cap = k;
		}
		snprintf(rows[n].site, sizeof(rows[n].site), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		rows[n].group = htonl((uint32_t)sqlite3_column_int64(s, 1));
		rows[n].roles = (uint8_t)sqlite3_column_int(s, 2);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		f = ops_store_fault(&c);
		goto out;
	}
	/* Roles the new policy does not allow are taken away. */
	for (size_t i = 0; i < n; i++) {
		uint8_t allowed = vnocd_policy_roles(p, rows[i].site, rows[i].group, NULL, 0);
		uint8_t left;

		if ((rows[i].roles & ~allowed) == 0)
			continue;
		if (ops_leave_roles(&c, rows[i].site, rows[i].group, rows[i].roles & ~allowed,
				    "policy reload", &left) < 0) {
			f = ops_store_fault(&c);
			goto out;
		}
		revoked++;
	}
	f = ops_bump(&c);
out:
	free(rows);
	f = ops_finish(&c, f);
	pthread_mutex_unlock(&d->lock);
	vnocd_policy_free(old);
	if (f != VNOC_FAULT_NONE)
		vnocd_log("policy: revoking memberships failed: %s", why);
	vnocd_log("policy: %u rules in force; %u memberships lost roles", vnocd_policy_rule_count(p),
		  revoked);
}

/*
 * Liveness. A site that sends no Heartbeat (nor RegisterSite) for
 * cfg.liveness_s is gone: powered off, cut off, or killed. Its roles are
 * left, as if it had asked (accounting reason "silent"), so that the
 * senders stop sending it copies and the SAs it shared go, and its
 * registration is deleted, so that if it was only cut off, its next
 * request gets UnknownSite and its client registers and joins again. No
 * site is silent from before vnocd started: a VNOC that was down heard
 * nobody, and must give the sites time to come back.
 */
struct silent_site {
	char id[VNOC_SITE_ID_MAX];
	int64_t seen;
};

static int
ops_silent_sites(struct vnocd *d, int64_t now, struct silent_site **out, size_t *n)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_SITES_SILENT);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(s, 1, now - (int64_t)d->cfg.liveness_s);
	sqlite3_bind_int64(s, 2, d->started_s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t k = cap ? cap * 2 : 16;
			struct silent_site *p = realloc(*out, k * sizeof(*p));

			if (p == NULL)
				break;
			*out = p;
			cap = k;
		}
		snprintf((*out)[*n].id, sizeof((*out)[*n].id), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		(*out)[*n].seen = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
ops_site_take_out(struct ops_ctx *c, const struct silent_site *site)
{
	struct vnocd_store *st = &c->d->store;
	struct { uint32_t group; uint8_t roles; } *rows = NULL;
	size_t n = 0, cap = 0;
	char reason[64];
	sqlite3_stmt *s;
	uint8_t left;
	int rc;

	s = vnocd_store_stmt(st, VNOCD_SQL_SITE_GROUPS);
	sqlite3_bind_text(s, 1, site->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t k = cap ? cap * 2 : 16;
			void *p = realloc(rows, k * sizeof(*rows));

			if (p == NULL)
				break;
			rows = p;
			cap = k;
		}
		rows[n].group = htonl((uint32_t)sqlite3_column_int64(s, 0));
		rows[n].roles = (uint8_t)sqlite3_column_int(s, 1);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	snprintf(reason, sizeof(reason), "silent for %lld s", (long long)(c->now - site->seen));
	for (size_t i = 0; i < n; i++)
		if (ops_leave_roles(c, site->id, rows[i].group, rows[i].roles, reason, &left) < 0)
			goto fail;
	free(rows);
	s = vnocd_store_stmt(st, VNOCD_SQL_SITE_SAS_DELETE);
	sqlite3_bind_text(s, 1, site->id, -1, SQLITE_STATIC);
	if (vnocd_store_exec(st, s) < 0)
		return -1;
	s = vnocd_store_stmt(st, VNOCD_SQL_GSA_DELETE_SITE);
	sqlite3_bind_text(s, 1, site->id, -1, SQLITE_STATIC);
	if (vnocd_store_exec(st, s) < 0)
		return -1;
	s = vnocd_store_stmt(st, VNOCD_SQL_SITE_DELETE);
	sqlite3_bind_text(s, 1, site->id, -1, SQLITE_STATIC);
	if (vnocd_store_exec(st, s) < 0)
		return -1;
	/* A long poll it left parked answers now (UnknownSite). */
	if (vnocd_siteset_add(&c->changed, site->id) < 0)
		return -1;
	vnocd_log("liveness: site %s silent for %lld s (timeout %u s): %zu membership(s) left, "
		  "registration removed", site->id, (long long)(c->now - site->seen),
		  c->d->cfg.liveness_s, n);
	return 0;
fail:
	free(rows);
	return -1;
}

void
vnocd_ops_expire_silent(struct vnocd *d, int64_t now)
{
	struct silent_site *sites = NULL;
	char why[VNOCD_REASON_MAX];
	struct ops_ctx c;
	enum vnoc_fault f = VNOC_FAULT_NONE;
	size_t n = 0;

	ops_ctx_init(&c, d, why, sizeof(why));
	c.now = now;
	if (ops_silent_sites(d, now, &sites, &n) < 0 || n == 0) {
		free(sites);
		return;
	}
	if (vnocd_store_begin(&d->store) < 0) {
		free(sites);
		vnocd_log("liveness: %s", vnocd_store_error(&d->store));
		return;
	}
	for (size_t i = 0; i < n && f == VNOC_FAULT_NONE; i++)
		if (ops_site_take_out(&c, &sites[i]) < 0)
			f = ops_store_fault(&c);
	if (f == VNOC_FAULT_NONE)
		f = ops_bump(&c);
	f = ops_finish(&c, f);
	if (f != VNOC_FAULT_NONE)
		vnocd_log("liveness: taking out silent sites failed: %s", why);
	free(sites);
}
