/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main lcore's membership work: IGMP frames handed over by the workers
 * go to the IGMP router; (S,G) sightings and IGMP changes go to the group
 * manager; timers run; whenever what the LAN wants changes, a new forwarding
 * snapshot is published. Pinned groups are answered as a host.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "pkt/pkt.h"
#include "ivgmpd.h"

#define CONTROL_BURST 32
#define IGMP_PACKET_MAX 1500

uint64_t
ivgmpd_now_ms(void)
{
	uint64_t cycles = rte_get_timer_cycles(), hz = rte_get_timer_hz();

	return cycles / hz * 1000 + cycles % hz * 1000 / hz;
}

/* Put an IPv4 packet on the LAN, as multicast to its destination group. */
static void
control_send(struct ivgmpd *d, const uint8_t *ip, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
	struct rte_ether_hdr *eth;
	uint32_t dst;

	if (m == NULL || (eth = (struct rte_ether_hdr *)rte_pktmbuf_append(
				  m, (uint16_t)(RTE_ETHER_HDR_LEN + len))) == NULL) {
		rte_pktmbuf_free(m);
		d->control_tx_drops++;
		return;
	}
	memcpy(&dst, ip + 16, 4);
	pkt_multicast_mac(dst, eth->dst_addr.addr_bytes);
	memcpy(eth->src_addr.addr_bytes, d->lan_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(eth + 1, ip, len);
	if (d->control_txq >= 0) {
		if (rte_eth_tx_burst(d->lan_port, (uint16_t)d->control_txq, &m, 1) == 1)
			return;
	} else if (rte_ring_sp_enqueue(d->control_tx_ring, m) == 0) {
		return;
	}
	rte_pktmbuf_free(m);
	d->control_tx_drops++;
}

static void
on_igmp_send(void *ctx, const uint8_t *ip, size_t len)
{
	struct ivgmpd *d = ctx;

	/* Without a LAN address the device listens but never queries: a query
	 * from 0.0.0.0 would win every election on the customer's LAN. */
	if (d->conf->lan_addr == 0)
		return;
	control_send(d, ip, len);
}

/* Administratively scoped groups (RFC 2365) stay in the site: no VPN role. */
bool
ivgmpd_group_is_scoped(const struct ivgmpd *d, uint32_t group)
{
	for (uint16_t i = 0; i < d->conf->n_boundaries; i++)
		if (conf_prefix_match(&d->conf->boundaries[i], group))
			return true;
	return false;
}

static void
on_igmp_group_changed(void *ctx, uint32_t group)
{
	struct ivgmpd *d = ctx;
	struct igmp_group_view view;
	bool members = igmp_router_group_view(d->igmp, group, d->now_ms, &view, 0);
	bool scoped = ivgmpd_group_is_scoped(d, group);
	char addr[INET_ADDRSTRLEN];

	IVGMP_LOG(DEBUG, igmp, "IGMP: group %s: %s%s",
		  inet_ntop(AF_INET, &group, addr, sizeof(addr)),
		  !members ? "no members" : view.mode == IGMP_FILTER_INCLUDE ?
		  "members, INCLUDE" : "members, EXCLUDE",
		  scoped ? " (inside a scope boundary: no VPN role)" : "");
	/* Refused at vpn-max-groups: IGMP tells a group's change once (a
	 * host's periodic report changes nothing), so it is set again once
	 * the group manager has room (ivgmpd_membership_poll). */
	if (!scoped && group_manager_input_set(d->groups, GROUP_INPUT_IGMP, group,
					       members ? GROUP_ROLE_RECEIVER : 0, d->now_ms) < 0)
		d->igmp_refused.pending = true;
	d->state_dirty = true;
}

/* Groups already held cost a lookup; a new one takes a free slot. Stops
 * when none is left, so a group is counted in group_limit_hit when refused,
 * not again at each retry. */
static bool
igmp_group_push_again(void *arg, uint32_t group)
{
	struct ivgmpd *d = arg;
	struct igmp_group_view view;

	if (ivgmpd_group_is_scoped(d, group) ||
	    !igmp_router_group_view(d->igmp, group, d->now_ms, &view, 0) ||
	    group_manager_roles(d->groups, group) & GROUP_ROLE_RECEIVER)
		return true;
	if (group_manager_room(d->groups) == 0) {
		d->igmp_refused.pending = true;
		return false;
	}
	on_igmp_group_changed(d, group);
	return true;
}


const char *
ivgmpd_roles_name(uint8_t roles)
{
	static const char *const names[] = { "none", "receiver", "sender", "receiver+sender" };

	return names[roles & 3];
}

/* Role changes are events, and become JoinVpn / LeaveVpn when there is a VNOC. */
static void
on_role_changed(void *ctx, uint32_t group, uint8_t old_roles, uint8_t new_roles)
{
	char addr[INET_ADDRSTRLEN];

	ivgmpd_vnoc_role_changed(ctx, group, new_roles);
	ivgmpd_event("group %s: VPN role %s -> %s",
		     inet_ntop(AF_INET, &group, addr, sizeof(addr)), ivgmpd_roles_name(old_roles),
		     ivgmpd_roles_name(new_roles));
}

static void
on_group_state_changed(void *ctx)
{
	IVGMP_LOG(DEBUG, group, "sources or announcements changed: rebuilding the snapshot");
	((struct ivgmpd *)ctx)->state_dirty = true;
}

/* The paper's pre-defined groups (3.2): answer the site router's queries as
 * a member, so that traffic of inner sources flows up to the device. */
static void
pinned_answer(struct ivgmpd *d, const struct igmp_msg *msg)
{
	uint8_t buf[IGMP_PACKET_MAX];

	if (msg->type != IGMP_MSG_QUERY || msg->ip_src == d->conf->lan_addr)
		return;
	for (uint16_t i = 0; i < d->conf->n_pinned; i++) {
		uint32_t group = d->conf->pinned[i];
		size_t len;

		if (msg->group != 0 && msg->group != group)
			continue;
		if (msg->query_version == 3)
			len = igmp_report_v3_build(buf, sizeof(buf), d->conf->lan_addr,
						   IGMP_MODE_IS_EXCLUDE, group, NULL, 0);
		else
			len = igmp_report_v2_build(buf, sizeof(buf), d->conf->lan_addr, group, false);
		if (len)
			control_send(d, buf, len);
	}
}

static void
igmp_frames_drain(struct ivgmpd *d)
{
	struct rte_mbuf *pkts[CONTROL_BURST];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst(d->igmp_ring, (void **)pkts, CONTROL_BURST,
					      NULL)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			const uint8_t *ip = rte_pktmbuf_mtod_offset(pkts[i], uint8_t *,
								    pkts[i]->l2_len);
			struct igmp_msg msg;
			enum igmp_verdict v;

			v = igmp_msg_parse(ip, pkts[i]->data_len - pkts[i]->l2_len, &msg);
			if (v != IGMP_OK) {
				/* Workers rate-limit IGMP frames: this cannot flood. */
				IVGMP_LOG(DEBUG, igmp, "IGMP frame refused: %s",
					  igmp_verdict_name(v));
				d->igmp_drops[v]++;
			} else {
				pinned_answer(d, &msg);
				igmp_router_receive(d->igmp, &msg, d->now_ms);
			}
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

static void
source_sightings_drain(struct ivgmpd *d)
{
	uint64_t keys[CONTROL_BURST];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst_elem(d->source_ring, keys, sizeof(keys[0]),
						   CONTROL_BURST, NULL)) > 0)
		for (unsigned int i = 0; i < n; i++)
			group_manager_source_seen(d->groups, (uint32_t)(keys[i] >> 32),
						  (uint32_t)keys[i], d->now_ms);
}

