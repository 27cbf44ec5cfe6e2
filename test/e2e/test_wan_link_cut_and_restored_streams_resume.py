#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A fault (issue #7): a receiving site's WAN link is cut for CUT_S seconds and
restored; nothing is restarted. The other receiving site does not notice,
and the cut site's stream resumes by itself, in order, with one gap.

    A: h1 sends G = 239.57.1.1 at 50/s;  B: h1 joins G;  C: h1 joins G

The cut: B's WAN veth is taken down at its far end, the bridge port in the
wan namespace (vpn_rig.wan_join moved it there). The veth B's device holds
with net_af_packet1 stays administratively up and loses its carrier
(NO-CARRIER, UP: operstate down), as when the cable is pulled at the
other end; the device's own end down would be an operator's `ip link set
down`, not a link fault. Only the data WAN is cut: B's device reaches vnocd
over the management network (its own veth to the management bridge, not a
DPDK port), so its VNOC session stays up during the cut (state ready, no new
registration) and vnocd, which hears B's heartbeats, changes nothing.

  1. B and C get A's stream for PRE_S seconds.
  2. B's WAN link is cut for CUT_S seconds: B's WAN port has no carrier;
     B's host gets nothing; C's host goes on getting everything; B's VNOC
     client stays ready on the management network.
  3. The link is restored: B's port has its carrier back and B's host gets
     the stream again within RESUME_BOUND seconds.
  4. What must hold over the whole run: C got every datagram from its
     first one on, once, in order; B's datagrams are in order, once, with
     a single gap, and that gap lies within the outage (from just before
     the cut to at most RESUME_BOUND after the restore); B dropped nothing
     as a replay; every ivgmpd and vnocd is the process it was at the start.
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.57.1.1"
PORT = 5057
RATE = 50.0
PRE_S = 2.0
CUT_S = 5.0
POST_S = 4.0
# The restore to the first datagram at B's host: the veth's carrier comes
# back at once (veth_open), the bridge port forwards at once (STP off,
# forward delay 0), the af_packet socket bound to B's WAN veth was never
# unbound, A's next datagram goes out 20 ms later: ~0.05 s measured here.
# Up to 1 s more if the kernel's link watch has to activate a qdisc first
# (rig.settle says why), and margin for a loaded 2-core machine.
RESUME_BOUND = 3.0
# Datagrams in flight when the link goes down or comes up: A -> B takes a
# few milliseconds; 0.1 s covers a slow scheduling of the listener thread.
EDGE_S = 0.1


def carrier(ns, ifname):
    """(has carrier, administratively up, the link's flags) of an interface."""
    flags = ns.run("ip", "-o", "link", "show", "dev", ifname).stdout.split(">")[0]
    flags = flags.split("<")[-1].split(",")
    return "LOWER_UP" in flags, "UP" in flags, ",".join(flags)


