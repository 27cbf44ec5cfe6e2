/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_VNOC_H
#define IVGMP_VNOC_H

/*
 * vnoc: the IVGMP-VNOC protocol (001_aebc90bc0c46f8cb.txt 3.2, 4): what an
 * edge device and the VNOC say to each other, as C values, and their SOAP
 * 1.1 form (doc/vnoc.wsdl, doc/vnoc.xsd; namespace VNOC_NS). Encoding and
 * decoding go through lib/soap's hardened parser. Shared by vnocd and the
 * client in ivgmpd.
 *
 * Every request comes from the edge device (firewall friendly). A site's
 * view of the VPN is versioned: WatchUpdates(since) returns the whole view
 * as soon as its version passes `since`, so a client that missed anything
 * is back in sync after one answer.
 *
 * Addresses are IPv4 in network byte order; strings are NUL-terminated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNOC_NS "urn:ivgmp:vnoc:1"
#define VNOC_SITE_ID_MAX 32          /* [A-Za-z0-9._-]{1,31} */
#define VNOC_TEXT_MAX 256
#define VNOC_MAX_GROUPS 4096         /* in one view */
#define VNOC_MAX_MEMBERS 1024        /* sites in one group */
#define VNOC_MAX_SAS 2048            /* SAs in one view */
#define VNOC_MAX_ACCOUNTING_ROWS 4096 /* rows in one GetAccounting answer */
#define VNOC_MAX_REKEY 16            /* <rekey> in one Heartbeat */

/* What vnoc_msg_decode accepts (doc/protocol.rst, "Hardening"): requests
 * are small and come from anyone who reaches the VNOC; answers carry whole
 * views and come from the VNOC. An encoder that exceeds these has built a
 * message the other end refuses. */
#define VNOC_REQUEST_MAX_BYTES (1u << 20)
#define VNOC_REQUEST_MAX_ELEMENTS 100000u
#define VNOC_RESPONSE_MAX_BYTES (48u << 20)
#define VNOC_RESPONSE_MAX_ELEMENTS 1000000u
#define VNOC_MAX_DEPTH 32u

#define VNOC_ROLE_RECEIVER 0x1      /* the same bits as GROUP_ROLE_* */
#define VNOC_ROLE_SENDER   0x2

enum vnoc_op {
	VNOC_OP_REGISTER_SITE,
	VNOC_OP_JOIN_VPN,
	VNOC_OP_LEAVE_VPN,
	VNOC_OP_GET_GROUP_VPN,
	VNOC_OP_WATCH_UPDATES,
	VNOC_OP_HEARTBEAT,
	VNOC_OP_LIST_GROUPS,            /* administrative */
	VNOC_OP_GET_ACCOUNTING,         /* administrative */
	VNOC_OP_MAX
};

/* Machine-readable reasons carried by SOAP faults. */
enum vnoc_fault {
	VNOC_FAULT_NONE = 0,
	VNOC_FAULT_BAD_REQUEST,         /* malformed, or values out of range */
	VNOC_FAULT_NOT_AUTHORIZED,      /* policy refuses, or another site's id */
	VNOC_FAULT_UNKNOWN_SITE,        /* not registered */
	VNOC_FAULT_UNKNOWN_GROUP,
	VNOC_FAULT_LIMIT,               /* a configured limit was hit */
	VNOC_FAULT_SERVER,              /* the VNOC's own trouble; retry later */
	VNOC_FAULT_MAX
};

/* A SOAP fault as the protocol sees it: a reason and a sentence. */
struct vnoc_fault_info {
	enum vnoc_fault reason;
	char text[VNOC_TEXT_MAX];
};

enum vnoc_sa_mode {
	VNOC_SA_PAIRWISE,               /* one SA per (sender site, receiver site) */
	VNOC_SA_GROUP,                  /* one SA per (sender site, group) */
};

/* An SA as handed to one site: direction is seen from that site. */
struct vnoc_sa {
	bool inbound;
	char peer[VNOC_SITE_ID_MAX];    /* the other end */
	uint32_t spi;
	uint8_t aead;                   /* enum esp_aead */
	uint8_t key[32];                /* key_len bytes used */
	uint8_t key_len;                /* 16 or 32 */
	uint8_t salt[4];
	bool esn;
	uint64_t lifetime_s;            /* seconds from issue; 0 = none */
	/* A group SA (design.md 4, `group`): the group it protects, network
	 * order; its sender is the outbound end (peer = the site itself) and
	 * every receiving site holds it inbound (peer = the sender). 0: a
	 * pairwise SA. */
	uint32_t group;
};

struct vnoc_member {
	char site[VNOC_SITE_ID_MAX];
	uint32_t wan_addr;
	bool udp_encap;
	uint8_t roles;
};

struct vnoc_group {
	uint32_t group;
	enum vnoc_sa_mode sa_mode;
	uint16_t n_members;
	struct vnoc_member *members;
};

/* What a site needs to forward: its groups with their members, and every SA
 * it holds with another site. */
struct vnoc_view {
	uint64_t version;
	uint32_t n_groups;
	struct vnoc_group *groups;
	uint32_t n_sas;
	struct vnoc_sa *sas;
};

