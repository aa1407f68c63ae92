#!/usr/bin/env bash
# TCP through the kernel: iperf3, one stream, from one network namespace to
# another through stock dpdk-testpmd's io forwarding between two ports, for
# each kind of port that joins a DPDK application to the kernel's stack.
# Prints Gbit/s per path with the ratios to net_tap and virtio-user, side by
# side in one run, and the targets of the iperf3 issue. Run as root after
# devtools/build.sh. Not a timed test: bench/compare.sh --only iperf3 runs
# it, and the 'bench' test suite runs it with --smoke.
#
# Usage: bench/iperf3.sh [--seconds N] [--repeat N] [--smoke] [--build-dir DIR]
#                        [--reader PATH] [--paths LIST] [--logs DIR]
#   --seconds N    iperf3 -t N (default 10), after 1 s that iperf3 omits
#                  (-O 1: slow start)
#   --repeat N     run each path N times, each with its own processes, and
#                  report the best (default 1)
#   --smoke        2 s per path, nothing omitted: checks that the harness
#                  works
#   --build-dir D  build tree holding the driver and bsdtap-reader
#                  (default: build/ at the top of the source tree)
#   --reader PATH  bsdtap-reader (default: D/app/bsdtap-reader)
#   --paths LIST   comma-separated, of: bsdtap bsdtap_vnet tap virtio
#                  (default: all)
#   --logs DIR     keep every process's output in DIR (default: removed)
#
# Paths (two ports, testpmd io forwarding port 0 <-> port 1; namespace A
# holds 10.98.0.1/24 and the iperf3 client, namespace B 10.98.0.2/24 and
# the server):
#   bsdtap       two net_bsdtap ports, each bridged to a Linux tap
#                interface by a `bsdtap-reader bridge` secondary process;
#                the taps are moved into the namespaces. No offloads: the
#                kernel segments and checksums every frame (MTU 1500).
#   bsdtap_vnet  the same with `bridge --vnet-hdr` (IFF_VNET_HDR, TSO and
#                checksum offloads on the taps, TAPSVNETHDR on the units),
#                testpmd with --enable-lro --enable-rx-cksum: 64 KiB TCP
#                frames with partial checksums cross the application whole.
#   tap          two net_tap ports (iface=...), their interfaces moved into
#                the namespaces.
#   virtio       two virtio-user ports on vhost-net
#                (path=/dev/vhost-net,iface=...), their interfaces moved
#                into the namespaces; io forwarding without offloads. Needs
#                /dev/vhost-net (the vhost_net module): without it the path
#                is reported unavailable.
#
# Placement (two cores): testpmd's main lcore on core 0, its forwarding
# lcore on core 1 (busy polling); everything else on core 0: the iperf3
# client and server, both bridge processes (their workers sleep in poll()
# when idle), and with them the kernel's work done in those processes'
# system calls and softirqs.
#
# Exit status: 0 when every path that could run gave a figure, 1 when one
# failed, 77 when not run as root.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=10
omit=1
repeat=1
smoke=0
build="$root/build"
reader=""
paths="bsdtap,bsdtap_vnet,tap,virtio"
keep_logs=""

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
die() {
	printf 'iperf3: error: %s\n' "$*" >&2
	exit 1
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive number"
		seconds=$2
		shift
		;;
	--repeat)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive number"
		repeat=$2
		shift
		;;
	--smoke) smoke=1 ;;
	--build-dir)
		[[ -n ${2:-} ]] || die "--build-dir needs a directory"
		build=$(cd "$2" && pwd) || die "no directory $2"
		shift
		;;
	--reader)
		[[ -n ${2:-} ]] || die "--reader needs a path"
		reader=$2
		shift
		;;
	--paths)
		[[ ${2:-} =~ ^(bsdtap|bsdtap_vnet|tap|virtio)(,(bsdtap|bsdtap_vnet|tap|virtio))*$ ]] ||
			die "--paths needs a comma-separated list of bsdtap, bsdtap_vnet, tap, virtio"
		paths=$2
		shift
		;;
	--logs)
		[[ -n ${2:-} ]] || die "--logs needs a directory"
		mkdir -p "$2" || die "cannot create $2"
		keep_logs=$(cd "$2" && pwd)
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done
if [[ $smoke -eq 1 ]]; then
	seconds=2
	omit=0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "iperf3: needs root (hugepages, tap interfaces, network namespaces); skipped"
	exit 77
fi

