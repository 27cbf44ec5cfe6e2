#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A sending site's ivgmpd restarts: its receivers get the stream again at
once, and no ESP nonce is ever used twice under one key (issue #5,
scenario 8, the sender's side).

    A: h1 sends G = 239.54.1.1 at 50/s (and goes on through A's restart)
    B: h1 joins G;  C: h1 joins G

  1. B and C get the stream for PRE_S seconds: A's outbound SAs to B and
     C have sent ~PRE_S x 50 packets each.
  2. A's ivgmpd restarts (SIGTERM, RESTART_PAUSE s, the same configuration).
     It registers again, finds its sender again, and sends to B and C with
     whatever SAs the VNOC's view gives it.
  3. What must hold:
       B's and C's hosts get the stream again within RESUME_ALLOWANCE of
         A's ready, and from then on without a gap;
       B and C drop nothing as a replay;
       on the WAN, no (SPI, IV) pair of ESP after the restart was already
         on the wire before it: AES-GCM (RFC 4106) takes its nonce from
         the salt and the IV, and ivgmpd's IV is the sequence number, so a
         repeat under one SA's key is a nonce reused (RFC 4106 8.1: the
         confidentiality of both packets and the integrity of the SA are
         lost).
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.54.1.1"
PORT = 5054
RATE = 50.0
PRE_S = 3.0
RESTART_PAUSE = 0.5
# A's host's next datagram makes the sender known again; JoinVpn send (a
# no-op at the VNOC), the view, a snapshot: ~0.1 s here.
RESUME_ALLOWANCE = 2.0
WATCH_S = 8.0

# What a failure here points at: ivgmpd makes a fresh esp_sa with seq_out 0
# from the view (app/ivgmpd/ivgmpd_vnoc_view.c sa_create), its IV is the
# sequence number (lib/esp/esp_outb.c), so a restarted sender must get new
# SAs: its first RegisterSite says freshStart (lib/vnoc_client/vnoc_client.c
# client_register_start) and vnocd replaces its outbound SAs
# (app/vnocd/vnocd_keys.c vnocd_keys_renew_outbound). Found by this test.
BUG_SA_REUSED = ("a restarted sender reuses its VNOC SA from sequence number 1: GCM nonces "
                 "repeat under one key, receivers drop the packets as replays "
                 "(RegisterSite freshStart; vnocd_keys_renew_outbound)")


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        chk.section("1. B and C get A's stream for %.0f s" % PRE_S)
        stream, listeners, members, ok = vr.stream_to_members(a, [b, c], G, PORT, RATE,
                                                              tag="A-h1")
        lb, lc = listeners["B"], listeners["C"]
        chk.check(bool(ok), "B and C get the stream", "A %s" % a.summary())
        if not ok:
            return
        time.sleep(PRE_S)
        sas_before = {spi: v.get("seq") for spi, v in a.device.sas().items()}
        chk.measured("A's outbound SAs before the restart (SPI: seq)",
                     {"0x%08x" % k: v for k, v in sas_before.items()})

        chk.section("2. A's ivgmpd restarts")
        t_stop_wall = time.time()
        took = a.device.restart(RESTART_PAUSE)
        t_ready = time.monotonic()
        chk.measured("A's ivgmpd stopped and ready again after", time.time() - t_stop_wall, "s")
        chk.measured("of which start", took, "s")
        r.wait_until(lambda: a.granted(G) == "sender", 3)
        time.sleep(WATCH_S)
        stream.stop()
        time.sleep(0.3)
        sas_after = {spi: v.get("seq") for spi, v in a.device.sas().items()}
        chk.measured("A's outbound SAs after the restart (SPI: seq)",
                     {"0x%08x" % k: v for k, v in sas_after.items()})

        chk.section("3. receivers resume at once; no nonce used twice")
        resumed = {}
        for s, lst in ((b, lb), (c, lc)):
            after = [x for x in lst.snapshot() if x[0] > t_ready]
            first = after[0][0] - t_ready if after else None
            resumed[s.id] = first
            chk.measured("A ready -> first datagram at %s's host" % s.id, first, "s")
            chk.within(first, 0.0, RESUME_ALLOWANCE, "%s's host gets the stream again within "
                       "%.1f s of A's ready" % (s.id, RESUME_ALLOWANCE), bug=BUG_SA_REUSED)
            if after:
                seqs = {vpn.payload_seq(x[3]) for x in lst.snapshot()}
                lo = vpn.payload_seq(after[0][3])
                missing = [q for q in range(lo, stream.count()) if q not in seqs]
                chk.check(not missing, "%s's host: no gap once it resumed" % s.id,
                          "missing %d: %s" % (len(missing), missing[:10]))
            drops = s.device.stats().get("esp_in_drop_replay", 0)
            chk.equal(drops, 0, "%s's esp_in_drop_replay" % s.id, bug=BUG_SA_REUSED)
        wan = vr.wan_frames()
        reused = 0
        for dst in (b, c):
            esp = vr.esp(a, dst, wan)
            before = {(f.spi, bytes(f.l4[8:16])) for f in esp if f.time < t_stop_wall}
            after = [(f.spi, bytes(f.l4[8:16])) for f in esp if f.time > t_stop_wall + 0.2]
            again = [x for x in after if x in before]
            reused += len(again)
            chk.measured("ESP A -> %s: before / after the restart / (SPI, IV) pairs repeated"
                         % dst.id, "%d / %d / %d" % (len(before), len(after), len(again)))
            chk.check(len(after) > 0, "A sends ESP to %s after the restart" % dst.id)
            chk.equal(len(again), 0, "ESP A -> %s after the restart with an (SPI, IV) already "
                      "used before it (GCM nonce reuse)" % dst.id, bug=BUG_SA_REUSED)
        vpn.scenario_line(
            "sent %d, B received %d, C received %d; A ready -> B's first datagram %s s, C's %s "
            "s; replay drops B %d, C %d; (SPI, IV) pairs reused on the WAN %d"
            % (stream.count(), len(lb.snapshot()), len(lc.snapshot()), fmt(resumed["B"]),
               fmt(resumed["C"]), b.device.stats().get("esp_in_drop_replay", 0),
               c.device.stats().get("esp_in_drop_replay", 0), reused))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "restarted_sender_site_uses_fresh_esp_nonces")
