#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Two workers share the traffic and never repeat an ESP sequence number.

ivgmpd runs with --workers 2 on net_af_packet ports with qpairs=2: each
port is two AF_PACKET sockets in one PACKET_FANOUT_HASH group, so the
kernel spreads flows over the two RX queues by its flow hash, as RSS would
on a NIC (doc/scaling.rst). The configuration is static: remote sites B and
C, an outbound and an inbound SA with each, groups 239.1.1.1-4 sent to both,
239.2.2.1 received.

  1. LAN -> WAN: h1, h2 and h3 send to the four groups at once (12 flows, a
     socket and a port each). /ivgmp/stats "workers" must show both workers
     receiving LAN packets and making ESP copies; the copies add up to
     2 x the datagrams, and each outbound SA's counter (/ivgmp/sa "seq")
     is exactly N = the datagrams sent, as its "packets". On the WAN
     (captured on the peer end of the WAN veth, which may miss a few under
     the burst), each SA's sequence numbers are unique (no repeat: the GCM
     nonce is never reused) and within 1..N; every captured copy decrypts
     with scapy (ICV good).
  2. WAN -> LAN: B and C send ESP (scapy, 30 packets each, interleaved) to
     239.2.2.1. Each peer's ESP is one flow (outer addresses), so each inbound
     SA is decrypted by one worker: all 60 reach the LAN, per SA 30 in
     /ivgmp/sa, and esp_in_drop_other_worker and esp_in_drop_replay stay 0.
