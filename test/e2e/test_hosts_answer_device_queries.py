#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The device's general queries are real queries: Linux hosts answer them.

h1 (IGMPv3) joins 239.5.5.1 for any source, h2 (IGMPv3) joins (S, 232.5.5.5),
h3 (IGMPv2) joins 239.5.5.3. After the kernels' unsolicited reports, the
next general query of the device (captured on the LAN: v3, to 224.0.0.1,
Max Resp = Query Response Interval, QRV and QQIC as configured; startup
queries Startup Query Interval apart, then Query Interval) must be answered
within its Max Resp Time: IS_EX(239.5.5.1) from h1, IS_IN(232.5.5.5: S) from
h2, a v2 report for 239.5.5.3 from h3. rx_v3_reports and rx_v2_reports
count them, and the answers refresh the group and source timers.
"""

import time

import rig as r
import wire

ASM_GROUP = "239.5.5.1"
SSM_GROUP = "232.5.5.5"
V2_GROUP = "239.5.5.3"
SLACK = 0.15


def test(rig, chk, args):
    site = r.LanSite(rig, args.ivgmpd)
    cap = site.capture()
    site.start()
    dev, h1, h2, h3 = site.device, site.hosts["h1"], site.hosts["h2"], site.hosts["h3"]
    source = site.subnet + ".99"
    qi, qri = site.timer("igmp-query-interval"), site.timer("igmp-query-response-interval")

    chk.section("joins")
    h1.join(ASM_GROUP)
    h2.join_source(SSM_GROUP, source)
    h3.join(V2_GROUP)
    for g in (ASM_GROUP, SSM_GROUP, V2_GROUP):
        chk.check(dev.wait_role(g, "receiver", 0, 3) is not None, "log: %s role receiver" % g)
    time.sleep(1.5)      # the v3 kernels' retransmissions (1 s at most)

    chk.section("the next general query and its answers")
    before = dev.igmp()
    got, waited = r.wait_until(lambda: dev.igmp()["tx_general_queries"] > before["tx_general_queries"],
                               qi + 1.5)
    chk.check(bool(got), "a general query within the Query Interval")
    chk.measured("waited for it", waited, "s")
    time.sleep(qri + SLACK + 0.1)
    after = dev.igmp()
    read_at = time.time()
    v3 = after["rx_v3_reports"] - before["rx_v3_reports"]
    v2 = after["rx_v2_reports"] - before["rx_v2_reports"]
    chk.measured("rx_v3_reports / rx_v2_reports across the query", "+%d / +%d" % (v3, v2))
    chk.check(v3 >= 2, "rx_v3_reports +%d: h1 and h2 answered" % v3)
    chk.check(v2 >= 1, "rx_v2_reports +%d: h3 answered" % v2)

    cap.stop()
    msgs = cap.igmp()
    t0 = msgs[0].time if msgs else 0
    for m in msgs:
        print("    %7.3f %s" % (m.time - t0, m.describe()))
    general = [m for m in msgs if m.is_general_query and m.ip_src == site.lan_address]
    chk.check(len(general) >= 3, "%d general queries on the wire (startup 2, then 1 per QI)" % len(general))
    if not general:
        return
    gaps = [b.time - a.time for a, b in zip(general, general[1:])]
    chk.measured("gaps between general queries", ", ".join("%.3f" % g for g in gaps), "s")
    if len(gaps) >= 2:
        chk.within(gaps[0], qi / 4 - 0.05, qi / 4 + 0.1, "startup query interval (QI/4)")
        chk.within(gaps[1], qi - 0.05, qi + 0.1, "then the query interval")
    q = general[-1]
    chk.equal((q.version, q.ip_dst, q.ttl, q.router_alert, q.checksum_ok),
              (3, "224.0.0.1", 1, True, True), "query (version, dst, TTL, Router Alert, checksum ok)")
    chk.equal((q.max_resp_ms, q.qrv, q.qqi_s, q.suppress), (int(qri * 1000), site.robustness, int(qi), False),
              "query (Max Resp ms, QRV, QQIC s, S flag)")

    def answer(host, match):
        for m in msgs:
            if m.ip_src == host.addr and m.time > q.time and match(m):
                return m
        return None

    answers = {
        h1.name: answer(h1, lambda m: any(rec.name == "IS_EX" and rec.group == ASM_GROUP and
                                          not rec.sources for rec in m.records)),
        h2.name: answer(h2, lambda m: any(rec.name == "IS_IN" and rec.group == SSM_GROUP and
                                          rec.sources == [source] for rec in m.records)),
        h3.name: answer(h3, lambda m: m.type == wire.IGMP_V2_REPORT and m.group == V2_GROUP),
    }
    what = {h1.name: "IS_EX(%s)" % ASM_GROUP, h2.name: "IS_IN(%s: %s)" % (SSM_GROUP, source),
            h3.name: "v2 report %s" % V2_GROUP}
    for name, m in answers.items():
        delay = None if m is None else m.time - q.time
        chk.measured("%s answers %s after" % (name, what[name]),
                     "never" if delay is None else "%.3f s" % delay)
        chk.within(delay, 0.0, qri + SLACK, "%s's %s within Max Resp Time" % (name, what[name]))

    chk.section("timers refreshed by the answers")
    groups = after["groups"]
    chk.check(bool(groups), "/ivgmp/igmp has the groups", bug=r.table_bug(groups))
    for g, m, key in ((ASM_GROUP, answers[h1.name], None), (V2_GROUP, answers[h3.name], None),
                      (SSM_GROUP, answers[h2.name], source)):
        if m is None or g not in groups:
            continue
        state = groups[g]
        timer = (state.get("source_timers_ms", {}).get(key, 0) if key else state.get("group_timer_ms", 0))
        want = (site.gmi - (read_at - m.time)) * 1000
        chk.within(timer, want - 300, want + 300, "%s %s timer restarted at GMI by the answer"
                   % (g, "source" if key else "group"), unit="ms")


if __name__ == "__main__":
    r.main(test, "hosts_answer_device_queries")
