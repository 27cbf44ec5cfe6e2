# SPDX-License-Identifier: BSD-3-Clause
"""
The pcap test harness: ivgmpd runs on two net_pcap vdevs, reads its LAN and
WAN input from pcap files built here and writes what it sends to pcap files
read back here.

What it offers the tests (and later suites, IGMP and e2e, that want the same
pieces):

  Config, Site, SA, standard_config()   a site.conf, written from Python
  lan_udp() and the malformed-frame helpers   LAN frames, with their L3 bytes
  Peer                                  a remote site: scapy's own ESP, the
                                        independent implementation we talk to
  run_ivgmpd() -> Run                   one ivgmpd run: counters, SA report,
                                        LAN and WAN output frames
  parse_wan(), parse_lan()              the headers of what came out
  tshark_esp()                          Wireshark's decryption of ESP frames
  Checker, check_counters()             assertions that report and go on

Runs on /usr/bin/python3 (Debian's, which has scapy).
"""

import dataclasses
import ipaddress
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

SKIP = 77   # meson's exit code for a skipped test

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no IPv6 route chatter
try:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.layers.l2 import ARP, Dot1Q, Ether
except ImportError:
    # A machine without the tools skips the suite rather than failing it.
    print("skipped: scapy missing (run with /usr/bin/python3, install python3-scapy)")
    sys.exit(SKIP)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER_H = os.path.join(SOURCE_ROOT, "lib", "worker", "worker.h")

# Addresses every test shares. The LAN hosts and the WAN next hop are
# invented; ivgmpd only needs them to be consistent.
WAN_ADDRESS = "10.99.0.1"
NEXTHOP_MAC = "02:00:00:00:00:fe"
LAN_HOST_MAC = "02:00:00:00:01:0a"
LAN_HOST = "192.168.1.10"
# DPDK's net_pcap has no hardware address: it makes one up, 02:70:63:61:70
# ("\x02pcap") and the index of the vdev in the order the EAL created them.
# Our command line creates the LAN port first.
NET_PCAP_LAN_MAC = "02:70:63:61:70:00"
NET_PCAP_WAN_MAC = "02:70:63:61:70:01"

NATT_PORT = 4500
AEAD_KEY_LEN = {"aes-gcm-128": 16, "aes-gcm-256": 32}
SALT_LEN = 4
PERF_COUNTERS = {"busy_cycles", "busy_bursts", "busy_cycles_per_rx_packet"}


class HarnessError(Exception):
    """The harness could not do its part (not an ivgmpd verdict)."""


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def keymat(aead: str, seed: int) -> bytes:
    """Deterministic RFC 4106 keying material (key || 4-byte salt): runs can
    be replayed by hand, and every SA still gets its own key."""
    n = AEAD_KEY_LEN[aead] + SALT_LEN
    return bytes((seed * 37 + i * 11 + 5) & 0xFF for i in range(n))


@dataclasses.dataclass
class Site:
    name: str
    addr: str
    udp_encap: bool = False
    mac: Optional[str] = None      # else the config's wan-nexthop-mac

    def line(self) -> str:
        words = ["site", self.name, self.addr]
        if self.mac:
            words += ["mac", self.mac]
        if self.udp_encap:
            words.append("udp-encap")
        return " ".join(words)


@dataclasses.dataclass
class SA:
    direction: str                 # "out": we send to site; "in": site sends to us
    site: str
    spi: int
    aead: str
    keymat: bytes                  # key || salt
    esn: bool = False
    options: str = ""              # e.g. "lifetime-packets 5"

    def line(self) -> str:
        words = ["sa", self.direction, self.site, "spi", "0x%x" % self.spi,
                 self.aead, "key", "0x" + self.keymat.hex()]
        if self.esn:
            words.append("esn")
        if self.options:
            words.append(self.options)
        return " ".join(words)


