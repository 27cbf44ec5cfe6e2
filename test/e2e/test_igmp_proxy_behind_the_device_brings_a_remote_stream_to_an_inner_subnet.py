#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
A site made of several subnets (issue #8; the paper, section 3.2, "receiver
problem", solved by IGMP proxying): the member is on an inner subnet behind
a router that runs igmpproxy, not on the device's LAN. Its membership
reaches ivgmpd only as the proxy's report, and the stream from a remote
site reaches it only through the device and the inner router.

    A: h1 10.71.0.11 sends G = 239.59.1.1 at 100/s
    B: LAN 10.72.0.0/24 (bridge), device 10.72.0.1, h1 .11 (idle)
       ns brtr, the inner router:
         upstream   veth <tag>bxu 10.72.0.254/24, a port of B's LAN bridge
         downstream veth <tag>bxd 10.199.0.1/24
         ip_forward 1, rp_filter 0 (A's source has no route back here),
         igmpproxy -d -v -v (the Debian package, run by the rig, killed at
         teardown): upstream bxu altnet 0.0.0.0/0, downstream bxd, quickleave
       ns bin1, the inner host: 10.199.0.11/24 on <tag>bxh, default route via
         10.199.0.1; an IGMPv3 host (igmpproxy queries in v2: its kernel
         answers in v2, as it would on any such subnet)
    All veths of the inner router and host: checksum offload off (ethtool).

  1. The inner host joins G (a socket join; its kernel reports to the inner
     router). igmpproxy joins G on its upstream interface: the router's
     kernel reports G on B's LAN from 10.72.0.254, the only reporter of G
     there. B's /ivgmp/igmp has G, B logs "VPN role none -> receiver", B is
     granted receiver (/ivgmp/vnoc) and vnocd accounts a join B receive G.
  2. A's stream reaches the inner host through B's device and the inner
     router (the kernel's multicast route that igmpproxy installed: the
     router's /proc/net/ip_mr_cache has (A's host, G) out of the downstream
     vif): every datagram from the first received, once, in order, byte for
     byte, from A's host.
  3. The inner host leaves: igmpproxy (quickleave) leaves G upstream at once,
     the router's kernel reports TO_IN({}) on B's LAN; B's device removes G
     after LMQT, stops delivering G on its LAN, gives up the receiver role
     after vpn-leave-hold ("receiver -> none"), and A's ESP copies to B
     stop, while A's host still sends.
  Measured: join -> role at B, join -> first datagram at the inner host,
  leave -> the proxy's leave on B's LAN, leave -> role gone, leave -> A's
  last copy to B.

Without an igmpproxy binary the test is skipped (77).
"""

import shutil
import subprocess
import sys
import time

import rig as r
import vpn_rig as vpn
import wire

G = "239.59.1.1"
PORT = 5059
RATE = 100.0                        # datagrams per second
WINDOW = 200                        # datagrams checked once the inner host gets the stream
INNER_SUBNET = "10.199.0"
ROUTER_DOWN = INNER_SUBNET + ".1"
INNER_HOST = INNER_SUBNET + ".11"
ROUTER_UP_HOST = 254                # the router's address on B's LAN: 10.72.0.254
PROXY_LEAVE_BOUND = 0.5             # inner host's leave -> proxy's leave on B's LAN (quickleave)
ROUND_TRIP_ALLOWANCE = 1.0          # one VNOC round trip: LeaveVpn, new view at A
QUIET = 2.0                         # A's copies to B must stay stopped this long

IGMPPROXY_CONF = """# written by test_igmp_proxy_behind_the_device_brings_a_remote_stream_to_an_inner_subnet.py
# Leave upstream as soon as the last downstream host leaves.
quickleave
# altnet 0.0.0.0/0: A's host (10.71.0.11) is on no subnet of this router.
phyint %(up)s upstream ratelimit 0 threshold 1
        altnet 0.0.0.0/0
phyint %(down)s downstream ratelimit 0 threshold 1
"""


def igmpproxy_binary():
    return shutil.which("igmpproxy")


class InnerRouter:
    """An inner router of site B with igmpproxy, and one host on its inner
    subnet, all made with the rig's helpers (the rig tears them down)."""

    def __init__(self, rig, site):
        lan = site.lan
        self.rig = rig
        self.up_address = "%s.%d" % (lan.subnet, ROUTER_UP_HOST)
        self.ns = rig.netns("brtr")
        host_ns = rig.netns("bin1")
        self.up_if, lan_port = rig.veth(self.ns, "bxu", lan.lan_ns, "bxp")
        self.down_if, host_if = rig.veth(self.ns, "bxd", host_ns, "bxh")
        # Checksum offload off on every veth whose kernel sends: the rig's rule.
        self.ns.run("ethtool", "-K", self.up_if, "tx", "off")
        self.ns.run("ethtool", "-K", self.down_if, "tx", "off")
        host_ns.run("ethtool", "-K", host_if, "tx", "off")
        self.ns.run("ip", "addr", "add", self.up_address + "/24", "dev", self.up_if)
        self.ns.run("ip", "addr", "add", ROUTER_DOWN + "/24", "dev", self.down_if)
        self.ns.sysctl("net.ipv4.ip_forward", 1)
        # A's host is not routable from here: a reverse-path check would drop
        # its datagrams before the multicast routing sees them.
        for conf in ("all", "default", self.up_if):
            self.ns.sysctl("net.ipv4.conf.%s.rp_filter" % conf, 0)
        self.ns.link_up(self.up_if)
        self.ns.link_up(self.down_if)
        lan.lan_ns.run("ip", "link", "set", lan_port, "master", lan.bridge_if)
        lan.lan_ns.link_up(lan_port)
        # The inner host: IGMPv3 (no forced version), like the rig's hosts.
        self.host = r.Host("in1", host_ns, host_if, INNER_HOST, 3)
        host_ns.run("ip", "addr", "add", INNER_HOST + "/24", "dev", host_if)
        host_ns.link_up(host_if)
        host_ns.run("ip", "route", "add", "default", "via", ROUTER_DOWN)
        rig.settle()
        self.cap = r.Capture(rig, self.ns, self.down_if, "inner", "igmp").start()
        self.conf_path = rig.path("igmpproxy.conf")
        self.log_path = rig.path("igmpproxy.log")
        self.proc = None

    def start(self, timeout=5.0):
        """igmpproxy in the foreground (-d: log on stderr, -v -v: debug),
        ready once the kernel has both vifs and the first query is out."""
        with open(self.conf_path, "w") as f:
            f.write(IGMPPROXY_CONF % {"up": self.up_if, "down": self.down_if})
        log = open(self.log_path, "w")
        self.proc = self.ns.spawn([igmpproxy_binary(), "-d", "-v", "-v", self.conf_path],
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                return True
            vifs = self.ns.run("cat", "/proc/net/ip_mr_vif").stdout
            return (self.up_if in vifs and self.down_if in vifs and
                    any(m.type == wire.IGMP_QUERY and m.ip_src == ROUTER_DOWN
                        for m in self.cap.igmp()))
        _, took = r.wait_until(ready, timeout, 0.05)
        if self.proc.poll() is not None:
            raise r.RigError("igmpproxy exited %s:\n%s" % (self.proc.returncode, self.log()))
        return took

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def mroutes(self):
        """The kernel's multicast forwarding cache: [(group, origin, iif, oifs)]."""
        rows = []
        for line in self.ns.run("cat", "/proc/net/ip_mr_cache").stdout.splitlines()[1:]:
            f = line.split()
            if len(f) >= 6:
                rows.append((hex_addr(f[0]), hex_addr(f[1]), int(f[2]), " ".join(f[6:])))
        return rows

    def vif_index(self, ifname):
        for line in self.ns.run("cat", "/proc/net/ip_mr_vif").stdout.splitlines()[1:]:
            f = line.split()
            if len(f) >= 2 and f[1] == ifname:
                return int(f[0])
        return None


def hex_addr(h):
    """/proc/net/ip_mr_cache's addresses: network order bytes printed as a
    little-endian word ("01013BEF" is 239.59.1.1)."""
    v = int(h, 16)
    return ".".join(str((v >> s) & 0xFF) for s in (0, 8, 16, 24))


def reports_about(cap, group, after_wall=0.0):
    """IGMP reports and leaves about group in a capture, after after_wall."""
    out = []
    for m in cap.igmp():
        if m.time < after_wall:
            continue
        if m.type in (wire.IGMP_V1_REPORT, wire.IGMP_V2_REPORT, wire.IGMP_V2_LEAVE) and \
                m.group == group:
            out.append(m)
        elif m.type == wire.IGMP_V3_REPORT and any(x.group == group for x in m.records):
            out.append(m)
    return out


def is_leave(m, group):
    """A v2 leave, or a v3 TO_IN({}) / BLOCK of everything: no more interest."""
    if m.type == wire.IGMP_V2_LEAVE:
        return m.group == group
    return m.type == wire.IGMP_V3_REPORT and any(
        x.group == group and x.name == "TO_IN" and not x.sources for x in m.records)


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, sites=("A", "B"),
                    lan_filter="igmp or udp port %d" % PORT, wan_filter="ip proto 50") as vr:
        a, b = vr.sites
        chk.section("inner router of site B, igmpproxy")
        router = InnerRouter(rig, b)
        took = router.start()
        chk.measured("igmpproxy up (both vifs, first query on the inner subnet) after", took, "s")
        print("  inner router: upstream %s %s on B's LAN, downstream %s %s; inner host %s on %s"
              % (router.up_if, router.up_address, router.down_if, ROUTER_DOWN, INNER_HOST,
                 router.host.ifname))
        try:
            scenario(vr, chk, a, b, router)
        finally:
            if chk.failures:
                print("  --- igmpproxy log (last lines; %s)" % ("running" if router.running()
                                                               else "exit %s" %
                                                               router.proc.returncode))
                print("\n".join("    " + l for l in router.log().splitlines()[-60:]))


def scenario(vr, chk, a, b, router):
    inner = router.host
    listener = vr.listen(inner, G, PORT)
    copies = vr.watch(a.device, "esp_out_copies")
    drops0 = {k: v for k, v in b.device.igmp().items() if k.startswith("drop_")}

    chk.section("0. A's host sends %s at %.0f/s; nobody listens yet" % (G, RATE))
    stream = vr.stream(a.host(), G, PORT, RATE, tag="A-h1")
    ok, took = a.wait_granted(G, "sender", 5)
    chk.check(bool(ok), "A's /ivgmp/vnoc: %s granted sender" % G, "%s" % a.vnoc_group(G))

    # ------------------------------------------------------------------ 1
    chk.section("1. the inner host joins %s: the proxy's report makes B a receiver" % G)
    t_join_wall = time.time()
    membership = inner.join(G)
    t_join = membership.joined_at
    granted, took_granted = b.wait_granted(G, "receiver", 10)
    b_role = b.device.wait_role(G, "receiver", t_join - 0.5, 1)
    state, _ = b.lan.wait_igmp_group(G, 1)
    chk.measured("inner host's join -> B's role receiver (log)",
                 None if b_role is None else b_role - t_join, "s")
    chk.measured("inner host's join -> B granted receiver (/ivgmp/vnoc)",
                 took_granted if granted else None, "s")
    inner_reports = reports_about(router.cap, G, t_join_wall - 0.1)
    print("    on the inner subnet: %s" % "; ".join(m.describe() for m in inner_reports))
    chk.check(bool(inner_reports) and all(m.ip_src == INNER_HOST for m in inner_reports),
              "the inner host reported %s on the inner subnet" % G)
    lan_reports = reports_about(b.cap, G, t_join_wall - 0.1)
    print("    on B's LAN: %s" % "; ".join(m.describe() for m in lan_reports))
    first = lan_reports[0] if lan_reports else None
    chk.check(first is not None, "a report of %s on B's LAN after the inner host's join" % G)
    chk.equal(sorted({m.ip_src for m in lan_reports}), [router.up_address],
              "reporters of %s on B's LAN (the inner router's upstream address only)" % G)
    if first is not None:
        chk.measured("inner host's join -> the proxy's report on B's LAN",
                     first.time - t_join_wall, "s")
        chk.check(first.ttl == 1 and first.router_alert and first.checksum_ok,
                  "the proxy's report: TTL 1, Router Alert, good checksum (%s)"
                  % first.describe())
    chk.check(bool(state), "B's /ivgmp/igmp has %s" % G, "groups %s" % b.device.igmp_groups())
    if state:
        print("    B /ivgmp/igmp %s: %s" % (G, state))
    drops1 = {k: v for k, v in b.device.igmp().items() if k.startswith("drop_")}
    chk.equal({k: v - drops0.get(k, 0) for k, v in drops1.items() if v != drops0.get(k, 0)}, {},
              "IGMP messages B's device refused since the join (drop_* of /ivgmp/igmp)")
    changes = [(old, new) for _, _, old, new in b.device.role_changes(G, t_join - 0.5)]
    chk.check(("none", "receiver") in changes, "B's log: %s VPN role none -> receiver" % G,
              "role changes %s" % changes)
    chk.check(bool(granted), "B's /ivgmp/vnoc: %s granted receiver" % G, "%s" % b.vnoc_group(G))
    rows, _ = r.wait_until(lambda: vr.accounting_has("B", G, "receive", "join"), 3, 0.1)
    chk.check(bool(rows), "vnocd accounting: B %s receive join" % G)
    if not granted:
        return

    # ------------------------------------------------------------------ 2
    chk.section("2. A's stream reaches the inner host through B's device and the inner router")
    got, _ = r.wait_until(lambda: listener.snapshot(), 10)
    if not chk.check(bool(got), "the inner host gets A's stream within 10 s",
                     "B delivered %d on its LAN; router mroutes %s; A %s"
                     % (len(b.delivered(G)), router.mroutes(), a.summary())):
        return
    t_first_rx = got[0][0]
    chk.measured("inner host's join -> first datagram at the inner host", t_first_rx - t_join,
                 "s")
    lo = stream.next_seq
    chk.check(stream.wait_sent(lo + WINDOW - 1, WINDOW / RATE + 5),
              "A's host sent datagrams %d..%d" % (lo, lo + WINDOW - 1))
    time.sleep(0.5)                 # the last ones through the VPN and the router
    win = vpn.Delivery(stream, listener, window=(lo, WINDOW))
    whole = vpn.Delivery(stream, listener)
    win.check(chk, "inner host, window %d..%d" % (lo, lo + WINDOW - 1))
    chk.measured("inner host: datagrams received / first seq", "%d / %s"
                 % (whole.count, whole.first_seq))
    chk.check(not whole.missing and whole.duplicates == 0 and whole.in_order,
              "inner host: every datagram from its first (seq %s) to the end (%d), once, "
              "in order" % (whole.first_seq, whole.expected),
              "missing %s, duplicates %d" % (whole.missing[:20], whole.duplicates))
    chk.equal(sorted({x[2] for x in listener.snapshot()}), [a.host().addr],
              "sources of what the inner host got")
    down_vif = router.vif_index(router.down_if)
    routes = [x for x in router.mroutes() if x[0] == G]
    print("    inner router ip_mr_cache for %s: %s (downstream vif %s)" % (G, routes, down_vif))
    chk.check(any(x[1] == a.host().addr and ("%d:" % down_vif) in x[3] for x in routes),
              "the inner router forwards (%s, %s) out of its downstream vif (igmpproxy's "
              "multicast route)" % (a.host().addr, G))
    ttls = sorted({f.ttl for f in b.delivered(G)})
    chk.measured("TTL of %s on B's LAN (A's host sent 8; the router needs > 1)" % G, ttls)

    # ------------------------------------------------------------------ 3
    chk.section("3. the inner host leaves: the proxy leaves upstream, B gives up the role")
    lmqt, hold = b.lmqt, b.timer("vpn-leave-hold")
    t_leave_wall = time.time()
    t_leave = membership.leave()
    sent_at_leave = stream.count()
    seen = {}

    def note(name, cond):
        if name not in seen and cond:
            seen[name] = time.monotonic() - t_leave

    def leave_done():
        note("gone", G not in b.device.igmp_groups())
        note("ungranted", b.granted(G) in (None, "none"))
        return copies.quiet_since(t_leave) >= QUIET and "ungranted" in seen
    bound = PROXY_LEAVE_BOUND + lmqt + hold + ROUND_TRIP_ALLOWANCE
    quiet, _ = r.wait_until(leave_done, bound + QUIET + 3, 0.02)
    sent_after = stream.count()
    leaves = [m for m in reports_about(b.cap, G, t_leave_wall - 0.05) if is_leave(m, G)]
    proxy_leave = leaves[0] if leaves else None
    proxy_leave_after = None if proxy_leave is None else proxy_leave.time - t_leave_wall
    inner_leaves = [m for m in reports_about(router.cap, G, t_leave_wall - 0.05)
                    if is_leave(m, G)]
    print("    on the inner subnet: %s" % "; ".join(m.describe() for m in inner_leaves))
    print("    on B's LAN: %s" % "; ".join(m.describe() for m in leaves))
    chk.check(bool(inner_leaves), "the inner host's leave on the inner subnet")
    chk.check(proxy_leave is not None and proxy_leave.ip_src == router.up_address,
              "the proxy's leave on B's LAN from %s (quickleave)" % router.up_address,
              "%s" % [m.describe() for m in reports_about(b.cap, G, t_leave_wall - 0.05)])
    chk.measured("inner host's leave -> the proxy's leave on B's LAN", proxy_leave_after, "s")
    chk.within(proxy_leave_after, 0.0, PROXY_LEAVE_BOUND, "the proxy leaves upstream at once")
    b_none = b.device.wait_role(G, "none", t_leave, 0.1)
    b_none = None if b_none is None else b_none - t_leave
    chk.measured("inner host's leave -> %s gone from B's /ivgmp/igmp (LMQT %.1f)" % (G, lmqt),
                 seen.get("gone"), "s")
    chk.measured("inner host's leave -> B's role none logged (vpn-leave-hold %.1f)" % hold,
                 b_none, "s")
    chk.measured("inner host's leave -> B no longer granted (/ivgmp/vnoc)",
                 seen.get("ungranted"), "s")
    chk.check(G not in b.device.igmp_groups(), "%s gone from B's /ivgmp/igmp" % G)
    changes = [(old, new) for _, _, old, new in b.device.role_changes(G, t_leave)]
    chk.check(("receiver", "none") in changes, "B's log: %s VPN role receiver -> none" % G,
              "role changes %s" % changes)
    base = proxy_leave_after or 0.0
    chk.within(None if b_none is None else b_none - base, lmqt + hold - 0.15,
               lmqt + hold + 0.5, "the proxy's leave -> B's role none: LMQT %.1f + "
               "vpn-leave-hold %.1f" % (lmqt, hold))
    last_lan = max((f.time for f in b.delivered(G)), default=None)
    lan_after = None if last_lan is None else last_lan - t_leave_wall - base
    chk.measured("the proxy's leave -> B's device last delivered %s on its LAN" % G, lan_after,
                 "s")
    chk.within(lan_after, lmqt - 0.15, lmqt + 0.3,
               "B's device delivers until LMQT (%.1f s) after the proxy's leave" % lmqt)
    last_copy = copies.last_increase()
    stop_after = None if last_copy is None else max(0.0, last_copy - t_leave)
    esp_ab = vr.esp(a, b)
    last_esp = max((f.time for f in esp_ab), default=None)
    wan_after = None if last_esp is None else last_esp - t_leave_wall
    chk.measured("inner host's leave -> A's esp_out_copies last increased", stop_after, "s")
    chk.measured("inner host's leave -> last ESP A -> B on the WAN", wan_after, "s")
    chk.check(bool(quiet), "A's copies to B stopped (%.0f s quiet) while A's host still sends "
              "(%d sent)" % (QUIET, sent_after))
    chk.within(wan_after, lmqt + hold - 0.15, bound,
               "last ESP A -> B: proxy's leave + LMQT %.1f + hold %.1f (+ %.1f VNOC round trip)"
               % (lmqt, hold, ROUND_TRIP_ALLOWANCE))
    chk.check(sent_after - sent_at_leave >= RATE * QUIET * 0.8,
              "A's host kept sending after the leave (%d datagrams)" % (sent_after - sent_at_leave))
    chk.check(router.running(), "igmpproxy still running")
    for k in ("esp_in_drop_unknown_spi", "esp_in_drop_icv_fail", "esp_in_drop_replay"):
        chk.equal(b.device.counters().get(k), 0, "B's %s" % k)
    vpn.scenario_line(
        "A sent %d, the inner host received %d (from seq %s, window %d/%d); join -> B role "
        "%s s, join -> first datagram %.2f s; leave -> proxy leave %s s, -> B role none %s s, "
        "-> last ESP A -> B %s s" % (stream.count(), whole.count, whole.first_seq, win.received,
                                     WINDOW, fmt(None if b_role is None else b_role - t_join),
                                     t_first_rx - t_join, fmt(proxy_leave_after), fmt(b_none),
                                     fmt(wan_after)))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    if igmpproxy_binary() is None:
        print("skipped: igmpproxy not installed (Debian package igmpproxy)")
        sys.exit(r.SKIP)
    vpn.main(test, "igmp_proxy_behind_the_device_brings_a_remote_stream_to_an_inner_subnet")
