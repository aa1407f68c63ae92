#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (built by devtools/build.sh --fuzz
# in build-fuzz/, with AddressSanitizer and UBSan), each for a while from
# its seed corpus tests/fuzz/corpus/<target>/. The corpus in the tree is
# only read: what a run finds goes to a scratch directory (or into the
# tree's corpus with --merge). A crash, a sanitizer report, a timeout or a
# failed check of a target is a failure: the reproducer is printed, kept
# in build-fuzz/fuzz-artifacts/<target>/.
#
# Usage: devtools/fuzz.sh [--time SECONDS] [--no-build] [--merge] [TARGET...]
#        devtools/fuzz.sh --list
#   --time S    seconds per target (default 25)
#   --no-build  do not run devtools/build.sh --fuzz first
#   --merge     add the inputs that found new coverage to the tree's corpus
#               (minimised with libFuzzer's -merge=1); commit them if useful
#   --list      print the targets' names, one a line, and exit
#   TARGET      devargs, framing, pcap, ioctl (default: all of them)
#
# Replay one input (a reproducer, a seed) without fuzzing:
#   build-fuzz/tests/fuzz/fuzz_<target> FILE
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

ALL_TARGETS=(devargs framing pcap ioctl)
seconds=25
build=1
merge=0
targets=()
while [[ $# -gt 0 ]]; do
	arg=$1
	shift
	case $arg in
	--time)
		[[ $# -gt 0 && $1 =~ ^[0-9]+$ ]] || bsdtap_die "--time needs a number of seconds"
		seconds=$1
		shift
		;;
	--no-build) build=0 ;;
	--merge) merge=1 ;;
	--list)
		printf '%s\n' "${ALL_TARGETS[@]}"
		exit 0
		;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	-*) bsdtap_die "unknown argument '$arg' (try --help)" ;;
	*)
		[[ " ${ALL_TARGETS[*]} " == *" $arg "* ]] ||
			bsdtap_die "unknown target '$arg' (${ALL_TARGETS[*]})"
		targets+=("$arg")
		;;
	esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")

cd "$BSDTAP_ROOT"
if [[ $build -eq 1 ]]; then
	"$here/build.sh" --fuzz >/dev/null || bsdtap_die "devtools/build.sh --fuzz failed"
fi

# Stop at the first report, with its stack; the fuzzer then writes the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Per target: the largest input (a stream or capture holds a frame of the
# MRU and more) and extra libFuzzer flags.
max_len_of() {
	case $1 in
	framing | pcap) echo 65536 ;;
	*) echo 4096 ;;
	esac
}
flags_of() {
	case $1 in
	# EAL and the port are set up once and never freed before exit.
	ioctl) echo -detect_leaks=0 ;;
	esac
}

scratch=$(mktemp -d -t bsdtap-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

failed=0
for t in "${targets[@]}"; do
	bin=build-fuzz/tests/fuzz/fuzz_$t
	corpus=tests/fuzz/corpus/$t
	artifacts=build-fuzz/fuzz-artifacts/$t
	[[ -x $bin ]] || bsdtap_die "$bin is missing: run devtools/build.sh --fuzz"
	[[ -d $corpus ]] || bsdtap_die "$corpus is missing"
	mkdir -p "$artifacts" "$scratch/$t"
	log=$scratch/$t.log
	bsdtap_log "fuzz $t: ${seconds}s from $(find "$corpus" -type f | wc -l) seeds"
	rc=0
	prefix=bsdtap-fuzz-$t-$$
	# shellcheck disable=SC2046 # flags_of prints a list of flags
	BSDTAP_FUZZ_PREFIX=$prefix "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len="$(max_len_of "$t")" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" $(flags_of "$t") \
		"$scratch/$t" "$corpus" >"$log" 2>&1 || rc=$?
	# EAL's runtime directory (the ioctl target), left behind by a crash.
	rm -rf "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$prefix"
	runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
	if [[ $rc -ne 0 ]] || grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' "$log"; then
		failed=1
		tail -n 60 "$log"
		bsdtap_log "fuzz $t: FAILED (exit status $rc)"
		grep -o 'Test unit written to .*' "$log" | sed 's/^/bsdtap: reproducer: /' || true
		bsdtap_log "replay it: $bin <reproducer>"
		continue
	fi
	bsdtap_log "fuzz $t: ok (${runs:-?} runs, ${cov:-cov: ?}, $(find "$scratch/$t" -type f | wc -l) new inputs)"
	if [[ $merge -eq 1 ]]; then
		# shellcheck disable=SC2046 # flags_of prints a list of flags
		"$bin" -merge=1 -max_len="$(max_len_of "$t")" $(flags_of "$t") \
			"$corpus" "$scratch/$t" >"$scratch/$t.merge.log" 2>&1 ||
			bsdtap_die "merge into $corpus failed (log: $scratch/$t.merge.log)"
		bsdtap_log "fuzz $t: merged into $corpus ($(find "$corpus" -type f | wc -l) files)"
	fi
done
exit "$failed"
