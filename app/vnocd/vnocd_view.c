/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Views (lib/vnoc/vnoc.h struct vnoc_view) and their versions. A site's view
 * is what its edge device needs to forward: the groups it holds a role in,
 * each with all its members, and the SAs it is one end of: inbound, every
 * SA not expired (a replacement not yet in use and the SA it replaces
 * included); outbound, the newest SA in use per peer. One global version
 * only grows; a change takes the next one and gives it to the sites whose
 * view changed (sites.view_version), which is the version their view
 * carries.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnocd.h"

int
vnocd_siteset_add(struct vnocd_siteset *set, const char *id)
{
	if (set->n == set->cap) {
		uint32_t cap = set->cap ? set->cap * 2 : 16;
		char (*p)[VNOC_SITE_ID_MAX] = realloc(set->id, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		set->id = p;
		set->cap = cap;
	}
	snprintf(set->id[set->n++], VNOC_SITE_ID_MAX, "%s", id);
	return 0;
}

void
vnocd_siteset_free(struct vnocd_siteset *set)
{
	free(set->id);
	memset(set, 0, sizeof(*set));
}

int
vnocd_version_bump(struct vnocd *d, const struct vnocd_siteset *set, uint64_t *version)
{
	struct vnocd_store *st = &d->store;
	sqlite3_stmt *s;
	uint64_t v;

	if (vnocd_store_version(st, &v) < 0)
		return -1;
	v++;
	s = vnocd_store_stmt(st, VNOCD_SQL_VERSION_SET);
	sqlite3_bind_int64(s, 1, (int64_t)v);
	if (vnocd_store_exec(st, s) < 0)
		return -1;
	for (uint32_t i = 0; i < set->n; i++) {
		s = vnocd_store_stmt(st, VNOCD_SQL_SITE_VIEW_VERSION_SET);
		sqlite3_bind_text(s, 1, set->id[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)v);
		if (vnocd_store_exec(st, s) < 0)
			return -1;
	}
	*version = v;
	return 0;
}

static enum vnoc_fault
view_store_fault(struct vnocd *d, char *why, size_t why_len)
{
	vnocd_log("store: %s", vnocd_store_error(&d->store));
	snprintf(why, why_len, "the VNOC's database failed; retry later");
	return VNOC_FAULT_SERVER;
}

int
vnocd_group_members(struct vnocd *d, uint32_t group, struct vnocd_member **out, uint32_t *n)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_GROUP_MEMBERS);
	uint32_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(s, 2, ntohl(group));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vnocd_member *m;

		if (*n == cap) {
			uint32_t c = cap ? cap * 2 : 16;
			struct vnocd_member *p = realloc(*out, c * sizeof(*p));

			if (p == NULL) {
				sqlite3_reset(s);
				free(*out);
				*out = NULL;
				return -1;
			}
			*out = p;
			cap = c;
		}
		m = &(*out)[(*n)++];
		snprintf(m->site, sizeof(m->site), "%s", (const char *)sqlite3_column_text(s, 0));
		m->roles = (uint8_t)sqlite3_column_int(s, 1);
		m->wan_addr = htonl((uint32_t)sqlite3_column_int64(s, 2));
		m->udp_encap = sqlite3_column_int(s, 3) != 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

void
vnocd_view_free(struct vnoc_view *view)
{
	for (uint32_t i = 0; view->groups != NULL && i < view->n_groups; i++)
		free(view->groups[i].members);
	free(view->groups);
	free(view->sas);
	memset(view, 0, sizeof(*view));
}

/* SA rows (inbound or outbound) into view->sas; outbound, only the newest
 * per peer (per group for group SAs, whose rows have the group as an 8th
 * column); only peers in `only` and SAs of only_group when a view of one
 * group is asked for (only not NULL). */
