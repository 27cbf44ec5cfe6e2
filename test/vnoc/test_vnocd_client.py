# SPDX-License-Identifier: BSD-3-Clause
"""The edge device's own VNOC client (lib/vnoc_client: libcurl, GnuTLS)
against vnocd over TLS: registration, joins, the long poll carrying the
other site's join, and a refusal reported as a denial.

usage: test_vnocd_client.py VNOCD PROBE [TEST ...]"""

import subprocess
import sys

from vnoc_rig import Pki, Vnocd, main

PROBE = sys.argv.pop(2) if len(sys.argv) > 2 else None
POLICY = "allow site * receive 239.0.0.0/8\nallow site A send 239.1.0.0/16\n"


def probe(v, site, wan, seconds, *groups):
    crt, key = v.pki.site(site)
    url = "https://127.0.0.1:%d/vnoc" % v.port
    return subprocess.Popen([PROBE, url, v.pki.ca[0], crt, key, site, wan, str(seconds)]
                            + list(groups), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def last_view(out):
    """The lines of the last view the client applied."""
    lines = out.splitlines()
    starts = [i for i, l in enumerate(lines) if l.startswith("view ")]
    assert starts, out
    view = []
    for line in lines[starts[-1]:]:
        if line.startswith(("status", "denied")) or (view and line.startswith("view ")):
            break
        view.append(line)
    return view


def test_vnoc_client_joins_and_learns_the_other_site(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        procs = {"A": probe(v, "A", "10.0.0.1", 5, "239.1.1.1=send"),
                 "B": probe(v, "B", "10.0.0.2", 5, "239.1.1.1=receive"),
                 "C": probe(v, "C", "10.0.0.3", 5, "239.1.1.1=send")}
        out = {}
        for s, p in procs.items():
            o, e = p.communicate(30)
            assert p.returncode == 0, e
            out[s] = o.decode()
        va, vb = last_view(out["A"]), last_view(out["B"])
        sa_a = [l.split() for l in va if l.startswith("sa out B ")]
        sa_b = [l.split() for l in vb if l.startswith("sa in A ")]
        assert len(sa_a) == 1 and len(sa_b) == 1, (out["A"], out["B"])
        assert sa_a[0][3] == sa_b[0][3] and sa_a[0][4] == sa_b[0][4] == "32", (sa_a, sa_b)
        assert "group 239.1.1.1 A:send B:receive" in vb, vb
        assert "denied 239.1.1.1 send NotAuthorized" in out["C"], out["C"]
        for s in "AB":
            status = [l for l in out[s].splitlines() if l.startswith("status ")][0].split()
            assert status[1] == "ready" and int(status[3]) == 1, status
        assert v.sql("SELECT site, action FROM accounting WHERE action = 'deny'") == \
            [["C", "deny"]]


if __name__ == "__main__":
    main([test_vnoc_client_joins_and_learns_the_other_site])
