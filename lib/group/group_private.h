/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_GROUP_PRIVATE_H
#define IVGMP_GROUP_PRIVATE_H

#include "group.h"

/* Announcement slots: index 0 receiver, 1 sender. */
#define GROUP_ANNOUNCE_RECEIVER 0
#define GROUP_ANNOUNCE_SENDER   1

struct group_entry {
	uint32_t group;
	uint8_t inputs[GROUP_INPUT_MAX];
	uint64_t announce_expiry_ms[2];
	uint8_t roles;
	uint64_t leave_at_ms[2];  /* per role, as the announcement slots; 0 when none */
	uint32_t n_sources;
};

struct group_source {
	uint32_t source;
	uint32_t group;
	uint64_t first_seen_ms;
	uint64_t last_seen_ms;
};

/* Arrays bounded by the configuration; the management lcore is the only
 * user, and a linear scan of a few thousand entries costs microseconds. */
struct group_manager {
	struct group_manager_config cfg;
	struct group_manager_ops ops;
	void *ctx;
	struct group_entry *groups;
	uint32_t n_groups;
	struct group_source *sources;
	uint32_t n_sources;
	uint32_t n_announcements;
	uint64_t counters[GROUP_CTR_MAX];
};

struct group_entry *group_entry_find(const struct group_manager *gm, uint32_t group);
struct group_entry *group_entry_get(struct group_manager *gm, uint32_t group);
/* Apply hysteresis and tell the VNOC client; may delete the entry. */
void group_entry_evaluate(struct group_manager *gm, struct group_entry *e, uint64_t now_ms);

#endif
