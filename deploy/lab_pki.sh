#!/bin/bash
# The lab PKI in one command: a CA and the Home Agent's certificate, made with strongSwan's
# pki (Debian's strongswan-pki). Lab use only: keys are written unencrypted.
#   deploy/lab_pki.sh DIR [HA_ID [HA_ADDRESS_OR_APN...]]
# writes DIR/ca.crt, DIR/ca.key, DIR/ha.crt, DIR/ha.key (PEM). The HA's certificate names its id
# and every further argument (its addresses, and the APNs it answers to as IDr: one swanctl
# connection per PDN, docs/ikev2.md). An existing CA is kept; the HA certificate is made again
# when the names change.
set -euo pipefail
dir=${1:?usage: lab_pki.sh DIR [HA_ID [HA_ADDRESS...]]}
id=${2:-ha.lab.example.com}
shift $(( $# >= 2 ? 2 : $# ))
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.crt" ]; then
	pki --gen --type ecdsa --size 256 --outform pem > "$dir/ca.key"
	pki --self --ca --lifetime 3650 --in "$dir/ca.key" --type ecdsa \
		--dn "C=XX, O=dsmip6-ha lab, CN=dsmip6-ha lab CA" --outform pem > "$dir/ca.crt"
fi
names="$id $*"
if [ ! -f "$dir/ha.crt" ] || [ "$(cat "$dir/ha.names" 2>/dev/null)" != "$names" ]; then
	pki --gen --type ecdsa --size 256 --outform pem > "$dir/ha.key"
	sans=(--san "$id")
	for a in "$@"; do sans+=(--san "$a"); done
	pki --pub --in "$dir/ha.key" --type ecdsa |
		pki --issue --lifetime 730 --cacert "$dir/ca.crt" --cakey "$dir/ca.key" \
			--dn "C=XX, O=dsmip6-ha lab, CN=$id" "${sans[@]}" \
			--flag serverAuth --flag ikeIntermediate --outform pem > "$dir/ha.crt"
	echo "$names" > "$dir/ha.names"
fi
chmod 644 "$dir/ca.crt" "$dir/ha.crt"
echo "lab_pki.sh: $dir/ca.crt $dir/ha.crt (CN=$id)"
