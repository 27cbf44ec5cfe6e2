/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LAN -> WAN: a multicast packet from the site becomes one ESP tunnel packet
 * per remote site of its group. Pairwise SAs: the inner packet is read in
 * place by every copy's encryption (out of place), so replication costs no
 * copy pass. A group SA: the packet is encrypted once into a body mbuf, and
 * each site's copy is a header mbuf chained to an indirect clone of it.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "worker_private.h"

#define OUTER_IPV4_LEN 20

/* A LAN packet that passed classification, and what its copies need. */
struct outb_packet {
	struct rte_mbuf *m;
	const struct fwd_group *group;
	uint8_t *inner;             /* the IPv4 header inside m */
	uint16_t inner_len;
	uint16_t payload_len;       /* inner + padding + trailer */
	uint8_t tos;
	bool df;
	bool sent_in_place;         /* m itself became the last site's copy */
};

static inline uint16_t
outer_ip_len(const struct outb_packet *p, bool udp_encap)
{
	return (uint16_t)(OUTER_IPV4_LEN + (udp_encap ? WORKER_UDP_LEN : 0) +
			  ESP_HDR_LEN + ESP_IV_LEN + p->payload_len + ESP_ICV_LEN);
}

enum outb_verdict {
	OUTB_SEND,          /* p is filled: encrypt a copy per site */
	OUTB_DROP,          /* counted; the caller frees m */
	OUTB_HANDED_OVER,   /* m went to the management lcore */
};

/* Does the ESP copy fit the WAN MTU and a copy mbuf? Sites behind NAT add
 * a UDP header: checked per copy, so that plain-ESP sites keep the 8 bytes. */
static inline bool
outb_copy_fits(const struct worker *w, const struct fwd_state *state,
	       const struct outb_packet *p, bool udp_encap)
{
	uint16_t len = outer_ip_len(p, udp_encap);

	return len <= state->wan_mtu &&
	       RTE_ETHER_HDR_LEN + len <=
	       rte_pktmbuf_data_room_size(w->cfg.pool) - RTE_PKTMBUF_HEADROOM;
}

/* Is m a multicast data packet this site sends? Fills p when it is. */
static enum outb_verdict
outb_classify(struct worker *w, const struct fwd_state *state, struct rte_mbuf *m,
	      struct outb_packet *p)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct pkt_ipv4_info info;
	enum pkt_verdict verdict;
	uint32_t room_after;

	if (unlikely(m->nb_segs > 1)) {
		worker_count(w, WORKER_CTR_lan_drop_multi_segment);
		return OUTB_DROP;
	}
	verdict = pkt_ipv4_parse(frame, m->data_len, &info);
	if (unlikely(verdict != PKT_OK)) {
		worker_count(w, worker_parse_drop_counter(verdict, true));
		return OUTB_DROP;
	}
	if (info.proto == PKT_IPPROTO_IGMP) {
		/* Membership is the management lcore's business. */
		m->l2_len = info.l2_len;
		m->l3_len = info.l3_len;
		return worker_igmp_punt(w, m) ? OUTB_HANDED_OVER : OUTB_DROP;
	}
	if (!pkt_ipv4_is_multicast(info.dst)) {
		worker_count(w, WORKER_CTR_lan_drop_unicast);
		return OUTB_DROP;
	}
	if (pkt_ipv4_is_link_local_multicast(info.dst)) {
		worker_count(w, WORKER_CTR_lan_drop_link_local);
		return OUTB_DROP;
	}
	if (fwd_scope_blocks(state, info.dst)) {
		worker_count(w, WORKER_CTR_lan_drop_scope_boundary);
		return OUTB_DROP;
	}
	/* Source discovery (paper 3.2): a sender says nothing, its traffic does. */
	worker_source_note(w, info.src, info.dst);
	p->group = fwd_group_lookup(state, info.dst);
	if (p->group == NULL || p->group->n_sites == 0) {
		worker_count(w, WORKER_CTR_lan_drop_no_group);
		return OUTB_DROP;
	}

	p->m = m;
	p->sent_in_place = false;
	p->inner = frame + info.l2_len;
	p->inner_len = info.ip_total_len;
	p->payload_len = (uint16_t)esp_outb_payload_len(info.ip_total_len);
	p->tos = p->inner[1];
	p->df = p->inner[6] & 0x40;
	/* The trailer is written after the inner packet, in m's own buffer;
	 * the copy must fit its mbuf and the WAN MTU (no outer fragmentation). */
	room_after = (uint32_t)(m->buf_len - m->data_off) - info.l2_len - info.ip_total_len;
	if (unlikely(room_after < (uint32_t)(p->payload_len - p->inner_len) ||
		     !outb_copy_fits(w, state, p, false))) {
		worker_count(w, WORKER_CTR_lan_drop_too_big);
		return OUTB_DROP;
	}
	return OUTB_SEND;
}

