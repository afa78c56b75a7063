#!/usr/bin/python3
"""IKEv2 against a real peer: Debian's charon-systemd as the Home Agent with the appliance's
plugin (libstrongswan-dsmip6) talking to a running hacpd and hadp, configured from the YAML by
deploy/charon_conf.py as the appliance runs it, and a second charon-systemd as
the UE with the test plugin (libstrongswan-dsmip6-ue: USIM, MIP6_HOME_PREFIX request, an SA log),
each in its own network namespace joined by a veth pair.

TS 24.302 7.2.2 / 3GPP TS 33.402 8.2.2 (IKEv2 with EAP-AKA, the HA authenticated by certificate),
TS 33.102 6.3 (AKA: the USIM verifies AUTN, re-synchronises with AUTS when the SQN is not fresh):
  1. a subscriber whose USIM holds its K and OPc attaches: the HA's IKE SA is ESTABLISHED with
     the UE's EAP identity;
  2. a USIM ahead of the HA's SQN (another HSS served it) re-synchronises and attaches;
  3. a wrong RES (the USIM's answer corrupted, the EAP-AKA messages otherwise valid) is refused
     by the HA (RES != XRES);
  4. a UE whose K differs refuses the HA's challenge (AUTN does not verify);
  5. an identity not in the subscriber file is refused.
TS 24.303 5.1.3.1 / RFC 5026 / RFC 4877 with hacpd and hadp:
  6. the attached UE gets MIP6_HOME_PREFIX (21 octets: lifetime, the first prefix of the PDN's
     pool, /64) and hacpd holds its session;
  7. the BU/BA child SA (transport, the home address and protocol 135 as selectors, made with
     CREATE_CHILD_SA) goes into hadp's SA table and hacpd's signalling SAs; the UE's SA log
     holds the same SPIs;
  8. a child SA for another UE's home address is refused (hacpd: not in the session's prefix);
  9. the UE's ESP-protected BU, built here (scapy, python3-cryptography) with the keys IKE gave
     the UE, goes through hadp: the BA comes back under IKE's outbound SA with status 0
     (TS 24.303 5.1.3.2), then data flows both ways through the tunnel;
 10. (a second session) the UE's DELETE (004 5.4.3.2) takes its SAs out of hadp and its
     session out of hacpd;
 11. a handover BU with K set from a new care-of address (000, 001 5.2.3.2): the HA's IKE SA
     moves there (RFC 4877 4.4; swanctl --list-sas shows it);
 16. a payload child SA (tunnel mode, the UE's prefix): hacpd binds it to the UE's binding,
     hadp encrypts the downlink under it and decrypts the UE's ESP uplink;
 15. charon's query_sa gets hadp's packet and byte counters of the BU/BA SA (swanctl
     --list-sas shows them);
 14. the same UE on a second PDN (IDr = its APN, 002 4.3): a second IKE SA with another prefix;
     the detach of step 12 leaves it alone;
 13. the UE's INTERNAL_IP4_ADDRESS request gets an address of the PDN's IPv4 pool, which its BU
     (IPv4 Home Address option 0.0.0.0) then gets in the BA's IPv4 Address Acknowledgement;
 12. hactl show ike and show binding by NAI; network-initiated detach by NAI (hactl detach NAI,
     004 5.4.3.1): without a BRA the binding stays after the last BRI, and the HA does not
     delete the UE's IKE SA (003 8.4.3.1: the UE's to close); the UE's DELETE then leaves
     nothing of it in hadp or hacpd. (The detach completed by a BRA, the UE's DELETE after it
     and the guard for a UE that does not delete: ike_handover steps 5 and 6.)

usage: ike_e2e_test.py BUILD_DIR WORK_DIR
"""
import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
import esp  # noqa: E402  the test UE's ESP (AES-GCM, RFC 4106), tests/lib
from appliance import Daemons, wait_until  # noqa: E402  hadp and hacpd started, tests/lib
# charon in a namespace, the plugins, the HA's charon as deployed (tests/lib; the IKE tests
# reach them through this module)
from charon import (Charon, bu_child, ha_charon, install_plugins, sh,  # noqa: E402,F401
                    stop_all, ue_conn, uninstall_ue_plugin)
