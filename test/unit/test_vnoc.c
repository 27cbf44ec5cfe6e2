/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/vnoc: the IVGMP-VNOC messages in SOAP 1.1.
 *
 * Every operation's request and response is encoded, validated against
 * doc/vnoc.xsd with libxml2's schema validator (a checker that is not our
 * decoder), decoded, and compared field by field. Refusals are shown by
 * editing a good message in one place; where the schema can express the
 * rule, the schema must refuse the edited message too, so the code and the
 * published contract agree. Requests written by zeep from doc/vnoc.wsdl
 * (test/unit/data/soap/zeep/) must decode.
 *
 * The same binary serves test/unit/data/soap/zeep_interop.py:
 *   test_vnoc --decode request|response FILE   decode, print the operation
 *   test_vnoc --samples DIR                     write every message we emit
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <libxml/xmlschemas.h>

#include "soap/soap.h"
#include "vnoc/vnoc.h"

#define R VNOC_ROLE_RECEIVER
#define S VNOC_ROLE_SENDER

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *
source_root(void)
{
	static char root[1024];
	const char *env = getenv("IVGMP_SOURCE_ROOT");

	if (env != NULL)
		return env;
	/* __FILE__ is test/unit/test_vnoc.c under the source root. */
	snprintf(root, sizeof(root), "%.*s/../..", (int)(strrchr(__FILE__, '/') - __FILE__),
		 __FILE__);
	return root;
}

/* ---- sample messages: one of each, every field set ---- */

static struct vnoc_member sample_members_1[] = {
	{ .site = "site-b", .wan_addr = 0, .udp_encap = false, .roles = R | S },
	{ .site = "site-c", .wan_addr = 0, .udp_encap = true, .roles = R },
};
static struct vnoc_member sample_members_2[] = {
	{ .site = "site-b", .wan_addr = 0, .udp_encap = false, .roles = S },
};
static struct vnoc_group sample_groups[2];
static struct vnoc_sa sample_sas[3];
static struct vnoc_accounting_row sample_rows[3];

static void
samples_init(void)
{
	sample_members_1[0].wan_addr = ip4(203, 0, 113, 2);
	sample_members_1[1].wan_addr = ip4(203, 0, 113, 3);
	sample_members_2[0].wan_addr = ip4(203, 0, 113, 2);
	sample_groups[0] = (struct vnoc_group){
		.group = ip4(239, 1, 1, 1), .sa_mode = VNOC_SA_PAIRWISE,
		.n_members = 2, .members = sample_members_1,
	};
	sample_groups[1] = (struct vnoc_group){
		.group = ip4(232, 5, 6, 7), .sa_mode = VNOC_SA_GROUP,
		.n_members = 1, .members = sample_members_2,
	};
	sample_sas[0] = (struct vnoc_sa){
		.inbound = true, .peer = "site-b", .spi = 0x1000, .aead = 0, .key_len = 16,
		.key = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
			 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
		.salt = { 0xde, 0xad, 0xbe, 0xef }, .esn = true, .lifetime_s = 3600,
	};
	sample_sas[1] = (struct vnoc_sa){
		.inbound = false, .peer = "site-c", .spi = 0xfffffff0u, .aead = 1, .key_len = 32,
		.salt = { 1, 2, 3, 4 }, .esn = false, .lifetime_s = 0,
	};
	for (int i = 0; i < 32; i++)
		sample_sas[1].key[i] = (uint8_t)(0xa0 + i);
	/* A group SA site-b sends to 239.1.1.1, held inbound here. */
	sample_sas[2] = sample_sas[0];
	sample_sas[2].spi = 0x2000;
	sample_sas[2].group = ip4(239, 1, 1, 1);
	sample_rows[0] = (struct vnoc_accounting_row){
		.time = 1700000000, .site = "site-a", .group = ip4(239, 1, 1, 1), .roles = R,
		.action = VNOC_ACCOUNTING_JOIN,
	};
	sample_rows[1] = (struct vnoc_accounting_row){
		.time = 1700000060, .site = "site-a", .group = ip4(239, 1, 1, 1), .roles = R,
		.action = VNOC_ACCOUNTING_LEAVE, .reason = "policy",
	};
	sample_rows[2] = (struct vnoc_accounting_row){
		.time = 1700000061, .site = "site-c", .group = ip4(239, 1, 1, 1), .roles = R | S,
		.action = VNOC_ACCOUNTING_DENY,
		.reason = "rule 3: site-c may not send to 239.1.1.1 & <others>",
	};
}

static struct vnoc_view
sample_view(void)
{
	return (struct vnoc_view){
		.version = 42, .n_groups = 2, .groups = sample_groups, .n_sas = 3, .sas = sample_sas,
	};
}

static struct vnoc_msg
sample_msg(enum vnoc_op op, bool response)
{
	struct vnoc_msg m = { .op = op, .response = response };

	switch (op) {
	case VNOC_OP_REGISTER_SITE:
		if (response)
			m.u.register_resp = (struct vnoc_register_resp){
				.heartbeat_s = 30, .watch_timeout_s = 25, .view = sample_view(),
			};
		else
			m.u.register_req = (struct vnoc_register_req){
				.site = "site-a", .wan_addr = ip4(198, 51, 100, 1), .udp_encap = true,
				.software = "ivgmpd 0.1.0 (DPDK 22.11)", .fresh_start = true,
			};
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		if (response)
			m.u.membership_resp = (struct vnoc_membership_resp){
				.roles = op == VNOC_OP_JOIN_VPN ? R | S : 0, .version = 43,
			};
		else
			m.u.membership_req = (struct vnoc_membership_req){
				.site = "site-a", .group = ip4(239, 1, 1, 1),
				.roles = op == VNOC_OP_JOIN_VPN ? R : S,
			};
		break;
	case VNOC_OP_GET_GROUP_VPN:
		if (response) {
			m.u.view = sample_view();
			m.u.view.n_groups = 1;
		} else {
			strcpy(m.u.group_req.site, "site-a");
			m.u.group_req.group = ip4(239, 1, 1, 1);
		}
		break;
	case VNOC_OP_WATCH_UPDATES:
		if (response)
			m.u.view = sample_view();
		else
			m.u.watch_req = (struct vnoc_watch_req){
				.site = "site-a", .since = 41, .timeout_s = 25,
			};
		break;
	case VNOC_OP_HEARTBEAT:
		if (response)
			m.u.heartbeat_resp.version = UINT64_MAX;
		else
			m.u.heartbeat_req = (struct vnoc_heartbeat_req){
				.site = "site-a", .rx_packets = 123456789012ull, .tx_packets = 42,
				.drops = 0,
			};
		break;
	case VNOC_OP_LIST_GROUPS:
		if (response)
			m.u.group_list = (struct vnoc_group_list){
				.version = 42, .n_groups = 2, .groups = sample_groups,
			};
		break;
	case VNOC_OP_GET_ACCOUNTING:
		if (response)
			m.u.accounting_resp = (struct vnoc_accounting_resp){
				.n_rows = 3, .rows = sample_rows, .more = true,
			};
		else
			m.u.accounting_req.since = 1700000000;
		break;
	default:
		break;
	}
	return m;
}

