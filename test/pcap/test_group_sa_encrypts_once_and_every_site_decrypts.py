#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Group SA (design.md 4, `group-sa` line): a LAN packet of a group with a
group SA is encrypted once and sent to every site of the group; the copies
differ in their outer headers only.

Configuration: sites B (ESP), C (ESP-in-UDP 4500) and D (ESP, own MAC);
239.1.1.1 goes to B C D with one group SA (B C D have no `sa out` of their
own); in the same run 239.2.2.2 stays pairwise (B and E, their own SAs).
LAN input: packets to 239.1.1.1 in sizes giving every padding length, a
1400-byte frame, a train across several RX bursts and TX batches, mixed with
pairwise packets; and one packet that fits plain ESP in the WAN MTU but not
ESP-in-UDP: B and D get it, C's copy is dropped (lan_drop_too_big).

Checked on wan_out.pcap: for each group packet exactly one frame per site,
all with the group SA's SPI and the same sequence number (1, 2, ... in LAN
order) and the same ESP bytes (header, IV, ciphertext, ICV); outer MACs,
addresses, TTL, total length and header checksum per site; UDP 4500 with
a zero checksum for C only. tshark (ESP SA table with the group key for each
site) and scapy both decrypt every frame with a good ICV into the LAN
packet's L3 bytes. The pairwise group: its own SPIs, numbers 1..N per site,
tshark decrypts. Counters: esp_out_group_encryptions = group packets,
esp_out_copies = 3 x group packets - 1 + 2 x pairwise packets; the exit
report's group SA line counts each group packet once.
"""

import collections

import pcap_harness as h
from scapy.layers.inet import IP
from scapy.layers.ipsec import ESP, SecurityAssociation

GROUP, PAIRWISE = "239.1.1.1", "239.2.2.2"
GROUP_SITES = ["B", "C", "D"]
GROUP_SPI = 0x7001
GROUP_AEAD = "aes-gcm-128"
GROUP_KEYMAT = h.keymat(GROUP_AEAD, 71)
# The largest inner packet a plain-ESP copy carries in a 1500-byte outer
# packet (20 IP + 8 ESP + 8 IV + (inner + 2, to 4) + 16 ICV): 8 bytes too
# many for ESP-in-UDP.
LARGEST_PLAIN = 1446


def config_with_group_sa() -> h.Config:
    sites = [h.Site("B", "10.99.0.2"),
             h.Site("C", "10.99.0.3", udp_encap=True),
             h.Site("D", "10.99.0.4", mac="02:00:00:00:00:d4"),
             h.Site("E", "10.99.0.5", udp_encap=True)]
    sas = [h.SA("out", "B", 0x1002, "aes-gcm-128", h.keymat("aes-gcm-128", 4)),
           h.SA("out", "E", 0x1005, "aes-gcm-256", h.keymat("aes-gcm-256", 10))]
    return h.Config(sites=sites, sas=sas,
                    send=[(GROUP, GROUP_SITES), (PAIRWISE, ["B", "E"])],
                    extra=["group-sa %s spi 0x%x %s key 0x%s"
                           % (GROUP, GROUP_SPI, GROUP_AEAD, GROUP_KEYMAT.hex())])


def tshark_config(config: h.Config) -> h.Config:
    """The same sites with, for tshark's SA table, one outbound entry per
    site of the group carrying the group SA's SPI and key."""
    sas = list(config.sas) + [h.SA("out", s, GROUP_SPI, GROUP_AEAD, GROUP_KEYMAT)
                              for s in GROUP_SITES]
    return h.Config(sites=config.sites, sas=sas, send=config.send)


