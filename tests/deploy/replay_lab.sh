#!/bin/bash
# The lab configuration replayed (what deploy/run_lab.sh did before it ran the appliance live): on
# a private copy of configs/lab.yaml (its files, sockets and file prefix in WORK), ha-pktgen
# writes traffic for every binding of the configuration into the capture files its net_pcap
# ports replay (downlink from the PDN, uplink tunnelled from the UEs), led by the ESP-protected
# Binding Updates of the UEs that have signalling SAs (deploy/lab_ue.py); hadp runs over them with
# hacpd attached; hactl shows hacpd's bindings; ha-pktgen's sink checks every packet hadp sent,
# lab_ue.py the BAs, and hadp's counters are printed (no mbuf in use); the sample signalling
# captures are decoded. charon-systemd runs beside them with the appliance's plugin, on a
# configuration generated from the YAML (deploy/charon_conf.py), the lab PKI and subscriber
# file made where the YAML names them. Installs the plugin: run under flock /tmp/ike-tests.lock.
# usage: replay_lab.sh BUILD SOURCE_ROOT WORK
set -euo pipefail
build=$(realpath "$1") root=$(realpath "$2") work=$3
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")
config=$work/lab.yaml
sed -e "s|/var/lib/hadp-lab|$work/data|g" -e "s|/etc/ha/|$work/etc/|g" \
	-e "s|/run/hacpd-lab|$work/run|g" -e "s|--file-prefix=hadp-lab|--file-prefix=hadp-replay-$$|" \
	"$root/configs/lab.yaml" > "$config"
mkdir -p "$work/run"
cd "$root"
charon_pid= hadp_pid= hacpd_pid=
prefix=hadp-replay-$$
cleanup() { # on any exit: nothing of the run left running or on disk
	for p in $charon_pid $hacpd_pid $hadp_pid; do
		kill "$p" 2> /dev/null && wait "$p" 2> /dev/null || true
	done
	rm -rf "/run/ha/$prefix" "/var/run/dpdk/$prefix" /dev/hugepages/"$prefix"map_* 2> /dev/null || true
}
trap cleanup EXIT

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
	echo "replay_lab: $config does not replay captures on both ports (net_pcap rx_pcap/tx_pcap);"
	echo "replay_lab: start hadp yourself: $build/dataplane/hadp -c $config"
	exit 1
fi
mkdir -p "$(dirname "$acc_in")" "$(dirname "$core_in")"
"$build/pktgen/ha-pktgen" pcap -c "$config" -o "$core_in" --direction down --size imix --packets 3000
"$build/pktgen/ha-pktgen" pcap -c "$config" -o "$acc_in" --direction up --size imix --packets 3000
# the UEs with signalling SAs register first (their ESP-protected BUs lead the access replay)
/usr/bin/python3 "$root/deploy/lab_ue.py" bu "$build/controlplane/ha-config" "$config" "$acc_in"

# IKEv2 (docs/ikev2.md): charon with the plugin, configured from the YAML
ike=$("$build/controlplane/ha-config" --dump --json "$config" | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)
i = c["ike"]
# "-" for a key not there (no subscriber file with ike.aaa s6b): read splits on blanks
print(i["enabled"], i.get("certificate", "-"), i.get("subscribers", "-"), i.get("local_id", "-"),
      c["home_agent"]["ipv6_address"], " ".join(p.get("apn", p["name"]) for p in c["pdns"]))')
