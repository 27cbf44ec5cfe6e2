/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the IGMP wire format and the router state machine.
 *
 * The input is a small configuration and then a script of events: raw
 * packets (optionally with their checksums made right, so that the fuzzer
 * gets past them), v1/v2/v3 reports, leaves and queries built from a few
 * bytes each, and time steps. Every packet goes through igmp_msg_parse and,
 * when accepted, into igmp_router_receive; time steps go to
 * igmp_router_tick. After each event the router's state is checked against
 * what igmp_private.h promises: the bounds of cfg.max_groups,
 * cfg.max_sources and cfg.max_source_records, sorted tables, the timers of
 * each filter mode (RFC 3376 6.2.1, 6.2.2), and every query we send must be
 * one our own parser takes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "igmp/igmp_private.h"
#include "pkt/pkt.h"

#define FUZZ_MY_ADDR   0x0500000au      /* 10.0.0.5, network order */
#define FUZZ_PKT_MAX   1600
#define FUZZ_IP_HDR    24               /* with Router Alert */

static uint32_t
fuzz_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 | (uint32_t)d << 24;
}

/* A few groups, so that events meet each other's state: ASM, SSM (232/8),
 * link-local and unicast (both refused), and a wider spread. */
static uint32_t
fuzz_group(uint8_t b)
{
	unsigned int i = b & 15;

	if (i < 6)
		return fuzz_addr(239, 1, 1, (uint8_t)(1 + i));
	if (i < 10)
		return fuzz_addr(232, 1, 1, (uint8_t)(i - 5));
	if (i == 10)
		return fuzz_addr(224, 0, 0, 5);
	if (i == 11)
		return fuzz_addr(10, 1, 1, 1);
	return fuzz_addr(239, 2, (uint8_t)(b >> 4), (uint8_t)i);
}

static uint32_t
fuzz_source(uint8_t b)
{
	return fuzz_addr(10, 0, 0, (uint8_t)(1 + (b & 15)));
}

static uint16_t
fuzz_ones_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
fuzz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 header with Router Alert, TTL 1, then the IGMP checksum. */
static size_t
fuzz_ip_wrap(uint8_t *pkt, size_t igmp_len, uint32_t src, uint32_t dst)
{
	size_t total = FUZZ_IP_HDR + igmp_len;

	memset(pkt, 0, FUZZ_IP_HDR);
	pkt[0] = 0x46;
	pkt[1] = 0xc0;
	fuzz_put16(pkt + 2, (uint16_t)total);
	pkt[8] = 1;
	pkt[9] = PKT_IPPROTO_IGMP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	pkt[20] = 148;
	pkt[21] = 4;
	fuzz_put16(pkt + 10, pkt_ipv4_checksum(pkt, FUZZ_IP_HDR));
	fuzz_put16(pkt + FUZZ_IP_HDR + 2, 0);
	fuzz_put16(pkt + FUZZ_IP_HDR + 2, (uint16_t)~fuzz_ones_sum(pkt + FUZZ_IP_HDR, igmp_len));
	return total;
}

/* Raw bytes; with fix, the IP and IGMP checksums and lengths made right. */
static size_t
fuzz_raw(struct fuzz_input *in, uint8_t *pkt, bool fix)
{
	size_t len = (size_t)fuzz_byte(in) + 1, ihl;

	if (len > in->left)
		len = in->left;
	memcpy(pkt, in->p, len);
	in->p += len;
	in->left -= len;
	if (!fix || len < 20)
		return len;
	ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		return len;
	fuzz_put16(pkt + 2, (uint16_t)len);
	fuzz_put16(pkt + 10, pkt_ipv4_checksum(pkt, (uint16_t)ihl));
	if (len - ihl >= 4) {
		fuzz_put16(pkt + ihl + 2, 0);
		fuzz_put16(pkt + ihl + 2, (uint16_t)~fuzz_ones_sum(pkt + ihl, len - ihl));
	}
	return len;
}

static size_t
fuzz_v2(struct fuzz_input *in, uint8_t *pkt, uint8_t type)
{
	uint32_t group = fuzz_group(fuzz_byte(in));
	uint8_t *igmp = pkt + FUZZ_IP_HDR;

	memset(igmp, 0, 8);
	igmp[0] = type;
	memcpy(igmp + 4, &group, 4);
	return fuzz_ip_wrap(pkt, 8, fuzz_source(fuzz_byte(in)),
			    type == IGMP_TYPE_V2_LEAVE ? IGMP_ALL_ROUTERS : group);
}

