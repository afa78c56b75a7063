#!/usr/bin/python3
"""A UE registers, then its traffic flows both ways through the tunnel its BU set up (TS 24.303
5.1.3.2: "the HA shall tunnel all packets destined to the IPv6 home address ... to the UE's
care-of address"). hadp's ports are memif servers; ha-pktgen-live is the other end of both:
first the UE's ESP-protected BU (scapy + python3-cryptography, as in hacpd_test.py), then, once
hacpd has answered, a downlink packet from the PDN and an uplink packet from the UE.

usage: live_test.py HADP HACPD HA_PKTGEN_LIVE WORKDIR
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hacpd_test as ue  # noqa: E402  the UE's signalling side
from scapy.all import UDP, Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrRouting  # noqa: E402

CN6 = "2001:db8:9::1"


def main():
    hadp, hacpd, live, work = sys.argv[1], sys.argv[2], sys.argv[3], os.path.abspath(sys.argv[4])
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-live-{os.getpid()}"
    cfg = ue.write_config(work, prefix)
    text = open(cfg).read()
    text = text.replace("device: net_pcap0", "device: net_memif0").replace(
        "device: net_pcap1", "device: net_memif1")
    lines = []
    for line in text.splitlines():
        if "rx_pcap=" in line and "access" in line:
            line = f'      devargs: "role=server,id=0,socket={work}/access.sock"'
        elif "rx_pcap=" in line:
            line = f'      devargs: "role=server,id=0,socket={work}/core.sock"'
        lines.append(line)
    open(cfg, "w").write("\n".join(lines) + "\n")

    eth = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02")
    wrpcap(f"{work}/bu.pcap", [ue.bu_packet(1, 1)])
    wrpcap(f"{work}/none.pcap", [])
    wrpcap(f"{work}/up.pcap", [eth / IPv6(src=ue.COA, dst=ue.HA6) /
                               IPv6(src=ue.HOA, dst=CN6) / UDP(sport=9, dport=7) / Raw(b"up-after-bu")])
    wrpcap(f"{work}/down.pcap", [eth / IPv6(src=CN6, dst=ue.HOA) / UDP(sport=7, dport=9) /
                                 Raw(b"down-after-bu")])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    h = subprocess.Popen([hadp, "-c", cfg, "--max-seconds", "12"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for _ in range(100):
        if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    c = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "9"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env)
    time.sleep(1)
    # ha-pktgen-live stays connected until hadp has stopped (a DPDK 22.11 memif server can
    # crash when its peer leaves while it polls); SIGINT then ends its capture
    g = subprocess.Popen([live, "--access-sock", f"{work}/access.sock", "--core-sock",
                          f"{work}/core.sock", "--to-access", f"{work}/bu.pcap", "--to-core",
                          f"{work}/none.pcap", "--then-to-access", f"{work}/up.pcap",
                          "--then-to-core", f"{work}/down.pcap", "--pause-ms", "1500",
                          "--from-access", f"{work}/from-access.pcap", "--from-core",
                          f"{work}/from-core.pcap", "--seconds", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    c.communicate(timeout=60)
    h.communicate(timeout=60)
    g.send_signal(2)
    g_out, g_err = g.communicate(timeout=60)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        passed += bool(ok)
        failed += not ok
        if not ok:
            print(f"FAIL {what}")

    check(h.returncode == 0, f"hadp exited cleanly ({h.returncode})")
    check(g.returncode == 0, f"ha-pktgen-live: {g.returncode} {g_out} {g_err[-800:]}")
    if g.returncode:
        print(f"live registration: {passed} passed, {failed} failed")
        return 1
    acc = rdpcap(f"{work}/from-access.pcap")
    core = rdpcap(f"{work}/from-core.pcap")
    bas = [p for p in acc if IPv6ExtHdrRouting in p]
    ok_ba = False
    if len(bas) == 1:
        spi, mh, nh = ue.esp_open(raw(bas[0][IPv6ExtHdrRouting].payload), ue.KEY_OUT)
        ok_ba = spi == 0x6001 and mh[2] == 6 and mh[6] == 0
    check(ok_ba, f"the BA (status 0, under SA 0x6001): {[p.summary() for p in acc]}")
    down = [p for p in acc if b"down-after-bu" in raw(p)]
    check(len(down) == 1 and down[0][IPv6].src == ue.HA6 and down[0][IPv6].dst == ue.COA and
          down[0][IPv6].nh == 41 and IPv6(raw(down[0][IPv6].payload)).dst == ue.HOA,
          f"downlink tunnelled to the care-of address the BU registered: {[p.summary() for p in down]}")
    up = [p for p in core if b"up-after-bu" in raw(p)]
    check(len(up) == 1 and up[0][IPv6].src == ue.HOA and up[0][IPv6].dst == CN6 and
          IPv6 not in up[0][IPv6].payload,
          f"uplink from the care-of address decapsulated: {[p.summary() for p in core]}")
    print(f"live registration: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
