/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "pkt.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum pkt_verdict
pkt_ipv4_parse_l3(const uint8_t *ip, uint32_t len, struct pkt_ipv4_info *info)
{
	uint16_t ihl, total;

	if (len < PKT_IPV4_MIN_HDR_LEN)
		return PKT_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return PKT_BAD_IP_VERSION;
	ihl = (uint16_t)((ip[0] & 0x0f) * 4);
	if (ihl < PKT_IPV4_MIN_HDR_LEN)
		return PKT_BAD_IP_IHL;
	if (ihl > len)
		return PKT_TRUNCATED;
	total = read_be16(ip + 2);
	if (total < ihl || total > len)
		return PKT_BAD_IP_LENGTH;
	if (pkt_ipv4_checksum(ip, ihl) != read_be16(ip + 10))
		return PKT_BAD_IP_CHECKSUM;

	info->l3_len = ihl;
	info->ip_total_len = total;
	info->proto = ip[9];
	info->ttl = ip[8];
	memcpy(&info->src, ip + 12, 4);
	memcpy(&info->dst, ip + 16, 4);
	return PKT_OK;
}

enum pkt_verdict
pkt_ipv4_parse(const uint8_t *frame, uint32_t frame_len, struct pkt_ipv4_info *info)
{
	uint16_t l2_len = PKT_ETHER_HDR_LEN;
	uint16_t ethertype;

	if (frame_len < PKT_ETHER_HDR_LEN)
		return PKT_TRUNCATED;
	ethertype = read_be16(frame + 12);
	info->vlan_tci = 0;
	if (ethertype == ETHERTYPE_VLAN) {
		if (frame_len < PKT_ETHER_HDR_LEN + PKT_VLAN_HDR_LEN)
			return PKT_TRUNCATED;
		info->vlan_tci = read_be16(frame + 14);
		ethertype = read_be16(frame + 16);
		l2_len += PKT_VLAN_HDR_LEN;
	}
	if (ethertype != ETHERTYPE_IPV4)
		return PKT_NOT_IPV4;
	info->l2_len = l2_len;
	return pkt_ipv4_parse_l3(frame + l2_len, frame_len - l2_len, info);
}

const char *
pkt_verdict_name(enum pkt_verdict v)
{
	switch (v) {
	case PKT_OK: return "ok";
	case PKT_TRUNCATED: return "truncated";
	case PKT_NOT_IPV4: return "not_ipv4";
	case PKT_BAD_IP_VERSION: return "bad_ip_version";
	case PKT_BAD_IP_IHL: return "bad_ip_ihl";
	case PKT_BAD_IP_LENGTH: return "bad_ip_length";
	case PKT_BAD_IP_CHECKSUM: return "bad_ip_checksum";
	}
	return "unknown";
}
