/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_GROUP_H
#define IVGMP_GROUP_H

/*
 * group: the group manager. Merges what the site says about each group into
 * the site's desired role in that group's VPN (the paper's JOIN_VPN /
 * LEAVE_VPN, 001_aebc90bc0c46f8cb.txt section 3.2):
 *
 *   receiver  <- IGMP members on the LAN, "receive" announcements,
 *                groups configured to be received
 *   sender    <- sources discovered on the LAN (soft state), "send"
 *                announcements, pinned groups (the paper's pre-defined groups)
 *
 * A role is taken at once and given up only after it stayed unwanted for
 * the hold time, so that a flapping receiver does not flap the VPN. Also owns
 * the table of discovered sources (S,G) and of announcements, both soft state
 * that expires. Time is an argument (ms); nothing here reads a clock.
 * Addresses are IPv4, network byte order.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GROUP_ROLE_RECEIVER 0x1
#define GROUP_ROLE_SENDER   0x2

/* Where a wish for a role comes from; each is tracked separately. */
enum group_input {
	GROUP_INPUT_IGMP,          /* the LAN has members (receiver) */
	GROUP_INPUT_CONFIG,        /* configured: receive (receiver) or pin (sender) */
	GROUP_INPUT_MAX
};

struct group_manager_config {
	uint32_t leave_hold_ms;     /* unwanted this long before a role is given up */
	uint32_t source_idle_ms;    /* a discovered source expires after this silence */
	uint32_t max_groups;        /* bound on groups, counted when hit */
	uint32_t max_sources;       /* bound on discovered sources, counted when hit */
	uint32_t max_announcements; /* bound on live announcements, counted when hit */
	uint32_t max_announce_lifetime_s; /* longest lifetime an announcement may ask */
};

void group_manager_config_defaults(struct group_manager_config *cfg);

struct group_manager_ops {
	/* The desired role of group changed from old_roles to new_roles: the
	 * VNOC client turns this into JoinVpn / LeaveVpn. */
	void (*role_changed)(void *ctx, uint32_t group, uint8_t old_roles, uint8_t new_roles);
	/* Something the forwarding state depends on changed (a source or an
	 * announcement came or went): rebuild the snapshot. */
	void (*state_changed)(void *ctx);
};

#define GROUP_COUNTERS(X)               \
	X(role_changes)                 \
	X(sources_discovered)           \
	X(sources_expired)              \
	X(announcements_accepted)       \
	X(announcements_expired)        \
	X(announcements_withdrawn)      \
	X(group_limit_hit)              \
	X(source_limit_hit)             \
	X(announcement_limit_hit)

enum group_counter {
#define GROUP_COUNTER_ENUM(name) GROUP_CTR_##name,
	GROUP_COUNTERS(GROUP_COUNTER_ENUM)
#undef GROUP_COUNTER_ENUM
	GROUP_CTR_MAX
};

const char *group_counter_name(enum group_counter id);

struct group_manager;

struct group_manager *group_manager_create(const struct group_manager_config *cfg,
					   const struct group_manager_ops *ops, void *ctx);
void group_manager_free(struct group_manager *gm);

/* A level input: set or clear roles wished for group by one input.
 * Returns 0, or -1 when group is new and max_groups are held (counted,
 * nothing kept: the caller sets it again once group_manager_room allows). */
int group_manager_input_set(struct group_manager *gm, enum group_input input,
			    uint32_t group, uint8_t roles, uint64_t now_ms);

/* Groups that may still be added (max_groups minus those held). */
uint32_t group_manager_room(const struct group_manager *gm);

/* A worker saw (source, group) on the LAN: create or refresh its soft state. */
void group_manager_source_seen(struct group_manager *gm, uint32_t source, uint32_t group,
			       uint64_t now_ms);

/* An announcement from ivgmp-announce: roles for group, optionally for one
 * source, valid lifetime_s seconds. Returns 0, or -1 with a reason in err. */
int group_manager_announce(struct group_manager *gm, uint32_t group, uint32_t source,
			   uint8_t roles, uint32_t lifetime_s, uint64_t now_ms,
			   char *err, size_t err_len);

/* Withdraw an announcement made for (group, roles). Returns 0, or -1 when
 * there was none. */
int group_manager_withdraw(struct group_manager *gm, uint32_t group, uint8_t roles,
			   uint64_t now_ms);

/* Expire sources and announcements, give up roles whose hold time ran out. */
void group_manager_tick(struct group_manager *gm, uint64_t now_ms);
uint64_t group_manager_next_deadline(const struct group_manager *gm);

/* The role currently desired (after hysteresis) for group. */
uint8_t group_manager_roles(const struct group_manager *gm, uint32_t group);
/* Is a "receive" announcement live for group? (The LAN wants its traffic
 * even with no IGMP member: a host that announced.) */
bool group_manager_announced_receive(const struct group_manager *gm, uint32_t group);
uint64_t group_manager_counter(const struct group_manager *gm, enum group_counter id);

/* Read-only walks, for telemetry and the snapshot builder. */
struct group_view {
	uint32_t group;
	uint8_t roles;              /* desired, after hysteresis */
	uint8_t wanted;             /* wished right now, before hysteresis */
	uint8_t inputs[GROUP_INPUT_MAX];
	uint64_t announce_expiry_ms[2]; /* receiver, sender; 0 when none */
	uint64_t leave_at_ms;       /* when a role will be given up; 0 when none */
	uint32_t n_sources;         /* discovered sources alive */
};
void group_manager_foreach(const struct group_manager *gm,
			   bool (*fn)(void *arg, const struct group_view *view), void *arg);

struct group_source_view {
	uint32_t source;
	uint32_t group;
	uint64_t first_seen_ms;
	uint64_t last_seen_ms;
};
void group_manager_foreach_source(const struct group_manager *gm,
				  bool (*fn)(void *arg, const struct group_source_view *view),
				  void *arg);

#endif
