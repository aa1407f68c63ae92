#!/usr/bin/env bash
# The driver as DPDK's tools and linkers see it: dpdk-pmdinfo.py lists
# net_bsdtap with its devargs (the PMD_INFO_STRING in the .so), and the .so
# exports the reader API (rte_pmd_bsdtap_*) and nothing else.
# Usage: pmd_abi.sh <path to librte_net_bsdtap.so> <rte_pmd_bsdtap.h>
set -euo pipefail
so=$1
fail=0

pmdinfo=$(command -v dpdk-pmdinfo.py) || { echo "FAIL: dpdk-pmdinfo.py not found"; exit 1; }
# dpdk-pmdinfo.py needs pyelftools: Debian's python3 has it (python3-pyelftools).
py=python3
python3 -c 'import elftools' 2>/dev/null || py=/usr/bin/python3
info=$("$py" "$pmdinfo" "$so")
echo "$info"
if grep -q '"name": "net_bsdtap"' <<<"$info" && grep -q 'reader=none|echo|sink|socket' <<<"$info"; then
	echo "ok: dpdk-pmdinfo.py lists net_bsdtap and its devargs"
else
	echo "FAIL: dpdk-pmdinfo.py does not list net_bsdtap with its devargs"
	fail=1
fi

exported=$(nm -D --defined-only "$so" | awk '{ print $3 }')
others=$(grep -v '^rte_pmd_bsdtap_' <<<"$exported" || true)
n=$(grep -c '^rte_pmd_bsdtap_' <<<"$exported" || true)
if [[ -z $others && $n -gt 0 ]]; then
	echo "ok: the .so exports $n symbols, all rte_pmd_bsdtap_*"
else
	echo "FAIL: symbols exported beside the reader API:"
	sed 's/^/    /' <<<"$others" | head -20
	fail=1
fi
# Every call the public header declares is exported.
for f in $(grep -oE '\brte_pmd_bsdtap_[a-z_]+\(' "$2" | tr -d '(' | sort -u); do
	grep -qx "$f" <<<"$exported" || { echo "FAIL: $f is declared but not exported"; fail=1; }
done
exit $fail