from scapy.all import UDP, Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, MIP6MH_Generic  # noqa: E402

HA6, UE6 = "2001:db8:ffff::1", "2001:db8:ffff::a"
HA_ID = "ha.lab.example.com"
NAI = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
K = "465b5ce8b199b49faa5f0a2ee238a6bc"      # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
WRONG_K = "fec86ba6eb707ed08905757b1bb44b8f"
HOA = "2001:db8:100::1"         # the UE's home address in the first prefix of the pool
OTHER_HOA = "2001:db8:100:77::1"  # in a prefix that is not the UE's
HOA2 = "2001:db8:100:1::1"        # the next prefix the pool gives (the first went back to it)

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def ue_swanctl(nai):
    """The UE's connections: "ha" with its child SAs (the BU/BA one of each session's home
    address, the payload one, one for another UE's home address), and "ha-ims"."""
    children = bu_child("bu2", HOA2, HA6) + bu_child("bu", HOA, HA6) + """      payload {
        mode = tunnel
        local_ts = 2001:db8:100::/64
        remote_ts = ::/0
        esp_proposals = aes128gcm16
        policies = no
        start_action = none
      }
""" + bu_child("steal", OTHER_HOA, HA6)
    # 002 4.3: the same UE on a second PDN, named by IDr (TS 24.303 5.1.2.2): "ha-ims"
    return "connections {\n" + ue_conn(nai, UE6, HA6, HA_ID, children) + \
        ue_conn(nai, UE6, HA6, "ims", None, name="ha-ims", vips=False, fragmentation=False) + \
        "}\n"


def ha_ue_link(ns_ha, ns_ue):
    """The HA's and the UE's namespaces, made, joined by a veth pair (veth-ha HA6, veth-ue
    UE6, both up with their loopbacks)."""
    for ns in (ns_ha, ns_ue):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "veth-ha", "netns", ns_ha, "type", "veth", "peer", "name", "veth-ue",
       "netns", ns_ue)
    for ns, dev, addr in ((ns_ha, "veth-ha", HA6), (ns_ue, "veth-ue", UE6)):
        sh("ip", "addr", "add", f"{addr}/64", "dev", dev, "nodad", ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)


def start_appliance(build, work, cfg, prefix, procs, seconds):
    """hadp, then hacpd attached to it with its IKE socket (tests/lib's Daemons: each waited
    for, its log and stats file in WORK), both running at most seconds and appended to procs,
    which the tests stop in reverse order. @return the Daemons (start_hacpd again after a kill)."""
    d = Daemons(build, work, cfg, prefix, hadp_args=["--max-seconds", str(seconds)],
                hacpd_args=["--max-seconds", str(seconds)])
    # the state files outlive both processes (docs/restarts.md): gone with the test
    atexit.register(shutil.rmtree, f"/run/ha/{prefix}", True)
    d.start_hadp()
    procs.append(d.hadp)
    d.start_hacpd(f"{work}/hactl.sock")
    procs.append(d.hacpd)
    wait_until(lambda: os.path.exists(f"{work}/ike.sock"), 10)
    return d


