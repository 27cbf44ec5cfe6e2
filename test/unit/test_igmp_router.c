/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the IGMPv3 router (lib/igmp: igmp_router.c, igmp_group.c,
 * igmp_querier.c) against RFC 3376: every row of the tables of 6.4.1 and
 * 6.4.2, timer expiry (6.3, 6.5), the querier (6.6), the compatibility
 * rules (7.3.2), the SSM range, the bounds. Time is driven explicitly; the
 * queries the router sends are decoded with igmp_msg_parse.
 *
 * Defaults (RFC 3376 section 8): RV 2, QI 125 s, QRI 10 s, so
 * GMI = 260 s, OQPI = 255 s, startup interval 31.25 s; LMQI 1 s, LMQC 2,
 * LMQT 2 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <cmocka.h>

#include "igmp/igmp.h"

#define GMI     260000u
#define OQPI    255000u
#define QI      125000u
#define SQI     31250u
#define LMQI    1000u
#define LMQT    2000u

#define MAX_SENT        64
#define MAX_SRC         16

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

#define MY      ip4(10, 0, 0, 5)
#define LOWER   ip4(10, 0, 0, 1)
#define HIGHER  ip4(10, 0, 0, 9)
#define G       ip4(239, 1, 1, 1)
#define G2      ip4(239, 1, 1, 2)
#define G3      ip4(225, 1, 1, 1)
#define SSM_G   ip4(232, 1, 1, 1)
#define S1      ip4(10, 1, 0, 1)
#define S2      ip4(10, 1, 0, 2)
#define S3      ip4(10, 1, 0, 3)
#define S4      ip4(10, 1, 0, 4)
#define S5      ip4(10, 1, 0, 5)
#define S9      ip4(10, 1, 0, 9)

/* ------------------------------------------------------------ harness */

struct sent_query {
	uint32_t ip_src;
	uint32_t ip_dst;
	uint8_t version;
	uint32_t group;
	bool suppress;
	uint32_t max_resp_ms;
	uint8_t qrv;
	uint32_t qqi_s;
	uint16_t n_sources;
	uint32_t sources[MAX_SRC];
};

struct harness {
	struct igmp_router *r;
	struct sent_query sent[MAX_SENT];
	unsigned int n_sent;
	uint32_t changed[MAX_SENT];
	unsigned int n_changed;
	struct igmp_group_view *view;   /* room for MAX_SRC sources */
};

static void
cb_send(void *ctx, const uint8_t *ip, size_t len)
{
	struct harness *h = ctx;
	struct sent_query *q;
	struct igmp_msg msg;

	assert_true(h->n_sent < MAX_SENT);
	assert_int_equal(igmp_msg_parse(ip, (uint32_t)len, &msg), IGMP_OK);
	assert_int_equal(msg.type, IGMP_MSG_QUERY);
	q = &h->sent[h->n_sent++];
	q->ip_src = msg.ip_src;
	q->ip_dst = msg.ip_dst;
	q->version = msg.query_version;
	q->group = msg.group;
	q->suppress = msg.suppress;
	q->max_resp_ms = msg.max_resp_ms;
	q->qrv = msg.qrv;
	q->qqi_s = msg.qqi_s;
	q->n_sources = msg.n_sources;
	assert_true(msg.n_sources <= MAX_SRC);
	if (msg.n_sources)
		memcpy(q->sources, msg.sources, 4u * msg.n_sources);
}

static void
cb_changed(void *ctx, uint32_t group)
{
	struct harness *h = ctx;

	assert_true(h->n_changed < MAX_SENT);
	h->changed[h->n_changed++] = group;
}

static const struct igmp_router_ops ops = {
	.send = cb_send,
	.group_changed = cb_changed,
};

static struct igmp_config
cfg_base(void)
{
	struct igmp_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.my_addr = MY;
	return cfg;
}

static struct harness *
h_new_cfg(const struct igmp_config *cfg)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->r = igmp_router_create(cfg, &ops, h);
	assert_non_null(h->r);
	h->view = malloc(sizeof(*h->view) + MAX_SRC * sizeof(h->view->sources[0]));
	assert_non_null(h->view);
	return h;
}

/* A router that is not started: it never queries. */
static struct harness *
h_new(void)
{
	struct igmp_config cfg = cfg_base();

	return h_new_cfg(&cfg);
}

static void
h_clear(struct harness *h)
{
	h->n_sent = 0;
	h->n_changed = 0;
}

/* A router started as querier at time 0 (its first startup query sent),
 * with the logs cleared. */
static struct harness *
h_querier(void)
{
	struct harness *h = h_new();

	igmp_router_start(h->r, 0);
	assert_int_equal(h->n_sent, 1);
	h_clear(h);
	return h;
}

static void
h_free(struct harness *h)
{
	igmp_router_free(h->r);
	free(h->view);
	free(h);
}

/* A v3 report with one record: type, group, n sources (uint32_t varargs). */
static void
h_rec(struct harness *h, uint64_t t, uint8_t type, uint32_t group, unsigned int n, ...)
{
	uint8_t rec[8 + 4 * MAX_SRC];
	struct igmp_msg msg;
	va_list ap;

	assert_true(n <= MAX_SRC);
	memset(rec, 0, sizeof(rec));
	rec[0] = type;
	rec[2] = (uint8_t)(n >> 8);
	rec[3] = (uint8_t)n;
	memcpy(rec + 4, &group, 4);
	va_start(ap, n);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = va_arg(ap, uint32_t);

		memcpy(rec + 8 + 4 * i, &s, 4);
	}
	va_end(ap);

	memset(&msg, 0, sizeof(msg));
	msg.type = IGMP_MSG_V3_REPORT;
	msg.ip_src = ip4(10, 0, 0, 100);
	msg.ip_dst = IGMP_V3_ROUTERS;
	msg.n_records = 1;
	msg.records = rec;
	msg.records_len = 8 + 4 * n;
	igmp_router_receive(h->r, &msg, t);
}

static void
h_old(struct harness *h, uint64_t t, enum igmp_msg_type type, uint32_t group)
{
	struct igmp_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	msg.ip_src = ip4(10, 0, 0, 100);
	msg.group = group;
	igmp_router_receive(h->r, &msg, t);
}

#define h_v1_report(h, t, g)    h_old(h, t, IGMP_MSG_V1_REPORT, g)
#define h_v2_report(h, t, g)    h_old(h, t, IGMP_MSG_V2_REPORT, g)
#define h_v2_leave(h, t, g)     h_old(h, t, IGMP_MSG_V2_LEAVE, g)

/* A query heard on the LAN. */
static void
h_query(struct harness *h, uint64_t t, uint32_t src, uint8_t version, uint32_t group,
	uint32_t max_resp_ms, bool suppress, uint8_t qrv, uint32_t qqi_s, unsigned int n, ...)
{
	uint8_t srcs[4 * MAX_SRC];
	struct igmp_msg msg;
	va_list ap;

	va_start(ap, n);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = va_arg(ap, uint32_t);

		memcpy(srcs + 4 * i, &s, 4);
	}
	va_end(ap);
	memset(&msg, 0, sizeof(msg));
	msg.type = IGMP_MSG_QUERY;
	msg.ip_src = src;
	msg.ip_dst = group ? group : IGMP_ALL_HOSTS;
	msg.query_version = version;
	msg.group = group;
	msg.max_resp_ms = max_resp_ms;
	msg.suppress = suppress;
	msg.qrv = qrv;
	msg.qqi_s = qqi_s;
	msg.n_sources = (uint16_t)n;
	msg.sources = n ? srcs : NULL;
	igmp_router_receive(h->r, &msg, t);
}

