/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_CONF_PRIVATE_H
#define IVGMP_CONF_PRIVATE_H

#include <stdbool.h>

#include "conf.h"

/* Where the parser is, so every refusal can say "FILE:LINE: reason". */
struct conf_cursor {
	struct conf *conf;
	const char *name;
	unsigned int line;
	char *err;
	size_t err_len;
};

int conf_fail(struct conf_cursor *cur, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Decimal, or hex after 0x; never octal. */
int conf_parse_u64(const char *s, uint64_t *v);

bool conf_membership_knows(const char *key);
int conf_membership_parse(struct conf_cursor *cur, const char *key, const char *value);
void conf_membership_defaults(struct conf *conf);

bool conf_vnoc_knows(const char *key);
int conf_vnoc_parse(struct conf_cursor *cur, char **argv, int argc);
int conf_vnoc_validate(struct conf_cursor *cur);

#endif
