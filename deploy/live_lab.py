#!/usr/bin/python3
"""The appliance live on this machine, without a NIC (deploy/run_lab.sh runs this).

hadp's access and core ports are net_pcap on veth pairs into network namespaces; hacpd is
attached to it, charon runs with the appliance's plugin (deploy/charon_conf.py) in a namespace
of its own and speaks IKE only through hadp. Behind the access port a router namespace routes
IPv6 and IPv4 and masquerades one UE (nftables); behind the core port a Linux host, the PDN,
pings and streams with the kernel's own tools. Three simulated UEs, each in its namespace with
a real charon (the test USIM plugin, tests/ike/ue_plugin.c) and deploy/live_ue.py as its Mobile
IPv6 stack and user plane:
    ue6  an IPv6 access                      2001:db8:ffff:a::a, then moves to ...:a::b
    ue4  an IPv4-only access (RFC 5555)      203.0.113.10
    uen  an IPv4 access behind a NAT         10.0.0.2, masqueraded to 192.0.2.20
Each attaches with IKEv2 and EAP-AKA, gets its home prefix, makes its BU/BA child SA, registers
(BU/BA under it) and answers the PDN host's ping and iperf3 through its tunnel; ue6 moves to
another care-of address; ue6 then de-registers and deletes its IKE SA, and ue4 is detached by
the network (the BRI answered by a BRA, then the UE closes its IKE SA). With ike.aaa: s6b
(configs/lab.yaml) EAP-AKA goes through the 3GPP AAA over S6b: the AAA stand-in (tests/aaa/,
deploy/lab_aaa.py) plays each of ike.s6b's peers in charon's namespace, started before charon;
each attach shows its DER/DEA there, ue6's detach its STR (DIAMETER_LOGOUT), and ue4's detach is
the AAA's: its ASR, hacpd's BRI, the UE's BRA, the STR (DIAMETER_ADMINISTRATIVE). With ike.aaa:
local the subscriber file authenticates and ue4 is detached with hactl detach. Every step prints
ok or FAIL with what it checked; the exit status is 0 only when every one passed. Stopping (at
the end, on Ctrl-C, on a failure) leaves no process, namespace, interface, hugepage file,
/run/ha/<prefix> or EAL runtime directory, and says so.

usage: live_lab.py BUILD CONFIG [--keep] [--work DIR]
       live_lab.py BUILD --stop [--work DIR]
  --keep   leave the appliance and the UEs running (no detach) and print what to try
  --stop   stop a lab left running with --keep
  WORK defaults to BUILD/live-lab. Takes /tmp/ike-tests.lock (charon's plugin folder is
  shared with the IKE tests) unless IKE_LOCK_HELD=1 says the caller holds it.
"""
import fcntl
import glob
import ipaddress
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from appliance import Daemons, remove_dpdk_files, telemetry, wait_until  # noqa: E402
from charon import Charon, bu_child, ha_charon, install_plugins, sh, ue_conn  # noqa: E402
from checks import Checks  # noqa: E402
from lab_aaa import ADMINISTRATIVE, LOGOUT, LabAaa  # noqa: E402

LOCK = "/tmp/ike-tests.lock"
K, OPC = "465b5ce8b199b49faa5f0a2ee238a6bc", "cd63cb71954a9f4e48a5994e37a02baf"  # TS 35.208 set 1
CN6, CN4 = "2001:db8:9::1", "198.51.100.9"        # the PDN host
GW6, GW4 = "2001:db8:9::fe", "198.51.100.254"     # its next hop: hadp's core port
ACC6, ACC4 = "2001:db8:ffff::2", "192.0.2.20"     # the access router towards hadp
# name, access kind, care-of address, the router's address on the UE's link, prefix length
UES = [
    ("ue6", "ipv6", "2001:db8:ffff:a::a", "2001:db8:ffff:a::1", 64),
    ("ue4", "ipv4", "203.0.113.10", "203.0.113.1", 24),
    ("uen", "nat", "10.0.0.2", "10.0.0.1", 24),
]
MOVE_TO = "2001:db8:ffff:a::b"  # ue6's second care-of address


def nai(i):
    return f"00010100000000{i + 1:02d}@nai.epc.mnc001.mcc001.3gppnetwork.org"


