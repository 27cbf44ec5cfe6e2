/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_FWD_H
#define IVGMP_FWD_H

/*
 * fwd: the forwarding state the workers read.
 *
 * Owns one immutable snapshot of "where does each group go, and which SA
 * decrypts each SPI": the remote sites, the group table (group -> sites it is
 * sent to, and whether the LAN receives it) and the inbound SPI table. The
 * management lcore builds a new snapshot whenever anything changes and
 * publishes it with one pointer swap; workers pick it up on their next burst
 * and the old one is freed after every worker has passed a quiescent state
 * (rte_rcu_qsbr). SAs are not part of the snapshot: they carry sequence
 * numbers and replay windows that live across snapshots, so a snapshot only
 * points to them.
 */

#include <stdbool.h>
#include <stdint.h>

#include "esp/esp.h"

struct rte_rcu_qsbr;

enum fwd_df {
	FWD_DF_COPY,
	FWD_DF_SET,
	FWD_DF_CLEAR,
};

struct fwd_site {
	uint32_t wan_addr;          /* network byte order */
	uint8_t dst_mac[6];         /* next hop on the WAN towards the site */
	bool udp_encap;             /* ESP in UDP 4500 (RFC 3948) */
	struct esp_sa *sa_out;      /* what we encrypt with for this site */
};

/* Which sources of a group the LAN wants (RFC 3376 6.3). */
enum fwd_filter {
	FWD_FILTER_NONE,            /* the LAN wants nothing of it */
	FWD_FILTER_ALL,             /* every source (configured, announced) */
	FWD_FILTER_INCLUDE,         /* only filter_sources */
	FWD_FILTER_EXCLUDE,         /* every source but filter_sources */
};

struct fwd_group {
	uint32_t group;             /* network byte order; 0 marks an empty slot */
	enum fwd_filter filter;     /* what is delivered on the LAN */
	uint16_t n_sites;
	uint16_t n_filter_sources;
	/* Group mode (design.md 4): 1 + the index of the group's SA in
	 * fwd_state.group_sas, one SA for every site, each packet encrypted
	 * once; 0: pairwise, each site's own sa_out (fwd_group_sa). An index
	 * rather than a pointer: it fits the slot's padding, 32 bytes. */
	uint32_t group_sa;
	const uint16_t *sites;      /* indices in fwd_state.sites */
	const uint32_t *filter_sources; /* network byte order */
};

/* Administrative scope: a group inside one never crosses the VPN. */
#define FWD_MAX_BOUNDARIES 16
struct fwd_boundary {
	uint32_t addr;
	uint32_t mask;
};

struct fwd_spi_slot {
	uint32_t spi;               /* 0 marks an empty slot */
	uint16_t site;
	struct esp_sa *sa;
};

struct fwd_state {
	uint32_t wan_addr;          /* network byte order */
	uint8_t outer_ttl;
	enum fwd_df outer_df;
	uint16_t wan_mtu;
	uint16_t n_sites;
	struct fwd_site *sites;
	uint32_t group_mask;
	struct fwd_group *groups;   /* open addressing, linear probing */
	uint32_t spi_mask;
	struct fwd_spi_slot *spis;
	uint32_t n_group_sas;
	struct esp_sa **group_sas;  /* behind fwd_group.group_sa */
	uint16_t *site_lists;       /* storage behind fwd_group.sites */
	uint32_t *source_lists;     /* storage behind fwd_group.filter_sources */
	uint16_t n_boundaries;
	struct fwd_boundary boundaries[FWD_MAX_BOUNDARIES];
};

/* What a snapshot is built from. */
struct fwd_group_spec {
	uint32_t group;
	enum fwd_filter filter;
	uint16_t n_sites;
	const uint16_t *sites;
	uint16_t n_filter_sources;
	const uint32_t *filter_sources;  /* any order */
	struct esp_sa *sa_out;           /* group SA, or NULL for pairwise */
};

/* An inbound SA's site when no site of the snapshot is its sender's any
 * more (an SA kept to decrypt what is still in flight). */
#define FWD_SITE_NONE UINT16_MAX

struct fwd_inbound_spec {
	struct esp_sa *sa;
	uint16_t site;              /* or FWD_SITE_NONE */
};

struct fwd_spec {
	uint32_t wan_addr;
	uint8_t outer_ttl;
	enum fwd_df outer_df;
	uint16_t wan_mtu;
	uint16_t n_sites;
	const struct fwd_site *sites;
	uint32_t n_groups;
	const struct fwd_group_spec *groups;
	uint32_t n_inbound;
	const struct fwd_inbound_spec *inbound;
	uint16_t n_boundaries;
	const struct fwd_boundary *boundaries;
};

/* Build a snapshot; NULL when out of memory or the spec is inconsistent
 * (duplicate group or SPI, site index out of range, a pairwise group sent
 * to a site without an outbound SA). */
struct fwd_state *fwd_state_create(const struct fwd_spec *spec);
void fwd_state_free(struct fwd_state *state);

static inline uint32_t
fwd_hash32(uint32_t key)
{
	/* Fibonacci hashing: multicast groups differ in their low bits. */
	return (key * 0x9e3779b1u) >> 7;
}

static inline const struct fwd_group *
fwd_group_lookup(const struct fwd_state *state, uint32_t group)
{
	for (uint32_t i = fwd_hash32(group);; i++) {
		const struct fwd_group *g = &state->groups[i & state->group_mask];

		if (g->group == group)
			return group ? g : NULL;
		if (g->group == 0)
			return NULL;
	}
}

static inline const struct fwd_spi_slot *
fwd_spi_lookup(const struct fwd_state *state, uint32_t spi)
{
	for (uint32_t i = fwd_hash32(spi);; i++) {
		const struct fwd_spi_slot *s = &state->spis[i & state->spi_mask];

		if (s->spi == spi)
			return s->spi ? s : NULL;
		if (s->spi == 0)
			return NULL;
	}
}

/* The group's SA in group mode, NULL when it is pairwise. */
static inline struct esp_sa *
fwd_group_sa(const struct fwd_state *state, const struct fwd_group *g)
{
	return g->group_sa ? state->group_sas[g->group_sa - 1] : NULL;
}

/* Does the LAN want source's traffic to this group? */
static inline bool
fwd_group_wants(const struct fwd_group *g, uint32_t source)
{
	bool listed = false;

	if (g->filter == FWD_FILTER_ALL)
		return true;
	if (g->filter == FWD_FILTER_NONE)
		return false;
	/* Lists are short (hosts name a few sources): a linear scan wins. */
	for (uint16_t i = 0; i < g->n_filter_sources; i++)
		listed |= g->filter_sources[i] == source;
	return g->filter == FWD_FILTER_INCLUDE ? listed : !listed;
}

static inline bool
fwd_scope_blocks(const struct fwd_state *state, uint32_t group)
{
	for (uint16_t i = 0; i < state->n_boundaries; i++)
		if ((group & state->boundaries[i].mask) == state->boundaries[i].addr)
			return true;
	return false;
}

/* Where the current snapshot is published. */
struct fwd_publisher {
	struct fwd_state *current;
	struct rte_rcu_qsbr *qsbr;
};

static inline const struct fwd_state *
fwd_current(const struct fwd_publisher *pub)
{
	return __atomic_load_n(&pub->current, __ATOMIC_ACQUIRE);
}

/* Management lcore only: make state current, wait until no worker can still
 * read the previous one, free it. */
void fwd_publish(struct fwd_publisher *pub, struct fwd_state *state);

#endif
