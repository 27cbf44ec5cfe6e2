/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: a frame as a worker receives it on the LAN or the WAN.
 *
 * lib/pkt validates the headers; what the workers then do with the result
 * without touching an mbuf is replayed here on the same bytes: the LAN side's
 * multicast checks, MAC mapping and ESP payload sizing (worker_outb.c
 * outb_classify), the WAN side's search for the ESP header behind IP or UDP
 * 4500 (worker_inb.c inb_esp_locate), and the forwarding of an inner packet
 * (inb_deliver_prepare: parse, TTL decrement). The checks below are the
 * promises pkt.h makes: a frame said OK has all the bytes its headers
 * announce, and the TTL rewrite keeps the header checksum valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/esp.h"
#include "pkt/pkt.h"

#define FUZZ_NATT_PORT 4500
#define FUZZ_UDP_LEN   8

static uint16_t
fuzz_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What pkt_ipv4_parse_l3 said OK must hold for every reader after it. */
static void
fuzz_pkt_info_check(const struct pkt_ipv4_info *info, uint32_t len)
{
	if (info->l3_len < PKT_IPV4_MIN_HDR_LEN || info->l3_len > 60 || info->l3_len % 4 ||
	    info->ip_total_len < info->l3_len || info->ip_total_len > len)
		abort();
}

/* inb_deliver_prepare on a decrypted inner packet: parse, then the TTL
 * decrement a router makes, which must leave a valid header checksum. */
static void
fuzz_pkt_inner_forward(const uint8_t *ip, uint32_t len)
{
	struct pkt_ipv4_info info;
	uint8_t *copy;

	if (pkt_ipv4_parse_l3(ip, len, &info) != PKT_OK)
		return;
	fuzz_pkt_info_check(&info, len);
	if (!pkt_ipv4_is_multicast(info.dst) || pkt_ipv4_is_link_local_multicast(info.dst))
		return;
	/* A copy exactly as long as the header, so that ASan sees any read
	 * past it. */
	copy = malloc(info.l3_len);
	if (copy == NULL)
		return;
	memcpy(copy, ip, info.l3_len);
	if (pkt_ipv4_ttl_decrement(copy)) {
		if (copy[8] != ip[8] - 1 ||
		    pkt_ipv4_checksum(copy, info.l3_len) != fuzz_be16(copy + 10))
			abort();
	} else if (ip[8] > 1) {
		abort();
	}
	free(copy);
}

/* outb_classify: a multicast data packet from the LAN, sized for ESP. */
static void
fuzz_pkt_lan(const uint8_t *frame, const struct pkt_ipv4_info *info)
{
	uint8_t mac[6];
	uint32_t payload_len;

	(void)frame;
	if (!pkt_ipv4_is_multicast(info->dst) || pkt_ipv4_is_link_local_multicast(info->dst))
		return;
	pkt_multicast_mac(info->dst, mac);
	if (mac[0] != 0x01 || mac[1] != 0x00 || mac[2] != 0x5e || (mac[3] & 0x80))
		abort();
	payload_len = esp_outb_payload_len(info->ip_total_len);
	if (payload_len < (uint32_t)info->ip_total_len + ESP_TRAILER_LEN || payload_len % 4 ||
	    payload_len > (uint32_t)info->ip_total_len + ESP_TRAILER_LEN + 3)
		abort();
}

/* inb_esp_locate: where the ESP header is, and that it lies in the frame. */
static void
fuzz_pkt_wan(const uint8_t *frame, uint32_t frame_len, const struct pkt_ipv4_info *info)
{
	uint32_t off = (uint32_t)info->l2_len + info->l3_len;
	uint32_t len = (uint32_t)info->ip_total_len - info->l3_len;

	if (info->proto == PKT_IPPROTO_UDP) {
		if (len < FUZZ_UDP_LEN || fuzz_be16(frame + off + 2) != FUZZ_NATT_PORT)
			return;
		off += FUZZ_UDP_LEN;
		len -= FUZZ_UDP_LEN;
		if (len == 1 && frame[off] == 0xff)
			return;
		if (len >= 4 && memcmp(frame + off, "\0\0\0\0", 4) == 0)
			return;
	} else if (info->proto != PKT_IPPROTO_ESP) {
		return;
	}
	if (len < ESP_HDR_LEN)
		return;
	if (off + len > frame_len)
		abort();
	(void)esp_spi(frame + off);
	/* What decryption would leave: the ciphertext area taken as the inner
	 * packet (inb_deliver_prepare's input), in a buffer of its own size. */
	if (len > ESP_HDR_LEN + ESP_IV_LEN) {
		uint32_t inner_len = len - ESP_HDR_LEN - ESP_IV_LEN;
		uint8_t *inner = malloc(inner_len);

		if (inner == NULL)
			return;
		memcpy(inner, frame + off + ESP_HDR_LEN + ESP_IV_LEN, inner_len);
		fuzz_pkt_inner_forward(inner, inner_len);
		free(inner);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_ipv4_info info;
	enum pkt_verdict v;
	uint8_t *frame;

	if (size > 65535 + 18)
		return 0;
	/* The frame in a buffer of exactly its size: a read past it is a
	 * report, not a quiet look at libFuzzer's own memory. */
	frame = malloc(size ? size : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data, size);
	memset(&info, 0, sizeof(info));
	v = pkt_ipv4_parse(frame, (uint32_t)size, &info);
	if (pkt_verdict_name(v) == NULL)
		abort();
	if (v == PKT_OK) {
		if (info.l2_len != PKT_ETHER_HDR_LEN &&
		    info.l2_len != PKT_ETHER_HDR_LEN + PKT_VLAN_HDR_LEN)
			abort();
		fuzz_pkt_info_check(&info, (uint32_t)size - info.l2_len);
		fuzz_pkt_lan(frame, &info);
		fuzz_pkt_wan(frame, (uint32_t)size, &info);
	}
	/* The same bytes as a bare IPv4 packet (a decrypted inner packet). */
	fuzz_pkt_inner_forward(frame, (uint32_t)size);
	free(frame);
	return 0;
}
