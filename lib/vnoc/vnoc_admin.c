/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The administrative operations:
 *
 *   <ListGroups/>
 *   <ListGroupsResponse><version/><group>*</ListGroupsResponse>
 *   <GetAccounting><since/></GetAccounting>
 *   <GetAccountingResponse><row>*<more/></GetAccountingResponse>
 *   <row><time/><site/><group/><roles/><action/><reason/>?</row>
 */
#include <stdlib.h>

#include "vnoc_private.h"

void
vnoc_group_list_write(struct soap_writer *w, xmlNodePtr el, const struct vnoc_group_list *l)
{
	soap_write_uint64(w, el, "version", l->version);
	vnoc_groups_write(w, el, l->groups, l->n_groups);
}

int
vnoc_group_list_read(struct soap_reader *r, struct vnoc_group_list *l)
{
	if (soap_read_uint64(r, "version", &l->version) < 0)
		return -1;
	return vnoc_groups_read(r, &l->groups, &l->n_groups);
}

void
vnoc_accounting_req_write(struct soap_writer *w, xmlNodePtr el,
			  const struct vnoc_accounting_req *req)
{
	soap_write_uint64(w, el, "since", req->since);
}

int
vnoc_accounting_req_read(struct soap_reader *r, struct vnoc_accounting_req *req)
{
	return soap_read_uint64(r, "since", &req->since);
}

static void
row_write(struct soap_writer *w, xmlNodePtr parent, const struct vnoc_accounting_row *row)
{
	xmlNodePtr el = soap_write_element(w, parent, "row");

	soap_write_uint64(w, el, "time", row->time);
	soap_write_text(w, el, "site", row->site);
	soap_write_ipv4(w, el, "group", row->group);
	vnoc_write_roles(w, el, "roles", row->roles);
	soap_write_text(w, el, "action",
			(unsigned int)row->action < 3 ? vnoc_action_names[row->action] : "unknown");
	if (row->reason[0] != '\0')
		soap_write_text(w, el, "reason", row->reason);
}

static int
row_read(struct soap_reader *parent, struct vnoc_accounting_row *row)
{
	xmlNodePtr el = soap_read_element(parent, "row");
	struct soap_reader r;
	unsigned int action;

	if (el == NULL || soap_reader_init(&r, el, VNOC_NS, parent->err, parent->err_len) < 0)
		return -1;
	if (soap_read_uint64(&r, "time", &row->time) < 0 ||
	    vnoc_read_site(&r, "site", row->site) < 0 ||
	    vnoc_read_group(&r, "group", &row->group) < 0 ||
	    vnoc_read_roles(&r, "roles", &row->roles, false) < 0 ||
	    vnoc_read_enum(&r, "action", vnoc_action_names, 3, &action) < 0)
		return -1;
	row->action = (enum vnoc_accounting_action)action;
	if (soap_reader_at(&r, "reason") &&
	    soap_read_text(&r, "reason", row->reason, sizeof(row->reason)) < 0)
		return -1;
	return soap_reader_end(&r);
}

void
vnoc_accounting_resp_write(struct soap_writer *w, xmlNodePtr el,
			   const struct vnoc_accounting_resp *resp)
{
	for (uint32_t i = 0; i < resp->n_rows && !w->failed; i++)
		row_write(w, el, &resp->rows[i]);
	soap_write_bool(w, el, "more", resp->more);
}

int
vnoc_accounting_resp_read(struct soap_reader *r, struct vnoc_accounting_resp *resp)
{
	unsigned int n = soap_reader_count(r, "row", VNOC_MAX_ACCOUNTING_ROWS);

	if (n > VNOC_MAX_ACCOUNTING_ROWS)
		return soap_reader_fail(r, "more than %u <row>", VNOC_MAX_ACCOUNTING_ROWS);
	if (n > 0) {
		resp->rows = calloc(n, sizeof(resp->rows[0]));
		if (resp->rows == NULL)
			return soap_reader_fail(r, "out of memory");
		for (; resp->n_rows < n; resp->n_rows++)
			if (row_read(r, &resp->rows[resp->n_rows]) < 0)
				return -1;
	}
	return soap_read_bool(r, "more", &resp->more);
}
