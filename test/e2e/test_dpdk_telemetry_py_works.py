#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
DPDK's own client reads the membership: `echo /ivgmp/igmp | dpdk-telemetry.py
-f PREFIX` (as the README tells an operator) prints JSON with the querier,
the counters and the groups the hosts joined: 239.7.7.7 from h1 (IGMPv3,
compat_version 3) and 239.7.7.8 from h3 (IGMPv2, compat_version 2). Several
commands in one session work too (/ivgmp/groups, /ivgmp/stats), and agree
with what the rig's own telemetry client reads.
"""

import json
import shutil
import sys

import rig as r

V3_GROUP = "239.7.7.7"
V2_GROUP = "239.7.7.8"


def test(rig, chk, args):
    tool = shutil.which("dpdk-telemetry.py")
    if tool is None:
        print("skipped: dpdk-telemetry.py not found (Debian package dpdk-dev)")
        rig.close()
        sys.exit(r.SKIP)
    site = r.LanSite(rig, args.ivgmpd)
    site.start()
    dev, h1, h3 = site.device, site.hosts["h1"], site.hosts["h3"]
    h1.join(V3_GROUP)
    h3.join(V2_GROUP)
    for g in (V3_GROUP, V2_GROUP):
        chk.check(dev.wait_role(g, "receiver", 0, 3) is not None, "log: %s role receiver" % g)

    chk.section("echo /ivgmp/igmp | dpdk-telemetry.py -f %s" % dev.prefix)
    code, replies, out = r.telemetry_py(tool, dev.prefix, ["/ivgmp/igmp"])
    chk.equal(code, 0, "exit code")
    igmp = replies.get("/ivgmp/igmp")
    chk.check(isinstance(igmp, dict), "one JSON reply for /ivgmp/igmp", out[:300])
    if not isinstance(igmp, dict):
        return
    chk.equal(igmp.get("querier"), "self", "querier")
    chk.equal(igmp.get("lan_address"), site.lan_address, "lan_address")
    chk.check(igmp.get("rx_v3_reports", 0) >= 1 and igmp.get("rx_v2_reports", 0) >= 1,
              "rx_v3_reports %s, rx_v2_reports %s" % (igmp.get("rx_v3_reports"), igmp.get("rx_v2_reports")))
    groups = r.by_address(igmp.get("groups", {}))
    print("      groups: %s" % json.dumps(igmp.get("groups")))
    chk.equal(sorted(groups), [V3_GROUP, V2_GROUP], "groups in the JSON", bug=r.table_bug(groups))
    if groups:
        chk.equal(groups.get(V3_GROUP, {}).get("compat_version"), 3, "%s compat_version" % V3_GROUP)
        chk.equal(groups.get(V2_GROUP, {}).get("compat_version"), 2, "%s compat_version" % V2_GROUP)
        chk.check(all(g.get("filter_mode") == "exclude" and g.get("group_timer_ms", 0) > 0
                      for g in groups.values()), "both EXCLUDE with a running group timer")

    chk.section("several commands in one session")
    code, replies, out = r.telemetry_py(tool, dev.prefix, ["/ivgmp/groups", "/ivgmp/stats", "/ivgmp/sa"])
    chk.equal(code, 0, "exit code")
    chk.equal(sorted(replies), ["/ivgmp/groups", "/ivgmp/sa", "/ivgmp/stats"], "a reply per command")
    roles = r.by_address(replies.get("/ivgmp/groups", {}))
    chk.check(all("receiver" in roles.get(g, {}).get("role", "") for g in (V3_GROUP, V2_GROUP)),
              "/ivgmp/groups: both groups role receiver", "got %s" % roles, bug=r.table_bug(roles))
    stats = replies.get("/ivgmp/stats", {})
    chk.check(stats.get("lan_igmp", 0) >= 2, "/ivgmp/stats lan_igmp %s" % stats.get("lan_igmp"))
    sas = replies.get("/ivgmp/sa", {})
    chk.check(any(sa.get("site") == "remote" for sa in sas.values()), "/ivgmp/sa has the SA to remote")

    chk.section("the same as the rig's client reads")
    direct = dev.query("/ivgmp/igmp")
    chk.check(sorted(direct) == sorted(igmp), "the same %d /ivgmp/igmp keys" % len(igmp),
              "direct %s" % sorted(set(direct) ^ set(igmp)))
    chk.check(sorted(stats) == sorted(dev.stats()), "the same %d /ivgmp/stats keys" % len(stats))


if __name__ == "__main__":
    r.main(test, "dpdk_telemetry_py_works")
