#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A fault (issue #7): a site that sends and receives is killed (SIGKILL, no
LeaveVpn, no goodbye). The VNOC takes it out within its liveness timeout,
the other sites drop it from their views and stop sending to it, their own
streams never break, and the killed site, started again, comes back with
fresh SAs.

    vnocd --heartbeat 1 --liveness-timeout 3
    G1 = 239.58.1.1: A and B send, C receives; A's host listens too (so B
                     sends copies to A: A's death matters to B's sending)
    G2 = 239.58.2.2: A and C send, B receives (A's death matters to B's
                     receiving, and B has a second sender that must go on)
    each stream RATE datagrams/s from the site's h1, tagged by sender and group

  1. Every role granted, every listener gets each of its senders.
  2. A's ivgmpd is killed with SIGKILL. Its heartbeats stop; vnocd, once
     A was silent for the liveness timeout, leaves A's roles (accounting
     reason "silent"), deletes its SAs and its registration and bumps the
     views of B and C. Measured from the kill: vnocd's "liveness" log line,
     and when B's and C's /ivgmp/sites no longer list A; bound DROP_BOUND.
     After B dropped A, nothing more goes to A's WAN address (the WAN
     capture); before it, B's copies to A went on, unanswered.
  3. A's ivgmpd starts again (same configuration): it registers again
     (vnocd logs it as a new site: its row was deleted), its G1 stream
     reaches C and its G2 stream B within RESUME_BOUND of its ready, B's G1
     reaches A's host again; the SAs A -> B and A -> C are new (SPIs not
     seen before the kill), their ESP sequence numbers start again at 1,
     no (SPI, IV) pair of before comes again, and neither B nor C drops
     anything as a replay or for an unknown SPI.
  4. Over the whole run: C's host got B's G1 stream and B's host C's G2
     stream from their first datagram to the end, once, in order (no gap
     at the kill, the take-out or the restart); B, C and vnocd are the
     processes they were at the start.