struct vnoc_register_req {
	char site[VNOC_SITE_ID_MAX];
	uint32_t wan_addr;
	bool udp_encap;                 /* the site is behind NAT */
	char software[64];
	/* The first RegisterSite of this process: it keeps nothing from an
	 * earlier registration, ESP sequence numbers included, so the VNOC
	 * must give it fresh outbound SAs (an AES-GCM IV never repeats under
	 * a key). Optional on the wire; absent = false. */
	bool fresh_start;
};

struct vnoc_register_resp {
	uint32_t heartbeat_s;
	uint32_t watch_timeout_s;       /* how long a WatchUpdates may wait */
	struct vnoc_view view;
};

struct vnoc_membership_req {            /* JoinVpn and LeaveVpn */
	char site[VNOC_SITE_ID_MAX];
	uint32_t group;
	uint8_t roles;
};

struct vnoc_membership_resp {
	uint8_t roles;                  /* granted (join) or still held (leave) */
	uint64_t version;
};

struct vnoc_watch_req {
	char site[VNOC_SITE_ID_MAX];
	uint64_t since;
	uint32_t timeout_s;
};

struct vnoc_heartbeat_req {
	char site[VNOC_SITE_ID_MAX];
	uint64_t rx_packets, tx_packets, drops;
	/* Outbound SAs of the site that passed their soft limit (sequence
	 * numbers or bytes): the VNOC replaces each now, as it does at 0.8 of
	 * the time lifetime. Optional on the wire, at most VNOC_MAX_REKEY
	 * (more: the request is refused); SPIs >= 256. */
	uint8_t n_rekey;
	uint32_t rekey_spi[VNOC_MAX_REKEY];
};

/* ListGroups (administrative): every group the VNOC knows, with its
 * members and their roles. The request has no fields. */
struct vnoc_group_list {
	uint64_t version;
	uint32_t n_groups;
	struct vnoc_group *groups;      /* members' wan_addr, udp_encap filled too */
};

enum vnoc_accounting_action {
	VNOC_ACCOUNTING_JOIN,
	VNOC_ACCOUNTING_LEAVE,
	VNOC_ACCOUNTING_DENY,
};

/* One accounting record: a role granted, given up, or refused. */
struct vnoc_accounting_row {
	uint64_t time;                  /* Unix time, seconds */
	char site[VNOC_SITE_ID_MAX];
	uint32_t group;
	uint8_t roles;
	enum vnoc_accounting_action action;
	char reason[VNOC_TEXT_MAX];     /* why (a deny's rule, "policy"); may be empty */
};

/* GetAccounting (administrative): the rows whose time >= since, oldest
 * first, at most VNOC_MAX_ACCOUNTING_ROWS; `more` when rows were left out
 * (ask again from the last row's time: rows of that second come again). */
struct vnoc_accounting_req {
	uint64_t since;
};

struct vnoc_accounting_resp {
	uint32_t n_rows;
	struct vnoc_accounting_row *rows;
	bool more;
};

/* One request or response, tagged by operation. */
struct vnoc_msg {
	enum vnoc_op op;
	bool response;
	union {
		struct vnoc_register_req register_req;
		struct vnoc_register_resp register_resp;
		struct vnoc_membership_req membership_req;   /* join, leave */
		struct vnoc_membership_resp membership_resp;
		struct {
			char site[VNOC_SITE_ID_MAX];
			uint32_t group;
		} group_req;                                 /* GetGroupVpn */
		struct vnoc_view view;                       /* GetGroupVpn, WatchUpdates */
		struct vnoc_watch_req watch_req;
		struct vnoc_heartbeat_req heartbeat_req;
		struct {
			uint64_t version;
		} heartbeat_resp;
		/* ListGroups request: no fields. */
		struct vnoc_group_list group_list;           /* ListGroups response */
		struct vnoc_accounting_req accounting_req;
		struct vnoc_accounting_resp accounting_resp;
	} u;
};

const char *vnoc_op_name(enum vnoc_op op);          /* "RegisterSite", ... */
int vnoc_op_from_name(const char *name, enum vnoc_op *op);
const char *vnoc_fault_name(enum vnoc_fault f);     /* "NotAuthorized", ... */
int vnoc_fault_from_name(const char *name, enum vnoc_fault *f);
bool vnoc_site_id_valid(const char *id);

/* Serialize msg as a SOAP 1.1 envelope. Returns a malloc'd NUL-terminated
 * buffer (length in *len) or NULL. */
char *vnoc_msg_encode(const struct vnoc_msg *msg, size_t *len);

/* A fault envelope: faultcode soap:Client or soap:Server by reason,
 * faultstring text, detail <reason>. */
char *vnoc_fault_encode(const struct vnoc_fault_info *fault, size_t *len);

/* Parse an envelope (hardened: see lib/soap). Returns 0 and fills msg, 1 and
 * fills fault when the envelope is a SOAP fault, or -1 with why in err
 * (malformed, not ours, a limit hit). Lists in msg are malloc'd:
 * vnoc_msg_release frees them; after 1 or -1 nothing is left to free.
 * response picks the limits (VNOC_REQUEST_* or VNOC_RESPONSE_*); a fault
 * is never a request. */
int vnoc_msg_decode(const char *xml, size_t len, bool response, struct vnoc_msg *msg,
		    struct vnoc_fault_info *fault, char *err, size_t err_len);
void vnoc_msg_release(struct vnoc_msg *msg);
void vnoc_view_release(struct vnoc_view *view);

#endif
