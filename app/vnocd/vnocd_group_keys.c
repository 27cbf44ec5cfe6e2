/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Group SAs (design.md 4, `group`; sa-mode PREFIX group in the policy): one
 * SA per (sender site, group) that has at least one receiving site. The
 * sender encrypts each packet once and sends the same ESP bytes to every
 * receiver; every receiving site holds the SA inbound (as a GDOI key server
 * hands a group key to its members).
 *
 * Life of a group SA (lifetime L, as pairwise SAs):
 *   0          created: in every receiver's view (inbound) at once, in the
 *              sender's (outbound) VNOCD_INSTALL_GRACE_S later, once the
 *              receivers have had the time to install it
 *   a receiver leaves
 *              the SA is replaced: a new key for the remaining receivers,
 *              the sender's after the grace; the old SA is superseded and
 *              leaves the views a few seconds after the switch. The site
 *              that left never gets the new key, so it cannot read what is
 *              sent with it; it could read what was sent before the switch
 *              (at most the grace after its leave). Its edge device keeps
 *              the old SA a few seconds, decrypting only, for what the
 *              sender sent before it applied its view without the site
 *              (app/ivgmpd/ivgmpd_vnoc_view.c)
 *   the last receiver leaves, or the sender stops sending
 *              the SA is deleted
 *   0.8 L      replaced (0.9 L: the sender's), L: the old one expires
 * Each step bumps the views of the group's members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "vnocd.h"

/* How long a superseded group SA stays in the receivers' views after the
 * sender switched: packets in flight still decrypt. */
#define GROUP_SA_OLD_KEEP_S 10

static int
group_sa_insert(struct vnocd *d, const char *from, uint32_t group, int64_t now,
		int64_t activate_at)
{
	return vnocd_keys_insert(d, from, NULL, group, now, activate_at);
}

int
vnocd_group_sa_ensure(struct vnocd *d, const char *from, uint32_t group, int64_t now)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_GSA_CURRENT_EXISTS);
	int rc;

	sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ntohl(group));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return -1;
	return group_sa_insert(d, from, group, now, now + VNOCD_INSTALL_GRACE_S);
}

static int
group_sa_by_id(struct vnocd *d, enum vnocd_sql id, int64_t row, int64_t arg)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, id);

	sqlite3_bind_int64(s, 1, row);
	if (id == VNOCD_SQL_GSA_SUPERSEDE_BY)
		sqlite3_bind_int64(s, 2, arg);
	return vnocd_store_exec(&d->store, s);
}

static int
group_receivers(struct vnocd *d, uint32_t group, const char *besides, int64_t *n)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_GSA_RECEIVERS);
	int rc;

	sqlite3_bind_int64(s, 1, ntohl(group));
	sqlite3_bind_text(s, 2, besides, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
vnocd_group_sa_after_leave(struct vnocd *d, uint32_t group, int64_t now)
{
	struct vnocd_sa_row *rows;
	char g[INET_ADDRSTRLEN];
	size_t n;
	int rc = 0;

	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_CURRENT_OF_GROUP, ntohl(group), NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct vnocd_sa_row *r = &rows[i];
		int64_t left;

		rc = group_receivers(d, group, r->from, &left);
		if (rc < 0)
			break;
		if (left == 0) {
			rc = vnocd_group_sa_drop(d, r->from, group);
			continue;
		}
		rc = group_sa_by_id(d, VNOCD_SQL_GSA_SUPERSEDE_BY, r->id,
				    now + VNOCD_INSTALL_GRACE_S + GROUP_SA_OLD_KEEP_S);
		if (rc == 0)
			rc = group_sa_insert(d, r->from, group, now, now + VNOCD_INSTALL_GRACE_S);
		if (rc == 0)
			vnocd_log("rekey %s -> %s: a receiver left", r->from,
				  vnocd_ip_str(group, g));
	}
	free(rows);
	return rc;
}

int
vnocd_group_sa_drop(struct vnocd *d, const char *from, uint32_t group)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_GSA_DELETE_SENDER);

	sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ntohl(group));
	return vnocd_store_exec(&d->store, s);
}

