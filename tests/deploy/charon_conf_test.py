#!/usr/bin/python3
"""deploy/charon_conf.py with ike.aaa s6b (docs/aaa.md, "Configuration"): strongswan.conf loads
no eap-aka, fips-prf or eap-radius (the dsmip6 plugin is the EAP-AKA server method) and carries
plugins.dsmip6.s6b with every key; swanctl.conf asks the UE for eap-aka; freediameter.conf
(0600) is accepted by freeDiameter 1.2.1's own daemon, `freeDiameterd -c FILE`, which then
listens on no port. A file with its dictionaries out of order is refused by the same daemon
(the check can fail). The local and RADIUS outputs keep their plugins.

usage: charon_conf_test.py BUILD WORK

freeDiameterd has no parse-only mode: it is started, its "daemon initialized" line awaited and
it is stopped with SIGTERM. Its peers are on ports nobody listens on (derived from the pid).
"""
import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DICTS = ["dict_nasreq.fdx", "dict_eap.fdx", "dict_rfc5777.fdx", "dict_mip6i.fdx",
         "dict_dcca.fdx", "dict_dcca_3gpp.fdx"]
PORT = 20000 + os.getpid() % 10000  # nobody's: freeDiameterd's connections fail, as wanted

YAML = """dataplane:
  lcores: {{ workers: [1] }}
  ports: {{ access: {{ device: net_ring0 }}, core: {{ device: net_ring1 }} }}
home_agent:
  ipv6_address: 2001:db8:ffff::1
  ipv4_address: 203.0.113.1
pdns:
  - {{ name: internet, home_prefix_pool: "2001:db8:100::/48", ipv4_pool: 10.45.0.0/16 }}
ike:
  enabled: true
  local_id: ha.lab.example.com
  certificate: {pki}/ha.crt
  private_key: {pki}/ha.key
  ca_certificate: {pki}/ca.crt
{aaa}"""

S6B = """  aaa: s6b
  s6b:
    realm: lab.example.com
    destination_realm: aaa.lab.example.com
    request_timeout_ms: 2500
    watchdog_s: 12
    tls: {{ certificate: {pki}/ha.crt, private_key: {pki}/ha.key, ca_certificate: {pki}/ca.crt }}
    peers:
      - {{ identity: aaa1.lab.example.com, address: 127.0.0.1, port: {port}, transport: tcp,
          priority: 1 }}
      - {{ identity: aaa2.lab.example.com, address: "::1", port: {port1}, priority: 2 }}
"""
S6B_SCTP = """  aaa: s6b
  s6b:
    identity: hd.lab.example.com
    realm: lab.example.com
    peers:
      - {{ identity: aaa1.lab.example.com, address: 127.0.0.1, port: {port}, transport: sctp }}
      - {{ identity: aaa2.lab.example.com, address: 127.0.0.1, port: {port1}, transport: tcp,
          priority: 7 }}
"""


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def pki(d):
    """A CA and the HA's certificate naming its Diameter identity (freeDiameter checks it)."""
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt",
       "-subj", "/CN=Test S6b CA", "-days", "2")
    sh("openssl", "req", *ec, "-keyout", f"{d}/ha.key", "-out", f"{d}/ha.csr",
       "-subj", "/CN=ha.lab.example.com")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=DNS:ha.lab.example.com\n")
    sh("openssl", "x509", "-req", "-in", f"{d}/ha.csr", "-CA", f"{d}/ca.crt", "-CAkey",
       f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/ha.crt", "-days", "2",
       "-extfile", f"{d}/ext")


def settings(text):
    """strongswan.conf's settings as {"a.b.c": value}: sections `name {`, `}` and `key = value`
    lines (one-line `name { key = value }` too), comments dropped."""
    out, path = {}, []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.fullmatch(r"(\S+) \{ (\S+) = (.*) \}", line)
        if m:
            out[".".join(path + [m[1], m[2]])] = m[3]
        elif line.endswith("{"):
            path.append(line[:-1].strip())
        elif line == "}":
            path.pop()
        elif "=" in line:
            k, v = line.split("=", 1)
            out[".".join(path + [k.strip()])] = v.strip()
    return out