class Lab:
    """What the lab made, kept in WORK/state.json so that --stop finds it after --keep."""

    def __init__(self, build, work):
        self.build, self.work = build, work
        self.tag = str(os.getpid() % 100000)
        self.state = {"pids": [], "ns": [], "links": [], "prefix": None, "plugins": []}
        self.charons, self.ues = [], {}
        self.daemons = None
        self.aaa = None  # LabAaa with ike.aaa s6b
        self.check = Checks(verbose=True)

    def started(self, pid):
        """A process of the lab's, recorded with its start time (a number the kernel may give
        to another process once it has gone is never signalled for it)."""
        self.state["pids"].append([pid, start_time(pid)])
        self.save()

    def save(self):
        with open(f"{self.work}/state.json", "w") as f:
            json.dump(self.state, f)

    def ns(self, role):
        name = f"ll-{role}-{self.tag}"
        sh("ip", "netns", "add", name)
        self.state["ns"].append(name)
        self.save()
        return name

    def veth(self, a, a_ns, b, b_ns):
        """A veth pair a (in a_ns, None: this namespace) - b (in b_ns)."""
        args = ["ip", "link", "add", a] + (["netns", a_ns] if a_ns else []) + \
            ["type", "veth", "peer", "name", b, "netns", b_ns]
        sh(*args)
        if not a_ns:
            self.state["links"].append(a)
            self.save()

    def hactl(self, *args):
        r = subprocess.run([f"{self.build}/controlplane/hactl", "-s", f"{self.work}/hactl.sock",
                            *args], capture_output=True, text=True, timeout=30)
        return r.stdout + r.stderr


def mac(ns, dev):
    return sh("cat", f"/sys/class/net/{dev}/address", ns=ns).stdout.strip()


def up(ns, dev, mtu=None, v6=True):
    """A namespace's interface up; its kernel's checksums computed in software (a veth never
    computes those it leaves to offload, and hadp checks them)."""
    if not v6:
        sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1", ns=ns)
    if mtu:
        sh("ip", "link", "set", dev, "mtu", str(mtu), ns=ns)
    sh("ip", "link", "set", dev, "up", ns=ns)
    sh("ethtool", "-K", dev, "tx", "off", ns=ns)


def network(lab, cfg):
    """The namespaces and links (see the module's docstring). @return the hadp ends' names and
    the MACs hadp sends to."""
    t = lab.tag
    acc_ha, core_ha = f"lla{t}", f"llc{t}"
    mtu = max(1500, cfg["dataplane"]["ports"]["access"].get("mtu", 1500))
    ns = {r: lab.ns(r) for r in ("ha", "acc", "core", *[u[0] for u in UES])}
    lab.veth(acc_ha, None, "out0", ns["acc"])
    lab.veth(core_ha, None, "eth0", ns["core"])
    for dev in (acc_ha, core_ha):  # hadp's, not this kernel's
        sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
        sh("ip", "link", "set", dev, "mtu", str(mtu), "up")
    ha6, ha4 = cfg["home_agent"]["ipv6_address"], cfg["home_agent"]["ipv4_address"]
    a = ns["acc"]
    sh("ip", "addr", "add", f"{ACC6}/64", "dev", "out0", "nodad", ns=a)
    sh("ip", "addr", "add", f"{ACC4}/24", "dev", "out0", ns=a)
    up(a, "out0", mtu)
    sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=a)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=a)
    for name, kind, coa, router, plen in UES:
        u = ns[name]
        lab.veth("ue0", u, name, a)
        sh("ip", "addr", "add", f"{router}/{plen}", "dev", name, *(["nodad"] if kind == "ipv6"
                                                                   else []), ns=a)
        up(a, name, mtu)
        sh("ip", "addr", "add", f"{coa}/{plen}", "dev", "ue0", *(["nodad"] if kind == "ipv6"
                                                              else []), ns=u)
        up(u, "ue0", mtu, v6=kind == "ipv6")
        sh("ip", "link", "set", "lo", "up", ns=u)
        ha = ha6 if kind == "ipv6" else ha4
        sh("ip", "route", "add", ha, "via", router, "dev", "ue0", ns=u)
        # what hadp tunnels to the UE, and its own protocols, are the UE program's: the UE's
        # kernel neither answers nor refuses them
        for rule in ("table inet ue",
                     "chain inet ue in { type filter hook input priority 0 ; }",
                     "rule inet ue in meta l4proto { 4, 41, 50 } drop",
                     "rule inet ue in udp dport 4191 drop"):
            sh("nft", "add", *rule.split(), ns=u)
    # the NAT for uen only: UDP source ports into 41000-41999 as a carrier-grade NAT might
    for rule in ("table ip nat",
                 "chain ip nat post { type nat hook postrouting priority 100 ; }",
                 'rule ip nat post oifname "out0" ip saddr 10.0.0.0/24 meta l4proto udp '
                 'masquerade to :41000-41999',
                 'rule ip nat post oifname "out0" ip saddr 10.0.0.0/24 masquerade'):
        sh("nft", "add", *rule.split(), ns=a)
    # the PDN host: the pools' prefixes through hadp's core port
    c = ns["core"]
    sh("ip", "addr", "add", f"{CN6}/64", "dev", "eth0", "nodad", ns=c)
    sh("ip", "addr", "add", f"{CN4}/24", "dev", "eth0", ns=c)
    up(c, "eth0")
    sh("ip", "link", "set", "lo", "up", ns=c)
    hadp_core_mac = open(f"/sys/class/net/{core_ha}/address").read().strip()
    for gw in (GW6, GW4):
        sh("ip", "neigh", "replace", gw, "lladdr", hadp_core_mac, "dev", "eth0", "nud",
           "permanent", ns=c)
    for p in cfg["pdns"]:
        sh("ip", "-6", "route", "add", p["home_prefix_pool"], "via", GW6, ns=c)
        if p.get("ipv4_pool"):
            sh("ip", "-4", "route", "add", p["ipv4_pool"], "via", GW4, ns=c)
    return ns, acc_ha, core_ha, mac(a, "out0"), mac(c, "eth0")


