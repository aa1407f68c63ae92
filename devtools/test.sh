#!/usr/bin/env bash
# The full test run, as CI does it:
#   1. devtools/build.sh, then 'meson test' in build/ (all suites), against
#      Debian's DPDK 22.11;
#   2. for each newer LTS (24.11, 25.11): devtools/build.sh --dpdk V (which
#      builds that DPDK from its tarball once per machine), then 'meson test'
#      in build-V/ (all suites) with that DPDK's libraries and tools;
#   3. devtools/check.sh (clang-format and cppcheck; counts as one test);
#   4. devtools/build.sh --asan, then 'meson test --suite unit' in build-asan/,
#      and the ThreadSanitizer stress test in build-tsan/ (on 22.11);
#   5. devtools/build.sh --fuzz, then each libFuzzer target of tests/fuzz for
#      25 seconds from its corpus (devtools/fuzz.sh; each counts as one test).
# Ends with one line 'N passed, N failed, N skipped' summing all of them and
# exits non-zero if anything failed. Tests run one at a time. A lane that
# cannot be built (its tarball missing, say) counts as one failed test.
#
# Usage: devtools/test.sh [--long] [--no-asan] [--no-fuzz] [--lanes LIST]
#   --long        set BSDTAP_STRESS_LONG=1 for the tests (long stress runs)
#                 and multiply meson's per-test timeouts by 10
#   --no-asan     skip the sanitizer build and tests (for local iteration)
#   --no-fuzz     skip the fuzz build and runs (for local iteration)
#   --lanes LIST  the newer LTS lanes to run: comma-separated versions,
#                 'all' (the default) or 'none' (for local iteration)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