read -r ike_on ike_cert ike_subs ike_id ha6 apns <<< "$ike"
if [ "$ike_on" = True ]; then
	pki_dir=$(dirname "$ike_cert")
	# shellcheck disable=SC2086 # the APNs are words
	"$root/deploy/lab_pki.sh" "$pki_dir" "$ike_id" "$ha6" $apns 2> /dev/null
	if [ "$ike_subs" != - ] && [ ! -f "$ike_subs" ]; then
		mkdir -p "$(dirname "$ike_subs")"
		# lab keys only: 3GPP TS 35.208 test set 1
		cat > "$ike_subs" <<-'YAML'
		subscribers:
		  - identity: 0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org
		    k: 465b5ce8b199b49faa5f0a2ee238a6bc
		    opc: cd63cb71954a9f4e48a5994e37a02baf
		YAML
		chmod 600 "$ike_subs"
	fi
	plugin=/usr/lib/ipsec/plugins/libstrongswan-dsmip6.so
	cp "$build/controlplane/charon/libstrongswan-dsmip6.so" "$plugin.new" && mv "$plugin.new" "$plugin"
	charon_dir=$work/charon
	/usr/bin/python3 "$root/deploy/charon_conf.py" "$build/controlplane/ha-config" "$config" "$charon_dir"
	STRONGSWAN_CONF=$charon_dir/strongswan.conf /usr/sbin/charon-systemd > /dev/null 2>&1 &
	charon_pid=$!
	for i in $(seq 50); do [ -S "$charon_dir/charon.vici" ] && break; sleep 0.1; done
	swanctl --load-all --noprompt --file "$charon_dir/swanctl/swanctl.conf" \
		--uri "unix://$charon_dir/charon.vici" 2> /dev/null | tail -1
	# its EAP-AKA: the subscriber file's, or relayed over S6b (no AAA peer runs here)
	aaa=$(grep -o '[0-9]* EAP-AKA subscribers' "$charon_dir/charon.log" || true)
	[ -n "$aaa" ] || aaa="S6b Diameter client of $(grep -o 's6b: AAA peer [^,]*' "$charon_dir/charon.log" |
		cut -d' ' -f4 | paste -sd' ')"
	echo "replay_lab: charon (pid $charon_pid): $(grep -o 'loaded plugins: .*' "$charon_dir/charon.log" | grep -o 'dsmip6' | head -1) plugin loaded, $aaa"
	swanctl --list-conns --uri "unix://$charon_dir/charon.vici" | head -4
fi

stats=$(dirname "$core_out")/hadp-stats.json
rm -rf "/run/ha/$prefix" # a lab run starts from nothing: no state files of an earlier one
echo "replay_lab: hadp forwarding the replay, hacpd answering the signalling (8 s)"
"$build/dataplane/hadp" -c "$config" --max-seconds 8 --stats-file "$stats" &
hadp_pid=$!
for i in $(seq 100); do [ -S "/var/run/dpdk/$prefix/mp_socket" ] && break; sleep 0.1; done
sleep 0.5
"$build/controlplane/hacpd" -c "$config" --max-seconds 5 &
hacpd_pid=$!
sleep 2
echo "replay_lab: hactl show bindings"
"$build/controlplane/hactl" -c "$config" show bindings || true
"$build/controlplane/hactl" -c "$config" show stats | grep -E "^bu-|^ba-" | tr '\n' ' '; echo
wait $hacpd_pid
wait $hadp_pid
hacpd_pid= hadp_pid= # waited for: their numbers may be another process's now
rm -rf "/run/ha/$prefix" # and leaves none behind
if [ -n "$charon_pid" ]; then
	kill "$charon_pid" 2> /dev/null || true
	wait "$charon_pid" 2> /dev/null || true
	charon_pid=
fi
/usr/bin/python3 - "$stats" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = {k: v for k, v in s["counters"].items() if v and not k.startswith("work-")}
print("replay_lab: hadp counters:", ", ".join(f"{k} {v}" for k, v in c.items()))
print(f"replay_lab: {s['bindings']} bindings, {s['mbufs_in_use']} mbufs in use after shutdown")
sys.exit(1 if s["mbufs_in_use"] else 0)
PY
"$build/pktgen/ha-pktgen" verify -c "$config" --direction down "$acc_out"
"$build/pktgen/ha-pktgen" verify -c "$config" --direction up "$core_out"
acc_cp=$(echo "$acc_out" | sed 's/-out\.pcap$/-cp.pcap/')
/usr/bin/python3 "$root/deploy/lab_ue.py" ba "$build/controlplane/ha-config" "$config" "$acc_cp"

echo "replay_lab: decoding the sample signalling captures (tests/captures/*.pcap)"
for pcap in "$root"/tests/captures/*.pcap; do
	out=$("$build/controlplane/ha-decode" "$pcap")
	n=$(printf '%s\n' "$out" | wc -l)
	errors=$(printf '%s\n' "$out" | grep -c '"error":' || true)
	echo "  $(basename "$pcap"): $n packets, $errors with decode errors"
done
