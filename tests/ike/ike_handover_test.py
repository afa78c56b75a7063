#!/usr/bin/python3
"""A UE's journey between accesses with its IKE SA kept (the K bit), against the real peer: the
UE's charon (the test plugin moves its IKE SA when the test moves the UE), the HA's charon with
the appliance's plugin, IKE through hadp (net_pcap on veths), a NAT in a namespace (nftables).

    ns_ue: ue0 (care-of addresses; 10.0.0.2) -- in0  ns_acc: a router for IPv6, a NAT for IPv4
                                                out0 (2001:db8:ffff::2, 192.0.2.20) -- hadp access
    ns_ue: uh (the home address) -------------------------------------------------- hadp core
           (the home link: 3GPP access, 001 2. "the 3GPP access shall be considered as UE home
           link")

000 (the UE always sets K, also when it returns home) with 001 5.2.3.2 ("independent of an IPv6
or IPv4 access"; the HA updates its IKEv2 SA to the UE's care-of address as the peer address and
returns the BA with K set) and RFC 4877 4.4. After each move an exchange initiated by the UE and
one initiated by the HA (CREATE_CHILD_SA rekeying the BU/BA child SA) must succeed:
  1. attach over IPv6 from care-of address 1, BU with K: BA status 0 with K; both exchanges;
  2. to IPv4 behind a NAT (the IPv6 address gone): the BU in UDP 4191 (RFC 5555 4.1) with K:
     BA with K through the NAT; the HA's IKE SA is now IPv4 to IPv4 on UDP 4500 (RFC 7296
     2.23), the UE's NAT port taken from its next IKE message; both exchanges;
  3. to IPv6 again, care-of address 2 (the IPv4 address gone): BU with K, BA with K; the IKE
     SA IPv6 again; both exchanges;
  4. home (001 5.2.3.3, RFC 6275 10.3.2 / 11.7.1, 000 5.2.2.4: K set in the de-registration BU):
     the UE on the home link (hadp's core port) sends its lifetime-0 BU from the home address,
     no HAO, under ESP: the BA (status 0, K) comes back through the core port; the HA's IKE SA
     moves to the home address; both exchanges through the core port;
  5. network-initiated detach closed by the UE (003 8.4.3.1 and 8.4.3.3, 004 5.4.2.1 /
     5.4.3.1): away again (care-of address 1, a new binding), `hactl detach NAI`; the UE answers
     the BRI (decrypted here) with a BRA under its SA: the binding goes, the HA waits, and the
     UE's own DELETE closes the IKE SA: the HA never sent one;
  6. the guard (ike.detach_guard_s): a new IKE SA and binding (the pool's next
     prefix), `hactl detach NAI`, the UE's de-registration crossing the BRI (004 5.4.3.1: it
     counts as the BRA), and no DELETE from the UE: the HA keeps the IKE SA for the guard's
     time (20 s here), then deletes it itself.

usage: ike_handover_test.py BUILD_DIR WORK_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ike_e2e_test as e2e  # noqa: E402
import esp  # noqa: E402  the test UE's ESP (AES-GCM, RFC 4106), tests/lib

from scapy.all import IPv6, Raw, raw  # noqa: E402
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt, MIP6MH_Generic  # noqa: E402

HA6, HA4, HOA = e2e.HA6, "192.0.2.1", e2e.HOA
COA1, COA2, ROUTER6 = "2001:db8:ffff:a::a", "2001:db8:ffff:a::b", "2001:db8:ffff:a::1"
ACC6 = "2001:db8:ffff::2"
UE4, NAT_IN, NAT_OUT = "10.0.0.2", "10.0.0.1", "192.0.2.20"
GUARD_S = 20  # long enough for the test's own steps on a loaded machine
HOA2 = e2e.HOA2  # the pool's next prefix, for the second IKE SA
check = e2e.check


def bra_mh(hoa, seq):
    """RFC 5846 6.2: the Binding Revocation Acknowledgement, status 0, answering BRI seq."""
    body = bytes([59, 1, 16, 0, 0, 0, 2, 0]) + seq.to_bytes(2, "big") + bytes([0, 0, 1, 2, 0, 0])
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    return raw(IPv6(src=hoa, dst=HA6) / mh)[40:]


def bu_mh(hoa, seq, lifetime_s, coa4=None):
    """A BU (RFC 6275 6.1.7) with A, H and K set (000: K always), its checksum over hoa -> HA,
    with the IPv4 Care-of Address option (RFC 5555 3.1.3) when coa4 is given."""
    body = bytes([59, 0, 5, 0, 0, 0]) + seq.to_bytes(2, "big") + bytes([0xD0, 0]) + \
        (lifetime_s // 4).to_bytes(2, "big")
    if coa4:
        body += bytes([32, 6, 0, 0]) + bytes(map(int, coa4.split(".")))  # at 12: 4n
    body += bytes([1, 2, 0, 0])                                          # PadN to 8n
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    return raw(IPv6(src=hoa, dst=HA6) / mh)[40:]


class Ue:
    """The UE's side: the keys of its newest BU/BA child SA (its SA log) and the ESP sequence
    numbers used under each."""

    def __init__(self, sa_log):
        self.sa_log, self.seq, self.hoa = sa_log, {}, HOA

    def lines(self):
        return open(self.sa_log).read().split("\n") if os.path.exists(self.sa_log) else []

    def keys(self):
        k = {}
        for line in self.lines():
            f = line.split()
            if len(f) == 8 and f[2] == "transport" and f[7] == f"{self.hoa}/128":
                k[f[1]] = (int(f[0], 16), bytes.fromhex(f[5]))
        return k

    def seal(self, mh):
        spi, key = self.keys()["out"]
        self.seq[spi] = self.seq.get(spi, 0) + 1
        return esp.gcm_seal(spi, self.seq[spi], key, mh, 135)

    def open_mh(self, body, mh_type):
        """A Mobility Header of mh_type under the newest inbound SA, or None."""
        spi, key = self.keys()["in"]
        try:
            got, _, mh, nh = esp.gcm_open(body, key)
        except Exception:  # noqa: BLE001 - not under this key
            return None
        if got != spi or nh != 135 or len(mh) < 12 or mh[2] != mh_type:
            return None
        return mh

    def open_ba(self, esp):
        """The BA under the newest inbound SA: (spi, status, flags) or None."""
        mh = self.open_mh(esp, 6)
        return (self.keys()["in"][0], mh[6], mh[7]) if mh else None


def in_ns(ns, code):
    return e2e.sh("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code, check_rc=False)


def l2_exchange(ns, iface, dst_mac, packet, ba_esp_at):
    """Send an IPv6 packet (bytes) in an Ethernet frame to dst_mac on iface inside ns and return
    the ESP of the first IPv6 non-UDP packet from the HA that comes back (its ESP header at
    ba_esp_at octets after the IPv6 header: 24 with the type 2 routing header, 0 without)."""
    out = in_ns(ns, f"""
