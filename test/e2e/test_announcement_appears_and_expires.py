#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
ivgmp-announce: a receive announcement appears, expires, can be withdrawn.

`ivgmp-announce --receive 239.4.4.4 --lifetime 3 --file-prefix P` prints
"ok announced for 3 s" and exits 0; /ivgmp/groups shows the group with its
receive announcement and the receiver role (log: none -> receiver). The
announcement expires 3 s later and the role goes vpn-leave-hold after that:
both measured. --withdraw takes one back at once ("ok withdrawn"; the role
goes after the hold); withdrawing what is not there is an error. The tool
talks over a unix socket in the runtime directory, so it must work from any
network namespace. With no ivgmpd running (a prefix never used, and the
daemon's own prefix after it stopped) it exits non-zero and says "not
running".
"""

import time

import rig as r

GROUP = "239.4.4.4"
WITHDRAWN_GROUP = "239.4.4.5"
ELSEWHERE_GROUP = "239.4.4.6"
LIFETIME = 3
MARGIN = 0.15
BUG_NETNS = ("ivgmp-announce run outside ivgmpd's network namespace gets no reply (its "
             "autobound abstract address is per namespace) though the request is applied")


def announce(ns, tool, prefix, *words):
    args = [tool] + list(words) + ["--file-prefix", prefix]
    p = ns.run(*args, check=False, timeout=10) if ns else r.sh(args, check=False, timeout=10)
    print("    $ %sivgmp-announce %s\n      exit %d: %s" % ("ip netns exec %s " % ns.name if ns else "",
                                                            " ".join(args[1:]), p.returncode,
                                             (p.stdout + p.stderr).strip()))
    return p


def test(rig, chk, args):
    if args.announce is None:
        raise r.RigError("the ivgmp-announce path is the second argument")
    site = r.LanSite(rig, args.ivgmpd, hosts=("h1",), v2_hosts=())
    site.start()
    dev, tool, prefix = site.device, args.announce, site.device.prefix
    hold = site.timer("vpn-leave-hold")

    chk.section("--receive %s --lifetime %d" % (GROUP, LIFETIME))
    p = announce(site.dev_ns, tool, prefix, "--receive", GROUP, "--lifetime", str(LIFETIME))
    announced_at = time.monotonic()
    chk.equal((p.returncode, p.stdout.strip()), (0, "ok announced for %d s" % LIFETIME),
              "exit code and output")
    table = dev.groups()
    entry = table.get(GROUP)
    chk.check(entry is not None, "/ivgmp/groups has %s" % GROUP, "got %s" % table,
              bug=r.table_bug(table))
    if entry:
        chk.check("receiver" in entry.get("role", ""), "role receiver (got %r)" % entry.get("role"))
        left = entry.get("announce_receive_ms_left", 0)
        chk.check(LIFETIME * 1000 - 500 < left <= LIFETIME * 1000,
                  "announce_receive_ms_left %d: the lifetime, counting down" % left)
        chk.equal(entry.get("igmp"), "none", "no IGMP member behind it")
    role_at = dev.wait_role(GROUP, "receiver", announced_at - 1, 1)
    chk.check(role_at is not None, "log: VPN role none -> receiver")

    if entry:
        expired, took = r.wait_until(
            lambda: dev.groups().get(GROUP, {}).get("announce_receive_ms_left", 0) == 0,
            LIFETIME + 2)
        expired_after = time.monotonic() - announced_at
        chk.measured("announcement -> expired in /ivgmp/groups", expired_after, "s")
        chk.within(expired_after, LIFETIME - MARGIN, LIFETIME + MARGIN, "announcement lifetime")
    role_gone = dev.wait_role(GROUP, "none", announced_at, LIFETIME + hold + 3)
    chk.check(role_gone is not None, "log: VPN role receiver -> none")
    if role_gone:
        chk.measured("announcement -> role none in the log", role_gone - announced_at, "s")
        chk.within(role_gone - announced_at, LIFETIME + hold - MARGIN, LIFETIME + hold + MARGIN,
                   "announcement -> role none (lifetime + vpn-leave-hold)")
    chk.check(GROUP not in dev.groups(), "/ivgmp/groups no longer has %s" % GROUP)

    chk.section("--withdraw")
    p = announce(site.dev_ns, tool, prefix, "--receive", WITHDRAWN_GROUP, "--lifetime", "300")
    chk.equal(p.returncode, 0, "announce %s for 300 s: exit code" % WITHDRAWN_GROUP)
    chk.check(dev.wait_role(WITHDRAWN_GROUP, "receiver", announced_at, 1) is not None,
              "log: %s role receiver" % WITHDRAWN_GROUP)
    p = announce(site.dev_ns, tool, prefix, "--receive", WITHDRAWN_GROUP, "--withdraw")
    withdrawn_at = time.monotonic()
    chk.equal((p.returncode, p.stdout.strip()), (0, "ok withdrawn"), "withdraw: exit code and output")
    entry = dev.groups().get(WITHDRAWN_GROUP)
    if entry:
        chk.equal(entry.get("announce_receive_ms_left"), 0, "announcement gone at once")
        chk.check(entry.get("leave_in_ms", 0) > 0, "role held (leave_in_ms %s)" % entry.get("leave_in_ms"))
    role_gone = dev.wait_role(WITHDRAWN_GROUP, "none", withdrawn_at - 0.1, hold + 2)
    chk.check(role_gone is not None, "log: %s role receiver -> none" % WITHDRAWN_GROUP)
    if role_gone:
        chk.measured("withdraw -> role none in the log", role_gone - withdrawn_at, "s")
        chk.within(role_gone - withdrawn_at, hold - MARGIN, hold + MARGIN, "withdraw -> role none (hold)")
    p = announce(site.dev_ns, tool, prefix, "--receive", WITHDRAWN_GROUP, "--withdraw")
    chk.check(p.returncode != 0 and "no such announcement" in p.stdout + p.stderr,
              "withdrawing it again: non-zero exit, 'no such announcement'")

    chk.section("from another network namespace (the root one)")
    asked_at = time.monotonic()
    p = announce(None, tool, prefix, "--send", ELSEWHERE_GROUP, "--lifetime", "5")
    applied = dev.wait_role(ELSEWHERE_GROUP, "sender", asked_at, 0.5) is not None
    chk.check(applied, "the request reached ivgmpd (log: %s role sender)" % ELSEWHERE_GROUP)
    chk.equal((p.returncode, p.stdout.strip()), (0, "ok announced for 5 s"),
              "exit code and output outside ivgmpd's namespace",
              bug=BUG_NETNS if applied and "no reply" in p.stderr else None)

    chk.section("no ivgmpd")
    nobody = "ivgmp-%s-nobody" % rig.run
    p = announce(None, tool, nobody, "--receive", GROUP)
    chk.check(p.returncode != 0 and "not running" in p.stderr,
              "prefix %s (never used): non-zero exit, 'not running'" % nobody)
    code = dev.stop()
    chk.equal(code, 0, "ivgmpd exit code on SIGTERM")
    p = announce(site.dev_ns, tool, prefix, "--receive", GROUP)
    chk.check(p.returncode != 0 and "not running" in p.stderr,
              "after ivgmpd stopped: non-zero exit, 'not running'")


if __name__ == "__main__":
    r.main(test, "announcement_appears_and_expires")