def ha_config(work, prefix, pki, radius=None, s6b=None):
    """hadp with memif ports (ha-pktgen-live plays the UE's access and the PDN) and hacpd with
    IKE on a socket of our own; the AAA is the subscriber file, or radius=(server, port,
    secret), or s6b (the YAML lines of ike.aaa and ike.s6b)."""
    aaa = (f"  aaa: radius\n  radius: {{ server: {radius[0]}, port: {radius[1]}, "
           f"secret: {radius[2]} }}\n") if radius else s6b if s6b else \
        f"  subscribers: {work}/subscribers.yaml\n"
    path = f"{work}/ha.yaml"
    with open(path, "w") as f:
        f.write(f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={prefix}", "--log-level=*:warning"]
  lcores: {{ main: 0, workers: [1] }}
  mempool: {{ mbufs: 2047, cache: 32 }}
  ports:
    access: {{ device: net_memif0, devargs: "role=server,id=0,rsize=12,socket={work}/access.sock" }}
    core: {{ device: net_memif1, devargs: "role=server,id=0,rsize=12,socket={work}/core.sock" }}
  tables: {{ max_bindings: 64, max_sas: 64 }}
home_agent:
  ipv6_address: "{HA6}"
  ipv4_address: 192.0.2.1
  revocation: {{ min_delay_bris_ms: 500, max_retransmissions: 1 }}
pdns:
  - {{ name: internet, home_prefix_pool: 2001:db8:100::/48, home_prefix_length: 64,
      ipv4_pool: 10.45.0.0/16 }}
  - {{ name: ims, home_prefix_pool: 2001:db8:200::/48, home_prefix_length: 64 }}
ike:
  enabled: true
  local_id: {HA_ID}
  certificate: {pki}/ha.crt
  private_key: {pki}/ha.key
  ca_certificate: {pki}/ca.crt
{aaa}  ike_lifetime: 7200
  detach_guard_s: 2
  socket: {work}/ike.sock
cli: {{ socket: "{work}/hactl.sock", mode: 0660, group: root }}
""")
    return path


def bu_packet(hoa, coa, spi, key, seq):
    """A BU for hoa from coa with the HAO (RFC 6275 6.1.7), H A K set, lifetime 450 s, asking for
    its IPv4 home address (RFC 5555 IPv4 Home Address option, 0.0.0.0/32), under the ESP
    transport SA spi/key (RFC 4877); its checksum over the home address, scapy computing it."""
    body = bytes([59, 0, 5, 0, 0, 0]) + seq.to_bytes(2, "big") + bytes([0xD4, 0]) + \
        (450 // 4).to_bytes(2, "big") + bytes([29, 6, 32 << 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    mh = raw(IPv6(src=hoa, dst=HA6) / mh)[40:]
    return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src=coa, dst=HA6) / \
        IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=hoa)]) / Raw(esp.gcm_seal(spi, seq, key, mh, 135))


def ipv4_ack(mh):
    """RFC 5555 3.2.1: the IPv4 Address Acknowledgement option (type 30) of a BA: status, address."""
    i = 12
    while i + 2 <= len(mh):
        if mh[i] == 0:
            i += 1
            continue
        if mh[i] == 30 and mh[i + 1] == 6:
            return (mh[i + 2], socket.inet_ntop(socket.AF_INET, mh[i + 4:i + 8]))
        i += 2 + mh[i + 1]
    return None


def telemetry(prefix, cmd):
    """hadp's DPDK telemetry (the protocol dpdk-telemetry.py speaks)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
    s.recv(1024)
    s.send(cmd.encode())
    out = json.loads(s.recv(65536).decode())
    s.close()
    return out[cmd]


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"ike-ha-{tag}", f"ike-ue-{tag}"
    installed = []
    charons = []
    procs = []
    try:
        install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, HA_ID, HA6, "ims")
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {NAI}\n    k: {K}\n    opc: {OPC}\n")
        ha_ue_link(ns_ha, ns_ue)

        # hadp, then hacpd attached to it with the IKE socket
        prefix = f"ike-e2e-{tag}"
        cfg = ha_config(work, prefix, pki)
        daemons = start_appliance(build, work, cfg, prefix, procs, 240)
        hadp = daemons.hadp
        check(os.path.exists(f"{work}/ike.sock"), "hacpd listens on its IKE socket")

        live, later = [], []

        def data_checks(coa, coa2, sas, pay):
            """9. and 11. from the captures of ha-pktgen-live, once it has stopped."""
            acc, core = rdpcap(f"{work}/from-access.pcap"), rdpcap(f"{work}/from-core.pcap")
            got, v4ack = [], []
            for p in acc:
                if IPv6ExtHdrRouting in p and p[IPv6ExtHdrRouting].type == 2:
                    spi, _, mh, nh = esp.gcm_open(raw(p[IPv6ExtHdrRouting].payload), sas["in"][1])
                    if mh[2] == 6:  # BA, not the BRIs of 12.
                        got.append((p[IPv6].dst, spi, mh[2], mh[6]))
                        v4ack.append(ipv4_ack(mh))
            want = [(coa, sas["in"][0], 6, 0), (coa2, sas["in"][0], 6, 0)]
            check(got[:1] == want[:1], f"9. the BA under IKE's outbound SA, status 0 ({got[:1]})")
            check(v4ack[:1] == [(0, "10.45.0.1")],
                  f"13. the BA's IPv4 Address Acknowledgement gives the address IKE gave ({v4ack})")
            down = []
            for p in acc:
                if IPv6 in p and p[IPv6].nh == 50 and IPv6ExtHdrRouting not in p:
                    spi, _, plain, nh = esp.gcm_open(raw(p[IPv6].payload), pay["in"][1])
                    if spi == pay["in"][0] and b"down-after-ike" in plain:
                        down.append((p[IPv6].dst, nh, IPv6(plain).dst))
            # the downlink crosses the handover BU: either care-of address is the UE's
            check(len(down) == 1 and down[0][0] in (coa, coa2) and down[0][1:] == (41, HOA),
                  f"16. downlink in ESP tunnel mode under the payload SA to the care-of address "
                  f"({down})")
            up = [p for p in core if b"up-after-ike" in raw(p)]
            check(len(up) == 1 and up[0][IPv6].src == HOA,
                  "16. uplink in ESP under the payload SA decrypted and forwarded")
            check(got == want, f"11. the handover BU is accepted, its BA to the new care-of "
                  f"address ({got})")

        def hactl(*args):
            r = subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock", *args],
                               capture_output=True, text=True, timeout=20)
            return r.stdout

        # the HA's charon as the appliance runs it: configured from the YAML
        ha = ha_charon(build, cfg, work, ns_ha, charons, "--kernel-socket")
        check("EAP-AKA subscribers" in open(ha.log).read(), "HA charon loaded the dsmip6 plugin "
              "and its subscriber file")

        def attach(name, usim, nai=NAI, then=None):
            ue = Charon(work, name, ns_ue, "dsmip6-ue",
                        f"    dsmip6-ue {{ {usim}\n sa_log = {work}/{name}.sas }}")
            charons.append(ue)
            try:
                ue.load(ue_swanctl(nai), [(f"{pki}/ca.crt", "x509ca")])
                r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "20", check_rc=False)
                sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
                if then:
                    then(ue)
                return r, sas, open(ue.log).read()
            finally:
                ue.stop()
                charons.remove(ue)
                ha.swanctl("--terminate", "--ike", "ue", "--force", "--timeout", "5", check_rc=False)

        # 1. TS 33.402 8.2.2: the subscriber attaches; 6.-9. its session (TS 24.303 5.1.3.1)
        def session(ue):
            log = open(ue.log).read()
            # RFC 5026 4.2.1: lifetime 7200 (ike_lifetime), 2001:db8:100::, /64
            want = "00001c20" + "20010db8010000000000000000000000" + "40"
            got = [l.split("MIP6_HOME_PREFIX ")[1].replace(":", "").strip()
                   for l in log.splitlines() if "dsmip6-ue: MIP6_HOME_PREFIX" in l]
            check(got == [want], f"6. the UE received MIP6_HOME_PREFIX, 21 octets: lifetime, "
                  f"prefix, length ({got})")
            # 13. TS 24.303 5.1.2.2: the IPv4 home address the UE asked for in CFG_REQUEST
            check("installing new virtual IP 10.45.0.1" in log and
                  "assigning virtual IP 10.45.0.1 to peer" in open(ha.log).read() and
                  '"ipv4_home_address":"10.45.0.1"' in hactl("show", "ike", "--json"),
                  "13. the UE got INTERNAL_IP4_ADDRESS 10.45.0.1 from the PDN's IPv4 pool; "
                  "hactl show ike has it")
            # 7. RFC 4877 4.1 / 002 5.1.2.2: the BU/BA child SA by CREATE_CHILD_SA
            r = ue.swanctl("--initiate", "--child", "bu", "--timeout", "20", check_rc=False)
            check(r.returncode == 0, "7. the BU/BA child SA (transport, home address, MH) is up")
            st = hactl("show", "sas", "--json")
            check(f'"home_address":"{HOA}"' in st and '"ike_sa":' in st and '"ike_sa":0' not in st,
                  "7. hacpd binds the child SA to the UE's home address")
            ue_sas = open(f"{ue.dir}/../{ue.name}.sas").read().split("\n") \
                if os.path.exists(f"{work}/{ue.name}.sas") else []
            spis = {l.split()[0] for l in ue_sas if l.strip()}
            check(len(spis) == 2 and all(f"{HOA}/128" in l for l in ue_sas if l.strip()),
                  "7. the UE's SA log holds the two SPIs with its home address as selector")
            tables = telemetry(prefix, "/hadp/tables")
            check(tables["sas"] == 2, f"7. hadp's SA table holds the child SA's two halves "
                  f"({tables['sas']})")
            # 8. another UE's home address: refused by hacpd, the child fails
            r = ue.swanctl("--initiate", "--child", "steal", "--timeout", "20", check_rc=False)
            check(r.returncode != 0, "8. a child SA for another UE's home address is refused")
            check(telemetry(prefix, "/hadp/tables")["sas"] == 2, "8. nothing more in hadp")
            # 16. the payload child SA (tunnel mode, the UE's prefix): hadp gets the pair, and
            # once the UE has a binding hacpd binds it there (TS 24.303 5.1.3.2 data in ESP)
            r = ue.swanctl("--initiate", "--child", "payload", "--timeout", "20", check_rc=False)
            check(r.returncode == 0 and telemetry(prefix, "/hadp/tables")["sas"] == 4,
                  "16. the payload child SA (tunnel mode) is in hadp's SA table")
            # 9. the BU under IKE's SA through hadp (TS 24.303 5.1.3.2), then data both ways
            sas, pay = {}, {}
            for line in open(f"{work}/{ue.name}.sas").read().split("\n"):
                f = line.split()
                if len(f) == 8:
                    (pay if f[2] == "tunnel" else sas)[f[1]] = (int(f[0], 16), bytes.fromhex(f[5]))
            if "in" in sas and "out" in sas and "in" in pay and "out" in pay:
                coa, cn = UE6, "2001:db8:9::1"  # registered from the address IKE runs on
                eth = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02")
                wrpcap(f"{work}/bu.pcap", [bu_packet(HOA, coa, sas["out"][0], sas["out"][1], 1)])
                wrpcap(f"{work}/none.pcap", [])
                wrpcap(f"{work}/up.pcap", [eth / IPv6(src=coa, dst=HA6) / IPv6(src=HOA, dst=cn) /
                                           UDP(sport=9, dport=7) / Raw(b"up-after-ike")])
                wrpcap(f"{work}/down.pcap", [eth / IPv6(src=cn, dst=HOA) / UDP(sport=7, dport=9) /
                                             Raw(b"down-after-ike")])

                # ha-pktgen-live stays connected until hadp has stopped (hadp's DPDK 22.11 memif
                # server can crash when its peer goes while it polls); its captures are checked
                # at the end. First the BU from the address IKE runs on; after a pause data both
                # ways and the handover BU from a new care-of address with K set (11.)
                coa2 = "2001:db8:aaaa::2"
                inner = raw(IPv6(src=HOA, dst=cn) / UDP(sport=9, dport=7) / Raw(b"up-after-ike"))
                wrpcap(f"{work}/up.pcap", [eth / IPv6(src=coa, dst=HA6, nh=50) /
                                           Raw(esp.gcm_seal(pay["out"][0], 1, pay["out"][1], inner, 41)),
                                           bu_packet(HOA, coa2, sas["out"][0], sas["out"][1], 2)])
                live.append(subprocess.Popen(
                    [f"{build}/pktgen/ha-pktgen-live", "--access-sock", f"{work}/access.sock",
                     "--core-sock", f"{work}/core.sock", "--to-access", f"{work}/bu.pcap",
                     "--to-core", f"{work}/none.pcap", "--then-to-access", f"{work}/up.pcap",
                     "--then-to-core", f"{work}/down.pcap", "--pause-ms", "1500",
                     "--from-access", f"{work}/from-access.pcap", "--from-core",
                     f"{work}/from-core.pcap", "--seconds", "200"],
                    stdout=subprocess.DEVNULL, stderr=open(f"{work}/pktgen-live.log", "w")))
                later.append(lambda: data_checks(coa, coa2, sas, pay))
                for _ in range(50):
                    if telemetry(prefix, "/hadp/tables")["bindings"] == 1:
                        break
                    time.sleep(0.1)
                check(telemetry(prefix, "/hadp/tables")["bindings"] == 1,
                      "9. hadp holds the UE's binding")
                remote = ""
                for _ in range(60):
                    remote = ha.swanctl("--list-sas", "--ike", "ue").stdout
                    if f"@ {coa2}[" in remote:
                        break
                    time.sleep(0.1)
                # 15. query_sa: charon shows hadp's counters of the BU/BA SAs
                inb = [l for l in remote.splitlines() if l.strip().startswith("in ")]
                check(inb and " 0 bytes" not in inb[0] and "packets" in inb[0],
                      f"15. swanctl --list-sas shows hadp's counters of the SA ({inb})")
                check(f"@ {coa2}[" in remote, "11. K bit (RFC 4877 4.4): swanctl --list-sas shows "
                      "the HA's IKE SA at the new care-of address"
                      + ("" if f"@ {coa2}[" in remote else f": {remote}"))
            else:
                check(False, f"9. the UE's SA log has both directions: {ue_sas}")
            # 14. 002 4.3: the same UE on a second PDN: another IKE SA, another prefix
            r = ue.swanctl("--initiate", "--ike", "ha-ims", "--timeout", "20", check_rc=False)
            ike = hactl("show", "ike")
            check(r.returncode == 0 and f"{NAI} pdn ims prefix 2001:db8:200::/64" in ike and
                  f"{NAI} pdn internet prefix 2001:db8:100::/64" in ike,
                  f"14. a second PDN (IDr ims): its own IKE SA and prefix beside the first ({ike.strip()})")
            # 12. 004 5.4.3.1: network-initiated detach; no BRA comes back (nobody answers on
            # the access side now): the binding stays after the last BRI, and so does the IKE
            # SA: closing it is the UE's (003 8.4.3.1); the HA's guard only starts once the
            # binding has gone (ike_handover steps 5 and 6). Then the UE's DELETE ends it all.
            ike = hactl("show", "ike", "--json")
            check(f'"nai":"{NAI}","pdn":"internet","home_prefix":"2001:db8:100::/64"' in ike,
                  f"12. hactl show ike lists the UE's session ({ike.strip()})")
            check(HOA in hactl("show", "binding", NAI), "12. hactl show binding NAI finds it")
            out = hactl("detach", NAI)
            time.sleep(3.5)  # the BRI, its retransmission after 500 ms, and the 2 s guard
            check(HOA in hactl("show", "bindings") and
                  "ESTABLISHED" in ha.swanctl("--list-sas", "--ike", "ue").stdout and
                  "hacpd detached the UE" not in open(ha.log).read(),
                  f"12. after hactl detach ({out.strip()}) and no BRA, the binding stays (004 "
                  f"5.4.3.1) and the HA does not delete the UE's IKE SA (003 8.4.3.1)")
            ue.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
            for _ in range(30):
                t = telemetry(prefix, "/hadp/tables")
                if t["bindings"] == 0 and t["sas"] == 0:
                    break
                time.sleep(0.1)
            check(t["bindings"] == 0 and t["sas"] == 0,
                  f"12. and hadp holds neither its binding nor its SAs ({t})")
            check(HOA not in hactl("show", "sas"), "12. nor hacpd its signalling SAs")
            check(f"{NAI} pdn ims prefix 2001:db8:200::/64" in hactl("show", "ike"),
                  "14. the detach in one PDN left the other PDN's session alone")

        def delete(ue):
            # 10. 004 5.4.3.2: the UE's DELETE closes the IKE SA and all its children
            r = ue.swanctl("--initiate", "--child", "bu2", "--timeout", "20", check_rc=False)
            check(r.returncode == 0 and telemetry(prefix, "/hadp/tables")["sas"] == 2,
                  "10. a second UE session (the next prefix of the pool) has its child SA in hadp")
            ue.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
            time.sleep(0.5)
            check(telemetry(prefix, "/hadp/tables")["sas"] == 0,
                  "10. the DELETE took the UE's SAs out of hadp")
            check(HOA2 not in hactl("show", "sas"), "10. and its signalling SAs out of hacpd")

        r, sas, _ = attach("ue-ok", f"k = {K}\n opc = {OPC}\n sqn = 0", then=session)
        check(r.returncode == 0, "1. the UE's IKE SA is established (swanctl --initiate)")
        check("ESTABLISHED" in sas and NAI in sas,
              "1. the HA shows the IKE SA ESTABLISHED with the UE's EAP identity")
        attach("ue-delete", f"k = {K}\n opc = {OPC}\n sqn = 0", then=delete)

        # 2. TS 33.102 6.3.5: the USIM is ahead, AUTS brings the HA's SQN up, then it attaches
        r, sas, ue_log = attach("ue-resync", f"k = {K}\n opc = {OPC}\n sqn = 1000000")
        check("re-synchronising" in ue_log, "2. the USIM found the SQN not fresh and sent AUTS")
        check("re-synchronised" in open(ha.log).read(), "2. the HA verified AUTS (MAC-S)")
        check(r.returncode == 0 and "ESTABLISHED" in sas, "2. the UE attached after resync")

        # 3. TS 33.102 6.3.3: the network compares RES with XRES
        r, sas, _ = attach("ue-bad-res", f"k = {K}\n opc = {OPC}\n sqn = 0\n corrupt_res = yes")
        check(r.returncode != 0 and "ESTABLISHED" not in sas,
              "3. a wrong AKA response is refused by the HA")
        check("received RES does not match XRES" in open(ha.log).read(),
              "3. the HA refused it because RES != XRES")

        # 4. TS 33.102 6.3.3: the USIM cannot verify AUTN made with another K
        r, sas, ue_log = attach("ue-wrong-k", f"k = {WRONG_K}\n opc = {OPC}")
        check("AUTN does not verify" in ue_log and r.returncode != 0 and "ESTABLISHED" not in sas,
              "4. a USIM with another K rejects the HA's challenge")

        # 5. not a subscriber
        r, sas, _ = attach("ue-unknown", f"k = {K}\n opc = {OPC}",
                           nai="0001019999999999@nai.epc.mnc001.mcc001.3gppnetwork.org")
        check(r.returncode != 0 and "ESTABLISHED" not in sas and
              "is not a subscriber" in open(ha.log).read(), "5. an unknown identity is refused")
        for p in live:  # stop polling, keep the link (hadp closes its memif ports safely)
            p.send_signal(signal.SIGUSR1)
        time.sleep(0.1)
        for p in reversed(procs):  # hacpd, then hadp; then the memif peer
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
        check(hadp.returncode == 0 and not os.path.exists(f"/var/run/dpdk/{prefix}"),
              f"hadp stopped cleanly (exit {hadp.returncode}, runtime directory removed)")
        for p in live:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
        for f in later:
            f()
    finally:
        stop_all(charons, procs + live[::-1])
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        uninstall_ue_plugin(installed)
    print(f"ike_e2e: {len(failures)} failed" if failures else "ike_e2e: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
