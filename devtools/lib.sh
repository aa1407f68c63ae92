# shellcheck shell=bash
# Helpers shared by the devtools/*.sh scripts. Source it, do not run it.
#
# Sets BSDTAP_ROOT to the project root (the parent of this file's directory)
# and defines logging and DPDK driver-SDK lookup helpers.

BSDTAP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BSDTAP_ROOT

# Where setup.sh puts the driver SDK headers when DPDK does not install them.
BSDTAP_SDK_DIR="$BSDTAP_ROOT/build/sdk"
BSDTAP_SDK_INCLUDE="$BSDTAP_SDK_DIR/include"

# Headers a vdev ethdev driver needs that libdpdk-dev does not ship.
# shellcheck disable=SC2034 # used by the scripts that source this file
BSDTAP_SDK_HEADERS=(ethdev_driver.h ethdev_vdev.h bus_vdev_driver.h bus_driver.h dev_driver.h)

bsdtap_log() { printf 'bsdtap: %s\n' "$*"; }
bsdtap_warn() { printf 'bsdtap: warning: %s\n' "$*" >&2; }
bsdtap_die() {
	printf 'bsdtap: error: %s\n' "$*" >&2
	exit 1
}

# Print the include directories of the installed DPDK (one per line):
# pkg-config's includedir, its dpdk/ subdir and every -I of libdpdk's cflags.
bsdtap_dpdk_include_dirs() {
	local dir flag
	dir=$(pkg-config --variable=includedir libdpdk 2>/dev/null) || return 0
	{
		if [[ -n $dir ]]; then
			printf '%s\n' "$dir" "$dir/dpdk"
		fi
		for flag in $(pkg-config --cflags-only-I libdpdk 2>/dev/null); do
			printf '%s\n' "${flag#-I}"
		done
	} | awk '!seen[$0]++' | while read -r dir; do
		[[ -d $dir ]] && printf '%s\n' "$dir"
	done
	return 0
}

# Succeeds if header $1 is in one of the installed DPDK include directories.
bsdtap_dpdk_has_header() {
	local dir
	while read -r dir; do
		[[ -f $dir/$1 ]] && return 0
	done < <(bsdtap_dpdk_include_dirs)
	return 1
}

# Prints the installed include directory holding the driver SDK headers and
# succeeds if DPDK was installed with them (-Denable_driver_sdk=true).
bsdtap_sdk_installed_dir() {
	local dir
	dir=$(pkg-config --variable=includedir libdpdk 2>/dev/null) || return 1
	[[ -n $dir ]] || return 1
	for dir in "$dir" "$dir/dpdk"; do
		if [[ -f $dir/ethdev_driver.h && -f $dir/bus_vdev_driver.h ]]; then
			printf '%s\n' "$dir"
			return 0
		fi
	done
	return 1
}

# Prints the value for meson's dpdk_sdk_include option: empty when the SDK
# headers are installed with DPDK, otherwise the absolute path setup.sh filled.
bsdtap_sdk_include_arg() {
	if bsdtap_sdk_installed_dir >/dev/null; then
		printf '\n'
	else
		printf '%s\n' "$BSDTAP_SDK_INCLUDE"
	fi
}

# Prints the comment block at the top of script $1 (after the #! line).
bsdtap_usage() {
	awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"
}

# For scripts that take no argument but --help: $1 is the script, the rest its arguments.
bsdtap_no_args() {
	local script=$1
	shift
	case ${1:-} in
	-h | --help)
		bsdtap_usage "$script"
		exit 0
		;;
	"") ;;
	*) bsdtap_die "unknown argument '$1' (try --help)" ;;
	esac
}

# Directories whose C/C++ sources are formatted and checked.
BSDTAP_SOURCE_DIRS=(drivers app tests bench examples)

