/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_config.h>         /* RTE_MAX_LCORE, the bound of "workers" */

#include "pkt/pkt.h"
#include "conf_private.h"

#define CONF_MAX_WORDS (CONF_MAX_SITES + 8)

int
conf_fail(struct conf_cursor *cur, const char *fmt, ...)
{
	char reason[CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (cur->line)
		snprintf(cur->err, cur->err_len, "%s:%u: %s", cur->name, cur->line, reason);
	else
		snprintf(cur->err, cur->err_len, "%s: %s", cur->name, reason);
	return -1;
}

int
conf_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	int base = 10;

	/* Decimal, or hex after 0x; never octal: "0400" is four hundred. */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s < '0' || *s > '9') {
		if (base == 10 || !((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return -1;
	}
	errno = 0;
	*v = strtoull(s, &end, base);
	return (errno || *end) ? -1 : 0;
}

static int
parse_ranged(struct conf_cursor *cur, const char *what, const char *s,
	     uint64_t min, uint64_t max, uint64_t *v)
{
	if (conf_parse_u64(s, v) < 0 || *v < min || *v > max)
		return conf_fail(cur, "%s '%s' is not a number from %llu to %llu", what, s,
				 (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int
parse_window(struct conf_cursor *cur, const char *s, uint32_t *window)
{
	uint64_t v = 0;

	if (parse_ranged(cur, "replay-window", s, 64, ESP_REPLAY_WINDOW_MAX, &v) < 0)
		return -1;
	if (v & (v - 1))
		return conf_fail(cur, "replay-window %s is not a power of two", s);
	*window = (uint32_t)v;
	return 0;
}

static int
parse_addr(struct conf_cursor *cur, const char *what, const char *s, uint32_t *addr)
{
	if (conf_parse_ipv4(s, addr) < 0)
		return conf_fail(cur, "%s '%s' is not an IPv4 address", what, s);
	return 0;
}

static int
need_args(struct conf_cursor *cur, int argc, int n, const char *usage)
{
	if (argc < n)
		return conf_fail(cur, "missing argument: expected '%s'", usage);
	return 0;
}

static int
parse_port(struct conf_cursor *cur, char **argv, int argc, char *port)
{
	if (need_args(cur, argc, 2, "lan-port|wan-port NAME") < 0)
		return -1;
	if (argc > 2)
		return conf_fail(cur, "unexpected '%s' after the port", argv[2]);
	if (strlen(argv[1]) >= CONF_PORT_MAX)
		return conf_fail(cur, "port name '%s' is too long", argv[1]);
	strcpy(port, argv[1]);
	return 0;
}

static int
parse_site(struct conf_cursor *cur, char **argv, int argc)
{
	struct conf *conf = cur->conf;
	struct conf_site *site;

	if (need_args(cur, argc, 3, "site NAME A.B.C.D [mac MAC] [udp-encap]") < 0)
		return -1;
	if (strlen(argv[1]) >= CONF_NAME_MAX)
		return conf_fail(cur, "site name '%s' is longer than %d characters",
				 argv[1], CONF_NAME_MAX - 1);
	if (conf_site_find(conf, argv[1]) >= 0)
		return conf_fail(cur, "duplicate site '%s'", argv[1]);
	if (conf->n_sites == CONF_MAX_SITES)
		return conf_fail(cur, "too many sites (at most %d)", CONF_MAX_SITES);
	site = &conf->sites[conf->n_sites];
	memset(site, 0, sizeof(*site));
	site->sa_out = -1;
	strcpy(site->name, argv[1]);
	site->line = cur->line;
	if (parse_addr(cur, "site address", argv[2], &site->wan_addr) < 0)
		return -1;
	if (pkt_ipv4_is_multicast(site->wan_addr))
		return conf_fail(cur, "site address %s is multicast", argv[2]);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "udp-encap") == 0) {
			site->udp_encap = true;
		} else if (strcmp(argv[i], "mac") == 0) {
			if (i + 1 == argc)
				return conf_fail(cur, "missing argument: 'mac' needs a MAC address");
			if (conf_parse_mac(argv[++i], site->mac) < 0)
				return conf_fail(cur, "'%s' is not a MAC address", argv[i]);
			site->has_mac = true;
		} else {
			return conf_fail(cur, "unknown site option '%s'", argv[i]);
		}
	}
	conf->n_sites++;
	return 0;
}

static int
parse_sa_key(struct conf_cursor *cur, const char *hex, struct esp_sa_params *p)
{
	unsigned int key_len = esp_aead_key_len(p->aead);
	uint8_t material[32 + ESP_SALT_LEN];

	const char *digits = (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) ? hex + 2 : hex;

	if (strlen(digits) != 2 * (key_len + ESP_SALT_LEN))
		return conf_fail(cur, "key for %s must be %u hex digits (key and 4-byte salt), "
				 "got %zu", esp_aead_name(p->aead), 2 * (key_len + ESP_SALT_LEN),
				 strlen(digits));
	if (conf_parse_hex(hex, material, key_len + ESP_SALT_LEN) < 0)
		return conf_fail(cur, "key '%s' has a character that is not a hex digit", hex);
	memcpy(p->key, material, key_len);
	memcpy(p->salt, material + key_len, ESP_SALT_LEN);
	return 0;
}

static int
parse_sa_options(struct conf_cursor *cur, char **argv, int argc, struct esp_sa_params *p)
{
	uint64_t v = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "esn") == 0) {
			p->esn = true;
			continue;
		}
		if (i + 1 >= argc)
			return conf_fail(cur, "unknown SA option '%s'", argv[i]);
		if (strcmp(argv[i], "replay-window") == 0) {
			if (parse_window(cur, argv[++i], &p->replay_window) < 0)
				return -1;
		} else if (strcmp(argv[i], "lifetime-packets") == 0) {
			if (parse_ranged(cur, "lifetime-packets", argv[++i], 1, UINT64_MAX, &v) < 0)
				return -1;
			p->lifetime_packets = v;
		} else if (strcmp(argv[i], "lifetime-bytes") == 0) {
			if (parse_ranged(cur, "lifetime-bytes", argv[++i], 1, UINT64_MAX, &v) < 0)
				return -1;
			p->lifetime_bytes = v;
		} else {
			return conf_fail(cur, "unknown SA option '%s'", argv[i]);
		}
	}
	return 0;
}

