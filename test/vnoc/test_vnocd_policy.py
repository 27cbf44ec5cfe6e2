# SPDX-License-Identifier: BSD-3-Clause
"""The policy file (doc/policy.rst): allow/deny per site, role and prefix,
default deny, limits, SIGHUP reload."""

import subprocess

from vnoc_rig import Pki, Vnocd, expect_fault, main, vnocd_path

POLICY = """# test policy
allow site A send 239.1.0.0/16
allow site * receive 239.0.0.0/8
deny site C receive 239.1.1.1/32
sa-mode 239.0.0.0/8 pairwise
max-groups-per-site 100
"""


def setup(v, *sites):
    clients = {}
    for i, s in enumerate(sites):
        clients[s] = v.client(s)
        clients[s].register(s, "10.0.0.%d" % (i + 1))
    return clients


def deny_rows(v, site):
    return v.sql("SELECT site, grp, role, action FROM accounting "
                 "WHERE action = 'deny' AND site = '%s'" % site)


def test_allowed_join_is_granted(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = setup(v, "A", "B")
        assert c["A"].join("A", "239.1.1.1", "send")[0] == {"sender"}
        assert c["B"].join("B", "239.1.1.1", "receive")[0] == {"receiver"}
        assert c["B"].join("B", "239.200.0.1", "receive")[0] == {"receiver"}
        assert v.sql("SELECT site, roles FROM memberships ORDER BY site, grp") == \
            [["A", "2"], ["B", "1"], ["B", "1"]]
        log = v.log()
        assert "join A 239.1.1.1 send" in log and "join B 239.1.1.1 receive" in log, log


def test_denied_join_is_not_authorized_with_a_deny_row(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = setup(v, "A", "B", "C")
        # B may not send anywhere; C may not receive 239.1.1.1 (longer
        # prefix deny beats the /8 allow); nothing outside 239/8.
        f = expect_fault("NotAuthorized", c["B"].join, "B", "239.1.1.1", "send")
        assert "no rule allows send" in f.text, f
        f = expect_fault("NotAuthorized", c["C"].join, "C", "239.1.1.1", "receive")
        assert "policy.conf:4" in f.text, f
        expect_fault("NotAuthorized", c["A"].join, "A", "238.1.1.1", "receive")
        # C may still receive the rest of 239/8.
        assert c["C"].join("C", "239.1.1.2", "receive")[0] == {"receiver"}
        assert v.sql("SELECT count(*) FROM memberships") == [["1"]]
        assert deny_rows(v, "B") == [["B", str(0xef010101), "send", "deny"]]
        assert deny_rows(v, "C") == [["C", str(0xef010101), "receive", "deny"]]
        assert "deny C 239.1.1.1 receive" in v.log()


def test_join_with_one_role_refused_grants_the_other(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = setup(v, "B")
        assert c["B"].join("B", "239.1.1.1", ["send", "receive"])[0] == {"receiver"}
        assert deny_rows(v, "B") == [["B", str(0xef010101), "send", "deny"]]


def test_sighup_reload_changes_the_outcome(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = setup(v, "A", "B")
        expect_fault("NotAuthorized", c["B"].join, "B", "239.5.5.5", "send")
        v.write_policy(POLICY + "allow site B send 239.5.0.0/16\n")
        v.reload()
        assert c["B"].join("B", "239.5.5.5", "send")[0] == {"sender"}
        assert c["A"].join("A", "239.1.1.1", "send")[0] == {"sender"}
        # Taking the right away again removes the role already held.
        v.write_policy(POLICY.replace("allow site A send", "deny site A send") +
                       "allow site B send 239.5.0.0/16\n")
        v.reload()
        expect_fault("NotAuthorized", c["A"].join, "A", "239.1.1.1", "send")
        assert v.sql("SELECT site, roles FROM memberships ORDER BY site") == [["B", "2"]]
        assert v.sql("SELECT site, role, action, reason FROM accounting "
                     "WHERE action = 'leave'") == [["A", "send", "leave", "policy reload"]]


def test_bad_policy_on_reload_is_refused_and_the_old_one_stays(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        c = setup(v, "A")
        v.write_policy(POLICY + "allow site B send 239.5.0.0/16\nallow site A sned 239.0.0.0/8\n")
        v.reload()
        log = v.log()
        assert "reload refused" in log and "policy.conf:8: 'sned'" in log, log
        # The old policy: A sends in 239.1/16 and nowhere else.
        assert c["A"].join("A", "239.1.1.1", "send")[0] == {"sender"}
        expect_fault("NotAuthorized", c["A"].join, "A", "239.7.7.7", "send")
        assert v.sql("SELECT site, roles FROM memberships") == [["A", "2"]]


def test_bad_policy_at_start_stops_vnocd_with_file_and_line(d):
    v = Vnocd(d, Pki(d), "allow site A send 239.0.0.0/8\nsa-mode 239.0.0.0/8 both\n")
    try:
        v.start()
        raise AssertionError("vnocd started with a bad policy")
    except RuntimeError:
        pass
    assert "policy.conf:2: 'both': the SA mode is pairwise or group" in v.log(), v.log()
    out = subprocess.run([vnocd_path(), "check-policy", v.policy], stderr=subprocess.PIPE)
    assert out.returncode == 1 and b"policy.conf:2:" in out.stderr


def test_policy_lines_are_checked(d):
    bad = {
        "allow site A send 10.0.0.0/8": "not within 224.0.0.0/4",
        "allow site A send 239.1.1.1/16": "bits set after",
        "allow site A+ send 239.0.0.0/8": "not a site id",
        "allow site A send": "expected",
        "permit site A send 239.0.0.0/8": "unknown keyword",
        "max-groups-per-site 0": "not a number",
        "sa-mode 239.0.0.0/8 both": "pairwise or group",
    }
    for n, (line, why) in enumerate(bad.items()):
        path = "%s/p%d.conf" % (d, n)
        with open(path, "w") as f:
            f.write("# ok\n" + line + "\n")
        out = subprocess.run([vnocd_path(), "check-policy", path], stderr=subprocess.PIPE)
        err = out.stderr.decode()
        assert out.returncode == 1 and ("p%d.conf:2:" % n) in err and why in err, (line, err)


def test_max_groups_per_site_is_a_limit_fault(d):
    with Vnocd(d, Pki(d), "allow site * receive 239.0.0.0/8\nmax-groups-per-site 2\n") as v:
        c = setup(v, "A")
        c["A"].join("A", "239.0.0.1", "receive")
        c["A"].join("A", "239.0.0.2", "receive")
        f = expect_fault("Limit", c["A"].join, "A", "239.0.0.3", "receive")
        assert "max-groups-per-site 2" in f.text
        # A role more in a group already held is no new group.
        assert c["A"].join("A", "239.0.0.2", "receive")[0] == {"receiver"}
        assert v.sql("SELECT reason FROM accounting WHERE action = 'deny'") == \
            [["limit: max-groups-per-site 2 reached"]]


if __name__ == "__main__":
    main([test_allowed_join_is_granted,
          test_denied_join_is_not_authorized_with_a_deny_row,
          test_join_with_one_role_refused_grants_the_other,
          test_sighup_reload_changes_the_outcome,
          test_bad_policy_on_reload_is_refused_and_the_old_one_stays,
          test_bad_policy_at_start_stops_vnocd_with_file_and_line,
          test_policy_lines_are_checked,
          test_max_groups_per_site_is_a_limit_fault])
