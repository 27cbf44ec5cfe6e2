#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A receiving site's ivgmpd restarts: it registers again, rebuilds its
groups from IGMP (its hosts answer its startup query) and from the VNOC
(its view: the group, the sender, the SA), and its receivers get the
stream again (issue #5, scenario 8).

    A: h1 sends G = 239.53.1.1 at 50/s;  B: h1 joins G;  C: h1 joins G

  1. B and C get the stream; B's inbound SA from A is noted.
  2. B's ivgmpd gets SIGTERM (exit 0) and stays down RESTART_PAUSE s. C's
     stream goes on without a gap; A goes on sending B copies (the VNOC
     still counts B as a receiver: B did not leave, it went away).
  3. B's ivgmpd starts again with the same configuration:
       its first view (RegisterSite) has G and the SA from A, before any
         IGMP; its startup general query is answered by B's host, and G is
         back in /ivgmp/igmp; the role receiver follows, already granted:
         the registration's view listed B as a receiver, so the client
         holds the role from it (adopted) and needs no JoinVpn;
       B's host gets the stream again within QRI + REJOIN_ALLOWANCE of
         ready, and from then on without a gap;
       the SA is the VNOC's same one (same SPI); B drops nothing as a
         replay or an ICV failure (a fresh replay window, A's sequence
         numbers go on);
       accounting: still one join row for B and no leave (the VNOC never
         saw B leave); vnocd logged B registering as restarted (a fresh
         start: new outbound SAs for B, none here since B only receives).
"""

import time

import rig as r
import vpn_rig as vpn
import wire

G = "239.53.1.1"
PORT = 5053
RATE = 50.0
RESTART_PAUSE = 1.0
# B's host answers the startup query within its max response time (QRI);
# registration and a snapshot on top: ~0.1 s here, margin for a loaded box.
REJOIN_ALLOWANCE = 2.0


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        chk.section("1. B and C get A's stream")
        stream, listeners, members, ok = vr.stream_to_members(a, [b, c], G, PORT, RATE,
                                                              tag="A-h1")
        lb, lc = listeners["B"], listeners["C"]
        chk.check(bool(ok), "B and C get the stream", "A %s" % a.summary())
        if not ok:
            return
        time.sleep(1.0)
        sa_before = b.device.sa_to("A", "in")
        chk.equal(len(sa_before), 1, "B's /ivgmp/sa: one inbound SA from A")
        spi = next(iter(sa_before), None)

        chk.section("2. B's ivgmpd stops for %.1f s" % RESTART_PAUSE)
        t_stop = time.monotonic()
        t_stop_wall = time.time()
        code = b.device.stop()
        chk.equal(code, 0, "B's ivgmpd exit status after SIGTERM")
        time.sleep(RESTART_PAUSE)
        down = [x for x in lb.snapshot() if x[0] > t_stop + 0.05]
        chk.equal(len(down), 0, "datagrams at B's host while B's ivgmpd is down")
        esp_down = [f for f in vr.esp(a, b) if f.time > t_stop_wall + 0.1]
        chk.measured("ESP A -> B while B is down (the VNOC still lists B)", len(esp_down))

        chk.section("3. B's ivgmpd starts again")
        took = b.device.start()
        t_ready = time.monotonic()
        t_ready_wall = time.time()
        chk.measured("B's ivgmpd restarted, ready after", took, "s")
        seen = {}

        def note(name, cond):
            if name not in seen and cond:
                seen[name] = time.monotonic() - t_ready

        def back():
            v = b.vnoc()
            note("registered", v.get("state") == "ready")
            note("igmp", G in b.device.igmp_groups())
            note("granted", v.get("groups", {}).get(G, {}).get("granted") == "receiver")
            return len(seen) == 3 and [x for x in lb.snapshot() if x[0] > t_ready]
        qri = b.timer("igmp-query-response-interval")
        bound = qri + REJOIN_ALLOWANCE
        ok, _ = r.wait_until(back, bound + 5, 0.02)
        after = [x for x in lb.snapshot() if x[0] > t_ready]
        first = after[0][0] - t_ready if after else None
        view = next(((t - t_ready, line.strip()) for t, line in
                     b.device.lines_since(t_ready - took, "ivgmpd: VNOC view")), (None, ""))
        role = b.device.wait_role(G, "receiver", t_ready - took, 0.1)
        query = next((m for m in b.cap.igmp() if m.type == wire.IGMP_QUERY and
                      m.is_general_query and m.time > t_ready_wall - took), None)
        report = b.first_report(b.host(), G, query.time if query else t_ready_wall - took)
        chk.measured("ready -> registered again (/ivgmp/vnoc ready)", seen.get("registered"), "s")
        chk.measured("ready -> first view applied: %s" % view[1], view[0], "s")
        chk.measured("ready -> B's startup general query on the wire", None if query is None
                     else query.time - t_ready_wall, "s")
        chk.measured("ready -> B's host's report (%s)" % (report.describe() if report else "-"),
                     None if report is None else report.time - t_ready_wall, "s")
        chk.measured("ready -> %s in B's /ivgmp/igmp" % G, seen.get("igmp"), "s")
        chk.measured("ready -> B's role receiver", None if role is None else role - t_ready, "s")
        chk.measured("ready -> B's /ivgmp/vnoc %s granted receiver" % G, seen.get("granted"), "s")
        chk.measured("ready -> first datagram at B's host", first, "s")
        chk.check(bool(ok), "B registered, has %s from IGMP, granted, and its host gets the "
                  "stream again" % G, "%s; %s" % (seen, b.summary()))
        chk.check("1 group(s), 1 SA(s)" in view[1], "B's first view after the restart has %s "
                  "and the SA from A" % G, view[1])
        chk.check(query is not None and report is not None,
                  "B's startup query answered by B's host")
        chk.within(first, 0.0, bound, "B's host gets the stream again within QRI %.1f + %.1f s "
                   "of ready" % (qri, REJOIN_ALLOWANCE))
        v = b.vnoc()
        chk.equal(v.get("registrations"), 1, "registrations of the new B process")
        chk.equal(b.vnoc_group(G).get("granted"), "receiver",
                  "B's client holds receiver in %s (from the view, or a JoinVpn)" % G)
        chk.measured("B's JoinVpn after the restart (0: the view's role was adopted)",
                     v.get("joins", 0))
        time.sleep(1.5)
        stream.stop()
        time.sleep(0.3)

        chk.section("4. the same SA, no drops, no gaps, the accounting")
        sa_after = b.device.sa_to("A", "in")
        chk.equal(sorted(sa_after), [spi], "B's inbound SA from A after the restart (SPI)")
        st = b.device.stats()
        for k in ("esp_in_drop_replay", "esp_in_drop_icv_fail"):
            chk.equal(st.get(k, 0), 0, "B's %s" % k)
        db = vpn.Delivery(stream, lb)
        after = [x for x in lb.snapshot() if x[0] > t_ready]
        whole_after = [vpn.payload_seq(x[3]) for x in after]
        until = time.monotonic() - 0.3
        expected = [q for q in range(whole_after[0], stream.count())
                    if stream.sent[q][0] < until] if whole_after else []
        gaps = sorted(set(expected) - set(vpn.payload_seq(x[3]) for x in lb.snapshot()))
        chk.check(bool(expected) and not gaps, "B's host: no gap from its first datagram after "
                  "the restart (%d expected)" % len(expected), "missing %s" % gaps[:20])
        chk.check(db.identical and db.duplicates == 0 and db.in_order,
                  "B's host: identical, no duplicates, in order (before and after)")
        dc = vpn.Delivery(stream, lc)
        dc.check(chk, "C's host, across B's restart")
        joins = [x for x in vr.accounting() if x["site"] == "B"]
        chk.equal([(x["role"], x["action"]) for x in joins], [("receive", "join")],
                  "B's accounting rows (one join, no leave)")
        chk.check(any(" register B " in line and "(restarted," in line
                      for line in vr.vnoc.log().splitlines()),
                  "vnocd: B registered again, as restarted (freshStart)")
        missed = len([q for q in range(stream.count())
                      if t_stop < stream.sent[q][0] < after[0][0]]) if after else None
        vpn.scenario_line(
            "sent %d, B received %d (%d after the restart, ~%s missed while down %.1f s + "
            "restart), C received %d (all); B ready -> registered %s s, -> IGMP %s s, -> first "
            "datagram %s s; same SA, replay drops %d"
            % (stream.count(), db.count, len(after), missed, RESTART_PAUSE, dc.count,
               fmt(seen.get("registered")), fmt(seen.get("igmp")), fmt(first),
               st.get("esp_in_drop_replay", 0)))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "restarted_receiver_site_gets_the_stream_again")
