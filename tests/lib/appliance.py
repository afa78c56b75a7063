"""The appliance under test: hadp (and hacpd) with their configuration, started, watched and
stopped; cleaned up in all cases (veths, hugepage files, DPDK runtime directories).

Two ways to run hadp:
- live (Appliance): the access and core ports on veth pairs (net_pcap rx_iface_in/tx_iface),
  hacpd attached, the test on the other ends of the veths (Port: send a frame, wait for one);
- replay (pcap_config + run_hadp): two net_pcap ports replaying captures, hadp run until idle.
"""
import contextlib
import glob
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from scapy.all import Ether, raw

HA6, HA4 = "2001:db8:ffff::1", "192.0.2.1"
MAC_ACCESS_NH, MAC_CORE_NH = "02:00:00:00:0a:01", "02:00:00:00:0c:01"
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LSAN_SUPP = os.path.join(SRC, "tests", "lsan_dpdk.supp")

# the PDNs every configuration offers (TS 24.303 4.3: one binding per UE and PDN)
PDNS = [
    {"name": "internet", "home_prefix_pool": "2001:db8:100::/48", "home_prefix_length": 64,
     "ipv4_pool": "10.45.0.0/16"},
    {"name": "ims", "home_prefix_pool": "2001:db8:200::/48", "home_prefix_length": 64},
]


def flow(v):
    """A Python value as YAML flow text (dicts, lists, ints, bools, strings)."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k}: {flow(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return f'"{v}"'


def remove_dpdk_files(prefix):
    """What a DPDK process of this --file-prefix may leave: hugepage files, runtime dir."""
    for f in glob.glob(f"/dev/hugepages/{prefix}map_*") + glob.glob(f"/dev/hugepages/{prefix}-*"):
        try:
            os.unlink(f)
        except OSError:
            pass
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    shutil.rmtree(f"/run/ha/{prefix}", ignore_errors=True)  # the state files (docs/restarts.md)


def hugepage_files(prefix):
    return glob.glob(f"/dev/hugepages/{prefix}map_*")


def telemetry(prefix, cmd, timeout=10):
    """hadp's DPDK telemetry (what dpdk-telemetry.py speaks): the answer to cmd."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
        s.recv(1024)
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())[cmd.split(",")[0]]  # "/x,param": "/x"
    finally:
        s.close()


def wait_until(cond, timeout, step=0.05):
    """Polls cond() until it returns something true or timeout seconds pass; returns its last
    value. The only way the library waits: never a fixed sleep alone."""
    end = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= end:
            return v
        time.sleep(step)


# ---- replay: net_pcap ports on captures ---------------------------------------------------