def lab_config(lab, cfg, acc_ha, core_ha, acc_mac, core_mac, pki):
    """The configuration hadp, hacpd and charon run on: the YAML's, as ha-config read it, with
    the ports on the lab's veths, its own file prefix, sockets, PKI and subscribers, and none of
    its static bindings (the lab's UEs register themselves). JSON is YAML."""
    d = cfg["dataplane"]
    prefix = f"ha-live-{lab.tag}"
    d["eal_args"] = [a for a in d["eal_args"] if not a.startswith("--file-prefix")] + \
        [f"--file-prefix={prefix}"]
    for name, dev, mac_ in (("access", acc_ha, acc_mac), ("core", core_ha, core_mac)):
        p = d["ports"][name]
        p["device"] = f"net_pcap{0 if name == 'access' else 1}"
        p["devargs"] = f"rx_iface_in={dev},tx_iface={dev},tx_iface={dev}"
        p["next_hop_mac"] = mac_
    ike = cfg["ike"]
    if not ike["enabled"] or ike["aaa"] not in ("local", "s6b"):
        raise RuntimeError("the live lab needs ike.enabled and ike.aaa local or s6b")
    ike.update(certificate=f"{pki}/ha.crt", private_key=f"{pki}/ha.key",
               ca_certificate=f"{pki}/ca.crt", socket=f"{lab.work}/ike.sock")
    if ike["aaa"] == "local":  # with s6b the AAA stand-ins read the lab's subscriber file
        ike["subscribers"] = f"{lab.work}/subscribers.yaml"
    cfg["cli"]["socket"] = f"{lab.work}/hactl.sock"
    for k in ("static_sas", "static_bindings"):
        cfg.pop(k, None)
    path = f"{lab.work}/ha.yaml"
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    lab.state["prefix"] = prefix
    lab.save()
    return path, prefix


