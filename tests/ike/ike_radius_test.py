#!/usr/bin/python3
"""EAP-AKA through a real RADIUS AAA server, the production path (docs/ikev2.md): Debian's
hostapd as the AAA (driver=none, eap_server=1, RADIUS on 127.0.0.1:1812) with its EAP-AKA
vectors from hlr-gw (tests/ike/hlr_gw.c: hostapd's hlr_auc_gw protocol over the appliance's
MILENAGE and subscriber file); the HA's charon configured from a YAML with ike.aaa: radius
(deploy/charon_conf.py: eap-radius instead of the embedded provider), hadp and hacpd running;
the UE is a real charon with the test USIM plugin.

TS 33.402 8.2.2 (EAP-AKA via the AAA), RFC 3579 (RADIUS EAP):
  1. the subscriber attaches through the AAA: the HA's IKE SA is ESTABLISHED, hacpd gave it a
     home prefix (hactl show ike);
  2. a USIM with another K refuses the AAA's challenge: no IKE SA;
  3. a wrong RES is refused by the AAA (Access-Reject), no IKE SA.

usage: ike_radius_test.py BUILD_DIR WORK_DIR
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ike_e2e_test as e2e  # noqa: E402  the namespaces, charon and the UE's configuration

SECRET = "lab-radius-secret"


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"rad-ha-{tag}", f"rad-ue-{tag}"
    charons, procs, installed = [], [], []
    check = e2e.check
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, e2e.HA6)
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {e2e.NAI}\n    k: {e2e.K}\n    opc: {e2e.OPC}\n")
        e2e.ha_ue_link(ns_ha, ns_ue)

        # the AAA: hlr-gw and hostapd as a RADIUS server in the HA's namespace
        procs.append(subprocess.Popen([f"{build}/tests/hlr-gw", f"{work}/subscribers.yaml",
                                       f"{work}/hlr.sock"], stderr=open(f"{work}/hlr.log", "w")))
        with open(f"{work}/eap_user", "w") as f:
            f.write('"0"*\tAKA\n')
        with open(f"{work}/clients", "w") as f:
            f.write(f"127.0.0.1/32\t{SECRET}\n")
        with open(f"{work}/hostapd.conf", "w") as f:
            f.write(f"""driver=none
interface=aaa0
eap_server=1
eap_user_file={work}/eap_user
eap_sim_db=unix:{work}/hlr.sock
radius_server_clients={work}/clients
radius_server_auth_port=1812
logger_stdout=-1
logger_stdout_level=1
""")
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns_ha, "hostapd", "-d",
                                       f"{work}/hostapd.conf"],
                                      stdout=open(f"{work}/hostapd.log", "w"),
                                      stderr=subprocess.STDOUT))

        prefix = f"ike-rad-{tag}"
        cfg = e2e.ha_config(work, prefix, pki, radius=("127.0.0.1", 1812, SECRET))
        e2e.start_appliance(build, work, cfg, prefix, procs, 120)
        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons, "--kernel-socket")
        check("eap-radius" in open(ha.log).read(), "the HA's charon runs eap-radius (ike.aaa: radius)")

        def attach(name, usim):
            ue = e2e.Charon(work, name, ns_ue, "dsmip6-ue",
                            f"    dsmip6-ue {{ {usim}\n sa_log = {work}/{name}.sas }}")
            charons.append(ue)
            try:
                ue.load(e2e.ue_swanctl(e2e.NAI), [(f"{pki}/ca.crt", "x509ca")])
                r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "20", check_rc=False)
                sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
                ike = subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock",
                                      "show", "ike"], capture_output=True, text=True).stdout
                return r, sas, ike
            finally:
                ue.stop()
                charons.remove(ue)
                ha.swanctl("--terminate", "--ike", "ue", "--force", "--timeout", "5",
                           check_rc=False)

        r, sas, ike = attach("ue-ok", f"k = {e2e.K}\n opc = {e2e.OPC}")
        check(r.returncode == 0 and "ESTABLISHED" in sas and e2e.NAI in sas,
              "1. the subscriber attached through the RADIUS AAA (hostapd + hlr-gw)")
        check(f"{e2e.NAI} pdn internet prefix 2001:db8:100::/64" in ike,
              f"1. hacpd gave its session a home prefix ({ike.strip()})")
        r, sas, _ = attach("ue-wrong-k", f"k = {e2e.WRONG_K}\n opc = {e2e.OPC}")
        check(r.returncode != 0 and "ESTABLISHED" not in sas,
              "2. a USIM with another K refuses the AAA's challenge")
        r, sas, _ = attach("ue-bad-res", f"k = {e2e.K}\n opc = {e2e.OPC}\n corrupt_res = yes")
        check(r.returncode != 0 and "ESTABLISHED" not in sas,
              "3. a wrong RES is refused by the AAA")
        log = open(f"{work}/hostapd.log").read()
        check(log.count("Sending Access-Accept") == 1 and log.count("Sending Access-Reject") == 2,
              "the AAA accepted the subscriber once and rejected the other two")
        check("did not include valid AT_RES" in log, "3. because AT_RES was not the expected RES")
    finally:
        e2e.stop_all(charons, procs)
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    print(f"ike_radius: {len(e2e.failures)} failed" if e2e.failures else "ike_radius: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