def pcap_config(work, prefix, dataplane_extra="", tables="{ max_bindings: 64, max_sas: 64 }",
                mbufs=4095, rest="", cache=64, home_agent=None, pdns=None, ports=None,
                pid_suffix=True, lcores="{ main: 0, workers: [1] }"):
    """hadp's YAML: one worker, the access and core ports replaying WORK/access_in.pcap and
    WORK/core_in.pcap and writing WORK/<port>_out.pcap (workers) and WORK/<port>_ctl.pcap (the
    control thread), the HA's addresses, one PDN (2001:db8:100::/48, 10.45.0.0/16), IKE off;
    dataplane_extra goes inside `dataplane:`, home_agent (a dict) adds keys to home_agent,
    pdns (a list of dicts) replaces the PDNs, ports ({"access": "{ device: ... }", "core":
    ...}) replaces the ports, lcores the lcore layout, rest (static_sas, static_bindings...) goes after. The
    --file-prefix is PREFIX-PID (PREFIX when pid_suffix is False)."""
    fp = f"{prefix}-{os.getpid()}" if pid_suffix else prefix
    ports = ports or {
        "access": f'{{ device: net_pcap0, devargs: "rx_pcap={work}/access_in.pcap,tx_pcap='
                  f'{work}/access_out.pcap,tx_pcap={work}/access_ctl.pcap", next_hop_mac: '
                  f'"{MAC_ACCESS_NH}" }}',
        "core": f'{{ device: net_pcap1, devargs: "rx_pcap={work}/core_in.pcap,tx_pcap='
                f'{work}/core_out.pcap,tx_pcap={work}/core_ctl.pcap", next_hop_mac: '
                f'"{MAC_CORE_NH}" }}'}
    ha = "".join(f"  {k}: {flow(v)}\n" for k, v in (home_agent or {}).items())
    pdn_text = "".join(f"  - {flow(p)}\n" for p in (pdns or PDNS[:1]))
    return f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={fp}", "--log-level=*:warning"]
  lcores: {lcores}
  mempool: {{ mbufs: {mbufs}, cache: {cache} }}
  ports:
    access: {ports["access"]}
    core: {ports["core"]}
  tables: {tables}
{dataplane_extra}home_agent:
  ipv6_address: {HA6}
  ipv4_address: {HA4}
{ha}pdns:
{pdn_text}ike: {{ enabled: false }}
{rest}"""


def run_hadp(hadp, work, config_text, exit_idle_ms=300, max_seconds=30):
    """Writes WORK/hadp.yaml, runs hadp until its inputs have been idle exit_idle_ms.
    @return (exit status, stderr, the stats file's contents or None)."""
    with open(f"{work}/hadp.yaml", "w") as f:
        f.write(config_text)
    r = subprocess.run([hadp, "-c", f"{work}/hadp.yaml", "--exit-idle", str(exit_idle_ms),
                        "--max-seconds", str(max_seconds), "--stats-file", f"{work}/stats.json"],
                       capture_output=True, text=True, timeout=90 + max_seconds)
    stats = json.load(open(f"{work}/stats.json")) if r.returncode == 0 else None
    m = re.search(r"--file-prefix=([\w.-]+)", config_text)
    if m:  # the ESP sequence ledger it kept (docs/restarts.md): one run, one ledger
        shutil.rmtree(f"/run/ha/{m.group(1)}", ignore_errors=True)
    return r.returncode, r.stderr, stats


def sanitizer_env(leak_check=True):
    """hacpd's environment: under LeakSanitizer, DPDK's own leaks in a secondary process
    (tests/lsan_dpdk.supp) are not hacpd's; leak_check False turns leak checking off (a hacpd
    that stops because hadp died leaves hadp's memory alone, its cache included)."""
    env = dict(os.environ)
    env["LSAN_OPTIONS"] = f"suppressions={LSAN_SUPP}:" + env.get("LSAN_OPTIONS", "")
    if not leak_check:
        env["ASAN_OPTIONS"] = "detect_leaks=0:" + env.get("ASAN_OPTIONS", "")
    return env


class Daemons:
    """hadp then hacpd on a configuration file, each with its log and stats file in WORK,
    started, waited for, stopped with SIGINT (stats written at exit) and cleaned up."""

    def __init__(self, build, work, config, prefix, hadp_args=(), hacpd_args=(),
                 leak_check=True):
        self.build, self.work, self.config, self.prefix = build, work, config, prefix
        self.leak_check = leak_check
        self.hacpd_log_mode = "w"  # the first hacpd's log starts it, a restart's is appended
        self.hadp_args, self.hacpd_args = list(hadp_args), list(hacpd_args)
        self.hadp = self.hacpd = None
        self.hadp_stats = self.hacpd_stats = None
        self.hadp_rc = self.hacpd_rc = None
        self.sock = None

    def start_hadp(self, timeout=60):
        self.hadp = subprocess.Popen(
            [f"{self.build}/dataplane/hadp", "-c", self.config, "--stats-file",
             f"{self.work}/hadp.json", *self.hadp_args],
            stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/hadp.log", "w"))

        def up():
            if self.hadp.poll() is not None:
                raise RuntimeError(f"hadp exited {self.hadp.returncode}: {self.log('hadp')}")
            try:
                return telemetry(self.prefix, "/hadp/tables", timeout=2) is not None
            except (OSError, ValueError, KeyError):
                return False
        if not wait_until(up, timeout, 0.1):
            raise RuntimeError(f"hadp not up in {timeout} s: {self.log('hadp')}")

    def start_hacpd(self, sock, timeout=60, args=None, stats=True):
        """Starts hacpd (args: instead of the constructor's hacpd_args; stats: with
        --stats-file WORK/hacpd.json) and waits until hactl gets an answer from it; the
        Popen. Each call starts a new hacpd (a restart), its log appended to hacpd.log."""
        self.sock = sock
        if os.path.exists(sock):
            os.unlink(sock)
        cmd = [f"{self.build}/controlplane/hacpd", "-c", self.config]
        if stats:
            cmd += ["--stats-file", f"{self.work}/hacpd.json"]
        self.hacpd = subprocess.Popen(cmd + list(self.hacpd_args if args is None else args),
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(f"{self.work}/hacpd.log",
                                                  self.hacpd_log_mode),
                                      env=sanitizer_env(self.leak_check))
        self.hacpd_log_mode = "a"

        def up():
            if self.hacpd.poll() is not None:
                raise RuntimeError(f"hacpd exited {self.hacpd.returncode}: {self.log('hacpd')}")
            return os.path.exists(sock) and self.hactl("show", "stats").returncode == 0
        if not wait_until(up, timeout, 0.1):
            raise RuntimeError(f"hacpd not up in {timeout} s: {self.log('hacpd')}")
        return self.hacpd

    def log(self, name):
        try:
            return open(f"{self.work}/{name}.log").read()[-3000:]
        except OSError:
            return ""

    def hactl(self, *args, timeout=30):
        """hactl -s SOCKET ARGS: the CompletedProcess (returncode, stdout, stderr)."""
        return subprocess.run([f"{self.build}/controlplane/hactl", "-s", self.sock, *args],
                              capture_output=True, text=True, timeout=timeout)

    def stop(self, interrupt=True, timeout=60):
        """SIGINT to hacpd, then hadp (interrupt False: waits up to timeout seconds for each
        to stop on its own, its --max-seconds); their stats files read (None when a daemon
        wrote none); exit statuses in hadp_rc / hacpd_rc; DPDK's files removed."""
        for name in ("hacpd", "hadp"):
            p = getattr(self, name)
            if p is None:
                continue
            if p.poll() is None:
                if interrupt:
                    p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            setattr(self, name + "_rc", p.returncode)
            try:
                setattr(self, name + "_stats", json.load(open(f"{self.work}/{name}.json")))
            except (OSError, ValueError):
                pass
            setattr(self, name, None)
        remove_dpdk_files(self.prefix)


# ---- live: veth ports and the test on their other ends ------------------------------------

class Port:
    """The test's end of a link (a veth, a tap; a bond's two links as one): sends frames, keeps
    every frame hadp sends (a thread per link reads an AF_PACKET socket; the test's own frames,
    PACKET_OUTGOING, and a link's Slow Protocols frames, LACP, are left out). netns: the
    namespace the ends are in (tests/lib/pmds.py), the machine's when None."""

    def __init__(self, ifname, netns=None):
        names = [ifname] if isinstance(ifname, str) else list(ifname)
        self.ifname, self.ifnames = names[0], names
        self.socks = []
        with netns.entered() if netns else contextlib.nullcontext():
            for n in names:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
                s.bind((n, 0))
                s.settimeout(0.2)
                self.socks.append(s)
        self.sock = self.socks[0]
        self.mac = netns.mac(names[0]) if netns else \
            open(f"/sys/class/net/{names[0]}/address").read().strip()
        self.frames = []
        self.sent = 0  # frames sent: a bond's links take turns
        self.cond = threading.Condition()
        self.closing = False
        self.threads = [threading.Thread(target=self._rx, args=(s,), daemon=True)
                        for s in self.socks]
        for t in self.threads:
            t.start()

    def _rx(self, sock):
        while not self.closing:
            try:
                data, addr = sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING or data[12:14] == b"\x88\x09":
                continue
            with self.cond:
                self.frames.append(data)
                self.cond.notify_all()

    def send(self, frame):
        """Sends an Ether frame (or bytes) out of the test's end, towards hadp."""
        self.socks[self.sent % len(self.socks)].send(
            frame if isinstance(frame, bytes) else raw(frame))
        self.sent += 1

    def mark(self):
        """The number of frames received so far: wait(since=mark) sees only later ones."""
        with self.cond:
            return len(self.frames)

    def wait(self, match, since=0, timeout=20, count=1):
        """The first count results of match(Ether) (not None/False) among frames from index
        since on, waiting up to timeout seconds for them; fewer when they do not come."""
        end = time.time() + timeout
        out, i = [], since
        with self.cond:
            while True:
                while i < len(self.frames) and len(out) < count:
                    try:
                        r = match(Ether(self.frames[i]))
                    except Exception:  # noqa: BLE001  a frame the matcher cannot read
                        r = None
                    if r is not None and r is not False:
                        out.append(r)
                    i += 1
                left = end - time.time()
                if len(out) >= count or left <= 0:
                    return out
                self.cond.wait(min(left, 0.5))

    def collect(self, match, since=0, quiet=1.0):
        """Every match among frames from since on, after quiet seconds without a new frame
        (to show that something did NOT come)."""
        end = time.time() + quiet
        n = self.mark()
        while time.time() < end:
            time.sleep(0.1)
            m = self.mark()
            if m != n:
                n, end = m, time.time() + quiet
        return self.wait(match, since, timeout=0, count=1 << 30)

    def close(self):
        self.closing = True
        for t in self.threads:
            t.join(timeout=2)
        for s in self.socks:
            s.close()


def _sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


class Appliance:
    """hadp + hacpd on veth pairs with one YAML, as a context manager:

        with Appliance(build, work, ues=[ue1, ue2], home_agent={...}) as app:
            ue1.attach(app)...
            app.hactl("show", "bindings")

    ues: test UEs (tests/lib/ue.py) whose signalling SAs go into static_sas;
    home_agent: keys added to home_agent (binding_lifetime, refresh_advice_percent, nat,
    revocation, ...); pdns: the PDN list (default PDNS: internet with an IPv4 pool, ims
    without); extra: YAML appended at the top level; sas: more static_sas entries (dicts); ike: the ike
    section (a dict, default IKE off); ports: the two ports' devices and the test's ends
    (tests/lib/pmds.py: net_tap, net_af_packet, net_memif, net_pcap, net_bonding; default
    net_pcap on veth pairs in this namespace); lcores: dataplane.lcores (YAML flow text).
    app.access / app.core are the test's ends (Port); app.stop() returns (hadp stats, hacpd
    stats) from their stats files; __exit__ stops and cleans up in all cases."""

    def __init__(self, build, work, ues=(), home_agent=None, pdns=None, extra="",
                 mbufs=2047, dataplane_extra="", tag=None, tables=256, sas=(), ike=None,
                 ports=None, lcores="{ main: 0, workers: [1] }"):
        self.build, self.work = build, os.path.abspath(work)
        self.ues = list(ues)
        self.sas = list(sas)  # more static_sas entries (dicts), e.g. a static binding's
        self.ike = ike or {"enabled": False}  # the ike section (a dict)
        self.home_agent = {"binding_lifetime": {"max": 3600}, **(home_agent or {})}
        self.pdns = pdns or PDNS
        self.extra, self.mbufs, self.dataplane_extra = extra, mbufs, dataplane_extra
        self.tables = tables
        self.ports, self.lcores = ports, lcores
        tag = tag or f"{os.getpid() % 100000}"
        self.prefix = f"ha-app-{tag}"
        self.links = {"access": (f"hpa{tag}", f"tpa{tag}"), "core": (f"hpc{tag}", f"tpc{tag}")}
        self.access = self.core = None
        self.daemons = None
        self.stopped = False

    def port_text(self):
        """The two ports' YAML and the EAL arguments they need."""
        if self.ports:
            return self.ports.yaml("access"), self.ports.yaml("core"), \
                "".join(f', "{a}"' for a in self.ports.eal_args())
        acc, core = self.links["access"], self.links["core"]
        mac = {k: open(f"/sys/class/net/{v[1]}/address").read().strip()
               for k, v in self.links.items()}
        return (f'{{ device: net_pcap0, devargs: "rx_iface_in={acc[0]},tx_iface={acc[0]},'
                f'tx_iface={acc[0]}", next_hop_mac: "{mac["access"]}" }}',
                f'{{ device: net_pcap1, devargs: "rx_iface_in={core[0]},tx_iface={core[0]},'
                f'tx_iface={core[0]}", next_hop_mac: "{mac["core"]}" }}', "")

    def config_text(self):
        acc, core, eal = self.port_text()
        sas = list(self.sas)
        for ue in self.ues:
            sas += ue.static_sas(HA6)
        ha = "".join(f"  {k}: {flow(v)}\n" for k, v in self.home_agent.items())
        pdns = "".join(f"  - {flow(p)}\n" for p in self.pdns)
        sa_text = ("static_sas:\n" + "".join(f"  - {flow(s)}\n" for s in sas)) if sas else ""
        return f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={self.prefix}", "--log-level=*:warning"{eal}]
  lcores: {self.lcores}
  mempool: {{ mbufs: {self.mbufs}, cache: 32 }}
  ports:
    access: {acc}
    core: {core}
  tables: {{ max_bindings: {self.tables}, max_sas: {self.tables} }}
{self.dataplane_extra}home_agent:
  ipv6_address: {HA6}
  ipv4_address: {HA4}
{ha}pdns:
{pdns}ike: {flow(self.ike)}
cli: {{ socket: "{self.work}/hactl.sock", mode: 0660, group: root }}
{sa_text}{self.extra}"""

    def __enter__(self):
        # meson's timeout sends SIGTERM: leave through __exit__, which cleans up
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"{self.prefix}: SIGTERM"))
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        try:
            if self.ports:
                self.ports.create()
            else:
                self.veths()
            self.config = f"{self.work}/ha.yaml"
            with open(self.config, "w") as f:
                f.write(self.config_text())
            self.daemons = Daemons(self.build, self.work, self.config, self.prefix)
            self.daemons.start_hadp()
            if self.ports:
                self.ports.started(self)
                ends = self.ports.ends()
                self.access = Port(ends["access"], self.ports.ns)
                self.core = Port(ends["core"], self.ports.ns)
                macs = self.port_macs()
                self.access.mac_peer, self.core.mac_peer = macs[0], macs[1]
            else:
                self.access = Port(self.links["access"][1])
                self.core = Port(self.links["core"][1])
                for p, k in ((self.access, "access"), (self.core, "core")):
                    # hadp's end: where the test's frames go (hadp's ports take any destination)
                    p.mac_peer = open(f"/sys/class/net/{self.links[k][0]}/address").read().strip()
            self.daemons.start_hacpd(f"{self.work}/hactl.sock")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def veths(self):
        for ha_end, test_end in self.links.values():
            subprocess.run(["ip", "link", "del", ha_end], capture_output=True)
            _sh("ip", "link", "add", ha_end, "type", "veth", "peer", "name", test_end)
            for ifn in (ha_end, test_end):
                # neither kernel end speaks: no router solicitations, no DAD in the way
                _sh("sysctl", "-qw", f"net.ipv6.conf.{ifn}.disable_ipv6=1")
                _sh("ip", "link", "set", ifn, "up")

    def port_macs(self):
        """The access and core ports' MACs as hadp's DPDK has them (telemetry /ethdev/info):
        the devices of the configuration's ports, in that order."""
        names = [re.search(r"device: (\S+),", t).group(1) for t in self.port_text()[:2]]
        macs = {}
        for pid in self.telemetry("/ethdev/list"):
            info = self.telemetry(f"/ethdev/info,{pid}")
            macs[info["name"]] = info["mac_addr"].lower()
        return [macs[n] for n in names]

    def __exit__(self, *exc):
        try:
            if not self.stopped:
                self.stop()
        finally:
            for p in (self.access, self.core):
                if p:
                    p.close()
            if self.ports:
                self.ports.remove()
            else:
                for ha_end, _ in self.links.values():
                    subprocess.run(["ip", "link", "del", ha_end], capture_output=True)
        return False

    def stop(self):
        """Stops hacpd and hadp (SIGINT); @return (hadp stats, hacpd stats) as written at
        exit, None for a daemon that wrote none."""
        self.stopped = True
        if self.ports:
            self.ports.before_stop()
        if self.daemons:
            self.daemons.stop()
            return self.daemons.hadp_stats, self.daemons.hacpd_stats
        return None, None

    # ---- what the test asks the appliance ----
    def hactl(self, *args, timeout=30):
        return self.daemons.hactl(*args, timeout=timeout)

    def cp_stats(self):
        """hacpd's counters now (hactl show stats --json)."""
        r = self.hactl("show", "stats", "--json")
        return json.loads(r.stdout) if r.returncode == 0 else {}

    def dp_stats(self):
        """hadp's counters now (telemetry /hadp/stats), with the catalog's '-' names."""
        return {k.replace("_", "-"): v for k, v in telemetry(self.prefix, "/hadp/stats").items()}

    def telemetry(self, cmd):
        return telemetry(self.prefix, cmd)

    def bindings(self):
        """hacpd's bindings (hactl show bindings --json), one dict each."""
        r = self.hactl("show", "bindings", "--json")
        return [json.loads(x) for x in r.stdout.splitlines() if x.strip()] if r.returncode == 0 \
            else []

    def binding(self, hoa):
        return next((b for b in self.bindings() if b.get("home_address") == hoa), None)

    def wait_binding(self, hoa, present=True, timeout=20):
        """Waits until hacpd has (or no longer has) the binding of hoa; True when so."""
        return bool(wait_until(lambda: (self.binding(hoa) is not None) == present, timeout, 0.2))

    def log(self, name):
        return self.daemons.log(name)

    def mbufs_in_use(self):
        """hadp's packet buffers not in its pool now (telemetry /hadp/rings)."""
        return self.telemetry("/hadp/rings")["mbufs_in_use"]

    def check_mbufs(self, check, name, timeout=10):
        """After a step: every mbuf back in hadp's pool once the rings are idle."""
        n = wait_until(lambda: self.mbufs_in_use() == 0 and "0", timeout, 0.1)
        check(n == "0", f"{name}: hadp's mbufs all back in the pool: {self.mbufs_in_use()} "
              f"in use")


class Delta:
    """Counters' change over a step: d = Delta(app); ...; d.cp("bu-accepted") == 1."""

    def __init__(self, app):
        self.app = app
        self.cp0, self.dp0 = app.cp_stats(), app.dp_stats()

    def cp(self, name, sub=None):
        now = self.app.cp_stats()
        if sub:
            return now.get(name, {}).get(sub, 0) - self.cp0.get(name, {}).get(sub, 0)
        return now.get(name, 0) - self.cp0.get(name, 0)

    def dp(self, name):
        return self.app.dp_stats().get(name, 0) - self.dp0.get(name, 0)
