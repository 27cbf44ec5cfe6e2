#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A LAN host that joins hundreds of groups at once meets the VNOC client's
two bounds on a live device talking to a live vnocd over TLS (issue #7,
the bounds; doc/configuration.rst "Bounds", so far pinned by unit tests
alone): A keeps VNOC state for at most vnoc-max-groups groups and never has
more than vnoc-max-inflight JoinVpn / LeaveVpn open at vnocd, vnocd and A's
VNOC session stay healthy, a live stream through A goes on untouched, and
the slots come back once the flood leaves.

    A: vnoc-max-groups 16, vnoc-max-inflight 2 (A's configuration alone;
       B keeps the defaults 4096 and 8)
       h1 joins G0 and listens; h2 floods (raw IGMPv3 frames)
    B: h1 sends G0 = 239.71.0.1 at 100/s
    vnocd: --heartbeat 300, so that no Heartbeat of A falls within the test
           and every request A sends during a pause below is a JoinVpn or
           a LeaveVpn

  1. B streams G0, A's h1 joins it: A holds one VNOC group (G0, receiver).
  2. The flood: h2 sends 3 IGMPv3 reports with 500 TO_EX({}) records
     (distinct groups in 239.77/16), built once by hand (the kernel's
     per-socket membership limit rules out IP_ADD_MEMBERSHIP). IGMP rate
     limits stay at their defaults: 3 frames are far below
     igmp-rate-limit-per-host (100/s), and igmp-max-groups / vpn-max-groups
     (4096) hold all 500, so the VNOC client's bounds are the ones met.
     vnocd is paused (SIGSTOP) from just before the flood until A's two
     JoinVpn are open, then for 0.3 s more, as a slow VNOC would be: a
     request A starts meanwhile stays unread in the receive queue of its
     connection at vnocd (its TLS ClientHello or its HTTP request), so the
     number of A's requests open at vnocd is read from outside ivgmpd,
     in /proc/<vnocd>/net/tcp (vnocd's namespace): exactly vnoc-max-inflight
     while the other 13 JoinVpn due wait. Then vnocd goes on:
       - vnocd's database holds exactly vnoc-max-groups memberships for A
         (G0 and 15 of the flood), never more (sampled every 50 ms);
         vnocd's log has a join for 15 flood groups and nothing refused;
       - A's /ivgmp/vnoc: 16 groups, all granted, group_limit_hit = 485
         (each refused group once), inflight_limit_waits > 0.
     The whole time (not only in the pauses), sampled every 3 ms: at most
     vnoc-max-inflight + 1 of A's requests unread at vnocd (the + 1: the
     WatchUpdates long poll, re-issued after each view change, can sit
     there next to two JoinVpn). Outside a pause vnocd reads requests at
     once and works them one at a time under its lock, so this sampling
     sees less than is open: the pauses are the exact observation.
  3. A refresh of the flood (IS_EX({}) records, as a host answering a
     query) is no new wish: group_limit_hit does not move.
  4. The flood leaves (TO_IN({}) records) except its last KEPT groups,
     which were refused at the bound and are still wanted; vnocd paused
     again until A's two LeaveVpn are open: again exactly
     vnoc-max-inflight open at vnocd. Then A's memberships at vnocd drain
     to G0 and the KEPT groups: once slots were freed, the groups refused
     in the flood that the LAN still wants are joined, without a new IGMP
     report (the client kept nothing of them; ivgmpd pushes the group
     manager's roles again when there is room). A new group G1 joined by
     h1 afterwards reaches vnocd and is granted.
  5. Health over the whole test: A's VNOC client 'ready' in every sample
     (every 50 ms), no retry, transport failure, fault or denial, one
     registration; vnocd's log has no deny, refused, limit, store or http
     line; B still ready.
  6. G0 through all of it: A's host gets every datagram, byte for byte,
     once, in order (vpn.Delivery).

Under AddressSanitizer (IVGMP_SANITIZE=1, test/sanitize.sh) the waits for
ivgmpd and vnocd, the pauses' waits for A's requests among them, are SLOW
times longer. A pause still ends 0.3 s after A's requests are seen: that
is all of it that counts against libcurl's timeouts (3 s to connect with
TLS, 10 s a request), which run from a request's start.
"""

import contextlib
import os
import re
import signal
import socket
import struct
import threading
import time

import rig as r
import vpn_rig as vpn
import wire

MAX_GROUPS = 16                     # A's vnoc-max-groups
MAX_INFLIGHT = 2                    # A's vnoc-max-inflight
N_FLOOD = 500
RECORDS_PER_REPORT = 170            # 24 + 8 + 170 * 8 = 1392 bytes of IP: one frame each
FLOOD = ["239.77.%d.%d" % (i // 250, i % 250 + 1) for i in range(N_FLOOD)]
KEPT = 5                            # the flood's last groups: never left
STILL_WANTED = FLOOD[-KEPT:]
G0 = "239.71.0.1"
G1 = "239.71.0.2"                   # joined after the flood left
PORT = 5071
RATE = 100.0
VNOCD_HEARTBEAT_S = 300             # no Heartbeat from A within the test
IGMPV3_ROUTERS = "224.0.0.22"
TO_EX, IS_EX, TO_IN = 4, 2, 3       # IGMPv3 record types (RFC 3376 4.2.12)
SLOW = 3.0 if os.environ.get("IVGMP_SANITIZE") else 1.0
# A pause waits at most this long (plus, for the leaves, LMQT and
# vpn-leave-hold) for A's requests to show up, then samples them for
# PAUSE_SAMPLE_S and ends. libcurl's timeouts (3 s connect with TLS, 10 s
# request) run from a request's start, so only PAUSE_SAMPLE_S counts
# against them.
PAUSE_WAIT_S = 2.0 * SLOW
PAUSE_SAMPLE_S = 0.3


class BoundedRig(vpn.VpnRig):
    """VpnRig with the bounds on site A alone: B keeps the defaults, so
    that what is seen is A's bound, not B's."""

    def _build(self) -> None:
        super()._build()
        self["A"].device.config += ("vnoc-max-groups %d\nvnoc-max-inflight %d\n"
                                    % (MAX_GROUPS, MAX_INFLIGHT))


# --------------------------------------------------------------------------
# the flood: IGMPv3 reports built by hand
# --------------------------------------------------------------------------

def igmpv3_reports(src_mac: str, src_ip: str, rtype: int, groups):
    """Ethernet frames of IGMPv3 reports, RECORDS_PER_REPORT records of
    type rtype without sources each: TTL 1, TOS 0xc0, Router Alert, to
    224.0.0.22, as a Linux host sends them."""
    frames = []
    for i in range(0, len(groups), RECORDS_PER_REPORT):
        chunk = groups[i:i + RECORDS_PER_REPORT]
        igmp = struct.pack("!BBHHH", 0x22, 0, 0, 0, len(chunk))
        igmp += b"".join(struct.pack("!BBH4s", rtype, 0, 0, socket.inet_aton(g)) for g in chunk)
        igmp = igmp[:2] + struct.pack("!H", wire.internet_checksum(igmp)) + igmp[4:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x46, 0xC0, 24 + len(igmp), 0, 0, 1, 2, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(IGMPV3_ROUTERS))
        ip += b"\x94\x04\x00\x00"
        ip = ip[:10] + struct.pack("!H", wire.internet_checksum(ip)) + ip[12:]
        frames.append(vpn.mac_bytes("01:00:5e:00:00:16") + vpn.mac_bytes(src_mac) +
                      b"\x08\x00" + ip + igmp)
    return frames


class RawSender:
    """An AF_PACKET socket on a host's interface: frames as they are."""

    def __init__(self, host: r.Host):
        self.sock = host.ns.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.sock.bind((host.ifname, 0))
        self.mac = vpn.ifmac(host.ns, host.ifname)

    def send(self, frames) -> float:
        for f in frames:
            self.sock.send(f)
        return time.monotonic()

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------
# what is open at vnocd, seen from its namespace
# --------------------------------------------------------------------------