class UeProc:
    """deploy/live_ue.py in the UE's namespace: commands in, JSON lines out."""

    def __init__(self, lab, ns, iface, router_mac, hoa, sa_log, log):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/bin/python3", f"{HERE}/live_ue.py", iface,
             router_mac, hoa, sa_log, "hoa0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(log, "w"), text=True)
        lab.started(self.p.pid)
        self.lines, self.events = queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._next(30)

    def _read(self):
        for line in self.p.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                pass
        self.lines.put(None)

    def _next(self, timeout):
        end = time.time() + timeout
        while time.time() < end:
            try:
                m = self.lines.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                return None
            if m is None:
                return None
            if "event" in m:
                self.events.append(m)
                continue
            return m
        return None

    def ask(self, cmd, timeout=30):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return self._next(timeout) or {}

    def wait_event(self, name, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if any(e["event"] == name for e in self.events):
                return True
            try:
                m = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if m and "event" in m:
                self.events.append(m)
        return any(e["event"] == name for e in self.events)


def attach(lab, i, spec, ns, pki, ha_id, ha6, ha4, router_mac):
    """A UE's charon attaches (IKEv2, EAP-AKA), gets its home prefix, makes its BU/BA child SA;
    its Mobile IPv6 program starts. @return (the UE's record, its home address) or None."""
    name, kind, coa, _, _ = spec
    check = lab.check
    ident = nai(i)
    ue = Charon(lab.work, name, ns, "dsmip6-ue",
                f"    dsmip6-ue {{ k = {K}\n opc = {OPC}\n sa_log = {lab.work}/{name}.sas\n"
                f" spi_base = {0xe0000000 + (i + 1) * 0x100000:#x}\n"
                f" move_file = {lab.work}/{name}.move }}\n"
                # the UE moves its IKE SA itself with its BU (the K bit), not by MOBIKE
                "    kernel-netlink { roam_events = no }")
    lab.charons.append(ue)
    lab.started(ue.proc.pid)
    remote = ha6 if kind == "ipv6" else ha4
    ue.load(f"connections {{\n{ue_conn(ident, coa, remote, ha_id)}}}\n",
            [(f"{pki}/ca.crt", "x509ca")])
    for _ in range(2):  # once more when a busy machine made the UE give up
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "40", check_rc=False)
        if r.returncode == 0:
            break
    if not check(r.returncode == 0, f"{name}: attached with IKEv2 and EAP-AKA as {ident} "
                 f"from {coa} ({kind} access)" + ("" if r.returncode == 0 else
                                                  f": {r.stdout[-300:]}")):
        return None
    if lab.aaa and not aaa_attach(lab, name, ident):
        return None
    got = [ln.split("MIP6_HOME_PREFIX ")[1].replace(":", "").strip()
           for ln in open(ue.log) if "dsmip6-ue: MIP6_HOME_PREFIX" in ln]
    if not check(got and len(got[-1]) == 42, f"{name}: MIP6_HOME_PREFIX received (RFC 5026: "
                 f"lifetime, prefix, length) {got[-1:] if got else ''}"):
        return None
    prefix = ipaddress.IPv6Address(bytes.fromhex(got[-1][8:40]))
    hoa = str(prefix + 1)  # the UE's home address in its prefix
    # the same connection with the BU/BA child SA of the home address (vici keeps the IKE SA)
    ue.load(f"connections {{\n{ue_conn(ident, coa, remote, ha_id, bu_child('bu', hoa, ha6))}}}\n",
            [(f"{pki}/ca.crt", "x509ca")])
    r = ue.swanctl("--initiate", "--child", "bu", "--timeout", "40", check_rc=False)
    if not check(r.returncode == 0, f"{name}: its BU/BA child SA for home address {hoa} (RFC "
                 f"4877 4.1, CREATE_CHILD_SA)"):
        return None
    proc = UeProc(lab, ns, "ue0", router_mac, hoa, f"{lab.work}/{name}.sas",
                  f"{lab.work}/{name}-mip6.log")
    if not check(proc.ready, f"{name}: its Mobile IPv6 program is up (deploy/live_ue.py)"):
        return None
    proc.ask(("at6 " if kind == "ipv6" else "at4 ") + coa)
    rec = {"name": name, "nai": ident, "hoa": hoa, "hoa4": None, "charon": ue, "proc": proc,
           "ns": ns, "coa": coa, "kind": kind}
    return rec


def aaa_attach(lab, name, ident):
    """The attach went through the AAA (TS 29.273 9.2.2.1): DERs with the NAI as User-Name, the
    last answered DIAMETER_SUCCESS with the MSK."""
    s = lab.aaa.session(ident)
    a, sid, ders, dea = s if s else (None, None, [], None)
    ok = bool(ders) and dea is not None and dea.get("result_code") == 2001 and \
        len(dea.get("msk", "")) == 128
    return lab.check(ok, f"{name}: through the AAA over S6b: {len(ders)} DER/DEA at "
                     f"{a.identity if a else '(none)'}, the last DEA 2001 with the MSK "
                     f"(TS 29.273 9.2.2.1)" + ("" if ok else f" ({dea})"))


def aaa_end(lab, name, ident, cause, after):
    """The session's end reached the AAA: the STR with Termination-Cause cause (TS 29.273
    9.2.2.3), answered 2001. after: what the step says happened first."""
    s = lab.aaa.session(ident)
    st, sta = lab.aaa.wait_str(s[0], s[1]) if s else (None, None)
    ok = bool(st) and st.get("termination_cause") == cause and bool(sta) and \
        sta.get("result_code") == 2001
    what = {LOGOUT: "DIAMETER_LOGOUT", ADMINISTRATIVE: "DIAMETER_ADMINISTRATIVE"}[cause]
    return lab.check(ok, f"{name}: {after}; the plugin's STR with {what} ({cause}) reached the "
                     f"AAA, STA 2001" + ("" if ok else f" ({st}, {sta})"))


