/* SPDX-License-Identifier: BSD-3-Clause */
/* Reading an element's children in order, as its xs:sequence lists them. */
#include <stdio.h>
#include <string.h>

#include "soap_private.h"

bool
soap_node_is(const xmlNode *node, const char *ns, const char *name)
{
	const char *href;

	if (node == NULL || node->type != XML_ELEMENT_NODE ||
	    strcmp((const char *)node->name, name) != 0)
		return false;
	href = node->ns != NULL ? (const char *)node->ns->href : NULL;
	if (ns == NULL || href == NULL)
		return ns == NULL && href == NULL;
	return strcmp(href, ns) == 0;
}

xmlNodePtr
soap_element_first(xmlNodePtr node)
{
	while (node != NULL && node->type != XML_ELEMENT_NODE)
		node = node->next;
	return node;
}

static const char *
node_name(const xmlNode *node)
{
	return node != NULL ? (const char *)node->name : "?";
}

int
soap_reader_fail(struct soap_reader *r, const char *fmt, ...)
{
	char what[192];
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	soap_err(r->err, r->err_len, "%s: %s", node_name(r->parent), what);
	return -1;
}

int
soap_reader_init(struct soap_reader *r, xmlNodePtr parent, const char *ns,
		 char *err, size_t err_len)
{
	*r = (struct soap_reader){ .parent = parent, .ns = ns, .err = err, .err_len = err_len };
	for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE)
			continue;
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
		    soap_text_is_blank(c->content))
			continue;
		return soap_reader_fail(r, "text where only elements belong");
	}
	r->next = soap_element_first(parent->children);
	return 0;
}

bool
soap_reader_at(const struct soap_reader *r, const char *name)
{
	return !r->failed && soap_node_is(r->next, r->ns, name);
}

unsigned int
soap_reader_count(const struct soap_reader *r, const char *name, unsigned int max)
{
	unsigned int n = 0;

	if (r->failed)
		return 0;
	for (xmlNodePtr c = r->next; soap_node_is(c, r->ns, name) && n <= max;
	     c = soap_element_first(c->next))
		n++;
	return n;
}

xmlNodePtr
soap_read_element(struct soap_reader *r, const char *name)
{
	xmlNodePtr node = r->next;

	if (r->failed)
		return NULL;
	if (node == NULL) {
		soap_reader_fail(r, "<%s> missing", name);
		return NULL;
	}
	if (!soap_node_is(node, r->ns, name)) {
		const char *href = node->ns != NULL ? (const char *)node->ns->href : NULL;

		if (strcmp((const char *)node->name, name) == 0 || (href != NULL && r->ns != NULL &&
								    strcmp(href, r->ns) != 0))
			soap_reader_fail(r, "<%s> in namespace '%s', not '%s'", node_name(node),
					 href ? href : "", r->ns ? r->ns : "");
		else
			soap_reader_fail(r, "<%s> where <%s> belongs", node_name(node), name);
		return NULL;
	}
	r->next = soap_element_first(node->next);
	return node;
}

int
soap_read_text(struct soap_reader *r, const char *name, char *buf, size_t size)
{
	xmlNodePtr node = soap_read_element(r, name);

	if (node == NULL)
		return -1;
	if (soap_node_text(node, buf, size) < 0)
		return soap_reader_fail(r, "<%s> is not text of at most %zu bytes", name, size - 1);
	return 0;
}

/* Reads <name>'s text, which must fit text[size] since every valid value
 * does, and converts it. */
#define READ_VALUE(r, name, text, parse, what)                                          \
	do {                                                                            \
		xmlNodePtr node_ = soap_read_element(r, name);                          \
		if (node_ == NULL)                                                      \
			return -1;                                                      \
		if (soap_node_text(node_, text, sizeof(text)) < 0)                      \
			return soap_reader_fail(r, "<%s> is not %s", name, what);       \
		if (parse)                                                              \
			return soap_reader_fail(r, "<%s> '%s' is not %s", name, text, what); \
	} while (0)

int
soap_read_uint32(struct soap_reader *r, const char *name, uint32_t *v)
{
	char text[32];

	READ_VALUE(r, name, text, soap_parse_uint32(text, v) < 0, "an unsignedInt");
	return 0;
}

int
soap_read_uint64(struct soap_reader *r, const char *name, uint64_t *v)
{
	char text[32];

	READ_VALUE(r, name, text, soap_parse_uint64(text, v) < 0, "an unsignedLong");
	return 0;
}

int
soap_read_bool(struct soap_reader *r, const char *name, bool *v)
{
	char text[16];

	READ_VALUE(r, name, text, soap_parse_bool(text, v) < 0, "a boolean");
	return 0;
}

int
soap_read_ipv4(struct soap_reader *r, const char *name, uint32_t *addr)
{
	char text[24];

	READ_VALUE(r, name, text, soap_parse_ipv4(text, addr) < 0, "an IPv4 address");
	return 0;
}

int
soap_read_hex(struct soap_reader *r, const char *name, uint8_t *buf, size_t size,
	      size_t *len)
{
	char text[2 * 64 + 1];

	if (2 * size + 1 > sizeof(text))
		return soap_reader_fail(r, "<%s>: more than 64 bytes asked of the reader", name);
	READ_VALUE(r, name, text, soap_parse_hex(text, buf, size, len) < 0, "hexBinary");
	return 0;
}

int
soap_reader_end(struct soap_reader *r)
{
	if (r->failed)
		return -1;
	if (r->next != NULL)
		return soap_reader_fail(r, "unexpected <%s>", node_name(r->next));
	return 0;
}