/* A general query from src, v3, with the default QRV and QQI. */
static void
h_general_query(struct harness *h, uint64_t t, uint32_t src)
{
	h_query(h, t, src, 3, 0, 10000, false, 2, 125, 0);
}

struct exp_src {
	uint32_t addr;
	uint64_t timer;     /* remaining; 0: excluded */
};

/* The group's state at t: mode, remaining group timer, and exactly these
 * sources with these remaining timers, in ascending address order. */
static void
expect_group(struct harness *h, uint64_t t, uint32_t group, enum igmp_filter_mode mode,
	     uint64_t group_timer, unsigned int n, const struct exp_src *src)
{
	struct igmp_group_view *v = h->view;

	assert_true(igmp_router_group_view(h->r, group, t, v, MAX_SRC));
	assert_int_equal(v->group, group);
	assert_int_equal(v->mode, mode);
	assert_int_equal(v->group_timer_ms, group_timer);
	assert_int_equal(v->n_sources, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(v->sources[i].addr, src[i].addr);
		assert_int_equal(v->sources[i].timer_ms, src[i].timer);
	}
}

static uint8_t
group_compat(struct harness *h, uint64_t t, uint32_t group)
{
	assert_true(igmp_router_group_view(h->r, group, t, h->view, MAX_SRC));
	return h->view->compat_version;
}

static bool
group_exists(struct harness *h, uint32_t group)
{
	return igmp_router_group_view(h->r, group, 0, h->view, MAX_SRC);
}

/* Sent query i: about group (0: general), the S flag, exactly n sources. */
static void
expect_query(struct harness *h, unsigned int i, uint32_t group, bool suppress,
	     unsigned int n, ...)
{
	const struct sent_query *q;
	va_list ap;

	assert_true(i < h->n_sent);
	q = &h->sent[i];
	assert_int_equal(q->ip_src, MY);
	assert_int_equal(q->group, group);
	assert_int_equal(q->ip_dst, group ? group : IGMP_ALL_HOSTS);
	assert_int_equal(q->suppress, suppress);
	assert_int_equal(q->n_sources, n);
	assert_int_equal(q->max_resp_ms, group ? LMQI : 10000);
	va_start(ap, n);
	for (unsigned int k = 0; k < n; k++)
		assert_int_equal(q->sources[k], va_arg(ap, uint32_t));
	va_end(ap);
}

static void
expect_changed(struct harness *h, unsigned int n, uint32_t group)
{
	assert_int_equal(h->n_changed, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(h->changed[i], group);
}

/* INCLUDE ({S1, S2} at t=1000) ... */
static void
setup_include(struct harness *h, unsigned int n_extra)
{
	if (n_extra)
		h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 3, S1, S2, S3);
	else
		h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 2, S1, S2);
	h_clear(h);
}

/* EXCLUDE (X = {S1, S2} timers from t=2000, Y = {S3, S4}), group timer from
 * t=1000: at t=5000, X has GMI-3000 left, the group timer GMI-4000. */
static void
setup_exclude(struct harness *h)
{
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, G, 2, S3, S4);
	h_rec(h, 2000, IGMP_ALLOW_NEW_SOURCES, G, 2, S1, S2);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 4, (struct exp_src[]){
		{S1, GMI - 3000}, {S2, GMI - 3000}, {S3, 0}, {S4, 0}});
	h_clear(h);
}

/* ------------------------------------------------------------ 6.4.1 */

/* INCLUDE (A)    IS_IN (B)     INCLUDE (A+B)            (B)=GMI */
static void
test_641_include_is_in(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_MODE_IS_INCLUDE, G, 2, S2, S3);
	expect_group(h, 5000, G, IGMP_FILTER_INCLUDE, 0, 3, (struct exp_src[]){
		{S1, GMI - 4000}, {S2, GMI}, {S3, GMI}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);        /* S3 is new */
	h_free(h);
}

/* INCLUDE (A)    IS_EX (B)     EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B),
 *                                                 Group Timer=GMI */
static void
test_641_include_is_ex(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_MODE_IS_EXCLUDE, G, 2, S2, S3);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 2, (struct exp_src[]){
		{S2, GMI - 4000}, {S3, 0}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);
	assert_true(igmp_router_wants(h->r, G, S1));    /* deleted: not excluded */
	assert_true(igmp_router_wants(h->r, G, S2));
	assert_false(igmp_router_wants(h->r, G, S3));
	assert_true(igmp_router_wants(h->r, G, S9));
	h_free(h);
}

/* EXCLUDE (X,Y)  IS_IN (A)     EXCLUDE (X+A,Y-A)        (A)=GMI */
static void
test_641_exclude_is_in(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_MODE_IS_INCLUDE, G, 3, S2, S3, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 5, (struct exp_src[]){
		{S1, GMI - 3000}, {S2, GMI}, {S3, GMI}, {S4, 0}, {S5, GMI}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);        /* S3 no longer excluded */
	assert_true(igmp_router_wants(h->r, G, S3));
	assert_false(igmp_router_wants(h->r, G, S4));
	h_free(h);
}

/* EXCLUDE (X,Y)  IS_EX (A)     EXCLUDE (A-Y,Y*A)  (A-X-Y)=GMI, Delete (X-A),
 *                                                 Delete (Y-A), Group Timer=GMI */
static void
test_641_exclude_is_ex(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_MODE_IS_EXCLUDE, G, 3, S2, S4, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 3, (struct exp_src[]){
		{S2, GMI - 3000}, {S4, 0}, {S5, GMI}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);
	assert_true(igmp_router_wants(h->r, G, S3));    /* Y-A deleted */
	assert_false(igmp_router_wants(h->r, G, S4));
	h_free(h);
}

/* ------------------------------------------------------------ 6.4.2 */

/* INCLUDE (A)    ALLOW (B)     INCLUDE (A+B)            (B)=GMI */
static void
test_642_include_allow(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_ALLOW_NEW_SOURCES, G, 2, S2, S3);
	expect_group(h, 5000, G, IGMP_FILTER_INCLUDE, 0, 3, (struct exp_src[]){
		{S1, GMI - 4000}, {S2, GMI}, {S3, GMI}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);
	assert_true(igmp_router_wants(h->r, G, S3));
	assert_false(igmp_router_wants(h->r, G, S4));
	h_free(h);
}

/* INCLUDE (A)    BLOCK (B)     INCLUDE (A)              Send Q(G,A*B) */
static void
test_642_include_block(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 1);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 3, S2, S3, S4);
	expect_group(h, 5000, G, IGMP_FILTER_INCLUDE, 0, 3, (struct exp_src[]){
		{S1, GMI - 4000}, {S2, LMQT}, {S3, LMQT}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 2, S2, S3);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_source_queries), 1);
	expect_changed(h, 0, 0);
	h_free(h);
}

/* INCLUDE (A)    TO_EX (B)     EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B),
 *                                                 Send Q(G,A*B), Group Timer=GMI */
