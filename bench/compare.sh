#!/usr/bin/env bash
# Side by side on one machine, in one run: stock dpdk-testpmd moves 64-byte
# frames into net_null, net_bsdtap (three readers), net_memif and net_tap;
# then the reverse direction, the round-trip latency through an echo reader,
# and the CPU an idle blocking reader uses. Prints tables of Mpps with the
# ratios to net_null, net_memif and net_tap, and which targets of the
# performance issue are met. Run as root after devtools/build.sh.
#
# Usage: bench/compare.sh [--seconds N] [--repeat N] [--smoke] [--build-dir DIR]
#                         [--dpdk VERSION] [--reader PATH | --stand-in]
#                         [--logs DIR] [--only LIST]
#   --seconds N    measure each path for N seconds (default 5)
#   --smoke        1 second per path and few latency probes: checks that the
#                  harness works (the 'bench' test suite runs this)
#   --build-dir D  build tree holding the driver and bench/'s helpers
#                  (default: build/ at the top of the source tree, or
#                  build-VERSION/ with --dpdk)
#   --dpdk V       run on DPDK LTS V: 22.11 (Debian's, the default), 24.11 or
#                  25.11 (built by devtools/build.sh --dpdk V): its testpmd,
#                  its libraries and its drivers (net_null, net_memif, net_tap)
#   --reader PATH  the secondary-process reader (default: D/app/bsdtap-reader
#                  when it is built, else the stand-in D/bench/zc_reader)
#   --stand-in     use the stand-in D/bench/zc_reader even if bsdtap-reader is built
#   --logs DIR     keep every process's output (and its command line) in DIR
#                  (default: removed)
#   --repeat N     run each throughput path N times, each with its own
#                  processes, and report the median and the worst (default 5;
#                  1 with --smoke)
#   --only LIST    run only these paths (comma-separated): null sink sec_zc
#                  sec_copy memif tap sock_seqpacket sock_dgram sock_stream
#                  rnull rwrite rsend rtap rsock_seqpacket rsock_dgram
#                  rsock_stream unix_seqpacket unix_dgram unixr_seqpacket
#                  unixr_dgram rtt_builtin
#                  rtt_secondary idle_sec idle_builtin, and iperf3 (not in the
#                  default set: about a minute)
#
# The iperf3 group (--only iperf3) is bench/iperf3.sh: TCP with iperf3
# between two network namespaces through testpmd's io forwarding between
# two net_bsdtap ports bridged to Linux taps (plain and --vnet-hdr), two
# net_tap ports and two virtio-user ports on vhost-net, in Gbit/s with the
# ratios; --seconds is its iperf3 -t and --repeat its runs per path when
# given (default 10 s, one run), --smoke 2 s.
#
# Placement (two cores): testpmd's forwarding lcore on core 1, its main lcore
# (idle at the prompt) on core 0, every reader on core 0: the reader thread
# built into the driver (a control thread: EAL puts it on the main lcore's
# core when no other core is free), the secondary-process readers, the
# AF_PACKET reader and the second testpmd's forwarding lcore (net_memif).
#
# Each throughput path runs --repeat times, each time with new processes;
# the median counts (ratios are of medians), and the worst start is printed
# beside it: a user who starts testpmd once gets any of them (see
# doc/performance.md).
#
# Paths, testpmd txonly -> reader (figure: frames per second the reader got):
#   net_null                 the generator's own limit (port opackets)
#   net_bsdtap reader=sink   in-process zero-copy sink (port opackets = frames
#                            queued for the sink; devq-full drops excluded)
#   net_bsdtap + secondary   zero-copy sink in a DPDK secondary process (the
#                            stand-in's own count; bsdtap-reader: port opackets)
#   net_bsdtap + secondary   copying sink (read() into a buffer), same
#   net_memif (copy mode)    -> second testpmd rxonly (its RX-packets)
#   net_tap -> kernel        -> AF_PACKET TPACKET_V3 reader (its own count)
#   net_bsdtap reader=socket -> examples/socket_client -m rx, one run per
#                            socket_type (seqpacket, dgram, stream); the pump
#                            thread and the client share the reader core
#                            (figure: frames the pump put into the client's
#                            socket, xstat socket_tx_frames)
# Reverse, reader -> testpmd rxonly (figure: testpmd's RX-packets per second):
#   net_null rx (the generator limit of rx), a secondary writing with write()
#   (bsdtap-reader replay of a 64-byte frame, or the stand-in --write) and
#   the stand-in giving mbufs of its own mempool with send_burst (--send);
#   net_tap <- kernel <- an AF_PACKET writer (sendmmsg, qdisc bypassed);
#   net_bsdtap reader=socket <- examples/socket_client -m tx, per socket_type.
# The kernel's own limit for seqpacket and dgram: bench/unix_loop, a bare
# Unix-socket loop on the reader core (sendmmsg of 128 messages as the pump
# sends, recvmmsg of 32 as the client reads), no DPDK, twice: sending one
# local buffer (unix_*), and sending frames a thread on the generator core
# wrote, each once, as the pump's frames are (unixr_*, -r). The socket paths
# of the same type are printed as ratios to both; the target to the client
# is judged against the second (the same data placement), from the client
# against the first (the client writes from its own buffer there too).
# Latency: bench/rtt (its own primary) through the built-in echo reader and a
# secondary echo reader, with back-to-back probes (the reader stays awake)
# and with 1 ms gaps (the reader sleeps between probes).
# Idle: CPU time of a blocking secondary sink and of the built-in sink thread
# over N seconds with no traffic (/proc schedstat and utime+stime).
#
# Needs root (hugepages, tap interfaces) and free hugepages for the
# multi-process paths: without them those paths are skipped. Exit status:
# 0 when every path that could run gave a figure, 1 when one failed, 77
# when not run as root.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

seconds=5
smoke=0
build="$root/build"
reader_opt=""
stand_in=0
keep_logs=""
lane=""
build_set=0
only=""
repeat=""
seconds_set=0
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
die() {
	printf 'compare: error: %s\n' "$*" >&2
	exit 1
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive number"
		seconds=$2
		seconds_set=1
		shift
		;;
	--smoke) smoke=1 ;;
	--build-dir)
		[[ -n ${2:-} ]] || die "--build-dir needs a directory"
		build=$(cd "$2" && pwd) || die "no directory $2"
		build_set=1
		shift
		;;
	--dpdk)
		[[ -n ${2:-} ]] || die "--dpdk needs a version (22.11, 24.11 or 25.11)"
		lane=$2
		shift
		;;
	--reader)
		[[ -n ${2:-} ]] || die "--reader needs a path"
		reader_opt=$2
		shift
		;;
	--stand-in) stand_in=1 ;;
	--repeat)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive number"
		repeat=$2
		shift
		;;
	--only)
		[[ -n ${2:-} ]] || die "--only needs a list of paths"
		only=",$2,"
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

if [[ -n $lane ]]; then
	# shellcheck source=devtools/lib.sh
	source "$root/devtools/lib.sh"
	bsdtap_lane_env "$lane"
	[[ $build_set -eq 1 ]] || build="$root/$(bsdtap_lane_builddir "$lane")"
	[[ -d $build ]] || die "no build tree $build: run devtools/build.sh --dpdk $lane"
