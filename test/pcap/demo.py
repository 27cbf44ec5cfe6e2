# SPDX-License-Identifier: BSD-3-Clause
"""
The two Python halves of demo.sh:

  demo.py inputs DIR    write DIR/site.conf, lan_in.pcap, wan_in.pcap and
                        DIR/manifest.json (what each input frame is)
  demo.py summary DIR   after ivgmpd ran (DIR/ivgmpd.out, lan_out.pcap,
                        wan_out.pcap): what crossed, in both directions

Runs on /usr/bin/python3 (scapy).
"""

import json
import os
import sys

import pcap_harness as h

G3, G1 = "239.1.1.1", "239.2.2.2"


def demo_config() -> h.Config:
    """The standard configuration without site E: three remote sites,
    B (ESP, AES-128), C (ESP in UDP 4500, AES-256), D (ESP, AES-256)."""
    c = h.standard_config()
    c.sites = [s for s in c.sites if s.name != "E"]
    c.sas = [sa for sa in c.sas if sa.site != "E"]
    c.send = [(g, [n for n in names if n != "E"]) for g, names in c.send]
    return c


def lan_inputs():
    good = h.lan_udp(G3, 100, 1, note="UDP 192.168.1.10 -> %s, 100 bytes" % G3)
    return [
        good,
        h.lan_udp(G1, 61, 2, note="UDP 192.168.1.10 -> %s, 61 bytes" % G1),
        h.lan_udp(G3, 300, 3, vlan=42, note="UDP -> %s in VLAN 42, 300 bytes" % G3),
        h.arp_request(),
        h.lan_udp("224.0.0.251", 80, 4, note="mDNS to 224.0.0.251 (link-local)"),
        h.lan_udp("239.7.7.7", 80, 5, note="UDP to 239.7.7.7 (no such group)"),
        h.bad_checksum(h.lan_udp(G3, 90, 6)),
    ]


def wan_inputs(config):
    """(note, frame, inner l3 or None)."""
    peers = {n: h.Peer(config, n) for n in "BCD"}

    def inner(peer, group, seed, ttl=9):
        return h.ipv4_udp(group, 90 + seed, 50 + seed, src="172.16.%d.10" % (ord(peer) - 64), ttl=ttl)

    b1 = inner("B", "239.9.9.9", 1)
    b1_frame = peers["B"].esp_frame(b1, 1)
    c1, d1 = inner("C", "239.200.7.9", 2), inner("D", "239.9.9.9", 3)
    d2, b2 = inner("D", "239.9.9.9", 4, ttl=1), inner("B", "239.200.7.9", 5)
    # Its own inner packet, so that the summary cannot mistake the genuine
    # seq 2 coming out for the forgery.
    b2_forged = inner("B", "239.200.7.9", 6)
    forged = h.flip_bit(peers["B"].esp_frame(b2_forged, 2), 50, 0)
    return [
        ("B seq 1 (ESP, AES-128)", b1_frame, b1),
        ("C seq 1 (UDP 4500, AES-256)", peers["C"].esp_frame(c1, 1), c1),
        ("D seq 1 (ESP, AES-256)", peers["D"].esp_frame(d1, 1), d1),
        ("B seq 2, one ciphertext bit flipped", forged, b2_forged),
        ("B seq 1 again (a replay)", b1_frame, b1),
        ("D seq 2, inner TTL 1", peers["D"].esp_frame(d2, 2), d2),
        ("B seq 2 (the genuine one)", peers["B"].esp_frame(b2, 2), b2),
        ("C: NAT keepalive", peers["C"].udp_frame(b"\xff"), None),
    ]