static void
test_642_include_to_ex(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_CHANGE_TO_EXCLUDE, G, 2, S2, S3);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 2, (struct exp_src[]){
		{S2, LMQT}, {S3, 0}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 1, S2);
	expect_changed(h, 1, G);
	h_free(h);
}

/* INCLUDE (A)    TO_IN (B)     INCLUDE (A+B)      (B)=GMI, Send Q(G,A-B) */
static void
test_642_include_to_in(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 1);
	h_rec(h, 5000, IGMP_CHANGE_TO_INCLUDE, G, 2, S3, S4);
	expect_group(h, 5000, G, IGMP_FILTER_INCLUDE, 0, 4, (struct exp_src[]){
		{S1, LMQT}, {S2, LMQT}, {S3, GMI}, {S4, GMI}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 2, S1, S2);
	expect_changed(h, 1, G);        /* S4 is new */
	h_free(h);
}

/* EXCLUDE (X,Y)  ALLOW (A)     EXCLUDE (X+A,Y-A)        (A)=GMI */
static void
test_642_exclude_allow(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_ALLOW_NEW_SOURCES, G, 3, S2, S3, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 5, (struct exp_src[]){
		{S1, GMI - 3000}, {S2, GMI}, {S3, GMI}, {S4, 0}, {S5, GMI}});
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 1, G);
	h_free(h);
}

/* EXCLUDE (X,Y)  BLOCK (A)     EXCLUDE (X+(A-Y),Y)  (A-X-Y)=Group Timer,
 *                                                   Send Q(G,A-Y)
 * As querier: the A-Y sources are then lowered to LMQT (6.6.3.2). */
static void
test_642_exclude_block(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 3, S2, S4, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 5, (struct exp_src[]){
		{S1, GMI - 3000}, {S2, LMQT}, {S3, 0}, {S4, 0}, {S5, LMQT}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 2, S2, S5);
	expect_changed(h, 1, G);        /* S5 is new */
	h_free(h);
}

/* The same row as a non-querier: no query, so (A-X-Y) keeps the group
 * timer and A*X keeps its timers. */
static void
test_642_exclude_block_non_querier(void **state)
{
	struct harness *h = h_new();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 3, S2, S4, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 5, (struct exp_src[]){
		{S1, GMI - 3000}, {S2, GMI - 3000}, {S3, 0}, {S4, 0}, {S5, GMI - 4000}});
	assert_int_equal(h->n_sent, 0);
	h_free(h);
}

/* EXCLUDE (X,Y)  TO_EX (A)     EXCLUDE (A-Y,Y*A)  (A-X-Y)=Group Timer,
 *                                                 Delete (X-A), Delete (Y-A),
 *                                                 Send Q(G,A-Y), Group Timer=GMI */
static void
test_642_exclude_to_ex(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_EXCLUDE, G, 3, S2, S4, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 3, (struct exp_src[]){
		{S2, LMQT}, {S4, 0}, {S5, LMQT}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 2, S2, S5);
	expect_changed(h, 1, G);
	h_free(h);
}

static void
test_642_exclude_to_ex_non_querier(void **state)
{
	struct harness *h = h_new();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_EXCLUDE, G, 3, S2, S4, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 3, (struct exp_src[]){
		{S2, GMI - 3000}, {S4, 0}, {S5, GMI - 4000}});
	assert_int_equal(h->n_sent, 0);
	h_free(h);
}

/* EXCLUDE (X,Y)  TO_IN (A)     EXCLUDE (X+A,Y-A)  (A)=GMI, Send Q(G,X-A),
 *                                                 Send Q(G) */
static void
test_642_exclude_to_in(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_INCLUDE, G, 3, S2, S3, S5);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, LMQT, 5, (struct exp_src[]){
		{S1, LMQT}, {S2, GMI}, {S3, GMI}, {S4, 0}, {S5, GMI}});
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 0, G, false, 1, S1);
	expect_query(h, 1, G, false, 0);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_queries), 1);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_source_queries), 1);
	expect_changed(h, 1, G);
	h_free(h);
}

/* ------------------------------------------------------------ last member queries */

/* BLOCK in INCLUDE mode: Q(G,{S1}) now and LMQI later, S1 gone at LMQT. */
static void
test_block_source_removed_after_lmqt(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 1, S1);
	assert_int_equal(igmp_router_next_deadline(h->r), 5000 + LMQI);

	igmp_router_tick(h->r, 5999);
	assert_int_equal(h->n_sent, 1);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 1, G, false, 1, S1);
	assert_int_equal(igmp_router_next_deadline(h->r), 5000 + LMQT);

	igmp_router_tick(h->r, 6999);
	assert_true(igmp_router_wants(h->r, G, S1));
	expect_changed(h, 0, 0);
	igmp_router_tick(h->r, 7000);
	assert_false(igmp_router_wants(h->r, G, S1));
	assert_true(igmp_router_wants(h->r, G, S2));
	expect_group(h, 7000, G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){{S2, GMI - 6000}});
	expect_changed(h, 1, G);
	assert_int_equal(h->n_sent, 2);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_source_queries), 2);
	h_free(h);
}

/* A report between the queries keeps the source; the retransmission then
 * carries the S flag (6.6.3.2: timer above LMQT). */
static void
test_block_source_kept_when_reported(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	h_rec(h, 5500, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 1, G, true, 1, S1);
	igmp_router_tick(h->r, 7000);
	assert_int_equal(h->n_sent, 2);
	assert_true(igmp_router_wants(h->r, G, S1));
	expect_group(h, 7000, G, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, GMI - 1500}, {S2, GMI - 6000}});
	expect_changed(h, 0, 0);
	h_free(h);
}

/* 6.6.3.2: sources with retransmission state split into an S-flag query
 * (timer above LMQT) and a plain one. */
static void
test_block_retransmission_splits_suppressed_sources(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 2, S1, S2);
	expect_query(h, 0, G, false, 2, S1, S2);
	h_rec(h, 5500, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 3);
	expect_query(h, 1, G, true, 1, S1);
	expect_query(h, 2, G, false, 1, S2);
	igmp_router_tick(h->r, 7000);
	expect_group(h, 7000, G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){{S1, GMI - 1500}});
	h_free(h);
}

/* A BLOCK for a source already at LMQT neither lowers nor restarts (6.6.3.2:
 * only sources whose timer is above LMQT). */
static void
test_block_repeated_does_not_restart(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_include(h, 0);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	h_rec(h, 5500, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	assert_int_equal(h->n_sent, 1);
	expect_group(h, 5500, G, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, LMQT - 500}, {S2, GMI - 4500}});
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 2);
	igmp_router_tick(h->r, 7000);
	assert_int_equal(h->n_sent, 2);
	assert_false(igmp_router_wants(h->r, G, S1));
	h_free(h);
}

/* IGMPv2 leave as querier: LMQC group-specific queries LMQI apart, the
 * group gone at LMQT. */
