#!/usr/bin/env bash
# Integration: DPDK's stock l3fwd (built from the lane's DPDK source by
# devtools/examples.sh), as a user would run it, on two bsdtap ports. It asks
# for the rx checksum offloads (RTE_ETH_RX_OFFLOAD_CHECKSUM), which the port
# offers; bsdtap reports no packet types, hence --parse-ptype. One lcore
# (the main one forwards): l3fwd makes a tx queue per lcore on each port,
# and the unit's reader holds queue 0.
#  1. l3fwd configures both ports (no offload refused) and reaches its loop;
#  2. `bsdtap-reader replay` (a secondary) writes 512 IPv4/UDP frames for
#     198.18.1.1 (l3fwd's LPM route to port 1) into tap0; `bsdtap-reader
#     dump` on tap1 gets all 512, routed: TTL 63, the IP checksum l3fwd
#     updated still correct, the UDP checksum untouched, l3fwd's MACs for
#     port 1.
# Usage: test_app_l3fwd.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

examples=$(app_examples)
app_ipv4_pcap "$APP_WORK/in.pcap" 512 198.18.1.1 64

echo "1. l3fwd configures two bsdtap ports and forwards"
app_primary l3fwd "$examples/dpdk-l3fwd" -d "$APP_SO" -l 1 --no-pci -m 256 \
	--file-prefix "$APP_PREFIX" --vdev=net_bsdtap0 "--vdev=net_bsdtap1,mac=$FWD_MAC1" \
	--log-level=pmd.net.bsdtap:notice \
	-- -p 0x3 --config='(0,0,1),(1,0,1)' --parse-ptype
fwd_dump_tap1 'entering main loop on lcore 1' "l3fwd started its forwarding loop on lcore 1" \
	"l3fwd did not reach its forwarding loop"
if grep -qiE "offloads.*(doesn't|does not) match|Cannot configure" "$TP_LOG"; then
	app_fail "l3fwd says an offload it asked for was refused"
else
	app_pass "l3fwd's rx checksum offloads were accepted"
fi

echo "2. 512 frames written into tap0 are routed to tap1"
fwd_replay_check 63 "tap1 got the 512 frames routed (TTL 63, checksums right, MACs of port 1)" \
	"tap1 did not get the 512 routed frames"
exit "$APP_FAILED"
