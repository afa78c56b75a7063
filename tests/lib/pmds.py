"""hadp's two ports on each kind of DPDK device a deployment without dedicated NICs uses, the
test's ends of them in a network namespace of the run's own (no kernel of the machine's speaks
on them, and nothing is left in the machine's namespace but hadp's own ends):

- `Tap`: net_tap; the kernel side of each tap, which DPDK creates in hadp's namespace, is moved
  into the test's;
- `AfPacket(qpairs)`: net_af_packet on veth pairs (qpairs sockets in one fanout group: the
  kernel spreads flows over them);
- `Pcap`: net_pcap `iface=` on veth pairs (one queue each way);
- `Memif`: hadp's ports memif servers; dpdk-testpmd (io forwarding, no packet changed) joins
  each memif to a net_af_packet on a veth pair, so the test reaches them as the others;
- `Bond`: the access port a net_bonding mode 4 (802.3ad) device over two net_af_packet members
  on two veth pairs; `LacpPartner` plays the switch on the test's ends of both links (this
  kernel has no bonding driver), the core port a plain net_af_packet.

An `Appliance(..., ports=KIND(tag))` (tests/lib/appliance.py) creates them, writes their YAML,
starts hadp, calls `started()`, reads the test's ends from `ends()`, calls `before_stop()`
before it stops hadp and `remove()` at its exit, in all cases.
"""
import contextlib
import ctypes
import json
import os
import socket
import subprocess
import threading
import time

from scapy.all import Ether, raw
from scapy.contrib.lacp import LACP, SlowProtocol

CLONE_NEWNET = 0x40000000
ETH_P_SLOW = 0x8809  # IEEE 802.3 Annex 57A: LACP and Marker
SLOW_MAC = "01:80:c2:00:00:02"
# the test's ends: fixed MACs, so that next_hop_mac is known before hadp starts
END_MAC = {"access": "02:00:00:00:0a:01", "core": "02:00:00:00:0c:01"}
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


class Netns:
    """A network namespace of the test's: created, entered for a moment (a socket made inside
    stays there), its links read, deleted."""

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        sh("ip", "netns", "add", name)
        self.sh("ip", "link", "set", "lo", "up")

    def sh(self, *cmd):
        return sh("ip", "netns", "exec", self.name, *cmd)

    @contextlib.contextmanager
    def entered(self):
        """The calling thread inside the namespace (setns(2)), back in its own after."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), f"setns {self.name}")
            try:
                yield self
            finally:
                _libc.setns(home, CLONE_NEWNET)
        finally:
            os.close(home)
            os.close(target)

    def mac(self, ifname):
        return json.loads(self.sh("ip", "-j", "link", "show", "dev", ifname))[0]["address"]

    def quiet_up(self, ifname, mac=None):
        """A test's end up, IPv6 off (no router solicitation, DAD or MLD from its kernel)."""
        self.sh("sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1")
        if mac:
            self.sh("ip", "link", "set", "dev", ifname, "address", mac)
        self.sh("ip", "link", "set", "dev", ifname, "up")

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Ports:
    """The base: veth pairs, hadp's end in the machine's namespace (its PMD opens it there),
    the test's end in the run's namespace. A kind fills links (role -> [(hadp's end, test's
    end)]), yaml(role) and, where it needs them, eal_args(), started(), before_stop()."""

    name = "veth"

    def __init__(self, tag):
        self.tag = tag
        self.ns = None
        self.links = {}   # role -> [(hadp's end, test's end)]
        self.veths = []   # hadp's ends of the veths this made, deleted at remove()

    def veth(self, role, letter):
        ha, end = f"pm{letter}{role[0]}{self.tag}", f"pe{letter}{role[0]}{self.tag}"
        subprocess.run(["ip", "link", "del", ha], capture_output=True)
        sh("ip", "link", "add", ha, "type", "veth", "peer", "name", end, "netns", self.ns.name)
        self.veths.append(ha)
        sh("sysctl", "-qw", f"net.ipv6.conf.{ha}.disable_ipv6=1")
        sh("ip", "link", "set", ha, "up")
        self.ns.quiet_up(end, END_MAC[role])  # a bond's two links: the same neighbour
        return ha, end

    def create(self):
        self.ns = Netns(f"pmd{self.tag}")
        for role in ("access", "core"):
            self.links[role] = [self.veth(role, "x")]

    def eal_args(self):
        return []

    def yaml(self, role):
        raise NotImplementedError

    @staticmethod
    def port(role, device, devargs, extra=""):
        """A port mapping: device (its number 0 for access, 1 for core appended unless it ends
        in a digit), devargs, the test's end as the next hop, extra keys ("k: v, ...")."""
        if not device[-1].isdigit():
            device += "0" if role == "access" else "1"
        return (f'{{ device: {device}, devargs: "{devargs}", next_hop_mac: "{END_MAC[role]}"'
                + (f", {extra}" if extra else "") + " }")

    def started(self, app):
        """After hadp is up, before the test's ends are opened."""

    def ends(self):
        """role -> the test's end(s) of it, in self.ns."""
        return {role: [end for _, end in links] for role, links in self.links.items()}

    def before_stop(self):
        """Before hadp stops: whatever talks to its ports stops."""

    def remove(self):
        self.before_stop()
        for ha in self.veths:
            subprocess.run(["ip", "link", "del", ha], capture_output=True)
        if self.ns:
            self.ns.delete()


