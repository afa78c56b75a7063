#!/usr/bin/python3
"""A UE behind a NAT (docs/ikev2.md, "Across a NAT"): the UE's charon, in its own network
namespace, reaches the HA's IPv4 address through a namespace that masquerades it (nftables,
UDP source ports mapped into 41000-41999), then through hadp's access port (net_pcap on a veth);
the HA's charon speaks IKE through the dataplane (ike_via_dataplane). Checks, against the real
peer and the real NAT:

  1. IKE finds the NAT (RFC 7296 2.23) and moves to UDP 4500 with the non-ESP marker (RFC 3948
     2.2), every message through hadp; the UE attaches with EAP-AKA (TS 24.303 5.1.3.1);
  2. the BU/BA child SA and the payload child SA are set up although charon asks for UDP
     encapsulation for both (and, left alone, would replace the BU/BA SA's home address
     selector with the NAT's address: dsmip6_transport_ts.h); hadp puts the payload SA's ESP in
     UDP 4500, while the BU/BA SA's rides RFC 5555's UDP 4191 tunnel (3.);
  3. the UE's BU from behind the NAT, RFC 5555 4.1 (IPv4 / UDP 4191 / IPv6 from the home
     address / ESP transport under IKE's SA / BU with the IPv4 Care-of Address option), is
     accepted: the BA comes back through the NAT to the UE's socket, under IKE's outbound SA,
     status 0, with the NAT Detection option, F set (TS 24.303 5.1.3.2, RFC 5555 4.2.2);
  4. downlink: a user packet for the home address leaves hadp in ESP tunnel mode under the
     payload SA, in UDP from 4500 to the NAT's port for the UE (RFC 3948 2.1), and the NAT
     delivers it to the UE, which decrypts it;
  5. uplink: the UE's ESP-in-UDP from its port 4500 crosses the NAT (the mapping IKE made) and
     leaves hadp's core port decrypted;
  6. hadp counted it; no mbuf held at the end;
  7. hacpd killed with SIGKILL and started again: the UE's session is adopted, its refresh BU
     under the IKE SA's child SA accepted, a rekey of that child SA taken;
  8. hacpd killed again, and the IKE SA ends meanwhile: the plugin tells the next hacpd, which
     removes the session, its SAs and the binding from hadp;
  9. 002 5.4.3: `hactl reallocate NAI` before the UE's first BU (only its IKEv2 prefix is known):
     the BA of that BU is followed by the Home Agent Switch to the target HA;
 10. the HA's charon killed (SIGKILL) and started again (docs/ikev2.md, "charon restarted"):
     its IKE SAs are gone, not the UE's binding and child SAs in hadp: hacpd counts the session
     orphaned, data flows both ways under the old payload SA and a BU under the old BU/BA SA is
     accepted; the UE then attaches again (a new IKE SA, new child SAs): the same home prefix
     (TS 24.303 5.1.3.1, RFC 5026: kept for the same NAI and APN), the old SAs gone from hadp
     (its SA count, hacpd's signalling SAs, the old payload SA's uplink no longer forwarded), one
     binding for the prefix, now with the new payload pair, which the UE's next BU updates
     (replaced, not duplicated) and which carries the data both ways.

usage: ike_nat_test.py BUILD_DIR WORK_DIR
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ike_e2e_test as e2e  # noqa: E402
import esp  # noqa: E402  the test UE's ESP (AES-GCM, RFC 4106), tests/lib

from scapy.all import IP, UDP, Ether, IPv6, Raw, rdpcap, raw  # noqa: E402
from scapy.layers.inet6 import MIP6MH_Generic  # noqa: E402

UE4, NAT_IN, NAT_OUT, HA4 = "10.0.0.2", "10.0.0.1", "192.0.2.20", "192.0.2.1"
CN6 = "2001:db8:9::1"


def bu_udp(hoa, coa4, spi, key, seq):
    """RFC 5555 4.1: the BU from an IPv4 care-of address, to go in UDP 4191: IPv6 from the home
    address (no HAO), ESP transport, BU with A and H, lifetime 450 s, the IPv4 Home Address
    option asking for one (0.0.0.0/32) and the IPv4 Care-of Address option (RFC 5555 3.1.3)."""
    body = struct.pack("!BBBBHHHH", 59, 0, 5, 0, 0, seq, 0xC000, 450 // 4)
    body += bytes([29, 6, 32 << 2, 0, 0, 0, 0, 0])                     # IPv4 HoA at 12 (4n)
    body += bytes([32, 6, 0, 0]) + bytes(map(int, coa4.split(".")))    # IPv4 CoA at 20 (4n)
    body += bytes(4)                                                   # Pad1 x 4
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    mh = raw(IPv6(src=hoa, dst=e2e.HA6) / mh)[40:]
    return raw(IPv6(src=hoa, dst=e2e.HA6, nh=50) / Raw(esp.gcm_seal(spi, seq, key, mh, 135)))


def mh_option(mh, otype):
    i = 12
    while i + 2 <= len(mh):
        if mh[i] == 0:
            i += 1
            continue
        if mh[i] == otype:
            return mh[i + 2:i + 2 + mh[i + 1]]
        i += 2 + mh[i + 1]
    return None


class Capture:
    """dumpcap on an interface of a namespace, for the length of a with-block."""

    def __init__(self, ns, iface, path):
        self.args = ["ip", "netns", "exec", ns, "dumpcap", "-q", "-i", iface, "-w", path]
        self.path = path

    def __enter__(self):
        self.p = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # dumpcap opens the interface
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=10)

    def packets(self):
        return rdpcap(self.path) if os.path.exists(self.path) else []


def in_ns(ns, code, check_rc=True):
    """Python (scapy) inside a namespace: raw sockets there."""
    return e2e.sh("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code, check_rc=check_rc)


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue, ns_nat, ns_core = (f"natx-{x}-{tag}" for x in ("ha", "ue", "nat", "core"))
    link = f"hn{tag}"[:15]    # hadp's access end, in this namespace; its peer is the NAT's outside
    clink = f"hc{tag}"[:15]   # hadp's core end; its peer "core" sits in ns_core
    charons, procs, installed = [], [], []
    check = e2e.check
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, e2e.HA6)
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {e2e.NAI}\n    k: {e2e.K}\n    opc: {e2e.OPC}\n")
        for ns in (ns_ha, ns_ue, ns_nat, ns_core):
            e2e.sh("ip", "netns", "add", ns)
        # UE --- (inside) NAT (outside) --- hadp access | hadp core --- "PDN"
        e2e.sh("ip", "link", "add", "ue0", "netns", ns_ue, "type", "veth", "peer", "name", "in0",
               "netns", ns_nat)
        e2e.sh("ip", "link", "add", link, "type", "veth", "peer", "name", "out0", "netns", ns_nat)
        e2e.sh("ip", "link", "add", clink, "type", "veth", "peer", "name", "core0", "netns", ns_core)
        for dev in (link, clink):
            e2e.sh("ip", "link", "set", dev, "up")
            e2e.sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")  # hadp's, not ours
        e2e.sh("ip", "addr", "add", f"{UE4}/24", "dev", "ue0", ns=ns_ue)
        e2e.sh("ip", "addr", "add", f"{NAT_IN}/24", "dev", "in0", ns=ns_nat)
        e2e.sh("ip", "addr", "add", f"{NAT_OUT}/24", "dev", "out0", ns=ns_nat)
        for ns, dev in ((ns_ue, "ue0"), (ns_nat, "in0"), (ns_nat, "out0"), (ns_core, "core0")):
            e2e.sh("ip", "link", "set", dev, "up", ns=ns)
            # a veth never computes the checksums its kernel leaves to offload; hadp checks them
            e2e.sh("ethtool", "-K", dev, "tx", "off", ns=ns)
        e2e.sh("ip", "link", "set", "lo", "up", ns=ns_ue)
        e2e.sh("ip", "route", "add", "default", "via", NAT_IN, ns=ns_ue)
        e2e.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=ns_nat)
        nft = ["table ip nat", "chain ip nat post { type nat hook postrouting priority 100 ; }",
               'rule ip nat post oifname "out0" meta l4proto udp masquerade to :41000-41999',
               'rule ip nat post oifname "out0" masquerade']
        for rule in nft:
            e2e.sh("nft", "add", *rule.split(), ns=ns_nat)
        nat_mac = e2e.sh("cat", "/sys/class/net/out0/address", ns=ns_nat).stdout.strip()
        core_mac = e2e.sh("cat", "/sys/class/net/core0/address", ns=ns_core).stdout.strip()
        hadp_core_mac = open(f"/sys/class/net/{clink}/address").read().strip()

        prefix = f"ike-natx-{tag}"
        cfg = e2e.ha_config(work, prefix, pki)
        text = open(cfg).read()
        text = text.replace(
            f'    access: {{ device: net_memif0, devargs: "role=server,id=0,rsize=12,socket={work}/access.sock" }}',
            f'    access: {{ device: net_pcap0, devargs: "rx_iface_in={link},tx_iface={link},tx_iface={link}", next_hop_mac: "{nat_mac}" }}')
        text = text.replace(
            f'    core: {{ device: net_memif1, devargs: "role=server,id=0,rsize=12,socket={work}/core.sock" }}',
            f'    core: {{ device: net_pcap1, devargs: "rx_iface_in={clink},tx_iface={clink},tx_iface={clink}", next_hop_mac: "{core_mac}" }}')
        open(cfg, "w").write(text)
        daemons = e2e.start_appliance(build, work, cfg, prefix, procs, 300)
        hadp, hacpd = daemons.hadp, daemons.hacpd

        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons)

        ue = e2e.Charon(work, "ue", ns_ue, "dsmip6-ue",
                        f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n sa_log = {work}/ue.sas }}")
        charons.append(ue)
        conf = e2e.ue_swanctl(e2e.NAI).replace(f"local_addrs = {e2e.UE6}", f"local_addrs = {UE4}")
        conf = conf.replace(f"remote_addrs = {e2e.HA6}", f"remote_addrs = {HA4}")
        ue.load(conf, [(f"{pki}/ca.crt", "x509ca")])

        # 1. attach through the NAT
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
        nat_port = None
        for word in sas.split():
            if word.startswith(f"{NAT_OUT}[") and word.endswith("]"):
                nat_port = int(word[len(NAT_OUT) + 1:-1])
        check(r.returncode == 0 and "ESTABLISHED" in sas and nat_port is not None and
              41000 <= nat_port <= 41999,
              f"1. the UE attached from behind the NAT, seen at {NAT_OUT}[{nat_port}], the "
              "NAT's port for its UDP 4500" + ("" if r.returncode == 0 else f": {r.stdout[-400:]}"))
        ue_log = open(ue.log).read()
        check("remote host is behind NAT" in open(ha.log).read() and "local host is behind NAT"
              in ue_log, "1. both charons found the NAT (RFC 7296 2.23)")

        # 2. the child SAs, UDP encapsulation asked for
        r1 = ue.swanctl("--initiate", "--child", "bu", "--timeout", "30", check_rc=False)
        r2 = ue.swanctl("--initiate", "--child", "payload", "--timeout", "30", check_rc=False)
        sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
        tables = e2e.telemetry(prefix, "/hadp/tables")
        check(r1.returncode == 0 and r2.returncode == 0 and tables["sas"] == 4,
              f"2. the BU/BA and payload child SAs are in hadp ({tables['sas']} SAs)")
        check("INSTALLED, TUNNEL-in-UDP" in sas and "INSTALLED, TRANSPORT_PROXY-in-UDP" in sas,
              f"2. charon holds both as UDP-encapsulated ({sas[-700:]})")

        def ue_sas():
            """The UE's newest BU/BA and payload SAs by direction (its SA log, oldest first):
            {"in"/"out": (spi, key)} each."""
            keys, pay = {}, {}
            for line in open(f"{work}/ue.sas").read().split("\n"):
                f = line.split()
                if len(f) == 8:
                    (pay if f[2] == "tunnel" else keys)[f[1]] = (int(f[0], 16), bytes.fromhex(f[5]))
            return keys, pay

        def refresh_bu(keys, seq):
            """A BU from behind the NAT under keys; its BA (spi, MH type, status, sequence) or
            None."""
            bu = bu_udp(e2e.HOA, UE4, keys["out"][0], keys["out"][1], seq)
            got = in_ns(ns_ue, f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{UE4}", 0))
s.settimeout(5)
s.sendto(bytes.fromhex("{bu.hex()}"), ("{HA4}", 4191))
data, src = s.recvfrom(4096)
print(data.hex())
""", check_rc=False).stdout.split()
            if len(got) != 1:
                return None
            try:
                spi, _, mh, nh = esp.gcm_open(bytes.fromhex(got[0])[40:], keys["in"][1])
            except Exception:  # noqa: BLE001 - not under this key
                return None
            return spi, mh[2], mh[6], struct.unpack("!H", mh[8:10])[0]

        def downlink(pay, text):
            """A user packet for the home address from the PDN: what reached the UE in
            ESP-in-UDP that the payload SA pay["in"] opens."""
            with Capture(ns_ue, "ue0", f"{work}/ue.pcap") as cap:
                in_ns(ns_core, f"""
from scapy.all import Ether, IPv6, UDP, Raw, sendp
sendp(Ether(dst="{hadp_core_mac}") / IPv6(src="{CN6}", dst="{e2e.HOA}") / UDP(sport=7, dport=9) /
      Raw({text!r}), iface="core0", verbose=False)
""")
            down = []
            for p in cap.packets():
                if IP in p and UDP in p and p[UDP].sport == 4500 and len(p[UDP].payload) > 8:
                    body = raw(p[UDP].payload)
                    try:
                        spi, _, plain, nh = esp.gcm_open(body, pay["in"][1])
                    except Exception:  # noqa: BLE001 - not under this key
                        continue
                    down.append((p[IP].src, p[IP].dst, p[UDP].dport, spi, nh, IPv6(plain).dst,
                                 text in plain))
            return down

        def uplink(pay, seq, text):
            """The UE's ESP-in-UDP from its port 4500 under pay["out"] (sequence seq): what
            left hadp's core port with text in it."""
            inner = raw(IPv6(src=e2e.HOA, dst=CN6, hlim=64) / UDP(sport=9, dport=7) / Raw(text))
            sealed = esp.gcm_seal(pay["out"][0], seq, pay["out"][1], inner, 41)
            with Capture(ns_core, "core0", f"{work}/core.pcap") as cap:
                in_ns(ns_ue, f"""
from scapy.all import IP, UDP, Raw, send
send(IP(src="{UE4}", dst="{HA4}") / UDP(sport=4500, dport=4500, chksum=0) /
     Raw(bytes.fromhex("{sealed.hex()}")), verbose=False)
""")
            return [p for p in cap.packets() if text in raw(p)]

        keys, pay = ue_sas()

        # 9. 002 5.4.3: a reallocation indication by NAI before the UE's first BU: only the
        # prefix IKEv2 gave is known yet; the indication waits for a BU from it
        r = subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock",
                            "reallocate", e2e.NAI, "--to", "2001:db8:2::1"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 0 and "2001:db8:100::/64: the Home Agent Switch to 2001:db8:2::1"
              in r.stdout, f"9. hactl reallocate NAI before any BU names the UE's prefix "
              f"({r.stdout.strip()} {r.stderr.strip()})")

        # 3. the BU from behind the NAT (RFC 5555 4.1): a UDP socket of the UE's to 4191
        if "out" in keys and "in" in keys:
            bu = bu_udp(e2e.HOA, UE4, keys["out"][0], keys["out"][1], 1)
            got = in_ns(ns_ue, f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{UE4}", 0))
s.settimeout(5)
s.sendto(bytes.fromhex("{bu.hex()}"), ("{HA4}", 4191))
for _ in range(2):  # the BA, then the Home Agent Switch of 9.
    data, src = s.recvfrom(4096)
    print(src[0], src[1], data.hex())
""", check_rc=False).stdout.split()
            ok = has = False
            if len(got) >= 3 and (got[0], got[1]) == (HA4, "4191"):
                ba = bytes.fromhex(got[2])
                spi, _, mh, nh = esp.gcm_open(ba[40:], keys["in"][1])
                natd = mh_option(mh, 31)
                ok = (IPv6(ba).src, IPv6(ba).dst, spi, nh, mh[2], mh[6]) == \
                    (e2e.HA6, e2e.HOA, keys["in"][0], 135, 6, 0) and natd is not None and \
                    natd[0] & 0x80 and struct.unpack("!I", natd[2:6])[0] == 110
            if len(got) == 6 and (got[3], got[4]) == (HA4, "4191"):
                hs = bytes.fromhex(got[5])
                spi, _, mh, nh = esp.gcm_open(hs[40:], keys["in"][1])
                # RFC 5142 / RFC 6275 6.1.11: MH type 12, one address, the target HA
                has = (spi, mh[2], mh[6], mh[8:24]) == \
                    (keys["in"][0], 12, 1, bytes.fromhex("20010db8000200000000000000000001"))
            check(ok, f"3. the BA came back through the NAT under IKE's SA, status 0, NAT "
                  f"Detection F=1 refresh 110 s ({got[:2]})")
            check(has, "9. then the Home Agent Switch to 2001:db8:2::1, under the same SA "
                  "(the indication made before the BU found it by its prefix)")
        else:
            check(False, f"3. the UE's SA log has both BU/BA directions: {keys}")

        # 4. downlink under the payload SA, in UDP to the NAT's port, through the NAT to the UE
        if "in" in pay and "out" in pay:
            down = downlink(pay, b"down-through-nat")
            check(down == [(HA4, UE4, 4500, pay["in"][0], 41, e2e.HOA, True)],
                  f"4. the downlink reached the UE in ESP-in-UDP under the payload SA ({down})")

            # 5. uplink: ESP-in-UDP from the UE's port 4500 (the NAT maps it as it maps IKE)
            up = uplink(pay, 1, b"up-through-nat")
            check(len(up) == 1 and IPv6 in up[0] and up[0][IPv6].src == e2e.HOA and
                  up[0][IPv6].hlim == 63 and up[0][Ether].dst == core_mac,
                  f"5. the UE's ESP-in-UDP crossed the NAT and left hadp decrypted "
                  f"({[p.summary() for p in up]})")
        else:
            check(False, f"4. the UE's SA log has both payload directions: {pay}")

        # 7. hacpd killed (SIGKILL) and started again under the live IKE SA: the UE's session
        # survives (docs/controlplane.md, "Restart"): its refresh BU is accepted under the same
        # IKE SA's child SA, and a new child SA of that IKE SA is taken
        connects = open(ha.log).read().count("dsmip6: connected to hacpd")
        hacpd.kill()
        hacpd.wait()
        procs.remove(hacpd)
        hacpd = daemons.start_hacpd(f"{work}/hactl.sock", args=["--max-seconds", "300"])
        procs.append(hacpd)
        for _ in range(100):  # the plugin reconnects within a second or so
            if open(ha.log).read().count("dsmip6: connected to hacpd") > connects:
                break
            time.sleep(0.1)
        if "out" in keys and "in" in keys:
            ba = refresh_bu(keys, 2)
            check(ba == (keys["in"][0], 6, 0, 2) and
                  "adopted 1 IKE sessions" in open(f"{work}/hacpd.log").read(),
                  "7. after hacpd's restart the refresh BU under the IKE SA's child SA is "
                  f"accepted (BA status 0, sequence 2): the session was adopted ({ba})")
        sas_before = open(ha.log).read().count("in the dataplane")
        r = ue.swanctl("--rekey", "--child", "bu", check_rc=False)
        for _ in range(50):
            if open(ha.log).read().count("in the dataplane") >= sas_before + 2:
                break
            time.sleep(0.1)
        check(r.returncode == 0 and open(ha.log).read().count("in the dataplane") >= sas_before + 2,
              "7. the BU/BA child SA's rekey (a new SA pair of the same IKE SA) is taken after "
              "the restart")

        # 10. the HA's charon killed and started again: its IKE SAs die with it (charon keeps
        # no state), the UE's binding and child SAs in hadp do not (docs/ikev2.md, "charon
        # restarted")
        def hactl(*args):
            return subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock",
                                   *args], capture_output=True, text=True, timeout=20).stdout

        def bindings():
            """hacpd's bindings, each without its remaining lifetime (it runs down)."""
            return [{k: v for k, v in json.loads(x).items() if k != "remaining"}
                    for x in hactl("show", "bindings", "--json").split("\n") if x.startswith("{")]

        def ike_counter(name):
            return json.loads(hactl("show", "stats", "--json"))["ike"].get(name)

        keys, pay = ue_sas()
        before, tables_before = bindings(), e2e.telemetry(prefix, "/hadp/tables")
        connects = open(ha.log).read().count("dsmip6: connected to hacpd")
        ha.proc.kill()
        ha.proc.wait()
        os.unlink(ha.vici[len("unix://"):])  # left behind by the SIGKILL
        ha.start()
        ha.swanctl("--load-all", "--noprompt", "--file", f"{work}/ha/swanctl/swanctl.conf")
        for _ in range(100):  # the new run's plugin connects and says HELLO
            if open(ha.log).read().count("dsmip6: connected to hacpd") > connects and \
                    ike_counter("ike-sessions-orphaned"):
                break
            time.sleep(0.1)
        tables = e2e.telemetry(prefix, "/hadp/tables")
        after = bindings()
        check("ESTABLISHED" not in ha.swanctl("--list-sas").stdout and
              ike_counter("ike-sessions-orphaned") == 1,
              "10. charon restarted: its IKE SAs are gone, hacpd counts the UE's session "
              f"orphaned ({ike_counter('ike-sessions-orphaned')})")
        # (4 SAs, or 5 while charon still kept the inbound half of step 7's rekeyed SA)
        check(len(before) == 1 and after == before and tables == tables_before and
              tables["sas"] >= 4 and tables["bindings"] == 1,
              f"10. the binding and the child SAs stay in hadp ({tables}, {after})")
        down = downlink(pay, b"down-after-charon-restart")
        up = uplink(pay, 2, b"up-after-charon-restart")
        check(down == [(HA4, UE4, 4500, pay["in"][0], 41, e2e.HOA, True)] and len(up) == 1,
              f"10. data flows both ways under the old payload SA ({down}, {len(up)} up)")
        ba = refresh_bu(keys, 3)
        check(ba == (keys["in"][0], 6, 0, 3),
              f"10. a BU under the old BU/BA child SA is accepted (BA status 0, sequence 3: {ba})")

        # the UE finds its IKE SA gone and attaches again (TS 24.303 5.1.3.1: a new IKE SA)
        ue.swanctl("--terminate", "--ike", "ha", "--force", "--timeout", "10", check_rc=False)
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        r1 = ue.swanctl("--initiate", "--child", "bu", "--timeout", "30", check_rc=False)
        r2 = ue.swanctl("--initiate", "--child", "payload", "--timeout", "30", check_rc=False)
        keys2, pay2 = ue_sas()
        sessions = [json.loads(x) for x in hactl("show", "ike", "--json").split("\n")
                    if x.startswith("{")]
        check(r.returncode == 0 and r1.returncode == 0 and r2.returncode == 0 and
              [s["home_prefix"] for s in sessions] == ["2001:db8:100::/64"] and
              ike_counter("ike-orphan-re-authenticated") == 1,
              f"10. the UE attached again: the same home prefix, its session taken up again "
              f"(RFC 5026, TS 24.303 5.1.3.1: {sessions})")
        tables = e2e.telemetry(prefix, "/hadp/tables")
        sigsas = hactl("show", "sas")
        check(tables["sas"] == 4 and f"0x{keys['in'][0]:08x}" not in sigsas and
              f"0x{keys['out'][0]:08x}" not in sigsas and "in" in keys2 and
              f"0x{keys2['out'][0]:08x}" in sigsas and pay2.get("in") != pay.get("in"),
              f"10. the old IKE SA's child SAs left hadp and hacpd, the new ones are in "
              f"({tables['sas']} SAs; hactl show sas: {sigsas.strip()})")
        after = bindings()
        check(len(after) == 1 and after[0]["home_prefix"] == "2001:db8:100::" and
              after[0]["sequence"] == 3,
              f"10. the binding of the prefix stays through the new attach ({after})")
        ba = refresh_bu(keys2, 4) if "in" in keys2 and "out" in keys2 else None
        after = bindings()
        check(ba == (keys2["in"][0], 6, 0, 4) and len(after) == 1 and
              after[0]["sequence"] == 4 and after[0]["sa_in"] == keys2["out"][0] and
              e2e.telemetry(prefix, "/hadp/tables")["bindings"] == 1,
              f"10. the UE's BU under the new child SA updates that binding: replaced, not "
              f"duplicated ({ba}, {after})")
        if "in" in pay2 and "out" in pay2:
            down = downlink(pay2, b"down-after-reattach")
            up = uplink(pay2, 1, b"up-after-reattach")
            old = uplink(pay, 3, b"up-under-the-old-sa")
            check(down == [(HA4, UE4, 4500, pay2["in"][0], 41, e2e.HOA, True)] and
                  len(up) == 1 and not old,
                  f"10. the new payload SA carries the data both ways, the old one nothing "
                  f"({down}, {len(up)} up, {len(old)} under the old SA)")

        # 8. the IKE SA ends while hacpd is away (the HA's charon drops it): the plugin tells
        # hacpd when it is back, and the session, its SAs and the binding go
        connects = open(ha.log).read().count("dsmip6: connected to hacpd")
        hacpd.kill()
        hacpd.wait()
        procs.remove(hacpd)
        ha.swanctl("--terminate", "--ike", "ue", "--force", "--timeout", "5", check_rc=False)
        hacpd = daemons.start_hacpd(f"{work}/hactl.sock", args=["--max-seconds", "300"])
        procs.append(hacpd)
        tables = {}
        for _ in range(100):
            tables = e2e.telemetry(prefix, "/hadp/tables")
            if open(ha.log).read().count("dsmip6: connected to hacpd") > connects and \
                    tables["sas"] == 0 and tables["bindings"] == 0:
                break
            time.sleep(0.1)
        check("ended while hacpd was away" in open(ha.log).read() and tables["sas"] == 0 and
              tables["bindings"] == 0,
              f"8. an IKE SA that ended while hacpd was down is told when it is back: its SAs "
              f"and binding left hadp ({tables})")

        ue.stop()
        charons.remove(ue)
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
        hs = json.load(open(f"{work}/hadp.json"))
        cs = json.load(open(f"{work}/hacpd.json"))
        c = hs["counters"]
        check(c.get("esp-encrypted", 0) >= 1 and c.get("esp-decrypted", 0) >= 2 and
              c.get("drop-esp-encapsulation-not-sa", 0) == 0,
              f"6. hadp: ESP encrypted {c.get('esp-encrypted')}, decrypted "
              f"{c.get('esp-decrypted')}, nothing refused for its encapsulation")
        check(cs["ike"]["ike-sa-down"] == 1,
              f"8. the last hacpd ended the session it adopted ({cs['ike'].get('ike-sa-down')})")
        check(hadp.returncode == 0 and hs["mbufs_in_use"] == 0, "hadp stopped cleanly, no mbuf held")
    finally:
        e2e.stop_all(charons, procs)
        for dev in (link, clink):
            subprocess.run(["ip", "link", "del", dev], capture_output=True)
        for ns in (ns_ha, ns_ue, ns_nat, ns_core):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    print(f"ike_nat: {len(e2e.failures)} failed" if e2e.failures else "ike_nat: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
