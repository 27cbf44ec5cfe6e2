/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IGMP wire format: decoding queries (v1, v2, v3) and reports (v1, v2 and
 * leaves, v3), encoding queries and reports. RFC 1112 appendix I, RFC 2236
 * section 2, RFC 3376 sections 4 and 7.
 */
#include <string.h>

#include "igmp.h"
#include "pkt/pkt.h"

#define IGMP_HDR_LEN            8       /* type, code, checksum, group */
#define IGMP_V3_QUERY_LEN       12      /* + S/QRV, QQIC, number of sources */
#define IGMP_V3_RECORD_LEN      8       /* type, aux len, nsrc, group */

#define IP_MF_OFFSET_MASK       0x3fff  /* flags/fragment offset word, DF excluded */

#define IP_OPT_EOL              0
#define IP_OPT_NOP              1
#define IP_OPT_ROUTER_ALERT     148     /* RFC 2113: copied, class 0, number 20 */
#define IP_OPT_ROUTER_ALERT_LEN 4

/* The IPv4 header we send: 20 bytes and the 4-byte Router Alert option. */
#define IGMP_IP_HDR_LEN         24
#define IGMP_IP_TOS             0xc0    /* Internetwork Control (RFC 3376 4) */

/* RFC 1112 queries have no Max Resp field (it is 0): RFC 2236 4 reads it as
 * 100, 10 seconds. */
#define IGMP_V1_MAX_RESP_MS     10000

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
write_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
read_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

/* RFC 1071 over the whole IGMP message, checksum field included; an odd
 * trailing byte is padded with zero. A correct message sums to 0xffff. */
static uint16_t
igmp_ones_sum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		sum += read_be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Write the IGMP checksum of a message whose checksum field is zero. */
static void
igmp_checksum_set(uint8_t *igmp, uint32_t len)
{
	write_be16(igmp + 2, (uint16_t)~igmp_ones_sum(igmp, len));
}

/* ------------------------------------------------------------------ codes */

/* RFC 3376 4.1.1 (Max Resp Code) and 4.1.7 (QQIC): below 128 the code is the
 * value; above, 1 | exp(3) | mant(4) means (mant | 0x10) << (exp + 3). */
uint32_t
igmp_code_decode(uint8_t code)
{
	uint32_t exp, mant;

	if (code < 128)
		return code;
	exp = (code >> 4) & 0x7;
	mant = code & 0xf;
	return (mant | 0x10) << (exp + 3);
}

/* The largest code whose value does not exceed value: a host must never be
 * told to wait longer than we meant, and QQIC is only advisory. */
uint8_t
igmp_code_encode(uint32_t value)
{
	uint32_t exp = 0;

	if (value < 128)
		return (uint8_t)value;
	if (value >= (0x1fu << 10))
		return 0xff;
	/* The value's top bit is bit exp + 7 (mant | 0x10 has its top at 4). */
	while (value >> (exp + 8))
		exp++;
	return (uint8_t)(0x80 | exp << 4 | ((value >> (exp + 3)) & 0xf));
}

/* ------------------------------------------------------------------ parse */

/* Walk the IPv4 options (RFC 791 3.1): EOL ends the list, NOP is one byte,
 * every other option carries a length of at least 2 that must stay in the
 * header. Returns false for a malformed list; *router_alert tells whether a
 * Router Alert with value 0 ("examine packet", RFC 2113 2.1) is there. */
static bool
igmp_ip_options_walk(const uint8_t *opt, uint32_t len, bool *router_alert)
{
	uint32_t off = 0;

	*router_alert = false;
	while (off < len) {
		uint8_t type = opt[off];
		uint8_t olen;

		if (type == IP_OPT_EOL)
			break;
		if (type == IP_OPT_NOP) {
			off++;
			continue;
		}
		if (len - off < 2)
			return false;
		olen = opt[off + 1];
		if (olen < 2 || olen > len - off)
			return false;
		if (type == IP_OPT_ROUTER_ALERT) {
			if (olen != IP_OPT_ROUTER_ALERT_LEN)
				return false;
			if (read_be16(opt + off + 2) == 0)
				*router_alert = true;
		}
		off += olen;
	}
	return true;
}

