# SPDX-License-Identifier: BSD-3-Clause
"""
Several sites and their VNOC, on top of rig.py:

  ns <run>-vnoc: vnocd over TLS on 10.251.0.1, a bridge <tag>mbr (the
                 management network) with one veth per site's device
                 namespace (<tag>m<site> there, 10.251.0.(10+index)/24):
                 ivgmpd reaches the VNOC through its namespace's kernel
                 (libcurl), its management plane, not through a DPDK port
  ns <run>-wan:  a bridge <tag>wbr joining every site's WAN port (the
                 peer ends of the devices' WAN veths, moved here from the
                 sites' own wan namespaces): the Internet between the sites

  Pki            a test CA, the VNOC's server certificate for its
                 management address, one client certificate per site
                 (CN = site id), made with the openssl CLI at test time
  Vnoc           the namespace, the management bridge, vnocd, its
                 accounting export and its database (read only)
  wan_join       the WAN bridge
  Stream, Listener   a numbered UDP stream from a host, and a socket on a
                 host that records what arrives, each in a thread
  Delivery       what a Listener got of a Stream: all of a window, byte for
                 byte, in order, once; latency
  ip_frames      IPv4 frames of a capture, decoded here
  VpnRig, Site   the whole VPN as a context manager: N sites (A, B, C by
                 default), vnocd with a policy, the WAN bridge, captures of
                 every LAN and the WAN, every site registered; the test
                 files of issue #5 are built on it
  main           r.main, skipped without openssl or sqlite3

The WAN next hop: ivgmpd sends every frame for a site the VNOC told it of to
'wan-nexthop-mac' (ivgmpd_state.c: vnoc_sites_fill), one MAC for all such
sites. The rig's 02:00:00:00:00:fe is a locally administered unicast address
that no interface owns and from which nothing is ever sent, so the WAN
bridge never learns it and floods each frame to all its other ports, like a
hub: every site gets every ESP frame and keeps those whose outer destination
is its own wan-address (the others are counted wan_drop_not_for_us). That
works for any number of sites; the peer's own port MAC would work for two
only, and ff:ff:ff:ff:ff:ff would work too but is not what a router gives.

Runs on /usr/bin/python3 as root; nothing here needs scapy.
"""

import contextlib
import csv
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Tuple

import rig as r
import wire

MGMT_PREFIX = "10.251.0"
VNOC_ADDRESS = MGMT_PREFIX + ".1"
VNOC_PORT = 8443
WAN_PREFIX = "10.250.0"


