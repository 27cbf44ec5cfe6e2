/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/tree: distribution trees over relay sites (001 section 3.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tree/tree.h"

#define SITES_MAX 400
#define UNLIMITED TREE_FANOUT_UNLIMITED

struct built {
	uint32_t parent[SITES_MAX];
	uint32_t depth[SITES_MAX];
	uint32_t children[SITES_MAX];
	struct tree_stats stats;
};

static void
build(const struct tree_site *sites, uint32_t n, uint32_t sender, struct built *b)
{
	static uint8_t scratch[TREE_SCRATCH_SIZE(SITES_MAX)];

	assert_true(n <= SITES_MAX);
	assert_int_equal(tree_build(sites, n, sender, b->parent, b->depth, scratch, &b->stats), 0);
	memset(b->children, 0, sizeof(b->children));
	for (uint32_t i = 0; i < n; i++)
		if (b->parent[i] != TREE_NONE)
			b->children[b->parent[i]]++;
}

/*
 * What every tree must be, whatever the input: each receiver placed once
 * or counted unserved; depth one more than the parent's, so following
 * parents reaches the sender (no loop); no site over its fan-out; a placed
 * site that is not a receiver forwards to someone; and receivers are left
 * out only when every forwarder in the tree is full.
 */
static void
assert_tree_sound(const struct tree_site *sites, uint32_t n, uint32_t sender,
		  const struct built *b)
{
	uint32_t unserved = 0, placed = 0, max_depth = 0;
	bool all_full = true;

	assert_int_equal(b->parent[sender], TREE_NONE);
	assert_int_equal(b->depth[sender], 0);
	for (uint32_t i = 0; i < n; i++) {
		if (i == sender)
			continue;
		if (b->parent[i] == TREE_NONE) {
			assert_int_equal(b->depth[i], 0);
			unserved += sites[i].receiver;
			continue;
		}
		placed++;
		assert_int_equal(b->depth[i], b->depth[b->parent[i]] + 1);
		assert_true(b->parent[i] == sender || b->parent[b->parent[i]] != TREE_NONE);
		assert_true(b->parent[i] == sender || sites[b->parent[i]].relay);
		if (!sites[i].receiver)
			assert_true(b->children[i] > 0);
		if (b->depth[i] > max_depth)
			max_depth = b->depth[i];
	}
	for (uint32_t i = 0; i < n; i++) {
		assert_true(b->children[i] <= sites[i].fanout);
		if ((i == sender || (b->parent[i] != TREE_NONE && sites[i].relay)) &&
		    b->children[i] < sites[i].fanout)
			all_full = false;
	}
	assert_int_equal(b->stats.unserved, unserved);
	assert_int_equal(b->stats.placed, placed);
	assert_int_equal(b->stats.max_depth, max_depth);
	if (unserved > 0)
		assert_true(all_full);
}

static void
test_unlimited_sender_makes_a_star(void **state)
{
	struct tree_site sites[6] = { { UNLIMITED, false, false } };
	struct built b;

	(void)state;
	for (int i = 1; i < 6; i++)
		sites[i] = (struct tree_site){ UNLIMITED, true, true };
	build(sites, 6, 0, &b);
	assert_tree_sound(sites, 6, 0, &b);
	for (int i = 1; i < 6; i++) {
		assert_int_equal(b.parent[i], 0);
		assert_int_equal(b.depth[i], 1);
	}
	assert_int_equal(b.stats.max_depth, 1);
	assert_int_equal(b.stats.relays_used, 0);
	assert_int_equal(b.stats.max_children, 5);
}

/* The paper's thin uplink: one copy leaves the sender, relays do the rest. */
static void
test_sender_with_fanout_one_reaches_every_receiver_through_relays(void **state)
{
	struct tree_site sites[8] = {
		{ 1, false, false },            /* the sender */
		{ 3, true, true },              /* receiving relays */
		{ 3, true, true },
	};
	struct built b;

	(void)state;
	for (int i = 3; i < 8; i++)
		sites[i] = (struct tree_site){ 0, true, false };
	build(sites, 8, 0, &b);
	assert_tree_sound(sites, 8, 0, &b);
	assert_int_equal(b.stats.unserved, 0);
	assert_int_equal(b.children[0], 1);
	/* 1 relay, then 3 (the other relay first), then the rest. */
	assert_int_equal(b.depth[1], 1);
	assert_int_equal(b.depth[2], 2);
	assert_int_equal(b.stats.max_depth, 3);
	assert_int_equal(b.stats.relays_used, 2);
}

static void
test_relay_that_is_no_receiver_is_used_only_where_it_adds_room(void **state)
{
	struct tree_site few[4] = {
		{ 2, false, false }, { 8, false, true }, { 0, true, false }, { 0, true, false },
	};
	struct tree_site many[8] = {
		{ 2, false, false }, { 8, false, true }, { 1, false, true },
	};
	struct built b;

	(void)state;
	/* Two receivers, room for two: the relay is not needed. */
	build(few, 4, 0, &b);
	assert_tree_sound(few, 4, 0, &b);
	assert_int_equal(b.parent[1], TREE_NONE);
	assert_int_equal(b.stats.relays_used, 0);

	/* Five receivers, room for two: the fan-out 8 relay carries them; the
	 * fan-out 1 relay that receives nothing would add no room. */
	for (int i = 3; i < 8; i++)
		many[i] = (struct tree_site){ 0, true, false };
	build(many, 8, 0, &b);
	assert_tree_sound(many, 8, 0, &b);
	assert_int_equal(b.stats.unserved, 0);
	assert_int_equal(b.parent[1], 0);
	assert_int_equal(b.parent[2], TREE_NONE);
	assert_int_equal(b.stats.relays_used, 1);
	assert_int_equal(b.stats.max_depth, 2);
}

static void
test_receivers_beyond_all_fanout_are_counted_unserved(void **state)
{
	struct tree_site sites[5] = {
		{ 1, false, false }, { 0, true, false }, { 0, true, false }, { 0, true, false },
		{ 0, true, true },      /* relay with no uplink: forwards nothing */
	};
	struct built b;

	(void)state;
	build(sites, 5, 0, &b);
	assert_tree_sound(sites, 5, 0, &b);
	assert_int_equal(b.stats.placed, 1);
	assert_int_equal(b.stats.unserved, 3);
}

/* Fan-out 2 everywhere: a full binary tree, 2 + 4 + 8 + 16 + 32 = 62. */
static void
test_fanout_two_relays_give_logarithmic_depth(void **state)
{
	struct tree_site sites[63] = { { 2, false, false } };
	struct built b;

	(void)state;
	for (int i = 1; i < 63; i++)
		sites[i] = (struct tree_site){ 2, true, true };
	build(sites, 63, 0, &b);
	assert_tree_sound(sites, 63, 0, &b);
	assert_int_equal(b.stats.unserved, 0);
	assert_int_equal(b.stats.max_depth, 5);
	assert_int_equal(b.stats.max_children, 2);
}

/* The sender need not be site 0, and is never its own child; on equal
 * fan-out the lower index goes first. */
static void
test_sender_anywhere_in_the_array(void **state)
{
	struct tree_site sites[4] = {
		{ 1, true, true }, { 1, true, true }, { 1, false, false }, { 0, true, false },
	};
	struct built b;

	(void)state;
	build(sites, 4, 2, &b);
	assert_tree_sound(sites, 4, 2, &b);
	assert_int_equal(b.parent[0], 2);
	assert_int_equal(b.parent[1], 0);
	assert_int_equal(b.parent[3], 1);
	assert_int_equal(b.stats.unserved, 0);
	assert_int_equal(b.stats.max_depth, 3);
	assert_int_equal(tree_build(sites, 4, 4, b.parent, b.depth, NULL, &b.stats), -1);
}

static void
test_random_sites_always_give_sound_trees(void **state)
{
	static struct tree_site sites[SITES_MAX];
	static struct built b, again;
	unsigned int seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint32_t n = 2 + (uint32_t)rand_r(&seed) % (SITES_MAX - 1);
		uint32_t sender = (uint32_t)rand_r(&seed) % n;

		for (uint32_t i = 0; i < n; i++) {
			int r = rand_r(&seed);

			sites[i].receiver = r & 1;
			sites[i].relay = (r >> 1) % 4 == 0;
			sites[i].fanout = (r >> 3) % 8 == 0 ? UNLIMITED : (uint32_t)(r >> 6) % 5;
		}
		build(sites, n, sender, &b);
		assert_tree_sound(sites, n, sender, &b);
		/* The same sites, the same tree. */
		build(sites, n, sender, &again);
		assert_memory_equal(b.parent, again.parent, n * sizeof(b.parent[0]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited_sender_makes_a_star),
		cmocka_unit_test(test_sender_with_fanout_one_reaches_every_receiver_through_relays),
		cmocka_unit_test(test_relay_that_is_no_receiver_is_used_only_where_it_adds_room),
		cmocka_unit_test(test_receivers_beyond_all_fanout_are_counted_unserved),
		cmocka_unit_test(test_fanout_two_relays_give_logarithmic_depth),
		cmocka_unit_test(test_sender_anywhere_in_the_array),
		cmocka_unit_test(test_random_sites_always_give_sound_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
