#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A group refused at vpn-max-groups gets its VPN role once there is room,
with no new word from its host (issue #7, the bounds: a flood must not cost
a group its role for longer than the flood).

    the device: vpn-max-groups MAX (the group manager's table)
    h1 (Linux, IGMPv3) joins FIRST[0..MAX) one by one: each gets the
       receiver role (log: VPN role none -> receiver)
    h2 then joins LATE: IGMP holds it (/ivgmp/igmp), the group manager
       refuses it (group_group_limit_hit + 1 in /ivgmp/limits, no role)
    h1 leaves FIRST[0]: after LMQT and vpn-leave-hold its role goes and
       its slot frees; LATE gets the receiver role within a second of that
       (the device sets IGMP's groups again once the group manager has
       room), although h2 said nothing new: an IGMP group's change is told
       once, and h2's periodic reports change nothing.
    The refused group was counted once, not at each retry.
"""

import time

import rig as r

MAX = 4
FIRST = ["239.81.0.%d" % (i + 1) for i in range(MAX)]
LATE = "239.81.1.1"
RETRY_S = 1.0      # the device sets refused groups again at most once a second
MARGIN_S = 0.5     # the management lcore's step, log polling


def limit_hits(dev) -> int:
    """/ivgmp/limits vpn_groups hits: the group manager's refusals."""
    row = dev.query("/ivgmp/limits")["vpn_groups"]
    if row.get("counter") != "group_group_limit_hit":
        raise r.RigError("/ivgmp/limits vpn_groups: %s" % row)
    return int(row["hits"])


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd, extra=["vpn-max-groups %d" % MAX])
    site.start()
    dev, h1, h2 = site.device, site.hosts["h1"], site.hosts["h2"]
    hold = site.timer("vpn-leave-hold")

    chk.section("1. h1 fills the group manager's %d slots" % MAX)
    members = {}
    for g in FIRST:
        at = time.monotonic()
        members[g] = h1.join(g)
        chk.check(dev.wait_role(g, "receiver", at, 3) is not None,
                  "%s: VPN role none -> receiver" % g)
    hits = limit_hits(dev)
    chk.measured("group_group_limit_hit with the table full", hits)

    chk.section("2. h2 joins %s: IGMP holds it, the group manager refuses it" % LATE)
    late_at = time.monotonic()
    late = h2.join(LATE)
    state, _ = site.wait_igmp_group(LATE, timeout=3)
    chk.check(state is not None, "/ivgmp/igmp has %s" % LATE)
    ok, _ = r.wait_until(lambda: limit_hits(dev) > hits, 3, 0.05)
    chk.check(bool(ok), "group_group_limit_hit rose for %s" % LATE)
    refused_hits = limit_hits(dev)
    chk.equal(refused_hits - hits, 1, "refusals counted for %s (h2's join and its "
              "retransmission are one group)" % LATE)
    time.sleep(2 * RETRY_S)
    chk.equal(dev.role_changes(LATE, late_at), [], "log: no VPN role for %s while the table "
              "is full" % LATE)
    chk.check(LATE not in dev.groups(), "/ivgmp/groups has no %s" % LATE)
    chk.equal(limit_hits(dev), refused_hits, "group_group_limit_hit not moved by the retries "
              "while the table is full")

    chk.section("3. h1 leaves %s: its slot frees, %s gets its role" % (FIRST[0], LATE))
    left_at = members.pop(FIRST[0]).leave()
    freed = dev.wait_role(FIRST[0], "none", left_at, site.lmqt + hold + 3)
    chk.check(freed is not None, "log: %s VPN role receiver -> none" % FIRST[0])
    got = dev.wait_role(LATE, "receiver", late_at, site.lmqt + hold + RETRY_S + 3)
    chk.check(got is not None, "log: %s VPN role none -> receiver, with no new report "
              "needed" % LATE)
    if freed is not None and got is not None:
        chk.measured("%s's slot freed -> %s's role" % (FIRST[0], LATE), got - freed, "s")
        chk.check(got - freed <= RETRY_S + MARGIN_S, "within a second of the slot freeing "
                  "(+ %.1f s)" % MARGIN_S, "%.2f s" % (got - freed))
    chk.equal(dev.groups().get(LATE, {}).get("igmp"), "receiver", "/ivgmp/groups %s igmp "
              "input" % LATE)
    chk.equal(limit_hits(dev), refused_hits, "group_group_limit_hit: %s counted once"
              % LATE)
    late.close()
    for m in members.values():
        m.close()
    print("scenario: " + "vpn-max-groups %d: %s refused (counted %d), role %s"
                    % (MAX, LATE, refused_hits - hits,
                       "%.2f s after the slot freed" % (got - freed)
                       if freed is not None and got is not None else "never"))


if __name__ == "__main__":
    r.main(test, "group_refused_at_vpn_max_groups_gets_its_role_once_room_frees")
