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
  ip_frames      IPv4 frames of a capture, decoded here

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
import socket
import struct
import subprocess
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
        log = open(self.log_path, "w")
        self.proc = self.ns.spawn(args, stdout=subprocess.DEVNULL, stderr=log,
                                  stdin=subprocess.DEVNULL)
        log.close()

        # Its own log line, not a probe: a TCP connect that never speaks TLS
        # would be logged as a handshake error.
        def listening():
            return self.proc.poll() is not None or "listening on" in self.log()
        r.wait_until(listening, timeout, 0.05)
        if self.proc.poll() is not None:
            raise r.RigError("vnocd exited %s: %s\n%s" % (self.proc.returncode, " ".join(args),
                                                          self.log()))
        return time.monotonic() - start

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


def stream_payload(seq: int, size: int) -> bytes:
    head = b"%s #%06d " % (MARK, seq)
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
                 ttl: int = 8):
        self.host = host
        self.group = group
        self.port = port
        self.rate = rate
        self.size = size
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
            data = stream_payload(seq, self.size)
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

    def first_time(self) -> Optional[float]:
        return self.sent[0][0] if self.sent else None


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
