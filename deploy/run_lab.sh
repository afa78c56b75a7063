#!/bin/bash
# The appliance's main job on a configuration (default: configs/lab.yaml), as far as it is built:
# build; check the configuration; have ha-pktgen write traffic for every binding of the
# configuration into the capture files its net_pcap ports replay (downlink from the PDN, uplink
# tunnelled from the UEs), led by the ESP-protected Binding Updates of the UEs that have
# signalling SAs (deploy/lab_ue.py); run hadp over them with hacpd attached; show hacpd's
# bindings with hactl; check every packet hadp sent with ha-pktgen's sink, the BAs with
# lab_ue.py, and print hadp's counters; decode the sample signalling captures. charon joins this
# script with IKEv2. Run deploy/setup.sh first (the README's command does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config=$(realpath "${1:-$root/configs/lab.yaml}")
build=${HA_BUILD_DIR:-$root/build}
cd "$root"

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" > /dev/null
else
	meson setup "$build" > /dev/null
fi
ninja -C "$build" > /dev/null
echo "run_lab: built in $build"

# Exits non-zero, naming file, line, column and key, if the configuration is not valid.
"$build/controlplane/ha-config" --check "$config"

# The capture files the configuration's ports name (rx_pcap= / tx_pcap=, first is the data).
read -r acc_in acc_out core_in core_out < <("$build/controlplane/ha-config" --dump --json "$config" |
	/usr/bin/python3 -c '
import json, re, sys
ports = json.load(sys.stdin)["dataplane"]["ports"]
out = []
for p in ("access", "core"):
    args = ports[p].get("devargs", "")
    rx = re.findall(r"rx_pcap=([^,]+)", args)
    tx = re.findall(r"tx_pcap=([^,]+)", args)
    if ports[p]["device"].startswith("net_pcap") and rx and tx:
        out += [rx[0], tx[0]]
print(" ".join(out) if len(out) == 4 else "")')
if [ -z "${core_out:-}" ]; then
	echo "run_lab: $config does not replay captures on both ports (net_pcap rx_pcap/tx_pcap);"
	echo "run_lab: start hadp yourself: $build/dataplane/hadp -c $config"
	exit 1
fi
mkdir -p "$(dirname "$acc_in")" "$(dirname "$core_in")"
"$build/pktgen/ha-pktgen" pcap -c "$config" -o "$core_in" --direction down --size imix --packets 3000
"$build/pktgen/ha-pktgen" pcap -c "$config" -o "$acc_in" --direction up --size imix --packets 3000
# the UEs with signalling SAs register first (their ESP-protected BUs lead the access replay)
/usr/bin/python3 "$root/deploy/lab_ue.py" bu "$build/controlplane/ha-config" "$config" "$acc_in"

stats=$(dirname "$core_out")/hadp-stats.json
prefix=$("$build/controlplane/ha-config" --dump --json "$config" | /usr/bin/python3 -c '
import json, sys
args = json.load(sys.stdin)["dataplane"]["eal_args"]
p = [a.split("=", 1)[1] for a in args if a.startswith("--file-prefix=")]
print(p[0] if p else "rte")')
echo "run_lab: hadp forwarding the replay, hacpd answering the signalling (8 s)"
"$build/dataplane/hadp" -c "$config" --max-seconds 8 --stats-file "$stats" &
hadp_pid=$!
for i in $(seq 100); do [ -S "/var/run/dpdk/$prefix/mp_socket" ] && break; sleep 0.1; done
sleep 0.5
"$build/controlplane/hacpd" -c "$config" --max-seconds 5 &
hacpd_pid=$!
sleep 2
echo "run_lab: hactl show bindings"
"$build/controlplane/hactl" -c "$config" show bindings || true
"$build/controlplane/hactl" -c "$config" show stats | grep -E "^bu-|^ba-" | tr '\n' ' '; echo
wait $hacpd_pid
wait $hadp_pid
/usr/bin/python3 - "$stats" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = {k: v for k, v in s["counters"].items() if v and not k.startswith("work-")}
print("run_lab: hadp counters:", ", ".join(f"{k} {v}" for k, v in c.items()))
print(f"run_lab: {s['bindings']} bindings, {s['mbufs_in_use']} mbufs in use after shutdown")
sys.exit(1 if s["mbufs_in_use"] else 0)
PY
"$build/pktgen/ha-pktgen" verify -c "$config" --direction down "$acc_out"
"$build/pktgen/ha-pktgen" verify -c "$config" --direction up "$core_out"
acc_cp=$(echo "$acc_out" | sed 's/-out\.pcap$/-cp.pcap/')
/usr/bin/python3 "$root/deploy/lab_ue.py" ba "$build/controlplane/ha-config" "$config" "$acc_cp"

echo "run_lab: decoding the sample signalling captures (tests/captures/*.pcap)"
for pcap in "$root"/tests/captures/*.pcap; do
	out=$("$build/controlplane/ha-decode" "$pcap")
	n=$(printf '%s\n' "$out" | wc -l)
	errors=$(printf '%s\n' "$out" | grep -c '"error":' || true)
	echo "  $(basename "$pcap"): $n packets, $errors with decode errors"
done
