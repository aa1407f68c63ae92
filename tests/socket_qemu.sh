#!/usr/bin/env bash
# Integration: QEMU from Debian, with -netdev dgram and then -netdev stream
# pointing at a reader=socket endpoint of stock dpdk-testpmd. The guest is
# the NIC's own network boot ROM (iPXE, no disk, no kernel): it sends DHCP
# requests from the MAC address given to the NIC, and testpmd (macswap,
# verbose) must show frames from that address arriving; what it sends back
# must reach QEMU's socket (socket_tx_frames, no socket_tx_dropped_frames).
#
# Usage: socket_qemu.sh <path to librte_net_bsdtap.so> <work directory>
# Exits 77 (skipped) with the reason when QEMU or its boot ROM is absent.
set -euo pipefail
so=$1
work=$2

qemu=$(command -v qemu-system-x86_64 || true)
if [[ -z $qemu ]]; then
	echo "SKIP: qemu-system-x86_64 is not installed (Debian package qemu-system-x86)"
	exit 77
fi
if ! compgen -G "/usr/lib/ipxe/qemu/*virtio*.rom" >/dev/null &&
	! compgen -G "/usr/share/qemu/*virtio*.rom" >/dev/null; then
	echo "SKIP: no network boot ROM for virtio-net (Debian package ipxe-qemu)"
	exit 77
fi

if [[ ${#work} -gt 80 ]]; then
	# A socket address holds 107 bytes: a deep build tree would not fit.
	work=$(mktemp -d)
fi
rm -rf "$work"
mkdir -p "$work"
mac=52:54:00:bd:5c:01
fail=0
pids=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	exec 3>&- 2>/dev/null || true
}
trap cleanup EXIT

for type in dgram stream; do
	sock=$work/tap-$type
	out=$work/testpmd-$type.log
	fifo=$work/cmd-$type
	mkfifo "$fifo"
	stdbuf -oL dpdk-testpmd -d "$so" --no-huge -m 512 --no-pci -l 0-1 \
		--file-prefix "bsdtap-qemu-$$-$type" \
		--vdev="net_bsdtap0,reader=socket,socket_type=$type,path=$sock" \
		-- -i --total-num-mbufs=16384 --disable-link-check <"$fifo" >"$out" 2>&1 &
	tp=$!
	pids+=("$tp")
	exec 3>"$fifo"
	echo "set fwd macswap" >&3
	echo "set verbose 1" >&3
	echo "start" >&3
	for _ in $(seq 100); do
		[[ -S $sock ]] && grep -q 'TX RS bit threshold' "$out" && break
		sleep 0.1
	done
	if [[ $type == dgram ]]; then
		netdev="dgram,id=n0,local.type=unix,local.path=$work/qemu-$type,remote.type=unix,remote.path=$sock"
	else
		netdev="stream,id=n0,server=off,addr.type=unix,addr.path=$sock"
	fi
	# TCG: the ROM must run the same with or without KVM, nested or not.
	"$qemu" -machine accel=tcg -m 128 -display none -monitor none -serial none \
		-no-user-config -boot n -netdev "$netdev" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" >"$work/qemu-$type.log" 2>&1 &
	qp=$!
	pids+=("$qp")
	seen=0
	for _ in $(seq 600); do
		if grep -qi "src=$mac" "$out"; then
			seen=1
			break
		fi
		if ! kill -0 "$qp" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	kill "$qp" 2>/dev/null || true
	wait "$qp" 2>/dev/null || true
	sleep 0.5
	echo "show port xstats 0" >&3
	echo "stop" >&3
	echo "quit" >&3
	exec 3>&-
	wait "$tp" || true
	line=$(grep -i -m1 "src=$mac" "$out" || true)
	back=$(grep -oE '^socket_tx_frames: [0-9]+' "$out" | grep -oE '[0-9]+' | tail -1)
	lost=$(grep -oE '^socket_tx_dropped_frames: [0-9]+' "$out" | grep -oE '[0-9]+' | tail -1)
	if [[ $seen -eq 1 && ${back:-0} -gt 0 && ${lost:-1} -eq 0 ]]; then
		echo "ok   -netdev $type: QEMU's frames arrive in testpmd: ${line## }"
		echo "     and ${back} frame(s) went back to QEMU's socket, none dropped"
		grep -E '^socket_(rx_frames|clients_accepted):' "$out" | sed 's/^/       /'
	else
		echo "FAIL -netdev $type: frames from $mac seen: $seen;" \
			"socket_tx_frames ${back:-none}, socket_tx_dropped_frames ${lost:-none}"
		echo "---- qemu ----"
		cat "$work/qemu-$type.log"
		echo "---- testpmd ----"
		cat "$out"
		fail=1
	fi
done
[[ $fail -eq 0 ]] && rm -rf "$work"
exit $fail
