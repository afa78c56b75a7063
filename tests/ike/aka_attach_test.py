#!/usr/bin/python3
"""EAP-AKA attach against a real peer: Debian's charon-systemd as the Home Agent with the
appliance's plugin (libstrongswan-dsmip6: quintuplets from the subscriber file) and a second
charon-systemd as the UE with a test USIM plugin (libstrongswan-dsmip6-ue), each in its own
network namespace joined by a veth pair.

TS 24.302 7.2.2 / 3GPP TS 33.402 8.2.2 (IKEv2 with EAP-AKA, the HA authenticated by certificate),
TS 33.102 6.3 (AKA: the USIM verifies AUTN, re-synchronises with AUTS when the SQN is not fresh):
  1. a subscriber whose USIM holds its K and OPc attaches: the HA's IKE SA is ESTABLISHED with
     the UE's EAP identity;
  2. a USIM ahead of the HA's SQN (another HSS served it) re-synchronises and attaches;
  3. a wrong RES (the USIM's answer corrupted, the EAP-AKA messages otherwise valid) is refused
     by the HA (RES != XRES);
  4. a UE whose K differs refuses the HA's challenge (AUTN does not verify);
  5. an identity not in the subscriber file is refused.

usage: aka_attach_test.py BUILD_DIR WORK_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import time

PLUGIN_DIR = "/usr/lib/ipsec/plugins"
HA6, UE6 = "2001:db8:ffff::1", "2001:db8:ffff::a"
HA_ID = "ha.lab.example.com"
NAI = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
K = "465b5ce8b199b49faa5f0a2ee238a6bc"      # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
WRONG_K = "fec86ba6eb707ed08905757b1bb44b8f"
CHARON = "/usr/sbin/charon-systemd"

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def sh(*args, ns=None, check_rc=True, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r


class Charon:
    """One charon-systemd in a namespace, configured through its own strongswan.conf."""

    def __init__(self, work, name, ns, plugins, settings):
        self.dir, self.ns, self.name = f"{work}/{name}", ns, name
        os.makedirs(self.dir, exist_ok=True)
        self.vici = f"unix://{self.dir}/charon.vici"
        self.log = f"{self.dir}/charon.log"
        with open(f"{self.dir}/strongswan.conf", "w") as f:
            f.write(f"""charon-systemd {{
  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-netlink socket-default vici eap-identity eap-aka fips-prf {plugins}
  install_routes = no
  install_virtual_ip = no
  retransmit_tries = 2
  retransmit_timeout = 1
  journal {{ default = -1 }}
  filelog {{ log {{ path = {self.log}
    default = 1
    ike = 2
    cfg = 2
    enc = 0
    net = 1
    flush_line = yes }} }}
  plugins {{
    vici {{ socket = {self.vici} }}
{settings}
  }}
}}
""")
        env = dict(os.environ, STRONGSWAN_CONF=f"{self.dir}/strongswan.conf")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, CHARON], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/stderr", "w"))
        sock = self.vici[len("unix://"):]
        for _ in range(100):
            if os.path.exists(sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{name}: charon did not start: {open(self.log).read() if os.path.exists(self.log) else ''}")

    def swanctl(self, *args, check_rc=True):
        return sh("swanctl", *args, "--uri", self.vici, ns=self.ns, check_rc=check_rc, timeout=60)

    def load(self, conf, creds):
        """creds: (file, swanctl directory) pairs: x509, x509ca, ecdsa (swanctl looks for them
        beside the swanctl.conf it loads)."""
        for path, sub in creds:
            os.makedirs(f"{self.dir}/{sub}", exist_ok=True)
            shutil.copy(path, f"{self.dir}/{sub}/")
        with open(f"{self.dir}/swanctl.conf", "w") as f:
            f.write(conf)
        self.swanctl("--load-all", "--noprompt", "--file", f"{self.dir}/swanctl.conf")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ha_swanctl():
    return f"""connections {{
  ue {{
    version = 2
    local_addrs = {HA6}
    send_certreq = no
    fragmentation = yes
    childless = allow
    unique = replace
    local {{
      auth = pubkey
      certs = ha.crt
      id = {HA_ID}
    }}
    remote {{
      auth = eap-aka
      eap_id = %any
    }}
  }}
}}
"""


def ue_swanctl(nai):
    return f"""connections {{
  ha {{
    version = 2
    local_addrs = {UE6}
    remote_addrs = {HA6}
    childless = force
    fragmentation = yes
    local {{
      auth = eap-aka
      id = {nai}
      eap_id = {nai}
    }}
    remote {{
      auth = pubkey
      id = {HA_ID}
      cacerts = ca.crt
    }}
  }}
}}
"""


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"ike-ha-{tag}", f"ike-ue-{tag}"
    installed = []
    charons = []
    try:
        for so in ("libstrongswan-dsmip6.so", "libstrongswan-dsmip6-ue.so"):
            shutil.copy(f"{build}/controlplane/charon/{so}", f"{PLUGIN_DIR}/{so}")
            installed.append(f"{PLUGIN_DIR}/{so}")
        pki = f"{work}/pki"
        sh(f"{os.path.dirname(__file__)}/../../deploy/lab_pki.sh", pki, HA_ID, HA6)
        with open(f"{work}/subscribers.yaml", "w") as f:
            f.write(f"subscribers:\n  - identity: {NAI}\n    k: {K}\n    opc: {OPC}\n")
        for ns in (ns_ha, ns_ue):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "veth-ha", "netns", ns_ha, "type", "veth", "peer", "name", "veth-ue",
           "netns", ns_ue)
        for ns, dev, addr in ((ns_ha, "veth-ha", HA6), (ns_ue, "veth-ue", UE6)):
            sh("ip", "addr", "add", f"{addr}/64", "dev", dev, "nodad", ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)

        ha = Charon(work, "ha", ns_ha, "dsmip6",
                    f"    dsmip6 {{ subscribers = {work}/subscribers.yaml }}")
        charons.append(ha)
        ha.load(ha_swanctl(), [(f"{pki}/ha.crt", "x509"), (f"{pki}/ha.key", "ecdsa")])
        check("EAP-AKA subscribers" in open(ha.log).read(), "HA charon loaded the dsmip6 plugin "
              "and its subscriber file")

        def attach(name, usim, nai=NAI):
            ue = Charon(work, name, ns_ue, "dsmip6-ue", f"    dsmip6-ue {{ {usim} }}")
            charons.append(ue)
            try:
                ue.load(ue_swanctl(nai), [(f"{pki}/ca.crt", "x509ca")])
                r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "20", check_rc=False)
                sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
                return r, sas, open(ue.log).read()
            finally:
                ue.stop()
                charons.remove(ue)
                ha.swanctl("--terminate", "--ike", "ue", "--force", "--timeout", "5", check_rc=False)

        # 1. TS 33.402 8.2.2: the subscriber attaches
        r, sas, _ = attach("ue-ok", f"k = {K}\n opc = {OPC}\n sqn = 0")
        check(r.returncode == 0, "1. the UE's IKE SA is established (swanctl --initiate)")
        check("ESTABLISHED" in sas and NAI in sas,
              "1. the HA shows the IKE SA ESTABLISHED with the UE's EAP identity")

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
    finally:
        for c in charons:
            c.stop()
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for p in installed:
            if p.endswith("-ue.so"):
                os.unlink(p)
    print(f"aka_attach: {len(failures)} failed" if failures else "aka_attach: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