def generate(build, work, name, aaa):
    """charon_conf.py on a YAML with this AAA: (outdir, settings, swanctl.conf's text)."""
    out = f"{work}/{name}"
    os.makedirs(out)
    with open(f"{out}.yaml", "w") as f:
        f.write(YAML.format(pki=f"{work}/pki", aaa=aaa))
    sh("/usr/bin/python3", f"{TOP}/deploy/charon_conf.py", f"{build}/controlplane/ha-config",
       f"{out}.yaml", out)
    conf = settings(open(f"{out}/strongswan.conf").read())
    return out, conf, open(f"{out}/swanctl/swanctl.conf").read()


def listening_inodes(pid):
    """Inodes of the listening TCP sockets in the process's network namespace."""
    inodes = set()
    for t in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{t}") as f:
            for row in f.read().splitlines()[1:]:
                col = row.split()
                if col[3] == "0A":  # TCP_LISTEN
                    inodes.add(col[9])
    return inodes


def own_sockets(pid):
    socks = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            socks.add(m[1])
    return socks


def freediameterd(conf, log):
    """freeDiameterd -c conf until it says it is initialized or exits: (initialized, the
    listening sockets it holds, its output)."""
    with open(log, "w") as f:
        p = subprocess.Popen(["freeDiameterd", "-c", conf], stdout=f, stderr=subprocess.STDOUT)
    up, listening = False, set()
    try:
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None and not up:
            time.sleep(0.2)
            up = "freeDiameterd daemon initialized." in open(log).read()
        if up:
            time.sleep(1)  # its server threads, had it any, are started by now
            listening = own_sockets(p.pid) & listening_inodes(p.pid)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=40)  # it waits up to 16 s for its connections
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return up, listening, open(log).read()


def check_s6b(check, build, work):
    out, conf, swanctl = generate(build, work, "s6b",
                                  S6B.format(pki=f"{work}/pki", port=PORT, port1=PORT + 1))
    load = conf["charon-systemd.load"].split()
    check(not {"eap-aka", "fips-prf", "eap-radius"} & set(load),
          f"s6b: no eap-aka, fips-prf or eap-radius plugin: {load}")
    check({"dsmip6", "eap-identity"} <= set(load), f"s6b: dsmip6 and eap-identity loaded: {load}")
    s = "charon-systemd.plugins.dsmip6.s6b."
    want = {"conf": f"{out}/freediameter.conf", "destination_realm": "aaa.lab.example.com",
            "request_timeout_ms": "2500", "home_agent_ipv6": "2001:db8:ffff::1",
            "home_agent_ipv4": "203.0.113.1", "peers.1.identity": "aaa1.lab.example.com",
            "peers.1.priority": "1", "peers.2.identity": "aaa2.lab.example.com",
            "peers.2.priority": "2", "local_id": "ha.lab.example.com",
            "default_apn": "internet"}
    for k, v in want.items():
        check(conf.get(s + k) == v, f"strongswan.conf {s}{k} = {v}: {conf.get(s + k)}")
    check(not any(k.startswith(s + "peers.3") for k in conf), "two peers, no third")
    check("charon-systemd.plugins.dsmip6.subscribers" not in conf
          and not any(".eap-radius." in k for k in conf), "s6b: no subscriber file, no RADIUS")
    remotes = re.findall(r"remote \{\s*auth = (\S+)\s*eap_id = (\S+)", swanctl)
    check(remotes and set(remotes) == {("eap-aka", "%any")},
          f"swanctl.conf: every connection asks the UE for eap-aka, eap_id %any: {remotes}")

    fd = f"{out}/freediameter.conf"
    check(stat.S_IMODE(os.stat(fd).st_mode) == 0o600, f"{fd}: mode 0600")
    text = open(fd).read()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    for want_line in ('Identity = "ha.lab.example.com";', 'Realm = "lab.example.com";',
                      "Port = 0;", "SecPort = 0;", "NoRelay;", "No_SCTP;", "TwTimer = 12;", "TcTimer = 30;",
                      f'TLS_Cred = "{work}/pki/ha.crt", "{work}/pki/ha.key";',
                      f'TLS_CA = "{work}/pki/ca.crt";'):
        check(want_line in lines, f"freediameter.conf: {want_line}")
    exts = re.findall(r'^LoadExtension = "(\S+)";$', text, re.M)
    check(exts == DICTS, f"freediameter.conf: the dictionaries in their order: {exts}")
    peers = re.findall(r'^ConnectPeer = "(\S+)" \{ ConnectTo = "(\S+)"; Port = (\d+); (.*) \};$',
                       text, re.M)
    check(peers == [("aaa1.lab.example.com", "127.0.0.1", str(PORT), "No_SCTP; No_TLS;"),
                    ("aaa2.lab.example.com", "::1", str(PORT + 1), "No_SCTP;")],
          f"freediameter.conf: a ConnectPeer per peer, TCP without TLS, then TLS: {peers}")

    up, listening, log = freediameterd(fd, f"{work}/fd-s6b.log")
    check(up, f"freeDiameterd -c {fd} parses it, loads the dictionaries and starts: {log[-800:]}")
    check(up and "TLS is disabled" not in log, "freeDiameterd: TLS on, with the HA's credentials")
    check(up and not listening, f"freeDiameterd listens on no TCP port: {listening}")

    # the control: the same file with the dictionaries reversed is refused
    bad = f"{work}/fd-reversed.conf"
    ext_lines = [ln for ln in text.splitlines() if ln.startswith("LoadExtension")]
    rest = [ln for ln in text.splitlines() if not ln.startswith("LoadExtension")]
    with open(bad, "w") as f:
        f.write("\n".join(rest + ext_lines[::-1]) + "\n")
    up, _, log = freediameterd(bad, f"{work}/fd-reversed.log")
    check(not up and "depends on" in log,
          f"freeDiameterd refuses dictionaries out of order: {log[-400:]}")