/* Bytes before the ESP header: Ethernet, outer IPv4, UDP behind NAT. */
static inline uint16_t
outb_headers_len(const struct fwd_site *site)
{
	return (uint16_t)(RTE_ETHER_HDR_LEN + OUTER_IPV4_LEN +
			  (site->udp_encap ? WORKER_UDP_LEN : 0));
}

/* Ethernet, outer IPv4 (RFC 4303 tunnel mode) and, behind NAT, UDP 4500
 * (RFC 3948) at frame, for p's ESP packet to site. Returns where the ESP
 * header goes. */
static uint8_t *
outb_headers_fill(struct worker *w, const struct fwd_state *state,
		  const struct fwd_site *site, const struct outb_packet *p, uint8_t *frame)
{
	uint16_t ip_len = outer_ip_len(p, site->udp_encap);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	bool df = state->outer_df == FWD_DF_SET ||
		  (state->outer_df == FWD_DF_COPY && p->df);

	memcpy(&eth->dst_addr, site->dst_mac, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, w->cfg.wan_mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	/* RFC 2983 and RFC 6040 (normal mode): DSCP and ECN copied outward. */
	ip->type_of_service = p->tos;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = state->outer_ttl;
	ip->next_proto_id = site->udp_encap ? PKT_IPPROTO_UDP : PKT_IPPROTO_ESP;
	ip->src_addr = state->wan_addr;
	ip->dst_addr = site->wan_addr;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	if (site->udp_encap) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->src_port = rte_cpu_to_be_16(WORKER_NATT_PORT);
		udp->dst_port = rte_cpu_to_be_16(WORKER_NATT_PORT);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - OUTER_IPV4_LEN));
		/* RFC 3948 2.1: zero; ESP's ICV already protects the payload. */
		udp->dgram_cksum = 0;
		return (uint8_t *)(udp + 1);
	}
	return (uint8_t *)(ip + 1);
}

/* The headers of a flat copy, appended to copy; the ESP packet follows. */
static inline uint8_t *
outb_headers_write(struct worker *w, const struct fwd_state *state,
		   const struct fwd_site *site, const struct outb_packet *p,
		   struct rte_mbuf *copy)
{
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(
		copy, RTE_ETHER_HDR_LEN + outer_ip_len(p, site->udp_encap));

	return outb_headers_fill(w, state, site, p, frame);
}

struct outb_tx {
	struct rte_mbuf *pkts[WORKER_TX_BATCH];
	uint16_t n;
};

/* A finished copy: count it, send when a batch is full. */
static inline void
outb_tx_add(struct worker *w, struct outb_tx *tx, struct rte_mbuf *copy)
{
	worker_count(w, WORKER_CTR_esp_out_copies);
	tx->pkts[tx->n++] = copy;
	if (tx->n == WORKER_TX_BATCH) {
		worker_tx(w, w->cfg.wan_port, w->cfg.wan_queue, tx->pkts, tx->n,
			  WORKER_CTR_wan_tx_packets, WORKER_CTR_wan_drop_tx_full);
		tx->n = 0;
	}
}

/*
 * The outer headers of one packet's copies, written once per packet and
 * encapsulation: from one site to the next only the destination MAC and
 * address, the identification and the checksum change, so each copy takes
 * a copy of the template and an incremental checksum (RFC 1071: the sum of
 * the template's 16-bit words, plus the address and the identification).
 */
#define OUTB_HEADERS_MAX (RTE_ETHER_HDR_LEN + OUTER_IPV4_LEN + WORKER_UDP_LEN)
/* Copied whole, a constant size (a few vector moves; a variable-length
 * memcpy of 34 or 42 bytes became "rep movsq", slower than all the rest of
 * a copy's header work): the bytes past the headers are overwritten by the
 * body (flat copies) or lie beyond data_len (header mbufs). */