/* A v3 report of 1 to 4 records, up to 11 sources each (duplicates too). */
static size_t
fuzz_v3_report(struct fuzz_input *in, uint8_t *pkt, uint8_t op)
{
	unsigned int n_records = 1 + ((op >> 4) & 3);
	uint8_t *igmp = pkt + FUZZ_IP_HDR;
	size_t off = 8;

	memset(igmp, 0, 8);
	igmp[0] = IGMP_TYPE_V3_REPORT;
	fuzz_put16(igmp + 6, (uint16_t)n_records);
	for (unsigned int i = 0; i < n_records; i++) {
		uint8_t *r = igmp + off;
		uint8_t t = fuzz_byte(in);
		uint32_t group = fuzz_group(fuzz_byte(in));
		unsigned int n = fuzz_byte(in) % 12;

		r[0] = (uint8_t)(1 + t % 6);
		r[1] = 0;
		fuzz_put16(r + 2, (uint16_t)n);
		memcpy(r + 4, &group, 4);
		for (unsigned int j = 0; j < n; j++) {
			uint32_t s = fuzz_source(fuzz_byte(in));

			memcpy(r + 8 + 4 * j, &s, 4);
		}
		off += 8 + 4 * n;
	}
	return fuzz_ip_wrap(pkt, off, fuzz_source(fuzz_byte(in)), IGMP_V3_ROUTERS);
}

/* A query of version 1, 2 or 3 from a lower, higher, zero or our own address. */
static size_t
fuzz_query(struct fuzz_input *in, uint8_t *pkt, uint8_t op)
{
	static const uint32_t srcs[] = { 0, 0x0100000au, 0x0900000au, FUZZ_MY_ADDR };
	uint8_t sel = fuzz_byte(in);
	uint32_t group = (sel & 0x10) ? 0 : fuzz_group(fuzz_byte(in));
	uint8_t *igmp = pkt + FUZZ_IP_HDR;
	unsigned int version = 1 + (op >> 4) % 3;
	size_t len = 8;

	memset(igmp, 0, 12);
	igmp[0] = IGMP_TYPE_QUERY;
	igmp[1] = version == 1 ? 0 : fuzz_byte(in);
	memcpy(igmp + 4, &group, 4);
	if (version == 3) {
		unsigned int n = fuzz_byte(in) % 8;

		igmp[8] = fuzz_byte(in) & 0x0f;    /* S and QRV */
		igmp[9] = fuzz_byte(in);           /* QQIC */
		fuzz_put16(igmp + 10, (uint16_t)n);
		for (unsigned int j = 0; j < n; j++) {
			uint32_t s = fuzz_source(fuzz_byte(in));

			memcpy(igmp + 12 + 4 * j, &s, 4);
		}
		len = 12 + 4 * n;
	}
	return fuzz_ip_wrap(pkt, len, srcs[sel & 3], group ? group : IGMP_ALL_HOSTS);
}

/* ------------------------------------------------------------ checks */

/* Every query the router sends is a well-formed query from us. */
static void
fuzz_send(void *ctx, const uint8_t *ip, size_t len)
{
	struct igmp_msg msg;
	uint8_t *copy = malloc(len ? len : 1);

	(void)ctx;
	if (copy == NULL)
		return;
	memcpy(copy, ip, len);
	if (len > IGMP_QUERY_PKT_MAX || igmp_msg_parse(copy, (uint32_t)len, &msg) != IGMP_OK ||
	    msg.type != IGMP_MSG_QUERY || msg.ip_src != FUZZ_MY_ADDR)
		abort();
	free(copy);
}

static void
fuzz_group_changed(void *ctx, uint32_t group)
{
	(void)ctx;
	if (!pkt_ipv4_is_multicast(group) || pkt_ipv4_is_link_local_multicast(group))
		abort();
}

static void
fuzz_group_check(const struct igmp_router *r, const struct igmp_group *g, uint64_t now)
{
	if (g->n_sources > r->cfg.max_sources || g->n_sources > g->cap_sources)
		abort();
	for (uint32_t i = 0; i + 1 < g->n_sources; i++)
		if (igmp_addr_cmp(g->sources[i].addr, g->sources[i + 1].addr) >= 0)
			abort();
	/* 6.2.1: INCLUDE has no group timer, every source timer runs, and
	 * INCLUDE ({}) is no state at all. 6.2.2: EXCLUDE runs its group timer. */
	if (g->mode == IGMP_FILTER_INCLUDE) {
		if (g->group_timer != 0 || g->n_sources == 0)
			abort();
		for (uint32_t i = 0; i < g->n_sources; i++)
			if (g->sources[i].timer == 0)
				abort();
	} else if (g->group_timer == 0) {
		abort();
	}
	/* After tick(now) nothing due by now is left. */
	if ((g->group_timer && g->group_timer <= now) ||
	    (g->v1_host_timer && g->v1_host_timer <= now) ||
	    (g->v2_host_timer && g->v2_host_timer <= now))
		abort();
	for (uint32_t i = 0; i < g->n_sources; i++)
		if (g->sources[i].timer && g->sources[i].timer <= now)
			abort();
}