def vnocd_beside(ivgmpd: str) -> str:
    """build/app/vnocd/vnocd, next to build/app/ivgmpd/ivgmpd."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(ivgmpd))),
                        "vnocd", "vnocd")


# --------------------------------------------------------------------------
# PKI
# --------------------------------------------------------------------------

LEAF_CNF = """[req]
distinguished_name = dn
[dn]
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:%s
"""


class Pki:
    """A throw-away CA in the run's work dir: the VNOC's certificate for
    its management address, and a certificate per site, CN = site id."""

    def __init__(self, rig: r.Rig, server_ip: str):
        self.dir = rig.path("pki")
        os.makedirs(self.dir, exist_ok=True)
        self.cnf = os.path.join(self.dir, "leaf.cnf")
        with open(self.cnf, "w") as f:
            f.write(LEAF_CNF % server_ip)
        self.ca_cert = os.path.join(self.dir, "ca.crt")
        self.ca_key = os.path.join(self.dir, "ca.key")
        r.sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert, "-subj", "/CN=ivgmp-e2e-ca",
              "-days", "2"])
        self.server_cert, self.server_key = self.issue("vnoc", "vnoc", "server")
        self.sites: Dict[str, Tuple[str, str]] = {}

    def issue(self, filename: str, cn: str, kind: str) -> Tuple[str, str]:
        key = os.path.join(self.dir, filename + ".key")
        crt = os.path.join(self.dir, filename + ".crt")
        r.sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", key])
        r.sh(["openssl", "req", "-config", self.cnf, "-extensions", kind, "-new", "-key", key,
              "-subj", "/CN=" + cn, "-x509", "-CA", self.ca_cert, "-CAkey", self.ca_key,
              "-days", "2", "-out", crt])
        return crt, key

    def site(self, name: str) -> Tuple[str, str]:
        """(certificate, key) of site name, made on first use."""
        if name not in self.sites:
            self.sites[name] = self.issue("site-" + name, name, "client")
        return self.sites[name]


# --------------------------------------------------------------------------
# the VNOC
# --------------------------------------------------------------------------

class Vnoc:
    """vnocd over TLS in a namespace of its own, on a management bridge
    that reaches every device namespace."""

    def __init__(self, rig: r.Rig, binary: str, policy: str, port: int = VNOC_PORT,
                 extra: Optional[List[str]] = None):
        self.rig = rig
        self.binary = binary
        self.port = port
        self.extra = list(extra or [])
        self.ns = rig.netns("vnoc")
        self.pki = Pki(rig, VNOC_ADDRESS)
        self.db = rig.path("vnoc.db")
        self.policy_path = rig.path("vnoc-policy.conf")
        self.log_path = rig.path("vnocd.log")
        with open(self.policy_path, "w") as f:
            f.write(policy)
        self.bridge_if = rig.bridge(self.ns, "mbr", [])
        self.ns.run("ip", "addr", "add", VNOC_ADDRESS + "/24", "dev", self.bridge_if)
        self.proc: Optional[subprocess.Popen] = None
        self.url = "https://%s:%d/vnoc" % (VNOC_ADDRESS, port)
        self.addresses: Dict[str, str] = {}

    def attach(self, site_id: str, dev_ns: r.Netns, index: int) -> str:
        """A management veth from the device's namespace to the bridge;
        returns the device's management address."""
        code = "m" + site_id.lower()
        dev_if, port_if = self.rig.veth(dev_ns, code, self.ns, code + "p")
        addr = "%s.%d" % (MGMT_PREFIX, 10 + index)
        dev_ns.run("ip", "addr", "add", addr + "/24", "dev", dev_if)
        dev_ns.link_up(dev_if)
        self.ns.run("ip", "link", "set", port_if, "master", self.bridge_if)
        self.ns.link_up(port_if)
        self.addresses[site_id] = addr
        return addr

    def site_lines(self, site_id: str) -> List[str]:
        """The ivgmpd configuration lines of a site that the VNOC drives."""
        cert, key = self.pki.site(site_id)
        return ["site-id " + site_id, "vnoc-url " + self.url, "vnoc-ca " + self.pki.ca_cert,
                "vnoc-cert " + cert, "vnoc-key " + key]

    def check_policy(self) -> str:
        return r.sh([self.binary, "check-policy", self.policy_path]).stdout.strip()

    def start(self, timeout: float = 10.0) -> float:
        args = [self.binary, "--db", self.db, "--policy", self.policy_path,
                "--listen", VNOC_ADDRESS, "--port", str(self.port),
                "--cert", self.pki.server_cert, "--key", self.pki.server_key,
                "--client-ca", self.pki.ca_cert] + self.extra
        start = time.monotonic()
        log = open(self.log_path, "a")         # a restart appends
        log_start = len(self.log())
        self.proc = self.ns.spawn(args, stdout=subprocess.DEVNULL, stderr=log,
                                  stdin=subprocess.DEVNULL)
        log.close()

        # Its own log line, not a probe: a TCP connect that never speaks TLS
        # would be logged as a handshake error.
        def listening():
            return self.proc.poll() is not None or "listening on" in self.log()[log_start:]
        r.wait_until(listening, timeout, 0.05)
        if self.proc.poll() is not None:
            raise r.RigError("vnocd exited %s: %s\n%s" % (self.proc.returncode, " ".join(args),
                                                          self.log()))
        return time.monotonic() - start

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM, as an operator would (long polls answered, database
        closed); returns the exit status."""
        return None if self.proc is None else r.terminate(self.proc, timeout)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            with open(self.log_path) as f:
                return f.read()
        return ""

    def accounting(self) -> Tuple[str, List[dict]]:
        """`vnocd accounting --db DB`: (the CSV text, its rows as dicts)."""
        text = r.sh([self.binary, "accounting", "--db", self.db]).stdout
        return text, list(csv.DictReader(io.StringIO(text)))

    def sql(self, query: str) -> List[List[str]]:
        """The database, read only (WAL: vnocd keeps writing)."""
        out = r.sh(["sqlite3", "-readonly", self.db, query]).stdout
        return [line.split("|") for line in out.splitlines() if line]


def wan_join(rig: r.Rig, sites) -> Tuple[r.Netns, str]:
    """The sites' WAN ports on one bridge in namespace wan: each site's WAN
    peer veth leaves its own (now empty) wan namespace."""
    ns = rig.netns("wan")
    ports = []
    for site in sites:
        site.wan_ns.run("ip", "link", "set", site.wan_peer_if, "netns", ns.name)
        ports.append(site.wan_peer_if)
        site.wan_ns = ns
    return ns, rig.bridge(ns, "wbr", ports)


def ifmac(ns: r.Netns, ifname: str) -> str:
    return ns.run("cat", "/sys/class/net/%s/address" % ifname).stdout.strip()


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


# --------------------------------------------------------------------------
# traffic
# --------------------------------------------------------------------------

MARK = b"ivgmp-vpn-e2e"


def stream_payload(seq: int, size: int, tag: bytes = b"") -> bytes:
    """MARK #seq [tag] then bytes that depend on seq: every datagram of a
    stream differs from the others, and (with a tag) from other streams'."""
    head = b"%s #%06d %s" % (MARK, seq, tag + b" " if tag else b"")
    body = bytes((seq * 7 + i) & 0xFF for i in range(size - len(head)))
    return head + body