class AfPacket(Ports):
    """net_af_packet on a veth: qpairs sockets per port in one PACKET_FANOUT group."""

    def __init__(self, tag, qpairs=1):
        super().__init__(tag)
        self.qpairs = qpairs
        self.name = f"af_packet_q{qpairs}"

    def yaml(self, role):
        return self.port(role, "net_af_packet",
                         f"iface={self.links[role][0][0]},qpairs={self.qpairs}")


class Pcap(Ports):
    """net_pcap on a live veth, `iface=`: one RX and one TX queue."""

    name = "pcap"

    def yaml(self, role):
        return self.port(role, "net_pcap", f"iface={self.links[role][0][0]}")


class Tap(Ports):
    """net_tap: DPDK makes the kernel's tap interface; it moves into the test's namespace
    (its file descriptor, hadp's side, stays where it is)."""

    name = "tap"

    def create(self):
        self.ns = Netns(f"pmd{self.tag}")
        self.links = {role: [(None, f"pt{role[0]}{self.tag}")] for role in ("access", "core")}

    def yaml(self, role):
        n = {"access": 0, "core": 1}[role]
        return self.port(role, "net_tap", f"iface={self.links[role][0][1]},mac=02:00:00:00:d{n}:01")

    def started(self, app):
        for role, [(_, end)] in self.links.items():
            sh("ip", "link", "set", "dev", end, "netns", self.ns.name)
            self.ns.quiet_up(end, END_MAC[role])

    def remove(self):
        # the taps go with hadp's file descriptors; the namespace last
        if self.ns:
            self.ns.delete()


