/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_IGMP_H
#define IVGMP_IGMP_H

/*
 * igmp: the router side of IGMPv3 (RFC 3376) on one LAN, with IGMPv1/v2
 * hosts handled by the compatibility rules of RFC 3376 section 7.
 *
 * Owns the wire format (igmp_pkt.c: decoding every query and report version,
 * encoding queries and reports), the per-group membership state (filter mode,
 * group timer, source records and timers, older-version-host-present timers;
 * the transitions of RFC 3376 6.4.1 and 6.4.2) and the querier (election,
 * startup, general, group-specific and group-and-source-specific queries).
 *
 * Time is an argument (milliseconds, any monotonic origin): nothing here reads
 * a clock or sleeps, so tests drive every timer explicitly. Queries leave
 * through a callback; so does every change of what the LAN wants.
 * Addresses are IPv4 in network byte order throughout.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------- */
/* Wire format (igmp_pkt.c)                                                */
/* ---------------------------------------------------------------------- */

#define IGMP_TYPE_QUERY      0x11
#define IGMP_TYPE_V1_REPORT  0x12
#define IGMP_TYPE_V2_REPORT  0x16
#define IGMP_TYPE_V2_LEAVE   0x17
#define IGMP_TYPE_V3_REPORT  0x22

/* Group record types, RFC 3376 4.2.12. */
#define IGMP_MODE_IS_INCLUDE    1
#define IGMP_MODE_IS_EXCLUDE    2
#define IGMP_CHANGE_TO_INCLUDE  3
#define IGMP_CHANGE_TO_EXCLUDE  4
#define IGMP_ALLOW_NEW_SOURCES  5
#define IGMP_BLOCK_OLD_SOURCES  6

#define IGMP_ALL_HOSTS       0x010000e0u  /* 224.0.0.1, network order */
#define IGMP_ALL_ROUTERS     0x020000e0u  /* 224.0.0.2 */
#define IGMP_V3_ROUTERS      0x160000e0u  /* 224.0.0.22 */

/* Why a message was refused; each has a counter. */
enum igmp_verdict {
	IGMP_OK = 0,
	IGMP_BAD_LENGTH,        /* bad IP header, IP fragment, malformed IP options,
				 * shorter than its type needs, or records overrun */
	IGMP_BAD_CHECKSUM,
	IGMP_BAD_TYPE,          /* not a type a router acts on */
	IGMP_BAD_TTL,           /* IP TTL is not 1 (RFC 3376 4: always 1) */
	IGMP_NO_ROUTER_ALERT,   /* v2/v3 report or leave without IP Router Alert */
	IGMP_BAD_ADDRESS,       /* group not multicast, or a report for 224.0.0.0/24 */
	IGMP_BAD_RECORD,        /* unknown record type */
	IGMP_VERDICT_MAX
};

enum igmp_msg_type {
	IGMP_MSG_QUERY,
	IGMP_MSG_V1_REPORT,
	IGMP_MSG_V2_REPORT,
	IGMP_MSG_V2_LEAVE,
	IGMP_MSG_V3_REPORT,
};

/* A decoded message. Source lists and records point into the packet. */
struct igmp_msg {
	enum igmp_msg_type type;
	uint32_t ip_src;
	uint32_t ip_dst;
	/* Queries: 1, 2 or 3 (RFC 3376 7.1: by length and Max Resp Code). */
	uint8_t query_version;
	uint32_t group;             /* 0 for a general query */
	uint32_t max_resp_ms;       /* decoded Max Resp Code */
	bool suppress;              /* S flag (v3 queries) */
	uint8_t qrv;                /* v3 queries; 0 when absent */
	uint32_t qqi_s;             /* v3 queries: decoded QQIC, seconds */
	uint16_t n_sources;         /* v3 queries */
	const uint8_t *sources;     /* n_sources x 4 bytes */
	/* v3 reports. */
	uint16_t n_records;
	const uint8_t *records;
	uint32_t records_len;
};

