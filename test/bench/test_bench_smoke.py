#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivgmp-bench runs encap and decap (1 site, 64 B, 1 s) and encap with a group
SA (3 sites, chained and flat copies): exit 0, copies out, no drop counter
set, JSON that parses, one encryption per input packet in group mode;
group SAs with decap, and relays, are refused.

    test_bench_smoke.py IVGMP_BENCH
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

EAL = ["--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--log-level=error"]


def run(bench, prefix, args):
    try:
        return subprocess.run([bench] + EAL + ["--file-prefix", prefix, "--"] + args,
                              capture_output=True, text=True, timeout=30)
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def check_mode(bench, work, mode, extra=(), sites=1):
    name = "-".join([mode] + [a.strip("-") for a in extra])
    path = os.path.join(work, f"{name}.json")
    out = run(bench, f"ivgmp-bench-smoke-{name}",
              ["--mode", mode, "--sites", str(sites), "--sizes", "64", "--duration", "1",
               "--json", path] + list(extra))
    assert out.returncode == 0, f"{name}: exit {out.returncode}\n{out.stdout}{out.stderr}"
    with open(path) as f:
        doc = json.load(f)
    r = doc["results"][0]
    assert doc["mode"] == mode and r["size"] == 64, doc
    if "group" in extra:
        c = r["counters"]
        assert doc["sa_mode"] == "group", doc
        assert r["wan_chained"] == ("flat" not in extra), r
        assert c["esp_out_group_encryptions"] == r["input_packets"], c
        assert r["output_copies"] == sites * r["input_packets"], r
    assert r["input_packets"] > 0 and r["output_copies"] > 0, r
    assert r["output_packets"] == r["output_copies"], r
    assert r["drops"] == {}, f"{mode}: drops {r['drops']}"
    assert r["cycles_per_output_copy"] > 0, r
    if mode == "decap":
        assert r["replay_resets"] > 0, r
    print(f"{name}: {r['input_mpps']:.2f} Mpps in, {r['output_copies']} copies, "
          f"{r['cycles_per_output_copy']:.0f} cycles/copy")


def check_refused(bench, args, words):
    out = run(bench, "ivgmp-bench-smoke-refuse", args)
    assert out.returncode != 0, f"{args} accepted"
    assert words in out.stderr, f"{args}: {out.stderr}"


def main():
    bench = sys.argv[1]
    work = tempfile.mkdtemp(prefix="ivgmp-bench-smoke.")
    try:
        check_mode(bench, work, "encap")
        check_mode(bench, work, "decap")
        check_mode(bench, work, "encap", ["--sa-mode", "group"], sites=3)
        check_mode(bench, work, "encap", ["--sa-mode", "group", "--group-copies", "flat"],
                   sites=3)
        check_refused(bench, ["--mode", "decap", "--sa-mode", "group"], "group")
        check_refused(bench, ["--mode", "relay"], "relay")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
