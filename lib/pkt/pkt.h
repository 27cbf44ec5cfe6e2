/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_PKT_H
#define IVGMP_PKT_H

/*
 * pkt: reading and rewriting the Ethernet and IPv4 headers of a frame.
 *
 * Owns frame validation (what makes a frame well formed enough to forward),
 * the IPv4 multicast to Ethernet MAC mapping (RFC 1112 section 6.4) and the
 * header rewrites a multicast router makes when it forwards (TTL, checksum).
 * Works on plain byte buffers so that it can be tested without mbufs.
 */

#include <stdbool.h>
#include <stdint.h>

#define PKT_ETHER_HDR_LEN   14
#define PKT_VLAN_HDR_LEN    4
#define PKT_IPV4_MIN_HDR_LEN 20
#define PKT_IPPROTO_IGMP    2
#define PKT_IPPROTO_UDP     17
#define PKT_IPPROTO_ESP     50

/* Why a frame was refused. Each value has a drop counter in the worker. */
enum pkt_verdict {
	PKT_OK = 0,
	PKT_TRUNCATED,          /* shorter than the headers it announces */
	PKT_NOT_IPV4,           /* ARP, IPv6, LLDP...: not ours to forward */
	PKT_BAD_IP_VERSION,
	PKT_BAD_IP_IHL,         /* IHL < 5 */
	PKT_BAD_IP_LENGTH,      /* total length < IHL*4 or > what the frame holds */
	PKT_BAD_IP_CHECKSUM,
};

/* Where the headers of a well-formed IPv4 frame are, and what they say. */
struct pkt_ipv4_info {
	uint16_t l2_len;        /* Ethernet (+ 802.1Q) header length */
	uint16_t l3_len;        /* IPv4 header length, options included */
	uint16_t ip_total_len;  /* IPv4 total length; Ethernet padding excluded */
	uint16_t vlan_tci;      /* 0 when untagged */
	uint8_t proto;
	uint8_t ttl;
	uint32_t src;           /* network byte order */
	uint32_t dst;           /* network byte order */
};

/* Validate an Ethernet frame carrying IPv4 (optionally one 802.1Q tag):
 * version, IHL, total length against the frame, header checksum. */
enum pkt_verdict pkt_ipv4_parse(const uint8_t *frame, uint32_t frame_len,
				struct pkt_ipv4_info *info);

/* Validate a bare IPv4 packet (the inner packet of an ESP tunnel). */
enum pkt_verdict pkt_ipv4_parse_l3(const uint8_t *ip, uint32_t len,
				   struct pkt_ipv4_info *info);

/* 224.0.0.0/4, network byte order. */
static inline bool
pkt_ipv4_is_multicast(uint32_t addr_be)
{
	return (((const uint8_t *)&addr_be)[0] & 0xf0) == 0xe0;
}

/* 224.0.0.0/24: the local network control block, never forwarded (RFC 5771). */
static inline bool
pkt_ipv4_is_link_local_multicast(uint32_t addr_be)
{
	const uint8_t *a = (const uint8_t *)&addr_be;

	return a[0] == 224 && a[1] == 0 && a[2] == 0;
}

/* 01-00-5E + the low 23 bits of the group (RFC 1112 section 6.4). */
void pkt_multicast_mac(uint32_t group_be, uint8_t mac[6]);

/* Decrement the TTL and patch the checksum incrementally (RFC 1624).
 * Returns false, and leaves the header alone, when the TTL would reach 0. */
bool pkt_ipv4_ttl_decrement(uint8_t *ip);

/* The IPv4 header checksum of hdr_len bytes (the field itself read as 0). */
uint16_t pkt_ipv4_checksum(const uint8_t *ip, uint16_t hdr_len);

/* Human name of a verdict, as used in counters. */
const char *pkt_verdict_name(enum pkt_verdict v);

#endif
