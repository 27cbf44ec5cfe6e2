#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The exit report's outbound SA line says how many packets went out on the SA.

B's outbound SA has lifetime-packets 3; five LAN packets go to B and E. B
gets three on the wire and two are refused (esp_out_drop_sa_expired); the
report line for B must say packets 3, expired_drops 2, as E's says
packets 5, expired_drops 0.
"""

import pcap_harness as h

GROUP = "239.2.2.2"    # sites B and E
LIFETIME, N = 3, 5


def test(binary, workdir, chk):
    config = h.standard_config()
    config.sa("out", "B").options = "lifetime-packets %d" % LIFETIME
    lan = [h.lan_udp(GROUP, 60 + i, 800 + i) for i in range(N)]
    run = h.run_ivgmpd(binary, config, lan, [], workdir, "sa-report")
    to_b = [w for w in map(h.parse_wan, run.wan_out) if w.dst == config.site("B").addr]
    print("  ivgmpd ran %.2f s; SA report:" % run.seconds)
    print("\n".join("    " + line for line in run.stdout.splitlines() if " spi 0x" in line))

    chk.equal([w.seq for w in to_b], list(range(1, LIFETIME + 1)), "B: sequence numbers on the wire")
    chk.equal(run.counters.get("esp_out_drop_sa_expired"), N - LIFETIME,
              "counter esp_out_drop_sa_expired")
    b = run.sas.get(config.sa("out", "B").spi, {})
    e = run.sas.get(config.sa("out", "E").spi, {})
    chk.equal((e.get("packets"), e.get("expired_drops")), (N, 0), "report out to E: (packets, expired_drops)")
    chk.equal(b.get("expired_drops"), N - LIFETIME, "report out to B: expired_drops")
    chk.equal(b.get("packets"), LIFETIME, "report out to B: packets",
              bug="the exit report counts refused packets as sent: esp_outb_seq_reserve "
                  "advances seq_out for them too (fixed in d8e7528, pinned here)")


if __name__ == "__main__":
    h.main(test, "sa_report_counts_only_sent_packets")