def register(lab, rec, what="registered"):
    r = rec["proc"].ask("register")
    ok = r.get("ba") == 0 and not r.get("errors") and r.get("k")
    if r.get("ipv4_ack") and r["ipv4_ack"][0] == 0:
        rec["hoa4"] = r["ipv4_ack"][1]
    nat = rec["kind"] == "nat"
    ok = ok and bool(r.get("natd")) == nat
    lab.check(ok, f"{rec['name']}: {what}: BA status 0 with K under its SA, IPv4 home address "
              f"{rec['hoa4']}" + (", NAT detected (RFC 5555 4.1)" if nat else "") +
              ("" if ok else f" ({r})"))
    return ok


def ping(lab, rec, addr, what):
    for _ in range(2):  # a second round when a busy machine lost the first
        r = sh("ping", "-c", "3", "-i", "0.3", "-W", "5", addr, ns=lab.core_ns, check_rc=False,
               timeout=30)
        m = re.search(r"(\d+) received", r.stdout)
        got = int(m.group(1)) if m else 0
        if got >= 2:
            break
    return lab.check(got >= 2, f"{rec['name']}: the PDN host pings {addr} ({what}): "
                     f"{got} of 3 answered through the tunnel")


def stream(lab, rec):
    """iperf3 from the PDN host to the UE's home address (TCP, 3 s): the UE's kernel serves it
    behind its Mobile IPv6 program."""
    srv, got, why = None, None, ""
    try:
        for _ in range(10):
            if srv is None or srv.poll() is not None:  # a one-off server per attempt
                srv = subprocess.Popen(["ip", "netns", "exec", rec["ns"], "iperf3", "-s", "-1",
                                        "-B", rec["hoa"], "-p", "5201"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
            r = sh("iperf3", "-c", rec["hoa"], "-p", "5201", "-t", "3", "-J",
                   "--connect-timeout", "3000", ns=lab.core_ns, check_rc=False, timeout=60)
            out = {}
            try:
                out = json.loads(r.stdout)
                got = out["end"]["sum_received"]
                break
            except (ValueError, KeyError) as e:
                why = out.get("error", repr(e)) if isinstance(out, dict) else repr(e)
    finally:
        if srv and srv.poll() is None:
            srv.kill()
        if srv:
            srv.wait()
    n = got["bytes"] if got else 0
    rate = got["bits_per_second"] / 1e6 if got else 0
    lab.check(n > 100000, f"{rec['name']}: iperf3 (TCP, 3 s) from the PDN host to "
              f"{rec['hoa']}: {n} octets received, {rate:.1f} Mbit/s" + ("" if got else
                                                                        f" ({why})"))


def show(lab):
    print("\n$ hactl show bindings")
    print(lab.hactl("show", "bindings").rstrip())
    print("$ hactl show ike")
    print(lab.hactl("show", "ike").rstrip(), flush=True)


def counters(lab):
    try:
        s = telemetry(lab.state["prefix"], "/hadp/stats")
        c = {k: v for k, v in s.items() if v and isinstance(v, int)}
        print("hadp counters:", ", ".join(f"{k.replace('_', '-')} {v}" for k, v in c.items()))
    except (OSError, ValueError, KeyError) as e:
        print(f"hadp counters: not read ({e})")
    st = lab.hactl("show", "stats")
    print("hacpd counters:", ", ".join(x.strip() for x in st.splitlines()
                                       if re.match(r"^(bu|ba|bri|bra|ike)-\S+ [1-9]", x.strip())),
          flush=True)
    if lab.aaa:
        print("hacpd S6b counters:", ", ".join(x.strip() for x in st.splitlines()
                                               if re.match(r"^s6b-\S+ [1-9]", x.strip())))
        for ident, c in lab.aaa.counts().items():
            print(f"AAA {ident} (Diameter messages in and out):",
                  ", ".join(f"{k} {v}" for k, v in sorted(c.items())), flush=True)


def start_time(pid):
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid, start=None):
    """pid runs (a child of ours not yet reaped, or another process not a zombie), and is the
    process that started at start when that is given."""
    if start is not None and start_time(pid) != start:
        return False
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        return open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop(state, work, check=None):
    """Everything the lab made stopped and removed, in reverse order; with check, whether
    anything is left (process, namespace, interface, DPDK file, state directory)."""
    pids = [(p, s) for p, s in state.get("pids", []) if alive(p, s)]
    # the UE programs and charons (namespaced), then hacpd, then hadp: SIGTERM, SIGKILL after 15 s
    for pid, start in reversed(pids):
        try:
            os.kill(pid, signal.SIGINT if pid in state.get("daemons", []) else signal.SIGTERM)
        except ProcessLookupError:
            continue
        if not wait_until(lambda: not alive(pid, start), 15):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not alive(pid, start), 5)
    # what is still running inside the namespaces (iperf3, a process started by hand)
    for ns in state.get("ns", []):
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    for ns in state.get("ns", []):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for link in state.get("links", []):
        subprocess.run(["ip", "link", "del", link], capture_output=True)
    if state.get("prefix"):
        remove_dpdk_files(state["prefix"])
    for so in state.get("plugins", []):
        if so.endswith("-ue.so") and os.path.exists(so):
            os.unlink(so)
    for f in ("ike.sock", "hactl.sock", "state.json"):
        if os.path.exists(f"{work}/{f}"):
            os.unlink(f"{work}/{f}")
    if check is None:
        return
    left = [f"process {p}" for p, s in pids if alive(p, s)]
    have_ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    left += [f"namespace {n}" for n in state.get("ns", []) if n in have_ns.split()]
    left += [f"interface {i}" for i in state.get("links", []) if os.path.exists(f"/sys/class/net/{i}")]
    p = state.get("prefix")
    if p:
        left += glob.glob(f"/dev/hugepages/{p}map_*") + glob.glob(f"/dev/hugepages/{p}-*")
        left += [d for d in (f"/var/run/dpdk/{p}", f"/run/ha/{p}") if os.path.exists(d)]
    try:
        s = json.load(open(f"{work}/hadp.json"))
        check(s["mbufs_in_use"] == 0, f"hadp stopped on SIGINT and wrote its stats: "
              f"{s['mbufs_in_use']} mbufs in use")
    except (OSError, ValueError, KeyError) as e:
        check(False, f"hadp's stats file at exit ({e})")
    check(not left, "stopped: no process, namespace, interface, hugepage file, EAL runtime "
          "directory or /run/ha state left" + (f" ({left})" if left else ""))