/* RFC 3376 4.1.3: 0 in a general query, else the group queried. Any
 * multicast group may be asked about; only reports are restricted. */
static enum igmp_verdict
igmp_query_group_check(uint32_t group)
{
	if (group != 0 && !pkt_ipv4_is_multicast(group))
		return IGMP_BAD_ADDRESS;
	return IGMP_OK;
}

/* A report for 224.0.0.0/24, the local network control block that is never
 * forwarded (RFC 5771), or for a unicast address gives a router nothing to
 * do. */
static enum igmp_verdict
igmp_report_group_check(uint32_t group)
{
	if (!pkt_ipv4_is_multicast(group) || pkt_ipv4_is_link_local_multicast(group))
		return IGMP_BAD_ADDRESS;
	return IGMP_OK;
}

/* RFC 3376 7.1: the version of a query is told by its length and, at 8
 * bytes, by whether the Max Resp Code is zero. 9 to 11 bytes: ignored. */
static enum igmp_verdict
igmp_query_parse(const uint8_t *igmp, uint32_t len, struct igmp_msg *msg)
{
	uint8_t code = igmp[1];
	uint32_t n;

	msg->type = IGMP_MSG_QUERY;
	msg->group = read_addr(igmp + 4);
	if (len == IGMP_HDR_LEN) {
		if (code == 0) {
			msg->query_version = 1;
			msg->max_resp_ms = IGMP_V1_MAX_RESP_MS;
		} else {
			/* RFC 2236 2.2: tenths of a second, linear. */
			msg->query_version = 2;
			msg->max_resp_ms = code * 100u;
		}
		return igmp_query_group_check(msg->group);
	}
	if (len < IGMP_V3_QUERY_LEN)
		return IGMP_BAD_LENGTH;

	/* RFC 3376 4.1: Resv(4) S(1) QRV(3), QQIC, Number of Sources; bytes
	 * after the source list are Additional Data (4.1.10), ignored. */
	n = read_be16(igmp + 10);
	if (n > (len - IGMP_V3_QUERY_LEN) / 4)
		return IGMP_BAD_LENGTH;
	msg->query_version = 3;
	msg->max_resp_ms = igmp_code_decode(code) * 100;
	msg->suppress = (igmp[8] & 0x08) != 0;
	msg->qrv = igmp[8] & 0x07;
	msg->qqi_s = igmp_code_decode(igmp[9]);
	msg->n_sources = (uint16_t)n;
	msg->sources = n ? igmp + IGMP_V3_QUERY_LEN : NULL;
	return igmp_query_group_check(msg->group);
}

/* v1 and v2 reports, v2 leaves: the 8-byte header; bytes after it ignored
 * (RFC 2236 2.5: "may be longer than 8 octets"). */
static enum igmp_verdict
igmp_v2_msg_parse(const uint8_t *igmp, enum igmp_msg_type type, struct igmp_msg *msg)
{
	msg->type = type;
	msg->group = read_addr(igmp + 4);
	return igmp_report_group_check(msg->group);
}

/* RFC 3376 4.2: Reserved, Number of Group Records, then the records, each
 * Record Type, Aux Data Len (32-bit words), Number of Sources, Multicast
 * Address, the sources and the auxiliary data. Every record is checked here
 * so that igmp_record_next can trust the bounds. */