fi

repeat_user=$repeat
if [[ $smoke -eq 1 ]]; then
	repeat=${repeat:-1}
	seconds=1
	warmup=0.5
	probes=2000
	idle_probes=100
else
	repeat=${repeat:-5}
	warmup=1
	probes=100000
	idle_probes=5000
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "compare: needs root (hugepages, tap interfaces, AF_PACKET); skipped"
	exit 77
fi

# ------------------------------------------------------------ what to run

testpmd=$(command -v dpdk-testpmd) || die "dpdk-testpmd not found (Debian package dpdk): run devtools/setup.sh"
for t in taskset stdbuf ip mkfifo; do
	command -v "$t" >/dev/null || die "$t not found"
done
[[ $(nproc --all) -ge 2 ]] || die "needs two cores"
so_build="$build/drivers/net/bsdtap/librte_net_bsdtap.so"
zc_reader="$build/bench/zc_reader"
afpacket_reader="$build/bench/afpacket_reader"
unix_loop="$build/bench/unix_loop"
rtt="$build/bench/rtt"
socket_client="$build/examples/socket_client"
for f in "$so_build" "$zc_reader" "$afpacket_reader" "$rtt" "$socket_client" "$unix_loop"; do
	[[ -x $f || -f $f ]] || die "$f is missing: run devtools/build.sh (benchmarks enabled)"
done
# EAL refuses -d for a file under a world-writable directory.
d=$(dirname "$so_build")
while [[ $d != / ]]; do
	[[ -n $(find "$d" -maxdepth 0 -perm -o+w) ]] &&
		die "$d is world-writable: EAL refuses to load the driver from under it (use a build tree elsewhere)"
	d=$(dirname "$d")
done
real_reader=""
if [[ $stand_in -eq 0 ]]; then
	if [[ -n $reader_opt ]]; then
		[[ -x $reader_opt ]] || die "--reader $reader_opt is not an executable"
		real_reader=$(cd "$(dirname "$reader_opt")" && pwd)/$(basename "$reader_opt")
	elif [[ -x $build/app/bsdtap-reader ]]; then
		real_reader="$build/app/bsdtap-reader"
	fi
fi

# The driver a program loads: the copy it is linked to (a secondary must load
# the same build as the primary: they share the unit's memzone layout).
linked_so() { ldd "$1" 2>/dev/null | awk '/librte_net_bsdtap\.so/ { print $3; exit }'; }

# A secondary process frees the primary's mbufs and the primary frees the
# secondary's through the mempool ops index stored in each pool, so both
# must register the same mempool ops in the same order. Debian's testpmd
# links drivers (one registers mempool ops) before EAL loads the rest: a
# secondary preloads the same libraries, in the same order (as tests/tools.sh
# does for dpdk-dumpcap).
preload_of() {
	ldd "$1" |
		awk '/librte_(net|mempool|bus|common|crypto|event|dma|raw|baseband|compress|regex|vdpa)_/ { print $3 }' |
		tr '\n' ':'
}
preload_testpmd=$(preload_of "$testpmd")
preload_rtt=$(preload_of "$rtt")

# Cores: the generator's forwarding lcore and the readers.
gen_core=1
reader_core=0
cores="$reader_core,$gen_core"

work=$(mktemp -d -t bsdtap-compare.XXXXXX)
run_id="btcmp$$"
pids=()     # every process started, readers after their primaries
prefixes=() # EAL file prefixes used
declare -A tp_pid tp_fd tp_log

log() { printf 'compare: %s\n' "$*" >&2; }

remove_prefix_files() {
	rm -rf "/var/run/dpdk/$1"
	rm -f /dev/hugepages/"$1"map_*
}

# Ends everything a path started: the readers first, then the testpmds
# (quit, so that they close their ports; signals if they do not), then the
# EAL files of its prefixes.
path_cleanup() {
	local name i fd is_tp k
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		is_tp=0
		for name in "${!tp_pid[@]}"; do
			[[ ${tp_pid[$name]} == "${pids[$i]}" ]] && is_tp=1
		done
		[[ $is_tp -eq 0 ]] && stop_pid "${pids[$i]}"
	done
	for name in "${!tp_fd[@]}"; do
		fd=${tp_fd[$name]}
		{ printf 'quit\n' >&"$fd"; } 2>/dev/null
	done
	for name in "${!tp_pid[@]}"; do
		for ((k = 0; k < 100; k++)); do
			kill -0 "${tp_pid[$name]}" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "${tp_pid[$name]}"
	done
	for name in "${!tp_fd[@]}"; do
		fd=${tp_fd[$name]}
		{ exec {fd}>&-; } 2>/dev/null
	done
	pids=()
	tp_pid=()
	tp_fd=()
	tp_log=()
	for name in "${prefixes[@]}"; do
		remove_prefix_files "$name"
	done
	prefixes=()
}

