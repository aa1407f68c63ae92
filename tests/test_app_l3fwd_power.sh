#!/usr/bin/env bash
# Integration: DPDK's stock l3fwd-power (built from the lane's DPDK source
# by devtools/examples.sh) in interrupt-only mode on two bsdtap ports, its
# forwarding lcore asleep in rte_epoll_wait between frames.
#  1. the forwarding lcore sleeps (epoll) while no frame comes;
#  2. `bsdtap-reader replay` (a secondary) writes 512 IPv4 frames for
#     2.1.1.1 into tap0; l3fwd-power wakes from the rx interrupt and routes
#     them to port 1, where `bsdtap-reader sink` reads all 512. l3fwd-power
#     transmits through a 32-frame tx buffer whose 100 us drain never runs
#     in 22.11's copy (its n_tx_port stays 0) and, in newer ones, only on a
#     loop pass after a wakeup; so the count is a multiple of 32, and one
#     more frame is written after it, which the sink may or may not see;
#  3. the rx_intr_wakeups xstat of port 0 moved (dpdk-proc-info) and the
#     lcore is asleep again.
# Usage: test_app_l3fwd_power.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

examples=$(app_examples)
l3fwd_power=$examples/dpdk-l3fwd-power

# IPv4/UDP frames to 2.1.1.1 (l3fwd-power's route to port 1), a pcap file.
app_ipv4_pcap "$APP_WORK/512.pcap" 512 2.1.1.1
app_ipv4_pcap "$APP_WORK/1.pcap" 1 2.1.1.1

app_primary l3fwd-power "$l3fwd_power" -d "$APP_SO" -l 0-1 --no-pci -m 256 --file-prefix "$APP_PREFIX" \
	--vdev=net_bsdtap0 --vdev=net_bsdtap1 --log-level=pmd.net.bsdtap:notice \
	-- -p 0x3 --config='(0,0,1),(1,0,1)' --interrupt-only --parse-ptype

# The sink opens tap1, so its link comes up during l3fwd-power's link check.
sleep 1
reader_start sink sink --unit tap1 --duration 60 --quiet || exit 1
sink_pid=$READER_PID
app_wait_log 'entering main interrupt loop on lcore 1' 30 || {
	app_fail "l3fwd-power did not reach its interrupt loop"
	exit 1
}

# lcore_state: the forwarding lcore's thread state and where it sleeps.
lcore_state() {
	local t
	for t in /proc/"$TP_PID"/task/*; do
		# rte-worker-1 up to 23.07, dpdk-worker1 from 23.11
		[[ $(<"$t/comm") =~ worker-?1$ ]] || continue
		printf '%s %s\n' "$(awk '{ print $3 }' "$t/stat")" "$(<"$t/wchan")"
		return
	done
	echo "none none"
}
# asleep: the lcore sleeps in epoll (polled for up to 5 s: it polls a while
# before it arms the interrupt).
asleep() {
	local s
	for _ in $(seq 50); do
		s=$(lcore_state)
		[[ $s == "S "*epoll* ]] && return 0
		sleep 0.1
	done
	echo "lcore 1: $s"
	return 1
}

echo "1. no frames: the forwarding lcore sleeps"
if asleep; then app_pass "l3fwd-power's lcore 1 sleeps in epoll_wait"; else app_fail "lcore 1 does not sleep in epoll"; fi

echo "2. 512 frames written into tap0 by a secondary, routed to tap1"
reader_start replay replay --unit tap0 --in "$APP_WORK/512.pcap" --duration 20
reader_wait replay || app_fail "replay exited with status $?"
sleep 0.5
reader_start flush replay --unit tap0 --in "$APP_WORK/1.pcap" --duration 20
reader_wait flush || app_fail "the flushing replay exited with status $?"
sleep 1
READER_PID=$sink_pid
kill -INT "$sink_pid"
reader_wait sink || app_fail "sink exited with status $?"
read_frames=$(reader_total sink read)
if [[ ${read_frames:-0} -ge 512 && ${read_frames:-0} -le 513 ]]; then
	app_pass "the sink on tap1 read the 512 frames l3fwd-power forwarded (and $((read_frames - 512)) of the flushing one)"
else
	app_fail "the sink on tap1 read ${read_frames:-none} frames, 512 (or 513) expected"
fi
if grep -q 'waked up from rx interrupt on port 0 queue 0' "$TP_LOG"; then
	app_pass "l3fwd-power says it was woken by the rx interrupt of port 0 queue 0"
else
	app_fail "l3fwd-power does not say it was woken by an rx interrupt"
fi

echo "3. the wakeups are counted; the lcore sleeps again"
dpdk-proc-info -d "$APP_SO" --file-prefix "$APP_PREFIX" --log-level=error -- --xstats >"$APP_WORK/xstats" 2>&1 || true
wakeups=$(awk '/NIC extended statistics for port 0/ { p = 1 } /NIC extended statistics for port 1/ { p = 0 }
	p && $1 == "rx_intr_wakeups:" { print $2 }' "$APP_WORK/xstats")
app_check "port 0 counted ${wakeups:-0} rx interrupt wakeups" \
	"port 0's rx_intr_wakeups is '${wakeups:-}' (proc-info: $(head -c 300 "$APP_WORK/xstats"))" "${wakeups:-0}" -ge 1
if asleep; then app_pass "lcore 1 sleeps again"; else app_fail "lcore 1 does not sleep after the frames"; fi
exit "$APP_FAILED"
