#!/usr/bin/python3
"""One simulated UE's Mobile IPv6 side, run inside the UE's network namespace by the live lab
(deploy/live_lab.py). The UE's kernel has neither ESP nor Mobile IPv6, so this process is the
UE's mobility stack and user plane:

  - a TUN device holding the home address (and, once the BA gives it, the IPv4 home address,
    RFC 5555 3.2.1): what the UE's kernel sends from them (ping answers, iperf3) is read here
    and sent through the binding's tunnel from where the UE is (IPv6 in IPv6, IPv6 or IPv4 in
    IPv4, or in UDP 4191 behind a NAT: RFC 6275 / RFC 5555 4.2-4.3); what hadp tunnels to the
    care-of address is opened and written back into the TUN device;
  - Binding Updates under the BU/BA child SA that the UE's charon negotiated with the HA (the
    keys from the test plugin's SA log, tests/ike/ue_plugin.c), their BAs read; a BRI from the
    HA (network-initiated detach, RFC 5846) answered with a BRA.

The packets are built and read by the test library (tests/lib: ue.py, mh.py, esp.py).
Commands on stdin, one a line; each answered by one JSON line on stdout, events too:
  at6 COA | at4 COA4              where the UE is (an IPv6 or an IPv4 care-of address)
  register                        a BU (A H K R, IPv4 home address asked for) -> {"ba": ...}
  deregister                      a BU with lifetime 0 -> {"ba": ...}
  quit
  event {"event": "bri", "seq": N} when the HA revoked the binding and the BRA went back.
Behind a NAT it refreshes its binding every 20 s (RFC 5555 4.1), keeping the NAT's mapping.

usage: live_ue.py IFACE NEXT_HOP_MAC HOME_ADDRESS SA_LOG TUN_NAME
"""
import fcntl
import json
import logging
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
import mh  # noqa: E402
from scapy.all import Ether, raw  # noqa: E402
from ue import UE, UDP_PORT, Tunnelled  # noqa: E402

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
TUN_MTU = 1400  # leaves room for the outer IPv4, UDP and IPv6 headers on a 1500-octet link


def say(obj):
    try:
        print(json.dumps(obj), flush=True)
    except (BrokenPipeError, ValueError):
        pass  # the lab that started us has gone (--keep): the UE goes on


def sa_keys(sa_log, hoa):
    """The newest BU/BA SA pair charon negotiated for hoa: {"in"|"out": (spi, key)}."""
    k = {}
    try:
        lines = open(sa_log).read().split("\n")
    except OSError:
        return k
    for line in lines:
        f = line.split()
        if len(f) == 8 and f[2] == "transport" and f[7] == f"{hoa}/128":
            k[f[1]] = (int(f[0], 16), bytes.fromhex(f[5]))
    return k


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


