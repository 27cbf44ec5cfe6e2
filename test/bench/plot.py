#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Output copies per second (of CPU time given to the lcore) against the number of remote sites, from
test/bench/compare.py's JSON, pairwise SAs and (when the JSON has them) one
group SA, with ipsec-secgw and the crypto bound as reference lines
(1400-byte frames, one worker lcore).

    test/bench/plot.py compare.json doc/performance-sites.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        doc = json.load(f)
    sites = doc["site_counts"]
    # Rates per CPU-second of the measured thread (compare.py says why).
    copies = [doc["ivgmp"]["sites"][str(n)]["output_mcopies_per_cpu_s"] for n in sites]
    wall = [doc["ivgmp"]["sites"][str(n)]["output_mcopies_per_s"] for n in sites]
    group = doc["ivgmp"].get("sites_group", {})
    group_copies = [group[str(n)]["output_mcopies_per_cpu_s"] for n in sites] if group else []
    group_wall = [group[str(n)]["output_mcopies_per_s"] for n in sites] if group else []
    crypto = doc["crypto_perf"]["1400"]["mops_per_cpu_s"]
    secgw = doc["secgw"]["encap"]["1400"]["output_mpps_per_cpu_s"]

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    ax.plot(sites, copies, "o-", color="tab:blue", label="ivgmp, pairwise SAs")
    ax.plot(sites, wall, ".:", color="tab:blue", alpha=0.4,
            label="ivgmp, pairwise SAs, per wall-clock second")
    if group_copies:
        ax.plot(sites, group_copies, "s-", color="tab:orange", label="ivgmp, one group SA")
        ax.plot(sites, group_wall, ".:", color="tab:orange", alpha=0.4,
                label="ivgmp, one group SA, per wall-clock second")
    ax.axhline(crypto, color="tab:green", linestyle="--",
               label=f"crypto bound (crypto-perf, {crypto:.2f} Mops)")
    ax.axhline(secgw, color="tab:red", linestyle=":",
               label=f"ipsec-secgw, one SA ({secgw:.2f} Mpps)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sites)
    ax.set_xticklabels([str(n) for n in sites])
    ax.set_ylim(0, max(copies + group_copies + [crypto, secgw]) * 1.25)
    ax.set_xlabel("remote sites of the group")
    ax.set_ylabel("output ESP copies per CPU-second (millions)")
    ax.set_title(f"1400-byte frames, AES-128-GCM, one worker lcore\n{doc['cpu']}, {doc['date']}"
                 + ("" if group_copies else " (no group-SA run)"), fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(dst)


if __name__ == "__main__":
    main()
