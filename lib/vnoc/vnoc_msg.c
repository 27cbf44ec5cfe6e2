/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One message, one envelope (document/literal): the Body holds <Op> for a
 * request and <OpResponse> for its answer, in namespace VNOC_NS. The site
 * operations:
 *
 *   <RegisterSite><site/><wanAddress/><udpEncap/><software/><freshStart/>?</RegisterSite>
 *   <RegisterSiteResponse><heartbeatSeconds/><watchTimeoutSeconds/><view/>
 *   <JoinVpn|LeaveVpn><site/><group/><roles/></...>
 *   <JoinVpnResponse|LeaveVpnResponse><roles/><version/></...>
 *   <GetGroupVpn><site/><group/></GetGroupVpn>   <GetGroupVpnResponse><view/>
 *   <WatchUpdates><site/><since/><timeoutSeconds/></WatchUpdates>
 *   <WatchUpdatesResponse><view/>
 *   <Heartbeat><site/><rxPackets/><txPackets/><drops/><rekey/>*</Heartbeat>
 *   <HeartbeatResponse><version/>
 *
 * ListGroups and GetAccounting are in vnoc_admin.c, <view> in vnoc_view.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnoc_private.h"

static const struct soap_limits request_limits = {
	.max_bytes = VNOC_REQUEST_MAX_BYTES,
	.max_depth = VNOC_MAX_DEPTH,
	.max_elements = VNOC_REQUEST_MAX_ELEMENTS,
};

static const struct soap_limits response_limits = {
	.max_bytes = VNOC_RESPONSE_MAX_BYTES,
	.max_depth = VNOC_MAX_DEPTH,
	.max_elements = VNOC_RESPONSE_MAX_ELEMENTS,
};

static void
request_write(struct soap_writer *w, xmlNodePtr el, const struct vnoc_msg *msg)
{
	const struct vnoc_register_req *reg = &msg->u.register_req;
	const struct vnoc_membership_req *mem = &msg->u.membership_req;
	const struct vnoc_watch_req *watch = &msg->u.watch_req;
	const struct vnoc_heartbeat_req *hb = &msg->u.heartbeat_req;

	switch (msg->op) {
	case VNOC_OP_REGISTER_SITE:
		soap_write_text(w, el, "site", reg->site);
		soap_write_ipv4(w, el, "wanAddress", reg->wan_addr);
		soap_write_bool(w, el, "udpEncap", reg->udp_encap);
		soap_write_text(w, el, "software", reg->software);
		soap_write_bool(w, el, "freshStart", reg->fresh_start);
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		soap_write_text(w, el, "site", mem->site);
		soap_write_ipv4(w, el, "group", mem->group);
		vnoc_write_roles(w, el, "roles", mem->roles);
		break;
	case VNOC_OP_GET_GROUP_VPN:
		soap_write_text(w, el, "site", msg->u.group_req.site);
		soap_write_ipv4(w, el, "group", msg->u.group_req.group);
		break;
	case VNOC_OP_WATCH_UPDATES:
		soap_write_text(w, el, "site", watch->site);
		soap_write_uint64(w, el, "since", watch->since);
		soap_write_uint32(w, el, "timeoutSeconds", watch->timeout_s);
		break;
	case VNOC_OP_HEARTBEAT:
		soap_write_text(w, el, "site", hb->site);
		soap_write_uint64(w, el, "rxPackets", hb->rx_packets);
		soap_write_uint64(w, el, "txPackets", hb->tx_packets);
		soap_write_uint64(w, el, "drops", hb->drops);
		for (uint8_t i = 0; i < hb->n_rekey && i < VNOC_MAX_REKEY; i++)
			soap_write_uint32(w, el, "rekey", hb->rekey_spi[i]);
		break;
	case VNOC_OP_LIST_GROUPS:
		break;
	case VNOC_OP_GET_ACCOUNTING:
		vnoc_accounting_req_write(w, el, &msg->u.accounting_req);
		break;
	default:
		w->failed = true;
		break;
	}
}

