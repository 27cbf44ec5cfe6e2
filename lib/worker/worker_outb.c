/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LAN -> WAN: a multicast packet from the site becomes one ESP tunnel packet
 * per remote site of its group. The inner packet is read in place by every
 * copy's encryption (out of place), so replication costs no copy pass.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
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

/* Ethernet, outer IPv4 (RFC 4303 tunnel mode) and, behind NAT, UDP 4500
 * (RFC 3948). Returns where the ESP header goes. */
static uint8_t *
outb_headers_write(struct worker *w, const struct fwd_state *state,
		   const struct fwd_site *site, const struct outb_packet *p,
		   struct rte_mbuf *copy)
{
	uint16_t ip_len = outer_ip_len(p, site->udp_encap);
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(copy, RTE_ETHER_HDR_LEN + ip_len);
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

struct outb_tx {
	struct rte_mbuf *pkts[WORKER_TX_BATCH];
	uint16_t n;
};

static void
outb_job_done(struct worker *w, IMB_JOB *job, struct outb_tx *tx)
{
	struct rte_mbuf *copy = job->user_data;

	if (unlikely(job->status != IMB_STATUS_COMPLETED)) {
		worker_count(w, WORKER_CTR_crypto_errors);
		rte_pktmbuf_free(copy);
		return;
	}
	worker_count(w, WORKER_CTR_esp_out_copies);
	tx->pkts[tx->n++] = copy;
	if (tx->n == WORKER_TX_BATCH) {
		worker_tx(w, w->cfg.wan_port, w->cfg.wan_queue, tx->pkts, tx->n,
			  WORKER_CTR_wan_tx_packets, WORKER_CTR_wan_drop_tx_full);
		tx->n = 0;
	}
}

/* Encrypt one copy of p for site with sequence number seq, submit it, and
 * collect whatever the library completed. */
static inline void
outb_copy_submit(struct worker *w, const struct fwd_state *state,
		 const struct fwd_site *site, const struct outb_packet *p,
		 struct rte_mbuf *copy, uint64_t seq, struct outb_tx *tx)
{
	uint8_t *esp = outb_headers_write(w, state, site, p, copy);
	IMB_JOB *job = IMB_GET_NEXT_JOB(w->mb);

	esp_outb_job_fill(job, site->sa_out, seq, p->inner, p->payload_len, esp,
			  &worker_job_of(w, job)->esp);
	job->user_data = copy;
	for (job = IMB_SUBMIT_JOB(w->mb); job; job = IMB_GET_COMPLETED_JOB(w->mb))
		outb_job_done(w, job, tx);
}

/*
 * One job per (packet, site). Consecutive packets of one group make a run
 * (a burst is mostly one flow or a few); for each site of the group, the
 * run's sequence numbers are reserved with one atomic add on the SA
 * (esp_outb_seq_reserve): other workers sending on the same SA get other
 * numbers, and the run's copies go out numbered in order. Runs are taken in
 * the order of the burst and copies of a run site by site, so each site
 * gets its packets in LAN order. Jobs are submitted as they are filled so
 * the library keeps its lanes full; the burst ends with a flush.
 */
static void
outb_encrypt(struct worker *w, const struct fwd_state *state,
	     struct outb_packet *pkts, uint16_t n, struct outb_tx *tx)
{
	struct rte_mbuf *copies[WORKER_BURST];
	const struct outb_packet *fit[WORKER_BURST];
	uint32_t inner_len[WORKER_BURST];
	IMB_JOB *job;

	for (uint16_t i = 0; i < n; i++)
		esp_outb_trailer_write(pkts[i].inner, pkts[i].inner_len);

	for (uint16_t first = 0, last; first < n; first = last) {
		const struct fwd_group *group = pkts[first].group;
		uint16_t n_sites = RTE_MIN(group->n_sites, (uint16_t)(UINT8_MAX + 1));

		for (last = first + 1; last < n && pkts[last].group == group; last++)
			;
		for (uint16_t j = 0; j < n_sites; j++) {
			const struct fwd_site *site = &state->sites[group->sites[j]];
			uint32_t n_fit = 0, granted;
			uint64_t seq;

			/* Sites behind NAT add a UDP header: some copies may not fit. */
			for (uint16_t i = first; i < last; i++) {
				if (unlikely(site->udp_encap &&
					     !outb_copy_fits(w, state, &pkts[i], true))) {
					worker_count(w, WORKER_CTR_lan_drop_too_big);
					continue;
				}
				fit[n_fit] = &pkts[i];
				inner_len[n_fit++] = pkts[i].inner_len;
			}
			if (n_fit == 0)
				continue;
			/* The copies first: a number reserved is a number sent (or
			 * refused and counted), so the SA's packet count holds. */
			if (unlikely(rte_pktmbuf_alloc_bulk(w->cfg.pool, copies, n_fit) != 0)) {
				w->counters.c[WORKER_CTR_drop_no_mbuf] += n_fit;
				continue;
			}
			seq = esp_outb_seq_reserve(site->sa_out, n_fit, inner_len, &granted);
			/* Past its lifetime (or 2^32 without ESN) the SA sends the
			 * first packets that fit, the others never. */
			if (unlikely(granted < n_fit)) {
				w->counters.c[WORKER_CTR_esp_out_drop_sa_expired] += n_fit - granted;
				rte_pktmbuf_free_bulk(copies + granted, n_fit - granted);
				n_fit = granted;
			}
			for (uint32_t k = 0; k < n_fit; k++)
				outb_copy_submit(w, state, site, fit[k], copies[k], seq + k, tx);
		}
	}
	while ((job = IMB_FLUSH_JOB(w->mb)) != NULL)
		outb_job_done(w, job, tx);
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
	/* Originals go only after the flush: every copy's job read from them. */
	for (uint16_t i = 0; i < n_send; i++)
		done[n_done++] = send[i].m;
	rte_pktmbuf_free_bulk(done, n_done);
	worker_tx(w, w->cfg.wan_port, w->cfg.wan_queue, tx.pkts, tx.n,
		  WORKER_CTR_wan_tx_packets, WORKER_CTR_wan_drop_tx_full);
}
