#!/usr/bin/env bash
# Builds DPDK's stock example applications that the tests run on bsdtap
# ports (l3fwd-power, l3fwd, l2fwd), once per machine and lane, from the
# DPDK source of that lane, and prints the directory that holds them as
# dpdk-l3fwd-power, dpdk-l3fwd and dpdk-l2fwd.
#
# Usage: devtools/examples.sh LANE
#   LANE   22.11 (Debian's DPDK; the examples come from Debian's source
#          package, which devtools/setup.sh fetches into build/sdk/src),
#          or 24.11 / 25.11 (the tarballs devtools/dpdk.sh builds)
#
# Each example is built with its own Makefile against the lane's libdpdk
# (pkg-config), as DPDK's guide tells a user to build one. The result is
# cached under $BSDTAP_DPDK_CACHE, named by the lane and the checksum of the
# source, so a rerun takes a second.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

BSDTAP_EXAMPLES=(l3fwd-power l3fwd l2fwd)

case ${1:-} in
-h | --help | "")
	bsdtap_usage "$0"
	[[ -n ${1:-} ]]
	exit
	;;
esac
lane=$1
case $lane in
system | 22.11)
	lane=22.11
	debian=$(pkg-config --modversion libdpdk 2>/dev/null) ||
		bsdtap_die "libdpdk-dev is not installed (run devtools/setup.sh)"
	src_tarball=$(find "$BSDTAP_SDK_DIR/src" -maxdepth 1 -name "dpdk_${debian}.orig.tar.*" \
		! -name '*.asc' -print -quit 2>/dev/null || true)
	[[ -n $src_tarball ]] ||
		bsdtap_die "no source of DPDK $debian in build/sdk/src (devtools/setup.sh fetches it)"
	;;
*)
	src_tarball=$(bsdtap_dpdk_tarball "$lane") || exit 1
	bsdtap_lane_env "$lane"
	;;
esac

mkdir -p "$BSDTAP_DPDK_CACHE" || bsdtap_die "cannot create $BSDTAP_DPDK_CACHE (run as root or set BSDTAP_DPDK_CACHE)"
key=$({ sha256sum <"$src_tarball"; pkg-config --variable=libdir libdpdk; printf '%s\n' "${BSDTAP_EXAMPLES[@]}"; } |
	sha256sum | cut -c1-16)
out="$BSDTAP_DPDK_CACHE/examples-$lane-$key"
if [[ -f $out/.bsdtap-complete ]]; then
	bsdtap_log "DPDK $lane examples: cached in $out" >&2
	printf '%s\n' "$out"
	exit 0
fi

bsdtap_log "DPDK $lane examples: building ${BSDTAP_EXAMPLES[*]} from $(basename "$src_tarball")" >&2
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d "$BSDTAP_DPDK_CACHE/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
patterns=()
for app in "${BSDTAP_EXAMPLES[@]}" common; do
	patterns+=("*/examples/$app/*")
done
tar -xf "$src_tarball" -C "$work" --wildcards "${patterns[@]}"
for app in "${BSDTAP_EXAMPLES[@]}"; do
	dir=$(find "$work" -mindepth 3 -maxdepth 3 -type d -path "*/examples/$app" -print -quit)
	[[ -n $dir ]] || bsdtap_die "$(basename "$src_tarball") holds no examples/$app"
	make -C "$dir" -j"$(nproc)" >"$work/$app.log" 2>&1 || {
		grep -m5 -A5 'error' "$work/$app.log" >&2 || tail -20 "$work/$app.log" >&2
		bsdtap_die "DPDK $lane examples: $app did not build"
	}
	install -m 0755 "$dir/build/$app-shared" "$out/dpdk-$app"
done
printf '%s\n' "$(basename "$src_tarball")" "${BSDTAP_EXAMPLES[@]}" >"$out/.bsdtap-complete"
bsdtap_log "DPDK $lane examples: installed in $out" >&2
printf '%s\n' "$out"
