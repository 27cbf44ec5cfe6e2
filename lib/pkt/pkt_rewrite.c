/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt.h"

void
pkt_multicast_mac(uint32_t group_be, uint8_t mac[6])
{
	const uint8_t *g = (const uint8_t *)&group_be;

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = g[1] & 0x7f;
	mac[4] = g[2];
	mac[5] = g[3];
}

uint16_t
pkt_ipv4_checksum(const uint8_t *ip, uint16_t hdr_len)
{
	uint32_t sum = 0;

	for (uint16_t i = 0; i + 1 < hdr_len; i += 2) {
		if (i == 10)
			continue;
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m the TTL/protocol word. */
bool
pkt_ipv4_ttl_decrement(uint8_t *ip)
{
	uint16_t old_word, new_word, csum;
	uint32_t sum;

	if (ip[8] <= 1)
		return false;
	old_word = (uint16_t)(ip[8] << 8 | ip[9]);
	ip[8]--;
	new_word = (uint16_t)(ip[8] << 8 | ip[9]);
	csum = (uint16_t)(ip[10] << 8 | ip[11]);
	sum = (uint16_t)~csum + (uint16_t)~old_word + new_word;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	ip[10] = (uint8_t)(csum >> 8);
	ip[11] = (uint8_t)csum;
	return true;
}
