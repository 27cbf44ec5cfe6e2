#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Every /ivgmp/ telemetry command answers with what the device really holds,
while it runs (doc/telemetry.rst).

The standard configuration (sites B C D E, their SAs; 239.1.1.1 sent to
B C D, 239.2.2.2 to B E, 239.9.9.9 received) and lan-address 192.168.1.1.
LAN in: 5 packets to 239.1.1.1 and 3 to 239.2.2.2 from 192.168.1.10, and an
IGMPv3 report joining 239.5.5.5 (EXCLUDE {}): 9 frames. WAN in: two ESP
packets from B to 239.9.9.9 (sequence numbers 1, 2) and the second once more
(a replay): 3 frames. ivgmpd keeps running (no --idle-exit); once its
counters show every frame, each command is asked over the telemetry socket:

  info     version from meson.build, ports net_pcap0/net_pcap1 and their
           MACs, lan and wan addresses, one worker on lcore 1, config path
  stats    ports.lan.rx_packets 9, ports.wan rx 3 and tx 21 (= esp_out_copies),
           drops == {esp_in_drop_replay: 1}, every worker.h counter flat
  sa       the 8 SAs by SPI, packets out to B 8, in from B 2, replay_drops 1;
           no key or salt anywhere in the reply
  sites    B C D E: addresses, udp_encap, outbound SPI, groups sent (B: 2),
           SA packets
  group,239.1.1.1   remote sites B C D with their SPIs, the LAN source,
                    role sender, sa_mode pairwise
  group,239.5.5.5   the LAN's IGMPv3 EXCLUDE membership, role receiver from
                    IGMP, no remote site
  igmp, groups, sources, vnoc   the report, the roles, the source, "disabled"
  group,notanaddress / group / group,10.0.0.1   an "error" entry (or null),
                    and the daemon still answers afterwards

