#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Traffic from remote sites reaches the LAN only as the LAN's IGMP state
wants it (RFC 3376 6.3: INCLUDE forwards the listed sources, EXCLUDE all but
the sources whose timers ran out).

The remote site is played from the WAN peer namespace: scapy builds ESP
tunnel packets (AES-GCM-128, plain ESP, protocol 50) as the remote site
10.200.1.254 would send them to the device's wan-address, each carrying a
UDP datagram from a remote source S1 = 10.80.0.21 or S2 = 10.80.0.22 to a
group, port 5005, inner TTL 16, with a numbered payload. They are written
raw (AF_PACKET) on the veth facing ivgmpd's WAN port, to that port's MAC.
The configuration has the inbound SA and no "group ... receive" line: IGMP
alone decides. Scenarios:

  1. h1 joins G1 = 239.5.5.5 for any source (EXCLUDE {}): S1's and S2's
     datagrams all reach the LAN, in order, TTL 15.
  2. h2 joins (S1, 232.5.5.5) (INCLUDE {S1}): S1's only; inner_drop_not_wanted
     counts S2's.
  3. h1 joins 239.6.6.6 for any source, then IP_BLOCK_SOURCE S2 (its kernel
     sends BLOCK / TO_EX with S2): once the group-and-source-specific queries
     went unanswered (LMQT), /ivgmp/igmp has S2 as an excluded source, timer
     0, and S1's only reach the LAN.
  4. G3 = 239.7.7.7, no member: nothing reaches the LAN, all counted.
  5. h2 leaves (S1, 232.5.5.5): after LMQT the group is gone and S1's no
     longer reach the LAN.

What reached the LAN is read in two places: the capture on the bridge port
facing the device (what ivgmpd sent; decisive, because a host kernel filters
by its own source filter, so a socket alone would not see a device that
forwards too much) and a UDP socket bound to the group and port in the
joined host's namespace (what a real receiver gets, with its TTL).
"""

import socket
import struct
import sys
import time

import rig as r
import wire

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP, SecurityAssociation
except ImportError:
    print("skipped: scapy missing (run with /usr/bin/python3, install python3-scapy)")
    sys.exit(r.SKIP)

G1 = "239.5.5.5"            # any-source join (h1)
G_SSM = "232.5.5.5"         # source-specific join of S1 (h2)
G2 = "239.6.6.6"            # any-source join, then S2 blocked (h1)
G3 = "239.7.7.7"            # no member
S1 = "10.80.0.21"           # sources on the remote site's LAN
S2 = "10.80.0.22"
PORT = 5005
INNER_TTL = 16
PER_SOURCE = 5              # datagrams per source and scenario
GAP = 0.005                 # seconds between ESP packets
SPI_IN = 0x2001
KEYMAT_IN = bytes((0x40 + 7 * i) & 0xFF for i in range(20))     # key (16) || salt (4)
WAN_PEER_MAC = "02:00:00:00:00:fe"

IP_RECVTTL = 12             # linux/in.h
IP_TTL_CMSG = 2             # IP_TTL, the cmsg type IP_RECVTTL delivers
IP_BLOCK_SOURCE = 38


def ifmac(ns, ifname):
    """An interface's MAC: af_packet ports take their veth's."""
    return ns.run("cat", "/sys/class/net/%s/address" % ifname).stdout.strip()


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class RemoteSite:
    """The remote site on the WAN: scapy's ESP, sent raw from the WAN peer
    namespace to ivgmpd's WAN port."""

    def __init__(self, site):
        self.site = site
        self.dst_mac = ifmac(site.dev_ns, site.dev_wan_if)
        self.sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEYMAT_IN,
                                      tunnel_header=IP(src=site.remote_address,
                                                       dst=site.wan_address))
        self.seq = 0
        self.sock = site.wan_ns.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.sock.bind((site.wan_peer_if, 0))
        self.sent = 0

    def frame(self, source, group, payload):
        inner = bytes(IP(src=source, dst=group, ttl=INNER_TTL, id=self.seq & 0xFFFF) /
                      UDP(sport=40000, dport=PORT) / payload)
        self.seq += 1
        enc = self.sa.encrypt(IP(inner), seq_num=self.seq)
        check = self.sa.decrypt(IP(bytes(enc)))
        if bytes(check) != inner:
            raise r.RigError("scapy does not round-trip its own ESP")
        eth = mac_bytes(self.dst_mac) + mac_bytes(WAN_PEER_MAC) + b"\x08\x00"
        return eth + bytes(enc)

    def send(self, plan):
        """plan: [(source, group, payload)], sent GAP apart."""
        for i, (source, group, payload) in enumerate(plan):
            if i:
                time.sleep(GAP)
            self.sock.send(self.frame(source, group, payload))
            self.sent += 1

    def close(self):
        self.sock.close()


