#!/usr/bin/env bash
# Integration: Debian's stock dpdk-testpmd loads the built driver with
# reader=echo, forwards in io mode with tx_first, and shows the 00:bd MAC.
# Usage: testpmd_echo.sh <path to librte_net_bsdtap.so>
set -euo pipefail
so=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "show port info 0"
	echo "set fwd io"
	echo "start tx_first"
	sleep 2
	echo "stop"
	sleep 0.5
	echo "quit"
} | timeout 60 dpdk-testpmd -d "$so" --no-huge -m 512 --no-pci -l 0-1 \
	--file-prefix "bsdtap-it-$$" --vdev=net_bsdtap0,reader=echo \
	-- -i --total-num-mbufs=16384 >"$out" 2>&1 || true

fail=0
mac=$(grep -m1 'MAC address:' "$out" || true)
echo "port MAC line: $mac"
if ! grep -qiE 'MAC address: 00:BD:' <<<"$mac"; then
	echo "FAIL: port MAC does not follow the 00:bd rule"
	fail=1
fi
# The 'stop' output ends with the accumulated forward statistics.
rx=$(grep -A3 'Accumulated forward statistics' "$out" | grep -oE 'RX-packets: [0-9]+' | grep -oE '[0-9]+' | head -1)
tx=$(grep -A3 'Accumulated forward statistics' "$out" | grep -oE 'TX-packets: [0-9]+' | grep -oE '[0-9]+' | head -1)
echo "forwarded: RX-packets ${rx:-none} TX-packets ${tx:-none}"
if [[ -z $rx || -z $tx || $rx -eq 0 || $tx -eq 0 ]]; then
	echo "FAIL: no packets forwarded"
	fail=1
fi
if [[ $fail -ne 0 ]]; then
	echo "---- testpmd output ----"
	cat "$out"
fi
exit $fail
