#!/usr/bin/env bash
# meson install into a staging root; check the PMD lands in DPDK's PMD
# directory and the header and pkg-config file are installed; then compile
# and run the example with nothing but `pkg-config --cflags --libs
# libdpdk-bsdtap` (plus the staging root's paths).
# Usage: install_pkgconfig.sh <build dir> <example.c> <pmd dir>
set -euo pipefail
build=$1 example=$2 pmd_dir=$3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet
so="$stage$pmd_dir/librte_net_bsdtap.so"
[[ -f $so ]] || { echo "FAIL: $so not installed"; exit 1; }
echo "ok: PMD installed in DPDK's PMD directory ($pmd_dir)"
pc=$(find "$stage" -name libdpdk-bsdtap.pc | head -1)
[[ -n $pc ]] || { echo "FAIL: libdpdk-bsdtap.pc not installed"; exit 1; }
hdr=$(find "$stage" -name rte_pmd_bsdtap.h | head -1)
[[ -n $hdr ]] || { echo "FAIL: rte_pmd_bsdtap.h not installed"; exit 1; }
echo "ok: $(basename "$pc") and $(basename "$hdr") installed"
prefix=$(pkg-config --variable=prefix "$pc")
# Keep the caller's PKG_CONFIG_PATH after the staged .pc: it finds the
# libdpdk this build used (a DPDK installed from source, say).
flags=$(PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" pkg-config --cflags --libs libdpdk-bsdtap)
echo "pkg-config: $flags"
# Staged files are not where the .pc says until installed for real: look there first.
# shellcheck disable=SC2086
cc -o "$stage/tap_reader" "$example" -I"$stage$prefix/include/dpdk" $flags \
	-L"$stage$pmd_dir" -Wl,-rpath,"$stage$pmd_dir"
"$stage/tap_reader" --no-huge --no-pci -m 256 --file-prefix "bsdtap-inst-$$" \
	--vdev=net_bsdtap0 --log-level error
