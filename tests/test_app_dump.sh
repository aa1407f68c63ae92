#!/usr/bin/env bash
# Integration: `bsdtap-reader dump`, a DPDK secondary process, writes the
# frames stock dpdk-testpmd (the primary) transmits in txonly mode to a
# capture file: pcap (written with libpcap) and pcapng (written by the
# reader). tcpdump and tshark must read each, with the count the reader
# reports, and see testpmd's UDP frames.
# Usage: test_app_dump.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"
command -v tcpdump >/dev/null || app_skip "tcpdump is not installed"
command -v tshark >/dev/null || app_skip "tshark is not installed"

tp_start
tp_cmd "set fwd txonly" >/dev/null
tp_cmd "start" >/dev/null

for f in frames.pcap frames.pcapng; do
	echo "dump --count 1000 --out $f:"
	reader_start "$f" dump --unit tap0 --out "$APP_WORK/$f" --count 1000 --duration 20
	reader_wait "$f" || app_fail "dump to $f exited with status $?"
	n=$(reader_total "$f" read)
	app_check "the reader dumped 1000 frames" "the reader dumped ${n:-none} frames, 1000 asked for" \
		"${n:-0}" -eq 1000
	if command -v file >/dev/null; then file "$APP_WORK/$f" | sed "s|$APP_WORK/||"; fi
	td=$(tcpdump -nn -r "$APP_WORK/$f" 2>/dev/null | wc -l)
	udp=$(tcpdump -nn -r "$APP_WORK/$f" udp 2>/dev/null | wc -l)
	echo "tcpdump -r $f: $td packets, $udp UDP; the first:"
	tcpdump -nn -e -r "$APP_WORK/$f" -c 1 2>/dev/null | sed 's/^/    /'
	app_check "tcpdump reads 1000 UDP frames from $f" "tcpdump read $td packets ($udp UDP) from $f" \
		"$td" -eq 1000 -a "$udp" -eq 1000
	ts=$(tshark -r "$APP_WORK/$f" 2>/dev/null | wc -l)
	echo "tshark -r $f: $ts packets"
	app_check "tshark reads 1000 frames from $f" "tshark read $ts packets from $f" \
		"$ts" -eq 1000
done
ifname=$(tshark -r "$APP_WORK/frames.pcapng" -T fields -e frame.interface_name -c 1 2>/dev/null || true)
app_check "the pcapng interface is named tap0" "pcapng interface name: '$ifname', tap0 expected" \
	"$ifname" = tap0
capinfos -t -c -E "$APP_WORK/frames.pcapng" 2>/dev/null | sed "s|$APP_WORK/||; s/^/    /" || true
tp_cmd "stop" >/dev/null
exit "$APP_FAILED"