static void
fuzz_router_check(struct igmp_router *r, uint64_t now)
{
	uint64_t records = 0;

	igmp_router_tick(r, now);
	if (igmp_router_next_deadline(r) <= now)
		abort();
	if (r->n_groups > r->cfg.max_groups || r->n_groups > r->cap_groups + (r->cap_groups == 0))
		abort();
	for (uint32_t i = 0; i < r->n_groups; i++) {
		if (i + 1 < r->n_groups &&
		    igmp_addr_cmp(r->groups[i]->addr, r->groups[i + 1]->addr) >= 0)
			abort();
		fuzz_group_check(r, r->groups[i], now);
		records += r->groups[i]->n_sources;
	}
	/* The device-wide count is the groups' sum, within its bound. */
	if (records != r->n_source_records || records > r->cfg.max_source_records)
		abort();
}

/* The read side: igmp_router_wants agrees with the view (RFC 3376 6.3). */
static void
fuzz_router_read(struct igmp_router *r, struct fuzz_input *in, uint64_t now)
{
	uint32_t group = fuzz_group(fuzz_byte(in));
	uint32_t source = fuzz_source(fuzz_byte(in));
	uint16_t room = (uint16_t)(r->cfg.max_sources + 1);
	struct igmp_group_view *view = malloc(sizeof(*view) + room * sizeof(view->sources[0]));
	bool wants = igmp_router_wants(r, group, source);

	if (view == NULL)
		return;
	if (!igmp_router_group_view(r, group, now, view, room)) {
		if (wants)
			abort();
	} else {
		bool listed = false, running = false;

		if (view->n_sources > r->cfg.max_sources)
			abort();
		for (uint16_t i = 0; i < view->n_sources; i++) {
			if (view->sources[i].addr == source) {
				listed = true;
				running = view->sources[i].timer_ms != 0;
			}
		}
		if (wants != (view->mode == IGMP_FILTER_INCLUDE ? running : !listed || running))
			abort();
	}
	free(view);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct igmp_router_ops ops = {
		.send = fuzz_send,
		.group_changed = fuzz_group_changed,
	};
	struct fuzz_input in = { .p = data, .left = size };
	struct igmp_config cfg = { .my_addr = FUZZ_MY_ADDR };
	uint8_t b0 = fuzz_byte(&in), b1 = fuzz_byte(&in);
	uint8_t pkt[FUZZ_PKT_MAX];
	struct igmp_router *r;
	uint64_t now = 1000;

	/* Small bounds, so that the fuzzer reaches them. */
	cfg.max_groups = 1 + (b0 & 7);
	cfg.max_sources = 1 + (b1 & 7);
	/* Bits 3-6: the device-wide bound, often below groups x sources. */
	cfg.max_source_records = 1 + ((b1 >> 3) & 15) * 4;
	cfg.query_version = (b0 & 8) ? 2 : 3;
	cfg.robustness = (uint8_t)(1 + ((b0 >> 4) & 3));
	if (b1 & 0x80) {
		cfg.query_interval_ms = 10000;
		cfg.query_response_ms = 5000;
		cfg.last_member_interval_ms = 100;
	}
	r = igmp_router_create(&cfg, &ops, NULL);
	if (r == NULL)
		abort();
	if (!(b1 & 0x40))
		igmp_router_start(r, now);

	while (in.left > 0) {
		uint8_t op = fuzz_byte(&in);
		struct igmp_msg msg;
		size_t len = 0;
		uint8_t *copy;

		switch (op & 7) {
		case 0: len = fuzz_raw(&in, pkt, op & 8); break;
		case 1: len = fuzz_v2(&in, pkt, IGMP_TYPE_V1_REPORT); break;
		case 2: len = fuzz_v2(&in, pkt, IGMP_TYPE_V2_REPORT); break;
		case 3: len = fuzz_v2(&in, pkt, IGMP_TYPE_V2_LEAVE); break;
		case 4: len = fuzz_v3_report(&in, pkt, op); break;
		case 5: len = fuzz_query(&in, pkt, op); break;
		case 6:
			now += (uint64_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in)) *
			       ((op & 8) ? 1000 : 1);
			break;
		case 7: fuzz_router_read(r, &in, now); break;
		}
		if (len > 0) {
			/* The packet in a buffer of its own size: ASan sees
			 * any read past it. */
			copy = malloc(len);
			if (copy == NULL)
				break;
			memcpy(copy, pkt, len);
			if (igmp_msg_parse(copy, (uint32_t)len, &msg) == IGMP_OK) {
				struct igmp_record rec;
				uint32_t cursor = 0, n = 0;

				while (igmp_record_next(&msg, &cursor, &rec)) {
					if (++n > msg.n_records || cursor > msg.records_len)
						abort();
				}
				igmp_router_receive(r, &msg, now);
			}
			free(copy);
		}
		fuzz_router_check(r, now);
	}
	igmp_router_free(r);
	return 0;
}
