/* SPDX-License-Identifier: BSD-3-Clause */
/* Names on the wire (doc/vnoc.xsd enumerations) and the checks vnoc.h
 * promises for values: site ids, groups, unicast addresses, roles. */
#include <string.h>

#include <arpa/inet.h>

#include "vnoc_private.h"

static const char *const op_names[VNOC_OP_MAX] = {
	[VNOC_OP_REGISTER_SITE] = "RegisterSite",
	[VNOC_OP_JOIN_VPN] = "JoinVpn",
	[VNOC_OP_LEAVE_VPN] = "LeaveVpn",
	[VNOC_OP_GET_GROUP_VPN] = "GetGroupVpn",
	[VNOC_OP_WATCH_UPDATES] = "WatchUpdates",
	[VNOC_OP_HEARTBEAT] = "Heartbeat",
	[VNOC_OP_LIST_GROUPS] = "ListGroups",
	[VNOC_OP_GET_ACCOUNTING] = "GetAccounting",
};

static const char *const fault_names[VNOC_FAULT_MAX] = {
	[VNOC_FAULT_NONE] = "None",
	[VNOC_FAULT_BAD_REQUEST] = "BadRequest",
	[VNOC_FAULT_NOT_AUTHORIZED] = "NotAuthorized",
	[VNOC_FAULT_UNKNOWN_SITE] = "UnknownSite",
	[VNOC_FAULT_UNKNOWN_GROUP] = "UnknownGroup",
	[VNOC_FAULT_LIMIT] = "Limit",
	[VNOC_FAULT_SERVER] = "Server",
};

const char *const vnoc_sa_mode_names[2] = {
	[VNOC_SA_PAIRWISE] = "pairwise",
	[VNOC_SA_GROUP] = "group",
};

/* Indexed by enum esp_aead (lib/esp), which vnoc_sa.aead carries. */
const char *const vnoc_aead_names[2] = { "aes-gcm-128", "aes-gcm-256" };

const char *const vnoc_action_names[3] = {
	[VNOC_ACCOUNTING_JOIN] = "join",
	[VNOC_ACCOUNTING_LEAVE] = "leave",
	[VNOC_ACCOUNTING_DENY] = "deny",
};

const char *
vnoc_op_name(enum vnoc_op op)
{
	return (unsigned int)op < VNOC_OP_MAX ? op_names[op] : "unknown";
}

int
vnoc_op_from_name(const char *name, enum vnoc_op *op)
{
	for (unsigned int i = 0; i < VNOC_OP_MAX; i++) {
		if (strcmp(name, op_names[i]) == 0) {
			*op = (enum vnoc_op)i;
			return 0;
		}
	}
	return -1;
}

const char *
vnoc_fault_name(enum vnoc_fault f)
{
	return (unsigned int)f < VNOC_FAULT_MAX ? fault_names[f] : "unknown";
}

int
vnoc_fault_from_name(const char *name, enum vnoc_fault *f)
{
	for (unsigned int i = 0; i < VNOC_FAULT_MAX; i++) {
		if (strcmp(name, fault_names[i]) == 0) {
			*f = (enum vnoc_fault)i;
			return 0;
		}
	}
	return -1;
}

bool
vnoc_site_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	return n > 0 && n < VNOC_SITE_ID_MAX && id[n] == '\0';
}

bool
vnoc_group_valid(uint32_t group)
{
	uint32_t g = ntohl(group);

	/* RFC 5771: 224.0.0.0/4; 224.0.0.0/24 never leaves its link. */
	return (g >> 28) == 0xe && (g >> 8) != 0xe00000;
}

bool
vnoc_unicast_valid(uint32_t addr)
{
	uint32_t a = ntohl(addr), first = a >> 24;

	/* RFC 6890: "this network", loopback, multicast, reserved, broadcast. */
	return first != 0 && first != 127 && first < 224;
}

int
vnoc_read_site(struct soap_reader *r, const char *name, char site[VNOC_SITE_ID_MAX])
{
	char text[64];

	if (soap_read_text(r, name, text, sizeof(text)) < 0)
		return -1;
	if (!vnoc_site_id_valid(text))
		return soap_reader_fail(r, "<%s> '%s' is not a site id ([A-Za-z0-9._-]{1,31})", name,
					text);
	memcpy(site, text, strlen(text) + 1);
	return 0;
}

int
vnoc_read_group(struct soap_reader *r, const char *name, uint32_t *group)
{
	char text[16];

	if (soap_read_ipv4(r, name, group) < 0)
		return -1;
	if (!vnoc_group_valid(*group))
		return soap_reader_fail(r, "<%s> %s is not a multicast group beyond 224.0.0.0/24",
					name, inet_ntop(AF_INET, group, text, sizeof(text)));
	return 0;
}

int
vnoc_read_unicast(struct soap_reader *r, const char *name, uint32_t *addr)
{
	char text[16];

	if (soap_read_ipv4(r, name, addr) < 0)
		return -1;
	if (!vnoc_unicast_valid(*addr))
		return soap_reader_fail(r, "<%s> %s is not a unicast address", name,
					inet_ntop(AF_INET, addr, text, sizeof(text)));
	return 0;
}

/* Indexed by the VNOC_ROLE_* bits. */
static const char *const role_names[4] = { "none", "receiver", "sender", "both" };

int
vnoc_read_roles(struct soap_reader *r, const char *name, uint8_t *roles, bool allow_none)
{
	unsigned int bits;

	if (vnoc_read_enum(r, name, role_names, 4, &bits) < 0)
		return -1;
	if (bits == 0 && !allow_none)
		return soap_reader_fail(r, "<%s> names no role", name);
	*roles = (uint8_t)bits;
	return 0;
}

void
vnoc_write_roles(struct soap_writer *w, xmlNodePtr parent, const char *name, uint8_t roles)
{
	soap_write_text(w, parent, name, role_names[roles & (VNOC_ROLE_RECEIVER | VNOC_ROLE_SENDER)]);
}

int
vnoc_read_enum(struct soap_reader *r, const char *name, const char *const *names,
	       unsigned int n, unsigned int *v)
{
	char text[32];

	if (soap_read_text(r, name, text, sizeof(text)) < 0)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0) {
			*v = i;
			return 0;
		}
	}
	return soap_reader_fail(r, "<%s> '%s' is not one of %s%s%s%s%s%s%s", name, text,
				names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "",
				n > 2 ? ", " : "", n > 2 ? names[2] : "", n > 3 ? ", " : "",
				n > 3 ? names[3] : "");
}
