/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pkt: Ethernet/IPv4 validation, the multicast MAC
 * mapping, the TTL decrement and the header checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "pkt/pkt.h"

#define FRAME_MAX 1600

/* A deterministic generator, so that a failure can be replayed. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint32_t
rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 |
		     (uint32_t)c << 8 | d);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Write a correct checksum into an IPv4 header of hdr_len bytes. */
static void
ip_fix_checksum(uint8_t *ip, uint16_t hdr_len)
{
	put_be16(ip + 10, pkt_ipv4_checksum(ip, hdr_len));
}

/* Straightforward RFC 1071 reference, independent of the code under test:
 * sums every 16-bit word, checksum field included, and folds. A header with
 * a correct checksum sums to 0xffff. */
static uint16_t
ref_ones_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

struct frame_spec {
	bool vlan;
	uint16_t tci;
	uint8_t ihl;            /* 32-bit words, 5..15 */
	uint16_t payload_len;   /* bytes after the IPv4 header */
	uint16_t pad;           /* Ethernet padding after the IP packet */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src;           /* network byte order */
	uint32_t dst;           /* network byte order */
};

/* Build Ethernet [+ 802.1Q] + IPv4 (+ options) + payload [+ padding] into
 * buf; returns the frame length. */
static uint32_t
frame_build(uint8_t *buf, const struct frame_spec *s)
{
	uint8_t *p = buf, *ip;
	uint16_t hdr_len = (uint16_t)(s->ihl * 4);
	uint16_t total = (uint16_t)(hdr_len + s->payload_len);
	uint8_t mac[6];

	pkt_multicast_mac(s->dst, mac);
	memcpy(p, mac, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p += 12;
	if (s->vlan) {
		put_be16(p, 0x8100);
		put_be16(p + 2, s->tci);
		p += 4;
	}
	put_be16(p, 0x0800);
	p += 2;

	ip = p;
	memset(ip, 0, hdr_len);
	ip[0] = (uint8_t)(0x40 | s->ihl);
	ip[1] = 0;
	put_be16(ip + 2, total);
	put_be16(ip + 4, 0x1234);
	put_be16(ip + 6, 0x4000);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	memcpy(ip + 12, &s->src, 4);
	memcpy(ip + 16, &s->dst, 4);
	/* Options: NOP padding with a recognisable, non-zero pattern so that a
	 * checksum skipping them would differ. */
	for (uint16_t i = PKT_IPV4_MIN_HDR_LEN; i < hdr_len; i++)
		ip[i] = (uint8_t)(0x01 + i * 7);
	ip_fix_checksum(ip, hdr_len);
	p += hdr_len;
	for (uint16_t i = 0; i < s->payload_len; i++)
		*p++ = (uint8_t)(i ^ 0xa5);
	memset(p, 0, s->pad);
	p += s->pad;
	return (uint32_t)(p - buf);
}

static struct frame_spec
good_spec(void)
{
	struct frame_spec s = {
		.vlan = false,
		.ihl = 5,
		.payload_len = 8 + 32,  /* UDP header + 32 bytes */
		.pad = 0,
		.ttl = 64,
		.proto = PKT_IPPROTO_UDP,
		.src = ip4(192, 168, 1, 10),
		.dst = ip4(239, 1, 2, 3),
	};
	return s;
}

/* ---------------------------------------------------------------- parse */

static void
test_parse_untagged_udp_multicast(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	assert_int_equal(len, 14 + 20 + 40);
	memset(&info, 0xee, sizeof(info));
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.l2_len, 14);
	assert_int_equal(info.l3_len, 20);
	assert_int_equal(info.ip_total_len, 60);
	assert_int_equal(info.vlan_tci, 0);
	assert_int_equal(info.proto, PKT_IPPROTO_UDP);
	assert_int_equal(info.ttl, 64);
	assert_int_equal(info.src, ip4(192, 168, 1, 10));
	assert_int_equal(info.dst, ip4(239, 1, 2, 3));
}

