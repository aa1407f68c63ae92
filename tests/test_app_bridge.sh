#!/usr/bin/env bash
# Integration: `bsdtap-reader bridge` attaches a bsdtap unit to a Linux tap
# interface it creates, so that the kernel's network stack talks to the DPDK
# application through bsdtap. The tap interface is moved into a network
# namespace with address 10.99.0.1/24; stock dpdk-testpmd (the primary) in
# icmpecho forwarding mode answers ARP requests and ICMP echo requests for
# any address, so `ping 10.99.0.2` from the namespace must get its replies.
# Then --vnet-hdr: TCP from one namespace to another through two bridged
# units and testpmd's io forwarding with LRO (see below).
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
tp_forward icmpecho

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

# ---- --vnet-hdr: TCP between two namespaces through two bridges
# Two units, each bridged to a tap of its own with the virtio-net header
# (tap0 with 12 bytes, tap1 with --vnet-hdr-len 10), a namespace on each
# tap, testpmd's io forwarding between the ports with LRO and rx checksum
# offload on: 16 MiB sent over TCP from one namespace arrive in the other
# unchanged, and the frames that crossed were, on average, longer than the
# MTU (64 KiB segmentation requests passed whole, both ways).
echo "--vnet-hdr: TCP through two bridges"
tp_quit
TP_VDEVS=(--vdev=net_bsdtap0 --vdev=net_bsdtap1)
TP_EXTRA=(--forward-mode=io --enable-lro --enable-rx-cksum --enable-scatter --max-lro-pkt-size=65535)
tp_start
if tp_cmd "start" | grep -q 'Not all ports were started'; then
	app_fail "testpmd could not start two bsdtap ports with LRO, rx checksum offload and scattered rx: $(grep -iE 'not allowed|fail|invalid|error' "$TP_LOG" | head -n 2 | tr '\n' ' ')"
	exit 1
fi
nsa="bsdtap-app-$$-a"
nsb="bsdtap-app-$$-b"
tapa="bvta$$"
tapb="bvtb$$"
ip netns add "$nsa" || app_skip "cannot create a network namespace"
APP_CLEANUP+=("ip netns del $nsa 2>/dev/null")
ip netns add "$nsb" || app_skip "cannot create a network namespace"
APP_CLEANUP+=("ip netns del $nsb 2>/dev/null")
reader_start vneta bridge --unit tap0 --tap "$tapa" --vnet-hdr --cpu 0 --duration 90 ||
	{ app_fail "bridge --vnet-hdr did not start"; exit 1; }
pida=$READER_PID
reader_start vnetb bridge --unit tap1 --tap "$tapb" --vnet-hdr-len 10 --cpu 0 --duration 90 ||
	{ app_fail "bridge --vnet-hdr-len 10 did not start"; exit 1; }
pidb=$READER_PID
# The tap interface exists once the bridge says so (after TAPSVNETHDR).
for l in vneta vnetb; do
	for _ in $(seq 100); do
		grep -q '^bridge: tap interface' "$APP_WORK/$l.log" && break
		sleep 0.05
	done
	if ! grep '^bridge: tap interface' "$APP_WORK/$l.log" | sed 's/^/    /'; then
		app_fail "bridge ($l) made no tap interface: $(grep '^bsdtap-reader:' "$APP_WORK/$l.log")"
		exit 1
	fi
done
for x in "$nsa $tapa 10.98.1.1" "$nsb $tapb 10.98.1.2"; do
	read -r ns ifname addr <<<"$x"
	ip link set "$ifname" netns "$ns"
	ip -n "$ns" addr add "$addr/24" dev "$ifname"
	ip -n "$ns" link set "$ifname" up
done
ip netns exec "$nsa" ping -c 1 -W 2 10.98.1.2 >/dev/null 2>&1 ||
	ip netns exec "$nsa" ping -c 1 -W 2 10.98.1.2 >/dev/null 2>&1 ||
	app_fail "no ping from one namespace to the other through the bridges"

head -c 16777216 /dev/urandom >"$APP_WORK/data"
want=$(sha256sum <"$APP_WORK/data" | cut -d' ' -f1)
ip netns exec "$nsb" timeout 60 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.98.1.2", 5001))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
with open(sys.argv[1], "wb") as out:
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        out.write(b)
' "$APP_WORK/received" >"$APP_WORK/server.log" 2>&1 &
srv=$!
for _ in $(seq 100); do
	grep -q listening "$APP_WORK/server.log" && break
	sleep 0.05
done
rc=0
ip netns exec "$nsa" timeout 60 python3 -c '
import socket, sys
c = socket.create_connection(("10.98.1.2", 5001), timeout=30)
c.sendall(open(sys.argv[1], "rb").read())
c.close()
' "$APP_WORK/data" || rc=$?
wait "$srv" || rc=$?
got=$(sha256sum <"$APP_WORK/received" 2>/dev/null | cut -d' ' -f1)
echo "    sent 16 MiB (status $rc), received $(stat -c %s "$APP_WORK/received" 2>/dev/null || echo 0) bytes"
app_check "16 MiB over TCP arrived unchanged through two --vnet-hdr bridges" \
	"the TCP transfer failed or the data differ (status $rc)" "$rc" -eq 0 -a "$got" == "$want"

kill -INT "$pida" "$pidb"
READER_PID=$pidb
reader_wait vnetb || app_fail "bridge --vnet-hdr-len 10 exited with status $?"
READER_PID=$pida
reader_wait vneta || app_fail "bridge --vnet-hdr exited with status $?"
# Kernel to application on the sender's side, application to kernel on the
# receiver's: average frame bytes (without the header).
ina=$(reader_total vneta written)
inb=$(reader_total_bytes vneta written)
outa=$(reader_total vnetb read)
outb=$(reader_total_bytes vnetb read)
avg_in=$((${inb:-0} / (${ina:-0} > 0 ? ${ina:-1} : 1)))
avg_out=$((${outb:-0} / (${outa:-0} > 0 ? ${outa:-1} : 1)))
echo "    kernel -> testpmd: ${ina:-0} frames, $avg_in bytes on average; testpmd -> kernel: ${outa:-0} frames, $avg_out bytes on average"
app_check "segmentation requests crossed whole into the application (average frame $avg_in > 1514 bytes)" \
	"the frames into the application were not longer than the MTU (average $avg_in bytes)" "$avg_in" -gt 1514
app_check "segmentation requests crossed whole out of the application (average frame $avg_out > 1514 bytes)" \
	"the frames out of the application were not longer than the MTU (average $avg_out bytes)" "$avg_out" -gt 1514
exit "$APP_FAILED"
