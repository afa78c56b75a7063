#!/bin/sh
# The lab flow of deploy/run_lab.sh on a private copy of configs/lab.yaml: ha-pktgen writes
# traffic for every binding, hadp forwards it, ha-pktgen's sink accepts every packet hadp sent
# and rejects packets that hadp did not make (so the sink can fail).
# usage: lab_flow.sh HADP HA_PKTGEN SOURCE_ROOT WORKDIR
set -eu
hadp=$1 pktgen=$2 root=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
sed -e "s|/var/lib/hadp-lab|$work|g" -e "s|--file-prefix=hadp-lab|--file-prefix=hadp-labtest-$$|" \
	"$root/configs/lab.yaml" > "$work/lab.yaml"
"$pktgen" pcap -c "$work/lab.yaml" -o "$work/core-in.pcap" --direction down --size imix --packets 600
"$pktgen" pcap -c "$work/lab.yaml" -o "$work/access-in.pcap" --direction up --size 64 --packets 600 \
	--order random --family 4
"$hadp" -c "$work/lab.yaml" --exit-idle 500 --max-seconds 60 --stats-file "$work/stats.json" 2> "$work/hadp.log"
grep -q '"downlink-encapsulated":600,' "$work/stats.json"
grep -q '"uplink-decapsulated":600,' "$work/stats.json"
grep -q '"mbufs_in_use":0,' "$work/stats.json"
"$pktgen" verify -c "$work/lab.yaml" --direction down "$work/access-out.pcap"
"$pktgen" verify -c "$work/lab.yaml" --direction up "$work/core-out.pcap"
if "$pktgen" verify -c "$work/lab.yaml" --direction down "$work/core-in.pcap" > /dev/null; then
	echo "FAIL: the sink accepted packets hadp did not make"
	exit 1
fi
# telemetry: dpdk-telemetry.py reads hadp's /hadp/ commands while it runs
# (it runs until asked to stop: a loaded host may take seconds to start it and replay the input)
"$hadp" -c "$work/lab.yaml" --max-seconds 60 2> "$work/hadp2.log" &
pid=$!
for i in $(seq 300); do [ -S "/var/run/dpdk/hadp-labtest-$$/dpdk_telemetry.v2" ] && break; sleep 0.1; done
for i in $(seq 40); do
	printf '/hadp/stats\n/hadp/tables\n' | dpdk-telemetry.py -f "hadp-labtest-$$" > "$work/telemetry.out" 2>&1 || true
	grep -q '"downlink_encapsulated": 600' "$work/telemetry.out" && break
	sleep 0.25
done
kill -INT $pid
wait $pid
grep -q '"downlink_encapsulated": 600' "$work/telemetry.out" || { echo "FAIL telemetry: $(cat "$work/telemetry.out")"; exit 1; }
grep -q '"bindings": 3' "$work/telemetry.out" || { echo "FAIL telemetry tables"; exit 1; }
# a start-up failure (a capture file that is not there) ends cleanly: exit 1, no hugepage files
sed -e "s|$work/core-in.pcap|$work/missing.pcap|" -e "s|hadp-labtest-$$|hadp-labfail-$$|" \
	"$work/lab.yaml" > "$work/fail.yaml"
set +e
"$hadp" -c "$work/fail.yaml" > "$work/fail.log" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || { echo "FAIL: hadp exited $rc on a start-up failure, want 1"; tail -5 "$work/fail.log"; exit 1; }
if ls /dev/hugepages 2>/dev/null | grep -q "^hadp-labfail-$$"; then
	echo "FAIL: hugepage files left after a start-up failure"
	exit 1
fi
rm -rf "/run/ha/hadp-labtest-$$" "/run/ha/hadp-labfail-$$" # hadp's ESP sequence ledgers
echo "lab flow: 3 passed, 0 failed"