static int
view_sas_add(struct vnocd *d, enum vnocd_sql id, const char *site, int64_t now, bool inbound,
	     const struct vnocd_member *only, uint32_t n_only, uint32_t only_group,
	     uint32_t *cap, struct vnoc_view *view)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, id);
	char last[VNOC_SITE_ID_MAX] = "";
	uint32_t last_group = 0;
	int rc;

	sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *peer = (const char *)sqlite3_column_text(s, 0);
		const void *key = sqlite3_column_blob(s, 3);
		int key_len = sqlite3_column_bytes(s, 3);
		const void *salt = sqlite3_column_blob(s, 4);
		uint32_t group = sqlite3_column_count(s) > 7 ?
				 htonl((uint32_t)sqlite3_column_int64(s, 7)) : 0;
		struct vnoc_sa *sa;
		bool keep = only == NULL;

		if (!inbound && strcmp(peer, last) == 0 && group == last_group)
			continue;               /* an older outbound SA */
		snprintf(last, sizeof(last), "%s", peer);
		last_group = group;
		for (uint32_t i = 0; !keep && i < n_only; i++)
			keep = strcmp(only[i].site, peer) == 0;
		if (!keep || (only != NULL && group != 0 && group != only_group))
			continue;
		if ((key_len != 16 && key_len != 32) || sqlite3_column_bytes(s, 4) != 4)
			continue;               /* not written by vnocd */
		if (view->n_sas == *cap) {
			uint32_t c = *cap ? *cap * 2 : 16;
			struct vnoc_sa *p;

			if (view->n_sas >= VNOC_MAX_SAS) {
				sqlite3_reset(s);
				return 1;
			}
			p = realloc(view->sas, c * sizeof(*p));
			if (p == NULL) {
				sqlite3_reset(s);
				return -1;
			}
			view->sas = p;
			*cap = c;
		}
		sa = &view->sas[view->n_sas++];
		memset(sa, 0, sizeof(*sa));
		sa->inbound = inbound;
		snprintf(sa->peer, sizeof(sa->peer), "%s", peer);
		sa->spi = (uint32_t)sqlite3_column_int64(s, 1);
		sa->aead = (uint8_t)sqlite3_column_int(s, 2);
		memcpy(sa->key, key, (size_t)key_len);
		sa->key_len = (uint8_t)key_len;
		memcpy(sa->salt, salt, 4);
		sa->esn = sqlite3_column_int(s, 5) != 0;
		sa->lifetime_s = (uint64_t)(sqlite3_column_int64(s, 6) - now);
		sa->group = group;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
view_group_add(struct vnocd *d, uint32_t group, struct vnoc_group *g, struct vnocd_member **mem,
	       uint32_t *n_mem)
{
	uint32_t n;

	if (vnocd_group_members(d, group, mem, &n) < 0)
		return -1;
	if (n > VNOC_MAX_MEMBERS)
		return 1;
	g->group = group;
	g->sa_mode = vnocd_policy_sa_mode(d->policy, group);
	g->n_members = (uint16_t)n;
	g->members = calloc(n ? n : 1, sizeof(*g->members));
	if (g->members == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		snprintf(g->members[i].site, sizeof(g->members[i].site), "%s", (*mem)[i].site);
		g->members[i].wan_addr = (*mem)[i].wan_addr;
		g->members[i].udp_encap = (*mem)[i].udp_encap;
		g->members[i].roles = (*mem)[i].roles;
	}
	if (n_mem != NULL)
		*n_mem = n;
	return 0;
}

