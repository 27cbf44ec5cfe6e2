/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * WAN -> LAN: an ESP packet from a remote site is decrypted in place, its
 * ICV and sequence number checked, and the inner multicast packet goes out
 * on the LAN as a multicast router would forward it. One packet at a time
 * from RX to the TX array: AES-GCM has no multi-buffer lanes to fill, so
 * nothing is gained by holding packets back in jobs (esp_decrypt).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_prefetch.h>

#include "worker_private.h"

static const enum worker_counter esp_in_drop[] = {
	[ESP_INB_TRUNCATED] = WORKER_CTR_esp_in_drop_truncated,
	[ESP_INB_REPLAY] = WORKER_CTR_esp_in_drop_replay,
	[ESP_INB_ICV_FAIL] = WORKER_CTR_esp_in_drop_icv_fail,
	[ESP_INB_BAD_TRAILER] = WORKER_CTR_esp_in_drop_bad_trailer,
	[ESP_INB_NOT_IPV4] = WORKER_CTR_esp_in_drop_not_ipv4,
	[ESP_INB_EXPIRED] = WORKER_CTR_esp_in_drop_sa_expired,
};

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Find the ESP header of a frame sent to us: IP protocol 50, or UDP 4500
 * behind the non-ESP marker rules of RFC 3948 2.2. Returns false, counted,
 * for anything else. */
static bool
inb_esp_locate(struct worker *w, const struct fwd_state *state, struct rte_mbuf *m,
	       uint16_t *esp_off, uint16_t *esp_len)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct pkt_ipv4_info info;
	enum pkt_verdict verdict;
	uint16_t off, len;

	if (unlikely(m->nb_segs > 1)) {
		worker_count(w, WORKER_CTR_wan_drop_multi_segment);
		return false;
	}
	verdict = pkt_ipv4_parse(frame, m->data_len, &info);
	if (unlikely(verdict != PKT_OK)) {
		worker_count(w, worker_parse_drop_counter(verdict, false));
		return false;
	}
	if (info.dst != state->wan_addr) {
		worker_count(w, WORKER_CTR_wan_drop_not_for_us);
		return false;
	}
	off = (uint16_t)(info.l2_len + info.l3_len);
	len = (uint16_t)(info.ip_total_len - info.l3_len);
	if (info.proto == PKT_IPPROTO_UDP) {
		if (len < WORKER_UDP_LEN || read_be16(frame + off + 2) != WORKER_NATT_PORT) {
			worker_count(w, WORKER_CTR_wan_drop_not_esp);
			return false;
		}
		off += WORKER_UDP_LEN;
		len -= WORKER_UDP_LEN;
		if (len == 1 && frame[off] == 0xff) {
			worker_count(w, WORKER_CTR_wan_drop_nat_keepalive);
			return false;
		}
		if (len >= 4 && memcmp(frame + off, "\0\0\0\0", 4) == 0) {
			/* Non-ESP marker: IKE, which is not ours to answer. */
			worker_count(w, WORKER_CTR_wan_drop_ike);
			return false;
		}
	} else if (info.proto != PKT_IPPROTO_ESP) {
		worker_count(w, WORKER_CTR_wan_drop_not_esp);
		return false;
	}
	if (len < ESP_HDR_LEN) {
		worker_count(w, WORKER_CTR_esp_in_drop_truncated);
		return false;
	}
	*esp_off = off;
	*esp_len = len;
	return true;
}

/* Turn a decrypted ESP frame into the LAN frame of its inner packet, or say
 * why not. Forwarding rules of a multicast router: a valid IPv4 multicast
 * packet, not link-local, wanted here, TTL left. */
static bool
inb_deliver_prepare(struct worker *w, const struct fwd_state *state,
		    struct rte_mbuf *m, uint8_t *inner, uint32_t inner_len)
{
	const struct fwd_group *group;
	struct pkt_ipv4_info info;
	struct rte_ether_hdr *eth;

	/* The sender may add TFC padding after the packet (RFC 4303 2.4):
	 * the IPv4 total length, not the ESP payload length, is the packet. */
	if (pkt_ipv4_parse_l3(inner, inner_len, &info) != PKT_OK) {
		worker_count(w, WORKER_CTR_inner_drop_malformed);
		return false;
	}
	if (!pkt_ipv4_is_multicast(info.dst)) {
		worker_count(w, WORKER_CTR_inner_drop_not_multicast);
		return false;
	}
	if (pkt_ipv4_is_link_local_multicast(info.dst)) {
		worker_count(w, WORKER_CTR_inner_drop_link_local);
		return false;
	}
	if (fwd_scope_blocks(state, info.dst)) {
		worker_count(w, WORKER_CTR_inner_drop_scope_boundary);
		return false;
	}
	group = fwd_group_lookup(state, info.dst);
	if (group == NULL || !fwd_group_wants(group, info.src)) {
		worker_count(w, WORKER_CTR_inner_drop_not_wanted);
		return false;
	}
	if (!pkt_ipv4_ttl_decrement(inner)) {
		worker_count(w, WORKER_CTR_inner_drop_ttl_expired);
		return false;
	}

	rte_pktmbuf_adj(m, (uint16_t)(inner - rte_pktmbuf_mtod(m, uint8_t *) - RTE_ETHER_HDR_LEN));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - RTE_ETHER_HDR_LEN - info.ip_total_len));
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	pkt_multicast_mac(info.dst, eth->dst_addr.addr_bytes);
	memcpy(&eth->src_addr, w->cfg.lan_mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = info.l3_len;
	return true;
}

void
worker_wan_burst(struct worker *w, const struct fwd_state *state,
		 struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *tx[WORKER_BURST];
	uint16_t n_tx = 0;

	w->counters.c[WORKER_CTR_wan_rx_packets] += n;
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct fwd_spi_slot *slot;
		enum esp_inb_verdict verdict;
		uint16_t esp_off, esp_len;
		uint32_t inner_len;
		uint8_t *esp;

		if (!inb_esp_locate(w, state, m, &esp_off, &esp_len)) {
			rte_pktmbuf_free(m);
			continue;
		}
		esp = rte_pktmbuf_mtod_offset(m, uint8_t *, esp_off);
		slot = fwd_spi_lookup(state, esp_spi(esp));
		if (slot == NULL) {
			worker_count(w, WORKER_CTR_esp_in_drop_unknown_spi);
			rte_pktmbuf_free(m);
			continue;
		}
		/* One writer per inbound SA (esp.h, esp_inb_owner_claim). */
		if (unlikely(!esp_inb_owner_claim(slot->sa, w->cfg.qsbr_thread_id + 1))) {
			worker_count(w, WORKER_CTR_esp_in_drop_other_worker);
			rte_pktmbuf_free(m);
			continue;
		}
		verdict = esp_decrypt(w->mb, slot->sa, esp, esp_len, &inner_len);
		if (unlikely(verdict != ESP_INB_OK)) {
			worker_count(w, esp_in_drop[verdict]);
			rte_pktmbuf_free(m);
			continue;
		}
		worker_count(w, WORKER_CTR_esp_in_packets);
		if (!inb_deliver_prepare(w, state, m, esp + ESP_HDR_LEN + ESP_IV_LEN, inner_len)) {
			rte_pktmbuf_free(m);
			continue;
		}
		tx[n_tx++] = m;
	}
	worker_tx(w, w->cfg.lan_port, w->cfg.lan_queue, tx, n_tx,
		  WORKER_CTR_lan_tx_packets, WORKER_CTR_lan_drop_tx_full);
}