@dataclasses.dataclass
class Config:
    sites: List[Site]
    sas: List[SA]
    send: List[tuple] = dataclasses.field(default_factory=list)     # (group, [site names]) per line
    receive: List[str] = dataclasses.field(default_factory=list)
    wan_address: str = WAN_ADDRESS
    nexthop_mac: str = NEXTHOP_MAC
    extra: List[str] = dataclasses.field(default_factory=list)      # raw lines (outer-ttl, ...)
    lan_port: str = "net_pcap0"
    wan_port: str = "net_pcap1"

    def text(self) -> str:
        lines = ["# written by test/pcap/pcap_harness.py",
                 "lan-port " + self.lan_port, "wan-port " + self.wan_port,
                 "wan-address " + self.wan_address,
                 "wan-nexthop-mac " + self.nexthop_mac]
        lines += self.extra
        lines += [s.line() for s in self.sites]
        lines += [sa.line() for sa in self.sas]
        lines += ["group %s send-to %s" % (g, " ".join(names)) for g, names in self.send]
        lines += ["group %s receive" % g for g in self.receive]
        return "\n".join(lines) + "\n"

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def sa(self, direction: str, site: str) -> SA:
        return next(sa for sa in self.sas if sa.direction == direction and sa.site == site)

    def site_mac(self, name: str) -> str:
        return self.site(name).mac or self.nexthop_mac

    def sites_of(self, group: str) -> List[str]:
        """The sites a LAN packet to group goes to; config lines add up."""
        names: List[str] = []
        for g, line_sites in self.send:
            if g == group:
                names += [n for n in line_sites if n not in names]
        return names

    def site_by_addr(self, addr: str) -> Optional[Site]:
        return next((s for s in self.sites if s.addr == addr), None)


def standard_config() -> Config:
    """Four remote sites covering both encapsulations and both key sizes:

         site  WAN address  encap   out SA            in SA
         B     10.99.0.2    ESP     0x1002 AES-128    0x2001 AES-128
         C     10.99.0.3    UDP     0x1003 AES-256    0x3001 AES-256
         D     10.99.0.4    ESP     0x1004 AES-256    0x4001 AES-256  (own MAC)
         E     10.99.0.5    UDP     0x1005 AES-128    0x5001 AES-128

    239.1.1.1 goes to B C D (over two lines, which add up), 239.2.2.2 to B E;
    239.9.9.9 and 239.200.7.9 are received (the latter's MAC loses the top
    bit of its second byte)."""
    sites = [Site("B", "10.99.0.2"),
             Site("C", "10.99.0.3", udp_encap=True),
             Site("D", "10.99.0.4", mac="02:00:00:00:00:d4"),
             Site("E", "10.99.0.5", udp_encap=True)]
    aeads = {"B": "aes-gcm-128", "C": "aes-gcm-256", "D": "aes-gcm-256", "E": "aes-gcm-128"}
    sas = []
    for i, s in enumerate(sites):
        n = i + 2
        sas.append(SA("out", s.name, 0x1000 + n, aeads[s.name], keymat(aeads[s.name], 2 * n)))
        sas.append(SA("in", s.name, n << 12 | 1, aeads[s.name], keymat(aeads[s.name], 2 * n + 1)))
    return Config(sites=sites, sas=sas,
                  send=[("239.1.1.1", ["B", "C"]), ("239.1.1.1", ["D"]),
                        ("239.2.2.2", ["B", "E"])],
                  receive=["239.9.9.9", "239.200.7.9"])


# --------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Frame:
    """A frame for an input pcap, what it is, and (when it is an IPv4 packet
    that might be forwarded) its exact L3 bytes: no L2 header, no padding."""
    raw: bytes
    note: str
    l3: Optional[bytes] = None
    group: Optional[str] = None


def ipv4_checksum(header: bytes) -> int:
    """RFC 791 header checksum, the checksum field read as zero. Our own, so
    that the tests do not trust ivgmpd's arithmetic to check ivgmpd."""
    h = bytearray(header)
    h[10:12] = b"\0\0"
    if len(h) % 2:
        h.append(0)
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_header_len(l3: bytes) -> int:
    return (l3[0] & 0x0F) * 4


def with_checksum(l3: bytes) -> bytes:
    """l3 with a correct header checksum."""
    ihl = ipv4_header_len(l3)
    return l3[:10] + struct.pack("!H", ipv4_checksum(l3[:ihl])) + l3[12:]


def mcast_mac(group: str) -> str:
    """RFC 1112 6.4: 01:00:5e and the low 23 bits of the group."""
    g = ipaddress.IPv4Address(group).packed
    return "01:00:5e:%02x:%02x:%02x" % (g[1] & 0x7F, g[2], g[3])


def filler(n: int, seed: int) -> bytes:
    """Payload bytes that differ from packet to packet, so that no copy can
    pass for another one."""
    return bytes((seed * 131 + i * 7 + (i >> 8)) & 0xFF for i in range(n))


def ipv4_udp(dst: str, ip_len: int, seed: int, src: str = LAN_HOST, ttl: int = 16,
             tos: int = 0, df: bool = False, options=None, ident: Optional[int] = None,
             sport: int = 5000, dport: int = 5001) -> bytes:
    """An IPv4/UDP packet of exactly ip_len bytes."""
    hdr = IP(src=src, dst=dst, ttl=ttl, tos=tos, flags="DF" if df else 0,
             id=seed if ident is None else ident, options=options or [])
    overhead = len(hdr) + 8
    if ip_len < overhead:
        raise HarnessError("ip_len %d < headers %d" % (ip_len, overhead))
    pkt = bytes(hdr / UDP(sport=sport, dport=dport) / filler(ip_len - overhead, seed))
    assert len(pkt) == ip_len
    return pkt