def proc_tcp_addr(ip: str) -> str:
    """An IPv4 address as /proc/net/tcp prints it (the __be32 in %08X)."""
    return "%08X" % struct.unpack("<I", socket.inet_aton(ip))[0]


class VnocdSockets:
    """vnocd's TCP connections from one site, read from
    /proc/<vnocd pid>/net/tcp (the table of vnocd's namespace). A
    connection whose receive queue holds bytes has a request (or a TLS
    ClientHello) that vnocd has not read: while vnocd is paused, every
    request the site started is one such connection."""

    def __init__(self, pid: int, peer: str, port: int):
        self.path = "/proc/%d/net/tcp" % pid
        self.peer = proc_tcp_addr(peer)
        self.port = "%04X" % port

    def read(self):
        """(connections from the peer, those with unread bytes)."""
        n = unread = 0
        with open(self.path) as f:
            next(f)
            for line in f:
                p = line.split()
                local, remote, state, queues = p[1], p[2], p[3], p[4]
                if state != "01" or local.split(":")[1] != self.port or \
                        remote.split(":")[0] != self.peer:
                    continue
                n += 1
                if int(queues.split(":")[1], 16) > 0:
                    unread += 1
        return n, unread


class Watch:
    """A thread that samples, for the whole test: A's requests unread at
    vnocd every 3 ms (with the phase the test is in), and every 50 ms A's
    VNOC client state and A's membership count in vnocd's database."""

    def __init__(self, sockets: VnocdSockets, device: r.Ivgmpd, db: str, site: str):
        self.sockets = sockets
        self.device = device
        self.db = db
        self.site = site
        self.phase = "before"
        self.unread = []                # (monotonic, phase, connections, unread)
        self.states = []                # (monotonic, state)
        self.members = []               # (monotonic, memberships of site at vnocd)
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _members(self, conn) -> int:
        return conn.execute("SELECT count(*) FROM memberships WHERE site = ?",
                            (self.site,)).fetchone()[0]

    def _run(self) -> None:
        import sqlite3
        tel = r.Telemetry(self.device.telemetry.path)
        conn = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=1.0)
        next_slow = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                try:
                    n, unread = self.sockets.read()
                    self.unread.append((now, self.phase, n, unread))
                    if now >= next_slow:
                        next_slow = now + 0.05
                        self.states.append((now, (tel.query("/ivgmp/vnoc") or {}).get("state")))
                        self.members.append((now, self._members(conn)))
                except Exception as e:      # noqa: BLE001 - a sample lost is said, not fatal
                    if len(self.errors) < 5:
                        self.errors.append(repr(e))
                self._stop.wait(0.003)
        finally:
            tel.close()
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def max_unread(self, phase: str) -> int:
        return max((u for _, p, _, u in self.unread if p == phase), default=0)


