#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Encrypt-path cost of ivgmpd on one worker lcore, next to the AES-GCM bound
# of dpdk-test-crypto-perf (ipsec-mb PMD), in one run on one machine.
#
#   test/bench/encap_cycles.sh [IVGMPD] [SECONDS]
#
# ivgmpd: LAN = net_pcap replaying one multicast frame forever (infinite_rx),
# WAN = net_null; the frame's group is sent to 1 or 8 sites (AES-GCM-128).
# Reported: busy cycles per input packet and per output copy (TSC cycles
# spent in bursts that carried packets, over packets), and Mpps.
# Frame sizes are pcap frame lengths (no FCS); crypto-perf gets buffers of
# the same size.
set -euo pipefail
IVGMPD=${1:-build/app/ivgmpd/ivgmpd}
SECONDS_PER_RUN=${2:-6}
SIZES=${SIZES:-64 512 1400}
SITES=${SITES_LIST:-1 8}
work=$(mktemp -d)
trap 'rm -rf "$work" /var/run/dpdk/ivgmp-bench-*' EXIT

make_conf() { # sites
	{
		echo "lan-port net_pcap0"
		echo "wan-port net_null0"
		echo "wan-address 10.99.0.1"
		echo "wan-nexthop-mac 02:00:00:00:00:fe"
		local dests=""
		for i in $(seq 1 "$1"); do
			echo "site s$i 10.99.1.$i"
			printf 'sa out s%d spi %d aes-gcm-128 key 0x%040x\n' "$i" $((0x1000 + i)) "$i"
			dests="$dests s$i"
		done
		echo "group 239.1.1.1 send-to$dests"
	} > "$work/site.conf"
}

make_pcap() { # frame size
	/usr/bin/python3 - "$1" "$work/bench_in.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap
size, path = int(sys.argv[1]), sys.argv[2]
hdr = Ether(src="02:00:00:00:00:10", dst="01:00:5e:01:01:01") / IP(src="10.1.0.10", dst="239.1.1.1") / UDP(sport=1000, dport=5000)
wrpcap(path, [hdr / Raw(b"\x00" * (size - len(hdr)))])
PY
}

run_ivgmpd() { # size sites
	(cd "$work" && timeout -s INT "$SECONDS_PER_RUN" "$OLDPWD/$IVGMPD" \
		--no-huge -m 1024 --no-pci --file-prefix "ivgmp-bench-$1-$2" -l 0,1 --log-level=error \
		--vdev "net_pcap0,rx_pcap=bench_in.pcap,infinite_rx=1" --vdev net_null0,no-rx=1 \
		-- --config site.conf) > "$work/out.txt" 2>&1 || true
	awk -v size="$1" -v sites="$2" -v secs="$SECONDS_PER_RUN" '
		$1 == "lan_rx_packets" { rx = $2 }
		$1 == "esp_out_copies" { copies = $2 }
		$1 == "busy_cycles" { cycles = $2 }
		END {
			if (rx == 0) { print "no packets: see output"; exit 1 }
			printf "ivgmpd    %5d B  %2d site(s)  %8.1f cycles/pkt  %7.1f cycles/copy  (%.2f Mpps in, %.2f Mcopies/s wall)\n",
				size, sites, cycles / rx, cycles / copies, rx / secs / 1e6, copies / secs / 1e6
		}' "$work/out.txt" || cat "$work/out.txt"
}

run_crypto_perf() {
	local sizes
	sizes=$(echo "$SIZES" | tr ' ' ',')
	dpdk-test-crypto-perf --no-huge -m 1024 --no-pci -l 0,1 --file-prefix ivgmp-bench-cperf \
		--log-level=error --vdev crypto_aesni_gcm0 -- \
		--ptest throughput --devtype crypto_aesni_gcm --optype aead --aead-algo aes-gcm \
		--aead-op encrypt --aead-key-sz 16 --aead-iv-sz 12 --aead-aad-sz 8 --digest-sz 16 \
		--buffer-sz "$sizes" --burst-sz 32 --total-ops 5000000 --silent 2>&1 |
		awk '/^ *[0-9]+ +[0-9]+ +[0-9]+/ && NF >= 9 {
			printf "crypto-perf %5d B  AES-GCM-128 encrypt  %7.1f cycles/op  (%.2f Mops)\n", $2, $10, $8 }'
}

hz=$(awk '/^cpu MHz/ { print $4; exit }' /proc/cpuinfo)
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), ${hz} MHz"
for size in $SIZES; do
	make_pcap "$size"
	for sites in $SITES; do
		make_conf "$sites"
		run_ivgmpd "$size" "$sites"
	done
done
run_crypto_perf
