/* SPDX-License-Identifier: BSD-3-Clause */
/* Building an envelope: <soap:Envelope xmlns:soap=... xmlns:P=NS><soap:Body>. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libxml/xmlsave.h>

#include "soap_private.h"

int
soap_writer_init(struct soap_writer *w, const char *ns, const char *prefix)
{
	xmlNodePtr envelope;
	xmlNsPtr soap_ns;

	soap_init();
	memset(w, 0, sizeof(*w));
	w->doc = xmlNewDoc(BAD_CAST "1.0");
	if (w->doc == NULL)
		return -1;
	envelope = xmlNewDocNode(w->doc, NULL, BAD_CAST "Envelope", NULL);
	if (envelope == NULL)
		goto fail;
	xmlDocSetRootElement(w->doc, envelope);
	soap_ns = xmlNewNs(envelope, BAD_CAST SOAP_ENV_NS, BAD_CAST "soap");
	w->ns = xmlNewNs(envelope, BAD_CAST ns, BAD_CAST prefix);
	if (soap_ns == NULL || w->ns == NULL)
		goto fail;
	xmlSetNs(envelope, soap_ns);
	w->body = xmlNewChild(envelope, soap_ns, BAD_CAST "Body", NULL);
	if (w->body == NULL)
		goto fail;
	return 0;
fail:
	xmlFreeDoc(w->doc);
	w->doc = NULL;
	w->failed = true;
	return -1;
}

xmlNodePtr
soap_write_element(struct soap_writer *w, xmlNodePtr parent, const char *name)
{
	xmlNodePtr node;

	if (w->failed)
		return NULL;
	node = xmlNewChild(parent != NULL ? parent : w->body, w->ns, BAD_CAST name, NULL);
	if (node == NULL)
		w->failed = true;
	return node;
}

/* text with every byte XML 1.0 cannot carry (section 2.2: C0 controls but
 * tab, LF, CR; invalid UTF-8) turned into '?'. malloc'd. */
static char *
xml_safe_copy(const char *text)
{
	size_t n = strlen(text);
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, text, n + 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				out[i] = '?';
			i++;
			continue;
		}
		size_t len = soap_utf8_sequence((const unsigned char *)out + i, n - i);

		/* U+FFFE and U+FFFF are not XML characters either. */
		if (len == 0 || (len == 3 && c == 0xef && (unsigned char)out[i + 1] == 0xbf &&
				 (unsigned char)out[i + 2] >= 0xbe)) {
			out[i++] = '?';
			continue;
		}
		i += len;
	}
	return out;
}

void
soap_write_text(struct soap_writer *w, xmlNodePtr parent, const char *name, const char *text)
{
	char *safe;

	if (w->failed)
		return;
	safe = xml_safe_copy(text);
	/* xmlNewTextChild escapes; xmlNewChild would not escape '&'. */
	if (safe == NULL ||
	    xmlNewTextChild(parent != NULL ? parent : w->body, w->ns, BAD_CAST name,
			    BAD_CAST safe) == NULL)
		w->failed = true;
	free(safe);
}

void
soap_write_uint32(struct soap_writer *w, xmlNodePtr parent, const char *name, uint32_t v)
{
	char text[16];

	snprintf(text, sizeof(text), "%" PRIu32, v);
	soap_write_text(w, parent, name, text);
}

void
soap_write_uint64(struct soap_writer *w, xmlNodePtr parent, const char *name, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, v);
	soap_write_text(w, parent, name, text);
}

void
soap_write_bool(struct soap_writer *w, xmlNodePtr parent, const char *name, bool v)
{
	soap_write_text(w, parent, name, v ? "true" : "false");
}

void
soap_write_ipv4(struct soap_writer *w, xmlNodePtr parent, const char *name, uint32_t addr)
{
	uint32_t a = ntohl(addr);
	char text[16];

	snprintf(text, sizeof(text), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff);
	soap_write_text(w, parent, name, text);
}

void
soap_write_hex(struct soap_writer *w, xmlNodePtr parent, const char *name,
	       const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *text = malloc(2 * len + 1);

	if (text == NULL) {
		w->failed = true;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		text[2 * i] = digits[bytes[i] >> 4];
		text[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	text[2 * len] = '\0';
	soap_write_text(w, parent, name, text);
	free(text);
}

static const char *const fault_codes[] = {
	[SOAP_FAULT_VERSION_MISMATCH] = "soap:VersionMismatch",
	[SOAP_FAULT_MUST_UNDERSTAND] = "soap:MustUnderstand",
	[SOAP_FAULT_CLIENT] = "soap:Client",
	[SOAP_FAULT_SERVER] = "soap:Server",
	[SOAP_FAULT_OTHER] = "soap:Server",
};

/* An unqualified child: libxml2 gives a child created without a namespace
 * its parent's, so take it away again. */
static xmlNodePtr
unqualified_child(xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr node = text != NULL ? xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text)
				       : xmlNewChild(parent, NULL, BAD_CAST name, NULL);

	if (node != NULL)
		xmlSetNs(node, NULL);
	return node;
}

/* SOAP 1.1 section 4.4: faultcode, faultstring and detail are unqualified. */
xmlNodePtr
soap_write_fault(struct soap_writer *w, enum soap_fault_code code, const char *string)
{
	xmlNodePtr fault, detail = NULL;
	char *safe;

	if (w->failed)
		return NULL;
	if (code > SOAP_FAULT_OTHER)
		code = SOAP_FAULT_SERVER;
	fault = xmlNewChild(w->body, w->body->ns, BAD_CAST "Fault", NULL);
	safe = xml_safe_copy(string);
	if (fault != NULL && safe != NULL &&
	    unqualified_child(fault, "faultcode", fault_codes[code]) != NULL &&
	    unqualified_child(fault, "faultstring", safe) != NULL)
		detail = unqualified_child(fault, "detail", NULL);
	free(safe);
	if (detail == NULL)
		w->failed = true;
	return detail;
}

char *
soap_writer_finish(struct soap_writer *w, size_t *len)
{
	xmlChar *mem = NULL;
	char *out = NULL;
	int size = 0;

	if (!w->failed && w->doc != NULL)
		xmlDocDumpMemoryEnc(w->doc, &mem, &size, "UTF-8");
	if (mem != NULL && size > 0) {
		out = malloc((size_t)size + 1);
		if (out != NULL) {
			memcpy(out, mem, (size_t)size);
			out[size] = '\0';
			if (len != NULL)
				*len = (size_t)size;
		}
	}
	xmlFree(mem);
	xmlFreeDoc(w->doc);
	w->doc = NULL;
	return out;
}