#define OUTB_HEADERS_COPY 48
_Static_assert(OUTB_HEADERS_COPY >= OUTB_HEADERS_MAX &&
	       OUTB_HEADERS_COPY <= WORKER_HEADER_ROOM, "header template size");
struct outb_group_headers {
	uint8_t frame[2][OUTB_HEADERS_COPY];  /* [udp_encap] */
	uint32_t sum[2];                      /* without address, id, checksum */
	bool built[2];
};

static void
outb_group_headers_build(struct worker *w, const struct fwd_state *state,
			 const struct outb_packet *p, bool udp_encap,
			 struct outb_group_headers *t)
{
	const struct fwd_site any = { .wan_addr = 0, .udp_encap = udp_encap };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(t->frame[udp_encap] + RTE_ETHER_HDR_LEN);
	uint16_t ip_id = w->ip_id;

	outb_headers_fill(w, state, &any, p, t->frame[udp_encap]);
	w->ip_id = ip_id;
	ip->packet_id = 0;
	ip->hdr_checksum = 0;
	t->sum[udp_encap] = __rte_raw_cksum(ip, OUTER_IPV4_LEN, 0);
	t->built[udp_encap] = true;
}

/* The template's headers for site at frame, with the site's own fields. */
static inline void
outb_group_headers_write(struct worker *w, const struct outb_group_headers *t,
			 const struct fwd_site *site, uint8_t *frame)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	uint16_t ip_id = rte_cpu_to_be_16(w->ip_id++);
	uint32_t sum = t->sum[site->udp_encap] + (site->wan_addr & 0xffff) +
		       (site->wan_addr >> 16) + ip_id;

	memcpy(frame, t->frame[site->udp_encap], OUTB_HEADERS_COPY);
	memcpy(frame, site->dst_mac, RTE_ETHER_ADDR_LEN);
	ip->packet_id = ip_id;
	ip->dst_addr = site->wan_addr;
	ip->hdr_checksum = (uint16_t)~__rte_raw_cksum_reduce(sum);
}

/*
 * rte_pktmbuf_attach without its reference count update: the caller takes
 * the references of all the copies of body at once (one store while body
 * has one owner, where rte_pktmbuf_attach does an atomic add per copy).
 */
static inline void
outb_clone_attach(struct rte_mbuf *clone, const struct rte_mbuf *body)
{
	clone->priv_size = body->priv_size;
	clone->ol_flags = body->ol_flags | RTE_MBUF_F_INDIRECT;
	clone->port = body->port;
	clone->packet_type = 0;
	clone->data_off = body->data_off;
	clone->data_len = body->data_len;
	rte_mbuf_iova_set(clone, rte_mbuf_iova_get(body));
	clone->buf_addr = body->buf_addr;
	clone->buf_len = body->buf_len;
	clone->next = NULL;
	clone->pkt_len = body->data_len;
	clone->nb_segs = 1;
}

/* Sites whose copies are allocated at once. */
#define OUTB_GROUP_CHUNK 32

/*
 * A group-mode packet is encrypted: send body to every site of its group.
 * Chained (the WAN port sends chained mbufs): each copy is a header mbuf
 * chained to an indirect clone of body, no byte of body copied; body goes
 * back to the pool when the last copy has been sent. Flat: the headers and
 * a copy of body in one mbuf. Sites behind NAT need 8 more bytes: a packet
 * may be too big for them.
 */