static enum igmp_verdict
igmp_v3_report_parse(const uint8_t *igmp, uint32_t len, struct igmp_msg *msg)
{
	uint32_t n_records = read_be16(igmp + 6);
	uint32_t off = IGMP_HDR_LEN;

	for (uint32_t i = 0; i < n_records; i++) {
		const uint8_t *r = igmp + off;
		uint32_t rec_len;

		if (len - off < IGMP_V3_RECORD_LEN)
			return IGMP_BAD_LENGTH;
		if (r[0] < IGMP_MODE_IS_INCLUDE || r[0] > IGMP_BLOCK_OLD_SOURCES)
			return IGMP_BAD_RECORD;
		rec_len = IGMP_V3_RECORD_LEN + 4u * read_be16(r + 2) + 4u * r[1];
		if (rec_len > len - off)
			return IGMP_BAD_LENGTH;
		/* A unicast group is a broken sender, the whole message goes.
		 * 224.0.0.x is not: Linux reports link-local groups by default
		 * (net.ipv4.igmp_link_local_mcast_reports), beside real ones;
		 * igmp_record_next skips those records. */
		if (!pkt_ipv4_is_multicast(read_addr(r + 4)))
			return IGMP_BAD_ADDRESS;
		off += rec_len;
	}
	msg->type = IGMP_MSG_V3_REPORT;
	msg->n_records = (uint16_t)n_records;
	msg->records = igmp + IGMP_HDR_LEN;
	msg->records_len = off - IGMP_HDR_LEN;
	return IGMP_OK;
}

/*
 * RFC 3376 4 and RFC 2236 2: every IGMP message is sent with TTL 1 and the IP
 * Router Alert option. We require the option where RFC 2236 and RFC 3376
 * define the message with it: v2 reports and leaves, v3 reports. v1 reports
 * (RFC 1112 predates RFC 2113) and queries of every version (older routers
 * send them without it) are accepted without it. TTL 1 is required of all:
 * it keeps out anything forwarded from another network.
 */
enum igmp_verdict
igmp_msg_parse(const uint8_t *ip, uint32_t ip_len, struct igmp_msg *msg)
{
	struct pkt_ipv4_info info;
	const uint8_t *igmp;
	bool router_alert;
	uint32_t len;

	memset(msg, 0, sizeof(*msg));
	if (pkt_ipv4_parse_l3(ip, ip_len, &info) != PKT_OK)
		return IGMP_BAD_LENGTH;
	/* A fragment (MF or an offset) is not a whole message, and a router
	 * does not reassemble for IGMP. */
	if (read_be16(ip + 6) & IP_MF_OFFSET_MASK)
		return IGMP_BAD_LENGTH;
	if (info.proto != PKT_IPPROTO_IGMP)
		return IGMP_BAD_TYPE;
	if (info.ttl != 1)
		return IGMP_BAD_TTL;
	if (!igmp_ip_options_walk(ip + PKT_IPV4_MIN_HDR_LEN,
				  info.l3_len - PKT_IPV4_MIN_HDR_LEN, &router_alert))
		return IGMP_BAD_LENGTH;

	msg->ip_src = info.src;
	msg->ip_dst = info.dst;
	/* The IGMP message is what the IP total length says: Ethernet padding
	 * is neither summed nor parsed. */
	igmp = ip + info.l3_len;
	len = info.ip_total_len - info.l3_len;
	if (len < IGMP_HDR_LEN)
		return IGMP_BAD_LENGTH;
	if (igmp_ones_sum(igmp, len) != 0xffff)
		return IGMP_BAD_CHECKSUM;

	switch (igmp[0]) {
	case IGMP_TYPE_QUERY:
		return igmp_query_parse(igmp, len, msg);
	case IGMP_TYPE_V1_REPORT:
		return igmp_v2_msg_parse(igmp, IGMP_MSG_V1_REPORT, msg);
	case IGMP_TYPE_V2_REPORT:
		if (!router_alert)
			return IGMP_NO_ROUTER_ALERT;
		return igmp_v2_msg_parse(igmp, IGMP_MSG_V2_REPORT, msg);
	case IGMP_TYPE_V2_LEAVE:
		if (!router_alert)
			return IGMP_NO_ROUTER_ALERT;
		return igmp_v2_msg_parse(igmp, IGMP_MSG_V2_LEAVE, msg);
	case IGMP_TYPE_V3_REPORT:
		if (!router_alert)
			return IGMP_NO_ROUTER_ALERT;
		return igmp_v3_report_parse(igmp, len, msg);
	default:
		/* DVMRP (0x13), mtrace (0x1e, 0x1f), PIMv1 (0x14)...: not ours. */
		return IGMP_BAD_TYPE;
	}
}

