#!/usr/bin/env bash
# Prepare a Debian 12 machine for building and testing bsdtap. Run as root.
#
#  1. installs the Debian packages the build, tests and tools need;
#  2. provides DPDK's driver SDK headers (ethdev_driver.h, bus_vdev_driver.h,
#     ...) that libdpdk-dev does not install, in build/sdk/include/, taken
#     from the orig tarball of the Debian source package of the installed
#     DPDK version (nothing is done when DPDK was installed with its SDK);
#  3. reserves 512 hugepages of 2 MiB and mounts hugetlbfs on /dev/hugepages
#     when it can (multi-process tests are skipped without them).
#
#  4. builds the newer DPDK LTS releases (24.11, 25.11) from their release
#     tarballs, once per machine (devtools/dpdk.sh; cached outside the tree);
#  5. builds DPDK's stock examples the tests run (l3fwd-power, l3fwd, l2fwd)
#     for each lane (devtools/examples.sh; cached the same way).
#
# Idempotent: a second run on a prepared machine only checks and takes seconds.
#
# Usage: devtools/setup.sh [--dpdk LIST]
#   --dpdk LIST  the LTS lanes to build: a comma-separated list of versions,
#                'all' (the default) or 'none'
#
# Environment:
#   BSDTAP_SKIP_APT=1   skip the package installation step
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