"""

import socket
import struct
import sys
import threading
import time

import rig as r

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.utils import rdpcap
except ImportError:
    print("skipped: scapy missing (run with /usr/bin/python3, install python3-scapy)")
    sys.exit(r.SKIP)

GROUPS = ["239.1.1.%d" % i for i in range(1, 5)]
G_IN = "239.2.2.1"
PER_FLOW = 40                # datagrams per (host, group)
RATE = 200.0                 # per flow, per second
B, C = "10.200.1.2", "10.200.1.3"
WAN = "10.200.1.1"
SPI_OUT = {B: 0x2001, C: 0x2002}
SPI_IN = {B: 0x3001, C: 0x3002}
KEY_OUT = {B: bytes(range(1, 21)), C: bytes(range(21, 41))}        # key (16) || salt (4)
KEY_IN = {B: bytes(range(41, 61)), C: bytes(range(61, 81))}
IN_PER_PEER = 30
WAN_PEER_MAC = "02:00:00:00:00:fe"


def vpn_lines():
    lines = ["workers 1"]    # --workers 2 on the command line wins
    for name, addr in (("B", B), ("C", C)):
        lines += ["site %s %s" % (name, addr),
                  "sa out %s spi 0x%x aes-gcm-128 key 0x%s" % (name, SPI_OUT[addr],
                                                               KEY_OUT[addr].hex()),
                  "sa in %s spi 0x%x aes-gcm-128 key 0x%s" % (name, SPI_IN[addr],
                                                              KEY_IN[addr].hex())]
    lines += ["group %s send-to B C" % g for g in GROUPS]
    lines += ["group %s receive" % G_IN]
    return lines


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def send_lan(site):
    """Every host to every group at once, a thread per flow."""
    threads = []
    for h, host in enumerate(site.hosts.values()):
        for g, group in enumerate(GROUPS):
            t = threading.Thread(target=host.send,
                                 args=(group, PER_FLOW, RATE, 5000 + 10 * h + g))
            t.start()
            threads.append(t)
    for t in threads:
        t.join()
    return len(threads)


def esp_by_sa(path):
    """{(outer dst, spi): [(seq, wire bytes of the outer IP packet)]}"""
    out = {}
    for p in rdpcap(path):
        if IP not in p or p[IP].proto != 50:
            continue
        raw = bytes(p[IP])
        ihl = (raw[0] & 0x0F) * 4
        spi, seq = struct.unpack("!II", raw[ihl:ihl + 8])
        out.setdefault((p[IP].dst, spi), []).append((seq, raw))
    return out


def send_wan(site):
    dst_mac = site.dev_ns.run("cat", "/sys/class/net/%s/address" % site.dev_wan_if).stdout.strip()
    sock = site.wan_ns.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((site.wan_peer_if, 0))
    sas = {peer: SecurityAssociation(ESP, spi=SPI_IN[peer], crypt_algo="AES-GCM",
                                     crypt_key=KEY_IN[peer],
                                     tunnel_header=IP(src=peer, dst=WAN))
           for peer in (B, C)}
    eth = mac_bytes(dst_mac) + mac_bytes(WAN_PEER_MAC) + b"\x08\x00"
    try:
        for i in range(IN_PER_PEER):
            for k, peer in enumerate((B, C)):
                inner = IP(src="10.90.%d.21" % k, dst=G_IN, ttl=16) / UDP(sport=40000,
                                                                          dport=5005) / \
                    struct.pack("!I", i)
                sock.send(eth + bytes(sas[peer].encrypt(IP(bytes(inner)), seq_num=i + 1)))
                time.sleep(0.003)
    finally:
        sock.close()


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd, hosts=("h1", "h2", "h3"), v2_hosts=(),
                     vpn=vpn_lines(), workers=2, qpairs=2,
                     lcores="0@(0,1),1@(0,1),2@(0,1)")
    wan = r.Capture(rig, site.wan_ns, site.wan_peer_if, "wan", "esp")
    wan.start()
    site.start()
    info = site.device.query("/ivgmp/info")
    chk.equal(info.get("workers"), 2, "/ivgmp/info workers (--workers 2 over 'workers 1')")

    chk.section("LAN -> WAN: 12 flows from 3 hosts to 4 groups, 2 remote sites each")
    flows = send_lan(site)
    sent = flows * PER_FLOW
    want_copies = 2 * sent
    r.wait_until(lambda: site.device.stats().get("esp_out_copies", 0) >= want_copies, 5)
    time.sleep(0.3)
    stats = site.device.stats()
    workers = stats.get("workers", {})
    chk.equal(sorted(workers), ["worker_0", "worker_1"], "per-worker counters in /ivgmp/stats")
    for name in sorted(workers):
        w = workers[name]
        chk.measured("%s (lcore %s)" % (name, w.get("lcore")),
                     "lan_rx %d, esp_out_copies %d, wan_rx %d" %
                     (w.get("lan_rx_packets", 0), w.get("esp_out_copies", 0),
                      w.get("wan_rx_packets", 0)))
    for name in ("worker_0", "worker_1"):
        chk.check(workers.get(name, {}).get("esp_out_copies", 0) > 0,
                  "%s made ESP copies (the fanout gave it flows)" % name)
    chk.equal(stats.get("esp_out_copies"), want_copies, "ESP copies (2 sites x %d)" % sent)
    chk.equal(sum(w.get("esp_out_copies", 0) for w in workers.values()), want_copies,
              "per-worker copies add up")
    for counter in ("drop_no_mbuf", "esp_out_drop_sa_expired", "wan_drop_tx_full"):
        chk.equal(stats.get(counter), 0, counter)

    sa_table = site.device.query("/ivgmp/sa")
    for peer in (B, C):
        one = [v for v in sa_table.values()
               if v.get("direction") == "out" and v.get("spi") == SPI_OUT[peer]]
        # Every number the SA handed out went on a copy: none skipped, none twice.
        chk.equal((one[0].get("seq"), one[0].get("packets")) if one else None, (sent, sent),
                  "outbound SA to %s: (seq, packets)" % peer)

    wan.stop()
    by_sa = esp_by_sa(wan.path)
    for peer in (B, C):
        seqs = [s for s, _ in by_sa.get((peer, SPI_OUT[peer]), [])]
        missing = sorted(set(range(1, sent + 1)) - set(seqs))
        # The capture on the veth peer may lose a few under the burst (the
        # device counted them sent, above); what it has must be exact.
        chk.measured("ESP packets to %s captured" % peer,
                     "%d of %d (not captured: %s)" % (len(seqs), sent, missing[:12]))
        chk.check(len(seqs) >= sent * 95 // 100, "at least 95%% of the copies to %s captured" % peer)
        chk.equal(len(set(seqs)), len(seqs), "sequence numbers to %s unique" % peer)
        chk.check(all(1 <= s <= sent for s in seqs),
                  "sequence numbers to %s within 1..%d" % (peer, sent),
                  "out of range: %s" % sorted(s for s in seqs if not 1 <= s <= sent)[:10])
        sa = SecurityAssociation(ESP, spi=SPI_OUT[peer], crypt_algo="AES-GCM",
                                 crypt_key=KEY_OUT[peer], tunnel_header=IP(src=WAN, dst=peer))
        bad = 0
        for _, raw in by_sa.get((peer, SPI_OUT[peer]), []):
            try:
                sa.decrypt(IP(raw))
            except Exception:
                bad += 1
        chk.equal(bad, 0, "copies to %s that scapy cannot decrypt" % peer)

    chk.section("WAN -> LAN: B and C send %d ESP packets each" % IN_PER_PEER)
    lan = site.capture("lan-in", "udp and dst host %s" % G_IN)
    before = site.device.stats()
    send_wan(site)
    r.wait_until(lambda: site.device.stats().get("esp_in_packets", 0) -
                 before.get("esp_in_packets", 0) >= 2 * IN_PER_PEER, 5)
    time.sleep(0.2)
    after = site.device.stats()
    lan.stop()
    for name in sorted(after.get("workers", {})):
        w = after["workers"][name]
        chk.measured("%s" % name, "wan_rx %d, esp_in %d, lan_tx %d, other_worker %d" %
                     (w.get("wan_rx_packets", 0), w.get("esp_in_packets", 0),
                      w.get("lan_tx_packets", 0), w.get("esp_in_drop_other_worker", 0)))
    chk.equal(after.get("esp_in_packets", 0) - before.get("esp_in_packets", 0),
              2 * IN_PER_PEER, "ESP packets decrypted")
    chk.equal(after.get("esp_in_drop_other_worker"), 0, "esp_in_drop_other_worker")
    chk.equal(after.get("esp_in_drop_replay"), 0, "esp_in_drop_replay")
    sa_table = site.device.query("/ivgmp/sa")
    for peer in (B, C):
        one = [v for v in sa_table.values()
               if v.get("direction") == "in" and v.get("spi") == SPI_IN[peer]]
        chk.equal(one[0].get("packets") if one else None, IN_PER_PEER,
                  "inbound SA from %s: packets" % peer)
    delivered = len([p for p in rdpcap(lan.path) if IP in p and p[IP].dst == G_IN])
    chk.equal(delivered, 2 * IN_PER_PEER, "datagrams for %s on the LAN" % G_IN)
    site.device.stop()


if __name__ == "__main__":
    r.main(test, "two_workers_share_flows_and_keep_esp_numbers_unique")