class Receiver:
    """A UDP socket in a host's namespace bound to (group, PORT): what a real
    application on the host gets, with the TTL of each datagram."""

    def __init__(self, host, group):
        self.host = host
        self.group = group
        s = host.ns.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        s.bind((group, PORT))
        s.setblocking(False)
        self.sock = s

    def drain(self):
        got = []
        while True:
            try:
                data, anc, _, addr = self.sock.recvmsg(2048, 64)
            except BlockingIOError:
                return got
            ttl = None
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == IP_TTL_CMSG:
                    ttl = struct.unpack("i", value[:4])[0]
            got.append((addr[0], data, ttl))

    def close(self):
        self.sock.close()


def lan_udp(cap, device_mac):
    """UDP to PORT that the device sent on the LAN, from the capture:
    [(time, ip src, ip dst, ttl, ip checksum ok, payload)]."""
    out = []
    for t, f in wire.read_pcap(cap.path):
        if len(f) < 42 or f[6:12] != mac_bytes(device_mac) or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 17 or total > len(ip):
            continue
        udp = ip[ihl:total]
        if struct.unpack("!H", udp[2:4])[0] != PORT:
            continue
        out.append((t, socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), ip[8],
                    wire.internet_checksum(ip[:ihl]) == 0, bytes(udp[8:])))
    return out


def payload(scenario, tag, i):
    return (b"ivgmp-e2e sc%d %s #%02d " % (scenario, tag.encode(), i)).ljust(64, b".")


def label(p):
    return p[10:22].decode(errors="replace").strip()


def interleaved(scenario, group, sources):
    """S1 #0, S2 #0, S1 #1, ...: [(source, group, payload)]."""
    plan = []
    for i in range(PER_SOURCE):
        for tag, src in sources:
            plan.append((src, group, payload(scenario, tag, i)))
    return plan


STAT_KEYS = ("wan_rx_packets", "esp_in_packets", "inner_drop_not_wanted", "lan_tx_packets",
             "esp_in_drop_unknown_spi", "esp_in_drop_icv_fail", "esp_in_drop_replay",
             "wan_drop_not_for_us", "inner_drop_ttl_expired", "inner_drop_malformed")


