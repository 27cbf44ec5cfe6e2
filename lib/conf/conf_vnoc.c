/* SPDX-License-Identifier: BSD-3-Clause */
/* Keywords of the VNOC client: who this site is and where the VNOC is. */
#include <string.h>

#include "conf_private.h"

static const char *const vnoc_keywords[] = {
	"site-id", "vnoc-url", "vnoc-ca", "vnoc-cert", "vnoc-key", "vnoc-insecure-http",
	"behind-nat", "vnoc-max-groups", "vnoc-max-inflight", "sa-rekey-packets",
};

bool
conf_vnoc_knows(const char *key)
{
	for (size_t i = 0; i < sizeof(vnoc_keywords) / sizeof(vnoc_keywords[0]); i++)
		if (strcmp(key, vnoc_keywords[i]) == 0)
			return true;
	return false;
}

static int
copy_file(struct conf_cursor *cur, const char *key, const char *value, char *out)
{
	if (strlen(value) >= CONF_FILE_MAX)
		return conf_fail(cur, "%s path is longer than %d characters", key, CONF_FILE_MAX - 1);
	strcpy(out, value);
	return 0;
}

/* argc/argv as on the line: flags take no value, the rest exactly one. */
int
conf_vnoc_parse(struct conf_cursor *cur, char **argv, int argc)
{
	struct conf *conf = cur->conf;
	const char *key = argv[0];

	if (strcmp(key, "vnoc-insecure-http") == 0 || strcmp(key, "behind-nat") == 0) {
		if (argc != 1)
			return conf_fail(cur, "'%s' takes no value", key);
		if (key[0] == 'v')
			conf->vnoc_insecure_http = true;
		else
			conf->udp_encap = true;
		return 0;
	}
	if (argc != 2)
		return conf_fail(cur, argc < 2 ? "missing argument: '%s' needs a value"
					      : "'%s' takes one value", key);
	if (strcmp(key, "vnoc-max-groups") == 0 || strcmp(key, "vnoc-max-inflight") == 0) {
		/* 4096: VNOC_MAX_GROUPS, the most groups one view may hold. */
		bool groups = strcmp(key, "vnoc-max-groups") == 0;
		uint32_t most = groups ? 4096 : 1024;
		uint64_t v;

		if (conf_parse_u64(argv[1], &v) < 0 || v < 1 || v > most)
			return conf_fail(cur, "%s '%s' is not a number from 1 to %u", key, argv[1],
					 most);
		if (groups)
			conf->vnoc_max_groups = (uint32_t)v;
		else
			conf->vnoc_max_inflight = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "sa-rekey-packets") == 0) {
		/* The soft limit of the VNOC's outbound SAs (esp_outb_soft_packets):
		 * values at or above 3/4 of the hard limit change nothing. */
		uint64_t v;

		if (conf_parse_u64(argv[1], &v) < 0 || v < 1)
			return conf_fail(cur, "sa-rekey-packets '%s' is not a number from 1 to "
					 "18446744073709551615", argv[1]);
		conf->sa_rekey_packets = v;
		return 0;
	}
	if (strcmp(key, "site-id") == 0) {
		size_t n = strlen(argv[1]);

		if (n == 0 || n >= CONF_NAME_MAX || strspn(argv[1],
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
			return conf_fail(cur, "site-id '%s' must be 1 to %d letters, digits, '.', "
					 "'_' or '-'", argv[1], CONF_NAME_MAX - 1);
		strcpy(conf->site_id, argv[1]);
		return 0;
	}
	if (strcmp(key, "vnoc-url") == 0) {
		if (conf->n_vnoc_urls == CONF_MAX_VNOC_URLS)
			return conf_fail(cur, "too many vnoc-url lines (at most %d)", CONF_MAX_VNOC_URLS);
		if (strncmp(argv[1], "https://", 8) && strncmp(argv[1], "http://", 7))
			return conf_fail(cur, "vnoc-url '%s' is not an http:// or https:// URL", argv[1]);
		if (strlen(argv[1]) >= CONF_URL_MAX)
			return conf_fail(cur, "vnoc-url is longer than %d characters", CONF_URL_MAX - 1);
		strcpy(conf->vnoc_urls[conf->n_vnoc_urls++], argv[1]);
		return 0;
	}
	if (strcmp(key, "vnoc-ca") == 0)
		return copy_file(cur, key, argv[1], conf->vnoc_ca);
	if (strcmp(key, "vnoc-cert") == 0)
		return copy_file(cur, key, argv[1], conf->vnoc_cert);
	return copy_file(cur, key, argv[1], conf->vnoc_key);
}

/* Whole-file rules of the VNOC keywords. */
int
conf_vnoc_validate(struct conf_cursor *cur)
{
	const struct conf *conf = cur->conf;

	if (conf->n_vnoc_urls == 0)
		return 0;
	if (conf->site_id[0] == '\0')
		return conf_fail(cur, "vnoc-url needs a 'site-id' line: the VNOC knows sites by id");
	for (uint16_t i = 0; i < conf->n_vnoc_urls; i++) {
		if (strncmp(conf->vnoc_urls[i], "http://", 7) == 0 && !conf->vnoc_insecure_http)
			return conf_fail(cur, "vnoc-url %s is plain HTTP: use https://, or say "
					 "'vnoc-insecure-http' (tests only)", conf->vnoc_urls[i]);
		if (strncmp(conf->vnoc_urls[i], "https://", 8) == 0 &&
		    (!conf->vnoc_ca[0] || !conf->vnoc_cert[0] || !conf->vnoc_key[0]))
			return conf_fail(cur, "an https vnoc-url needs vnoc-ca, vnoc-cert and vnoc-key "
					 "(the site's certificate is its identity)");
	}
	return 0;
}