static void
test_v2_leave_querier_removes_group_at_lmqt(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	expect_group(h, 1000, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	expect_changed(h, 1, G);
	assert_true(igmp_router_wants(h->r, G, S1));

	h_v2_leave(h, 5000, G);
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 0);
	assert_int_equal(h->sent[0].version, 3);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, LMQT, 0, NULL);
	assert_int_equal(igmp_router_next_deadline(h->r), 6000);

	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 1, G, false, 0);
	assert_int_equal(igmp_router_next_deadline(h->r), 7000);
	igmp_router_tick(h->r, 6999);
	assert_true(group_exists(h, G));
	expect_changed(h, 1, G);

	igmp_router_tick(h->r, 7000);
	assert_false(group_exists(h, G));
	assert_false(igmp_router_wants(h->r, G, S1));
	expect_changed(h, 2, G);
	assert_int_equal(h->n_sent, 2);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_queries), 2);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_v2_leaves), 1);
	h_free(h);
}

/* A report between the queries: the group stays, the retransmission has the
 * S flag (6.6.3.1), nothing changed for forwarding. */
static void
test_v2_leave_then_report_keeps_group(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	h_clear(h);
	h_v2_leave(h, 5000, G);
	h_v2_report(h, 5500, G);
	expect_group(h, 5500, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 1, G, true, 0);
	igmp_router_tick(h->r, 7000);
	assert_int_equal(h->n_sent, 2);
	assert_true(group_exists(h, G));
	expect_group(h, 7000, G, IGMP_FILTER_EXCLUDE, GMI - 1500, 0, NULL);
	expect_changed(h, 0, 0);
	h_free(h);
}

/* Not querier: no query, no lowering; the querier's query will do it. */
static void
test_v2_leave_non_querier_sends_nothing(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v2_report(h, 1000, G);
	h_v2_leave(h, 5000, G);
	assert_int_equal(h->n_sent, 0);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 0, NULL);
	h_free(h);
}

/* TO_IN ({}) in EXCLUDE mode (a v3 leave): Q(G,X) and Q(G); at LMQT the X
 * sources and the group timer run out at once: the group goes, told once. */
static void
test_exclude_to_in_empty_removes_group(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	setup_exclude(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_INCLUDE, G, 0);
	assert_int_equal(h->n_sent, 2);
	expect_query(h, 0, G, false, 2, S1, S2);
	expect_query(h, 1, G, false, 0);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 4);
	expect_query(h, 2, G, false, 0);
	expect_query(h, 3, G, false, 2, S1, S2);
	expect_changed(h, 0, 0);
	igmp_router_tick(h->r, 7000);
	assert_false(group_exists(h, G));
	expect_changed(h, 1, G);
	h_free(h);
}

/* Losing the election stops the retransmissions. */
static void
test_election_lost_stops_last_member_queries(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	h_v2_leave(h, 5000, G);
	h_clear(h);
	h_general_query(h, 5500, LOWER);
	igmp_router_tick(h->r, 6000);
	assert_int_equal(h->n_sent, 0);
	igmp_router_tick(h->r, 7000);
	assert_false(group_exists(h, G));
	h_free(h);
}

/* ------------------------------------------------------------ compatibility (7.3.2) */

static void
test_compat_v2_report_is_ex_empty_and_v2_mode(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v2_report(h, 1000, G);
	expect_group(h, 1000, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	assert_int_equal(group_compat(h, 1000, G), 2);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_v2_reports), 1);
	h_free(h);
}

static void
test_compat_v1_report_leave_ignored(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v1_report(h, 1000, G);
	expect_group(h, 1000, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	assert_int_equal(group_compat(h, 1000, G), 1);
	h_v2_report(h, 2000, G);
	assert_int_equal(group_compat(h, 2000, G), 1);      /* v1 timer still runs */
	/* A v3 host's source too: TO_IN ({}) would query it (Q(G,X)). */
	h_rec(h, 3000, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	h_clear(h);
	h_v2_leave(h, 5000, G);
	assert_int_equal(h->n_sent, 0);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 3000, 1, (struct exp_src[]){
		{S1, GMI - 2000}});
	h_free(h);
}

/* v1 mode: a v3 host's TO_IN ({}) is processed (Q(G,X)) but the group
 * timer is not lowered: the v1 host could not answer within LMQT. */
static void
test_compat_v1_no_group_query(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v1_report(h, 1000, G);
	h_rec(h, 3000, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	h_clear(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_INCLUDE, G, 0);
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 1, S1);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 1, (struct exp_src[]){
		{S1, LMQT}});
	h_free(h);
}

/* v2 mode: BLOCK ignored; in v3 mode the same record would add S1 (6.4.2). */
static void
test_compat_v2_block_ignored(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	h_clear(h);
	h_rec(h, 5000, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 0, NULL);
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 0, 0);
	h_free(h);
}

/* v2 mode: TO_EX ({S1}) is TO_EX ({}): no S1 record, no query, GT=GMI. */
static void
test_compat_v2_to_ex_sources_ignored(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	h_clear(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_EXCLUDE, G, 1, S1);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	assert_int_equal(h->n_sent, 0);
	assert_true(igmp_router_wants(h->r, G, S1));
	h_free(h);
}

/* The same TO_EX ({S1}) on a v3 EXCLUDE ({}) group: (A-X-Y)=Group Timer,
 * Q(G,{S1}), S1 lowered to LMQT. */
static void
test_compat_v3_to_ex_sources_used(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, G, 0);
	h_clear(h);
	h_rec(h, 5000, IGMP_CHANGE_TO_EXCLUDE, G, 1, S1);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI, 1, (struct exp_src[]){{S1, LMQT}});
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, G, false, 1, S1);
	h_free(h);
}

/* The v2 host present timer (Older Version Host Present Interval = GMI)
 * runs out: back to v3, and BLOCK counts again. */
static void
test_compat_v2_returns_to_v3(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v2_report(h, 1000, G);
	h_rec(h, 200000, IGMP_MODE_IS_EXCLUDE, G, 0);      /* keeps the group */
	igmp_router_tick(h->r, 1000 + GMI - 1);
	assert_int_equal(group_compat(h, 1000 + GMI - 1, G), 2);
	assert_int_equal(igmp_router_next_deadline(h->r), 1000 + GMI);
	igmp_router_tick(h->r, 1000 + GMI);
	assert_int_equal(group_compat(h, 1000 + GMI, G), 3);
	h_rec(h, 262000, IGMP_BLOCK_OLD_SOURCES, G, 1, S1);
	expect_group(h, 262000, G, IGMP_FILTER_EXCLUDE, 200000 + GMI - 262000, 1,
		     (struct exp_src[]){{S1, 200000 + GMI - 262000}});
	h_free(h);
}

/* v1 timer out while the v2 one runs: v2 mode, then v3. */
static void
test_compat_v1_then_v2_then_v3(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v1_report(h, 1000, G);
	h_v2_report(h, 100000, G);
	h_rec(h, 200000, IGMP_MODE_IS_EXCLUDE, G, 0);  /* keeps the group */
	igmp_router_tick(h->r, 1000 + GMI - 1);
	assert_int_equal(group_compat(h, 0, G), 1);
	igmp_router_tick(h->r, 1000 + GMI);
	assert_int_equal(group_compat(h, 0, G), 2);
	igmp_router_tick(h->r, 100000 + GMI - 1);
	assert_int_equal(group_compat(h, 0, G), 2);
	igmp_router_tick(h->r, 100000 + GMI);
	assert_int_equal(group_compat(h, 0, G), 3);
	assert_true(group_exists(h, G));
	h_free(h);
}

/* ------------------------------------------------------------ SSM */