def payload_seq(data: bytes) -> Optional[int]:
    if not data.startswith(MARK + b" #"):
        return None
    try:
        return int(data[len(MARK) + 2:len(MARK) + 8])
    except ValueError:
        return None


class Stream:
    """A host sending numbered datagrams to group:port at rate per second,
    in a thread, until stop(). sent[seq] = (monotonic time, payload)."""

    def __init__(self, host: r.Host, group: str, port: int, rate: float, size: int = 200,
                 ttl: int = 8, tag: str = ""):
        self.host = host
        self.group = group
        self.port = port
        self.rate = rate
        self.size = size
        self.tag = tag.encode()
        self.sock = host.sender(ttl)
        self.sent: Dict[int, Tuple[float, float, bytes]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Stream":
        self._thread.start()
        return self

    def _run(self) -> None:
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            data = stream_payload(seq, self.size, self.tag)
            self.sock.sendto(data, (self.group, self.port))
            self.sent[seq] = (time.monotonic(), time.time(), data)
            seq += 1
            next_at += 1.0 / self.rate
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def count(self) -> int:
        return len(self.sent)

    @property
    def next_seq(self) -> int:
        """The sequence number the next datagram will carry."""
        return len(self.sent)

    def wait_sent(self, seq: int, timeout: float) -> bool:
        """Wait until datagram seq has been sent."""
        ok, _ = r.wait_until(lambda: len(self.sent) > seq, timeout, 0.02)
        return bool(ok)

    def first_time(self) -> Optional[float]:
        return self.sent[0][0] if self.sent else None

    def time_of(self, seq: int) -> Optional[float]:
        """Monotonic time datagram seq was sent."""
        return self.sent[seq][0] if seq in self.sent else None


class Listener:
    """A UDP socket bound to group:port in a host's namespace, read by a
    thread: got = [(monotonic time, wall time, source, payload)]."""

    def __init__(self, host: r.Host, group: str, port: int):
        self.host = host
        s = host.ns.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((group, port))
        s.settimeout(0.05)
        self.sock = s
        self.got: List[Tuple[float, float, str, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.got.append((time.monotonic(), time.time(), addr[0], data))

    def snapshot(self) -> List[Tuple[float, float, str, bytes]]:
        with self._lock:
            return list(self.got)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class CounterWatch:
    """Polls one ivgmpd counter every interval in a thread: samples =
    [(monotonic time, value)]."""

    def __init__(self, device: r.Ivgmpd, counter: str, interval: float = 0.05):
        self.device = device
        self.counter = counter
        self.interval = interval
        self.samples: List[Tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # A telemetry connection of its own: the main thread uses the other.
        tel = r.Telemetry(self.device.telemetry.path)
        try:
            while not self._stop.is_set():
                with contextlib.suppress(Exception):
                    v = int(tel.query("/ivgmp/stats").get(self.counter, 0))
                    self.samples.append((time.monotonic(), v))
                self._stop.wait(self.interval)
        finally:
            tel.close()

    def last_increase(self) -> Optional[float]:
        """The time of the last sample greater than the one before it."""
        last = None
        for (t0, v0), (t1, v1) in zip(self.samples, self.samples[1:]):
            if v1 > v0:
                last = t1
        return last

    def quiet_since(self, t: float) -> float:
        """Seconds since the last increase (or since t, if none after t)."""
        last = self.last_increase()
        return time.monotonic() - max(t, last or t)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


# --------------------------------------------------------------------------
# captures
# --------------------------------------------------------------------------

class IpFrame:
    """One IPv4 frame: its time, MACs, header fields, and what it carries."""

    def __init__(self, t: float, frame: bytes):
        self.time = t
        self.frame = frame
        self.eth_dst = frame[0:6]
        self.eth_src = frame[6:12]
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        self.ip = ip[:total]
        self.proto = ip[9]
        self.ttl = ip[8]
        self.src = socket.inet_ntoa(ip[12:16])
        self.dst = socket.inet_ntoa(ip[16:20])
        self.l4 = ip[ihl:total]

    @property
    def spi(self) -> Optional[int]:
        return struct.unpack("!I", self.l4[:4])[0] if self.proto == 50 else None

    @property
    def esp_seq(self) -> Optional[int]:
        return struct.unpack("!I", self.l4[4:8])[0] if self.proto == 50 else None

    def udp(self) -> Optional[Tuple[int, int, bytes]]:
        if self.proto != 17 or len(self.l4) < 8:
            return None
        sport, dport, length = struct.unpack("!HHH", self.l4[:6])
        return sport, dport, bytes(self.l4[8:length])


def ip_frames(path: str) -> List[IpFrame]:
    out = []
    if not os.path.exists(path):
        return out
    for t, f in wire.read_pcap(path):
        if len(f) >= 34 and f[12:14] == b"\x08\x00" and (f[14] >> 4) == 4:
            out.append(IpFrame(t, f))
    return out


# --------------------------------------------------------------------------
# deliveries
# --------------------------------------------------------------------------

class Delivery:
    """What one host's Listener got of one Stream (datagrams from the
    stream's host only), judged against what the stream sent.

    window (first seq, count): the datagrams the host must have got, all of
    them; without it, every datagram from the first one received to the
    last one sent `horizon` seconds before now."""

    def __init__(self, stream: Stream, listener: Listener,
                 window: Optional[Tuple[int, int]] = None, horizon: float = 0.3):
        self.stream = stream
        self.got = [x for x in listener.snapshot() if x[2] == stream.host.addr and
                    payload_seq(x[3]) is not None and stream.tag in x[3][:len(MARK) + 40]]
        self.seqs = [payload_seq(x[3]) for x in self.got]
        self.count = len(self.got)
        self.duplicates = self.count - len(set(self.seqs))
        self.in_order = self.seqs == sorted(self.seqs)
        sent = stream.sent
        self.identical = all(q in sent and sent[q][2] == x[3] for q, x in zip(self.seqs, self.got))
        self.first_seq = self.seqs[0] if self.seqs else None
        self.first_mono = self.got[0][0] if self.got else None
        self.first_wall = self.got[0][1] if self.got else None
        self.last_mono = self.got[-1][0] if self.got else None
        if window is not None:
            lo, n = window
            expected = range(lo, lo + n)
        elif self.first_seq is not None:
            until = time.monotonic() - horizon
            expected = [q for q in range(self.first_seq, stream.count()) if sent[q][0] < until]
        else:
            expected = []
        have = set(self.seqs)
        self.expected = len(expected)
        self.missing = [q for q in expected if q not in have]
        self.received = self.expected - len(self.missing)       # of those expected
        lat = sorted(x[0] - sent[q][0] for q, x in zip(self.seqs, self.got) if q in sent)
        self.latency_median = lat[len(lat) // 2] if lat else None
        self.latency_max = lat[-1] if lat else None

    def check(self, chk: r.Checker, who: str) -> bool:
        """Every expected datagram once, byte-identical, in order."""
        ok = chk.check(self.expected > 0 and not self.missing,
                       "%s: all %d expected datagrams received" % (who, self.expected),
                       "missing %d: %s" % (len(self.missing), self.missing[:20]))
        ok &= chk.check(self.identical, "%s: every datagram byte-identical to the one sent"
                        % who)
        ok &= chk.equal(self.duplicates, 0, "%s: duplicates" % who)
        ok &= chk.check(self.in_order, "%s: in order" % who,
                        "sequence %s" % self.seqs[:40])
        if self.latency_median is not None:
            chk.measured("%s: one-way latency median / max" % who, "%.1f / %.1f ms"
                         % (1000 * self.latency_median, 1000 * self.latency_max))
        return ok


# --------------------------------------------------------------------------
# a whole VPN: N sites, vnocd, the WAN, a policy
# --------------------------------------------------------------------------

POLICY_OPEN = """# written by vpn_rig.py: every site may send and receive 239/8 and 232/8
allow site * send 239.0.0.0/8
allow site * receive 239.0.0.0/8
allow site * send 232.0.0.0/8
allow site * receive 232.0.0.0/8
sa-mode 239.0.0.0/8 pairwise
sa-mode 232.0.0.0/8 pairwise
"""

# Each site's worker lcore polls without pause. With three sites or more on
# two CPUs, pinned workers would queue behind each other on one CPU; mapped
# to both CPUs, the kernel spreads them (and the main lcores, which sleep).
SPREAD_LCORES = "0@(0,1),1@(0,1)"

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY")

ROLE_NAMES = ("none", "receiver", "sender", "receiver+sender")


class Site:
    """One site of a VpnRig: its id ("A"), LanSite (lan), ivgmpd (device),
    hosts, addresses, MACs, the capture of its LAN (cap), and the device's
    VNOC client state."""

    def __init__(self, vr: "VpnRig", site_id: str, index: int, lan: r.LanSite, mgmt: str):
        self.vr = vr
        self.id = site_id
        self.index = index
        self.lan = lan
        self.device = lan.device
        self.hosts = lan.hosts
        self.wan_address = lan.wan_address
        self.mgmt_address = mgmt
        self.lan_mac = ""
        self.wan_mac = ""
        self.cap: Optional[r.Capture] = None

    def __repr__(self) -> str:
        return "site %s" % self.id

    def host(self, name: str = "h1") -> r.Host:
        return self.hosts[name]

    # The site's IGMP timers (rig.LanSite: RFC 3376 8.4, 8.7, 8.8).
    def timer(self, key: str) -> float:
        return self.lan.timer(key)

    @property
    def lmqt(self) -> float:
        return self.lan.lmqt

    @property
    def gmi(self) -> float:
        return self.lan.gmi

    def vnoc(self) -> dict:
        return self.device.vnoc()

    def vnoc_group(self, group: str) -> dict:
        return self.device.vnoc_group(group)

    def granted(self, group: str) -> str:
        return self.vnoc_group(group).get("granted", "none")

    def ready(self) -> bool:
        """Registered: the client's state is ready."""
        return self.device.running() and self.vnoc().get("state") == "ready"

    def summary(self) -> dict:
        v = self.vnoc()
        keys = ("state", "view_version", "remote_sites", "sas", "registrations", "joins",
                "leaves", "denials", "views_applied", "retries", "transport_failures", "faults",
                "backoff_ms", "last_error")
        return {k: v.get(k) for k in keys if k in v}

    def wait_granted(self, group: str, role: str, timeout: float):
        """(True, seconds) once /ivgmp/vnoc has group granted role, else (None, timeout)."""
        return r.wait_until(lambda: self.running_vnoc_group(group).get("granted") == role,
                            timeout, 0.02)

    def running_vnoc_group(self, group: str) -> dict:
        return self.vnoc_group(group) if self.device.running() else {}

    def start(self) -> float:
        return self.lan.start()

    def restart(self, pause: float = 0.0) -> float:
        """Stop ivgmpd (SIGTERM) and start it again, same configuration."""
        return self.device.restart(pause)

    # -- what crossed its LAN
    def lan_frames(self) -> List[IpFrame]:
        return ip_frames(self.cap.path) if self.cap else []

    def delivered(self, group: Optional[str] = None, source: Optional[str] = None,
                  after_wall: float = 0.0) -> List[IpFrame]:
        """UDP the device put on its LAN (source MAC the device's LAN port)."""
        mac = mac_bytes(self.lan_mac)
        return [f for f in self.lan_frames() if f.eth_src == mac and f.udp() and
                (group is None or f.dst == group) and (source is None or f.src == source) and
                f.time >= after_wall]

    def first_report(self, host: r.Host, group: str, after_wall: float = 0.0):
        """The first IGMP membership report (v1, v2 or v3) about group that
        host sent after after_wall (a wire.Igmp), or None."""
        for m in self.cap.igmp() if self.cap else []:
            if m.ip_src != host.addr or m.time < after_wall:
                continue
            if m.type in (wire.IGMP_V1_REPORT, wire.IGMP_V2_REPORT) and m.group == group:
                return m
            if m.type == wire.IGMP_V3_REPORT and any(rec.group == group for rec in m.records):
                return m
        return None


class VpnRig:
    """N sites (default A, B, C), vnocd over TLS with a policy, the WAN
    bridge joining the sites' WAN ports, captures of every LAN and of the
    WAN (and of the management network if asked), every site registered.

        with vpn.VpnRig(rig, chk, args) as vr:
            a, b, c = vr.sites
            listener = vr.listen(b.host(), G, PORT)
            stream = vr.stream(a.host(), G, PORT, rate=50)

    Site i (1-based) has LAN 10.(70+i).0.0/24, WAN address 10.250.0.i,
    management address 10.251.0.(10+i); the certificates are made for the
    run and vnocd draws the SA keys. Leaving the block (also by an
    exception) stops the streams, listeners and counter watches it made,
    and, when the test failed, prints vnocd's log and each client's state;
    the Rig (r.main) then ends the processes and removes the namespaces."""

    def __init__(self, rig: r.Rig, chk: r.Checker, args, sites=("A", "B", "C"),
                 policy: str = POLICY_OPEN, hosts=("h1",), site_hosts: Optional[dict] = None,
                 v2_hosts: Optional[dict] = None, timers: Optional[dict] = None,
                 vnoc_extra: Optional[List[str]] = None, extra: Optional[List[str]] = None,
                 lan_filter: str = "igmp or udp", wan_filter: str = "",
                 capture_mgmt: bool = False, lcores: str = SPREAD_LCORES):
        """site_hosts {"B": ("h1", "h2")} overrides hosts per site; v2_hosts
        {"B": ("h1",)} names the hosts forced to IGMPv2 (before any join);
        extra adds lines to every ivgmpd configuration; wan_filter "" captures
        every frame on the WAN."""
        self.rig = rig
        self.chk = chk
        self.args = args
        self.site_ids = list(sites)
        self.policy = policy
        self.hosts = hosts
        self.site_hosts = site_hosts or {}
        self.v2_hosts = v2_hosts or {}
        self.timers = timers
        self.vnoc_extra = vnoc_extra
        self.extra = extra or []
        self.lan_filter = lan_filter
        self.wan_filter = wan_filter
        self.capture_mgmt = capture_mgmt
        self.lcores = lcores
        self.sites: List[Site] = []
        self.by_id: Dict[str, Site] = {}
        self.vnoc: Optional[Vnoc] = None
        self.cap_wan: Optional[r.Capture] = None
        self.cap_mgmt: Optional[r.Capture] = None
        self.threads: list = []
        self.registered_after: Optional[float] = None

    def __getitem__(self, site_id: str) -> Site:
        return self.by_id[site_id]

    def __enter__(self) -> "VpnRig":
        try:
            self._build()
            self._start()
        except BaseException:
            self._close(True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._close(exc_type is not None)
        return False

    def _build(self) -> None:
        rig, args = self.rig, self.args
        vnocd_bin = vnocd_beside(args.ivgmpd)
        if not os.path.exists(vnocd_bin):
            raise r.RigError("no vnocd at %s" % vnocd_bin)
        # libcurl in ivgmpd would honour a proxy from the environment.
        for var in PROXY_VARIABLES:
            os.environ.pop(var, None)
        self.vnoc = Vnoc(rig, vnocd_bin, self.policy, extra=self.vnoc_extra)
        print("  vnocd check-policy: %s" % self.vnoc.check_policy())
        for i, sid in enumerate(self.site_ids, 1):
            lan = r.LanSite(rig, args.ivgmpd, site=sid.lower(), index=i,
                            hosts=self.site_hosts.get(sid, self.hosts),
                            v2_hosts=self.v2_hosts.get(sid, ()), vpn=[],
                            wan_address="%s.%d" % (WAN_PREFIX, i), timers=self.timers,
                            extra=self.vnoc.site_lines(sid) + self.extra, lcores=self.lcores)
            mgmt = self.vnoc.attach(sid, lan.dev_ns, i)
            site = Site(self, sid, i, lan, mgmt)
            self.sites.append(site)
            self.by_id[sid] = site
        self.wan_ns, self.wan_bridge = wan_join(rig, [s.lan for s in self.sites])
        for site in self.sites:
            for host in site.hosts.values():
                # Remote sources have no route back in a host's namespace.
                host.ns.sysctl("net.ipv4.conf.all.rp_filter", 0)
                host.ns.sysctl("net.ipv4.conf.%s.rp_filter" % host.ifname, 0)
        rig.settle()
        for site in self.sites:
            site.lan_mac = ifmac(site.lan.dev_ns, site.lan.dev_lan_if)
            site.wan_mac = ifmac(site.lan.dev_ns, site.lan.dev_wan_if)
        print("  vnoc: %s in %s, management bridge %s" % (self.vnoc.url, self.vnoc.ns,
                                                        self.vnoc.bridge_if))
        print("  wan: bridge %s in %s; next hop MAC 02:00:00:00:00:fe (owned by nobody: "
              "flooded)" % (self.wan_bridge, self.wan_ns))
        for site in self.sites:
            print("  site %s: LAN %s.0/24 (device %s, MAC %s), WAN %s (MAC %s), mgmt %s, hosts %s"
                  % (site.id, site.lan.subnet, site.lan.lan_address, site.lan_mac,
                     site.wan_address, site.wan_mac, site.mgmt_address,
                     ", ".join("%s %s v%d" % (h.name, h.addr, h.igmp_version)
                               for h in site.hosts.values())))
        for site in self.sites:
            site.cap = site.lan.capture(name="lan-" + site.id.lower(), filter=self.lan_filter)
        self.cap_wan = r.Capture(rig, self.wan_ns, self.wan_bridge, "wan",
                                 self.wan_filter).start()
        if self.capture_mgmt:
            self.cap_mgmt = r.Capture(rig, self.vnoc.ns, self.vnoc.bridge_if, "mgmt", "").start()

    def _start(self) -> None:
        took = self.vnoc.start()
        print("  vnocd listening after %.2f s" % took)
        for site in self.sites:
            site.start()
        ok, took = r.wait_until(lambda: all(s.ready() for s in self.sites), 15, 0.1)
        self.registered_after = took
        self.chk.measured("%d sites registered with the VNOC (TLS) after" % len(self.sites),
                          took, "s")
        if not self.chk.check(bool(ok), "every site registered (/ivgmp/vnoc state ready)",
                              "; ".join("%s %s" % (s.id, s.summary()) for s in self.sites)):
            raise r.RigError("the sites did not register with vnocd")

    def _close(self, failed: bool) -> None:
        for t in reversed(self.threads):
            with contextlib.suppress(Exception):
                t.stop()
        self.threads = []
        if (failed or self.chk.failures) and self.vnoc is not None:
            for site in self.sites:
                with contextlib.suppress(Exception):
                    if site.device.running():
                        print("  --- %s /ivgmp/vnoc: %s" % (site, site.summary()))
            print("  --- vnocd log (last lines)")
            print("\n".join("    " + line for line in self.vnoc.log().splitlines()[-40:]))

    # -- traffic, tracked so that the block's end stops it
    def stream(self, host: r.Host, group: str, port: int, rate: float, size: int = 200,
               tag: str = "") -> Stream:
        s = Stream(host, group, port, rate, size, tag=tag)
        self.threads.append(s)
        return s.start()

    def stream_to_members(self, sender: Site, receivers: List[Site], group: str, port: int,
                          rate: float, tag: str = ""):
        """The opening of most scenarios: a listener on each receiver's h1, a
        stream from the sender's h1 (its sender role granted first), the
        receivers' h1 joined. Returns (stream, {site id: Listener},
        {site id: membership}, ok), ok once every listener has a datagram
        (8 s at most); checking it is the caller's."""
        listeners = {s.id: self.listen(s.host(), group, port) for s in receivers}
        stream = self.stream(sender.host(), group, port, rate, tag=tag)
        sender.wait_granted(group, "sender", 5)
        members = {s.id: s.host().join(group) for s in receivers}
        ok, _ = r.wait_until(lambda: all(l.snapshot() for l in listeners.values()), 8)
        return stream, listeners, members, bool(ok)

    def listen(self, host: r.Host, group: str, port: int) -> Listener:
        listener = Listener(host, group, port)
        self.threads.append(listener)
        return listener

    def watch(self, device: r.Ivgmpd, counter: str, interval: float = 0.05) -> CounterWatch:
        w = CounterWatch(device, counter, interval)
        self.threads.append(w)
        return w

    # -- the WAN and the VNOC
    def wan_frames(self) -> List[IpFrame]:
        return ip_frames(self.cap_wan.path)

    def esp(self, src: Site, dst: Site, frames: Optional[List[IpFrame]] = None) -> List[IpFrame]:
        """ESP on the WAN from src's WAN address to dst's."""
        frames = self.wan_frames() if frames is None else frames
        return [f for f in frames if f.proto == 50 and f.src == src.wan_address and
                f.dst == dst.wan_address]

    def vnoc_sas(self) -> List[Tuple[str, str, int]]:
        """(from site, to site, SPI) of the SAs in vnocd's database."""
        return [(x[0], x[1], int(x[2])) for x in
                self.vnoc.sql("SELECT from_site, to_site, spi FROM sas ORDER BY id")]

    def accounting(self) -> List[dict]:
        return self.vnoc.accounting()[1]

    def accounting_has(self, site: str, group: str, role: str, action: str) -> bool:
        return any((x["site"], x["group"], x["role"], x["action"]) == (site, group, role, action)
                   for x in self.accounting())

    def view_logged(self, site: Site, after: float, match=lambda line: True) -> Optional[float]:
        """The time of the first "VNOC view" log line of site at or after after
        that matches."""
        hit = next((t for t, line in site.device.lines_since(after, "ivgmpd: VNOC view")
                    if match(line)), None)
        return hit


def scenario_line(text: str) -> None:
    """The scenario's numbers, on one line that a reader (or CI) greps for."""
    print("scenario: " + text)


def tools_missing() -> Optional[str]:
    for tool in ("openssl", "sqlite3"):
        if shutil.which(tool) is None:
            return tool + " not installed"
    return None


def main(test, name: str) -> None:
    """r.main, skipped (77) without openssl or sqlite3."""
    missing = tools_missing()
    if missing:
        print("skipped: " + missing)
        sys.exit(r.SKIP)
    r.main(test, name)
