#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
An IGMPv3 host's join and leave, as the device sees them.

h1 (Linux, IGMPv3) joins 239.1.1.1 for any source: its kernel sends
TO_EX({}). /ivgmp/igmp must show the group in EXCLUDE mode with a running
group timer (at most GMI), /ivgmp/groups the receiver role, the log the
JoinVpn (role none -> receiver). h1 leaves: TO_IN({}). As querier the device
sends Last Member Query Count group-specific queries (RFC 3376 6.6.3.1) and,
nobody answering, the group goes after LMQT: measured from the leave to its
disappearance from /ivgmp/igmp. The receiver role is given up vpn-leave-hold
later (log: receiver -> none).
"""

import time

import rig as r

GROUP = "239.1.1.1"
MARGIN = 0.1      # polling and scheduling: how much earlier than LMQT is still LMQT


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd)
    cap = site.capture()
    site.start()
    dev, h1 = site.device, site.hosts["h1"]
    print("  LMQT %.3f s (LMQC %d x LMQI %.3f s), GMI %.1f s, vpn-leave-hold %.1f s"
          % (site.lmqt, site.lmqc, site.lmqi, site.gmi, site.timer("vpn-leave-hold")))

    chk.section("querier")
    igmp = dev.igmp()
    chk.equal(igmp.get("querier"), "self", "/ivgmp/igmp querier (lowest and only router)")
    chk.equal(igmp.get("lan_address"), site.lan_address, "/ivgmp/igmp lan_address")

    chk.section("join: TO_EX({})")
    joined_at = time.monotonic()
    membership = h1.join(GROUP)
    state, took = site.wait_igmp_group(GROUP, timeout=3)
    chk.measured("join -> group in /ivgmp/igmp", took, "s")
    chk.check(state is not None, "/ivgmp/igmp has %s after h1's join" % GROUP,
              "groups: %s" % dev.igmp_groups(), bug=r.table_bug(dev.igmp_groups()))
    if state:
        chk.equal(state.get("filter_mode"), "exclude", "filter mode")
        chk.equal(state.get("compat_version"), 3, "compat_version")
        timer = state.get("group_timer_ms", 0)
        chk.check(0 < timer <= site.gmi * 1000, "group timer %d ms running, at most GMI" % timer)
        time.sleep(0.3)
        later = dev.igmp_groups().get(GROUP, {}).get("group_timer_ms", 0)
        chk.check(0 < later < timer, "group timer counts down (%d -> %d ms)" % (timer, later))
        chk.equal(state.get("source_timers_ms"), {}, "no source records (EXCLUDE({}))")
    role_at = dev.wait_role(GROUP, "receiver", joined_at, 3)
    chk.check(role_at is not None, "log: VPN role none -> receiver")
    if role_at:
        chk.measured("join -> JoinVpn (role receiver) in the log", role_at - joined_at, "s")
    table = dev.groups()
    roles = table.get(GROUP, {})
    chk.check("receiver" in roles.get("role", ""), "/ivgmp/groups role receiver",
              "got %r in %s" % (roles.get("role"), table), bug=r.table_bug(table))
    chk.equal(roles.get("igmp"), "receiver", "/ivgmp/groups igmp input", bug=r.table_bug(table))

    # Let the kernel's own retransmission of TO_EX go first (1 s at most).
    time.sleep(1.2)
    before = dev.igmp()

    chk.section("leave: TO_IN({})")
    left_at = membership.leave()
    gone, took = site.wait_igmp_group(GROUP, timeout=site.lmqt + 3, present=False)
    visible = state is not None
    chk.measured("leave -> group gone from /ivgmp/igmp", took, "s")
    chk.check(visible and gone, "group gone from /ivgmp/igmp after the leave",
              "" if visible else "never visible", bug=None if visible else r.BUG_TELEMETRY_NAMES)
    if visible and gone:
        chk.within(took, site.lmqt - MARGIN, site.lmqt + 1.0, "leave -> gone (about LMQT)")
    hold = site.timer("vpn-leave-hold")
    role_gone = dev.wait_role(GROUP, "none", left_at, site.lmqt + hold + 3)
    chk.check(role_gone is not None, "log: VPN role receiver -> none")
    if role_gone:
        chk.measured("leave -> LeaveVpn (role none) in the log", role_gone - left_at, "s")
        chk.measured("hence leave -> group gone (minus the hold)", role_gone - left_at - hold, "s")
        chk.within(role_gone - left_at, site.lmqt + hold - MARGIN, site.lmqt + hold + 1.0,
                   "leave -> role none (LMQT + vpn-leave-hold)")
    after = dev.igmp()
    sent = after["tx_group_queries"] - before["tx_group_queries"]
    chk.measured("tx_group_queries during the leave", sent)

    time.sleep(0.2)
    cap.stop()
    msgs = cap.igmp()
    for m in msgs:
        print("    %7.3f %s" % (m.time - msgs[0].time, m.describe()))
    to_ex = [m for m in msgs if m.ip_src == h1.addr and
             any(rec.name == "TO_EX" and rec.group == GROUP for rec in m.records)]
    to_in = [m for m in msgs if m.ip_src == h1.addr and
             any(rec.name == "TO_IN" and rec.group == GROUP for rec in m.records)]
    chk.check(bool(to_ex) and bool(to_in), "the wire has h1's TO_EX(%s) and TO_IN(%s)" % (GROUP, GROUP))
    if to_in:
        # The kernel repeats its state-change report (robustness); a repeat
        # that lands while the group is still in EXCLUDE mode (its timer,
        # lowered to LMQT, has not run out) is a TO_IN like the first, and
        # RFC 3376 6.4.2 answers each with Send Q(G): up to LMQC more.
        in_window = [m for m in to_in if m.time < to_in[0].time + site.lmqt]
        most = site.lmqc * len(in_window)
        chk.measured("h1's TO_IN reports before the group expired", len(in_window))
        queries = [m for m in msgs if m.type == 0x11 and m.group == GROUP and m.time >= to_in[0].time]
        chk.within(float(sent), site.lmqc, most, "group-specific queries counted (LMQC per "
                   "TO_IN received in EXCLUDE mode)", unit="")
        chk.equal(len(queries), sent, "group-specific queries for %s on the wire == counted"
                  % GROUP)
        chk.check(all(q.ip_src == site.lan_address and q.ip_dst == GROUP and q.ttl == 1 and
                      q.router_alert and q.checksum_ok and q.max_resp_ms == site.lmqi * 1000
                      for q in queries),
                  "each from %s to the group, TTL 1, Router Alert, checksum good, Max Resp = LMQI"
                  % site.lan_address)


if __name__ == "__main__":
    r.main(test, "igmpv3_join_and_leave_tracked")
