#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
wan-mtu bounds each outer packet by its own encapsulation.

doc/configuration.rst: "a multicast packet that would exceed [wan-mtu] is
dropped and counted (lan_drop_too_big)". A group sent only to plain-ESP
sites (B, D) has no UDP header in its copies: an inner packet of 1446 bytes
makes 20 + 8 + 8 + 1448 + 16 = 1500-byte outer packets, which fit; 1447
makes 1504, which does not. (Groups with an ESP-in-UDP site are covered by
encap_one_copy_per_site: 1438 fits, 1439 is dropped.)
"""

import pcap_harness as h

GROUP = "239.3.3.3"          # B and D: plain ESP only
FITS = 1446


def test(binary, workdir, chk):
    config = h.standard_config()
    config.send.append((GROUP, ["B", "D"]))
    lan = [h.lan_udp(GROUP, FITS, 1, note="inner %d: outer 1500" % FITS),
           h.lan_udp(GROUP, FITS + 1, 2, note="inner %d: outer 1504" % (FITS + 1))]
    run = h.run_ivgmpd(binary, config, lan, [], workdir, "mtu")
    out = [h.parse_wan(raw) for raw in run.wan_out]
    print("  ivgmpd ran %.2f s; outer lengths on the WAN: %s"
          % (run.seconds, [(w.dst, w.total_len) for w in out]))

    chk.equal(sorted((w.dst, w.total_len) for w in out),
              [("10.99.0.2", 1500), ("10.99.0.4", 1500)],
              "inner %d to B and D: one 1500-byte copy each" % FITS,
              bug="outb_classify checks the WAN MTU as if every copy had a UDP header "
                  "(outer_ip_len(p, true)), 8 bytes short for plain-ESP groups")
    chk.equal(run.counters.get("lan_drop_too_big", 0), 1,
              "lan_drop_too_big (inner %d only)" % (FITS + 1),
              bug="outb_classify checks the WAN MTU as if every copy had a UDP header "
                  "(outer_ip_len(p, true)), 8 bytes short for plain-ESP groups")


if __name__ == "__main__":
    h.main(test, "wan_mtu_fits_plain_esp_copies")
