#!/usr/bin/env bash
# Static checks: clang-format conformance of every C/C++ file (*.c, *.h,
# *.cpp, *.hpp; tracked, or untracked and not ignored) under drivers/ app/
# tests/ bench/ examples/, and cppcheck on drivers/ and app/.
#
# Usage: devtools/check.sh
# Exits non-zero on any finding. devtools/format.sh fixes the formatting.
# DPDK macros that cppcheck must know are defined in devtools/cppcheck-dpdk.cfg;
# a single finding can be silenced in the code with
# '// cppcheck-suppress <id>' on the line before it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

bsdtap_no_args "$0" "$@"

cd "$BSDTAP_ROOT"
for tool in clang-format cppcheck; do
	command -v "$tool" >/dev/null || bsdtap_die "$tool is missing: run devtools/setup.sh"
done

failed=0

# ---------------------------------------------------------------- format
mapfile -t files < <(bsdtap_source_files)
if [[ ${#files[@]} -eq 0 ]]; then
	bsdtap_log "clang-format: no C/C++ files under ${BSDTAP_SOURCE_DIRS[*]}"
else
	bsdtap_log "clang-format: checking ${#files[@]} files under ${BSDTAP_SOURCE_DIRS[*]} ($(clang-format --version | sed 's/.*version \([0-9.]*\).*/\1/'))"
	if clang-format --dry-run --Werror --style=file "${files[@]}"; then
		bsdtap_log "clang-format: ok"
	else
		bsdtap_log "clang-format: FAILED (fix with devtools/format.sh)"
		failed=1
	fi
fi

# ---------------------------------------------------------------- cppcheck
dirs=()
for d in drivers app; do
	[[ -d $d ]] && dirs+=("$d")
done
if [[ ${#dirs[@]} -eq 0 ]]; then
	bsdtap_log "cppcheck: no drivers/ or app/ directory"
else
	incs=()
	[[ -d drivers/net/bsdtap ]] && incs+=(-I drivers/net/bsdtap)
	cachedir=build/cppcheck
	mkdir -p "$cachedir"
	bsdtap_log "cppcheck: checking ${dirs[*]} ($(cppcheck --version))"
	if cppcheck \
		--enable=warning,performance,portability \
		--error-exitcode=1 --inline-suppr --std=c++20 -q \
		--library="$here/cppcheck-dpdk.cfg" \
		--suppress=missingIncludeSystem \
		--cppcheck-build-dir="$cachedir" -j "$(nproc)" \
		"${incs[@]}" "${dirs[@]}"; then
		bsdtap_log "cppcheck: ok"
	else
		bsdtap_log "cppcheck: FAILED (an unknownMacro finding means a DPDK macro is missing from devtools/cppcheck-dpdk.cfg)"
		failed=1
	fi
fi

if [[ $failed -ne 0 ]]; then
	bsdtap_log "check: FAILED"
	exit 1
fi
bsdtap_log "check: ok"