/* Records for 224.0.0.x are skipped: the router keeps no state for groups
 * that are never forwarded (RFC 5771). */
bool
igmp_record_next(const struct igmp_msg *msg, uint32_t *cursor, struct igmp_record *rec)
{
	if (msg->type != IGMP_MSG_V3_REPORT)
		return false;
	while (msg->records_len >= IGMP_V3_RECORD_LEN &&
	       *cursor <= msg->records_len - IGMP_V3_RECORD_LEN) {
		const uint8_t *r = msg->records + *cursor;
		uint16_t n = read_be16(r + 2);
		uint32_t rec_len = IGMP_V3_RECORD_LEN + 4u * n + 4u * r[1];

		/* Already checked by igmp_msg_parse; kept for a hand-made msg. */
		if (rec_len > msg->records_len - *cursor)
			return false;
		*cursor += rec_len;
		rec->type = r[0];
		rec->group = read_addr(r + 4);
		rec->n_sources = n;
		rec->sources = n ? r + IGMP_V3_RECORD_LEN : NULL;
		if (!pkt_ipv4_is_link_local_multicast(rec->group))
			return true;
	}
	return false;
}

const char *
igmp_verdict_name(enum igmp_verdict v)
{
	switch (v) {
	case IGMP_OK: return "ok";
	case IGMP_BAD_LENGTH: return "bad_length";
	case IGMP_BAD_CHECKSUM: return "bad_checksum";
	case IGMP_BAD_TYPE: return "bad_type";
	case IGMP_BAD_TTL: return "bad_ttl";
	case IGMP_NO_ROUTER_ALERT: return "no_router_alert";
	case IGMP_BAD_ADDRESS: return "bad_address";
	case IGMP_BAD_RECORD: return "bad_record";
	case IGMP_VERDICT_MAX: break;
	}
	return "unknown";
}

/* ------------------------------------------------------------------ build */

/*
 * The IPv4 header of everything we send (RFC 3376 4, RFC 2236 2): TOS 0xc0
 * as Linux sends, TTL 1, protocol 2, the Router Alert option (RFC 2113),
 * DF clear. The ID is 0: the builders keep no state, and a packet this
 * small with TTL 1 is never fragmented.
 */
static void
igmp_ip_header_write(uint8_t *ip, uint16_t total_len, uint32_t src, uint32_t dst)
{
	memset(ip, 0, IGMP_IP_HDR_LEN);
	ip[0] = 0x40 | IGMP_IP_HDR_LEN / 4;
	ip[1] = IGMP_IP_TOS;
	write_be16(ip + 2, total_len);
	ip[8] = 1;
	ip[9] = PKT_IPPROTO_IGMP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	ip[20] = IP_OPT_ROUTER_ALERT;
	ip[21] = IP_OPT_ROUTER_ALERT_LEN;
	write_be16(ip + 10, pkt_ipv4_checksum(ip, IGMP_IP_HDR_LEN));
}

static void
igmp_sources_write(uint8_t *p, const uint32_t *sources, uint16_t n)
{
	if (n)
		memcpy(p, sources, 4u * n);
}