static void
test_parse_vlan_tagged(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	s.vlan = true;
	s.tci = 0xa123;         /* PCP 5, DEI 0, VID 0x123 */
	s.ttl = 7;
	s.proto = PKT_IPPROTO_IGMP;
	len = frame_build(buf, &s);
	assert_int_equal(len, 18 + 20 + 40);
	memset(&info, 0xee, sizeof(info));
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.l2_len, 18);
	assert_int_equal(info.vlan_tci, 0xa123);
	assert_int_equal(info.l3_len, 20);
	assert_int_equal(info.ip_total_len, 60);
	assert_int_equal(info.proto, PKT_IPPROTO_IGMP);
	assert_int_equal(info.ttl, 7);
	assert_int_equal(info.src, ip4(192, 168, 1, 10));
	assert_int_equal(info.dst, ip4(239, 1, 2, 3));
}

static void
test_parse_ip_options_l3_len_is_ihl_times_4(void **state)
{
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	for (uint8_t ihl = 6; ihl <= 15; ihl++) {
		struct frame_spec s = good_spec();
		uint32_t len;
		uint8_t *ip = buf + 14;

		s.ihl = ihl;
		len = frame_build(buf, &s);
		assert_int_equal(ref_ones_sum(ip, ihl * 4u), 0xffff);
		memset(&info, 0xee, sizeof(info));
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
		assert_int_equal(info.l2_len, 14);
		assert_int_equal(info.l3_len, ihl * 4);
		assert_int_equal(info.ip_total_len, ihl * 4 + 40);
		assert_int_equal(info.dst, ip4(239, 1, 2, 3));

		/* The checksum covers the options: flip one option byte. */
		ip[PKT_IPV4_MIN_HDR_LEN + (ihl - 6) * 4 + 1] ^= 0x10;
		assert_int_equal(pkt_ipv4_parse(buf, len, &info),
				 PKT_BAD_IP_CHECKSUM);
		ip[PKT_IPV4_MIN_HDR_LEN + (ihl - 6) * 4 + 1] ^= 0x10;
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
		/* ...and so is the last byte of the options. */
		ip[ihl * 4 - 1] ^= 0x01;
		assert_int_equal(pkt_ipv4_parse(buf, len, &info),
				 PKT_BAD_IP_CHECKSUM);
	}
}

static void
test_parse_ethernet_padding_excluded_from_ip_total_len(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	/* 20-byte header + 8 bytes (a bare UDP header): 28 bytes of IP in a
	 * minimum 60-byte frame (FCS excluded). */
	s.payload_len = 8;
	s.pad = 60 - 14 - 28;
	len = frame_build(buf, &s);
	assert_int_equal(len, 60);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.ip_total_len, 28);
	assert_int_equal(info.l3_len, 20);
	assert_int_equal(info.l2_len, 14);

	/* Same thing tagged: 64-byte frame, still 28 bytes of IP. */
	s.vlan = true;
	s.tci = 5;
	len = frame_build(buf, &s);
	assert_int_equal(len, 64);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.ip_total_len, 28);
	assert_int_equal(info.l2_len, 18);
}

static void
test_parse_l3_bare_ipv4_packet(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	s.ihl = 7;
	s.pad = 6;
	len = frame_build(buf, &s);
	assert_int_equal(pkt_ipv4_parse_l3(buf + 14, len - 14, &info), PKT_OK);
	assert_int_equal(info.l3_len, 28);
	assert_int_equal(info.ip_total_len, 28 + 40);
	assert_int_equal(info.dst, ip4(239, 1, 2, 3));
	assert_int_equal(pkt_ipv4_parse_l3(buf + 14, 19, &info), PKT_TRUNCATED);
}

/* ------------------------------------------------------ malformed frames */

static void
test_parse_frame_shorter_than_ethernet_header_truncated(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	frame_build(buf, &s);
	for (uint32_t len = 0; len < 14; len++)
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_TRUNCATED);
}

static void
test_parse_vlan_frame_shorter_than_18_truncated(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	s.vlan = true;
	s.tci = 100;
	frame_build(buf, &s);
	for (uint32_t len = 14; len < 18; len++)
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_TRUNCATED);
}

