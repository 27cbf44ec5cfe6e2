# SPDX-License-Identifier: BSD-3-Clause
"""
What crossed the LAN, read from tcpdump's pcap files: frames with their
capture time, and IGMP messages decoded here, by the test's own code
(RFC 3376 4, RFC 2236 2), so that ivgmpd's codec is never checked against
itself.
"""

import dataclasses
import socket
import struct
from typing import List, Optional, Tuple

ETH_P_IP = 0x0800
ETH_P_8021Q = 0x8100
IPPROTO_IGMP = 2

IGMP_QUERY = 0x11
IGMP_V1_REPORT = 0x12
IGMP_V2_REPORT = 0x16
IGMP_V2_LEAVE = 0x17
IGMP_V3_REPORT = 0x22

# Group record types, RFC 3376 4.2.12.
RECORD_NAMES = {1: "IS_IN", 2: "IS_EX", 3: "TO_IN", 4: "TO_EX", 5: "ALLOW", 6: "BLOCK"}


def read_pcap(path: str) -> List[Tuple[float, bytes]]:
    """(capture time in seconds since the epoch, frame) for each frame of a
    classic pcap file, microsecond or nanosecond, either byte order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic_le = struct.unpack("<I", data[:4])[0]
    table = {0xA1B2C3D4: ("<", 1e-6), 0xA1B23C4D: ("<", 1e-9),
             0xD4C3B2A1: (">", 1e-6), 0x4D3CB2A1: (">", 1e-9)}
    if magic_le not in table:
        raise ValueError("%s: not a pcap file" % path)
    endian, unit = table[magic_le]
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append((sec + frac * unit, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return frames


def internet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def code_decode(code: int) -> int:
    """RFC 3376 4.1.1 / 4.1.7: Max Resp Code (tenths) and QQIC."""
    if code < 128:
        return code
    return ((code & 0x0F) | 0x10) << (((code >> 4) & 0x07) + 3)


@dataclasses.dataclass
class Record:
    type: int
    group: str
    sources: List[str]

    @property
    def name(self) -> str:
        return RECORD_NAMES.get(self.type, "type%d" % self.type)


@dataclasses.dataclass
class Igmp:
    """One IGMP message as it was on the wire."""
    time: float
    eth_src: str
    ip_src: str
    ip_dst: str
    ttl: int
    router_alert: bool
    checksum_ok: bool
    type: int
    max_resp_ms: int = 0          # queries
    group: str = "0.0.0.0"        # queries, v1/v2 reports and leaves
    version: int = 0              # queries: 1, 2 or 3 (RFC 3376 7.1)
    suppress: bool = False        # v3 queries
    qrv: int = 0
    qqi_s: int = 0
    sources: List[str] = dataclasses.field(default_factory=list)
    records: List[Record] = dataclasses.field(default_factory=list)

    @property
    def is_general_query(self) -> bool:
        return self.type == IGMP_QUERY and self.group == "0.0.0.0"

    def describe(self) -> str:
        if self.type == IGMP_QUERY:
            what = "v%d query %s maxresp %d ms%s%s" % (
                self.version, "general" if self.is_general_query else self.group,
                self.max_resp_ms, " S" if self.suppress else "",
                " sources %s" % self.sources if self.sources else "")
        elif self.type == IGMP_V3_REPORT:
            what = "v3 report " + " ".join("%s(%s%s)" % (r.name, r.group, ":" + ",".join(r.sources)
                                                          if r.sources else "")
                                           for r in self.records)
        elif self.type == IGMP_V2_REPORT:
            what = "v2 report %s" % self.group
        elif self.type == IGMP_V2_LEAVE:
            what = "v2 leave %s" % self.group
        else:
            what = "type 0x%02x %s" % (self.type, self.group)
        return "%s -> %s %s" % (self.ip_src, self.ip_dst, what)


def _addr(b: bytes) -> str:
    return socket.inet_ntoa(b)


def parse_igmp(time: float, frame: bytes) -> Optional[Igmp]:
    """The IGMP message in an Ethernet frame, or None when there is none."""
    off = 12
    ethertype = struct.unpack("!H", frame[off:off + 2])[0]
    if ethertype == ETH_P_8021Q:
        off += 4
        ethertype = struct.unpack("!H", frame[off:off + 2])[0]
    off += 2
    if ethertype != ETH_P_IP or len(frame) < off + 20:
        return None
    ip = frame[off:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[0] >> 4 != 4 or ip[9] != IPPROTO_IGMP or total > len(ip) or total < ihl + 8:
        return None
    options = ip[20:ihl]
    msg = ip[ihl:total]
    m = Igmp(time=time, eth_src=":".join("%02x" % b for b in frame[6:12]),
             ip_src=_addr(ip[12:16]), ip_dst=_addr(ip[16:20]), ttl=ip[8],
             router_alert=b"\x94\x04\x00\x00" in options,
             checksum_ok=internet_checksum(msg) == 0, type=msg[0])
    if m.type == IGMP_QUERY:
        m.group = _addr(msg[4:8])
        if len(msg) == 8:
            m.version = 1 if msg[1] == 0 else 2
            m.max_resp_ms = msg[1] * 100
        else:
            m.version = 3
            m.max_resp_ms = code_decode(msg[1]) * 100
            m.suppress = bool(msg[8] & 0x08)
            m.qrv = msg[8] & 0x07
            m.qqi_s = code_decode(msg[9])
            n = struct.unpack("!H", msg[10:12])[0]
            m.sources = [_addr(msg[12 + 4 * i:16 + 4 * i]) for i in range(n)]
    elif m.type in (IGMP_V1_REPORT, IGMP_V2_REPORT, IGMP_V2_LEAVE):
        m.group = _addr(msg[4:8])
    elif m.type == IGMP_V3_REPORT:
        n = struct.unpack("!H", msg[6:8])[0]
        at = 8
        for _ in range(n):
            rtype, aux, nsrc = struct.unpack("!BBH", msg[at:at + 4])
            group = _addr(msg[at + 4:at + 8])
            sources = [_addr(msg[at + 8 + 4 * i:at + 12 + 4 * i]) for i in range(nsrc)]
            m.records.append(Record(rtype, group, sources))
            at += 8 + 4 * nsrc + 4 * aux
    return m


def igmp_messages(path: str) -> List[Igmp]:
    return [m for m in (parse_igmp(t, f) for t, f in read_pcap(path)) if m is not None]
