#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivgmp-bench runs encap and decap (1 site, 64 B, 1 s): exit 0, copies out,
no drop counter set, JSON that parses; group SAs and relays are refused.

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


def check_mode(bench, work, mode):
    path = os.path.join(work, f"{mode}.json")
    out = run(bench, f"ivgmp-bench-smoke-{mode}",
              ["--mode", mode, "--sites", "1", "--sizes", "64", "--duration", "1", "--json", path])
    assert out.returncode == 0, f"{mode}: exit {out.returncode}\n{out.stdout}{out.stderr}"
    with open(path) as f:
        doc = json.load(f)
    r = doc["results"][0]
    assert doc["mode"] == mode and r["size"] == 64, doc
    assert r["input_packets"] > 0 and r["output_copies"] > 0, r
    assert r["output_packets"] == r["output_copies"], r
    assert r["drops"] == {}, f"{mode}: drops {r['drops']}"
    assert r["cycles_per_output_copy"] > 0, r
    if mode == "decap":
        assert r["replay_resets"] > 0, r
    print(f"{mode}: {r['input_mpps']:.2f} Mpps in, {r['output_copies']} copies, "
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
        check_refused(bench, ["--mode", "encap", "--sa-mode", "group"], "group SAs")
        check_refused(bench, ["--mode", "relay"], "relay")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