static void
test_ssm_exclude_and_old_reports_ignored(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, SSM_G, 0);
	h_rec(h, 1000, IGMP_CHANGE_TO_EXCLUDE, SSM_G, 1, S1);
	h_v2_report(h, 1000, SSM_G);
	h_v1_report(h, 1000, SSM_G);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_ssm_ignored), 4);
	assert_false(group_exists(h, SSM_G));
	assert_false(igmp_router_wants(h->r, SSM_G, S1));
	assert_int_equal(h->n_sent, 0);
	expect_changed(h, 0, 0);
	assert_int_equal(igmp_router_next_deadline(h->r), SQI);
	h_free(h);
}

static void
test_ssm_include_records_work(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_rec(h, 1000, IGMP_ALLOW_NEW_SOURCES, SSM_G, 2, S1, S2);
	expect_group(h, 1000, SSM_G, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, GMI}, {S2, GMI}});
	assert_true(igmp_router_wants(h->r, SSM_G, S1));
	assert_false(igmp_router_wants(h->r, SSM_G, S3));
	h_rec(h, 2000, IGMP_BLOCK_OLD_SOURCES, SSM_G, 1, S1);
	expect_query(h, 0, SSM_G, false, 1, S1);
	h_v2_leave(h, 2500, SSM_G);                 /* ignored too */
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_ssm_ignored), 1);
	assert_int_equal(h->n_sent, 1);
	igmp_router_tick(h->r, 4000);
	expect_group(h, 4000, SSM_G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){
		{S2, GMI - 3000}});
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_ssm_ignored), 1);
	h_free(h);
}

/* ------------------------------------------------------------ querier */

static void
test_querier_startup_then_query_interval(void **state)
{
	struct harness *h = h_new();

	(void)state;
	assert_false(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_next_deadline(h->r), UINT64_MAX);
	igmp_router_start(h->r, 0);
	assert_true(igmp_router_is_querier(h->r));
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, 0, false, 0);
	assert_int_equal(h->sent[0].version, 3);
	assert_int_equal(h->sent[0].qrv, 2);
	assert_int_equal(h->sent[0].qqi_s, 125);

	assert_int_equal(igmp_router_next_deadline(h->r), SQI);
	igmp_router_tick(h->r, SQI - 1);
	assert_int_equal(h->n_sent, 1);
	igmp_router_tick(h->r, SQI);
	assert_int_equal(h->n_sent, 2);         /* Startup Query Count = 2 */
	expect_query(h, 1, 0, false, 0);
	assert_int_equal(igmp_router_next_deadline(h->r), SQI + QI);
	igmp_router_tick(h->r, SQI + QI);
	assert_int_equal(h->n_sent, 3);
	assert_int_equal(igmp_router_next_deadline(h->r), SQI + 2 * QI);
	igmp_router_tick(h->r, SQI + 2 * QI);
	assert_int_equal(h->n_sent, 4);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_general_queries), 4);
	h_free(h);
}

static void
test_querier_election_lost_then_takeover(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_general_query(h, 40000, LOWER);
	assert_int_equal(h->n_sent, 1);         /* the startup query due at SQI */
	h_clear(h);
	assert_false(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_querier_elections_lost), 1);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_queries), 1);
	assert_int_equal(igmp_router_next_deadline(h->r), 40000 + OQPI);

	igmp_router_tick(h->r, 40000 + OQPI - 1);
	assert_int_equal(h->n_sent, 0);
	assert_false(igmp_router_is_querier(h->r));

	igmp_router_tick(h->r, 40000 + OQPI);
	assert_true(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_querier_takeovers), 1);
	assert_int_equal(h->n_sent, 1);
	expect_query(h, 0, 0, false, 0);
	assert_int_equal(igmp_router_next_deadline(h->r), 40000 + OQPI + QI);
	h_free(h);
}

/* Each query from the querier restarts Other Querier Present. */
static void
test_querier_other_querier_timer_restarted(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_general_query(h, 40000, LOWER);
	h_general_query(h, 165000, LOWER);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_querier_elections_lost), 1);
	igmp_router_tick(h->r, 40000 + OQPI);
	assert_false(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_next_deadline(h->r), 165000 + OQPI);
	h_free(h);
}

static void
test_querier_higher_address_ignored(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_general_query(h, 10000, HIGHER);
	h_general_query(h, 11000, MY);                  /* our own, looped back */
	h_general_query(h, 12000, 0);                   /* a snooping switch */
	assert_true(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_querier_elections_lost), 0);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_queries), 3);
	assert_int_equal(igmp_router_next_deadline(h->r), SQI);
	igmp_router_tick(h->r, SQI);
	assert_int_equal(h->n_sent, 1);
	h_free(h);
}

/* Older queries from a lower address win the election too; that is all
 * their version does. */
static void
test_querier_v2_query_elects(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_query(h, 10000, LOWER, 2, 0, 10000, false, 0, 0, 0);
	assert_false(igmp_router_is_querier(h->r));
	assert_int_equal(igmp_router_next_deadline(h->r), 10000 + OQPI);
	h_free(h);
}

/* 4.1.6, 4.1.7: a non-querier uses the querier's QRV and QQI: GMI and
 * OQPI follow; back to ours on takeover. */
static void
test_non_querier_adopts_qrv_qqi(void **state)
{
	struct harness *h = h_querier();
	const uint64_t oqpi = 3 * 60000 + 5000, gmi = 3 * 60000 + 10000;

	(void)state;
	h_query(h, 1000, LOWER, 3, 0, 10000, false, 3, 60, 0);
	assert_int_equal(igmp_router_next_deadline(h->r), 1000 + oqpi);
	h_v2_report(h, 2000, G);
	expect_group(h, 2000, G, IGMP_FILTER_EXCLUDE, gmi, 0, NULL);
	igmp_router_tick(h->r, 1000 + oqpi);
	assert_true(igmp_router_is_querier(h->r));
	assert_int_equal(h->n_sent, 1);
	assert_int_equal(h->sent[0].qrv, 2);
	assert_int_equal(h->sent[0].qqi_s, 125);
	h_v2_report(h, 1000 + oqpi, G);
	expect_group(h, 1000 + oqpi, G, IGMP_FILTER_EXCLUDE, GMI, 0, NULL);
	h_free(h);
}

/* 6.6.1: a group-specific query from the querier lowers our group timer to
 * its LMQT (QRV x Max Resp); with the S flag it does not. */
static void
test_non_querier_lowers_group_timer(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v2_report(h, 1000, G);
	h_query(h, 5000, LOWER, 3, G, 1000, true, 2, 125, 0);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, GMI - 4000, 0, NULL);
	h_query(h, 5000, LOWER, 3, G, 1000, false, 2, 125, 0);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, 2000, 0, NULL);
	assert_int_equal(igmp_router_next_deadline(h->r), 7000);
	igmp_router_tick(h->r, 7000);
	assert_false(group_exists(h, G));
	expect_changed(h, 2, G);
	h_free(h);
}

/* A v2 group-specific query: LMQC x its Max Resp Time (RFC 2236 3). */
static void
test_non_querier_v2_group_query_uses_max_resp(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_v2_report(h, 1000, G);
	h_query(h, 5000, LOWER, 2, G, 500, false, 0, 0, 0);
	expect_group(h, 5000, G, IGMP_FILTER_EXCLUDE, 1000, 0, NULL);
	h_free(h);
}