def start_appliance(lab, config):
    """The lab up to its UEs (pktgen/attach_bench.py uses it too): the network, hadp, hacpd,
    the AAA stand-ins with ike.aaa s6b, the HA's charon. @return (the configuration as
    ha-config dumps it, the namespaces, the HA's charon), or None when the configuration is
    not valid."""
    check, build, work = lab.check, lab.build, lab.work
    ha_config = f"{build}/controlplane/ha-config"
    r = subprocess.run([ha_config, "--check", config], capture_output=True, text=True)
    if not check(r.returncode == 0, f"the configuration is valid: {(r.stdout + r.stderr).strip()}"):
        return None
    cfg = json.loads(sh(ha_config, "--dump", "--json", "--secrets", config).stdout)
    ha6, ike, pki = cfg["home_agent"]["ipv6_address"], cfg["ike"], f"{work}/pki"
    apns = [p.get("apn", p["name"]) for p in cfg["pdns"]]
    sh(f"{HERE}/lab_pki.sh", pki, ike.get("local_id", "ha"), ha6, *apns)
    with open(f"{work}/subscribers.yaml", "w") as f:  # lab keys only: TS 35.208 test set 1
        f.write("subscribers:\n" + "".join(f"  - identity: {nai(i)}\n    k: {K}\n    opc: {OPC}\n"
                                           for i in range(len(UES))))
    os.chmod(f"{work}/subscribers.yaml", 0o600)
    install_plugins(build, lab.tag, lab.state["plugins"])
    lab.save()

    ns, acc_ha, core_ha, acc_mac, core_mac = network(lab, cfg)
    lab.core_ns = ns["core"]
    check(True, f"network: namespaces {', '.join(ns.values())}; hadp's ports on {acc_ha} "
          f"(access) and {core_ha} (core)")
    path, prefix = lab_config(lab, cfg, acc_ha, core_ha, acc_mac, core_mac, pki)
    d = lab.daemons = Daemons(build, work, path, prefix)
    d.start_hadp(timeout=180)  # a 1M-binding table takes its time on a busy machine
    lab.state.setdefault("daemons", []).append(d.hadp.pid)
    lab.started(d.hadp.pid)
    check(True, f"hadp is up (file prefix {prefix}, telemetry answers)")
    d.start_hacpd(f"{work}/hactl.sock", timeout=120)
    lab.state["daemons"].append(d.hacpd.pid)
    lab.started(d.hacpd.pid)
    wait_until(lambda: os.path.exists(f"{work}/ike.sock"), 20)
    check(os.path.exists(f"{work}/ike.sock"), "hacpd is attached to hadp, hactl answers, its "
          "IKE socket is open")
    if ike["aaa"] == "s6b":  # the AAA first: charon connects to its peers as it starts
        lab.aaa = LabAaa(build, work, ns["ha"], ike["s6b"], f"{work}/subscribers.yaml",
                         lab.started)
    ha = ha_charon(build, path, work, ns["ha"], lab.charons)
    lab.started(ha.proc.pid)
    log = open(ha.log).read()
    if lab.aaa:
        n = len(lab.aaa.standins)
        wait_until(lambda: len(lab.aaa.connected()) == n, 30)
        up_ = lab.aaa.connected()
        check(len(up_) == n and "s6b: Diameter client" in log, f"the AAA ({n} S6b peers) "
              f"answers; charon's Diameter client is connected: CER/CEA with {', '.join(up_)} "
              f"(RFC 6733 5.3)")
        check("IKE goes through the dataplane" in log, "charon runs with the appliance's plugin "
              "(EAP-AKA relayed over S6b), IKE through hadp")
    else:
        check("EAP-AKA subscribers" in log and "IKE goes through the dataplane" in log,
              "charon runs with the appliance's plugin, its subscribers loaded, IKE through hadp")
    return cfg, ns, ha


