/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_SOAP_PRIVATE_H
#define IVGMP_SOAP_PRIVATE_H

/* Internals of lib/soap, and the layers of soap_xml_read taken apart so the
 * tests can show each one refusing on its own. */

#include <stdarg.h>

#include "soap.h"

/* Layer 1, on the raw bytes: size, strict UTF-8 without NUL, no
 * <!DOCTYPE / <!ENTITY anywhere, markup count within reach of the element
 * limit. 0 or -1. */
int soap_xml_prescan(const char *buf, size_t len, const struct soap_limits *limits,
		     char *err, size_t err_len);
/* Layers 2 and 3: libxml2 with safe options and SAX hooks that stop at a
 * DTD or past the depth or element limit, then a walk of the tree. */
xmlDocPtr soap_xml_parse(const char *buf, size_t len, const struct soap_limits *limits,
			 char *err, size_t err_len);
/* Layer 3 alone: depth, count, and node kinds (no DTD, entity reference or
 * processing instruction). 0 or -1. */
int soap_xml_walk(const xmlDoc *doc, const struct soap_limits *limits, char *err,
		  size_t err_len);

void soap_err(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void soap_verr(char *err, size_t err_len, const char *fmt, va_list ap);

/* Length of the UTF-8 sequence at p (RFC 3629 section 4: no overlong form,
 * no surrogate, nothing above U+10FFFF), 0 when invalid or NUL. */
size_t soap_utf8_sequence(const unsigned char *p, size_t left);
/* Only whitespace (XML's four characters). */
bool soap_text_is_blank(const xmlChar *s);

#endif