static void
test_non_querier_lowers_source_timers(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 2, S1, S2);
	h_query(h, 5000, LOWER, 3, G, 1000, false, 2, 125, 1, S1);
	expect_group(h, 5000, G, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, 2000}, {S2, GMI - 4000}});
	igmp_router_tick(h->r, 7000);
	assert_false(igmp_router_wants(h->r, G, S1));
	assert_true(igmp_router_wants(h->r, G, S2));
	h_free(h);
}

/* v2 query mode: v2 general and group-specific queries; no source-specific
 * queries, so BLOCK leaves the source timers alone. */
static void
test_query_version_2(void **state)
{
	struct igmp_config cfg = cfg_base();
	struct harness *h;

	(void)state;
	cfg.query_version = 2;
	h = h_new_cfg(&cfg);
	igmp_router_start(h->r, 0);
	assert_int_equal(h->n_sent, 1);
	assert_int_equal(h->sent[0].version, 2);
	assert_int_equal(h->sent[0].max_resp_ms, 10000);
	h_clear(h);

	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G2, 1, S1);
	h_rec(h, 2000, IGMP_BLOCK_OLD_SOURCES, G2, 1, S1);
	assert_int_equal(h->n_sent, 0);
	expect_group(h, 2000, G2, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){{S1, GMI - 1000}});

	h_v2_report(h, 3000, G);
	h_v2_leave(h, 5000, G);
	assert_int_equal(h->n_sent, 1);
	assert_int_equal(h->sent[0].version, 2);
	assert_int_equal(h->sent[0].group, G);
	assert_int_equal(h->sent[0].max_resp_ms, LMQI);
	igmp_router_tick(h->r, 7000);
	assert_int_equal(h->n_sent, 2);
	assert_false(group_exists(h, G));
	h_free(h);
}

/* ------------------------------------------------------------ timer expiry (6.3, 6.5) */

/* Group timer out with running sources: INCLUDE with those, Y deleted. */
static void
test_group_timer_expiry_to_include(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, G, 1, S3);
	h_rec(h, 100000, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	h_clear(h);
	assert_true(igmp_router_wants(h->r, G, S1));
	assert_false(igmp_router_wants(h->r, G, S3));
	assert_true(igmp_router_wants(h->r, G, S9));
	assert_int_equal(igmp_router_next_deadline(h->r), 1000 + GMI);

	igmp_router_tick(h->r, 1000 + GMI);
	expect_group(h, 1000 + GMI, G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){
		{S1, 99000}});
	expect_changed(h, 1, G);
	assert_true(igmp_router_wants(h->r, G, S1));
	assert_false(igmp_router_wants(h->r, G, S3));
	assert_false(igmp_router_wants(h->r, G, S9));

	assert_int_equal(igmp_router_next_deadline(h->r), 100000 + GMI);
	igmp_router_tick(h->r, 100000 + GMI);
	assert_false(group_exists(h, G));
	assert_false(igmp_router_wants(h->r, G, S1));
	expect_changed(h, 2, G);
	assert_int_equal(igmp_router_next_deadline(h->r), UINT64_MAX);
	h_free(h);
}

/* Group timer out with no running source: the group goes. */
static void
test_group_timer_expiry_deletes_group(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, G, 1, S3);
	h_clear(h);
	igmp_router_tick(h->r, 1000 + GMI - 1);
	assert_true(igmp_router_wants(h->r, G, S9));
	igmp_router_tick(h->r, 1000 + GMI);
	assert_false(group_exists(h, G));
	assert_false(igmp_router_wants(h->r, G, S9));
	expect_changed(h, 1, G);
	h_free(h);
}

/* INCLUDE: an expired source is deleted, then the group with the last. */
static void
test_source_timer_expiry_include(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	h_rec(h, 2000, IGMP_MODE_IS_INCLUDE, G, 1, S2);
	h_clear(h);
	assert_int_equal(igmp_router_next_deadline(h->r), 1000 + GMI);
	igmp_router_tick(h->r, 1000 + GMI);
	assert_false(igmp_router_wants(h->r, G, S1));
	assert_true(igmp_router_wants(h->r, G, S2));
	expect_group(h, 1000 + GMI, G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){{S2, 1000}});
	expect_changed(h, 1, G);
	igmp_router_tick(h->r, 2000 + GMI);
	assert_false(group_exists(h, G));
	expect_changed(h, 2, G);
	h_free(h);
}

/* EXCLUDE: an expired source stays as an excluded record (timer 0). */
static void
test_source_timer_expiry_exclude(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 500, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	h_rec(h, 1000, IGMP_MODE_IS_EXCLUDE, G, 1, S1);
	expect_group(h, 1000, G, IGMP_FILTER_EXCLUDE, GMI, 1, (struct exp_src[]){{S1, GMI - 500}});
	h_clear(h);
	assert_true(igmp_router_wants(h->r, G, S1));
	assert_int_equal(igmp_router_next_deadline(h->r), 500 + GMI);
	igmp_router_tick(h->r, 500 + GMI);
	expect_group(h, 500 + GMI, G, IGMP_FILTER_EXCLUDE, 500, 1, (struct exp_src[]){{S1, 0}});
	assert_false(igmp_router_wants(h->r, G, S1));
	assert_true(igmp_router_wants(h->r, G, S9));
	expect_changed(h, 1, G);
	h_free(h);
}

/* A late tick replays the instants in between: the startup query, both
 * last member queries and the expiry all happen. */
static void
test_late_tick_replays_in_order(void **state)
{
	struct harness *h = h_querier();

	(void)state;
	h_v2_report(h, 1000, G);
	h_v2_leave(h, 5000, G);
	igmp_router_tick(h->r, 100000);
	assert_false(group_exists(h, G));
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_group_queries), 2);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_tx_general_queries), 2);
	assert_int_equal(igmp_router_next_deadline(h->r), SQI + QI);
	h_free(h);
}

/* next_deadline is exact and tick at it acts. */
static void
test_next_deadline_exact(void **state)
{
	struct harness *h = h_new();

	(void)state;
	assert_int_equal(igmp_router_next_deadline(h->r), UINT64_MAX);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	h_rec(h, 3000, IGMP_MODE_IS_INCLUDE, G2, 1, S1);
	assert_int_equal(igmp_router_next_deadline(h->r), 1000 + GMI);
	igmp_router_tick(h->r, 1000 + GMI - 1);
	assert_true(group_exists(h, G));
	igmp_router_tick(h->r, 1000 + GMI);
	assert_false(group_exists(h, G));
	assert_int_equal(igmp_router_next_deadline(h->r), 3000 + GMI);
	igmp_router_tick(h->r, 3000 + GMI);
	assert_false(group_exists(h, G2));
	assert_int_equal(igmp_router_next_deadline(h->r), UINT64_MAX);
	h_free(h);
}

/* ------------------------------------------------------------ group_changed */