cleanup() {
	path_cleanup
	# Whatever a path left behind if it was interrupted.
	rm -rf /var/run/dpdk/"$run_id"-*
	rm -f /dev/hugepages/"$run_id"-*map_*
	if [[ -n $keep_logs ]]; then
		cp -f "$work"/*.log "$keep_logs"/ 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A write to a testpmd that died must fail, not kill this script.
trap '' PIPE

err="" # why the current path failed
fail() {
	err="$*"
	return 1
}

# Sets pfx to a new EAL file prefix (not in $(...): it must be recorded here).
new_prefix() {
	pfx="$run_id-$1"
	prefixes+=("$pfx")
}

# ------------------------------------------------------- testpmd sessions

tp_prompts() { grep -o 'testpmd> ' "${tp_log[$1]}" 2>/dev/null | wc -l; }

tp_wait_prompts() { # <session> <count> <seconds>
	local limit=$(($3 * 50)) i
	for ((i = 0; i < limit; i++)); do
		[[ $(tp_prompts "$1") -ge $2 ]] && return 0
		kill -0 "${tp_pid[$1]}" 2>/dev/null || fail "testpmd ($1) exited: $(tail -n 3 "${tp_log[$1]}" | tr -d '\r' | tr '\n' ' ')" || return 1
		sleep 0.02
	done
	fail "testpmd ($1) did not answer within $3 s"
}

# Starts testpmd session <name> with the given arguments (taskset to our two
# cores) and waits for its prompt.
tp_start() {
	local name=$1
	shift
	local fifo="$work/$name.in" fd
	tp_log[$name]="$work/$cur_path-$name-testpmd.log"
	rm -f "$fifo"
	mkfifo "$fifo"
	echo "# taskset -c $cores $testpmd $*" >"${tp_log[$name]}"
	stdbuf -oL taskset -c "$cores" "$testpmd" "$@" <"$fifo" >>"${tp_log[$name]}" 2>&1 &
	tp_pid[$name]=$!
	pids+=($!)
	exec {fd}>"$fifo"
	tp_fd[$name]=$fd
	tp_wait_prompts "$name" 1 60
}

# Sends a command to session $1 and prints its output.
tp_cmd() {
	local before
	before=$(tp_prompts "$1")
	local fd=${tp_fd[$1]}
	{ printf '%s\n' "$2" >&"$fd"; } 2>/dev/null || fail "cannot send '$2' to testpmd ($1)" || return 1
	tp_wait_prompts "$1" $((before + 1)) 30 || return 1
	awk -v n="$before" 'BEGIN { RS = "testpmd> " } NR == n + 1 { sub(/^[^\n]*\n/, ""); print }' \
		"${tp_log[$1]}" | tr -d '\r'
}

# Port statistics of session $1, port $2: "rx_packets tx_packets tx_errors
# rx_pps tx_pps ns", the rates over the interval since the previous call
# (testpmd's own clock), ns the time of the request.
tp_stats() {
	local t out
	t=$(date +%s%N)
	out=$(tp_cmd "$1" "show port stats $2") || return 1
	awk -v t="$t" '/RX-packets:/ { rx = $2 } /TX-packets:/ { tx = $2; txe = $4 }
		/Rx-pps:/ { rxp = $2 } /Tx-pps:/ { txp = $2 }
		END { print rx + 0, tx + 0, txe + 0, rxp + 0, txp + 0, t }' <<<"$out"
}

# Three of the driver's xstats of session $1, port $2: "tx_reader_wakeups
# rx_inq_full_drops socket_tx_frames ns" (0 for a port without them).
tp_xstats() {
	local t out
	t=$(date +%s%N)
	out=$(tp_cmd "$1" "show port xstats $2") || return 1
	awk -v t="$t" '$1 == "tx_reader_wakeups:" { w = $2 } $1 == "rx_inq_full_drops:" { d = $2 }
		$1 == "socket_tx_frames:" { s = $2 }
		END { print w + 0, d + 0, s + 0, t }' <<<"$out"
}

tp_wait_link() { # <session> <port> <seconds>
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		tp_cmd "$1" "show port info $2" | grep -q 'Link status: up' && return 0
		[[ -n ${reader_pid:-} ]] && ! kill -0 "$reader_pid" 2>/dev/null &&
			fail "the reader exited: $(tail -n 3 "$reader_log" | tr '\n' ' ')" && return 1
		sleep 0.2
	done
	fail "link of port $2 of testpmd ($1) not up within $3 s"
}

# ------------------------------------------------------------ readers

reader_pid=""
reader_log=""
# Starts a reader process on the reader core: <name> <command...>.
start_reader() {
	local name=$1
	shift
	reader_log="$work/$cur_path-$name.log"
	echo "# taskset -c $reader_core $*" >"$reader_log"
	taskset -c "$reader_core" "$@" >>"$reader_log" 2>&1 &
	reader_pid=$!
	pids+=($!)
}

# Waits for a line matching $1 in the reader's output (at most $2 seconds).
reader_wait_for() {
	local i
	for ((i = 0; i < $2 * 50; i++)); do
		grep -qE "$1" "$reader_log" 2>/dev/null && return 0
		kill -0 "$reader_pid" 2>/dev/null ||
			fail "reader exited: $(tail -n 3 "$reader_log" | tr '\n' ' ')" || return 1
		sleep 0.02
	done
	fail "reader printed no '$1' within $2 s"
}

# Asks a counting reader (SIGUSR1) for its count: prints "frames ns".
reader_sample() {
	local before i
	before=$(grep -c '^count ' "$reader_log")
	kill -USR1 "$reader_pid" 2>/dev/null || fail "reader is gone" || return 1
	for ((i = 0; i < 250; i++)); do
		if [[ $(grep -c '^count ' "$reader_log") -gt $before ]]; then
			grep '^count ' "$reader_log" | tail -n 1 | awk '{ print $2, $4 }'
			return 0
		fi
		sleep 0.02
	done
	fail "reader did not report its count"
}

# The stand-in as a secondary of primary prefix $1 (preloading $2), mode args after.
stand_in_cmd() {
	local prefix=$1 pre=$2
	shift 2
	printf '%s\n' env "LD_PRELOAD=$pre" "$zc_reader" --proc-type=secondary --file-prefix "$prefix" \
		--no-pci --lcores "8@$reader_core" --log-level=error -- --unit tap0 "$@"
}

# bsdtap-reader as a secondary of primary prefix $1 (preloading $2).
real_reader_cmd() {
	local prefix=$1 pre=$2 extra=()
	shift 2
	[[ -z $(linked_so "$real_reader") ]] && extra=(-d "$so_build")
	printf '%s\n' env "LD_PRELOAD=$pre" "$real_reader" --proc-type=secondary --file-prefix "$prefix" \
		"${extra[@]}" -- "$@" --unit tap0
}

# ------------------------------------------------------------ results

declare -A res_mpps res_status res_note res_label res_worst
fwd_keys=()
rev_keys=()
unix_keys=()

record() { # <key> <label> <status ok|skipped|failed> <mpps or -> <note>
	res_label[$1]=$2
	res_status[$1]=$3
	res_mpps[$1]=$4
	res_note[$1]=$5
	if [[ $3 == ok && $4 == - ]]; then
		log "$2: ok ($5)"
	elif [[ $3 == ok ]]; then
		log "$2: $4 Mpps ($5)"
	else
		log "$2: $3: $5"
	fi
}

rate() { # <frames0> <frames1> <ns0> <ns1>: Mpps
	awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" \
		'BEGIN { if (t1 > t0) printf "%.3f", (b - a) / (t1 - t0) * 1000; else print "0" }'
}
pps_to_mpps() { awk -v p="$1" 'BEGIN { printf "%.3f", p / 1e6 }'; }

free_hugepages() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
hugepage_mb() { awk '/^Hugepagesize:/ { print int($2 / 1024) }' /proc/meminfo; }

# Memory of each DPDK primary: hugepages when there are enough for two
# primaries at once (net_memif), else --no-huge for the paths that allow it.
mem_mb=256
use_huge=0
if [[ -n $(free_hugepages) && $(free_hugepages) -gt 0 ]] &&
	[[ $(($(free_hugepages) * $(hugepage_mb))) -ge $((2 * mem_mb)) ]] &&
	grep -qs hugetlbfs /proc/mounts; then
	use_huge=1
fi
mem_args() { # for a primary; no-huge fallback needs more memory
	if [[ $use_huge -eq 1 ]]; then
		printf '%s\n' -m "$mem_mb"
	else
		printf '%s\n' --no-huge -m 512
	fi
}
mapfile -t MEM < <(mem_args)
tp_args=(-i --total-num-mbufs=16384 --txpkts=64 --disable-link-check)

# Runs path function $2 for key $1 (label $3): records the result or the
# failure and cleans up what it started.
mpps="" note="" reader_used="" cur_path=""
selected() { [[ -z $only || $only == *",$1,"* ]]; }
run_path() { # <key> <function> <label> [runs, default --repeat]
	local key=$1 fn=$2 label=$3 runs=${4:-$repeat} i vals=() last_note=""
	if ! selected "$key"; then
		res_label[$key]=$label
		res_status[$key]="not run"
		res_note[$key]="--only"
		return 0
	fi
	for ((i = 1; i <= runs; i++)); do
		cur_path=$key
		[[ $runs -gt 1 ]] && cur_path="$key-$i"
		err="" mpps="" note=""
		reader_pid="" reader_log=""
		log "--- $label$([[ $runs -gt 1 ]] && echo " (run $i of $runs)")"
		if "$fn"; then
			vals+=("$mpps")
			last_note=$note
			[[ $runs -gt 1 && $mpps != - ]] && log "  $mpps Mpps"
			path_cleanup
			continue
		fi
		path_cleanup
		if [[ $err == skipped:* ]]; then
			record "$key" "$label" skipped - "${err#skipped: }"
		else
			record "$key" "$label" failed - "$err"
		fi
		return 0
	done
	local median worst
	# The median of the starts (of the middle two when even) and the worst.
	median=$(printf '%s\n' "${vals[@]}" | grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	worst=$(printf '%s\n' "${vals[@]}" | grep -v '^-$' | sort -g | head -n 1)
	[[ -n $worst ]] || worst=-
	res_worst[$key]=$worst
	[[ $runs -gt 1 && $median != - ]] && last_note="$last_note; runs: ${vals[*]} Mpps (the last run's details)"
	record "$key" "$label" ok "$median" "$last_note"
}

needs_huge() { [[ $use_huge -eq 1 ]] || fail "skipped: no free hugepages (a secondary process needs them)"; }

# The window: start forwarding, warm up, then <seconds> of measurement of
# testpmd session $1's port 0 (and of the counting reader if $2 is 1).
# Sets w_rx_mpps w_tx_mpps w_txerr_mpps w_reader_mpps.
window() {
	local s0 s1 r0 r1 x0 x1
	tp_cmd "$1" start >/dev/null || return 1
	sleep "$warmup"
	s0=$(tp_stats "$1" 0) || return 1
	x0=$(tp_xstats "$1" 0) || return 1
	[[ $2 -eq 1 ]] && { r0=$(reader_sample) || return 1; }
	sleep "$seconds"
	s1=$(tp_stats "$1" 0) || return 1
	x1=$(tp_xstats "$1" 0) || return 1
	[[ $2 -eq 1 ]] && { r1=$(reader_sample) || return 1; }
	tp_cmd "$1" stop >/dev/null || return 1
	read -r _ _ e0 _ _ t0 <<<"$s0"
	read -r _ _ e1 rxp txp t1 <<<"$s1"
	w_rx_mpps=$(pps_to_mpps "$rxp")
	w_tx_mpps=$(pps_to_mpps "$txp")
	w_txerr_mpps=$(rate "$e0" "$e1" "$t0" "$t1")
	read -r wk0 id0 st0 xt0 <<<"$x0"
	read -r wk1 id1 st1 xt1 <<<"$x1"
	w_sock_tx_mpps=$(rate "$st0" "$st1" "$xt0" "$xt1")
	# Wakeups per second, from a rate in M/s.
	w_wakeups=$(awk -v m="$(rate "$wk0" "$wk1" "$xt0" "$xt1")" 'BEGIN { printf "%.0f", m * 1e6 }')
	w_inq_drops_mpps=$(rate "$id0" "$id1" "$xt0" "$xt1")
	w_reader_mpps=""
	if [[ $2 -eq 1 ]]; then
		read -r c0 n0 <<<"$r0"
		read -r c1 n1 <<<"$r1"
		w_reader_mpps=$(rate "$c0" "$c1" "$n0" "$n1")
	fi
	return 0
}

# ------------------------------------------------------------ forward paths

p_null() {
	local pfx
	new_prefix null
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" --vdev=net_null0 \
		-- "${tp_args[@]}" || return 1
	tp_cmd gen "set fwd txonly" >/dev/null || return 1
	window gen 0 || return 1
	mpps=$w_tx_mpps
	note="port opackets"
}

p_sink() {
	local pfx
	new_prefix sink
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so_build" \
		--vdev=net_bsdtap0,reader=sink -- "${tp_args[@]}" || return 1
	tp_cmd gen "set fwd txonly" >/dev/null || return 1
	local cpu
	cpu=$(thread_cpu "${tp_pid[gen]}" btap-tap0)
	window gen 0 || return 1
	mpps=$w_tx_mpps
	note="port opackets; devq-full drops $w_txerr_mpps Mpps; reader wakeups $w_wakeups/s; reader thread on CPU $cpu"
}

# The CPU (core) affinity list of thread <comm> of process <pid>.
thread_cpu() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ $(cat "$t/comm" 2>/dev/null) == "$2" ]]; then
			taskset -cp "${t##*/}" 2>/dev/null | awk -F': ' '{ print $2 }'
			return 0
		fi
	done
	echo "?"
}

