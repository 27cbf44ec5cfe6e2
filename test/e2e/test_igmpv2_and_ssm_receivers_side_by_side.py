#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
IGMPv2 hosts and IGMPv3 source-specific receivers across the VPN, side by
side (issue #5, scenario 4).

    A: h1 = S1 and h2 = S2 both send to G = 239.48.1.1 (any-source) and to
       SSM = 232.48.1.1, four numbered streams
    B: h1 forced to IGMPv2 (force_igmp_version=2 before its link is up):
          joins G with a v2 report: gets S1 and S2
       h2 IGMPv3: joins (S2, SSM) (ALLOW {S2}): gets S2 only
    C: h1 IGMPv3: joins G and blocks S2 (EXCLUDE {S2}): gets S1 only;
          joins (S1, SSM): gets S1 only

  1. Joins: B's h1 reports with v2 on the wire and B's /ivgmp/igmp has G
     in compat_version 2; B's SSM is INCLUDE {S2}; C's G is EXCLUDE with
     S2 excluded once the group-and-source query went unanswered (LMQT),
     C's SSM INCLUDE {S1}. Join latency: first report -> first datagram.
  2. Window of STREAM_S seconds after that: each wanted stream arrives
     whole, identical, in order; the unwanted ones (S1 on B's SSM, S2 at C)
     never reach the host's socket, and not the LAN's wire either (the
     filtering is the device's, not only the host kernel's).
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.48.1.1"
SSM = "232.48.1.1"
PORT = 5048
RATE = 25.0
STREAM_S = 3.0


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, site_hosts={"A": ("h1", "h2"), "B": ("h1", "h2")},
                    v2_hosts={"B": ("h1",)}) as vr:
        a, b, c = vr.sites
        s1, s2 = a.host("h1"), a.host("h2")
        bh1, bh2, ch1 = b.host("h1"), b.host("h2"), c.host("h1")
        chk.equal((bh1.igmp_version, bh2.igmp_version, ch1.igmp_version), (2, 3, 3),
                  "IGMP versions of B's h1, B's h2, C's h1")
        listen = {("B", G): vr.listen(bh1, G, PORT), ("B", SSM): vr.listen(bh2, SSM, PORT),
                  ("C", G): vr.listen(ch1, G, PORT), ("C", SSM): vr.listen(ch1, SSM, PORT)}
        streams = {(src, grp): vr.stream(host, grp, PORT, RATE, tag="%s-%s" % (src, grp))
                   for src, host in (("S1", s1), ("S2", s2)) for grp in (G, SSM)}
        ok, _ = r.wait_until(lambda: a.granted(G) == "sender" and a.granted(SSM) == "sender", 5)
        chk.check(bool(ok), "A granted sender for %s and %s" % (G, SSM),
                  "%s %s" % (a.vnoc_group(G), a.vnoc_group(SSM)))

        chk.section("1. joins: B h1 v2 %s; B h2 (S2,%s); C h1 %s EXCLUDE {S2}, (S1,%s)"
                    % (G, SSM, G, SSM))
        t_wall = time.time()
        bh1.join(G)
        bh2.join_source(SSM, s2.addr)
        m_c = ch1.join(G)
        t_block = m_c.block(s2.addr)
        ch1.join_source(SSM, s1.addr)
        wanted = {("B", G, "S1"), ("B", G, "S2"), ("B", SSM, "S2"), ("C", G, "S1"),
                  ("C", SSM, "S1")}

        def first_of(site, grp, src):
            host = s1 if src == "S1" else s2
            return next((x for x in listen[(site, grp)].snapshot() if x[2] == host.addr), None)
        ok, took = r.wait_until(lambda: all(first_of(*w) for w in wanted), 10)
        chk.check(bool(ok), "every wanted (site, group, source) arrives",
                  "missing %s" % sorted(w for w in wanted if not first_of(*w)))
        chk.measured("joins -> every wanted stream arrives", took, "s")
        report_v2 = b.first_report(bh1, G, t_wall - 0.1)
        chk.check(report_v2 is not None and report_v2.type == 0x16,
                  "B's h1 reports %s with IGMPv2 (type 0x16) on the wire" % G,
                  report_v2.describe() if report_v2 else "no report")
        latencies = {}
        for site, host, grp, src in (("B", bh1, G, "S1"), ("B", bh2, SSM, "S2"),
                                     ("C", ch1, G, "S1"), ("C", ch1, SSM, "S1")):
            rep = vr[site].first_report(host, grp, t_wall - 0.1)
            first = first_of(site, grp, src)
            lat = None if rep is None or first is None else first[1] - rep.time
            latencies[(site, grp)] = lat
            chk.measured("%s %s: first report (%s) -> first datagram (join latency)"
                         % (site, grp, rep.describe() if rep else "none"), lat, "s")
            chk.within(lat, 0.0, 3.0, "join latency %s %s" % (site, grp))

        # C's EXCLUDE {S2}: S2 is forwarded until its source timer (LMQT) runs out.
        settle = max(0.0, t_block + c.lmqt + 0.5 - time.monotonic())
        time.sleep(settle)
        t_settled_wall = time.time()
        igmp_b, igmp_c = b.device.igmp_groups(), c.device.igmp_groups()
        print("    B /ivgmp/igmp: %s" % igmp_b)
        print("    C /ivgmp/igmp: %s" % igmp_c)
        chk.equal(igmp_b.get(G, {}).get("compat_version"), 2, "B's %s compat_version" % G)
        chk.equal(igmp_b.get(SSM, {}).get("filter_mode"), "include", "B's %s filter" % SSM)
        chk.equal(sorted(igmp_b.get(SSM, {}).get("source_timers_ms", {})), [s2.addr],
                  "B's %s sources" % SSM)
        cg = igmp_c.get(G, {})
        chk.equal(cg.get("filter_mode"), "exclude", "C's %s filter" % G)
        chk.equal(cg.get("source_timers_ms", {}).get(s2.addr), 0,
                  "C's %s: S2 excluded (timer 0)" % G)
        chk.equal(igmp_c.get(SSM, {}).get("filter_mode"), "include", "C's %s filter" % SSM)
        chk.equal(sorted(igmp_c.get(SSM, {}).get("source_timers_ms", {})), [s1.addr],
                  "C's %s sources" % SSM)

        chk.section("2. %.0f s window: wanted streams whole, unwanted nowhere" % STREAM_S)
        lows = {k: s.next_seq for k, s in streams.items()}
        time.sleep(STREAM_S)
        highs = {k: s.next_seq for k, s in streams.items()}
        time.sleep(0.4)
        for s in streams.values():
            s.stop()
        counts = {}
        for site, grp, src in sorted(wanted):
            st = streams[(src, grp)]
            d = vpn.Delivery(st, listen[(site, grp)],
                             window=(lows[(src, grp)], highs[(src, grp)] - lows[(src, grp)]))
            counts[(site, grp, src)] = "%d/%d" % (d.received, d.expected)
            d.check(chk, "%s %s from %s" % (site, grp, src))
        for site, grp, src in (("B", SSM, "S1"), ("C", G, "S2"), ("C", SSM, "S2")):
            host = s1 if src == "S1" else s2
            at_host = [x for x in listen[(site, grp)].snapshot() if x[2] == host.addr]
            on_wire = [f for f in vr[site].delivered(grp, host.addr, t_settled_wall)]
            counts[(site, grp, src)] = "%d" % len(at_host)
            chk.equal(len(at_host), 0, "%s %s from %s at the host (never)" % (site, grp, src))
            chk.equal(len(on_wire), 0, "%s %s from %s on %s's LAN, after the filters settled"
                      % (site, grp, src, site))
        early = [f for f in c.delivered(G, s2.addr) if f.time < t_settled_wall]
        chk.measured("C: %s from S2 on the wire before EXCLUDE {S2} settled (LMQT)" % G,
                     len(early))
        chk.measured("C's inner_drop_not_wanted (S2's copies A sends C, dropped by C)",
                     c.device.stats().get("inner_drop_not_wanted"))
        vpn.scenario_line(
            "sent %d per stream (4 streams); B v2 host %s S1 %s, S2 %s; B SSM host %s S2 %s, "
            "S1 %s; C EXCLUDE{S2} host %s S1 %s, S2 %s; C SSM S1 %s, S2 %s; join latency v2 %s s, "
            "SSM %s s" % (
                streams[("S1", G)].count(), G, counts[("B", G, "S1")], counts[("B", G, "S2")],
                SSM, counts[("B", SSM, "S2")], counts[("B", SSM, "S1")], G,
                counts[("C", G, "S1")], counts[("C", G, "S2")], counts[("C", SSM, "S1")],
                counts[("C", SSM, "S2")], fmt(latencies[("B", G)]), fmt(latencies[("B", SSM)])))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "igmpv2_and_ssm_receivers_side_by_side")
