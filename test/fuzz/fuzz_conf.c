/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the two configuration languages an operator (or whoever can
 * write the file) hands us: the ivgmpd configuration (lib/conf,
 * conf_load_string) and the vnocd policy (app/vnocd/vnocd_policy.c,
 * vnocd_policy_load). The first byte picks the parser.
 *
 * The policy loader reads a path, so the input goes into a memfd and the
 * loader gets /proc/self/fd/N: the loader runs unchanged, getline and all.
 * A policy that loads is then asked the questions vnocd asks of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/conf.h"
#include "vnocd.h"

/* vnocd.c's, which holds vnocd's main(): the policy's one outside need. */
const char *
vnocd_roles_str(uint8_t roles)
{
	static const char *const names[] = { "none", "receive", "send", "both" };

	return names[roles & 3];
}

static void
fuzz_conf_load(const uint8_t *data, size_t size)
{
	struct conf *conf = conf_new();
	char err[CONF_ERR_MAX];
	char *text = malloc(size + 1);

	if (conf == NULL || text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (conf_load_string(conf, "fuzz.conf", text, err, sizeof(err)) != 0 &&
	    strncmp(err, "fuzz.conf", 9) != 0)
		abort();        /* every refusal names the file */
	conf_free(conf);
	free(text);
}

static void
fuzz_policy_load(const uint8_t *data, size_t size)
{
	static const char *const sites[] = { "a", "site-1", "admin", "*" };
	struct vnocd_policy *p;
	char path[64], err[512], why[512];
	int fd = memfd_create("fuzz-policy", 0);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	p = vnocd_policy_load(path, err, sizeof(err));
	if (p == NULL) {
		if (err[0] == '\0')
			abort();
	} else {
		/* 224.0.0.0/4 corners and a few inside. */
		static const uint32_t groups[] = { 0xe0000000u, 0xefffffffu, 0xe8010101u,
						   0xef010101u, 0xe0000001u };

		for (unsigned int s = 0; s < 4; s++) {
			for (unsigned int g = 0; g < 5; g++) {
				uint32_t group = __builtin_bswap32(groups[g]);
				uint8_t roles = vnocd_policy_roles(p, sites[s], group, why, sizeof(why));

				if (roles & ~(VNOC_ROLE_SENDER | VNOC_ROLE_RECEIVER))
					abort();
				(void)vnocd_policy_sa_mode(p, group);
			}
		}
		if (vnocd_policy_max_groups_per_site(p) == 0 ||
		    vnocd_policy_max_groups_per_site(p) > VNOC_MAX_GROUPS ||
		    vnocd_policy_max_sites_per_group(p) > VNOC_MAX_MEMBERS)
			abort();
		(void)vnocd_policy_rule_count(p);
		vnocd_policy_free(p);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_policy_load(data + 1, size - 1);
	else
		fuzz_conf_load(data + 1, size - 1);
	return 0;
}