# A secondary-process path: runs "$1 $2 real" with bsdtap-reader, then
# "$1 $2 stand-in" if bsdtap-reader is not built, has no such mode ($3 is 0)
# or fails.
with_secondary_reader() {
	local fn=$1 mode=$2 real_ok=${3:-1} try
	for try in real stand-in; do
		[[ $try == real && ($real_ok -eq 0 || -z $real_reader) ]] && continue
		err=""
		"$fn" "$mode" "$try" && return 0
		[[ $err == skipped:* ]] && return 1
		if [[ $try == real ]]; then
			log "bsdtap-reader failed ($err); trying the stand-in"
			path_cleanup
		fi
	done
	return 1
}

# Secondary-process sink: $1 is "zc" or "copy".
secondary_sink() { with_secondary_reader secondary_sink_with "$1"; }

secondary_sink_with() {
	local mode=$1 try=$2 pfx so cmd
	needs_huge || return 1
	new_prefix "sec-$mode"
	if [[ $try == real ]]; then
		so=$(linked_so "$real_reader")
		[[ -n $so ]] || so=$so_build
		local args=(sink)
		[[ $mode == copy ]] && args+=(--copy)
		mapfile -t cmd < <(real_reader_cmd "$pfx" "$preload_testpmd$so" "${args[@]}")
		reader_used="bsdtap-reader"
	else
		so=$(linked_so "$zc_reader")
		local args=()
		[[ $mode == copy ]] && args+=(--copy)
		mapfile -t cmd < <(stand_in_cmd "$pfx" "$preload_testpmd$so" "${args[@]}")
		reader_used="stand-in zc_reader"
	fi
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so" \
		--vdev=net_bsdtap0 -- "${tp_args[@]}" || return 1
	tp_cmd gen "set fwd txonly" >/dev/null || return 1
	start_reader "sec-$mode-$try" "${cmd[@]}"
	tp_wait_link gen 0 30 || return 1
	if [[ $try == real ]]; then
		window gen 0 || return 1
		mpps=$w_tx_mpps
		note="$reader_used; port opackets (frames queued for it); devq-full drops $w_txerr_mpps Mpps; reader wakeups $w_wakeups/s"
	else
		reader_wait_for '^ready' 10 || return 1
		window gen 1 || return 1
		mpps=$w_reader_mpps
		note="$reader_used; its own count (port opackets $w_tx_mpps Mpps; devq-full drops $w_txerr_mpps Mpps; reader wakeups $w_wakeups/s)"
	fi
}

p_sec_zc() { secondary_sink zc; }
p_sec_copy() { secondary_sink copy; }