/* ---- field by field ---- */

static void
assert_members_equal(const struct vnoc_member *a, const struct vnoc_member *b)
{
	assert_string_equal(a->site, b->site);
	assert_int_equal(a->wan_addr, b->wan_addr);
	assert_int_equal(a->udp_encap, b->udp_encap);
	assert_int_equal(a->roles, b->roles);
}

static void
assert_groups_equal(const struct vnoc_group *a, const struct vnoc_group *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(a[i].group, b[i].group);
		assert_int_equal(a[i].sa_mode, b[i].sa_mode);
		assert_int_equal(a[i].n_members, b[i].n_members);
		for (uint16_t m = 0; m < a[i].n_members; m++)
			assert_members_equal(&a[i].members[m], &b[i].members[m]);
	}
}

static void
assert_sas_equal(const struct vnoc_sa *a, const struct vnoc_sa *b)
{
	assert_int_equal(a->inbound, b->inbound);
	assert_string_equal(a->peer, b->peer);
	assert_int_equal(a->spi, b->spi);
	assert_int_equal(a->aead, b->aead);
	assert_int_equal(a->key_len, b->key_len);
	assert_memory_equal(a->key, b->key, a->key_len);
	assert_memory_equal(a->salt, b->salt, sizeof(a->salt));
	assert_int_equal(a->esn, b->esn);
	assert_true(a->lifetime_s == b->lifetime_s);
	assert_int_equal(a->group, b->group);
}

static void
assert_views_equal(const struct vnoc_view *a, const struct vnoc_view *b)
{
	assert_true(a->version == b->version);
	assert_int_equal(a->n_groups, b->n_groups);
	assert_groups_equal(a->groups, b->groups, a->n_groups);
	assert_int_equal(a->n_sas, b->n_sas);
	for (uint32_t i = 0; i < a->n_sas; i++)
		assert_sas_equal(&a->sas[i], &b->sas[i]);
}

static void
assert_msgs_equal(const struct vnoc_msg *a, const struct vnoc_msg *b)
{
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->response, b->response);
	if (a->response) {
		switch (a->op) {
		case VNOC_OP_REGISTER_SITE:
			assert_int_equal(a->u.register_resp.heartbeat_s, b->u.register_resp.heartbeat_s);
			assert_int_equal(a->u.register_resp.watch_timeout_s,
					 b->u.register_resp.watch_timeout_s);
			assert_views_equal(&a->u.register_resp.view, &b->u.register_resp.view);
			break;
		case VNOC_OP_JOIN_VPN:
		case VNOC_OP_LEAVE_VPN:
			assert_int_equal(a->u.membership_resp.roles, b->u.membership_resp.roles);
			assert_true(a->u.membership_resp.version == b->u.membership_resp.version);
			break;
		case VNOC_OP_GET_GROUP_VPN:
		case VNOC_OP_WATCH_UPDATES:
			assert_views_equal(&a->u.view, &b->u.view);
			break;
		case VNOC_OP_HEARTBEAT:
			assert_true(a->u.heartbeat_resp.version == b->u.heartbeat_resp.version);
			break;
		case VNOC_OP_LIST_GROUPS:
			assert_true(a->u.group_list.version == b->u.group_list.version);
			assert_int_equal(a->u.group_list.n_groups, b->u.group_list.n_groups);
			assert_groups_equal(a->u.group_list.groups, b->u.group_list.groups,
					    a->u.group_list.n_groups);
			break;
		case VNOC_OP_GET_ACCOUNTING:
			assert_int_equal(a->u.accounting_resp.n_rows, b->u.accounting_resp.n_rows);
			assert_int_equal(a->u.accounting_resp.more, b->u.accounting_resp.more);
			for (uint32_t i = 0; i < a->u.accounting_resp.n_rows; i++) {
				const struct vnoc_accounting_row *x = &a->u.accounting_resp.rows[i];
				const struct vnoc_accounting_row *y = &b->u.accounting_resp.rows[i];

				assert_true(x->time == y->time);
				assert_string_equal(x->site, y->site);
				assert_int_equal(x->group, y->group);
				assert_int_equal(x->roles, y->roles);
				assert_int_equal(x->action, y->action);
				assert_string_equal(x->reason, y->reason);
			}
			break;
		default:
			fail();
		}
		return;
	}
	switch (a->op) {
	case VNOC_OP_REGISTER_SITE:
		assert_string_equal(a->u.register_req.site, b->u.register_req.site);
		assert_int_equal(a->u.register_req.wan_addr, b->u.register_req.wan_addr);
		assert_int_equal(a->u.register_req.udp_encap, b->u.register_req.udp_encap);
		assert_string_equal(a->u.register_req.software, b->u.register_req.software);
		assert_int_equal(a->u.register_req.fresh_start, b->u.register_req.fresh_start);
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		assert_string_equal(a->u.membership_req.site, b->u.membership_req.site);
		assert_int_equal(a->u.membership_req.group, b->u.membership_req.group);
		assert_int_equal(a->u.membership_req.roles, b->u.membership_req.roles);
		break;
	case VNOC_OP_GET_GROUP_VPN:
		assert_string_equal(a->u.group_req.site, b->u.group_req.site);
		assert_int_equal(a->u.group_req.group, b->u.group_req.group);
		break;
	case VNOC_OP_WATCH_UPDATES:
		assert_string_equal(a->u.watch_req.site, b->u.watch_req.site);
		assert_true(a->u.watch_req.since == b->u.watch_req.since);
		assert_int_equal(a->u.watch_req.timeout_s, b->u.watch_req.timeout_s);
		break;
	case VNOC_OP_HEARTBEAT:
		assert_string_equal(a->u.heartbeat_req.site, b->u.heartbeat_req.site);
		assert_true(a->u.heartbeat_req.rx_packets == b->u.heartbeat_req.rx_packets);
		assert_true(a->u.heartbeat_req.tx_packets == b->u.heartbeat_req.tx_packets);
		assert_true(a->u.heartbeat_req.drops == b->u.heartbeat_req.drops);
		assert_int_equal(a->u.heartbeat_req.n_rekey, b->u.heartbeat_req.n_rekey);
		for (uint8_t i = 0; i < a->u.heartbeat_req.n_rekey; i++)
			assert_int_equal(a->u.heartbeat_req.rekey_spi[i], b->u.heartbeat_req.rekey_spi[i]);
		break;
	case VNOC_OP_LIST_GROUPS:
		break;
	case VNOC_OP_GET_ACCOUNTING:
		assert_true(a->u.accounting_req.since == b->u.accounting_req.since);
		break;
	default:
		fail();
	}
}

