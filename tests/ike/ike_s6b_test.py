#!/usr/bin/python3
"""EAP-AKA through the 3GPP AAA over S6b, Diameter (docs/aaa.md, TS 29.273 9.2.2): the HA's
charon with the appliance's plugin as the Diameter client (deploy/charon_conf.py from a YAML
with ike.aaa: s6b), hadp and hacpd running, the AAA stand-in (tests/aaa/, ha-aaa-standin, on
freeDiameter) in the HA's namespace; the UE is a real charon with the test USIM plugin.

  1. the subscriber attaches through the AAA (TS 29.273 9.2.2.1): DER/DEA with the NAI as
     User-Name, the APN as Service-Selection and the HA's address in MIP6-Agent-Info; the MSK
     keys the IKE SA (ESTABLISHED); hacpd's session has a home prefix and the Session-Id;
  2. the UE detaches (its IKE SA's DELETE, 004 5.4.3.2): hacpd ends the session and the plugin
     sends the STR (TS 29.273 9.2.2.3) with Termination-Cause DIAMETER_LOGOUT, answered 2001;
  every Diameter message on the wire decodes in tshark without a malformed mark.

usage: ike_s6b_test.py BUILD_DIR WORK_DIR
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ike_e2e_test as e2e  # noqa: E402  the namespaces, charon and the UE's configuration
from aaa import AaaStandin, free_port  # noqa: E402  tests/lib, through ike_e2e's path

HERE = os.path.dirname(os.path.abspath(__file__))
AAA1 = "aaa1.lab.example.com"
AAA_REALM = "aaa.lab.example.com"


def s6b_yaml(peers):
    """ike.aaa s6b towards peers: (identity, port, priority) on 127.0.0.1 over TCP."""
    lines = ["  aaa: s6b", "  s6b:", "    identity: ha.lab.example.com", "    realm: lab.example.com",
             f"    destination_realm: {AAA_REALM}", "    request_timeout_ms: 3000",
             "    watchdog_s: 6", "    peers:"]
    for ident, port, prio in peers:
        lines.append(f"      - {{ identity: {ident}, address: 127.0.0.1, port: {port}, "
                     f"transport: tcp, priority: {prio} }}")
    return "\n".join(lines) + "\n"


def hactl(build, work, *args):
    return subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock", *args],
                          capture_output=True, text=True).stdout


def counter(stats, name):
    """A counter of `hactl show stats` (lines "name value"), or None."""
    for line in stats.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == name:
            return int(f[-1])
    return None


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"s6b-ha-{tag}", f"s6b-ue-{tag}"
    charons, procs, installed, aaas = [], [], [], []
    check = e2e.check
    capture = None
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{HERE}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, e2e.HA6)
        for ns in (ns_ha, ns_ue):
            e2e.sh("ip", "netns", "add", ns)
        e2e.sh("ip", "link", "add", "veth-ha", "netns", ns_ha, "type", "veth", "peer", "name",
               "veth-ue", "netns", ns_ue)
        for ns, dev, addr in ((ns_ha, "veth-ha", e2e.HA6), (ns_ue, "veth-ue", e2e.UE6)):
            e2e.sh("ip", "addr", "add", f"{addr}/64", "dev", dev, "nodad", ns=ns)
            e2e.sh("ip", "link", "set", dev, "up", ns=ns)
            e2e.sh("ip", "link", "set", "lo", "up", ns=ns)
        # an IPv4 address beside loopback's: freeDiameter resolves its peers' addresses with
        # AI_ADDRCONFIG, which counts no loopback address
        e2e.sh("ip", "addr", "add", "192.0.2.1/24", "dev", "veth-ha", ns=ns_ha)

        # the AAA, and tshark on the HA's loopback for every Diameter message
        port1 = free_port()
        capture = subprocess.Popen(["ip", "netns", "exec", ns_ha, "tshark", "-i", "lo", "-w",
                                    f"{work}/diameter.pcap", "-f", f"tcp port {port1}"],
                                   stdout=subprocess.DEVNULL, stderr=open(f"{work}/tshark.log", "w"))
        e2e.wait_until(lambda: "Capturing on" in open(f"{work}/tshark.log").read(), 20)
        aaa1 = AaaStandin(f"{build}/tests/aaa/ha-aaa-standin", f"{work}/aaa1",
                          [(e2e.NAI, e2e.K, e2e.OPC)], identity=AAA1, realm=AAA_REALM,
                          port=port1, netns=ns_ha)
        aaas.append(aaa1)
        aaa1.start()

        prefix = f"ike-s6b-{tag}"
        cfg = e2e.ha_config(work, prefix, pki, s6b=s6b_yaml([(AAA1, port1, 1)]))
        e2e.start_appliance(build, work, cfg, prefix, procs, 240)
        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons, "--kernel-socket")
        connected = e2e.wait_until(lambda: aaa1.wait_event(
            lambda e: e.get("cmd") == "CEA" and e.get("dir") == "out", timeout=0), 20)
        check(connected and "s6b: Diameter client" in open(ha.log).read(),
              "the HA's charon runs the S6b client, its capabilities exchange with the AAA done")

        ue = e2e.Charon(work, "ue", ns_ue, "dsmip6-ue",
                        f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n sa_log = {work}/ue.sas }}")
        charons.append(ue)
        ue.load(e2e.ue_swanctl(e2e.NAI), [(f"{pki}/ca.crt", "x509ca")])
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
        check(r.returncode == 0 and "ESTABLISHED" in sas and e2e.NAI in sas,
              "1. the subscriber attached through the AAA over S6b (the DEA's MSK keyed the IKE SA)")
        der = aaa1.wait_event(lambda e: e.get("cmd") == "DER", timeout=0)
        check(der and der.get("user_name") == e2e.NAI and der.get("service_selection") == "internet"
              and e2e.HA6 in str(der.get("mip_home_agent_address")),
              f"1. the DER: User-Name the NAI, Service-Selection the APN, MIP6-Agent-Info the HA ({der})")
        dea = aaa1.wait_event(lambda e: e.get("cmd") == "DEA" and e.get("result_code") == 2001,
                              timeout=0)
        check(dea is not None, "1. the AAA answered DIAMETER_SUCCESS with the MSK")
        ike = hactl(build, work, "show", "ike")
        check(f"{e2e.NAI} pdn internet prefix 2001:db8:100::/64" in ike,
              f"1. hacpd gave its session a home prefix ({ike.strip()})")
        check(dea is not None and f"s6b-session {dea.get('session_id')}" in ike,
              "1. hacpd keeps the session's S6b Session-Id (hactl show ike)")
        stats = hactl(build, work, "show", "stats")
        check(counter(stats, "s6b-auth-success") == 1, "1. hacpd counted the S6b success")

        # 2. the UE's DELETE (004 5.4.3.2) ends the session: the STR, cause DIAMETER_LOGOUT (1)
        n = len(aaa1.events())
        ue.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
        str_ev = aaa1.wait_event(lambda e: e.get("cmd") == "STR", timeout=20, after=n)
        check(str_ev is not None and str_ev.get("termination_cause") == 1
              and str_ev.get("session_id") == (dea or {}).get("session_id"),
              f"2. the UE detached: STR with DIAMETER_LOGOUT on the DEA's session ({str_ev})")
        sta = aaa1.wait_event(lambda e: e.get("cmd") == "STA", timeout=10, after=n)
        check(sta is not None and sta.get("result_code") == 2001, "2. the AAA answered the STR 2001")
    finally:
        e2e.stop_all(charons, procs)
        for a in aaas:
            a.stop()
        if capture:
            capture.terminate()
            capture.wait()
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    if os.path.exists(f"{work}/diameter.pcap"):
        r = subprocess.run(["/usr/bin/python3", f"{HERE}/../crosscheck/tshark_s6b_check.py", "pcap",
                            f"{work}/diameter.pcap", str(port1)], capture_output=True, text=True)
        check(r.returncode == 0, f"tshark decodes every Diameter message cleanly: "
              f"{r.stdout.strip().splitlines()[-2:] if r.stdout else r.stderr[-300:]}")
    print(f"ike_s6b: {len(e2e.failures)} failed" if e2e.failures else "ike_s6b: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
