#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test/fuzz/run.sh [SECONDS_PER_TARGET]      (default 60)
#
# Builds the libFuzzer targets of test/fuzz in build-fuzz (clang, ASan and
# UBSan, -Dfuzz=true) and runs each for SECONDS_PER_TARGET on a copy of its
# seed corpus: new corpus files stay in the work folder, never in the
# repository. One line per target:
#
#   fuzz_x: N executions, M new coverage units, result ok|CRASH
#
# and, for a CRASH, the artifact (the input that reproduces it: run the
# target with that file as its only argument) and the log. Exits 1 when any
# target crashed, leaked, timed out or a sanitizer reported.
#
# The heavy steps (build, each run) take the lock IVGMP_HEAVY_LOCK (default
# /tmp/ivgmp-heavy.lock) so that a shared machine runs one at a time; set it
# empty to run without (and do not call this script under that same lock:
# it would wait for itself). FUZZ_WORK (default: a new /tmp folder) keeps
# corpora, artifacts and logs.
set -u

SECONDS_PER_TARGET=${1:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build-fuzz
LOCK=${IVGMP_HEAVY_LOCK-/tmp/ivgmp-heavy.lock}
WORK=${FUZZ_WORK:-$(mktemp -d /tmp/ivgmp-fuzz.XXXXXX)}
TARGETS="fuzz_pkt_classify fuzz_igmp fuzz_esp_decap fuzz_soap fuzz_conf"
mkdir -p "$WORK" || exit 2

heavy() {
	if [ -n "$LOCK" ]; then flock "$LOCK" "$@"; else "$@"; fi
}

if [ ! -f "$BUILD/build.ninja" ]; then
	# buildtype debugoptimized: assert() stays in; b_lundef off, as the
	# sanitizer runtimes want.
	CC=clang meson setup "$BUILD" "$ROOT" -Dfuzz=true -Db_lundef=false \
		-Db_sanitize=address,undefined -Dbuildtype=debugoptimized >"$WORK/setup.log" 2>&1 || {
		echo "meson setup failed: $WORK/setup.log"; tail -20 "$WORK/setup.log"; exit 2; }
fi
heavy ninja -j2 -C "$BUILD" $(for t in $TARGETS; do echo test/fuzz/$t; done) \
	>"$WORK/build.log" 2>&1 || {
	echo "build failed: $WORK/build.log"; tail -30 "$WORK/build.log"; exit 2; }

# A sanitizer report is fatal (UBSan is built with -fno-sanitize-recover
# too); leaks are reported by libFuzzer's own LeakSanitizer pass.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for t in $TARGETS; do
	corpus=$WORK/corpus/$t
	artifacts=$WORK/artifacts/$t
	log=$WORK/$t.log
	rm -rf "$corpus" "$artifacts"
	mkdir -p "$corpus" "$artifacts"
	cp "$HERE/corpus/$t/"* "$corpus/"
	dict=()
	[ -f "$HERE/$t.dict" ] && dict=(-dict="$HERE/$t.dict")
	heavy "$BUILD/test/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
		"$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
	result=ok
	if [ $rc -ne 0 ] || grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: " "$log"; then
		result=CRASH
		failed=1
	fi
	echo "$t: ${execs:-?} executions, ${new:-?} new coverage units, result $result"
	if [ $result = CRASH ]; then
		grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error:)" "$log" | head -3 | sed 's/^/    /'
		for a in "$artifacts"/*; do
			[ -e "$a" ] && echo "    artifact: $a"
		done
		echo "    log: $log"
	fi
done
echo "work folder: $WORK"
exit $failed
