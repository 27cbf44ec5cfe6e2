/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_TREE_H
#define IVGMP_TREE_H

/*
 * tree: the distribution tree of one group from one sender, beyond the
 * star (the paper's VPRN nodes, 001_aebc90bc0c46f8cb.txt section 3.3;
 * design.md section 7).
 *
 * With a star the sender uploads one copy per receiving site; a site's
 * uplink may carry only so many copies of each packet (its fan-out). Relay
 * sites forward what they receive to children of their own, so a sender
 * with fan-out 1 reaches any number of receivers. tree_build places every
 * receiver exactly once (one parent each: loop-free and duplicate-free by
 * construction), never gives a site more children than its fan-out, and
 * keeps the depth low: each level is filled with the forwarders of the
 * largest fan-out first, so the next level has the most room. A relay that
 * is not a receiver is placed only where it adds room (fan-out 2 or more).
 *
 * Pure computation on arrays the caller owns: no allocation past the
 * scratch the caller passes, no clock, deterministic (ties go to the lower
 * index, so the same sites give the same tree).
 */

#include <stdbool.h>
#include <stdint.h>

#define TREE_NONE             UINT32_MAX  /* no parent: the sender, or not placed */
#define TREE_FANOUT_UNLIMITED UINT32_MAX

struct tree_site {
	uint32_t fanout;        /* copies of a packet it may send; TREE_FANOUT_UNLIMITED */
	bool receiver;          /* wants the group: must be placed */
	bool relay;             /* may forward for others */
};

struct tree_stats {
	uint32_t placed;        /* receivers and relays in the tree, the sender not counted */
	uint32_t relays_used;   /* sites that forward, the sender not counted */
	uint32_t unserved;      /* receivers left out: not enough fan-out anywhere */
	uint32_t max_depth;     /* hops from the sender to the deepest site */
	uint32_t max_children;  /* the largest number of children of one site */
};

/* Scratch tree_build needs for n sites (bytes). */
#define TREE_SCRATCH_SIZE(n) ((size_t)(n) * (sizeof(uint64_t) + 2 * sizeof(uint32_t)))

/*
 * Build sender's tree over sites[0..n). On return parent[i] is the site
 * that sends to site i (TREE_NONE for the sender, for sites not placed, and
 * for receivers left unserved, which stats->unserved counts) and depth[i]
 * its hops from the sender (0 for the sender and sites not placed). The
 * sender forwards whatever its relay flag says. scratch holds
 * TREE_SCRATCH_SIZE(n) bytes. Returns 0, or -1 when sender >= n.
 */
int tree_build(const struct tree_site *sites, uint32_t n, uint32_t sender, uint32_t *parent,
	       uint32_t *depth, void *scratch, struct tree_stats *stats);

#endif
