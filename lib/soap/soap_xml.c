/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hardened XML reading, in three layers, each sufficient against the attacks
 * it names and each tested alone:
 *   1. the raw bytes: size; strict UTF-8 without NUL (so what is scanned is
 *      what libxml2 will read); no "<!DOCTYPE" or "<!ENTITY" (XXE, billion
 *      laughs, external DTDs are refused before libxml2 sees a byte);
 *   2. libxml2 with safe options (no network, entities never substituted,
 *      no DTD loaded, no XML_PARSE_HUGE) and SAX hooks that stop the parser
 *      at a DTD, past the depth limit, or past the element limit, so the
 *      tree never holds more than the limits;
 *   3. a walk of the finished tree: depth, count, node kinds.
 * libxml2 reports to a per-parse handler: nothing reaches stderr.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>

#include "soap_private.h"

const struct soap_limits soap_limits_default = {
	.max_bytes = 1 << 20,
	.max_depth = 32,
	.max_elements = 100000,
};

static pthread_once_t soap_once = PTHREAD_ONCE_INIT;

static void
soap_init_once(void)
{
	xmlInitParser();
}

/* libxml2 2.9's xmlInitParser is not safe to race on first use: vnocd's HTTP
 * threads may all parse their first request at once. */
void
soap_init(void)
{
	pthread_once(&soap_once, soap_init_once);
}

void
soap_verr(char *err, size_t err_len, const char *fmt, va_list ap)
{
	if (err != NULL && err_len > 0)
		vsnprintf(err, err_len, fmt, ap);
}

void
soap_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	soap_verr(err, err_len, fmt, ap);
	va_end(ap);
}

int
soap_xml_prescan(const char *buf, size_t len, const struct soap_limits *limits,
		 char *err, size_t err_len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t markup = 0;
	/* Every element opens with '<' and may close with another; comments
	 * and CDATA add some. Beyond this the element limit cannot hold. */
	size_t markup_max = 2 * (size_t)limits->max_elements + 16;

	if (len == 0) {
		soap_err(err, err_len, "empty document");
		return -1;
	}
	if (len > limits->max_bytes || len > INT_MAX) {
		soap_err(err, err_len, "document of %zu bytes is over the limit of %zu", len,
			 limits->max_bytes);
		return -1;
	}
	for (size_t i = 0; i < len;) {
		size_t n = soap_utf8_sequence(p + i, len - i);

		if (n == 0) {
			soap_err(err, err_len, "%s at byte %zu: only UTF-8 is accepted",
				 p[i] == 0 ? "NUL" : "invalid UTF-8", i);
			return -1;
		}
		if (p[i] == '<') {
			if (++markup > markup_max) {
				soap_err(err, err_len, "more markup than %u elements can hold",
					 limits->max_elements);
				return -1;
			}
			/* SOAP 1.1 section 3: a message must not contain a DTD. */
			if (len - i >= 9 && memcmp(p + i, "<!DOCTYPE", 9) == 0) {
				soap_err(err, err_len, "a DTD (<!DOCTYPE) at byte %zu: SOAP forbids it", i);
				return -1;
			}
			if (len - i >= 8 && memcmp(p + i, "<!ENTITY", 8) == 0) {
				soap_err(err, err_len, "an entity declaration at byte %zu: SOAP forbids it", i);
				return -1;
			}
		}
		i += n;
	}
	return 0;
}

/* What the SAX hooks know of one parse: ctxt->_private. */
struct parse_state {
	const struct soap_limits *limits;
	unsigned int depth;
	unsigned int elements;
	bool refused;
	char why[160];                  /* our refusal */
	char xml_error[160];            /* libxml2's first complaint */
	int xml_line;
	startElementNsSAX2Func start_element;
	endElementNsSAX2Func end_element;
};

static void
parse_refuse(xmlParserCtxtPtr ctxt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
parse_refuse(xmlParserCtxtPtr ctxt, const char *fmt, ...)
{
	struct parse_state *st = ctxt->_private;
	va_list ap;

	if (!st->refused) {
		st->refused = true;
		va_start(ap, fmt);
		vsnprintf(st->why, sizeof(st->why), fmt, ap);
		va_end(ap);
	}
	xmlStopParser(ctxt);
}

static void
sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		  const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		  int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (st->refused)
		return;
	if (++st->depth > st->limits->max_depth) {
		parse_refuse(ctxt, "elements nested deeper than %u", st->limits->max_depth);
		return;
	}
	if (++st->elements > st->limits->max_elements) {
		parse_refuse(ctxt, "more than %u elements", st->limits->max_elements);
		return;
	}
	st->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
			  nb_defaulted, attributes);
}

static void
sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (st->refused)
		return;
	st->depth--;
	st->end_element(ctx, localname, prefix, uri);
}

static void
sax_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	parse_refuse(ctx, "a DTD: SOAP forbids it");
}