/* sa out|in SITE spi N AEAD key HEX [options] */
/* A group of a group or group-sa line: multicast, and not link-local. */
static int
parse_group_addr(struct conf_cursor *cur, const char *text, uint32_t *addr)
{
	if (parse_addr(cur, "group", text, addr) < 0)
		return -1;
	if (!pkt_ipv4_is_multicast(*addr))
		return conf_fail(cur, "group %s is not a multicast address", text);
	if (pkt_ipv4_is_link_local_multicast(*addr))
		return conf_fail(cur, "group %s is link-local (224.0.0.0/24 never leaves the site)",
				 text);
	return 0;
}

/* "spi N AEAD key HEX [options]" of an sa or group-sa line, argv at "spi". */
static int
parse_sa_keying(struct conf_cursor *cur, char **argv, int argc, const char *usage,
		const char *after, struct esp_sa_params *params)
{
	uint64_t spi;

	if (strcmp(argv[0], "spi") != 0)
		return conf_fail(cur, "expected 'spi' after the %s, got '%s'", after, argv[0]);
	if (conf_parse_u64(argv[1], &spi) < 0 || spi > UINT32_MAX)
		return conf_fail(cur, "SPI '%s' is not a 32-bit number", argv[1]);
	if (spi < 256)
		return conf_fail(cur, "SPI %s is reserved (RFC 4303: SPIs 0-255 are not for SAs)",
				 argv[1]);
	params->spi = (uint32_t)spi;
	if (esp_aead_from_name(argv[2], &params->aead) < 0)
		return conf_fail(cur, "unknown AEAD '%s' (aes-gcm-128 or aes-gcm-256)", argv[2]);
	if (strcmp(argv[3], "key") != 0 || argc < 5)
		return conf_fail(cur, "missing argument: expected '%s'", usage);
	if (parse_sa_key(cur, argv[4], params) < 0)
		return -1;
	return parse_sa_options(cur, argv + 5, argc - 5, params);
}