static void
outb_group_replicate(struct worker *w, const struct fwd_state *state,
		     const struct outb_packet *p, struct rte_mbuf *body, struct outb_tx *tx)
{
	const struct fwd_group *group = p->group;
	bool udp_fits = outb_copy_fits(w, state, p, true);
	struct outb_group_headers t;
	struct rte_mbuf *segs[2 * OUTB_GROUP_CHUNK];
	uint16_t per_copy = w->wan_multi_seg ? 2 : 1;
	uint32_t copies = 0, clones = 0;

	t.built[0] = t.built[1] = false;
	for (uint16_t j = 0; j < group->n_sites; j++)
		copies += udp_fits || !state->sites[group->sites[j]].udp_encap;
	/*
	 * Chained: each clone holds a reference on body. All are taken now, in
	 * one store while body has a single owner (ours becomes the first
	 * clone's), before any copy can be sent and freed by the port;
	 * rte_pktmbuf_attach would take them one atomic add at a time.
	 */
	if (w->wan_multi_seg && copies > 1)
		rte_mbuf_refcnt_update(body, (int16_t)(copies - 1));
	for (uint16_t first = 0; first < group->n_sites; first += OUTB_GROUP_CHUNK) {
		uint16_t n = RTE_MIN(OUTB_GROUP_CHUNK, group->n_sites - first), used = 0;
		struct rte_mempool *mp = w->wan_multi_seg ? w->cfg.header_pool : w->cfg.pool;

		if (unlikely(rte_pktmbuf_alloc_bulk(mp, segs, (unsigned int)n * per_copy) != 0)) {
			w->counters.c[WORKER_CTR_drop_no_mbuf] += n;
			continue;
		}
		for (uint16_t j = first; j < first + n; j++) {
			const struct fwd_site *site = &state->sites[group->sites[j]];
			struct rte_mbuf *copy = segs[used];
			uint16_t hdr_len = outb_headers_len(site);
			uint8_t *frame;

			if (unlikely(site->udp_encap && !udp_fits)) {
				worker_count(w, WORKER_CTR_lan_drop_too_big);
				continue;
			}
			if (!t.built[site->udp_encap])
				outb_group_headers_build(w, state, p, site->udp_encap, &t);
			used += per_copy;
			if (!w->wan_multi_seg) {
				frame = (uint8_t *)rte_pktmbuf_append(copy, hdr_len + body->data_len);
				outb_group_headers_write(w, &t, site, frame);
				rte_memcpy(frame + hdr_len, rte_pktmbuf_mtod(body, const void *),
					   body->data_len);
			} else {
				struct rte_mbuf *clone = segs[used - 1];

				frame = (uint8_t *)rte_pktmbuf_append(copy, hdr_len);
				outb_group_headers_write(w, &t, site, frame);
				outb_clone_attach(clone, body);
				copy->next = clone;
				copy->nb_segs = 2;
				copy->pkt_len += clone->data_len;
				clones++;
			}
			outb_tx_add(w, tx, copy);
		}
		if (used < n * per_copy)
			rte_pktmbuf_free_bulk(segs + used, n * per_copy - used);
	}
	/* Flat copies: body is ours alone. Chained: give back the references
	 * of copies that could not be made (no mbufs), or ours when no site
	 * took the packet; the last one frees body. */
	if (!w->wan_multi_seg || copies == 0)
		rte_pktmbuf_free(body);
	for (; clones < copies && w->wan_multi_seg; clones++)
		rte_pktmbuf_free(body);
}

/* Encrypt one copy of p for site with sequence number seq and queue it. */
static inline void
outb_copy_encrypt(struct worker *w, const struct fwd_state *state,
		  const struct fwd_site *site, const struct outb_packet *p,
		  struct rte_mbuf *copy, uint64_t seq, struct outb_tx *tx)
{
	uint8_t *esp = outb_headers_write(w, state, site, p, copy);

	esp_outb_encrypt(w->mb, site->sa_out, seq, p->inner, p->payload_len, esp);
	outb_tx_add(w, tx, copy);
}

/*
 * Can p's own mbuf become site's copy? The outer headers, ESP header and
 * IV go in front of the inner packet (over its Ethernet header, into the
 * headroom), the ICV after the trailer.
 */
static inline bool
outb_in_place_fits(const struct fwd_site *site, const struct outb_packet *p)
{
	const struct rte_mbuf *m = p->m;
	const uint8_t *buf = (const uint8_t *)m->buf_addr;

	uint32_t room_before = (uint32_t)(p->inner - buf);
	uint32_t room_from = (uint32_t)(buf + m->buf_len - p->inner);

	return room_before >= (uint32_t)outb_headers_len(site) + ESP_HDR_LEN + ESP_IV_LEN &&
	       room_from >= (uint32_t)p->payload_len + ESP_ICV_LEN;
}

/* Encrypt p in its own mbuf for site and queue it: no copy to allocate,
 * fill and free, and the ciphertext overwrites the plaintext in cache. */
