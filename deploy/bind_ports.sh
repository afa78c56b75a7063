#!/bin/bash
# The configuration's PCI ports on vfio-pci, for hadp on a bare-metal server (docs/deployment.md;
# the unit ha-vfio-bind.service runs it before hadp). Virtual devices (net_*) are skipped.
#   bind_ports.sh [--print] [--ha-config PATH] CONFIG
#   --print            only print the PCI addresses of CONFIG's ports, one a line
#   --ha-config PATH   the ha-config binary (default: ../../bin/ha-config from this script, which
#                      is /usr/local/bin/ha-config where install.sh puts them)
# Exits 1 naming the port when a device is missing or dpdk-devbind.py refuses it (an interface
# that is up, for one), 2 on bad usage.
set -euo pipefail
ha_config=$(dirname "$0")/../../bin/ha-config
print=false
while [ $# -gt 1 ]; do
	case "$1" in
	--print) print=true; shift ;;
	--ha-config) ha_config=$2; shift 2 ;;
	*) break ;;
	esac
done
if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: bind_ports.sh [--print] [--ha-config PATH] CONFIG" >&2
	exit 2
fi
config=$1

# the loader's own check first: its message names file, line and key
"$ha_config" --check "$config" > /dev/null
# "access 0000:3b:00.0" per PCI port (the loader stores PCI addresses in this canonical form)
ports=$("$ha_config" --dump --json "$config" | /usr/bin/python3 -c '
import json, re, sys
ports = json.load(sys.stdin)["dataplane"]["ports"]
for name in ("access", "core"):
    dev = ports[name]["device"]
    if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]", dev):
        print(name, dev)')

if $print; then
	[ -z "$ports" ] || printf '%s\n' "$ports" | cut -d' ' -f2
	exit 0
fi
if [ -z "$ports" ]; then
	echo "bind_ports: $config has no PCI port (virtual devices only): nothing to bind"
	exit 0
fi
if [ -z "$(ls -A /sys/kernel/iommu_groups 2> /dev/null)" ]; then
	echo "bind_ports: warning: no IOMMU groups: vfio-pci needs the IOMMU on (intel_iommu=on or" \
		"amd_iommu=on on the kernel command line; docs/deployment.md)" >&2
fi
modprobe vfio-pci
while read -r name dev; do
	if [ ! -e "/sys/bus/pci/devices/$dev" ]; then
		echo "bind_ports: dataplane.ports.$name.device: no PCI device $dev on this machine" >&2
		exit 1
	fi
	driver=$(basename "$(readlink "/sys/bus/pci/devices/$dev/driver" 2> /dev/null)" 2> /dev/null || true)
	if [ "$driver" = vfio-pci ]; then
		echo "bind_ports: $name port $dev already on vfio-pci"
		continue
	fi
	if ! dpdk-devbind.py --bind=vfio-pci "$dev"; then
		echo "bind_ports: dataplane.ports.$name.device: dpdk-devbind.py could not bind $dev" \
			"(driver ${driver:-none}) to vfio-pci" >&2
		exit 1
	fi
	echo "bind_ports: $name port $dev: ${driver:-no driver} -> vfio-pci"
done <<< "$ports"
