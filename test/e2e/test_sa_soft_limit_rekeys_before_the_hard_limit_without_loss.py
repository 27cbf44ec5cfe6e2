#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
An outbound SA that passes its soft limit is replaced before its hard
limit, make before break: no datagram lost, none twice, no (SPI, sequence
number) pair used twice, nothing in the clear on the WAN, before, during
or after each replacement (issue #7, the SA bullet).

    A: h1 sends G = 239.57.1.1 at RATE/s, N datagrams, to B (pairwise SA)
    B: h1 joins G
    every ivgmpd: sa-rekey-packets SOFT, so A's SA to B is due for a new one
    after SOFT packets (without it: 3/4 of 2^32)

  1. The stream starts before B joins: A has no SA for G then (it is
     missing) and sends nothing on the WAN, in the clear or not.
  2. Each time A's SA passes SOFT packets, A's Heartbeat names its SPI at
     once; vnocd replaces it (new SPI, key, salt), B installs the new one,
     then A switches. On the WAN: each SPI's sequence numbers run 1, 2, ...
     without a gap, each SPI stops within REKEY_ALLOWANCE_S of sending
     after its packet SOFT (far below the hard limit 2^32 - 1), SPIs never
     come back, and no (SPI, seq) repeats.
  3. B's host gets every datagram from the first it got, once, in order,
     byte for byte; B counts no ICV failure, no replay, no unknown SPI
     (per SA in /ivgmp/sa, and in /ivgmp/stats); A refuses no packet as
     expired.
  4. Every WAN frame is ESP (test_wan_carries_only_esp.check_wan_kinds), none
     carries the stream's payload.
"""

import os
import re
import time

import rig as r
import vpn_rig as vpn
from test_wan_carries_only_esp import check_wan_kinds

G = "239.57.1.1"
PORT = 5057
RATE = 200.0
N = 2400
SOFT = 500
HARD = 2 ** 32 - 1
# Soft limit passed -> the new SPI on the wire: A's check (the management
# lcore's next step), a Heartbeat, B's view, B's WatchUpdates (B holds it),
# A's view. Milliseconds on this rig; the allowance is generous.
# Under AddressSanitizer (IVGMP_SANITIZE, test/sanitize.sh) the management
# lcores share the two CPUs with two busy-polling workers and run several
# times slower: B's confirmation can come after vnocd's fallback, which
# makes the new SA the sender's VNOCD_INSTALL_GRACE_S (2 s, on a
# whole-second clock) after A asked, whatever B does. One CI run saw a
# switch 4.1 s after the soft limit there, so the allowance is that
# fallback plus 3 s for A to get and apply its view.
SANITIZE = bool(os.environ.get("IVGMP_SANITIZE"))
REKEY_ALLOWANCE_S = 6.0 if SANITIZE else 1.5


def spi_runs(esp):
    """[(spi, [seq, ...])] in wire order, one entry per run of one SPI."""
    runs = []
    for f in esp:
        if not runs or runs[-1][0] != f.spi:
            runs.append((f.spi, []))
        runs[-1][1].append(f.esp_seq)
    return runs


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, sites=("A", "B"), extra=["sa-rekey-packets %d" % SOFT],
                    lan_filter="igmp or udp port %d" % PORT, wan_filter="") as vr:
        a, b = vr.sites
        chk.section("1. A's host streams %d datagrams at %.0f/s; B joins after it started"
                    % (N, RATE))
        stream, listeners, _, ok = vr.stream_to_members(a, [b], G, PORT, RATE, tag="A-h1")
        lb = listeners["B"]
        if not chk.check(ok, "B's host gets A's stream", "A %s" % a.summary()):
            return
        chk.check(stream.wait_sent(N - 1, N / RATE + 20), "A's host sent %d datagrams" % N)
        stream.stop()
        time.sleep(0.5)
        vr.cap_wan.stop()
        sent = stream.count()

        chk.section("2. the WAN: new SPIs before the hard limit, no (SPI, seq) twice")
        ip = vr.wan_frames()
        esp = vr.esp(a, b, ip)
        runs = spi_runs(esp)
        for spi, seqs in runs:
            print("    SPI 0x%08x: seq %d..%d, %d packets" % (spi, seqs[0], seqs[-1], len(seqs)))
        spis = [spi for spi, _ in runs]
        chk.measured("ESP A -> B packets / SPIs in wire order", "%d / %s"
                     % (len(esp), ["0x%08x" % s for s in spis]))
        chk.check(len(runs) >= N // SOFT - 1, "A's SA to B replaced about every %d packets "
                  "(%d SPIs for %d datagrams)" % (SOFT, len(runs), N))
        chk.equal(len(spis) - len(set(spis)), 0, "SPIs that come back after another one "
                  "took over")
        pairs = [(f.spi, f.esp_seq) for f in esp]
        chk.equal(len(pairs) - len(set(pairs)), 0, "ESP (SPI, seq) pairs seen twice on the WAN")
        for spi, seqs in runs:
            chk.check(seqs == list(range(1, len(seqs) + 1)),
                      "SPI 0x%08x: sequence numbers 1..%d without gap or wrap" % (spi, len(seqs)),
                      "got %s ... %s" % (seqs[:5], seqs[-5:]))
        switched = [seqs[-1] for _, seqs in runs[:-1]]
        chk.measured("last sequence number of each replaced SPI (soft limit %d, hard %d)"
                     % (SOFT, HARD), switched)
        late = SOFT + int(RATE * REKEY_ALLOWANCE_S)
        chk.check(all(SOFT <= x <= late for x in switched),
                  "each replaced SPI stops between its packet %d and %d (soft limit + %.1f s "
                  "at %.0f/s), far below %d" % (SOFT, late, REKEY_ALLOWANCE_S, RATE, HARD),
                  "%s" % switched)
        db = {spi for frm, to, spi in vr.vnoc_sas() if (frm, to) == ("A", "B")}
        chk.check(set(spis) <= db, "every SPI on the wire is one vnocd issued for A -> B",
                  "wire %s, vnocd %s" % (sorted(spis), sorted(db)))
        asked = len(re.findall(r"rekey A -> B: the sender asked \(soft limit\)", vr.vnoc.log()))
        chk.measured("vnocd: replacements the sender asked for (log)", asked)
        chk.check(asked >= len(runs) - 1, "vnocd replaced A's SA on A's asking (%d times)"
                  % asked)

        chk.section("3. B's host: every datagram once, in order; no drop anywhere")
        delivery = vpn.Delivery(stream, lb)
        chk.measured("datagrams sent / received at B's host / first received",
                     "%d / %d / seq %s" % (sent, delivery.count, delivery.first_seq))
        delivery.check(chk, "B's host")
        b_stats, a_stats = b.device.counters(), a.device.counters()
        for k in ("esp_in_drop_unknown_spi", "esp_in_drop_icv_fail", "esp_in_drop_replay"):
            chk.equal(b_stats.get(k, 0), 0, "B's %s" % k)
        chk.equal(a_stats.get("esp_out_drop_sa_expired", 0), 0, "A's esp_out_drop_sa_expired")
        b_in = b.device.sa_to("A", "in")
        chk.equal(sorted((v.get("icv_failures"), v.get("replay_drops")) for v in b_in.values()),
                  [(0, 0)] * len(b_in), "B's inbound SAs from A: (icv_failures, replay_drops) "
                  "per SA")
        a_out = a.device.sa_to("B", "out")
        chk.equal(sum(v.get("expired_drops", 0) for v in a_out.values()), 0,
                  "A's outbound SAs to B: expired_drops")
        v = a.device.vnoc()
        chk.measured("A's /ivgmp/vnoc rekey_requests / sa_soft_limit_hits",
                     "%s / %s" % (v.get("rekey_requests"), v.get("sa_soft_limit_hits")))
        chk.check((v.get("sa_soft_limit_hits") or 0) >= len(runs) - 1,
                  "A counted each SA past its soft limit")
        chk.check((v.get("rekey_requests") or 0) >= len(runs) - 1,
                  "A asked for each replacement in a Heartbeat")

        chk.section("4. the WAN carries only ESP")
        kinds = check_wan_kinds(chk, vr.cap_wan.path)
        chk.equal(len([f for f in ip if f.dst == G or vpn.MARK in f.frame]), 0,
                  "WAN frames to %s or with the stream's payload in the clear" % G)
        first_esp = esp[0].time if esp else None
        before = [q for q, x in stream.sent.items() if first_esp is not None and
                  x[1] < first_esp - 0.05]
        chk.measured("datagrams A's host sent before A had an SA for B (not on the WAN) / "
                     "A's lan_drop_no_group", "%d / %s" % (len(before),
                                                          a_stats.get("lan_drop_no_group")))
        chk.check(a_stats.get("lan_drop_no_group", 0) >= len(before),
                  "A dropped them for want of an SA (lan_drop_no_group)")
        vpn.scenario_line("sent %d, B received %d (from seq %s), missing %d, duplicates %d; "
                          "%d SPIs, replaced at seq %s; (SPI, seq) repeated %d; WAN %s"
                          % (sent, delivery.count, delivery.first_seq, len(delivery.missing),
                             delivery.duplicates, len(runs), switched,
                             len(pairs) - len(set(pairs)), kinds))


if __name__ == "__main__":
    vpn.main(test, "sa_soft_limit_rekeys_before_the_hard_limit_without_loss")
