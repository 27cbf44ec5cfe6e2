#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
vnocd stops and comes back: the data plane does not notice, a join made
while it was away completes on its own once it is back, and vnocd restarts
with its state (issue #5, scenario 7).

    A: h1 sends G = 239.52.1.1 at 50/s;  B: h1 joins G;  C: h1 joins G
    later, while vnocd is down

  1. B gets A's stream. vnocd's database: sites, memberships, the SA
     A -> B, the version, the accounting rows.
  2. vnocd gets SIGTERM (exit 0). Every client notices (state backoff). For
     OUTAGE_S seconds: B's stream goes on without a gap; C's host joins G:
     C's device has it from IGMP and wants the receiver role, but nothing
     is granted and C's host gets nothing.
  3. vnocd starts again on the same database, same arguments. With no
     manual step: every site registers again, C's JoinVpn goes through, A
     learns of C and C's host gets the stream, within the clients' pending
     backoff (read from /ivgmp/vnoc once vnocd listens) + RECOVERY_ALLOWANCE.
  4. The state survived: the SA A -> B is the same (SPI, id), so B's
     stream never broke and B's device dropped nothing as a replay; the
     version went on from where it was; the old accounting rows are there,
     and C's join after them; vnocd logged the sites as "again".
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.52.1.1"
PORT = 5052
RATE = 50.0
OUTAGE_S = 4.0
# Registration, JoinVpn, vnocd's COMMIT, A's WatchUpdates answer: ~0.1 s
# here; margin for a loaded 2-core machine.
RECOVERY_ALLOWANCE = 3.0


def db_state(vr):
    v = vr.vnoc
    return {
        "sites": v.sql("SELECT id, wan FROM sites ORDER BY id"),
        "memberships": v.sql("SELECT grp, site, roles FROM memberships ORDER BY grp, site"),
        "sas": v.sql("SELECT id, from_site, to_site, spi, hex(key) FROM sas ORDER BY id"),
        "version": int(v.sql("SELECT value FROM meta WHERE key = 'version'")[0][0]),
        "accounting": v.sql("SELECT id, site, grp, role, action FROM accounting ORDER BY id"),
    }


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args) as vr:
        a, b, c = vr.sites
        lb, lc = vr.listen(b.host(), G, PORT), vr.listen(c.host(), G, PORT)

        chk.section("1. B gets A's stream")
        stream = vr.stream(a.host(), G, PORT, RATE, tag="A-h1")
        a.wait_granted(G, "sender", 5)
        b.host().join(G)
        ok, _ = r.wait_until(lambda: lb.snapshot(), 8)
        chk.check(bool(ok), "B's host gets the stream", "A %s" % a.summary())
        if not ok:
            return
        time.sleep(1.0)
        before = db_state(vr)
        regs_before = {s.id: s.vnoc().get("registrations", 0) for s in vr.sites}
        print("    vnocd before: version %d, SAs %s, memberships %s, %d accounting rows"
              % (before["version"], [x[1:4] for x in before["sas"]], before["memberships"],
                 len(before["accounting"])))
        chk.equal([x[1:3] for x in before["sas"]], [["A", "B"]], "SAs before the outage")

        chk.section("2. vnocd stopped for %.0f s; C's host joins meanwhile" % OUTAGE_S)
        t_stop = time.monotonic()
        code = vr.vnoc.stop()
        chk.equal(code, 0, "vnocd's exit status after SIGTERM")
        noticed, took = r.wait_until(lambda: all(s.vnoc().get("state") != "ready"
                                                 for s in vr.sites), 5, 0.05)
        chk.measured("vnocd stopped -> every client out of state ready", took, "s")
        chk.check(bool(noticed), "every client noticed the VNOC is gone",
                  "; ".join("%s %s" % (s.id, s.summary()) for s in vr.sites))
        time.sleep(1.0)
        t_c_join = time.monotonic()
        c.host().join(G)
        ok, took = r.wait_until(lambda: G in c.device.igmp_groups() and
                                c.vnoc_group(G).get("desired") == "receiver", 3)
        chk.check(bool(ok), "C's device has %s from IGMP and desires the receiver role" % G,
                  "%s" % c.vnoc_group(G))
        time.sleep(max(0.0, t_stop + OUTAGE_S - time.monotonic()))
        during = [x for x in lb.snapshot() if t_stop < x[0] < time.monotonic()]
        chk.measured("datagrams at B's host during the outage", len(during))
        chk.check(len(during) >= RATE * OUTAGE_S * 0.9, "B's stream flows during the outage "
                  "(%d datagrams in %.0f s)" % (len(during), OUTAGE_S))
        chk.equal(c.granted(G), "none", "C's %s granted while vnocd is away" % G)
        chk.equal(len(lc.snapshot()), 0, "datagrams at C's host while vnocd is away")

        chk.section("3. vnocd starts again on the same database")
        vr.vnoc.start()
        # From the moment it listens: a client's retry is due within the
        # delay it drew last (a retry that failed just before drew anew).
        t_start = time.monotonic()
        pending = {s.id: s.vnoc().get("backoff_ms", 0) / 1000.0 for s in vr.sites}
        states = {s.id: s.vnoc().get("state") for s in vr.sites}
        chk.measured("clients' state and last backoff delay when vnocd listens again",
                     ", ".join("%s %s %.2f s" % (k, states[k], pending[k]) for k in states))
        bound = max(pending["A"], pending["C"]) + RECOVERY_ALLOWANCE
        seen = {}

        def note(name, cond):
            if name not in seen and cond:
                seen[name] = time.monotonic() - t_start

        def recovered():
            for s in vr.sites:
                note("ready " + s.id, s.ready())
            note("C granted", c.granted(G) == "receiver")
            return len(seen) == 4 and lc.snapshot()
        got, _ = r.wait_until(recovered, bound + 5, 0.02)
        took_ready = max((v for k, v in seen.items() if k.startswith("ready")), default=None) \
            if len([k for k in seen if k.startswith("ready")]) == 3 else None
        took_grant = seen.get("C granted")
        first_c = (lc.snapshot()[0][0] - t_start) if lc.snapshot() else None
        chk.measured("vnocd back -> each site registered again", ", ".join(
            "%s %.2f s" % (k[6:], v) for k, v in sorted(seen.items()) if k.startswith("ready")))
        chk.measured("vnocd back -> C granted receiver", took_grant, "s")
        chk.measured("vnocd back -> first datagram at C's host", first_c, "s")
        chk.measured("C's host join (vnocd away) -> first datagram", None if not got else
                     lc.snapshot()[0][0] - t_c_join, "s")
        chk.check(took_ready is not None, "every site registered again")
        chk.within(first_c, 0.0, bound, "C's late join completes within the pending backoff "
                   "(A %.2f, C %.2f s) + %.1f s" % (pending["A"], pending["C"],
                                                   RECOVERY_ALLOWANCE))
        for s in vr.sites:
            chk.check(s.vnoc().get("registrations", 0) > regs_before[s.id],
                      "%s registered again (registrations %d -> %d)"
                      % (s.id, regs_before[s.id], s.vnoc().get("registrations", 0)))
        time.sleep(1.5)
        stream.stop()
        time.sleep(0.3)

        chk.section("4. vnocd's state survived; the stream never broke")
        after = db_state(vr)
        print("    vnocd after: version %d, SAs %s, memberships %s, %d accounting rows"
              % (after["version"], [x[1:4] for x in after["sas"]], after["memberships"],
                 len(after["accounting"])))
        chk.check(before["sas"][0] in after["sas"], "the SA A -> B kept (id, SPI, key)",
                  "%s" % [x[:4] for x in after["sas"]])
        chk.equal(sorted(x[1:3] for x in after["sas"]), [["A", "B"], ["A", "C"]],
                  "SAs after (A -> C added)")
        chk.check(after["version"] > before["version"], "version went on (%d -> %d)"
                  % (before["version"], after["version"]))
        chk.equal(after["accounting"][:len(before["accounting"])], before["accounting"],
                  "the accounting rows from before the restart")
        chk.check(vr.accounting_has("C", G, "receive", "join"), "accounting: C,%s,receive,join"
                  % G)
        chk.equal(after["sites"], before["sites"], "sites")
        again = [line for line in vr.vnoc.log().splitlines() if "(again," in line]
        chk.equal(sorted({line.split(" register ")[1].split()[0] for line in again
                          if " register " in line}), ["A", "B", "C"],
                  "vnocd logged A, B and C registering again")
        db = vpn.Delivery(stream, lb)
        db.check(chk, "B's host, across the outage and the restart")
        dc = vpn.Delivery(stream, lc)
        dc.check(chk, "C's host, from its first datagram")
        st_b = b.device.stats()
        chk.equal(st_b.get("esp_in_drop_replay", 0), 0, "B's esp_in_drop_replay")
        chk.equal(st_b.get("esp_in_drop_unknown_spi", 0), 0, "B's esp_in_drop_unknown_spi")
        vpn.scenario_line(
            "sent %d, B received %d (%d during the %.0f s outage, no gap), C joined during the "
            "outage, C received %d; vnocd back -> all registered %s s, C granted %s s, C's "
            "first datagram %s s (pending backoff A %.2f s, C %.2f s); state kept: SA A>B same, "
            "version %d -> %d" % (
                stream.count(), db.count, len(during), OUTAGE_S, dc.count,
                fmt(took_ready), fmt(took_grant),
                fmt(first_c), pending["A"], pending["C"], before["version"], after["version"]))


def fmt(v):
    return "-" if v is None else "%.2f" % v


if __name__ == "__main__":
    vpn.main(test, "streams_survive_vnocd_restart_and_late_join_completes")