static inline void
outb_in_place_encrypt(struct worker *w, const struct fwd_state *state,
		      const struct fwd_site *site, struct outb_packet *p, uint64_t seq,
		      struct outb_tx *tx)
{
	struct rte_mbuf *m = p->m;
	uint8_t *esp = p->inner - ESP_HDR_LEN - ESP_IV_LEN;
	uint8_t *frame = esp - outb_headers_len(site);

	outb_headers_fill(w, state, site, p, frame);
	esp_outb_encrypt(w->mb, site->sa_out, seq, p->inner, p->payload_len, esp);
	m->data_off = (uint16_t)(frame - (uint8_t *)m->buf_addr);
	m->data_len = (uint16_t)(RTE_ETHER_HDR_LEN + outer_ip_len(p, site->udp_encap));
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
	p->sent_in_place = true;
	outb_tx_add(w, tx, m);
}

/*
 * Group mode (design.md 4): the run's group has one SA for all its sites.
 * Each packet is encrypted once, into a body mbuf that holds the ESP packet
 * (header, IV, ciphertext, ICV), which outb_group_replicate then sends to
 * every site behind each site's own outer headers. The run's numbers are reserved with one atomic add, as in the
 * pairwise loop, and the SA counts each packet once, however many sites.
 */
static void
outb_group_encrypt(struct worker *w, const struct fwd_state *state,
		   struct outb_packet *pkts, uint16_t n, struct outb_tx *tx)
{
	const struct fwd_group *group = pkts[0].group;
	struct esp_sa *sa = fwd_group_sa(state, group);
	struct rte_mbuf *bodies[WORKER_BURST];
	struct outb_packet *fit[WORKER_BURST];
	uint32_t inner_len[WORKER_BURST];
	uint32_t n_fit = 0, granted;
	bool plain_site = false;
	uint64_t seq;

	for (uint16_t j = 0; j < group->n_sites && !plain_site; j++)
		plain_site = !state->sites[group->sites[j]].udp_encap;
	/* Encrypt only what at least one site can take (classification
	 * checked the plain ESP size; NAT'ed sites add a UDP header). */
	for (uint16_t i = 0; i < n; i++) {
		if (unlikely(!plain_site && !outb_copy_fits(w, state, &pkts[i], true))) {
			w->counters.c[WORKER_CTR_lan_drop_too_big] += group->n_sites;
			continue;
		}
		fit[n_fit] = &pkts[i];
		inner_len[n_fit++] = pkts[i].inner_len;
	}
	if (n_fit == 0)
		return;
	if (unlikely(rte_pktmbuf_alloc_bulk(w->cfg.pool, bodies, n_fit) != 0)) {
		w->counters.c[WORKER_CTR_drop_no_mbuf] += (uint64_t)n_fit * group->n_sites;
		return;
	}
	seq = esp_outb_seq_reserve(sa, n_fit, inner_len, &granted);
	if (unlikely(granted < n_fit)) {
		w->counters.c[WORKER_CTR_esp_out_drop_sa_expired] +=
			(uint64_t)(n_fit - granted) * group->n_sites;
		rte_pktmbuf_free_bulk(bodies + granted, n_fit - granted);
		n_fit = granted;
	}
	for (uint32_t k = 0; k < n_fit; k++) {
		const struct outb_packet *p = fit[k];
		uint8_t *esp = (uint8_t *)rte_pktmbuf_append(
			bodies[k], ESP_HDR_LEN + ESP_IV_LEN + p->payload_len + ESP_ICV_LEN);

		esp_outb_encrypt(w->mb, sa, seq + k, p->inner, p->payload_len, esp);
		worker_count(w, WORKER_CTR_esp_out_group_encryptions);
		outb_group_replicate(w, state, p, bodies[k], tx);
	}
}

/*
 * Pairwise SAs: one encryption per (packet, site). Consecutive packets of one group make a run
 * (a burst is mostly one flow or a few); for each site of the group, the
 * run's sequence numbers are reserved with one atomic add on the SA
 * (esp_outb_seq_reserve): other workers sending on the same SA get other
 * numbers, and the run's copies go out numbered in order. Runs are taken in
 * the order of the burst and copies of a run site by site, so each site
 * gets its packets in LAN order. The last site's copies are the originals
 * themselves, encrypted in place, once every other site's copy has been
 * encrypted from them: a group of one site costs no copy at all.
 */