struct igmp_record {
	uint8_t type;               /* IGMP_MODE_IS_INCLUDE ... IGMP_BLOCK_OLD_SOURCES */
	uint32_t group;
	uint16_t n_sources;
	const uint8_t *sources;     /* n_sources x 4 bytes, network order */
};

/* Decode the IGMP message in an IPv4 packet (header and options included):
 * IP checks (TTL 1, Router Alert where required), length, checksum, type,
 * addresses, and every v3 record's bounds and type. */
enum igmp_verdict igmp_msg_parse(const uint8_t *ip, uint32_t ip_len, struct igmp_msg *msg);

/* Walk the records of a parsed v3 report: *cursor starts at 0. Returns false
 * after the last one. Records for 224.0.0.0/24 are skipped (n_records counts
 * them). Bounds were checked by igmp_msg_parse. */
bool igmp_record_next(const struct igmp_msg *msg, uint32_t *cursor, struct igmp_record *rec);

/* RFC 3376 4.1.1 / 4.1.7: the 8-bit floating-point code of Max Resp Code
 * (tenths of a second) and QQIC (seconds). Encoding rounds down. */
uint32_t igmp_code_decode(uint8_t code);
uint8_t igmp_code_encode(uint32_t value);

const char *igmp_verdict_name(enum igmp_verdict v);

/* What igmp_query_build writes. */
struct igmp_query_spec {
	uint8_t version;            /* 2 or 3 (v2: group-specific and general only) */
	uint32_t ip_src;
	uint32_t group;             /* 0: general query to 224.0.0.1, else to the group */
	uint32_t max_resp_ms;
	bool suppress;
	uint8_t qrv;
	uint32_t qqi_s;
	uint16_t n_sources;
	const uint32_t *sources;
};

/* Build the whole IPv4 packet of a query (TTL 1, Router Alert, checksums) into
 * buf. Returns its length, or 0 when it does not fit. */
size_t igmp_query_build(uint8_t *buf, size_t len, const struct igmp_query_spec *q);

/* Build a v3 report with one record (host side: pinned groups, tests). */
size_t igmp_report_v3_build(uint8_t *buf, size_t len, uint32_t ip_src, uint8_t record_type,
			    uint32_t group, const uint32_t *sources, uint16_t n_sources);

/* Build a v2 report (or, with leave, a leave) for group. */
size_t igmp_report_v2_build(uint8_t *buf, size_t len, uint32_t ip_src, uint32_t group,
			    bool leave);

/* ---------------------------------------------------------------------- */
/* The router (igmp_router.c, igmp_group.c, igmp_querier.c)                */
/* ---------------------------------------------------------------------- */

struct igmp_config {
	uint32_t my_addr;               /* the device's LAN address: query source, election */
	uint8_t robustness;             /* RV, default 2 */
	uint32_t query_interval_ms;     /* QI, default 125000 */
	uint32_t query_response_ms;     /* QRI (Max Resp Time of general queries), 10000 */
	uint32_t last_member_interval_ms; /* LMQI, 1000 */
	uint8_t last_member_count;      /* LMQC, default RV */
	uint32_t startup_interval_ms;   /* default QI / 4 */
	uint8_t startup_count;          /* default RV */
	uint8_t query_version;          /* 3 (default), or 2 on a LAN of v2 routers */
	uint32_t ssm_prefix;            /* 232.0.0.0 */
	uint32_t ssm_mask;              /* 255.0.0.0 */
	uint32_t max_groups;            /* state bound, counted when hit; default 4096 */
	uint32_t max_sources;           /* per group; default 256 */
	uint32_t max_source_records;    /* in all groups; default 65536 */
};

/* Defaults of RFC 3376 section 8 for everything left 0. */
void igmp_config_defaults(struct igmp_config *cfg);

enum igmp_filter_mode {
	IGMP_FILTER_INCLUDE,
	IGMP_FILTER_EXCLUDE,
};

