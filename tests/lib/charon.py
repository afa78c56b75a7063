"""strongSwan's charon-systemd for the tests and the lab: one charon in a network namespace
with its own strongswan.conf and vici socket (the HA's as deploy/charon_conf.py makes it, or a
UE's with the test plugin of tests/ike/ue_plugin.c: USIM, MIP6_HOME_PREFIX, an SA log, moves),
the plugins installed into charon's plugin folder, and a UE's swanctl connection.

Everything that runs charon shares /usr/lib/ipsec/plugins: run it under
`flock /tmp/ike-tests.lock` (docs/testing.md).
"""
import os
import shutil
import signal
import subprocess
import time

PLUGIN_DIR = "/usr/lib/ipsec/plugins"
CHARON = "/usr/sbin/charon-systemd"
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(*args, ns=None, check_rc=True, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r


class Charon:
    """One charon-systemd in a namespace, configured through its own strongswan.conf."""

    def __init__(self, work, name, ns, plugins, settings, generated=False):
        """generated: the directory already holds what deploy/charon_conf.py made (the HA)."""
        self.dir, self.ns, self.name = f"{work}/{name}", ns, name
        os.makedirs(self.dir, exist_ok=True)
        self.vici = f"unix://{self.dir}/charon.vici"
        self.log = f"{self.dir}/charon.log"
        if generated:
            self.start()
            return
        with open(f"{self.dir}/strongswan.conf", "w") as f:
            f.write(f"""charon-systemd {{
  # the plugin before kernel-netlink: the first kernel-ipsec registered is the one
  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints {plugins} kernel-netlink socket-default vici eap-identity eap-aka fips-prf
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
        self.start()

    def start(self):
        env = dict(os.environ, STRONGSWAN_CONF=f"{self.dir}/strongswan.conf")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, CHARON], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/stderr", "w"))
        sock = self.vici[len("unix://"):]
        for _ in range(100):
            if os.path.exists(sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: charon did not start: "
                           f"{open(self.log).read() if os.path.exists(self.log) else ''}")

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


def ha_charon(build, cfg, work, ns, charons, *conf_args):
    """The HA's charon in namespace ns as the appliance runs it: deploy/charon_conf.py's
    configuration from the YAML (conf_args: more of its options), the plugin loaded, the
    connections loaded; appended to charons."""
    sh("/usr/bin/python3", f"{SRC}/deploy/charon_conf.py",
       f"{build}/controlplane/ha-config", cfg, f"{work}/ha", *conf_args)
    ha = Charon(work, "ha", ns, "", "", generated=True)
    charons.append(ha)
    ha.swanctl("--load-all", "--noprompt", "--file", f"{work}/ha/swanctl/swanctl.conf")
    return ha


def install_plugins(build, tag, installed):
    """The appliance's plugin and the test UE's into charon's plugin folder, each a new file
    renamed over the old (a charon running with the old one keeps its copy); both listed in
    installed."""
    for so in ("libstrongswan-dsmip6.so", "libstrongswan-dsmip6-ue.so"):
        shutil.copy(f"{build}/controlplane/charon/{so}", f"{PLUGIN_DIR}/.{so}.{tag}")
        os.replace(f"{PLUGIN_DIR}/.{so}.{tag}", f"{PLUGIN_DIR}/{so}")
        installed.append(f"{PLUGIN_DIR}/{so}")


def stop_all(charons, procs):
    """The end of every IKE test: the charons stopped, then procs in reverse order (hacpd
    before the hadp it is attached to), each asked with SIGINT, killed after 20 s."""
    for c in charons:
        c.stop()
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def uninstall_ue_plugin(installed):
    """The test UE's plugin leaves charon's plugin folder (the appliance's stays installed)."""
    for p in installed:
        if p.endswith("-ue.so") and os.path.exists(p):
            os.unlink(p)


def bu_child(name, hoa, ha6):
    """A UE's BU/BA child SA (RFC 4877 4.1): transport, its home address and the HA's with the
    Mobility Header as selectors, no kernel policies, made on request."""
    return f"""      {name} {{
        mode = transport_proxy
        local_ts = {hoa}/128[135]
        remote_ts = {ha6}/128[135]
        esp_proposals = aes128gcm16
        policies = no
        start_action = none
      }}
"""


def ue_conn(nai, local, remote, ha_id, children="", name="ha", vips=True, fragmentation=True):
    """A UE's swanctl connection name: IKEv2 with EAP-AKA as nai from local to the HA at
    remote, the HA's certificate (identity ha_id: the HA's, or a PDN's APN as IDr) under ca.crt,
    an IPv4 home address asked for (INTERNAL_IP4_ADDRESS) unless vips is False, the IKE SA
    without a child; children: its child SAs' text (None: no children section)."""
    opt = ("    vips = 0.0.0.0\n" if vips else "")
    frag = ("    fragmentation = yes\n" if fragmentation else "")
    kids = "" if children is None else f"    children {{\n{children}    }}\n"
    return f"""  {name} {{
    version = 2
{opt}    local_addrs = {local}
    remote_addrs = {remote}
    childless = force
{frag}    local {{
      auth = eap-aka
      id = {nai}
      eap_id = {nai}
    }}
    remote {{
      auth = pubkey
      id = {ha_id}
      cacerts = ca.crt
    }}
{kids}  }}
"""
