#!/usr/bin/env bash
# Integration: `bsdtap-reader sink`, a DPDK secondary process, counts the
# frames stock dpdk-testpmd (the primary) transmits in txonly mode, first
# with zero-copy bursts (bytes from the port's counter, then --exact-bytes),
# then with --copy (batched copying reads). Every frame
# the port queued for the reader (TX-packets) was either read by a reader or
# purged when a reader closed (xstat devq_purged_frames), so the counts must
# add up exactly.
# Usage: test_app_sink.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

tp_start
tp_forward txonly

echo "sink, zero-copy bursts, 3 s:"
reader_start zc sink --unit tap0 --duration 3 --cpu 0
reader_wait zc || app_fail "sink exited with status $?"
echo "sink --exact-bytes, 1 s:"
reader_start exact sink --unit tap0 --exact-bytes --duration 1 --cpu 0
reader_wait exact || app_fail "sink --exact-bytes exited with status $?"
echo "sink --copy, 2 s:"
reader_start copy sink --unit tap0 --copy --duration 2 --cpu 0
reader_wait copy || app_fail "sink --copy exited with status $?"

tp_cmd "stop" >/dev/null
# A tx racing a reader's close may queue a few frames after the close purged
# the devq; stopping the port purges those too.
tp_cmd "port stop 0" >/dev/null
stats=$(tp_cmd "show port stats 0")
xstats=$(tp_cmd "show port xstats 0")

zc=$(( $(reader_total zc read) + $(reader_total exact read) ))
copy=$(reader_total copy read)
opackets=$(tp_stat "$stats" TX-packets)
oerrors=$(tp_stat "$stats" TX-errors)
purged=$(tp_xstat "$xstats" devq_purged_frames)
echo "testpmd: TX-packets $opackets (queued for the reader), TX-errors $oerrors (devq full)," \
	"devq_purged_frames $purged"
echo "readers: zero-copy ${zc:-none}, --copy ${copy:-none}"

if [[ ${zc:-0} -gt 0 ]]; then
	app_pass "zero-copy sink read $zc frames"
else
	app_fail "zero-copy sink read no frames"
fi
if [[ ${copy:-0} -gt 0 ]]; then
	app_pass "--copy sink read $copy frames"
else
	app_fail "--copy sink read no frames"
fi
# testpmd's txonly frames are 64 bytes: --exact-bytes adds up what it took,
# the copying sink counts what it copied.
# Without --exact-bytes the bytes are the port's counter of the queue from
# just after the open: what testpmd queued for the reader. That is what it
# read, give or take what was queued between the open and the counter's
# first look, and what was still in the devq (at most 1024 frames) at close:
# within 1 % here.
zc_only=$(reader_total zc read)
zc_bytes=$(reader_total_bytes zc read)
if [[ ${zc_only:-0} -gt 0 && ${zc_bytes:-0} -ge $((zc_only * 64 / 100 * 99)) &&
	${zc_bytes:-0} -le $(((zc_only / 100 * 101 + 1024) * 64)) ]]; then
	app_pass "zero-copy sink: $zc_bytes bytes from the port's counter for $zc_only frames of 64"
else
	app_fail "zero-copy sink: ${zc_bytes:-none} bytes for ${zc_only:-0} frames of 64"
fi
exact=$(reader_total exact read)
exact_bytes=$(reader_total_bytes exact read)
if [[ ${exact:-0} -gt 0 && ${exact_bytes:-0} -eq $((exact * 64)) ]]; then
	app_pass "sink --exact-bytes counted $exact_bytes bytes = 64 per frame"
else
	app_fail "sink --exact-bytes counted ${exact_bytes:-none} bytes for ${exact:-0} frames of 64"
fi
copy_bytes=$(reader_total_bytes copy read)
if [[ ${copy:-0} -gt 0 && ${copy_bytes:-0} -eq $((copy * 64)) ]]; then
	app_pass "--copy sink copied $copy_bytes bytes = 64 per frame"
else
	app_fail "--copy sink copied ${copy_bytes:-none} bytes for ${copy:-0} frames of 64"
fi
total=$((${zc:-0} + ${copy:-0}))
if [[ $total -le $opackets ]]; then
	app_pass "frames read ($total) <= TX-packets ($opackets)"
else
	app_fail "frames read ($total) > TX-packets ($opackets)"
fi
if [[ $((total + purged)) -eq $opackets ]]; then
	app_pass "read + purged at close = $((total + purged)) = TX-packets: no frame lost or counted twice"
else
	app_fail "read + purged = $((total + purged)), TX-packets = $opackets"
fi
exit "$APP_FAILED"
