#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's two Quick start commands, and what CI runs:
#   test/quickstart.sh demo   install what is missing, build, run the three-site demo
#                             (network namespaces: root)
#   test/quickstart.sh test   install what is missing, build, run every test suite
#   test/quickstart.sh hostile  fuzz every parser for a minute each (clang,
#                             libFuzzer) and run the unit, pcap and e2e suites
#                             under AddressSanitizer and UBSan (doc/security.rst)
# BUILD_DIR (default build) and MESON_ARGS (e.g. -Dwerror=true) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 packages: build, run, and the independent peers the tests use
# (tshark and scapy for ESP, tcpdump for captures).
PACKAGES=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev libipsec-mb-dev libxml2-dev libcmocka-dev libpcap-dev
	libmicrohttpd-dev libcurl4-gnutls-dev libsqlite3-dev libgnutls28-dev
	openssl sqlite3 libxml2-utils python3-zeep
	tshark tcpdump python3-scapy python3-cryptography iproute2 ethtool igmpproxy
)

# What the hostile-input runs add: libFuzzer comes with clang.
HOSTILE_PACKAGES=(clang)

install_missing() {
	local missing=()
	for p in "${PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "quickstart: installing ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

build() {
	local dir=${BUILD_DIR:-build}
	# shellcheck disable=SC2086
	[ -f "$dir/build.ninja" ] || meson setup "$dir" ${MESON_ARGS:-}
	ninja -C "$dir"
}

case "${1:-}" in
demo)
	# Namespaces, veths and DPDK's runtime directory: root, like the tests.
	if [ "$(id -u)" -ne 0 ]; then
		echo "quickstart: the demo builds network namespaces; run it as root" \
			"(sudo $0 demo)" >&2
		exit 1
	fi
	install_missing
	build
	# Three sites, vnocd, Linux hosts, live counts; all torn down at the end.
	# test/pcap/demo.sh is the same service on pcap files, without root.
	exec /usr/bin/python3 test/e2e/demo.py "${BUILD_DIR:-build}/app/ivgmpd/ivgmpd"
	;;
test)
	install_missing
	build
	# DPDK needs root for its runtime directory; so do the e2e namespaces.
	status=0
	meson test -C "${BUILD_DIR:-build}" --print-errorlogs --num-processes 2 || status=$?
	# One closing line any reader understands, from meson's own log.
	/usr/bin/python3 - "${BUILD_DIR:-build}/meson-logs/testlog.json" <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
skipped = sum(r == "SKIP" for r in results)
print("tests: %d passed, %d failed, %d skipped" % (passed, len(results) - passed - skipped, skipped))
PY
	exit $status
	;;
hostile)
	install_missing "${HOSTILE_PACKAGES[@]}"
	# Each script builds its own tree (build-fuzz: clang; build-asan: gcc)
	# and fails on any crash, leak or sanitizer report.
	status=0
	test/fuzz/run.sh "${FUZZ_SECONDS:-60}" || status=$?
	test/sanitize.sh || status=$?
	exit $status
	;;
*)
	echo "usage: $0 demo|test|hostile" >&2
	exit 2
	;;
esac
