"""The 3GPP AAA server stand-in (tests/aaa/, ha-aaa-standin) for the tests and the lab: its
freeDiameter configuration, the stand-in started in a work directory of its own, its control
socket and its events (one JSON object a line). See tests/aaa/README.md.

    with AaaStandin(exe, work, subscribers=[(NAI, K, OPC)]) as aaa:
        ...the HA connects to aaa.host:aaa.port as aaa.identity (realm aaa.realm)...
        ev = aaa.wait_event(lambda e: e.get("cmd") == "DEA" and e.get("result_code") == 2001)
        aaa.control("asr " + NAI)         # -> "ok SESSION-ID 2001"
"""
import json
import os
import socket
import subprocess
import time

LSAN_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "aaa",
                         "lsan_freediameter.supp")
DICTIONARIES = ["dict_nasreq.fdx", "dict_eap.fdx", "dict_rfc5777.fdx", "dict_mip6i.fdx",
                "dict_dcca.fdx", "dict_dcca_3gpp.fdx"]


def env():
    """The environment for ha-aaa-standin and ha-aaa-testclient: freeDiameter's own leaks at
    exit suppressed for the sanitizer build."""
    e = dict(os.environ)
    e["LSAN_OPTIONS"] = f"suppressions={LSAN_SUPP}:" + e.get("LSAN_OPTIONS", "")
    return e


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_cert(work, cn):
    """A self-signed certificate and key (freeDiameter 1.2.1 wants TLS_Cred even for plain
    TCP): returns (cert, key) paths."""
    cert, key = f"{work}/{cn}.cert.pem", f"{work}/{cn}.key.pem"
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-subj", f"/CN={cn}", "-days", "30"],
                       check=True, capture_output=True)
    return cert, key


def fd_conf(path, work, identity, realm, port=0, listen=None, sec_port=0, peers=()):
    """A freeDiameter configuration: plain TCP on port (0: none) and TLS on sec_port (0: none),
    no SCTP, the S6b dictionaries, and ConnectPeer entries for peers, each
    (identity, address, port) over plain TCP."""
    cert, key = make_cert(work, identity)
    lines = [f'Identity = "{identity}";', f'Realm = "{realm}";', f"Port = {port};",
             f"SecPort = {sec_port};", "No_SCTP;", "NoRelay;", f'TLS_Cred = "{cert}", "{key}";',
             f'TLS_CA = "{cert}";']
    if listen:
        lines.append(f'ListenOn = "{listen}";')
    lines += [f'LoadExtension = "{d}";' for d in DICTIONARIES]
    for pid, addr, pport in peers:
        lines.append(f'ConnectPeer = "{pid}" {{ ConnectTo = "{addr}"; Port = {pport}; '
                     f'No_TLS; }};')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def subscribers_yaml(path, subscribers):
    """The AKA subscriber file (controlplane/aka/aka_subscribers.h) for (identity, k, opc)."""
    with open(path, "w") as f:
        f.write("subscribers:\n")
        for ident, k, opc in subscribers:
            f.write(f"  - identity: {ident}\n    k: {k}\n    opc: {opc}\n")
    return path


def profiles_yaml(path, profiles):
    """The stand-in's profile file from {nai: {key: value}} (apn, static_prefix, static_ipv4,
    pdn_type, reallocate_to)."""
    with open(path, "w") as f:
        f.write("profiles:\n")
        for nai, keys in profiles.items():
            f.write(f"  - nai: {nai}\n")
            for k, v in keys.items():
                f.write(f'    {k}: "{v}"\n')
    return path


def control(path, line, timeout=30):
    """One command on a stand-in's control socket at path (one started elsewhere, e.g. by the
    live lab), its reply line (without the newline)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf.decode().rstrip("\n")


class AaaStandin:
    """ha-aaa-standin in work (created): started by start() or `with`, stopped by stop()
    (SIGTERM; its exit status in .returncode). Attributes: identity, realm, host, port,
    events_path, log_path, control_path. netns: run it in that network namespace (the HA's,
    so that its charon reaches host there); port is then required."""

    def __init__(self, exe, work, subscribers, profiles=None, identity="aaa.test",
                 realm="test", host="127.0.0.1", port=None, sec_port=0, netns=None):
        os.makedirs(work, exist_ok=True)
        self.exe, self.work, self.netns = exe, work, netns
        self.identity, self.realm, self.host = identity, realm, host
        self.port = port or free_port(host)
        self.conf = fd_conf(f"{work}/standin.conf", work, identity, realm, self.port,
                            listen=host, sec_port=sec_port)
        self.subs = subscribers if isinstance(subscribers, str) else \
            subscribers_yaml(f"{work}/subscribers.yaml", subscribers)
        self.profiles = None
        if profiles is not None:
            self.profiles = profiles if isinstance(profiles, str) else \
                profiles_yaml(f"{work}/profiles.yaml", profiles)
        self.events_path = f"{work}/events.jsonl"
        self.log_path = f"{work}/standin.log"
        self.control_path = f"{work}/control.sock"
        self.proc = None
        self.returncode = None

    def start(self, timeout=20):
        cmd = [self.exe, "--conf", self.conf, "--subscribers", self.subs, "--control",
               self.control_path, "--events", self.events_path]
        if self.profiles:
            cmd += ["--profiles", self.profiles]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env())
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ha-aaa-standin exited {self.proc.returncode}: "
                                   f"{open(self.log_path).read()[-2000:]}")
            if "ha-aaa-standin: ready" in open(self.log_path).read():
                return self
            time.sleep(0.1)
        raise RuntimeError("ha-aaa-standin not ready")

    def stop(self, timeout=15):
        """SIGTERM, then the exit status (SIGKILL and -9 after timeout)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.returncode = self.proc.returncode
            self.log.close()
            self.proc = None
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def control(self, line, timeout=30):
        """One command, its reply line (without the newline)."""
        return control(self.control_path, line, timeout)

    def sessions(self):
        """The stand-in's sessions: a list of {session_id, nai, apn, ha, state}."""
        reply = self.control("sessions")
        if not reply.startswith("ok "):
            raise RuntimeError(reply)
        return json.loads(reply[3:])

    def events(self):
        """Every event so far, in order."""
        try:
            with open(self.events_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_event(self, pred, timeout=15, after=0):
        """The first event from index after on that pred accepts; None after timeout."""
        end = time.time() + timeout
        while True:
            for e in self.events()[after:]:
                if pred(e):
                    return e
            if time.time() >= end:
                return None
            time.sleep(0.1)
