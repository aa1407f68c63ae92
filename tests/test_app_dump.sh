#!/usr/bin/env bash
# Integration: `bsdtap-reader dump`, a DPDK secondary process, writes the
# frames stock dpdk-testpmd (the primary) transmits in txonly mode to a
# capture file: pcap and pcapng (both written by the
# reader). tcpdump and tshark must read each, with the count the reader
# reports, and see testpmd's UDP frames. Write errors (/dev/full,
# /proc/version, a file size limit) end it with status 1 and the count of
# the frames really in the file, which stays readable.
# Usage: test_app_dump.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"
command -v tcpdump >/dev/null || app_skip "tcpdump is not installed"
command -v tshark >/dev/null || app_skip "tshark is not installed"

tp_start
tp_forward txonly

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

# Write errors: every one ends the dump with status 1 and the count of
# frames really in the file; a capture cut by a full disk (here a file size
# limit) stays readable up to that count.
# dump_to NAME OUT [SIZE_LIMIT_KB]: a 100000-frame dump into OUT; its status.
dump_to() {
	local rc=0
	(
		ulimit -f "${3:-unlimited}"
		exec "$APP_READER" --file-prefix "$APP_PREFIX" -- dump --unit tap0 --out "$2" \
			--count 100000 --duration 20
	) >"$APP_WORK/$1.log" 2>&1 || rc=$?
	sed 's/^/    | /' "$APP_WORK/$1.log"
	return $rc
}
dumped() {
	awk '$1 == "dumped" && $3 == "frames" { print $2 }' "$APP_WORK/$1.log" | tail -1
}
for out in /dev/full /proc/version; do
	echo "dump --out $out:"
	t0=$(date +%s)
	rc=0
	dump_to "err-${out##*/}" "$out" || rc=$?
	secs=$(($(date +%s) - t0))
	app_check "dump to $out fails with status 1 at once (${secs} s)" \
		"dump to $out: status $rc after ${secs} s, 1 within 10 s expected" "$rc" -eq 1 -a "$secs" -lt 10
	app_check "it names the error and counts 0 frames dumped" "no 'write failed' or a count other than 0" \
		"$(grep -c 'write failed after 0 frames' "$APP_WORK/err-${out##*/}.log")" -ge 1 -a "$(dumped "err-${out##*/}")" = 0
done
for f in full.pcap full.pcapng; do
	echo "dump --out $f under a 2 MiB file size limit:"
	rc=0
	dump_to "$f" "$APP_WORK/$f" 2048 || rc=$?
	n=$(dumped "$f")
	app_check "dump to $f stops with status 1 ($(grep -o 'File too large' "$APP_WORK/$f.log" | head -1))" \
		"dump to $f under the limit: status $rc" "$rc" -eq 1
	td=$(tcpdump -nn -r "$APP_WORK/$f" 2>/dev/null | wc -l)
	echo "    $f: $(stat -c %s "$APP_WORK/$f") bytes; the reader counts ${n:-none} frames dumped, tcpdump reads $td"
	app_check "the file holds exactly the $td frames counted, whole" \
		"counted ${n:-none}, tcpdump read $td" "${n:-0}" -gt 1000 -a "${n:-0}" -eq "$td"
done
tp_cmd "stop" >/dev/null
exit "$APP_FAILED"
