/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/soap: SOAP 1.1 envelopes, and the hardened reading
 * under them.
 *
 * Every attack is tried against the whole reader (soap_xml_read) and, where
 * a layer claims to stop it alone, against that layer too: the byte scan
 * (soap_xml_prescan), libxml2 with our options and SAX hooks
 * (soap_xml_parse), the walk of the finished tree (soap_xml_walk).
 * libxml2's allocations are counted (xmlMemSetup) to show a refusal costs no
 * memory; an input-callback spy shows no file or URL is ever opened; stderr
 * is captured to show libxml2 prints nothing.
 *
 * Files under test/unit/data/soap/ hold the classic payloads as published.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xmlIO.h>

#include "soap/soap.h"
#include "soap/soap_private.h"

#define NS_V "urn:ivgmp:vnoc:1"

/* ---- libxml2's memory, counted ---- */

union mem_header {
	size_t size;
	max_align_t align;
};

static size_t mem_now, mem_peak;

static void *
mem_malloc(size_t n)
{
	union mem_header *h = malloc(sizeof(*h) + n);

	if (h == NULL)
		return NULL;
	h->size = n;
	mem_now += n;
	if (mem_now > mem_peak)
		mem_peak = mem_now;
	return h + 1;
}

static void
mem_free(void *p)
{
	union mem_header *h;

	if (p == NULL)
		return;
	h = (union mem_header *)p - 1;
	mem_now -= h->size;
	free(h);
}

static void *
mem_realloc(void *p, size_t n)
{
	union mem_header *h, *grown;
	size_t old;

	if (p == NULL)
		return mem_malloc(n);
	h = (union mem_header *)p - 1;
	old = h->size;
	grown = realloc(h, sizeof(*grown) + n);
	if (grown == NULL)
		return NULL;
	grown->size = n;
	mem_now = mem_now - old + n;
	if (mem_now > mem_peak)
		mem_peak = mem_now;
	return grown + 1;
}

static char *
mem_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = mem_malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* Peak bytes libxml2 held above what it held before, since the last call. */
static size_t
mem_mark(void)
{
	size_t grown = mem_peak - mem_now;

	mem_peak = mem_now;
	return grown;
}

/* ---- every file or URL libxml2 tries to open ---- */

static int spy_opens;
static char spy_uri[256];

static int
spy_match(const char *uri)
{
	spy_opens++;
	snprintf(spy_uri, sizeof(spy_uri), "%s", uri);
	return 0;               /* let the real callbacks (if any) decide */
}

static void *
spy_open(const char *uri)
{
	(void)uri;
	return NULL;
}