import threading
from scapy.all import AsyncSniffer, Ether, IPv6, UDP, raw, sendp
up = threading.Event()
s = AsyncSniffer(iface="{iface}", count=1, timeout=20, started_callback=up.set,
                 lfilter=lambda p: IPv6 in p and p[IPv6].src == "{HA6}" and UDP not in p)
s.start()
up.wait(20)
sendp(Ether(dst="{dst_mac}") / IPv6(bytes.fromhex("{packet.hex()}")), iface="{iface}",
      verbose=False)
s.join()
for p in s.results or []:
    print(raw(p[IPv6]).hex())
""").stdout.split()
    if not out:
        return None
    ip = bytes.fromhex(out[0])
    return ip[40 + ba_esp_at:]


def ns_capture(ns, iface):
    """Start capturing, inside ns, the first IPv6 packet from the HA that is not UDP (BA, BRI);
    its IPv6 header on, in hex, is on the process's stdout when it ends."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", f"""
import threading
from scapy.all import AsyncSniffer, IPv6, UDP, raw
up = threading.Event()
s = AsyncSniffer(iface="{iface}", count=1, timeout=20, started_callback=up.set,
                 lfilter=lambda p: IPv6 in p and p[IPv6].src == "{HA6}" and UDP not in p)
s.start()
up.wait(20)
print("ready", flush=True)
s.join()
for p in s.results or []:
    print(raw(p[IPv6]).hex())