def ether(l3_or_payload: bytes, dst: str, src: str = LAN_HOST_MAC, vlan: Optional[int] = None,
          ethertype: int = 0x0800, pad: bytes = b"") -> bytes:
    """Ethernet (optionally 802.1Q) around some bytes, then any trailer
    (Ethernet padding) the receiver must ignore."""
    if vlan is None:
        l2 = Ether(dst=dst, src=src, type=ethertype)
    else:
        l2 = Ether(dst=dst, src=src, type=0x8100) / Dot1Q(vlan=vlan, type=ethertype)
    return bytes(l2) + l3_or_payload + pad


def lan_udp(group: str, ip_len: int, seed: int, vlan: Optional[int] = None,
            pad_to: int = 0, note: str = "", **ip_fields) -> Frame:
    """Multicast UDP from a LAN host to group; pad_to adds Ethernet padding
    (bytes that are not 0, so that a receiver using them shows)."""
    l3 = ipv4_udp(group, ip_len, seed, **ip_fields)
    l2_len = 14 if vlan is None else 18
    pad = b"\xee" * max(0, pad_to - l2_len - len(l3))
    raw = ether(l3, mcast_mac(group), vlan=vlan, pad=pad)
    return Frame(raw, note or "udp %s len %d" % (group, ip_len), l3, group)


def edit_ip_header(frame: Frame, note: str, edit, fix_checksum: bool = True) -> Frame:
    """A copy of an untagged frame with its IPv4 header changed by edit(bytearray);
    the checksum recomputed unless the edit is about the checksum."""
    l3 = bytearray(frame.l3)
    edit(l3)
    if fix_checksum:
        l3[10:12] = struct.pack("!H", ipv4_checksum(bytes(l3[:max(20, ipv4_header_len(l3))])))
    return Frame(frame.raw[:14] + bytes(l3) + frame.raw[14 + len(frame.l3):], note)


def bad_checksum(frame: Frame) -> Frame:
    def edit(h):
        h[10] ^= 0x5A
    return edit_ip_header(frame, "bad IPv4 checksum", edit, fix_checksum=False)


def bad_version(frame: Frame) -> Frame:
    def edit(h):
        h[0] = 0x60 | (h[0] & 0x0F)
    return edit_ip_header(frame, "IP version 6 in an IPv4 ethertype", edit)


def bad_ihl(frame: Frame) -> Frame:
    def edit(h):
        h[0] = 0x44
    return edit_ip_header(frame, "IHL 4", edit)


def bad_total_length(frame: Frame) -> Frame:
    def edit(h):
        struct.pack_into("!H", h, 2, len(h) + 40)
    return edit_ip_header(frame, "total length beyond the frame", edit)


def truncated_ip(frame: Frame, keep: int = 12) -> Frame:
    return Frame(frame.raw[:14 + keep], "IPv4 header cut after %d bytes" % keep)


def arp_request() -> Frame:
    raw = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=LAN_HOST_MAC) /
                ARP(psrc=LAN_HOST, pdst="192.168.1.1", hwsrc=LAN_HOST_MAC))
    return Frame(raw, "ARP request")


def ipv6_frame() -> Frame:
    raw = bytes(Ether(dst="33:33:00:00:00:01", src=LAN_HOST_MAC) /
                IPv6(src="fe80::1", dst="ff02::1") / UDP(sport=1, dport=2) / b"v6")
    return Frame(raw, "IPv6 multicast")


# --------------------------------------------------------------------------
# pcap files (written by hand: byte-exact, no scapy link-type guessing)
# --------------------------------------------------------------------------

def write_pcap(path: str, frames) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            raw = fr.raw if isinstance(fr, Frame) else bytes(fr)
            f.write(struct.pack("<IIII", 1, i, len(raw), len(raw)))
            f.write(raw)


