#!/usr/bin/python3
"""The lab's UE for signalling: for every home address the configuration has a signalling SA
pair for (transport mode static_sas, the inbound one naming the home address as peer), it puts
an ESP-protected Binding Update in front of the access port's replay (TS 24.303 5.1.3.2 initial
registration with an IPv4 home address request), and afterwards reads the Binding
Acknowledgements hadp sent under the outbound SA. scapy and python3-cryptography build and read
everything on the UE's side.

usage: lab_ue.py bu HA_CONFIG CONFIG ACCESS_IN_PCAP     (prepends the BUs)
       lab_ue.py ba HA_CONFIG CONFIG ACCESS_CP_PCAP     (checks one BA per UE, status 0)
"""
import json
import logging
import struct
import subprocess
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from scapy.all import Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, MIP6MH_Generic  # noqa: E402

LAB_COA = "2001:db8:aaaa::5"


def signalling_ues(ha_config, config):
    d = json.loads(subprocess.run([ha_config, "--dump", "--json", "--secrets", config],
                                  check=True, capture_output=True, text=True).stdout)
    sas = [s for s in d.get("static_sas", []) if s["mode"] == "transport" and
           s["encryption"] == "aes-gcm-128"]
    ues = []
    for i in [s for s in sas if s["direction"] == "in"]:
        out = [o for o in sas if o["direction"] == "out" and o["peer"] == i["peer"]]
        if out:
            ues.append({"hoa": i["peer"], "spi_in": i["spi"], "key_in": bytes.fromhex(i["key"]),
                        "spi_out": out[0]["spi"], "key_out": bytes.fromhex(out[0]["key"])})
    return d["home_agent"]["ipv6_address"], ues


def bu(ha, ue, seq=1):
    """The UE's BU number seq (ESP sequence number seq too) under its signalling SA."""
    body = struct.pack("!BBBBHHHH", 59, 0, 5, 0, 0, seq, 0xD400, 450)  # A H K R, 1800 s
    body += bytes([29, 6, 32 << 2, 0, 0, 0, 0, 0])  # IPv4 Home Address option, 0.0.0.0/32
    body += bytes([1, 2, 0, 0])                      # PadN: the MH is a multiple of 8 octets
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    mh = raw(IPv6(src=ue["hoa"], dst=ha) / mh)[40:]
    pad = (-(len(mh) + 2)) % 4
    plain = mh + bytes(range(1, pad + 1)) + bytes([pad, 135])
    hdr, iv = struct.pack("!II", ue["spi_in"], seq), struct.pack("!Q", seq)
    esp = hdr + iv + AESGCM(ue["key_in"][:16]).encrypt(ue["key_in"][16:] + iv, plain, hdr)
    return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src=LAB_COA, dst=ha) / \
        IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=ue["hoa"])]) / Raw(esp)


def main():
    cmd, ha_config, config, pcap = sys.argv[1:5]
    ha, ues = signalling_ues(ha_config, config)
    if cmd == "bu":
        traffic = rdpcap(pcap)
        wrpcap(pcap, [bu(ha, u) for u in ues] + list(traffic))
        print(f"lab_ue: {len(ues)} UE(s) register from {LAB_COA}: " +
              ", ".join(u["hoa"] for u in ues))
        return 0
    ok = 0
    for p in rdpcap(pcap):
        if IPv6ExtHdrRouting not in p:
            continue
        rh = p[IPv6ExtHdrRouting]
        body = raw(rh.payload)
        spi = struct.unpack("!I", body[:4])[0]
        for u in ues:
            if spi != u["spi_out"] or rh.addresses != [u["hoa"]]:
                continue
            plain = AESGCM(u["key_out"][:16]).decrypt(u["key_out"][16:] + body[8:16],
                                                      body[16:], body[:8])
            mh = plain[:-2 - plain[-2]]
            status, seq, life = mh[6], struct.unpack("!H", mh[8:10])[0], struct.unpack("!H", mh[10:12])[0]
            print(f"lab_ue: BA for {u['hoa']}: status {status}, sequence {seq}, "
                  f"lifetime {life * 4} s")
            ok += status == 0
    print(f"lab_ue: {ok} of {len(ues)} UE(s) registered")
    return 0 if ok == len(ues) else 1


if __name__ == "__main__":
    sys.exit(main())