static int
parse_sa(struct conf_cursor *cur, char **argv, int argc)
{
	static const char usage[] = "sa out|in SITE spi N AEAD key HEX [esn] "
		"[replay-window N] [lifetime-packets N] [lifetime-bytes N]";
	struct conf *conf = cur->conf;
	struct conf_sa *sa;
	int site;

	if (need_args(cur, argc, 7, usage) < 0)
		return -1;
	if (conf->n_sas == CONF_MAX_SAS)
		return conf_fail(cur, "too many SAs (at most %d)", CONF_MAX_SAS);
	sa = &conf->sas[conf->n_sas];
	memset(sa, 0, sizeof(*sa));
	if (strcmp(argv[1], "in") == 0)
		sa->inbound = true;
	else if (strcmp(argv[1], "out") != 0)
		return conf_fail(cur, "SA direction '%s' is neither 'in' nor 'out'", argv[1]);
	site = conf_site_find(conf, argv[2]);
	if (site < 0)
		return conf_fail(cur, "unknown site '%s' (declare it with a 'site' line first)",
				 argv[2]);
	sa->site = (uint16_t)site;
	if (parse_sa_keying(cur, argv + 3, argc - 3, usage, "site", &sa->params) < 0)
		return -1;

	for (uint16_t i = 0; i < conf->n_sas; i++) {
		const struct conf_sa *other = &conf->sas[i];

		if (sa->inbound && other->inbound && other->params.spi == sa->params.spi)
			return conf_fail(cur, "duplicate inbound SPI 0x%x", sa->params.spi);
		if (other->group && other->params.spi == sa->params.spi)
			return conf_fail(cur, "SPI 0x%x is already the group SA of a group-sa line",
					 sa->params.spi);
	}
	if (!sa->inbound) {
		if (conf->sites[site].sa_out >= 0)
			return conf_fail(cur, "site '%s' already has an outbound SA", argv[2]);
		conf->sites[site].sa_out = conf->n_sas;
	}
	conf->n_sas++;
	return 0;
}

static struct conf_group *
group_find_or_add(struct conf *conf, uint32_t group, unsigned int line)
{
	struct conf_group *g;

	for (uint32_t i = 0; i < conf->n_groups; i++)
		if (conf->groups[i].group == group)
			return &conf->groups[i];
	if (conf->n_groups == CONF_MAX_GROUPS)
		return NULL;
	g = &conf->groups[conf->n_groups++];
	memset(g, 0, sizeof(*g));
	g->group = group;
	g->line = line;
	return g;
}

static struct conf_group *group_find_or_add(struct conf *conf, uint32_t group,
					    unsigned int line);

/*
 * group-sa G spi N AEAD key HEX [esn] [lifetime-packets N] [lifetime-bytes N]
 *
 * One outbound SA for every site group G is sent to (design.md 4, group
 * mode): each packet is encrypted once. Its SPI clashes with no other SA of
 * the file: the receivers look it up by SPI like any inbound SA.
 */
