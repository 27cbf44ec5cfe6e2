# SPDX-License-Identifier: BSD-3-Clause
"""Scale measurement (a benchmark, not a test: it only prints): N sites (1000)
x G groups each (10) JoinVpn over TLS on loopback, with vnocd's own
settings (SQLite WAL, synchronous=FULL).

Group layout: groups 239.2.x.y numbered 0..N-1; site i joins groups
i, i+1, ..., i+G-1 (mod N), as the sender of group i and a receiver of the
others. Each group thus has one sender and G-1 receivers, and each site
sends to G-1 sites: N*(G-1) pairwise SAs in all.

Clients: P processes, each with the sites i = p mod P, one kept-alive TLS
connection per site (as the edge device's libcurl does). Reports joins per
second, latency percentiles, vnocd's CPU time per join and its RSS.

usage: perf_vnocd.py [VNOCD] [--sites N] [--groups G] [--procs P] [--threads T]
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time

from vnoc_rig import Pki, Vnocd, vnocd_path

HZ = os.sysconf("SC_CLK_TCK")


def group_addr(n):
    return "239.2.%d.%d" % (n // 256, n % 256)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def worker(args):
    """One client process: registers its sites, then joins group by group
    when told to. Returns (register seconds, join latencies)."""
    (port, ca, sites, certs, n_sites, n_groups, barrier) = args
    from vnoc_rig import Client
    clients = {}
    t0 = time.monotonic()
    for s in sites:
        c = Client(port, ca, certs[s], None)
        c.register(s, "10.%d.%d.%d" % (1 + int(s[1:]) // 65536, int(s[1:]) // 256 % 256,
                                       int(s[1:]) % 256))
        clients[s] = c
    t_reg = time.monotonic() - t0
    barrier.wait()
    lat = []
    for k in range(n_groups):
        for s in sites:
            i = int(s[1:])
            t = time.monotonic()
            clients[s].join(s, group_addr((i + k) % n_sites), "send" if k == 0 else "receive")
            lat.append(time.monotonic() - t)
    for c in clients.values():
        c.close()
    return t_reg, lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vnocd", nargs="?")
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=4, help="vnocd --threads")
    a = ap.parse_args()
    sys.argv = [sys.argv[0]] + ([a.vnocd] if a.vnocd else [])
    with tempfile.TemporaryDirectory(prefix="vnocd-perf-") as d:
        t0 = time.monotonic()
        pki = Pki(d)
        names = ["S%04d" % i for i in range(a.sites)]
        pki.sites_bulk(names, jobs=16)
        print("PKI: %d site certificates in %.1f s" % (a.sites, time.monotonic() - t0))
        v = Vnocd(d, pki, "allow site * both 239.0.0.0/8\nmax-groups-per-site 100\n",
                  # 1,000 sites from one loopback address: no per-address limit.
                  extra=["--threads", str(a.threads), "--per-ip-connections", "0"])
        v.start()
        rss0 = v.rss_kib()
        barrier = multiprocessing.Manager().Barrier(a.procs + 1)
        jobs = [(v.port, pki.ca[0], names[p::a.procs], pki.sites, a.sites, a.groups, barrier)
                for p in range(a.procs)]
        with multiprocessing.Pool(a.procs) as pool:
            res = pool.map_async(worker, jobs)
            barrier.wait()              # every site registered
            cpu0, t1 = cpu_seconds(v.proc.pid), time.monotonic()
            out = res.get()
            t2, cpu1 = time.monotonic(), cpu_seconds(v.proc.pid)
        joins = a.sites * a.groups
        lat = sorted(x for _, l in out for x in l)
        rss1 = v.rss_kib()
        n_sas = int(v.sql("SELECT count(*) FROM sas")[0][0])
        n_mem = int(v.sql("SELECT count(*) FROM memberships")[0][0])
        db = sum(os.path.getsize(v.db + x) for x in ("", "-wal") if os.path.exists(v.db + x))
        print("registration: %d sites (new TLS connection each) in %.2f s per client process"
              % (a.sites, max(r for r, _ in out)))
        print("joins: %d in %.2f s = %.0f joins/s (%d client processes, vnocd --threads %d)"
              % (joins, t2 - t1, joins / (t2 - t1), a.procs, a.threads))
        print("join latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
              % tuple(1000 * lat[int(q * (len(lat) - 1))] for q in (0.5, 0.9, 0.99, 1.0)))
        print("vnocd CPU: %.2f s for the joins = %.0f us per join"
              % (cpu1 - cpu0, 1e6 * (cpu1 - cpu0) / joins))
        print("vnocd RSS: %.1f MiB at start, %.1f MiB after (%d memberships, %d SAs)"
              % (rss0 / 1024, rss1 / 1024, n_mem, n_sas))
        print("database: %.1f MiB (with WAL)" % (db / 2**20))
        assert n_mem == joins and n_sas == a.sites * (a.groups - 1), (n_mem, n_sas)
        v.stop()


if __name__ == "__main__":
    main()
