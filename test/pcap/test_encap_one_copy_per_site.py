#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
LAN -> WAN: every good multicast packet of a configured group becomes exactly
one ESP tunnel packet per remote site of the group, and nothing else leaves.

LAN input: UDP to 239.1.1.1 (sites B C D) and 239.2.2.2 (B E) in sizes that
make every ESP padding length 0..3, a 1400-byte frame, the largest packet the
WAN MTU allows, IPv4 options, an 802.1Q tag, Ethernet padding, DSCP/ECN and
DF, then a train of 70 spanning several bursts; mixed with what must not
leave: an unknown group, 224.0.0.x, unicast, ARP, IPv6, malformed IPv4 and a
packet one byte too big for the WAN MTU.

Checked on wan_out.pcap, frame by frame: outer MACs and addresses, TTL 64,
header checksum, ESP or UDP 4500 with zero checksum per site, the site's
SPI, sequence numbers 1..N per SA in order, unique IVs; tshark decrypts each
one with a good ICV into the original L3 bytes, RFC 4303 padding included.
Then every counter.
"""

import collections

import pcap_harness as h
from scapy.layers.inet import IPOption_NOP, IPOption_Router_Alert

G3, G2 = "239.1.1.1", "239.2.2.2"     # 3 sites, 2 sites
# The largest inner packet a UDP-encapsulated copy carries in a 1500-byte
# outer packet: 20 IP + 8 UDP + 8 ESP + 8 IV + (inner + 2, to 4) + 16 ICV.
LARGEST = 1438
# The largest a plain ESP copy carries: 8 bytes more (no UDP header). One
# byte more than that is too big for every site of the group.
LARGEST_PLAIN = LARGEST + 8


def good_frames():
    """Packets to forward. Inner lengths 38..41 give padding 0, 3, 2, 1."""
    f = []
    seed = iter(range(1, 1000))
    for n in (38, 39, 40, 41):
        f.append(h.lan_udp(G3, n, next(seed), note="udp to %s, %d bytes" % (G3, n)))
        f.append(h.lan_udp(G2, n + 4, next(seed), note="udp to %s, %d bytes" % (G2, n + 4)))
    f.append(h.lan_udp(G3, 28, next(seed), pad_to=60,
                       note="smallest UDP, Ethernet padding to 60 bytes"))
    f.append(h.lan_udp(G3, 1400 - 14, next(seed), note="1400-byte frame"))
    f.append(h.lan_udp(G2, 200, next(seed), vlan=42, note="802.1Q VLAN 42"))
    f.append(h.lan_udp(G3, 123, next(seed), vlan=7, pad_to=200,
                       note="802.1Q VLAN 7 with Ethernet padding"))
    f.append(h.lan_udp(G3, 57, next(seed),
                       options=[IPOption_Router_Alert(), IPOption_NOP(), IPOption_NOP(),
                                IPOption_NOP(), IPOption_NOP()],
                       note="IPv4 options (router alert, NOPs), IHL 7"))
    f.append(h.lan_udp(G2, 301, next(seed), tos=0xB9, df=True, ttl=1,
                       note="DSCP EF + ECT(1), DF, TTL 1"))
    f.append(h.lan_udp(G3, LARGEST, next(seed), note="largest for WAN MTU 1500"))
    f.append(h.lan_udp(G2, 777, next(seed), src="192.168.1.99", note="another LAN source"))
    # Several RX bursts of 32 and more than one TX batch of 64 copies: order
    # and numbering must survive the burst boundaries.
    for i in range(70):
        f.append(h.lan_udp((G3, G2)[i % 3 == 0], 28 + i, next(seed), note="train #%d" % i))
    return f


def dropped_frames():
    """(frame, the counter it must land in)."""
    base = h.lan_udp(G3, 60, 900, note="base for malformed frames")
    return [
        (h.lan_udp("239.7.7.7", 60, 901), "lan_drop_no_group"),
        (h.lan_udp("224.0.0.251", 60, 902), "lan_drop_link_local"),
        (h.lan_udp("224.0.0.5", 60, 903, vlan=42), "lan_drop_link_local"),
        (h.Frame(h.ether(h.ipv4_udp("192.168.1.20", 60, 904), "02:00:00:00:01:14"),
                 "unicast UDP"), "lan_drop_unicast"),
        (h.arp_request(), "lan_drop_not_ipv4"),
        (h.ipv6_frame(), "lan_drop_not_ipv4"),
        (h.truncated_ip(base), "lan_drop_truncated"),
        (h.Frame(base.raw[:10], "10-byte runt"), "lan_drop_truncated"),
        (h.bad_checksum(base), "lan_drop_bad_ip_checksum"),
        (h.bad_checksum(h.lan_udp(G2, 99, 905)), "lan_drop_bad_ip_checksum"),
        (h.bad_version(base), "lan_drop_bad_ip_version"),
        (h.bad_ihl(base), "lan_drop_bad_ip_ihl"),
        (h.bad_total_length(base), "lan_drop_bad_ip_length"),
        (h.lan_udp(G3, LARGEST_PLAIN + 1, 906, note="one byte over the WAN MTU"),
         "lan_drop_too_big"),
    ]


def interleave(good, dropped):
    """Drops between good packets: a drop must not disturb its neighbours."""
    out, d = [], list(dropped)
    for g in good:
        out.append((g, None))
        if d:
            out.append(d.pop(0))
    return out + d


def test(binary, workdir, chk):
    config = h.standard_config()
    inputs = interleave(good_frames(), dropped_frames())
    good = [f for f, drop in inputs if drop is None]
    for f, drop in inputs:
        print("  in: %-45s -> %s" % (f.note, drop or " ".join(config.sites_of(f.group))))

    run = h.run_ivgmpd(binary, config, [f for f, _ in inputs], [], workdir, "encap")
    print("  ivgmpd ran %.2f s, %d frames out on the WAN" % (run.seconds, len(run.wan_out)))
    views = h.tshark_esp(run.path("wan_out.pcap"), config)

    # What each site must receive, in LAN order.
    want = collections.OrderedDict((s.name, []) for s in config.sites)
    for f in good:
        for site in config.sites_of(f.group):
            want[site].append(f)
    got = collections.defaultdict(list)      # site -> [(frame number, WanFrame)]
    wan_macs = set()

    chk.section("every WAN frame")
    for number, raw in enumerate(run.wan_out, 1):
        w = h.parse_wan(raw)
        site = config.site_by_addr(w.dst)
        if site is None:
            chk.check(False, "frame %d goes to a configured site" % number, "dst %s" % w.dst)
            continue
        got[site.name].append((number, w))
        wan_macs.add(w.src_mac)
        check_outer(chk, config, site, number, w)

    chk.section("per site: one copy of each packet, in order, decrypted by tshark")
    pads = set()
    for name, frames in want.items():
        sa = config.sa("out", name)
        seen = got.get(name, [])
        chk.equal(len(seen), len(frames), "site %s: ESP packets" % name)
        chk.equal([w.seq for _, w in seen], list(range(1, len(seen) + 1)),
                  "site %s: sequence numbers" % name)
        chk.equal(len({w.iv for _, w in seen}), len(seen), "site %s: distinct IVs" % name)
        for k, ((number, w), orig) in enumerate(zip(seen, frames), 1):
            v = views.get(number)
            if not chk.check(v is not None, "site %s #%d: tshark saw ESP" % (name, k)):
                continue
            chk.check(v.spi == sa.spi and v.seq == k and v.icv_good is True and
                      v.next_header == 4,
                      "site %s #%d (%s): tshark spi 0x%x seq %d ICV good, next header 4"
                      % (name, k, orig.note, sa.spi, k),
                      "spi %s seq %s icv_good %s next header %s"
                      % (v.spi, v.seq, v.icv_good, v.next_header))
            chk.equal(v.inner, orig.l3, "site %s #%d: decrypted inner == LAN L3 bytes" % (name, k))
            check_padding(chk, name, k, v)
            if v.pad_len is not None:
                pads.add(v.pad_len)
            check_copied_fields(chk, name, k, w, orig.l3)
            if len(orig.l3) == LARGEST and config.site(name).udp_encap:
                chk.equal(w.total_len, 1500, "site %s #%d: outer length at the WAN MTU" % (name, k))
    chk.equal(sorted(pads), [0, 1, 2, 3], "ESP padding lengths seen")
    chk.equal(len(wan_macs), 1, "one WAN source MAC (%s)" % ", ".join(sorted(wan_macs)))
    chk.equal(len(run.lan_data), 0, "frames sent back on the LAN (IGMP aside)")

    chk.section("counters and SA report")
    copies = sum(len(v) for v in want.values())
    expected = collections.Counter(drop for _, drop in inputs if drop)
    expected.update({"lan_rx_packets": len(inputs), "esp_out_copies": copies,
                     "wan_tx_packets": copies})
    h.check_counters(chk, run.counters, dict(expected))
    for name, frames in want.items():
        sa = config.sa("out", name)
        rep = run.sas.get(sa.spi, {})
        chk.equal((rep.get("packets"), rep.get("expired_drops")), (len(frames), 0),
                  "SA report out 0x%x to %s: (packets, expired_drops)" % (sa.spi, name))


def check_outer(chk, config, site, number, w):
    """The outer headers of one ESP copy, as RFC 4303 tunnel mode and, for a
    site behind NAT, RFC 3948 want them."""
    sa = config.sa("out", site.name)
    udp_ok = (w.proto == 17 and w.udp is not None and w.udp[0] == h.NATT_PORT and
              w.udp[1] == h.NATT_PORT and w.udp[3] == 0 and w.udp[2] == w.total_len - 20)
    encap_ok = udp_ok if site.udp_encap else (w.proto == 50 and w.udp is None)
    chk.check(w.dst_mac == config.site_mac(site.name) and w.ethertype == 0x0800 and
              w.src == config.wan_address and w.ttl == 64 and len(w.ip) == 20 and
              w.ip_checksum_ok and w.total_len == len(w.raw) - 14 and encap_ok and
              w.spi == sa.spi,
              "frame %d to %s: MAC %s, %s -> %s, TTL 64, checksum, %s, SPI 0x%x"
              % (number, site.name, config.site_mac(site.name), config.wan_address, site.addr,
                 "UDP 4500/4500 checksum 0" if site.udp_encap else "ESP", sa.spi),
              "MAC %s type 0x%04x %s -> %s ttl %d ihl %d checksum ok %s len %d/%d proto %d "
              "udp %s spi 0x%x" % (w.dst_mac, w.ethertype, w.src, w.dst, w.ttl, len(w.ip),
                                   w.ip_checksum_ok, w.total_len, len(w.raw) - 14, w.proto,
                                   w.udp, w.spi))


def check_padding(chk, name, k, v):
    """RFC 4303 2.4: padding bytes 1, 2, 3..., to a 4-byte boundary."""
    if v.decrypted is None or v.pad_len is None:
        chk.check(False, "site %s #%d: padding" % (name, k), "tshark did not decrypt it")
        return
    body = len(v.decrypted)
    pad = v.decrypted[body - 2 - v.pad_len:body - 2]
    chk.check(body % 4 == 0 and pad == bytes(range(1, v.pad_len + 1)),
              "site %s #%d: padding %d bytes 1..n, payload %d bytes" % (name, k, v.pad_len, body),
              "padding %s" % pad.hex())


def check_copied_fields(chk, name, k, w, inner):
    """DSCP/ECN copied outward (RFC 2983, RFC 6040 normal mode) and DF
    copied (outer-df copy, the default)."""
    if inner[1] or inner[6] & 0x40:
        chk.check(w.tos == inner[1] and w.df == bool(inner[6] & 0x40),
                  "site %s #%d: outer TOS 0x%02x and DF copied" % (name, k, inner[1]),
                  "TOS 0x%02x DF %s" % (w.tos, w.df))


if __name__ == "__main__":
    h.main(test, "encap_one_copy_per_site")
