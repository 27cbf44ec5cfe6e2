#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Two groups with different member sets, and sites that both send and
receive one group: multipoint to multipoint, as a video conference
(issue #5, scenario 5).

    G1 = 239.49.1.1: A sends, C receives (B is not in it)
    G2 = 239.49.2.2: A and B both send and both receive (C is not in it);
                     on each of A and B one host does both, as a
                     conference endpoint: it sends (IP_MULTICAST_LOOP off)
                     and listens on G2

  1. Roles: A holds G1 sender and G2 receiver+sender, B G2
     receiver+sender, C G1 receiver. vnocd made exactly the SAs the pairs
     need: A -> B and B -> A (G2), A -> C (G1); none from C, none B <-> C.
  2. A window of STREAM_S seconds on the three streams: A's host gets B's
     G2 stream whole, B's host A's; neither gets its own back (the sites
     do not echo a stream to where it came from, nor mistake what they
     delivered for a local sender); C gets G1 whole and nothing of G2;
     B gets nothing of G1.
  3. The WAN: ESP only on A -> B, B -> A, A -> C; A -> C carries one copy
     per G1 datagram (G2 does not go to C); A -> B one per G2 datagram.
"""

import time

import rig as r
import vpn_rig as vpn

G1 = "239.49.1.1"
G2 = "239.49.2.2"
PORT = 5049
RATE = 40.0
STREAM_S = 4.0


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        ah, bh, ch = a.host(), b.host(), c.host()
        l_a2, l_b2 = vr.listen(ah, G2, PORT), vr.listen(bh, G2, PORT)
        l_c1, l_c2 = vr.listen(ch, G1, PORT), vr.listen(ch, G2, PORT)
        l_b1 = vr.listen(bh, G1, PORT)

        chk.section("1. joins and streams; roles and SAs")
        ah.join(G2)
        bh.join(G2)
        ch.join(G1)
        s_a1 = vr.stream(ah, G1, PORT, RATE, tag="A-G1")
        s_a2 = vr.stream(ah, G2, PORT, RATE, tag="A-G2")
        s_b2 = vr.stream(bh, G2, PORT, RATE, tag="B-G2")
        want = {("A", G1): "sender", ("A", G2): "receiver+sender", ("B", G2): "receiver+sender",
                ("C", G1): "receiver"}
        ok, took = r.wait_until(lambda: all(vr[s].granted(g) == role
                                            for (s, g), role in want.items()), 8)
        chk.measured("joins and streams -> every role granted", took, "s")
        for (s, g), role in sorted(want.items()):
            chk.equal(vr[s].granted(g), role, "%s's /ivgmp/vnoc %s granted" % (s, g))
        chk.equal(b.granted(G1), "none", "B's /ivgmp/vnoc %s granted" % G1)
        chk.equal(c.granted(G2), "none", "C's /ivgmp/vnoc %s granted" % G2)
        ok, took = r.wait_until(lambda: l_a2.snapshot() and l_b2.snapshot() and
                                l_c1.snapshot(), 8)
        chk.check(bool(ok), "A gets B's G2, B gets A's G2, C gets G1",
                  "A %d, B %d, C %d" % (len(l_a2.snapshot()), len(l_b2.snapshot()),
                                        len(l_c1.snapshot())))
        sas = vr.vnoc_sas()
        print("    vnocd's SAs: %s" % [(x[0], x[1], "0x%08x" % x[2]) for x in sas])
        chk.equal(sorted((x[0], x[1]) for x in sas), [("A", "B"), ("A", "C"), ("B", "A")],
                  "SAs in vnocd (from, to)")
        for s, peer, direction in (("A", "B", "out"), ("A", "C", "out"), ("A", "B", "in"),
                                   ("B", "A", "out"), ("B", "A", "in"), ("C", "A", "in")):
            chk.equal(len(vr[s].device.sa_to(peer, direction)), 1,
                      "%s's /ivgmp/sa: %s SA %s %s" % (s, direction,
                                                      "to" if direction == "out" else "from",
                                                      peer))
        chk.equal(c.device.sa_to("B", "in"), {}, "C's /ivgmp/sa: nothing from B")

        chk.section("2. a %.0f s window on the three streams" % STREAM_S)
        t_wall = time.time()
        lows = {k: s.next_seq for k, s in (("A1", s_a1), ("A2", s_a2), ("B2", s_b2))}
        time.sleep(STREAM_S)
        highs = {k: s.next_seq for k, s in (("A1", s_a1), ("A2", s_a2), ("B2", s_b2))}
        time.sleep(0.4)
        for s in (s_a1, s_a2, s_b2):
            s.stop()
        win = {k: (lows[k], highs[k] - lows[k]) for k in lows}
        d_ab = vpn.Delivery(s_a2, l_b2, window=win["A2"])
        d_ba = vpn.Delivery(s_b2, l_a2, window=win["B2"])
        d_ac = vpn.Delivery(s_a1, l_c1, window=win["A1"])
        d_ab.check(chk, "B's host gets A's G2 stream")
        d_ba.check(chk, "A's host gets B's G2 stream")
        d_ac.check(chk, "C's host gets A's G1 stream")
        own_a = [x for x in l_a2.snapshot() if x[2] == ah.addr]
        own_b = [x for x in l_b2.snapshot() if x[2] == bh.addr]
        chk.equal(len(own_a), 0, "A's host gets its own G2 stream back")
        chk.equal(len(own_b), 0, "B's host gets its own G2 stream back")
        chk.equal(len(a.delivered(G2, ah.addr)), 0, "A's device puts A's own G2 on A's LAN")
        chk.equal(len(b.delivered(G2, bh.addr)), 0, "B's device puts B's own G2 on B's LAN")
        chk.equal(len(l_c2.snapshot()), 0, "datagrams of G2 at C's host")
        chk.equal(len(c.delivered(G2)), 0, "G2 on C's LAN from C's device")
        chk.equal(len(l_b1.snapshot()), 0, "datagrams of G1 at B's host")
        chk.equal(len(b.delivered(G1)), 0, "G1 on B's LAN from B's device")
        for s in (a, b):
            roles = [(x[2], x[3]) for x in s.device.role_changes(G2)]
            chk.check(not any(new == "none" for _, new in roles),
                      "%s's G2 role never dropped (%s)" % (s.id, roles))

        chk.section("3. the WAN")
        wan = vr.wan_frames()
        pairs = sorted({(f.src, f.dst) for f in wan})
        addr = {s.wan_address: s.id for s in vr.sites}
        chk.equal(sorted((addr.get(x), addr.get(y)) for x, y in pairs),
                  [("A", "B"), ("A", "C"), ("B", "A")], "(from, to) of the WAN's frames")
        chk.equal(sorted({f.proto for f in wan}), [50], "IP protocols on the WAN")
        in_win = [f for f in wan if t_wall + 0.2 < f.time < t_wall + STREAM_S - 0.2]
        n_ac, n_ab, n_ba = (len(vr.esp(x, y, in_win)) for x, y in ((a, c), (a, b), (b, a)))
        sent_in = {k: len([q for q, v in s.sent.items()
                           if t_wall + 0.2 < v[1] < t_wall + STREAM_S - 0.2])
                   for k, s in (("A1", s_a1), ("A2", s_a2), ("B2", s_b2))}
        chk.measured("ESP A->C / A->B / B->A in the middle of the window",
                     "%d / %d / %d (sent G1 by A %d, G2 by A %d, G2 by B %d)"
                     % (n_ac, n_ab, n_ba, sent_in["A1"], sent_in["A2"], sent_in["B2"]))
        # Window edges cut by the capture's and the sender's clocks: +-2.
        chk.check(abs(n_ac - sent_in["A1"]) <= 2, "ESP A -> C: one per G1 datagram, none for G2",
                  "%d ESP, %d G1 sent" % (n_ac, sent_in["A1"]))
        chk.check(abs(n_ab - sent_in["A2"]) <= 2, "ESP A -> B: one per G2 datagram, none for G1",
                  "%d ESP, %d G2 sent" % (n_ab, sent_in["A2"]))
        chk.check(abs(n_ba - sent_in["B2"]) <= 2, "ESP B -> A: one per B's G2 datagram",
                  "%d ESP, %d sent" % (n_ba, sent_in["B2"]))
        vpn.scenario_line(
            "G1: A sent %d, C received %d/%d, B 0 of G1 (got %d); G2: A sent %d, B received %d/%d; "
            "B sent %d, A received %d/%d; C got %d of G2; own stream echoed A %d, B %d; SAs %s"
            % (s_a1.count(), d_ac.received, d_ac.expected, len(l_b1.snapshot()), s_a2.count(),
               d_ab.received, d_ab.expected, s_b2.count(), d_ba.received, d_ba.expected,
               len(l_c2.snapshot()), len(own_a), len(own_b),
               " ".join("%s>%s" % (x[0], x[1]) for x in sorted(sas))))


if __name__ == "__main__":
    vpn.main(test, "two_groups_and_two_way_conference")
