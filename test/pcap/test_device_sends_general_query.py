#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The device is the IGMP querier of its LAN (RFC 3376 6.6): on start it sends
Startup Query Count general queries, Startup Query Interval apart.

Run 1: `lan-address 10.1.0.1`, `igmp-startup-count 2`, `igmp-startup-interval
200ms`, ivgmpd kept alive 1.5 s with no input. lan_out.pcap, read by
Wireshark's IGMP dissector (not ours), must hold exactly two IGMPv3 general
queries (type 0x11, group 0.0.0.0, no sources) from 10.1.0.1 to 224.0.0.1:
destination MAC 01:00:5e:00:00:01, the LAN port's source MAC, TTL 1, TOS 0xc0,
IP Router Alert, good IPv4 and IGMP checksums (RFC 3376 4); Max Resp Code
100 (10 s), QRV 2, QQIC 125, S clear (the section 8 defaults); their pcap
timestamps (taken by net_pcap at transmission) about 200 ms apart. With
net_pcap's single TX queue they leave through worker 0: control_tx_packets 2.

Run 2: the same without `lan-address`: the device listens but never queries
(a query from 0.0.0.0 would win every election): no IGMP on the LAN at all.
"""

import pcap_harness as h

LAN_ADDRESS = "10.1.0.1"
STARTUP_INTERVAL_MS = 200
KEEP_ALIVE_MS = 1500
# The management lcore steps every millisecond and sleeps between steps;
# the first query waits for the worker to start. Generous, but a query
# interval of 125 s or a missing startup interval falls far outside.
INTERVAL_SLACK_MS = (-40, 80)


def config(with_address):
    c = h.standard_config()
    if with_address:
        c.extra.append("lan-address " + LAN_ADDRESS)
    c.extra += ["igmp-startup-count 2",
                "igmp-startup-interval %dms" % STARTUP_INTERVAL_MS]
    return c


def test(binary, workdir, chk):
    chk.section("with lan-address %s: two general queries" % LAN_ADDRESS)
    run = h.run_ivgmpd(binary, config(True), [], [], workdir + "/querier", "query",
                       idle_exit_ms=KEEP_ALIVE_MS)
    print("  ivgmpd ran %.2f s, %d frames out on the LAN" % (run.seconds, len(run.lan_out)))
    queries = h.tshark_igmp(run.path("lan_out.pcap"))
    chk.equal(len(run.lan_out), 2, "frames on the LAN")
    chk.equal(len(queries), 2, "IGMP frames, as tshark reads them")
    for k, q in enumerate(queries, 1):
        print("  frame %d at %.6f: %s -> %s (%s), TTL %d TOS 0x%02x options %s, IGMPv%s type "
              "0x%02x checksum %s, group %s, max resp %s, S %s QRV %s QQIC %s, %s sources"
              % (q.frame, q.time, q.ip_src, q.ip_dst, q.eth_dst, q.ttl, q.tos, q.ip_options,
                 q.version, q.type or 0, "good" if q.checksum_good else "BAD", q.group,
                 q.max_resp, q.s, q.qrv, q.qqic, q.num_src))
        chk.check(q.eth_dst == "01:00:5e:00:00:01" and q.eth_src == h.NET_PCAP_LAN_MAC,
                  "query %d: Ethernet 01:00:5e:00:00:01 from the LAN port %s"
                  % (k, h.NET_PCAP_LAN_MAC), "%s from %s" % (q.eth_dst, q.eth_src))
        chk.check(q.ip_src == LAN_ADDRESS and q.ip_dst == h.IGMP_ALL_HOSTS,
                  "query %d: %s -> %s" % (k, LAN_ADDRESS, h.IGMP_ALL_HOSTS),
                  "%s -> %s" % (q.ip_src, q.ip_dst))
        chk.check(q.ttl == 1 and q.tos == 0xC0 and 148 in q.ip_options and q.ip_checksum_good,
                  "query %d: TTL 1, TOS 0xc0, Router Alert, IPv4 checksum good" % k,
                  "TTL %d TOS 0x%02x options %s checksum good %s"
                  % (q.ttl, q.tos, q.ip_options, q.ip_checksum_good))
        chk.check(q.version == 3 and q.type == 0x11 and q.checksum_good,
                  "query %d: tshark: IGMPv3, type 0x11, checksum good" % k,
                  "version %s type %s checksum good %s" % (q.version, q.type, q.checksum_good))
        chk.check(q.group == "0.0.0.0" and q.num_src == 0,
                  "query %d: general (group 0.0.0.0, no sources)" % k,
                  "group %s, %s sources" % (q.group, q.num_src))
        chk.check((q.max_resp, q.s, q.qrv, q.qqic) == (100, False, 2, 125),
                  "query %d: Max Resp Code 100, S clear, QRV 2, QQIC 125" % k,
                  "max resp %s S %s QRV %s QQIC %s" % (q.max_resp, q.s, q.qrv, q.qqic))
    if len(queries) >= 2:
        gap_ms = (queries[1].time - queries[0].time) * 1000
        low, high = (STARTUP_INTERVAL_MS + INTERVAL_SLACK_MS[0],
                     STARTUP_INTERVAL_MS + INTERVAL_SLACK_MS[1])
        chk.check(low <= gap_ms <= high,
                  "the second query %.1f ms after the first (Startup Query Interval %d ms, "
                  "within %d..%d)" % (gap_ms, STARTUP_INTERVAL_MS, low, high))
    membership = h.parse_membership(run.stdout)
    chk.equal(membership.get("igmp_tx_general_queries", 0), 2, "igmp_tx_general_queries")
    h.check_counters(chk, run.counters, {"control_tx_packets": 2})

    chk.section("without lan-address: no query")
    run = h.run_ivgmpd(binary, config(False), [], [], workdir + "/silent", "noquery",
                       idle_exit_ms=KEEP_ALIVE_MS)
    print("  ivgmpd ran %.2f s, %d frames out on the LAN" % (run.seconds, len(run.lan_out)))
    chk.check("no lan-address" in run.stdout, "ivgmpd says it never queries",
              run.stdout.splitlines()[0] if run.stdout else "no output")
    chk.equal(len(run.lan_out), 0, "frames on the LAN")
    chk.equal(len(h.tshark_igmp(run.path("lan_out.pcap"))), 0, "IGMP frames, as tshark reads them")
    chk.equal(h.parse_membership(run.stdout).get("igmp_tx_general_queries", 0), 0,
              "igmp_tx_general_queries")
    h.check_counters(chk, run.counters, {})
    chk.equal(run.counters.get("control_tx_packets", 0), 0, "counter control_tx_packets")


if __name__ == "__main__":
    h.main(test, "device_sends_general_query")
