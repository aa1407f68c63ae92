#!/usr/bin/env bash
# Shared by the bsdtap-reader integration tests (tests/test_app_*.sh), which
# source it: stock dpdk-testpmd as the primary process, with hugepages and a
# file prefix of its own, driven through a FIFO on its standard input, and
# bsdtap-reader as the secondary. Everything is removed on exit, including
# the primary's runtime directory and hugepage files.
#
# A test script calls:  app_init "$@"   (arguments: <driver .so> <bsdtap-reader>)
# Exit status 77 is a skip (meson), with the reason printed; under
# BSDTAP_REQUIRE_HUGEPAGES=1 (CI) a skip, for any reason, is a failure.

set -euo pipefail

APP_SO=
APP_READER=
APP_PREFIX=
APP_WORK=
TP_PID=
TP_LOG=
TP_FIFO=
APP_FAILED=0
declare -a APP_CLEANUP=()
declare -a READER_PIDS=()
# tp_start's ports and extra testpmd arguments (a test may change them
# before it calls tp_start).
declare -a TP_VDEVS=(--vdev=net_bsdtap0)
declare -a TP_EXTRA=()

app_skip() {
	echo "SKIP: $*"
	if [[ ${BSDTAP_REQUIRE_HUGEPAGES:-} == 1 ]]; then
		echo "FAIL: BSDTAP_REQUIRE_HUGEPAGES=1 (CI): a skip is a failure"
		exit 1
	fi
	exit 77
}

# shellcheck disable=SC2034 # APP_FAILED: the sourcing test exits with it
app_fail() {
	echo "FAIL: $*"
	APP_FAILED=1
}

app_pass() {
	echo "ok: $*"
}

# app_check "what passed" "what failed" test args...: runs `test args...`.
app_check() {
	local ok=$1 bad=$2
	shift 2
	if test "$@"; then
		app_pass "$ok"
	else
		app_fail "$bad"
	fi
}

# Number of free 2 MiB hugepages.
app_free_hugepages() {
	awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo
}

