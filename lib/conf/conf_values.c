/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int
conf_parse_ipv4(const char *s, uint32_t *addr_be)
{
	struct in_addr a;

	/* inet_pton, unlike inet_aton, refuses "1.2.3" and octal forms. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr_be = a.s_addr;
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
conf_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(s[0]), lo = hi < 0 ? -1 : hex_value(s[1]);

		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

int
conf_parse_hex(const char *s, uint8_t *out, size_t out_len)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * out_len)
		return -1;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
conf_parse_prefix(const char *s, struct conf_prefix *prefix)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (conf_parse_ipv4(addr, &prefix->addr) < 0)
		return -1;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	len = strtoul(slash + 1, &end, 10);
	if (*end || len > 32)
		return -1;
	prefix->mask = len ? htonl(~0u << (32 - len)) : 0;
	return (prefix->addr & ~prefix->mask) ? -1 : 0;
}

int
conf_parse_duration(const char *s, uint32_t *ms)
{
	unsigned long long v;
	unsigned long long scale = 1000;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	if (v * scale > UINT32_MAX || v > UINT32_MAX)
		return -1;
	*ms = (uint32_t)(v * scale);
	return 0;
}
