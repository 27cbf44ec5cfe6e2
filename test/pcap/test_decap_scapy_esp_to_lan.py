#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
WAN -> LAN: ESP from the remote sites, made by scapy (the independent peer),
comes out on the LAN as the multicast router would forward the inner packet.

Four peers send, interleaved: B plain ESP with AES-128, C ESP-in-UDP 4500
with AES-256, D plain ESP with AES-256, E ESP-in-UDP with AES-128; to both
receive groups, in several sizes, with IPv4 options, DSCP, DF, TTL 2 and
TFC padding after the inner packet (RFC 4303 2.4).

Checked on lan_out.pcap, in the order sent: destination MAC 01:00:5e + the
low 23 bits of the group, the LAN port's MAC as source, IPv4 ethertype; the
inner packet byte for byte with TTL one less and a header checksum we
recompute ourselves; nothing else (no TFC padding, no extra frames). Then
every counter and the per-SA report.
"""

import collections

import pcap_harness as h
from scapy.layers.inet import IPOption_Router_Alert

GROUPS = ("239.9.9.9", "239.200.7.9")


def inner_packets():
    """(peer name, encapsulation note, inner L3 bytes as sent, TFC padding)."""
    src = {"B": "172.16.2.10", "C": "172.16.3.10", "D": "172.16.4.10", "E": "172.16.5.10"}
    out, seed = [], 100
    shapes = [
        dict(ip_len=28),
        dict(ip_len=100, tos=0x2E << 2),
        dict(ip_len=1400 - 14),
        dict(ip_len=61, options=[IPOption_Router_Alert()]),
        dict(ip_len=333, df=True, ttl=2),
        dict(ip_len=45, tfc=11),
    ]
    # Twice round: more than one RX burst of 32.
    for i, shape in enumerate(shapes * 2):
        for peer in "BCDE":
            seed += 1
            fields = dict(shape)       # a copy per peer: pop() must not eat the shape
            tfc = fields.pop("tfc", 0)
            group = GROUPS[(i + seed) % 2]
            l3 = h.ipv4_udp(group, src=src[peer], seed=seed, ttl=fields.pop("ttl", 9), **fields)
            out.append((peer, l3, tfc))
    return out


def test(binary, workdir, chk):
    config = h.standard_config()
    peers = {name: h.Peer(config, name) for name in "BCDE"}
    seq = collections.Counter()
    wan_in, sent = [], []
    for peer, l3, tfc in inner_packets():
        seq[peer] += 1
        p = peers[peer]
        wan_in.append(p.esp_frame(l3 + h.filler(tfc, 7), seq[peer]))
        sent.append((peer, l3))
        print("  in: %s %-4s %s seq %d: %s len %d%s" % (
            peer, "UDP" if p.site.udp_encap else "ESP", p.sa_in.aead, seq[peer],
            h.ip_dst(l3), len(l3),
            " + %d TFC padding" % tfc if tfc else ""))

    run = h.run_ivgmpd(binary, config, [], wan_in, workdir, "decap")
    # tshark, a third implementation, vouches for the peer's ESP: a packet
    # ivgmpd rejects below is ivgmpd's fault, not scapy's.
    views = h.tshark_esp(run.path("wan_in.pcap"), config)
    chk.check(len(views) == len(wan_in) and all(v.icv_good and v.next_header == 4
                                                 for v in views.values()),
              "tshark: all %d input ESP packets have a good ICV" % len(wan_in),
              "%d decoded, ICVs %s" % (len(views), [v.icv_good for v in views.values()]))
    print("  ivgmpd ran %.2f s, %d frames out on the LAN" % (run.seconds, len(run.lan_data)))

    chk.section("LAN frames, in the order sent")
    chk.equal(len(run.lan_data), len(sent), "LAN frames")
    lan_macs = set()
    for k, (raw, (peer, l3)) in enumerate(zip(run.lan_data, sent), 1):
        f = h.parse_lan(raw)
        group = h.mcast_mac(h.ip_dst(l3))
        lan_macs.add(f.src_mac)
        chk.check(f.dst_mac == group and f.ethertype == 0x0800 and len(raw) == 14 + len(l3),
                  "frame %d from %s: to %s, IPv4, %d bytes" % (k, peer, group, 14 + len(l3)),
                  "to %s type 0x%04x %d bytes" % (f.dst_mac, f.ethertype, len(raw)))
        chk.equal(f.l3, h.router_forwarded(l3), "frame %d: inner, TTL %d -> %d, checksum recomputed"
                  % (k, l3[8], l3[8] - 1))
        chk.check(h.ipv4_checksum(f.l3[:h.ipv4_header_len(f.l3)]) == int.from_bytes(f.l3[10:12], "big"),
                  "frame %d: header checksum valid" % k)
    chk.equal(sorted(lan_macs), [h.NET_PCAP_LAN_MAC], "LAN source MAC (the LAN port's)")
    chk.equal(len(run.wan_out), 0, "frames sent on the WAN")

    chk.section("counters and SA report")
    n = len(sent)
    h.check_counters(chk, run.counters, {"wan_rx_packets": n, "esp_in_packets": n,
                                         "lan_tx_packets": n})
    for name in "BCDE":
        sa = config.sa("in", name)
        rep = run.sas.get(sa.spi, {})
        chk.equal((rep.get("packets"), rep.get("icv_failures"), rep.get("replay_drops")),
                  (seq[name], 0, 0),
                  "SA report in 0x%x from %s: (packets, icv_failures, replay_drops)" % (sa.spi, name))


if __name__ == "__main__":
    h.main(test, "decap_scapy_esp_to_lan")
