#!/usr/bin/env bash
# Integration: stock dpdk-testpmd attaches a bsdtap port at run time,
# forwards on it, and detaches it again.
# Usage: testpmd_hotplug.sh <path to librte_net_bsdtap.so>
set -euo pipefail
so=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	sleep 1
	echo "port attach net_bsdtap1,reader=echo"
	sleep 1
	echo "port start 1"
	sleep 1
	echo "show port stats 1"
	echo "port stop 1"
	echo "port detach 1"
	sleep 1
	echo "show port summary all"
	echo "quit"
} | timeout 60 dpdk-testpmd -d "$so" --no-huge -m 512 --no-pci -l 0-1 \
	--file-prefix "bsdtap-hp-$$" --vdev=net_bsdtap0,reader=echo \
	-- -i --total-num-mbufs=16384 >"$out" 2>&1 || true

fail=0
expect() {
	if grep -qE "$1" "$out"; then
		echo "ok: $2"
	else
		echo "FAIL: $2 (no line matching '$1')"
		fail=1
	fi
}
expect 'Port 1 is attached' "port attach net_bsdtap1,reader=echo"
expect 'Port 1: 00:BD:[0-9A-F:]+:01' "attached port has the 00:bd MAC of unit 1"
expect 'Port 1: link state change event' "link up event when the started port has its echo reader"
expect 'Device .*is detached|Port 1 is detached|Now total ports is 1' "port detach"
if grep -qE 'Port MAC Address' "$out" && grep -A3 'Port MAC Address' "$out" | grep -q 'net_bsdtap1'; then
	echo "FAIL: net_bsdtap1 still listed after detach"
	fail=1
fi
if [[ $fail -ne 0 ]]; then
	echo "---- testpmd output ----"
	cat "$out"
fi
exit $fail