p_memif() {
	needs_huge || return 1
	local pg pr sock
	new_prefix memif-gen
	pg=$pfx
	new_prefix memif-rx
	pr=$pfx
	sock="$work/memif.sock"
	# The server (generator) listens first; the client connects when its port starts.
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pg" \
		"--vdev=net_memif0,role=server,socket=$sock,socket-abstract=no" -- "${tp_args[@]}" || return 1
	tp_start recv -l "$cores" --main-lcore "$gen_core" --no-pci "${MEM[@]}" --file-prefix "$pr" \
		"--vdev=net_memif0,role=client,socket=$sock,socket-abstract=no" -- "${tp_args[@]}" || return 1
	tp_cmd recv "set fwd rxonly" >/dev/null || return 1
	tp_cmd gen "set fwd txonly" >/dev/null || return 1
	tp_wait_link gen 0 30 || return 1
	tp_wait_link recv 0 30 || return 1
	tp_cmd recv start >/dev/null || return 1
	# The receiver's window runs inside the generator's.
	local s0 s1
	tp_cmd gen start >/dev/null || return 1
	sleep "$warmup"
	s0=$(tp_stats recv 0) || return 1
	tp_stats gen 0 >/dev/null || return 1
	sleep "$seconds"
	s1=$(tp_stats recv 0) || return 1
	local g
	g=$(tp_stats gen 0) || return 1
	tp_cmd gen stop >/dev/null
	tp_cmd recv stop >/dev/null
	read -r _ _ _ rxp _ _ <<<"$s1"
	read -r _ _ _ _ gtx _ <<<"$g"
	mpps=$(pps_to_mpps "$rxp")
	note="second testpmd's RX-packets (generator sent $(pps_to_mpps "$gtx") Mpps)"
}

# testpmd with net_tap on interface $1 (brought up), EAL prefix named $2.
tap_primary() {
	local ifname=$1
	if ip link show "$ifname" >/dev/null 2>&1; then
		fail "interface $ifname exists already (a previous run?)"
		return 1
	fi
	[[ -c /dev/net/tun ]] || fail "skipped: no /dev/net/tun" || return 1
	new_prefix "$2"
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" \
		"--vdev=net_tap0,iface=$ifname" -- "${tp_args[@]}" || return 1
	ip link set "$ifname" up || fail "ip link set $ifname up failed"
}

p_tap() {
	local pfx ifname=btbench0
	tap_primary "$ifname" tap || return 1
	tp_cmd gen "set fwd txonly" >/dev/null || return 1
	start_reader afpacket "$afpacket_reader" "$ifname"
	reader_wait_for '^ready' 10 || return 1
	window gen 1 || return 1
	mpps=$w_reader_mpps
	local d1
	d1=$(grep '^count ' "$reader_log" | tail -n 1 | awk '{ print $6 }')
	note="AF_PACKET reader's own count (testpmd wrote $w_tx_mpps Mpps to the tap fd; ring drops so far ${d1:-0})"
}

# The kernel's own limit for socket type $1: bench/unix_loop, a bare
# Unix-socket loop (the pump's sends, the client's receives) on the reader
# core, with no DPDK.
unix_path() {
	local type=$1 out extra=() what="one local buffer"
	if [[ ${2:-} == remote ]]; then
		extra=(-r "$gen_core")
		what="frames written on core $gen_core"
	fi
	start_reader "unix-$type" "$unix_loop" -t "$type" -s "$seconds" -w "$warmup" "${extra[@]}"
	wait "$reader_pid" || fail "unix_loop exited with status $?" || return 1
	out=$(grep '^unix_loop ' "$reader_log" | tail -n 1)
	mpps=$(awk '{ for (i = 1; i < NF; i++) if ($i == "mpps") print $(i + 1) }' <<<"$out")
	[[ -n $mpps ]] || fail "unix_loop printed no figure" || return 1
	note="bench/unix_loop -t $type ${extra[*]}: messages received (sendmmsg of 128 of $what, recvmmsg of 32, one core)"
}
p_unix_seqpacket() { unix_path seqpacket; }
p_unix_dgram() { unix_path dgram; }
p_unixr_seqpacket() { unix_path seqpacket remote; }
p_unixr_dgram() { unix_path dgram remote; }

# The socket endpoint (reader=socket) of type $1 with examples/socket_client
# as the client on the reader core; $2: rx (testpmd txonly -> client) or tx
# (client -> testpmd rxonly).
socket_path() {
	local type=$1 dir=$2 pfx sock
	new_prefix "sock-$dir-$type"
	sock="$work/sock-$dir-$type"
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so_build" \
		"--vdev=net_bsdtap0,reader=socket,path=$sock,socket_type=$type" -- "${tp_args[@]}" || return 1
	if [[ $dir == rx ]]; then
		tp_cmd gen "set fwd txonly" >/dev/null || return 1
	else
		tp_cmd gen "set fwd rxonly" >/dev/null || return 1
	fi
	local d
	d=$(awk -v w="$warmup" -v s="$seconds" 'BEGIN { print w + s + 5 }')
	start_reader "client-$type" "$socket_client" "$sock" -t "$type" -m "$dir" -d "$d"
	# The link comes up when the client connects.
	tp_wait_link gen 0 30 || return 1
	window gen 0 || return 1
	if [[ $dir == rx ]]; then
		mpps=$w_sock_tx_mpps
		note="xstat socket_tx_frames (frames put into the client's socket); port opackets $w_tx_mpps Mpps, devq-full drops $w_txerr_mpps Mpps"
	else
		mpps=$w_rx_mpps
		note="port ipackets (inq-full drops $w_inq_drops_mpps Mpps)"
	fi
}

p_sock_seqpacket() { socket_path seqpacket rx; }
p_sock_dgram() { socket_path dgram rx; }
p_sock_stream() { socket_path stream rx; }
p_rsock_seqpacket() { socket_path seqpacket tx; }
p_rsock_dgram() { socket_path dgram tx; }
p_rsock_stream() { socket_path stream tx; }

# ------------------------------------------------------------ reverse paths

p_rev_null() {
	local pfx
	new_prefix rnull
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" --vdev=net_null0 \
		-- "${tp_args[@]}" || return 1
	tp_cmd gen "set fwd rxonly" >/dev/null || return 1
	window gen 0 || return 1
	mpps=$w_rx_mpps
	note="port ipackets (net_null allocates on rx)"
}

# A pcap file with one 64-byte frame, for bsdtap-reader replay --loop.
write_pcap() {
	{
		printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00'
		printf '\x00\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x40\x00\x00\x00'
		printf '\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\xbe\x01\x08\x00'
		head -c 50 /dev/zero
	} >"$1"
}

# Secondary writer, testpmd rxonly: $1 "write" (copying) or "send" (zero copy).
# (bsdtap-reader has a copying writer, replay, but no zero-copy one.)
secondary_writer() {
	local real_ok=0
	[[ $1 == write ]] && real_ok=1
	with_secondary_reader secondary_writer_with "$1" "$real_ok"
}