def read_pcap(path: str) -> List[bytes]:
    """Frames of a classic pcap file (µs or ns, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise HarnessError("%s: no pcap header" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise HarnessError("%s: not a pcap file" % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


# --------------------------------------------------------------------------
# the remote sites
# --------------------------------------------------------------------------

class Peer:
    """A remote site, speaking ESP through scapy: an implementation
    independent of ivgmpd's, so both sides of every test are not the same
    code agreeing with itself."""

    def __init__(self, config: Config, site: str):
        self.config = config
        self.site = config.site(site)
        self.sa_in = config.sa("in", site)     # what this site sends us
        self.sa_out = config.sa("out", site)   # what we send this site

    def esp_frame(self, inner: bytes, seq: int, udp: Optional[bool] = None,
                  esn: Optional[bool] = None, esn_hi: int = 0, spi: Optional[int] = None,
                  outer_dst: Optional[str] = None) -> bytes:
        """The WAN frame carrying inner (exact bytes, any trailer included as
        TFC padding) under sequence number seq. udp, esn, spi and outer_dst
        override what the configuration says, to forge what a test needs."""
        sa = SecurityAssociation(
            ESP, spi=self.sa_in.spi if spi is None else spi, crypt_algo="AES-GCM",
            crypt_key=self.sa_in.keymat,
            tunnel_header=IP(src=self.site.addr, dst=outer_dst or self.config.wan_address),
            esn_en=self.sa_in.esn if esn is None else esn, esn=esn_hi)
        # Tunnel mode: the next header is 4 or 41 after the inner version.
        plain = sa.encrypt((IPv6 if inner[0] >> 4 == 6 else IP)(inner), seq_num=seq)
        esp = bytes(plain[ESP])
        self._self_check(sa, plain, inner)
        if self.site.udp_encap if udp is None else udp:
            # scapy 2.5's nat_t_header leaves UDP length 8: wrap the ESP
            # ourselves. RFC 3948: the UDP header is outside the ICV.
            return self.udp_frame(esp, outer_dst=outer_dst)
        return wan_ether(bytes(plain), self.config)

    def udp_frame(self, payload: bytes, dport: int = NATT_PORT,
                  outer_dst: Optional[str] = None) -> bytes:
        """UDP from this site's port 4500 (zero checksum, RFC 3948 2.1)."""
        return wan_ether(bytes(IP(src=self.site.addr, dst=outer_dst or self.config.wan_address) /
                               UDP(sport=NATT_PORT, dport=dport, chksum=0) / payload),
                         self.config)

    @staticmethod
    def _self_check(sa, encrypted, inner: bytes) -> None:
        # The test's expectations rest on scapy carrying inner untouched.
        got = bytes(sa.decrypt(encrypted.copy()))
        if got != inner:
            raise HarnessError("scapy changed the inner packet: %s != %s" % (got.hex(), inner.hex()))

    def decrypt(self, wan: "WanFrame", esn: Optional[bool] = None, esn_hi: int = 0) -> bytes:
        """Open what ivgmpd sent this site; raises scapy's IPSecIntegrityError
        when the ICV does not check out."""
        sa = SecurityAssociation(
            ESP, spi=self.sa_out.spi, crypt_algo="AES-GCM", crypt_key=self.sa_out.keymat,
            tunnel_header=IP(src=self.config.wan_address, dst=self.site.addr),
            esn_en=self.sa_out.esn if esn is None else esn, esn=esn_hi)
        # Rebuilt as plain ESP: scapy decrypts proto 50 only, and the UDP
        # header of ESP-in-UDP is not part of what ESP protects.
        pkt = IP(bytes(IP(src=wan.src, dst=wan.dst, proto=50) / ESP(wan.esp)))
        return bytes(sa.decrypt(pkt))


def wan_ether(l3: bytes, config: Config) -> bytes:
    """A WAN frame from our Internet router to ivgmpd's WAN port."""
    return ether(l3, dst=NET_PCAP_WAN_MAC, src=config.nexthop_mac)


def flip_bit(frame: bytes, offset: int, bit: int = 0) -> bytes:
    """frame with one bit changed; offset may count from the end (< 0)."""
    b = bytearray(frame)
    b[offset] ^= 1 << bit
    return bytes(b)


def router_forwarded(l3: bytes) -> bytes:
    """What a router forwards of l3: TTL one less, the checksum recomputed
    from scratch (not patched, as ivgmpd does)."""
    fwd = bytearray(l3)
    fwd[8] -= 1
    return with_checksum(bytes(fwd))


# --------------------------------------------------------------------------
# reading what ivgmpd sent
# --------------------------------------------------------------------------

@dataclasses.dataclass
class WanFrame:
    raw: bytes
    dst_mac: str
    src_mac: str
    ethertype: int
    ip: bytes = b""            # outer IPv4 header
    src: str = ""
    dst: str = ""
    ttl: int = 0
    tos: int = 0
    df: bool = False
    proto: int = 0
    total_len: int = 0
    udp: Optional[tuple] = None   # (sport, dport, length, checksum)
    esp: bytes = b""
    spi: int = 0
    seq: int = 0
    iv: bytes = b""

    @property
    def ip_checksum_ok(self) -> bool:
        return ipv4_checksum(self.ip) == struct.unpack("!H", self.ip[10:12])[0]