/* Every member of group: their views carry its SAs. */
static int
group_members_changed(struct vnocd *d, uint32_t group, struct vnocd_siteset *changed)
{
	struct vnocd_member *mem = NULL;
	uint32_t n = 0;
	int rc = 0;

	if (vnocd_group_members(d, group, &mem, &n) < 0)
		return -1;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = vnocd_siteset_add(changed, mem[i].site);
	free(mem);
	return rc;
}

int
vnocd_group_keys_run(struct vnocd *d, int64_t now, struct vnocd_siteset *changed)
{
	int64_t grace = vnocd_keys_rekey_grace(d);
	struct vnocd_sa_row *rows;
	size_t n;
	int rc = 0;

	/* Replace at 80 % of life; the sender's at 90 %. */
	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_REKEY_DUE, now, NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct vnocd_sa_row *r = &rows[i];
		int64_t activate_at = now + grace < r->expires ? now + grace : r->expires;

		rc = group_sa_by_id(d, VNOCD_SQL_GSA_SUPERSEDE_BY, r->id, r->expires);
		if (rc == 0)
			rc = group_sa_insert(d, r->from, r->group, now, activate_at);
		if (rc == 0)
			rc = group_members_changed(d, r->group, changed);
	}
	free(rows);
	if (rc < 0)
		return -1;
	/* Replacements become the senders'. */
	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_ACTIVATE_DUE, now, NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = group_sa_by_id(d, VNOCD_SQL_GSA_ACTIVATE, rows[i].id, 0);
		if (rc == 0)
			rc = vnocd_siteset_add(changed, rows[i].from);
	}
	free(rows);
	if (rc < 0)
		return -1;
	/* Expired SAs leave the views. */
	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_EXPIRED, now, NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = group_sa_by_id(d, VNOCD_SQL_GSA_DELETE, rows[i].id, 0);
		if (rc == 0)
			rc = group_members_changed(d, rows[i].group, changed);
	}
	free(rows);
	return rc;
}

int
vnocd_group_keys_renew_outbound(struct vnocd *d, const char *site, int64_t now,
				struct vnocd_siteset *changed)
{
	struct vnocd_sa_row *rows;
	size_t n;
	int rc = 0;

	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_CURRENT_FROM, 0, site, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct vnocd_sa_row *r = &rows[i];

		rc = group_sa_by_id(d, VNOCD_SQL_GSA_SUPERSEDE_BY, r->id,
				    now + GROUP_SA_OLD_KEEP_S);
		if (rc == 0)
			rc = group_sa_insert(d, r->from, r->group, now, now);
		if (rc == 0)
			rc = group_members_changed(d, r->group, changed);
	}
	free(rows);
	return rc;
}

/* vnocd_keys_rekey_asked for a group SA: the 0.8 L step (the old SA stays
 * in the receivers' views until it expires), the new one the sender's
 * VNOCD_INSTALL_GRACE_S later, when the receivers have installed it. */
int
vnocd_group_keys_rekey_asked(struct vnocd *d, const char *site, uint32_t spi, int64_t now,
			     struct vnocd_siteset *changed)
{
	struct vnocd_sa_row *rows;
	char g[INET_ADDRSTRLEN];
	size_t n, replaced = 0;
	int rc = 0;

	if (vnocd_sa_rows(d, VNOCD_SQL_GSA_OF_SENDER_SPI, spi, site, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct vnocd_sa_row *r = &rows[i];

		if (r->superseded)
			continue;
		rc = group_sa_by_id(d, VNOCD_SQL_GSA_SUPERSEDE_BY, r->id, r->expires);
		if (rc == 0)
			rc = group_sa_insert(d, r->from, r->group, now, now + VNOCD_INSTALL_GRACE_S);
		if (rc == 0)
			rc = group_members_changed(d, r->group, changed);
		if (rc == 0)
			vnocd_log("rekey %s -> %s: the sender asked (soft limit)", r->from,
				  vnocd_ip_str(r->group, g));
		replaced++;
	}
	free(rows);
	if (rc < 0)
		return -1;
	if (replaced > 0)
		return VNOCD_REKEY_HONOURED;
	return n > 0 ? VNOCD_REKEY_ALREADY : VNOCD_REKEY_REFUSED;
}
