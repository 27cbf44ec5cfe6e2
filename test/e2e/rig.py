# SPDX-License-Identifier: BSD-3-Clause
"""
The e2e rig, in the manner of WireGuard's tests/netns.sh: Linux hosts in
network namespaces, ivgmpd on af_packet ports in a namespace of its own, real
traffic between them, and everything torn down at the end, whatever happened.

  Rig            one run: names unique to it, the namespaces, veths, bridges
                 and processes it made, torn down by close() (tests use
                 main(), which always calls it; SIGTERM and SIGINT too); what
                 an earlier run killed with SIGKILL left is swept at start
  Netns          a namespace: run commands in it, sysctl, open sockets in it
  Ivgmpd         one ivgmpd in its namespace: start, telemetry, stop
  Telemetry      DPDK's telemetry socket, spoken directly
  Capture        tcpdump in a namespace, read back with wire.py
  Host, Membership   a LAN host: joins and leaves with the kernel's own
                 IGMP (IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP), sends
  LanSite        one site: ivgmpd, a bridge, hosts h1..hN, an unused WAN peer
  Checker, main  assertions that print what they saw; the test entry point

Names: namespaces ivgmp-<run>-<role>, EAL file prefixes ivgmp-<run>-<name>,
interfaces <tag><code> (at most 15 characters), where <run> is e<pid> and
<tag> a shorter form of it. The pid in the names is how a later run knows
that a leftover is stale.

Runs on /usr/bin/python3 as root. Nothing here needs scapy.
"""

import contextlib
import ctypes
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Callable, Dict, List, Optional

import wire

SKIP = 77                      # meson's exit code for a skipped test
DPDK_RUNTIME = "/var/run/dpdk"
NETNS_DIR = "/run/netns"
STALE_NAME = re.compile(r"^ivgmp-e(\d+)-")

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
IP_BLOCK_SOURCE = 38            # linux/in.h
IP_UNBLOCK_SOURCE = 37
IP_ADD_SOURCE_MEMBERSHIP = 39
IP_DROP_SOURCE_MEMBERSHIP = 40

_libc = ctypes.CDLL(None, use_errno=True)


class RigError(Exception):
    """The rig could not do its part (not a verdict on ivgmpd)."""


class Interrupted(BaseException):
    """A signal asked the test to stop: unwinds through every finally."""


def _die_with_parent() -> None:
    # The test may be SIGKILLed (meson's timeout): its children must not live on.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def sh(args: List[str], check: bool = True, timeout: float = 30,
       input: Optional[str] = None) -> subprocess.CompletedProcess:
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise RigError("%s: exit %d: %s" % (" ".join(args), p.returncode,
                                            (p.stderr or p.stdout).strip()))
    return p


