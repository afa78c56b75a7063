#!/bin/bash
# The appliance's main job on a configuration (default: configs/lab.yaml), as far as it is built:
# build, check the configuration, decode the sample signalling captures. The dataplane (hadp),
# the control plane (hacpd) and charon join this script as they land.
# Run deploy/setup.sh first (the README's command does).
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

echo "run_lab: decoding the sample signalling captures (tests/captures/*.pcap)"
for pcap in "$root"/tests/captures/*.pcap; do
	out=$("$build/controlplane/ha-decode" "$pcap")
	n=$(printf '%s\n' "$out" | wc -l)
	errors=$(printf '%s\n' "$out" | grep -c '"error":' || true)
	echo "  $(basename "$pcap"): $n packets, $errors with decode errors"
	printf '%s\n' "$out" | sed -n 's/.*"mh":{"type":[0-9]*,"name":"\([a-z-]*\)".*/\1/p' |
		sort | uniq -c | sed 's/^/   /'
done
echo "run_lab: hadp and hacpd are not part of the build yet; nothing further to start"
