#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ivgmp-bench next to DPDK's ipsec-secgw and dpdk-test-crypto-perf, in one
run on one machine (doc/performance.rst).

    test/bench/compare.py [--build build] [--duration 5] [--json FILE]

Runs, each on lcore 1 with AES-128-GCM:
  * ivgmp-bench encap and decap at 64, 512 and 1400 bytes (1 site), and encap
    at 1, 2, 4, 8, 16, 32 and 64 sites (1400 bytes) with pairwise SAs and with
    a group SA (one encryption per packet, chained copies), the two modes in
    turn at each site count;
  * ipsec-secgw, built from the dpdk-doc package's examples into a temporary
    directory, on the same input pcaps with the same SA (tunnel mode,
    librte_ipsec, cpu-crypto on ipsec-mb), net_pcap infinite_rx in, net_null
    out; its rate is read from its port counters over DPDK telemetry;
  * dpdk-test-crypto-perf, AES-GCM-128 encryption on crypto_aesni_gcm at the
    same sizes: the crypto bound.
Prints the ratios against issue #6's targets and writes one JSON file
(default build/bench/compare.json), which test/bench/plot.py draws.
Needs root (DPDK). Takes about three minutes with the default duration.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SIZES = [64, 512, 1400]
SITES = [1, 2, 4, 8, 16, 32, 64]
EAL = ["--no-huge", "-m", "1024", "--no-pci", "--log-level=error"]
EXAMPLES = "/usr/share/dpdk/examples"
# ipsec-secgw wants an inbound SA even to encrypt; encap runs give it this
# one (SPI, key and salt), which no packet uses.
SECGW_DUMMY_SA = (0x3001, "00112233445566778899aabbccddeeff01020304")
# The one line of the example changed in the temporary copy: it asks every
# port for RX checksum offload, which net_pcap has not.
SECGW_PATCH = ("\t\t.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,", "\t\t.offloads = 0,")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def cleanup_prefix(prefix):
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


# --- ivgmp-bench -------------------------------------------------------------

def run_bench(bench, mode, sites, sizes, duration, input_dir, out_json, prefix,
              sa_mode="pairwise"):
    cmd = [bench] + EAL + ["--file-prefix", prefix, "-l", "0,1", "--",
                           "--mode", mode, "--sites", str(sites),
                           "--sizes", ",".join(map(str, sizes)),
                           "--sa-mode", sa_mode, "--burst", "32",
                           "--duration", str(duration), "--json", out_json,
                           "--input-dir", input_dir]
    log("+", " ".join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True)
    cleanup_prefix(prefix)
    if out.returncode != 0:
        sys.exit(f"ivgmp-bench failed:\n{out.stdout}{out.stderr}")
    print(out.stdout, end="", flush=True)
    with open(out_json) as f:
        return json.load(f), out.stdout