static int
parse_group_sa(struct conf_cursor *cur, char **argv, int argc)
{
	static const char usage[] = "group-sa G spi N AEAD key HEX [esn] "
		"[lifetime-packets N] [lifetime-bytes N]";
	struct conf *conf = cur->conf;
	struct conf_group *g;
	struct conf_sa *sa;
	uint32_t addr;

	if (need_args(cur, argc, 7, usage) < 0)
		return -1;
	if (parse_group_addr(cur, argv[1], &addr) < 0)
		return -1;
	if (conf->n_sas == CONF_MAX_SAS)
		return conf_fail(cur, "too many SAs (at most %d)", CONF_MAX_SAS);
	sa = &conf->sas[conf->n_sas];
	memset(sa, 0, sizeof(*sa));
	sa->group = true;
	sa->group_addr = addr;
	if (parse_sa_keying(cur, argv + 2, argc - 2, usage, "group", &sa->params) < 0)
		return -1;
	if (sa->params.replay_window)
		return conf_fail(cur, "replay-window is for inbound SAs; a group-sa is outbound");
	for (uint16_t i = 0; i < conf->n_sas; i++)
		if (conf->sas[i].params.spi == sa->params.spi)
			return conf_fail(cur, "SPI 0x%x is already used by another SA of this file",
					 sa->params.spi);
	g = group_find_or_add(conf, addr, cur->line);
	if (g == NULL)
		return conf_fail(cur, "too many groups (at most %d)", CONF_MAX_GROUPS);
	if (g->has_group_sa)
		return conf_fail(cur, "group %s already has a group-sa (line %u)", argv[1],
				 g->group_sa_line);
	g->has_group_sa = true;
	g->group_sa = conf->n_sas;
	g->group_sa_line = cur->line;
	conf->n_sas++;
	return 0;
}

/* group G send-to SITE... | group G receive */
static int
parse_group(struct conf_cursor *cur, char **argv, int argc)
{
	struct conf *conf = cur->conf;
	struct conf_group *g;
	uint32_t addr;

	if (need_args(cur, argc, 3, "group G send-to SITE [SITE ...] | group G receive") < 0)
		return -1;
	if (parse_group_addr(cur, argv[1], &addr) < 0)
		return -1;
	if (strcmp(argv[2], "receive") == 0) {
		if (argc > 3)
			return conf_fail(cur, "unexpected '%s' after 'receive'", argv[3]);
	} else if (strcmp(argv[2], "send-to") == 0) {
		if (argc < 4)
			return conf_fail(cur, "missing argument: 'send-to' needs at least one site");
	} else {
		return conf_fail(cur, "expected 'send-to' or 'receive', got '%s'", argv[2]);
	}
	g = group_find_or_add(conf, addr, cur->line);
	if (g == NULL)
		return conf_fail(cur, "too many groups (at most %d)", CONF_MAX_GROUPS);
	if (argc == 3) {
		g->receive = true;
		return 0;
	}
	for (int i = 3; i < argc; i++) {
		int site = conf_site_find(conf, argv[i]);
		bool listed = false;

		if (site < 0)
			return conf_fail(cur, "unknown site '%s'", argv[i]);
		for (uint16_t j = 0; j < g->n_send_to; j++)
			listed |= g->send_to[j] == site;
		if (!listed)
			g->send_to[g->n_send_to++] = (uint16_t)site;
	}
	return 0;
}

