#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
ivgmpd logs through rte_log, one log type per component (ivgmp.main,
ivgmp.conf, ivgmp.worker, ivgmp.igmp, ivgmp.group, ivgmp.announce,
ivgmp.vnoc, ivgmp.telemetry), and EAL's --log-level sets their levels
(doc/telemetry.rst, "Logging"). On the standard configuration:

  no --log-level                 ivgmp.conf's INFO summary on stderr; no DEBUG
                                 line; no ivgmp.worker INFO (it starts at NOTICE)
  --log-level=ivgmp.conf:debug   every site and SA on stderr (SPIs, never key
                                 bytes); still no worker or telemetry line
  --log-level='ivgmp.*:debug'    the pattern reaches all types: the conf lines,
                                 the worker line, a telemetry command's line
  --log-level=warning            (as the pcap and e2e rigs run it) nothing from
                                 ivgmpd on stderr, while the events - the ready
                                 line, VPN role changes - stay on stdout
  a bad configuration line       under --log-level=warning, stderr still says
                                 "ivgmpd: FILE:LINE: reason" as it always did

Each run: ivgmpd up to its ready line, one telemetry command, SIGTERM.
"""

import re

import pcap_harness as h
from live_ivgmpd import LiveIvgmpd

CONF_DEBUG = "ivgmpd: site B: WAN 10.99.0.2, ESP, outbound SA yes"
SA_DEBUG = "ivgmpd: SA out to B: spi 0x00001002 aes-gcm-128"
WORKER_INFO = "ivgmpd: worker 0 on lcore 1"
TELEMETRY_DEBUG = "ivgmpd: telemetry: /ivgmp/info"
ROLE_EVENT = "ivgmpd: group 239.9.9.9: VPN role none -> receiver"


def run(binary, workdir, tag, eal_args, config=None):
    config = config or h.standard_config()
    dev = LiveIvgmpd(binary, config, [], [], "%s/%s" % (workdir, tag), tag, eal_args)
    dev.start()
    try:
        dev.query("/ivgmp/info")
    finally:
        code, out, err = dev.stop()
    if code != 0:
        raise h.HarnessError("ivgmpd %s exited %s\n%s" % (" ".join(eal_args), code, err))
    print("  %s: %d ivgmpd line(s) on stderr" % (" ".join(eal_args) or "(no --log-level)",
                                               sum(l.startswith("ivgmpd") for l in err.splitlines())))
    return dev, out, err


def has(text, line_start):
    return any(line.startswith(line_start) for line in text.splitlines())


def test(binary, workdir, chk):
    chk.section("no --log-level: INFO and above")
    dev, out, err = run(binary, workdir, "default", [])
    chk.check(has(err, "ivgmpd: configuration %s: " % dev.config_path), "ivgmp.conf INFO summary")
    chk.check(not has(err, CONF_DEBUG), "no ivgmp.conf DEBUG line")
    chk.check(not has(err, WORKER_INFO), "no ivgmp.worker INFO line (NOTICE by default)")
    chk.check(not has(err, TELEMETRY_DEBUG), "no ivgmp.telemetry DEBUG line")

    chk.section("--log-level=ivgmp.conf:debug")
    dev, out, err = run(binary, workdir, "conf", ["--log-level=ivgmp.conf:debug"])
    chk.check(has(err, CONF_DEBUG) and has(err, SA_DEBUG), "sites and SAs at DEBUG",
              "stderr:\n" + err)
    leaked = [sa.spi for sa in h.standard_config().sas if sa.keymat[:-4].hex() in err.lower()]
    chk.equal(leaked, [], "no key bytes in the log")
    chk.check(not has(err, WORKER_INFO) and not has(err, TELEMETRY_DEBUG),
              "the other types keep their levels")

    chk.section("--log-level='ivgmp.*:debug'")
    dev, out, err = run(binary, workdir, "all", ["--log-level=ivgmp.*:debug"])
    for line in (CONF_DEBUG, WORKER_INFO, TELEMETRY_DEBUG):
        chk.check(has(err, line), "'%s...'" % line)

    chk.section("--log-level=warning")
    dev, out, err = run(binary, workdir, "warning", ["--log-level=warning"])
    chk.equal([l for l in err.splitlines() if l.startswith("ivgmpd")], [], "ivgmpd's lines on stderr")
    chk.check(has(out, "ivgmpd: ready: 1 worker(s), 4 site(s), 4 group(s), 8 SA(s)"),
              "the ready line on stdout")
    chk.check(has(out, ROLE_EVENT), "role changes on stdout")

    chk.section("a bad line, --log-level=warning")
    bad = h.standard_config()
    bad.extra.append("wan-adress 10.0.0.1")
    dev = LiveIvgmpd(binary, bad, [], [], workdir + "/bad", "bad", ["--log-level=warning"])
    try:
        dev.start(timeout=10)
        chk.check(False, "ivgmpd refuses the configuration")
    except h.HarnessError:
        pass
    code, out, err = dev.stop()
    line = 1 + next(i for i, l in enumerate(bad.text().splitlines()) if l.startswith("wan-adress"))
    want = "ivgmpd: %s:%d: unknown keyword 'wan-adress'" % (dev.config_path, line)
    chk.equal((code, [l for l in err.splitlines() if l.startswith("ivgmpd")]), (1, [want]),
              "exit 1, and the refusal as it always read")


if __name__ == "__main__":
    h.main(test, "log_level_from_command_line")