struct igmp_router_ops {
	/* Send a query (a whole IPv4 packet) on the LAN. */
	void (*send)(void *ctx, const uint8_t *ip, size_t len);
	/* What the LAN wants of group changed: its forwarding state
	 * (RFC 3376 6.3) is different, or it appeared or went away. */
	void (*group_changed)(void *ctx, uint32_t group);
};

/* Counters the router keeps; names in igmp_counter_name. */
#define IGMP_COUNTERS(X)                \
	X(rx_queries)                   \
	X(rx_v1_reports)                \
	X(rx_v2_reports)                \
	X(rx_v2_leaves)                 \
	X(rx_v3_reports)                \
	X(rx_records)                   \
	X(tx_general_queries)           \
	X(tx_group_queries)             \
	X(tx_group_source_queries)      \
	X(ssm_ignored)                  \
	X(group_limit_hit)              \
	X(source_limit_hit)             \
	X(source_records_limit_hit)     \
	X(querier_elections_lost)       \
	X(querier_takeovers)

enum igmp_counter {
#define IGMP_COUNTER_ENUM(name) IGMP_CTR_##name,
	IGMP_COUNTERS(IGMP_COUNTER_ENUM)
#undef IGMP_COUNTER_ENUM
	IGMP_CTR_MAX
};

const char *igmp_counter_name(enum igmp_counter id);

struct igmp_router;

struct igmp_router *igmp_router_create(const struct igmp_config *cfg,
				       const struct igmp_router_ops *ops, void *ctx);
void igmp_router_free(struct igmp_router *r);

/* Start as querier (RFC 3376 6.6, 8.6, 8.7): Startup Query Count general
 * queries, Startup Query Interval apart, then one every Query Interval. */
void igmp_router_start(struct igmp_router *r, uint64_t now_ms);

/* Act on a parsed message (queries: election and timer lowering;
 * reports: the tables of 6.4.1 / 6.4.2 after the compatibility rules of 7.3.2). */
void igmp_router_receive(struct igmp_router *r, const struct igmp_msg *msg, uint64_t now_ms);

/* Expire every timer due by now_ms and send the queries due by then. */
void igmp_router_tick(struct igmp_router *r, uint64_t now_ms);

/* The earliest time tick has something to do; UINT64_MAX when nothing. */
uint64_t igmp_router_next_deadline(const struct igmp_router *r);

/* RFC 3376 6.3: does the LAN want traffic from source to group? */
bool igmp_router_wants(const struct igmp_router *r, uint32_t group, uint32_t source);

bool igmp_router_is_querier(const struct igmp_router *r);
uint64_t igmp_router_counter(const struct igmp_router *r, enum igmp_counter id);

/* Source records held in all groups (what max_source_records bounds). */
uint32_t igmp_router_source_records(const struct igmp_router *r);

/* A read-only view of one group, for telemetry and tests. */
struct igmp_source_view {
	uint32_t addr;
	uint64_t timer_ms;          /* remaining, 0 when not running */
};

struct igmp_group_view {
	uint32_t group;
	enum igmp_filter_mode mode;
	uint64_t group_timer_ms;    /* remaining, 0 when not running */
	uint8_t compat_version;     /* 1, 2 or 3: group compatibility mode (7.3.2) */
	uint16_t n_sources;
	struct igmp_source_view sources[];   /* caller-sized: see igmp_router_group_view */
};

/* Fill view (with room for max_sources sources) for group at now_ms.
 * Returns false when the router keeps no state for group. */
bool igmp_router_group_view(const struct igmp_router *r, uint32_t group, uint64_t now_ms,
			    struct igmp_group_view *view, uint16_t max_sources);

/* Call fn for every group with state; stops when fn returns false. */
void igmp_router_foreach_group(const struct igmp_router *r,
			       bool (*fn)(void *arg, uint32_t group), void *arg);

#endif