static int
spy_read(void *ctx, char *buf, int len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static int
spy_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* ---- helpers ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *
data_file(const char *name, size_t *len)
{
	const char *root = getenv("IVGMP_SOURCE_ROOT");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	if (root != NULL)
		snprintf(path, sizeof(path), "%s/test/unit/data/soap/%s", root, name);
	else
		snprintf(path, sizeof(path), "%.*s/data/soap/%s",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (set IVGMP_SOURCE_ROOT)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A document of n bytes: prefix, then filler, then suffix. */
static char *
doc_build(const char *prefix, const char *unit, size_t units, const char *suffix, size_t *len)
{
	size_t p = strlen(prefix), u = strlen(unit), s = strlen(suffix);
	char *buf = malloc(p + u * units + s + 1);
	char *w = buf;

	assert_non_null(buf);
	memcpy(w, prefix, p);
	w += p;
	for (size_t i = 0; i < units; i++, w += u)
		memcpy(w, unit, u);
	memcpy(w, suffix, s + 1);
	*len = p + u * units + s;
	return buf;
}

/* soap_xml_read must refuse, with err containing want. */
static void
assert_refused(const char *buf, size_t len, const char *want)
{
	char err[256] = "";
	xmlDocPtr doc = soap_xml_read(buf, len, NULL, err, sizeof(err));

	if (doc != NULL) {
		xmlFreeDoc(doc);
		fail_msg("accepted, expected a refusal with '%s'", want);
	}
	if (strstr(err, want) == NULL)
		fail_msg("refused with '%s', expected '%s'", err, want);
}

static xmlDocPtr
read_ok(const char *text)
{
	char err[256] = "";
	xmlDocPtr doc = soap_xml_read(text, strlen(text), NULL, err, sizeof(err));

	if (doc == NULL)
		fail_msg("refused: %s", err);
	return doc;
}

/* ---- envelopes ---- */

static void
test_soap_envelope_parse_finds_the_body_element_under_any_prefix(void **state)
{
	struct soap_envelope env;
	size_t len;
	char *xml = data_file("envelope_good.xml", &len);
	char err[256] = "", text[64];
	struct soap_reader r;

	(void)state;
	assert_int_equal(soap_envelope_parse(xml, len, NULL, &env, err, sizeof(err)), 0);
	assert_true(soap_node_is(env.payload, NS_V, "RegisterSite"));
	/* Comments, whitespace, CDATA and character references read as text. */
	assert_int_equal(soap_reader_init(&r, env.payload, NS_V, err, sizeof(err)), 0);
	assert_int_equal(soap_read_text(&r, "site", text, sizeof(text)), 0);
	assert_string_equal(text, "site-a");
	assert_true(soap_reader_at(&r, "wanAddress"));
	soap_read_element(&r, "wanAddress");
	soap_read_element(&r, "udpEncap");
	assert_int_equal(soap_read_text(&r, "software", text, sizeof(text)), 0);
	assert_string_equal(text, "ivgmpd <0.1> & \xe2\x98\xba");
	assert_int_equal(soap_reader_end(&r), 0);
	soap_envelope_free(&env);
	free(xml);
}

static void
test_soap_fault_parse_reads_code_string_and_detail(void **state)
{
	struct soap_envelope env;
	struct soap_writer w;
	xmlNodePtr detail;
	char err[256] = "";
	size_t len;
	char *xml;

	(void)state;
	assert_int_equal(soap_writer_init(&w, NS_V, "v"), 0);
	detail = soap_write_fault(&w, SOAP_FAULT_SERVER, "database locked");
	soap_write_text(&w, detail, "reason", "Server");
	xml = soap_writer_finish(&w, &len);
	assert_non_null(xml);
	assert_non_null(strstr(xml, "<faultcode>soap:Server</faultcode>"));

	assert_int_equal(soap_envelope_parse(xml, len, NULL, &env, err, sizeof(err)), 1);
	assert_int_equal(env.fault.code, SOAP_FAULT_SERVER);
	assert_string_equal(env.fault.code_text, "soap:Server");
	assert_string_equal(env.fault.string, "database locked");
	assert_non_null(env.fault.detail);
	assert_true(soap_node_is(soap_element_first(env.fault.detail->children), NS_V, "reason"));
	soap_envelope_free(&env);
	free(xml);
}

static void
test_soap_fault_code_is_a_qname_and_subcodes_count(void **state)
{
	struct soap_envelope env;
	char err[256] = "";
	size_t len;
	char *xml = data_file("fault_foreign.xml", &len);
	static const char other[] =
		"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'"
		" xmlns:x='urn:example'><s:Body><s:Fault><faultcode>x:Client</faultcode>"
		"<faultstring>?</faultstring></s:Fault></s:Body></s:Envelope>";

	(void)state;
	/* e:Client.Authentication with e bound to the envelope namespace. */
	assert_int_equal(soap_envelope_parse(xml, len, NULL, &env, err, sizeof(err)), 1);
	assert_int_equal(env.fault.code, SOAP_FAULT_CLIENT);
	assert_string_equal(env.fault.string, "certificate not accepted");
	assert_non_null(env.fault.detail);
	soap_envelope_free(&env);
	free(xml);

	/* "Client" in another namespace is not SOAP's Client. */
	assert_int_equal(soap_envelope_parse(other, strlen(other), NULL, &env, err, sizeof(err)), 1);
	assert_int_equal(env.fault.code, SOAP_FAULT_OTHER);
	assert_null(env.fault.detail);
	soap_envelope_free(&env);
}

static void
test_soap_envelope_parse_refuses_what_soap_11_does_not_allow(void **state)
{
	static const struct {
		const char *xml;
		const char *why;
	} cases[] = {
		{ "<e:Envelope xmlns:e='http://www.w3.org/2003/05/soap-envelope'><e:Body>"
		  "<v:x xmlns:v='urn:ivgmp:vnoc:1'/></e:Body></e:Envelope>", "only SOAP 1.1" },
		{ "<v:x xmlns:v='urn:ivgmp:vnoc:1'/>", "not a SOAP envelope" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'/>", "<Body> missing" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body/></e:Envelope>",
		  "empty Body" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body>"
		  "<v:x xmlns:v='urn:ivgmp:vnoc:1'/><v:y xmlns:v='urn:ivgmp:vnoc:1'/></e:Body></e:Envelope>",
		  "more than one element" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body>"
		  "hello<v:x xmlns:v='urn:ivgmp:vnoc:1'/></e:Body></e:Envelope>", "text where" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body><x/></e:Body>"
		  "</e:Envelope>", "has no namespace" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body>"
		  "<v:x xmlns:v='urn:ivgmp:vnoc:1'/></e:Body><e:Body/></e:Envelope>", "unexpected <Body>" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Header>"
		  "<t:x xmlns:t='urn:t' e:mustUnderstand='1'/></e:Header><e:Body>"
		  "<v:x xmlns:v='urn:ivgmp:vnoc:1'/></e:Body></e:Envelope>", "must be understood" },
		{ "<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/'><e:Body><e:Fault>"
		  "<faultstring>no code</faultstring></e:Fault></e:Body></e:Envelope>",
		  "<faultstring> where <faultcode> belongs" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct soap_envelope env;
		char err[256] = "";

		if (soap_envelope_parse(cases[i].xml, strlen(cases[i].xml), NULL, &env, err,
					sizeof(err)) != -1)
			fail_msg("case %zu accepted", i);
		assert_null(env.doc);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: '%s', expected '%s'", i, err, cases[i].why);
	}
}

static void
test_soap_writer_escapes_markup_and_replaces_what_xml_cannot_carry(void **state)
{
	struct soap_writer w;
	struct soap_envelope env;
	struct soap_reader r;
	char err[256] = "", text[64];
	xmlNodePtr el;
	size_t len;
	char *xml;

	(void)state;
	assert_int_equal(soap_writer_init(&w, NS_V, "v"), 0);
	el = soap_write_element(&w, NULL, "x");
	soap_write_text(&w, el, "a", "<b>&amp;\"'</b>");
	soap_write_text(&w, el, "b", "bell\a nul-less \xff\xfe bad utf-8 \xc3\xa9");
	soap_write_uint64(&w, el, "c", UINT64_MAX);
	soap_write_ipv4(&w, el, "d", htonl(0xc0a80001));
	soap_write_hex(&w, el, "e", (const uint8_t *)"\x00\xab\xff", 3);
	soap_write_bool(&w, el, "f", true);
	xml = soap_writer_finish(&w, &len);
	assert_non_null(xml);
	assert_int_equal(strlen(xml), len);
	assert_non_null(strstr(xml, "<soap:Envelope xmlns:soap=\"" SOAP_ENV_NS "\" xmlns:v=\"" NS_V
				    "\"><soap:Body><v:x>"));

	assert_int_equal(soap_envelope_parse(xml, len, NULL, &env, err, sizeof(err)), 0);
	assert_int_equal(soap_reader_init(&r, env.payload, NS_V, err, sizeof(err)), 0);
	assert_int_equal(soap_read_text(&r, "a", text, sizeof(text)), 0);
	assert_string_equal(text, "<b>&amp;\"'</b>");
	assert_int_equal(soap_read_text(&r, "b", text, sizeof(text)), 0);
	assert_string_equal(text, "bell? nul-less ?? bad utf-8 \xc3\xa9");
	soap_envelope_free(&env);
	assert_non_null(strstr(xml, "<v:c>18446744073709551615</v:c><v:d>192.168.0.1</v:d>"
				    "<v:e>00abff</v:e><v:f>true</v:f>"));
	free(xml);
}

/* ---- the reader: an xs:sequence, strictly ---- */

static void
test_soap_reader_takes_children_in_order_and_names_the_misfit(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} cases[] = {
		{ "<v:b>1</v:b><v:a>2</v:a>", "x: <b> where <a> belongs" },
		{ "<v:a>1</v:a>", "x: <b> missing" },
		{ "<v:a>1</v:a><v:b>2</v:b><v:c/>", "x: unexpected <c>" },
		{ "<v:a>1</v:a><w:b xmlns:w='urn:other'>2</w:b>", "<b> in namespace 'urn:other'" },
		{ "<v:a>1</v:a>junk<v:b>2</v:b>", "x: text where only elements belong" },
		{ "<v:a><v:z/></v:a><v:b>2</v:b>", "x: <a> is not an unsignedInt" },
		{ "<v:a>1</v:a><v:b>-2</v:b>", "x: <b> '-2' is not an unsignedInt" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[512], err[256] = "";
		struct soap_reader r;
		uint32_t a, b;
		xmlDocPtr doc;

		snprintf(xml, sizeof(xml), "<v:x xmlns:v='%s'>%s</v:x>", NS_V, cases[i].body);
		doc = read_ok(xml);
		assert_int_equal(soap_reader_init(&r, xmlDocGetRootElement(doc), NS_V, err,
						  sizeof(err)) == 0 &&
				 soap_read_uint32(&r, "a", &a) == 0 &&
				 soap_read_uint32(&r, "b", &b) == 0 && soap_reader_end(&r) == 0,
				 false);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: '%s', expected '%s'", i, err, cases[i].why);
		xmlFreeDoc(doc);
	}
}

static void
test_soap_reader_counts_a_run_of_elements(void **state)
{
	xmlDocPtr doc = read_ok("<x xmlns='urn:t'><a/><a/><a/><b/><a/></x>");
	struct soap_reader r;
	char err[64];

	(void)state;
	assert_int_equal(soap_reader_init(&r, xmlDocGetRootElement(doc), "urn:t", err,
					  sizeof(err)), 0);
	assert_int_equal(soap_reader_count(&r, "a", 100), 3);
	assert_int_equal(soap_reader_count(&r, "a", 1), 2);   /* stops past max */
	assert_int_equal(soap_reader_count(&r, "b", 100), 0);
	xmlFreeDoc(doc);
}

/* ---- values: canonical forms only ---- */

static void
test_soap_parse_uint32_and_uint64_are_strict(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "01", "00", "1a", "0x10", "1.0", "1e3", "\t1", "\xd9\xa1",
	};
	uint32_t v32;
	uint64_t v64;

	(void)state;
	assert_int_equal(soap_parse_uint32("0", &v32), 0);
	assert_int_equal(v32, 0);
	assert_int_equal(soap_parse_uint32("4294967295", &v32), 0);
	assert_int_equal(v32, UINT32_MAX);
	assert_int_equal(soap_parse_uint32("4294967296", &v32), -1);
	assert_int_equal(soap_parse_uint64("4294967296", &v64), 0);
	assert_true(v64 == 4294967296ull);
	assert_int_equal(soap_parse_uint64("18446744073709551615", &v64), 0);
	assert_true(v64 == UINT64_MAX);
	assert_int_equal(soap_parse_uint64("18446744073709551616", &v64), -1);
	assert_int_equal(soap_parse_uint64("99999999999999999999", &v64), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (soap_parse_uint32(bad[i], &v32) == 0)
			fail_msg("uint32 '%s' accepted", bad[i]);
		if (soap_parse_uint64(bad[i], &v64) == 0)
			fail_msg("uint64 '%s' accepted", bad[i]);
	}
}

static void
test_soap_parse_bool_takes_the_four_schema_spellings_only(void **state)
{
	static const char *const bad[] = { "", "TRUE", "True", "yes", "on", " true", "true ",
					   "2", "10", "t" };
	bool v;

	(void)state;
	assert_int_equal(soap_parse_bool("true", &v), 0);
	assert_true(v);
	assert_int_equal(soap_parse_bool("1", &v), 0);
	assert_true(v);
	assert_int_equal(soap_parse_bool("false", &v), 0);
	assert_false(v);
	assert_int_equal(soap_parse_bool("0", &v), 0);
	assert_false(v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (soap_parse_bool(bad[i], &v) == 0)
			fail_msg("bool '%s' accepted", bad[i]);
}

static void
test_soap_parse_ipv4_takes_dotted_quads_without_leading_zeros(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
		"1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.", ".1.2.3", "0x1.2.3.4", "1.2.3.4a",
		"1234.1.1.1", "16909060", "1.2.3.-4", "1,2,3,4",
	};
	uint32_t a;

	(void)state;
	assert_int_equal(soap_parse_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(soap_parse_ipv4("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	assert_int_equal(soap_parse_ipv4("239.1.2.3", &a), 0);
	assert_int_equal(a, htonl(0xef010203));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (soap_parse_ipv4(bad[i], &a) == 0)
			fail_msg("ipv4 '%s' accepted", bad[i]);
}

static void
test_soap_parse_hex_takes_whole_bytes_that_fit(void **state)
{
	uint8_t buf[4];
	size_t len;

	(void)state;
	assert_int_equal(soap_parse_hex("00aBfF10", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "\x00\xab\xff\x10", 4);
	assert_int_equal(soap_parse_hex("", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(soap_parse_hex("abc", buf, sizeof(buf), &len), -1);        /* odd */
	assert_int_equal(soap_parse_hex("0011223344", buf, sizeof(buf), &len), -1); /* too long */
	assert_int_equal(soap_parse_hex("0g", buf, sizeof(buf), &len), -1);
	assert_int_equal(soap_parse_hex(" 00", buf, sizeof(buf), &len), -1);
	assert_int_equal(soap_parse_hex("00 ", buf, sizeof(buf), &len), -1);
	assert_int_equal(soap_parse_hex("0x00", buf, sizeof(buf), &len), -1);
}

/* ---- attacks ---- */

static void
test_soap_xxe_payload_is_live_when_a_parser_substitutes_entities(void **state)
{
	size_t len;
	char *xml = data_file("xxe.xml", &len);
	xmlDocPtr doc;

	(void)state;
	/* The control: libxml2 with entity substitution does open the file,
	 * so the refusals below are refusals of a real attack. */
	spy_opens = 0;
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NOENT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	assert_true(spy_opens > 0);
	assert_non_null(strstr(spy_uri, "/etc/passwd"));
	xmlFreeDoc(doc);
	free(xml);
}

static void
test_soap_xxe_refused_and_the_file_never_opened(void **state)
{
	size_t len;
	char *xml = data_file("xxe.xml", &len);
	struct soap_envelope env;
	char err[256] = "";
	xmlDocPtr doc;

	(void)state;
	spy_opens = 0;
	assert_int_equal(soap_envelope_parse(xml, len, NULL, &env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DTD"));
	assert_null(strstr(err, "root:"));
	/* libxml2 alone, with our options and hooks, refuses it too. */
	doc = soap_xml_parse(xml, len, &soap_limits_default, err, sizeof(err));
	assert_null(doc);
	assert_non_null(strstr(err, "DTD"));
	assert_int_equal(spy_opens, 0);
	free(xml);
}

static void
test_soap_external_dtd_refused_without_network_access(void **state)
{
	size_t len;
	char *xml = data_file("external_dtd.xml", &len);
	char err[256] = "";
	uint64_t t0 = now_ns();

	(void)state;
	spy_opens = 0;
	assert_refused(xml, len, "DTD");
	assert_null(soap_xml_parse(xml, len, &soap_limits_default, err, sizeof(err)));
	assert_non_null(strstr(err, "DTD"));
	assert_int_equal(spy_opens, 0);
	/* Nothing waited on 127.0.0.1:9. */
	assert_true(now_ns() - t0 < 100 * 1000 * 1000);
	free(xml);
}

static void
test_soap_billion_laughs_refused_fast_without_memory(void **state)
{
	size_t len;
	char *xml = data_file("billion_laughs.xml", &len);
	char err[256] = "";
	size_t before = mem_now;
	uint64_t t0;

	(void)state;
	mem_mark();
	t0 = now_ns();
	assert_refused(xml, len, "DTD");
	assert_true(now_ns() - t0 < 100 * 1000 * 1000);
	/* Refused on the bytes: libxml2 never allocated. */
	assert_int_equal(mem_mark(), 0);

	/* libxml2 with our hooks stops at the DOCTYPE, before any entity. */
	t0 = now_ns();
	assert_null(soap_xml_parse(xml, len, &soap_limits_default, err, sizeof(err)));
	assert_true(now_ns() - t0 < 100 * 1000 * 1000);
	assert_true(mem_mark() < 64 * 1024);
	assert_int_equal(mem_now, before);
	free(xml);
}

static void
test_soap_entity_declarations_refused_wherever_they_hide(void **state)
{
	static const char *const docs[] = {
		/* parameter entity fetching a remote DTD */
		"<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/e.dtd\"> %p;]><x/>",
		/* DOCTYPE after a comment, with a public id */
		"<!-- hi --><!DOCTYPE x PUBLIC \"-//X//DTD X//EN\" \"x.dtd\"><x/>",
		/* an undeclared entity reference: not well-formed */
		"<x>&e;</x>",
	};

	(void)state;
	spy_opens = 0;
	assert_refused(docs[0], strlen(docs[0]), "DTD");
	assert_refused(docs[1], strlen(docs[1]), "DTD");
	assert_refused(docs[2], strlen(docs[2]), "not well-formed");
	assert_int_equal(spy_opens, 0);
}

static void
test_soap_depth_1000_refused(void **state)
{
	char *xml = malloc(7 * 1000 + 1), *w = xml;
	char err[256] = "";
	size_t len;

	(void)state;
	for (int i = 0; i < 1000; i++, w += 3)
		memcpy(w, "<a>", 3);
	for (int i = 0; i < 1000; i++, w += 4)
		memcpy(w, "</a>", 4);
	*w = '\0';
	len = (size_t)(w - xml);
	assert_refused(xml, len, "nested deeper than 32");
	assert_null(soap_xml_parse(xml, len, &soap_limits_default, err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than 32"));
	free(xml);
}

static void
test_soap_depth_limit_is_exact(void **state)
{
	char xml[512] = "", deeper[512];
	xmlDocPtr doc;

	(void)state;
	for (int i = 0; i < 32; i++)
		strcat(xml, "<a>");
	for (int i = 0; i < 32; i++)
		strcat(xml, "</a>");
	doc = read_ok(xml);
	xmlFreeDoc(doc);
	strcpy(deeper, "<b>");
	strcat(deeper, xml);
	strcat(deeper, "</b>");
	assert_refused(deeper, strlen(deeper), "nested deeper than 32");
}

static void
test_soap_200000_elements_refused_within_the_element_budget(void **state)
{
	size_t len;
	char *xml = doc_build("<r>", "<a/>", 200000, "</r>", &len);
	struct soap_limits roomy = soap_limits_default;
	char err[256] = "";
	size_t before = mem_now, peak;

	(void)state;
	roomy.max_bytes = 4 << 20;
	mem_mark();
	assert_refused(xml, len, "more than 100000 elements");
	peak = mem_mark();
	/* Stopped at element 100,001: the tree never held more. */
	print_message("peak libxml2 memory refusing 200,000 elements: %zu KiB\n", peak / 1024);
	assert_true(peak < 32u << 20);
	assert_int_equal(mem_now, before);
	free(xml);

	/* 200,000 elements written <a></a> are refused on the bytes, before
	 * libxml2, whatever the byte limit. */
	xml = doc_build("<r>", "<a></a>", 200000, "</r>", &len);
	assert_int_equal(soap_xml_prescan(xml, len, &roomy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more markup than 100000 elements"));
	free(xml);

	/* Exactly the limit passes. */
	xml = doc_build("<r>", "<a/>", 99999, "</r>", &len);
	xmlFreeDoc(read_ok(xml));
	free(xml);
}

static void
test_soap_tree_walk_alone_enforces_depth_count_and_node_kinds(void **state)
{
	struct soap_limits small = { .max_bytes = 1 << 20, .max_depth = 3, .max_elements = 5 };
	char err[256] = "";
	xmlDocPtr doc;

	(void)state;
	doc = read_ok("<a><b><c/></b></a>");
	assert_int_equal(soap_xml_walk(doc, &small, err, sizeof(err)), 0);
	xmlFreeDoc(doc);
	doc = read_ok("<a><b><c><d/></c></b></a>");
	assert_int_equal(soap_xml_walk(doc, &small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "deeper than 3"));
	xmlFreeDoc(doc);
	doc = read_ok("<a><b/><b/><b/><b/><b/></a>");
	assert_int_equal(soap_xml_walk(doc, &small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 5 elements"));
	xmlFreeDoc(doc);

	/* A tree made by hand with a DTD and an entity reference. */
	doc = xmlNewDoc(BAD_CAST "1.0");
	xmlDocSetRootElement(doc, xmlNewDocNode(doc, NULL, BAD_CAST "a", NULL));
	xmlAddChild(xmlDocGetRootElement(doc), xmlNewReference(doc, BAD_CAST "&e;"));
	assert_int_equal(soap_xml_walk(doc, &small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entity reference"));
	xmlCreateIntSubset(doc, BAD_CAST "a", NULL, BAD_CAST "a.dtd");
	assert_int_equal(soap_xml_walk(doc, &small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DTD"));
	xmlFreeDoc(doc);
}

static void
test_soap_processing_instructions_refused(void **state)
{
	static const char pi[] = "<?xml version='1.0'?><?xml-stylesheet href='x.xsl'?><a/>";
	static const char inner[] = "<a><?php echo 1; ?></a>";

	(void)state;
	assert_refused(pi, strlen(pi), "processing instruction");
	assert_refused(inner, strlen(inner), "processing instruction");
}

static void
test_soap_oversize_input_refused(void **state)
{
	size_t len;
	char *xml = doc_build("<a>", " ", (1 << 20) - 7, "</a>", &len);
	struct soap_limits tiny = { .max_bytes = 16, .max_depth = 32, .max_elements = 100 };
	char err[256] = "";

	(void)state;
	assert_int_equal(len, 1 << 20);
	xmlFreeDoc(read_ok(xml));
	free(xml);
	xml = doc_build("<a>", " ", (1 << 20) - 6, "</a>", &len);
	mem_mark();
	assert_refused(xml, len, "1048577 bytes is over the limit of 1048576");
	assert_int_equal(mem_mark(), 0);
	free(xml);
	assert_null(soap_xml_read("<a>0123456789</a>", 17, &tiny, err, sizeof(err)));
	assert_non_null(strstr(err, "over the limit of 16"));
}

static void
test_soap_non_utf8_refused(void **state)
{
	static const struct {
		const char *xml;
		size_t len;
		const char *why;
	} cases[] = {
		{ "<a>caf\xe9</a>", 8, "invalid UTF-8 at byte 6" },                   /* Latin-1 */
		{ "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>", 50, "invalid UTF-8" },
		{ "\xff\xfe<\0a\0/\0>\0", 10, "invalid UTF-8 at byte 0" },            /* UTF-16LE */
		{ "\xfe\xff\0<\0a\0/\0>", 10, "invalid UTF-8 at byte 0" },            /* UTF-16BE */
		{ "<\0a\0/\0>\0", 8, "NUL at byte 1" },                               /* no BOM */
		{ "<a>\xc0\xbc</a>", 9, "invalid UTF-8" },                            /* overlong < */
		{ "<a>\xed\xa0\x80</a>", 10, "invalid UTF-8" },                       /* surrogate */
		{ "<a>\xf4\x90\x80\x80</a>", 11, "invalid UTF-8" },                   /* > U+10FFFF */
		{ "<a>\xe2\x82</a>", 9, "invalid UTF-8" },                            /* cut short */
		{ "\x4c\x6f\xa7\x94\x93", 5, "invalid UTF-8" },                       /* EBCDIC <?xm */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";

		if (soap_xml_read(cases[i].xml, cases[i].len, NULL, err, sizeof(err)) != NULL)
			fail_msg("case %zu accepted", i);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: '%s', expected '%s'", i, err, cases[i].why);
	}
	/* A UTF-8 byte-order mark and a UTF-8 declaration are fine. */
	xmlFreeDoc(read_ok("\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><a>\xc3\xa9</a>"));
}

static void
test_soap_truncated_and_garbage_refused(void **state)
{
	static const char *const bad[] = {
		"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>",
		"<a><b></a></b>",
		"<a>",
		"not xml at all",
		"<a/><b/>",
		"<a x='1' x='2'/>",
		"<p:a/>",
		"<a>\x01</a>",
		"}{<>&;",
	};
	char err[256];
	uint8_t noise[4096];
	unsigned int seed = 1;
	size_t before = mem_now;

	(void)state;
	assert_null(soap_xml_read("", 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	assert_null(soap_xml_read(NULL, 10, NULL, err, sizeof(err)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], strlen(bad[i]), "not well-formed");
	/* Random bytes, and random bytes that start like XML. */
	for (int round = 0; round < 200; round++) {
		xmlDocPtr doc;

		for (size_t i = 0; i < sizeof(noise); i++)
			noise[i] = (uint8_t)(rand_r(&seed) >> 7);
		if (round % 2)
			memcpy(noise, "<?xml version='1.0'?><a>", 24);
		doc = soap_xml_read((const char *)noise, sizeof(noise), NULL, err, sizeof(err));
		assert_null(doc);
	}
	assert_int_equal(mem_now, before);
}

static void
test_soap_refusals_print_nothing_on_stderr(void **state)
{
	static const char *const files[] = { "xxe.xml", "billion_laughs.xml", "external_dtd.xml" };
	static const char *const docs[] = { "<a><b></a>", "<a>&e;</a>", "<a>\xff</a>", "<a x=1/>" };
	FILE *capture = tmpfile();
	int saved = dup(2);
	char err[256];
	long printed;

	(void)state;
	assert_non_null(capture);
	fflush(stderr);
	dup2(fileno(capture), 2);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *xml = data_file(files[i], &len);

		soap_xml_read(xml, len, NULL, err, sizeof(err));
		soap_xml_parse(xml, len, &soap_limits_default, err, sizeof(err));
		free(xml);
	}
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		soap_xml_read(docs[i], strlen(docs[i]), NULL, err, sizeof(err));
		soap_xml_parse(docs[i], strlen(docs[i]), &soap_limits_default, err, sizeof(err));
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	printed = ftell(capture);
	fclose(capture);
	assert_int_equal(printed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soap_envelope_parse_finds_the_body_element_under_any_prefix),
		cmocka_unit_test(test_soap_fault_parse_reads_code_string_and_detail),
		cmocka_unit_test(test_soap_fault_code_is_a_qname_and_subcodes_count),
		cmocka_unit_test(test_soap_envelope_parse_refuses_what_soap_11_does_not_allow),
		cmocka_unit_test(test_soap_writer_escapes_markup_and_replaces_what_xml_cannot_carry),
		cmocka_unit_test(test_soap_reader_takes_children_in_order_and_names_the_misfit),
		cmocka_unit_test(test_soap_reader_counts_a_run_of_elements),
		cmocka_unit_test(test_soap_parse_uint32_and_uint64_are_strict),
		cmocka_unit_test(test_soap_parse_bool_takes_the_four_schema_spellings_only),
		cmocka_unit_test(test_soap_parse_ipv4_takes_dotted_quads_without_leading_zeros),
		cmocka_unit_test(test_soap_parse_hex_takes_whole_bytes_that_fit),
		cmocka_unit_test(test_soap_xxe_payload_is_live_when_a_parser_substitutes_entities),
		cmocka_unit_test(test_soap_xxe_refused_and_the_file_never_opened),
		cmocka_unit_test(test_soap_external_dtd_refused_without_network_access),
		cmocka_unit_test(test_soap_billion_laughs_refused_fast_without_memory),
		cmocka_unit_test(test_soap_entity_declarations_refused_wherever_they_hide),
		cmocka_unit_test(test_soap_depth_1000_refused),
		cmocka_unit_test(test_soap_depth_limit_is_exact),
		cmocka_unit_test(test_soap_200000_elements_refused_within_the_element_budget),
		cmocka_unit_test(test_soap_tree_walk_alone_enforces_depth_count_and_node_kinds),
		cmocka_unit_test(test_soap_processing_instructions_refused),
		cmocka_unit_test(test_soap_oversize_input_refused),
		cmocka_unit_test(test_soap_non_utf8_refused),
		cmocka_unit_test(test_soap_truncated_and_garbage_refused),
		cmocka_unit_test(test_soap_refusals_print_nothing_on_stderr),
	};

	/* Before libxml2 allocates anything: count what it allocates. */
	xmlMemSetup(mem_free, mem_malloc, mem_realloc, mem_strdup);
	soap_init();
	xmlRegisterInputCallbacks(spy_match, spy_open, spy_read, spy_close);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
