/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the forwarding state and the SAs cost in memory, from the real
 * structures (doc/scaling.rst quotes what this prints), and the size of the
 * group table a snapshot of 100,000 groups really gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwd/fwd.h"

#define GROUPS_100K 100000u

static void
test_memory_per_group_site_and_sa_printed(void **state)
{
	(void)state;
	print_message("    struct fwd_group     %zu bytes (group table slot)\n",
		      sizeof(struct fwd_group));
	print_message("    site list entry      %zu bytes per (group, site)\n", sizeof(uint16_t));
	print_message("    filter source entry  %zu bytes per (group, source)\n", sizeof(uint32_t));
	print_message("    struct fwd_site      %zu bytes per remote site\n",
		      sizeof(struct fwd_site));
	print_message("    struct fwd_spi_slot  %zu bytes (SPI table slot)\n",
		      sizeof(struct fwd_spi_slot));
	print_message("    struct esp_sa        %zu bytes per SA (of which replay %zu, key %zu)\n",
		      sizeof(struct esp_sa), sizeof(struct esp_replay),
		      sizeof(struct gcm_key_data));
	print_message("    struct fwd_state     %zu bytes per snapshot\n", sizeof(struct fwd_state));
	/* The layout the numbers in doc/scaling.rst come from. */
	assert_int_equal(sizeof(struct fwd_group), 32);
	assert_int_equal(sizeof(struct fwd_site), 24);
	assert_int_equal(sizeof(struct fwd_spi_slot), 16);
	assert_int_equal(sizeof(struct esp_sa) % 64, 0);
}

/* 100,000 groups, each sent to one of 4 sites: the table is the smallest
 * power of two holding twice the groups. */
static void
test_group_table_for_100000_groups(void **state)
{
	static struct esp_sa sa;
	struct fwd_site sites[4];
	struct fwd_group_spec *groups = calloc(GROUPS_100K, sizeof(*groups));
	uint16_t *site_of = calloc(GROUPS_100K, sizeof(*site_of));
	struct fwd_spec spec = { 0 };
	struct fwd_state *fs;
	size_t table, lists;

	(void)state;
	assert_non_null(groups);
	assert_non_null(site_of);
	memset(sites, 0, sizeof(sites));
	for (int i = 0; i < 4; i++) {
		sites[i].wan_addr = 0x0a000001u + (uint32_t)i;
		sites[i].sa_out = &sa;
	}
	for (uint32_t i = 0; i < GROUPS_100K; i++) {
		site_of[i] = (uint16_t)(i % 4);
		/* 239.0.0.0 + i, network order */
		groups[i].group = __builtin_bswap32(0xef000000u + i);
		groups[i].filter = FWD_FILTER_ALL;
		groups[i].n_sites = 1;
		groups[i].sites = &site_of[i];
	}
	spec.n_sites = 4;
	spec.sites = sites;
	spec.n_groups = GROUPS_100K;
	spec.groups = groups;
	spec.wan_mtu = 1500;
	fs = fwd_state_create(&spec);
	assert_non_null(fs);
	assert_int_equal(fs->group_mask + 1, 262144);
	table = (size_t)(fs->group_mask + 1) * sizeof(struct fwd_group);
	lists = GROUPS_100K * sizeof(uint16_t);
	print_message("    100,000 groups: %u slots x %zu bytes = %zu bytes (%.1f MiB) of table,"
		      " + %zu bytes of site lists (1 site each)\n", fs->group_mask + 1,
		      sizeof(struct fwd_group), table, table / 1048576.0, lists);
	for (uint32_t i = 0; i < GROUPS_100K; i += 997)
		assert_non_null(fwd_group_lookup(fs, groups[i].group));
	fwd_state_free(fs);
	free(groups);
	free(site_of);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_per_group_site_and_sa_printed),
		cmocka_unit_test(test_group_table_for_100000_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
