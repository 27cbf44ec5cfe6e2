# SPDX-License-Identifier: BSD-3-Clause
"""Who may talk to vnocd: TLS client certificates signed by the site CA,
the certificate's CN is the site, and a site speaks only for itself."""

import os
import shutil
import ssl
import time

from vnoc_rig import Fault, Pki, Vnocd, envelope, element, expect_fault, main

POLICY = "allow site * both 239.0.0.0/8\n"


def register_body(site):
    return envelope(element("RegisterSite", site=site, wanAddress="10.0.0.1",
                            udpEncap="false", software="t"))


def test_no_client_certificate_is_refused(d):
    pki = Pki(d)
    with Vnocd(d, pki, POLICY) as v:
        c = v.client("A", cert=False)
        try:
            status, data = c.post(register_body("A"))
        except (ssl.SSLError, ConnectionError, OSError):
            return                      # refused in the handshake: fine too
        assert status == 403, status
        expect_fault("NotAuthorized", c.answer, "RegisterSite", status, data)
        assert v.sql("SELECT count(*) FROM sites") == [["0"]]
        assert "no client certificate" in v.log(), v.log()


def test_certificate_from_another_ca_is_refused(d):
    pki = Pki(d)
    other = pki.make_ca("other-ca")
    forged = (pki.issue("forged-A", "A", other), pki.key)
    with Vnocd(d, pki, POLICY) as v:
        c = v.client("A", cert=forged)
        try:
            status, data = c.post(register_body("A"))
        except (ssl.SSLError, ConnectionError, OSError):
            return
        assert status == 403, status
        expect_fault("NotAuthorized", c.answer, "RegisterSite", status, data)
        assert v.sql("SELECT count(*) FROM sites") == [["0"]]
        # A real A still works on the same server.
        v.client("A").register("A", "10.0.0.1")


def test_revoked_site_certificate_is_refused_after_sighup(d):
    """--crl: a site whose certificate the CA revoked gets 403 NotAuthorized
    whatever it asks, from the next connection after vnocd read the CRL (at
    start, or on SIGHUP, without a restart); the others go on. A CRL not
    signed by the site CA is refused: at start vnocd stops, on SIGHUP the
    revocations in force stay."""
    pki = Pki(d)
    crl = os.path.join(d, "sites.crl")
    shutil.copy(pki.crl([], filename="empty.crl"), crl)
    with Vnocd(d, pki, POLICY, extra=["--crl", crl]) as v:
        v.client("A").register("A", "10.0.0.1")
        v.client("B").register("B", "10.0.0.2")
        assert "crl: %s: 0 revoked certificate(s)" % crl in v.log()
        shutil.copy(pki.crl(["B"], filename="b.crl"), crl)
        v.reload()
        wait_log(v, "1 revoked certificate(s)")
        b = v.client("B")
        status, data = b.post(register_body("B"))
        assert status == 403, status
        expect_fault("NotAuthorized", b.answer, "RegisterSite", status, data)
        assert "certificate of B revoked" in v.log(), v.log()
        v.client("A").register("A", "10.0.0.1")
        # A CRL from another CA: refused, B stays revoked.
        other = pki.make_ca("other-ca")
        shutil.copy(pki.crl([], ca=other, filename="other.crl"), crl)
        v.reload()
        wait_log(v, "crl: reload refused")
        status, _ = v.client("B").post(register_body("B"))
        assert status == 403, status
    # At start, a CRL not signed by the site CA stops vnocd with the reason.
    bad = Vnocd(d, pki, POLICY, extra=["--crl", crl])
    try:
        bad.start()
        raise AssertionError("vnocd started with a CRL of another CA")
    except RuntimeError:
        pass
    assert "not signed by the site CA" in bad.log(), bad.log()


def wait_log(v, text, timeout=5.0):
    end = time.time() + timeout
    while text not in v.log():
        assert time.time() < end, "no '%s' in the log: %s" % (text, v.log())
        time.sleep(0.05)


def test_site_b_certificate_asking_as_site_a_is_not_authorized(d):
    pki = Pki(d)
    with Vnocd(d, pki, POLICY) as v:
        a = v.client("A")
        b = v.client("B")
        a.register("A", "10.0.0.1")
        b.register("B", "10.0.0.2")
        f = expect_fault("NotAuthorized", b.register, "A", "10.9.9.9")
        assert f.status == 500 and f.code.endswith("Client"), f
        expect_fault("NotAuthorized", b.join, "A", "239.1.1.1", "receive")
        expect_fault("NotAuthorized", b.watch, "A", 0, 1)
        expect_fault("NotAuthorized", b.heartbeat, "A")
        # A's record is untouched.
        assert v.sql("SELECT wan FROM sites WHERE id = 'A'") == [[str(0x0a000001)]]
        assert v.sql("SELECT count(*) FROM memberships") == [["0"]]


def test_unknown_site_join_before_register_is_unknown_site(d):
    pki = Pki(d)
    with Vnocd(d, pki, POLICY) as v:
        a = v.client("A")
        expect_fault("UnknownSite", a.join, "A", "239.1.1.1", "receive")
        expect_fault("UnknownSite", a.watch, "A", 0, 1)
        expect_fault("UnknownSite", a.heartbeat, "A")
        a.register("A", "10.0.0.1")
        assert a.join("A", "239.1.1.1", "receive")[0] == {"receiver"}


def test_admin_operations_need_the_admin_certificate(d):
    pki = Pki(d)
    with Vnocd(d, pki, POLICY) as v:
        a = v.client("A")
        a.register("A", "10.0.0.1")
        a.join("A", "239.1.1.1", ["send", "receive"])
        expect_fault("NotAuthorized", a.list_groups)
        expect_fault("NotAuthorized", a.get_accounting, 0)
        admin = v.client("admin")
        groups = admin.list_groups()
        assert [g["address"] for g in groups["groups"]] == ["239.1.1.1"], groups
        assert groups["groups"][0]["members"][0]["site"] == "A"
        rows = admin.get_accounting(0)
        assert sorted((r["site"], r["roles"], r["action"]) for r in rows) == \
            [("A", "receiver", "join"), ("A", "sender", "join")], rows
        # The operator is not a site.
        expect_fault("NotAuthorized", admin.register, "admin", "10.0.0.9")


def test_insecure_http_takes_the_site_from_the_header(d):
    with Vnocd(d, None, POLICY, insecure=True) as v:
        assert "insecure-http" in v.log()
        a = v.client("A")
        a.register("A", "10.0.0.1")
        expect_fault("NotAuthorized", v.client("B", header="B").join, "A", "239.1.1.1",
                     "receive")
        nobody = v.client("A", header=None)
        nobody.header = None
        status, data = nobody.post(register_body("A"))
        assert status == 403, status


if __name__ == "__main__":
    main([test_no_client_certificate_is_refused,
          test_certificate_from_another_ca_is_refused,
          test_revoked_site_certificate_is_refused_after_sighup,
          test_site_b_certificate_asking_as_site_a_is_not_authorized,
          test_unknown_site_join_before_register_is_unknown_site,
          test_admin_operations_need_the_admin_certificate,
          test_insecure_http_takes_the_site_from_the_header])