lanes=all
while [[ $# -gt 0 ]]; do
	case $1 in
	--dpdk)
		[[ $# -ge 2 ]] || bsdtap_die "--dpdk needs a list (try --help)"
		lanes=$2
		shift 2
		;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	*) bsdtap_die "unknown argument '$1' (try --help)" ;;
	esac
done

PACKAGES=(
	dpdk dpdk-dev libdpdk-dev libnuma-dev
	meson ninja-build pkg-config g++
	libgtest-dev googletest libgmock-dev libbenchmark-dev
	clang-format cppcheck clang-14 libclang-rt-14-dev
	libpcap-dev tcpdump tshark
	python3 python3-pyelftools iproute2 iputils-ping xz-utils dpkg-dev iperf3
	qemu-system-x86
)
HUGEPAGES_WANTED=512
HUGEPAGES_MOUNT=/dev/hugepages
APT_SOURCES_DIR=/etc/apt/sources.list.d
DEB_SRC_FILE="$APT_SOURCES_DIR/bsdtap-deb-src.sources"

export DEBIAN_FRONTEND=noninteractive
apt_updated=0

is_root() { [[ $(id -u) -eq 0 ]]; }

apt_update_once() {
	if [[ $apt_updated -eq 0 ]]; then
		bsdtap_log "running apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
}

pkg_installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# ---------------------------------------------------------------- packages
install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		bsdtap_log "all ${#PACKAGES[@]} Debian packages are installed"
		return 0
	fi
	is_root || bsdtap_die "missing packages: ${missing[*]}; run this script as root"
	bsdtap_log "installing: ${missing[*]}"
	# Keep the tshark installation from asking about non-root captures.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
		debconf-set-selections
	# iperf3 (bench/iperf3.sh) as a program only, not a system-wide server.
	echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
	apt_update_once
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	for p in "${missing[@]}"; do
		pkg_installed "$p" || bsdtap_die "package $p did not install"
	done
}

# ---------------------------------------------------------------- deb-src
# Reads deb822 .sources files. mode=detect: exit 0 if an enabled stanza has
# Types deb-src. mode=convert: print a deb-src stanza for every enabled
# stanza with Types deb, keeping URIs, Suites, Components and Signed-By.
deb822_awk() {
	local mode=$1
	shift
	awk -v mode="$mode" '
	BEGIN { RS = ""; FS = "\n"; found = 0 }
	{
		delete f; last = ""
		for (i = 1; i <= NF; i++) {
			line = $i
			if (line ~ /^#/) continue
			if (line ~ /^[ \t]/) {
				if (last != "") f[last] = f[last] "\n" line
				continue
			}
			c = index(line, ":")
			if (c == 0) continue
			k = tolower(substr(line, 1, c - 1))
			v = substr(line, c + 1)
			sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
			f[k] = v; last = k
		}
		if (tolower(f["enabled"]) == "no") next
		t = " " f["types"] " "
		gsub(/\t/, " ", t)
		if (mode == "detect") {
			if (t ~ / deb-src /) found = 1
			next
		}
		if (t !~ / deb / || f["uris"] == "" || f["suites"] == "") next
		if (n++) print ""
		print "Types: deb-src"
		print "URIs: " f["uris"]
		print "Suites: " f["suites"]
		if (f["components"] != "") print "Components: " f["components"]
		if (f["signed-by"] != "") print "Signed-By: " f["signed-by"]
	}
	END { if (mode == "detect") exit(found ? 0 : 1) }
	' "$@"
}

# Converts one-line "deb [opts] uri suite comps..." entries to deb-src stanzas.
oneline_to_deb822() {
	awk '
	/^[ \t]*deb[ \t]/ {
		sub(/^[ \t]*deb[ \t]+/, "")
		signed = ""
		if ($0 ~ /^\[/) {
			opts = substr($0, 2, index($0, "]") - 2)
			$0 = substr($0, index($0, "]") + 1)
			nopt = split(opts, o, /[ \t]+/)
			for (i = 1; i <= nopt; i++)
				if (o[i] ~ /^signed-by=/) signed = substr(o[i], 11)
		}
		if (NF < 2) next
		if (n++) print ""
		print "Types: deb-src"
		print "URIs: " $1
		print "Suites: " $2
		comps = ""
		for (i = 3; i <= NF; i++) comps = comps (comps == "" ? "" : " ") $i
		if (comps != "") print "Components: " comps
		if (signed != "") print "Signed-By: " signed
	}' "$@"
}

have_deb_src() {
	local f
	for f in /etc/apt/sources.list "$APT_SOURCES_DIR"/*.list; do
		[[ -f $f ]] || continue
		grep -Eq '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
	done
	for f in "$APT_SOURCES_DIR"/*.sources; do
		[[ -f $f ]] || continue
		deb822_awk detect "$f" && return 0
	done
	return 1
}

ensure_deb_src() {
	if have_deb_src; then
		return 0
	fi
	is_root || bsdtap_die "no deb-src entry in the apt sources; run this script as root to add one"
	local stanzas=""
	if [[ -f $APT_SOURCES_DIR/debian.sources ]]; then
		stanzas=$(deb822_awk convert "$APT_SOURCES_DIR/debian.sources")
	elif [[ -f /etc/apt/sources.list ]]; then
		stanzas=$(oneline_to_deb822 /etc/apt/sources.list)
	fi
	[[ -n $stanzas ]] || bsdtap_die "found no Debian 'deb' entry in the apt sources to copy for deb-src"
	bsdtap_log "adding $DEB_SRC_FILE (deb-src twin of the Debian entries)"
	{
		printf '# Added by bsdtap devtools/setup.sh: source entries for the Debian archive,\n'
		printf '# used to fetch the DPDK driver SDK headers of the installed version.\n'
		printf '%s\n' "$stanzas"
	} >"$DEB_SRC_FILE.tmp"
	mv "$DEB_SRC_FILE.tmp" "$DEB_SRC_FILE"
	apt_updated=0
	apt_update_once
}

# ---------------------------------------------------------------- SDK headers
sdk_source=""

sdk_headers_present() {
	local h
	for h in "${BSDTAP_SDK_HEADERS[@]}"; do
		[[ -f $BSDTAP_SDK_INCLUDE/$h ]] || bsdtap_dpdk_has_header "$h" || return 1
	done
}

# Finds the orig tarball of DPDK $1 (a Debian version) in build/sdk/src,
# downloading the source package first if needed; sets orig_tarball.
orig_tarball=""

find_orig_tarball() {
	orig_tarball=$(find "$BSDTAP_SDK_DIR/src" -maxdepth 1 -name "dpdk_$1.orig.tar.*" \
		! -name '*.asc' -print -quit)
	[[ -n $orig_tarball ]]
}

fetch_orig_tarball() {
	local version=$1 upstream v
	upstream=${version#*:}
	upstream=${upstream%-*}
	mkdir -p "$BSDTAP_SDK_DIR/src"
	if find_orig_tarball "$upstream"; then
		bsdtap_log "using cached $(basename "$orig_tarball")"
		return 0
	fi
	ensure_deb_src
	if [[ -z $(apt-cache showsrc dpdk 2>/dev/null | head -n 1) ]]; then
		is_root || bsdtap_die "apt has no source index for dpdk; run 'apt-get update' as root"
		apt_update_once
	fi
	# Any Debian revision of the same upstream version has the same orig tarball.
	local candidates=("$version")
	while read -r v; do
		[[ $v != "$version" && ${v#*:} == "$upstream"-* ]] && candidates+=("$v")
	done < <(apt-cache showsrc dpdk 2>/dev/null | awk '/^Version:/ { print $2 }')
	local sandbox=()
	if is_root; then
		# build/ is not writable by apt's unprivileged download user.
		sandbox=(-o APT::Sandbox::User=root)
	fi
	for v in "${candidates[@]}"; do
		bsdtap_log "downloading Debian source package dpdk=$v into build/sdk/src"
		if (cd "$BSDTAP_SDK_DIR/src" && apt-get source -q --download-only "${sandbox[@]}" "dpdk=$v"); then
			break
		fi
		bsdtap_warn "apt-get source dpdk=$v failed"
	done
	find_orig_tarball "$upstream" ||
		bsdtap_die "could not download the dpdk $upstream source (tried: ${candidates[*]})"
}

# Copies the SDK headers (and the not-installed headers they include) from
# an extracted source tree $1 into $2.
copy_sdk_headers() {
	local tree=$1 dest=$2 f h inc
	declare -A avail=() seen=()
	while read -r f; do
		avail[$(basename "$f")]=$f
	done < <(find "$tree" -type f -name '*.h')
	local queue=("${BSDTAP_SDK_HEADERS[@]}")
	while [[ ${#queue[@]} -gt 0 ]]; do
		h=${queue[0]}
		queue=("${queue[@]:1}")
		[[ -z ${seen[$h]:-} ]] || continue
		seen[$h]=1
		# Installed headers always win over the tarball's.
		bsdtap_dpdk_has_header "$h" && continue
		if [[ -z ${avail[$h]:-} ]]; then
			case " ${BSDTAP_SDK_HEADERS[*]} " in
			*" $h "*) bsdtap_die "$h is neither installed nor in the DPDK source tarball" ;;
			esac
			continue # a system header
		fi
		cp "${avail[$h]}" "$dest/$h"
		while read -r inc; do
			queue+=("$(basename "$inc")")
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "${avail[$h]}")
	done
}

provide_sdk_headers() {
	local installed version tarball work
	if installed=$(bsdtap_sdk_installed_dir); then
		bsdtap_log "DPDK driver SDK headers are installed in $installed; nothing to fetch"
		sdk_source="installed DPDK ($installed)"
		return 0
	fi
	pkg_installed libdpdk-dev ||
		bsdtap_die "libdpdk-dev is not installed and no DPDK with driver SDK headers was found"
	version=$(dpkg-query -W -f='${Version}' libdpdk-dev)
	if [[ -f $BSDTAP_SDK_DIR/VERSION && $(<"$BSDTAP_SDK_DIR/VERSION") == "$version" ]] && sdk_headers_present; then
		bsdtap_log "SDK headers for DPDK $version already in build/sdk/include"
		sdk_source="Debian source package dpdk $version"
		return 0
	fi
	bsdtap_log "fetching DPDK driver SDK headers for $version"
	mkdir -p "$BSDTAP_SDK_DIR"
	rm -f "$BSDTAP_SDK_DIR/VERSION"
	fetch_orig_tarball "$version"
	tarball=$orig_tarball
	work=$(mktemp -d "$BSDTAP_SDK_DIR/extract.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" EXIT
	tar -xf "$tarball" -C "$work" --wildcards --no-wildcards-match-slash \
		'*/lib/ethdev/*.h' '*/lib/eal/include/bus_driver.h' \
		'*/lib/eal/include/dev_driver.h' '*/drivers/bus/vdev/*.h' ||
		bsdtap_die "could not extract the headers from $tarball"
	mkdir -p "$work/include"
	copy_sdk_headers "$work" "$work/include"
	rm -rf "$BSDTAP_SDK_INCLUDE"
	mv "$work/include" "$BSDTAP_SDK_INCLUDE"
	rm -rf "$work"
	trap - EXIT
	printf '%s\n' "$version" >"$BSDTAP_SDK_DIR/VERSION"
	bsdtap_log "SDK headers in build/sdk/include: $(find "$BSDTAP_SDK_INCLUDE" -name '*.h' -printf '%f\n' | sort | tr '\n' ' ')"
	sdk_source="Debian source package dpdk $version"
}

verify_sdk_headers() {
	command -v g++ >/dev/null || bsdtap_die "g++ is missing (did BSDTAP_SKIP_APT=1 skip it?)"
	local cflags extra=()
	cflags=$(pkg-config --cflags libdpdk) || bsdtap_die "pkg-config does not know libdpdk"
	if ! bsdtap_sdk_installed_dir >/dev/null; then
		extra=(-isystem "$BSDTAP_SDK_INCLUDE")
	fi
	# shellcheck disable=SC2086 # cflags is a list of flags
	if ! printf '#include <ethdev_driver.h>\n#include <ethdev_vdev.h>\n#include <bus_vdev_driver.h>\n#include <bus_driver.h>\n' |
		g++ -std=c++20 -x c++ -fsyntax-only -DALLOW_INTERNAL_API $cflags "${extra[@]}" -; then
		bsdtap_die "the DPDK driver SDK headers do not compile (see above); delete build/sdk and retry"
	fi
	bsdtap_log "DPDK driver SDK headers compile"
}

# ---------------------------------------------------------------- hugepages
hugepages=0

setup_hugepages() {
	local path=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	local reason="" err fstype
	[[ -e $path ]] || path=/proc/sys/vm/nr_hugepages
	if [[ ! -r $path ]]; then
		reason="$path does not exist (kernel without hugetlbfs?)"
	else
		hugepages=$(<"$path")
		if [[ $hugepages -lt $HUGEPAGES_WANTED ]]; then
			if ! is_root; then
				reason="not root, only $hugepages of $HUGEPAGES_WANTED 2 MiB pages reserved"
			elif ! err=$({ echo "$HUGEPAGES_WANTED" >"$path"; } 2>&1); then
				reason="cannot write $path: ${err##*: }"
			else
				hugepages=$(<"$path")
				if [[ $hugepages -lt $HUGEPAGES_WANTED ]]; then
					reason="the kernel reserved only $hugepages of $HUGEPAGES_WANTED 2 MiB pages (not enough free memory)"
				else
					bsdtap_log "reserved $hugepages hugepages of 2 MiB"
				fi
			fi
		fi
	fi
	if [[ -z $reason ]]; then
		fstype=$(awk -v m="$HUGEPAGES_MOUNT" '$2 == m { t = $3 } END { print t }' /proc/mounts)
		if [[ -z $fstype ]]; then
			if ! is_root; then
				reason="nothing mounted on $HUGEPAGES_MOUNT and not root"
			elif ! err=$(mkdir -p "$HUGEPAGES_MOUNT" 2>&1 &&
				mount -t hugetlbfs -o pagesize=2M nodev "$HUGEPAGES_MOUNT" 2>&1); then
				reason="cannot mount hugetlbfs on $HUGEPAGES_MOUNT: $err"
			else
				bsdtap_log "mounted hugetlbfs on $HUGEPAGES_MOUNT"
			fi
		elif [[ $fstype != hugetlbfs ]]; then
			reason="$HUGEPAGES_MOUNT is a $fstype mount, not hugetlbfs"
		fi
	fi
	if [[ -n $reason ]]; then
		bsdtap_log "hugepages unavailable: $reason; multi-process tests will be skipped"
	else
		bsdtap_log "hugepages: $hugepages x 2 MiB, hugetlbfs on $HUGEPAGES_MOUNT"
	fi
}

# ---------------------------------------------------------------- main
if [[ ${BSDTAP_SKIP_APT:-0} == 1 ]]; then
	bsdtap_log "BSDTAP_SKIP_APT=1: not checking Debian packages"
else
	install_packages
fi
command -v pkg-config >/dev/null || bsdtap_die "pkg-config is missing"
pkg-config --exists libdpdk || bsdtap_die "pkg-config cannot find libdpdk (is libdpdk-dev installed?)"
provide_sdk_headers
verify_sdk_headers
setup_hugepages

# ---------------------------------------------------------------- LTS lanes
# A lane whose tarball is missing is reported, not fatal here: test.sh
# counts it as a failed lane, and the 22.11 build does not need it.
case $lanes in
none) lanes=() ;;
all) lanes=("${BSDTAP_LTS_LANES[@]}") ;;
*) IFS=, read -r -a lanes <<<"$lanes" ;;
esac
built=()
for v in "${lanes[@]}"; do
	if [[ -z $(bsdtap_dpdk_lanes_available | grep -Fx "$v") ]]; then
		bsdtap_warn "DPDK $v: no tarball dpdk-$v.N.tar.xz in $BSDTAP_DPDK_TARBALLS; lane not built"
		continue
	fi
	"$here/dpdk.sh" "$v" >/dev/null || bsdtap_die "DPDK $v did not build"
	built+=("$v")
done

# ---------------------------------------------------------------- examples
# DPDK's stock l3fwd-power, l3fwd and l2fwd per lane, for the tests that run
# them on bsdtap ports (devtools/examples.sh; cached outside the tree).
for v in 22.11 "${built[@]}"; do
	"$here/examples.sh" "$v" >/dev/null || bsdtap_warn "DPDK $v: the stock examples did not build"
done

if pkg_installed libdpdk-dev; then
	dpdk_version=$(dpkg-query -W -f='${Version}' libdpdk-dev)
else
	dpdk_version=$(pkg-config --modversion libdpdk)
fi
bsdtap_log "setup done (DPDK $dpdk_version, SDK headers from $sdk_source, hugepages $hugepages)"