enum vnoc_fault
vnocd_view_build(struct vnocd *d, const char *site, uint32_t group, struct vnoc_view *view,
		 char *why, size_t why_len)
{
	struct vnocd_member *only = NULL;
	uint32_t n_only = 0, cap = 0;
	struct vnocd_site row;
	uint32_t *groups = NULL;
	uint32_t n_groups = 0;
	int64_t now = vnocd_time();
	int rc;

	memset(view, 0, sizeof(*view));
	rc = vnocd_store_site_get(&d->store, site, &row);
	if (rc != 0)
		goto fail;
	view->version = row.view_version;
	if (group != 0) {
		groups = malloc(sizeof(*groups));
		if (groups == NULL)
			goto fail;
		groups[n_groups++] = group;
	} else {
		sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_SITE_GROUPS);
		uint32_t gcap = 0;

		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (n_groups == gcap) {
				uint32_t c = gcap ? gcap * 2 : 16;
				uint32_t *p = realloc(groups, c * sizeof(*p));

				if (p == NULL) {
					sqlite3_reset(s);
					goto fail;
				}
				groups = p;
				gcap = c;
			}
			groups[n_groups++] = htonl((uint32_t)sqlite3_column_int64(s, 0));
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (n_groups > VNOC_MAX_GROUPS) {
		snprintf(why, why_len, "the view of %s has more than %u groups", site,
			 VNOC_MAX_GROUPS);
		goto limit;
	}
	view->groups = calloc(n_groups ? n_groups : 1, sizeof(*view->groups));
	if (view->groups == NULL)
		goto fail;
	for (uint32_t i = 0; i < n_groups; i++) {
		struct vnocd_member *mem = NULL;

		rc = view_group_add(d, groups[i], &view->groups[i], &mem,
				    group != 0 ? &n_only : NULL);
		view->n_groups = i + 1;
		if (group != 0)
			only = mem;
		else
			free(mem);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			snprintf(why, why_len, "a group of %s has more than %u members", site,
				 VNOC_MAX_MEMBERS);
			goto limit;
		}
	}
	rc = view_sas_add(d, VNOCD_SQL_SA_INBOUND, site, now, true, only, n_only, group, &cap,
			  view);
	if (rc == 0)
		rc = view_sas_add(d, VNOCD_SQL_SA_OUTBOUND, site, now, false, only, n_only, group,
				  &cap, view);
	if (rc == 0)
		rc = view_sas_add(d, VNOCD_SQL_GSA_INBOUND, site, now, true, only, n_only, group,
				  &cap, view);
	if (rc == 0)
		rc = view_sas_add(d, VNOCD_SQL_GSA_OUTBOUND, site, now, false, only, n_only, group,
				  &cap, view);
	if (rc < 0)
		goto fail;
	if (rc > 0) {
		snprintf(why, why_len, "the view of %s has more than %u SAs", site, VNOC_MAX_SAS);
		goto limit;
	}
	free(groups);
	free(only);
	return VNOC_FAULT_NONE;
limit:
	free(groups);
	free(only);
	vnocd_view_free(view);
	return VNOC_FAULT_LIMIT;
fail:
	free(groups);
	free(only);
	vnocd_view_free(view);
	if (rc == 1) {
		snprintf(why, why_len, "site %s is not registered", site);
		return VNOC_FAULT_UNKNOWN_SITE;
	}
	vnocd_log("store: view of %s: %s", site, vnocd_store_error(&d->store));
	snprintf(why, why_len, "the VNOC's database failed; retry later");
	return VNOC_FAULT_SERVER;
}

/* The operator's view: every group with its members, no keys. */
enum vnoc_fault
vnocd_view_all_groups(struct vnocd *d, struct vnoc_group_list *list, char *why, size_t why_len)
{
	struct vnoc_view view = { 0 };
	sqlite3_stmt *s;
	uint32_t cap = 0;
	int rc;

	memset(list, 0, sizeof(*list));
	if (vnocd_store_version(&d->store, &view.version) < 0)
		return view_store_fault(d, why, why_len);
	s = vnocd_store_stmt(&d->store, VNOCD_SQL_GROUPS_ALL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (view.n_groups == VNOC_MAX_GROUPS) {
			sqlite3_reset(s);
			vnocd_view_free(&view);
			snprintf(why, why_len, "more than %u groups", VNOC_MAX_GROUPS);
			return VNOC_FAULT_LIMIT;
		}
		if (view.n_groups == cap) {
			uint32_t n = cap ? cap * 2 : 16;
			struct vnoc_group *p = realloc(view.groups, n * sizeof(*p));

			if (p == NULL)
				break;
			view.groups = p;
			cap = n;
		}
		memset(&view.groups[view.n_groups], 0, sizeof(view.groups[0]));
		view.groups[view.n_groups++].group = htonl((uint32_t)sqlite3_column_int64(s, 0));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		vnocd_view_free(&view);
		return view_store_fault(d, why, why_len);
	}
	for (uint32_t i = 0; i < view.n_groups; i++) {
		struct vnocd_member *mem = NULL;

		rc = view_group_add(d, view.groups[i].group, &view.groups[i], &mem, NULL);
		free(mem);
		if (rc != 0) {
			vnocd_view_free(&view);
			if (rc < 0)
				return view_store_fault(d, why, why_len);
			snprintf(why, why_len, "a group has more than %u members", VNOC_MAX_MEMBERS);
			return VNOC_FAULT_LIMIT;
		}
	}
	list->version = view.version;
	list->n_groups = view.n_groups;
	list->groups = view.groups;
	return VNOC_FAULT_NONE;
}