class LiveUE:
    def __init__(self, iface, next_hop_mac, hoa, sa_log, tun):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((iface, 0))
        # the library's UE sends through app.access; here that is this socket
        self.ue = UE(0, hoa=hoa, flags="AHKR")
        self.ue.app = SimpleNamespace(access=SimpleNamespace(
            mac_peer=next_hop_mac, send=lambda f: self.sock.send(raw(f))))
        self.ue.mac = open(f"/sys/class/net/{iface}/address").read().strip()
        self.sa_log, self.tun_name = sa_log, tun
        self.seqs = {}        # ESP sequence numbers used, per outbound SPI
        self.bound = False    # a binding the HA accepted: data goes through its tunnel
        self.msgs = queue.Queue()
        self.lock = threading.Lock()
        self.exchange = threading.Lock()
        self.refresh = None   # behind a NAT: seconds between refreshes that keep its mapping
        self.tun = open_tun(tun)
        # no link-local address: the UE's kernel sends nothing of its own into the tunnel
        ip("link", "set", tun, "addrgenmode", "none")
        ip("link", "set", tun, "mtu", str(TUN_MTU), "up")
        ip("-6", "addr", "add", f"{hoa}/128", "dev", tun, "nodad")
        # the UE's own traffic goes to its home network through the tunnel (the access link
        # keeps the routes to the HA that the lab gave it)
        ip("-6", "route", "add", "default", "dev", tun)
        ip("-4", "route", "add", "default", "dev", tun)

    def use_newest_sa(self):
        k = sa_keys(self.sa_log, self.ue.hoa)
        if "in" not in k or "out" not in k:
            raise RuntimeError(f"no BU/BA SA for {self.ue.hoa} in {self.sa_log}")
        u = self.ue
        u.spi_bu, u.key_bu = k["out"]
        u.spi_ba, u.key_ba = k["in"]
        u.esp_seq = self.seqs.get(u.spi_bu, 0)

    def signal(self, **bu):
        """A BU from where the UE is; @return the BA (a mh.Msg) or None after 10 s. One
        exchange at a time (the lab's commands and the NAT keepalive)."""
        with self.exchange:
            return self._signal(**bu)

    def _signal(self, **bu):
        with self.lock:
            self.use_newest_sa()
            while not self.msgs.empty():
                self.msgs.get_nowait()
            seq = self.ue.send_bu(**bu)
            self.seqs[self.ue.spi_bu] = self.ue.esp_seq
        try:
            while True:
                m = self.msgs.get(timeout=10)
                if m.type == mh.BA and (m.seq == seq or m.status == 135):
                    return m
        except queue.Empty:
            return None

    def ba_answer(self, ba):
        if ba is None:
            return {"ba": None}
        out = {"ba": ba.status, "seq": ba.seq, "lifetime": ba.lifetime * 4,
               "k": bool(ba.flags & mh.BA_K), "esp": list(ba.where.esp or ()),
               "outer": ba.where.outer, "errors": ba.errors}
        ack = ba.ipv4_ack()
        if ack:
            out["ipv4_ack"] = [ack[0], ack[2]]
        nat = ba.natd()
        if nat:
            out["natd"] = True
        return out

    def register(self):
        ba = self.signal(ipv4_hoa="0.0.0.0")
        if ba is not None and ba.status < 128:
            ack = ba.ipv4_ack()
            if ack and ack[0] < 128 and ack[2] != self.ue.hoa4:
                ip("-4", "addr", "add", f"{ack[2]}/32", "dev", self.tun_name)
                self.ue.hoa4 = ack[2]
            self.ue.udp = self.ue.coa4 is not None and ba.natd() is not None
            # RFC 5555 4.1: behind a NAT the UE refreshes its binding within the NAT
            # Detection option's refresh time; more often here, as a NAT's UDP mappings (the
            # lab's nftables: 30 s without an answer) may forget it sooner
            self.refresh = min(ba.natd()[2], 20) if self.ue.udp else None
            self.bound = True
        return self.ba_answer(ba)

    def deregister(self):
        ba = self.signal(lifetime=0)
        if ba is not None and ba.status < 128:
            self.bound = False
        return self.ba_answer(ba)

    # ---- the access link ----
    def from_access(self):
        while True:
            data, addr = self.sock.recvfrom(65536)
            if addr[2] == socket.PACKET_OUTGOING or len(data) < 34:
                continue
            if not self.mine(data):
                continue
            e = Ether(data)
            try:
                with self.lock:
                    m = self.ue.read(e)
            except Exception as x:  # noqa: BLE001  not under the UE's SA: shown, not fatal
                print(f"live_ue: a frame from the HA not read: {type(x).__name__} {x}",
                      file=sys.stderr, flush=True)
                continue
            if m is not None and m.type is not None:
                if m.type == mh.BR and getattr(m, "br_type", 0) == 1:
                    self.revoked(m)
                else:
                    self.msgs.put(m)
                continue
            t = Tunnelled(e)
            if t.proto in (4, 41) or (t.proto == 17 and t.udp and t.udp[0] == UDP_PORT):
                os.write(self.tun, t.payload)

    def mine(self, d):
        """A frame to the care-of address from the HA (by byte offsets)."""
        u = self.ue
        if d[12:14] == b"\x86\xdd" and u.coa6:
            return socket.inet_pton(socket.AF_INET6, u.coa6) == d[38:54]
        if d[12:14] == b"\x08\x00" and u.coa4:
            return socket.inet_aton(u.coa4) == d[30:34]
        return False

    def revoked(self, bri):
        """RFC 5846 6.1 / 004 5.4.3.1: the HA revokes the binding; the UE answers with a BRA
        under its SA and stops using it."""
        with self.lock:
            self.use_newest_sa()
            self.ue.send_bra(bri.seq)
            self.seqs[self.ue.spi_bu] = self.ue.esp_seq
            self.bound = False
        say({"event": "bri", "seq": bri.seq})

    def keepalive(self):
        while True:
            time.sleep(self.refresh or 5)
            if self.bound and self.refresh:
                ba = self.signal(ipv4_hoa=self.ue.hoa4 or "0.0.0.0")
                print(f"live_ue: refresh BU behind the NAT: BA {self.ba_answer(ba)}",
                      file=sys.stderr, flush=True)

    def from_tun(self):
        while True:
            pkt = os.read(self.tun, 65536)
            if self.bound:
                self.sock.send(raw(self.ue.tunnel(pkt)))


def main():
    iface, nh_mac, hoa, sa_log, tun = sys.argv[1:6]
    u = LiveUE(iface, nh_mac, hoa, sa_log, tun)
    for f in (u.from_access, u.from_tun, u.keepalive):
        threading.Thread(target=f, daemon=True).start()
    say({"ready": True})
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        try:
            if w[0] == "at6":
                u.ue.at6(w[1])
                r = {}
            elif w[0] == "at4":
                u.ue.at4(w[1], port=UDP_PORT)
                r = {}
            elif w[0] == "register":
                r = u.register()
            elif w[0] == "deregister":
                r = u.deregister()
            elif w[0] == "quit":
                return 0
            else:
                r = {"error": f"unknown command {w[0]}"}
        except Exception as e:  # noqa: BLE001  the lab shows what went wrong
            r = {"error": f"{type(e).__name__}: {e}"}
        say({"cmd": w[0], **r})
    # stdin closed: the lab left the UE running (--keep); it stops on SIGTERM
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