static void
test_parse_non_ipv4_ethertype_not_ipv4(void **state)
{
	static const uint16_t types[] = { 0x0806 /* ARP */, 0x86dd /* IPv6 */,
					  0x88cc /* LLDP */, 0x0000, 0x0801 };
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		put_be16(buf + 12, types[i]);
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_NOT_IPV4);
	}
	/* Behind a VLAN tag as well. */
	s.vlan = true;
	len = frame_build(buf, &s);
	put_be16(buf + 16, 0x86dd);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_NOT_IPV4);
	/* Double tagging (QinQ inner 0x8100) is not IPv4 at 18 either. */
	put_be16(buf + 16, 0x8100);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_NOT_IPV4);
}

static void
test_parse_ip_header_shorter_than_20_truncated(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	frame_build(buf, &s);
	for (uint32_t len = 14; len < 14 + 20; len++)
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_TRUNCATED);
	s.vlan = true;
	frame_build(buf, &s);
	for (uint32_t len = 18; len < 18 + 20; len++)
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_TRUNCATED);
}

static void
test_parse_version_6_in_ipv4_ethertype_bad_version(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	buf[14] = 0x65;
	ip_fix_checksum(buf + 14, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_VERSION);
	/* IPv6 header bytes (0x60...) too. */
	buf[14] = 0x60;
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_VERSION);
	buf[14] = 0x05;
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_VERSION);
}

static void
test_parse_ihl_below_5_bad_ihl(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		buf[14] = (uint8_t)(0x40 | ihl);
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_IHL);
	}
}

static void
test_parse_ihl_beyond_frame_truncated(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	/* A 60-byte header announced, the frame ends inside the options. */
	s.ihl = 15;
	s.payload_len = 0;
	frame_build(buf, &s);
	for (uint32_t len = 14 + 20; len < 14 + 60; len++)
		assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_TRUNCATED);
	assert_int_equal(pkt_ipv4_parse(buf, 14 + 60, &info), PKT_OK);

	/* IHL 6 in a frame holding exactly 20 bytes of IP. */
	s = good_spec();
	s.payload_len = 0;
	frame_build(buf, &s);
	buf[14] = 0x46;
	assert_int_equal(pkt_ipv4_parse(buf, 14 + 20, &info), PKT_TRUNCATED);
}

static void
test_parse_total_length_below_header_bad_length(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	put_be16(buf + 14 + 2, 19);
	ip_fix_checksum(buf + 14, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);
	put_be16(buf + 14 + 2, 0);
	ip_fix_checksum(buf + 14, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);

	/* With options: total 24 < IHL*4 = 28. */
	s.ihl = 7;
	len = frame_build(buf, &s);
	put_be16(buf + 14 + 2, 24);
	ip_fix_checksum(buf + 14, 28);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);
	/* Exactly the header is fine. */
	put_be16(buf + 14 + 2, 28);
	ip_fix_checksum(buf + 14, 28);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.ip_total_len, 28);
}

static void
test_parse_total_length_beyond_frame_bad_length(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);     /* total 60 */
	/* The frame is cut one byte short of what total length announces. */
	assert_int_equal(pkt_ipv4_parse(buf, len - 1, &info), PKT_BAD_IP_LENGTH);
	/* Or total length says more than the frame holds. */
	put_be16(buf + 14 + 2, 61);
	ip_fix_checksum(buf + 14, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);
	put_be16(buf + 14 + 2, 0xffff);
	ip_fix_checksum(buf + 14, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);

	/* Tagged: the 4 tag bytes are not IP bytes. */
	s.vlan = true;
	len = frame_build(buf, &s);
	put_be16(buf + 18 + 2, (uint16_t)(len - 14));
	ip_fix_checksum(buf + 18, 20);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_LENGTH);
}

static void
test_parse_wrong_checksum_bad_checksum(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	uint32_t len;
	uint16_t good;

	(void)state;
	len = frame_build(buf, &s);
	good = get_be16(buf + 14 + 10);
	put_be16(buf + 14 + 10, (uint16_t)(good ^ 0x0001));
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_CHECKSUM);
	put_be16(buf + 14 + 10, 0);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_CHECKSUM);
	/* Right checksum, header changed behind its back (TTL). */
	put_be16(buf + 14 + 10, good);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	buf[14 + 8]--;
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_BAD_IP_CHECKSUM);
	/* The payload is not covered by the header checksum. */
	buf[14 + 8]++;
	buf[len - 1] ^= 0xff;
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
}

