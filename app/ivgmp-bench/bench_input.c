/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a run is fed: a site configuration written as text (so that lib/conf
 * parses and checks it as it would a site's file) and an input pcap.
 * encap: one IPv4 multicast UDP frame to BENCH_GROUP, sent to every site,
 * with an SA per site (pairwise) or one group SA (group).
 * decap: BENCH_DECAP_FRAMES ESP tunnel frames from site s1, encrypted by
 * lib/esp's outbound path with s1's inbound SA, sequence numbers 1, 2, ...
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "esp/esp.h"
#include "ivgmp_bench.h"

#define LAN_SOURCE  RTE_IPV4(10, 1, 0, 10)
#define WAN_ADDRESS "10.99.0.1"
#define DECAP_SPI   0x2001
#define GROUP_SPI   0x3001
#define INNER_SPORT 1000
#define INNER_DPORT 5000

static void
site_address(uint16_t i, char *buf, size_t len)
{
	snprintf(buf, len, "10.99.%u.%u", 1 + i / 250, 1 + i % 250);
}

/* Every key differs, and none is a simple pattern: key then 4-byte salt. */
static void
key_hex(uint32_t seed, char *buf)
{
	uint32_t x = seed * 2654435761u + 0x6a09e667u;

	for (int i = 0; i < 40; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = "0123456789abcdef"[x & 15];
	}
	buf[40] = '\0';
}

char *
bench_conf_text(const struct bench_options *o, const char *lan_port, const char *wan_port)
{
	size_t cap = 1024 + 160u * o->sites, len = 0;
	char *text = malloc(cap);
	char addr[20], key[41];

	if (text == NULL)
		return NULL;
#define APPEND(...) (len += (size_t)snprintf(text + len, cap - len, __VA_ARGS__))
	APPEND("# ivgmp-bench %s, %u site(s), %s SA(s)\n", bench_mode_name(o->mode), o->sites,
	       bench_sa_mode_name(o->sa_mode));
	APPEND("lan-port %s\nwan-port %s\nwan-address %s\n", lan_port, wan_port, WAN_ADDRESS);
	APPEND("wan-nexthop-mac 02:00:00:00:00:fe\n");
	for (uint16_t i = 0; i < o->sites; i++) {
		site_address(i, addr, sizeof(addr));
		key_hex(i + 1, key);
		APPEND("site s%u %s\n", i + 1, addr);
		if (o->sa_mode == BENCH_SA_PAIRWISE)
			APPEND("sa out s%u spi 0x%x aes-gcm-128 key 0x%s\n", i + 1, 0x1001 + i, key);
	}
	if (o->mode == BENCH_ENCAP && o->sa_mode == BENCH_SA_GROUP) {
		key_hex(0x20000, key);
		APPEND("group-sa %s spi 0x%x aes-gcm-128 key 0x%s\n", BENCH_GROUP, GROUP_SPI, key);
	}
	if (o->mode == BENCH_ENCAP) {
		APPEND("group %s send-to", BENCH_GROUP);
		for (uint16_t i = 0; i < o->sites; i++)
			APPEND(" s%u", i + 1);
		APPEND("\n");
	} else {
		key_hex(0x10000, key);
		APPEND("sa in s1 spi 0x%x aes-gcm-128 key 0x%s\n", DECAP_SPI, key);
		APPEND("group %s receive\n", BENCH_GROUP);
	}
#undef APPEND
	return text;
}

uint16_t
bench_output_frame_len(enum bench_mode mode, uint16_t size)
{
	uint32_t inner = size - RTE_ETHER_HDR_LEN;

	if (mode == BENCH_DECAP)
		return size;
	return (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + ESP_HDR_LEN +
			  ESP_IV_LEN + esp_outb_payload_len(inner) + ESP_ICV_LEN);
}

/* Ethernet + IPv4 + UDP to BENCH_GROUP, zero payload but a counter; returns
 * the IPv4 header. */
static struct rte_ipv4_hdr *
multicast_frame(uint8_t *frame, uint16_t size, uint32_t n)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = (uint16_t)(size - RTE_ETHER_HDR_LEN);
	uint32_t group;

	conf_parse_ipv4(BENCH_GROUP, &group);
	memset(frame, 0, size);
	memcpy(eth->dst_addr.addr_bytes, "\x01\x00\x5e\x01\x01\x01", 6);
	memcpy(eth->src_addr.addr_bytes, "\x02\x00\x00\x00\x00\x10", 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 16;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(LAN_SOURCE);
	ip->dst_addr = group;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(INNER_SPORT);
	udp->dst_port = rte_cpu_to_be_16(INNER_DPORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	memcpy(udp + 1, &n, sizeof(n));
	return ip;
}

/* The classic pcap format: a file header, then a record header per frame. */
static void
pcap_header_write(FILE *f)
{
	const uint32_t hdr[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 65535, 1 /* Ethernet */ };

	fwrite(hdr, sizeof(hdr), 1, f);
}

static void
pcap_frame_write(FILE *f, const uint8_t *frame, uint32_t len, uint32_t n)
{
	const uint32_t rec[4] = { n / 1000000, n % 1000000, len, len };

	fwrite(rec, sizeof(rec), 1, f);
	fwrite(frame, len, 1, f);
}

/* One ESP tunnel frame from s1 to us around the inner packet of frame n. */
static uint32_t
esp_frame(IMB_MGR *mb, struct esp_sa *sa, const struct conf *conf, uint16_t size,
	  uint32_t n, uint8_t *out)
{
	uint8_t inner_frame[2048];
	struct rte_ipv4_hdr *inner = multicast_frame(inner_frame, size, n);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)out;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t esp_len;

	esp_len = esp_encrypt(mb, sa, (uint8_t *)inner, size - RTE_ETHER_HDR_LEN,
			      (uint8_t *)(ip + 1));
	if (esp_len == 0)
		return 0;
	memcpy(eth->dst_addr.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(eth->src_addr.addr_bytes, "\x02\x00\x00\x00\x00\xfe", 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + esp_len));
	ip->packet_id = rte_cpu_to_be_16((uint16_t)n);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ESP;
	ip->src_addr = conf->sites[0].wan_addr;
	ip->dst_addr = conf->wan_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return (uint32_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + esp_len);
}

static int
decap_frames_write(FILE *f, const struct conf *conf, uint16_t size)
{
	struct esp_sa *sender = aligned_alloc(64, sizeof(*sender));
	IMB_MGR *mb = alloc_mb_mgr(0);
	const struct conf_sa *in = NULL;
	uint8_t frame[2048];
	int ret = -1;
	IMB_ARCH arch;

	for (uint16_t i = 0; i < conf->n_sas; i++)
		if (conf->sas[i].inbound)
			in = &conf->sas[i];
	if (sender == NULL || mb == NULL || in == NULL)
		goto out;
	init_mb_mgr_auto(mb, &arch);
	/* The peer's outbound SA: the same SPI, key and salt as our inbound one. */
	if (esp_sa_init(sender, &in->params, mb) < 0)
		goto out;
	for (uint32_t n = 1; n <= BENCH_DECAP_FRAMES; n++) {
		uint32_t len = esp_frame(mb, sender, conf, size, n, frame);

		if (len == 0)
			goto out;
		pcap_frame_write(f, frame, len, n);
	}
	ret = BENCH_DECAP_FRAMES;
out:
	if (mb != NULL)
		free_mb_mgr(mb);
	free(sender);
	return ret;
}

int
bench_input_write(const struct bench_options *o, const struct conf *conf, uint16_t size,
		  const char *path)
{
	FILE *f = fopen(path, "wb");
	int n = 1;

	if (f == NULL)
		return -1;
	pcap_header_write(f);
	if (o->mode == BENCH_ENCAP) {
		uint8_t frame[2048];

		multicast_frame(frame, size, 0);
		pcap_frame_write(f, frame, size, 0);
	} else {
		n = decap_frames_write(f, conf, size);
	}
	if (fclose(f) != 0)
		return -1;
	return n;
}