/* RFC 3376 4.1.12: general queries to 224.0.0.1, the others to the group. */
size_t
igmp_query_build(uint8_t *buf, size_t len, const struct igmp_query_spec *q)
{
	uint32_t dst = q->group ? q->group : IGMP_ALL_HOSTS;
	uint32_t tenths = q->max_resp_ms / 100;
	size_t igmp_len, total;
	uint8_t *igmp;

	if (q->version == 3)
		igmp_len = IGMP_V3_QUERY_LEN + 4u * q->n_sources;
	else if (q->version == 2 && q->n_sources == 0)
		igmp_len = IGMP_HDR_LEN;
	else
		return 0;
	total = IGMP_IP_HDR_LEN + igmp_len;
	if (total > len || total > UINT16_MAX)
		return 0;

	igmp_ip_header_write(buf, (uint16_t)total, q->ip_src, dst);
	igmp = buf + IGMP_IP_HDR_LEN;
	memset(igmp, 0, igmp_len);
	igmp[0] = IGMP_TYPE_QUERY;
	memcpy(igmp + 4, &q->group, 4);
	if (q->version == 2) {
		/* RFC 2236 2.2: Max Resp Time in tenths, linear, 25.5 s at most. */
		igmp[1] = (uint8_t)(tenths > 0xff ? 0xff : tenths);
	} else {
		igmp[1] = igmp_code_encode(tenths);
		/* RFC 3376 4.1.6: a QRV above 7 is sent as 0. */
		igmp[8] = (uint8_t)((q->suppress ? 0x08 : 0) | (q->qrv > 7 ? 0 : q->qrv));
		igmp[9] = igmp_code_encode(q->qqi_s);
		write_be16(igmp + 10, q->n_sources);
		igmp_sources_write(igmp + IGMP_V3_QUERY_LEN, q->sources, q->n_sources);
	}
	igmp_checksum_set(igmp, (uint32_t)igmp_len);
	return total;
}

/* RFC 3376 4.2.14: v3 reports go to 224.0.0.22. */
size_t
igmp_report_v3_build(uint8_t *buf, size_t len, uint32_t ip_src, uint8_t record_type,
		     uint32_t group, const uint32_t *sources, uint16_t n_sources)
{
	size_t igmp_len = IGMP_HDR_LEN + IGMP_V3_RECORD_LEN + 4u * n_sources;
	size_t total = IGMP_IP_HDR_LEN + igmp_len;
	uint8_t *igmp, *r;

	if (total > len || total > UINT16_MAX)
		return 0;
	igmp_ip_header_write(buf, (uint16_t)total, ip_src, IGMP_V3_ROUTERS);
	igmp = buf + IGMP_IP_HDR_LEN;
	memset(igmp, 0, IGMP_HDR_LEN + IGMP_V3_RECORD_LEN);
	igmp[0] = IGMP_TYPE_V3_REPORT;
	write_be16(igmp + 6, 1);
	r = igmp + IGMP_HDR_LEN;
	r[0] = record_type;
	write_be16(r + 2, n_sources);
	memcpy(r + 4, &group, 4);
	igmp_sources_write(r + IGMP_V3_RECORD_LEN, sources, n_sources);
	igmp_checksum_set(igmp, (uint32_t)igmp_len);
	return total;
}

/* RFC 2236 3 and 9: reports go to the group, leaves to 224.0.0.2. */
size_t
igmp_report_v2_build(uint8_t *buf, size_t len, uint32_t ip_src, uint32_t group, bool leave)
{
	size_t total = IGMP_IP_HDR_LEN + IGMP_HDR_LEN;
	uint8_t *igmp;

	if (total > len)
		return 0;
	igmp_ip_header_write(buf, (uint16_t)total, ip_src, leave ? IGMP_ALL_ROUTERS : group);
	igmp = buf + IGMP_IP_HDR_LEN;
	memset(igmp, 0, IGMP_HDR_LEN);
	igmp[0] = leave ? IGMP_TYPE_V2_LEAVE : IGMP_TYPE_V2_REPORT;
	memcpy(igmp + 4, &group, 4);
	igmp_checksum_set(igmp, IGMP_HDR_LEN);
	return total;
}