secondary_writer_with() {
	local mode=$1 try=$2 pfx so cmd
	needs_huge || return 1
	new_prefix "rev-$mode"
	if [[ $try == real ]]; then
		so=$(linked_so "$real_reader")
		[[ -n $so ]] || so=$so_build
		write_pcap "$work/frame64.pcap"
		mapfile -t cmd < <(real_reader_cmd "$pfx" "$preload_testpmd$so" replay --in "$work/frame64.pcap" --loop)
		reader_used="bsdtap-reader replay"
	else
		so=$(linked_so "$zc_reader")
		mapfile -t cmd < <(stand_in_cmd "$pfx" "$preload_testpmd$so" "--$mode")
		reader_used="stand-in zc_reader --$mode"
	fi
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so" \
		--vdev=net_bsdtap0 -- "${tp_args[@]}" || return 1
	tp_cmd gen "set fwd rxonly" >/dev/null || return 1
	start_reader "rev-$mode-$try" "${cmd[@]}"
	tp_wait_link gen 0 30 || return 1
	if [[ $try == real ]]; then
		window gen 0 || return 1
		note="$reader_used; port ipackets (inq-full drops $w_inq_drops_mpps Mpps)"
	else
		reader_wait_for '^ready' 10 || return 1
		window gen 1 || return 1
		note="$reader_used; port ipackets (the writer wrote $w_reader_mpps Mpps; inq-full drops $w_inq_drops_mpps Mpps)"
	fi
	mpps=$w_rx_mpps
}

p_rev_write() { secondary_writer write; }
p_rev_send() { secondary_writer send; }

# net_tap <- kernel <- AF_PACKET writer on the reader core, testpmd rxonly.
p_rev_tap() {
	local pfx ifname=btbench1
	tap_primary "$ifname" rtap || return 1
	tp_cmd gen "set fwd rxonly" >/dev/null || return 1
	start_reader afpacket-writer "$afpacket_reader" "$ifname" --write
	reader_wait_for '^ready' 10 || return 1
	window gen 1 || return 1
	mpps=$w_rx_mpps
	note="port ipackets (the AF_PACKET writer handed the kernel $w_reader_mpps Mpps)"
}

# ------------------------------------------------------------ latency

declare -A rtt_res # "<key> busy|sleeping" -> "p50 p99 p999 max wakeups lost"
rtt_keys=()

rtt_parse() { # <key> <log>
	local line s
	for s in busy sleeping; do
		line=$(grep "^rtt $s " "$2" | tail -n 1)
		[[ -n $line ]] || continue
		rtt_res["$1 $s"]=$(awk '{ for (i = 3; i < NF; i += 2) v[$i] = $(i + 1)
			printf "%.2f %.2f %.2f %.2f %s %s", v["p50_ns"] / 1000, v["p99_ns"] / 1000,
				v["p999_ns"] / 1000, v["max_ns"] / 1000, v["wakeups_per_probe"], v["lost"] }' <<<"$line")
	done
}

rtt_run() { # <key> <label> <builtin|secondary>
	local key=$1 label=$2 kind=$3 pfx rlog pid i limit
	rtt_keys+=("$key")
	res_label[$key]=$label
	if ! selected "$key"; then
		res_status[$key]="not run"
		return 0
	fi
	log "--- round trip: $label"
	new_prefix "rtt-$kind"
	cur_path=$key
	rlog="$work/rtt-$kind.log"
	local vdev=net_bsdtap0,reader=echo
	[[ $kind == secondary ]] && vdev=net_bsdtap0
	if [[ $kind == secondary && $use_huge -ne 1 ]]; then
		res_status[$key]="skipped: no free hugepages"
		log "$label: skipped (no free hugepages)"
		return 0
	fi
	# The driver: the build the secondary reader loads.
	local so=$so_build use_real=0
	if [[ $kind == secondary ]]; then
		if [[ -n $real_reader ]]; then
			use_real=1
			so=$(linked_so "$real_reader")
			[[ -n $so ]] || so=$so_build
		else
			so=$(linked_so "$zc_reader")
		fi
	fi
	# rtt's lcore on the generator core; the built-in reader (a control
	# thread) lands on the other core of the two it may use.
	local args=(-l "$gen_core" --no-pci "${MEM[@]}" --file-prefix "$pfx" --log-level=error -d "$so"
		"--vdev=$vdev" -- --probes "$probes" --idle-probes "$idle_probes")
	echo "# taskset -c $cores $rtt ${args[*]}" >"$rlog"
	taskset -c "$cores" "$rtt" "${args[@]}" >>"$rlog" 2>&1 &
	pid=$!
	pids+=("$pid")
	if [[ $kind == secondary ]]; then
		# The primary's port exists once it prints "started".
		for ((i = 0; i < 1500; i++)); do
			grep -q '^started' "$rlog" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
		local cmd
		if [[ $use_real -eq 1 ]]; then
			mapfile -t cmd < <(real_reader_cmd "$pfx" "$preload_rtt$so" echo)
			reader_used="bsdtap-reader echo"
		else
			mapfile -t cmd < <(stand_in_cmd "$pfx" "$preload_rtt$so" --echo)
			reader_used="stand-in zc_reader --echo"
		fi
		start_reader rtt-echo "${cmd[@]}"
		res_label[$key]="$label ($reader_used)"
	fi
	# Busy probes take well under a second; sleeping ones a gap each.
	limit=$((60 + idle_probes * 3 / 1000))
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		res_status[$key]="failed: rtt did not finish within $limit s"
	elif ! grep -q '^rtt busy' "$rlog"; then
		res_status[$key]="failed: $(tail -n 3 "$rlog" | tr '\n' ' ')"
	else
		res_status[$key]=ok
		rtt_parse "$key" "$rlog"
	fi
	log "$label: ${res_status[$key]}"
	reader_pid=""
	path_cleanup
}

# ------------------------------------------------------------ idle CPU

declare -A idle_res

# CPU nanoseconds of every thread of <pid> (or of thread <tid> if given),
# and utime+stime clock ticks: "ns ticks".
cpu_of() {
	local pid=$1 tid=${2:-} ns=0 ticks=0 t v
	local tasks=(/proc/"$pid"/task/*)
	[[ -n $tid ]] && tasks=(/proc/"$pid"/task/"$tid")
	for t in "${tasks[@]}"; do
		read -r v _ <"$t/schedstat" 2>/dev/null && ns=$((ns + v))
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat" 2>/dev/null)
		ticks=$((ticks + ${v:-0}))
	done
	echo "$ns $ticks"
}

thread_id() { # <pid> <comm>
	local t
	for t in /proc/"$1"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == "$2" ]] && {
			echo "${t##*/}"
			return 0
		}
	done
	return 1
}

