#!/bin/sh
# The sample captures are what crosscheck-gen builds (so they cannot drift from the codec), and
# ha-decode's reading of them is the golden JSON beside them.
# usage: check_samples.sh CROSSCHECK_GEN HA_DECODE SOURCE_ROOT WORKDIR
set -eu
gen=$1 decode=$2 root=$3 work=$4
mkdir -p "$work"
"$gen" "$work/signalling.pcap" "$work/signalling.expect.jsonl"
if ! cmp "$work/signalling.pcap" "$root/tests/captures/signalling.pcap"; then
	echo "FAIL: tests/captures/signalling.pcap is stale; regenerate it with crosscheck-gen"
	exit 1
fi
"$decode" "$root/tests/captures/signalling.pcap" > "$work/signalling.jsonl"
if ! diff -u "$root/tests/captures/signalling.jsonl" "$work/signalling.jsonl"; then
	echo "FAIL: ha-decode output differs from tests/captures/signalling.jsonl"
	exit 1
fi
# errors-only mode prints nothing for a clean capture; usage errors exit 2
[ -z "$("$decode" --errors-only "$root/tests/captures/signalling.pcap")" ]
set +e
"$decode" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: ha-decode without a file exited $rc, want 2"; exit 1; }
"$decode" /nonexistent.pcap > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: ha-decode on a missing file exited $rc, want 2"; exit 1; }
echo "sample captures: 1 passed, 0 failed"