@contextlib.contextmanager
def paused(pid: int, watch: Watch, phase: str):
    """vnocd stopped (SIGSTOP, every thread) for the block, continued
    however the block ends."""
    def stopped() -> bool:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    os.kill(pid, signal.SIGSTOP)
    try:
        r.wait_until(stopped, 2, 0.005)
        watch.phase = phase
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
        watch.phase = phase + " over"


def in_flight(site: vpn.Site, kind: str):
    """A's groups with a JoinVpn ("join") or LeaveVpn ("leave") in flight."""
    return sorted(g for g, v in site.vnoc()["groups"].items()
                  if str(v.get("in_flight", "none")).startswith(kind))


def logged_spread(log: str, op: str, site: str, groups) -> str:
    """How many of groups vnocd logged op ("join", "leave") of site for,
    and over how long (first line to last, by vnocd's own timestamps)."""
    times = []
    for m in re.finditer(r"^\S+T(\d+):(\d+):(\d+\.\d+)Z vnocd: %s %s (\S+) " % (op, site),
                         log, re.M):
        if m.group(4) in groups:
            times.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
    if not times:
        return "none"
    return "%d over %.3f s" % (len(times), max(times) - min(times))


def vnocd_groups(vr: vpn.VpnRig, site: str):
    """{group: roles} of site in vnocd's database."""
    out = {}
    for grp, roles in vr.vnoc.sql("SELECT grp, roles FROM memberships WHERE site = '%s'"
                                  % site):
        out[socket.inet_ntoa(struct.pack("!I", int(grp)))] = int(roles)
    return out


