#!/usr/bin/python3
"""IKE through the dataplane (docs/ikev2.md): the UE's charon, in its own network namespace,
reaches the HA only through hadp's access port (net_pcap on the veth that leads to the UE);
hadp answers the UE's neighbour solicitation for the HA's address, punts IKE (UDP 500, UDP
4500 with the non-ESP marker), hacpd hands each message to the socket of the appliance's plugin
inside charon (ike_via_dataplane), and charon's answers go back out of hadp. The HA's charon has
no kernel socket and no address of its own.

TS 24.303 5.1.3.1 with the exception path:
  1. the UE attaches with EAP-AKA and gets its home prefix, every IKE message through hadp;
  2. the BU/BA child SA it then makes lands in hadp's SA table;
  3. hadp counted the IKE punts, hacpd the messages each way;
  4. the same over IPv4 (an IPv4-only access, RFC 5555): the UE reaches the HA's IPv4 address,
     hadp answers its ARP request and carries IKE both ways; attach and child SA as above;
  5. (between 2 and 4) hadp SIGKILLed and started again with the UE attached, hacpd and
     charon running: the child SA charon gave is installed again in the new hadp from
     hacpd's state (docs/restarts.md), and the payload child SA is negotiated through it.

usage: ike_dataplane_test.py BUILD_DIR WORK_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ike_e2e_test as e2e  # noqa: E402


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"dpx-ha-{tag}", f"dpx-ue-{tag}"
    link = f"hx{tag}"[:15]   # hadp's end of the UE's veth, in this namespace
    charons, procs, installed = [], [], []
    check = e2e.check
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, e2e.HA6)
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {e2e.NAI}\n    k: {e2e.K}\n    opc: {e2e.OPC}\n")
        for ns in (ns_ha, ns_ue):
            e2e.sh("ip", "netns", "add", ns)
        e2e.sh("ip", "link", "add", link, "type", "veth", "peer", "name", "veth-ue", "netns", ns_ue)
        e2e.sh("ip", "link", "set", link, "up")
        e2e.sh("sysctl", "-qw", f"net.ipv6.conf.{link}.disable_ipv6=1")  # hadp's, not the kernel's
        e2e.sh("ip", "addr", "add", f"{e2e.UE6}/64", "dev", "veth-ue", "nodad", ns=ns_ue)
        e2e.sh("ip", "addr", "add", "192.0.2.10/24", "dev", "veth-ue", ns=ns_ue)
        e2e.sh("ip", "link", "set", "veth-ue", "up", ns=ns_ue)
        # the UE's kernel would leave UDP checksums to an offload that a veth never does: hadp
        # checks them, so they must be there
        e2e.sh("ethtool", "-K", "veth-ue", "tx", "off", ns=ns_ue)
        e2e.sh("ip", "link", "set", "lo", "up", ns=ns_ue)
        ue_mac = e2e.sh("cat", "/sys/class/net/veth-ue/address", ns=ns_ue).stdout.strip()

        prefix = f"ike-dpx-{tag}"
        cfg = e2e.ha_config(work, prefix, pki)
        text = open(cfg).read()
        text = text.replace(
            f'    access: {{ device: net_memif0, devargs: "role=server,id=0,rsize=12,socket={work}/access.sock" }}',
            f'    access: {{ device: net_pcap0, devargs: "rx_iface_in={link},tx_iface={link},'
            f'tx_iface={link}", next_hop_mac: "{ue_mac}" }}')
        text = text.replace(
            f'    core: {{ device: net_memif1, devargs: "role=server,id=0,rsize=12,socket={work}/core.sock" }}',
            '    core: { device: net_null1, devargs: "no-rx=1" }')
        open(cfg, "w").write(text)
        daemons = e2e.start_appliance(build, work, cfg, prefix, procs, 120)
        hadp = daemons.hadp

        # the HA's charon: the generated configuration, IKE through the dataplane
        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons)
        check("IKE goes through the dataplane" in open(ha.log).read(),
              "the HA's charon takes IKE from the plugin's socket")

        ue = e2e.Charon(work, "ue", ns_ue, "dsmip6-ue",
                        f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n sa_log = {work}/ue.sas }}")
        charons.append(ue)
        ue.load(e2e.ue_swanctl(e2e.NAI), [(f"{pki}/ca.crt", "x509ca")])
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
        check(r.returncode == 0 and "ESTABLISHED" in sas and e2e.NAI in sas,
              "1. the UE attached, every IKE message through hadp" +
              ("" if r.returncode == 0 else f": {r.stdout[-400:]}"))
        check("dsmip6-ue: MIP6_HOME_PREFIX" in open(ue.log).read(),
              "1. the UE got its home prefix")
        r = ue.swanctl("--initiate", "--child", "bu", "--timeout", "30", check_rc=False)
        tables = e2e.telemetry(prefix, "/hadp/tables")
        check(r.returncode == 0 and tables["sas"] == 2,
              f"2. the BU/BA child SA is in hadp's SA table ({tables['sas']})")
        # 5. hadp killed and started again under the attached UE, hacpd and charon running
        # (docs/restarts.md): hacpd installs the child SA charon gave it, keys and all, in the
        # new hadp from its state, and IKE goes on through the new hadp: the payload child SA
        daemons.hadp.send_signal(signal.SIGKILL)
        daemons.hadp.wait()
        procs.remove(hadp)
        daemons.start_hadp()
        hadp = daemons.hadp
        procs.insert(0, hadp)
        back = e2e.wait_until(lambda: daemons.log("hacpd").count("serving signalling") >= 2 and
                              e2e.telemetry(prefix, "/hadp/tables")["sas"] == 2, 30)
        check(back, "5. the BU/BA child SA installed again in the new hadp from hacpd's state: "
              + daemons.log("hacpd")[-300:].replace("\n", " | "))
        r = ue.swanctl("--initiate", "--child", "payload", "--timeout", "30", check_rc=False)
        tables = e2e.telemetry(prefix, "/hadp/tables")
        check(r.returncode == 0 and tables["sas"] == 4,
              f"5. IKE through the new hadp: the payload child SA negotiated and installed "
              f"({tables['sas']} SAs)" + ("" if r.returncode == 0 else f": {r.stdout[-600:]}"))
        ue.stop()
        charons.remove(ue)
        ha.swanctl("--terminate", "--ike", "ue", "--force", "--timeout", "5", check_rc=False)

        # 4. the same UE over IPv4: IKE to 192.0.2.1 through hadp (ARP answered by hadp)
        ue4 = e2e.Charon(work, "ue4", ns_ue, "dsmip6-ue",
                         f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n sqn = 1000\n"
                         f" sa_log = {work}/ue4.sas }}")
        charons.append(ue4)
        conf4 = e2e.ue_swanctl(e2e.NAI).replace(f"local_addrs = {e2e.UE6}", "local_addrs = 192.0.2.10")
        conf4 = conf4.replace(f"remote_addrs = {e2e.HA6}", "remote_addrs = 192.0.2.1")
        ue4.load(conf4, [(f"{pki}/ca.crt", "x509ca")])
        r = ue4.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
        check(r.returncode == 0 and "ESTABLISHED" in sas and "192.0.2.10" in sas,
              "4. over IPv4: the UE attached through hadp" + ("" if r.returncode == 0 else
                                                             f": {r.stdout[-300:]}"))
        # a new session: a free prefix of the pool (the first went back at the old session's
        # end; the hacpd executed again in step 5 hands the pool out from its start again, one
        # that was not gives the next): its home address's BU/BA child
        got = [ln for ln in open(ue4.log) if "dsmip6-ue: MIP6_HOME_PREFIX" in ln]
        first = got and "20:01:0d:b8:01:00:00:00:" in got[-1]
        r = ue4.swanctl("--initiate", "--child", "bu" if first else "bu2", "--timeout", "30",
                        check_rc=False)
        sas4 = e2e.telemetry(prefix, "/hadp/tables")["sas"]
        check(r.returncode == 0 and sas4 == 2,
              f"4. over IPv4: its BU/BA child SA is in hadp (the old session's went at its end): "
              f"{sas4} SAs" + ("" if r.returncode == 0 else f": {r.stdout[-400:]}"))
        ue4.stop()
        charons.remove(ue4)
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
        hs = json.load(open(f"{work}/hadp.json"))
        cs = json.load(open(f"{work}/hacpd.json"))
        check(hs["punt"]["ike"] > 0 and cs["ike"]["ike-packets-in"] > 0 and
              cs["ike"]["ike-packets-out"] > 0,
              f"3. hadp punted IKE ({hs['punt']['ike']}), hacpd relayed it "
              f"(in {cs['ike']['ike-packets-in']}, out {cs['ike']['ike-packets-out']})")
        check(hadp.returncode == 0 and hs["mbufs_in_use"] == 0, "hadp stopped cleanly, no mbuf held")
    finally:
        e2e.stop_all(charons, procs)
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    print(f"ike_dataplane: {len(e2e.failures)} failed" if e2e.failures else
          "ike_dataplane: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
