#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""doc/vnoc.wsdl through zeep, a SOAP toolkit that is not ours.

  zeep_interop.py TEST_VNOC WSDL          the meson test (suite unit)
  zeep_interop.py --fixtures WSDL DIR     rewrite test/unit/data/soap/zeep/*.xml

1. zeep loads the WSDL and the XSD it imports, with every remote load
   refused, and dumps it: every operation is there.
2. For every operation zeep serializes a request with the sample values of
   test_vnoc.c; lib/vnoc (test_vnoc --decode request) accepts it.
3. test_vnoc --samples writes every message lib/vnoc emits; zeep reads each
   response as its operation's output and each fault as a zeep Fault, and
   finds the sample values in them.

Exits 77 (meson: skipped) when zeep is not installed (Debian: python3-zeep).
"""
import contextlib
import io
import os
import subprocess
import sys
import tempfile

try:
    import zeep
    import zeep.exceptions
    import zeep.transports
    from zeep.wsdl.utils import etree_to_string
    from lxml import etree
except ImportError as e:
    print("zeep is not installed (%s): skipped" % e)
    sys.exit(77)


class NoNetwork(zeep.transports.Transport):
    """Local files only: the WSDL must not need the network."""

    def _load_remote_data(self, url):
        raise AssertionError("zeep tried to fetch %s" % url)


# The requests of test_vnoc.c's sample_msg(op, false), field for field.
REQUESTS = {
    "RegisterSite": dict(site="site-a", wanAddress="198.51.100.1", udpEncap=True,
                         software="ivgmpd 0.1.0 (DPDK 22.11)", freshStart=True),
    "JoinVpn": dict(site="site-a", group="239.1.1.1", roles="receiver"),
    "LeaveVpn": dict(site="site-a", group="239.1.1.1", roles="sender"),
    "GetGroupVpn": dict(site="site-a", group="239.1.1.1"),
    "WatchUpdates": dict(site="site-a", since=41, timeoutSeconds=25),
    "Heartbeat": dict(site="site-a", rxPackets=123456789012, txPackets=42, drops=0),
    "ListGroups": dict(),
    "GetAccounting": dict(since=1700000000),
}


def client_for(wsdl):
    client = zeep.Client(wsdl, transport=NoNetwork())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        client.wsdl.dump()
    for op in REQUESTS:
        assert "            %s(" % op in out.getvalue(), "%s missing from the dump" % op
    return client


def request_xml(client, op):
    envelope = client.create_message(client.service, op, **REQUESTS[op])
    return etree_to_string(envelope)


def check_view(view):
    assert view.version == 42, view.version
    g = view.group[0]
    assert (g.address, g.saMode) == ("239.1.1.1", "pairwise"), g
    assert [(m.site, m.wanAddress, m.udpEncap, m.roles) for m in g.member] == [
        ("site-b", "203.0.113.2", False, "both"), ("site-c", "203.0.113.3", True, "receiver")]
    sa = view.sa[0]
    assert (sa.direction, sa.peer, sa.spi, sa.aead, sa.esn, sa.lifetimeSeconds) == (
        "inbound", "site-b", 4096, "aes-gcm-128", True, 3600), sa
    key = sa.key if isinstance(sa.key, str) else sa.key.hex()
    assert key.lower() == "00112233445566778899aabbccddeeff", sa.key
    assert view.sa[1].spi == 0xfffffff0


def check_response(op, r):
    if op == "RegisterSite":
        assert (r.heartbeatSeconds, r.watchTimeoutSeconds) == (30, 25)
        check_view(r.view)
    elif op in ("JoinVpn", "LeaveVpn"):
        assert (r.roles, r.version) == ("both" if op == "JoinVpn" else "none", 43), r
    elif op in ("GetGroupVpn", "WatchUpdates"):
        check_view(r)           # zeep unwraps the one-element response
    elif op == "Heartbeat":
        assert r == 2**64 - 1, r
    elif op == "ListGroups":
        assert r.version == 42 and [g.address for g in r.group] == ["239.1.1.1", "232.5.6.7"]
    elif op == "GetAccounting":
        assert r.more is True
        assert [(x.site, x.action, x.roles) for x in r.row] == [
            ("site-a", "join", "receiver"), ("site-a", "leave", "receiver"),
            ("site-c", "deny", "both")], r.row
        assert r.row[0].reason is None and r.row[2].reason.endswith("& <others>")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--fixtures":
        client = client_for(sys.argv[2])
        for op in REQUESTS:
            with open(os.path.join(sys.argv[3], op + ".xml"), "wb") as f:
                f.write(request_xml(client, op) + b"\n")
        return 0
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    test_vnoc, wsdl = sys.argv[1], sys.argv[2]
    client = client_for(wsdl)
    binding = client.service._binding
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        # 2. zeep's requests, our decoder.
        for op in REQUESTS:
            path = os.path.join(tmp, op + ".request.xml")
            with open(path, "wb") as f:
                f.write(request_xml(client, op))
            run = subprocess.run([test_vnoc, "--decode", "request", path],
                                 capture_output=True, text=True)
            ok = run.returncode == 0 and run.stdout.strip() == op
            failures += not ok
            print("%s zeep request %s -> lib/vnoc: %s" % ("ok  " if ok else "FAIL", op,
                                                          run.stdout.strip()))
        # 3. our messages, zeep's parser.
        samples = os.path.join(tmp, "samples")
        os.mkdir(samples)
        subprocess.run([test_vnoc, "--samples", samples], check=True)
        for op in REQUESTS:
            with open(os.path.join(samples, op + "Response.xml"), "rb") as f:
                doc = etree.fromstring(f.read())
            try:
                check_response(op, binding.get(op).process_reply(doc))
                print("ok   lib/vnoc %sResponse -> zeep" % op)
            except Exception as e:  # noqa: BLE001 - report every operation
                failures += 1
                print("FAIL lib/vnoc %sResponse -> zeep: %r" % (op, e))
        for reason in ("BadRequest", "NotAuthorized", "UnknownSite", "UnknownGroup", "Limit",
                       "Server"):
            with open(os.path.join(samples, "Fault%s.xml" % reason), "rb") as f:
                doc = etree.fromstring(f.read())
            try:
                binding.process_error(doc, binding.get("JoinVpn"))
                raise AssertionError("no zeep Fault raised")
            except zeep.exceptions.Fault as fault:
                code = "Server" if reason == "Server" else "Client"
                got = fault.detail.find("{urn:ivgmp:vnoc:1}reason").text
                ok = fault.code.endswith(code) and got == reason and \
                    fault.message == "sample %s fault" % reason
                failures += not ok
                print("%s lib/vnoc fault %s -> zeep Fault(%s, %s)" % (
                    "ok  " if ok else "FAIL", reason, fault.code, got))
            except Exception as e:  # noqa: BLE001
                failures += 1
                print("FAIL lib/vnoc fault %s -> zeep: %r" % (reason, e))
    total = 2 * len(REQUESTS) + 6
    print("%d passed, %d failed" % (total - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
