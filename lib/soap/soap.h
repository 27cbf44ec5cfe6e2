/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_SOAP_H
#define IVGMP_SOAP_H

/*
 * soap: SOAP 1.1 envelopes over libxml2, for both ends of the VNOC protocol.
 *
 * Reading is hardened (doc/protocol.rst, "Hardening"): UTF-8 only, no DTD at
 * all (SOAP 1.1 section 3 forbids one), so no entity of any kind, no network,
 * no processing instruction; limits on bytes, element depth and element
 * count, enforced while libxml2 builds the tree so a hostile document costs
 * no more memory than the limits allow. libxml2 never prints: every refusal
 * is one sentence in the caller's err buffer.
 *
 * Writing builds <soap:Envelope><soap:Body><payload/></soap:Body></...> with
 * the payload's namespace declared on the Envelope. Values travel in their
 * canonical XML Schema forms; the readers below accept only those (no
 * whitespace, no sign, no leading zero, no trailing byte).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#define SOAP_ENV_NS "http://schemas.xmlsoap.org/soap/envelope/"

struct soap_limits {
	size_t max_bytes;               /* the whole document */
	unsigned int max_depth;         /* element nesting, the root is 1 */
	unsigned int max_elements;      /* in the whole document */
};

/* 1 MiB, depth 32, 100,000 elements. */
extern const struct soap_limits soap_limits_default;

/* Initialises libxml2, once whoever calls it first (each entry point below
 * calls it). */
void soap_init(void);

/* Parses buf as a hardened XML document (no SOAP checks). The caller frees
 * the result with xmlFreeDoc. NULL with the reason in err. */
xmlDocPtr soap_xml_read(const char *buf, size_t len, const struct soap_limits *limits,
			char *err, size_t err_len);

/* ---- envelopes (soap_envelope.c) ---- */

/* SOAP 1.1 section 4.4.1 fault codes. */
enum soap_fault_code {
	SOAP_FAULT_VERSION_MISMATCH,
	SOAP_FAULT_MUST_UNDERSTAND,
	SOAP_FAULT_CLIENT,
	SOAP_FAULT_SERVER,
	SOAP_FAULT_OTHER,               /* not in the envelope namespace */
};

struct soap_fault {
	enum soap_fault_code code;      /* "Client.Auth" counts as Client */
	char code_text[64];             /* faultcode as written */
	char string[256];               /* faultstring, cut to fit */
	xmlNodePtr detail;              /* <detail>, or NULL */
};

struct soap_envelope {
	xmlDocPtr doc;
	xmlNodePtr payload;             /* the Body's one element (for a fault: <Fault>) */
	struct soap_fault fault;        /* when soap_envelope_parse returned 1 */
};

/* Returns 0 with env->payload, 1 with env->fault, or -1 with the reason in
 * err. env->doc is to be freed by soap_envelope_free in the first two cases. */
int soap_envelope_parse(const char *buf, size_t len, const struct soap_limits *limits,
			struct soap_envelope *env, char *err, size_t err_len);
void soap_envelope_free(struct soap_envelope *env);

/* ---- writing (soap_writer.c) ---- */

/* An envelope under construction. A failed allocation is remembered and
 * reported once, by soap_writer_finish. */
struct soap_writer {
	xmlDocPtr doc;
	xmlNodePtr body;
	xmlNsPtr ns;                    /* the payload's namespace */
	bool failed;
};

int soap_writer_init(struct soap_writer *w, const char *ns, const char *prefix);
/* A new element in the payload namespace under parent (NULL: the Body). */
xmlNodePtr soap_write_element(struct soap_writer *w, xmlNodePtr parent, const char *name);
/* <name>text</name>: text is escaped; bytes that XML cannot carry (control
 * characters, invalid UTF-8) become '?'. */
void soap_write_text(struct soap_writer *w, xmlNodePtr parent, const char *name,
		     const char *text);
void soap_write_uint32(struct soap_writer *w, xmlNodePtr parent, const char *name, uint32_t v);
void soap_write_uint64(struct soap_writer *w, xmlNodePtr parent, const char *name, uint64_t v);
void soap_write_bool(struct soap_writer *w, xmlNodePtr parent, const char *name, bool v);
/* addr in network byte order */
void soap_write_ipv4(struct soap_writer *w, xmlNodePtr parent, const char *name, uint32_t addr);
void soap_write_hex(struct soap_writer *w, xmlNodePtr parent, const char *name,
		    const uint8_t *bytes, size_t len);
/* A <soap:Fault> as the Body's element; returns its <detail> for the
 * caller to fill (SOAP 1.1 section 4.4). */
xmlNodePtr soap_write_fault(struct soap_writer *w, enum soap_fault_code code,
			    const char *string);
/* Serializes (UTF-8, with an XML declaration) and frees the tree. Returns a
 * malloc'd NUL-terminated buffer, its length in *len, or NULL. */
char *soap_writer_finish(struct soap_writer *w, size_t *len);

/* ---- reading (soap_reader.c) ---- */

/* Walks the element children of one element in document order, as an
 * xs:sequence does. Every child must be an element of namespace ns (text
 * between them only whitespace); the first misfit stops the reader with a
 * sentence in err naming the element path. */
struct soap_reader {
	xmlNodePtr parent;
	xmlNodePtr next;                /* the next element not yet taken */
	const char *ns;
	char *err;
	size_t err_len;
	bool failed;
};

int soap_reader_init(struct soap_reader *r, xmlNodePtr parent, const char *ns,
		     char *err, size_t err_len);
/* The next element is <name>. */
bool soap_reader_at(const struct soap_reader *r, const char *name);
/* How many <name> follow in a row; stops counting past max. */
unsigned int soap_reader_count(const struct soap_reader *r, const char *name, unsigned int max);
/* Takes the next element, which must be <name>; NULL (and err) if not. */
xmlNodePtr soap_read_element(struct soap_reader *r, const char *name);
/* Each takes <name> and converts its text; 0 or -1 (and err). */
int soap_read_text(struct soap_reader *r, const char *name, char *buf, size_t size);
int soap_read_uint32(struct soap_reader *r, const char *name, uint32_t *v);
int soap_read_uint64(struct soap_reader *r, const char *name, uint64_t *v);
int soap_read_bool(struct soap_reader *r, const char *name, bool *v);
int soap_read_ipv4(struct soap_reader *r, const char *name, uint32_t *addr);
int soap_read_hex(struct soap_reader *r, const char *name, uint8_t *buf, size_t size,
		  size_t *len);
/* Fails unless every child was taken. */
int soap_reader_end(struct soap_reader *r);
/* Stops the reader with a sentence about the element just taken. */
int soap_reader_fail(struct soap_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* node is <name> in namespace ns (NULL: no namespace). */
bool soap_node_is(const xmlNode *node, const char *ns, const char *name);
/* node if it is an element, else its first element sibling after it. */
xmlNodePtr soap_element_first(xmlNodePtr node);

/* ---- values (soap_value.c): canonical lexical forms only ---- */

/* The text of an element with no element child, into buf. 0, or -1 when
 * it has element children or does not fit. */
int soap_node_text(const xmlNode *node, char *buf, size_t size);
int soap_parse_uint32(const char *s, uint32_t *v);
int soap_parse_uint64(const char *s, uint64_t *v);
int soap_parse_bool(const char *s, bool *v);          /* true false 1 0 */
int soap_parse_ipv4(const char *s, uint32_t *addr);   /* dotted quad, network order */
int soap_parse_hex(const char *s, uint8_t *buf, size_t size, size_t *len);

#endif
