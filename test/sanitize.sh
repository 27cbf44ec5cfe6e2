#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test/sanitize.sh: every suite (unit, pcap, vnoc, e2e) on a build with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-asan, gcc), where
# any sanitizer report fails the test it happens in.
#
# How a report reaches the test:
#   - halt_on_error=1 (ASan and UBSan): the first report ends the process
#     with a non-zero status; UBSan's report is an error, not a warning that
#     scrolls by. LeakSanitizer reports at exit, also with a non-zero status.
#   - The environment below is inherited by every process a test starts:
#     ivgmpd under pcap_harness.run_ivgmpd and live_ivgmpd, ivgmpd and vnocd
#     in the e2e namespaces (ip netns exec keeps the environment), vnocd in
#     the vnoc suite. Those harnesses fail a test on a non-zero exit, and
#     pcap_harness.py / e2e/rig.py also fail it on a report found in a
#     child's output (pcap_harness.sanitizer_findings), since some tests
#     stop their daemons and look at traffic, not at exit codes.
#   - Finally this script fails if the meson test log holds any report.
#
# DPDK is not instrumented (Debian's librte_*), but ASan still sees our
# reads and writes in DPDK memory: EAL runs with --no-huge -m 1024 --no-pci,
# its memory comes from anonymous mmap, which ASan's shadow covers (DPDK's
# prog_guide/asan.html: -Db_sanitize=address works with gcc as is;
# -Db_lundef=false is needed for clang). LeakSanitizer reports about
# third-party state at exit are suppressed by name in test/sanitize/lsan.supp
# (DPDK, libxml2, ...), never a frame of ours.
#
# The heavy steps take the lock IVGMP_HEAVY_LOCK (default
# /tmp/ivgmp-heavy.lock); set it empty to run without. Exit status: meson's,
# or 1 when a report was found in the log.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build-asan
LOCK=${IVGMP_HEAVY_LOCK-/tmp/ivgmp-heavy.lock}

heavy() {
	if [ -n "$LOCK" ]; then flock "$LOCK" "$@"; else "$@"; fi
}

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$ROOT" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized || exit 2
fi
heavy ninja -j2 -C "$BUILD" || exit 2

# detect_leaks: on (gcc's default too, said for the reader). abort_on_error
# stays 0: a report exits with a status, not a core dump per test.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$HERE/sanitize/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Tests that judge memory use or speed (VmRSS flat under a flood) do not
# judge it here: the quarantine and the slower build move both.
export IVGMP_SANITIZE=1

start=$(date +%s)
heavy meson test -C "$BUILD" --suite unit --suite pcap --suite vnoc --suite e2e \
	--print-errorlogs --num-processes 2
rc=$?
echo "sanitize: meson test took $(($(date +%s) - start)) s, exit $rc"

# A report that a harness let through still fails the run.
if grep -nE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" \
	"$BUILD/meson-logs/testlog.txt"; then
	echo "sanitize: sanitizer report(s) in $BUILD/meson-logs/testlog.txt"
	[ $rc -eq 0 ] && rc=1
fi
exit $rc