dpdk-telemetry.py (Debian's dpdk-dev), when installed, gets every command in
one session too and must print one JSON reply each. Then SIGTERM: exit 0, the
exit report, no notice, warning or error from ivgmpd on stderr.
"""

import json
import os
import re
import shutil
import subprocess

import pcap_harness as h
from live_ivgmpd import LiveIvgmpd

LAN_ADDRESS = "192.168.1.1"
JOINED = "239.5.5.5"
REMOTE_SOURCE = "10.20.0.5"
COMMANDS = ["/ivgmp/info", "/ivgmp/stats", "/ivgmp/sa", "/ivgmp/sites", "/ivgmp/igmp",
            "/ivgmp/groups", "/ivgmp/group,239.1.1.1", "/ivgmp/group," + JOINED,
            "/ivgmp/sources", "/ivgmp/vnoc", "/ivgmp/limits"]


def project_version() -> str:
    with open(os.path.join(h.SOURCE_ROOT, "meson.build")) as f:
        return re.search(r"version:\s*'([^']+)'", f.read()).group(1)


def inputs(config):
    lan = [h.lan_udp("239.1.1.1", 120, i) for i in range(5)]
    lan += [h.lan_udp("239.2.2.2", 120, 10 + i) for i in range(3)]
    lan.append(h.lan_igmpv3_report("192.168.1.20", "02:00:00:00:01:14",
                                   [(2, JOINED, [])]))   # MODE_IS_EXCLUDE {}: a join
    peer = h.Peer(config, "B")
    inner = h.ipv4_udp("239.9.9.9", 90, 1, src=REMOTE_SOURCE)
    wan = [peer.esp_frame(inner, 1), peer.esp_frame(inner, 2), peer.esp_frame(inner, 2)]
    return lan, wan


def check_info(chk, info, dev, config):
    chk.section("/ivgmp/info")
    want = {"version": project_version(), "lan_port_name": "net_pcap0",
            "wan_port_name": "net_pcap1", "lan_mac": h.NET_PCAP_LAN_MAC,
            "wan_mac": h.NET_PCAP_WAN_MAC, "lan_address": LAN_ADDRESS,
            "wan_address": config.wan_address, "workers": 1, "worker_lcores": [1],
            "main_lcore": 0, "config": dev.config_path, "control": "static", "vnoc_urls": [],
            "sa_mode": "pairwise", "pid": dev.proc.pid}
    for key, value in want.items():
        chk.equal(info.get(key), value, "info %s" % key)
    chk.check(isinstance(info.get("uptime_s"), int), "info uptime_s %s" % info.get("uptime_s"))


def check_stats(chk, stats, n_lan, n_wan):
    chk.section("/ivgmp/stats")
    ports = stats.get("ports", {})
    lan, wan = ports.get("lan", {}), ports.get("wan", {})
    chk.equal(stats.get("lan_rx_packets"), n_lan, "lan_rx_packets (summed over workers)")
    chk.equal(lan.get("rx_packets"), n_lan, "ports.lan.rx_packets: the frames fed")
    chk.equal(wan.get("rx_packets"), n_wan, "ports.wan.rx_packets")
    chk.equal(wan.get("tx_packets"), 5 * 3 + 3 * 2, "ports.wan.tx_packets: one copy per site")
    chk.equal(stats.get("esp_out_copies"), 5 * 3 + 3 * 2, "esp_out_copies")
    chk.equal(lan.get("tx_packets"), stats.get("lan_tx_packets", 0) +
              stats.get("control_tx_packets", 0), "ports.lan.tx_packets: data and queries")
    chk.equal((lan.get("port_id"), lan.get("name"), wan.get("port_id"), wan.get("name")),
              (0, "net_pcap0", 1, "net_pcap1"), "ports: ids and names")
    for key in ("rx_bytes", "tx_bytes", "rx_missed", "rx_errors", "tx_errors"):
        chk.check(key in lan and key in wan, "ports lan and wan have %s" % key)
    chk.equal(stats.get("drops"), {"esp_in_drop_replay": 1}, "drops: the replay, nothing else")
    chk.equal(stats.get("drops_total"), 1, "drops_total")
    missing = [n for n in h.counter_names() if n not in stats]
    chk.equal(missing, [], "every worker.h counter is a flat key")


def check_sa(chk, sa, raw, config):
    chk.section("/ivgmp/sa")
    chk.equal(sorted(sa), sorted("0x%08x" % s.spi for s in config.sas), "one entry per SPI")
    out_b, in_b = sa.get("0x%08x" % config.sa("out", "B").spi, {}), \
        sa.get("0x%08x" % config.sa("in", "B").spi, {})
    chk.equal((out_b.get("direction"), out_b.get("site"), out_b.get("origin"), out_b.get("packets")),
              ("out", "B", "config", 8), "out to B: 8 packets")
    chk.equal((in_b.get("packets"), in_b.get("replay_drops"), in_b.get("highest_seq")), (2, 1, 2),
              "in from B: 2 packets, 1 replay, highest seq 2")
    keys = {k for entry in sa.values() for k in entry}
    chk.check(not any("key" in k or "salt" in k for k in keys), "no key or salt field",
              "fields %s" % sorted(keys))
    leaked = [s.spi for s in config.sas if s.keymat.hex() in raw.lower() or
              s.keymat[:-4].hex() in raw.lower()]
    chk.equal(leaked, [], "no SA's key bytes in the reply")


def check_sites(chk, sites, config):
    chk.section("/ivgmp/sites")
    chk.equal(sorted(sites), ["B", "C", "D", "E"], "sites")
    groups = {"B": 2, "C": 1, "D": 1, "E": 1}
    sent = {"B": 8, "C": 5, "D": 5, "E": 3}
    for s in config.sites:
        got = sites.get(s.name, {})
        chk.equal((got.get("name"), got.get("origin"), got.get("wan_address"), got.get("udp_encap"),
                   got.get("sa_out_spi"), got.get("groups"), got.get("sa_out_packets")),
                  (s.name, "config", s.addr, int(s.udp_encap), "0x%08x" % config.sa("out", s.name).spi,
                   groups[s.name], sent[s.name]), "site %s" % s.name)
    chk.equal(sites.get("B", {}).get("sa_in_packets"), 2, "site B sa_in_packets")


def check_groups(chk, dev, config):
    chk.section("/ivgmp/group,239.1.1.1")
    g = dev.query("/ivgmp/group,239.1.1.1")
    remote = g.get("remote_sites", {})
    chk.equal(sorted(remote), sorted(config.sites_of("239.1.1.1")), "remote sites B C D")
    for name, site in remote.items():
        chk.equal((site.get("sa_out_spi"), site.get("wan_address"), site.get("origin")),
                  ("0x%08x" % config.sa("out", name).spi, config.site(name).addr, "config"),
                  "remote site %s: SPI, address, origin" % name)
    chk.equal((g.get("group"), g.get("sa_mode"), g.get("scope_boundary"), g.get("lan_members")),
              ("239.1.1.1", "pairwise", 0, 0), "group, sa_mode, scope, LAN members")
    chk.equal(g.get("vpn", {}).get("role"), "sender", "vpn role: sender (a LAN source)")
    chk.equal(sorted(g.get("local_sources", {})), [h.LAN_HOST.replace(".", "_")],
              "local_sources: the LAN host")

    chk.section("/ivgmp/group,%s" % JOINED)
    j = dev.query("/ivgmp/group," + JOINED)
    igmp = j.get("igmp", {})
    chk.equal((j.get("lan_members"), igmp.get("filter_mode"), igmp.get("compat_version"),
               igmp.get("source_timers_ms")), (1, "exclude", 3, {}),
              "IGMPv3 EXCLUDE {} membership")
    chk.check(igmp.get("group_timer_ms", 0) > 0, "group timer running (%s ms)"
              % igmp.get("group_timer_ms"))
    chk.equal((j.get("vpn", {}).get("role"), j.get("vpn", {}).get("igmp")),
              ("receiver", "receiver"), "vpn role receiver, from IGMP")
    chk.equal((j.get("remote_sites"), j.get("lan_delivery")), ({}, "exclude"),
              "no remote site; the LAN gets every source (EXCLUDE {})")

    chk.section("/ivgmp/igmp, /ivgmp/groups, /ivgmp/sources, /ivgmp/vnoc")
    igmp_all = dev.query("/ivgmp/igmp")
    key = JOINED.replace(".", "_")
    chk.equal((igmp_all.get("rx_v3_reports"), igmp_all.get("querier"), sorted(igmp_all.get("groups", {}))),
              (1, "self", [key]), "igmp: one v3 report, querier, the joined group")
    roles = {k: v.get("role") for k, v in dev.query("/ivgmp/groups").items()}
    chk.equal((roles.get(key), roles.get("239_1_1_1"), roles.get("239_9_9_9")),
              ("receiver", "sender", "receiver"), "groups: roles")
    chk.equal(sorted(dev.query("/ivgmp/sources")), ["192_168_1_10_239_1_1_1", "192_168_1_10_239_2_2_2"],
              "sources")
    chk.equal(dev.query("/ivgmp/vnoc"), {"state": "disabled (no vnoc-url)"}, "vnoc")
    limits = dev.query("/ivgmp/limits")
    chk.equal({k: (v.get("limit"), v.get("in_use"), v.get("counter"), v.get("hits"))
               for k, v in limits.items() if k in ("igmp_groups", "vpn_sources")},
              {"igmp_groups": (4096, 1, "igmp_group_limit_hit", 0),
               "vpn_sources": (4096, 2, "group_source_limit_hit", 0)},
              "limits: one IGMP group, two sources, defaults, no hits")


def check_bad_parameters(chk, dev):
    chk.section("bad parameters")
    for command in ("/ivgmp/group,notanaddress", "/ivgmp/group", "/ivgmp/group,10.0.0.1"):
        reply = dev.query(command)
        chk.check(reply is None or (isinstance(reply, dict) and list(reply) == ["error"]),
                  "%s: an error, nothing else" % command, "got %s" % reply)
    chk.check(dev.proc.poll() is None and dev.query("/ivgmp/info").get("workers") == 1,
              "ivgmpd still answers")


def check_dpdk_telemetry_py(chk, dev):
    tool = shutil.which("dpdk-telemetry.py")
    if tool is None:
        print("  (dpdk-telemetry.py not installed: Debian package dpdk-dev)")
        return
    chk.section("dpdk-telemetry.py -f %s" % dev.prefix)
    listing = dev.query("/")
    chk.equal(sorted(c for c in listing if c.startswith("/ivgmp/")),
              sorted({c.split(",")[0] for c in COMMANDS}), "'/' lists every /ivgmp/ command")
    p = subprocess.run([tool, "-f", dev.prefix], input="\n".join(COMMANDS) + "\n",
                       capture_output=True, text=True, timeout=30)
    replies = {}
    for line in p.stdout.splitlines():
        replies.update(json.loads(line))
        print("    " + line[:300] + ("..." if len(line) > 300 else ""))
    chk.equal(p.returncode, 0, "exit code")
    # Commands with a parameter reply under the command's name: one is enough.
    chk.equal(sorted(replies), sorted({c.split(",")[0] for c in COMMANDS}), "a JSON reply per command")
    chk.check(all(isinstance(v, dict) and v for v in replies.values()), "no reply null or empty")


def test(binary, workdir, chk):
    config = h.standard_config()
    config.extra.append("lan-address " + LAN_ADDRESS)
    lan, wan = inputs(config)
    # NOTICE and above of ivgmpd's own logs: any of them on stderr is a finding.
    dev = LiveIvgmpd(binary, config, lan, wan, workdir, "telemetry",
                     eal_args=["--log-level=ivgmp.*:notice"])
    dev.start()
    try:
        fed = dev.wait_for(lambda: dev.query("/ivgmp/stats").get("lan_rx_packets") == len(lan) and
                           dev.query("/ivgmp/stats").get("wan_rx_packets") == len(wan) and
                           dev.query("/ivgmp/igmp").get("rx_v3_reports") == 1 and
                           len(dev.query("/ivgmp/sources")) == 2)
        chk.check(fed, "every frame counted and the membership learnt")
        check_info(chk, dev.query("/ivgmp/info"), dev, config)
        check_stats(chk, dev.query("/ivgmp/stats"), len(lan), len(wan))
        sa = dev.query("/ivgmp/sa")
        check_sa(chk, sa, json.dumps(sa), config)
        check_sites(chk, dev.query("/ivgmp/sites"), config)
        check_groups(chk, dev, config)
        check_bad_parameters(chk, dev)
        check_dpdk_telemetry_py(chk, dev)
    finally:
        code, out, err = dev.stop()
    chk.section("stop")
    chk.equal(code, 0, "exit code after SIGTERM")
    counters, _ = h.parse_report(out)
    chk.equal(counters.get("lan_rx_packets"), len(lan), "exit report lan_rx_packets")
    complaints = [line for line in err.splitlines() if line.startswith("ivgmpd")]
    chk.equal(complaints, [], "ivgmpd's notices, warnings and errors on stderr")

if __name__ == "__main__":
    h.main(test, "telemetry_endpoints_answer")