/* ------------------------------------------------------------ fuzz-style */

/* What PKT_OK promises: offsets consistent and inside the frame. */
static void
check_ok_invariants(const struct pkt_ipv4_info *info, uint32_t frame_len)
{
	assert_true(info->l2_len == 14 || info->l2_len == 18);
	assert_true(info->l3_len >= 20 && info->l3_len <= 60);
	assert_true(info->l3_len % 4 == 0);
	assert_true(info->l3_len <= info->ip_total_len);
	assert_true((uint32_t)info->l2_len + info->ip_total_len <= frame_len);
}

/* Parse a copy held in a buffer of exactly len bytes, so that an
 * out-of-bounds read shows under ASan/valgrind. */
static enum pkt_verdict
parse_exact(const uint8_t *frame, uint32_t len, struct pkt_ipv4_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum pkt_verdict v;

	assert_non_null(copy);
	memcpy(copy, frame, len);
	v = pkt_ipv4_parse(copy, len, info);
	free(copy);
	return v;
}

static void
test_fuzz_every_truncation_never_ok_out_of_bounds(void **state)
{
	uint8_t buf[FRAME_MAX];
	struct pkt_ipv4_info info;

	(void)state;
	for (int variant = 0; variant < 4; variant++) {
		struct frame_spec s = good_spec();
		uint32_t full, n_ok = 0;

		s.vlan = variant & 1;
		s.ihl = (variant & 2) ? 11 : 5;
		s.pad = 10;
		full = frame_build(buf, &s);
		for (uint32_t len = 0; len <= full; len++) {
			enum pkt_verdict v = parse_exact(buf, len, &info);

			assert_true(v >= PKT_OK && v <= PKT_BAD_IP_CHECKSUM);
			if (v == PKT_OK) {
				check_ok_invariants(&info, len);
				n_ok++;
			} else {
				/* Shorter than the IP packet: refused. */
				assert_true(len < full - s.pad);
			}
		}
		/* Accepted exactly from the end of the IP packet on. */
		assert_int_equal(n_ok, s.pad + 1);
	}
}

static void
test_fuzz_random_mutations_never_ok_out_of_bounds(void **state)
{
	uint8_t good[FRAME_MAX], buf[FRAME_MAX];
	struct pkt_ipv4_info info;
	unsigned int n_ok = 0, n_bad = 0;

	(void)state;
	rng_seed(0x1f2e3d4c5b6a7988ull);
	for (int i = 0; i < 10000; i++) {
		struct frame_spec s = good_spec();
		uint32_t len;
		unsigned int n_mut;
		enum pkt_verdict v;

		s.vlan = rng_next() & 1;
		s.ihl = (uint8_t)(5 + rng_next() % 11);
		s.payload_len = (uint16_t)(rng_next() % 64);
		s.pad = (uint16_t)(rng_next() % 8);
		len = frame_build(good, &s);
		memcpy(buf, good, len);

		/* Mutate 1..4 bytes, mostly in the headers where it matters. */
		n_mut = 1 + rng_next() % 4;
		for (unsigned int m = 0; m < n_mut; m++) {
			uint32_t span = (rng_next() & 3) ? 18 + s.ihl * 4u : len;
			uint32_t pos = rng_next() % (span < len ? span : len);

			buf[pos] = (uint8_t)rng_next();
		}
		/* Sometimes also cut the frame short. */
		if ((rng_next() & 7) == 0)
			len = rng_next() % (len + 1);

		v = parse_exact(buf, len, &info);
		assert_true(v >= PKT_OK && v <= PKT_BAD_IP_CHECKSUM);
		if (v == PKT_OK) {
			check_ok_invariants(&info, len);
			n_ok++;
		} else {
			n_bad++;
		}
	}
	/* Both outcomes must have been exercised for the loop to mean much. */
	assert_true(n_ok > 100);
	assert_true(n_bad > 1000);
}