static void
test_group_changed_not_on_refresh(void **state)
{
	struct harness *h = h_new();

	(void)state;
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	expect_changed(h, 1, G);
	h_rec(h, 2000, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	h_rec(h, 2000, IGMP_ALLOW_NEW_SOURCES, G, 1, S1);
	expect_changed(h, 1, G);
	h_v2_report(h, 3000, G2);
	h_v2_report(h, 4000, G2);
	h_rec(h, 5000, IGMP_MODE_IS_EXCLUDE, G2, 0);
	assert_int_equal(h->n_changed, 2);
	assert_int_equal(h->changed[1], G2);
	/* A record that leaves no state is not told either. */
	h_rec(h, 6000, IGMP_CHANGE_TO_INCLUDE, G3, 0);
	h_rec(h, 6000, IGMP_BLOCK_OLD_SOURCES, G3, 1, S1);
	assert_false(group_exists(h, G3));
	assert_int_equal(h->n_changed, 2);
	h_free(h);
}

/* ------------------------------------------------------------ bounds */

static void
test_bounds_max_groups(void **state)
{
	struct igmp_config cfg = cfg_base();
	struct harness *h;

	(void)state;
	cfg.max_groups = 2;
	h = h_new_cfg(&cfg);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 1, S1);
	h_v2_report(h, 1000, G2);
	h_rec(h, 2000, IGMP_MODE_IS_INCLUDE, G3, 1, S1);
	h_v1_report(h, 2000, G3);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_group_limit_hit), 2);
	assert_false(group_exists(h, G3));
	assert_int_equal(h->n_changed, 2);
	expect_group(h, 2000, G, IGMP_FILTER_INCLUDE, 0, 1, (struct exp_src[]){{S1, GMI - 1000}});
	expect_group(h, 2000, G2, IGMP_FILTER_EXCLUDE, GMI - 1000, 0, NULL);
	/* Existing groups still take records. */
	h_rec(h, 3000, IGMP_ALLOW_NEW_SOURCES, G, 1, S2);
	expect_group(h, 3000, G, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, GMI - 2000}, {S2, GMI}});
	/* Room again once a group is gone. */
	igmp_router_tick(h->r, 1000 + GMI);
	h_rec(h, 1000 + GMI, IGMP_MODE_IS_INCLUDE, G3, 1, S1);
	assert_true(group_exists(h, G3));
	h_free(h);
}

static void
test_bounds_max_sources(void **state)
{
	struct igmp_config cfg = cfg_base();
	struct harness *h;

	(void)state;
	cfg.max_sources = 3;
	h = h_new_cfg(&cfg);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G2, 2, S1, S2);
	h_rec(h, 2000, IGMP_MODE_IS_INCLUDE, G, 4, S1, S2, S3, S4);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_limit_hit), 1);
	expect_group(h, 2000, G, IGMP_FILTER_INCLUDE, 0, 3, (struct exp_src[]){
		{S1, GMI}, {S2, GMI}, {S3, GMI}});
	expect_group(h, 2000, G2, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, GMI - 1000}, {S2, GMI - 1000}});
	/* Refreshing a source already there is not refused. */
	h_rec(h, 3000, IGMP_MODE_IS_INCLUDE, G, 1, S3);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_limit_hit), 1);
	h_free(h);
}

/* The device-wide bound on source records: the groups together hold at
 * most max_source_records, each group still within max_sources; a record
 * freed (its group gone) makes room again. */
static void
test_bounds_max_source_records_across_groups(void **state)
{
	struct igmp_config cfg = cfg_base();
	struct harness *h;

	(void)state;
	cfg.max_source_records = 5;
	h = h_new_cfg(&cfg);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 3, S1, S2, S3);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G2, 3, S1, S2, S3);
	assert_int_equal(igmp_router_source_records(h->r), 5);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_records_limit_hit), 1);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_limit_hit), 0);
	expect_group(h, 1000, G, IGMP_FILTER_INCLUDE, 0, 3, (struct exp_src[]){
		{S1, GMI}, {S2, GMI}, {S3, GMI}});
	expect_group(h, 1000, G2, IGMP_FILTER_INCLUDE, 0, 2, (struct exp_src[]){
		{S1, GMI}, {S2, GMI}});
	/* Both groups time out: their records are freed, and G2, asked again,
	 * now gets all three. */
	igmp_router_tick(h->r, 1000 + GMI);
	assert_false(group_exists(h, G));
	assert_false(group_exists(h, G2));
	assert_int_equal(igmp_router_source_records(h->r), 0);
	h_rec(h, 2000 + GMI, IGMP_MODE_IS_INCLUDE, G2, 3, S1, S2, S3);
	assert_int_equal(igmp_router_source_records(h->r), 3);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_records_limit_hit), 1);
	h_free(h);
}

/* A flood past the bounds costs no memory: the tables stop growing at
 * max_groups and max_sources, they do not just count. */
static void
test_igmp_bounds_stop_allocation_not_just_counting(void **state)
{
	struct igmp_config cfg = cfg_base();
	struct mallinfo2 before, after;
	struct harness *h;

	(void)state;
	cfg.max_groups = 32;
	cfg.max_sources = 4;
	h = h_new_cfg(&cfg);
	for (uint32_t i = 0; i < 32; i++) {
		h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, ip4(239, 7, 0, (uint8_t)(i + 1)), 4,
		      S1, S2, S3, S4);
		h->n_changed = 0;
	}
	before = mallinfo2();
	for (uint32_t i = 0; i < 10000; i++) {
		h_rec(h, 2000, IGMP_MODE_IS_INCLUDE, ip4(239, 8, (uint8_t)(i >> 8), (uint8_t)i), 4,
		      S1, S2, S3, S4);
		h->n_changed = 0;
	}
	for (uint32_t i = 0; i < 32; i++) {
		h_rec(h, 3000, IGMP_ALLOW_NEW_SOURCES, ip4(239, 7, 0, (uint8_t)(i + 1)), 2, S5, S9);
		h->n_changed = 0;
	}
	after = mallinfo2();
	assert_int_equal(after.uordblks, before.uordblks);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_group_limit_hit), 10000);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_source_limit_hit), 64);
	h_free(h);
}

/* ------------------------------------------------------------ the rest of the API */

static void
test_config_defaults(void **state)
{
	struct igmp_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	igmp_config_defaults(&cfg);
	assert_int_equal(cfg.robustness, 2);
	assert_int_equal(cfg.query_interval_ms, 125000);
	assert_int_equal(cfg.query_response_ms, 10000);
	assert_int_equal(cfg.last_member_interval_ms, 1000);
	assert_int_equal(cfg.last_member_count, 2);
	assert_int_equal(cfg.startup_interval_ms, 31250);
	assert_int_equal(cfg.startup_count, 2);
	assert_int_equal(cfg.query_version, 3);
	assert_int_equal(cfg.ssm_prefix, ip4(232, 0, 0, 0));
	assert_int_equal(cfg.ssm_mask, ip4(255, 0, 0, 0));
	assert_int_equal(cfg.max_groups, 4096);
	assert_int_equal(cfg.max_sources, 256);
	assert_int_equal(cfg.max_source_records, 65536);

	memset(&cfg, 0, sizeof(cfg));
	cfg.robustness = 3;
	cfg.query_interval_ms = 60000;
	igmp_config_defaults(&cfg);
	assert_int_equal(cfg.last_member_count, 3);
	assert_int_equal(cfg.startup_count, 3);
	assert_int_equal(cfg.startup_interval_ms, 15000);

	cfg = cfg_base();
	cfg.query_version = 1;
	assert_null(igmp_router_create(&cfg, &ops, NULL));
}

