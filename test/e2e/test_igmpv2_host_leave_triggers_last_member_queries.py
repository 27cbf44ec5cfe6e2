#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
An IGMPv2 host's leave starts the last member queries.

h3's kernel is forced to IGMPv2 (before any join). It joins 239.2.2.2: a v2
report, so the group is in IGMPv2 compatibility mode (RFC 3376 7.3.2:
compat_version 2, the IGMPv2 Host Present timer running). h3 leaves: a v2
leave to 224.0.0.2, which the router takes as TO_IN({}). On the LAN, seen
from the bridge: LMQC group-specific queries for 239.2.2.2 from the device,
LMQI apart, the first at once; the group removed after about LMQT.
"""

import time

import rig as r
import wire

GROUP = "239.2.2.2"
MARGIN = 0.1
SPACING_SLACK = 0.08     # the management lcore wakes every millisecond; the kernel and tcpdump add some


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd)
    cap = site.capture()
    site.start()
    dev, h3 = site.device, site.hosts["h3"]

    chk.section("h3 (IGMPv2) joins %s" % GROUP)
    joined_at = time.monotonic()
    membership = h3.join(GROUP)
    state, took = site.wait_igmp_group(GROUP)
    chk.measured("v2 report -> group in /ivgmp/igmp", took, "s")
    chk.check(state is not None, "/ivgmp/igmp has %s" % GROUP, "groups: %s" % dev.igmp_groups(),
              bug=r.table_bug(dev.igmp_groups()))
    if state:
        chk.equal(state.get("compat_version"), 2, "compat_version (IGMPv2 host present)")
        chk.equal(state.get("filter_mode"), "exclude", "filter mode (a v2 report is IS_EX({}))")
    role_at = dev.wait_role(GROUP, "receiver", joined_at, 3)
    chk.check(role_at is not None, "log: VPN role none -> receiver")
    chk.check(dev.igmp()["rx_v2_reports"] >= 1, "rx_v2_reports counted")
    time.sleep(0.5)

    chk.section("h3 leaves: v2 leave to 224.0.0.2")
    before = dev.igmp()
    left_at = membership.leave()
    visible = state is not None
    gone, took = site.wait_igmp_group(GROUP, timeout=site.lmqt + 3, present=False)
    chk.measured("leave -> group gone from /ivgmp/igmp", took, "s")
    chk.check(visible and gone, "group gone from /ivgmp/igmp after the leave",
              "" if visible else "never visible", bug=None if visible else r.BUG_TELEMETRY_NAMES)
    if visible and gone:
        chk.within(took, site.lmqt - MARGIN, site.lmqt + 1.0, "leave -> gone (about LMQT)")
    hold = site.timer("vpn-leave-hold")
    role_gone = dev.wait_role(GROUP, "none", left_at, site.lmqt + hold + 3)
    chk.check(role_gone is not None, "log: VPN role receiver -> none")
    if role_gone:
        chk.measured("leave -> role none in the log", role_gone - left_at, "s")
        chk.within(role_gone - left_at, site.lmqt + hold - MARGIN, site.lmqt + hold + 1.0,
                   "leave -> role none (LMQT + vpn-leave-hold)")
    after = dev.igmp()
    chk.equal(after["rx_v2_leaves"] - before["rx_v2_leaves"], 1, "rx_v2_leaves counted")
    chk.equal(after["tx_group_queries"] - before["tx_group_queries"], site.lmqc,
              "tx_group_queries counted (LMQC)")

    time.sleep(0.3)
    cap.stop()
    msgs = cap.igmp()
    for m in msgs:
        print("    %7.3f %s" % (m.time - msgs[0].time, m.describe()))
    leaves = [m for m in msgs if m.type == wire.IGMP_V2_LEAVE and m.ip_src == h3.addr]
    chk.check(len(leaves) >= 1, "the wire has h3's v2 leave")
    if not leaves:
        return
    leave = leaves[0]
    chk.equal((leave.ip_dst, leave.group), ("224.0.0.2", GROUP),
              "the leave goes to all-routers, for the group")
    queries = [m for m in msgs if m.type == wire.IGMP_QUERY and m.group == GROUP and m.time >= leave.time]
    chk.equal(len(queries), site.lmqc, "group-specific queries for %s after the leave" % GROUP)
    if not queries:
        return
    first = queries[0].time - leave.time
    gaps = [b.time - a.time for a, b in zip(queries, queries[1:])]
    chk.measured("leave -> first query", first, "s")
    chk.measured("gaps between the queries", ", ".join("%.3f" % g for g in gaps), "s")
    chk.within(first, 0.0, 0.1, "first query at once")
    for i, g in enumerate(gaps):
        chk.within(g, site.lmqi - SPACING_SLACK, site.lmqi + SPACING_SLACK,
                   "query %d -> %d about LMQI" % (i + 1, i + 2))
    chk.check(all(q.ip_src == site.lan_address and q.ip_dst == GROUP and q.ttl == 1 and
                  q.router_alert and q.checksum_ok and q.max_resp_ms == site.lmqi * 1000
                  for q in queries),
              "each from %s to the group, TTL 1, Router Alert, checksum good, Max Resp = LMQI"
              % site.lan_address)
    chk.check(not any(m.ip_src == h3.addr and m.time > leave.time and m.type == wire.IGMP_V2_REPORT
                      for m in msgs), "h3 (no longer a member) does not answer them")


if __name__ == "__main__":
    r.main(test, "igmpv2_host_leave_triggers_last_member_queries")