static int
request_read(struct soap_reader *r, struct vnoc_msg *msg)
{
	struct vnoc_register_req *reg = &msg->u.register_req;
	struct vnoc_membership_req *mem = &msg->u.membership_req;
	struct vnoc_watch_req *watch = &msg->u.watch_req;
	struct vnoc_heartbeat_req *hb = &msg->u.heartbeat_req;

	switch (msg->op) {
	case VNOC_OP_REGISTER_SITE:
		if (vnoc_read_site(r, "site", reg->site) < 0 ||
		    vnoc_read_unicast(r, "wanAddress", &reg->wan_addr) < 0 ||
		    soap_read_bool(r, "udpEncap", &reg->udp_encap) < 0 ||
		    soap_read_text(r, "software", reg->software, sizeof(reg->software)) < 0)
			return -1;
		reg->fresh_start = false;
		if (soap_reader_at(r, "freshStart") &&
		    soap_read_bool(r, "freshStart", &reg->fresh_start) < 0)
			return -1;
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		if (vnoc_read_site(r, "site", mem->site) < 0 ||
		    vnoc_read_group(r, "group", &mem->group) < 0 ||
		    vnoc_read_roles(r, "roles", &mem->roles, false) < 0)
			return -1;
		break;
	case VNOC_OP_GET_GROUP_VPN:
		if (vnoc_read_site(r, "site", msg->u.group_req.site) < 0 ||
		    vnoc_read_group(r, "group", &msg->u.group_req.group) < 0)
			return -1;
		break;
	case VNOC_OP_WATCH_UPDATES:
		if (vnoc_read_site(r, "site", watch->site) < 0 ||
		    soap_read_uint64(r, "since", &watch->since) < 0 ||
		    soap_read_uint32(r, "timeoutSeconds", &watch->timeout_s) < 0)
			return -1;
		break;
	case VNOC_OP_HEARTBEAT:
		if (vnoc_read_site(r, "site", hb->site) < 0 ||
		    soap_read_uint64(r, "rxPackets", &hb->rx_packets) < 0 ||
		    soap_read_uint64(r, "txPackets", &hb->tx_packets) < 0 ||
		    soap_read_uint64(r, "drops", &hb->drops) < 0)
			return -1;
		while (soap_reader_at(r, "rekey")) {
			uint32_t spi;

			if (hb->n_rekey == VNOC_MAX_REKEY)
				return soap_reader_fail(r, "more than %d <rekey> in a Heartbeat",
							VNOC_MAX_REKEY);
			if (soap_read_uint32(r, "rekey", &spi) < 0)
				return -1;
			if (spi < 256)
				return soap_reader_fail(r, "<rekey> %u is a reserved SPI (0..255)",
							spi);
			hb->rekey_spi[hb->n_rekey++] = spi;
		}
		break;
	case VNOC_OP_LIST_GROUPS:
		break;
	case VNOC_OP_GET_ACCOUNTING:
		if (vnoc_accounting_req_read(r, &msg->u.accounting_req) < 0)
			return -1;
		break;
	default:
		return soap_reader_fail(r, "no such operation");
	}
	return soap_reader_end(r);
}

static void
response_write(struct soap_writer *w, xmlNodePtr el, const struct vnoc_msg *msg)
{
	const struct vnoc_register_resp *reg = &msg->u.register_resp;
	const struct vnoc_membership_resp *mem = &msg->u.membership_resp;

	switch (msg->op) {
	case VNOC_OP_REGISTER_SITE:
		soap_write_uint32(w, el, "heartbeatSeconds", reg->heartbeat_s);
		soap_write_uint32(w, el, "watchTimeoutSeconds", reg->watch_timeout_s);
		vnoc_view_write(w, el, &reg->view);
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		vnoc_write_roles(w, el, "roles", mem->roles);
		soap_write_uint64(w, el, "version", mem->version);
		break;
	case VNOC_OP_GET_GROUP_VPN:
	case VNOC_OP_WATCH_UPDATES:
		vnoc_view_write(w, el, &msg->u.view);
		break;
	case VNOC_OP_HEARTBEAT:
		soap_write_uint64(w, el, "version", msg->u.heartbeat_resp.version);
		break;
	case VNOC_OP_LIST_GROUPS:
		vnoc_group_list_write(w, el, &msg->u.group_list);
		break;
	case VNOC_OP_GET_ACCOUNTING:
		vnoc_accounting_resp_write(w, el, &msg->u.accounting_resp);
		break;
	default:
		w->failed = true;
		break;
	}
}

static int
response_read(struct soap_reader *r, struct vnoc_msg *msg)
{
	struct vnoc_register_resp *reg = &msg->u.register_resp;
	struct vnoc_membership_resp *mem = &msg->u.membership_resp;

	switch (msg->op) {
	case VNOC_OP_REGISTER_SITE:
		if (soap_read_uint32(r, "heartbeatSeconds", &reg->heartbeat_s) < 0 ||
		    soap_read_uint32(r, "watchTimeoutSeconds", &reg->watch_timeout_s) < 0 ||
		    vnoc_view_read(r, &reg->view) < 0)
			return -1;
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		/* Roles granted or still held: none is an answer too. */
		if (vnoc_read_roles(r, "roles", &mem->roles, true) < 0 ||
		    soap_read_uint64(r, "version", &mem->version) < 0)
			return -1;
		break;
	case VNOC_OP_GET_GROUP_VPN:
	case VNOC_OP_WATCH_UPDATES:
		if (vnoc_view_read(r, &msg->u.view) < 0)
			return -1;
		break;
	case VNOC_OP_HEARTBEAT:
		if (soap_read_uint64(r, "version", &msg->u.heartbeat_resp.version) < 0)
			return -1;
		break;
	case VNOC_OP_LIST_GROUPS:
		if (vnoc_group_list_read(r, &msg->u.group_list) < 0)
			return -1;
		break;
	case VNOC_OP_GET_ACCOUNTING:
		if (vnoc_accounting_resp_read(r, &msg->u.accounting_resp) < 0)
			return -1;
		break;
	default:
		return soap_reader_fail(r, "no such operation");
	}
	return soap_reader_end(r);
}