class Scenario:
    """One burst of remote traffic and what it left on the LAN."""

    def __init__(self, ctx, n, group, sources, receiver=None):
        self.ctx = ctx
        self.n = n
        self.group = group
        self.plan = interleaved(n, group, sources)
        self.receiver = receiver

    def run(self):
        ctx = self.ctx
        dev = ctx.site.device
        before = dev.stats()
        if self.receiver:
            self.receiver.drain()
        wire_before = len(lan_udp(ctx.cap, ctx.lan_mac))
        ctx.remote.send(self.plan)
        sent = len(self.plan)
        decrypted, _ = r.wait_until(
            lambda: dev.stats()["esp_in_packets"] - before["esp_in_packets"] >= sent, 3)
        time.sleep(0.4)     # LAN transmit, the capture's buffer, the host's socket
        after = dev.stats()
        self.delta = {k: after.get(k, 0) - before.get(k, 0) for k in STAT_KEYS}
        self.on_wire = [w for w in lan_udp(ctx.cap, ctx.lan_mac)[wire_before:]
                        if w[2] == self.group]
        self.at_socket = self.receiver.drain() if self.receiver else []
        chk = ctx.chk
        print("    sent %d ESP packets (group %s): %s" % (
            sent, self.group, " ".join(label(p) for _, _, p in self.plan)))
        print("    on the LAN wire (from the device) %d: %s" % (
            len(self.on_wire), " ".join("%s/ttl%d" % (label(w[5]), w[3]) for w in self.on_wire)
            or "-"))
        if self.receiver:
            print("    at %s's socket on %s:%d %d: %s" % (
                self.receiver.host.name, self.group, PORT, len(self.at_socket),
                " ".join("%s/ttl%s" % (label(p), ttl) for _, p, ttl in self.at_socket) or "-"))
        print("    counters: %s" % ", ".join("%s +%d" % kv for kv in self.delta.items() if kv[1]))
        chk.check(bool(decrypted), "the device decrypted the %d ESP packets (esp_in_packets +%d)"
                  % (sent, self.delta["esp_in_packets"]))
        return self

    def expect(self, wanted_sources):
        """The datagrams of wanted_sources, in the order sent, on the wire
        and at the socket; the others counted as not wanted."""
        chk = self.ctx.chk
        want = [(s, p) for s, _, p in self.plan if s in wanted_sources]
        unwanted = len(self.plan) - len(want)
        names = "+".join(self.ctx.tag(s) for s in wanted_sources) or "none"
        chk.equal([(w[1], label(w[5])) for w in self.on_wire], [(s, label(p)) for s, p in want],
                  "sc%d: datagrams on the LAN wire (%s, in order)" % (self.n, names))
        if self.on_wire:
            chk.check(all(w[3] == INNER_TTL - 1 for w in self.on_wire),
                      "sc%d: TTL on the wire %d (sent %d)" % (self.n, INNER_TTL - 1, INNER_TTL),
                      "got %s" % sorted({w[3] for w in self.on_wire}))
            chk.check(all(w[4] for w in self.on_wire),
                      "sc%d: IPv4 header checksums valid after the TTL change" % self.n)
            sent = {label(p): p for _, _, p in self.plan}
            chk.check(all(w[5] == sent.get(label(w[5])) for w in self.on_wire),
                      "sc%d: payloads unchanged" % self.n)
        if self.receiver:
            chk.equal([(s, label(p)) for s, p, _ in self.at_socket],
                      [(s, label(p)) for s, p in want],
                      "sc%d: datagrams at %s's socket (%s, in order)"
                      % (self.n, self.receiver.host.name, names))
            if self.at_socket:
                chk.check(all(ttl == INNER_TTL - 1 for _, _, ttl in self.at_socket),
                          "sc%d: TTL at the socket %d" % (self.n, INNER_TTL - 1),
                          "got %s" % sorted({ttl for _, _, ttl in self.at_socket}))
        chk.equal(self.delta["inner_drop_not_wanted"], unwanted,
                  "sc%d: inner_drop_not_wanted increase" % self.n)
        chk.equal(self.delta["lan_tx_packets"], len(want), "sc%d: lan_tx_packets increase" % self.n)


class Context:
    def __init__(self, site, chk, cap, remote):
        self.site = site
        self.chk = chk
        self.cap = cap
        self.remote = remote
        self.lan_mac = ifmac(site.dev_ns, site.dev_lan_if)

    @staticmethod
    def tag(source):
        return {S1: "S1", S2: "S2"}.get(source, source)


def show_group(chk, dev, group):
    state = dev.igmp_groups().get(group)
    chk.measured("/ivgmp/igmp %s" % group, state)
    return state


