#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A site the policy does not allow for a group gets none of it (issue #5,
scenario 2).

    policy: everyone sends and receives 239/8, but
            deny site C receive 239.46.1.1/32
    A: h1 sends G = 239.46.1.1 at 50/s;  B: h1 joins G;  C: h1 joins G

  1. A sends, B and C join at once. B is the control: it gets the stream.
  2. C's JoinVpn receive is refused: C's /ivgmp/vnoc has G denied
     "receiver", reason NotAuthorized, nothing granted; C's log says the
     VNOC refused it; vnocd logged a deny; `vnocd accounting` has the row
     C,G,receive,deny naming the policy line.
  3. For the whole stream: C's host gets nothing, C's device puts nothing
     of G on C's LAN, no ESP on the WAN is addressed to C, vnocd holds no
     SA to C, and A's view has one remote site (B), not two.
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.46.1.1"
PORT = 5046
RATE = 50.0
STREAM_S = 4.0
POLICY = vpn.POLICY_OPEN + "deny site C receive %s/32\n" % G


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, policy=POLICY) as vr:
        a, b, c = vr.sites
        lb, lc = vr.listen(b.host(), G, PORT), vr.listen(c.host(), G, PORT)

        chk.section("1. A sends %s, B and C join" % G)
        stream = vr.stream(a.host(), G, PORT, RATE, tag="A-h1")
        ok, _ = a.wait_granted(G, "sender", 5)
        chk.check(bool(ok), "A granted sender for %s" % G, "%s" % a.vnoc_group(G))
        t_join = time.monotonic()
        b.host().join(G)
        c.host().join(G)
        ok, took = r.wait_until(lambda: lb.snapshot(), 10)
        chk.check(bool(ok), "B's host (allowed) gets the stream", "A %s" % a.summary())
        chk.measured("B's join -> first datagram at B's host", took, "s")

        chk.section("2. C's join refused: /ivgmp/vnoc, the log, vnocd, the accounting")
        denied, _ = r.wait_until(lambda: c.vnoc_group(G).get("denied") == "receiver", 5)
        chk.measured("C's join -> denied in C's /ivgmp/vnoc (at most)",
                     time.monotonic() - t_join, "s")
        state = c.vnoc_group(G)
        print("    C's /ivgmp/vnoc %s: %s" % (G, state))
        chk.check(bool(denied), "C's /ivgmp/vnoc: %s denied receiver" % G, "%s" % state)
        chk.equal(state.get("granted"), "none", "C's /ivgmp/vnoc %s granted" % G)
        chk.equal(state.get("desired"), "receiver", "C's /ivgmp/vnoc %s desired (its IGMP "
                  "member)" % G)
        chk.equal(state.get("denied_reason"), "NotAuthorized", "C's denied_reason")
        chk.check(c.vnoc().get("denials", 0) >= 1, "C's client counted a denial",
                  "%s" % c.summary())
        refused = [line for _, line in c.device.lines_since(t_join, "ivgmpd: VNOC refused")]
        chk.check(any(G in line and "receive" in line for line in refused),
                  "C's log: the VNOC refused receive for %s" % G, "%s" % refused)
        chk.check(any(" deny C %s receive" % G in line for line in vr.vnoc.log().splitlines()),
                  "vnocd's log: deny C %s receive" % G)
        rows, _ = r.wait_until(lambda: [x for x in vr.accounting() if x["action"] == "deny"], 3)
        rows = rows or []
        for x in rows:
            print("    accounting: %s" % ",".join(x[k] for k in ("time", "site", "group", "role",
                                                                  "action", "reason")))
        deny = [x for x in rows if (x["site"], x["group"], x["role"]) == ("C", G, "receive")]
        chk.equal(len(deny), 1, "accounting deny rows C,%s,receive" % G)
        chk.check(bool(deny) and "deny site C receive %s/32" % G in deny[0]["reason"],
                  "the deny row names the policy line", "%s" % (deny[0]["reason"] if deny else ""))
        chk.equal(len(rows), 1, "deny rows in all (only C's)")
        chk.check(vr.accounting_has("B", G, "receive", "join"), "accounting: B,%s,receive,join"
                  % G)
        chk.check(not vr.accounting_has("C", G, "receive", "join"),
                  "accounting: no join row for C")

        chk.section("3. %.0f s of stream: C gets nothing" % STREAM_S)
        time.sleep(STREAM_S)
        stream.stop()
        time.sleep(0.3)
        db = vpn.Delivery(stream, lb)
        db.check(chk, "B's host (control)")
        got_c = lc.snapshot()
        chk.equal(len(got_c), 0, "datagrams at C's host")
        chk.equal(len(c.delivered(G)), 0, "datagrams to %s C's device put on C's LAN" % G)
        wan = vr.wan_frames()
        to_c = [f for f in wan if f.dst == c.wan_address]
        chk.equal(len(to_c), 0, "frames on the WAN addressed to C")
        chk.check(len(vr.esp(a, b, wan)) > 0, "ESP A -> B on the WAN (control): %d"
                  % len(vr.esp(a, b, wan)))
        sas = vr.vnoc_sas()
        print("    vnocd's SAs: %s" % [(x[0], x[1], "0x%08x" % x[2]) for x in sas])
        chk.equal(sorted((x[0], x[1]) for x in sas), [("A", "B")], "SAs in vnocd (none to C)")
        chk.equal(a.vnoc().get("remote_sites"), 1, "A's /ivgmp/vnoc remote_sites (B only)")
        chk.equal(c.device.sa_to("A", "in"), {}, "C's /ivgmp/sa: no inbound SA from A")
        chk.check(G in c.device.igmp_groups(), "C's device still has %s from IGMP (its host "
                  "is a member; only the VPN is refused)" % G)
        vpn.scenario_line("sent %d, B received %d, C received %d (denied: /ivgmp/vnoc %s, "
                          "accounting %d deny row), ESP to C %d"
                          % (stream.count(), db.count, len(got_c), state.get("denied"),
                             len(deny), len(to_c)))


if __name__ == "__main__":
    vpn.main(test, "policy_denied_site_receives_nothing")
