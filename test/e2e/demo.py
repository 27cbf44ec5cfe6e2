#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The README's demo (test/quickstart.sh demo): three sites of one VPN, live.

    vnocd on a management network (TLS, certificates made for the run)
    site A: host h1 sends a numbered UDP stream to G = 239.1.1.1, 20/s
    site B: host h1 joins G (kernel IGMPv3)   site C: host h1 joins G
    each site: a Linux host in a LAN namespace, ivgmpd on net_af_packet
    veths (LAN and WAN), the WAN ports on one bridge

It shows, once a second, one line per site: what A's host sent and how many
ESP copies A's ivgmpd put on the WAN for B and for C; what B's and C's hosts
received. Then B's host leaves G, and the lines show B's count stop and A's
copies to B stop while C goes on. Then a summary, and everything is torn
down (namespaces, processes, files). Exit status 0 when every datagram
reached both sites while they were members and the leave took effect.

    sudo /usr/bin/python3 test/e2e/demo.py build/app/ivgmpd/ivgmpd
"""

import time

import vpn_rig as vpn

G = "239.1.1.1"
PORT = 5000
RATE = 20.0
STREAM_S = 6
AFTER_LEAVE_S = 5


class Board:
    """The once-a-second lines: counts now and one second ago."""

    def __init__(self, vr: vpn.VpnRig, stream: vpn.Stream, listeners: dict):
        self.vr = vr
        self.stream = stream
        self.listeners = listeners
        self.t0 = time.monotonic()
        self.before = {"B": 0, "C": 0}
        self.copies = {"B": 0, "C": 0}

    def esp_copies(self, to: str) -> str:
        """Packets sent on A's SAs to one site; once the VNOC has removed
        them (no group left in common), the last count seen."""
        sas = self.vr["A"].device.sa_to(to)
        if not sas:
            return "%5d (no SA any more)" % self.copies[to] if self.copies[to] else "    0"
        self.copies[to] = sum(int(sa.get("packets", 0)) for sa in sas.values())
        return "%5d" % self.copies[to]

    def tick(self) -> None:
        t = time.monotonic() - self.t0
        print("[%4.0f s] site A  h1 sent %5d      ESP copies on the WAN: to B %s, to C %s"
              % (t, self.stream.count(), self.esp_copies("B"), self.esp_copies("C")))
        for sid in ("B", "C"):
            n = len(self.listeners[sid].snapshot())
            print("[%4.0f s] site %s  h1 received %5d  (+%d in the last second)"
                  % (t, sid, n, n - self.before[sid]))
            self.before[sid] = n

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            time.sleep(1.0)
            self.tick()


def demo(rig, chk, args):
    print("== setting up: vnocd, three sites, their hosts, the WAN")
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        listeners = {"B": vr.listen(b.host(), G, PORT), "C": vr.listen(c.host(), G, PORT)}

        print()
        print("== A's host sends to %s at %.0f datagrams/s; B's and C's hosts join it" % (G, RATE))
        stream = vr.stream(a.host(), G, PORT, RATE, tag="demo")
        ok, took = a.wait_granted(G, "sender", 5)
        chk.check(bool(ok), "the VNOC granted A the sender role", "%s" % a.vnoc_group(G))
        t_join_wall = time.time()
        m_b = b.host().join(G)
        c.host().join(G)
        board = Board(vr, stream, listeners)
        board.run(STREAM_S)

        print()
        print("== B's host leaves %s (IGMPv3 leave; B's ivgmpd queries, then tells the VNOC)" % G)
        t_leave = time.monotonic()
        t_leave_wall = time.time()
        b_at_leave = len(listeners["B"].snapshot())
        m_b.leave()
        board.run(AFTER_LEAVE_S)
        stream.stop()
        time.sleep(0.5)

        print()
        print("== summary")
        sent = stream.count()
        got_b, got_c = listeners["B"].snapshot(), listeners["C"].snapshot()
        joined = {}
        for s in (b, c):
            report = s.first_report(s.host(), G, t_join_wall - 0.1)
            first = listeners[s.id].snapshot()
            joined[s.id] = (first[0][1] - report.time) if report and first else None
        esp_b = [f for f in vr.esp(a, b) if f.time >= t_leave_wall]
        copies_stop = (esp_b[-1].time - t_leave_wall) if esp_b else 0.0
        bound = b.lmqt + b.timer("vpn-leave-hold") + 1.5
        # The host's socket stops at once; what B's device still puts on
        # B's LAN shows when the VPN stopped.
        late_b = b.delivered(G, after_wall=t_leave_wall + bound)
        print("  A's host sent %d datagrams" % sent)
        print("  C's host received %d of them (joined %s s after its IGMP report)"
              % (len(got_c), fmt(joined["C"])))
        print("  B's host received %d before it left (joined %s s after its IGMP report), "
              "%d after" % (b_at_leave, fmt(joined["B"]), len(got_b) - b_at_leave))
        print("  A's last ESP copy to B: %.2f s after B's host left (last member query time "
              "%.1f s + VPN leave hold %.0f s + one VNOC round trip)"
              % (copies_stop, b.lmqt, b.timer("vpn-leave-hold")))
        print("  the WAN carried ESP only: %d frames captured, %d of them not ESP"
              % (len(vr.wan_frames()), len([f for f in vr.wan_frames() if f.proto != 50])))

        dc = vpn.Delivery(stream, listeners["C"])
        chk.check(dc.count > 0 and not dc.missing, "C got every datagram from its first on",
                  "missing %s" % dc.missing[:20])
        db = vpn.Delivery(stream, listeners["B"])
        before_leave = [q for q in db.missing if stream.sent[q][0] < t_leave - 0.5]
        chk.check(db.count > 0 and not before_leave,
                  "B got every datagram from its first on until it left",
                  "missing %s" % before_leave[:20])
        chk.equal(len(late_b), 0, "datagrams B's device put on B's LAN %.1f s after the leave"
                  % bound)
        chk.within(copies_stop, 0.0, bound, "A's copies to B stop after the leave")


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(demo, "demo")
