#!/usr/bin/env bash
# Build bsdtap: runs setup.sh, configures the build tree once, runs ninja.
#
# Usage: devtools/build.sh [--asan | --tsan]
#   (default)  release build in build/
#   --asan     debug build with AddressSanitizer and UBSan in build-asan/
#   --tsan     build with ThreadSanitizer in build-tsan/ (tests only)
#
# The build tree is configured only when its build.ninja is missing; to
# change options later use 'meson configure <dir> -D...'. Note that
# 'meson setup --wipe build' would also delete build/sdk (run setup.sh again).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

asan=0
for arg in "$@"; do
	case $arg in
	--asan) asan=1 ;;
	--tsan) asan=2 ;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	*) bsdtap_die "unknown argument '$arg' (try --help)" ;;
	esac
done

"$here/setup.sh"

cd "$BSDTAP_ROOT"
sdk_include=$(bsdtap_sdk_include_arg)

if [[ $asan -eq 1 ]]; then
	builddir=build-asan
	extra=("-Db_sanitize=address,undefined" -Db_lundef=false -Dbuildtype=debug)
elif [[ $asan -eq 2 ]]; then
	builddir=build-tsan
	extra=(-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized -Dbenchmarks=false)
else
	builddir=build
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
