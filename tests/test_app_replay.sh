#!/usr/bin/env bash
# Integration: `bsdtap-reader replay`, a DPDK secondary process, writes the
# frames of a capture file into the unit, and stock dpdk-testpmd (the
# primary) in rxonly mode receives them. The file is made first with
# `bsdtap-reader dump` from testpmd's txonly frames.
#  1. replay of a 500-frame pcap once: testpmd receives exactly 500 frames;
#     the same with the pcapng file.
#  2. replay --loop --rate 2000 for 2 s: about 4000 frames, all received.
#  3. a capture whose last record is cut short: the complete ones replayed.
#  4. records of no bytes are skipped, not counted as frames.
#  5. with no primary, that is said before the file is read.
# Usage: test_app_replay.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

tp_start
tp_forward txonly
for f in frames.pcap frames.pcapng; do
	reader_start "dump-$f" dump --unit tap0 --out "$APP_WORK/$f" --count 500 --duration 20 --quiet
	reader_wait "dump-$f" >/dev/null || app_fail "dump to $f exited with status $?"
done
tp_cmd "stop" >/dev/null
tp_forward rxonly

rx_packets() {
	tp_stat "$(tp_cmd "show port stats 0")" RX-packets
}

# rx_settle BEFORE WANT: RX-packets once BEFORE + WANT arrived (or 5 s passed).
rx_settle() {
	local now
	for _ in $(seq 50); do
		now=$(rx_packets)
		[[ $((now - $1)) -ge $2 ]] && break
		sleep 0.1
	done
	sleep 0.3
	rx_packets
}

# replay_into NAME FILE WANT [replay args...]: reader NAME replays FILE into
# tap0. Sets before and after (testpmd's RX-packets around it, after once
# WANT frames arrived; WANT "written": as many as the reader wrote) and
# written (the reader's own count).
replay_into() {
	local name=$1 file=$2 want=$3
	shift 3
	before=$(rx_packets)
	reader_start "$name" replay --unit tap0 --in "$file" "$@"
	reader_wait "$name" || app_fail "replay of ${file##*/} ($name) exited with status $?"
	written=$(reader_total "$name" written)
	[[ $want != written ]] || want=${written:-0}
	after=$(rx_settle "$before" "$want")
}

for f in frames.pcap frames.pcapng; do
	echo "1. replay --in $f, once:"
	replay_into "replay-$f" "$APP_WORK/$f" 500 --duration 20
	echo "reader wrote ${written:-none} frames; testpmd RX-packets $before -> $after"
	app_check "the reader wrote the 500 frames of $f" "the reader wrote ${written:-none} frames of $f, 500 expected" \
		"${written:-0}" -eq 500
	app_check "testpmd received 500 frames" "testpmd received $((after - before)) frames, 500 expected" \
		"$((after - before))" -eq 500
done

echo "2. replay --loop --rate 2000 for 2 s:"
replay_into rate "$APP_WORK/frames.pcap" written --loop --rate 2000 --duration 2
echo "reader wrote ${written:-none} frames in 2 s; testpmd RX-packets $before -> $after"
if [[ ${written:-0} -ge 3600 && ${written:-0} -le 4400 ]]; then
	app_pass "rate: $written frames in 2 s at 2000 pps (within 10% of 4000)"
else
	app_fail "rate: ${written:-none} frames in 2 s at 2000 pps, about 4000 expected"
fi
app_check "testpmd received all $written frames" "testpmd received $((after - before)) of ${written:-none} frames" \
	"$((after - before))" -eq "${written:-0}"

echo "3. a capture whose last record is cut short (a dump killed mid-write):"
size=$(stat -c %s "$APP_WORK/frames.pcap")
head -c $((size - 10)) "$APP_WORK/frames.pcap" >"$APP_WORK/cut.pcap"
replay_into cut "$APP_WORK/cut.pcap" 499 --duration 20
app_check "the 499 complete frames were replayed, with a warning" \
	"wrote ${written:-none} frames (499 expected), warning: $(grep -c 'cut short' "$APP_WORK/cut.log")" \
	"${written:-0}" -eq 499 -a "$((after - before))" -eq 499 -a "$(grep -c 'cut short' "$APP_WORK/cut.log")" -ge 1

echo "4. empty records are not frames:"
# The pcap's header, then each of its first 3 records followed by an empty one.
python3 - "$APP_WORK/frames.pcap" "$APP_WORK/empty.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, at = [d[:24]], 24
for _ in range(3):
    sec, usec, cap, ln = struct.unpack("=IIII", d[at:at + 16])
    out.append(d[at:at + 16 + cap])
    out.append(struct.pack("=IIII", sec, usec, 0, 0))
    at += 16 + cap
open(sys.argv[2], "wb").write(b"".join(out))
PY
replay_into empty "$APP_WORK/empty.pcap" 3 --duration 20
app_check "3 frames written and received, 3 empty records skipped" \
	"wrote ${written:-none} frames, testpmd received $((after - before)), 3 expected" \
	"${written:-0}" -eq 3 -a "$((after - before))" -eq 3 -a "$(grep -c '3 empty records skipped' "$APP_WORK/empty.log")" -eq 1

echo "5. no primary: said before the file is even read:"
rc=0
out=$("$APP_READER" --file-prefix "bsdtap-none-$$" -- replay --unit tap0 --in "$APP_WORK/no-such.pcap" 2>&1) || rc=$?
echo "    | $out"
app_check "replay without a primary names the missing primary" "status $rc: $out" \
	"$rc" -eq 1 -a "$(grep -c 'no DPDK primary' <<<"$out")" -eq 1
tp_cmd "stop" >/dev/null
exit "$APP_FAILED"