"""], stdout=subprocess.PIPE, text=True)


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue, ns_acc = (f"hox-{x}-{tag}" for x in ("ha", "ue", "acc"))
    link, clink = f"ha{tag}"[:15], f"hh{tag}"[:15]  # hadp's access and core ends
    charons, procs, installed = [], [], []
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, HA6)
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {e2e.NAI}\n    k: {e2e.K}\n    opc: {e2e.OPC}\n")
        for ns in (ns_ha, ns_ue, ns_acc):
            e2e.sh("ip", "netns", "add", ns)
        e2e.sh("ip", "link", "add", "ue0", "netns", ns_ue, "type", "veth", "peer", "name", "in0",
               "netns", ns_acc)
        e2e.sh("ip", "link", "add", link, "type", "veth", "peer", "name", "out0", "netns", ns_acc)
        e2e.sh("ip", "link", "add", clink, "type", "veth", "peer", "name", "uh", "netns", ns_ue)
        for dev in (link, clink):
            e2e.sh("ip", "link", "set", dev, "up")
            e2e.sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")  # hadp's, not ours
        e2e.sh("ip", "addr", "add", f"{COA1}/64", "dev", "ue0", "nodad", ns=ns_ue)
        e2e.sh("ip", "addr", "add", f"{HOA}/64", "dev", "uh", "nodad", ns=ns_ue)
        e2e.sh("ip", "addr", "add", f"{ROUTER6}/64", "dev", "in0", "nodad", ns=ns_acc)
        e2e.sh("ip", "addr", "add", f"{NAT_IN}/24", "dev", "in0", ns=ns_acc)
        e2e.sh("ip", "addr", "add", f"{ACC6}/64", "dev", "out0", "nodad", ns=ns_acc)
        e2e.sh("ip", "addr", "add", f"{NAT_OUT}/24", "dev", "out0", ns=ns_acc)
        for ns, dev in ((ns_ue, "ue0"), (ns_ue, "uh"), (ns_acc, "in0"), (ns_acc, "out0")):
            e2e.sh("ip", "link", "set", dev, "up", ns=ns)
            # a veth never computes the checksums its kernel leaves to offload; hadp checks them
            e2e.sh("ethtool", "-K", dev, "tx", "off", ns=ns)
        e2e.sh("ip", "link", "set", "lo", "up", ns=ns_ue)
        e2e.sh("ip", "-6", "route", "add", "default", "via", ROUTER6, "dev", "ue0", ns=ns_ue)
        e2e.sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=ns_acc)
        e2e.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=ns_acc)
        for rule in ("table ip nat",
                     "chain ip nat post { type nat hook postrouting priority 100 ; }",
                     'rule ip nat post oifname "out0" meta l4proto udp masquerade to :41000-41999',
                     'rule ip nat post oifname "out0" masquerade'):
            e2e.sh("nft", "add", *rule.split(), ns=ns_acc)
        acc_mac = e2e.sh("cat", "/sys/class/net/out0/address", ns=ns_acc).stdout.strip()
        router_mac = e2e.sh("cat", "/sys/class/net/in0/address", ns=ns_acc).stdout.strip()
        uh_mac = e2e.sh("cat", "/sys/class/net/uh/address", ns=ns_ue).stdout.strip()
        hadp_core_mac = open(f"/sys/class/net/{clink}/address").read().strip()

        prefix = f"ike-hox-{tag}"
        cfg = e2e.ha_config(work, prefix, pki)
        text = open(cfg).read()
        text = text.replace(
            f'    access: {{ device: net_memif0, devargs: "role=server,id=0,rsize=12,socket={work}/access.sock" }}',
            f'    access: {{ device: net_pcap0, devargs: "rx_iface_in={link},tx_iface={link},'
            f'tx_iface={link}", next_hop_mac: "{acc_mac}" }}')
        text = text.replace(
            f'    core: {{ device: net_memif1, devargs: "role=server,id=0,rsize=12,socket={work}/core.sock" }}',
            f'    core: {{ device: net_pcap1, devargs: "rx_iface_in={clink},tx_iface={clink},'
            f'tx_iface={clink}", next_hop_mac: "{uh_mac}" }}')
        text = re.sub(r"  detach_guard_s: \d+\n", f"  detach_guard_s: {GUARD_S}\n", text)
        open(cfg, "w").write(text)
        daemons = e2e.start_appliance(build, work, cfg, prefix, procs, 240)
        hadp = daemons.hadp

        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons)
        move_file = f"{work}/ue.move"
        uec = e2e.Charon(work, "ue", ns_ue, "dsmip6-ue",
                         f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n sa_log = {work}/ue.sas\n"
                         f" move_file = {move_file} }}\n"
                         # the test moves the UE's IKE SA itself (the plugin), as a DSMIPv6 UE
                         # does with its BU; charon's own reaction to address changes (a
                         # reauthentication without MOBIKE) is not the UE's procedure
                         "    kernel-netlink { roam_events = no }")
        charons.append(uec)
        uec.load(e2e.ue_swanctl(e2e.NAI).replace(f"local_addrs = {e2e.UE6}",
                                                 f"local_addrs = {COA1}"),
                 [(f"{pki}/ca.crt", "x509ca")])
        ue = Ue(f"{work}/ue.sas")

        def hactl(*args):
            return subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock",
                                   *args], capture_output=True, text=True, timeout=20).stdout

        def ha_ends():
            """The HA's IKE SA's two ends as swanctl shows them: 'local[port] remote[port]'."""
            out = ha.swanctl("--list-sas", "--ike", "ue").stdout
            m = re.search(r"local\s+'[^']*' @ (\S+)\s+remote\s+'[^']*' @ (\S+)", out)
            return (m.group(1), m.group(2)) if m else None

        def ue_moves(local, port, remote):
            """The UE's charon follows the UE (the test plugin), as a real UE's would."""
            with open(move_file + ".tmp", "w") as f:
                f.write(f"{local} {port} {remote} {port}\n")
            if os.path.exists(move_file + ".done"):
                os.unlink(move_file + ".done")
            os.replace(move_file + ".tmp", move_file)
            for _ in range(100):
                if os.path.exists(move_file + ".done"):
                    return
                time.sleep(0.05)
            raise RuntimeError("the UE's charon did not move")

        def rekey(side, what):
            """An IKE exchange (CREATE_CHILD_SA rekeying the BU/BA child SA) initiated by side;
            done when the UE holds the new SA pair (its SA log)."""
            before = len([x for x in ue.lines() if x])
            (ha if side == "HA" else uec).swanctl("--rekey", "--child", "bu", check_rc=False)
            for _ in range(150):
                if len([x for x in ue.lines() if x]) >= before + 2:
                    break
                time.sleep(0.1)
            check(len([x for x in ue.lines() if x]) >= before + 2,
                  f"{what}: a CREATE_CHILD_SA initiated by the {side} completed (the BU/BA "
                  f"child SA rekeyed: {ha_ends()})")

        def ba_ok(step, ba):
            check(ba is not None and ba[1] == 0 and ba[2] & 0x80,
                  f"{step}: BA status 0 with K set, under IKE's newest inbound SA ({ba})")

        # 1. IPv6 care-of address 1 (001 5.2.3.1: the initial registration, K set)
        r = uec.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        r2 = uec.swanctl("--initiate", "--child", "bu", "--timeout", "30", check_rc=False)
        check(r.returncode == 0 and r2.returncode == 0 and "in" in ue.keys(),
              f"1. the UE attached over IPv6 from {COA1} with its BU/BA child SA" +
              ("" if r.returncode == 0 else f": {r.stdout[-300:]}"))
        bu = IPv6(src=COA1, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA)]) / \
            Raw(ue.seal(bu_mh(HOA, 1, 400)))
        esp = l2_exchange(ns_ue, "ue0", router_mac, raw(bu), 24)
        ba_ok("1. 001 5.2.3.1 IPv6 access", esp and ue.open_ba(esp))
        ends = ha_ends()
        check(ends and ends[0].startswith(f"{HA6}[") and ends[1].startswith(f"{COA1}["),
              f"1. the HA's IKE SA between its IPv6 address and the care-of address: {ends}")
        rekey("UE", "1. IPv6 access")
        rekey("HA", "1. IPv6 access")

        # 2. IPv4 behind a NAT: the UE's IPv6 address is gone
        e2e.sh("ip", "addr", "add", f"{UE4}/24", "dev", "ue0", ns=ns_ue)
        e2e.sh("ip", "route", "add", "default", "via", NAT_IN, ns=ns_ue)
        ue_moves(UE4, 4500, HA4)
        e2e.sh("ip", "addr", "del", f"{COA1}/64", "dev", "ue0", ns=ns_ue)
        inner = raw(IPv6(src=HOA, dst=HA6, nh=50) / Raw(ue.seal(bu_mh(HOA, 2, 400, UE4))))
        got = in_ns(ns_ue, f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{UE4}", 0))
s.settimeout(8)
s.sendto(bytes.fromhex("{inner.hex()}"), ("{HA4}", 4191))
data, src = s.recvfrom(4096)
print(src[0], src[1], data.hex())
""").stdout.split()
        ba = ue.open_ba(bytes.fromhex(got[2])[40:]) if len(got) == 3 and got[0] == HA4 else None
        ba_ok("2. 001 5.2.3.2 IPv4 access behind a NAT (RFC 5555 4.1)", ba)
        ends = ha_ends()
        check(ends == (f"{HA4}[4500]", f"{NAT_OUT}[4500]"),
              f"2. the HA's IKE SA moved across families, both ends, to UDP 4500: {ends}")
        rekey("UE", "2. IPv4 behind a NAT")
        ends = ha_ends()
        check(ends and ends[0] == f"{HA4}[4500]" and re.fullmatch(
              re.escape(NAT_OUT) + r"\[41\d\d\d\]", ends[1]) is not None,
              f"2. the UE's message told the HA the NAT's port for its IKE (RFC 7296 2.23): {ends}")
        rekey("HA", "2. IPv4 behind a NAT")

        # 3. IPv6 again, care-of address 2: the IPv4 address is gone
        e2e.sh("ip", "addr", "add", f"{COA2}/64", "dev", "ue0", "nodad", ns=ns_ue)
        ue_moves(COA2, 4500, HA6)
        e2e.sh("ip", "addr", "del", f"{UE4}/24", "dev", "ue0", ns=ns_ue)
        bu = IPv6(src=COA2, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA)]) / \
            Raw(ue.seal(bu_mh(HOA, 3, 400)))
        esp = l2_exchange(ns_ue, "ue0", router_mac, raw(bu), 24)
        ba_ok("3. 001 5.2.3.2 IPv6 access again", esp and ue.open_ba(esp))
        check(ha_ends() == (f"{HA6}[4500]", f"{COA2}[4500]"),
              f"3. the HA's IKE SA is IPv6 again, still on UDP 4500: {ha_ends()}")
        rekey("UE", "3. IPv6 access again")
        rekey("HA", "3. IPv6 access again")

        # 4. home: the home link is behind hadp's core port; the care-of address is gone
        e2e.sh("ip", "-6", "route", "add", f"{HA6}/128", "dev", "uh", ns=ns_ue)
        e2e.sh("ip", "-6", "neigh", "replace", HA6, "lladdr", hadp_core_mac, "dev", "uh",
               "nud", "permanent", ns=ns_ue)
        ue_moves(HOA, 4500, HA6)
        e2e.sh("ip", "addr", "del", f"{COA2}/64", "dev", "ue0", ns=ns_ue)
        bu = IPv6(src=HOA, dst=HA6, nh=50) / Raw(ue.seal(bu_mh(HOA, 4, 0)))
        esp = l2_exchange(ns_ue, "uh", hadp_core_mac, raw(bu), 0)
        ba_ok("4. 001 5.2.3.3 home: the lifetime-0 BU from the home link (hadp's core port)",
              esp and ue.open_ba(esp))
        check(HOA not in hactl("show", "bindings"), "4. RFC 6275 10.3.2: the binding is gone")
        check(ha_ends() == (f"{HA6}[4500]", f"{HOA}[4500]"),
              f"4. RFC 6275 11.7.1: the HA's IKE SA moved to the home address: {ha_ends()}")
        rekey("UE", "4. at home")
        rekey("HA", "4. at home")

        # 5. away again, then a network-initiated detach that the UE's DELETE closes
        e2e.sh("ip", "addr", "add", f"{COA1}/64", "dev", "ue0", "nodad", ns=ns_ue)
        e2e.sh("ip", "-6", "route", "del", f"{HA6}/128", "dev", "uh", ns=ns_ue)
        ue_moves(COA1, 4500, HA6)
        bu = IPv6(src=COA1, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA)]) / \
            Raw(ue.seal(bu_mh(HOA, 5, 400)))
        esp = l2_exchange(ns_ue, "ue0", router_mac, raw(bu), 24)
        ba_ok("5. 001 5.2.3.1 home to a foreign link", esp and ue.open_ba(esp))
        cap = ns_capture(ns_ue, "ue0")
        cap.stdout.readline()  # the sniffer is up
        time.sleep(0.5)
        hactl("detach", e2e.NAI)
        out = cap.communicate(timeout=30)[0].split()
        bri = ue.open_mh(bytes.fromhex(out[0])[40 + 24:], 16) if out else None
        check(bri is not None and bri[6] == 1,
              "5. 004 5.4.3.1: the BRI reached the UE at its care-of address, under its SA")
        if bri is not None:
            bra = IPv6(src=COA1, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA)]) / \
                Raw(ue.seal(bra_mh(HOA, int.from_bytes(bri[8:10], "big"))))
            in_ns(ns_ue, f"""
from scapy.all import Ether, IPv6, sendp
sendp(Ether(dst="{router_mac}") / IPv6(bytes.fromhex("{raw(bra).hex()}")), iface="ue0",
      verbose=False)
""")
        for _ in range(100):
            if HOA not in hactl("show", "bindings"):
                break
            time.sleep(0.1)
        gone_at = time.monotonic()
        check(HOA not in hactl("show", "bindings"),
              "5. 004 5.4.2.1 / 5.4.3.1: the UE's BRA ended the binding")
        check("ESTABLISHED" in ha.swanctl("--list-sas", "--ike", "ue").stdout,
              "5. 003 8.4.3.1: the HA waits for the UE to close its IKE SA")
        uec.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
        closed = False
        for _ in range(100):
            if "ESTABLISHED" not in ha.swanctl("--list-sas", "--ike", "ue").stdout:
                closed = True
                break
            time.sleep(0.1)
        ha_log = open(ha.log).read()
        check(closed and "received DELETE for IKE_SA" in ha_log and
              time.monotonic() - gone_at < GUARD_S,
              "5. 003 8.4.3.3: the UE's DELETE closed the IKE SA, before the guard ran out")
        check("hacpd detached the UE" not in ha_log and "sending DELETE for IKE_SA" not in ha_log,
              "5. 003 8.4.3.1: the HA never sent a DELETE of its own")
        check(f"{e2e.NAI}" not in hactl("show", "ike"), "5. and hacpd ended the UE's session")

        # 6. the guard: a UE that does not delete its IKE SA after a detach
        r = uec.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        r2 = uec.swanctl("--initiate", "--child", "bu2", "--timeout", "30", check_rc=False)
        ue.hoa = HOA2
        check(r.returncode == 0 and r2.returncode == 0 and "in" in ue.keys(),
              "6. a new IKE SA, and the BU/BA child SA of the pool's next prefix")
        bu = IPv6(src=COA1, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA2)]) / \
            Raw(ue.seal(bu_mh(HOA2, 1, 400)))
        esp = l2_exchange(ns_ue, "ue0", router_mac, raw(bu), 24)
        ba_ok("6. its registration", esp and ue.open_ba(esp))
        hactl("detach", e2e.NAI)
        time.sleep(1.5)  # the BRI and its retransmission have gone by
        bu = IPv6(src=COA1, dst=HA6) / IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA2)]) / \
            Raw(ue.seal(bu_mh(HOA2, 2, 0)))
        esp = l2_exchange(ns_ue, "ue0", router_mac, raw(bu), 24)
        ba_ok("6. 004 5.4.3.1: the de-registration crossing the BRI", esp and ue.open_ba(esp))
        gone_at = time.monotonic()
        check(HOA2 not in hactl("show", "bindings"), "6. it ended the binding as a BRA would")
        time.sleep(GUARD_S / 2)
        check("ESTABLISHED" in ha.swanctl("--list-sas", "--ike", "ue").stdout,
              f"6. the HA keeps the IKE SA {GUARD_S / 2:.0f} s on (guard {GUARD_S} s)")
        closed = False
        for _ in range(200):
            if "ESTABLISHED" not in ha.swanctl("--list-sas", "--ike", "ue").stdout:
                closed = True
                break
            time.sleep(0.1)
        waited = time.monotonic() - gone_at
        check(closed and waited >= GUARD_S - 1.5 and "hacpd detached the UE" in open(ha.log).read(),
              f"6. no DELETE from the UE: the HA deleted the IKE SA itself when the guard ran out "
              f"({waited:.1f} s after the binding went)")

        uec.stop()
        charons.remove(uec)
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
        hs = json.load(open(f"{work}/hadp.json"))
        cs = json.load(open(f"{work}/hacpd.json"))
        ci = cs["ike"]
        check(ci["peer-moves"] >= 5 and ci["ike-detach-waiting-for-ue-delete"] == 2 and
              ci["ike-detach-closed-by-ue"] == 1 and ci["ike-detach-deleted-by-guard"] == 1,
              f"hacpd: {ci['peer-moves']} IKE SA moves; 2 detaches waited for, 1 closed by the "
              f"UE, 1 by the guard ({ci})")
        check(hs["counters"].get("drop-esp-core-not-signalling", 0) == 0 and
              hs["punt"].get("mobility-header-esp", 0) >= 8,
              f"hadp: every BU punted after ESP ({hs['punt'].get('mobility-header-esp')})")
        check(hadp.returncode == 0 and hs["mbufs_in_use"] == 0, "hadp stopped cleanly, no mbuf held")
    finally:
        e2e.stop_all(charons, procs)
        for dev in (link, clink):
            subprocess.run(["ip", "link", "del", dev], capture_output=True)
        for ns in (ns_ha, ns_ue, ns_acc):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    print(f"ike_handover: {len(e2e.failures)} failed" if e2e.failures else
          "ike_handover: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