# Prints, one per line and relative to the project root, every *.c, *.h,
# *.cpp and *.hpp file under BSDTAP_SOURCE_DIRS that git tracks or that is
# untracked but not ignored (all such files when this is not a git tree).
bsdtap_source_files() {
	local dirs=() d
	for d in "${BSDTAP_SOURCE_DIRS[@]}"; do
		[[ -d $BSDTAP_ROOT/$d ]] && dirs+=("$d")
	done
	[[ ${#dirs[@]} -gt 0 ]] || return 0
	(
		cd "$BSDTAP_ROOT" || exit 1
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			git ls-files --cached --others --exclude-standard -- "${dirs[@]}"
		else
			find "${dirs[@]}" -type f
		fi | grep -E '\.(c|h|cpp|hpp)$' | sort -u | while read -r f; do
			[[ -f $f ]] && printf '%s\n' "$f"
		done
	)
	return 0
}

# ---------------------------------------------------------------- LTS lanes
# bsdtap builds and is tested against Debian's DPDK (22.11, the "system"
# lane, in build/) and against newer LTS releases built from their release
# tarballs by devtools/dpdk.sh (in build-VERSION/).
BSDTAP_LTS_LANES=(24.11 25.11)
BSDTAP_DPDK_TARBALLS=${BSDTAP_DPDK_TARBALLS:-$BSDTAP_ROOT/../shared/dpdk}
BSDTAP_DPDK_CACHE=${BSDTAP_DPDK_CACHE:-/var/cache/bsdtap/dpdk}

# Prints the tarball of LTS branch $1 (dpdk-$1.N.tar.xz, the newest N) after
# checking it against SHA256SUMS beside it.
bsdtap_dpdk_tarball() {
	local version=$1 dir=$BSDTAP_DPDK_TARBALLS tarball sum
	tarball=$(find "$dir" -maxdepth 1 -name "dpdk-$version.*.tar.xz" 2>/dev/null | sort -V | tail -n 1)
	[[ -n $tarball ]] || bsdtap_die "no DPDK $version tarball (dpdk-$version.N.tar.xz) in $dir; set BSDTAP_DPDK_TARBALLS"
	[[ -f $dir/SHA256SUMS ]] || bsdtap_die "$dir has no SHA256SUMS to check $(basename "$tarball") against"
	sum=$(awk -v f="$(basename "$tarball")" '$2 == f || $2 == "*" f { print $1 }' "$dir/SHA256SUMS")
	[[ -n $sum ]] || bsdtap_die "$(basename "$tarball") is not listed in $dir/SHA256SUMS"
	[[ $(sha256sum <"$tarball" | cut -d' ' -f1) == "$sum" ]] ||
		bsdtap_die "$(basename "$tarball") does not match its checksum in SHA256SUMS"
	printf '%s\n' "$tarball"
}

# Prints the lanes whose tarball is present, one per line.
bsdtap_dpdk_lanes_available() {
	local v
	for v in "${BSDTAP_LTS_LANES[@]}"; do
		find "$BSDTAP_DPDK_TARBALLS" -maxdepth 1 -name "dpdk-$v.*.tar.xz" 2>/dev/null | grep -q . &&
			printf '%s\n' "$v"
	done
	return 0
}

# DPDK's meson options for a lane's build: shared with the driver SDK, the
# apps the tests drive, the libraries those apps and the stock examples
# (devtools/examples.sh) need, the drivers the tests and benchmarks compare
# against.
bsdtap_dpdk_meson_options() {
	printf '%s\n' -Dbuildtype=release -Ddefault_library=shared -Denable_driver_sdk=true \
		-Dtests=false -Denable_docs=false -Ddeveloper_mode=disabled \
		-Denable_apps=test-pmd,proc-info,dumpcap,pdump \
		-Denable_libs=bitratestats,bpf,gro,gso,latencystats,metrics,pdump,pcapng,security,eventdev,cryptodev,dmadev,timer,ring,rcu,telemetry,hash,lpm,fib,rib,acl,power \
		-Denable_drivers=bus/vdev,mempool/ring,net/null,net/ring,net/memif,net/tap
}

# Prints the install prefix of LTS branch $1 in the cache: named by the
# version, the tarball's checksum and the build options.
bsdtap_dpdk_prefix() {
	local version=$1 tarball key
	tarball=$(bsdtap_dpdk_tarball "$version") || return 1
	key=$({ sha256sum <"$tarball"; bsdtap_dpdk_meson_options; } | sha256sum | cut -c1-16)
	printf '%s\n' "$BSDTAP_DPDK_CACHE/$(basename "$tarball" .tar.xz)-$key"
}

# Points pkg-config, the loader and PATH at the DPDK of lane $1 (a version
# from BSDTAP_LTS_LANES, built and cached by devtools/dpdk.sh). For the
# system lane (22.11, Debian's) it changes nothing.
bsdtap_lane_env() {
	local lane=$1 prefix
	[[ $lane == system || $lane == 22.11 ]] && return 0
	prefix=$(bsdtap_dpdk_prefix "$lane") || return 1
	[[ -f $prefix/.bsdtap-complete ]] || bsdtap_die "DPDK $lane is not built: run devtools/dpdk.sh $lane"
	export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
	export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export PATH="$prefix/bin:$PATH"
	export BSDTAP_DPDK_LANE=$lane
}

# The build directory of lane $1.
bsdtap_lane_builddir() {
	case $1 in
	system | 22.11) printf '%s\n' build ;;
	*) printf '%s\n' "build-$1" ;;
	esac
}