def run(lab, config, keep):
    check, work = lab.check, lab.work
    up_ = start_appliance(lab, config)
    if not up_:
        return
    cfg, ns, ha = up_
    ha6, ha4 = cfg["home_agent"]["ipv6_address"], cfg["home_agent"]["ipv4_address"]
    ike, pki = cfg["ike"], f"{work}/pki"
    recs = []
    for i, spec in enumerate(UES):
        router_mac = mac(ns["acc"], spec[0])
        rec = attach(lab, i, spec, ns[spec[0]], pki, ike.get("local_id", "ha"), ha6, ha4,
                     router_mac)
        if rec and register(lab, rec):
            recs.append(rec)
    lab.ues = {r["name"]: r for r in recs}
    show(lab)
    for rec in recs:
        ping(lab, rec, rec["hoa"], "IPv6 home address")
        if rec["hoa4"]:
            ping(lab, rec, rec["hoa4"], "IPv4 home address")
    if recs:
        stream(lab, recs[0])
        if len(recs) > 2:
            stream(lab, recs[2])

    # a move: ue6 to another care-of address on its access (001 5.2.3.2, the K bit: the HA's
    # IKE SA follows the BU, RFC 4877 4.4)
    u = lab.ues.get("ue6")
    if u:
        sh("ip", "addr", "add", f"{MOVE_TO}/64", "dev", "ue0", "nodad", ns=u["ns"])
        with open(f"{work}/ue6.move.tmp", "w") as f:
            f.write(f"{MOVE_TO} 500 {ha6} 500\n")
        os.replace(f"{work}/ue6.move.tmp", f"{work}/ue6.move")
        wait_until(lambda: os.path.exists(f"{work}/ue6.move.done"), 10)
        u["proc"].ask(f"at6 {MOVE_TO}")
        sh("ip", "addr", "del", f"{u['coa']}/64", "dev", "ue0", ns=u["ns"])
        u["coa"] = MOVE_TO
        if register(lab, u, f"moved to {MOVE_TO}"):
            b = lab.hactl("show", "binding", u["hoa"])
            check(MOVE_TO in b, "ue6: hactl show binding has the new care-of address")
            sas = ha.swanctl("--list-sas", "--ike", "ue").stdout
            check(f"@ {MOVE_TO}[" in sas, "ue6: the HA's IKE SA moved to it too (K bit)")
            ping(lab, u, u["hoa"], "after the move")
    show(lab)
    counters(lab)
    if keep:
        return

    # the UE detaches: a de-registration (lifetime 0, RFC 6275 11.7.1), then its IKE SA's
    # DELETE (004 5.4.3.2)
    if u:
        r = u["proc"].ask("deregister")
        ok = r.get("ba") == 0 and u["hoa"] not in lab.hactl("show", "bindings")
        check(ok, "ue6: de-registered (a BU with lifetime 0, BA status 0), its binding gone" +
              ("" if ok else f" ({r})"))
        u["charon"].swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
        gone = wait_until(lambda: u["nai"] not in lab.hactl("show", "ike"), 10)
        check(gone, "ue6: its IKE SA deleted, hacpd ended its session")
        if lab.aaa:
            aaa_end(lab, "ue6", u["nai"], LOGOUT, "detached")
    # the network detaches ue4 (RFC 5846, 004 5.4.3.1): the BRI, the UE's BRA; then the UE
    # closes its IKE SA (003 8.4.3.1). With S6b the AAA orders it: its ASR (TS 29.273 9.2.2.4),
    # answered 2001 once hacpd started the detach; without, the operator's hactl detach.
    u = lab.ues.get("ue4")
    if u:
        if lab.aaa:
            s = lab.aaa.session(u["nai"])
            out = s[0].control("asr " + u["nai"]) if s else "no session at the AAA"
            how = f"the AAA's ASR (ASA: {out.strip()})"
            ordered = out.startswith("ok ") and out.split()[-1] == "2001"
        else:
            out = lab.hactl("detach", u["nai"])
            how = f"hactl detach ({out.strip()})"
            ordered = True
        got = u["proc"].wait_event("bri")
        gone = wait_until(lambda: u["hoa"] not in lab.hactl("show", "bindings"), 10)
        check(ordered and got and gone, f"ue4: {how}: the BRI reached the UE, its BRA ended "
              f"the binding")
        u["charon"].swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
        gone = wait_until(lambda: u["nai"] not in lab.hactl("show", "ike"), 10)
        check(gone, "ue4: it closed its IKE SA, hacpd ended its session")
        if lab.aaa:
            aaa_end(lab, "ue4", u["nai"], ADMINISTRATIVE, "detached by the AAA")
    show(lab)
    counters(lab)