static void
test_counters_and_names(void **state)
{
	struct harness *h = h_new();
	uint8_t rec[16 + 12];
	struct igmp_msg msg;
	uint32_t g2 = G2, s1 = S1;

	(void)state;
	assert_string_equal(igmp_counter_name(IGMP_CTR_rx_queries), "rx_queries");
	assert_string_equal(igmp_counter_name(IGMP_CTR_ssm_ignored), "ssm_ignored");
	assert_string_equal(igmp_counter_name(IGMP_CTR_querier_takeovers), "querier_takeovers");
	assert_string_equal(igmp_counter_name(IGMP_CTR_MAX), "unknown");

	/* Two records in one report: IS_EX ({}) for G, ALLOW ({S1}) for G2. */
	memset(rec, 0, sizeof(rec));
	rec[0] = IGMP_MODE_IS_EXCLUDE;
	memcpy(rec + 4, &(uint32_t){G}, 4);
	rec[8] = IGMP_ALLOW_NEW_SOURCES;
	rec[11] = 1;
	memcpy(rec + 12, &g2, 4);
	memcpy(rec + 16, &s1, 4);
	memset(&msg, 0, sizeof(msg));
	msg.type = IGMP_MSG_V3_REPORT;
	msg.n_records = 2;
	msg.records = rec;
	msg.records_len = 20;
	igmp_router_receive(h->r, &msg, 1000);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_v3_reports), 1);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_records), 2);
	assert_true(group_exists(h, G));
	assert_true(group_exists(h, G2));
	h_v1_report(h, 1000, G3);
	assert_int_equal(igmp_router_counter(h->r, IGMP_CTR_rx_v1_reports), 1);
	h_free(h);
}

struct collect {
	uint32_t groups[8];
	unsigned int n;
	unsigned int stop_after;
};

static bool
collect_fn(void *arg, uint32_t group)
{
	struct collect *c = arg;

	c->groups[c->n++] = group;
	return c->n < c->stop_after;
}

static void
test_foreach_group_ascending(void **state)
{
	struct harness *h = h_new();
	struct collect c = { .stop_after = 8 };

	(void)state;
	h_v2_report(h, 1000, G2);
	h_v2_report(h, 1000, G3);
	h_v2_report(h, 1000, G);
	igmp_router_foreach_group(h->r, collect_fn, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.groups[0], G3);      /* 225.1.1.1 */
	assert_int_equal(c.groups[1], G);       /* 239.1.1.1 */
	assert_int_equal(c.groups[2], G2);      /* 239.1.1.2 */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	igmp_router_foreach_group(h->r, collect_fn, &c);
	assert_int_equal(c.n, 1);
	h_free(h);
}

/* The view's source array is bounded by the caller. */
static void
test_group_view_bounded(void **state)
{
	struct harness *h = h_new();
	struct igmp_group_view *v = malloc(sizeof(*v) + 2 * sizeof(v->sources[0]));

	(void)state;
	assert_non_null(v);
	h_rec(h, 1000, IGMP_MODE_IS_INCLUDE, G, 3, S3, S1, S2);
	assert_true(igmp_router_group_view(h->r, G, 1500, v, 2));
	assert_int_equal(v->n_sources, 2);
	assert_int_equal(v->sources[0].addr, S1);
	assert_int_equal(v->sources[1].addr, S2);
	assert_int_equal(v->sources[1].timer_ms, GMI - 500);
	assert_int_equal(v->compat_version, 3);
	assert_false(igmp_router_group_view(h->r, G2, 1500, v, 2));
	free(v);
	h_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_641_include_is_in),
		cmocka_unit_test(test_641_include_is_ex),
		cmocka_unit_test(test_641_exclude_is_in),
		cmocka_unit_test(test_641_exclude_is_ex),
		cmocka_unit_test(test_642_include_allow),
		cmocka_unit_test(test_642_include_block),
		cmocka_unit_test(test_642_include_to_ex),
		cmocka_unit_test(test_642_include_to_in),
		cmocka_unit_test(test_642_exclude_allow),
		cmocka_unit_test(test_642_exclude_block),
		cmocka_unit_test(test_642_exclude_block_non_querier),
		cmocka_unit_test(test_642_exclude_to_ex),
		cmocka_unit_test(test_642_exclude_to_ex_non_querier),
		cmocka_unit_test(test_642_exclude_to_in),
		cmocka_unit_test(test_block_source_removed_after_lmqt),
		cmocka_unit_test(test_block_source_kept_when_reported),
		cmocka_unit_test(test_block_retransmission_splits_suppressed_sources),
		cmocka_unit_test(test_block_repeated_does_not_restart),
		cmocka_unit_test(test_v2_leave_querier_removes_group_at_lmqt),
		cmocka_unit_test(test_v2_leave_then_report_keeps_group),
		cmocka_unit_test(test_v2_leave_non_querier_sends_nothing),
		cmocka_unit_test(test_exclude_to_in_empty_removes_group),
		cmocka_unit_test(test_election_lost_stops_last_member_queries),
		cmocka_unit_test(test_compat_v2_report_is_ex_empty_and_v2_mode),
		cmocka_unit_test(test_compat_v1_report_leave_ignored),
		cmocka_unit_test(test_compat_v1_no_group_query),
		cmocka_unit_test(test_compat_v2_block_ignored),
		cmocka_unit_test(test_compat_v2_to_ex_sources_ignored),
		cmocka_unit_test(test_compat_v3_to_ex_sources_used),
		cmocka_unit_test(test_compat_v2_returns_to_v3),
		cmocka_unit_test(test_compat_v1_then_v2_then_v3),
		cmocka_unit_test(test_ssm_exclude_and_old_reports_ignored),
		cmocka_unit_test(test_ssm_include_records_work),
		cmocka_unit_test(test_querier_startup_then_query_interval),
		cmocka_unit_test(test_querier_election_lost_then_takeover),
		cmocka_unit_test(test_querier_other_querier_timer_restarted),
		cmocka_unit_test(test_querier_higher_address_ignored),
		cmocka_unit_test(test_querier_v2_query_elects),
		cmocka_unit_test(test_non_querier_adopts_qrv_qqi),
		cmocka_unit_test(test_non_querier_lowers_group_timer),
		cmocka_unit_test(test_non_querier_v2_group_query_uses_max_resp),
		cmocka_unit_test(test_non_querier_lowers_source_timers),
		cmocka_unit_test(test_query_version_2),
		cmocka_unit_test(test_group_timer_expiry_to_include),
		cmocka_unit_test(test_group_timer_expiry_deletes_group),
		cmocka_unit_test(test_source_timer_expiry_include),
		cmocka_unit_test(test_source_timer_expiry_exclude),
		cmocka_unit_test(test_late_tick_replays_in_order),
		cmocka_unit_test(test_next_deadline_exact),
		cmocka_unit_test(test_group_changed_not_on_refresh),
		cmocka_unit_test(test_bounds_max_groups),
		cmocka_unit_test(test_bounds_max_sources),
		cmocka_unit_test(test_bounds_max_source_records_across_groups),
		cmocka_unit_test(test_igmp_bounds_stop_allocation_not_just_counting),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_counters_and_names),
		cmocka_unit_test(test_foreach_group_ascending),
		cmocka_unit_test(test_group_view_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