def write_inputs(d: str) -> None:
    config = demo_config()
    lan, wan = lan_inputs(), wan_inputs(config)
    with open(os.path.join(d, "site.conf"), "w") as f:
        f.write(config.text())
    h.write_pcap(os.path.join(d, "lan_in.pcap"), lan)
    h.write_pcap(os.path.join(d, "wan_in.pcap"), [fr for _, fr, _ in wan])
    manifest = {"lan": [{"note": f.note, "l3": f.l3.hex() if f.l3 else None} for f in lan],
                "wan": [{"note": n, "inner": l3.hex() if l3 else None} for n, _, l3 in wan]}
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(config.text().rstrip())
    print("LAN input: %d frames, WAN input: %d frames" % (len(lan), len(wan)))


def summarize_lan_to_wan(d, config, manifest) -> None:
    views = h.tshark_esp(os.path.join(d, "wan_out.pcap"), config)
    out = [h.parse_wan(raw) for raw in h.read_pcap(os.path.join(d, "wan_out.pcap"))]
    sent = [bytes.fromhex(x["l3"]) if x["l3"] else None for x in manifest["lan"]]
    print("LAN -> WAN (each ESP packet decrypted by tshark)")
    for i, (item, l3) in enumerate(zip(manifest["lan"], sent), 1):
        print("  LAN #%d %s" % (i, item["note"]))
        copies = [(n, w) for n, w in enumerate(out, 1) if l3 and views.get(n) and views[n].inner == l3]
        for n, w in copies:
            v, site = views[n], config.site_by_addr(w.dst)
            print("      -> %-2s %-15s %s spi 0x%08x seq %-3d ICV %s, inner identical"
                  % (site.name, w.dst, "UDP 4500" if w.udp else "ESP     ", v.spi, v.seq,
                     "ok" if v.icv_good else "BAD"))
        if not copies:
            print("      -> nothing sent")
    unmatched = sum(1 for n in range(1, len(out) + 1) if n not in views or views[n].inner not in sent)
    if unmatched:
        print("  %d WAN frame(s) matched no LAN packet" % unmatched)


def summarize_wan_to_lan(d, config, manifest) -> None:
    views = h.tshark_esp(os.path.join(d, "wan_in.pcap"), config)
    lan = [h.parse_lan(raw) for raw in h.read_pcap(os.path.join(d, "lan_out.pcap"))
           if not h.is_igmp(raw)]
    print("WAN -> LAN")
    claimed = set()
    for i, item in enumerate(manifest["wan"], 1):
        v = views.get(i)
        icv = "" if v is None else ", tshark ICV %s" % ("ok" if v.icv_good else "BAD")
        print("  WAN #%d %s%s" % (i, item["note"], icv))
        inner = bytes.fromhex(item["inner"]) if item["inner"] else None
        # The first LAN frame not yet claimed that carries this inner packet.
        hit = next((k for k, f in enumerate(lan) if k not in claimed and inner and
                    h.udp_payload(f.l3) == h.udp_payload(inner)), None)
        if hit is None:
            print("      -> nothing on the LAN")
            continue
        claimed.add(hit)
        f = lan[hit]
        same = f.l3 == h.router_forwarded(inner)
        print("      -> LAN frame %d: %s -> %s, %s -> %s TTL %d, %s"
              % (hit + 1, f.src_mac, f.dst_mac, h.ip_src(f.l3), h.ip_dst(f.l3), f.l3[8],
                 "as forwarded by a router" if same else "DIFFERS from the inner packet"))


def summarize(d: str) -> None:
    config = demo_config()
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    summarize_lan_to_wan(d, config, manifest)
    print()
    summarize_wan_to_lan(d, config, manifest)
    print()
    with open(os.path.join(d, "ivgmpd.out")) as f:
        report = f.read()
    counters, _ = h.parse_report(report)
    print("ivgmpd counters (non-zero)")
    for name, value in counters.items():
        if name not in h.PERF_COUNTERS:
            print("  %-28s %s" % (name, value))
    print("security associations")
    for line in report.splitlines():
        if " spi 0x" in line:
            print("  " + line.strip())


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("inputs", "summary"):
        sys.exit("usage: demo.py inputs|summary DIR")
    (write_inputs if sys.argv[1] == "inputs" else summarize)(sys.argv[2])