/* --------------------------------------------------------- multicast MAC */

static void
test_multicast_mac_low_23_bits(void **state)
{
	static const uint8_t want[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	uint8_t mac[6];

	(void)state;
	memset(mac, 0xaa, sizeof(mac));
	pkt_multicast_mac(ip4(224, 1, 2, 3), mac);
	assert_memory_equal(mac, want, 6);
}

static void
test_multicast_mac_ignores_9_high_bits(void **state)
{
	uint8_t a[6], b[6], c[6];

	(void)state;
	/* 225.129.2.3: the 5 group bits after 1110 and the top bit of the
	 * second byte are lost, so it shares 224.1.2.3's MAC. */
	pkt_multicast_mac(ip4(224, 1, 2, 3), a);
	pkt_multicast_mac(ip4(225, 129, 2, 3), b);
	pkt_multicast_mac(ip4(239, 129, 2, 3), c);
	assert_memory_equal(a, b, 6);
	assert_memory_equal(a, c, 6);
}

static void
test_multicast_mac_highest_group(void **state)
{
	static const uint8_t want[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff };
	static const uint8_t want0[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x00 };
	uint8_t mac[6];

	(void)state;
	pkt_multicast_mac(ip4(239, 255, 255, 255), mac);
	assert_memory_equal(mac, want, 6);
	pkt_multicast_mac(ip4(224, 0, 0, 0), mac);
	assert_memory_equal(mac, want0, 6);
}

/* ------------------------------------------------- multicast predicates */

static void
test_is_multicast_boundaries(void **state)
{
	(void)state;
	assert_false(pkt_ipv4_is_multicast(ip4(223, 255, 255, 255)));
	assert_true(pkt_ipv4_is_multicast(ip4(224, 0, 0, 0)));
	assert_true(pkt_ipv4_is_multicast(ip4(224, 0, 0, 255)));
	assert_true(pkt_ipv4_is_multicast(ip4(224, 0, 1, 0)));
	assert_true(pkt_ipv4_is_multicast(ip4(239, 255, 255, 255)));
	assert_false(pkt_ipv4_is_multicast(ip4(240, 0, 0, 0)));
	assert_false(pkt_ipv4_is_multicast(ip4(0, 0, 0, 224)));
	assert_false(pkt_ipv4_is_multicast(ip4(255, 255, 255, 255)));
}

static void
test_is_link_local_multicast_boundaries(void **state)
{
	(void)state;
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(223, 255, 255, 255)));
	assert_true(pkt_ipv4_is_link_local_multicast(ip4(224, 0, 0, 0)));
	assert_true(pkt_ipv4_is_link_local_multicast(ip4(224, 0, 0, 22)));
	assert_true(pkt_ipv4_is_link_local_multicast(ip4(224, 0, 0, 255)));
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(224, 0, 1, 0)));
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(224, 1, 0, 0)));
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(239, 255, 255, 255)));
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(240, 0, 0, 0)));
	assert_false(pkt_ipv4_is_link_local_multicast(ip4(0, 0, 0, 224)));
}

/* -------------------------------------------------------- TTL decrement */

static void
test_ttl_decrement_64_to_63_checksum_matches_recompute(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX];
	uint8_t *ip = buf + 14;
	struct pkt_ipv4_info info;
	uint32_t len;

	(void)state;
	len = frame_build(buf, &s);
	assert_true(pkt_ipv4_ttl_decrement(ip));
	assert_int_equal(ip[8], 63);
	assert_int_equal(get_be16(ip + 10), pkt_ipv4_checksum(ip, 20));
	assert_int_equal(ref_ones_sum(ip, 20), 0xffff);
	assert_int_equal(pkt_ipv4_parse(buf, len, &info), PKT_OK);
	assert_int_equal(info.ttl, 63);
}

