#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The last receiver of a site leaves: the site stops delivering, and the
sender's site stops sending it copies, within the last member query time,
the leave hold and one VNOC round trip (issue #5, scenario 3).

    A: h1 sends G = 239.47.1.1 at 50/s
    B: h1 and h2 join G;  C: h1 joins G (kernel IGMPv3)
    timers: LMQI 200 ms x LMQC 2 = LMQT 0.4 s, vpn-leave-hold 1 s

  1. Everyone gets the stream.
  2. B's h1 leaves, h2 stays: B's device still delivers, h2's stream has
     no gap, B still holds the receiver role, A still sends B copies.
  3. B's h2 (the last member) leaves at t0:
       h2's socket gets nothing from t0 + 50 ms on;
       B's device delivers until LMQT after t0 (its group-specific
         queries go unanswered), not longer (wire, B's LAN);
       B's role goes to none after vpn-leave-hold (LeaveVpn);
       A's view without B follows one VNOC round trip later (LeaveVpn ->
         vnocd -> A's WatchUpdates), and A's last ESP to B is on the WAN
         within LMQT + hold + ROUND_TRIP_ALLOWANCE of t0;
       the SA A -> B is gone from vnocd and from A's /ivgmp/sa, A -> C
         stays; C's stream has no gap across all of it;
       accounting: B,G,receive,leave.
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.47.1.1"
PORT = 5047
RATE = 50.0
# One VNOC round trip (LeaveVpn, COMMIT with fsync, WatchUpdates answer, a
# new snapshot) takes about 10 ms here; 1.5 s of margin for a loaded 2-core
# machine running three busy-polling ivgmpd.
ROUND_TRIP_ALLOWANCE = 1.5


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, site_hosts={"B": ("h1", "h2")}, capture_mgmt=True) as vr:
        a, b, c = vr.sites
        bh1, bh2, ch1 = b.host("h1"), b.host("h2"), c.host("h1")
        l_b1, l_b2, l_c = (vr.listen(h, G, PORT) for h in (bh1, bh2, ch1))

        chk.section("1. A sends %s; B's h1, h2 and C's h1 join" % G)
        stream = vr.stream(a.host(), G, PORT, RATE, tag="A-h1")
        a.wait_granted(G, "sender", 5)
        m_b1, m_b2, _ = bh1.join(G), bh2.join(G), ch1.join(G)
        ok, took = r.wait_until(lambda: all(x.snapshot() for x in (l_b1, l_b2, l_c)), 10)
        chk.check(bool(ok), "B's h1, h2 and C's h1 get the stream", "A %s" % a.summary())
        if not ok:
            return
        chk.measured("joins -> all three hosts receive", took, "s")
        ok, _ = r.wait_until(lambda: len(a.device.sa_to("B")) == 1 and
                             len(a.device.sa_to("C")) == 1, 3)
        spi_ab = next(iter(a.device.sa_to("B")), None)
        chk.check(spi_ab is not None, "A's /ivgmp/sa: an outbound SA to B (0x%08x) and to C"
                  % (spi_ab or 0), "%s" % a.device.sas())

        chk.section("2. B's h1 leaves, h2 stays")
        t_h1 = m_b1.leave()
        time.sleep(b.lmqt + b.timer("vpn-leave-hold") + 1.0)
        chk.check(G in b.device.igmp_groups(), "%s still in B's /ivgmp/igmp (h2 answered the "
                  "group-specific queries)" % G)
        chk.equal(b.granted(G), "receiver", "B's /ivgmp/vnoc %s granted" % G)
        chk.equal([c_[3] for c_ in b.device.role_changes(G, t_h1)], [],
                  "B's role changes for %s after h1's leave" % G)
        after_h1 = vpn.Delivery(stream, l_b2)
        chk.check(not after_h1.missing and after_h1.count > 0,
                  "B's h2: no gap across h1's leave (%d datagrams)" % after_h1.count,
                  "missing %s" % after_h1.missing[:20])
        wall_h1 = time.time() - (time.monotonic() - t_h1)
        recent = [f for f in vr.esp(a, b) if f.time > wall_h1 + 1.5]
        chk.check(len(recent) > 0, "A still sends ESP to B after h1's leave (%d since)"
                  % len(recent))

        chk.section("3. B's h2, the last member, leaves")
        lmqt, hold = b.lmqt, b.timer("vpn-leave-hold")
        bound = lmqt + hold + ROUND_TRIP_ALLOWANCE
        t0_wall = time.time()
        t0 = m_b2.leave()
        seen = {}

        def note(name, cond):
            if name not in seen and cond:
                seen[name] = time.monotonic() - t0

        def settled():
            note("igmp_gone", G not in b.device.igmp_groups())
            note("ungranted", b.granted(G) == "none")
            note("a_without_b", a.vnoc().get("remote_sites") == 1)
            note("a_sa_gone", not a.device.sa_to("B"))
            return "a_sa_gone" in seen and time.monotonic() - t0 > bound + 1.0
        r.wait_until(settled, bound + 6, 0.02)
        stream.stop()
        time.sleep(0.3)
        b_none = b.device.wait_role(G, "none", t0, 0.1)
        b_none = None if b_none is None else b_none - t0
        a_view = vr.view_logged(a, t0, lambda line: "1 remote site(s)" in line)
        a_view = None if a_view is None else a_view - t0
        round_trip = None if a_view is None or b_none is None else a_view - b_none
        last_lan = max((f.time for f in b.delivered(G)), default=None)
        lan_stop = None if last_lan is None else last_lan - t0_wall
        wan = vr.wan_frames()
        last_esp = max((f.time for f in vr.esp(a, b, wan)), default=None)
        leave_latency = None if last_esp is None else last_esp - t0_wall
        chk.measured("t0 -> %s gone from B's /ivgmp/igmp (LMQT %.1f)" % (G, lmqt),
                     seen.get("igmp_gone"), "s")
        chk.measured("t0 -> B's role none logged (hold %.1f: LeaveVpn sent)" % hold, b_none, "s")
        chk.measured("t0 -> B's /ivgmp/vnoc granted none (LeaveVpn answered)",
                     seen.get("ungranted"), "s")
        chk.measured("t0 -> A's view with C only logged", a_view, "s")
        chk.measured("VNOC round trip: B's role none -> A's new view", round_trip, "s")
        # Where a slow round trip goes: B's first TCP segment to the VNOC
        # after its role change, and the VNOC's first to B after that.
        if b_none is not None:
            t_role = t0_wall + b_none
            mgmt = vpn.ip_frames(vr.cap_mgmt.path) if vr.cap_mgmt else []
            out = [f for f in mgmt if f.proto == 6 and f.src == b.mgmt_address and
                   f.time >= t_role]
            back = [f for f in mgmt if f.proto == 6 and f.dst == b.mgmt_address and
                    out and f.time >= out[0].time]
            chk.measured("B's role none -> B's first TCP segment to the VNOC / the VNOC's "
                         "first back", "%s / %s" % (
                             "%.3f s" % (out[0].time - t_role) if out else "none",
                             "%.3f s" % (back[0].time - t_role) if back else "none"))
        chk.measured("t0 -> B's device last delivered %s on B's LAN (wire)" % G, lan_stop, "s")
        chk.measured("t0 -> A's last ESP to B on the WAN (leave latency)", leave_latency, "s")
        got_after = [x for x in l_b2.snapshot() if x[0] > t0 + 0.05]
        chk.equal(len(got_after), 0, "datagrams at B's h2 from 50 ms after its leave")
        chk.within(lan_stop, lmqt - 0.15, lmqt + 0.4,
                   "B's device delivers until LMQT (%.1f s) after the last leave" % lmqt)
        chk.within(leave_latency, lmqt + hold - 0.15, bound,
                   "A stops copies to B: LMQT %.1f + hold %.1f + round trip (allowed %.1f)"
                   % (lmqt, hold, ROUND_TRIP_ALLOWANCE))
        chk.check(round_trip is not None and round_trip <= ROUND_TRIP_ALLOWANCE,
                  "one VNOC round trip within %.1f s" % ROUND_TRIP_ALLOWANCE,
                  "%s" % round_trip)
        chk.check("a_sa_gone" in seen, "A's /ivgmp/sa has no SA to B any more",
                  "%s" % a.device.sas())
        chk.equal(len(a.device.sa_to("C")), 1, "A's /ivgmp/sa: the SA to C stays")
        sas = sorted((x[0], x[1]) for x in vr.vnoc_sas())
        chk.equal(sas, [("A", "C")], "SAs in vnocd after B's leave")
        chk.check(vr.accounting_has("B", G, "receive", "leave"), "accounting: B,%s,receive,leave"
                  % G)
        chk.check(len([f for f in vr.esp(a, c, wan) if f.time > t0_wall + bound]) > 0,
                  "A still sends ESP to C after B left")
        dc = vpn.Delivery(stream, l_c)
        dc.check(chk, "C's host, across B's leaves")
        vpn.scenario_line("sent %d, C received %d (all), B h2 received %d until its leave, "
                          "leave latency %s s (B's LAN stop %s s, LeaveVpn after %s s, VNOC round "
                          "trip %s s; bound %.1f s)"
                          % (stream.count(), dc.count, len(l_b2.snapshot()), fmt(leave_latency),
                             fmt(lan_stop), fmt(b_none), fmt(round_trip, 3), bound))


def fmt(v, digits=2):
    return "-" if v is None else "%.*f" % (digits, v)


if __name__ == "__main__":
    vpn.main(test, "last_leave_stops_delivery_and_remote_copies")
