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
		echo "quit" >&3 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$TP_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$TP_PID" 2>/dev/null || true
		wait "$TP_PID" 2>/dev/null || true
	fi
	exec 3>&- 2>/dev/null || true
	if [[ -n $APP_PREFIX ]]; then
		rm -rf "/var/run/dpdk/$APP_PREFIX"
		rm -f /dev/hugepages/"$APP_PREFIX"map_*
	fi
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

# tp_start: the primary, interactive, one port net_bsdtap0, forwarding on
# lcore 1; waits for its prompt.
tp_start() {
	mkfifo "$TP_FIFO"
	# Line-buffered: the command output must reach the log before the next
	# prompt, which testpmd writes unbuffered.
	stdbuf -oL -eL dpdk-testpmd -d "$APP_SO" -l 0-1 --no-pci -m 128 --file-prefix "$APP_PREFIX" \
		--vdev=net_bsdtap0 \
		--log-level=pmd.net.bsdtap:notice \
		-- -i --total-num-mbufs=16384 --disable-link-check \
		<"$TP_FIFO" >"$TP_LOG" 2>&1 &
	TP_PID=$!
	exec 3>"$TP_FIFO"
	tp_wait_prompts 1 60 || {
		echo "testpmd did not start"
		exit 1
	}
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
