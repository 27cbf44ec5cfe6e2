# SPDX-License-Identifier: BSD-3-Clause
"""Pairwise SAs: one per (sender site, receiver site) sharing a group, the
same SPI and key in both views, SPIs unique among a receiver's inbound SAs,
removal when no longer needed, replacement before expiry."""

import re
import signal
import time

from vnoc_rig import Pki, Vnocd, main

POLICY = "allow site * both 239.0.0.0/8\n"


def sas(view, direction, peer=None):
    return [s for s in view["sas"]
            if s["direction"] == direction and (peer is None or s["peer"] == peer)]


def view_of(client, site):
    """The site's current view (a WatchUpdates from 0 answers at once)."""
    return client.watch(site, 0, 1)


def holds(client, site):
    """What a site's client does after applying a view: ask for newer ones
    (WatchUpdates since its version). That tells the VNOC the site holds
    every SA of its view. The watch waits for a change of this site's view:
    1 s here, unless one comes."""
    client.watch(site, view_of(client, site)["version"], 1)


def test_sender_and_receiver_get_the_same_sa(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2", udp_encap=True)
        a.join("A", "239.1.1.1", "send")
        b.join("B", "239.1.1.1", "receive")
        holds(b, "B")
        va, vb = view_of(a, "A"), view_of(b, "B")
        out, inb = sas(va, "outbound", "B"), sas(vb, "inbound", "A")
        assert len(out) == 1 and len(inb) == 1, (va, vb)
        assert sas(va, "inbound") == [] and sas(vb, "outbound") == []
        for k in ("spi", "aead", "key", "salt", "esn"):
            assert out[0][k] == inb[0][k], k
        assert out[0]["spi"] >= 256
        assert len(bytes.fromhex(out[0]["key"])) in (16, 32)
        assert len(bytes.fromhex(out[0]["salt"])) == 4
        assert 0 < out[0]["lifetime"] <= 86400
        # Both views list the group with both members.
        for view in (va, vb):
            g = view["groups"]
            assert len(g) == 1 and g[0]["address"] == "239.1.1.1" and g[0]["saMode"] == "pairwise"
            members = {m["site"]: m for m in g[0]["members"]}
            assert members["A"]["roles"] == {"sender"} and members["B"]["roles"] == {"receiver"}
            assert members["B"]["udpEncap"] and members["B"]["wan"] == "10.0.0.2"
        # GetGroupVpn gives the same.
        gb = b.get_group("B", "239.1.1.1")
        assert sas(gb, "inbound", "A")[0]["spi"] == inb[0]["spi"]


def test_keys_are_fresh_per_pair(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = {s: v.client(s) for s in "ABC"}
        for i, s in enumerate("ABC"):
            c[s].register(s, "10.0.0.%d" % (i + 1))
            c[s].join(s, "239.1.1.1", ["send", "receive"])
        for s in "ABC":
            holds(c[s], s)
        views = {s: view_of(c[s], s) for s in "ABC"}
        keys = set()
        for s in "ABC":
            assert len(sas(views[s], "outbound")) == 2 and len(sas(views[s], "inbound")) == 2
            for sa in sas(views[s], "outbound"):
                keys.add(sa["key"])
        assert len(keys) == 6, keys


def test_spi_is_unique_among_the_receivers_inbound_sas(d):
    senders = ["S%02d" % i for i in range(40)]
    pki = Pki(d)
    pki.sites_bulk(senders + ["B"])
    with Vnocd(d, pki, POLICY) as v:
        b = v.client("B")
        b.register("B", "10.0.1.1")
        b.join("B", "239.1.1.1", "receive")
        b.join("B", "239.1.1.2", "receive")
        for i, s in enumerate(senders):
            c = v.client(s)
            c.register(s, "10.0.2.%d" % (i + 1))
            c.join(s, "239.1.1.%d" % (1 + i % 2), "send")
            c.close()
        inbound = sas(view_of(b, "B"), "inbound")
        assert sorted(s["peer"] for s in inbound) == senders
        spis = [s["spi"] for s in inbound]
        assert len(set(spis)) == len(spis) and min(spis) >= 256
        assert len({s["key"] for s in inbound}) == len(inbound)


def test_leave_removes_the_sas_no_group_needs(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2")
        a.join("A", "239.1.1.1", "send")
        a.join("A", "239.1.1.2", "send")
        b.join("B", "239.1.1.1", "receive")
        b.join("B", "239.1.1.2", "receive")
        spi = sas(view_of(b, "B"), "inbound", "A")[0]["spi"]
        # Still needed by 239.1.1.2: kept, same SA.
        assert b.leave("B", "239.1.1.1", "receive")[0] == set()
        assert [s["spi"] for s in sas(view_of(b, "B"), "inbound", "A")] == [spi]
        # No shared group left: gone from both views.
        b.leave("B", "239.1.1.2", "receive")
        assert sas(view_of(b, "B"), "inbound") == [] and sas(view_of(a, "A"), "outbound") == []
        assert v.sql("SELECT count(*) FROM sas") == [["0"]]


def test_fresh_start_gets_new_outbound_sas_and_keeps_inbound(d):
    """A site that starts afresh has lost its sequence numbers: its outbound
    SAs are replaced at once (an AES-GCM IV never repeats under a key); its
    peers' SAs towards it go on. Registering again without freshStart (a
    reconnect of the same process) changes nothing."""
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1", fresh_start=True)
        b.register("B", "10.0.0.2", fresh_start=True)
        a.join("A", "239.1.1.1", ["send", "receive"])
        b.join("B", "239.1.1.1", ["send", "receive"])
        holds(a, "A")
        holds(b, "B")
        va = view_of(a, "A")
        out0, in0 = sas(va, "outbound", "B"), sas(va, "inbound", "B")
        assert len(out0) == 1 and len(in0) == 1, va

        again = a.register("A", "10.0.0.1", fresh_start=False)["view"]
        assert sas(again, "outbound", "B") == out0
        assert a.register("A", "10.0.0.1")["view"]["sas"] == again["sas"]

        fresh = a.register("A", "10.0.0.1", fresh_start=True)["view"]
        out1 = sas(fresh, "outbound", "B")
        assert len(out1) == 1
        assert out1[0]["spi"] != out0[0]["spi"] and out1[0]["key"] != out0[0]["key"]
        assert sas(fresh, "inbound", "B") == in0
        # B can read the new SA at once; the old one stays until it expires.
        inb = {s["spi"]: s for s in sas(view_of(b, "B"), "inbound", "A")}
        assert inb[out1[0]["spi"]]["key"] == out1[0]["key"]
        assert out0[0]["spi"] in inb
        # B's SA towards A is the one A had before.
        b_out = sas(view_of(b, "B"), "outbound", "A")
        assert [(x["spi"], x["key"]) for x in b_out] == [(x["spi"], x["key"]) for x in in0]


def test_sender_gets_the_sa_once_the_receiver_holds_it(d):
    """Make before break at a join: the new SA is in the receiver's view at
    once and becomes the sender's only when the receiver shows it holds it
    (its next WatchUpdates), so no copy reaches the receiver before its
    key. A receiver that never asks is not waited for beyond the install
    grace (2 s)."""
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b, c = v.client("A"), v.client("B"), v.client("C")
        for i, (cl, s) in enumerate(((a, "A"), (b, "B"), (c, "C"))):
            cl.register(s, "10.0.0.%d" % (i + 1))
        a.join("A", "239.1.1.1", "send")
        b.join("B", "239.1.1.1", "receive")
        assert len(sas(view_of(b, "B"), "inbound", "A")) == 1
        assert sas(view_of(a, "A"), "outbound") == []
        # A waits on its view; B's watch says B is up to date: A's view
        # changes at once, long before the grace.
        version_a = view_of(a, "A")["version"]
        t0 = time.time()
        holds(b, "B")
        va = a.watch("A", version_a, 5)
        out = sas(va, "outbound", "B")
        assert len(out) == 1 and out[0]["spi"] == sas(view_of(b, "B"), "inbound", "A")[0]["spi"]
        assert time.time() - t0 < 1.9, time.time() - t0
        # C joins and never watches: A gets the SA to C after the grace.
        c.join("C", "239.1.1.1", "receive")
        t1 = time.time()
        assert sas(view_of(a, "A"), "outbound", "C") == []
        va = a.watch("A", view_of(a, "A")["version"], 5)
        assert len(sas(va, "outbound", "C")) == 1
        assert 1.0 <= time.time() - t1 <= 3.5, time.time() - t1


POLICY_GROUP = "allow site * both 239.0.0.0/8\nsa-mode 239.2.0.0/16 group\n"
GROUP = "239.2.1.1"


def group_sas(view, direction):
    return [s for s in view["sas"] if s["direction"] == direction and s["group"] == GROUP]


def a_sends_to_b_and_c(v):
    """Sites A, B, C registered; A sends GROUP, B and C receive it."""
    c = {s: v.client(s) for s in "ABC"}
    for i, s in enumerate("ABC"):
        c[s].register(s, "10.0.0.%d" % (i + 1))
    c["A"].join("A", GROUP, "send")
    c["B"].join("B", GROUP, "receive")
    c["C"].join("C", GROUP, "receive")
    return c


def test_group_mode_gives_one_sa_per_sender_to_every_receiver(d):
    """sa-mode group: A sends GROUP to B and C with ONE SA (encrypt once):
    B and C hold the same SPI and key, inbound from A; A gets it outbound
    (peer A, the group named) once the receivers had the install grace; no
    pairwise SA is made for the group."""
    with Vnocd(d, Pki(d), POLICY_GROUP) as v:
        c = a_sends_to_b_and_c(v)
        inb = {s: group_sas(view_of(c[s], s), "inbound") for s in "BC"}
        assert len(inb["B"]) == 1 and len(inb["C"]) == 1, inb
        assert inb["B"][0]["peer"] == "A" and inb["B"][0]["spi"] == inb["C"][0]["spi"]
        assert inb["B"][0]["key"] == inb["C"][0]["key"]
        assert view_of(c["B"], "B")["groups"][0]["saMode"] == "group"
        assert v.sql("SELECT count(*) FROM sas") == [["0"]]
        t0 = time.time()
        out = []
        while not out and time.time() - t0 < 5:
            va = c["A"].watch("A", view_of(c["A"], "A")["version"], 3)
            out = group_sas(va, "outbound")
        assert len(out) == 1 and out[0]["peer"] == "A", out
        assert (out[0]["spi"], out[0]["key"]) == (inb["B"][0]["spi"], inb["B"][0]["key"])
        assert time.time() - t0 <= 3.5, time.time() - t0


def test_group_sa_changes_key_when_a_receiver_leaves(d):
    """C leaves: the group's SA is replaced; B gets the new key, C never
    does (it cannot read what A sends next), A switches after the grace;
    the old SA stays in B's view only briefly. B leaves too: no receiver
    left, the SA goes."""
    with Vnocd(d, Pki(d), POLICY_GROUP) as v:
        c = a_sends_to_b_and_c(v)
        old = group_sas(view_of(c["B"], "B"), "inbound")[0]
        c["C"].leave("C", GROUP, "receive")
        b_inb = group_sas(view_of(c["B"], "B"), "inbound")
        new = [s for s in b_inb if s["spi"] != old["spi"]]
        assert len(new) == 1 and new[0]["key"] != old["key"], b_inb
        assert [s for s in b_inb if s["spi"] == old["spi"]][0]["lifetime"] <= 12
        assert group_sas(view_of(c["C"], "C"), "inbound") == []
        assert "rekey A -> %s: a receiver left" % GROUP in v.log()
        t0 = time.time()
        out = []
        while time.time() - t0 < 5:
            out = group_sas(view_of(c["A"], "A"), "outbound")
            if out and out[0]["spi"] == new[0]["spi"]:
                break
            time.sleep(0.2)
        assert out and out[0]["spi"] == new[0]["spi"], out
        c["B"].leave("B", GROUP, "receive")
        assert group_sas(view_of(c["A"], "A"), "outbound") == []
        assert v.sql("SELECT count(*) FROM group_sas") == [["0"]]


def test_sa_is_replaced_before_it_expires(d):
    life = 10
    with Vnocd(d, Pki(d), POLICY, extra=["--sa-lifetime", str(life)]) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2")
        a.join("A", "239.1.1.1", "send")
        b.join("B", "239.1.1.1", "receive")
        t0 = time.time()
        first = sas(view_of(b, "B"), "inbound", "A")[0]
        # At 80 % of life the receiver gets the replacement; the sender
        # keeps the old one for now (make before break).
        vb = b.watch("B", view_of(b, "B")["version"], life)
        t_new = time.time() - t0
        inb = sas(vb, "inbound", "A")
        assert 0.6 * life <= t_new <= 0.95 * life, t_new
        assert len(inb) == 2 and inb[0]["spi"] == first["spi"], inb
        new = inb[1]
        assert new["spi"] != first["spi"] and new["key"] != first["key"]
        assert sas(view_of(a, "A"), "outbound", "B")[0]["spi"] == first["spi"]
        # Then the sender switches; the receiver still has both.
        va = a.watch("A", view_of(a, "A")["version"], life)
        assert [s["spi"] for s in sas(va, "outbound", "B")] == [new["spi"]]
        assert len(sas(view_of(b, "B"), "inbound", "A")) == 2
        # At the old SA's expiry only the new one is left.
        vb = b.watch("B", view_of(b, "B")["version"], life)
        assert time.time() - t0 >= life - 1.5
        assert [s["spi"] for s in sas(vb, "inbound", "A")] == [new["spi"]]
        assert "rekey A -> B" in v.log()



def rekey_counts(v):
    """vnocd's rekey counters, from the line SIGUSR1 logs."""
    v.proc.send_signal(signal.SIGUSR1)
    t0 = time.time()
    while time.time() - t0 < 5:
        m = re.findall(r"rekey requests: received (\d+), honoured (\d+), "
                       r"already replaced (\d+), refused (\d+)", v.log())
        if m:
            last = [int(x) for x in m[-1]]
            return dict(zip(("received", "honoured", "already", "refused"), last))
        time.sleep(0.05)
    raise AssertionError("no rekey line in the log")


def a_sends_to_b(v):
    a, b = v.client("A"), v.client("B")
    a.register("A", "10.0.0.1")
    b.register("B", "10.0.0.2")
    a.join("A", "239.1.1.1", "send")
    b.join("B", "239.1.1.1", "receive")
    holds(b, "B")
    out = sas(view_of(a, "A"), "outbound", "B")
    assert len(out) == 1, out
    return a, b, out[0]


def test_rekey_asked_by_the_sender_replaces_its_sa_once(d):
    """A's SA to B passed its soft limit: A's Heartbeat names it; B gets a
    new SA at once (make before break), A once B holds it. Asking again
    (the site asks in every Heartbeat until its view changes) replaces
    nothing more."""
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b, old = a_sends_to_b(v)
        a.heartbeat("A", rekey=[old["spi"]])
        inb = sas(view_of(b, "B"), "inbound", "A")
        assert [s["spi"] for s in inb][0] == old["spi"] and len(inb) == 2, inb
        new = inb[1]
        assert new["key"] != old["key"]
        # The sender keeps the old SA until the receiver holds the new one.
        assert sas(view_of(a, "A"), "outbound", "B")[0]["spi"] == old["spi"]
        a.heartbeat("A", rekey=[old["spi"], old["spi"]])
        assert len(sas(view_of(b, "B"), "inbound", "A")) == 2
        holds(b, "B")
        assert [s["spi"] for s in sas(view_of(a, "A"), "outbound", "B")] == [new["spi"]]
        a.heartbeat("A", rekey=[old["spi"]])
        assert len(sas(view_of(b, "B"), "inbound", "A")) == 2
        assert rekey_counts(v) == {"received": 4, "honoured": 1, "already": 3, "refused": 0}
        assert "rekey A -> B: the sender asked (soft limit)" in v.log()


def test_rekey_of_another_sites_sa_is_refused_and_changes_nothing(d):
    """B holds A's SA inbound (it knows the SPI), C knows it too: neither
    can make the VNOC replace it. The Heartbeat is answered as usual (no
    fault that would tell which SPIs exist); the refusals are counted and
    logged."""
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b, old = a_sends_to_b(v)
        c = v.client("C")
        c.register("C", "10.0.0.3")
        c.join("C", "239.1.1.1", "receive")
        holds(c, "C")
        before = {s: view_of(x, s) for s, x in (("A", a), ("B", b), ("C", c))}
        b.heartbeat("B", rekey=[old["spi"]])
        c.heartbeat("C", rekey=[old["spi"], 4242])
        after = {s: view_of(x, s) for s, x in (("A", a), ("B", b), ("C", c))}
        assert after == before
        assert v.sql("SELECT count(*) FROM sas WHERE superseded = 1") == [["0"]]
        assert rekey_counts(v) == {"received": 3, "honoured": 0, "already": 0, "refused": 3}
        assert "rekey: site B asked to replace 1 SA(s) that are not its outbound SAs" in v.log()


def test_rekey_asked_for_a_group_sa_gives_the_group_a_new_key(d):
    """The group's SA (sa-mode group) passed the sender's soft limit: B and
    C get a new one at once, A after the install grace."""
    with Vnocd(d, Pki(d), POLICY_GROUP) as v:
        c = a_sends_to_b_and_c(v)
        t0 = time.time()
        out = []
        while not out and time.time() - t0 < 5:
            out = group_sas(c["A"].watch("A", view_of(c["A"], "A")["version"], 3), "outbound")
        old = out[0]
        c["A"].heartbeat("A", rekey=[old["spi"]])
        for s in "BC":
            spis = [x["spi"] for x in group_sas(view_of(c[s], s), "inbound")]
            assert len(spis) == 2 and old["spi"] in spis, spis
        new = [x for x in group_sas(view_of(c["B"], "B"), "inbound") if x["spi"] != old["spi"]][0]
        t1 = time.time()
        out = [old]
        while out[0]["spi"] == old["spi"] and time.time() - t1 < 5:
            out = group_sas(c["A"].watch("A", view_of(c["A"], "A")["version"], 3), "outbound")
        assert [x["spi"] for x in out] == [new["spi"]], out
        c["A"].heartbeat("A", rekey=[old["spi"]])
        assert rekey_counts(v) == {"received": 2, "honoured": 1, "already": 1, "refused": 0}


if __name__ == "__main__":
    main([test_sender_and_receiver_get_the_same_sa,
          test_keys_are_fresh_per_pair,
          test_spi_is_unique_among_the_receivers_inbound_sas,
          test_leave_removes_the_sas_no_group_needs,
          test_fresh_start_gets_new_outbound_sas_and_keeps_inbound,
          test_sender_gets_the_sa_once_the_receiver_holds_it,
          test_group_mode_gives_one_sa_per_sender_to_every_receiver,
          test_group_sa_changes_key_when_a_receiver_leaves,
          test_sa_is_replaced_before_it_expires,
          test_rekey_asked_by_the_sender_replaces_its_sa_once,
          test_rekey_of_another_sites_sa_is_refused_and_changes_nothing,
          test_rekey_asked_for_a_group_sa_gives_the_group_a_new_key])