def mac_str(b: bytes) -> str:
    return ":".join("%02x" % x for x in b)


def parse_wan(raw: bytes) -> WanFrame:
    """Read an outer ESP frame by hand (no scapy guessing at UDP 4500)."""
    f = WanFrame(raw, mac_str(raw[0:6]), mac_str(raw[6:12]), struct.unpack("!H", raw[12:14])[0])
    if f.ethertype != 0x0800 or len(raw) < 34:
        return f
    l3 = raw[14:]
    ihl = ipv4_header_len(l3)
    f.ip = l3[:ihl]
    f.tos, f.total_len = l3[1], struct.unpack("!H", l3[2:4])[0]
    f.df = bool(l3[6] & 0x40)
    f.ttl, f.proto = l3[8], l3[9]
    f.src, f.dst = str(ipaddress.IPv4Address(l3[12:16])), str(ipaddress.IPv4Address(l3[16:20]))
    rest = l3[ihl:f.total_len]
    if f.proto == 17 and len(rest) >= 8:
        f.udp = struct.unpack("!HHHH", rest[:8])
        rest = rest[8:]
    elif f.proto != 50:
        return f
    f.esp = rest
    if len(rest) >= 16:
        f.spi, f.seq = struct.unpack("!II", rest[:8])
        f.iv = rest[8:16]
    return f


@dataclasses.dataclass
class LanFrame:
    raw: bytes
    dst_mac: str
    src_mac: str
    ethertype: int
    l3: bytes


def parse_lan(raw: bytes) -> LanFrame:
    return LanFrame(raw, mac_str(raw[0:6]), mac_str(raw[6:12]),
                    struct.unpack("!H", raw[12:14])[0], raw[14:])


def ip_src(l3: bytes) -> str:
    return str(ipaddress.IPv4Address(l3[12:16]))


def ip_dst(l3: bytes) -> str:
    return str(ipaddress.IPv4Address(l3[16:20]))


def udp_payload(l3: bytes) -> bytes:
    """What follows the IPv4 header: a key that survives TTL and checksum
    rewrites, to match a packet out with the packet in."""
    return l3[ipv4_header_len(l3):]


# --------------------------------------------------------------------------
# running ivgmpd
# --------------------------------------------------------------------------

_run_number = 0


@dataclasses.dataclass
class Run:
    workdir: str
    command: List[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    counters: Dict[str, float]
    sas: Dict[int, dict]          # SPI -> the report line's fields
    lan_out: List[bytes]
    wan_out: List[bytes]

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    @property
    def lan_data(self) -> List[bytes]:
        """LAN frames other than IGMP: what the data path forwarded. IGMP
        that ivgmpd originates (queries) is the membership tests' business."""
        return [f for f in self.lan_out if not is_igmp(f)]


def is_igmp(frame: bytes) -> bool:
    l2 = 18 if frame[12:14] == b"\x81\x00" else 14
    return (len(frame) >= l2 + 20 and frame[l2 - 2:l2] == b"\x08\x00" and
            frame[l2 + 9] == 2)


def parse_report(stdout: str):
    """The exit report: `  name value` under "ivgmpd: counters", then one
    line per SA under "ivgmpd: security associations"."""
    counters, sas, section = {}, {}, None
    for line in stdout.splitlines():
        if line.startswith("ivgmpd: "):
            section = line[len("ivgmpd: "):]
            continue
        words = line.split()
        if section == "counters" and len(words) == 2:
            counters[words[0]] = float(words[1]) if "." in words[1] else int(words[1])
        elif section == "security associations" and len(words) >= 4 and words[1] == "spi":
            sa = {"direction": words[0], "spi": int(words[2], 16), "site": words[4]}
            for k, v in zip(words[5::2], words[6::2]):
                sa[k] = int(v)
            sas[sa["spi"]] = sa
    return counters, sas


# What AddressSanitizer, LeakSanitizer and UBSan print (test/sanitize.sh):
# any of it in a child's output fails the test, whatever its exit code.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_findings(text: str) -> List[str]:
    """The lines of a process's output that are sanitizer reports."""
    return [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKERS)]


