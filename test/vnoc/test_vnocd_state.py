# SPDX-License-Identifier: BSD-3-Clause
"""vnocd's state: accounting rows and their CSV export, a restart that keeps
memberships and SAs, silent sites taken out, and requests that must change
nothing."""

import csv
import io
import subprocess
import time

from vnoc_rig import Pki, Vnocd, envelope, element, expect_fault, main, vnocd_path

POLICY = "allow site * receive 239.0.0.0/8\nallow site A send 239.0.0.0/8\n"


def accounting_csv(v, since):
    out = subprocess.run([vnocd_path(), "accounting", "--db", v.db, "--since", since],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return list(csv.reader(io.StringIO(out.stdout.decode())))


def test_accounting_rows_for_join_leave_and_deny(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2")
        a.join("A", "239.1.1.1", ["send", "receive"])
        expect_fault("NotAuthorized", b.join, "B", "239.1.1.1", "send")
        b.join("B", "239.1.1.1", "receive")
        a.leave("A", "239.1.1.1", "send")
        rows = v.sql("SELECT site, grp, role, action FROM accounting ORDER BY id")
        g = str(0xef010101)
        assert rows == [["A", g, "send", "join"], ["A", g, "receive", "join"],
                        ["B", g, "send", "deny"], ["B", g, "receive", "join"],
                        ["A", g, "send", "leave"]], rows
        # A join of roles already held is no new row.
        b.join("B", "239.1.1.1", "receive")
        assert len(v.sql("SELECT id FROM accounting")) == 5


def test_accounting_export_prints_csv_since_a_time(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a = v.client("A")
        a.register("A", "10.0.0.1")
        a.join("A", "239.1.1.1", "send")
        time.sleep(1.1)
        t = int(time.time())
        a.join("A", "239.1.1.2", "receive")
        a.leave("A", "239.1.1.2", "receive")
        expect_fault("NotAuthorized", a.join, "A", "224.0.1.1", "send")
        # While vnocd runs (WAL readers do not block it).
        rows = accounting_csv(v, "0")
        assert rows[0] == ["time", "epoch", "site", "group", "role", "action", "reason"]
        assert [r[3:6] for r in rows[1:]] == [
            ["239.1.1.1", "send", "join"], ["239.1.1.2", "receive", "join"],
            ["239.1.1.2", "receive", "leave"], ["224.0.1.1", "send", "deny"]], rows
        assert rows[1][0].endswith("Z") and rows[1][0][10] == "T"
        later = accounting_csv(v, str(t))
        assert [r[3] for r in later[1:]] == ["239.1.1.2", "239.1.1.2", "224.0.1.1"], later
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        assert accounting_csv(v, iso) == later
        assert accounting_csv(v, "2999-01-01") == [rows[0]]
    bad = subprocess.run([vnocd_path(), "accounting", "--db", v.db, "--since", "yesterday"],
                         stderr=subprocess.PIPE)
    assert bad.returncode == 2


def snapshot(v):
    return (v.sql("SELECT id, wan, udp_encap FROM sites ORDER BY id"),
            v.sql("SELECT site, grp, roles FROM memberships ORDER BY site, grp"),
            v.sql("SELECT from_site, to_site, spi, hex(key), hex(salt) FROM sas ORDER BY id"),
            v.sql("SELECT value FROM meta WHERE key = 'version'"))


def test_restart_keeps_memberships_and_sas(d):
    pki = Pki(d)
    v = Vnocd(d, pki, POLICY).start()
    a, b = v.client("A"), v.client("B")
    a.register("A", "10.0.0.1")
    b.register("B", "10.0.0.2", udp_encap=True)
    a.join("A", "239.1.1.1", "send")
    b.join("B", "239.1.1.1", "receive")
    before = b.watch("B", 0, 1)
    assert v.stop() == 0
    assert "signal 15" in v.log()
    v.start()
    b2 = v.client("B")
    after = b2.watch("B", 0, 1)
    for view in (before, after):        # counts down with the clock
        for sa in view["sas"]:
            del sa["lifetime"]
    assert after == before, (before, after)
    # It goes on from there: versions keep increasing, SPIs stay unique.
    c = v.client("C")
    c.register("C", "10.0.0.3")
    _, version = c.join("C", "239.1.1.1", "receive")
    assert version > before["version"]
    # Once B and C show they hold their views, A sends on both SAs.
    for cl, site in ((b2, "B"), (c, "C")):
        cl.watch(site, cl.watch(site, 0, 1)["version"], 1)
    assert len(v.client("A").watch("A", 0, 1)["sas"]) == 2
    v.stop()


def test_silent_site_is_taken_out_and_registers_again(d):
    """B stops sending heartbeats (killed, cut off): after --liveness-timeout
    its roles are left (accounting 'silent for N s'), the SAs it shared
    go, its registration too, while A, which keeps beating, keeps its
    own. B back: UnknownSite, then RegisterSite and JoinVpn as new. A
    restart of vnocd gives every site the whole timeout again."""
    group = "239.1.1.1"
    extra = ["--heartbeat", "1", "--liveness-timeout", "2"]
    pki = Pki(d)
    with Vnocd(d, pki, POLICY, extra=extra) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2")
        a.join("A", group, "send")
        b.join("B", group, "receive")
        t0 = time.time()
        while time.time() - t0 < 6 and v.sql("SELECT 1 FROM memberships WHERE site = 'B'"):
            a.heartbeat("A")
            time.sleep(0.2)
        took = time.time() - t0
        assert not v.sql("SELECT 1 FROM memberships WHERE site = 'B'"), v.log()
        assert 1.8 <= took <= 3.5, took
        assert v.sql("SELECT id FROM sites") == [["A"]]
        assert v.sql("SELECT site, roles FROM memberships") == [["A", "2"]]
        assert v.sql("SELECT count(*) FROM sas") == [["0"]]
        rows = v.sql("SELECT site, role, action, reason FROM accounting WHERE action = 'leave'")
        assert len(rows) == 1 and rows[0][:3] == ["B", "receive", "leave"], rows
        assert rows[0][3].startswith("silent for "), rows
        assert "liveness: site B silent for" in v.log()
        assert a.watch("A", 0, 1)["groups"][0]["members"][0]["site"] == "A"
        # B was only cut off: it learns it, registers and joins again.
        expect_fault("UnknownSite", b.heartbeat, "B")
        b.register("B", "10.0.0.2")
        assert b.join("B", group, "receive")[0] == {"receiver"}
        assert sorted(m["site"] for m in a.watch("A", 0, 1)["groups"][0]["members"]) == ["A", "B"]
    # vnocd down longer than the timeout: nobody is silent "since before".
    time.sleep(2.5)
    with Vnocd(d, pki, POLICY, extra=extra) as v:
        time.sleep(1.0)
        assert len(v.sql("SELECT id FROM sites")) == 2


def test_malformed_soap_is_bad_request_and_changes_nothing(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a = v.client("A")
        a.register("A", "10.0.0.1")
        a.join("A", "239.1.1.1", "send")
        before = snapshot(v)
        bodies = [
            b"not xml at all",
            b"<?xml version='1.0'?><a><b></a>",
            envelope(element("JoinVpn", site="A", group="10.1.1.1", roles="sender")),
            envelope(element("JoinVpn", site="A", group="239.1.1.2", roles="admin")),
            envelope(element("JoinVpn", site="A", group="239.1.1.2")),
            envelope(element("Reboot", site="A")),
            envelope(element("JoinVpnResponse", roles="sender", version="9")),
            # An external entity must not be fetched nor expanded.
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + envelope(element("JoinVpn", site="A", group="239.1.1.2", roles="sender"))
            .split(b"?>", 1)[1].replace(b"<site>A</site>", b"<site>&x;</site>"),
            envelope(element("JoinVpn", site="A", group="239.1.1.2", roles="sender"))
            .replace(b"<site>", b"<site>" + b"<x>" * 64).replace(b"</site>", b"</x>" * 64
                                                                  + b"</site>"),
        ]
        for body in bodies:
            status, data = a.post(body)
            f = expect_fault("BadRequest", a.answer, "JoinVpn", status, data)
            assert status == 500 and f.code.endswith("Client"), (body, status)
        status, _ = a.post(bodies[2], content_type="application/json")
        assert status == 415
        assert snapshot(v) == before
        assert "root:" not in v.log()


def test_oversized_body_is_413_and_changes_nothing(d):
    with Vnocd(d, Pki(d), POLICY, extra=["--body-max", "65536"]) as v:
        a = v.client("A")
        a.register("A", "10.0.0.1")
        before = snapshot(v)
        pad = b"<!-- " + b"x" * 70000 + b" -->"
        body = envelope(element("JoinVpn", site="A", group="239.1.1.1", roles="sender")) + pad
        status, data = a.post(body)
        assert status == 413, status
        expect_fault("BadRequest", a.answer, "JoinVpn", status, data)
        # Chunked: no length up front; refused when the limit is crossed.
        a.close()
        conn = a.connect()
        conn.putrequest("POST", "/vnoc")
        conn.putheader("Content-Type", "text/xml")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 8192):
            chunk = body[i:i + 8192]
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        assert r.status == 413, r.status
        expect_fault("BadRequest", a.answer, "JoinVpn", r.status, r.read())
        a.close()
        assert snapshot(v) == before
        # The server still serves.
        assert a.join("A", "239.1.1.1", "send")[0] == {"sender"}


def test_wrong_method_and_path(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a = v.client("A")
        conn = a.connect()
        conn.request("GET", "/vnoc")
        r = conn.getresponse()
        r.read()
        assert r.status == 405 and r.getheader("Allow") == "POST"
        status, _ = a.post(envelope(element("Heartbeat", site="A")), path="/other")
        assert status == 404


if __name__ == "__main__":
    main([test_accounting_rows_for_join_leave_and_deny,
          test_accounting_export_prints_csv_since_a_time,
          test_restart_keeps_memberships_and_sas,
          test_silent_site_is_taken_out_and_registers_again,
          test_malformed_soap_is_bad_request_and_changes_nothing,
          test_oversized_body_is_413_and_changes_nothing,
          test_wrong_method_and_path])
