/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Level by level from the sender. A level's room is the sum of the fan-outs
 * of the sites placed on the level above. If every receiver still waiting
 * fits, they all go there and the tree is done. Otherwise the room goes
 * first to forwarders, largest fan-out first (a receiver before a mere
 * relay of the same fan-out, since it is served on the way), then to plain
 * receivers: a forwarder of fan-out f costs one place now and gives f on
 * the next level, so taking it first can only make the next level roomier.
 * A relay that is not a receiver is worth a place only with f >= 2. When a
 * level has no room at all, the receivers still waiting are unserved.
 */
#include <stdlib.h>
#include <string.h>

#include "tree.h"

/* Sort key: fan-out descending, then receivers first, then index. */
static uint64_t
forwarder_key(const struct tree_site *s, uint32_t index)
{
	return (uint64_t)(UINT32_MAX - s->fanout) << 32 | (uint64_t)!s->receiver << 31 | index;
}

static uint32_t
key_index(uint64_t key)
{
	return (uint32_t)key & 0x7fffffffu;
}

static int
key_compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool
forwards(const struct tree_site *s)
{
	return s->relay && s->fanout > 0 && (s->receiver || s->fanout >= 2);
}

/* Hang the level's sites under the level above, each parent up to its
 * fan-out (the room was counted, so all of them find one). */
static void
level_attach(const struct tree_site *sites, const uint32_t *above, uint32_t n_above,
	     const uint32_t *level, uint32_t n_level, uint32_t depth_of_level,
	     uint32_t *parent, uint32_t *depth)
{
	uint32_t k = 0;

	for (uint32_t a = 0; a < n_above && k < n_level; a++) {
		uint32_t children = 0;

		while (children < sites[above[a]].fanout && k < n_level) {
			parent[level[k]] = above[a];
			depth[level[k]] = depth_of_level;
			children++;
			k++;
		}
	}
}

/*
 * A relay that is not a receiver and ended with no child (the level below
 * had room to spare after all) would only cost its parent a copy: out, and
 * its parent again if that was one too. children is n words of scratch.
 */
static void
tree_prune(const struct tree_site *sites, uint32_t n, uint32_t *parent, uint32_t *depth,
	   uint32_t *children, struct tree_stats *stats)
{
	bool pruned = true;

	memset(children, 0, n * sizeof(*children));
	for (uint32_t i = 0; i < n; i++)
		if (parent[i] != TREE_NONE)
			children[parent[i]]++;
	while (pruned) {
		pruned = false;
		for (uint32_t i = 0; i < n; i++) {
			if (parent[i] == TREE_NONE || sites[i].receiver || children[i] > 0)
				continue;
			children[parent[i]]--;
			parent[i] = TREE_NONE;
			depth[i] = 0;
			stats->placed--;
			pruned = true;
		}
	}
	stats->max_depth = 0;
	stats->max_children = 0;
	stats->relays_used = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (depth[i] > stats->max_depth)
			stats->max_depth = depth[i];
		if (children[i] > stats->max_children)
			stats->max_children = children[i];
		if (children[i] > 0 && parent[i] != TREE_NONE)
			stats->relays_used++;
	}
}

int
tree_build(const struct tree_site *sites, uint32_t n, uint32_t sender, uint32_t *parent,
	   uint32_t *depth, void *scratch, struct tree_stats *stats)
{
	uint32_t n_forwarders = 0, next_forwarder = 0, next_plain = 0;
	uint32_t waiting = 0, n_above = 1, d = 0;
	uint64_t *forwarders;
	uint32_t *above, *level;

	if (sender >= n || n > 0x7fffffffu)
		return -1;
	forwarders = scratch;
	above = (uint32_t *)(forwarders + n);
	level = above + n;
	memset(stats, 0, sizeof(*stats));
	for (uint32_t i = 0; i < n; i++) {
		parent[i] = TREE_NONE;
		depth[i] = 0;
		if (i == sender)
			continue;
		waiting += sites[i].receiver;
		if (forwards(&sites[i]))
			forwarders[n_forwarders++] = forwarder_key(&sites[i], i);
	}
	qsort(forwarders, n_forwarders, sizeof(*forwarders), key_compare);
	above[0] = sender;

	while (waiting > 0) {
		uint64_t room = 0;
		uint32_t n_level = 0;

		for (uint32_t a = 0; a < n_above; a++)
			room += sites[above[a]].fanout;
		if (room == 0)
			break;
		d++;
		if (room >= waiting) {
			/* Everyone fits: the receivers among the forwarders
			 * left, then the plain ones. */
			for (; next_forwarder < n_forwarders; next_forwarder++) {
				uint32_t i = key_index(forwarders[next_forwarder]);

				if (sites[i].receiver)
					level[n_level++] = i;
			}
		} else {
			for (; next_forwarder < n_forwarders && n_level < room; next_forwarder++)
				level[n_level++] = key_index(forwarders[next_forwarder]);
		}
		for (; next_plain < n && n_level < room; next_plain++) {
			const struct tree_site *s = &sites[next_plain];

			if (next_plain != sender && s->receiver && !forwards(s))
				level[n_level++] = next_plain;
		}
		level_attach(sites, above, n_above, level, n_level, d, parent, depth);
		n_above = 0;
		for (uint32_t k = 0; k < n_level; k++) {
			const struct tree_site *s = &sites[level[k]];

			waiting -= s->receiver;
			stats->placed++;
			if (forwards(s))
				above[n_above++] = level[k];
		}
	}
	stats->unserved = waiting;
	tree_prune(sites, n, parent, depth, level, stats);
	return 0;
}