long=0
asan=1
fuzz=1
lanes=all
while [[ $# -gt 0 ]]; do
	arg=$1
	shift
	case $arg in
	--long) long=1 ;;
	--no-asan) asan=0 ;;
	--no-fuzz) fuzz=0 ;;
	--lanes)
		[[ $# -gt 0 ]] || bsdtap_die "--lanes needs a list (try --help)"
		lanes=$1
		shift
		;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	*) bsdtap_die "unknown argument '$arg' (try --help)" ;;
	esac
done

cd "$BSDTAP_ROOT"

meson_test_args=(--print-errorlogs --num-processes 1)
if [[ $long -eq 1 ]]; then
	export BSDTAP_STRESS_LONG=1
	meson_test_args+=(--timeout-multiplier 10)
	bsdtap_log "long mode: BSDTAP_STRESS_LONG=1"
fi

passed=0
failed=0
skipped=0
failures=()

logdir=$(mktemp -d -t bsdtap-test.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# Runs a command that counts as one test named $1.
run_one() {
	local name=$1
	shift
	bsdtap_log "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

# Runs 'meson test' in build dir $1 with the extra arguments that follow and
# adds its summary (Ok, Expected Fail, Fail, Unexpected Pass, Timeout,
# Skipped) to the totals.
run_meson_test() {
	local dir=$1 log="$logdir/$1.log" rc=0
	shift
	bsdtap_log "=== meson test -C $dir $*"
	meson test -C "$dir" "${meson_test_args[@]}" "$@" 2>&1 | tee "$log" || rc=$?
	local counts ok xfail fail xpass timeout skip
	counts=$(awk '
		/^Ok:/              { ok = $2 }
		/^Expected Fail:/   { xfail = $3 }
		/^Fail:/            { fail = $2 }
		/^Unexpected Pass:/ { xpass = $3 }
		/^Timeout:/         { timeout = $2 }
		/^Skipped:/         { skip = $2; seen = 1 }
		END { if (seen) print ok + 0, xfail + 0, fail + 0, xpass + 0, timeout + 0, skip + 0 }
	' "$log")
	if [[ -z $counts ]]; then
		if grep -q 'No suitable tests defined' "$log" && [[ $rc -eq 0 ]]; then
			bsdtap_log "meson test -C $dir: no tests selected"
			return 0
		fi
		# meson itself failed (configuration, build or usage error).
		failed=$((failed + 1))
		failures+=("meson test -C $dir (no summary, exit status $rc)")
		return 0
	fi
	read -r ok xfail fail xpass timeout skip <<<"$counts"
	# Count every test case, not every test program: a GoogleTest binary
	# holds many. meson's JUnit log has them; a binary that crashed before
	# reporting its cases still counts through meson's own summary.
	local junit="$dir/meson-logs/testlog.junit.xml" cases
	if [[ -f $junit ]] && cases=$(python3 - "$junit" <<'PY'
import re, sys, xml.etree.ElementTree as ET
# A test's captured output can hold bytes XML does not allow (a program's
# escape sequences, a torn write): drop them, keep the cases.
with open(sys.argv[1], 'rb') as f:
    text = f.read().decode('utf-8', errors='replace')
text = re.sub('[\x00-\x08\x0b\x0c\x0e-\x1f]', '', text)
ok = fail = skip = 0
for tc in ET.fromstring(text).iter('testcase'):
    tags = {c.tag for c in tc}
    if tags & {'failure', 'error'}:
        fail += 1
    elif 'skipped' in tags:
        skip += 1
    else:
        ok += 1
print(ok, fail, skip)
PY
	); then
		local cok cfail cskip
		read -r cok cfail cskip <<<"$cases"
		ok=$cok xfail=0 skip=$cskip
		[[ $cfail -gt $fail ]] && fail=$cfail
	fi
	passed=$((passed + ok + xfail))
	failed=$((failed + fail + xpass + timeout))
	skipped=$((skipped + skip))
	if [[ $((fail + xpass + timeout)) -gt 0 ]]; then
		failures+=("meson test -C $dir: $fail failed, $xpass unexpectedly passed, $timeout timed out")
	elif [[ $rc -ne 0 ]]; then
		failed=$((failed + 1))
		failures+=("meson test -C $dir (exit status $rc)")
	fi
}

# ---------------------------------------------------------------- release
if "$here/build.sh"; then
	run_meson_test build
else
	failed=$((failed + 1))
	failures+=("build (devtools/build.sh)")
fi

# ---------------------------------------------------------------- LTS lanes
case $lanes in
none) lanes=() ;;
all) lanes=("${BSDTAP_LTS_LANES[@]}") ;;
*) IFS=, read -r -a lanes <<<"$lanes" ;;
esac
for lane in "${lanes[@]}"; do
	bsdtap_log "=== DPDK $lane lane"
	if ! "$here/build.sh" --dpdk "$lane"; then
		failed=$((failed + 1))
		failures+=("DPDK $lane lane: build (devtools/build.sh --dpdk $lane)")
		continue
	fi
	# The lane's DPDK for meson test and every tool the tests start.
	saved_env=("$PATH" "${LD_LIBRARY_PATH-}" "${PKG_CONFIG_PATH-}")
	bsdtap_lane_env "$lane"
	run_meson_test "$(bsdtap_lane_builddir "$lane")"
	PATH=${saved_env[0]} LD_LIBRARY_PATH=${saved_env[1]} PKG_CONFIG_PATH=${saved_env[2]}
	unset BSDTAP_DPDK_LANE
done

# ---------------------------------------------------------------- checks
run_one "format and static checks (devtools/check.sh)" "$here/check.sh"

# ---------------------------------------------------------------- sanitizers
if [[ $asan -eq 1 ]]; then
	if "$here/build.sh" --asan; then
		run_meson_test build-asan --suite unit
	else
		failed=$((failed + 1))
		failures+=("sanitizer build (devtools/build.sh --asan)")
	fi
	# ThreadSanitizer on the concurrency stress test (tests/tsan.supp says
	# what DPDK's uninstrumented libraries hide from it).
	if "$here/build.sh" --tsan; then
		run_meson_test build-tsan --suite stress
	else
		failed=$((failed + 1))
		failures+=("sanitizer build (devtools/build.sh --tsan)")
	fi
else
	bsdtap_log "sanitizer passes skipped (--no-asan)"
fi

# ---------------------------------------------------------------- fuzzing
# A short run of each target; its seeds (and any reproducer added to its
# corpus) are replayed first. A crash or sanitizer report fails it, with the
# reproducer's path in the log.
if [[ $fuzz -eq 1 ]]; then
	if "$here/build.sh" --fuzz; then
		mapfile -t fuzz_targets < <("$here/fuzz.sh" --list)
		for t in "${fuzz_targets[@]}"; do
			run_one "fuzz $t (devtools/fuzz.sh $t)" "$here/fuzz.sh" --no-build --time 25 "$t"
		done
	else
		failed=$((failed + 1))
		failures+=("fuzz build (devtools/build.sh --fuzz)")
	fi
else
	bsdtap_log "fuzz runs skipped (--no-fuzz)"
fi

for f in "${failures[@]}"; do
	bsdtap_log "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
