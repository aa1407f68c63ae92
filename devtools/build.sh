#!/usr/bin/env bash
# Build bsdtap: runs setup.sh, configures the build tree once, runs ninja.
#
# Usage: devtools/build.sh [--asan | --tsan | --fuzz] [--dpdk VERSION]
#   (default)  release build in build/, against Debian's DPDK 22.11
#   --asan     debug build with AddressSanitizer and UBSan in build-asan/
#   --tsan     build with ThreadSanitizer in build-tsan/ (tests only)
#   --fuzz     the libFuzzer targets of tests/fuzz with clang, AddressSanitizer
#              and UBSan in build-fuzz/ (no tests or benchmarks; run them
#              with devtools/fuzz.sh)
#   --dpdk V   release build in build-V/ against DPDK LTS V (24.11, 25.11),
#              built first from its tarball by devtools/dpdk.sh if needed;
#              22.11 is the default build
#
# The build tree is configured only when its build.ninja is missing; to
# change options later use 'meson configure <dir> -D...'. Note that
# 'meson setup --wipe build' would also delete build/sdk (run setup.sh again).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

asan=0
lane=system
while [[ $# -gt 0 ]]; do
	arg=$1
	shift
	case $arg in
	--asan) asan=1 ;;
	--tsan) asan=2 ;;
	--fuzz) asan=3 ;;
	--dpdk)
		[[ $# -gt 0 ]] || bsdtap_die "--dpdk needs a version (try --help)"
		lane=$1
		shift
		;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	*) bsdtap_die "unknown argument '$arg' (try --help)" ;;
	esac
done

[[ $lane == 22.11 ]] && lane=system
[[ $lane == system || $asan -eq 0 ]] || bsdtap_die "the sanitizer builds are against Debian's DPDK only"
"$here/setup.sh" --dpdk "${lane/system/none}"
bsdtap_lane_env "$lane"

cd "$BSDTAP_ROOT"
sdk_include=$(bsdtap_sdk_include_arg)

if [[ $asan -eq 1 ]]; then
	builddir=build-asan
	extra=("-Db_sanitize=address,undefined" -Db_lundef=false -Dbuildtype=debug)
elif [[ $asan -eq 2 ]]; then
	builddir=build-tsan
	extra=(-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized -Dbenchmarks=false)
elif [[ $asan -eq 3 ]]; then
	builddir=build-fuzz
	extra=(-Dfuzz=true "-Db_sanitize=address,undefined" -Db_lundef=false
		-Dbuildtype=debugoptimized -Dtests=false -Dbenchmarks=false)
	# libFuzzer is clang's; the build tree keeps the compiler it was set up with.
	export CC=clang-14 CXX=clang++-14
else
	builddir=$(bsdtap_lane_builddir "$lane")
	extra=()
fi

if [[ ! -f $builddir/build.ninja ]]; then
	setup=(meson setup)
	# A configure that failed half way leaves coredata behind; redo it.
	[[ -f $builddir/meson-private/coredata.dat ]] && setup+=(--reconfigure)
	bsdtap_log "configuring $builddir (dpdk_sdk_include='$sdk_include')"
	"${setup[@]}" "$builddir" -Ddpdk_sdk_include="$sdk_include" -Dwerror=true "${extra[@]}" ||
		bsdtap_die "meson setup $builddir failed (log: $builddir/meson-logs/meson-log.txt)"
fi

bsdtap_log "building $builddir"
ninja -C "$builddir" || bsdtap_die "ninja -C $builddir failed"
bsdtap_log "build of $builddir done"
