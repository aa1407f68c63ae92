#!/usr/bin/env bash
# Integration: `bsdtap-reader bridge` attaches a bsdtap unit to a Linux tap
# interface it creates, so that the kernel's network stack talks to the DPDK
# application through bsdtap. The tap interface is moved into a network
# namespace with address 10.99.0.1/24; stock dpdk-testpmd (the primary) in
# icmpecho forwarding mode answers ARP requests and ICMP echo requests for
# any address, so `ping 10.99.0.2` from the namespace must get its replies.
# Usage: test_app_bridge.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"
command -v ip >/dev/null || app_skip "ip (iproute2) is not installed"
command -v ping >/dev/null || app_skip "ping (iputils-ping) is not installed"
[[ -c /dev/net/tun ]] || app_skip "no /dev/net/tun"
ns="bsdtap-app-$$"
tap="btap$$"
ip netns add "$ns" || app_skip "cannot create a network namespace"
APP_CLEANUP+=("ip netns del $ns 2>/dev/null")

tp_start
tp_cmd "set fwd icmpecho" >/dev/null
tp_cmd "start" >/dev/null

reader_start bridge bridge --unit tap0 --tap "$tap" --duration 60
ip link set "$tap" netns "$ns"
ip -n "$ns" addr add 10.99.0.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up
ip -n "$ns" link show "$tap" | sed 's/^/    /'

echo "ip netns exec $ns ping -c 3 10.99.0.2:"
rc=0
ip netns exec "$ns" ping -c 3 -W 2 -i 0.3 10.99.0.2 >"$APP_WORK/ping.log" 2>&1 || rc=$?
sed 's/^/    /' "$APP_WORK/ping.log"
if [[ $rc -eq 0 ]] && grep -q '3 received' "$APP_WORK/ping.log"; then
	app_pass "3 pings from the namespace answered by testpmd's icmpecho through bsdtap"
else
	app_fail "ping got no (or not all) replies (status $rc)"
fi
neigh=$(ip -n "$ns" neigh show 10.99.0.2 dev "$tap")
echo "ARP entry in the namespace: $neigh"
if grep -qi 'lladdr 00:bd:' <<<"$neigh"; then
	app_pass "ARP resolved 10.99.0.2 to the bsdtap port's MAC"
else
	app_fail "ARP did not resolve 10.99.0.2 to a 00:bd MAC"
fi

kill -INT "$READER_PID"
reader_wait bridge || app_fail "bridge exited with status $?"
read=$(reader_total bridge read)
written=$(reader_total bridge written)
out=$(tp_cmd "stop")
rx=$(grep -A4 'Accumulated forward statistics' <<<"$out" | grep -oE 'RX-packets: [0-9]+' | grep -oE '[0-9]+' || echo 0)
tx=$(grep -A4 'Accumulated forward statistics' <<<"$out" | grep -oE 'TX-packets: [0-9]+' | grep -oE '[0-9]+' || echo 0)
echo "bridge: ${written:-0} frames kernel -> testpmd, ${read:-0} testpmd -> kernel;" \
	"testpmd icmpecho: RX-packets $rx, TX-packets $tx"
if [[ ${read:-0} -ge 4 && ${written:-0} -ge 4 ]]; then
	app_pass "frames crossed both ways (at least 1 ARP and 3 ICMP each way)"
else
	app_fail "too few frames crossed the bridge"
fi
if ip -n "$ns" link show "$tap" >/dev/null 2>&1; then
	app_fail "tap interface $tap still exists after the reader exited"
else
	app_pass "the tap interface went away with the reader"
fi
exit "$APP_FAILED"
