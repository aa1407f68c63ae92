#!/usr/bin/env bash
# Demo: Debian's stock dpdk-testpmd forwards packets through a bsdtap port.
#
# Builds bsdtap (devtools/build.sh), loads the PMD into dpdk-testpmd with -d,
# creates net_bsdtap0 with the built-in echo reader (every frame the port
# sends comes back to it), starts io forwarding with an initial burst and
# prints the forwarding rate every second, then the final port statistics.
# Needs no hugepages (--no-huge). Exits 0 if packets were forwarded.
#
# Usage: devtools/demo.sh [--seconds N] [--no-build] [--null]
#   --seconds N  measure for N seconds (default 10)
#   --no-build   use the existing build/ without running build.sh
#   --null       drive DPDK's net_null0 instead of bsdtap (checks this script
#                and testpmd without the driver)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devtools/lib.sh
source "$here/lib.sh"

seconds=10
build=1
use_null=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || bsdtap_die "--seconds needs a positive number"
		seconds=$2
		shift
		;;
	--no-build) build=0 ;;
	--null) use_null=1 ;;
	-h | --help)
		bsdtap_usage "$0"
		exit 0
		;;
	*) bsdtap_die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done

if [[ $build -eq 1 ]]; then
	"$here/build.sh"
fi

testpmd=$(command -v dpdk-testpmd) ||
	bsdtap_die "dpdk-testpmd not found (Debian package dpdk-dev): run devtools/setup.sh"

pmd="$BSDTAP_ROOT/build/drivers/net/bsdtap/librte_net_bsdtap.so"
if [[ $use_null -eq 1 ]]; then
	port=(--vdev=net_null0)
	what="net_null0"
else
	[[ -f $pmd ]] || bsdtap_die "$pmd is missing: run devtools/build.sh"
	port=(-d "$pmd" "--vdev=net_bsdtap0,reader=echo")
	what="net_bsdtap0 (reader=echo)"
fi

prefix="bsdtap-demo-$$"
# Where the EAL keeps this run's files (removed at exit).
runtime_dir=""
if [[ $(id -u) -eq 0 ]]; then
	runtime_dir="/var/run/dpdk/$prefix"
elif [[ -n ${XDG_RUNTIME_DIR:-} ]]; then
	runtime_dir="$XDG_RUNTIME_DIR/dpdk/$prefix"
fi
work=$(mktemp -d -t bsdtap-demo.XXXXXX)
out="$work/testpmd.log"
pid=""

cleanup() {
	local i
	exec 3>&- 2>/dev/null || true
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	if [[ -n $runtime_dir ]]; then
		rm -rf "$runtime_dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A write to testpmd after it died must fail, not kill this script.
trap '' PIPE

# Also called inside $(...): report on stderr.
fail() {
	{
		bsdtap_log "demo FAILED: $*"
		if [[ -f $out ]]; then
			bsdtap_log "last lines of the testpmd output:"
			tail -n 25 "$out" | tr -d '\r' | sed 's/^/    /'
		fi
	} >&2
	exit 1
}

prompts() { grep -o 'testpmd> ' "$out" 2>/dev/null | wc -l; }

# Waits until testpmd printed its prompt $1 times (at most $2 seconds).
wait_prompts() {
	local want=$1 limit=$(($2 * 10)) i
	for ((i = 0; i < limit; i++)); do
		[[ $(prompts) -ge $want ]] && return 0
		kill -0 "$pid" 2>/dev/null || fail "testpmd exited unexpectedly"
		sleep 0.1
	done
	fail "testpmd did not answer within $2 seconds"
}

# Sends command $1, waits for its output and prints that output.
command_output() {
	local before
	before=$(prompts)
	kill -0 "$pid" 2>/dev/null || fail "testpmd exited unexpectedly"
	printf '%s\n' "$1" >&3 || fail "cannot send '$1' to testpmd"
	wait_prompts $((before + 1)) 30
	# The output starts with testpmd's echo of the command line: drop it.
	awk -v n="$before" 'BEGIN { RS = "testpmd> " } NR == n + 1 { sub(/^[^\n]*\n/, ""); print }' "$out" |
		tr -d '\r'
}

mkfifo "$work/in"
bsdtap_log "starting dpdk-testpmd with $what"
stdbuf -oL "$testpmd" "${port[@]}" --no-huge -m 512 --no-pci --file-prefix "$prefix" -l 0-1 \
	-- -i --total-num-mbufs=16384 <"$work/in" >"$out" 2>&1 &
pid=$!
exec 3>"$work/in"
wait_prompts 1 60

command_output "set fwd io" >/dev/null
command_output "start tx_first" >/dev/null
# Testpmd's rates are "since the last show": take a first reading.
command_output "show port stats all" >/dev/null

total=0
for ((t = 1; t <= seconds; t++)); do
	sleep 1
	stats=$(command_output "show port stats all")
	pps=$(awk '/Tx-pps:/ { s += $2; seen = 1 } END { if (seen) print s + 0 }' <<<"$stats")
	[[ -n $pps ]] || fail "no Tx-pps line in the port statistics"
	total=$((total + pps))
	bsdtap_log "t=${t}s forwarded $pps pkt/s"
done

command_output "stop" >/dev/null
bsdtap_log "final port statistics:"
command_output "show port stats all" | sed '/^[[:space:]]*$/d'
printf 'quit\n' >&3 || true
exec 3>&-
for ((i = 0; i < 150; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	bsdtap_warn "testpmd did not quit within 15 s; killing it"
else
	wait "$pid" || bsdtap_warn "testpmd exited with status $?"
	pid=""
fi

average=$((total / seconds))
if [[ $average -le 0 ]]; then
	fail "no packets were forwarded in $seconds s"
fi
bsdtap_log "demo ok: $what forwarded $average pkt/s on average over $seconds s"