def test(rig, chk, args):
    key_hex = KEYMAT_IN.hex()
    remote_addr = "10.200.1.254"        # LanSite's remote_address at index 1
    vpn = ["site remote " + remote_addr,
           "sa out remote spi 0x1001 aes-gcm-128 key 0x" + bytes(range(1, 21)).hex(),
           "sa in remote spi 0x%x aes-gcm-128 key 0x%s" % (SPI_IN, key_hex)]
    site = r.LanSite(rig, args.ivgmpd, vpn=vpn)
    if site.remote_address != remote_addr:
        raise r.RigError("LanSite's remote address is %s" % site.remote_address)
    for h in site.hosts.values():
        # Remote sources have no route back in a host namespace: no reverse
        # path filter may drop them (the root namespace's setting is inherited).
        h.ns.sysctl("net.ipv4.conf.all.rp_filter", 0)
        h.ns.sysctl("net.ipv4.conf.%s.rp_filter" % h.ifname, 0)
    cap = site.capture(name="lan", filter="igmp or (udp and port %d)" % PORT)
    site.start()
    dev, h1, h2 = site.device, site.hosts["h1"], site.hosts["h2"]
    remote = RemoteSite(site)
    ctx = Context(site, chk, cap, remote)
    print("  remote site %s (inbound SA spi 0x%x) -> device WAN %s, port MAC %s; "
          "device LAN MAC %s; S1 %s, S2 %s"
          % (site.remote_address, SPI_IN, site.wan_address, remote.dst_mac, ctx.lan_mac, S1, S2))
    both = [("S1", S1), ("S2", S2)]
    lmqt = site.lmqt

    # ------------------------------------------------------------------ 1
    chk.section("1. h1 joins %s any-source (EXCLUDE {}): S1 and S2 delivered" % G1)
    rx1 = Receiver(h1, G1)
    h1.join(G1)
    state, took = site.wait_igmp_group(G1)
    chk.measured("join -> %s in /ivgmp/igmp" % G1, took, "s")
    chk.check(bool(state) and state.get("filter_mode") == "exclude" and
              not state.get("source_timers_ms"),
              "/ivgmp/igmp %s: EXCLUDE, no source records" % G1, "got %s" % state)
    time.sleep(0.2)     # the forwarding snapshot follows the IGMP state
    sc1 = Scenario(ctx, 1, G1, both, rx1).run()
    sc1.expect({S1, S2})

    # ------------------------------------------------------------------ 2
    chk.section("2. h2 joins (%s, %s) (INCLUDE {S1}): S1 delivered, S2 not" % (S1, G_SSM))
    rx2 = Receiver(h2, G_SSM)
    ssm = h2.join_source(G_SSM, S1)
    state, took = site.wait_igmp_group(G_SSM)
    chk.measured("join -> %s in /ivgmp/igmp" % G_SSM, took, "s")
    chk.check(bool(state) and state.get("filter_mode") == "include" and
              sorted(state.get("source_timers_ms", {})) == [S1] and
              state["source_timers_ms"][S1] > 0,
              "/ivgmp/igmp %s: INCLUDE {S1}, timer running" % G_SSM, "got %s" % state)
    time.sleep(0.2)
    sc2 = Scenario(ctx, 2, G_SSM, both, rx2).run()
    sc2.expect({S1})

    # ------------------------------------------------------------------ 3
    chk.section("3. h1 joins %s any-source, then blocks S2 (EXCLUDE {S2}): S1 delivered, S2 not"
                % G2)
    rx3 = Receiver(h1, G2)
    m3 = h1.join(G2)
    state, took = site.wait_igmp_group(G2)
    chk.check(bool(state) and state.get("filter_mode") == "exclude",
              "/ivgmp/igmp %s: EXCLUDE after the any-source join" % G2, "got %s" % state)
    time.sleep(1.5)     # the kernel's retransmitted TO_EX({}) (1 s interval) out of the way
    q0 = dev.igmp()["tx_group_source_queries"]
    blocked_at = time.monotonic()
    m3.sock.setsockopt(socket.IPPROTO_IP, IP_BLOCK_SOURCE,
                       socket.inet_aton(G2) + socket.inet_aton(h1.addr) + socket.inet_aton(S2))
    seen_running = []

    def s2_excluded():
        g = dev.igmp_groups().get(G2) or {}
        timers = g.get("source_timers_ms", {})
        if S2 in timers and timers[S2] > 0 and not seen_running:
            seen_running.append((time.monotonic() - blocked_at, timers[S2]))
        if g.get("filter_mode") == "exclude" and timers.get(S2) == 0:
            return g
        return None
    state, took = r.wait_until(s2_excluded, lmqt + 5)
    if seen_running:
        chk.measured("S2 requested (timer running) first seen after the block", seen_running[0][0],
                     "s (timer %d ms)" % seen_running[0][1])
    chk.measured("block -> S2 excluded (timer 0) in /ivgmp/igmp", took, "s")
    show_group(chk, dev, G2)
    chk.check(state is not None, "/ivgmp/igmp %s: EXCLUDE with S2 excluded, timer 0" % G2,
              "got %s" % dev.igmp_groups().get(G2))
    if state is not None:
        chk.check(took >= lmqt - 0.1, "S2 excluded no sooner than LMQT (%.1f s) after the block"
                  % lmqt, "after %.3f s" % took)
        chk.equal(sorted(state.get("source_timers_ms", {})), [S2], "%s source records" % G2)
    chk.measured("tx_group_source_queries since the block",
                 dev.igmp()["tx_group_source_queries"] - q0)
    time.sleep(0.2)
    sc3 = Scenario(ctx, 3, G2, both, rx3).run()
    sc3.expect({S1})

    # ------------------------------------------------------------------ 4
    chk.section("4. no member for %s: nothing delivered" % G3)
    chk.check(G3 not in dev.igmp_groups(), "/ivgmp/igmp has no %s" % G3)
    sc4 = Scenario(ctx, 4, G3, both).run()
    sc4.expect(set())

    # ------------------------------------------------------------------ 5
    chk.section("5. h2 leaves (%s, %s): after LMQT S1 no longer delivered" % (S1, G_SSM))
    ssm.leave()
    gone, took = site.wait_igmp_group(G_SSM, timeout=lmqt + 3, present=False)
    chk.measured("leave -> %s gone from /ivgmp/igmp" % G_SSM, took, "s")
    chk.check(bool(gone), "%s gone from /ivgmp/igmp after the leave" % G_SSM,
              "got %s" % dev.igmp_groups().get(G_SSM))
    if gone:
        chk.check(took >= lmqt - 0.1, "gone no sooner than LMQT (%.1f s)" % lmqt,
                  "after %.3f s" % took)
    time.sleep(0.2)
    sc5 = Scenario(ctx, 5, G_SSM, both, rx2).run()
    sc5.expect(set())

    # ------------------------------------------------------------------ the wire's IGMP
    time.sleep(0.1)
    cap.stop()
    msgs = [m for m in cap.igmp() if m.group in (G2, G_SSM) or
            any(rec.group in (G2, G_SSM) for rec in m.records)]
    chk.section("IGMP on the LAN for %s and %s" % (G2, G_SSM))
    for m in msgs:
        print("    %7.3f %s" % (m.time - msgs[0].time, m.describe()))
    recs = [(m.ip_src, rec.name, rec.group, rec.sources) for m in msgs for rec in m.records]
    chk.check(any(src == h1.addr and grp == G2 and name in ("BLOCK", "TO_EX") and S2 in srcs
                  for src, name, grp, srcs in recs),
              "the wire has h1's BLOCK/TO_EX(%s: %s)" % (G2, S2))
    chk.check(any(m.type == 0x11 and m.group == G2 and m.sources == [S2] for m in msgs),
              "the wire has the device's Q(%s, {%s})" % (G2, S2))
    chk.check(any(m.type == 0x11 and m.group == G_SSM and m.sources == [S1] for m in msgs),
              "the wire has the device's Q(%s, {%s}) after h2's leave" % (G_SSM, S1))
    for x in (rx1, rx2, rx3):
        x.close()
    remote.close()


if __name__ == "__main__":
    r.main(test, "remote_traffic_follows_igmp_source_filters")