/* ---- doc/vnoc.xsd, through libxml2's validator ---- */

static xmlSchemaPtr schema;
static char schema_error[512];

static void
schema_error_keep(void *ctx, xmlErrorPtr error)
{
	(void)ctx;
	if (schema_error[0] == '\0')
		snprintf(schema_error, sizeof(schema_error), "line %d: %s", error->line,
			 error->message ? error->message : "?");
}

static int
schema_load(void)
{
	char path[1200];
	xmlSchemaParserCtxtPtr pctxt;

	if (schema != NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/doc/vnoc.xsd", source_root());
	pctxt = xmlSchemaNewParserCtxt(path);
	xmlSchemaSetParserStructuredErrors(pctxt, schema_error_keep, NULL);
	schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	if (schema == NULL) {
		fprintf(stderr, "cannot load %s: %s\n", path, schema_error);
		return -1;
	}
	return 0;
}

/* The Body's element (or the fault's <reason>) against the schema: 0 when
 * valid, else -1 with the validator's complaint in schema_error. */
static int
schema_check(const char *xml, size_t len)
{
	struct soap_envelope env;
	xmlSchemaValidCtxtPtr vctxt;
	xmlNodePtr subject;
	char err[256] = "";
	int rc;

	schema_error[0] = '\0';
	rc = soap_envelope_parse(xml, len, &(struct soap_limits){ 64u << 20, 32, 2000000 }, &env,
				 err, sizeof(err));
	if (rc < 0) {
		snprintf(schema_error, sizeof(schema_error), "not an envelope: %s", err);
		return -1;
	}
	subject = env.payload;
	if (rc == 1)
		subject = env.fault.detail != NULL ? soap_element_first(env.fault.detail->children)
						   : NULL;
	if (subject == NULL) {
		soap_envelope_free(&env);
		snprintf(schema_error, sizeof(schema_error), "nothing to validate");
		return -1;
	}
	vctxt = xmlSchemaNewValidCtxt(schema);
	xmlSchemaSetValidStructuredErrors(vctxt, schema_error_keep, NULL);
	rc = xmlSchemaValidateOneElement(vctxt, subject);
	xmlSchemaFreeValidCtxt(vctxt);
	soap_envelope_free(&env);
	return rc == 0 ? 0 : -1;
}

static void
assert_schema_valid(const char *xml, size_t len)
{
	if (schema_check(xml, len) != 0)
		fail_msg("doc/vnoc.xsd refuses what lib/vnoc wrote: %s\n%.2000s", schema_error, xml);
}

/* ---- round trips ---- */

static void
round_trip(const struct vnoc_msg *in)
{
	struct vnoc_msg out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len = 0;
	char *xml = vnoc_msg_encode(in, &len);

	assert_non_null(xml);
	assert_int_equal(strlen(xml), len);
	assert_schema_valid(xml, len);
	if (vnoc_msg_decode(xml, len, in->response, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("%s%s refused: %s\n%s", vnoc_op_name(in->op),
			 in->response ? "Response" : "", err, xml);
	assert_msgs_equal(in, &out);
	vnoc_msg_release(&out);
	/* Released lists are gone; releasing again does nothing. */
	vnoc_msg_release(&out);
	free(xml);
}

static void
round_trip_op(enum vnoc_op op)
{
	struct vnoc_msg req = sample_msg(op, false);
	struct vnoc_msg resp = sample_msg(op, true);

	round_trip(&req);
	round_trip(&resp);
}

static void
test_vnoc_register_site_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_REGISTER_SITE);
}

static void
test_vnoc_join_vpn_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_JOIN_VPN);
}

static void
test_vnoc_leave_vpn_round_trips_with_no_role_left(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_LEAVE_VPN);
}

static void
test_vnoc_get_group_vpn_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_GET_GROUP_VPN);
}

static void
test_vnoc_watch_updates_round_trips(void **state)
{
	struct vnoc_msg empty = { .op = VNOC_OP_WATCH_UPDATES, .response = true };

	(void)state;
	round_trip_op(VNOC_OP_WATCH_UPDATES);
	/* A watch that timed out: the same version, nothing in it. */
	empty.u.view.version = 41;
	round_trip(&empty);
}

static void
test_vnoc_heartbeat_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_HEARTBEAT);
}

static void
test_vnoc_list_groups_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_LIST_GROUPS);
}

static void
test_vnoc_get_accounting_round_trips(void **state)
{
	(void)state;
	round_trip_op(VNOC_OP_GET_ACCOUNTING);
}

static void
test_vnoc_encode_writes_the_documented_shape(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_JOIN_VPN, false);
	size_t len;
	char *xml = vnoc_msg_encode(&m, &len);

	(void)state;
	assert_string_equal(xml,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\""
		" xmlns:v=\"urn:ivgmp:vnoc:1\"><soap:Body><v:JoinVpn><v:site>site-a</v:site>"
		"<v:group>239.1.1.1</v:group><v:roles>receiver</v:roles></v:JoinVpn></soap:Body>"
		"</soap:Envelope>\n");
	free(xml);
}

static void
test_vnoc_encode_refuses_an_unknown_operation(void **state)
{
	struct vnoc_msg m = { .op = VNOC_OP_MAX };
	size_t len;

	(void)state;
	assert_null(vnoc_msg_encode(&m, &len));
}

/* ---- refusals: one edit of a good message ---- */

