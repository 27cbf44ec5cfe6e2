#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Administrative scope (RFC 2365): a group inside a `scope-boundary` never
crosses the VPN, in either direction, even when the configuration names it.

Configuration: the standard sites, `scope-boundary 239.255.0.0/16`, and
`group 239.255.1.1 send-to B` with `group 239.255.1.1 receive` (accepted:
the boundary wins over the group lines).

LAN -> WAN: data to 239.255.1.1 (configured), 239.255.0.0 and 239.255.255.255
(the edges, not configured) leave nothing on the WAN, each counted in
lan_drop_scope_boundary; data to 239.1.1.1 and 239.2.2.2 (outside) still
makes its ESP copies, which tshark decrypts.

WAN -> LAN: scapy's ESP from B and C whose inner group is 239.255.1.1 or
239.255.255.255 is decrypted (a good ICV, counted by its SA) and then
dropped, counted in inner_drop_scope_boundary; nothing of it reaches the
LAN; inner packets to 239.9.9.9 (outside, received) still do.
"""

import collections

import pcap_harness as h

BOUNDARY = "239.255.0.0/16"
SCOPED = "239.255.1.1"
EDGES = ("239.255.0.0", "239.255.255.255")
OUT_SEND = ("239.1.1.1", "239.2.2.2")     # B C D, B E
OUT_RECEIVE = "239.9.9.9"


def test(binary, workdir, chk):
    config = h.standard_config()
    config.extra.append("scope-boundary " + BOUNDARY)
    config.send.append((SCOPED, ["B"]))
    config.receive.append(SCOPED)

    # LAN: (frame, blocked?)
    lan_in, seed = [], 0
    for i in range(6):
        for group in (SCOPED, OUT_SEND[i % 2], EDGES[i % 2]):
            seed += 1
            lan_in.append(h.lan_udp(group, 80 + i, seed, note="lan %s #%d" % (group, i)))
    lan_blocked = [f for f in lan_in if f.group.startswith("239.255.")]
    lan_pass = [f for f in lan_in if not f.group.startswith("239.255.")]

    # WAN: ESP from B and C, inner to the scoped group, an edge, and outside.
    peers = {n: h.Peer(config, n) for n in "BC"}
    seq = collections.Counter()
    wan_in, wan_blocked, wan_pass = [], [], []
    for i in range(6):
        for group in (SCOPED, OUT_RECEIVE, EDGES[1]):
            name = "BC"[i % 2]
            seq[name] += 1
            l3 = h.ipv4_udp(group, 90 + i, 500 + len(wan_in), src="172.16.2.%d" % (10 + i),
                            ttl=8)
            wan_in.append(peers[name].esp_frame(l3, seq[name]))
            (wan_blocked if group.startswith("239.255.") else wan_pass).append(l3)
    for f in lan_in:
        print("  lan in: %-32s -> %s" % (f.note, "blocked" if f in lan_blocked else
                                         " ".join(config.sites_of(f.group))))
    print("  wan in: %d ESP packets from B and C, %d inner to %s, %d to %s"
          % (len(wan_in), len(wan_blocked), BOUNDARY, len(wan_pass), OUT_RECEIVE))

    run = h.run_ivgmpd(binary, config, lan_in, wan_in, workdir, "scope")
    print("  ivgmpd ran %.2f s: %d frames out on the WAN, %d on the LAN"
          % (run.seconds, len(run.wan_out), len(run.lan_data)))

    chk.section("LAN -> WAN: nothing of %s, everything outside it" % BOUNDARY)
    views = h.tshark_esp(run.path("wan_out.pcap"), config)
    sent = collections.defaultdict(list)       # site -> inner packets
    for number, raw in enumerate(run.wan_out, 1):
        w = h.parse_wan(raw)
        site = config.site_by_addr(w.dst)
        v = views.get(number)
        sent[site.name if site else w.dst].append(v.inner if v and v.icv_good else None)
    inner_groups = [h.ip_dst(p) for ps in sent.values() for p in ps if p]
    chk.equal([g for g in inner_groups if g.startswith("239.255.")], [],
              "WAN copies of groups inside %s" % BOUNDARY)
    for site in ("B", "C", "D", "E"):
        want = [f.l3 for f in lan_pass if site in config.sites_of(f.group)]
        chk.check(sent.get(site, []) == want,
                  "site %s: the %d packets outside the boundary, decrypted by tshark"
                  % (site, len(want)),
                  "got %d packets to %s" % (len(sent.get(site, [])),
                                            sorted({h.ip_dst(p) for p in sent.get(site, [])
                                                    if p})))

    chk.section("WAN -> LAN: nothing of %s, everything outside it" % BOUNDARY)
    lan_groups = [h.ip_dst(h.parse_lan(f).l3) for f in run.lan_data]
    chk.equal([g for g in lan_groups if g.startswith("239.255.")], [],
              "LAN frames of groups inside %s" % BOUNDARY)
    got = [h.parse_lan(f).l3 for f in run.lan_data]
    chk.check(got == [h.router_forwarded(p) for p in wan_pass],
              "LAN frames: the %d inner packets to %s, in order, TTL one less"
              % (len(wan_pass), OUT_RECEIVE),
              "got %d frames to %s" % (len(got), sorted({h.ip_dst(p) for p in got})))

    chk.section("counters and SA report")
    copies = sum(len(config.sites_of(f.group)) for f in lan_pass)
    h.check_counters(chk, run.counters, {
        "lan_rx_packets": len(lan_in),
        "lan_drop_scope_boundary": len(lan_blocked),
        "esp_out_copies": copies,
        "wan_tx_packets": copies,
        "wan_rx_packets": len(wan_in),
        "esp_in_packets": len(wan_in),
        "inner_drop_scope_boundary": len(wan_blocked),
        "lan_tx_packets": len(wan_pass),
    })
    for name in "BC":
        rep = run.sas.get(config.sa("in", name).spi, {})
        chk.equal((rep.get("packets"), rep.get("icv_failures"), rep.get("replay_drops")),
                  (seq[name], 0, 0),
                  "SA report in from %s: (packets, icv_failures, replay_drops): decrypted, "
                  "then dropped for scope" % name)
    # A scoped group stays in the site: it never gets a VPN role (the
    # JoinVpn the VNOC client would send), even when configured 'receive'.
    roles = [l for l in run.stdout.splitlines() if "VPN role" in l and "239.255." in l]
    chk.equal(roles, [], "VPN role changes for groups inside the boundary")
    out_b = run.sas.get(config.sa("out", "B").spi, {})
    chk.equal(out_b.get("packets"), sum(1 for f in lan_pass if "B" in config.sites_of(f.group)),
              "SA report out to B: packets (none for %s)" % SCOPED)


if __name__ == "__main__":
    h.main(test, "scope_boundary_blocks_both_directions")