def pause_until_open(site, watch, pid, phase, kind, send, wait):
    """Pause vnocd, send (the flood or its leave), wait (at most wait s) for
    the site's requests of kind to be in flight, sample what is unread at
    vnocd for PAUSE_SAMPLE_S; returns (sent at, seen open after, A's
    /ivgmp/vnoc and /ivgmp/limits in the pause)."""
    with paused(pid, watch, phase):
        sent_at = send()
        ok, took = r.wait_until(lambda: len(in_flight(site, kind)) >= MAX_INFLIGHT, wait, 0.01)
        time.sleep(PAUSE_SAMPLE_S)
        state = site.vnoc()
        limits = site.device.query("/ivgmp/limits") or {}
    return sent_at, (took if ok else None), state, limits


def test(rig, chk, args):
    with BoundedRig(rig, chk, args, sites=("A", "B"), site_hosts={"A": ("h1", "h2")},
                    vnoc_extra=["--heartbeat", str(VNOCD_HEARTBEAT_S)],
                    lan_filter="udp port %d" % PORT) as vr:
        a, b = vr.sites
        pid = vr.vnoc.proc.pid
        comm = open("/proc/%d/comm" % pid).read().strip()
        if not chk.equal(comm, "vnocd", "the process the rig started for the VNOC (pid %d)"
                         % pid):
            return
        a_conf = a.device.config
        chk.check("vnoc-max-groups %d" % MAX_GROUPS in a_conf and
                  "vnoc-max-inflight %d" % MAX_INFLIGHT in a_conf and
                  "vnoc-max" not in b.device.config,
                  "A's configuration has the bounds %d / %d, B's the defaults"
                  % (MAX_GROUPS, MAX_INFLIGHT))

        chk.section("1. B's host streams %s at %.0f/s, A's h1 joins it" % (G0, RATE))
        stream, listeners, members, ok = vr.stream_to_members(b, [a], G0, PORT, RATE,
                                                               tag="B-h1")
        la = listeners["A"]
        if not chk.check(ok, "A's host gets B's stream", "A %s" % a.summary()):
            return
        ok, _ = a.wait_granted(G0, "receiver", 5 * SLOW)
        chk.check(bool(ok), "A granted receiver for %s" % G0, "%s" % a.vnoc_group(G0))
        before = a.vnoc()
        chk.equal(sorted(before["groups"]), [G0], "A's VNOC groups before the flood")
        chk.equal(vnocd_groups(vr, "A"), {G0: 1}, "A's memberships at vnocd before the flood")
        base_hits = before.get("group_limit_hit")
        chk.equal(base_hits, 0, "A's group_limit_hit before the flood")

        sockets = VnocdSockets(pid, a.mgmt_address, vpn.VNOC_PORT)
        watch = Watch(sockets, a.device, vr.vnoc.db, "A")
        vr.threads.append(watch)
        # Quiet first: only A's long poll outstanding, and read by vnocd, so
        # that what is unread in the pause is the flood's.
        quiet, _ = r.wait_until(lambda: a.vnoc().get("pending_requests") == 1 and
                                a.vnoc().get("watch_outstanding") == 1 and
                                sockets.read()[1] == 0, 5 * SLOW, 0.05)
        chk.check(bool(quiet), "before the flood: A's only request the WatchUpdates long poll "
                  "(pending_requests 1), nothing of A's unread at vnocd", "%s, %s"
                  % (a.summary(), sockets.read()))

        chk.section("2. h2 joins %d groups (%d raw IGMPv3 reports); vnocd paused until A's "
                    "JoinVpns are open" % (N_FLOOD, -(-N_FLOOD // RECORDS_PER_REPORT)))
        flooder = RawSender(a.host("h2"))
        h2 = a.host("h2").addr
        joins = igmpv3_reports(flooder.mac, h2, TO_EX, FLOOD)
        refresh = igmpv3_reports(flooder.mac, h2, IS_EX, FLOOD)
        # With the leaves, the kept groups are reported again (as their
        # host would answer a query): their membership outlives the test.
        leaves = (igmpv3_reports(flooder.mac, h2, TO_IN, FLOOD[:-KEPT]) +
                  igmpv3_reports(flooder.mac, h2, IS_EX, STILL_WANTED))
        stream_before = stream.next_seq
        t_flood, seen, paused_vnoc, paused_limits = pause_until_open(
            a, watch, pid, "join pause", "join", lambda: flooder.send(joins), PAUSE_WAIT_S)
        t_resumed = time.monotonic()
        chk.measured("flood sent -> A's %d JoinVpn open at the paused vnocd" % MAX_INFLIGHT,
                     seen, "s")
        open_at_vnocd = watch.max_unread("join pause")
        chk.measured("A's requests unread at the paused vnocd (max of %d samples) / A's "
                     "connections to vnocd" % len([x for x in watch.unread
                                                   if x[1] == "join pause"]),
                     "%d / %d" % (open_at_vnocd, max((x[2] for x in watch.unread
                                                      if x[1] == "join pause"), default=0)))
        # Due: desired and not granted (the ones in flight among them).
        pend = [g for g, v in paused_vnoc["groups"].items() if v.get("desired") !=
                v.get("granted")]
        flying = [g for g, v in paused_vnoc["groups"].items() if v.get("in_flight") != "none"]
        chk.measured("A in the pause: groups held / JoinVpn in flight / JoinVpn due (in "
                     "flight or waiting) / group_limit_hit / inflight_limit_waits",
                     "%d / %d / %d / %s / %s" % (len(paused_vnoc["groups"]), len(flying),
                                                 len(pend), paused_vnoc.get("group_limit_hit"),
                                                 paused_vnoc.get("inflight_limit_waits")))
        lim = paused_limits.get("vnoc_inflight", {})
        chk.measured("A's /ivgmp/limits vnoc_inflight in the pause", lim)
        chk.equal(lim.get("in_use"), MAX_INFLIGHT, "A's /ivgmp/limits vnoc_inflight in_use "
                  "in the pause (JoinVpn/LeaveVpn in flight, what the bound counts)")
        chk.check(open_at_vnocd <= MAX_INFLIGHT, "at most vnoc-max-inflight (%d) of A's "
                  "requests open at vnocd while %d JoinVpn were due" % (MAX_INFLIGHT,
                                                                       len(pend)),
                  "%d open" % open_at_vnocd)
        chk.equal(open_at_vnocd, MAX_INFLIGHT, "A's requests open at the paused vnocd (the "
                  "flood fills the bound)")
        chk.equal(len(flying), MAX_INFLIGHT, "A's groups with a JoinVpn in flight in the pause")
        chk.check(len(pend) > MAX_INFLIGHT, "more JoinVpn due than in flight in the pause "
                  "(%d waiting)" % len(pend))

        drained = lambda: (len(vnocd_groups(vr, "A")) == MAX_GROUPS and
                           a.vnoc().get("pending_groups") == 0)
        ok, took = r.wait_until(drained, 10 * SLOW, 0.05)
        chk.measured("vnocd resumed -> A's %d groups all granted at vnocd" % MAX_GROUPS,
                     time.monotonic() - t_resumed if ok else None, "s")
        after = a.vnoc()
        held = vnocd_groups(vr, "A")
        flood_held = sorted(g for g in held if g in FLOOD)
        chk.measured("A's memberships at vnocd: all / of the flood", "%d / %d"
                     % (len(held), len(flood_held)))
        chk.equal(len(held), MAX_GROUPS, "A's memberships at vnocd after the flood "
                  "(vnoc-max-groups)")
        chk.check(G0 in held, "G0 still held at vnocd for A")
        chk.equal(len(after["groups"]), MAX_GROUPS, "groups A's VNOC client holds")
        chk.equal(sorted(after["groups"]), sorted(held), "A's client groups are vnocd's")
        chk.check(all(v.get("granted") == "receiver" for v in after["groups"].values()),
                  "every group A holds granted receiver")
        hits = after.get("group_limit_hit")
        chk.equal(hits, N_FLOOD - (MAX_GROUPS - 1), "A's group_limit_hit (each flood group "
                  "past the bound refused once)")
        waits = after.get("inflight_limit_waits") or 0
        chk.measured("A's inflight_limit_waits (per scheduling pass and waiting group)", waits)
        chk.check(waits > 0, "A's inflight_limit_waits > 0")
        limits = a.device.query("/ivgmp/limits") or {}
        print("    A's /ivgmp/limits: igmp_groups %s, vpn_groups %s, vnoc_groups %s"
              % (limits.get("igmp_groups"), limits.get("vpn_groups"), limits.get("vnoc_groups")))
        chk.equal((limits.get("igmp_groups") or {}).get("in_use"), N_FLOOD + 1,
                  "A's IGMP groups (the flood and G0: IGMP's own bound 4096 not met)")
        chk.equal((limits.get("vnoc_groups") or {}).get("in_use"), MAX_GROUPS,
                  "A's /ivgmp/limits vnoc_groups in_use")
        chk.measured("vnocd's log: joins of A for flood groups",
                     logged_spread(vr.vnoc.log(), "join", "A", set(FLOOD)))
        joined_log = set(re.findall(r"vnocd: join A (\S+) ", vr.vnoc.log()))
        chk.equal(len(joined_log & set(FLOOD)), MAX_GROUPS - 1,
                  "flood groups vnocd logged a join of A for")
        max_members = max((m for _, m in watch.members), default=None)
        chk.measured("A's memberships at vnocd, max of %d samples (every 50 ms)"
                     % len(watch.members), max_members)
        chk.check(max_members is not None and max_members <= MAX_GROUPS,
                  "vnocd never held more than vnoc-max-groups memberships for A")

        chk.section("3. the flood refreshed (IS_EX records): no new wish")
        flooder.send(refresh)
        time.sleep(0.5 * SLOW)
        chk.equal(a.vnoc().get("group_limit_hit"), hits, "A's group_limit_hit after the refresh")
        chk.equal(len(vnocd_groups(vr, "A")), MAX_GROUPS, "A's memberships at vnocd after the "
                  "refresh")

        chk.section("4. h2 leaves all but the last %d of %d (TO_IN({}) records); vnocd paused "
                    "until A's LeaveVpns are open" % (KEPT, N_FLOOD))
        chk.check(not set(STILL_WANTED) & set(held), "the groups h2 keeps were refused at the "
                  "bound (A's client holds none of them)")
        # The LeaveVpns are due LMQT (the group-specific queries go
        # unanswered) plus vpn-leave-hold after the TO_IN records.
        t_leave, seen, paused_vnoc, _ = pause_until_open(
            a, watch, pid, "leave pause", "leave", lambda: flooder.send(leaves),
            a.lmqt + a.timer("vpn-leave-hold") + PAUSE_WAIT_S)
        t_resumed = time.monotonic()
        flooder.close()
        chk.measured("leave sent -> A's LeaveVpn open at the paused vnocd (LMQT %.1f s + "
                     "vpn-leave-hold)" % a.lmqt, seen, "s")
        open_at_vnocd = watch.max_unread("leave pause")
        flying = [g for g, v in paused_vnoc["groups"].items()
                  if str(v.get("in_flight")).startswith("leave")]
        waiting = [g for g, v in paused_vnoc["groups"].items()
                   if v.get("desired") == "none" and v.get("granted") != "none"]
        chk.measured("A in the pause: LeaveVpn in flight / LeaveVpn due (in flight or "
                     "waiting) / requests unread "
                     "at vnocd", "%d / %d / %d" % (len(flying), len(waiting), open_at_vnocd))
        chk.check(open_at_vnocd <= MAX_INFLIGHT, "at most vnoc-max-inflight (%d) of A's "
                  "requests open at vnocd while %d LeaveVpn were due"
                  % (MAX_INFLIGHT, len(waiting)), "%d open" % open_at_vnocd)
        chk.equal(open_at_vnocd, MAX_INFLIGHT, "A's requests open at the paused vnocd (the "
                  "leaves fill the bound)")
        chk.equal(len(flying), MAX_INFLIGHT, "A's groups with a LeaveVpn in flight in the pause")

        after_leave = {g: 1 for g in [G0] + STILL_WANTED}
        ok, _ = r.wait_until(lambda: vnocd_groups(vr, "A") == after_leave and
                             sorted(a.vnoc()["groups"]) == sorted(after_leave), 10 * SLOW, 0.05)
        t_drained = time.monotonic()
        chk.measured("vnocd resumed -> A's memberships at vnocd: G0 and the %d still wanted"
                     % KEPT, t_drained - t_resumed if ok else None, "s")
        chk.equal(vnocd_groups(vr, "A"), after_leave, "A's memberships at vnocd after the "
                  "leave: G0 and the groups refused in the flood that h2 still wants")
        chk.equal(sorted(a.vnoc()["groups"]), sorted(after_leave), "groups A's VNOC client "
                  "holds after the leave")
        chk.measured("vnocd's log: leaves of A for flood groups",
                     logged_spread(vr.vnoc.log(), "leave", "A", set(FLOOD)))
        left_log = set(re.findall(r"vnocd: leave A (\S+) ", vr.vnoc.log()))
        chk.equal(sorted(left_log), flood_held, "flood groups vnocd logged a leave of A for "
                  "(those it held)")

        m1 = a.host().join(G1)
        ok, took = r.wait_until(lambda: vnocd_groups(vr, "A").get(G1) == 1 and
                                a.granted(G1) == "receiver", 5 * SLOW, 0.02)
        chk.measured("h1 joins %s -> A granted it, membership at vnocd" % G1,
                     took if ok else None, "s")
        chk.check(bool(ok), "a group joined after the flood left reaches vnocd (the slots were "
                  "freed)", "vnocd %s, A %s" % (vnocd_groups(vr, "A"), a.vnoc_group(G1)))
        chk.equal(a.vnoc().get("group_limit_hit"), hits, "A's group_limit_hit after %s (not "
                  "refused)" % G1)
        m1.close()

        chk.section("5. health: A's VNOC session, vnocd")
        time.sleep(0.3)
        watch.stop()
        final = a.vnoc()
        states = {}
        for _, s in watch.states:
            states[s] = states.get(s, 0) + 1
        chk.measured("A's VNOC client state in %d samples (every 50 ms)" % len(watch.states),
                     states)
        chk.check(set(states) == {"ready"}, "A's VNOC client 'ready' in every sample")
        chk.equal(watch.errors, [], "samples lost")
        keys = ("registrations", "retries", "transport_failures", "faults", "denials",
                "joins", "leaves", "requests", "responses")
        chk.measured("A's /ivgmp/vnoc " + " / ".join(keys),
                     " / ".join(str(final.get(k)) for k in keys))
        chk.equal(final.get("state"), "ready", "A's VNOC client state")
        chk.equal(final.get("registrations"), 1, "A's registrations (never registered again)")
        chk.equal(final.get("retries"), 0, "A's retries (no backoff)")
        chk.equal(final.get("transport_failures"), 0, "A's transport_failures")
        chk.equal(final.get("faults"), 0, "A's SOAP faults")
        chk.equal(final.get("denials"), 0, "A's denials")
        chk.equal(final.get("last_error"), "", "A's last_error")
        chk.equal(final.get("joins"), 1 + (MAX_GROUPS - 1) + KEPT + 1, "A's joins (G0, the %d "
                  "flood groups held, the %d still wanted, %s)" % (MAX_GROUPS - 1, KEPT, G1))
        chk.check((final.get("leaves") or 0) >= MAX_GROUPS - 1, "A's leaves >= %d"
                  % (MAX_GROUPS - 1), "%s" % final.get("leaves"))
        chk.equal(final.get("requests"), final.get("responses") + final.get("pending_requests"),
                  "A's requests = responses + pending (every request answered or open)")
        log = vr.vnoc.log()
        bad = [line for line in log.splitlines()
               if re.search(r"vnocd: (deny|refused|limit |store:|http:)", line)]
        chk.equal(bad, [], "vnocd log lines: deny, refused, limit, store or http error")
        chk.check(vr.vnoc.running(), "vnocd running")
        chk.check(b.ready(), "B's VNOC client ready", "%s" % b.summary())
        outside = max((u for _, p, _, u in watch.unread if "pause" not in p or "over" in p),
                      default=0)
        chk.measured("A's requests unread at vnocd outside the pauses, max of %d samples "
                     "(every 3 ms)" % len(watch.unread), outside)
        chk.check(outside <= MAX_INFLIGHT + 1, "outside the pauses at most vnoc-max-inflight "
                  "+ 1 (the long poll) of A's requests unread at vnocd", "%d" % outside)

        chk.section("6. %s from B to A's host through the flood" % G0)
        stream.stop()
        time.sleep(0.3)
        d = vpn.Delivery(stream, la)
        during = [q for q, x in stream.sent.items() if t_flood <= x[0] <= t_drained]
        chk.measured("datagrams B's host sent from the flood to the drain / in all",
                     "%d / %d (seq %d..%d during)" % (len(during), stream.count(),
                                                      min(during, default=-1),
                                                      max(during, default=-1)))
        chk.check(d.first_seq is not None and d.first_seq < stream_before,
                  "A's host got G0 before the flood", "first seq %s" % d.first_seq)
        d.check(chk, "A's host (G0)")
        missed = set(d.missing)
        missing_during = [q for q in during if q in missed]
        chk.equal(missing_during, [], "datagrams sent during the flood and the drain that A's "
                  "host missed")
        vpn.scenario_line(
            "flood %d groups: vnocd held %d for A (bound %d, max sampled %s), group_limit_hit "
            "%s, inflight_limit_waits %s; open at the paused vnocd: joins %d, leaves %d (bound "
            "%d), outside pauses max %d unread; drained to %s; %s granted; A ready, retries "
            "%s; G0 sent %d, A received %d, missing %d"
            % (N_FLOOD, len(held), MAX_GROUPS, max_members, hits, waits,
               watch.max_unread("join pause"), watch.max_unread("leave pause"), MAX_INFLIGHT,
               outside, sorted(vnocd_groups(vr, "A")), G1, final.get("retries"),
               stream.count(), d.count, len(d.missing)))


if __name__ == "__main__":
    vpn.main(test, "group_flood_stays_within_the_vnoc_bounds")
