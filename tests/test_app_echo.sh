#!/usr/bin/env bash
# Integration: `bsdtap-reader echo`, a DPDK secondary process, writes every
# frame stock dpdk-testpmd (the primary) transmits back to it.
#  1. testpmd in io forwarding, started with tx_first: the frames circle
#     between testpmd and the reader; testpmd must receive frames.
#  2. testpmd in rxonly, verbose, `start tx_first 4` (4 bursts of 32 frames)
#     with `echo --swap-mac`: exactly 128 frames come back, with the source
#     and destination MAC addresses of testpmd's txonly frames swapped.
# Usage: test_app_echo.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

tp_start
mac=$(tp_cmd "show port info 0" | grep -m1 -oE 'MAC address: [0-9A-F:]+' | awk '{ print $3 }')
echo "port 0 MAC: $mac"

echo "1. io forwarding, echo reader for 3 s:"
reader_start io echo --unit tap0 --duration 3 --cpu 0
tp_cmd "set fwd io" >/dev/null
tp_cmd "start tx_first 8" >/dev/null
reader_wait io || app_fail "echo exited with status $?"
out=$(tp_cmd "stop")
rx=$(grep -A4 'Accumulated forward statistics' <<<"$out" | grep -oE 'RX-packets: [0-9]+' | grep -oE '[0-9]+' || echo 0)
echo "testpmd io: RX-packets ${rx:-0}"
read=$(reader_total io read)
written=$(reader_total io written)
echo "reader: read ${read:-none}, written ${written:-none}"
if [[ ${rx:-0} -gt 0 ]]; then
	app_pass "testpmd received $rx frames echoed by the reader"
else
	app_fail "testpmd received nothing back"
fi
if [[ ${read:-0} -gt 0 && ${read:-0} -eq ${written:-0} ]]; then
	app_pass "the reader wrote back every frame it read ($read)"
else
	app_fail "read ${read:-none}, written ${written:-none}"
fi

echo "2. rxonly, 4 bursts of 32 frames, echo --swap-mac:"
before=$(tp_stat "$(tp_cmd "show port stats 0")" RX-packets)
reader_start swap echo --unit tap0 --swap-mac --duration 30 --cpu 0
tp_cmd "set fwd rxonly" >/dev/null
tp_cmd "set verbose 1" >/dev/null
tp_cmd "start tx_first 4" >/dev/null
after=$before
for _ in $(seq 50); do
	after=$(tp_stat "$(tp_cmd "show port stats 0")" RX-packets)
	[[ $((after - before)) -ge 128 ]] && break
	sleep 0.1
done
sleep 0.5
after=$(tp_stat "$(tp_cmd "show port stats 0")" RX-packets)
tp_cmd "stop" >/dev/null
tp_cmd "set verbose 0" >/dev/null
kill -INT "$READER_PID"
reader_wait swap || app_fail "echo --swap-mac exited with status $?"
echo "testpmd RX-packets: $before before, $after after"
if [[ $((after - before)) -eq 128 ]]; then
	app_pass "128 frames sent, 128 received back"
else
	app_fail "$((after - before)) frames received back, 128 expected"
fi
# testpmd's txonly frames go from the port's MAC to the peer address; with
# --swap-mac they come back from the peer address to the port's MAC.
swapped=$(grep -aciE "src=[0-9A-F:]+ - dst=$mac" "$TP_LOG" || true)
unswapped=$(grep -aciE "src=$mac - dst=" "$TP_LOG" || true)
echo "received frames addressed to $mac: $swapped; from $mac: $unswapped"
if [[ $swapped -ge 128 && $unswapped -eq 0 ]]; then
	app_pass "--swap-mac swapped the addresses"
else
	app_fail "--swap-mac: $swapped frames to the port, $unswapped from it"
fi
exit "$APP_FAILED"