def wait_until(fn: Callable, timeout: float, interval: float = 0.02):
    """Call fn until it returns something true; (value, seconds waited), or
    (None, seconds) after timeout."""
    start = time.monotonic()
    while True:
        v = fn()
        elapsed = time.monotonic() - start
        if v:
            return v, elapsed
        if elapsed >= timeout:
            return None, elapsed
        time.sleep(interval)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> List[str]:
    """Remove what runs that no longer exist left: their namespaces (and the
    processes still in them, which only such a run can have started) and
    their DPDK runtime directories."""
    removed = []
    listing = sh(["ip", "netns", "list"], check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        m = STALE_NAME.match(name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        for pid in sh(["ip", "netns", "pids", name], check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        sh(["ip", "netns", "delete", name], check=False)
        removed.append(name)
    if os.path.isdir(DPDK_RUNTIME):
        for name in os.listdir(DPDK_RUNTIME):
            m = STALE_NAME.match(name)
            if m and not _pid_alive(int(m.group(1))):
                shutil.rmtree(os.path.join(DPDK_RUNTIME, name), ignore_errors=True)
                removed.append(os.path.join(DPDK_RUNTIME, name))
    return removed


# --------------------------------------------------------------------------
# namespaces
# --------------------------------------------------------------------------

def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Netns:
    """A network namespace of the rig: ivgmp-<run>-<role>."""

    def __init__(self, rig: "Rig", role: str):
        self.rig = rig
        self.role = role
        self.name = "ivgmp-%s-%s" % (rig.run, role)

    def __repr__(self) -> str:
        return self.name

    def argv(self, args: List[str]) -> List[str]:
        return ["ip", "netns", "exec", self.name] + list(args)

    def run(self, *args: str, check: bool = True, timeout: float = 30,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        return sh(self.argv(list(args)), check=check, timeout=timeout, input=input)

    def spawn(self, args: List[str], **popen) -> subprocess.Popen:
        """A process in this namespace, ended by the rig's close() if it is
        still running then, and by the kernel if the test dies first."""
        p = subprocess.Popen(self.argv(args), preexec_fn=_die_with_parent, **popen)
        self.rig.processes.append(p)
        return p

    def sysctl(self, key: str, value) -> None:
        self.run("sysctl", "-qw", "%s=%s" % (key, value))

    def link_up(self, ifname: str) -> None:
        self.run("ip", "link", "set", ifname, "up")

    @contextlib.contextmanager
    def entered(self):
        """This thread in the namespace for the with block. Sockets made
        inside stay in it after the block: that is how hosts get theirs."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(os.path.join(NETNS_DIR, self.name), os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield self
            finally:
                _setns(own)
        finally:
            os.close(own)
            os.close(target)

    def socket(self, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0) -> socket.socket:
        with self.entered():
            return socket.socket(family, type, proto)


# --------------------------------------------------------------------------
# the rig
# --------------------------------------------------------------------------

def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s


class Rig:
    """One run's namespaces, links and processes. Use as a context manager
    (or through main()): close() runs however the block ends."""

    def __init__(self, name: str):
        self.name = name
        self.run = "e%d" % os.getpid()
        self.tag = "e" + _base36(os.getpid())      # interface names: <= 6 + 9 chars
        self.namespaces: List[Netns] = []
        self.processes: List[subprocess.Popen] = []
        self.daemons: List["Ivgmpd"] = []
        self.captures: List["Capture"] = []
        self.workdir = tempfile.mkdtemp(prefix="ivgmp-%s-%s-" % (self.run, name))
        self.closed = False
        self._old_handlers = {}
        self.sanitizer_findings: List[str] = []

    def __enter__(self) -> "Rig":
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        stale = sweep_stale()
        if stale:
            print("  (swept what dead runs left: %s)" % ", ".join(stale))
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _on_signal(sig, frame):
        raise Interrupted("signal %d" % sig)

    def ifname(self, code: str) -> str:
        name = self.tag + code
        if len(name) > 15:
            raise RigError("interface name %s is longer than 15 characters" % name)
        return name

    def netns(self, role: str) -> Netns:
        ns = Netns(self, role)
        sh(["ip", "netns", "add", ns.name])
        self.namespaces.append(ns)
        # No IPv6 anywhere: its chatter (MLD, DAD, RS) would reach the ports.
        ns.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
        ns.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
        ns.link_up("lo")
        return ns

    def veth(self, a: Netns, a_code: str, b: Netns, b_code: str):
        """A veth pair, each end created directly in its namespace; both down."""
        a_name, b_name = self.ifname(a_code), self.ifname(b_code)
        sh(["ip", "link", "add", a_name, "netns", a.name, "type", "veth",
            "peer", "name", b_name, "netns", b.name])
        return a_name, b_name

    def bridge(self, ns: Netns, code: str, ports: List[str]) -> str:
        """A bridge that floods multicast to every port: no IGMP snooping
        (it would keep reports from the ports it deems hosts)."""
        br = self.ifname(code)
        ns.run("ip", "link", "add", br, "type", "bridge", "mcast_snooping", "0",
               "stp_state", "0", "forward_delay", "0")
        for port in ports:
            ns.run("ip", "link", "set", port, "master", br)
            ns.link_up(port)
        ns.link_up(br)
        return br

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def settle(self, timeout: float = 5.0) -> float:
        """Wait until every interface that is up can send. A veth whose
        carrier just came up keeps the noop qdisc, which drops everything
        sent (a host's first IGMP reports!), until the kernel's link watch
        activates it, up to a second later."""
        def ready():
            for ns in self.namespaces:
                for line in ns.run("ip", "-o", "link", "show", "up").stdout.splitlines():
                    if "qdisc noop" in line or "NO-CARRIER" in line:
                        return False
            return True
        ok, waited = wait_until(ready, timeout, 0.05)
        if not ok:
            raise RigError("links not ready after %.1f s" % timeout)
        return waited

    def close(self, keep_workdir: bool = False) -> None:
        """Tear everything down, in an order that cannot leave a namespace
        held by a process: every process asked to stop at once (daemons
        SIGTERM, captures SIGINT), then waited for, then the namespaces and
        the DPDK runtime directories. Quick, because meson gives a test half
        a second between SIGTERM and SIGKILL (what is left then, the next
        run sweeps). Safe to call twice; signals wait."""
        if self.closed:
            return
        self.closed = True
        for sig in self._old_handlers:
            signal.signal(sig, signal.SIG_IGN)
        for d in self.daemons:
            d.telemetry.close()
        for c in self.captures:
            with contextlib.suppress(Exception):
                c.stop(wait=False)
        captures = {id(c.proc) for c in self.captures}
        for p in self.processes:
            if p.poll() is None and id(p) not in captures:
                with contextlib.suppress(ProcessLookupError):
                    p.terminate()
        deadline = time.monotonic() + 5
        for p in self.processes:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(2)
        for d in self.daemons:
            with contextlib.suppress(Exception):
                d.stop()    # reaps, records the exit code, removes its runtime dir
        batch = ""
        for ns in reversed(self.namespaces):
            for pid in sh(["ip", "netns", "pids", ns.name], check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            batch += "netns delete %s\n" % ns.name
        if batch:
            sh(["ip", "-force", "-batch", "-"], check=False, input=batch)
        for d in self.daemons:
            shutil.rmtree(d.runtime_dir, ignore_errors=True)
        # Every process's output is in the work dir by now (exit reports
        # included): a sanitizer report there fails the test (main()).
        self.sanitizer_findings = sanitizer_findings(self.workdir)
        if not keep_workdir and not self.sanitizer_findings:
            shutil.rmtree(self.workdir, ignore_errors=True)
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)

    def leftovers(self) -> List[str]:
        """What close() should have removed and did not (the rig checks itself)."""
        names = sh(["ip", "netns", "list"], check=False).stdout
        left = [ns.name for ns in self.namespaces if re.search(r"^%s\b" % re.escape(ns.name),
                                                              names, re.M)]
        left += [d.runtime_dir for d in self.daemons if os.path.exists(d.runtime_dir)]
        left += ["pid %d" % p.pid for p in self.processes if p.poll() is None]
        return left


# --------------------------------------------------------------------------
# telemetry
# --------------------------------------------------------------------------

class Telemetry:
    """DPDK's telemetry v2 socket: a SOCK_SEQPACKET unix socket in the
    runtime directory (a file: reachable from any network namespace). The
    server greets with JSON; each command gets one JSON reply."""

    def __init__(self, path: str):
        self.path = path
        self.sock: Optional[socket.socket] = None
        self.max_len = 16384
        self.greeting: dict = {}

    def connect(self) -> None:
        self.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(self.path)
        self.greeting = json.loads(s.recv(1024).decode())
        self.max_len = int(self.greeting.get("max_output_len", 16384))
        self.sock = s

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def query(self, command: str) -> dict:
        """The reply's value for command ({"/ivgmp/igmp": {...}} -> {...})."""
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.connect()
                self.sock.send(command.encode())
                raw = self.sock.recv(self.max_len)
                if not raw:
                    raise ConnectionError("telemetry closed the connection")
                reply = json.loads(raw.decode())
                # "/ivgmp/group,239.1.1.1" is answered as {"/ivgmp/group": ...}.
                key = command.split(",", 1)[0]
                return reply.get(key, reply) if isinstance(reply, dict) else reply
            except (OSError, ConnectionError, json.JSONDecodeError):
                self.close()
                if attempt:
                    raise
        raise RigError("unreachable")


# Known bugs the suite pins, named where an assertion fails because of them.
BUG_TELEMETRY_NAMES = ("telemetry tables keyed by dotted addresses are empty: DPDK refuses dict "
                       "names outside [A-Za-z0-9_/] (ivgmpd_report.c)")


def table_bug(table: dict) -> Optional[str]:
    """The known bug an empty telemetry table shows, if it is empty."""
    return BUG_TELEMETRY_NAMES if not table else None


def by_address(table) -> dict:
    """A telemetry table keyed by group ("239.1.1.1") or by (source, group)
    ("(10.0.0.1,239.1.1.1)"), read the same whichever spelling the keys
    have (telemetry names allow only [A-Za-z0-9_/]: "239_1_1_1" would do
    too) or when it is a list of entries naming their "group"/"source"."""
    if isinstance(table, list):
        items = []
        for e in table:
            if isinstance(e, dict) and "group" in e:
                key = ("(%s,%s)" % (e["source"], e["group"]) if "source" in e else e["group"])
                items.append((key, e))
        table = dict(items)
    if not isinstance(table, dict):
        return {}
    out = {}
    for key, value in table.items():
        nums = re.findall(r"\d+", str(key))
        if len(nums) == 4:
            key = ".".join(nums)
        elif len(nums) == 8:
            key = "(%s,%s)" % (".".join(nums[:4]), ".".join(nums[4:]))
        out[key] = value
    return out


# --------------------------------------------------------------------------
# ivgmpd
# --------------------------------------------------------------------------

class Ivgmpd:
    """One ivgmpd in a namespace of its own (af_packet fanout ids are per
    namespace: two DPDK processes in one collide)."""

    def __init__(self, rig: Rig, ns: Netns, name: str, binary: str, config: str,
                 vdevs: List[str], lcores: str = "0,1", workers: int = 1):
        self.rig = rig
        self.ns = ns
        self.name = name
        self.binary = os.path.abspath(binary)
        self.config = config
        self.vdevs = vdevs
        self.lcores = lcores
        self.workers = workers
        self.prefix = "ivgmp-%s-%s" % (rig.run, name)
        self.runtime_dir = os.path.join(DPDK_RUNTIME, self.prefix)
        self.config_path = rig.path("%s.conf" % name)
        self.log_path = rig.path("%s.log" % name)
        self.proc: Optional[subprocess.Popen] = None
        self.telemetry = Telemetry(os.path.join(self.runtime_dir, "dpdk_telemetry.v2"))
        self.exit_code: Optional[int] = None
        self.lines: List[tuple] = []
        self._lock = threading.Lock()
        self._reader: Optional[threading.Thread] = None
        self.started_at = 0.0          # monotonic time of the last start()
        self.starts = 0
        rig.daemons.append(self)

    def command(self) -> List[str]:
        # "0,1": lcores pinned to those CPUs (-l); "0@(0,1),1@(0,1)": lcore to
        # CPU-set mapping (--lcores), e.g. to let the kernel spread the busy
        # workers of several sites over the CPUs.
        lcores = ["--lcores", self.lcores] if "@" in self.lcores else ["-l", self.lcores]
        cmd = [self.binary, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", self.prefix,
               "--log-level=warning"] + lcores
        for v in self.vdevs:
            cmd += ["--vdev", v]
        return cmd + ["--", "--config", self.config_path, "--workers", str(self.workers)]

    def log(self) -> str:
        with self._lock:
            return "".join(line for _, line in self.lines)

    def _read_output(self) -> None:
        # Each line with the time it arrived: role changes are events to time.
        # A restarted ivgmpd appends to the same log.
        with open(self.log_path, "a") as log:
            for line in self.proc.stdout:
                now = time.monotonic()
                with self._lock:
                    self.lines.append((now, line))
                log.write("%.3f %s" % (now, line))
                log.flush()

    def start(self, timeout: float = 20) -> float:
        """Start and wait for "ivgmpd: ready"; returns the seconds it took."""
        with open(self.config_path, "w") as f:
            f.write(self.config)
        start = time.monotonic()
        self.proc = self.ns.spawn(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
        self.started_at = start
        self.starts += 1
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        ready, waited = wait_until(lambda: self.lines_since(start, "ivgmpd: ready") or
                                   self.proc.poll() is not None, timeout, 0.05)
        if self.proc.poll() is not None or not ready:
            time.sleep(0.1)
            raise RigError("ivgmpd %s did not start (exit %s after %.1f s)\n%s\n--- log\n%s"
                           % (self.name, self.proc.poll(), waited, " ".join(self.command()),
                              self.log()))
        self.telemetry.connect()
        return time.monotonic() - start

    def restart(self, pause: float = 0.0) -> float:
        """stop() (SIGTERM), wait pause seconds, start() again with the same
        configuration, namespace and ports; returns the seconds start took."""
        self.stop()
        if pause:
            time.sleep(pause)
        return self.start()

    def lines_since(self, after: float, prefix: str = "") -> List[tuple]:
        """[(monotonic time, line)] logged at or after after, starting with prefix."""
        with self._lock:
            return [(t, l) for t, l in self.lines if t >= after and l.startswith(prefix)]

    ROLE_LINE = re.compile(r"^ivgmpd: group (\S+): VPN role (\S+) -> (\S+)")

    def role_changes(self, group: Optional[str] = None, after: float = 0.0):
        """[(monotonic time, group, old, new)] from the log: the JoinVpn /
        LeaveVpn events the VNOC client will send."""
        with self._lock:
            lines = list(self.lines)
        out = []
        for t, line in lines:
            m = self.ROLE_LINE.match(line)
            if m and t >= after and (group is None or m.group(1) == group):
                out.append((t, m.group(1), m.group(2), m.group(3)))
        return out

    def wait_role(self, group: str, new: str, after: float, timeout: float):
        """The time of the first role change of group to new after after, or None."""
        hit, _ = wait_until(lambda: next((c for c in self.role_changes(group, after)
                                          if c[3] == new), None), timeout)
        return hit[0] if hit else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def query(self, command: str) -> dict:
        return self.telemetry.query(command)

    def igmp(self) -> dict:
        """/ivgmp/igmp: querier, counters, and "groups" by dotted group address."""
        reply = dict(self.query("/ivgmp/igmp"))
        groups = by_address(reply.get("groups", {}))
        for g in groups.values():
            if isinstance(g, dict) and "source_timers_ms" in g:
                g["source_timers_ms"] = by_address(g["source_timers_ms"])
        reply["groups"] = groups
        return reply

    def igmp_groups(self) -> dict:
        return self.igmp()["groups"]

    def groups(self) -> dict:
        """/ivgmp/groups by dotted group address."""
        return by_address(self.query("/ivgmp/groups"))

    def sources(self) -> dict:
        """/ivgmp/sources by "(S,G)" in dotted addresses."""
        return by_address(self.query("/ivgmp/sources"))

    def stats(self) -> dict:
        """/ivgmp/stats as it comes: the counters, and in newer ivgmpd also
        tables ("ports", "drops")."""
        return self.query("/ivgmp/stats")

    def counters(self) -> Dict[str, int]:
        """The plain counters of /ivgmp/stats (names to numbers)."""
        return {k: v for k, v in (self.stats() or {}).items() if isinstance(v, (int, float))}

    def ports(self) -> Optional[dict]:
        """Per-port counters ({"lan": {...}, "wan": {...}}) from /ivgmp/stats,
        or None when this ivgmpd does not report them."""
        value = (self.stats() or {}).get("ports")
        return value if isinstance(value, dict) else None

    def commands(self) -> List[str]:
        """The telemetry commands this ivgmpd registered ("/")."""
        return list(self.query("/") or [])

    def optional(self, command: str):
        """A command this ivgmpd may not have (yet): None when DPDK answers
        it as unknown (a null value), else the reply's value."""
        name = command.split(",", 1)[0]
        if name not in self.commands():
            return None
        return self.query(command)

    def vnoc(self) -> dict:
        """/ivgmp/vnoc: the VNOC client's state, view_version, remote_sites,
        sas, counters (registrations, joins, leaves, denials, ...), and
        "groups" by dotted group address: desired, granted and denied roles
        ("none", "receiver", "sender", "receiver+sender"), denied_reason."""
        reply = dict(self.query("/ivgmp/vnoc") or {})
        reply["groups"] = by_address(reply.get("groups", {}))
        return reply

    def vnoc_group(self, group: str) -> dict:
        """One group of /ivgmp/vnoc ({} when the client has none)."""
        return self.vnoc()["groups"].get(group) or {}

    def sas(self) -> Dict[int, dict]:
        """/ivgmp/sa by SPI: direction ("in"/"out"), site, origin
        ("config"/"vnoc"), packets, bytes, seq / highest_seq, drops."""
        table = self.query("/ivgmp/sa") or {}
        return {int(str(k), 16): v for k, v in table.items() if isinstance(v, dict)}

    def sa_to(self, site: str, direction: str = "out") -> Dict[int, dict]:
        """The SAs with one peer site in one direction, by SPI."""
        return {spi: v for spi, v in self.sas().items()
                if v.get("site") == site and v.get("direction") == direction}

    # Being added to ivgmpd: None until this ivgmpd has them.
    def info(self) -> Optional[dict]:
        """/ivgmp/info, or None."""
        return self.optional("/ivgmp/info")

    def sites(self) -> Optional[dict]:
        """/ivgmp/sites, or None."""
        return self.optional("/ivgmp/sites")

    def group(self, group: str) -> Optional[dict]:
        """/ivgmp/group,<G>, or None."""
        return self.optional("/ivgmp/group,%s" % group)

    def stop(self, timeout: float = 10) -> Optional[int]:
        """SIGTERM, as an operator would; returns the exit code. The exit
        report stays in log()."""
        self.telemetry.close()
        if self.proc is not None:
            self.exit_code = terminate(self.proc, timeout)
        if self._reader is not None:
            self._reader.join(5)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        return self.exit_code


# --------------------------------------------------------------------------
# captures
# --------------------------------------------------------------------------

class Capture:
    """tcpdump on one interface of a namespace, into the run's work dir."""

    def __init__(self, rig: Rig, ns: Netns, ifname: str, name: str, filter: str = "igmp"):
        self.rig = rig
        self.ns = ns
        self.ifname = ifname
        self.filter = filter
        self.path = rig.path(name + ".pcap")
        self.err_path = rig.path(name + ".tcpdump")
        self.proc: Optional[subprocess.Popen] = None
        rig.captures.append(self)

    def start(self, timeout: float = 10) -> "Capture":
        err = open(self.err_path, "w")
        self.proc = self.ns.spawn(["tcpdump", "-Z", "root", "-n", "-U", "--immediate-mode",
                                   "-i", self.ifname, "-w", self.path] + self.filter.split(),
                                  stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        err.close()

        def listening():
            with open(self.err_path) as f:
                return "listening on" in f.read() or self.proc.poll() is not None
        wait_until(listening, timeout, 0.02)
        if self.proc.poll() is not None:
            with open(self.err_path) as f:
                raise RigError("tcpdump on %s failed: %s" % (self.ifname, f.read()))
        return self

    def stop(self, wait: bool = True) -> None:
        """SIGINT: tcpdump writes out what it has and exits."""
        if self.proc is not None and self.proc.poll() is None:
            if wait:
                time.sleep(0.05)    # the last frames through -U's buffer
            self.proc.send_signal(signal.SIGINT)
            if not wait:
                return
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def igmp(self) -> List[wire.Igmp]:
        """IGMP seen so far (the file is written packet by packet)."""
        return wire.igmp_messages(self.path) if os.path.exists(self.path) else []


# --------------------------------------------------------------------------
# hosts
# --------------------------------------------------------------------------

def _aton(a: str) -> bytes:
    return socket.inet_aton(a)


class Membership:
    """A socket's membership of a group: the host's kernel reports it (and
    answers queries for it) until leave()."""

    def __init__(self, host: "Host", group: str, source: Optional[str] = None):
        self.host = host
        self.group = group
        self.source = source
        self.sock = host.ns.socket()
        self.joined_at = time.monotonic()
        self.sock.setsockopt(socket.IPPROTO_IP, *self._request(True))
        self.active = True

    def _request(self, join: bool):
        if self.source is None:
            opt = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
            return opt, _aton(self.group) + _aton(self.host.addr)
        # struct ip_mreq_source: multiaddr, interface, sourceaddr.
        opt = IP_ADD_SOURCE_MEMBERSHIP if join else IP_DROP_SOURCE_MEMBERSHIP
        return opt, _aton(self.group) + _aton(self.host.addr) + _aton(self.source)

    def block(self, source: str) -> float:
        """Exclude source from an any-source membership (IP_BLOCK_SOURCE:
        the kernel reports BLOCK / TO_EX with it); returns the monotonic time."""
        req = _aton(self.group) + _aton(self.host.addr) + _aton(source)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_BLOCK_SOURCE, req)
        return time.monotonic()

    def leave(self) -> float:
        """Leave now; returns the monotonic time it was done."""
        if self.active:
            self.sock.setsockopt(socket.IPPROTO_IP, *self._request(False))
            self.active = False
        return time.monotonic()

    def close(self) -> None:
        self.sock.close()
        self.active = False


@dataclasses.dataclass
class Host:
    """A Linux host on a site's LAN: its namespace, its veth, its address."""
    name: str
    ns: Netns
    ifname: str
    addr: str
    igmp_version: int = 3
    memberships: List[Membership] = dataclasses.field(default_factory=list)

    def join(self, group: str) -> Membership:
        """Any-source join: an IGMPv3 host sends TO_EX({}), a v2 host a v2 report."""
        m = Membership(self, group)
        self.memberships.append(m)
        return m

    def join_source(self, group: str, source: str) -> Membership:
        """Source-specific join: ALLOW({source}) from an IGMPv3 host."""
        m = Membership(self, group, source)
        self.memberships.append(m)
        return m

    def sender(self, ttl: int = 4) -> socket.socket:
        s = self.ns.socket()
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, _aton(self.addr))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        return s

    def send(self, group: str, count: int, rate: float, port: int = 5000,
             size: int = 100, ttl: int = 4) -> float:
        """count UDP packets to group at rate per second; returns the
        monotonic time of the last one."""
        s = self.sender(ttl)
        last = time.monotonic()
        try:
            for i in range(count):
                if i:
                    time.sleep(max(0.0, last + 1.0 / rate - time.monotonic()))
                s.sendto(struct.pack("!I", i) + b"\xa5" * (size - 4), (group, port))
                last = time.monotonic()
        finally:
            s.close()
        return last

    def close(self) -> None:
        for m in self.memberships:
            m.close()


# --------------------------------------------------------------------------
# one site
# --------------------------------------------------------------------------

# Short IGMP timers: LMQT 400 ms, GMI 11 s, startup queries 1.25 s apart.
FAST_TIMERS = {
    "igmp-query-interval": "5s",
    "igmp-query-response-interval": "1s",
    "igmp-last-member-interval": "200ms",
    "igmp-robustness": "2",
    "source-idle-timeout": "3s",
    "vpn-leave-hold": "1s",
}


def duration_s(text: str) -> float:
    return float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))


class LanSite:
    """One site of the VPN, on a real LAN:

        ns <site>dev: ivgmpd, LAN port net_af_packet0 on veth <tag><s>dl,
                      WAN port net_af_packet1 on veth <tag><s>dw
        ns <site>lan: bridge <tag><s>br joining the device's LAN veth peer
                      (<tag><s>pd: capture here to see both directions) and
                      one veth per host
        ns <site>h1..: Linux hosts 10.<70+index>.0.11, .12, ... /24 on <tag><s>hN
        ns <site>wan: the WAN veth's peer, unused

    Device-side veths have no address and no IPv6; host veths have checksum
    offload off (af_packet forwards what the veth never checksummed)."""

    def __init__(self, rig: Rig, binary: str, site: str = "", index: int = 1,
                 hosts=("h1", "h2", "h3"), v2_hosts=("h3",), timers: Optional[dict] = None,
                 extra: Optional[List[str]] = None, vpn: Optional[List[str]] = None,
                 wan_address: Optional[str] = None, lcores: str = "0,1",
                 workers: int = 1, qpairs: int = 1):
        """site names the namespaces (<site>dev, <site>h1...) of one of
        several sites; index picks the LAN 10.(70+index).0.0/24. vpn replaces
        the default remote site and SA lines, extra adds any line. workers:
        ivgmpd's --workers (lcores must name workers + 1); qpairs > 1 gives
        each af_packet port that many queue pairs (sockets of one
        PACKET_FANOUT_HASH group: the kernel spreads flows over them)."""
        self.rig = rig
        self.site = site
        self.x = 70 + index
        self.subnet = "10.%d.0" % self.x
        self.lan_address = self.subnet + ".1"
        self.wan_address = wan_address or "10.200.%d.1" % index
        self.remote_address = "10.200.%d.254" % index
        self.vpn = vpn
        self.timers = dict(FAST_TIMERS, **(timers or {}))
        s = site
        self.dev_ns = rig.netns(s + "dev")
        self.lan_ns = rig.netns(s + "lan")
        self.wan_ns = rig.netns(s + "wan")
        self.dev_lan_if, self.lan_port_if = rig.veth(self.dev_ns, s + "dl", self.lan_ns, s + "pd")
        self.dev_wan_if, self.wan_peer_if = rig.veth(self.dev_ns, s + "dw", self.wan_ns, s + "pw")
        for ifname in (self.dev_lan_if, self.dev_wan_if):
            self.dev_ns.sysctl("net.ipv6.conf.%s.disable_ipv6" % ifname, 1)
            self.dev_ns.link_up(ifname)
        self.wan_ns.link_up(self.wan_peer_if)
        self.hosts: Dict[str, Host] = {}
        ports = [self.lan_port_if]
        for i, name in enumerate(hosts):
            ns = rig.netns(s + name)
            h_if, p_if = rig.veth(ns, s + name, self.lan_ns, s + "p" + name)
            host = Host(name, ns, h_if, "%s.%d" % (self.subnet, 11 + i),
                        2 if name in v2_hosts else 3)
            # Before the link is up and before any join: a v2 host from the start.
            if host.igmp_version == 2:
                ns.sysctl("net.ipv4.conf.%s.force_igmp_version" % h_if, 2)
            ns.run("ethtool", "-K", h_if, "tx", "off")
            ns.run("ip", "addr", "add", host.addr + "/24", "dev", h_if)
            ns.link_up(h_if)
            self.hosts[name] = host
            ports.append(p_if)
        self.bridge_if = rig.bridge(self.lan_ns, s + "br", ports)
        rig.settle()
        qp = ",qpairs=%d" % qpairs if qpairs > 1 else ""
        self.device = Ivgmpd(rig, self.dev_ns, (s or "site") + "dev", binary, self.config(extra),
                             ["net_af_packet0,iface=%s%s" % (self.dev_lan_if, qp),
                              "net_af_packet1,iface=%s%s" % (self.dev_wan_if, qp)],
                             lcores=lcores, workers=workers)

    def config(self, extra: Optional[List[str]]) -> str:
        lines = ["# written by test/e2e/rig.py",
                 "lan-port net_af_packet0", "wan-port net_af_packet1",
                 "wan-address " + self.wan_address,
                 "wan-nexthop-mac 02:00:00:00:00:fe",
                 "lan-address " + self.lan_address]
        lines += ["%s %s" % kv for kv in self.timers.items()]
        if self.vpn is not None:
            lines += self.vpn
        else:   # one remote site and its outbound SA: the least a valid file has
            lines += ["site remote " + self.remote_address,
                      "sa out remote spi 0x1001 aes-gcm-128 key 0x" + bytes(range(1, 21)).hex()]
        lines += extra or []
        return "\n".join(lines) + "\n"

    # The timers as the RFC derives them (RFC 3376 8.4, 8.7, 8.8).
    def timer(self, key: str) -> float:
        return duration_s(self.timers[key])

    @property
    def robustness(self) -> int:
        return int(self.timers["igmp-robustness"])

    @property
    def lmqi(self) -> float:
        return self.timer("igmp-last-member-interval")

    @property
    def lmqc(self) -> int:
        return int(self.timers.get("igmp-last-member-count", self.robustness))

    @property
    def lmqt(self) -> float:
        return self.lmqc * self.lmqi

    @property
    def gmi(self) -> float:
        return (self.robustness * self.timer("igmp-query-interval") +
                self.timer("igmp-query-response-interval"))

    def start(self) -> float:
        took = self.device.start()
        print("  site %s: ivgmpd %s ready in %.2f s; LAN %s.0/24 (device %s), hosts %s"
              % (self.site or "-", self.device.prefix, took, self.subnet, self.lan_address,
                 ", ".join("%s %s v%d" % (h.name, h.addr, h.igmp_version)
                           for h in self.hosts.values())))
        return took

    def capture(self, name: str = "lan", filter: str = "igmp") -> Capture:
        """Both directions of the device's LAN port, seen from the bridge."""
        return Capture(self.rig, self.lan_ns, self.lan_port_if, name, filter).start()

    def wait_igmp_group(self, group: str, timeout: float = 3.0, present: bool = True):
        """Wait until /ivgmp/igmp has (or no longer has) group: (state or
        True, seconds waited)."""
        def probe():
            g = self.device.igmp_groups().get(group)
            return (g or None) if present else (g is None)
        return wait_until(probe, timeout)


# --------------------------------------------------------------------------
# assertions and the entry point
# --------------------------------------------------------------------------

class Checker:
    """Assertions that print what they saw and carry on; done() gives the
    exit code. bug= names a known ivgmpd bug an assertion pins."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failures: List[str] = []
        self.bugs: List[str] = []
        self.inconclusive_why: Optional[str] = None
        print("== %s" % name)

    def inconclusive(self, why: str) -> None:
        """What the test measures could not be judged on this run (the
        machine, not the device, decided it): skipped, unless a check that
        could be judged failed."""
        self.inconclusive_why = why

    def section(self, title: str) -> None:
        print("-- %s" % title)

    def measured(self, what: str, value, unit: str = "") -> None:
        if isinstance(value, float):
            value = "%.3f" % value
        print("  measured  %s: %s%s" % (what, value, " " + unit if unit else ""))

    def check(self, ok: bool, what: str, detail: str = "", bug: Optional[str] = None) -> bool:
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
        return self.check(got == want, "%s == %r" % (what, want), "got %r" % (got,), bug=bug)

    def within(self, got: Optional[float], low: float, high: float, what: str,
               unit: str = "s", bug: Optional[str] = None) -> bool:
        ok = got is not None and low <= got <= high
        shown = "None" if got is None else "%.3f" % got
        return self.check(ok, "%s = %s %s in [%.3f, %.3f]" % (what, shown, unit, low, high),
                          "out of range", bug=bug)

    def done(self) -> int:
        print("== %s: %d passed, %d failed" % (self.name, self.passed, len(self.failures)))
        for bug in sorted(set(self.bugs)):
            print("   known ivgmpd bug: %s" % bug)
        if not self.failures and self.inconclusive_why:
            print("== %s: skipped, inconclusive: %s" % (self.name, self.inconclusive_why))
            return SKIP
        return 1 if self.failures else 0


@dataclasses.dataclass
class Args:
    ivgmpd: str
    announce: Optional[str]


def tools_missing() -> Optional[str]:
    if os.geteuid() != 0:
        return "needs root (namespaces, DPDK)"
    for tool in ("ip", "tcpdump", "ethtool", "sysctl"):
        if shutil.which(tool) is None:
            return tool + " not installed"
    return None


def telemetry_py(tool: str, prefix: str, commands: List[str]):
    """Run DPDK's dpdk-telemetry.py non-interactively, as an operator's
    script would; (exit code, {command: reply}, stdout)."""
    cmd = "printf '%s\\n' | %s -f %s" % ("\\n".join(commands), tool, prefix)
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30)
    print("    $ %s\n      exit %d, %d bytes out%s" % (cmd, p.returncode, len(p.stdout),
                                                      ", stderr: " + p.stderr.strip() if p.stderr else ""))
    replies = {}
    for line in p.stdout.splitlines():
        try:
            replies.update(json.loads(line))
        except (json.JSONDecodeError, TypeError, ValueError):
            print("      not JSON: %s" % line[:200])
    return p.returncode, replies, p.stdout


# What AddressSanitizer, LeakSanitizer and UBSan print (test/sanitize.sh).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_findings(workdir: str) -> List[str]:
    """"FILE: LINE" for each sanitizer report in the text files of workdir
    (daemon logs, stderr files; captures and databases skipped)."""
    found = []
    for name in sorted(os.listdir(workdir)):
        path = os.path.join(workdir, name)
        if not os.path.isfile(path) or name.endswith((".pcap", ".db", ".pem", ".key")):
            continue
        with open(path, errors="replace") as f:
            found += ["%s: %s" % (name, l.strip()) for l in f
                      if any(m in l for m in SANITIZER_MARKERS)]
    return found


def terminate(proc: subprocess.Popen, timeout: float) -> Optional[int]:
    """SIGTERM, as an operator would, SIGKILL if it is not gone after
    timeout; its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def main(test: Callable[[Rig, Checker, Args], None], name: str) -> None:
    """Entry point of a test script: argv is IVGMPD [IVGMP-ANNOUNCE].
    test(rig, chk, args) builds its site and checks; the rig is torn down
    however it ends (the work dir, with configs, logs and captures, is kept
    and named when the test fails)."""
    if len(sys.argv) < 2:
        sys.exit("usage: %s IVGMPD [IVGMP-ANNOUNCE]" % sys.argv[0])
    sys.stdout.reconfigure(line_buffering=True)
    missing = tools_missing()
    if missing:
        print("skipped: " + missing)
        sys.exit(SKIP)
    args = Args(os.path.abspath(sys.argv[1]),
                os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None)
    chk = Checker(name)
    start = time.monotonic()
    rig = Rig(name)
    failed_hard = False
    try:
        with rig:
            try:
                test(rig, chk, args)
            except RigError as e:
                chk.check(False, "rig", str(e))
            except Interrupted as e:
                chk.check(False, "interrupted", str(e))
            except Exception:       # a broken test still tears its rig down and says why
                chk.check(False, "the test itself", traceback.format_exc())
            finally:
                for d in rig.daemons:
                    if chk.failures and d.proc is not None:
                        d.stop()
                        print("  --- %s log (exit %s)" % (d.name, d.exit_code))
                        print("\n".join("    " + l for l in d.log().splitlines()[-60:]))
                keep = bool(chk.failures)
                rig.close(keep_workdir=keep)
    except Interrupted:
        failed_hard = True
        rig.close(keep_workdir=True)
    if rig.sanitizer_findings:
        chk.check(False, "no sanitizer report from any process",
                  "\n".join(rig.sanitizer_findings[:20]))
    left = rig.leftovers()
    chk.check(not left, "rig torn down (namespaces, runtime dirs, processes)", ", ".join(left))
    print("   took %.1f s" % (time.monotonic() - start))
    if chk.failures or failed_hard:
        print("   configs, logs and captures kept in %s" % rig.workdir)
    sys.exit(1 if failed_hard else chk.done())