idle_measure() { # <key> <label> <pid> [tid]
	local a b
	sleep 1
	[[ -d /proc/$3/task/${4:-} ]] || fail "process $3 ${4:-} is gone" || return 1
	a=$(cpu_of "$3" "${4:-}")
	sleep "$seconds"
	[[ -d /proc/$3/task/${4:-} ]] || fail "process $3 ${4:-} is gone" || return 1
	b=$(cpu_of "$3" "${4:-}")
	read -r n0 k0 <<<"$a"
	read -r n1 k1 <<<"$b"
	idle_res[$1]=$(awk -v n=$((n1 - n0)) -v k=$((k1 - k0)) -v s="$seconds" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.3f %.4f %d %.0f", n / 1e6, n / 1e9 / s * 100, k, k / hz * 1000 }')
}

p_idle_secondary() {
	needs_huge || return 1
	local pfx so cmd
	new_prefix idle
	if [[ -n $real_reader ]]; then
		so=$(linked_so "$real_reader")
		[[ -n $so ]] || so=$so_build
		mapfile -t cmd < <(real_reader_cmd "$pfx" "$preload_testpmd$so" sink --quiet)
		reader_used="bsdtap-reader sink --quiet"
	else
		so=$(linked_so "$zc_reader")
		mapfile -t cmd < <(stand_in_cmd "$pfx" "$preload_testpmd$so")
		reader_used="stand-in zc_reader"
	fi
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so" \
		--vdev=net_bsdtap0 -- "${tp_args[@]}" || return 1
	start_reader idle-reader "${cmd[@]}"
	tp_wait_link gen 0 30 || return 1
	idle_measure idle_sec "" "$reader_pid" || return 1
	note="$reader_used, whole process"
	mpps=-
}

p_idle_builtin() {
	local pfx tid
	new_prefix idleb
	tp_start gen -l "$cores" --no-pci "${MEM[@]}" --file-prefix "$pfx" -d "$so_build" \
		--vdev=net_bsdtap0,reader=sink -- "${tp_args[@]}" || return 1
	tid=$(thread_id "${tp_pid[gen]}" btap-tap0) || fail "no btap-tap0 thread in testpmd" || return 1
	idle_measure idle_builtin "" "${tp_pid[gen]}" "$tid" || return 1
	note="the btap-tap0 thread"
	mpps=-
}

# ------------------------------------------------------------ the run

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
dpdk_version=$(pkg-config --modversion libdpdk 2>/dev/null || dpkg-query -W -f '${Version}' dpdk 2>/dev/null)
log "build: $build"
log "reader: ${real_reader:-stand-in $zc_reader}"
log "memory: $([[ $use_huge -eq 1 ]] && echo "hugepages, -m $mem_mb per primary" || echo "--no-huge (no free hugepages: multi-process paths skipped)")"

# Forward.
run_path null p_null "net_null (generator limit)"
fwd_keys+=(null)
run_path sink p_sink "net_bsdtap, in-process sink (reader=sink)"
fwd_keys+=(sink)
run_path sec_zc p_sec_zc "net_bsdtap, secondary zero-copy sink"
fwd_keys+=(sec_zc)
run_path sec_copy p_sec_copy "net_bsdtap, secondary copying sink"
fwd_keys+=(sec_copy)
run_path memif p_memif "net_memif (copy) -> testpmd rxonly"
fwd_keys+=(memif)
run_path tap p_tap "net_tap -> kernel -> AF_PACKET"
fwd_keys+=(tap)
for t in seqpacket dgram stream; do
	run_path "sock_$t" "p_sock_$t" "net_bsdtap reader=socket $t -> C client"
	fwd_keys+=("sock_$t")
done
# Reverse.
run_path rnull p_rev_null "net_null rx (generator limit)"
rev_keys+=(rnull)
run_path rwrite p_rev_write "net_bsdtap <- secondary write()"
rev_keys+=(rwrite)
run_path rsend p_rev_send "net_bsdtap <- secondary send_burst"
rev_keys+=(rsend)
run_path rtap p_rev_tap "net_tap <- kernel <- AF_PACKET writer"
rev_keys+=(rtap)
for t in seqpacket dgram stream; do
	run_path "rsock_$t" "p_rsock_$t" "net_bsdtap reader=socket $t <- C client"
	rev_keys+=("rsock_$t")
done
# The kernel's own limit for the message socket types.
for t in seqpacket dgram; do
	run_path "unix_$t" "p_unix_$t" "bare Unix-socket loop, $t"
	unix_keys+=("unix_$t")
	run_path "unixr_$t" "p_unixr_$t" "bare loop, $t, frames from core $gen_core"
	unix_keys+=("unixr_$t")
done
# Latency.
rtt_run rtt_builtin "built-in echo (reader=echo)" builtin
rtt_run rtt_secondary "secondary echo" secondary
# Idle CPU.
run_path idle_sec p_idle_secondary "idle blocking secondary sink" 1
run_path idle_builtin p_idle_builtin "idle built-in sink thread" 1

# TCP through the kernel (bench/iperf3.sh), only when asked for.
iperf3_out=""
iperf3_status=0
if [[ $only == *",iperf3,"* ]]; then
	log "--- iperf3 group (bench/iperf3.sh)"
	iperf3_args=(--build-dir "$build")
	[[ $smoke -eq 1 ]] && iperf3_args+=(--smoke)
	[[ $seconds_set -eq 1 && $smoke -eq 0 ]] && iperf3_args+=(--seconds "$seconds")
	[[ -n $repeat_user ]] && iperf3_args+=(--repeat "$repeat_user")
	[[ -n $real_reader ]] && iperf3_args+=(--reader "$real_reader")
	[[ -n $keep_logs ]] && iperf3_args+=(--logs "$keep_logs")
	iperf3_out=$("$root/bench/iperf3.sh" "${iperf3_args[@]}")
	iperf3_status=$?
	[[ $iperf3_status -eq 77 ]] && iperf3_status=0
	if [[ $only == ",iperf3," ]]; then
		printf '%s\n' "$iperf3_out"
		exit "$iperf3_status"
	fi
fi

# ------------------------------------------------------------ report

ok_mpps() { [[ ${res_status[$1]:-} == ok ]] && echo "${res_mpps[$1]}"; }
ratio() { # <key> <reference key>
	local a b
	a=$(ok_mpps "$1")
	b=$(ok_mpps "$2")
	if [[ -n $a && -n $b ]]; then
		awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
	else
		echo "-"
	fi
}

echo
echo "bsdtap side-by-side benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc --all) cores, $model; $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); DPDK $dpdk_version"
echo "run: bench/compare.sh$([[ $smoke -eq 1 ]] && echo " --smoke") ($seconds s per path after ${warmup} s warm-up, median of $repeat starts; 64-byte frames; testpmd forwarding on core $gen_core, readers on core $reader_core; $([[ $use_huge -eq 1 ]] && echo hugepages || echo --no-huge))"
echo "load average before the run: $load_before"
echo "Mpps: the median of $repeat starts of the path, each with its own processes (ratios are of"
echo "  medians); worst: the slowest start (see doc/performance.md for what makes a start slow)"
echo
printf '%-46s %8s %8s %8s %8s %8s\n' "testpmd txonly -> reader" Mpps worst "x null" "x memif" "x tap"
for k in "${fwd_keys[@]}"; do
	if [[ ${res_status[$k]} == ok ]]; then
		printf '%-46s %8s %8s %8s %8s %8s\n' "${res_label[$k]}" "${res_mpps[$k]}" "${res_worst[$k]}" \
			"$(ratio "$k" null)" "$(ratio "$k" memif)" "$(ratio "$k" tap)"
	else
		printf '%-46s %8s  (%s: %s)\n' "${res_label[$k]}" "-" "${res_status[$k]}" "${res_note[$k]}"
	fi
done
echo
printf '%-46s %8s %8s %8s %8s\n' "reader -> testpmd rxonly" Mpps worst "x null" "x rtap"
for k in "${rev_keys[@]}"; do
	if [[ ${res_status[$k]} == ok ]]; then
		printf '%-46s %8s %8s %8s %8s\n' "${res_label[$k]}" "${res_mpps[$k]}" "${res_worst[$k]}" \
			"$(ratio "$k" rnull)" "$(ratio "$k" rtap)"
	else
		printf '%-46s %8s  (%s: %s)\n' "${res_label[$k]}" "-" "${res_status[$k]}" "${res_note[$k]}"
	fi
done
echo
printf '%-46s %8s %8s  %s\n' "kernel's own limit (no DPDK)" Mpps worst "the socket paths of its type, x it"
for k in "${unix_keys[@]}"; do
	t=${k#unix_}
	t=${t#unixr_}
	if [[ ${res_status[$k]} == ok && $k == unixr_* ]]; then
		# Frames from the other core: the yardstick of the path to the client.
		printf '%-46s %8s %8s  to the client %s\n' "${res_label[$k]}" "${res_mpps[$k]}" \
			"${res_worst[$k]}" "$(ratio "sock_$t" "$k")"
	elif [[ ${res_status[$k]} == ok ]]; then
		printf '%-46s %8s %8s  to the client %s, from it %s\n' "${res_label[$k]}" "${res_mpps[$k]}" \
			"${res_worst[$k]}" "$(ratio "sock_$t" "$k")" "$(ratio "rsock_$t" "$k")"
	else
		printf '%-46s %8s  (%s: %s)\n' "${res_label[$k]}" "-" "${res_status[$k]}" "${res_note[$k]}"
	fi
done
echo
printf '%-50s %-9s %7s %7s %7s %8s %8s %5s\n' "round trip, 64 B, one frame at a time (us)" reader p50 p99 p99.9 max wakeups lost
for k in "${rtt_keys[@]}"; do
	if [[ ${res_status[$k]} != ok ]]; then
		printf '%-50s  (%s)\n' "${res_label[$k]}" "${res_status[$k]}"
		continue
	fi
	for s in busy sleeping; do
		[[ -n ${rtt_res["$k $s"]:-} ]] || continue
		read -r p50 p99 p999 mx wk lost <<<"${rtt_res["$k $s"]}"
		what=awake
		[[ $s == sleeping ]] && what=asleep
		printf '%-50s %-9s %7s %7s %7s %8s %8s %5s\n' "${res_label[$k]}" "$what" "$p50" "$p99" "$p999" "$mx" "$wk" "$lost"
	done
done
echo "  (awake: probes back to back; asleep: $idle_probes probes 1 ms apart, the reader sleeps in between; wakeups: eventfd wakeups of the reader per probe)"
echo
printf '%-46s %s\n' "idle reader, no traffic, ${seconds} s" "CPU time (schedstat; utime+stime)"
for k in idle_sec idle_builtin; do
	if [[ ${res_status[$k]} == ok && -n ${idle_res[$k]:-} ]]; then
		read -r ms pct ticks tms <<<"${idle_res[$k]}"
		printf '%-46s %s ms = %s %% of a core; %s ticks (%s ms)  [%s]\n' "${res_label[$k]}" "$ms" "$pct" "$ticks" "$tms" "${res_note[$k]}"
	else
		printf '%-46s (%s)\n' "${res_label[$k]}" "${res_status[$k]}: ${res_note[$k]}"
	fi
done
echo
echo "how each figure was taken:"
for k in "${fwd_keys[@]}" "${rev_keys[@]}" "${unix_keys[@]}"; do
	[[ ${res_status[$k]} == ok ]] && printf '  %-44s %s\n' "${res_label[$k]}:" "${res_note[$k]}"
done

# The targets of the performance issue, as ratios from this run.
echo
echo "targets (performance issue):"
target() { # <description> <value or empty> <op> <bound>
	if [[ -z $2 || $2 == - ]]; then
		printf '  %-58s %s\n' "$1" "not measured"
		return
	fi
	local verdict
	verdict=$(awk -v v="$2" -v b="$4" -v op="$3" 'BEGIN {
		ok = (op == ">=") ? (v >= b) : (v < b)
		if (ok) print "met"; else printf "MISSED (%.2f of the bound)", (op == ">=") ? v / b : b / v }')
	printf '  %-58s %-8s %s\n' "$1" "$2" "$verdict"
}
echo "  (on medians of starts; the figures of that issue were bests of three)"
target "in-process zero-copy sink >= 0.9 x net_null" "$(ratio sink null)" ">=" 0.9
target "secondary zero-copy sink >= 0.9 x net_null" "$(ratio sec_zc null)" ">=" 0.9
target "copying sink >= 2 x net_memif" "$(ratio sec_copy memif)" ">=" 2
for k in sink sec_zc sec_copy; do
	target "${res_label[$k]} >= 20 x net_tap" "$(ratio "$k" tap)" ">=" 20
done
for k in rwrite rsend; do
	target "${res_label[$k]} >= 20 x net_tap reverse" "$(ratio "$k" rtap)" ">=" 20
done
echo
echo "targets (two-core issue, on medians of starts):"
target "in-process zero-copy sink >= 0.85 x net_null" "$(ratio sink null)" ">=" 0.85
target "secondary zero-copy sink >= 0.85 x net_null" "$(ratio sec_zc null)" ">=" 0.85
target "in-process zero-copy sink >= 1.5 x net_memif" "$(ratio sink memif)" ">=" 1.5
target "secondary zero-copy sink >= 1.5 x net_memif" "$(ratio sec_zc memif)" ">=" 1.5
target "copying sink >= 1.0 x net_memif" "$(ratio sec_copy memif)" ">=" 1.0
for t in seqpacket dgram; do
	target "socket $t -> client >= 0.8 x bare $t loop (frames from core $gen_core)" "$(ratio "sock_$t" "unixr_$t")" ">=" 0.8
	target "socket $t <- client >= 0.8 x bare $t loop" "$(ratio "rsock_$t" "unix_$t")" ">=" 0.8
done
echo
echo "targets (socket endpoint issue):"
for t in seqpacket dgram stream; do
	target "${res_label[sock_$t]} >= 5 x net_tap" "$(ratio "sock_$t" tap)" ">=" 5
	target "${res_label[rsock_$t]} >= 5 x net_tap reverse" "$(ratio "rsock_$t" rtap)" ">=" 5
done
busy=""
[[ -n ${rtt_res["rtt_builtin busy"]:-} ]] && busy=$(awk '{ print $1 }' <<<"${rtt_res["rtt_builtin busy"]}")
target "round trip p50, busy built-in echo reader < 2 us" "$busy" "<" 2
busy=""
[[ -n ${rtt_res["rtt_secondary busy"]:-} ]] && busy=$(awk '{ print $1 }' <<<"${rtt_res["rtt_secondary busy"]}")
target "round trip p50, busy secondary echo reader < 2 us" "$busy" "<" 2
for k in idle_sec idle_builtin; do
	v=""
	[[ -n ${idle_res[$k]:-} ]] && v=$(awk '{ print $2 }' <<<"${idle_res[$k]}")
	target "${res_label[$k]}: % of a core < 0.1" "$v" "<" 0.1
done

if [[ -n $iperf3_out ]]; then
	printf '%s\n' "$iperf3_out"
fi

status=$iperf3_status
for k in "${fwd_keys[@]}" "${rev_keys[@]}" "${unix_keys[@]}" idle_sec idle_builtin "${rtt_keys[@]}"; do
	[[ ${res_status[$k]} == failed* ]] && status=1
done
exit $status