static int
parse_line(struct conf_cursor *cur, char **argv, int argc)
{
	struct conf *conf = cur->conf;
	const char *key = argv[0];
	uint64_t v = 0;

	if (strcmp(key, "lan-port") == 0)
		return parse_port(cur, argv, argc, conf->lan_port);
	if (strcmp(key, "wan-port") == 0)
		return parse_port(cur, argv, argc, conf->wan_port);
	if (strcmp(key, "site") == 0)
		return parse_site(cur, argv, argc);
	if (strcmp(key, "sa") == 0)
		return parse_sa(cur, argv, argc);
	if (strcmp(key, "group") == 0)
		return parse_group(cur, argv, argc);
	if (strcmp(key, "group-sa") == 0)
		return parse_group_sa(cur, argv, argc);
	if (conf_vnoc_knows(key))
		return conf_vnoc_parse(cur, argv, argc);

	/* The rest are "keyword value". */
	if (strcmp(key, "wan-address") && strcmp(key, "wan-nexthop-mac") &&
	    strcmp(key, "outer-ttl") && strcmp(key, "outer-df") &&
	    strcmp(key, "replay-window") && strcmp(key, "wan-mtu") &&
	    strcmp(key, "workers") && !conf_membership_knows(key))
		return conf_fail(cur, "unknown keyword '%s'", key);
	if (argc != 2)
		return conf_fail(cur, argc < 2 ? "missing argument: '%s' needs a value"
					      : "'%s' takes one value", key);
	if (conf_membership_knows(key))
		return conf_membership_parse(cur, key, argv[1]);
	if (strcmp(key, "wan-address") == 0) {
		if (parse_addr(cur, "wan-address", argv[1], &conf->wan_addr) < 0)
			return -1;
		if (conf->wan_addr == 0 || pkt_ipv4_is_multicast(conf->wan_addr) ||
		    conf->wan_addr == 0xffffffff)
			return conf_fail(cur, "wan-address %s is not a unicast address", argv[1]);
		return 0;
	}
	if (strcmp(key, "wan-nexthop-mac") == 0) {
		if (conf_parse_mac(argv[1], conf->nexthop_mac) < 0)
			return conf_fail(cur, "'%s' is not a MAC address", argv[1]);
		conf->has_nexthop_mac = true;
		return 0;
	}
	if (strcmp(key, "outer-ttl") == 0) {
		if (parse_ranged(cur, "outer-ttl", argv[1], 1, 255, &v) < 0)
			return -1;
		conf->outer_ttl = (uint8_t)v;
		return 0;
	}
	if (strcmp(key, "outer-df") == 0) {
		if (strcmp(argv[1], "copy") == 0)
			conf->outer_df = CONF_DF_COPY;
		else if (strcmp(argv[1], "set") == 0)
			conf->outer_df = CONF_DF_SET;
		else if (strcmp(argv[1], "clear") == 0)
			conf->outer_df = CONF_DF_CLEAR;
		else
			return conf_fail(cur, "outer-df '%s' is not copy, set or clear", argv[1]);
		return 0;
	}
	if (strcmp(key, "replay-window") == 0)
		return parse_window(cur, argv[1], &conf->replay_window);
	if (strcmp(key, "workers") == 0) {
		/* One lcore stays the main (management) lcore. */
		if (parse_ranged(cur, "workers", argv[1], 1, RTE_MAX_LCORE - 1, &v) < 0)
			return -1;
		conf->workers = (uint32_t)v;
		return 0;
	}
	if (parse_ranged(cur, "wan-mtu", argv[1], 576, 9600, &v) < 0)
		return -1;
	conf->wan_mtu = (uint16_t)v;
	return 0;
}

/* Whole-file rules, checked once every line is read. */
static int
conf_validate(struct conf_cursor *cur)
{
	struct conf *conf = cur->conf;

	cur->line = 0;
	/* A replay-window line covers every inbound SA, wherever it stands. */
	for (uint16_t i = 0; i < conf->n_sas; i++)
		if (conf->sas[i].params.replay_window == 0)
			conf->sas[i].params.replay_window = conf->replay_window;
	if (conf->lan_port[0] == '\0')
		return conf_fail(cur, "no 'lan-port' line");
	if (conf->wan_port[0] == '\0')
		return conf_fail(cur, "no 'wan-port' line");
	if (conf->wan_addr == 0)
		return conf_fail(cur, "no 'wan-address' line");
	if (conf_vnoc_validate(cur) < 0)
		return -1;
	if (conf->n_vnoc_urls && !conf->has_nexthop_mac)
		return conf_fail(cur, "vnoc-url needs 'wan-nexthop-mac': sites learnt from the "
				 "VNOC are reached through the next hop");
	for (uint16_t i = 0; i < conf->n_sites; i++) {
		if (!conf->sites[i].has_mac && !conf->has_nexthop_mac) {
			cur->line = conf->sites[i].line;
			return conf_fail(cur, "site '%s' has no 'mac' and there is no "
					 "'wan-nexthop-mac' line", conf->sites[i].name);
		}
	}
	for (uint32_t i = 0; i < conf->n_groups; i++) {
		const struct conf_group *g = &conf->groups[i];

		if (g->has_group_sa && g->n_send_to == 0) {
			cur->line = g->group_sa_line;
			return conf_fail(cur, "group-sa for a group with no 'send-to' line: "
					 "nothing would be sent with it");
		}
		/* ivgmpd adds the VNOC's receivers of a group to its configured
		 * sites: they would get copies under a key they never had. */
		if (g->has_group_sa && conf->n_vnoc_urls) {
			cur->line = g->group_sa_line;
			return conf_fail(cur, "group-sa is for static configurations: with a "
					 "vnoc-url, the VNOC's sites of the group could not "
					 "decrypt its copies");
		}
		/* A group SA carries every copy: the sites need no 'sa out'. */
		for (uint16_t j = 0; j < g->n_send_to && !g->has_group_sa; j++) {
			const struct conf_site *site = &conf->sites[g->send_to[j]];

			if (site->sa_out < 0) {
				cur->line = g->line;
				return conf_fail(cur, "group sends to site '%s', which has no "
						 "'sa out' line", site->name);
			}
		}
	}
	return 0;
}

