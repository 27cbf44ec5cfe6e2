#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
WAN -> LAN: what must not reach the LAN does not, each in its own counter,
and the genuine packets around it still do.

Between genuine ESP from B (plain ESP, AES-128) and C (UDP 4500, AES-256):
a flipped ciphertext bit and a flipped ICV bit, an exact replay, a jump
ahead of 1999 then numbers left of the 1024 window (and the oldest number
still in it), an unknown SPI, ESP for another address, a NAT keepalive, IKE
behind the non-ESP marker, UDP and ICMP that are not ESP, a cut ESP packet,
authentic ESP carrying IPv6, and authentic ESP whose inner IPv4 packet must
not be forwarded: a group that is not `receive`, TTL 1, 224.0.0.x, unicast,
a total length beyond the payload, a bad header checksum.
"""

import collections

import pcap_harness as h
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6

GROUP = "239.9.9.9"


class Script:
    """The WAN input and what each frame must become: a LAN packet or a
    counter."""

    def __init__(self, config):
        self.config = config
        self.peers = {n: h.Peer(config, n) for n in "BC"}
        self.entries = []          # (note, frame, inner l3 or None, outcome)
        self.seed = 300

    def inner(self, peer, dst=GROUP, ttl=9):
        self.seed += 1
        src = "172.16.2.10" if peer == "B" else "172.16.3.10"
        return h.ipv4_udp(dst, 64 + self.seed % 7, self.seed, src=src, ttl=ttl)

    def esp(self, peer, seq, note, outcome="lan", dst=GROUP, ttl=9, **kw):
        l3 = self.inner(peer, dst, ttl)
        frame = self.peers[peer].esp_frame(l3, seq, **kw)
        self.add("%s seq %d: %s" % (peer, seq, note), frame, l3, outcome)
        return frame, l3

    def add(self, note, frame, l3, outcome):
        self.entries.append((note, frame, l3, outcome))


def build(config):
    s = Script(config)
    b1, l3 = s.esp("B", 1, "genuine")
    # ESP starts after 14 + 20 (B) or 14 + 20 + 8 (C); the ciphertext 16
    # bytes later (SPI, sequence number, IV).
    good2 = s.peers["B"].esp_frame(s.inner("B"), 2)
    s.add("B seq 2: one ciphertext bit flipped", h.flip_bit(good2, 34 + 16 + 5, 3), None,
          "esp_in_drop_icv_fail")
    s.esp("B", 2, "genuine, after its forgery (which must not have used up 2)")
    s.add("B seq 1: exact replay", b1, l3, "esp_in_drop_replay")
    s.esp("C", 1, "genuine (UDP 4500)")
    good_c = s.peers["C"].esp_frame(s.inner("C"), 2)
    s.add("C seq 2: last ICV bit flipped", h.flip_bit(good_c, -1, 7), None, "esp_in_drop_icv_fail")
    s.esp("B", 2000, "genuine, jump ahead")
    s.esp("B", 500, "far left of the 1024 window", "esp_in_drop_replay")
    s.esp("B", 976, "2000 - 1024: just left of the window", "esp_in_drop_replay")
    b977, l3 = s.esp("B", 977, "2000 - 1023: oldest in the window")
    s.add("B seq 977: exact replay", b977, l3, "esp_in_drop_replay")
    s.esp("B", 1999, "unknown SPI 0xdead0001", "esp_in_drop_unknown_spi", spi=0xDEAD0001)
    s.esp("B", 1998, "ESP for 10.99.0.77", "wan_drop_not_for_us", outer_dst="10.99.0.77")
    s.add("C: NAT keepalive", s.peers["C"].udp_frame(b"\xff"), None, "wan_drop_nat_keepalive")
    s.add("C: IKE_SA_INIT behind the non-ESP marker", s.peers["C"].udp_frame(ike_sa_init()),
          None, "wan_drop_ike")
    s.add("C: UDP to port 53", s.peers["C"].udp_frame(b"dns?", dport=53), None, "wan_drop_not_esp")
    s.add("B: ICMP echo", h.wan_ether(bytes(IP(src="10.99.0.2", dst=config.wan_address) / ICMP()),
                                     config), None, "wan_drop_not_esp")
    s.add("B seq 1997: ESP cut by 3 bytes", cut(s.peers["B"].esp_frame(s.inner("B"), 1997), 3),
          None, "esp_in_drop_truncated")
    s.esp("B", 2001, "genuine")
    s.esp("B", 2002, "inner to 239.1.1.1 (a send group)", "inner_drop_not_wanted", dst="239.1.1.1")
    s.esp("C", 3, "inner to 239.5.5.5 (not configured)", "inner_drop_not_wanted", dst="239.5.5.5")
    s.esp("B", 2003, "inner TTL 1", "inner_drop_ttl_expired", ttl=1)
    s.esp("C", 4, "inner to 224.0.0.9", "inner_drop_link_local", dst="224.0.0.9")
    s.esp("B", 2004, "inner unicast", "inner_drop_not_multicast", dst="192.168.1.10")
    s.add("B seq 2005: inner total length beyond the ESP payload",
          s.peers["B"].esp_frame(h.with_checksum(grow_total_length(s.inner("B"), 30)), 2005),
          None, "inner_drop_malformed")
    bad_sum = bytearray(s.inner("C"))
    bad_sum[10] ^= 0xFF
    s.add("C seq 5: inner header checksum wrong", s.peers["C"].esp_frame(bytes(bad_sum), 5),
          None, "inner_drop_malformed")
    ipv6 = bytes(IPv6(src="2001:db8::2", dst="ff0e::1") / UDP(sport=1, dport=2) / b"six")
    s.add("B seq 2006: IPv6 inside (next header 41)", s.peers["B"].esp_frame(ipv6, 2006),
          None, "esp_in_drop_not_ipv4")
    s.esp("C", 6, "genuine")
    s.esp("B", 2007, "genuine, TTL 2", ttl=2)
    return s


def grow_total_length(l3: bytes, n: int) -> bytes:
    return l3[:2] + (len(l3) + n).to_bytes(2, "big") + l3[4:]


def ike_sa_init() -> bytes:
    """RFC 3948 2.2 non-ESP marker, then an IKEv2 header (RFC 7296 3.1)."""
    return bytes(4) + bytes(range(1, 9)) + bytes(8) + bytes([33, 0x20, 34, 0x08]) + \
        bytes(4) + (28).to_bytes(4, "big")


def cut(frame: bytes, n: int) -> bytes:
    """An ESP frame n bytes shorter, its IPv4 header made consistent again, so
    only ESP can object."""
    l3 = bytearray(frame[14:-n])
    l3[2:4] = len(l3).to_bytes(2, "big")
    return frame[:14] + h.with_checksum(bytes(l3))


def test(binary, workdir, chk):
    config = h.standard_config()
    entries = build(config).entries
    for note, _, _, outcome in entries:
        print("  in: %-62s -> %s" % (note, outcome))

    run = h.run_ivgmpd(binary, config, [], [f for _, f, _, _ in entries], workdir, "drops")
    print("  ivgmpd ran %.2f s, %d frames out on the LAN" % (run.seconds, len(run.lan_data)))

    chk.section("the genuine packets come out, in order")
    want = [h.router_forwarded(l3) for _, _, l3, outcome in entries if outcome == "lan"]
    got = [h.parse_lan(raw).l3 for raw in run.lan_data]
    chk.equal(len(got), len(want), "LAN frames")
    for k, (g, w) in enumerate(zip(got, want), 1):
        chk.equal(g, w, "LAN frame %d" % k)

    chk.section("none of the dropped ones does")
    # Counted by payload: a replay's payload is on the LAN once, by its original.
    seen = collections.Counter(h.udp_payload(l3) for l3 in got)
    genuine = collections.Counter(h.udp_payload(l3) for _, _, l3, o in entries if o == "lan")
    for note, _, l3, outcome in entries:
        if outcome != "lan" and l3 is not None:
            key = h.udp_payload(l3)
            chk.check(seen[key] == genuine[key], "not on the LAN%s: %s"
                      % (" a second time" if genuine[key] else "", note),
                      "seen %d times" % seen[key])
    chk.equal(len(run.wan_out), 0, "frames sent on the WAN")

    chk.section("counters and SA report")
    outcomes = collections.Counter(o for _, _, _, o in entries)
    authentic = sum(1 for _, _, _, o in entries if o == "lan" or o.startswith("inner_drop"))
    expected = {k: v for k, v in outcomes.items() if k != "lan"}
    expected.update({"wan_rx_packets": len(entries), "esp_in_packets": authentic,
                     "lan_tx_packets": outcomes["lan"]})
    h.check_counters(chk, run.counters, expected)
    for name, packets, icv, replay in (("B", 10, 1, 4), ("C", 5, 1, 0)):
        sa = config.sa("in", name)
        rep = run.sas.get(sa.spi, {})
        chk.equal((rep.get("packets"), rep.get("icv_failures"), rep.get("replay_drops")),
                  (packets, icv, replay),
                  "SA report in 0x%x from %s: (packets, icv_failures, replay_drops)" % (sa.spi, name))


if __name__ == "__main__":
    h.main(test, "decap_drops_tampered_replayed_and_unknown")
