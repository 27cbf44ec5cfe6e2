/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"

static int
roles_parse(const char *s, uint8_t *roles)
{
	if (strcmp(s, "send") == 0)
		*roles = ANNOUNCE_ROLE_SEND;
	else if (strcmp(s, "receive") == 0)
		*roles = ANNOUNCE_ROLE_RECEIVE;
	else if (strcmp(s, "both") == 0)
		*roles = ANNOUNCE_ROLE_SEND | ANNOUNCE_ROLE_RECEIVE;
	else
		return -1;
	return 0;
}

static const char *
roles_name(uint8_t roles)
{
	switch (roles) {
	case ANNOUNCE_ROLE_SEND: return "send";
	case ANNOUNCE_ROLE_RECEIVE: return "receive";
	default: return "both";
	}
}

int
announce_request_parse(const char *line, struct announce_request *req, char *err,
		       size_t err_len)
{
	char copy[ANNOUNCE_LINE_MAX];
	char *words[8], *save = NULL;
	int n = 0;
	struct in_addr a;

	if (strlen(line) >= sizeof(copy)) {
		snprintf(err, err_len, "request longer than %d bytes", ANNOUNCE_LINE_MAX - 1);
		return -1;
	}
	strcpy(copy, line);
	for (char *w = strtok_r(copy, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 8) {
			snprintf(err, err_len, "too many words");
			return -1;
		}
		words[n++] = w;
	}
	memset(req, 0, sizeof(*req));
	if (n < 3 || (strcmp(words[0], "announce") && strcmp(words[0], "withdraw"))) {
		snprintf(err, err_len, "expected 'announce|withdraw send|receive|both GROUP ...'");
		return -1;
	}
	req->withdraw = words[0][0] == 'w';
	if (roles_parse(words[1], &req->roles) < 0) {
		snprintf(err, err_len, "'%s' is not send, receive or both", words[1]);
		return -1;
	}
	if (inet_pton(AF_INET, words[2], &a) != 1) {
		snprintf(err, err_len, "'%s' is not an IPv4 group address", words[2]);
		return -1;
	}
	req->group = a.s_addr;
	for (int i = 3; i < n; i += 2) {
		char *end;

		if (i + 1 >= n || req->withdraw) {
			snprintf(err, err_len, "unexpected '%s'", words[i]);
			return -1;
		}
		if (strcmp(words[i], "source") == 0) {
			if (inet_pton(AF_INET, words[i + 1], &a) != 1) {
				snprintf(err, err_len, "'%s' is not an IPv4 source address",
					 words[i + 1]);
				return -1;
			}
			req->source = a.s_addr;
		} else if (strcmp(words[i], "lifetime") == 0) {
			unsigned long v = strtoul(words[i + 1], &end, 10);

			if (*end || words[i + 1][0] < '0' || words[i + 1][0] > '9' || v > UINT32_MAX) {
				snprintf(err, err_len, "lifetime '%s' is not a number of seconds",
					 words[i + 1]);
				return -1;
			}
			req->lifetime_s = (uint32_t)v;
		} else {
			snprintf(err, err_len, "unexpected '%s'", words[i]);
			return -1;
		}
	}
	if (!req->withdraw && req->lifetime_s == 0) {
		snprintf(err, err_len, "an announcement needs 'lifetime SECONDS' (1 or more)");
		return -1;
	}
	return 0;
}

int
announce_request_format(const struct announce_request *req, char *buf, size_t len)
{
	char group[INET_ADDRSTRLEN], source[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &req->group, group, sizeof(group));
	if (req->withdraw)
		n = snprintf(buf, len, "withdraw %s %s", roles_name(req->roles), group);
	else if (req->source)
		n = snprintf(buf, len, "announce %s %s source %s lifetime %u", roles_name(req->roles),
			     group, inet_ntop(AF_INET, &req->source, source, sizeof(source)),
			     req->lifetime_s);
	else
		n = snprintf(buf, len, "announce %s %s lifetime %u", roles_name(req->roles), group,
			     req->lifetime_s);
	return (n < 0 || (size_t)n >= len) ? -1 : n;
}