static int
conf_parse_text(struct conf_cursor *cur, char *text)
{
	char *saveptr = NULL;
	char *line;

	cur->line = 0;
	/* Count lines ourselves: strtok_r would skip empty ones. */
	for (line = text; line != NULL; ) {
		char *next = strchr(line, '\n');
		char *argv[CONF_MAX_WORDS];
		int argc = 0;
		char *word;

		if (next)
			*next++ = '\0';
		cur->line++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		for (word = strtok_r(line, " \t\r", &saveptr); word;
		     word = strtok_r(NULL, " \t\r", &saveptr)) {
			if (argc == CONF_MAX_WORDS)
				return conf_fail(cur, "more than %d words on one line", CONF_MAX_WORDS);
			argv[argc++] = word;
		}
		if (argc > 0 && parse_line(cur, argv, argc) < 0)
			return -1;
		line = next;
	}
	return conf_validate(cur);
}

int
conf_load_string(struct conf *conf, const char *name, const char *text,
		 char *err, size_t err_len)
{
	struct conf_cursor cur = { conf, name, 0, err, err_len };
	char *copy = strdup(text);
	int ret;

	if (copy == NULL)
		return conf_fail(&cur, "out of memory");
	ret = conf_parse_text(&cur, copy);
	free(copy);
	return ret;
}

int
conf_load_file(struct conf *conf, const char *path, char *err, size_t err_len)
{
	struct conf_cursor cur = { conf, path, 0, err, err_len };
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	int ret;

	if (f == NULL)
		return conf_fail(&cur, "cannot open: %s", strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return conf_fail(&cur, "cannot read: %s", strerror(errno));
	}
	if (size > 16 * 1024 * 1024) {
		fclose(f);
		return conf_fail(&cur, "larger than 16 MiB");
	}
	text = malloc((size_t)size + 1);
	if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		fclose(f);
		return conf_fail(&cur, "cannot read: %s", strerror(errno));
	}
	fclose(f);
	text[size] = '\0';
	if (strlen(text) != (size_t)size) {
		free(text);
		return conf_fail(&cur, "contains a NUL byte: not a text file");
	}
	ret = conf_parse_text(&cur, text);
	free(text);
	return ret;
}

struct conf *
conf_new(void)
{
	struct conf *conf = calloc(1, sizeof(*conf));

	if (conf == NULL)
		return NULL;
	conf->groups = calloc(CONF_MAX_GROUPS, sizeof(*conf->groups));
	if (conf->groups == NULL) {
		free(conf);
		return NULL;
	}
	conf->outer_ttl = 64;
	conf->outer_df = CONF_DF_COPY;
	conf->replay_window = ESP_REPLAY_WINDOW_DEFAULT;
	conf->wan_mtu = 1500;
	conf_membership_defaults(conf);
	return conf;
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->groups);
	free(conf);
}

int
conf_site_find(const struct conf *conf, const char *name)
{
	for (uint16_t i = 0; i < conf->n_sites; i++)
		if (strcmp(conf->sites[i].name, name) == 0)
			return i;
	return -1;
}