static void
igmp_config_from(const struct conf *conf, struct igmp_config *cfg)
{
	const struct conf_igmp *c = &conf->igmp;

	memset(cfg, 0, sizeof(*cfg));
	cfg->my_addr = conf->lan_addr;
	cfg->robustness = c->robustness;
	cfg->query_interval_ms = c->query_interval_ms;
	cfg->query_response_ms = c->query_response_ms;
	cfg->last_member_interval_ms = c->last_member_interval_ms;
	cfg->last_member_count = c->last_member_count;
	cfg->startup_interval_ms = c->startup_interval_ms;
	cfg->startup_count = c->startup_count;
	cfg->query_version = c->version;
	cfg->ssm_prefix = c->ssm.addr;
	cfg->ssm_mask = c->ssm.mask;
	cfg->max_groups = c->max_groups;
	cfg->max_sources = c->max_sources;
	cfg->max_source_records = c->max_source_records;
	igmp_config_defaults(cfg);
}

/*
 * How long a restarted site waits for IGMP to find its members again before
 * it gives up the roles its previous run held at the VNOC: until its
 * startup queries have all been answered, or, when another router is the
 * querier (no lan-address), a whole Group Membership Interval (RFC 3376
 * 8.4). Senders need no wait of their own: their next packet shows them.
 */
