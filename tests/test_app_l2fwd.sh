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
	--file-prefix "$APP_PREFIX" --vdev=net_bsdtap0 "--vdev=net_bsdtap1,mac=$FWD_MAC1" \
	--log-level=pmd.net.bsdtap:notice \
	-- -p 0x3 -T 0
fwd_dump_tap1 'entering main loop on lcore' "l2fwd started its forwarding loop" \
	"l2fwd did not reach its forwarding loop"

echo "2. 512 frames written into tap0 come out of tap1"
fwd_replay_check 64 "tap1 got the 512 frames, l2fwd's MAC rewrite and nothing else" \
	"tap1 did not get the 512 forwarded frames"
exit "$APP_FAILED"