def conf_key(conf_path, direction):
    """(spi, 20-byte key+salt hex) of the first 'sa DIRECTION' line."""
    with open(conf_path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 8 and w[0] == "sa" and w[1] == direction:
                return int(w[4], 0), w[w.index("key") + 1][2:]
    sys.exit(f"{conf_path}: no sa {direction}")


# --- ipsec-secgw ---------------------------------------------------------------

def build_secgw(work):
    if not os.path.isdir(f"{EXAMPLES}/ipsec-secgw"):
        log("+ apt-get install -y dpdk-doc")
        subprocess.run(["apt-get", "install", "-y", "dpdk-doc"], check=True,
                       stdout=subprocess.DEVNULL)
    src = os.path.join(work, "examples")
    os.makedirs(src)
    shutil.copytree(f"{EXAMPLES}/ipsec-secgw", f"{src}/ipsec-secgw")
    shutil.copytree(f"{EXAMPLES}/common", f"{src}/common")
    main_c = f"{src}/ipsec-secgw/ipsec-secgw.c"
    with open(main_c) as f:
        text = f.read()
    if SECGW_PATCH[0] not in text:
        sys.exit("ipsec-secgw.c: the RX checksum offload line moved; update SECGW_PATCH")
    with open(main_c, "w") as f:
        f.write(text.replace(SECGW_PATCH[0], SECGW_PATCH[1], 1))
    log(f"+ make -C {src}/ipsec-secgw (pkg-config libdpdk)")
    subprocess.run(["make", "-j2", "-C", f"{src}/ipsec-secgw"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"{src}/ipsec-secgw/build/ipsec-secgw"


def colon_hex(h):
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def secgw_conf(mode, out_sa, in_sa):
    """The same SAs as ivgmp-bench's configuration: ours to site s1
    (10.99.1.1) and s1's to us (10.99.0.1). Port 0 is the pcap, port 1
    net_null: encap sends to port 1, decap delivers to port 1."""
    wan_port, lan_port = (1, 0) if mode == "encap" else (0, 1)
    return "\n".join([
        f"sp ipv4 out esp protect {out_sa[0]} pri 1 dst 239.1.1.1/32 sport 0:65535 dport 0:65535",
        f"sa out {out_sa[0]} aead_algo aes-128-gcm aead_key {colon_hex(out_sa[1])} "
        "mode ipv4-tunnel src 10.99.0.1 dst 10.99.1.1 type cpu-crypto",
        f"sp ipv4 in esp protect {in_sa[0]} pri 1 dst 239.1.1.1/32 sport 0:65535 dport 0:65535",
        f"sa in {in_sa[0]} aead_algo aes-128-gcm aead_key {colon_hex(in_sa[1])} "
        "mode ipv4-tunnel src 10.99.1.1 dst 10.99.0.1 type cpu-crypto",
        f"rt ipv4 dst 10.99.1.0/24 port {wan_port}",
        f"rt ipv4 dst 239.0.0.0/8 port {lan_port}",
        f"neigh port {wan_port} 02:00:00:00:00:fe",
        f"neigh port {lan_port} 01:00:5e:01:01:01",
        ""])


def telemetry(prefix, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
    try:
        s.recv(16384)
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 16).decode())
    finally:
        s.close()


def thread_cpu_seconds(pid, tid):
    """utime + stime of one thread, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def port_counts(prefix, pid):
    """Wall time, port 0 RX, port 1 TX, and the CPU time of the main thread,
    which is the only lcore (-l 1) and polls both ports."""
    rx = telemetry(prefix, "/ethdev/stats,0")["/ethdev/stats"]
    tx = telemetry(prefix, "/ethdev/stats,1")["/ethdev/stats"]
    return time.monotonic(), rx["ipackets"], tx["opackets"], thread_cpu_seconds(pid, pid)


def run_secgw(binary, mode, pcap, conf_path, duration, prefix):
    """Output packets per second on port 1 over duration seconds, after the
    first second. Replay window: the example's default, 0 = no check."""
    cmd = [binary] + EAL + ["--file-prefix", prefix, "-l", "1",
                            "--vdev", "crypto_aesni_gcm0",
                            "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1",
                            "--vdev", "net_null0,no-rx=1", "--",
                            "-p", "0x3", "-u", "0x2" if mode == "encap" else "0x1",
                            "-l", "--config", "(0,0,1),(1,0,1)", "-f", conf_path]
    log("+", " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = None
        deadline = time.monotonic() + 20
        while first is None and time.monotonic() < deadline:
            time.sleep(0.2)
            if proc.poll() is not None:
                break
            try:
                c = port_counts(prefix, proc.pid)
                if c[2] > 0:
                    first = c
            except (OSError, KeyError, ValueError):
                pass
        if first is None:
            proc.kill()
            sys.exit(f"ipsec-secgw did not forward:\n{proc.communicate()[0]}")
        time.sleep(1.0)
        start = port_counts(prefix, proc.pid)
        time.sleep(duration)
        end = port_counts(prefix, proc.pid)
    finally:
        proc.send_signal(2)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        cleanup_prefix(prefix)
    dt, cpu = end[0] - start[0], end[3] - start[3]
    return {"seconds": round(dt, 4), "cpu_seconds": round(cpu, 3),
            "input_packets": end[1] - start[1], "output_packets": end[2] - start[2],
            "input_mpps": round((end[1] - start[1]) / dt / 1e6, 4),
            "output_mpps": round((end[2] - start[2]) / dt / 1e6, 4),
            "output_mpps_per_cpu_s": round((end[2] - start[2]) / cpu / 1e6, 4)}


# --- dpdk-test-crypto-perf ------------------------------------------------------

def worker_cpu_seconds(pid):
    """CPU time of the process's lcore 1 thread (DPDK names it *-worker-1)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip().endswith("worker-1"):
                return thread_cpu_seconds(pid, tid)
    return 0.0


def run_crypto_perf(sizes, ops):
    """One run per size, so that the CPU time of its worker thread (polled
    until it exits) belongs to that size alone."""
    res = {}
    for size in sizes:
        cmd = ["dpdk-test-crypto-perf"] + EAL + [
            "-l", "0,1", "--file-prefix", "ivgmp-compare-cperf", "--vdev", "crypto_aesni_gcm0",
            "--", "--ptest", "throughput", "--devtype", "crypto_aesni_gcm", "--optype", "aead",
            "--aead-algo", "aes-gcm", "--aead-op", "encrypt", "--aead-key-sz", "16",
            "--aead-iv-sz", "12", "--aead-aad-sz", "8", "--digest-sz", "16",
            "--buffer-sz", str(size), "--burst-sz", "32", "--total-ops", str(ops), "--silent"]
        log("+", " ".join(cmd))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        cpu = 0.0
        while proc.poll() is None:
            try:
                cpu = max(cpu, worker_cpu_seconds(proc.pid))
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.01)
        out = proc.communicate()[0]
        cleanup_prefix("ivgmp-compare-cperf")
        for line in out.splitlines():
            w = line.split()
            if len(w) == 10 and all(re.fullmatch(r"[0-9.]+", x) for x in w) and int(w[1]) == size:
                res[size] = {"mops": float(w[7]), "gbps": float(w[8]),
                             "cycles_per_op": float(w[9]), "cpu_seconds": round(cpu, 3),
                             "mops_per_cpu_s": round(ops / cpu / 1e6, 4) if cpu else 0.0}
        if size not in res:
            sys.exit(f"dpdk-test-crypto-perf: no result:\n{out}")
    return res


# --- the comparison -------------------------------------------------------------

def targets(ours, sites, sites_group, secgw, crypto):
    """Each target as a ratio of rates per CPU-second of the lcore's thread
    (what the scheduler gave each program), and of wall-clock rates."""
    t = []

    def add(name, mine, ref, goal):
        ratio = mine[0] / ref[0] if ref[0] else 0.0
        t.append({"target": name, "ours": mine[0], "reference": ref[0], "ratio": round(ratio, 3),
                  "ours_wall": mine[1], "reference_wall": ref[1],
                  "ratio_wall": round(mine[1] / ref[1], 3) if ref[1] else 0.0,
                  "goal": goal, "met": ratio >= goal})

    def bench(r, what):
        if what == "input":
            return (r["input_mpps_per_cpu_s"], r["input_mpps"])
        return (r["output_mcopies_per_cpu_s"], r["output_mcopies_per_s"])

    def gw(r):
        return (r["output_mpps_per_cpu_s"], r["output_mpps"])

    def cp(r):
        return (r["mops_per_cpu_s"], r["mops"])

    add("pairwise 1 site, 64 B: encap Mpps vs ipsec-secgw encap Mpps",
        bench(ours["encap"][64], "input"), gw(secgw["encap"][64]), 1.3)
    add("pairwise 1 site, 1400 B: encap Mpps vs crypto-perf Mops",
        bench(ours["encap"][1400], "input"), cp(crypto[1400]), 0.8)
    add("pairwise 8 sites, 1400 B: Mcopies/s vs crypto-perf Mops",
        bench(sites[8], "output"), cp(crypto[1400]), 0.8)
    add("group mode 16 sites, 1400 B: Mcopies/s vs pairwise at 16 sites",
        bench(sites_group[16], "output"), bench(sites[16], "output"), 8.0)
    add("decap 64 B: Mpps vs ipsec-secgw inbound Mpps",
        bench(ours["decap"][64], "input"), gw(secgw["decap"][64]), 1.3)
    return t


def print_summary(doc):
    ours, secgw, crypto = doc["ivgmp"], doc["secgw"], doc["crypto_perf"]
    hz = doc["tsc_hz"]
    print(f"\n# {doc['date']}  {doc['cpu']}  TSC {hz / 1e6:.0f} MHz  "
          f"{doc['duration_s']} s per run, lcore 1, load average {doc['loadavg_start'][0]} "
          f"at the start, {doc['loadavg_end'][0]} at the end")
    print("# Rates per CPU-second of the measured thread (wall-clock rate, share of the core)")
    for mode, ref in (("encap", "ipsec-secgw encap"), ("decap", "ipsec-secgw decap")):
        print(f"\n{mode:>6} {'ivgmp Mpps':>20} {ref + ' Mpps':>24} {'ratio':>6} "
              f"{'cyc/pkt':>8} {'secgw cyc/pkt':>13}")
        for size in doc["sizes"]:
            o, g = ours[mode][str(size)], secgw[mode][str(size)]
            oc = 100 * o["cpu_seconds"] / o["seconds"]
            gc = 100 * g["cpu_seconds"] / g["seconds"]
            print(f"{size:>6} {o['input_mpps_per_cpu_s']:>7.3f} ({o['input_mpps']:.3f}, {oc:3.0f}%) "
                  f"{g['output_mpps_per_cpu_s']:>11.3f} ({g['output_mpps']:.3f}, {gc:3.0f}%) "
                  f"{o['input_mpps_per_cpu_s'] / g['output_mpps_per_cpu_s']:>6.2f} "
                  f"{hz * o['cpu_seconds'] / o['input_packets']:>8.1f} "
                  f"{hz / (g['output_mpps_per_cpu_s'] * 1e6):>13.1f}")
    print(f"\n{'crypto':>6} {'crypto-perf Mops':>20} {'ivgmp encap / crypto':>24} "
          f"{'cyc/op':>8} {'ivgmp cyc/copy':>14}")
    for size in doc["sizes"]:
        c, o = crypto[str(size)], ours["encap"][str(size)]
        print(f"{size:>6} {c['mops_per_cpu_s']:>7.3f} ({c['mops']:.3f}) {'':>6} "
              f"{o['input_mpps_per_cpu_s'] / c['mops_per_cpu_s']:>17.2f} {'':>6} "
              f"{hz / (c['mops_per_cpu_s'] * 1e6):>8.1f} "
              f"{hz * o['cpu_seconds'] / o['output_copies']:>14.1f}")
    for key, title in (("sites", "pairwise SAs"), ("sites_group", "group SA")):
        print(f"\n{title}")
        print(f"{'sites':>6} {'Mcopies/s':>20} {'in Mpps':>8} {'cyc/copy':>9} {'vs crypto':>9}")
        for n in doc["site_counts"]:
            r = ours[key][str(n)]
            rc = 100 * r["cpu_seconds"] / r["seconds"]
            print(f"{n:>6} {r['output_mcopies_per_cpu_s']:>7.3f} ({r['output_mcopies_per_s']:.3f}, "
                  f"{rc:3.0f}%) {r['input_mpps_per_cpu_s']:>8.3f} "
                  f"{hz * r['cpu_seconds'] / r['output_copies']:>9.1f} "
                  f"{r['output_mcopies_per_cpu_s'] / crypto['1400']['mops_per_cpu_s']:>9.2f}")
    print("(1400-byte frames; cyc/...: TSC cycles of CPU time; vs crypto: over crypto-perf at 1400 B)\n")
    for t in doc["targets"]:
        print(f"{'MET  ' if t['met'] else 'SHORT'} {t['target']}: {t['ours']:.3f} vs "
              f"{t['reference']:.3f} = {t['ratio']:.2f}x (goal {t['goal']}x; wall clock "
              f"{t['ours_wall']:.3f} vs {t['reference_wall']:.3f} = {t['ratio_wall']:.2f}x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    ap.add_argument("--json", help="output file (default BUILD/bench/compare.json)")
    ap.add_argument("--crypto-ops", type=int, default=10_000_000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("compare.py: DPDK needs root")
    bench = os.path.abspath(os.path.join(args.build, "app/ivgmp-bench/ivgmp-bench"))
    if not os.access(bench, os.X_OK):
        sys.exit(f"compare.py: no {bench}: build first (ninja -C {args.build})")
    out_json = args.json or os.path.join(args.build, "bench", "compare.json")
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    work = tempfile.mkdtemp(prefix="ivgmp-compare.", dir="/tmp")
    raw = []
    try:
        secgw_bin = build_secgw(work)
        load_start = os.getloadavg()
        # ivgmp-bench and ipsec-secgw take turns, size by size, so that each
        # pair is measured close in time on a machine whose load moves.
        ours = {"encap": {}, "decap": {}}
        secgw = {"encap": {}, "decap": {}}
        for mode in ("encap", "decap"):
            for s in SIZES:
                j, out = run_bench(bench, mode, 1, [s], args.duration, f"{work}/{mode}",
                                   f"{work}/{mode}-{s}.json", f"ivgmp-compare-{mode}")
                raw.append(out)
                ours[mode][s] = j["results"][0]
                anti_replay = j["anti_replay"] if mode == "decap" else None
                conf_path = f"{work}/secgw-{mode}.cfg"
                with open(conf_path, "w") as f:
                    # Encap runs first: its configuration holds our outbound SA.
                    f.write(secgw_conf(mode, conf_key(f"{work}/encap/encap-1.conf", "out"),
                                       conf_key(f"{work}/decap/decap-1.conf", "in")
                                       if mode == "decap" else SECGW_DUMMY_SA))
                secgw[mode][s] = run_secgw(secgw_bin, mode, f"{work}/{mode}/{mode}-{s}.pcap",
                                           conf_path, args.duration, "ivgmp-compare-secgw")
                log(f"  ipsec-secgw {mode} {s} B: {secgw[mode][s]['output_mpps']} Mpps")
        # Pairwise and group SAs in turn at each site count, for the same reason.
        sites, sites_group = {}, {}
        for n in SITES:
            for sa_mode, into in (("pairwise", sites), ("group", sites_group)):
                j, out = run_bench(bench, "encap", n, [1400], args.duration,
                                   f"{work}/sites-{sa_mode}", f"{work}/sites-{sa_mode}-{n}.json",
                                   "ivgmp-compare-sites", sa_mode)
                raw.append(out)
                into[n] = j["results"][0]
        crypto = run_crypto_perf(SIZES, args.crypto_ops)
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
        doc = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cores": os.cpu_count(), "kernel": os.uname().release,
            "tsc_hz": j["tsc_hz"], "duration_s": args.duration,
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "command": " ".join(sys.argv), "sizes": SIZES, "site_counts": SITES,
            "anti_replay": {"ivgmp": anti_replay,
                            "ipsec-secgw": "replay window 0 (the example's default): no check"},
            "ivgmp": {"encap": {str(k): v for k, v in ours["encap"].items()},
                      "decap": {str(k): v for k, v in ours["decap"].items()},
                      "sites": {str(k): v for k, v in sites.items()},
                      "sites_group": {str(k): v for k, v in sites_group.items()}},
            "secgw": {m: {str(k): v for k, v in secgw[m].items()} for m in secgw},
            "crypto_perf": {str(k): v for k, v in crypto.items()},
            "targets": targets(ours, sites, sites_group, secgw, crypto),
            "ivgmp_bench_output": raw,
        }
        with open(out_json, "w") as f:
            json.dump(doc, f, indent=1)
        print_summary(doc)
        print(f"\nwrote {out_json}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