static void
sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
		const xmlChar *system_id, xmlChar *content)
{
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	parse_refuse(ctx, "an entity declaration (%s): SOAP forbids it", (const char *)name);
}

static xmlParserInputPtr
sax_resolve_entity(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	(void)public_id;
	parse_refuse(ctx, "a reference to an external resource (%s)",
		     system_id ? (const char *)system_id : "?");
	return NULL;
}

static void
sax_error(void *ctx, xmlErrorPtr error)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt != NULL ? ctxt->_private : NULL;
	size_t n;

	if (st == NULL || st->xml_error[0] != '\0' || error->level < XML_ERR_ERROR)
		return;
	snprintf(st->xml_error, sizeof(st->xml_error), "%s",
		 error->message ? error->message : "error");
	n = strlen(st->xml_error);
	while (n > 0 && (st->xml_error[n - 1] == '\n' || st->xml_error[n - 1] == ' '))
		st->xml_error[--n] = '\0';
	st->xml_line = error->line;
}

xmlDocPtr
soap_xml_parse(const char *buf, size_t len, const struct soap_limits *limits,
	       char *err, size_t err_len)
{
	/* Never XML_PARSE_NOENT, _DTDLOAD, _DTDATTR, _DTDVALID, _XINCLUDE or
	 * _HUGE; CDATA merged into text; the encoding is UTF-8 whatever the
	 * declaration says. */
	const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			    XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC;
	struct parse_state st = { .limits = limits };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (len == 0 || len > INT_MAX || len > limits->max_bytes) {
		soap_err(err, err_len, "document of %zu bytes is outside 1..%zu", len,
			 limits->max_bytes);
		return NULL;
	}
	soap_init();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		soap_err(err, err_len, "out of memory");
		return NULL;
	}
	ctxt->_private = &st;
	st.start_element = ctxt->sax->startElementNs;
	st.end_element = ctxt->sax->endElementNs;
	ctxt->sax->startElementNs = sax_start_element;
	ctxt->sax->endElementNs = sax_end_element;
	ctxt->sax->internalSubset = sax_dtd;
	ctxt->sax->externalSubset = sax_dtd;
	ctxt->sax->entityDecl = sax_entity_decl;
	ctxt->sax->resolveEntity = sax_resolve_entity;
	ctxt->sax->serror = sax_error;
	ctxt->sax->error = NULL;
	ctxt->sax->warning = NULL;

	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8", options);
	if (st.refused || doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		if (st.refused)
			soap_err(err, err_len, "%s", st.why);
		else if (st.xml_error[0] != '\0')
			soap_err(err, err_len, "not well-formed XML (line %d): %s", st.xml_line,
				 st.xml_error);
		else
			soap_err(err, err_len, "not well-formed XML");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		/* libxml2 keeps a copy of the last error per thread: drop it. */
		xmlResetLastError();
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (soap_xml_walk(doc, limits, err, err_len) < 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int
soap_xml_walk(const xmlDoc *doc, const struct soap_limits *limits, char *err, size_t err_len)
{
	unsigned int depth = 0, elements = 0;
	const xmlNode *node;

	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		soap_err(err, err_len, "a DTD: SOAP forbids it");
		return -1;
	}
	/* Iterative pre-order walk from the document's own children. */
	node = doc->children;
	while (node != NULL) {
		switch (node->type) {
		case XML_ELEMENT_NODE:
			if (depth + 1 > limits->max_depth) {
				soap_err(err, err_len, "elements nested deeper than %u",
					 limits->max_depth);
				return -1;
			}
			if (++elements > limits->max_elements) {
				soap_err(err, err_len, "more than %u elements", limits->max_elements);
				return -1;
			}
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
		case XML_COMMENT_NODE:
			break;
		case XML_PI_NODE:
			/* SOAP 1.1 section 3: no processing instructions. */
			soap_err(err, err_len, "a processing instruction (<?%s): SOAP forbids it",
				 (const char *)node->name);
			return -1;
		case XML_ENTITY_REF_NODE:
			soap_err(err, err_len, "an entity reference (&%s;)", (const char *)node->name);
			return -1;
		default:
			soap_err(err, err_len, "a node of kind %d: not allowed", (int)node->type);
			return -1;
		}
		if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
			depth++;
			node = node->children;
			continue;
		}
		while (node != NULL && node->next == NULL) {
			node = node->parent;
			if (node == NULL || node->type == XML_DOCUMENT_NODE)
				return 0;
			depth--;
		}
		if (node != NULL)
			node = node->next;
	}
	return 0;
}

xmlDocPtr
soap_xml_read(const char *buf, size_t len, const struct soap_limits *limits,
	      char *err, size_t err_len)
{
	if (limits == NULL)
		limits = &soap_limits_default;
	if (buf == NULL) {
		soap_err(err, err_len, "no document");
		return NULL;
	}
	if (soap_xml_prescan(buf, len, limits, err, err_len) < 0)
		return NULL;
	return soap_xml_parse(buf, len, limits, err, err_len);
}