def scapy_decrypt(config: h.Config, wan: h.WanFrame) -> bytes:
    """What a receiving site does with its copy, through scapy: raises
    IPSecIntegrityError on a bad ICV."""
    sa = SecurityAssociation(ESP, spi=GROUP_SPI, crypt_algo="AES-GCM", crypt_key=GROUP_KEYMAT,
                             tunnel_header=IP(src=config.wan_address, dst=wan.dst))
    # ESP-in-UDP's UDP header is outside ESP: rebuild as protocol 50.
    return bytes(sa.decrypt(IP(bytes(IP(src=wan.src, dst=wan.dst, proto=50) / ESP(wan.esp)))))


def lan_frames():
    frames, seed = [], iter(range(1, 1000))
    for n in (38, 39, 40, 41):            # padding 0, 3, 2, 1
        frames.append(h.lan_udp(GROUP, n, next(seed), note="group, %d bytes" % n))
        frames.append(h.lan_udp(PAIRWISE, n + 4, next(seed), note="pairwise, %d bytes" % (n + 4)))
    frames.append(h.lan_udp(GROUP, 1400 - 14, next(seed), note="group, 1400-byte frame"))
    frames.append(h.lan_udp(GROUP, 301, next(seed), tos=0xB9, df=True, note="group, DSCP/ECN, DF"))
    frames.append(h.lan_udp(GROUP, LARGEST_PLAIN, next(seed),
                            note="group, too big for ESP-in-UDP (C)"))
    # More than one RX burst of 32 and TX batches of 64 copies.
    for i in range(60):
        frames.append(h.lan_udp((GROUP, PAIRWISE)[i % 4 == 3], 28 + 7 * i, next(seed),
                                note="train #%d" % i))
    return frames


