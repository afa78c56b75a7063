#!/bin/bash
# Set up a fresh Debian 12 machine for the DSMIPv6 Home Agent, as root. Idempotent: run it as
# often as you like; it installs only what is missing and changes only what differs.
#   - Debian packages: build tools, DPDK 22.11, Intel IPsec-MB, libyaml, libpcap, Criterion,
#     libsystemd (sd_notify),
#     clang (fuzzing), tshark and scapy (test decoders), nftables (the NAT of the IKE NAT test
#     and of the live lab), iputils-ping and iperf3 (the live lab's PDN host), socat (to order
#     the lab's AAA stand-in on its control socket)
#   - strongSwan 5.9.8 (charon-systemd, swanctl, pki, the EAP plugins) and, for the appliance's
#     charon plugin, the matching sources from Debian's source archive, unpacked under
#     /var/cache/dsmip6-ha (never copied into the repository); hostapd as the lab's RADIUS AAA;
#     freeDiameter 1.2.1 and its dictionaries (the S6b Diameter stack and the AAA stand-in)
#   - hugepages: vm.nr_hugepages (now and at boot) and a hugetlbfs mount
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

packages=(
	build-essential meson ninja-build pkg-config git
	libdpdk-dev dpdk dpdk-dev libipsec-mb-dev libyaml-dev libpcap-dev libcriterion-dev uthash-dev
	libssl-dev dpkg-dev libsystemd-dev
	charon-systemd strongswan-swanctl strongswan-pki libcharon-extra-plugins
	libstrongswan-standard-plugins libstrongswan-extra-plugins
	libfreediameter-dev freediameterd freediameter-extensions
	hostapd
	clang libclang-rt-14-dev
	tshark python3 python3-scapy python3-cryptography python3-matplotlib python3-prometheus-client
	iproute2 procps ethtool nftables iputils-ping iperf3 socat
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup.sh: installing ${missing[*]}"
	# tshark asks whether non-root users may capture; the appliance does not need that
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "setup.sh: packages present"
fi

# strongSwan's sources, as Debian built them (5.9.8 with Debian's patches), for the headers the
# charon plugin compiles against. The security archive carries no source for the newest
# revision, so this takes the release's; the plugin uses interfaces those revisions share.
src_root=${HA_STRONGSWAN_SRC_ROOT:-/var/cache/dsmip6-ha}
src_dir=$src_root/strongswan-5.9.8
if [ ! -f "$src_dir/src/libcharon/daemon.h" ]; then
	src_list=/etc/apt/sources.list.d/dsmip6-ha-src.sources
	if ! apt-get source --print-uris strongswan/bookworm >/dev/null 2>&1; then
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src_list"
		else
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/dsmip6-ha-src.list
		fi
		apt-get update -q
	fi
	mkdir -p "$src_root"
	(cd "$src_root" && apt-get source --download-only -q strongswan/bookworm &&
		rm -rf strongswan-5.9.8 && dpkg-source -x strongswan_5.9.8-*.dsc strongswan-5.9.8 >/dev/null)
fi
echo "setup.sh: strongSwan sources in $src_dir"

# Hugepages for DPDK: 1024 x 2 MiB, kept across reboots.
hugepages=${HA_HUGEPAGES:-1024}
conf=/etc/sysctl.d/80-dsmip6-ha.conf
want="vm.nr_hugepages = $hugepages"
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
	echo "$want" > "$conf"
fi
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt "$hugepages" ]; then
	if ! echo "$hugepages" > /proc/sys/vm/nr_hugepages 2>/dev/null; then
		echo "setup.sh: warning: the kernel refused vm.nr_hugepages=$hugepages (container?)" >&2
	fi
fi
echo "setup.sh: hugepages $(cat /proc/sys/vm/nr_hugepages) x $(awk '/Hugepagesize/ {print $2 $3}' /proc/meminfo)"
mkdir -p /dev/hugepages
if ! mountpoint -q /dev/hugepages; then
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages ||
		echo "setup.sh: warning: could not mount hugetlbfs on /dev/hugepages" >&2
fi
echo "setup.sh: done"
