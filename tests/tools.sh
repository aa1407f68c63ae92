#!/usr/bin/env bash
# DPDK's own multi-process tools on a bsdtap port, while stock dpdk-testpmd
# (primary, hugepages) forwards on it through the echo reader:
# dpdk-proc-info --stats/--xstats, dpdk-dumpcap into a pcapng file that
# tcpdump reads, dpdk-telemetry.py /ethdev/stats and /ethdev/info.
# Usage: tools.sh <path to librte_net_bsdtap.so>
set -euo pipefail
so=$1
prefix="bsdtap-tools-$$"
work=$(mktemp -d)
fifo="$work/in"
mkfifo "$fifo"
cleanup() {
	exec 3>&- 2>/dev/null || true
	[[ -n ${tp:-} ]] && kill "$tp" 2>/dev/null && wait "$tp" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/$prefix"
	rm -f /dev/hugepages/"$prefix"map_*
}
trap cleanup EXIT
if ! grep -qE '^HugePages_Free: +[1-9]' /proc/meminfo; then
	echo "no free hugepages: DPDK's multi-process tools cannot attach (run devtools/setup.sh as root)"
	[[ -n ${BSDTAP_REQUIRE_HUGEPAGES:-} ]] && exit 1
	exit 77
fi

dpdk-testpmd -d "$so" -l 0-1 --no-pci -m 256 --file-prefix "$prefix" \
	--vdev=net_bsdtap0,reader=echo -- -i --total-num-mbufs=16384 <"$fifo" >"$work/testpmd.log" 2>&1 &
tp=$!
exec 3>"$fifo"
echo "set fwd io" >&3
echo "start tx_first" >&3
for _ in $(seq 50); do
	grep -q 'Start automatic packet forwarding\|io packet forwarding' "$work/testpmd.log" && break
	sleep 0.2
done
sleep 1

fail=0
check() { # <description> <file> <extended regexp>
	if grep -qE "$3" "$2"; then
		echo "ok: $1"
	else
		echo "FAIL: $1 (no line matching '$3' in:)"
		sed 's/^/    /' "$2" | tail -30
		fail=1
	fi
}

dpdk-proc-info -d "$so" --file-prefix "$prefix" --log-level=error -- --stats >"$work/stats" 2>&1 || true
check "proc-info --stats shows the port's counters" "$work/stats" 'RX-packets: +[1-9][0-9]*'
dpdk-proc-info -d "$so" --file-prefix "$prefix" --log-level=error -- --xstats >"$work/xstats" 2>&1 || true
check "proc-info --xstats shows the driver's xstats" "$work/xstats" 'tx_no_reader_packets'
check "proc-info --xstats shows per-queue xstats" "$work/xstats" 'rx_q0_packets: [1-9]'

# dumpcap takes no -d: the driver is preloaded so that it sees the port.
# The driver also puts dumpcap's mempool ops in testpmd's order (testpmd
# links some drivers directly, so its order differs from a plain secondary's);
# without that the primary's capture callback cannot allocate from dumpcap's
# pool and every frame is dropped.
# No forwarding lcore may be polling when dumpcap exits: DPDK 22.11's pdump
# removes its callbacks without waiting for one running (it runs on every
# burst, even an empty one), and dumpcap's exit frees the ring and pool the
# callback writes to (seen: testpmd SIGSEGV in rte_pcapng_copy, about one
# run in five under load). So: a finite burst in rxonly mode, forwarding
# stopped, then dumpcap told to finish.
echo "stop" >&3
echo "set fwd rxonly" >&3
LD_PRELOAD="$so" dpdk-dumpcap --file-prefix="$prefix" -i 0 -q \
	-w "$work/cap.pcapng" >"$work/dumpcap.log" 2>&1 &
dc=$!
for _ in $(seq 100); do
	grep -q 'Capturing on' "$work/dumpcap.log" && break
	sleep 0.1
done
echo "start tx_first 2" >&3
sleep 1
echo "stop" >&3
sleep 0.5
kill -INT "$dc" 2>/dev/null
timeout 20 tail --pid="$dc" -f /dev/null || kill -KILL "$dc" 2>/dev/null
wait "$dc" 2>/dev/null || true
tcpdump -nr "$work/cap.pcapng" >"$work/tcpdump.log" 2>&1 || true
n=$(grep -cE '^[0-9]{2}:[0-9]{2}' "$work/tcpdump.log" || true)
if [[ $n -ge 1 ]]; then
	echo "ok: dpdk-dumpcap captured $n frames that tcpdump reads"
else
	echo "FAIL: no frames captured"
	sed 's/^/    /' "$work/dumpcap.log" "$work/tcpdump.log" | tail -20
	fail=1
fi

printf '/ethdev/stats,0\n/ethdev/info,0\n/ethdev/rx_queue,0,0\n' |
	timeout 20 dpdk-telemetry.py -f "$prefix" >"$work/telemetry" 2>&1 || true
check "telemetry /ethdev/stats has non-zero ipackets" "$work/telemetry" '"ipackets": [1-9]'
check "telemetry /ethdev/info names the port" "$work/telemetry" '"name": "net_bsdtap0"'
# A reader's write chains mbufs whatever the configuration: the port says
# scattered rx, as its rx queue does (/ethdev/rx_queue from DPDK 23.03 on).
check "telemetry /ethdev/info says scattered_rx" "$work/telemetry" '"scattered_rx": 1'
if grep -qF '"/ethdev/rx_queue": {' "$work/telemetry"; then
	check "telemetry /ethdev/rx_queue agrees" "$work/telemetry" '"scattered_rx": "on"'
fi

echo "quit" >&3
exit $fail
