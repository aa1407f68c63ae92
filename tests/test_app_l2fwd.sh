#!/usr/bin/env bash
# Integration: DPDK's stock l2fwd (built from the lane's DPDK source by
# devtools/examples.sh) on two bsdtap ports, which it pairs: what port 0
# receives it sends on port 1, with its MAC rewrite (destination
# 02:00:00:00:00:01, source the MAC of port 1).
#  1. l2fwd configures both ports and reaches its loop;
#  2. `bsdtap-reader replay` (a secondary) writes 512 IPv4/UDP frames into
#     tap0; `bsdtap-reader dump` on tap1 gets all 512, rewritten as above,
#     the rest of each frame as written (TTL 64, both checksums right).
# Usage: test_app_l2fwd.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

examples=$(app_examples)
app_ipv4_pcap "$APP_WORK/in.pcap" 512 198.18.1.1 64

echo "1. l2fwd configures two bsdtap ports and forwards"
# -T 0: no statistics screen.
app_primary l2fwd "$examples/dpdk-l2fwd" -d "$APP_SO" -l 0-1 --no-pci -m 256 \
	--file-prefix "$APP_PREFIX" --vdev=net_bsdtap0 --vdev=net_bsdtap1,mac=02:bb:00:00:00:01 \
	--log-level=pmd.net.bsdtap:notice \
	-- -p 0x3 -T 0
# The dump opens tap1, so its link comes up during l2fwd's link check.
sleep 1
reader_start dump dump --unit tap1 --out "$APP_WORK/out.pcap" --count 512 --duration 60 --quiet ||
	exit 1
dump_pid=$READER_PID
if app_wait_log 'entering main loop on lcore' 30; then
	app_pass "l2fwd started its forwarding loop"
else
	app_fail "l2fwd did not reach its forwarding loop"
	exit 1
fi

echo "2. 512 frames written into tap0 come out of tap1"
reader_start replay replay --unit tap0 --in "$APP_WORK/in.pcap" --duration 20
reader_wait replay || app_fail "replay exited with status $?"
READER_PID=$dump_pid
reader_wait dump || app_fail "dump exited with status $? (it stops at 512 frames or after 60 s)"
if found=$(app_check_pcap "$APP_WORK/out.pcap" 512 64 02:00:00:00:00:01 02:bb:00:00:00:01); then
	app_pass "tap1 got the 512 frames, l2fwd's MAC rewrite and nothing else: $found"
else
	app_fail "tap1 did not get the 512 forwarded frames: $found"
fi
exit "$APP_FAILED"
