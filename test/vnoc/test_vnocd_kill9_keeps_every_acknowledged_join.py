# SPDX-License-Identifier: BSD-3-Clause
"""A fault (issue #7): vnocd killed with SIGKILL in the middle of a burst of
joins loses nothing it acknowledged. Several sites join many groups at once,
each from its own thread and connection; vnocd is killed -9 while they do;
a new vnocd on the same database must hold every join that was answered
200, each with exactly one accounting row, and nothing else but the joins
in flight at the kill (at most one per site, answered or not).

It holds because an answer leaves only after its transaction's COMMIT
returned (vnocd_change, vnocd_ops_run), the membership and its accounting
row are in that one transaction, and the database is WAL with
synchronous=FULL (doc/vnocd.rst, "State and durability")."""

import threading
import time

from vnoc_rig import Client, Pki, Vnocd, envelope, element, main

POLICY = "allow site * receive 239.0.0.0/8\nmax-groups-per-site 4096\n"
SITES = ["K%d" % i for i in range(6)]
PER_SITE = 1500


def group_of(site_index, j):
    return "239.%d.%d.%d" % (10 + site_index, j // 250, j % 250 + 1)


def group_int(g):
    a, b, c, d = (int(x) for x in g.split("."))
    return str(a << 24 | b << 16 | c << 8 | d)


def test_kill9_keeps_every_acknowledged_join(d):
    pki = Pki(d)
    pki.sites_bulk(SITES + ["admin"])
    # No rate limit: the burst is the point.
    extra = ["--site-rate", "0"]
    v = Vnocd(d, pki, POLICY, extra=extra).start()
    for s in SITES:
        v.client(s).register(s, "192.0.2.%d" % (SITES.index(s) + 1))

    acked = {s: [] for s in SITES}         # answered 200
    sent = {s: 0 for s in SITES}
    in_flight = {s: None for s in SITES}   # the join at the kill, if any
    errors = []

    def worker(i, s):
        c = Client(v.port, pki.ca[0], pki.site(s), None)
        for j in range(PER_SITE):
            g = group_of(i, j)
            in_flight[s] = g
            sent[s] += 1
            try:
                status, data = c.post(envelope(element("JoinVpn", site=s, group=g,
                                                       roles="receiver")), timeout=10)
            except Exception:
                return                      # vnocd is gone: g unanswered
            if status != 200:
                errors.append((s, g, status, data[:300]))
                return
            Client.answer("JoinVpn", status, data)
            acked[s].append(g)
            in_flight[s] = None

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(SITES)]
    for t in threads:
        t.start()
    # Kill in the middle: once a good part of the burst is acknowledged.
    deadline = time.time() + 60
    while sum(len(a) for a in acked.values()) < 600 and time.time() < deadline:
        time.sleep(0.01)
    v.proc.kill()
    v.proc.wait()
    killed_at = sum(len(a) for a in acked.values())
    for t in threads:
        t.join(30)
    v.proc = None
    v.log_file.close()
    assert not errors, errors[:3]

    w = Vnocd(d, pki, POLICY, db=v.db, extra=extra).start()
    try:
        total_sent = sum(sent.values())
        total_acked = sum(len(a) for a in acked.values())
        members = {(r[0], r[1]) for r in w.sql("SELECT site, grp FROM memberships")}
        rows = w.sql("SELECT site, grp, role, action, count(*) FROM accounting "
                     "GROUP BY site, grp, role, action")
        joins = {(r[0], r[1]): int(r[4]) for r in rows if r[3] == "join"}
        print("  %d joins sent, %d acknowledged (%d at the kill), %d present after the "
              "restart, %d accounting rows" % (total_sent, total_acked, killed_at,
                                              len(members), sum(joins.values())), flush=True)
        assert total_acked >= 600, total_acked
        assert total_acked < total_sent, "the kill came after the burst"
        for s in SITES:
            for g in acked[s]:
                assert (s, group_int(g)) in members, ("lost", s, g)
                assert joins.get((s, group_int(g))) == 1, ("rows", s, g,
                                                           joins.get((s, group_int(g))))
        # Nothing but acknowledged joins, and the one in flight per site.
        allowed = {(s, group_int(g)) for s in SITES for g in acked[s]} | \
            {(s, group_int(in_flight[s])) for s in SITES if in_flight[s]}
        assert members <= allowed, members - allowed
        # Every membership has its row and no row is doubled.
        assert set(joins) == members, set(joins) ^ members
        assert all(n == 1 for n in joins.values())
        assert [r for r in rows if r[3] != "join"] == [], rows
        # The operator's SOAP view agrees with the database.
        view = w.client("admin").list_groups()
        seen = {(m["site"], group_int(g["address"])) for g in view["groups"]
                for m in g["members"]}
        assert seen == members
        # And the new vnocd serves.
        w.client("K0").join("K0", "239.99.0.1", "receive")
    finally:
        w.stop()


if __name__ == "__main__":
    main([test_kill9_keeps_every_acknowledged_join])
