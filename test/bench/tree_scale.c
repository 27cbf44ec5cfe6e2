/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tree_scale [SITES [GROUPS [SEED]]]      (defaults 1000 1000 1)
 *
 * lib/tree at issue #8's scale, without packets: SITES sites (a tenth of
 * them relays with fan-out 8 to 32, the others an uplink of 4 to 64 copies
 * or unlimited), GROUPS groups of random sizes (most small, some with
 * hundreds of sites: size = 2 + SITES^u for u uniform in [0, 1)), each with
 * one to three senders, a fifth of the senders with fan-out 2 (a thin
 * uplink). Every (group, sender) tree is built as vnocd will on a change,
 * and checked: every receiver once, no site over its fan-out. Prints the
 * build time per tree (median, p99, max, in microseconds of this CPU), the
 * depth reached, the fullest site against its cap and the receivers left
 * unserved. Exits 1 if a tree is unsound.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tree/tree.h"

struct scale_site {
	uint32_t uplink;
	bool relay;
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
double_compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Every receiver placed once or unserved, every site within its fan-out. */
static bool
tree_sound(const struct tree_site *sites, uint32_t n, uint32_t sender, const uint32_t *parent,
	   uint32_t *children, const struct tree_stats *st)
{
	uint32_t unserved = 0;

	memset(children, 0, n * sizeof(*children));
	for (uint32_t i = 0; i < n; i++) {
		if (i == sender)
			continue;
		if (parent[i] == TREE_NONE)
			unserved += sites[i].receiver;
		else
			children[parent[i]]++;
	}
	for (uint32_t i = 0; i < n; i++)
		if (children[i] > sites[i].fanout)
			return false;
	return unserved == st->unserved;
}

int
main(int argc, char **argv)
{
	uint32_t n_sites = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000;
	uint32_t n_groups = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000;
	unsigned int seed = argc > 3 ? (unsigned int)atoi(argv[3]) : 1;
	struct scale_site *all = calloc(n_sites, sizeof(*all));
	struct tree_site *sites = calloc(n_sites, sizeof(*sites));
	uint32_t *members = calloc(n_sites, sizeof(*members));
	uint32_t *parent = calloc(n_sites, sizeof(*parent));
	uint32_t *depth = calloc(n_sites, sizeof(*depth));
	uint32_t *children = calloc(n_sites, sizeof(*children));
	void *scratch = malloc(TREE_SCRATCH_SIZE(n_sites));
	double *took = calloc((size_t)n_groups * 3, sizeof(*took));
	uint64_t receivers = 0, unserved = 0, relays_used = 0;
	uint32_t n_trees = 0, max_depth = 0, thin_max_depth = 0, bad = 0, n_relays = 0;
	double fullest = 0, total = 0;

	if (n_sites < 2 || n_groups == 0 || !all || !sites || !members || !parent || !depth ||
	    !children || !scratch || !took) {
		fprintf(stderr, "usage: tree_scale [SITES>=2 [GROUPS>=1 [SEED]]]\n");
		return 2;
	}
	for (uint32_t i = 0; i < n_sites; i++) {
		all[i].relay = rand_r(&seed) % 10 == 0;
		n_relays += all[i].relay;
		if (all[i].relay)
			all[i].uplink = 8 + (uint32_t)rand_r(&seed) % 25;
		else
			all[i].uplink = rand_r(&seed) % 4 == 0 ? TREE_FANOUT_UNLIMITED
							       : 4 + (uint32_t)rand_r(&seed) % 61;
	}

	for (uint32_t g = 0; g < n_groups; g++) {
		double u = (double)rand_r(&seed) / ((double)RAND_MAX + 1);
		uint32_t size = 2 + (uint32_t)pow((double)n_sites, u);
		uint32_t n = 0, n_senders = 1 + (uint32_t)rand_r(&seed) % 3;

		if (size > n_sites)
			size = n_sites;
		/* The group's sites: a random subset (partial Fisher-Yates),
		 * then every relay not in it, which may carry for it. */
		for (uint32_t i = 0; i < n_sites; i++)
			members[i] = i;
		for (uint32_t i = 0; i < size; i++) {
			uint32_t j = i + (uint32_t)rand_r(&seed) % (n_sites - i), t = members[i];

			members[i] = members[j];
			members[j] = t;
		}
		for (uint32_t i = 0; i < size; i++, n++)
			sites[n] = (struct tree_site){ all[members[i]].uplink, true,
						       all[members[i]].relay };
		for (uint32_t i = size; i < n_sites; i++)
			if (all[members[i]].relay)
				sites[n++] = (struct tree_site){ all[members[i]].uplink, false, true };

		for (uint32_t s = 0; s < n_senders && s < size; s++) {
			struct tree_site saved = sites[s];
			struct tree_stats st;
			bool thin = rand_r(&seed) % 5 == 0;
			double t0;

			/* The sender receives nothing from its own tree. */
			sites[s].receiver = false;
			if (thin)
				sites[s].fanout = 2;
			t0 = now_us();
			tree_build(sites, n, s, parent, depth, scratch, &st);
			took[n_trees] = now_us() - t0;
			total += took[n_trees++];
			if (!tree_sound(sites, n, s, parent, children, &st))
				bad++;
			for (uint32_t i = 0; i < n; i++)
				if (sites[i].fanout != TREE_FANOUT_UNLIMITED && sites[i].fanout > 0 &&
				    (double)children[i] / sites[i].fanout > fullest)
					fullest = (double)children[i] / sites[i].fanout;
			receivers += size - 1;
			unserved += st.unserved;
			relays_used += st.relays_used;
			if (st.max_depth > max_depth)
				max_depth = st.max_depth;
			if (thin && st.max_depth > thin_max_depth)
				thin_max_depth = st.max_depth;
			sites[s] = saved;
		}
	}
	qsort(took, n_trees, sizeof(*took), double_compare);
	printf("sites %u (relays %u), groups %u, trees (group, sender) %u, receivers to place "
	       "%llu\n", n_sites, n_relays, n_groups, n_trees, (unsigned long long)receivers);
	printf("build time per tree: median %.1f us, p99 %.1f us, max %.1f us; all trees %.1f ms\n",
	       took[n_trees / 2], took[(uint64_t)n_trees * 99 / 100], took[n_trees - 1],
	       total / 1000);
	printf("depth: max %u (senders with fan-out 2: max %u); relays forwarding per tree: "
	       "%.2f on average\n", max_depth, thin_max_depth, (double)relays_used / n_trees);
	printf("fullest site: %.0f %% of its fan-out; receivers unserved: %llu; unsound trees: "
	       "%u\n", fullest * 100, (unsigned long long)unserved, bad);
	free(took);
	free(scratch);
	free(children);
	free(depth);
	free(parent);
	free(members);
	free(sites);
	free(all);
	return bad ? 1 : 0;
}