class Memif(Ports):
    """hadp's ports memif servers; dpdk-testpmd, a DPDK process of its own, forwards each
    memif (as its client) to and from a net_af_packet on a veth pair whose other end is the
    test's. testpmd's io forwarding changes no packet; what it dropped is in its log."""

    name = "memif"

    def __init__(self, tag, work, queues=1):
        super().__init__(tag)
        self.work, self.queues = work, queues  # testpmd's queue pairs per port
        self.prefix = f"pmd-tp-{tag}"
        self.testpmd = None
        self.log = f"{work}/testpmd.log"

    def yaml(self, role):
        # the client connects the rings: hadp's queues match testpmd's pairs (docs/
        # dataplane.md, Queues; TX shared by the threads under a lock)
        return self.port(role, "net_memif", f"role=server,id=0,socket={self.work}/{role}.sock",
                         f"rx_queues: {self.queues}, tx_queues: {self.queues}")

    def started(self, app):
        args = ["stdbuf", "-o0", "dpdk-testpmd", "-l", "0,1", "--no-pci", f"--file-prefix={self.prefix}",
                "-m", "128", "--log-level=*:warning"]
        # ports 0-1 and 2-3 are forwarded to each other (paired topology)
        for role in ("access", "core"):
            args += [f"--vdev=net_memif{2 if role == 'core' else 0},role=client,id=0,socket="
                     f"{self.work}/{role}.sock",
                     f"--vdev=net_af_packet{3 if role == 'core' else 1},"
                     f"iface={self.links[role][0][0]},qpairs={self.queues}"]
        args += ["--", "-i", "--auto-start", "--forward-mode=io", "--total-num-mbufs=4096",
                 f"--rxq={self.queues}", f"--txq={self.queues}"]
        self.testpmd = subprocess.Popen(args, stdin=subprocess.PIPE, text=True,
                                        stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def before_stop(self):
        """testpmd stops forwarding (and prints what it forwarded and dropped) but stays
        connected until hadp has gone: DPDK 22.11's memif client can crash when its server
        leaves while it polls (docs/testing.md, bu_storm)."""
        if self.testpmd and self.testpmd.poll() is None and not getattr(self, "stopped", 0):
            self.stopped = 1
            self.testpmd.stdin.write("stop\n")
            self.testpmd.stdin.flush()

    def remove(self):
        self.before_stop()
        if self.testpmd:
            try:
                self.testpmd.stdin.write("quit\n")
                self.testpmd.stdin.flush()
                self.testpmd.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.testpmd.kill()
                self.testpmd.wait()
        from appliance import remove_dpdk_files
        remove_dpdk_files(self.prefix)
        super().remove()

    def dropped(self):
        """testpmd's own TX-dropped figures, from its log (after before_stop)."""
        try:
            text = open(self.log).read()
        except OSError:
            return []
        return [int(w.split(":")[1]) for w in text.replace(": ", ":").split()
                if w.startswith("TX-dropped:")]


class Bond(Ports):
    """The access port a net_bonding device in mode 4 (IEEE 802.3ad / 802.1AX LACP) over two
    net_af_packet members, each on a veth pair; the core port a net_af_packet. The members are
    EAL --vdev arguments of their own (dataplane.eal_args); hadp configures only the bond."""

    name = "bonding"

    def create(self):
        self.ns = Netns(f"pmd{self.tag}")
        self.links = {"access": [self.veth("access", "x"), self.veth("access", "y")],
                      "core": [self.veth("core", "x")]}
        self.partner = None

    def eal_args(self):
        return [f"--vdev=net_af_packet{10 + i},iface={ha}"
                for i, (ha, _) in enumerate(self.links["access"])]

    def yaml(self, role):
        if role == "core":
            return self.port(role, "net_af_packet", f"iface={self.links[role][0][0]}")
        # DPDK 22.11 names the members slave= (member= from 23.11)
        return self.port(role, "net_bonding",
                         "mode=4,slave=net_af_packet10,slave=net_af_packet11,xmit_policy=l34")

    def started(self, app):
        self.partner = LacpPartner(self.ns, [end for _, end in self.links["access"]])

    def before_stop(self):
        if self.partner:
            self.partner.stop()

    def remove(self):
        self.before_stop()
        super().remove()


class LacpPartner:
    """The switch's side of a two-link LACP aggregate (IEEE 802.1AX 6.4), played on the test's
    ends: each link answers the bond's LACPDUs with its own every 0.5 s (short timeout), its
    Partner fields copied from the bond's latest Actor fields, in sync, collecting and
    distributing once it has heard the bond. `state(i)` is the bond's last Actor state on
    link i (None until one came); `seen` counts the bond's LACPDUs per link."""

    SYSTEM = "02:00:00:00:1a:cc"

    def __init__(self, ns, ends):
        self.ends = ends
        self.heard = [None] * len(ends)
        self.seen = [0] * len(ends)
        self.closing = False
        self.socks = []
        with ns.entered():
            for end in ends:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_SLOW))
                s.bind((end, 0))
                s.settimeout(0.1)
                self.socks.append(s)
        self.macs = [ns.mac(end) for end in ends]
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(len(ends))]
        for t in self.threads:
            t.start()

    def state(self, i):
        return self.heard[i].actor_state if self.heard[i] is not None else None

    def _lacpdu(self, i):
        b = self.heard[i]
        # 802.1AX 6.4.2.3: LACP_Activity, LACP_Timeout (short), Aggregation; once the bond's
        # Actor is known: Synchronization, Collecting, Distributing
        st = 0x07 | (0x38 if b is not None else 0)
        pdu = LACP(actor_system_priority=0x8000, actor_system=self.SYSTEM, actor_key=0x21,
                   actor_port_priority=0x80, actor_port_number=i + 1, actor_state=st)
        if b is not None:
            pdu.partner_system_priority = b.actor_system_priority
            pdu.partner_system = b.actor_system
            pdu.partner_key = b.actor_key
            pdu.partner_port_priority = b.actor_port_priority
            pdu.partner_port_number = b.actor_port_number
            pdu.partner_state = b.actor_state
        return Ether(src=self.macs[i], dst=SLOW_MAC, type=ETH_P_SLOW) / SlowProtocol() / pdu

    def _run(self, i):
        s, last = self.socks[i], 0.0
        while not self.closing:
            try:
                data, addr = s.recvfrom(2048)
                if addr[2] != socket.PACKET_OUTGOING:
                    e = Ether(data)
                    if LACP in e:
                        changed = self.heard[i] is None or \
                            raw(self.heard[i]) != raw(e[LACP])
                        self.heard[i], self.seen[i] = e[LACP], self.seen[i] + 1
                        if changed:
                            last = 0.0  # answer a change at once (802.1AX 6.4.16, NTT)
            except socket.timeout:
                pass
            except OSError:
                return
            if time.time() - last >= 0.5:
                last = time.time()
                try:
                    s.send(raw(self._lacpdu(i)))
                except OSError:
                    return

    def stop(self):
        if self.closing:
            return
        self.closing = True
        for t in self.threads:
            t.join(timeout=2)
        for s in self.socks:
            s.close()


def kinds(tag, work):
    """Every kind of port the matrix runs, by name."""
    return {"tap": lambda: Tap(tag), "af_packet_q1": lambda: AfPacket(tag, 1),
            "af_packet_q2": lambda: AfPacket(tag, 2), "memif": lambda: Memif(tag, work),
            "pcap": lambda: Pcap(tag), "bonding": lambda: Bond(tag)}