def run_ivgmpd(binary: str, config: Config, lan_in, wan_in, workdir: str, tag: str,
               idle_exit_ms: int = 500, timeout: float = 60.0) -> Run:
    """Write the config and inputs into workdir, run ivgmpd to the end of
    both inputs, and read back what it reported and sent. Each run has its
    own EAL file prefix, so runs may go in parallel."""
    global _run_number
    _run_number += 1
    prefix = "ivgmp-pcap-%s-%d-%d" % (tag, os.getpid(), _run_number)
    os.makedirs(workdir, exist_ok=True)
    names = {k: os.path.join(workdir, k) for k in
             ("site.conf", "lan_in.pcap", "wan_in.pcap", "lan_out.pcap", "wan_out.pcap")}
    with open(names["site.conf"], "w") as f:
        f.write(config.text())
    write_pcap(names["lan_in.pcap"], lan_in)
    write_pcap(names["wan_in.pcap"], wan_in)
    for out in ("lan_out.pcap", "wan_out.pcap"):
        if os.path.exists(names[out]):
            os.unlink(names[out])
    cmd = [binary, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", prefix,
           "-l", "0,1", "--log-level=warning",
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (names["lan_in.pcap"], names["lan_out.pcap"]),
           "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (names["wan_in.pcap"], names["wan_out.pcap"]),
           "--", "--config", names["site.conf"], "--idle-exit", str(idle_exit_ms)]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("ivgmpd did not exit within %ss: %s" % (timeout, e))
    finally:
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0 or "ivgmpd: ready" not in proc.stdout or \
            sanitizer_findings(proc.stderr):
        raise HarnessError("ivgmpd failed (exit %d)\n--- stdout\n%s--- stderr\n%s"
                           % (proc.returncode, proc.stdout, proc.stderr))
    counters, sas = parse_report(proc.stdout)
    return Run(workdir, cmd, proc.returncode, proc.stdout, proc.stderr, seconds,
               counters, sas, read_pcap(names["lan_out.pcap"]), read_pcap(names["wan_out.pcap"]))


# --------------------------------------------------------------------------
# tshark
# --------------------------------------------------------------------------

TSHARK_GCM = "AES-GCM with 16 octet ICV [RFC4106]"


@dataclasses.dataclass
class TsharkEsp:
    frame: int                   # 1-based, as tshark counts
    spi: Optional[int]
    seq: Optional[int]
    icv_good: Optional[bool]     # None: tshark did not check it (no SA)
    decrypted: Optional[bytes]   # inner || padding || pad length || next header
    pad_len: Optional[int]
    next_header: Optional[int]

    @property
    def inner(self) -> Optional[bytes]:
        if self.decrypted is None or self.pad_len is None:
            return None
        return self.decrypted[:len(self.decrypted) - 2 - self.pad_len]


def tshark_sa_options(config: Config) -> List[str]:
    """One ESP SA table entry per non-ESN SA, in both directions."""
    opts = []
    for sa in config.sas:
        if sa.esn:
            continue   # tshark's table has no ESN column: scapy checks those
        site = config.site(sa.site).addr
        src, dst = (config.wan_address, site) if sa.direction == "out" else (site, config.wan_address)
        opts += ["-o", 'uat:esp_sa:"IPv4","%s","%s","0x%08x","%s","0x%s","NULL",""'
                 % (src, dst, sa.spi, TSHARK_GCM, sa.keymat.hex())]
    return opts


# Protocols tshark needs to reach and open ESP. Everything else is off: a
# dissector of the inner packet's payload (CPFI claims UDP 5000 and 5001) that
# throws on a test's filler bytes aborts the ESP tree before its ICV fields.
TSHARK_PROTOCOLS = {"frame", "eth", "ethertype", "vlan", "ip", "udp", "udpencap", "esp", "data"}
_tshark_disabled: List[str] = []


def tshark_disable_options() -> List[str]:
    if not _tshark_disabled:
        listing = subprocess.run(["tshark", "-G", "protocols"], capture_output=True,
                                 text=True, check=True).stdout
        names = [line.split("\t")[2] for line in listing.splitlines() if line.count("\t") >= 2]
        _tshark_disabled.extend(n for n in names if n not in TSHARK_PROTOCOLS)
    return [arg for n in _tshark_disabled for arg in ("--disable-protocol", n)]


def _field(value: str, conv):
    value = value.split(",")[0].strip()
    return conv(value) if value else None