def gaps(seqs):
    """[(last before, first after)] wherever seqs skips numbers."""
    return [(p, q) for p, q in zip(seqs, seqs[1:]) if q != p + 1]


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        pids = {s.id: s.device.proc.pid for s in vr.sites}
        pids["vnocd"] = vr.vnoc.proc.pid
        b_wan_dev, b_wan_peer = b.lan.dev_wan_if, b.lan.wan_peer_if

        chk.section("1. B and C get A's stream for %.0f s" % PRE_S)
        stream, listeners, members, ok = vr.stream_to_members(a, [b, c], G, PORT, RATE,
                                                              tag="A-h1")
        lb, lc = listeners["B"], listeners["C"]
        chk.check(bool(ok), "B and C get the stream", "A %s" % a.summary())
        if not ok:
            return
        time.sleep(PRE_S)
        regs_b = b.vnoc().get("registrations", 0)
        view_b = b.vnoc().get("view_version")
        up, admin, flags = carrier(b.lan.dev_ns, b_wan_dev)
        chk.check(up and admin, "B's WAN port %s has its carrier before the cut (%s)"
                  % (b_wan_dev, flags))

        chk.section("2. B's WAN link cut for %.0f s (%s down in %s: %s in %s loses carrier)"
                    % (CUT_S, b_wan_peer, vr.wan_ns, b_wan_dev, b.lan.dev_ns))
        # The cut happens somewhere inside the `ip` command (~50 ms).
        t_down = time.monotonic()
        vr.wan_ns.run("ip", "link", "set", b_wan_peer, "down")
        t_down_done = time.monotonic()
        up, admin, flags = carrier(b.lan.dev_ns, b_wan_dev)
        chk.check(not up and admin, "B's WAN port %s lost its carrier, stays admin up (%s)"
                  % (b_wan_dev, flags))
        states = []
        while time.monotonic() < t_down + CUT_S:
            states.append(b.vnoc().get("state"))
            time.sleep(0.2)
        at_c_during = [x for x in lc.snapshot() if t_down < x[0]]
        t_up = time.monotonic()
        vr.wan_ns.run("ip", "link", "set", b_wan_peer, "up")
        t_up_done = time.monotonic()
        up, admin, flags = carrier(b.lan.dev_ns, b_wan_dev)
        at_b_during = [x for x in lb.snapshot() if t_down_done + EDGE_S < x[0] < t_up]
        chk.equal(len(at_b_during), 0, "datagrams at B's host during the cut (from %.1f s in)"
                  % EDGE_S)
        chk.check(len(at_c_during) >= RATE * CUT_S * 0.9, "C's host gets the stream during the "
                  "cut (%d datagrams in %.0f s)" % (len(at_c_during), CUT_S))
        chk.check(all(s == "ready" for s in states), "B's VNOC client stays ready during the "
                  "cut (management network) (%d samples: %s)" % (len(states), sorted(set(states))))
        chk.equal(b.vnoc().get("registrations", 0), regs_b, "B's registrations (none during "
                  "the cut)")

        chk.section("3. the link restored")
        chk.check(up and admin, "B's WAN port %s has its carrier again (%s)" % (b_wan_dev, flags))
        got, _ = r.wait_until(lambda: [x for x in lb.snapshot() if x[0] > t_up],
                              RESUME_BOUND + 5)
        resume = got[0][0] - t_up if got else None
        chk.measured("restore -> first datagram at B's host", resume, "s")
        chk.within(resume, 0.0, RESUME_BOUND, "B's host gets the stream again within %.1f s "
                   "of the restore" % RESUME_BOUND)
        time.sleep(POST_S)
        stream.stop()
        time.sleep(0.5)

        chk.section("4. C unaffected; B in order with one gap, the outage; nothing restarted")
        dc = vpn.Delivery(stream, lc)
        dc.check(chk, "C's host, from its first datagram (seq %s) to the end" % dc.first_seq)
        db = vpn.Delivery(stream, lb)
        chk.equal(db.duplicates, 0, "B's host: duplicates")
        chk.check(db.in_order, "B's host: in order", "sequence %s" % db.seqs[:40])
        chk.check(db.identical, "B's host: every datagram byte-identical to the one sent")
        holes = gaps(db.seqs)
        chk.equal(len(holes), 1, "gaps in B's sequence (%s)" % holes[:5])
        gap_n = gap_s = None
        if holes:
            before, after = holes[0]
            gap_n = after - before - 1
            first_lost, last_lost = stream.time_of(before + 1), stream.time_of(after - 1)
            gap_s = stream.time_of(after) - stream.time_of(before)
            chk.measured("B's gap: datagrams %d..%d (%d), sent %.3f..%.3f s after the cut; "
                         "restore %.3f s after it" % (before + 1, after - 1, gap_n,
                                                      first_lost - t_down, last_lost - t_down,
                                                      t_up - t_down), "")
            chk.within(first_lost - t_down, -EDGE_S, t_down_done - t_down + EDGE_S,
                       "B's first lost datagram sent around the cut (s after it)")
            chk.within(last_lost - t_up, -EDGE_S, t_up_done - t_up + RESUME_BOUND, "B's last lost datagram sent "
                       "before restore + %.1f s (s after the restore)" % RESUME_BOUND)
        tail_missing = [q for q in db.missing if holes and q > holes[0][1]]
        chk.check(not tail_missing, "B's host: nothing missing after the gap, to the end",
                  "missing %s" % tail_missing[:20])
        chk.equal(b.device.stats().get("esp_in_drop_replay", 0), 0, "B's esp_in_drop_replay")
        now_pids = {s.id: s.device.proc.pid for s in vr.sites}
        now_pids["vnocd"] = vr.vnoc.proc.pid
        chk.equal(now_pids, pids, "pids of the three ivgmpd and vnocd")
        chk.check(all(s.device.running() and s.device.starts == 1 for s in vr.sites) and
                  vr.vnoc.running(), "every ivgmpd and vnocd still running, none restarted")
        chk.check(b.ready(), "B's VNOC client ready at the end (view %s -> %s)"
                  % (view_b, b.vnoc().get("view_version")))
        vpn.scenario_line(
            "sent %d, B received %d, C received %d/%d (missing %d); B's gap %s datagrams, %s s "
            "(cut %.2f s, `ip link set down` took %.2f s); restore -> B's first datagram %s s; "
            "pids unchanged %s"
            % (stream.count(), db.count, dc.received, dc.expected, len(dc.missing),
               gap_n, fmt(gap_s), t_up - t_down, t_down_done - t_down, fmt(resume),
               now_pids == pids))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "wan_link_cut_and_restored_streams_resume")