testpmd=$(command -v dpdk-testpmd) || die "dpdk-testpmd not found (Debian package dpdk): run devtools/setup.sh"
command -v iperf3 >/dev/null || die "iperf3 not found: run devtools/setup.sh"
for t in taskset stdbuf ip mkfifo python3 ping; do
	command -v "$t" >/dev/null || die "$t not found"
done
[[ $(nproc --all) -ge 2 ]] || die "needs two cores"
[[ -c /dev/net/tun ]] || die "no /dev/net/tun"
[[ -n $reader ]] || reader="$build/app/bsdtap-reader"
[[ -x $reader ]] || die "$reader is missing: run devtools/build.sh"
reader=$(cd "$(dirname "$reader")" && pwd)/$(basename "$reader")

# The driver testpmd loads: the copy bsdtap-reader is linked to (a secondary
# shares the units' memory layout with its primary: the same build).
so=$(ldd "$reader" 2>/dev/null | awk '/librte_net_bsdtap\.so/ { print $3; exit }')
[[ -n $so ]] || so="$build/drivers/net/bsdtap/librte_net_bsdtap.so"
[[ -f $so ]] || die "$so is missing: run devtools/build.sh"
# A secondary registers the mempool ops in the primary's order: it preloads
# the drivers Debian's testpmd links (as bench/compare.sh does).
preload=$(ldd "$testpmd" |
	awk '/librte_(net|mempool|bus|common|crypto|event|dma|raw|baseband|compress|regex|vdpa)_/ { print $3 }' |
	tr '\n' ':')$so

free_huge=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
huge_mb=$(awk '/^Hugepagesize:/ { print int($2 / 1024) }' /proc/meminfo)
mem_mb=512

main_core=0
fwd_core=1
other_core=0 # iperf3, the bridges

run_id="btip$$"
work=$(mktemp -d -t bsdtap-iperf3.XXXXXX)
ns_a="${run_id}a"
ns_b="${run_id}b"
ip_a=10.98.0.1
ip_b=10.98.0.2
pids=()
tp_pid=""
tp_fd=""
tp_log=""
cur=""
err=""

log() { printf 'iperf3: %s\n' "$*" >&2; }
fail() {
	err="$*"
	return 1
}

# Ends what a path started, idempotently: the iperf3s and the bridges, then
# testpmd (quit, so that it closes its ports), the namespaces, the EAL files.
path_cleanup() {
	local i k
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${pids[$i]}"
	done
	pids=()
	if [[ -n $tp_pid ]]; then
		[[ -n $tp_fd ]] && { printf 'quit\n' >&"$tp_fd"; } 2>/dev/null
		for ((k = 0; k < 100; k++)); do
			kill -0 "$tp_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$tp_pid"
		tp_pid=""
	fi
	if [[ -n $tp_fd ]]; then
		{ exec {tp_fd}>&-; } 2>/dev/null
		tp_fd=""
	fi
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -rf /var/run/dpdk/"$run_id"-*
	rm -f /dev/hugepages/"$run_id"-*map_*
	return 0
}

