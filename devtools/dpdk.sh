#!/usr/bin/env bash
# Builds a DPDK LTS release from its tarball, once per machine, and prints
# where it is installed. The newer LTS lanes (24.11, 25.11) build bsdtap
# against these; 22.11 is Debian's own and needs nothing from here.
#
# Usage: devtools/dpdk.sh VERSION      build (if not cached) and print the prefix
#        devtools/dpdk.sh --list       print the versions that have a tarball
#   VERSION   an LTS branch: 24.11 or 25.11
#
# The tarball is dpdk-VERSION.N.tar.xz in $BSDTAP_DPDK_TARBALLS (default:
# ../shared/dpdk beside the project root), checked against its SHA256SUMS. The build is
# shared with the driver SDK (a static DPDK cannot load a driver with -d),
# with only the apps, libraries and drivers the tests and benchmarks use,
# and is installed under $BSDTAP_DPDK_CACHE (default /var/cache/bsdtap/dpdk)
# in a directory named by the version, the tarball's checksum and the build
# options, so a new tarball or option set builds anew and a rerun takes a
# second. Needs root the first time (apt, the cache directory).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

case ${1:-} in
-h | --help | "")
	bsdtap_usage "$0"
	[[ -n ${1:-} ]]
	exit
	;;
--list)
	bsdtap_dpdk_lanes_available
	exit 0
	;;
esac
version=$1
mkdir -p "$BSDTAP_DPDK_CACHE" || bsdtap_die "cannot create $BSDTAP_DPDK_CACHE (run as root or set BSDTAP_DPDK_CACHE)"
[[ $version =~ ^[0-9]+\.[0-9]+$ ]] || bsdtap_die "'$version' is not a DPDK LTS branch such as 25.11"

prefix=$(bsdtap_dpdk_prefix "$version") || exit 1
tarball=$(bsdtap_dpdk_tarball "$version")
if [[ -f $prefix/.bsdtap-complete ]]; then
	bsdtap_log "DPDK $version: cached in $prefix" >&2
	printf '%s\n' "$prefix"
	exit 0
fi

# Debian's python3 (where python3-pyelftools is), not one earlier in PATH.
export PATH="/usr/bin:$PATH"
/usr/bin/python3 -c 'import elftools' 2>/dev/null ||
	bsdtap_die "python3-pyelftools is missing (devtools/setup.sh installs it)"

bsdtap_log "DPDK $version: building $(basename "$tarball") into $prefix (a few minutes)" >&2
rm -rf "$prefix"
mkdir -p "$prefix"
work=$(mktemp -d "$BSDTAP_DPDK_CACHE/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' -print -quit)
[[ -n $src ]] || bsdtap_die "$tarball holds no dpdk* directory"
# shellcheck disable=SC2046 # one option per word
meson setup "$work/build" "$src" --prefix="$prefix" --libdir=lib \
	$(bsdtap_dpdk_meson_options) >"$work/setup.log" 2>&1 || {
	tail -40 "$work/setup.log" >&2
	bsdtap_die "DPDK $version: meson setup failed"
}
ninja -C "$work/build" >"$work/build.log" 2>&1 || {
	grep -B2 -A10 -m3 'error' "$work/build.log" >&2 || tail -40 "$work/build.log" >&2
	bsdtap_die "DPDK $version: build failed"
}
meson install -C "$work/build" --quiet >"$work/install.log" 2>&1 || {
	tail -20 "$work/install.log" >&2
	bsdtap_die "DPDK $version: install failed"
}
[[ -f $prefix/include/ethdev_driver.h && -x $prefix/bin/dpdk-testpmd ]] ||
	bsdtap_die "DPDK $version: installed without the driver SDK or testpmd"
printf '%s\n%s\n' "$(basename "$tarball")" "$(bsdtap_dpdk_meson_options)" >"$prefix/.bsdtap-complete"
bsdtap_log "DPDK $version: installed in $prefix" >&2
printf '%s\n' "$prefix"