static void
test_ttl_decrement_random_headers_checksum_matches_recompute(void **state)
{
	uint8_t ip[60], before[60];

	(void)state;
	rng_seed(0xc0ffee1234567ull);
	for (int i = 0; i < 100000; i++) {
		uint16_t hdr_len = (uint16_t)(20 + 4 * (rng_next() % 11));
		uint8_t ttl;

		for (uint16_t j = 0; j < hdr_len; j++)
			ip[j] = (uint8_t)rng_next();
		ip[0] = (uint8_t)(0x40 | hdr_len / 4);
		/* Sometimes force edge values into the TTL/protocol word. */
		switch (rng_next() % 4) {
		case 0: ip[9] = 0xff; break;
		case 1: ip[9] = 0x00; break;
		default: break;
		}
		if (ip[8] < 2)
			ip[8] = (uint8_t)(2 + rng_next() % 254);
		ttl = ip[8];
		ip_fix_checksum(ip, hdr_len);
		memcpy(before, ip, hdr_len);

		assert_true(pkt_ipv4_ttl_decrement(ip));
		assert_int_equal(ip[8], ttl - 1);
		assert_int_equal(get_be16(ip + 10), pkt_ipv4_checksum(ip, hdr_len));
		assert_int_equal(ref_ones_sum(ip, hdr_len), 0xffff);
		/* Nothing but TTL and checksum changed. */
		assert_memory_equal(ip, before, 8);
		assert_int_equal(ip[9], before[9]);
		assert_memory_equal(ip + 12, before + 12, hdr_len - 12u);
	}
}