cleanup() {
	path_cleanup
	if [[ -n $keep_logs ]]; then
		cp -f "$work"/*.log "$keep_logs"/ 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE

# ------------------------------------------------------------ testpmd

tp_prompts() { grep -o 'testpmd> ' "$tp_log" 2>/dev/null | wc -l; }

tp_wait_prompts() { # <count> <seconds>
	local i
	for ((i = 0; i < $2 * 50; i++)); do
		[[ $(tp_prompts) -ge $1 ]] && return 0
		kill -0 "$tp_pid" 2>/dev/null ||
			fail "testpmd exited: $(grep -vE '^(Port|Done|Stopping|Closing|Shutting|Bye)' "$tp_log" | tail -n 3 | tr -d '\r' | tr '\n' ' ')" ||
			return 1
		sleep 0.02
	done
	fail "testpmd did not answer within $2 s"
}

# tp_start <prefix> <EAL and testpmd args...>: interactive, on our two cores.
tp_start() {
	local fifo="$work/$cur-testpmd.in" pfx=$1
	shift
	tp_log="$work/$cur-testpmd.log"
	rm -f "$fifo"
	mkfifo "$fifo"
	local args=(-l "$main_core,$fwd_core" --main-lcore "$main_core" --no-pci -m "$mem_mb"
		--file-prefix "$pfx" --log-level=error "$@")
	echo "# taskset -c $main_core,$fwd_core $testpmd ${args[*]}" >"$tp_log"
	stdbuf -oL taskset -c "$main_core,$fwd_core" "$testpmd" "${args[@]}" <"$fifo" >>"$tp_log" 2>&1 &
	tp_pid=$!
	exec {tp_fd}>"$fifo"
	tp_wait_prompts 1 60
}

tp_cmd() { # <command>: prints its output
	local before
	before=$(tp_prompts)
	{ printf '%s\n' "$1" >&"$tp_fd"; } 2>/dev/null || fail "cannot send '$1' to testpmd" || return 1
	tp_wait_prompts $((before + 1)) 30 || return 1
	awk -v n="$before" 'BEGIN { RS = "testpmd> " } NR == n + 1 { sub(/^[^\n]*\n/, ""); print }' \
		"$tp_log" | tr -d '\r'
}

# ------------------------------------------------------------ the pieces

# bridge_start <unit> <tap interface> [bridge options...]: bsdtap-reader
# bridge as a secondary of $pfx on the other core; waits for its tap.
bridge_start() {
	local unit=$1 ifname=$2 blog i
	shift 2
	blog="$work/$cur-bridge-$unit.log"
	local cmd=(env "LD_PRELOAD=$preload" "$reader" --file-prefix "$pfx" -l "$other_core"
		-- bridge --unit "$unit" --tap "$ifname" --cpu "$other_core" --quiet "$@")
	echo "# taskset -c $other_core ${cmd[*]}" >"$blog"
	taskset -c "$other_core" "${cmd[@]}" >>"$blog" 2>&1 &
	pids+=($!)
	for ((i = 0; i < 500; i++)); do
		grep -q '^bridge: tap interface' "$blog" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.02
	done
	local why
	why=$(grep '^bsdtap-reader: ' "$blog" | tail -n 1)
	[[ -n $why ]] || why=$(tail -n 2 "$blog" | tr '\n' ' ')
	if [[ $why == *"has no vnet-header mode"* ]]; then
		fail "unavailable: ${why#bsdtap-reader: }"
	else
		fail "bridge for $unit did not start: $why"
	fi
}

# ns_setup <interface A> <interface B>: each into its namespace, addressed, up.
ns_setup() {
	ip netns add "$ns_a" || fail "cannot create network namespace $ns_a" || return 1
	ip netns add "$ns_b" || fail "cannot create network namespace $ns_b" || return 1
	local ns ifname addr
	for x in "$ns_a $1 $ip_a" "$ns_b $2 $ip_b"; do
		read -r ns ifname addr <<<"$x"
		ip link set "$ifname" netns "$ns" || fail "cannot move $ifname into $ns" || return 1
		ip -n "$ns" addr add "$addr/24" dev "$ifname" || fail "cannot address $ifname" || return 1
		ip -n "$ns" link set "$ifname" up || fail "cannot bring $ifname up" || return 1
		ip -n "$ns" link set lo up
	done
	# The first frames (ARP, and a bridge's tap coming up) may be lost.
	local i
	for ((i = 0; i < 10; i++)); do
		ip netns exec "$ns_a" ping -c 1 -W 1 "$ip_b" >/dev/null 2>&1 && return 0
	done
	fail "no ping from $ns_a to $ip_b through the path"
}

# iperf_run: the server in B, the client in A, both on the other core;
# sets gbps and retrans.
iperf_run() {
	local slog="$work/$cur-iperf3-server.log" clog="$work/$cur-iperf3-client.log" i
	ip netns exec "$ns_b" taskset -c "$other_core" iperf3 -s -1 -B "$ip_b" >"$slog" 2>&1 &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$ns_b" ss -ltn 2>/dev/null | grep -q "$ip_b:5201" && break
		sleep 0.05
	done
	local rc=0
	timeout $((seconds + omit + 30)) ip netns exec "$ns_a" taskset -c "$other_core" \
		iperf3 -c "$ip_b" -t "$seconds" -O "$omit" -J >"$clog" 2>&1 || rc=$?
	read -r gbps retrans < <(python3 - "$clog" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    e = d['end']
    print('%.3f %d' % (e['sum_received']['bits_per_second'] / 1e9,
                       e['sum_sent'].get('retransmits', 0)))
except Exception as x:
    print('- -')
PY
	)
	if [[ $rc -ne 0 || $gbps == - ]]; then
		local why
		why=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error", ""))' "$clog" 2>/dev/null)
		[[ -n $why ]] || why=$(tail -n 2 "$clog" | tr '\n' ' ')
		fail "iperf3 failed (status $rc): $why"
		return 1
	fi
}

# The forwarding counters of the last run, for the note.
fwd_note() {
	local out
	out=$(tp_cmd "show port stats all") || return 0
	awk '/RX-missed:/ { m += $4 } /RX-errors:/ { e += $2 } /TX-errors:/ { t += $4 }
		END { printf "testpmd: rx missed %d, rx errors %d, tx errors %d", m, e, t }' <<<"$out"
}

tp_common=(-i --disable-link-check --forward-mode=io --total-num-mbufs=32768)

# ------------------------------------------------------------ the paths

p_bsdtap() { # [vnet]
	local vnet=${1:-} pfx="$run_id-$cur" i0="${run_id}p0" i1="${run_id}p1"
	local tp_extra=() br_extra=()
	if [[ -n $vnet ]]; then
		tp_extra=(--enable-lro --enable-rx-cksum --enable-scatter --max-lro-pkt-size=65535)
		br_extra=(--vnet-hdr)
	fi
	tp_start "$pfx" -d "$so" --vdev=net_bsdtap0 --vdev=net_bsdtap1 -- "${tp_common[@]}" \
		"${tp_extra[@]}" || return 1
	tp_cmd "start" >/dev/null || return 1
	bridge_start tap0 "$i0" "${br_extra[@]}" || return 1
	bridge_start tap1 "$i1" "${br_extra[@]}" || return 1
	ns_setup "$i0" "$i1" || return 1
	iperf_run || return 1
	note="$(fwd_note)"
}

p_bsdtap_vnet() { p_bsdtap vnet; }

p_tap() {
	local pfx="$run_id-$cur" i0="${run_id}t0" i1="${run_id}t1"
	tp_start "$pfx" "--vdev=net_tap0,iface=$i0" "--vdev=net_tap1,iface=$i1" -- \
		"${tp_common[@]}" || return 1
	tp_cmd "start" >/dev/null || return 1
	ns_setup "$i0" "$i1" || return 1
	iperf_run || return 1
	note="$(fwd_note)"
}

p_virtio() {
	[[ -c /dev/vhost-net ]] || fail "unavailable: /dev/vhost-net absent (the kernel has no vhost_net module loaded)" || return 1
	local pfx="$run_id-$cur" i0="${run_id}v0" i1="${run_id}v1"
	tp_start "$pfx" "--vdev=virtio_user0,path=/dev/vhost-net,iface=$i0,queue_size=1024" \
		"--vdev=virtio_user1,path=/dev/vhost-net,iface=$i1,queue_size=1024" -- \
		"${tp_common[@]}" || return 1
	tp_cmd "start" >/dev/null || return 1
	ns_setup "$i0" "$i1" || return 1
	iperf_run || return 1
	note="$(fwd_note)"
}

# ------------------------------------------------------------ the run

declare -A res_gbps res_status res_note res_label res_runs
keys=(bsdtap bsdtap_vnet tap virtio)
res_label[bsdtap]="net_bsdtap + bsdtap-reader bridge"
res_label[bsdtap_vnet]="net_bsdtap + bsdtap-reader bridge --vnet-hdr"
res_label[tap]="net_tap"
res_label[virtio]="virtio-user on vhost-net"

selected() { [[ ,$paths, == *",$1,"* ]]; }

run_path() { # <key>
	local key=$1 i vals=() best
	if ! selected "$key"; then
		res_status[$key]="not run"
		res_note[$key]="--paths"
		return 0
	fi
	for ((i = 1; i <= repeat; i++)); do
		cur=$key
		[[ $repeat -gt 1 ]] && cur="$key-$i"
		err="" gbps="" retrans="" note=""
		log "--- ${res_label[$key]}$([[ $repeat -gt 1 ]] && echo " (run $i of $repeat)")"
		if "p_$key"; then
			vals+=("$gbps")
			log "  $gbps Gbit/s, $retrans retransmits ($note)"
			res_note[$key]="$retrans retransmits; $note"
			path_cleanup
			continue
		fi
		path_cleanup
		if [[ $err == unavailable:* ]]; then
			res_status[$key]=unavailable
			res_note[$key]=${err#unavailable: }
		else
			res_status[$key]=failed
			res_note[$key]=$err
		fi
		log "  ${res_status[$key]}: ${res_note[$key]}"
		return 0
	done
	best=$(printf '%s\n' "${vals[@]}" | sort -g | tail -n 1)
	res_gbps[$key]=$best
	res_runs[$key]="${vals[*]}"
	res_status[$key]=ok
}

if [[ $((free_huge * huge_mb)) -lt $mem_mb ]] || ! grep -qs hugetlbfs /proc/mounts; then
	die "needs $mem_mb MiB of free hugepages and hugetlbfs (devtools/setup.sh)"
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for k in "${keys[@]}"; do
	run_path "$k"
done

# ------------------------------------------------------------ report

ok_gbps() { [[ ${res_status[$1]:-} == ok ]] && echo "${res_gbps[$1]}"; }
ratio() { # <value or key> <reference key>
	local a b
	a=$(ok_gbps "$1")
	b=$(ok_gbps "$2")
	if [[ -n $a && -n $b ]]; then
		awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
	else
		echo "-"
	fi
}
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
dpdk_version=$(pkg-config --modversion libdpdk 2>/dev/null || dpkg-query -W -f '${Version}' dpdk 2>/dev/null)
echo
echo "iperf3 TCP through the kernel ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc --all) cores, $model; kernel $(uname -r); DPDK $dpdk_version; $(iperf3 --version | head -n 1 | awk '{ print $1, $2 }')"
echo "run: bench/iperf3.sh$([[ $smoke -eq 1 ]] && echo " --smoke") (one TCP stream, $seconds s after $omit s omitted, best of $repeat; testpmd io forwarding on core $fwd_core, main lcore on core $main_core; iperf3 client, server and the bridges on core $other_core)"
echo "load average before the run: $load_before"
echo
printf '%-46s %8s %9s %9s  %s\n' "namespace A -> testpmd io -> namespace B" Gbit/s "x tap" "x virtio" "runs"
for k in "${keys[@]}"; do
	if [[ ${res_status[$k]} == ok ]]; then
		printf '%-46s %8s %9s %9s  %s\n' "${res_label[$k]}" "${res_gbps[$k]}" \
			"$(ratio "$k" tap)" "$(ratio "$k" virtio)" "${res_runs[$k]}"
	else
		printf '%-46s %8s  (%s: %s)\n' "${res_label[$k]}" - "${res_status[$k]}" "${res_note[$k]}"
	fi
done
echo
echo "details (the last run of each path):"
for k in "${keys[@]}"; do
	[[ ${res_status[$k]} == ok ]] && printf '  %-44s %s\n' "${res_label[$k]}:" "${res_note[$k]}"
done

# The best bsdtap path against each reference.
best=""
for k in bsdtap bsdtap_vnet; do
	v=$(ok_gbps "$k")
	[[ -n $v ]] || continue
	if [[ -z $best ]] || awk -v a="$v" -v b="$(ok_gbps "$best")" 'BEGIN { exit !(a > b) }'; then
		best=$k
	fi
done
echo
echo "targets (iperf3 issue), with the faster bsdtap path${best:+ (${res_label[$best]})}:"
target() { # <description> <ratio or -> <bound> <why not measured>
	if [[ $2 == - ]]; then
		printf '  %-46s %s\n' "$1" "not measured${4:+ ($4)}"
		return
	fi
	printf '  %-46s %-6s %s\n' "$1" "$2" "$(awk -v v="$2" -v b="$3" \
		'BEGIN { if (v >= b) print "met"; else printf "MISSED (%.2f of the bound)", v / b }')"
}
why_tap="" why_virtio=""
[[ ${res_status[tap]} == ok ]] || why_tap="net_tap ${res_status[tap]}: ${res_note[tap]}"
[[ ${res_status[virtio]} == ok ]] || why_virtio="virtio-user ${res_status[virtio]}: ${res_note[virtio]}"
if [[ -n $best ]]; then
	target "bsdtap >= 3 x net_tap" "$(ratio "$best" tap)" 3 "$why_tap"
	target "bsdtap >= 1.0 x virtio-user" "$(ratio "$best" virtio)" 1.0 "$why_virtio"
else
	target "bsdtap >= 3 x net_tap" - 3 "no bsdtap path gave a figure"
	target "bsdtap >= 1.0 x virtio-user" - 1.0 "no bsdtap path gave a figure"
fi

status=0
for k in "${keys[@]}"; do
	[[ ${res_status[$k]} == failed ]] && status=1
done
exit $status
