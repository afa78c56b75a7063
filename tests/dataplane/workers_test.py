#!/usr/bin/python3
"""hadp with two workers (sharing one CPU through lcores.cpus): every port has two rx queues
(one capture file each), and a binding's ESP packets arrive on the queue of the worker that does
NOT own its SAs. They must be handed over to the owner (one owner per SA: the sequence numbers
and the replay window are never shared), so every downlink ESP packet carries a distinct
sequence number and scapy decrypts all of them, and every uplink ESP packet is decrypted once.

usage: workers_test.py HADP WORKDIR
"""
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import pcap_config, run_hadp  # noqa: E402
from checks import Checks  # noqa: E402
from esp import scapy_gcm_sa  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import UDP, Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402
from scapy.layers.ipsec import ESP  # noqa: E402

HA6, CN6 = "2001:db8:ffff::1", "2001:db8:9::1"
UE, COA = "2001:db8:100:8::55", "2001:db8:aaaa::8"
PLAIN_UE, PLAIN_COA = "2001:db8:100:1::55", "2001:db8:aaaa::2"
SA_OUT, SA_IN = 0x2008, 0x1008    # both even: owned by worker 0 (SPI mod 2)
KEY_OUT, KEY_IN = bytes(range(0x20, 0x34)), bytes(range(0x40, 0x54))
N = 40


def sa(spi, key, src, dst):
    return scapy_gcm_sa(spi, key, IPv6(src=src, dst=dst))


def main():
    hadp, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    eth = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02")
    up = sa(SA_IN, KEY_IN, COA, HA6)
    esp_up, plain_up, down_esp, down_plain = [], [], [], []
    for i in range(N):
        up.seq_num = i + 1
        esp_up.append(eth / up.encrypt(IPv6(src=UE, dst=CN6) / UDP(sport=9, dport=7) /
                                       Raw(b"up%03d" % i)))
        plain_up.append(eth / IPv6(src=PLAIN_COA, dst=HA6) / IPv6(src=PLAIN_UE, dst=CN6) /
                        UDP() / Raw(b"pu%03d" % i))
        down_esp.append(eth / IPv6(src=CN6, dst=UE) / UDP(sport=7, dport=9) / Raw(b"dn%03d" % i))
        down_plain.append(eth / IPv6(src=CN6, dst=PLAIN_UE) / UDP() / Raw(b"pd%03d" % i))
    # queue 1 is worker 1's: the SAs' packets go there, to be handed over to worker 0
    wrpcap(f"{work}/a0.pcap", plain_up)
    wrpcap(f"{work}/a1.pcap", esp_up)
    wrpcap(f"{work}/c0.pcap", down_plain)
    wrpcap(f"{work}/c1.pcap", down_esp)
    tx = lambda p: ",".join(f"tx_pcap={work}/{p}{i}.out.pcap" for i in range(3))  # noqa: E731
    text = pcap_config(
        work, "hadp-workers", lcores="{ main: 0, workers: [1, 2], cpus: [0, 1, 1] }",
        ports={"access": f'{{ device: net_pcap0, devargs: "rx_pcap={work}/a0.pcap,'
                         f'rx_pcap={work}/a1.pcap,{tx("a")}" }}',
               "core": f'{{ device: net_pcap1, devargs: "rx_pcap={work}/c0.pcap,'
                       f'rx_pcap={work}/c1.pcap,{tx("c")}" }}'},
        pdns=[{"name": "internet", "home_prefix_pool": "2001:db8:100::/48",
               "home_prefix_length": 64}],
        rest=f"""static_sas:
  - {{ spi: {SA_OUT}, direction: out, mode: tunnel, local: {HA6}, peer: "{COA}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_OUT.hex()}" }}
  - {{ spi: {SA_IN}, direction: in, mode: tunnel, local: {HA6}, peer: "{COA}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_IN.hex()}", replay_window: 64 }}
static_bindings:
  - {{ pdn: internet, home_prefix: 2001:db8:100:8::/64, care_of: "{COA}",
      sa_in: {SA_IN}, sa_out: {SA_OUT} }}
  - {{ pdn: internet, home_prefix: 2001:db8:100:1::/64, care_of: "{PLAIN_COA}" }}
""")
    rc, err, s = run_hadp(hadp, work, text, exit_idle_ms=500, max_seconds=60)
    check = Checks()
    check(rc == 0, f"hadp exited {rc}: {err[-1500:]}")
    if rc:
        return check.summary("two workers")
    c = s["counters"]
    access_out = [p for i in range(3) for p in rdpcap(f"{work}/a{i}.out.pcap")]
    core_out = [p for i in range(3) for p in rdpcap(f"{work}/c{i}.out.pcap")]
    down = sa(SA_OUT, KEY_OUT, HA6, COA)
    seqs, got = [], set()
    for p in access_out:
        if ESP in p:
            seqs.append(p[ESP].seq)
            inner = down.decrypt(p[IPv6].copy())
            got.add(raw(inner[Raw])[:5])
    check(len(seqs) == N and len(set(seqs)) == N, f"{len(seqs)} downlink ESP packets, "
          f"{len(set(seqs))} distinct sequence numbers (one owner per SA)")
    check(got == {b"dn%03d" % i for i in range(N)}, "scapy decrypts every downlink packet")
    ups = {raw(p)[-5:] for p in core_out}
    check(all((b"up%03d" % i) in ups for i in range(N)), "every uplink ESP packet came out")
    check(c["handed-off-to-sa-owner"] == 2 * N, f"handed off: {c['handed-off-to-sa-owner']}")
    check(c["esp-decrypted"] == N and c["esp-encrypted"] == N,
          f"ESP {c['esp-decrypted']} decrypted, {c['esp-encrypted']} encrypted")
    check(c["downlink-encapsulated"] == 2 * N and c["uplink-decapsulated"] == 2 * N,
          f"forwarded {c['downlink-encapsulated']} / {c['uplink-decapsulated']}")
    check(s["esp_errors"] == {} and all(v == 0 for k, v in c.items() if k.startswith("drop-")),
          f"no drop: {s['esp_errors']} {[k for k, v in c.items() if k.startswith('drop-') and v]}")
    check(s["mbufs_in_use"] == 0, f"mbufs in use {s['mbufs_in_use']}")
    return check.summary("two workers")


if __name__ == "__main__":
    sys.exit(main())
