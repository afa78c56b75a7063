#!/usr/bin/python3
"""A UE registers, then its traffic flows both ways through the tunnel its BU set up (TS 24.303
5.1.3.2: "the HA shall tunnel all packets destined to the IPv6 home address ... to the UE's
care-of address"). hadp's ports are memif servers; ha-pktgen-live is the other end of both:
first the UE's ESP-protected BU (the test library's UE, tests/lib/ue.py), then, once hacpd has
answered, a downlink packet from the PDN and an uplink packet from the UE.

usage: live_test.py BUILD_DIR WORKDIR
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, Daemons, flow, pcap_config, sanitizer_env  # noqa: E402
from checks import Checks  # noqa: E402
import mh  # noqa: E402
from ue import CN6, UE  # noqa: E402

from scapy.all import UDP, Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402

COA = "2001:db8:aaaa::2"


def main():
    build, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-live-{os.getpid()}"
    ue = UE(1).at6(COA)
    cfg = f"{work}/ha.yaml"
    with open(cfg, "w") as f:
        f.write(pcap_config(
            work, prefix, pid_suffix=False, mbufs=2047, cache=32,
            ports={"access": f'{{ device: net_memif0, devargs: "role=server,id=0,socket='
                             f'{work}/access.sock" }}',
                   "core": f'{{ device: net_memif1, devargs: "role=server,id=0,socket='
                           f'{work}/core.sock" }}'},
            rest=f'cli: {{ socket: "{work}/hactl.sock", mode: 0660, group: root }}\n'
                 "static_sas:\n" + "".join(f"  - {flow(sa)}\n" for sa in ue.static_sas(HA6))))

    eth = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02")
    wrpcap(f"{work}/bu.pcap", [ue.frame(ue.bu_bytes(lifetime=450, ipv4_hoa="0.0.0.0"))])
    wrpcap(f"{work}/none.pcap", [])
    wrpcap(f"{work}/up.pcap", [eth / IPv6(src=COA, dst=HA6) /
                               IPv6(src=ue.hoa, dst=CN6) / UDP(sport=9, dport=7) / Raw(b"up-after-bu")])
    wrpcap(f"{work}/down.pcap", [eth / IPv6(src=CN6, dst=ue.hoa) / UDP(sport=7, dport=9) /
                                 Raw(b"down-after-bu")])
    d = Daemons(build, work, cfg, prefix, hadp_args=["--max-seconds", "18"],
                hacpd_args=["--max-seconds", "14"])
    g = None
    try:
        d.start_hadp()
        d.start_hacpd(f"{work}/hactl.sock", stats=False)
        # the BU, then 3 s for hacpd to answer it before the data (a loaded machine: the
        # daemons run 14 and 18 s). ha-pktgen-live stays connected until hadp has stopped (a
        # DPDK 22.11 memif server can crash when its peer leaves while it polls); SIGINT then
        # ends its capture
        g = subprocess.Popen([f"{build}/pktgen/ha-pktgen-live", "--access-sock",
                              f"{work}/access.sock", "--core-sock", f"{work}/core.sock",
                              "--to-access", f"{work}/bu.pcap", "--to-core", f"{work}/none.pcap",
                              "--then-to-access", f"{work}/up.pcap", "--then-to-core",
                              f"{work}/down.pcap", "--pause-ms", "3000", "--from-access",
                              f"{work}/from-access.pcap", "--from-core", f"{work}/from-core.pcap",
                              "--seconds", "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=sanitizer_env())
    finally:
        d.stop(interrupt=False)  # both run to their --max-seconds
        if g:
            g.send_signal(2)
            g_out, g_err = g.communicate(timeout=60)
    check = Checks()
    check(d.hadp_rc == 0, f"hadp exited cleanly ({d.hadp_rc})")
    check(g.returncode == 0, f"ha-pktgen-live: {g.returncode} {g_out} {g_err[-800:]}")
    if g.returncode:
        return check.summary("live registration")
    acc = rdpcap(f"{work}/from-access.pcap")
    core = rdpcap(f"{work}/from-core.pcap")
    bas = [m for m in (ue.read(p) for p in acc) if m is not None and m.where.rh2]
    check(len(bas) == 1 and bas[0].where.esp[0] == 0x6001 and bas[0].type == mh.BA and
          bas[0].status == 0, f"the BA (status 0, under SA 0x6001): {[p.summary() for p in acc]}")
    down = [p for p in acc if b"down-after-bu" in raw(p)]
    check(len(down) == 1 and down[0][IPv6].src == HA6 and down[0][IPv6].dst == COA and
          down[0][IPv6].nh == 41 and IPv6(raw(down[0][IPv6].payload)).dst == ue.hoa,
          f"downlink tunnelled to the care-of address the BU registered: {[p.summary() for p in down]}")
    up = [p for p in core if b"up-after-bu" in raw(p)]
    check(len(up) == 1 and up[0][IPv6].src == ue.hoa and up[0][IPv6].dst == CN6 and
          IPv6 not in up[0][IPv6].payload,
          f"uplink from the care-of address decapsulated: {[p.summary() for p in core]}")
    return check.summary("live registration")


if __name__ == "__main__":
    sys.exit(main())