app_init() {
	if [[ $# -ne 2 ]]; then
		echo "usage: $0 <librte_net_bsdtap.so> <bsdtap-reader>" >&2
		exit 2
	fi
	APP_SO=$1
	APP_READER=$2
	[[ $(id -u) -eq 0 ]] || app_skip "needs root (hugepages, /var/run/dpdk)"
	command -v dpdk-testpmd >/dev/null || app_skip "dpdk-testpmd is not installed"
	grep -qs '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts ||
		app_skip "no hugetlbfs on /dev/hugepages (devtools/setup.sh reserves and mounts it)"
	local free
	free=$(app_free_hugepages)
	[[ ${free:-0} -ge 96 ]] ||
		app_skip "only ${free:-0} free hugepages, 96 needed (devtools/setup.sh)"
	APP_PREFIX="bsdtap-app-$$"
	APP_WORK=$(mktemp -d)
	TP_LOG=$APP_WORK/testpmd.log
	TP_FIFO=$APP_WORK/testpmd.in
	trap app_cleanup EXIT
}

# app_wait_gone PID [N]: until PID has exited, looking every 0.1 s, N times
# at most (default 50); false if it is still running.
app_wait_gone() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# tp_stop N: asks the primary to quit (testpmd reads "quit" on its input;
# an example has no such input), gives it N tenths of a second to exit, then
# kills and reaps it.
tp_stop() {
	echo "quit" >&3 2>/dev/null || true
	app_wait_gone "$TP_PID" "$1" || true
	kill -9 "$TP_PID" 2>/dev/null || true
	wait "$TP_PID" 2>/dev/null || true
}

# app_rm_runtime: the primary's runtime directory and hugepage files.
app_rm_runtime() {
	rm -rf "/var/run/dpdk/$APP_PREFIX"
	rm -f /dev/hugepages/"$APP_PREFIX"map_*
}

app_cleanup() {
	local rc=$?
	local p
	for p in "${READER_PIDS[@]}"; do # started and not yet reaped
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${APP_CLEANUP[@]}"; do
		eval "$p" || true
	done
	if [[ -n $TP_PID ]] && kill -0 "$TP_PID" 2>/dev/null; then
		tp_stop 50
	fi
	exec 3>&- 2>/dev/null || true
	[[ -z $APP_PREFIX ]] || app_rm_runtime
	if [[ $rc -ne 0 && $rc -ne 77 && -n $TP_LOG && -f $TP_LOG ]]; then
		echo "---- testpmd output (last 60 lines) ----"
		tail -n 60 "$TP_LOG"
	fi
	[[ -n $APP_WORK ]] && rm -rf "$APP_WORK"
	exit "$rc"
}

# Number of testpmd prompts printed so far: one per command completed.
# testpmd writes its prompt a character per write(), so a forwarding
# lcore's verbose lines (each one whole write) can land inside it: those are
# taken out before counting.
tp_prompts() {
	[[ -f $TP_LOG ]] || {
		echo 0
		return
	}
	perl -0777 -ne 's/port \d+\/queue \d+: (?:received|sent) \d+ packets\n//g;
		s/  (?:src=|ol_flags:)[^\n]*\n//g; my $n = () = /testpmd> /g; print "$n\n"' "$TP_LOG"
}

# tp_start: the primary, interactive, the ports of TP_VDEVS (one port
# net_bsdtap0 unless the test set others), forwarding on lcore 1; waits for
# its prompt.
tp_start() {
	rm -f "$TP_FIFO"
	mkfifo "$TP_FIFO"
	# Line-buffered: the command output must reach the log before the next
	# prompt, which testpmd writes unbuffered.
	stdbuf -oL -eL dpdk-testpmd -d "$APP_SO" -l 0-1 --no-pci -m 128 --file-prefix "$APP_PREFIX" \
		"${TP_VDEVS[@]}" \
		--log-level=pmd.net.bsdtap:notice \
		-- -i --total-num-mbufs=16384 --disable-link-check "${TP_EXTRA[@]}" \
		<"$TP_FIFO" >"$TP_LOG" 2>&1 &
	TP_PID=$!
	exec 3>"$TP_FIFO"
	tp_wait_prompts 1 60 || {
		echo "testpmd did not start"
		exit 1
	}
}

# tp_quit: ends the primary (its readers must be gone), so that tp_start
# can start another with the same file prefix.
tp_quit() {
	[[ -n $TP_PID ]] || return 0
	tp_stop 100
	TP_PID=
	exec 3>&- 2>/dev/null || true
	app_rm_runtime
}

# tp_forward MODE: testpmd forwarding in MODE (set fwd MODE, start).
tp_forward() {
	tp_cmd "set fwd $1" >/dev/null
	tp_cmd "start" >/dev/null
}

# tp_wait_prompts N [timeout s]: until N prompts were printed.
tp_wait_prompts() {
	local want=$1 t=${2:-30} i
	for ((i = 0; i < t * 10; i++)); do
		[[ $(tp_prompts) -ge $want ]] && return 0
		kill -0 "$TP_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# tp_backtrace: where testpmd's threads are (when it hangs), if gdb is there.
tp_backtrace() {
	command -v gdb >/dev/null || return 0
	kill -0 "$TP_PID" 2>/dev/null || return 0
	echo "---- testpmd's threads ----"
	gdb -p "$TP_PID" -batch -ex "thread apply all bt 4" 2>/dev/null | grep -E '^Thread|^#[0-3] ' || true
}

# tp_cmd "command": runs one testpmd command, prints its output.
tp_cmd() {
	local n size
	n=$(tp_prompts)
	size=$(stat -c %s "$TP_LOG")
	echo "$1" >&3
	tp_wait_prompts $((n + 1)) 30 || {
		echo "FAIL: testpmd did not finish '$1' within 30 s" >&2
		tp_backtrace >&2
		return 1
	}
	tail -c +$((size + 1)) "$TP_LOG"
}

# tp_stat "<output of show port stats>" NAME: the number after "NAME:".
tp_stat() {
	grep -aoE "$2: *[0-9]+" <<<"$1" | head -1 | grep -oE '[0-9]+$' || echo 0
}

# tp_xstat "<output of show port xstats>" NAME
tp_xstat() {
	grep -aE "^ *$2: *[0-9]+" <<<"$1" | head -1 | grep -oE '[0-9]+$' || echo 0
}

# reader_start NAME [reader args...]: bsdtap-reader in the background as a
# secondary of the testpmd; output in $APP_WORK/NAME.log, pid in READER_PID.
# Waits for its "open" line.
reader_start() {
	local name=$1
	shift
	: >"$APP_WORK/$name.log"
	"$APP_READER" --file-prefix "$APP_PREFIX" -- "$@" >"$APP_WORK/$name.log" 2>&1 &
	READER_PID=$!
	READER_PIDS+=("$READER_PID")
	local i
	for ((i = 0; i < 300; i++)); do
		if grep -q ' open (port ' "$APP_WORK/$name.log"; then
			return 0
		fi
		kill -0 "$READER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bsdtap-reader did not open the unit:"
	cat "$APP_WORK/$name.log"
	return 1
}

# reader_reap: waits for the last reader started; its status.
reader_reap() {
	local rc=0 p
	wait "$READER_PID" || rc=$?
	local -a left=()
	for p in "${READER_PIDS[@]}"; do
		[[ $p == "$READER_PID" ]] || left+=("$p")
	done
	READER_PIDS=("${left[@]}")
	return $rc
}

# reader_wait NAME: waits for the reader, prints its output, returns its status.
reader_wait() {
	local rc=0
	reader_reap || rc=$?
	sed 's/^/    | /' "$APP_WORK/$1.log"
	return $rc
}

# reader_total NAME read|written: frames from the reader's totals.
reader_total() {
	awk -v what="$2" '$1 == what && $3 == "frames" { print $2 }' "$APP_WORK/$1.log" | tail -1
}
# reader_total_bytes NAME read|written: bytes from the reader's totals.
reader_total_bytes() {
	awk -v what="$2" '$1 == what && $3 == "frames" && $5 == "bytes" { print $4 }' \
		"$APP_WORK/$1.log" | tail -1
}

# ---- stock DPDK examples (l3fwd-power, l3fwd, l2fwd) as the primary ----

# app_examples: the directory of the lane's stock examples, built by
# devtools/examples.sh (a skip when they do not build).
app_examples() {
	local lane=${BSDTAP_DPDK_LANE:-22.11}
	# Called as $(app_examples): the skip's reason goes to stderr.
	"$(dirname "${BASH_SOURCE[0]}")/../devtools/examples.sh" "$lane" ||
		app_skip "the stock examples of DPDK $lane did not build (devtools/examples.sh $lane)" >&2
}

# app_ipv4_pcap FILE N DST [TTL]: N IPv4/UDP frames from 1.1.1.1 to DST
# (dotted), each with correct checksums and its index as IP id, a pcap file.
app_ipv4_pcap() {
	python3 - "$1" "$2" "$3" "${4:-64}" <<'PY'
import struct, sys
def csum(b):
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
dst = bytes(int(x) for x in sys.argv[3].split('.'))
ttl = int(sys.argv[4])
with open(sys.argv[1], 'wb') as out:
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(int(sys.argv[2])):
        src = bytes([1, 1, 1, 1])
        data = bytes(18)
        udp = struct.pack('!HHHH', 1024, 1024, 8 + len(data), 0) + data
        ph = src + dst + struct.pack('!BBH', 0, 17, len(udp))
        uc = csum(ph + udp) or 0xffff
        udp = udp[:6] + struct.pack('!H', uc) + udp[8:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i, 0, ttl, 17, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        f = bytes.fromhex('020000000001020000000002') + b'\x08\x00' + ip + udp
        out.write(struct.pack('<IIII', 0, i, len(f), len(f)) + f)
PY
}

# app_primary NAME COMMAND...: a stock example as the primary process, in
# the background, output in $APP_WORK/NAME.log (TP_LOG, shown on failure),
# pid in TP_PID; SIGINT at exit (the examples quit on it).
app_primary() {
	TP_LOG=$APP_WORK/$1.log
	shift
	"$@" >"$TP_LOG" 2>&1 &
	TP_PID=$!
	# shellcheck disable=SC2016 # expanded by app_cleanup's eval, at exit
	APP_CLEANUP+=('kill -INT "$TP_PID" 2>/dev/null; app_wait_gone "$TP_PID"')
}

# app_wait_log PATTERN [timeout s]: until the primary's log has PATTERN
# (an extended regexp); false if it exits first or the time runs out.
app_wait_log() {
	local t=${2:-30} i
	for ((i = 0; i < t * 10; i++)); do
		grep -qE "$1" "$TP_LOG" && return 0
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -qE "$1" "$TP_LOG"
}

# app_check_pcap FILE N TTL DST_MAC SRC_MAC: FILE (pcap) holds N IPv4/UDP
# frames with these MACs and TTL, each IP header and UDP checksum correct,
# IP ids 0..N-1 each once. Prints what it found; false if anything differs.
app_check_pcap() {
	python3 - "$@" <<'PY'
import struct, sys
path, n, ttl, dmac, smac = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def sum16(b):
    if len(b) % 2:
        b += b'\0'
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
def mac(b):
    return ':'.join('%02x' % x for x in b)
data = open(path, 'rb').read()
off, frames, bad, ids = 24, 0, [], set()
while off + 16 <= len(data):
    incl = struct.unpack_from('<I', data, off + 8)[0]
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    frames += 1
    ip = f[14:34]
    tot = struct.unpack('!H', ip[2:4])[0]
    udp = f[34:14 + tot]
    ph = ip[12:20] + struct.pack('!BBH', 0, 17, len(udp))
    why = []
    if mac(f[0:6]) != dmac: why.append('dst ' + mac(f[0:6]))
    if mac(f[6:12]) != smac: why.append('src ' + mac(f[6:12]))
    if ip[8] != ttl: why.append('ttl %d' % ip[8])
    if sum16(ip) != 0xffff: why.append('IP checksum')
    if sum16(ph + udp) != 0xffff: why.append('UDP checksum')
    ids.add(struct.unpack('!H', ip[4:6])[0])
    if why and len(bad) < 5: bad.append('frame %d: %s' % (frames, ', '.join(why)))
print('%d frames, %d distinct IP ids; %s' % (frames, len(ids), '; '.join(bad) or 'all as expected'))
sys.exit(0 if frames == n and ids == set(range(n)) and not bad else 1)
PY
}

# ---- l2fwd and l3fwd: frames from tap0 to tap1 through the example ----

# The MAC the l2fwd and l3fwd tests give port 1 (net_bsdtap1's mac=), which
# both examples write as the source of what they send there.
FWD_MAC1=02:bb:00:00:00:01
FWD_DUMP_PID=

# fwd_dump_tap1 PATTERN OK BAD: once app_primary started the example on
# net_bsdtap0 and net_bsdtap1, a dump of 512 frames on tap1 into
# $APP_WORK/out.pcap (opening tap1 brings its link up during the example's
# link check), then until the example's log has PATTERN, its forwarding
# loop: app_pass OK, or app_fail BAD and the test ends.
fwd_dump_tap1() {
	sleep 1
	reader_start dump dump --unit tap1 --out "$APP_WORK/out.pcap" --count 512 --duration 60 --quiet ||
		exit 1
	FWD_DUMP_PID=$READER_PID
	if app_wait_log "$1" 30; then
		app_pass "$2"
	else
		app_fail "$3"
		exit 1
	fi
}

# fwd_replay_check TTL OK BAD: the 512 frames of $APP_WORK/in.pcap replayed
# into tap0, then fwd_dump_tap1's dump waited for: its capture must hold
# them all with TTL, destination 02:00:00:00:00:01 (both examples' default
# for port 1) and source FWD_MAC1. OK or BAD, with what was found.
fwd_replay_check() {
	reader_start replay replay --unit tap0 --in "$APP_WORK/in.pcap" --duration 20
	reader_wait replay || app_fail "replay exited with status $?"
	READER_PID=$FWD_DUMP_PID
	reader_wait dump || app_fail "dump exited with status $? (it stops at 512 frames or after 60 s)"
	local found
	if found=$(app_check_pcap "$APP_WORK/out.pcap" 512 "$1" 02:00:00:00:00:01 "$FWD_MAC1"); then
		app_pass "$2: $found"
	else
		app_fail "$3: $found"
	fi
}