def test(binary, workdir, chk):
    config = config_with_group_sa()
    lan = lan_frames()
    group_in = [f for f in lan if f.group == GROUP]
    pairwise_in = [f for f in lan if f.group == PAIRWISE]
    too_big = [f for f in group_in if len(f.l3) == LARGEST_PLAIN]
    run = h.run_ivgmpd(binary, config, lan, [], workdir, "group-sa")
    print("  ivgmpd ran %.2f s: %d LAN frames in (%d group, %d pairwise), %d WAN frames out"
          % (run.seconds, len(lan), len(group_in), len(pairwise_in), len(run.wan_out)))
    views = h.tshark_esp(run.path("wan_out.pcap"), tshark_config(config))

    by_site = collections.defaultdict(list)       # site -> [(frame number, WanFrame)]
    chk.section("every WAN frame: outer headers")
    for number, raw in enumerate(run.wan_out, 1):
        w = h.parse_wan(raw)
        site = config.site_by_addr(w.dst)
        if not chk.check(site is not None, "frame %d goes to a configured site" % number,
                         "dst %s" % w.dst):
            continue
        by_site[site.name].append((number, w))
        ok = (w.src_mac == h.NET_PCAP_WAN_MAC and w.dst_mac == config.site_mac(site.name) and
              w.src == config.wan_address and w.ttl == 64 and w.ip_checksum_ok and
              w.total_len == len(raw) - 14 and
              (w.proto == 17 and w.udp is not None and w.udp[:2] == (4500, 4500) and
               w.udp[2] == w.total_len - 20 and w.udp[3] == 0
               if site.udp_encap else w.proto == 50))
        chk.check(ok, "frame %d to %s: MACs, addresses, TTL, length, checksum, %s"
                  % (number, site.name, "UDP 4500" if site.udp_encap else "ESP"),
                  "%s -> %s %s -> %s ttl %d len %d/%d cksum %s proto %d udp %s" % (
                      w.src_mac, w.dst_mac, w.src, w.dst, w.ttl, w.total_len, len(raw) - 14,
                      w.ip_checksum_ok, w.proto, w.udp))

    chk.section("group %s: one encryption, one frame per site" % GROUP)
    want_sites = {s: [f for f in group_in if not (s == "C" and f in too_big)] for s in GROUP_SITES}
    group_frames = {s: [(n, w) for n, w in by_site[s] if w.spi == GROUP_SPI] for s in GROUP_SITES}
    for s in GROUP_SITES:
        chk.equal(len(group_frames[s]), len(want_sites[s]), "%s: group frames" % s)
        chk.equal([w.seq for _, w in group_frames[s]],
                  [group_in.index(f) + 1 for f in want_sites[s]],
                  "%s: sequence numbers, LAN order (C skips the too-big packet)" % s)
    # Per packet: the same ESP bytes at every site.
    esp_of = {s: {w.seq: w.esp for _, w in group_frames[s]} for s in GROUP_SITES}
    same = [seq for seq in range(1, len(group_in) + 1)
            if len({esp_of[s][seq] for s in GROUP_SITES if seq in esp_of[s]}) == 1]
    chk.equal(len(same), len(group_in), "packets whose ESP bytes (SPI..ICV) are identical at "
              "every site")
    chk.equal(sum(1 for s in GROUP_SITES for seq in esp_of[s]), 3 * len(group_in) - len(too_big),
              "group frames in all")

    chk.section("group frames decrypted by tshark and by scapy")
    tshark_ok = scapy_ok = 0
    for s in GROUP_SITES:
        for number, w in group_frames[s]:
            want = group_in[w.seq - 1].l3
            v = views.get(number)
            if v is not None and v.spi == GROUP_SPI and v.icv_good and v.inner == want:
                tshark_ok += 1
            else:
                chk.check(False, "tshark: frame %d to %s" % (number, s),
                          "view %s" % (h.short(v) if v else "none"))
            try:
                got = scapy_decrypt(config, w)
            except Exception as e:   # scapy's IPSecIntegrityError and parse errors
                chk.check(False, "scapy: frame %d to %s" % (number, s), repr(e))
                continue
            if got == want:
                scapy_ok += 1
            else:
                chk.check(False, "scapy: frame %d to %s: inner" % (number, s),
                          h.bytes_diff(got, want))
    n_group_frames = 3 * len(group_in) - len(too_big)
    chk.equal(tshark_ok, n_group_frames, "tshark: good ICV and inner == LAN L3")
    chk.equal(scapy_ok, n_group_frames, "scapy: decrypts to the LAN L3 bytes")

    chk.section("pairwise group %s in the same run" % PAIRWISE)
    for s in ("B", "E"):
        sa = config.sa("out", s)
        frames = [(n, w) for n, w in by_site[s] if w.spi == sa.spi]
        chk.equal([w.seq for _, w in frames], list(range(1, len(pairwise_in) + 1)),
                  "%s: pairwise SPI 0x%x, numbers 1..N" % (s, sa.spi))
        good = sum(1 for (n, w), f in zip(frames, pairwise_in)
                   if views.get(n) and views[n].icv_good and views[n].inner == f.l3)
        chk.equal(good, len(pairwise_in), "%s: tshark decrypts every pairwise frame" % s)
    chk.equal(sum(1 for _, w in by_site["E"] if w.spi != config.sa("out", "E").spi), 0,
              "E (not in the group) gets no group frame")
    chk.equal(len(run.wan_out), n_group_frames + 2 * len(pairwise_in), "WAN frames in all")

    chk.section("counters and the SA report")
    h.check_counters(chk, run.counters, {
        "lan_rx_packets": len(lan),
        "esp_out_group_encryptions": len(group_in),
        "esp_out_copies": n_group_frames + 2 * len(pairwise_in),
        "wan_tx_packets": n_group_frames + 2 * len(pairwise_in),
        "lan_drop_too_big": len(too_big),
    })
    report = run.sas.get(GROUP_SPI, {})
    chk.equal(report.get("packets"), len(group_in),
              "report: group SA 0x%x packets (once per LAN packet)" % GROUP_SPI)
    chk.equal(run.sas.get(config.sa("out", "B").spi, {}).get("packets"), len(pairwise_in),
              "report: B's pairwise SA packets")


if __name__ == "__main__":
    h.main(test, "group_sa_encrypts_once_and_every_site_decrypts")
