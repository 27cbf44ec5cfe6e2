#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
An IGMP flood on the LAN costs the data path a counter increment and nothing
more: the worker hands IGMP frames to the management lcore through a token
bucket (`igmp-rate-limit N` a second, bursts of N) and counts the rest.

LAN input: 5,000 valid IGMPv3 reports (TTL 1, TOS 0xc0, Router Alert, built
by scapy's IGMPv3 layer; tshark vouches for their checksums) from random
hosts for random groups in 239.0.0.0/8, with 500 multicast data packets to
239.1.1.1 (sites B C D) spread evenly among them; `igmp-rate-limit 100`.

Checked: every data packet made one ESP copy per site (1,500, each decrypted
by tshark into the packet sent); lan_igmp counts all 5,000 reports;
lan_igmp_rate_limited is not zero, and with what the management lcore
received (igmp_rx_v3_reports plus any igmp_drop_*) adds up to 5,000; what
was handed over is at least one bucket (100) and at most one bucket plus
what the bucket refilled while ivgmpd ran; no ring overflow; ivgmpd exits 0.
"""

import collections
import random

import pcap_harness as h

RATE = 100
N_REPORTS = 5000
N_DATA = 500
DATA_GROUP = "239.1.1.1"          # B C D in the standard configuration
RECORD_TYPES = (2, 4, 1, 5)       # IS_EX, TO_EX, IS_IN {S}, ALLOW {S}


def reports(rng):
    """Valid IGMPv3 reports from random LAN hosts for random 239/8 groups."""
    out = []
    for i in range(N_REPORTS):
        host = "192.168.%d.%d" % (rng.randrange(1, 255), rng.randrange(1, 255))
        mac = "02:00:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4))
        records = []
        for _ in range(rng.randrange(1, 4)):
            group = "239.%d.%d.%d" % (rng.randrange(256), rng.randrange(256),
                                      rng.randrange(1, 256))
            rtype = rng.choice(RECORD_TYPES)
            sources = ["172.16.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
                       for _ in range(rng.randrange(1, 3))] if rtype in (1, 5) else []
            records.append((rtype, group, sources))
        out.append(h.lan_igmpv3_report(host, mac, records, note="report #%d" % i))
    return out


def test(binary, workdir, chk):
    rng = random.Random(20240611)
    config = h.standard_config()
    config.extra.append("igmp-rate-limit %d" % RATE)
    igmp = reports(rng)
    data = [h.lan_udp(DATA_GROUP, 60 + i % 200, i + 1, note="data #%d" % i)
            for i in range(N_DATA)]
    # One data packet after every ten reports.
    step = N_REPORTS // N_DATA
    lan_in = []
    for i in range(N_DATA):
        lan_in += igmp[i * step:(i + 1) * step]
        lan_in.append(data[i])
    print("  in: %d IGMPv3 reports and %d data packets to %s, igmp-rate-limit %d"
          % (N_REPORTS, N_DATA, DATA_GROUP, RATE))

    run = h.run_ivgmpd(binary, config, lan_in, [], workdir, "igmpflood")
    print("  ivgmpd ran %.2f s, %d frames out on the WAN" % (run.seconds, len(run.wan_out)))

    chk.section("the input, as tshark reads it")
    seen = h.tshark_igmp(run.path("lan_in.pcap"))
    chk.check(len(seen) == N_REPORTS and
              all(v.version == 3 and v.type == 0x22 and v.checksum_good and v.ttl == 1 and
                  148 in v.ip_options and v.ip_checksum_good for v in seen),
              "tshark: %d IGMPv3 reports, checksums good, TTL 1, Router Alert" % N_REPORTS,
              "%d IGMP frames, %d not so" % (len(seen), sum(
                  1 for v in seen if not (v.version == 3 and v.checksum_good and v.ttl == 1))))

    chk.section("data kept flowing: one ESP copy per site of every data packet")
    sites = config.sites_of(DATA_GROUP)
    copies = collections.Counter()
    views = h.tshark_esp(run.path("wan_out.pcap"), config)
    want_inner = [f.l3 for f in data]
    got_inner = collections.defaultdict(list)
    for number, raw in enumerate(run.wan_out, 1):
        w = h.parse_wan(raw)
        site = config.site_by_addr(w.dst)
        name = site.name if site else w.dst
        copies[name] += 1
        v = views.get(number)
        got_inner[name].append(v.inner if v and v.icv_good else None)
    for name in sites:
        chk.equal(copies[name], N_DATA, "ESP copies to site %s" % name)
        chk.check(got_inner[name] == want_inner,
                  "site %s: tshark decrypts the %d data packets, in order, ICV good"
                  % (name, N_DATA),
                  "%d of %d match" % (sum(1 for a, b in zip(got_inner[name], want_inner)
                                          if a == b), N_DATA))
    chk.equal(sorted(copies), sorted(sites), "sites that received copies")

    chk.section("the flood was counted and limited")
    c = run.counters
    m = h.parse_membership(run.stdout)
    limited = c.get("lan_igmp_rate_limited", 0)
    ring_full = c.get("lan_igmp_ring_full", 0)
    drops = {k: v for k, v in m.items() if k.startswith("igmp_drop_")}
    handed = m.get("igmp_rx_v3_reports", 0) + sum(drops.values())
    print("  lan_igmp %s, lan_igmp_rate_limited %s, lan_igmp_ring_full %s; management "
          "lcore received %d (igmp_rx_v3_reports %s, drops %s), igmp_rx_records %s"
          % (c.get("lan_igmp"), limited, ring_full, handed, m.get("igmp_rx_v3_reports"),
             drops or "none", m.get("igmp_rx_records")))
    chk.equal(c.get("lan_igmp"), N_REPORTS, "counter lan_igmp")
    chk.check(limited > 0, "counter lan_igmp_rate_limited > 0", "got %s" % limited)
    chk.equal(limited + ring_full + handed, N_REPORTS,
              "lan_igmp_rate_limited + lan_igmp_ring_full + handed over (%d)" % handed)
    chk.equal(drops, {}, "reports the management lcore refused")
    # The bucket starts full (RATE tokens) and refills at RATE a second.
    most = RATE + int(RATE * run.seconds) + 1
    chk.check(RATE <= handed <= most,
              "handed over %d: at least one bucket (%d), at most a bucket plus the refill "
              "over %.2f s (%d)" % (handed, RATE, run.seconds, most))

    chk.section("counters")
    n_copies = N_DATA * len(sites)
    h.check_counters(chk, c, {
        "lan_rx_packets": N_REPORTS + N_DATA,
        "lan_igmp": N_REPORTS,
        "lan_igmp_rate_limited": N_REPORTS - handed,
        "esp_out_copies": n_copies,
        "wan_tx_packets": n_copies,
    })
    chk.equal(len(run.lan_data), 0, "frames sent back on the LAN (IGMP aside)")

    chk.section("ivgmpd exits cleanly")
    chk.equal(run.returncode, 0, "exit status")
    chk.check("ivgmpd: counters" in run.stdout and "ivgmpd: membership" in run.stdout,
              "the exit report was printed")
    errors = [l for l in run.stderr.splitlines() if "ivgmpd" in l or "error" in l.lower()]
    chk.equal(errors, [], "ivgmpd's complaints on stderr")


if __name__ == "__main__":
    h.main(test, "igmp_flood_is_rate_limited_and_data_still_flows")