def tshark_esp(pcap: str, config: Config) -> Dict[int, TsharkEsp]:
    """Wireshark's view of every ESP frame of pcap, decrypted and
    ICV-checked with the configuration's keys: an ESP implementation that is
    neither ivgmpd's nor scapy's."""
    fields = ["frame.number", "esp.spi", "esp.sequence", "esp.icv_good",
              "esp.decrypted_data", "esp.pad_len", "esp.protocol"]
    cmd = ["tshark", "-n", "-r", pcap,
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE"] + tshark_sa_options(config) + \
          tshark_disable_options() + ["-Y", "esp", "-T", "fields", "-E", "header=n", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HarnessError("tshark failed: %s" % proc.stderr)
    out = {}
    for line in proc.stdout.splitlines():
        v = line.split("\t") + [""] * len(fields)
        view = TsharkEsp(
            frame=int(v[0]),
            spi=_field(v[1], lambda s: int(s, 16)),
            seq=_field(v[2], int),
            icv_good=_field(v[3], lambda s: s in ("1", "True")),
            decrypted=_field(v[4], lambda s: bytes.fromhex(s.replace(":", ""))),
            pad_len=_field(v[5], int),
            next_header=_field(v[6], lambda s: int(s, 0)))
        out[view.frame] = view
    return out


# --------------------------------------------------------------------------
# assertions
# --------------------------------------------------------------------------

class Checker:
    """Assertions that print what they saw and carry on, so that one run
    shows every difference; done() gives the exit code."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failures: List[str] = []
        self.bugs: List[str] = []
        print("== %s" % name)

    def section(self, title: str) -> None:
        print("-- %s" % title)

    def check(self, ok: bool, what: str, detail: str = "", bug: Optional[str] = None) -> bool:
        """bug: this assertion pins a known ivgmpd bug (named), so that its
        failure reads as that bug, not as a broken test."""
        if ok:
            self.passed += 1
            print("  ok    %s" % what)
            return True
        tag = "FAIL [ivgmpd bug: %s]" % bug if bug else "FAIL"
        print("  %s  %s%s" % (tag, what, ": " + detail if detail else ""))
        self.failures.append(what)
        if bug:
            self.bugs.append(bug)
        return False

    def equal(self, got, want, what: str, bug: Optional[str] = None) -> bool:
        if isinstance(want, (bytes, bytearray)):
            return self.check(got == want, "%s (%d bytes)" % (what, len(want)),
                              bytes_diff(got, want), bug=bug)
        return self.check(got == want, "%s == %s" % (what, short(want)),
                          "got %s" % short(got), bug=bug)

    def done(self, run_dir: Optional[str] = None) -> int:
        print("== %s: %d passed, %d failed" % (self.name, self.passed, len(self.failures)))
        for bug in sorted(set(self.bugs)):
            print("   known ivgmpd bug: %s" % bug)
        if self.failures and run_dir:
            print("   inputs and outputs kept in %s" % run_dir)
        return 1 if self.failures else 0


def bytes_diff(got, want) -> str:
    if got is None:
        return "got nothing"
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return "got %d bytes, first difference at offset %d\n      got  %s\n      want %s" % (
        len(got), at, got.hex(), want.hex())


def short(v, limit: int = 120) -> str:
    s = v.hex() if isinstance(v, (bytes, bytearray)) else repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def counter_names() -> List[str]:
    """The counters ivgmpd has, read from worker.h: an expectation naming
    a counter that does not exist is a broken test."""
    with open(WORKER_H) as f:
        return re.findall(r"^\s*X\((\w+)\)", f.read(), re.M)


def is_loss_counter(name: str) -> bool:
    """Counters that say a packet died or an error happened: a test must
    expect each that is not zero."""
    return any(w in name for w in ("drop", "error", "full", "limited"))


def check_counters(chk: Checker, counters: Dict[str, float], expected: Dict[str, int]) -> None:
    """Every counter in expected has its value, and every loss counter not
    in expected is zero. Other counters (performance, control plane) are
    shown, not judged: they are other tests' business."""
    known = set(counter_names())
    for name in expected:
        chk.check(name in known, "counter %s exists" % name)
    for name in sorted(set(expected) | {n for n in counters if is_loss_counter(n)}):
        chk.equal(counters.get(name, 0), expected.get(name, 0), "counter %s" % name)
    others = sorted(n for n in counters if n not in expected and not is_loss_counter(n))
    if others:
        print("  (not judged: %s)" % ", ".join("%s %s" % (n, counters[n]) for n in others))


# --------------------------------------------------------------------------
# test scaffolding
# --------------------------------------------------------------------------

def tools_missing() -> Optional[str]:
    if shutil.which("tshark") is None:
        return "tshark not installed"
    return None


def main(test, name: str) -> None:
    """Entry point of a test script: test(binary, workdir, checker) does the
    work. The work directory is removed when the test passes and kept, with
    its pcaps and config, when it fails."""
    if len(sys.argv) < 2:
        sys.exit("usage: %s IVGMPD" % sys.argv[0])
    binary = os.path.abspath(sys.argv[1])
    missing = tools_missing()
    if missing:
        print("skipped: " + missing)
        sys.exit(SKIP)
    workdir = tempfile.mkdtemp(prefix="ivgmp-%s-" % name)
    chk = Checker(name)
    start = time.monotonic()
    try:
        test(binary, workdir, chk)
    except HarnessError as e:
        chk.check(False, "harness", str(e))
    print("   took %.1f s" % (time.monotonic() - start))
    code = chk.done(workdir)
    if code == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(code)


# --------------------------------------------------------------------------
# IGMP: hosts' reports in, the device's queries out
# --------------------------------------------------------------------------

IGMP_ALL_HOSTS = "224.0.0.1"
IGMPV3_ROUTERS = "224.0.0.22"


def lan_igmpv3_report(host: str, host_mac: str, records, note: str = "") -> Frame:
    """An IGMPv3 membership report (RFC 3376 4.2) as a host sends it: to
    224.0.0.22, TTL 1, TOS 0xc0, IP Router Alert; built by scapy's own IGMPv3
    layer, checksums included. records: [(record type, group, [sources])]."""
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mr
    from scapy.layers.inet import IPOption_Router_Alert
    recs = [IGMPv3gr(rtype=rtype, maddr=group, srcaddrs=list(sources))
            for rtype, group, sources in records]
    l3 = bytes(IP(src=host, dst=IGMPV3_ROUTERS, ttl=1, tos=0xC0,
                  options=[IPOption_Router_Alert()]) /
               IGMPv3(type=0x22) / IGMPv3mr(records=recs))
    return Frame(ether(l3, mcast_mac(IGMPV3_ROUTERS), src=host_mac),
                 note or "IGMPv3 report from %s, %d records" % (host, len(recs)), l3)


def parse_membership(stdout: str) -> Dict[str, int]:
    """The exit report's "ivgmpd: membership" section: igmp_* counters,
    igmp_drop_<verdict> (frames the management lcore refused) and group_*."""
    out, section = {}, None
    for line in stdout.splitlines():
        if line.startswith("ivgmpd: "):
            section = line[len("ivgmpd: "):]
            continue
        words = line.split()
        if section == "membership" and len(words) == 2 and words[1].isdigit():
            out[words[0]] = int(words[1])
    return out


@dataclasses.dataclass
class TsharkIgmp:
    """Wireshark's reading of one IGMP frame."""
    frame: int
    time: float                  # the pcap timestamp, seconds
    eth_dst: str
    eth_src: str
    ip_src: str
    ip_dst: str
    ttl: int
    tos: int
    ip_options: List[int]        # option types, in order (148: Router Alert)
    ip_checksum_good: bool
    version: Optional[int]       # tshark's idea of the IGMP version
    type: Optional[int]
    checksum_good: bool
    max_resp: Optional[int]      # the raw Max Resp Code
    s: Optional[bool]
    qrv: Optional[int]
    qqic: Optional[int]
    num_src: Optional[int]
    group: Optional[str]         # Group Address of a query (first maddr)


def tshark_igmp(pcap: str) -> List[TsharkIgmp]:
    """Every IGMP frame of pcap as Wireshark's dissector reads it, with its
    IGMP checksum verified by Wireshark (igmp.checksum.status 1: good) and the
    IPv4 header checksum too."""
    fields = ["frame.number", "frame.time_epoch", "eth.dst", "eth.src", "ip.src", "ip.dst",
              "ip.ttl", "ip.dsfield", "ip.opt.type", "ip.checksum.status", "igmp.version",
              "igmp.type", "igmp.checksum.status", "igmp.max_resp", "igmp.s", "igmp.qrv",
              "igmp.qqic", "igmp.num_src", "igmp.maddr"]
    cmd = ["tshark", "-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-Y", "igmp",
           "-T", "fields", "-E", "header=n", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HarnessError("tshark failed: %s" % proc.stderr)

    def num(s):
        # Reports repeat per-record fields: the first occurrence is kept.
        s = s.split(",")[0]
        return int(s, 0) if s else None

    out = []
    for line in proc.stdout.splitlines():
        v = line.split("\t") + [""] * len(fields)
        out.append(TsharkIgmp(
            frame=int(v[0]), time=float(v[1]), eth_dst=v[2], eth_src=v[3], ip_src=v[4],
            ip_dst=v[5], ttl=int(v[6]), tos=int(v[7], 0),
            ip_options=[int(t, 0) for t in v[8].split(",") if t],
            ip_checksum_good=v[9] == "1", version=num(v[10]), type=num(v[11]),
            checksum_good=v[12] == "1", max_resp=num(v[13]),
            s=None if not v[14] else v[14] in ("1", "True"), qrv=num(v[15]),
            qqic=num(v[16]), num_src=num(v[17]),
            group=v[18].split(",")[0] if v[18] else None))
    return out
