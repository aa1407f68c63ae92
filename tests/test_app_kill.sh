#!/usr/bin/env bash
# Integration (C45 with the program): a `bsdtap-reader sink` killed with
# SIGKILL never closes its unit. The primary, stock dpdk-testpmd in txonly
# mode, must notice within about a second ("died without closing" in its
# log), take the link down, purge the devq, and let a new reader open the
# unit; once testpmd stops, its mbuf pool must be back at its idle level,
# except for at most one burst (32 mbufs) per killed reader, which the
# reader held in its own hands when it died.
# Round 1 kills a zero-copy reader while it reads; round 2 a --copy reader
# that has read and is idle (testpmd stopped). A reader killed inside an
# mbuf free, between the mempool ring's head and tail updates, would leave
# the ring waiting for it forever (a DPDK multi-process limit; see
# doc/bsdtap-reader.md): round 1 runs that small risk, round 2 does not.
# Usage: test_app_kill.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

# in_use: mbufs of testpmd's pool neither in the pool nor in a cache.
in_use() {
	tp_cmd "dump_mempool" | awk -F= '
		/^  size=/ { size = $2 } /total_cache_count=/ { cache = $2 }
		/common_pool_count=/ { pool = $2 } END { print size - pool - cache }'
}

tp_start
idle=$(in_use)
echo "testpmd's mbufs in use when idle: $idle"
tp_forward txonly

for round in 1 2; do
	args=(sink --unit tap0 --duration 60)
	[[ $round -eq 2 ]] && args+=(--copy)
	reader_start "victim$round" "${args[@]}"
	sleep 1
	if [[ $round -eq 1 ]]; then
		echo "round 1: ${args[*]}, killed with SIGKILL while reading"
	else
		echo "round 2: ${args[*]}, read for 1 s, killed with SIGKILL once idle"
		tp_cmd "stop" >/dev/null
		sleep 0.3
	fi
	died_before=$(grep -ac 'died without closing' "$TP_LOG" || true)
	kill -9 "$READER_PID"
	reader_reap 2>/dev/null || true
	t0=$(date +%s%N)
	released=0
	for _ in $(seq 50); do
		if [[ $(grep -ac 'died without closing' "$TP_LOG" || true) -gt $died_before ]]; then
			released=1
			break
		fi
		sleep 0.1
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -a 'died without closing' "$TP_LOG" | tail -1 | sed 's/^/    /'
	if [[ $released -eq 1 ]]; then
		app_pass "the primary released the dead reader within ${ms} ms of the kill"
	else
		app_fail "the primary did not log 'died without closing' within 5 s"
	fi
	link=$(tp_cmd "show port info 0" | grep -m1 -oE 'Link status: *[a-z]+' || true)
	echo "    $link"
	app_check "the link went down with the dead reader" "link not down after the dead reader's release" \
		"${link##* }" = down
	[[ $round -eq 2 ]] && tp_cmd "start" >/dev/null
	echo "a new reader, 2 s:"
	if reader_start "next$round" sink --unit tap0 --duration 2; then
		reader_wait "next$round" || app_fail "the new reader exited with status $?"
		n=$(reader_total "next$round" read)
		app_check "the new reader opened the unit and read $n frames" "the new reader read no frames" \
			"${n:-0}" -gt 0
	else
		app_fail "the new reader could not open the unit"
	fi
done

# Round 3, the hostile user's loop: a --copy sink killed with SIGKILL every
# 0.3-0.8 s while testpmd transmits, 20 times (the queue used to wedge for
# good after 2 to 17 kills). A kill can land anywhere: in the open, in a
# dequeue, in the hand-back, in the close. Each next reader must open at
# once and read; copying reads lose nothing even when killed inside.
echo "round 3: sink --copy killed every 0.3-0.8 s, 20 times"
tp_cmd "stop" >/dev/null
sleep 0.5
idle3=$(in_use)
tp_cmd "start" >/dev/null
wedged=0
for k in $(seq 20); do
	if ! reader_start "churn$k" sink --unit tap0 --copy --duration 60 >/dev/null; then
		wedged=1
		echo "    reader $k could not open the unit"
		break
	fi
	sleep "0.$((3 + RANDOM % 6))"
	kill -9 "$READER_PID"
	reader_reap 2>/dev/null || true
done
app_check "20 killed readers, each one opened the unit at once" "a reader could not open the unit after a kill" \
	"$wedged" -eq 0
if reader_start next3 sink --unit tap0 --copy --duration 2; then
	reader_wait next3 || app_fail "the reader after the kills exited with status $?"
	n=$(reader_total next3 read)
	app_check "the reader after the kills read $n frames" "the reader after the kills read no frames" \
		"${n:-0}" -gt 0
else
	app_fail "no reader could open the unit after the kills"
fi
tp_cmd "stop" >/dev/null
sleep 0.7
after3=$(in_use)
echo "testpmd's mbufs in use after the kills: $after3 (idle: $idle3)"
echo "    $(grep -ac 'devq repaired' "$TP_LOG" || true) of the kills landed inside a dequeue or hand-back:"
grep -a 'devq repaired' "$TP_LOG" | sed 's/^.*queue 0: /    /' | sort | uniq -c || true
app_check "no mbuf lost to 20 copying readers killed anywhere" "$((after3 - idle3)) mbufs lost" \
	"$after3" -le "$idle3"

tp_cmd "stop" >/dev/null
sleep 0.5
after=$(in_use)
echo "testpmd's mbufs in use after stop: $after (idle: $idle)"
if [[ $after -le $((idle + 64)) ]]; then
	app_pass "the mbuf pool is back at its idle level (+$((after - idle)); up to 32 per killed reader may die with it)"
else
	app_fail "$((after - idle)) mbufs leaked"
fi
exit "$APP_FAILED"
