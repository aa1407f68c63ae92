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
