#!/bin/bash
# Install the appliance as systemd services (docs/deployment.md): the binaries from a build
# directory, the units of deploy/systemd/, their helper scripts, the charon plugin, the docs,
# /etc/ha/ha.yaml (never over an existing one) and /etc/default/dsmip6-ha (the same).
#   install.sh [--root DIR] [--build DIR] [--config FILE]
#   --root DIR     install under DIR instead of / (also $DESTDIR): packaging, tests
#   --build DIR    the meson build directory (default: build/ at the top of the checkout)
#   --config FILE  the YAML that becomes /etc/ha/ha.yaml when there is none
#                  (default: configs/baremetal.yaml, to be adapted to the server)
# systemctl daemon-reload runs only when installing into / on a machine booted with systemd.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
root=${DESTDIR:-}
build=$top/build
config=$top/configs/baremetal.yaml
usage() {
	echo "usage: install.sh [--root DIR] [--build DIR] [--config FILE]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
	--build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
	--config) [ $# -ge 2 ] || usage; config=$2; shift 2 ;;
	*) usage ;;
	esac
done
root=${root%/}
for b in dataplane/hadp controlplane/hacpd controlplane/hactl controlplane/ha-config \
	controlplane/ha-decode; do
	if [ ! -x "$build/$b" ]; then
		echo "install: $build/$b is missing: build first (meson setup $build && ninja -C $build)" >&2
		exit 1
	fi
done
"$build/controlplane/ha-config" --check "$config" > /dev/null

# a file replaced by rename, so a running daemon keeps its copy
put() { # MODE SOURCE DEST
	install -D -m "$1" "$2" "$3.new"
	mv -f "$3.new" "$3"
}
prefix=$root/usr/local
put 0755 "$build/dataplane/hadp" "$prefix/sbin/hadp"
put 0755 "$build/controlplane/hacpd" "$prefix/sbin/hacpd"
for b in hactl ha-config ha-decode; do
	put 0755 "$build/controlplane/$b" "$prefix/bin/$b"
done
put 0755 "$top/deploy/bind_ports.sh" "$prefix/libexec/dsmip6-ha/bind_ports.sh"
put 0755 "$top/deploy/charon_conf.py" "$prefix/libexec/dsmip6-ha/charon_conf.py"
for u in "$top"/deploy/systemd/*.service; do
	put 0644 "$u" "$prefix/lib/systemd/system/$(basename "$u")"
done
for d in "$top"/docs/*.md; do
	put 0644 "$d" "$prefix/share/doc/dsmip6-ha/$(basename "$d")"
done
# charon loads plugins from its own folder only
plugin=$build/controlplane/charon/libstrongswan-dsmip6.so
if [ -f "$plugin" ]; then
	put 0644 "$plugin" "$root/usr/lib/ipsec/plugins/libstrongswan-dsmip6.so"
else
	echo "install: warning: $plugin not built (strongSwan sources missing?): no IKEv2" >&2
fi

# the operator's files: made once, then theirs
mkdir -p "$root/etc/ha" "$root/etc/default"
if [ -e "$root/etc/ha/ha.yaml" ]; then
	echo "install: $root/etc/ha/ha.yaml exists: kept"
else
	install -m 0600 "$config" "$root/etc/ha/ha.yaml"
	echo "install: $root/etc/ha/ha.yaml from $config"
fi
if [ -e "$root/etc/default/dsmip6-ha" ]; then
	echo "install: $root/etc/default/dsmip6-ha exists: kept"
else
	cat > "$root/etc/default/dsmip6-ha" <<-'ENV'
	# Settings of the DSMIPv6 Home Agent's units (docs/deployment.md); the defaults are shown.
	# The appliance's YAML (hadp, hacpd, ha-charon, ha-vfio-bind):
	#HA_CONFIG=/etc/ha/ha.yaml
	# Hugepages ha-hugepages.service reserves (on every NUMA node) and mounts; the directory
	# must be the one EAL uses (--huge-dir in dataplane.eal_args, else /dev/hugepages):
	#HA_HUGEPAGE_SIZE=2M
	#HA_HUGEPAGE_RESERVE=2G
	#HA_HUGEPAGE_DIR=/dev/hugepages
	ENV
	echo "install: $root/etc/default/dsmip6-ha written"
fi
echo "install: binaries in $prefix/sbin and $prefix/bin, units in $prefix/lib/systemd/system"

if [ -z "$root" ] && [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm=)" = systemd ]; then
	systemctl daemon-reload
	echo "install: systemctl daemon-reload done"
else
	echo "install: systemd is not running this machine (or --root): no daemon-reload"
fi
huge_dir=$(grep -o -- '--huge-dir=[^" ]*' "$root/etc/ha/ha.yaml" | head -1 | cut -d= -f2 || true)
cat <<NEXT

Next, as root (docs/deployment.md):
  1. Adapt /etc/ha/ha.yaml to the server (the ports' PCI addresses, lcores, addresses, PKI)
     and check it: ha-config --check /etc/ha/ha.yaml
  2. IOMMU on for vfio-pci (kernel command line intel_iommu=on iommu=pt, or amd_iommu=on),
     and the hugepages in /etc/default/dsmip6-ha${huge_dir:+ (your YAML uses --huge-dir=$huge_dir:
     set HA_HUGEPAGE_DIR and HA_HUGEPAGE_SIZE to match)}
  3. Debian's own charon off, the appliance on:
       systemctl disable --now strongswan.service
       systemctl enable --now hadp.service hacpd.service ha-charon.service
  4. Watch it: systemctl status hadp hacpd ha-charon; journalctl -u hacpd; hactl show stats
NEXT
