#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Extended sequence numbers both ways, and SA lifetimes.

Site B has `esn` on both SAs (RFC 4303 2.2.1, RFC 4106 5: the high half of
the sequence number is in the AAD, not on the wire). Site C has
`lifetime-packets` on both: 5 out, 4 in.

  out: scapy (esn_en, high half 0) opens every copy ivgmpd sent B, and the
       same packet does NOT open without ESN: the high half really is in the
       AAD. C gets 5 of the 8 packets, then esp_out_drop_sa_expired.
  in:  ivgmpd accepts scapy's ESN packets (high half 0), rejects one made
       without ESN and one claiming high half 1 (it must infer 0), and still
       accepts the next genuine one. C's fifth and sixth packets are dropped
       as esp_in_drop_sa_expired.
"""

import pcap_harness as h
from scapy.layers.ipsec import IPSecIntegrityError

GROUP_OUT, GROUP_IN = "239.1.1.1", "239.9.9.9"
N_LAN = 8
OUT_LIFETIME, IN_LIFETIME = 5, 4


def esn_config() -> h.Config:
    sites = [h.Site("B", "10.99.0.2"), h.Site("C", "10.99.0.3", udp_encap=True)]
    sas = [h.SA("out", "B", 0x1002, "aes-gcm-256", h.keymat("aes-gcm-256", 21), esn=True),
           h.SA("in", "B", 0x2001, "aes-gcm-128", h.keymat("aes-gcm-128", 22), esn=True),
           h.SA("out", "C", 0x1003, "aes-gcm-128", h.keymat("aes-gcm-128", 23),
                options="lifetime-packets %d" % OUT_LIFETIME),
           h.SA("in", "C", 0x3001, "aes-gcm-256", h.keymat("aes-gcm-256", 24),
                options="lifetime-packets %d" % IN_LIFETIME)]
    return h.Config(sites=sites, sas=sas, send=[(GROUP_OUT, ["B", "C"])], receive=[GROUP_IN])


def wan_input(config):
    """(note, frame, inner, delivered?) from B and C."""
    b, c = h.Peer(config, "B"), h.Peer(config, "C")
    out, seed = [], 700

    def add(peer, seq, note, delivered, **kw):
        nonlocal seed
        seed += 1
        l3 = h.ipv4_udp(GROUP_IN, 80 + seed % 5, seed, src=peer.site.addr)
        out.append(("%s seq %d: %s" % (peer.site.name, seq, note),
                    peer.esp_frame(l3, seq, **kw), l3, delivered))

    for seq in range(1, 5):
        add(b, seq, "ESN, high half 0", True)
    add(b, 5, "made without ESN (8-byte AAD)", False, esn=False)
    add(b, 6, "ESN, high half 1 (ivgmpd must infer 0)", False, esn_hi=1)
    add(b, 7, "ESN, high half 0, after two forgeries", True)
    for seq in range(1, 7):
        add(c, seq, "lifetime-packets %d" % IN_LIFETIME, seq <= IN_LIFETIME)
    return out


def test(binary, workdir, chk):
    config = esn_config()
    lan = [h.lan_udp(GROUP_OUT, 50 + 13 * i, 600 + i) for i in range(N_LAN)]
    wan = wan_input(config)
    for note, _, _, delivered in wan:
        print("  in: %-50s -> %s" % (note, "LAN" if delivered else "dropped"))

    run = h.run_ivgmpd(binary, config, lan, [f for _, f, _, _ in wan], workdir, "esn")
    print("  ivgmpd ran %.2f s: %d frames out on the WAN, %d on the LAN"
          % (run.seconds, len(run.wan_out), len(run.lan_data)))
    wan_out = [h.parse_wan(raw) for raw in run.wan_out]

    chk.section("out to B, ESN: scapy opens each copy")
    peer_b = h.Peer(config, "B")
    to_b = [w for w in wan_out if w.dst == "10.99.0.2"]
    chk.equal([w.seq for w in to_b], list(range(1, N_LAN + 1)), "B: sequence numbers (low half)")
    for k, (w, orig) in enumerate(zip(to_b, lan), 1):
        chk.equal(open_or_none(peer_b, w, esn=True), orig.l3, "B #%d: scapy ESN opens it" % k)
        chk.check(open_or_none(peer_b, w, esn=False) is None,
                  "B #%d: without ESN the ICV fails (the high half is in the AAD)" % k)

    chk.section("out to C, lifetime-packets %d" % OUT_LIFETIME)
    peer_c = h.Peer(config, "C")
    to_c = [w for w in wan_out if w.dst == "10.99.0.3"]
    chk.equal([w.seq for w in to_c], list(range(1, OUT_LIFETIME + 1)), "C: sequence numbers")
    views = h.tshark_esp(run.path("wan_out.pcap"), config)
    for k, (w, orig) in enumerate(zip(to_c, lan), 1):
        chk.equal(open_or_none(peer_c, w), orig.l3, "C #%d: scapy opens it" % k)
    chk.equal(sorted((v.seq, v.icv_good, v.inner) for v in views.values() if v.spi == 0x1003),
              [(k, True, f.l3) for k, f in enumerate(lan[:OUT_LIFETIME], 1)],
              "C: tshark (seq, ICV good, inner)")

    chk.section("in: what reached the LAN")
    want = [h.router_forwarded(l3) for _, _, l3, ok in wan if ok]
    got = [h.parse_lan(raw).l3 for raw in run.lan_data]
    chk.equal(len(got), len(want), "LAN frames")
    for k, (g, w_) in enumerate(zip(got, want), 1):
        chk.equal(g, w_, "LAN frame %d" % k)

    chk.section("counters and SA report")
    n_out = N_LAN + OUT_LIFETIME
    delivered = sum(1 for *_, ok in wan if ok)
    h.check_counters(chk, run.counters, {
        "lan_rx_packets": N_LAN, "esp_out_copies": n_out, "wan_tx_packets": n_out,
        "esp_out_drop_sa_expired": N_LAN - OUT_LIFETIME,
        "wan_rx_packets": len(wan), "esp_in_packets": delivered, "lan_tx_packets": delivered,
        "esp_in_drop_icv_fail": 2, "esp_in_drop_sa_expired": 6 - IN_LIFETIME})
    rep = run.sas.get(0x1003, {})
    chk.equal(rep.get("expired_drops"), N_LAN - OUT_LIFETIME, "SA report out 0x1003 to C: expired_drops")
    # What the report calls its "packets" is sa_report_counts_only_sent_packets' business.
    chk.equal(run.sas.get(0x1002, {}).get("packets"), N_LAN, "SA report out 0x1002 to B: packets")
    rep = run.sas.get(0x2001, {})
    chk.equal((rep.get("packets"), rep.get("icv_failures")), (5, 2),
              "SA report in 0x2001 from B: (packets, icv_failures)")
    chk.equal(run.sas.get(0x3001, {}).get("packets"), IN_LIFETIME,
              "SA report in 0x3001 from C: packets")


def open_or_none(peer, wan_frame, esn=None):
    try:
        return peer.decrypt(wan_frame, esn=esn)
    except IPSecIntegrityError:
        return None


if __name__ == "__main__":
    h.main(test, "esn_sequence_roundtrip")
