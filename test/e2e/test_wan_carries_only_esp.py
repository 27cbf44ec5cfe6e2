#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The WAN between the sites carries only ESP: no cleartext multicast, no
IGMP, and the VNOC's TLS only on the management network (issue #5,
scenario 6).

    A: h1 sends G1 = 239.51.1.1; h2 sends L = 239.51.9.9 (nobody outside A
       wants it) and to 224.0.0.251:5353 (link-local, like mDNS)
    B: h1 IGMPv2 joins G1; h2 sends SSM = 232.51.1.1
    C: h1 joins G1 and (B's h2, SSM), later leaves G1
    Every frame on the WAN bridge, on the management bridge and on each
    LAN is captured (tcpdump, no filter), while the sites' IGMP runs
    (queries, v2 and v3 reports, a leave) and the VNOC is used (register,
    JoinVpn, WatchUpdates, LeaveVpn).

  WAN: every frame is IPv4 ESP (protocol 50) or ESP in UDP 4500, between
       two sites' WAN addresses, to the next hop's unicast MAC; no IGMP,
       no multicast destination, no TCP (VNOC), none of the streams'
       payload in the clear. Positive control: ESP A -> B, A -> C, B -> C.
  management: only TCP between a site's management address and the VNOC's
       port 8443 (and ARP); the first bytes of each connection a TLS
       ClientHello; no SOAP in the clear; no ESP, IGMP or UDP.
  LANs: IGMP there (the control), no ESP, no TCP to 8443; the link-local
       datagrams and L stay on A's LAN (no other device delivers them).
"""

import struct
import time

import rig as r
import vpn_rig as vpn
import wire

G1 = "239.51.1.1"
LOCAL = "239.51.9.9"
LINK_LOCAL = "224.0.0.251"
SSM = "232.51.1.1"
PORT = 5051
RATE = 25.0
NEXTHOP_MAC = "02:00:00:00:00:fe"


def is_multicast(addr):
    return 224 <= int(addr.split(".")[0]) <= 239


def classify(frame):
    """'arp', 'esp', 'esp-in-udp', 'ipv4/<proto>' or 'ether/<type>'."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0806:
        return "arp"
    if ethertype != 0x0800:
        return "ether/0x%04x" % ethertype
    f = vpn.IpFrame(0, frame)
    if f.proto == 50:
        return "esp"
    u = f.udp()
    if u and 4500 in (u[0], u[1]):
        return "esp-in-udp"
    return "ipv4/%d" % f.proto


def check_wan_kinds(chk: r.Checker, pcap: str) -> dict:
    """Count the frames of a WAN capture by classify(); only ESP (plain or
    in UDP) may be there. Returns the counts."""
    kinds = {}
    for _, f in wire.read_pcap(pcap):
        kinds[classify(f)] = kinds.get(classify(f), 0) + 1
    chk.measured("frames on the WAN by kind", kinds)
    chk.equal(sorted(k for k in kinds if k not in ("esp", "esp-in-udp")), [],
              "kinds of WAN frames other than ESP")
    return kinds


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, site_hosts={"A": ("h1", "h2"), "B": ("h1", "h2")},
                    v2_hosts={"B": ("h1",)}, lan_filter="", wan_filter="",
                    capture_mgmt=True) as vr:
        a, b, c = vr.sites
        ah1, ah2, bh1, bh2, ch1 = (a.host("h1"), a.host("h2"), b.host("h1"), b.host("h2"),
                                   c.host("h1"))
        l_b, l_c = vr.listen(bh1, G1, PORT), vr.listen(ch1, SSM, PORT)

        chk.section("traffic: streams, joins, a leave, link-local chatter")
        streams = [vr.stream(ah1, G1, PORT, RATE, tag="A-G1"),
                   vr.stream(ah2, LOCAL, PORT, RATE, tag="A-L"),
                   vr.stream(bh2, SSM, PORT, RATE, tag="B-SSM")]
        bh1.join(G1)
        m_c = ch1.join(G1)
        ch1.join_source(SSM, bh2.addr)
        ah1.join(LOCAL)
        sock = ah2.sender(ttl=1)
        for i in range(5):
            sock.sendto(b"%s link-local %d" % (vpn.MARK, i), (LINK_LOCAL, 5353))
            time.sleep(0.1)
        sock.close()
        ok, took = r.wait_until(lambda: l_b.snapshot() and l_c.snapshot(), 8)
        chk.check(bool(ok), "B gets G1 and C gets SSM", "B %d, C %d" % (len(l_b.snapshot()),
                                                                       len(l_c.snapshot())))
        time.sleep(2.0)
        m_c.leave()
        time.sleep(c.lmqt + c.timer("vpn-leave-hold") + 1.5)
        for s in streams:
            s.stop()
        time.sleep(0.3)
        for cap in [vr.cap_wan, vr.cap_mgmt] + [s.cap for s in vr.sites]:
            cap.stop()

        chk.section("the WAN")
        wan = wire.read_pcap(vr.cap_wan.path)
        kinds = check_wan_kinds(chk, vr.cap_wan.path)
        ip = vr.wan_frames()
        wan_addrs = {s.wan_address: s.id for s in vr.sites}
        chk.equal([f.proto for f in ip if f.proto == 2], [], "IGMP on the WAN")
        chk.equal(sorted({f.dst for f in ip if is_multicast(f.dst)}), [],
                  "multicast destinations on the WAN")
        chk.equal(sorted({(f.src, f.dst) for f in ip if f.src not in wan_addrs or
                          f.dst not in wan_addrs}), [],
                  "WAN frames not between two sites' WAN addresses")
        chk.equal(len([f for f in ip if f.eth_dst != vpn.mac_bytes(NEXTHOP_MAC)]), 0,
                  "WAN frames not to the next hop MAC %s" % NEXTHOP_MAC)
        chk.equal(len([f for _, f in wan if vpn.MARK in f]), 0,
                  "WAN frames with a stream's payload in the clear")
        chk.equal(len([f for f in ip if f.proto == 6]), 0, "TCP on the WAN (the VNOC's TLS)")
        pairs = {(wan_addrs.get(f.src), wan_addrs.get(f.dst)) for f in ip if f.proto == 50}
        chk.measured("ESP (from, to) pairs", sorted(pairs))
        for pair in (("A", "B"), ("A", "C"), ("B", "C")):
            chk.check(pair in pairs, "ESP %s -> %s on the WAN (control)" % pair)

        chk.section("the management network")
        mgmt = wire.read_pcap(vr.cap_mgmt.path)
        mkinds = {}
        for _, f in mgmt:
            mkinds[classify(f)] = mkinds.get(classify(f), 0) + 1
        chk.measured("frames on the management bridge by kind", mkinds)
        chk.equal(sorted(k for k in mkinds if k not in ("arp", "ipv4/6")), [],
                  "kinds other than TCP and ARP on the management network")
        mip = vpn.ip_frames(vr.cap_mgmt.path)
        site_mgmt = {s.mgmt_address for s in vr.sites}
        bad, hellos, segments = [], 0, 0
        for f in mip:
            if f.proto != 6:
                continue
            sport, dport = struct.unpack("!HH", f.l4[:4])
            ends = {(f.src, sport), (f.dst, dport)}
            if (vpn.VNOC_ADDRESS, vpn.VNOC_PORT) not in ends or not ({f.src, f.dst} & site_mgmt):
                bad.append("%s:%d -> %s:%d" % (f.src, sport, f.dst, dport))
            payload = f.l4[(f.l4[12] >> 4) * 4:]
            if payload:
                segments += 1
                if dport == vpn.VNOC_PORT and payload[0] == 0x16 and len(payload) > 5 and \
                        payload[5] == 0x01:
                    hellos += 1
        chk.equal(bad, [], "TCP not between a site and %s:%d" % (vpn.VNOC_ADDRESS,
                                                                 vpn.VNOC_PORT))
        chk.measured("TCP segments with data / TLS ClientHellos to the VNOC", "%d / %d"
                     % (segments, hellos))
        chk.check(hellos >= len(vr.sites), "a TLS ClientHello from every site (%d)" % hellos)
        clear = [w for w in (b"Envelope", b"JoinVpn", b"WatchUpdates", b"<?xml", b"POST /vnoc")
                 if any(w in f for _, f in mgmt)]
        chk.equal(clear, [], "SOAP or HTTP in the clear on the management network")
        chk.equal(len([f for _, f in mgmt if vpn.MARK in f]), 0,
                  "stream payload on the management network")

        chk.section("the LANs")
        igmp_total = 0
        for s in vr.sites:
            frames = s.lan_frames()
            igmp = [f for f in frames if f.proto == 2]
            igmp_total += len(igmp)
            chk.check(len(igmp) > 0, "IGMP on %s's LAN (control): %d" % (s.id, len(igmp)))
            chk.equal(len([f for f in frames if f.proto == 50]), 0, "ESP on %s's LAN" % s.id)
            tcp_vnoc = [f for f in frames if f.proto == 6 and vpn.VNOC_PORT in
                        struct.unpack("!HH", f.l4[:4])]
            chk.equal(len(tcp_vnoc), 0, "VNOC TCP on %s's LAN" % s.id)
        for s in (b, c):
            for grp in (LOCAL, LINK_LOCAL):
                chk.equal(len(s.delivered(grp)), 0, "%s delivered on %s's LAN" % (grp, s.id))
        chk.check(len([f for f in a.lan_frames() if f.dst == LINK_LOCAL]) >= 5,
                  "the link-local datagrams were on A's LAN (control)")
        vpn.scenario_line("WAN %d frames: %s; management %d frames: %s (%d TLS ClientHellos, "
                          "no SOAP in the clear); IGMP on the LANs %d, on the WAN %d"
                          % (len(wan), kinds, len(mgmt), mkinds, hellos, igmp_total,
                             len([f for f in ip if f.proto == 2])))


if __name__ == "__main__":
    vpn.main(test, "wan_carries_only_esp")
