#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The VNOC goes away, so no replacement comes: A's SA to B reaches the end
of its time lifetime and A sends nothing more to B, neither in the clear
nor with ESP past the lifetime; the refused packets are counted in that
SA's expired_drops (issue #7, the SA bullet).

    vnocd: --sa-lifetime LIFE (its 0.8 L replacement would come at 0.8 LIFE)
    A: h1 sends G = 239.58.1.1 at RATE/s to B (pairwise SA)
    B: h1 joins G

  1. B's host gets the stream; then vnocd stops (SIGTERM) before the SA's
     0.8 L replacement: the sites keep their last view, nobody can give A
     a new SA.
  2. A's SA expires on A's clock (ivgmpd_vnoc_sa.c: the view's lifetime
     from the time A applied it, a second taken off for vnocd's rounding):
     the last ESP A -> B on the WAN is at most ALLOWANCE_S after vnocd's
     expiry of the SA (its database), and A went on sending until about
     then (no early stop).
  3. After it: no frame from A on the WAN at all, none in the clear; A's
     host goes on sending; A's SA says lifetime_expired 1 and its
     expired_drops are the datagrams A's host sent after the last ESP
     (give or take those in flight at the switch); B's host got every
     datagram until then.
"""

import time

import rig as r
import vpn_rig as vpn
from test_wan_carries_only_esp import check_wan_kinds

G = "239.58.1.1"
PORT = 5058
RATE = 50.0
LIFE = 12                       # vnocd's --sa-lifetime (10 s at least)
AFTER_S = 3.0                   # watched after vnocd's expiry
# vnocd's expiry -> A's last ESP: the view's time in transit (ms) and A's
# check, every management step. Early by up to the second taken off.
ALLOWANCE_S = 0.5
EARLY_S = 1.2


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, sites=("A", "B"), vnoc_extra=["--sa-lifetime", str(LIFE)],
                    lan_filter="igmp or udp port %d" % PORT, wan_filter="") as vr:
        a, b = vr.sites
        chk.section("1. B gets A's stream; vnocd stops before the SA's replacement")
        stream, listeners, _, ok = vr.stream_to_members(a, [b], G, PORT, RATE, tag="A-h1")
        lb = listeners["B"]
        if not chk.check(ok, "B's host gets A's stream", "A %s" % a.summary()):
            return
        out = a.device.sa_to("B", "out")
        chk.equal(len(out), 1, "A's outbound SAs to B")
        spi = next(iter(out), None)
        rows = vr.vnoc.sql("SELECT created, rekey_at, expires FROM sas WHERE from_site = 'A' "
                           "AND to_site = 'B' AND spi = %d" % (spi or 0))
        if not chk.check(len(rows) == 1, "vnocd's row for A's SA 0x%08x" % (spi or 0),
                         "%s" % rows):
            return
        created, rekey_at, expires = (int(x) for x in rows[0])
        chk.measured("SA 0x%08x: vnocd's created / rekey_at / expires (Unix s)" % spi,
                     "%d / %d / %d" % (created, rekey_at, expires))
        vr.vnoc.stop()
        t_stopped = time.time()
        chk.check(t_stopped < rekey_at, "vnocd stopped %.1f s before the SA's 0.8 L "
                  "replacement" % (rekey_at - t_stopped))

        chk.section("2. A's SA ends at its lifetime; A sends nothing more to B")
        time.sleep(max(0.0, expires + AFTER_S - time.time()))
        stream.stop()
        time.sleep(0.3)
        vr.cap_wan.stop()
        ip = vr.wan_frames()
        esp = vr.esp(a, b, ip)
        last = esp[-1].time if esp else None
        chk.measured("vnocd's expiry -> A's last ESP to B on the WAN",
                     None if last is None else last - expires, "s")
        chk.within(None if last is None else last - expires, -EARLY_S, ALLOWANCE_S,
                   "A's last ESP to B within [-%.1f, +%.1f] s of vnocd's expiry"
                   % (EARLY_S, ALLOWANCE_S))
        chk.equal(sorted({f.spi for f in esp}), [spi], "SPIs of ESP A -> B (the one SA)")
        from_a = [f for f in ip if f.src == a.wan_address and last is not None and
                  f.time > last]
        chk.equal(len(from_a), 0, "frames from A on the WAN after its last ESP")
        kinds = check_wan_kinds(chk, vr.cap_wan.path)
        chk.equal(len([f for f in ip if f.dst == G or vpn.MARK in f.frame]), 0,
                  "WAN frames to %s or with the stream's payload in the clear" % G)

        chk.section("3. counted: the SA's expired_drops")
        sa = a.device.sas().get(spi, {})
        chk.measured("A's SA 0x%08x in /ivgmp/sa" % spi, sa)
        chk.equal(sa.get("lifetime_expired"), 1, "A's SA lifetime_expired")
        after = [q for q, x in stream.sent.items() if last is not None and x[1] > last]
        chk.measured("datagrams A's host sent after A's last ESP / A's expired_drops",
                     "%d / %s" % (len(after), sa.get("expired_drops")))
        chk.within(sa.get("expired_drops"), len(after) - 2, len(after) + 2,
                   "A's SA expired_drops == datagrams sent after its last ESP (+-2 in flight)")
        chk.equal(a.device.counters().get("esp_out_drop_sa_expired"), sa.get("expired_drops"),
                  "A's esp_out_drop_sa_expired == the SA's expired_drops")
        chk.check(sa.get("packets", 0) == len(esp), "A's SA packets %s == ESP A -> B on the "
                  "WAN %d" % (sa.get("packets"), len(esp)))
        got = {vpn.payload_seq(x[3]) for x in lb.snapshot()}
        first = min(got) if got else 0
        until = [q for q, x in stream.sent.items() if q >= first and last is not None and
                 x[1] < last - 0.1]
        missing = [q for q in until if q not in got]
        chk.equal(len(missing), 0, "datagrams missing at B's host before A's last ESP (%d "
                  "expected)" % len(until))
        events = [l for _, l in a.device.lines_since(0, "ivgmpd: SA ")]
        chk.check(any("time lifetime over" in l for l in events),
                  "A logged the SA's end", "%s" % events)
        vpn.scenario_line("vnocd stopped %.1f s before 0.8 L; last ESP A -> B %.2f s after "
                          "vnocd's expiry; then %d datagrams sent, expired_drops %s; WAN %s"
                          % (rekey_at - t_stopped, (last or 0) - expires, len(after),
                             sa.get("expired_drops"), kinds))


if __name__ == "__main__":
    vpn.main(test, "sa_past_its_lifetime_with_the_vnoc_away_sends_nothing")