static uint16_t
ones_add(uint16_t a, uint16_t b)
{
	uint32_t sum = (uint32_t)a + b;

	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static void
test_ttl_decrement_checksum_wrap_cases(void **state)
{
	uint8_t ip[20];
	unsigned int n = 0;

	(void)state;
	/* Headers whose checksum sits next to the one's complement wrap, where
	 * an incremental update goes wrong most easily (RFC 1624 section 3):
	 * the identification field is solved for each wanted checksum. */
	rng_seed(42);
	for (uint32_t want = 0xfc00; want <= 0x10300; want++) {
		uint16_t c = (uint16_t)want, id;

		if (c == 0xffff)        /* never produced by a real header */
			continue;
		for (int j = 0; j < 20; j++)
			ip[j] = (uint8_t)rng_next();
		ip[0] = 0x45;
		ip[8] = (uint8_t)(2 + rng_next() % 254);
		put_be16(ip + 4, 0);
		id = ones_add((uint16_t)~c, pkt_ipv4_checksum(ip, 20));
		put_be16(ip + 4, id);
		if (pkt_ipv4_checksum(ip, 20) != c)
			put_be16(ip + 4, (uint16_t)~id);
		if (pkt_ipv4_checksum(ip, 20) != c)
			continue;       /* the 0/0xffff ambiguity; skip */
		put_be16(ip + 10, c);
		assert_true(pkt_ipv4_ttl_decrement(ip));
		assert_int_equal(get_be16(ip + 10), pkt_ipv4_checksum(ip, 20));
		assert_int_equal(ref_ones_sum(ip, 20), 0xffff);
		n++;
	}
	assert_true(n > 1700);
}

static void
test_ttl_decrement_ttl_1_and_0_refused_header_unchanged(void **state)
{
	struct frame_spec s = good_spec();
	uint8_t buf[FRAME_MAX], before[FRAME_MAX];
	uint32_t len;

	(void)state;
	for (uint8_t ttl = 0; ttl <= 1; ttl++) {
		s.ttl = ttl;
		len = frame_build(buf, &s);
		memcpy(before, buf, len);
		assert_false(pkt_ipv4_ttl_decrement(buf + 14));
		assert_memory_equal(buf, before, len);
	}
	/* TTL 2 still forwards, with 1 left. */
	s.ttl = 2;
	len = frame_build(buf, &s);
	assert_true(pkt_ipv4_ttl_decrement(buf + 14));
	assert_int_equal(buf[14 + 8], 1);
}

/* ------------------------------------------------------------- checksum */

static void
test_checksum_known_header(void **state)
{
	/* The classic example (Wikipedia "IPv4 header checksum"):
	 * 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
	uint8_t ip[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};

	(void)state;
	assert_int_equal(pkt_ipv4_checksum(ip, 20), 0xb861);
	/* The checksum field is read as 0, whatever it holds. */
	ip[10] = 0;
	ip[11] = 0;
	assert_int_equal(pkt_ipv4_checksum(ip, 20), 0xb861);
	ip[10] = 0x12;
	ip[11] = 0x34;
	assert_int_equal(pkt_ipv4_checksum(ip, 20), 0xb861);
}

static void
test_checksum_covers_options(void **state)
{
	uint8_t ip[24] = {
		0x46, 0x00, 0x00, 0x18, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02,
		0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x16,
		0x94, 0x04, 0x00, 0x00, /* Router Alert, as IGMPv3 reports carry */
	};
	uint16_t c;

	(void)state;
	c = pkt_ipv4_checksum(ip, 24);
	put_be16(ip + 10, c);
	assert_int_equal(ref_ones_sum(ip, 24), 0xffff);
	assert_int_not_equal(c, pkt_ipv4_checksum(ip, 20));
}

/* --------------------------------------------------------- verdict names */

static void
test_verdict_names_distinct(void **state)
{
	const char *names[PKT_BAD_IP_CHECKSUM + 1];

	(void)state;
	for (int v = PKT_OK; v <= PKT_BAD_IP_CHECKSUM; v++) {
		names[v] = pkt_verdict_name((enum pkt_verdict)v);
		assert_non_null(names[v]);
		assert_true(names[v][0] != '\0');
		for (int w = PKT_OK; w < v; w++)
			assert_string_not_equal(names[v], names[w]);
	}
	assert_string_equal(pkt_verdict_name(PKT_OK), "ok");
	/* An out-of-range value still gives a string, distinct from the rest. */
	assert_non_null(pkt_verdict_name((enum pkt_verdict)100));
	for (int v = PKT_OK; v <= PKT_BAD_IP_CHECKSUM; v++)
		assert_string_not_equal(pkt_verdict_name((enum pkt_verdict)100),
					names[v]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_untagged_udp_multicast),
		cmocka_unit_test(test_parse_vlan_tagged),
		cmocka_unit_test(test_parse_ip_options_l3_len_is_ihl_times_4),
		cmocka_unit_test(test_parse_ethernet_padding_excluded_from_ip_total_len),
		cmocka_unit_test(test_parse_l3_bare_ipv4_packet),
		cmocka_unit_test(test_parse_frame_shorter_than_ethernet_header_truncated),
		cmocka_unit_test(test_parse_vlan_frame_shorter_than_18_truncated),
		cmocka_unit_test(test_parse_non_ipv4_ethertype_not_ipv4),
		cmocka_unit_test(test_parse_ip_header_shorter_than_20_truncated),
		cmocka_unit_test(test_parse_version_6_in_ipv4_ethertype_bad_version),
		cmocka_unit_test(test_parse_ihl_below_5_bad_ihl),
		cmocka_unit_test(test_parse_ihl_beyond_frame_truncated),
		cmocka_unit_test(test_parse_total_length_below_header_bad_length),
		cmocka_unit_test(test_parse_total_length_beyond_frame_bad_length),
		cmocka_unit_test(test_parse_wrong_checksum_bad_checksum),
		cmocka_unit_test(test_fuzz_every_truncation_never_ok_out_of_bounds),
		cmocka_unit_test(test_fuzz_random_mutations_never_ok_out_of_bounds),
		cmocka_unit_test(test_multicast_mac_low_23_bits),
		cmocka_unit_test(test_multicast_mac_ignores_9_high_bits),
		cmocka_unit_test(test_multicast_mac_highest_group),
		cmocka_unit_test(test_is_multicast_boundaries),
		cmocka_unit_test(test_is_link_local_multicast_boundaries),
		cmocka_unit_test(test_ttl_decrement_64_to_63_checksum_matches_recompute),
		cmocka_unit_test(test_ttl_decrement_random_headers_checksum_matches_recompute),
		cmocka_unit_test(test_ttl_decrement_checksum_wrap_cases),
		cmocka_unit_test(test_ttl_decrement_ttl_1_and_0_refused_header_unchanged),
		cmocka_unit_test(test_checksum_known_header),
		cmocka_unit_test(test_checksum_covers_options),
		cmocka_unit_test(test_verdict_names_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