def take_lock():
    """The IKE tests' lock (charon's plugin folder is shared), unless IKE_LOCK_HELD=1 says the
    caller holds it: @return the open file holding it, or None."""
    if os.environ.get("IKE_LOCK_HELD") == "1":
        return None
    lock = open(LOCK, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("live lab: waiting for the IKE tests' lock", LOCK, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def main():
    args = sys.argv[1:]
    keep, stop_only = "--keep" in args, "--stop" in args
    work = None
    if "--work" in args:
        work = os.path.abspath(args[args.index("--work") + 1])
        del args[args.index("--work"):args.index("--work") + 2]
    args = [a for a in args if a not in ("--keep", "--stop")]
    build = os.path.abspath(args[0])
    work = work or f"{build}/live-lab"
    lock = take_lock()  # noqa: F841  held until the process exits
    if stop_only:
        try:
            state = json.load(open(f"{work}/state.json"))
        except OSError:
            print(f"live lab: nothing running ({work}/state.json not found)")
            return 0
        check = Checks(verbose=True)
        stop(state, work, check)
        return check.summary("live lab stopped")
    if os.path.exists(f"{work}/state.json"):
        print(f"live lab: one is running already ({work}/state.json): "
              f"deploy/run_lab.sh --stop first", file=sys.stderr)
        return 1
    config = os.path.abspath(args[1])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    lab = Lab(build, work)
    # Ctrl-C is KeyboardInterrupt; a TERM or HUP leaves the same way, through the clean-up
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda n, _: sys.exit(f"live lab: signal {n}"))
    kept = False
    try:
        run(lab, config, keep)
        kept = keep  # failed steps or not, the user explores what runs
    except Exception as e:  # noqa: BLE001  a step that could not run is a failed step
        import traceback
        lab.check(False, f"the lab stopped on {type(e).__name__}: {e}")
        traceback.print_exc()
    except KeyboardInterrupt:
        lab.check(False, "interrupted")
    finally:
        if not kept:
            print("\nlive lab: stopping", flush=True)
            stop(lab.state, work, lab.check)
    if kept:
        sock = f"{work}/hactl.sock"
        hactl = f"{build}/controlplane/hactl -s {sock}"
        core = lab.core_ns
        aaa_hint = "".join(
            f"  echo 'asr {nai(1)}' | socat - UNIX-CONNECT:{a.control_path}"
            f"   # the AAA ({a.identity}) aborts ue4's session\n"
            for a in (lab.aaa.standins[:1] if lab.aaa else []))
        print(f"""
The appliance is running. Try:
  {hactl} show bindings
  {hactl} show stats
  {hactl} show ike
  {hactl} monitor                      # binding events as they happen
  ip netns exec {core} ping {list(lab.ues.values())[0]['hoa']}
{aaa_hint}  {hactl} detach {nai(1)}   # the network detaches ue4
Logs: {work}/*.log, {work}/*/charon.log. Stop it with:
  deploy/run_lab.sh --stop""")
    return lab.check.summary("live lab")


if __name__ == "__main__":
    sys.exit(main())
