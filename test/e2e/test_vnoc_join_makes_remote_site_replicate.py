#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The VNOC alone builds the VPN: two sites with no site, sa or group line,
one vnocd over TLS, and a group's traffic goes from one site to the other
as soon as the VNOC has heard both, and stops when the receiver leaves.

    ns vnoc: vnocd, TLS, https://10.251.0.1:8443/vnoc, policy
             allow site * send|receive 239.0.0.0/8, sa-mode pairwise
      bridge mbr ── adev: 10.251.0.11 (management veth, kernel stack, libcurl)
                 └─ bdev: 10.251.0.12
    site A: ns adev ivgmpd (site-id A, wan 10.250.0.1), LAN 10.71.0.0/24, host ah1 .11
    site B: ns bdev ivgmpd (site-id B, wan 10.250.0.2), LAN 10.72.0.0/24, host bh1 .11
    ns wan: bridge wbr joining A's and B's WAN ports; wan-nexthop-mac
            02:00:00:00:00:fe is owned by nobody, so the bridge floods
            (vpn_rig.py says why that works for N sites)

  1. B's host joins G = 239.42.1.1 (kernel IGMPv3): B's role receiver ->
     JoinVpn receive -> B's /ivgmp/vnoc has G granted receiver.
  2. A's host sends a numbered stream to G, 20 datagrams/s: A discovers the
     sender -> JoinVpn send -> the next view gives A site B, an SA made by
     the VNOC and G sent to B. B's host gets the datagrams byte for byte,
     in order, no duplicates; nothing comes back to A's LAN; the WAN
     carries only ESP A -> B (no cleartext of G, the payloads nowhere);
     /ivgmp/sa at A has the outbound SA to B and B the inbound one with the
     same SPI; the ESP on the wire decrypts (scapy) with the key vnocd
     stored for A -> B.
  3. B's host leaves G: B's host stops getting it, B's device stops
     delivering after LMQT, A stops sending copies to B within LMQT +
     vpn-leave-hold + a VNOC round trip (esp_out_copies, the WAN capture).
  4. `vnocd accounting --db` has join rows A send, B receive, a leave row
     B receive (and, once A's sender went idle, a leave row A send).
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.42.1.1"
PORT = 5042
RATE = 20.0                     # datagrams per second
STREAM_AFTER_FIRST = 3.0        # seconds of stream checked once B gets it
WAN_A, WAN_B = "10.250.0.1", "10.250.0.2"
ROUND_TRIP_ALLOWANCE = 1.0      # one VNOC round trip: LeaveVpn, version, WatchUpdates
POLICY = """# written by test_vnoc_join_makes_remote_site_replicate.py
allow site * send 239.0.0.0/8
allow site * receive 239.0.0.0/8
sa-mode 239.0.0.0/8 pairwise
"""

BUG_SA_TELEMETRY = ("/ivgmp/sa lists only the SAs of the configuration: telemetry_sa() "
                    "(app/ivgmpd/ivgmpd_report.c) walks d->sas[0..d->n_sas) and "
                    "d->conf->sas, never d->vnoc.sas, so SAs made by the VNOC are invisible")


def vnoc_group(dev, group):
    return dev.vnoc_group(group)


def vnoc_summary(dev):
    v = dev.vnoc()
    keys = ("state", "view_version", "remote_sites", "sas", "registrations", "joins", "leaves",
            "views_applied", "watch_answers", "transport_failures", "faults", "last_error")
    return {k: v.get(k) for k in keys}


def view_logged(dev, after, match=lambda line: True):
    """The time of the first "VNOC view" log line after after that matches."""
    return next((t for t, line in dev.lines_since(after, "ivgmpd: VNOC view") if match(line)),
                None)


def sa_table(dev):
    return dev.query("/ivgmp/sa") or {}


def spi_of(key):
    return int(str(key), 16)


def test(rig, chk, args):
    chk.section("topology")
    with vpn.VpnRig(rig, chk, args, sites=("A", "B"), policy=POLICY,
                    lan_filter="igmp or udp port %d" % PORT, wan_filter="ip") as vr:
        a, b = vr.sites
        chk.equal((a.wan_address, b.wan_address), (WAN_A, WAN_B), "WAN addresses of A and B")
        sites = vr.vnoc.sql("SELECT id, wan FROM sites ORDER BY id")
        chk.equal([s[0] for s in sites], ["A", "B"], "sites registered at vnocd (CN of the "
                  "client certificates)")
        listener = vr.listen(b.host(), G, PORT)
        copies = vr.watch(a.device, "esp_out_copies")
        scenario(vr, chk, a, b, listener, copies)


def scenario(vr, chk, a, b, listener, copies):
    vnoc, ah1, bh1 = vr.vnoc, a.host(), b.host()
    cap_a, cap_b, cap_wan = a.cap, b.cap, vr.cap_wan
    a_lan_mac, b_lan_mac = a.lan_mac, b.lan_mac
    # ------------------------------------------------------------------ 1
    chk.section("1. B's host joins %s: JoinVpn receive, granted" % G)
    membership = bh1.join(G)
    t_join = membership.joined_at
    ok, took = r.wait_until(lambda: vnoc_group(b.device, G).get("granted") == "receiver", 10)
    t_b_granted = time.monotonic() if ok else None
    b_role = b.device.wait_role(G, "receiver", t_join - 0.5, 1)
    if b_role:
        chk.measured("B's join -> B's role receiver (group manager)", b_role - t_join, "s")
    chk.measured("B's join -> G granted receiver in B's /ivgmp/vnoc", took, "s")
    chk.check(bool(ok), "B's /ivgmp/vnoc: %s granted receiver" % G,
              "got %s" % vnoc_group(b.device, G))
    if not ok:
        return

    # ------------------------------------------------------------------ 2
    chk.section("2. A's host sends to %s at %.0f/s: B's host gets it through the VNOC's VPN"
                % (G, RATE))
    stream = vr.stream(ah1, G, PORT, RATE)
    got_first, took = r.wait_until(lambda: listener.snapshot(), 10)
    if not got_first:
        chk.check(False, "B's host receives A's stream within 10 s",
                  "A %s; A's /ivgmp/vnoc %s; A stats %s"
                  % (vnoc_group(a.device, G), vnoc_summary(a.device),
                     {k: v for k, v in a.device.counters().items() if v and "busy" not in k}))
        return
    t_first_sent = stream.first_time()
    t_first_rx = got_first[0][0]
    a_sender = a.device.wait_role(G, "sender", t_first_sent - 0.5, 1)
    a_view = view_logged(a.device, t_first_sent - 0.5, lambda l: "1 remote site(s)" in l)
    time.sleep(STREAM_AFTER_FIRST)
    a_grant = vnoc_group(a.device, G)
    chk.measured("first datagram sent -> A's role sender (local sender discovered)",
                 None if a_sender is None else a_sender - t_first_sent, "s")
    if a_sender is not None and a_view is not None:
        chk.measured("A's role sender (JoinVpn send) -> A's view with B logged", a_view - a_sender,
                     "s")
    chk.measured("first datagram sent -> first delivered at B's host", t_first_rx - t_first_sent,
                 "s")
    chk.measured("B's host join -> first delivered at B's host", t_first_rx - t_join, "s")
    chk.measured("  of which B's join -> B granted", t_b_granted - t_join, "s")
    chk.measured("  B granted -> first datagram sent (test's own pace)",
                 t_first_sent - t_b_granted, "s")
    chk.check(a_sender is not None, "A's role for %s became sender (log line)" % G)
    chk.equal(a_grant.get("granted"), "sender", "A's /ivgmp/vnoc %s granted" % G)
    sa_v = vnoc_summary(a.device)
    print("    A /ivgmp/vnoc: %s" % sa_v)
    print("    B /ivgmp/vnoc: %s" % vnoc_summary(b.device))
    chk.equal(sa_v.get("remote_sites"), 1, "A's /ivgmp/vnoc remote_sites (B, from the view)")
    check_delivery(chk, stream, listener, t_first_rx)
    check_roles(chk, a, b)
    check_sas(chk, vnoc, a, b, cap_wan)
    check_lans(chk, stream, cap_a, cap_b, a_lan_mac, b_lan_mac)

    # ------------------------------------------------------------------ 3
    chk.section("3. B's host leaves %s: B stops getting it, A stops sending copies to B" % G)
    lmqt, hold = b.lmqt, b.timer("vpn-leave-hold")
    before_leave = len(listener.snapshot())
    b_stats0 = b.device.stats()
    t_leave_wall = time.time()
    t_leave = membership.leave()
    # One loop timestamps every step of the leave, each from the leave.
    seen = {}

    def note(name, cond):
        if name not in seen and cond:
            seen[name] = time.monotonic() - t_leave

    def leave_done():
        note("gone", G not in b.device.igmp_groups())
        note("ungranted", vnoc_group(b.device, G).get("granted") in (None, "none"))
        note("a_view", vnoc_summary(a.device).get("remote_sites") == 0)
        # A keeps sending: its copies to B must stop, and stay stopped 2 s.
        return copies.quiet_since(t_leave) >= 2.0 and "a_view" in seen
    quiet, _ = r.wait_until(leave_done, lmqt + hold + 8, 0.02)
    b_none = b.device.wait_role(G, "none", t_leave, 0.1)
    b_none = None if b_none is None else b_none - t_leave
    a_view = view_logged(a.device, t_leave, lambda l: "0 remote site(s)" in l)
    a_view = None if a_view is None else a_view - t_leave
    last_copy = copies.last_increase()
    stop_after = None if last_copy is None else max(0.0, last_copy - t_leave)
    bound = lmqt + hold + ROUND_TRIP_ALLOWANCE
    chk.measured("B's leave -> %s gone from B's /ivgmp/igmp (LMQT %.1f)" % (G, lmqt),
                 seen.get("gone"), "s")
    chk.measured("B's leave -> B's role none logged (after vpn-leave-hold %.1f: LeaveVpn "
                 "sent)" % hold, b_none, "s")
    chk.measured("B's leave -> B's /ivgmp/vnoc no longer granted (LeaveVpn answered)",
                 seen.get("ungranted"), "s")
    chk.measured("B's leave -> A's view without B logged (WatchUpdates answered)", a_view, "s")
    chk.measured("B's leave -> A's /ivgmp/vnoc remote_sites 0", seen.get("a_view"), "s")
    if b_none is not None and a_view is not None:
        chk.measured("VNOC round trip: B's LeaveVpn -> A's new view", a_view - b_none, "s")
    chk.measured("B's leave -> A's esp_out_copies last increased (50 ms samples, stream "
                 "50 ms apart)", stop_after, "s")
    chk.check(G not in b.device.igmp_groups(), "%s gone from B's /ivgmp/igmp" % G)
    chk.check(bool(quiet), "A's esp_out_copies stopped increasing (2 s quiet) while A's host "
              "still sends (%d sent)" % stream.count())
    chk.within(stop_after, lmqt + hold - 0.15, bound,
               "A stops copies to B: LMQT %.1f + vpn-leave-hold %.1f (+ %.1f VNOC round trip)"
               % (lmqt, hold, ROUND_TRIP_ALLOWANCE))
    after = listener.snapshot()[before_leave:]
    late = [x for x in after if x[0] > t_leave + 0.05]
    chk.measured("datagrams at B's host after the leave (socket)", len(after))
    chk.check(not late, "B's host gets nothing 50 ms after its leave",
              "%d datagrams, last %.3f s after" % (len(late), late[-1][0] - t_leave) if late
              else "")
    # B's device: delivers on its LAN until the group is gone (LMQT).
    b_lan = [f for f in vpn.ip_frames(cap_b.path) if f.eth_src == vpn.mac_bytes(b_lan_mac)
             and f.dst == G and f.udp()]
    last_b_lan = max((f.time for f in b_lan), default=None)
    b_lan_after = None if last_b_lan is None else last_b_lan - t_leave_wall
    chk.measured("B's leave -> B's device last delivered %s on B's LAN (wire)" % G, b_lan_after,
                 "s")
    chk.within(b_lan_after, lmqt - 0.15, lmqt + 0.3,
               "B's device delivers until LMQT (%.1f s) after the leave, not longer" % lmqt)
    wan = vpn.ip_frames(cap_wan.path)
    esp_ab = [f for f in wan if f.src == WAN_A and f.dst == WAN_B and f.proto == 50]
    last_wan = max((f.time for f in esp_ab), default=None)
    wan_after = None if last_wan is None else last_wan - t_leave_wall
    chk.measured("B's leave -> last ESP A -> B on the WAN (capture)", wan_after, "s")
    chk.within(wan_after, lmqt + hold - 0.15, bound, "last ESP A -> B on the WAN after the leave")
    b_stats1 = b.device.stats()
    chk.measured("ESP copies B received after its group was gone (inner_drop_not_wanted: the "
                 "hold's cost)", b_stats1["inner_drop_not_wanted"] -
                 b_stats0["inner_drop_not_wanted"])
    for k in ("esp_in_drop_unknown_spi", "esp_in_drop_icv_fail", "esp_in_drop_replay",
              "wan_drop_not_for_us"):
        chk.equal(b_stats1.get(k), 0, "B's %s" % k)
    print("    A /ivgmp/vnoc after the leave: %s" % vnoc_summary(a.device))
    stats_a = a.device.counters()
    print("    A stats: %s" % ", ".join("%s %d" % kv for kv in stats_a.items()
                                       if kv[1] and "busy" not in kv[0]))

    # ------------------------------------------------------------------ 4
    chk.section("4. vnocd accounting --db")
    sent_total = stream.count()
    stream.stop()

    def wanted_rows(rows):
        have = {(x["site"], x["group"], x["role"], x["action"]) for x in rows}
        return have
    want = {("A", G, "send", "join"), ("B", G, "receive", "join"), ("B", G, "receive", "leave")}
    rows_ok, _ = r.wait_until(lambda: want <= wanted_rows(vnoc.accounting()[1]), 3, 0.1)
    # A's sender goes idle (source-idle-timeout), then the hold: A leaves too.
    idle = a.timer("source-idle-timeout")
    a_left, took_a_left = r.wait_until(
        lambda: ("A", G, "send", "leave") in wanted_rows(vnoc.accounting()[1]),
        idle + hold + 5, 0.2)
    text, rows = vnoc.accounting()
    print("    " + "\n    ".join(text.strip().splitlines()))
    have = wanted_rows(rows)
    for row in sorted(want):
        chk.check(row in have, "accounting row %s" % ",".join(row))
    chk.measured("A's stream stopped -> accounting leave row A send", took_a_left if a_left
                 else None, "s (source-idle-timeout %.1f + hold %.1f)" % (idle, hold))
    chk.check(bool(a_left), "accounting row A,%s,send,leave once A's sender went idle" % G)
    chk.equal(len([x for x in rows if x["action"] == "deny"]), 0, "accounting deny rows")
    chk.measured("datagrams A's host sent", sent_total)
    chk.check(vnoc.proc.poll() is None, "vnocd still running")
    for s in (a, b):
        chk.check(s.device.running(), "ivgmpd %s still running" % s.id)
    got = listener.snapshot()
    vpn.scenario_line("A sent %d, B received %d (seq %s..%s, until its leave), join latency "
                      "%.2f s, A's copies to B stopped %s s after B's leave"
                      % (sent_total, len(got), vpn.payload_seq(got[0][3]) if got else "-",
                         vpn.payload_seq(got[-1][3]) if got else "-", t_first_rx - t_join,
                         "-" if stop_after is None else "%.2f" % stop_after))


def check_delivery(chk, stream, listener, t_first_rx):
    """What B's host got: A's datagrams, byte for byte, in order, each once,
    none missing after the first."""
    got = listener.snapshot()
    seqs = [vpn.payload_seq(x[3]) for x in got]
    sent = stream.sent
    sent_n = stream.count()
    first = seqs[0] if seqs else None
    chk.measured("datagrams sent by A's host so far", sent_n)
    chk.measured("datagrams received by B's host", len(got))
    chk.measured("first seq received (earlier ones sent before the VPN existed)", first)
    srcs = sorted({x[2] for x in got})
    chk.equal(srcs, ["10.71.0.11"], "source of what B's host got")
    chk.check(all(s is not None and s in sent and sent[s][2] == x[3]
                  for s, x in zip(seqs, got)),
              "every datagram at B's host byte-identical to the one A's host sent")
    chk.equal(len(seqs), len(set(seqs)), "no duplicates at B's host (count == distinct)")
    chk.check(seqs == sorted(seqs), "in order at B's host")
    if first is not None:
        # Everything A's host sent from `first` until 0.3 s ago must be there.
        horizon = time.monotonic() - 0.3
        expected = [s for s in range(first, sent_n) if sent[s][0] < horizon]
        missing = sorted(set(expected) - set(seqs))
        chk.check(not missing, "no gap after the first delivered datagram (%d expected)"
                  % len(expected), "missing %s" % missing[:20])
        lat = [x[0] - sent[s][0] for s, x in zip(seqs, got) if s in sent]
        lat.sort()
        chk.measured("one-way latency A's host -> B's host, median / max",
                     "%.2f / %.2f ms" % (1000 * lat[len(lat) // 2], 1000 * lat[-1]))


def check_roles(chk, a, b):
    a_roles = [(c[2], c[3]) for c in a.device.role_changes(G)]
    b_roles = [(c[2], c[3]) for c in b.device.role_changes(G)]
    print("    role changes for %s: A %s; B %s" % (G, a_roles, b_roles))
    chk.check(not any("receiver" in new for _, new in a_roles),
              "A never receiver of %s (nothing comes back to it)" % G, "%s" % a_roles)
    chk.check(not any("sender" in new for _, new in b_roles),
              "B never sender of %s (it does not mistake its own deliveries for a local "
              "sender)" % G, "%s" % b_roles)


def check_sas(chk, vnoc, a, b, cap_wan):
    """The SA A -> B: made by the VNOC (its database), in A's and B's
    /ivgmp/sa with one SPI, on the wire, and its key decrypts the wire."""
    db = vnoc.sql("SELECT from_site, to_site, spi, aead, hex(key), hex(salt) FROM sas "
                  "ORDER BY id")
    print("    vnocd's SAs: %s" % [(x[0], x[1], "0x%08x" % int(x[2]), x[3]) for x in db])
    ab = [x for x in db if x[0] == "A" and x[1] == "B"]
    chk.equal(len(ab), 1, "SAs A -> B in vnocd's database")
    chk.equal(len([x for x in db if x[0] == "B"]), 0, "SAs from B (B sends nothing)")
    spi_db = int(ab[0][2]) if ab else None
    sa_a, sa_b = sa_table(a.device), sa_table(b.device)
    print("    A /ivgmp/sa: %s" % sa_a)
    print("    B /ivgmp/sa: %s" % sa_b)
    out_a = {spi_of(k): v for k, v in sa_a.items() if v.get("direction") == "out"
             and v.get("site") == "B"}
    in_b = {spi_of(k): v for k, v in sa_b.items() if v.get("direction") == "in"
            and v.get("site") == "A"}
    bug = BUG_SA_TELEMETRY if not sa_a and not sa_b else None
    chk.check(len(out_a) == 1 and spi_db in out_a,
              "A's /ivgmp/sa: one outbound SA to B, SPI the VNOC's (0x%08x)" % (spi_db or 0),
              "got %s" % sa_a, bug=bug)
    chk.check(len(in_b) == 1 and spi_db in in_b,
              "B's /ivgmp/sa: the inbound SA from A with the same SPI",
              "got %s" % sa_b, bug=bug)
    if out_a and in_b:
        chk.check(set(out_a) == set(in_b), "A's outbound SPI == B's inbound SPI")
        o, i = out_a.get(spi_db, {}), in_b.get(spi_db, {})
        chk.measured("SA 0x%08x packets A out / B in" % spi_db,
                     "%s / %s" % (o.get("packets"), i.get("packets")))

    # The wire: only ESP between A and B, from A to B, with the VNOC's SPI.
    wan = vpn.ip_frames(cap_wan.path)
    ab_frames = [f for f in wan if {f.src, f.dst} == {WAN_A, WAN_B}]
    esp_ab = [f for f in ab_frames if f.proto == 50 and f.src == WAN_A]
    protos = sorted({f.proto for f in ab_frames})
    chk.measured("frames between A and B on the WAN bridge", len(ab_frames),
                 "(ESP A -> B %d, IP protocols %s)" % (len(esp_ab), protos))
    chk.equal(protos, [50], "IP protocols between A and B on the WAN")
    chk.equal(len([f for f in ab_frames if f.src == WAN_B]), 0,
              "frames B -> A on the WAN (B sends nothing)")
    chk.equal(len([f for f in wan if f.dst == G or f.proto == 17]), 0,
              "cleartext UDP / %s anywhere on the WAN" % G)
    chk.equal(len([f for f in wan if vpn.MARK in f.frame]), 0,
              "WAN frames with the stream's payload in the clear")
    spis = sorted({f.spi for f in esp_ab})
    chk.equal(spis, [spi_db], "SPIs of ESP A -> B on the wire (the VNOC's)")
    seqs = [f.esp_seq for f in esp_ab]
    chk.check(seqs == list(range(1, len(seqs) + 1)),
              "ESP sequence numbers 1, 2, ... %d on the wire" % len(seqs),
              "got %s" % seqs[:10])
    chk.check(all(f.eth_dst == vpn.mac_bytes("02:00:00:00:00:fe") for f in esp_ab),
              "ESP to the wan-nexthop-mac 02:00:00:00:00:fe")
    if ab and esp_ab:
        decrypt_check(chk, ab[0], esp_ab)


def decrypt_check(chk, sa_row, esp_frames):
    """scapy decrypts the wire's ESP with the key and salt vnocd stored:
    the keys in use are the VNOC's (and the ICVs good)."""
    try:
        import logging
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy.layers.inet import IP, UDP
        from scapy.layers.ipsec import ESP, SecurityAssociation
    except ImportError:
        print("    (no scapy: the wire's ESP not decrypted)")
        return
    key, salt = bytes.fromhex(sa_row[4]), bytes.fromhex(sa_row[5])
    sa = SecurityAssociation(ESP, spi=int(sa_row[2]), crypt_algo="AES-GCM",
                             crypt_key=key + salt,
                             tunnel_header=IP(src=WAN_A, dst=WAN_B))
    good, bad, inner_ok = 0, 0, 0
    for f in esp_frames:
        try:
            inner = sa.decrypt(IP(bytes(f.ip)))
        except Exception:
            bad += 1
            continue
        good += 1
        if inner.haslayer(UDP) and inner[IP].dst == G and inner[UDP].dport == PORT and \
                bytes(inner[UDP].payload).startswith(vpn.MARK):
            inner_ok += 1
    chk.measured("ESP A -> B decrypted with vnocd's key (AES-GCM-%d)" % (8 * len(key)),
                 "%d good, %d failed" % (good, bad))
    chk.check(good == len(esp_frames) and bad == 0,
              "every ESP A -> B decrypts with the key and salt vnocd issued")
    chk.equal(inner_ok, len(esp_frames), "decrypted: UDP to %s:%d with the stream's payload"
              % (G, PORT))


def check_lans(chk, stream, cap_a, cap_b, a_lan_mac, b_lan_mac):
    """A's LAN: the host's datagrams once each, nothing from the device.
    B's LAN: each delivered once, from B's device."""
    a_frames = [f for f in vpn.ip_frames(cap_a.path) if f.dst == G and f.udp()]
    from_a_dev = [f for f in a_frames if f.eth_src == vpn.mac_bytes(a_lan_mac)]
    a_seqs = [vpn.payload_seq(f.udp()[2]) for f in a_frames
              if f.eth_src != vpn.mac_bytes(a_lan_mac)]
    chk.equal(len(from_a_dev), 0, "datagrams to %s that A's device put on A's LAN" % G)
    chk.equal(len(a_seqs), len(set(a_seqs)), "each of A's host's datagrams once on A's LAN")
    b_frames = [f for f in vpn.ip_frames(cap_b.path) if f.dst == G and f.udp()]
    b_seqs = [vpn.payload_seq(f.udp()[2]) for f in b_frames]
    chk.check(all(f.eth_src == vpn.mac_bytes(b_lan_mac) for f in b_frames),
              "%s on B's LAN only from B's device" % G)
    chk.equal(len(b_seqs), len(set(b_seqs)), "each datagram once on B's LAN (count == distinct)")
    ttls = sorted({f.ttl for f in b_frames})
    chk.measured("TTL on B's LAN (A's host sent 8)", ttls)


if __name__ == "__main__":
    vpn.main(test, "vnoc_join_makes_remote_site_replicate")