char *
vnoc_msg_encode(const struct vnoc_msg *msg, size_t *len)
{
	struct soap_writer w;
	char name[48];
	xmlNodePtr el;

	if ((unsigned int)msg->op >= VNOC_OP_MAX)
		return NULL;
	snprintf(name, sizeof(name), "%s%s", vnoc_op_name(msg->op), msg->response ? "Response" : "");
	if (soap_writer_init(&w, VNOC_NS, VNOC_PREFIX) < 0)
		return NULL;
	el = soap_write_element(&w, NULL, name);
	if (msg->response)
		response_write(&w, el, msg);
	else
		request_write(&w, el, msg);
	return soap_writer_finish(&w, len);
}

/* <Op> or <OpResponse> of VNOC_NS. */
static int
payload_op(const xmlNode *payload, bool response, enum vnoc_op *op, char *err, size_t err_len)
{
	const char *name = (const char *)payload->name;
	const char *href = (const char *)payload->ns->href;
	size_t n = strlen(name);
	bool is_response = n > 8 && strcmp(name + n - 8, "Response") == 0;
	char base[48];

	if (strcmp(href, VNOC_NS) != 0) {
		snprintf(err, err_len, "<%s> of namespace '%s', not '%s'", name, href, VNOC_NS);
		return -1;
	}
	snprintf(base, sizeof(base), "%.*s", (int)(is_response ? n - 8 : n), name);
	if (vnoc_op_from_name(base, op) < 0) {
		snprintf(err, err_len, "<%s>: no such operation", name);
		return -1;
	}
	if (is_response != response) {
		snprintf(err, err_len, "<%s> where a %s belongs", name,
			 response ? "response" : "request");
		return -1;
	}
	return 0;
}

int
vnoc_msg_decode(const char *xml, size_t len, bool response, struct vnoc_msg *msg,
		struct vnoc_fault_info *fault, char *err, size_t err_len)
{
	struct soap_envelope env;
	struct soap_reader r;
	char scratch[8];
	int rc;

	if (err == NULL || err_len == 0) {
		err = scratch;
		err_len = sizeof(scratch);
	}
	err[0] = '\0';
	memset(msg, 0, sizeof(*msg));
	if (fault != NULL)
		memset(fault, 0, sizeof(*fault));
	rc = soap_envelope_parse(xml, len, response ? &response_limits : &request_limits, &env,
				 err, err_len);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (!response) {
			snprintf(err, err_len, "a fault (%s) where a request belongs",
				 env.fault.string);
			soap_envelope_free(&env);
			return -1;
		}
		if (fault != NULL)
			vnoc_fault_decode(&env.fault, fault);
		soap_envelope_free(&env);
		return 1;
	}
	if (payload_op(env.payload, response, &msg->op, err, err_len) < 0)
		goto fail;
	msg->response = response;
	if (soap_reader_init(&r, env.payload, VNOC_NS, err, err_len) < 0)
		goto fail;
	if ((response ? response_read(&r, msg) : request_read(&r, msg)) < 0)
		goto fail;
	soap_envelope_free(&env);
	return 0;
fail:
	vnoc_msg_release(msg);
	memset(msg, 0, sizeof(*msg));
	soap_envelope_free(&env);
	return -1;
}

void
vnoc_msg_release(struct vnoc_msg *msg)
{
	if (msg == NULL || !msg->response)
		return;
	switch (msg->op) {
	case VNOC_OP_REGISTER_SITE:
		vnoc_view_release(&msg->u.register_resp.view);
		break;
	case VNOC_OP_GET_GROUP_VPN:
	case VNOC_OP_WATCH_UPDATES:
		vnoc_view_release(&msg->u.view);
		break;
	case VNOC_OP_LIST_GROUPS:
		vnoc_groups_free(msg->u.group_list.groups, msg->u.group_list.n_groups);
		msg->u.group_list.groups = NULL;
		msg->u.group_list.n_groups = 0;
		break;
	case VNOC_OP_GET_ACCOUNTING:
		free(msg->u.accounting_resp.rows);
		msg->u.accounting_resp.rows = NULL;
		msg->u.accounting_resp.n_rows = 0;
		break;
	default:
		break;
	}
}
