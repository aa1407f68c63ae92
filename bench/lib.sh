# SPDX-License-Identifier: BSD-3-Clause
# Shell functions the benchmark drivers (bench/compare.sh, bench/iperf3.sh)
# share; source it.

# The script's header comment (after the #! line) as its usage text.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }

stop_pid() { # <pid> [signal]: signal, wait up to 5 s, then SIGKILL
	local pid=$1 sig=${2:-TERM} i
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null
		return 0
	}
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
