#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A LAN sender is discovered from its traffic and forgotten when it stops.

h1 sends UDP to 239.3.3.3 (5 packets a second for 3 s, TTL 4, from its LAN
address). The device learns the source from the traffic alone (paper 3.2):
/ivgmp/sources shows (h1, 239.3.3.3), /ivgmp/groups the sender role, the log
the JoinVpn (none -> sender). After the last packet the source is forgotten
after source-idle-timeout, and the sender role given up vpn-leave-hold
later. Both are measured from the last packet. Workers report a source at
most once a second, so the source may go up to a second early: the bound
below allows that and no more.
"""

import time

import rig as r

GROUP = "239.3.3.3"
RATE, SECONDS = 5, 3
REPORT_PERIOD = 1.0     # worker_source_note: one sighting per (S,G) and second
MARGIN = 0.15


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd)
    site.start()
    dev, h1 = site.device, site.hosts["h1"]
    key = "(%s,%s)" % (h1.addr, GROUP)
    idle, hold = site.timer("source-idle-timeout"), site.timer("vpn-leave-hold")

    chk.section("h1 sends to %s: %d packets/s for %d s" % (GROUP, RATE, SECONDS))
    stats0 = dev.stats()
    started = time.monotonic()
    # Half the packets first, then look, then the rest.
    h1.send(GROUP, RATE * SECONDS // 2, RATE)
    sources = dev.sources()
    chk.check(key in sources, "/ivgmp/sources has %s while it sends" % key, "got %s" % sources,
              bug=r.table_bug(sources))
    table = dev.groups()
    chk.check("sender" in table.get(GROUP, {}).get("role", ""), "/ivgmp/groups %s role sender"
              % GROUP, "got %s" % table, bug=r.table_bug(table))
    if GROUP in table:
        chk.equal(table[GROUP].get("sources"), 1, "/ivgmp/groups sources")
    role_at = dev.wait_role(GROUP, "sender", started, 1)
    chk.check(role_at is not None, "log: VPN role none -> sender")
    if role_at:
        chk.measured("first packet -> JoinVpn (role sender) in the log", role_at - started, "s")
    last = h1.send(GROUP, RATE * SECONDS - RATE * SECONDS // 2, RATE)
    stats = dev.stats()
    rx = stats["lan_rx_packets"] - stats0["lan_rx_packets"]
    reports = stats["source_reports"] - stats0["source_reports"]
    chk.measured("counters", "lan_rx_packets +%d (IGMP included), source_reports +%d, "
                 "lan_drop_no_group +%d" % (rx, reports, stats["lan_drop_no_group"] -
                                            stats0["lan_drop_no_group"]))
    chk.check(rx >= RATE * SECONDS, "the device received the %d packets" % (RATE * SECONDS))
    chk.check(1 <= reports <= SECONDS + 1, "source_reports +%d: about one a second" % reports)
    chk.equal(stats["lan_drop_bad_ip_checksum"] - stats0["lan_drop_bad_ip_checksum"], 0,
              "lan_drop_bad_ip_checksum")

    chk.section("h1 stops")
    visible = key in sources
    source_gone = None
    if visible:
        gone, took = r.wait_until(lambda: key not in dev.sources(), idle + 2 * REPORT_PERIOD + 2)
        source_gone = time.monotonic() - last if gone else None
        chk.measured("last packet -> source gone from /ivgmp/sources", source_gone, "s")
        # At least the configured silence, at most one reporting period more.
        chk.within(source_gone, idle - MARGIN, idle + REPORT_PERIOD + MARGIN,
                   "last packet -> source forgotten (source-idle-timeout, 1 s reporting grain)")
    role_gone = dev.wait_role(GROUP, "none", last, idle + hold + 2 * REPORT_PERIOD + 2)
    chk.check(role_gone is not None, "log: VPN role sender -> none")
    if role_gone:
        chk.measured("last packet -> LeaveVpn (role none) in the log", role_gone - last, "s")
        chk.measured("hence last packet -> source forgotten (minus the hold)", role_gone - last - hold, "s")
        chk.within(role_gone - last, idle + hold - MARGIN, idle + hold + REPORT_PERIOD + MARGIN,
                   "last packet -> role none (idle timeout + vpn-leave-hold)")
        if visible and source_gone is not None:
            chk.within(role_gone - last - source_gone, hold - MARGIN, hold + MARGIN,
                       "source gone -> role none (vpn-leave-hold)")
    chk.check(GROUP not in dev.groups(), "/ivgmp/groups no longer has %s" % GROUP)


if __name__ == "__main__":
    r.main(test, "local_sender_discovered_and_expires")
