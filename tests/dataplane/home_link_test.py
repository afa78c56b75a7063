#!/usr/bin/python3
"""The UE at home (001 5.2.3.3; RFC 6275 10.3.2, 11.7.1): in S2c the home link is the 3GPP
access, behind hadp's core port. The UE registered from a care-of address on the access port
(a pcap hadp replays); back home it sends its de-registration from the home address, no Home
Address option, under its ESP transport SA (RFC 4877), and that arrives on the core port (a veth
here, scapy at its other end):

  1. the lifetime-0 BU under ESP is decrypted by hadp and punted with the core port as its
     ingress; hacpd accepts it: the binding goes, and the BA (status 0, K echoed, sequence 2)
     leaves by the core port to the home address, without a type 2 routing header, under the
     HA's SA (decrypted here), K clear (static SAs: no IKE SA to move);
  2. a Mobility Header in the clear from the core port is still dropped (RFC 4877:
     bu-dropped-not-protected), without an answer;
  3. ESP to the HA on the core port under an SPI it does not know is dropped and counted
     (drop-esp-unknown-spi), and under a payload (tunnel mode) SA too: a UE at home only
     signals (drop-esp-core-not-signalling);
  4. nothing leaked: hadp ends with no mbuf in use.

usage: home_link_test.py HADP HACPD HACTL WORKDIR
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hacpd_test as mip  # noqa: E402

from scapy.all import AsyncSniffer, Ether, IPv6, Raw, raw, sendp, wrpcap  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrRouting  # noqa: E402

HA6, HOA = mip.HA6, mip.HOA


def main():
    hadp, hacpd, hactl, work = sys.argv[1], sys.argv[2], sys.argv[3], os.path.abspath(sys.argv[4])
    os.makedirs(work, exist_ok=True)
    tag = os.getpid()
    prefix = f"hadp-home-{tag}"
    ours, peer = f"hk{tag}"[:15], f"hp{tag}"[:15]
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        passed += bool(ok)
        failed += not ok
        print(("ok   " if ok else "FAIL ") + what, flush=True)

    procs = []
    try:
        subprocess.run(["ip", "link", "add", ours, "type", "veth", "peer", "name", peer], check=True)
        for dev in (ours, peer):
            subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"], check=True)
            subprocess.run(["ip", "link", "set", dev, "up"], check=True)
        peer_mac = open(f"/sys/class/net/{peer}/address").read().strip()
        hadp_mac = open(f"/sys/class/net/{ours}/address").read().strip()
        wrpcap(f"{work}/access_in.pcap", [mip.bu_packet(1, 1)])  # the registration, away
        wrpcap(f"{work}/core_in.pcap", [])
        cfg = mip.write_config(work, prefix)
        text = open(cfg).read()
        old = (f'      devargs: "rx_pcap={work}/core_in.pcap,tx_pcap={work}/core_out.pcap,'
               f'tx_pcap={work}/core_ctl.pcap"\n')
        assert old in text
        text = text.replace(old, f'      devargs: "rx_iface_in={ours},tx_iface={ours},tx_iface={ours}"\n'
                                 f'      next_hop_mac: "{peer_mac}"\n')
        # a payload SA (tunnel mode), which the core port must not take
        text += (f'  - {{ spi: 0x5002, direction: in, mode: tunnel, local: {HA6}, '
                 f'peer: "{mip.COA}", encryption: aes-gcm-128, integrity: none, '
                 f'key: "{mip.KEY_IN.hex()}", replay_window: 64 }}\n')
        open(cfg, "w").write(text)
        h = subprocess.Popen([hadp, "-c", cfg, "--max-seconds", "40", "--stats-file",
                              f"{work}/hadp.json"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        procs.append(h)
        for _ in range(400):
            if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
                break
            time.sleep(0.05)
        time.sleep(0.5)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
        c = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "30", "--stats-file",
                              f"{work}/hacpd.json"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
        procs.append(c)

        def bindings():
            r = subprocess.run([hactl, "-s", f"{work}/hactl.sock", "show", "bindings"],
                               capture_output=True, text=True, timeout=20)
            return r.stdout

        deadline = time.monotonic() + 20
        while HOA not in bindings() and time.monotonic() < deadline:
            time.sleep(0.2)
        check(HOA in bindings(), "the UE registered from its care-of address (access port)")

        sniff = AsyncSniffer(iface=peer, lfilter=lambda p: IPv6 in p and p[IPv6].src == HA6)
        sniff.start()
        time.sleep(1.0)
        eth = Ether(src=peer_mac, dst=hadp_mac)
        # 2. in the clear: RFC 4877 wants it under ESP
        clear = eth / IPv6(src=HOA, dst=HA6, nh=135) / Raw(mip.mh_bu(3, 0, ipv4_hoa=False))
        # 3. an SPI the HA does not know
        stranger = eth / IPv6(src=HOA, dst=HA6, nh=50) / \
            Raw(mip.esp_seal(0x7777, 1, mip.KEY_IN, mip.mh_bu(4, 0, ipv4_hoa=False), 135))
        # 1. the de-registration under the UE's SA (its second packet under it), K set
        dereg = eth / IPv6(src=HOA, dst=HA6, nh=50) / \
            Raw(mip.esp_seal(0x5001, 2, mip.KEY_IN, mip.mh_bu(2, 0, ipv4_hoa=False), 135))
        payload = eth / IPv6(src=HOA, dst=HA6, nh=50) / \
            Raw(mip.esp_seal(0x5002, 1, mip.KEY_IN, raw(IPv6(src=HOA, dst="2001:db8:9::1")), 41))
        sendp([clear, stranger, payload, dereg], iface=peer, verbose=False)
        deadline = time.monotonic() + 15
        while HOA in bindings() and time.monotonic() < deadline:
            time.sleep(0.2)
        gone = HOA not in bindings()
        time.sleep(0.5)
        got = sniff.stop() or []
        check(gone, "1. 001 5.2.3.3: the de-registration from the home link removed the binding")
        bas = []
        for p in got:
            ip = p[IPv6]
            if ip.nh != 50:
                continue
            spi, mh, nh = mip.esp_open(raw(ip.payload), mip.KEY_OUT)
            bas.append((ip.dst, IPv6ExtHdrRouting in p, spi, nh, mh[2], mh[6], mh[7] & 0x80,
                        int.from_bytes(mh[8:10], "big")))
        # K is not echoed: the SA is a static one, no IKE SA could follow (RFC 6275 10.3.1;
        # the IKE SA's move home is ike_handover's step 4)
        check(bas == [(HOA, False, 0x6001, 135, 6, 0, 0, 2)],
              f"1. RFC 6275 11.7.1: its BA left by the core port to the home address, no RH2, "
              f"under SA 0x6001: status 0, sequence 2 ({bas})")
        c.send_signal(2)  # hacpd first: it is attached to hadp
        c_out, _ = c.communicate(timeout=60)
        h.send_signal(2)
        h_out, _ = h.communicate(timeout=60)
        check(c.returncode == 0 and h.returncode == 0,
              f"hacpd and hadp stopped cleanly ({c.returncode} {h.returncode}: {c_out[-500:]} "
              f"{h_out[-500:]})")
        hs = json.load(open(f"{work}/hadp.json"))
        cs = json.load(open(f"{work}/hacpd.json"))
        hc = hs["counters"]
        check(hs["punt"]["mobility-header-esp"] == 2 and hc["esp-decrypted"] == 2,
              f"1. hadp decrypted the BU from each port and punted it ({hs['punt']})")
        check(cs["bu-deregistration"] == 1 and cs["bu-accepted"] == 1 and cs["ba-sent"] == 2,
              f"1. hacpd: one registration, one de-registration, two BAs ({cs})")
        check(hs["punt"]["mobility-header"] == 1 and cs["bu-dropped-not-protected"] == 1,
              "2. the clear Mobility Header from the core port was punted and dropped by hacpd "
              "(bu-dropped-not-protected)")
        check(hc.get("drop-esp-unknown-spi") == 1,
              f"3. ESP to the HA under an unknown SPI on the core port: drop-esp-unknown-spi "
              f"({hc.get('drop-esp-unknown-spi')})")
        check(hc.get("drop-esp-core-not-signalling") == 1,
              f"3. ESP to the HA under a payload SA on the core port: drop-esp-core-not-signalling "
              f"({hc.get('drop-esp-core-not-signalling')})")
        check(hs["mbufs_in_use"] == 0, f"4. no mbuf in use at the end ({hs['mbufs_in_use']})")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "link", "del", ours], capture_output=True)
        for f in os.listdir("/dev/hugepages"):
            if f.startswith(prefix):
                os.unlink(f"/dev/hugepages/{f}")
    print(f"home link: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