"""

import calendar
import time

import rig as r
import vpn_rig as vpn

G1 = "239.58.1.1"
G2 = "239.58.2.2"
PORT = 5058
RATE = 40.0
PRE_S = 2.0
POST_DROP_S = 2.0
POST_RESTART_S = 4.0
HEARTBEAT_S = 1
LIVENESS_S = 3
# Kill -> B and C drop A. vnocd keeps last_seen in whole seconds and takes
# out sites whose max(last_seen, start) < now - liveness (vnocd_store.c
# VNOCD_SQL_SITES_SILENT), looking every max(liveness / 10, 1) s
# (vnocd.c timer_main): A's last heartbeat, at most HEARTBEAT_S before the
# kill, is taken out between LIVENESS_S - HEARTBEAT_S and LIVENESS_S + 1
# (whole seconds) + 1 (the look) s after the kill; then the views go to B
# and C on their parked WatchUpdates (~0.1 s). Margin 1 s for a loaded
# 2-core machine.
DROP_LOW = LIVENESS_S - HEARTBEAT_S - 1
DROP_BOUND = LIVENESS_S + 1 + 1 + 1
# After a site's /ivgmp/sites lost A, its workers may still be on the
# previous snapshot for a burst; the poll that saw it is up to 20 ms late.
GRACE_S = 0.1
# A ready -> its stream at C: its host's next datagram makes the sender
# known, JoinVpn send, the new SA in C's view, then in A's (make before
# break): ~0.2 s here, as in restarted_sender_site_uses_fresh_esp_nonces.
RESUME_BOUND = 2.0
# A ready -> B's stream at A's host: A's startup query, its host's report
# within the query response interval (1 s), JoinVpn receive, B's view.
REJOIN_BOUND = 1.0 + 2.0


def vnocd_log_time(line):
    """The monotonic time of a vnocd log line ("2026-...T13:06:37.123Z vnocd: ...")."""
    stamp = line.split(" ", 1)[0]
    wall = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + \
        int(stamp[20:23]) / 1000.0
    return wall - (time.time() - time.monotonic())


def from_sender(listener, stream, after=0.0):
    """What listener got of stream's sender (and tag) after a monotonic time."""
    tag = stream.tag
    return [x for x in listener.snapshot() if x[0] > after and x[2] == stream.host.addr and
            tag in x[3][:len(vpn.MARK) + 40]]


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, vnoc_extra=["--heartbeat", str(HEARTBEAT_S),
                                                "--liveness-timeout", str(LIVENESS_S)]) as vr:
        a, b, c = vr.sites
        ah, bh, ch = a.host(), b.host(), c.host()
        mono_to_wall = time.time() - time.monotonic()

        chk.section("1. G1: A and B send, C and A receive; G2: A and C send, B receives")
        l_c1, l_a1, l_b2 = vr.listen(ch, G1, PORT), vr.listen(ah, G1, PORT), \
            vr.listen(bh, G2, PORT)
        ah.join(G1)
        ch.join(G1)
        bh.join(G2)
        s_a1 = vr.stream(ah, G1, PORT, RATE, tag="A-G1")
        s_b1 = vr.stream(bh, G1, PORT, RATE, tag="B-G1")
        s_a2 = vr.stream(ah, G2, PORT, RATE, tag="A-G2")
        s_c2 = vr.stream(ch, G2, PORT, RATE, tag="C-G2")
        want = {("A", G1): "receiver+sender", ("A", G2): "sender", ("B", G1): "sender",
                ("B", G2): "receiver", ("C", G1): "receiver", ("C", G2): "sender"}
        ok, took = r.wait_until(lambda: all(vr[s].granted(g) == role
                                            for (s, g), role in want.items()), 8)
        chk.measured("joins and streams -> every role granted", took, "s")
        chk.check(bool(ok), "every role granted", "; ".join(
            "%s %s %s" % (s, g, vr[s].granted(g)) for (s, g) in sorted(want)))
        flows = (("C", l_c1, s_a1), ("C", l_c1, s_b1), ("A", l_a1, s_b1), ("B", l_b2, s_a2),
                 ("B", l_b2, s_c2))
        ok, took = r.wait_until(lambda: all(from_sender(l, s) for _, l, s in flows), 8)
        chk.check(bool(ok), "each listener gets each of its senders",
                  ", ".join("%s<-%s %d" % (w, s.tag.decode(), len(from_sender(l, s)))
                            for w, l, s in flows))
        if not ok:
            return
        time.sleep(PRE_S)
        pids = {"B": b.device.proc.pid, "C": c.device.proc.pid, "vnocd": vr.vnoc.proc.pid}
        views_before = {s.id: s.vnoc().get("view_version") for s in (b, c)}
        sites_before = {s.id: sorted(s.device.sites() or {}) for s in (b, c)}
        chk.equal(sites_before, {"B": ["A", "C"], "C": ["A", "B"]}, "B's and C's /ivgmp/sites")
        out_spis_before = {peer: sorted(a.device.sa_to(peer)) for peer in ("B", "C")}
        print("    A's outbound SAs before the kill: %s" % {
            k: ["0x%08x" % x for x in v] for k, v in out_spis_before.items()})

        chk.section("2. A's ivgmpd killed (SIGKILL); vnocd's liveness takes A out")
        t_kill = time.monotonic()
        a.device.proc.kill()
        a.device.proc.wait(5)
        dropped = {}

        def drops():
            for s in (b, c):
                if s.id not in dropped and "A" not in (s.device.sites() or {"A": 1}):
                    dropped[s.id] = time.monotonic()
            return len(dropped) == 2
        r.wait_until(drops, DROP_BOUND + 5, 0.02)
        took = {k: v - t_kill for k, v in dropped.items()}
        line = next((x for x in vr.vnoc.log().splitlines() if "liveness: site A " in x), None)
        t_out = vnocd_log_time(line) - t_kill if line else None
        print("    vnocd: %s" % (line or "no liveness line for A"))
        chk.measured("kill -> vnocd takes A out (its log line)", t_out, "s")
        for s in (b, c):
            chk.measured("kill -> %s's /ivgmp/sites without A" % s.id, took.get(s.id), "s")
            chk.within(took.get(s.id), DROP_LOW, DROP_BOUND,
                       "%s drops A within liveness %d s + %d s (heartbeat %d s)"
                       % (s.id, LIVENESS_S, DROP_BOUND - LIVENESS_S, HEARTBEAT_S))
            view = vr.view_logged(s, t_kill)
            chk.measured("kill -> %s logs a new VNOC view" % s.id,
                         None if view is None else view - t_kill, "s")
            chk.check(s.vnoc().get("view_version", 0) > views_before[s.id],
                      "%s's view bumped (%s -> %s)" % (s.id, views_before[s.id],
                                                        s.vnoc().get("view_version")))
            chk.equal(sorted(s.device.sites() or {}), sorted({"B", "C"} - {s.id}),
                      "%s's /ivgmp/sites after" % s.id)
        chk.check(line is not None and "registration removed" in line,
                  "vnocd logged A taken out by liveness")
        chk.equal(vr.vnoc.sql("SELECT grp, roles FROM memberships WHERE site = 'A'"), [],
                  "A's memberships in vnocd")
        chk.equal(vr.vnoc.sql("SELECT from_site, to_site FROM sas WHERE from_site = 'A' OR "
                              "to_site = 'A'"), [], "SAs from or to A in vnocd")
        chk.equal(vr.vnoc.sql("SELECT id FROM sites WHERE id = 'A'"), [],
                  "A's registration in vnocd")
        rows = [x for x in vr.accounting() if x["site"] == "A" and x["action"] == "leave"]
        chk.equal(sorted((x["group"], x["role"]) for x in rows),
                  sorted([(G1, "receive"), (G1, "send"), (G2, "send")]),
                  "accounting: A's leaves (group, role)")
        chk.check(rows and all(x["reason"].startswith("silent") for x in rows),
                  "accounting: A's leaves with reason silent (%s)"
                  % sorted({x["reason"] for x in rows}))
        t_drop = max(dropped.values()) if dropped else time.monotonic()
        time.sleep(POST_DROP_S)

        chk.section("3. A's ivgmpd starts again")
        code = a.device.stop()
        chk.equal(code, -9, "A's ivgmpd exit status (killed)")
        t_restart = time.monotonic()
        a.device.start()
        t_ready = time.monotonic()
        chk.measured("A's ivgmpd ready after", t_ready - t_restart, "s")
        wan = vr.wan_frames()
        to_a = [f for f in wan if f.dst == a.wan_address]
        b_to_a = vr.esp(b, a, wan)
        w_kill, w_drop, w_restart = (t + mono_to_wall for t in (t_kill, t_drop, t_restart))
        between = [f for f in b_to_a if w_kill < f.time < w_drop]
        late = [f for f in to_a if w_drop + GRACE_S < f.time < w_restart]
        last_b = max((f.time for f in b_to_a if f.time < w_restart), default=None)
        chk.measured("ESP B -> A between the kill and the take-out (unanswered)", len(between))
        chk.measured("last ESP B -> A before A's restart, after B dropped A",
                     None if last_b is None else last_b - (dropped.get("B", t_drop) +
                                                           mono_to_wall), "s")
        chk.check(len(between) > 0, "B sent copies to A until the VNOC took A out")
        chk.equal(len(late), 0, "frames to A's WAN address from %.1f s after B and C dropped "
                  "A to its restart (%.1f s)" % (GRACE_S, w_restart - w_drop))

        ok, _ = r.wait_until(lambda: from_sender(l_c1, s_a1, t_ready) and
                             from_sender(l_b2, s_a2, t_ready) and
                             from_sender(l_a1, s_b1, t_ready), REJOIN_BOUND + 5)
        resumed = {}
        for who, lst, st, bound in (("C", l_c1, s_a1, RESUME_BOUND),
                                    ("B", l_b2, s_a2, RESUME_BOUND),
                                    ("A", l_a1, s_b1, REJOIN_BOUND)):
            got = from_sender(lst, st, t_ready)
            resumed[who] = got[0][0] - t_ready if got else None
            chk.within(resumed[who], 0.0, bound, "A ready -> %s's host gets %s again"
                       % (who, st.tag.decode()))
        reg = [x for x in vr.vnoc.log().splitlines() if " register A " in x]
        chk.check(reg and "(new," in reg[-1], "vnocd: A registered again as a new site",
                  reg[-1] if reg else "no register line")
        time.sleep(POST_RESTART_S)
        for s in (s_a1, s_b1, s_a2, s_c2):
            s.stop()
        time.sleep(0.4)

        chk.section("4. fresh SAs from A; B's and C's streams never broke")
        wan = vr.wan_frames()
        w_ready = t_ready + mono_to_wall
        reused = 0
        first_seqs = {}
        for dst in (b, c):
            esp = vr.esp(a, dst, wan)
            before = [f for f in esp if f.time < w_kill]
            after = [f for f in esp if f.time > w_restart]
            old_spis = {f.spi for f in before}
            new_spis = {f.spi for f in after}
            pairs = {(f.spi, bytes(f.l4[8:16])) for f in before}
            again = [f for f in after if (f.spi, bytes(f.l4[8:16])) in pairs]
            reused += len(again)
            first_seqs[dst.id] = min((f.esp_seq for f in after), default=None)
            chk.measured("ESP A -> %s: before the kill %d (SPIs %s), after the restart %d "
                         "(SPIs %s, first seq %s)" % (
                             dst.id, len(before), sorted("0x%08x" % x for x in old_spis),
                             len(after), sorted("0x%08x" % x for x in new_spis),
                             first_seqs[dst.id]), "")
            chk.check(after and not (old_spis & new_spis), "A -> %s after the restart on new "
                      "SPIs only" % dst.id)
            chk.equal(first_seqs[dst.id], 1, "the first ESP sequence number A -> %s after the "
                      "restart" % dst.id)
            chk.equal(len(again), 0, "ESP A -> %s after the restart with an (SPI, IV) used "
                      "before the kill" % dst.id)
            st = dst.device.stats()
            for counter in ("esp_in_drop_replay", "esp_in_drop_unknown_spi"):
                chk.equal(st.get(counter, 0), 0, "%s's %s" % (dst.id, counter))
        a_after = {"C": from_sender(l_c1, s_a1, t_ready), "B": from_sender(l_b2, s_a2, t_ready)}
        for who, got in a_after.items():
            seqs = [vpn.payload_seq(x[3]) for x in got]
            chk.check(seqs and seqs == list(range(seqs[0], seqs[0] + len(seqs))),
                      "%s's host: A's stream after the restart without a gap, in order, once"
                      % who, "seqs %s" % seqs[:30])
        d_c = vpn.Delivery(s_b1, l_c1)
        d_c.check(chk, "C's host gets B's G1 stream throughout")
        d_b = vpn.Delivery(s_c2, l_b2)
        d_b.check(chk, "B's host gets C's G2 stream throughout")
        d_ca = vpn.Delivery(s_a1, l_c1)
        chk.equal(d_ca.duplicates, 0, "C's host: duplicates of A's G1 stream")
        now_pids = {"B": b.device.proc.pid, "C": c.device.proc.pid, "vnocd": vr.vnoc.proc.pid}
        chk.equal(now_pids, pids, "pids of B's and C's ivgmpd and vnocd")
        chk.check(b.device.starts == 1 and c.device.starts == 1 and b.device.running() and
                  c.device.running() and vr.vnoc.running(), "B, C and vnocd never restarted")
        vpn.scenario_line(
            "rate %.0f/s per stream; C got B's G1 %d/%d, B got C's G2 %d/%d (no gap); kill -> "
            "vnocd took A out %s s, B dropped A %s s, C %s s (liveness %d s, heartbeat %d s); "
            "frames to A after the drop %d (ESP B->A kill..drop %d); A ready -> its stream at C %s s, at B %s s, "
            "B's at A %s s; new SPIs, first seq B %s C %s, (SPI, IV) reused %d"
            % (RATE, d_c.received, d_c.expected, d_b.received, d_b.expected, fmt(t_out),
               fmt(took.get("B")), fmt(took.get("C")), LIVENESS_S, HEARTBEAT_S, len(late), len(between),
               fmt(resumed["C"]), fmt(resumed["B"]), fmt(resumed["A"]), first_seqs["B"],
               first_seqs["C"], reused))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "killed_sender_site_loss_ends_within_liveness_and_others_go_on")
