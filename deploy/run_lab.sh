#!/bin/bash
# The appliance live on this machine, without a NIC (deploy/live_lab.py, docs/testing.md): build;
# then hadp with its ports on veths into network namespaces, hacpd, charon with the appliance's
# plugin, the AAA stand-in as its S6b peers (tests/aaa/), and three simulated UEs (an IPv6
# access, an IPv4-only access, one behind a NAT) that attach with IKEv2 and EAP-AKA through the
# AAA, register, answer a PDN host's ping and iperf3 through their tunnels, move and detach (the
# UE, and the network on the AAA's order). Each step prints ok or FAIL;
# the exit status is 0 when every one passed. Everything stops at the end, on Ctrl-C and on a
# failure, leaving nothing behind.
# usage: run_lab.sh [CONFIG] [--keep]   CONFIG defaults to configs/lab.yaml; --keep leaves it
#                                       running and prints the hactl commands to try
#        run_lab.sh --stop              stops what --keep left running
# Run deploy/setup.sh first (the README's command does). HA_BUILD_DIR: the build directory
# (default build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HA_BUILD_DIR:-$root/build}
config=$root/configs/lab.yaml
opts=()
for a in "$@"; do
	case $a in
	--keep | --stop) opts+=("$a") ;;
	-*) echo "usage: run_lab.sh [CONFIG] [--keep] | --stop" >&2; exit 2 ;;
	*) config=$(realpath "$a") ;;
	esac
done
if [ "${opts[*]-}" = --stop ]; then
	exec /usr/bin/python3 "$root/deploy/live_lab.py" "$build" --stop
fi
cd "$root"
if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" > /dev/null
else
	meson setup "$build" > /dev/null
fi
ninja -C "$build" > /dev/null
echo "run_lab: built in $build"
exec /usr/bin/python3 "$root/deploy/live_lab.py" "$build" "$config" "${opts[@]}"
