#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ivgmpd on pcap files: a three-site configuration, a few LAN multicast
# packets (some of which must not leave) and a few ESP packets from the
# remote sites (some forged or replayed), then what crossed in each
# direction, as tshark and scapy see it, and ivgmpd's counters.
#
#   test/pcap/demo.sh [IVGMPD [DIR]]
#
# IVGMPD defaults to build/app/ivgmpd/ivgmpd. With DIR the configuration and
# the pcaps stay there (open them in Wireshark); without, they go to a
# temporary directory that is removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ivgmpd=$(realpath "${1:-build/app/ivgmpd/ivgmpd}")
python=/usr/bin/python3          # Debian's: the one with scapy
prefix="ivgmp-demo-$$"           # EAL runtime files, one set per run

if [ $# -ge 2 ]; then
	dir=$(realpath "$2")
	mkdir -p "$dir"
	cleanup() { rm -rf "/var/run/dpdk/$prefix"; }
else
	dir=$(mktemp -d /tmp/ivgmp-demo-XXXXXX)
	cleanup() { rm -rf "/var/run/dpdk/$prefix" "$dir"; }
fi
trap cleanup EXIT
[ -x "$ivgmpd" ] || { echo "demo.sh: no ivgmpd at $ivgmpd" >&2; exit 1; }

echo "== 1. configuration and inputs (built with scapy)"
(cd "$here" && "$python" demo.py inputs "$dir")

echo
echo "== 2. ivgmpd on net_pcap: LAN port net_pcap0, WAN port net_pcap1"
cmd=("$ivgmpd" --no-huge -m 1024 --no-pci --file-prefix "$prefix" -l 0,1 --log-level=warning
     --vdev "net_pcap0,rx_pcap=$dir/lan_in.pcap,tx_pcap=$dir/lan_out.pcap"
     --vdev "net_pcap1,rx_pcap=$dir/wan_in.pcap,tx_pcap=$dir/wan_out.pcap"
     -- --config "$dir/site.conf" --idle-exit 500)
echo "${cmd[*]}"
"${cmd[@]}" > "$dir/ivgmpd.out" 2> "$dir/ivgmpd.err" || {
	echo "demo.sh: ivgmpd failed:" >&2; cat "$dir/ivgmpd.out" "$dir/ivgmpd.err" >&2; exit 1; }
grep '^ivgmpd: ready' "$dir/ivgmpd.out"

echo
echo "== 3. what crossed"
(cd "$here" && "$python" demo.py summary "$dir")
if [ $# -ge 2 ]; then
	echo
	echo "files in $dir"
fi
