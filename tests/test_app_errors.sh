#!/usr/bin/env bash
# Integration: what bsdtap-reader says when it cannot run, and that it stops
# cleanly on SIGTERM.
#  - --help prints the usage and exits 0; a bad mode, or an option of
#    another mode, exits 2;
#  - no primary with the given --file-prefix: "no DPDK primary process ...";
#  - with stock dpdk-testpmd as the primary: "no such unit tap7",
#    "tap0 has no queue 1", and "tap0 queue 0 is open by another reader";
#  - SIGTERM: the reader closes the unit (the link goes down) and prints
#    its totals, status 0;
#  - testpmd closes the port under a running reader: the reader says the
#    unit went away and exits 0.
# Usage: test_app_errors.sh <librte_net_bsdtap.so> <bsdtap-reader>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_app_lib.sh
source "$(dirname "$0")/test_app_lib.sh"
app_init "$@"

# expect STATUS "MESSAGE" reader args...: runs the reader in the foreground.
expect() {
	local want_rc=$1 want_msg=$2 rc=0 out
	shift 2
	out=$("$APP_READER" "$@" 2>&1) || rc=$?
	echo "bsdtap-reader ${*}: status $rc: $(head -1 <<<"$out")"
	if [[ $rc -eq $want_rc ]] && grep -qF -- "$want_msg" <<<"$out"; then
		app_pass "status $want_rc, says \"$want_msg\""
	else
		app_fail "wanted status $want_rc and \"$want_msg\"; got:"
		printf "%s\n" "$out" | sed "s/^/    | /"
	fi
}

expect 0 "Usage: bsdtap-reader" -- --help
expect 2 "unknown mode" -- sniff --unit tap0
expect 2 "dump needs --out FILE" -- dump --unit tap0
expect 2 "--exact-bytes is an option of the zero-copy sink" -- echo --unit tap0 --exact-bytes
expect 2 "--exact-bytes is an option of the zero-copy sink" -- sink --copy --exact-bytes
expect 1 "no DPDK primary process with file prefix $APP_PREFIX-none is running" \
	--file-prefix "$APP_PREFIX-none" -- sink --unit tap0 --duration 1

tp_start
expect 1 "no such unit tap7" --file-prefix "$APP_PREFIX" -- sink --unit tap7 --duration 1
expect 1 "tap0 has no queue 1" --file-prefix "$APP_PREFIX" -- sink --unit tap0 --queue 1 --duration 1

reader_start holder sink --unit tap0 --duration 60
expect 1 "tap0 queue 0 is open by another reader" --file-prefix "$APP_PREFIX" -- \
	echo --unit tap0 --duration 1
link=$(tp_cmd "show port info 0" | grep -m1 -oE 'Link status: *[a-z]+' || true)
echo "with a reader: $link"
kill -TERM "$READER_PID"
rc=0
reader_wait holder || rc=$?
if [[ $rc -eq 0 ]] && grep -q 'stopped (SIGTERM)' "$APP_WORK/holder.log" &&
	grep -q '^  read ' "$APP_WORK/holder.log"; then
	app_pass "SIGTERM: stopped cleanly with totals, status 0"
else
	app_fail "SIGTERM: status $rc"
fi
link2=$(tp_cmd "show port info 0" | grep -m1 -oE 'Link status: *[a-z]+' || true)
echo "after the reader closed: $link2"
app_check "the link followed the reader: up, then down" "link: '$link' with the reader, '$link2' after" \
	"${link##* }/${link2##* }" = up/down

echo "testpmd closes the port under a sink reader:"
tp_forward txonly
reader_start gone sink --unit tap0 --duration 60
sleep 1.5 # at least one progress line, which reads the port's stats
tp_cmd "stop" >/dev/null
tp_cmd "port stop 0" >/dev/null
tp_cmd "port close 0" >/dev/null
sleep 1.5 # and one more after the close
rc=0
app_wait_gone "$READER_PID" || true
reader_wait gone || rc=$?
if [[ $rc -eq 0 ]] && grep -q 'stopped (the unit went away' "$APP_WORK/gone.log"; then
	app_pass "the reader saw the unit go away and exited 0"
else
	app_fail "reader status $rc after the port was closed"
fi
exit "$APP_FAILED"