/* Replaces every `from` in xml by `to`; fails the test if there is none. */
static char *
edit(const char *xml, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), count = 0;
	const char *at;
	char *out, *w;

	for (at = strstr(xml, from); at != NULL; at = strstr(at + nf, from))
		count++;
	if (count == 0)
		fail_msg("'%s' not in %s", from, xml);
	out = malloc(strlen(xml) + count * nt + 1);
	assert_non_null(out);
	w = out;
	while ((at = strstr(xml, from)) != NULL) {
		memcpy(w, xml, (size_t)(at - xml));
		w += at - xml;
		memcpy(w, to, nt);
		w += nt;
		xml = at + nf;
	}
	strcpy(w, xml);
	return out;
}

enum schema_says { SCHEMA_REFUSES, SCHEMA_CANNOT_SAY };

/* Decoding the edited sample fails with `why`; the schema agrees when it
 * can express the rule. */
static void
assert_edit_refused(enum vnoc_op op, bool response, const char *from, const char *to,
		    const char *why, enum schema_says schema_says)
{
	struct vnoc_msg m = sample_msg(op, response), out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *good = vnoc_msg_encode(&m, &len);
	char *bad = edit(good, from, to);

	if (vnoc_msg_decode(bad, strlen(bad), response, &out, &fault, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", bad);
	if (strstr(err, why) == NULL)
		fail_msg("refused with '%s', expected '%s'", err, why);
	/* Nothing is left to release after a refusal. */
	assert_int_equal(out.op, 0);
	assert_null(out.u.view.groups);
	if (schema_says == SCHEMA_REFUSES && schema_check(bad, strlen(bad)) == 0)
		fail_msg("doc/vnoc.xsd accepts what the decoder refuses: %s", bad);
	free(good);
	free(bad);
}

/* The <rekey> SPIs of a Heartbeat: optional (a site with no SA past its
 * soft limit sends none, and older sites never do), at most VNOC_MAX_REKEY,
 * never a reserved SPI; the schema says the same. */
static void
test_vnoc_heartbeat_rekey_spis_round_trip(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_HEARTBEAT, false), out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *xml;

	(void)state;
	m.u.heartbeat_req.n_rekey = 2;
	m.u.heartbeat_req.rekey_spi[0] = 4097;
	m.u.heartbeat_req.rekey_spi[1] = 0xfffffffe;
	xml = vnoc_msg_encode(&m, &len);
	assert_non_null(xml);
	assert_non_null(strstr(xml, "</v:drops><v:rekey>4097</v:rekey>"
				    "<v:rekey>4294967294</v:rekey></v:Heartbeat>"));
	assert_int_equal(schema_check(xml, len), 0);
	if (vnoc_msg_decode(xml, len, false, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_msgs_equal(&m, &out);
	free(xml);
}

static void
test_vnoc_heartbeat_without_rekey_asks_for_none(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_HEARTBEAT, false), out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *none = vnoc_msg_encode(&m, &len);

	(void)state;
	assert_null(strstr(none, "rekey"));
	if (vnoc_msg_decode(none, strlen(none), false, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(out.u.heartbeat_req.n_rekey, 0);
	assert_int_equal(schema_check(none, strlen(none)), 0);
	free(none);
}

static void
test_vnoc_heartbeat_with_too_many_rekey_is_refused(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_HEARTBEAT, false), out;
	struct vnoc_fault_info fault;
	char err[256] = "", many[64 * (VNOC_MAX_REKEY + 1)] = "";
	char tail[sizeof(many) + 64];
	size_t len;
	char *good, *at_most, *over;

	(void)state;
	/* VNOC_MAX_REKEY is accepted, one more is not. */
	m.u.heartbeat_req.n_rekey = 0;
	good = vnoc_msg_encode(&m, &len);
	for (int i = 0; i < VNOC_MAX_REKEY; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "<v:rekey>%d</v:rekey>", 256 + i);
	snprintf(tail, sizeof(tail), "</v:drops>%s", many);
	at_most = edit(good, "</v:drops>", tail);
	snprintf(tail, sizeof(tail), "</v:drops>%s<v:rekey>999</v:rekey>", many);
	over = edit(good, "</v:drops>", tail);
	if (vnoc_msg_decode(at_most, strlen(at_most), false, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(out.u.heartbeat_req.n_rekey, VNOC_MAX_REKEY);
	assert_int_equal(out.u.heartbeat_req.rekey_spi[VNOC_MAX_REKEY - 1], 256 + VNOC_MAX_REKEY - 1);
	assert_int_equal(schema_check(at_most, strlen(at_most)), 0);
	assert_int_equal(vnoc_msg_decode(over, strlen(over), false, &out, &fault, err,
					 sizeof(err)), -1);
	if (strstr(err, "more than 16 <rekey> in a Heartbeat") == NULL)
		fail_msg("refused with '%s'", err);
	assert_int_not_equal(schema_check(over, strlen(over)), 0);
	/* The encoder never writes more than the decoder takes. */
	free(good);
	for (int i = 0; i < VNOC_MAX_REKEY; i++)
		m.u.heartbeat_req.rekey_spi[i] = 256 + (uint32_t)i;
	m.u.heartbeat_req.n_rekey = VNOC_MAX_REKEY + 3;
	good = vnoc_msg_encode(&m, &len);
	if (vnoc_msg_decode(good, len, false, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(out.u.heartbeat_req.n_rekey, VNOC_MAX_REKEY);
	free(good);
	free(at_most);
	free(over);
}

static void
test_vnoc_heartbeat_rekey_of_a_reserved_spi_is_refused(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "</v:drops>",
			    "</v:drops><v:rekey>255</v:rekey>", "<rekey> 255 is a reserved SPI",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "</v:drops>",
			    "</v:drops><v:rekey>4294967296</v:rekey>", "rekey", SCHEMA_REFUSES);
}

/* freshStart came after the first sites were written: one that does not
 * send it is read as not starting afresh, and the schema agrees. */
static void
test_vnoc_register_site_without_fresh_start_is_not_fresh(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_REGISTER_SITE, false), out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *good = vnoc_msg_encode(&m, &len);
	char *old = edit(good, "<v:freshStart>true</v:freshStart>", "");

	(void)state;
	assert_null(strstr(old, "freshStart"));
	if (vnoc_msg_decode(old, strlen(old), false, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_false(out.u.register_req.fresh_start);
	assert_string_equal(out.u.register_req.site, "site-a");
	assert_int_equal(schema_check(old, strlen(old)), 0);
	vnoc_msg_release(&out);
	free(good);
	free(old);
}

static void
test_vnoc_decode_refuses_a_bad_site_id(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "site-a", "site a",
			    "RegisterSite: <site> 'site a' is not a site id", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_JOIN_VPN, false, "site-a", "",
			    "<site> '' is not a site id", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "site-a",
			    "a-site-id-of-thirty-two-letters-", "is not a site id", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "<v:peer>site-b",
			    "<v:peer>site/b", "sa: <peer> 'site/b' is not a site id",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_GET_ACCOUNTING, true, "site-c", "site\xc3\xa9",
			    "is not a site id", SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_spi_below_256(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_REGISTER_SITE, true, "<v:spi>4096</v:spi>",
			    "<v:spi>255</v:spi>", "sa: <spi> 255 is below 256", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, true, "<v:spi>4096</v:spi>",
			    "<v:spi>4294967296</v:spi>", "<spi> '4294967296' is not an unsignedInt",
			    SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_short_or_mismatched_keys(void **state)
{
	(void)state;
	/* 15 bytes */
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "00112233445566778899aabbccddeeff",
			    "00112233445566778899aabbccddee",
			    "<key> of 15 bytes for aes-gcm-128, which needs 16", SCHEMA_REFUSES);
	/* 16 bytes where AES-256 needs 32: only the code can tell. */
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "aes-gcm-128", "aes-gcm-256",
			    "<key> of 16 bytes for aes-gcm-256, which needs 32", SCHEMA_CANNOT_SAY);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "<v:salt>deadbeef</v:salt>",
			    "<v:salt>deadbe</v:salt>", "<salt> of 3 bytes, not 4", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "<v:salt>deadbeef</v:salt>",
			    "<v:salt>deadbeefde</v:salt>", "<salt> 'deadbeefde' is not hexBinary",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "00112233445566778899aabbccddeeff",
			    "00112233445566778899aabbccddeefg", "is not hexBinary", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "aes-gcm-128", "aes-cbc",
			    "<aead> 'aes-cbc' is not one of aes-gcm-128, aes-gcm-256",
			    SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_a_unicast_group_and_a_multicast_wan_address(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_JOIN_VPN, false, "239.1.1.1", "10.1.1.1",
			    "JoinVpn: <group> 10.1.1.1 is not a multicast group", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_LEAVE_VPN, false, "239.1.1.1", "224.0.0.22",
			    "<group> 224.0.0.22 is not a multicast group beyond 224.0.0.0/24",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_GET_GROUP_VPN, false, "239.1.1.1", "240.0.0.1",
			    "is not a multicast group", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_LIST_GROUPS, true, "<v:address>239.1.1.1",
			    "<v:address>255.255.255.255", "is not a multicast group",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "<v:group>239.1.1.1</v:group></v:sa>",
			    "<v:group>10.1.1.1</v:group></v:sa>",
			    "sa: <group> 10.1.1.1 is not a multicast group", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "198.51.100.1", "239.1.1.1",
			    "RegisterSite: <wanAddress> 239.1.1.1 is not a unicast address",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "198.51.100.1", "0.0.0.0",
			    "is not a unicast address", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "198.51.100.1", "127.0.0.1",
			    "is not a unicast address", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, true, "203.0.113.2", "255.255.255.255",
			    "member: <wanAddress> 255.255.255.255 is not a unicast address",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "198.51.100.1", "198.51.100.01",
			    "is not an IPv4 address", SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_missing_extra_and_misplaced_elements(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "<v:udpEncap>true</v:udpEncap>", "",
			    "RegisterSite: <software> where <udpEncap> belongs", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "<v:drops>0</v:drops>", "",
			    "Heartbeat: <drops> missing", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, true, "</v:version>", "</v:version><v:x/>",
			    "HeartbeatResponse: unexpected <x>", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true, "<v:version>42</v:version>", "",
			    "view: <group> where <version> belongs", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_GET_ACCOUNTING, true, "<v:more>true</v:more>", "",
			    "GetAccountingResponse: <more> missing", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_JOIN_VPN, false, "<v:roles>receiver</v:roles>",
			    "<v:roles>none</v:roles>", "JoinVpn: <roles> names no role",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_JOIN_VPN, false, "<v:roles>receiver</v:roles>",
			    "<v:roles>receiver sender</v:roles>",
			    "<roles> 'receiver sender' is not one of none, receiver, sender, both",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_JOIN_VPN, false, "<v:roles>receiver</v:roles>",
			    "<v:roles>receiver<v:x/></v:roles>", "JoinVpn: <roles> is not",
			    SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "<v:rxPackets>", "<v:rxPackets>0",
			    "<rxPackets> '0123456789012' is not an unsignedLong", SCHEMA_CANNOT_SAY);
	assert_edit_refused(VNOC_OP_REGISTER_SITE, false, "<v:udpEncap>true",
			    "<v:udpEncap>yes", "<udpEncap> 'yes' is not a boolean", SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_an_unknown_operation(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "v:Heartbeat>", "v:Heartbeet>",
			    "<Heartbeet>: no such operation", SCHEMA_REFUSES);
	assert_edit_refused(VNOC_OP_HEARTBEAT, true, "v:HeartbeatResponse>", "v:Response>",
			    "<Response>: no such operation", SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_the_wrong_namespace(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "xmlns:v=\"urn:ivgmp:vnoc:1\"",
			    "xmlns:v=\"urn:ivgmp:vnoc:2\"",
			    "<Heartbeat> of namespace 'urn:ivgmp:vnoc:2', not 'urn:ivgmp:vnoc:1'",
			    SCHEMA_REFUSES);
	/* One child in another namespace. */
	assert_edit_refused(VNOC_OP_HEARTBEAT, false, "<v:drops>0</v:drops>",
			    "<x:drops xmlns:x=\"urn:x\">0</x:drops>",
			    "<drops> in namespace 'urn:x', not 'urn:ivgmp:vnoc:1'", SCHEMA_REFUSES);
}

static void
test_vnoc_decode_refuses_a_request_for_a_response_and_back(void **state)
{
	struct vnoc_msg m = sample_msg(VNOC_OP_HEARTBEAT, false), out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *xml = vnoc_msg_encode(&m, &len);

	(void)state;
	assert_int_equal(vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "<Heartbeat> where a response belongs"));
	free(xml);
	m = sample_msg(VNOC_OP_HEARTBEAT, true);
	xml = vnoc_msg_encode(&m, &len);
	assert_int_equal(vnoc_msg_decode(xml, len, false, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "<HeartbeatResponse> where a request belongs"));
	free(xml);
}

static void
test_vnoc_decode_refuses_duplicates_the_data_path_cannot_hold(void **state)
{
	(void)state;
	assert_edit_refused(VNOC_OP_LIST_GROUPS, true, "232.5.6.7", "239.1.1.1",
			    "ListGroupsResponse: group 239.1.1.1 is listed twice",
			    SCHEMA_CANNOT_SAY);
	assert_edit_refused(VNOC_OP_LIST_GROUPS, true, "site-c", "site-b",
			    "group: site 'site-b' is a member twice", SCHEMA_CANNOT_SAY);
	assert_edit_refused(VNOC_OP_WATCH_UPDATES, true,
			    "<v:direction>outbound</v:direction><v:peer>site-c</v:peer>"
			    "<v:spi>4294967280",
			    "<v:direction>inbound</v:direction><v:peer>site-c</v:peer><v:spi>4096",
			    "view: two inbound SAs with SPI 4096", SCHEMA_CANNOT_SAY);
}

/* A view of n groups (m members each) and s SAs, every value distinct. */
static struct vnoc_view
big_view(uint32_t n, uint16_t m, uint32_t s)
{
	struct vnoc_view v = { .version = 7, .n_groups = n, .n_sas = s };

	v.groups = calloc(n, sizeof(v.groups[0]));
	v.sas = calloc(s ? s : 1, sizeof(v.sas[0]));
	assert_non_null(v.groups);
	assert_non_null(v.sas);
	for (uint32_t i = 0; i < n; i++) {
		struct vnoc_group *g = &v.groups[i];

		g->group = ip4(239, (uint8_t)(i >> 8), (uint8_t)i, 1);
		g->sa_mode = i % 2 ? VNOC_SA_GROUP : VNOC_SA_PAIRWISE;
		g->n_members = m;
		g->members = calloc(m ? m : 1, sizeof(g->members[0]));
		assert_non_null(g->members);
		for (uint16_t k = 0; k < m; k++) {
			snprintf(g->members[k].site, sizeof(g->members[k].site), "site-%u", k);
			g->members[k].wan_addr = ip4(10, (uint8_t)(k >> 8), (uint8_t)k, 1);
			g->members[k].udp_encap = k % 3 == 0;
			g->members[k].roles = (uint8_t)(k % 3 + 1);
		}
	}
	for (uint32_t i = 0; i < s; i++) {
		struct vnoc_sa *sa = &v.sas[i];

		sa->inbound = i % 2;
		snprintf(sa->peer, sizeof(sa->peer), "site-%u", i / 2);
		sa->spi = 256 + i;
		sa->aead = (uint8_t)(i % 2);
		sa->key_len = i % 2 ? 32 : 16;
		for (int k = 0; k < 32; k++)
			sa->key[k] = (uint8_t)(i * 7 + (uint32_t)k);
		memcpy(sa->salt, &i, 4);
		sa->esn = i % 5 == 0;
		sa->lifetime_s = i * 60ull;
	}
	return v;
}

static void
big_view_free(struct vnoc_view *v)
{
	/* Allocated as lib/vnoc allocates: vnoc_view_release frees it. */
	vnoc_view_release(v);
}

/* Encoding works at any size; decoding refuses one past a limit. */
static void
assert_view_over_limit_refused(struct vnoc_view view, const char *why)
{
	struct vnoc_msg m = { .op = VNOC_OP_WATCH_UPDATES, .response = true, .u.view = view };
	struct vnoc_msg out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *xml = vnoc_msg_encode(&m, &len);

	assert_non_null(xml);
	assert_int_equal(vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("'%s', expected '%s'", err, why);
	free(xml);
	big_view_free(&view);
}

static void
test_vnoc_decode_refuses_too_many_groups_members_or_sas(void **state)
{
	(void)state;
	assert_view_over_limit_refused(big_view(VNOC_MAX_GROUPS + 1, 1, 0),
				       "view: more than 4096 <group>");
	assert_view_over_limit_refused(big_view(1, VNOC_MAX_MEMBERS + 1, 0),
				       "group: more than 1024 <member>");
	assert_view_over_limit_refused(big_view(1, 1, VNOC_MAX_SAS + 1),
				       "view: more than 2048 <sa>");
}

static void
test_vnoc_decode_refuses_too_many_accounting_rows(void **state)
{
	struct vnoc_msg m = { .op = VNOC_OP_GET_ACCOUNTING, .response = true }, out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *xml;

	(void)state;
	m.u.accounting_resp.n_rows = VNOC_MAX_ACCOUNTING_ROWS + 1;
	m.u.accounting_resp.rows = calloc(VNOC_MAX_ACCOUNTING_ROWS + 1, sizeof(sample_rows[0]));
	for (uint32_t i = 0; i <= VNOC_MAX_ACCOUNTING_ROWS; i++)
		m.u.accounting_resp.rows[i] = sample_rows[i % 3];
	xml = vnoc_msg_encode(&m, &len);
	assert_int_equal(vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 4096 <row>"));
	free(xml);
	/* At the limit it passes, and the schema agrees. */
	m.u.accounting_resp.n_rows = VNOC_MAX_ACCOUNTING_ROWS;
	round_trip(&m);
	free(m.u.accounting_resp.rows);
}

static void
test_vnoc_decode_refuses_hostile_xml_before_reading_it(void **state)
{
	static const char xxe[] =
		"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
		"<v:ListGroups xmlns:v=\"urn:ivgmp:vnoc:1\">&e;</v:ListGroups></soap:Body>"
		"</soap:Envelope>";
	struct vnoc_msg out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *big;

	(void)state;
	assert_int_equal(vnoc_msg_decode(xxe, strlen(xxe), false, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DTD"));
	assert_int_equal(vnoc_msg_decode("", 0, true, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));

	/* A request over VNOC_REQUEST_MAX_BYTES is refused; as a response it
	 * is within VNOC_RESPONSE_MAX_BYTES and fails later, on its shape. */
	len = VNOC_REQUEST_MAX_BYTES + 1;
	big = malloc(len + 1);
	memset(big, ' ', len);
	memcpy(big, "<a>", 3);
	memcpy(big + len - 4, "</a>", 4);
	big[len] = '\0';
	assert_int_equal(vnoc_msg_decode(big, len, false, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over the limit of 1048576"));
	assert_int_equal(vnoc_msg_decode(big, len, true, &out, &fault, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a SOAP envelope"));
	free(big);
}

/* ---- faults ---- */

static void
test_vnoc_faults_carry_their_reason_and_soap_fault_code(void **state)
{
	(void)state;
	for (int r = VNOC_FAULT_BAD_REQUEST; r < VNOC_FAULT_MAX; r++) {
		struct vnoc_fault_info in = { .reason = (enum vnoc_fault)r }, fault;
		struct vnoc_msg out;
		char err[256] = "", want[64];
		size_t len;
		char *xml;

		snprintf(in.text, sizeof(in.text), "%s: because & <why>", vnoc_fault_name(in.reason));
		xml = vnoc_fault_encode(&in, &len);
		assert_non_null(xml);
		assert_schema_valid(xml, len);
		snprintf(want, sizeof(want), "<faultcode>soap:%s</faultcode>",
			 r == VNOC_FAULT_SERVER ? "Server" : "Client");
		assert_non_null(strstr(xml, want));
		snprintf(want, sizeof(want), "<detail><v:reason>%s</v:reason></detail>",
			 vnoc_fault_name(in.reason));
		assert_non_null(strstr(xml, want));
		assert_int_equal(vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)), 1);
		assert_int_equal(fault.reason, in.reason);
		assert_string_equal(fault.text, in.text);
		/* A fault is never a request. */
		assert_int_equal(vnoc_msg_decode(xml, len, false, &out, &fault, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "a fault"));
		free(xml);
	}
}

static void
test_vnoc_fault_without_a_reason_of_ours_falls_back_on_its_code(void **state)
{
	static const char server[] =
		"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><s:Fault>"
		"<faultcode>s:Server</faultcode><faultstring>upstream timed out</faultstring>"
		"</s:Fault></s:Body></s:Envelope>";
	static const char unknown[] =
		"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><s:Fault>"
		"<faultcode>s:Client</faultcode><faultstring>?</faultstring><detail>"
		"<v:reason xmlns:v='urn:ivgmp:vnoc:1'>Quota</v:reason></detail>"
		"</s:Fault></s:Body></s:Envelope>";
	struct vnoc_fault_info none = { .reason = VNOC_FAULT_NONE, .text = "" }, fault;
	struct vnoc_msg out;
	char err[256] = "";
	size_t len;
	char *xml;

	(void)state;
	assert_int_equal(vnoc_msg_decode(server, strlen(server), true, &out, &fault, err,
					 sizeof(err)), 1);
	assert_int_equal(fault.reason, VNOC_FAULT_SERVER);
	assert_string_equal(fault.text, "upstream timed out");
	assert_int_equal(vnoc_msg_decode(unknown, strlen(unknown), true, &out, &fault, err,
					 sizeof(err)), 1);
	assert_int_equal(fault.reason, VNOC_FAULT_BAD_REQUEST);
	/* VNOC_FAULT_NONE is no reason to fail: it goes out as Server. */
	xml = vnoc_fault_encode(&none, &len);
	assert_non_null(strstr(xml, "<faultcode>soap:Server</faultcode>"));
	assert_int_equal(vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)), 1);
	assert_int_equal(fault.reason, VNOC_FAULT_SERVER);
	free(xml);
}

static void
test_vnoc_names_round_trip(void **state)
{
	enum vnoc_fault f;
	enum vnoc_op op;

	(void)state;
	for (int i = 0; i < VNOC_OP_MAX; i++) {
		assert_int_equal(vnoc_op_from_name(vnoc_op_name((enum vnoc_op)i), &op), 0);
		assert_int_equal(op, i);
	}
	for (int i = 0; i < VNOC_FAULT_MAX; i++) {
		assert_int_equal(vnoc_fault_from_name(vnoc_fault_name((enum vnoc_fault)i), &f), 0);
		assert_int_equal(f, i);
	}
	assert_string_equal(vnoc_op_name(VNOC_OP_MAX), "unknown");
	assert_int_equal(vnoc_fault_from_name("notauthorized", &f), -1);
	assert_string_equal(vnoc_fault_name(VNOC_FAULT_NOT_AUTHORIZED), "NotAuthorized");
}

static void
test_vnoc_site_id_valid_is_the_schema_pattern(void **state)
{
	(void)state;
	assert_true(vnoc_site_id_valid("a"));
	assert_true(vnoc_site_id_valid("Site_1.paris-2"));
	assert_true(vnoc_site_id_valid("0123456789012345678901234567890"));   /* 31 */
	assert_false(vnoc_site_id_valid("01234567890123456789012345678901")); /* 32 */
	assert_false(vnoc_site_id_valid(""));
	assert_false(vnoc_site_id_valid(NULL));
	assert_false(vnoc_site_id_valid("a b"));
	assert_false(vnoc_site_id_valid("a/b"));
	assert_false(vnoc_site_id_valid("caf\xc3\xa9"));
	assert_false(vnoc_site_id_valid("a\n"));
}

/* ---- scale ---- */

static void
test_vnoc_view_at_the_limits_encodes_and_decodes_in_reasonable_time(void **state)
{
	/* 4096 groups of 8 members and 2048 SAs: ~200,000 elements, within
	 * VNOC_RESPONSE_MAX_ELEMENTS. */
	struct vnoc_view view = big_view(VNOC_MAX_GROUPS, 8, VNOC_MAX_SAS);
	struct vnoc_msg m = { .op = VNOC_OP_WATCH_UPDATES, .response = true, .u.view = view };
	struct vnoc_msg out;
	struct vnoc_fault_info fault;
	char err[256] = "";
	uint64_t t0, t_encode, t_decode, t_schema;
	size_t len;
	char *xml;

	(void)state;
	t0 = now_ns();
	xml = vnoc_msg_encode(&m, &len);
	t_encode = now_ns() - t0;
	assert_non_null(xml);
	t0 = now_ns();
	if (vnoc_msg_decode(xml, len, true, &out, &fault, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	t_decode = now_ns() - t0;
	assert_msgs_equal(&m, &out);
	t0 = now_ns();
	assert_schema_valid(xml, len);
	t_schema = now_ns() - t0;
	print_message("view of %u groups, %u SAs: %zu KiB; encode %" PRIu64 " ms, decode %" PRIu64
		      " ms, schema %" PRIu64 " ms\n", view.n_groups, view.n_sas, len / 1024,
		      t_encode / 1000000, t_decode / 1000000, t_schema / 1000000);
	/* Generous: sanitizers make this several times slower. */
	assert_true(t_encode < 3000000000ull);
	assert_true(t_decode < 3000000000ull);
	assert_true(len < VNOC_RESPONSE_MAX_BYTES);
	vnoc_msg_release(&out);
	free(xml);
	big_view_free(&view);
}

/* ---- other toolkits ---- */

static char *
file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* zeep wrote these from doc/vnoc.wsdl (zeep_interop.py --fixtures). */
static void
test_vnoc_decodes_requests_written_by_zeep(void **state)
{
	(void)state;
	for (int op = 0; op < VNOC_OP_MAX; op++) {
		struct vnoc_msg want = sample_msg((enum vnoc_op)op, false), got;
		struct vnoc_fault_info fault;
		char path[1200], err[256] = "";
		size_t len;
		char *xml;

		snprintf(path, sizeof(path), "%s/test/unit/data/soap/zeep/%s.xml", source_root(),
			 vnoc_op_name((enum vnoc_op)op));
		xml = file_read(path, &len);
		if (xml == NULL)
			fail_msg("cannot read %s", path);
		if (vnoc_msg_decode(xml, len, false, &got, &fault, err, sizeof(err)) != 0)
			fail_msg("%s: %s", path, err);
		assert_msgs_equal(&want, &got);
		vnoc_msg_release(&got);
		free(xml);
	}
}

/* ---- the command-line side, for zeep_interop.py ---- */

static int
cli_decode(const char *kind, const char *path)
{
	struct vnoc_msg msg;
	struct vnoc_fault_info fault;
	char err[256] = "";
	size_t len;
	char *xml = file_read(path, &len);
	int rc;

	if (xml == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	rc = vnoc_msg_decode(xml, len, strcmp(kind, "response") == 0, &msg, &fault, err,
			     sizeof(err));
	free(xml);
	if (rc < 0) {
		printf("refused: %s\n", err);
		return 1;
	}
	if (rc == 1)
		printf("fault %s: %s\n", vnoc_fault_name(fault.reason), fault.text);
	else
		printf("%s%s\n", vnoc_op_name(msg.op), msg.response ? "Response" : "");
	vnoc_msg_release(&msg);
	return 0;
}

static int
cli_write(const char *dir, const char *name, char *xml, size_t len)
{
	char path[1200];
	FILE *f;

	if (xml == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.xml", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(xml, 1, len, f) != len) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		free(xml);
		return -1;
	}
	fclose(f);
	free(xml);
	return 0;
}

static int
cli_samples(const char *dir)
{
	char name[64];
	size_t len;

	for (int op = 0; op < VNOC_OP_MAX; op++) {
		for (int response = 0; response < 2; response++) {
			struct vnoc_msg m = sample_msg((enum vnoc_op)op, response);
			char *xml = vnoc_msg_encode(&m, &len);

			snprintf(name, sizeof(name), "%s%s", vnoc_op_name((enum vnoc_op)op),
				 response ? "Response" : "");
			if (cli_write(dir, name, xml, len) < 0)
				return 1;
		}
	}
	for (int r = VNOC_FAULT_BAD_REQUEST; r < VNOC_FAULT_MAX; r++) {
		struct vnoc_fault_info f = { .reason = (enum vnoc_fault)r };
		char *xml;

		snprintf(f.text, sizeof(f.text), "sample %s fault", vnoc_fault_name(f.reason));
		snprintf(name, sizeof(name), "Fault%s", vnoc_fault_name(f.reason));
		xml = vnoc_fault_encode(&f, &len);
		if (cli_write(dir, name, xml, len) < 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnoc_register_site_without_fresh_start_is_not_fresh),
		cmocka_unit_test(test_vnoc_register_site_round_trips),
		cmocka_unit_test(test_vnoc_join_vpn_round_trips),
		cmocka_unit_test(test_vnoc_leave_vpn_round_trips_with_no_role_left),
		cmocka_unit_test(test_vnoc_get_group_vpn_round_trips),
		cmocka_unit_test(test_vnoc_watch_updates_round_trips),
		cmocka_unit_test(test_vnoc_heartbeat_round_trips),
		cmocka_unit_test(test_vnoc_heartbeat_rekey_spis_round_trip),
		cmocka_unit_test(test_vnoc_heartbeat_without_rekey_asks_for_none),
		cmocka_unit_test(test_vnoc_heartbeat_with_too_many_rekey_is_refused),
		cmocka_unit_test(test_vnoc_heartbeat_rekey_of_a_reserved_spi_is_refused),
		cmocka_unit_test(test_vnoc_list_groups_round_trips),
		cmocka_unit_test(test_vnoc_get_accounting_round_trips),
		cmocka_unit_test(test_vnoc_encode_writes_the_documented_shape),
		cmocka_unit_test(test_vnoc_encode_refuses_an_unknown_operation),
		cmocka_unit_test(test_vnoc_decode_refuses_a_bad_site_id),
		cmocka_unit_test(test_vnoc_decode_refuses_spi_below_256),
		cmocka_unit_test(test_vnoc_decode_refuses_short_or_mismatched_keys),
		cmocka_unit_test(test_vnoc_decode_refuses_a_unicast_group_and_a_multicast_wan_address),
		cmocka_unit_test(test_vnoc_decode_refuses_missing_extra_and_misplaced_elements),
		cmocka_unit_test(test_vnoc_decode_refuses_an_unknown_operation),
		cmocka_unit_test(test_vnoc_decode_refuses_the_wrong_namespace),
		cmocka_unit_test(test_vnoc_decode_refuses_a_request_for_a_response_and_back),
		cmocka_unit_test(test_vnoc_decode_refuses_duplicates_the_data_path_cannot_hold),
		cmocka_unit_test(test_vnoc_decode_refuses_too_many_groups_members_or_sas),
		cmocka_unit_test(test_vnoc_decode_refuses_too_many_accounting_rows),
		cmocka_unit_test(test_vnoc_decode_refuses_hostile_xml_before_reading_it),
		cmocka_unit_test(test_vnoc_faults_carry_their_reason_and_soap_fault_code),
		cmocka_unit_test(test_vnoc_fault_without_a_reason_of_ours_falls_back_on_its_code),
		cmocka_unit_test(test_vnoc_names_round_trip),
		cmocka_unit_test(test_vnoc_site_id_valid_is_the_schema_pattern),
		cmocka_unit_test(test_vnoc_view_at_the_limits_encodes_and_decodes_in_reasonable_time),
		cmocka_unit_test(test_vnoc_decodes_requests_written_by_zeep),
	};
	int rc;

	samples_init();
	if (argc == 4 && strcmp(argv[1], "--decode") == 0)
		return cli_decode(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--samples") == 0)
		return cli_samples(argv[2]);
	soap_init();
	if (schema_load() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlSchemaFree(schema);
	return rc;
}
