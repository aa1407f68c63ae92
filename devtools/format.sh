#!/usr/bin/env bash
# Reformat in place, with the project's .clang-format, every C/C++ file
# (*.c, *.h, *.cpp, *.hpp; tracked, or untracked and not ignored) under
# drivers/ app/ tests/ bench/ examples/ -- the files check.sh verifies.
#
# Usage: devtools/format.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

bsdtap_no_args "$0" "$@"

cd "$BSDTAP_ROOT"
command -v clang-format >/dev/null || bsdtap_die "clang-format is missing: run devtools/setup.sh"
mapfile -t files < <(bsdtap_source_files)
if [[ ${#files[@]} -eq 0 ]]; then
	bsdtap_log "format: no C/C++ files under ${BSDTAP_SOURCE_DIRS[*]}"
	exit 0
fi
clang-format -i --style=file "${files[@]}"
bsdtap_log "format: formatted ${#files[@]} files"
