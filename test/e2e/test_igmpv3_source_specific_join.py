#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Source-specific membership and the SSM range (232/8 by default).

h2 joins (S, 232.1.1.1) with IP_ADD_SOURCE_MEMBERSHIP: its kernel sends
ALLOW({S}); /ivgmp/igmp must show the group in INCLUDE mode with S and a
running source timer, and no group timer. In the SSM range only INCLUDE
state may exist (RFC 4604 2.2.1): h3, a host forced to IGMPv2, joins
232.2.2.2 (a v2 report: any source), and h1 joins 232.3.3.3 for any source
(IGMPv3 TO_EX({})); neither may leave state, and ssm_ignored must count
them. Last, h2 leaves S: BLOCK({S}), the device sends LMQC
group-and-source-specific queries (RFC 3376 6.6.3.2) and the group goes
after LMQT.
"""

import time

import rig as r

SSM_GROUP = "232.1.1.1"
V2_SSM_GROUP = "232.2.2.2"
ASM_SSM_GROUP = "232.3.3.3"
MARGIN = 0.1


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd)
    cap = site.capture()
    site.start()
    dev, h1, h2, h3 = site.device, site.hosts["h1"], site.hosts["h2"], site.hosts["h3"]
    source = site.subnet + ".99"

    chk.section("h2 joins (%s, %s): ALLOW({S})" % (source, SSM_GROUP))
    joined_at = time.monotonic()
    membership = h2.join_source(SSM_GROUP, source)
    state, took = site.wait_igmp_group(SSM_GROUP)
    chk.measured("join -> group in /ivgmp/igmp", took, "s")
    chk.check(state is not None, "/ivgmp/igmp has %s" % SSM_GROUP, "groups: %s" % dev.igmp_groups(),
              bug=r.table_bug(dev.igmp_groups()))
    if state:
        chk.equal(state.get("filter_mode"), "include", "filter mode")
        chk.equal(state.get("group_timer_ms"), 0, "no group timer in INCLUDE mode")
        timers = state.get("source_timers_ms", {})
        chk.equal(sorted(timers), [source], "source records")
        chk.check(0 < timers.get(source, 0) <= site.gmi * 1000,
                  "source timer %s ms running, at most GMI" % timers.get(source))
    role_at = dev.wait_role(SSM_GROUP, "receiver", joined_at, 3)
    chk.check(role_at is not None, "log: %s VPN role none -> receiver" % SSM_GROUP)
    if role_at:
        chk.measured("join -> role receiver in the log", role_at - joined_at, "s")
    table = dev.groups()
    chk.check("receiver" in table.get(SSM_GROUP, {}).get("role", ""),
              "/ivgmp/groups %s role receiver" % SSM_GROUP, "got %s" % table,
              bug=r.table_bug(table))

    chk.section("v2 report for %s from h3 (IGMPv2): ignored" % V2_SSM_GROUP)
    ignored0 = dev.igmp()["ssm_ignored"]
    v2_at = time.monotonic()
    h3.join(V2_SSM_GROUP)
    counted, took = r.wait_until(lambda: dev.igmp()["ssm_ignored"] > ignored0, 3)
    chk.check(bool(counted), "ssm_ignored increases after h3's v2 report")
    chk.measured("v2 join -> ssm_ignored counted", took, "s")

    chk.section("IGMPv3 any-source join of %s from h1: TO_EX({}) ignored" % ASM_SSM_GROUP)
    ignored1 = dev.igmp()["ssm_ignored"]
    h1.join(ASM_SSM_GROUP)
    counted, took = r.wait_until(lambda: dev.igmp()["ssm_ignored"] > ignored1, 3)
    chk.check(bool(counted), "ssm_ignored increases after h1's TO_EX({})")
    chk.measured("TO_EX join -> ssm_ignored counted", took, "s")
    time.sleep(0.5)     # let the kernels' retransmissions arrive too
    ignored = dev.igmp()["ssm_ignored"]
    chk.measured("ssm_ignored", "%d (from %d)" % (ignored, ignored0))
    groups = dev.igmp_groups()
    for g in (V2_SSM_GROUP, ASM_SSM_GROUP):
        chk.check(g not in groups, "/ivgmp/igmp has no state for %s" % g, "got %s" % groups.get(g))
        chk.check(g not in dev.groups(), "/ivgmp/groups has no %s" % g)
        chk.equal(dev.role_changes(g, v2_at), [], "log: no VPN role change for %s" % g)

    chk.section("h2 leaves (%s, %s): BLOCK({S})" % (source, SSM_GROUP))
    before = dev.igmp()
    left_at = membership.leave()
    visible = state is not None
    gone, took = site.wait_igmp_group(SSM_GROUP, timeout=site.lmqt + 3, present=False)
    chk.measured("leave -> group gone from /ivgmp/igmp", took, "s")
    chk.check(visible and gone, "group gone from /ivgmp/igmp after the leave",
              "" if visible else "never visible", bug=None if visible else r.BUG_TELEMETRY_NAMES)
    if visible and gone:
        chk.within(took, site.lmqt - MARGIN, site.lmqt + 1.0, "leave -> gone (about LMQT)")
    hold = site.timer("vpn-leave-hold")
    role_gone = dev.wait_role(SSM_GROUP, "none", left_at, site.lmqt + hold + 3)
    chk.check(role_gone is not None, "log: %s VPN role receiver -> none" % SSM_GROUP)
    if role_gone:
        chk.measured("leave -> role none in the log", role_gone - left_at, "s")
        chk.within(role_gone - left_at, site.lmqt + hold - MARGIN, site.lmqt + hold + 1.0,
                   "leave -> role none (LMQT + vpn-leave-hold)")
    sent = dev.igmp()["tx_group_source_queries"] - before["tx_group_source_queries"]
    chk.measured("tx_group_source_queries during the leave", sent)
    chk.equal(sent, site.lmqc, "group-and-source-specific queries counted (LMQC)")

    time.sleep(0.2)
    cap.stop()
    msgs = cap.igmp()
    for m in msgs:
        print("    %7.3f %s" % (m.time - msgs[0].time, m.describe()))
    recs = [(m.ip_src, rec.name, rec.group, rec.sources) for m in msgs for rec in m.records]
    chk.check((h2.addr, "ALLOW", SSM_GROUP, [source]) in recs, "the wire has h2's ALLOW(%s: %s)"
              % (SSM_GROUP, source))
    chk.check((h1.addr, "TO_EX", ASM_SSM_GROUP, []) in recs, "the wire has h1's TO_EX(%s)"
              % ASM_SSM_GROUP)
    chk.check(any(m.ip_src == h3.addr and m.type == 0x16 and m.group == V2_SSM_GROUP for m in msgs),
              "the wire has h3's v2 report for %s" % V2_SSM_GROUP)
    block = [m for m in msgs if (h2.addr, "BLOCK", SSM_GROUP, [source]) in
             [(m.ip_src, rec.name, rec.group, rec.sources) for rec in m.records]]
    chk.check(bool(block), "the wire has h2's BLOCK(%s: %s)" % (SSM_GROUP, source))
    if block:
        queries = [m for m in msgs if m.type == 0x11 and m.group == SSM_GROUP and
                   m.time >= block[0].time]
        chk.equal([q.sources for q in queries], [[source]] * site.lmqc,
                  "Q(G,S) on the wire: LMQC queries naming S")
        chk.check(all(q.ip_dst == SSM_GROUP and q.max_resp_ms == site.lmqi * 1000 and
                      not q.suppress for q in queries),
                  "each to the group, Max Resp = LMQI, S flag clear (timer at LMQT)")
    queries_232 = [m for m in msgs if m.type == 0x11 and m.group in (V2_SSM_GROUP, ASM_SSM_GROUP)]
    chk.equal(len(queries_232), 0, "no query for the ignored SSM groups")


if __name__ == "__main__":
    r.main(test, "igmpv3_source_specific_join")