uint32_t
ivgmpd_membership_adopt_hold_ms(const struct ivgmpd *d)
{
	struct igmp_config c;
	uint64_t ms;

	igmp_config_from(d->conf, &c);
	if (c.my_addr != 0)
		ms = (uint64_t)c.startup_count * c.startup_interval_ms + c.query_response_ms;
	else
		ms = (uint64_t)c.robustness * c.query_interval_ms + c.query_response_ms;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

int
ivgmpd_membership_create(struct ivgmpd *d)
{
	static const struct igmp_router_ops igmp_ops = {
		.send = on_igmp_send,
		.group_changed = on_igmp_group_changed,
	};
	static const struct group_manager_ops group_ops = {
		.role_changed = on_role_changed,
		.state_changed = on_group_state_changed,
	};
	struct group_manager_config gm_cfg = {
		.leave_hold_ms = d->conf->vpn_leave_hold_ms,
		/* Workers report a source at most once a second: one second more
		 * makes the timeout a true lower bound on the silence. */
		.source_idle_ms = d->conf->source_idle_ms + 1000,
		.max_groups = d->conf->vpn_max_groups,
		.max_sources = d->conf->vpn_max_sources,
		.max_announcements = d->conf->announce_max,
	};
	struct igmp_config igmp_cfg;

	igmp_config_from(d->conf, &igmp_cfg);
	d->now_ms = ivgmpd_now_ms();
	d->igmp = igmp_router_create(&igmp_cfg, &igmp_ops, d);
	d->groups = group_manager_create(&gm_cfg, &group_ops, d);
	if (d->igmp == NULL || d->groups == NULL)
		return -1;
	for (uint32_t i = 0; i < d->conf->n_groups; i++)
		if (d->conf->groups[i].receive &&
		    !ivgmpd_group_is_scoped(d, d->conf->groups[i].group))
			group_manager_input_set(d->groups, GROUP_INPUT_CONFIG,
						d->conf->groups[i].group, GROUP_ROLE_RECEIVER,
						d->now_ms);
	for (uint16_t i = 0; i < d->conf->n_pinned; i++)
		if (!ivgmpd_group_is_scoped(d, d->conf->pinned[i]))
			group_manager_input_set(d->groups, GROUP_INPUT_CONFIG, d->conf->pinned[i],
					group_manager_roles(d->groups, d->conf->pinned[i]) |
					GROUP_ROLE_SENDER, d->now_ms);
	/* An event: how the device behaves on its LAN for the whole run
	 * (test_device_sends_general_query reads it on stdout). */
	if (d->conf->lan_addr == 0)
		ivgmpd_event("no lan-address: IGMP listens on the LAN but never queries");
	else
		igmp_router_start(d->igmp, d->now_ms);
	return 0;
}

void
ivgmpd_membership_free(struct ivgmpd *d)
{
	igmp_router_free(d->igmp);
	group_manager_free(d->groups);
	d->igmp = NULL;
	d->groups = NULL;
}

void
ivgmpd_membership_poll(struct ivgmpd *d, uint64_t now_ms)
{
	d->now_ms = now_ms;
	igmp_frames_drain(d);
	source_sightings_drain(d);
	ivgmpd_announce_poll(d, now_ms);
	igmp_router_tick(d->igmp, now_ms);
	group_manager_tick(d->groups, now_ms);
	if (ivgmpd_refused_retry_due(&d->igmp_refused, now_ms, group_manager_room(d->groups)))
		igmp_router_foreach_group(d->igmp, igmp_group_push_again, d);
	ivgmpd_vnoc_poll(d, now_ms);
	if (d->state_dirty) {
		d->state_dirty = false;
		if (ivgmpd_state_publish(d) < 0)
			IVGMP_LOG(ERR, group, "out of memory building the forwarding state; "
				  "keeping the previous one");
	}
}