static void
outb_encrypt(struct worker *w, const struct fwd_state *state,
	     struct outb_packet *pkts, uint16_t n, struct outb_tx *tx)
{
	struct rte_mbuf *copies[WORKER_BURST];
	struct outb_packet *fit[WORKER_BURST];
	uint32_t inner_len[WORKER_BURST];

	for (uint16_t i = 0; i < n; i++)
		esp_outb_trailer_write(pkts[i].inner, pkts[i].inner_len);

	for (uint16_t first = 0, last; first < n; first = last) {
		const struct fwd_group *group = pkts[first].group;
		uint16_t n_sites = RTE_MIN(group->n_sites, (uint16_t)(UINT8_MAX + 1));

		for (last = first + 1; last < n && pkts[last].group == group; last++)
			;
		/* A group SA changes the unit of work (one encryption per
		 * packet, then one header per site), so it has a function of its own. */
		if (group->group_sa != 0) {
			outb_group_encrypt(w, state, pkts + first, (uint16_t)(last - first), tx);
			continue;
		}
		for (uint16_t j = 0; j < n_sites; j++) {
			const struct fwd_site *site = &state->sites[group->sites[j]];
			uint32_t n_fit = 0, granted;
			bool in_place = j + 1 == n_sites;
			uint64_t seq;

			/* Sites behind NAT add a UDP header: some copies may not fit. */
			for (uint16_t i = first; i < last; i++) {
				if (unlikely(site->udp_encap &&
					     !outb_copy_fits(w, state, &pkts[i], true))) {
					worker_count(w, WORKER_CTR_lan_drop_too_big);
					continue;
				}
				in_place = in_place && outb_in_place_fits(site, &pkts[i]);
				fit[n_fit] = &pkts[i];
				inner_len[n_fit++] = pkts[i].inner_len;
			}
			if (n_fit == 0)
				continue;
			/* The copies first: a number reserved is a number sent (or
			 * refused and counted), so the SA's packet count holds. */
			if (!in_place &&
			    unlikely(rte_pktmbuf_alloc_bulk(w->cfg.pool, copies, n_fit) != 0)) {
				w->counters.c[WORKER_CTR_drop_no_mbuf] += n_fit;
				continue;
			}
			seq = esp_outb_seq_reserve(site->sa_out, n_fit, inner_len, &granted);
			/* Past its lifetime (or 2^32 without ESN) the SA sends the
			 * first packets that fit, the others never. */
			if (unlikely(granted < n_fit)) {
				w->counters.c[WORKER_CTR_esp_out_drop_sa_expired] += n_fit - granted;
				if (!in_place)
					rte_pktmbuf_free_bulk(copies + granted, n_fit - granted);
				n_fit = granted;
			}
			for (uint32_t k = 0; k < n_fit; k++) {
				if (in_place)
					outb_in_place_encrypt(w, state, site, fit[k], seq + k, tx);
				else
					outb_copy_encrypt(w, state, site, fit[k], copies[k],
							  seq + k, tx);
			}
		}
	}
}

void
worker_lan_burst(struct worker *w, const struct fwd_state *state,
		 struct rte_mbuf **pkts, uint16_t n)
{
	struct outb_packet send[WORKER_BURST];
	struct rte_mbuf *done[WORKER_BURST];
	struct outb_tx tx = { .n = 0 };
	uint16_t n_send = 0, n_done = 0;

	w->counters.c[WORKER_CTR_lan_rx_packets] += n;
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		switch (outb_classify(w, state, pkts[i], &send[n_send])) {
		case OUTB_SEND:
			n_send++;
			break;
		case OUTB_DROP:
			done[n_done++] = pkts[i];
			break;
		case OUTB_HANDED_OVER:
			break;
		}
	}
	if (n_send)
		outb_encrypt(w, state, send, n_send, &tx);
	/* Originals go last: every copy was encrypted from them; those sent
	 * in place are the port's now. */
	for (uint16_t i = 0; i < n_send; i++)
		if (!send[i].sent_in_place)
			done[n_done++] = send[i].m;
	rte_pktmbuf_free_bulk(done, n_done);
	worker_tx(w, w->cfg.wan_port, w->cfg.wan_queue, tx.pkts, tx.n,
		  WORKER_CTR_wan_tx_packets, WORKER_CTR_wan_drop_tx_full);
}