def check_s6b_sctp(check, build, work):
    out, conf, _ = generate(build, work, "s6b-sctp",
                            S6B_SCTP.format(port=PORT + 2, port1=PORT + 3))
    s = "charon-systemd.plugins.dsmip6.s6b."
    check(conf.get(s + "destination_realm") == "lab.example.com"
          and conf.get(s + "request_timeout_ms") == "5000"
          and conf.get(s + "peers.2.priority") == "7",
          f"defaults: the realm, 5000 ms; the peer's priority: {conf}")
    text = open(f"{out}/freediameter.conf").read()
    lines = text.splitlines()
    check('Identity = "hd.lab.example.com";' in lines and "TwTimer = 30;" in lines,
          "freediameter.conf: ike.s6b.identity, Tw's default")
    check("No_SCTP;" not in lines and not any(ln.startswith("TLS_") for ln in lines),
          f"an SCTP peer: SCTP left on; no TLS peer: no TLS credentials: {text}")
    check(f'ConnectPeer = "aaa1.lab.example.com" {{ ConnectTo = "127.0.0.1"; Port = {PORT + 2}; '
          f'No_TCP; No_TLS; }};' in lines, "freediameter.conf: the SCTP peer")
    up, listening, log = freediameterd(f"{out}/freediameter.conf", f"{work}/fd-sctp.log")
    check(up and "TLS is disabled" in log, f"freeDiameterd accepts it, TLS off: {log[-800:]}")
    check(up and not listening, f"freeDiameterd listens on no TCP port: {listening}")


def check_others_unchanged(check, build, work):
    for name, aaa, plugins, auth in (
            ("local", "  aaa: local\n  subscribers: /etc/ha/subscribers.txt\n",
             {"eap-aka", "fips-prf"}, "eap-aka"),
            ("radius", "  aaa: radius\n  radius: { server: 127.0.0.1, secret: s3 }\n",
             {"eap-radius"}, "eap-radius")):
        out, conf, swanctl = generate(build, work, name, aaa)
        load = set(conf["charon-systemd.load"].split())
        check(plugins <= load and not ({"eap-aka", "fips-prf", "eap-radius"} - plugins) & load,
              f"{name}: the plugins {sorted(plugins)} and no other AAA's: {sorted(load)}")
        check(f"auth = {auth}" in swanctl, f"{name}: remote auth = {auth}")
        check(not os.path.exists(f"{out}/freediameter.conf")
              and not any(".s6b." in k for k in conf), f"{name}: nothing of S6b")


def main():
    build, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(work)
    pki(f"{work}/pki")
    check = Checks()
    for fn in (check_s6b, check_s6b_sctp, check_others_unchanged):
        t0 = time.time()
        fn(check, build, work)
        print(f"  {fn.__name__}: {time.time() - t0:.1f} s", flush=True)
    sys.exit(check.summary("charon_conf"))


if __name__ == "__main__":
    main()
