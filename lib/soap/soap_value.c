/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Values in the canonical lexical forms of XML Schema Part 2 (3.3.22
 * unsignedLong, 3.3.23 unsignedInt, 3.2.2 boolean, 3.2.15 hexBinary) and
 * dotted-quad IPv4. Stricter than the schema on purpose: no surrounding
 * whitespace, no '+', no leading zero, so one value has one spelling and
 * nothing octal-looking is ever read.
 */
#include <string.h>

#include <arpa/inet.h>

#include "soap_private.h"

bool
soap_text_is_blank(const xmlChar *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* Length of the UTF-8 sequence at p (RFC 3629 section 4: no overlong form,
 * no surrogate, nothing above U+10FFFF), 0 when invalid or NUL. */
size_t
soap_utf8_sequence(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;

		return left >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

		return left >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		       (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

int
soap_node_text(const xmlNode *node, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		size_t len;

		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return -1;
		len = c->content != NULL ? strlen((const char *)c->content) : 0;
		if (len >= size - n)
			return -1;
		memcpy(buf + n, c->content, len);
		n += len;
		buf[n] = '\0';
	}
	return 0;
}

int
soap_parse_uint64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		unsigned int d = (unsigned char)*s - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int
soap_parse_uint32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (soap_parse_uint64(s, &x) < 0 || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
soap_parse_bool(const char *s, bool *v)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*v = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*v = false;
	else
		return -1;
	return 0;
}

int
soap_parse_ipv4(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		unsigned int octet = 0, digits = 0;

		if (part > 0 && *s++ != '.')
			return -1;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1;              /* 010 would be octal to inet_aton */
		while (*s >= '0' && *s <= '9' && digits < 3) {
			octet = octet * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || octet > 255)
			return -1;
		a = a << 8 | octet;
	}
	if (*s != '\0')
		return -1;
	*addr = htonl(a);
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
soap_parse_hex(const char *s, uint8_t *buf, size_t size, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 != 0 || n / 2 > size)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}
