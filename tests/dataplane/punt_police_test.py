#!/usr/bin/python3
"""Punt policing and overflow at packet level: hadp alone (no control plane attached), scapy's
packets replayed into the access port.

1. A flood of one kind cannot starve the control plane of the others (per-reason policing,
   `dataplane.punt`): with a bucket of 50 and a refill of 1 packet/s, 400 IKE packets (UDP 500)
   followed by 30 Binding Updates give exactly 50 IKE punts (51 if the run took a second), the
   rest dropped as drop-punt-policed, and all 30 BUs punted.
2. Overflow is counted: with a bucket big enough, 4,200 IKE packets into the punt ring (4,096
   slots, 4,095 usable) that nobody reads fill it; the other 105 are drop-punt-ring-full.
Both runs end with no mbuf in use (hadp frees what the ring still holds at shutdown).

usage: punt_police_test.py HADP WORKDIR
"""
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA4, HA6, pcap_config, run_hadp  # noqa: E402
from checks import Checks  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap  # noqa: E402
from scapy.layers.inet6 import MIP6MH_BU  # noqa: E402

ETH = dict(src="02:00:00:00:0a:01", dst="02:00:00:00:00:01")  # explicit: no ND on the host
check = Checks()


def ike(i):
    return Ether(**ETH) / IP(src="203.0.113.20", dst=HA4) / UDP(sport=500, dport=500) / \
        Raw(b"\x00" * 28 + i.to_bytes(4, "big"))


def bu(i):
    return Ether(**ETH) / IPv6(src="2001:db8:aaaa::2", dst=HA6) / MIP6MH_BU(seq=i, mhtime=10)


def run(hadp, work, name, pkts, rate, burst):
    d = f"{work}/{name}"
    os.makedirs(d, exist_ok=True)
    wrpcap(f"{d}/access_in.pcap", pkts)
    wrpcap(f"{d}/core_in.pcap", [])
    rc, err, s = run_hadp(hadp, d, pcap_config(
        d, "hadp-punt", mbufs=8191, tables="{ max_bindings: 16, max_sas: 16 }",
        dataplane_extra=f"  punt: {{ rate_pps: {rate}, burst: {burst} }}\n"))
    check(rc == 0, f"{name}: hadp exited {rc}: {err[-500:]}")
    if s:
        check(s["mbufs_in_use"] == 0, f"{name}: {s['mbufs_in_use']} mbufs in use after shutdown")
    return s


def main():
    hadp, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)

    s = run(hadp, work, "flood", [ike(i) for i in range(400)] + [bu(i) for i in range(30)],
            rate=1, burst=50)
    if s:
        p, c = s["punt"], s["counters"]
        check(p["ike"] in (50, 51), f"flood: {p['ike']} IKE packets punted, want the bucket's 50")
        check(c["drop-punt-policed"] == 400 - p["ike"],
              f"flood: drop-punt-policed {c['drop-punt-policed']}, want {400 - p['ike']}")
        check(p["mobility-header"] == 30,
              f"flood: {p['mobility-header']} of 30 BUs punted behind the IKE flood")
        check(c["punted"] == p["ike"] + 30, f"flood: punted {c['punted']}")

    n = 4200
    s = run(hadp, work, "overflow", [ike(i) for i in range(n)], rate=1000000, burst=100000)
    if s:
        c = s["counters"]
        check(c["drop-punt-ring-full"] > 0, f"overflow: drop-punt-ring-full {c['drop-punt-ring-full']}")
        check(c["punted"] == 4095, f"overflow: punted {c['punted']}, want the ring's 4,095 places")
        check(c["punted"] + c["drop-punt-ring-full"] == n,
              f"overflow: punted {c['punted']} + ring full {c['drop-punt-ring-full']} != {n}")
        check(c["drop-punt-policed"] == 0, f"overflow: drop-punt-policed {c['drop-punt-policed']}")
    return check.summary("punt policing")


if __name__ == "__main__":
    sys.exit(main())
