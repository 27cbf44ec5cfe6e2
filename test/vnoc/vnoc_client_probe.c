/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnoc_client_probe: the edge device's VNOC client (lib/vnoc_client, libcurl)
 * run alone against a vnocd, for test_vnocd_client.py. It registers a site,
 * asks for roles in groups, polls for a while and prints what the client
 * reports, one line each:
 *
 *   view VERSION GROUPS SAS
 *   group ADDRESS MEMBER:ROLES ...
 *   sa in|out PEER SPI KEYLEN
 *   denied GROUP ROLES REASON
 *   status STATE VERSION JOINS DENIALS
 *
 * usage: vnoc_client_probe URL CA CERT KEY SITE WAN SECONDS [GROUP=send|receive|both ...]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnoc_client/vnoc_client.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
roles_name(uint8_t roles)
{
	static const char *const names[] = { "none", "receive", "send", "both" };

	return names[roles & 3];
}

static void
probe_view(void *ctx, const struct vnoc_view *view)
{
	char a[INET_ADDRSTRLEN];

	(void)ctx;
	printf("view %llu %u %u\n", (unsigned long long)view->version, view->n_groups, view->n_sas);
	for (uint32_t i = 0; i < view->n_groups; i++) {
		const struct vnoc_group *g = &view->groups[i];

		printf("group %s", inet_ntop(AF_INET, &g->group, a, sizeof(a)));
		for (uint16_t m = 0; m < g->n_members; m++)
			printf(" %s:%s", g->members[m].site, roles_name(g->members[m].roles));
		printf("\n");
	}
	for (uint32_t i = 0; i < view->n_sas; i++)
		printf("sa %s %s %u %u\n", view->sas[i].inbound ? "in" : "out", view->sas[i].peer,
		       view->sas[i].spi, view->sas[i].key_len);
	fflush(stdout);
}

static void
probe_denied(void *ctx, uint32_t group, uint8_t roles, const struct vnoc_fault_info *fault)
{
	char a[INET_ADDRSTRLEN];

	(void)ctx;
	printf("denied %s %s %s\n", inet_ntop(AF_INET, &group, a, sizeof(a)), roles_name(roles),
	       vnoc_fault_name(fault->reason));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct vnoc_client_ops ops = { .view_changed = probe_view, .denied = probe_denied };
	struct vnoc_client_config cfg;
	struct vnoc_client_status st;
	struct vnoc_client *c;
	struct in_addr wan;
	uint64_t end;
	char err[256];

	if (argc < 8) {
		fprintf(stderr, "usage: %s URL CA CERT KEY SITE WAN SECONDS [GROUP=ROLE ...]\n",
			argv[0]);
		return 2;
	}
	vnoc_client_config_defaults(&cfg);
	cfg.n_urls = 1;
	snprintf(cfg.urls[0], sizeof(cfg.urls[0]), "%s", argv[1]);
	snprintf(cfg.ca_file, sizeof(cfg.ca_file), "%s", argv[2]);
	snprintf(cfg.cert_file, sizeof(cfg.cert_file), "%s", argv[3]);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", argv[4]);
	snprintf(cfg.site, sizeof(cfg.site), "%s", argv[5]);
	if (inet_pton(AF_INET, argv[6], &wan) != 1)
		return 2;
	cfg.wan_addr = wan.s_addr;
	snprintf(cfg.software, sizeof(cfg.software), "vnoc_client_probe");
	cfg.watch_timeout_s = 5;
	c = vnoc_client_create(&cfg, &ops, NULL, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "vnoc_client_create: %s\n", err);
		return 1;
	}
	for (int i = 8; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		struct in_addr g;
		uint8_t roles;

		if (eq == NULL)
			return 2;
		*eq = '\0';
		roles = strcmp(eq + 1, "send") == 0 ? 2 : strcmp(eq + 1, "receive") == 0 ? 1 : 3;
		if (inet_pton(AF_INET, argv[i], &g) != 1)
			return 2;
		vnoc_client_set_roles(c, g.s_addr, roles, now_ms());
	}
	end = now_ms() + (uint64_t)atoi(argv[7]) * 1000;
	while (now_ms() < end) {
		struct timespec ms = { 0, 1000000 };

		vnoc_client_poll(c, now_ms());
		nanosleep(&ms, NULL);
	}
	vnoc_client_status(c, &st);
	printf("status %s %llu %llu %llu %s\n", vnoc_client_state_name(st.state),
	       (unsigned long long)st.version,
	       (unsigned long long)st.counters[VNOC_CLIENT_CTR_joins],
	       (unsigned long long)st.counters[VNOC_CLIENT_CTR_denials],
	       st.last_error[0] ? st.last_error : "-");
	vnoc_client_free(c);
	return 0;
}
