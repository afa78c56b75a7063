#!/usr/bin/python3
"""Next-hop resolution (dataplane/dp_neigh.h) against a real neighbour: the Linux kernel in a
network namespace plays the PDN's router on hadp's core port (net_pcap on a veth). hadp's
routes name the router by address (dataplane.routes[].next_hop); hadp asks for its MAC (ARP,
RFC 826; neighbour solicitation, RFC 4861 7.2.2), the kernel answers, and the UE's uplink,
injected on the access port's veth, leaves the core port to that MAC. The access port names its
router by address too (ports.access.next_hop): the kernel of the access namespace answers, and
the downlink to the UE's care-of address leaves to its MAC. A route whose router
never answers drops its packets as drop-next-hop-unresolved and keeps asking.

Then the routes change at run time (hactl route add/delete through hacpd and hadp's command
ring, issue 3): the silent router's prefix moves to the answering router, a new prefix goes to a
MAC given by hand, a deleted route's traffic is dropped as drop-no-route, and hadp's telemetry
(/hadp/routes) lists what it forwards by; bad requests get exit status 2, an unknown route 1.

usage: neigh_test.py BUILD_DIR WORK_DIR
"""
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA4, HA6, Daemons, pcap_config, telemetry, wait_until  # noqa: E402
from checks import Checks  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Ether, IPv6, Raw, rdpcap, raw  # noqa: E402

COA, HOA, HOA4 = "2001:db8:aaaa::2", "2001:db8:100:1::55", "10.45.0.2"
ROUTER6, ROUTER4 = "2001:db8:c::fe", "198.51.100.254"
SILENT6 = "2001:db8:c::99"          # a router that never answers
ACCESS_ROUTER = "2001:db8:a::fe"    # the access port's router (ports.access.next_hop)
CN6, CN4, CN_SILENT = "2001:db8:9::1", "203.0.113.9", "2001:db8:7::1"
CN_NEW, HAND_MAC = "2001:db8:5::1", "02:00:00:00:0c:77"  # a route added by hand, to a MAC

check = Checks()


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr}")
    return r


def routes_changed(d, work, prefix, uplink, router_mac):
    """Issue 3: route add and delete at run time, from hactl through hacpd's command to hadp."""
    hacpd = d.start_hacpd(f"{work}/hactl.sock", args=["--max-seconds", "30"], stats=False)
    try:
        def hactl(*a):
            r = d.hactl(*a, timeout=20)
            r.stdout += r.stderr  # hactl's errors go to stderr
            return r
        moved = hactl("route", "add", "2001:db8:7::/48", "via", ROUTER6)
        added = hactl("route", "add", "2001:db8:5::/48", "via", HAND_MAC)
        gone = hactl("route", "delete", "2001:db8:9::/48")
        check(moved.returncode == added.returncode == gone.returncode == 0,
              f"hactl route add (router, MAC), route delete: {moved.stdout} {added.stdout} "
              f"{gone.stdout}")
        got = uplink("changed", [
            IPv6(src=COA, dst=HA6) / IPv6(src=HOA, dst=CN_SILENT) / UDP() / Raw(b"up-moved"),
            IPv6(src=COA, dst=HA6) / IPv6(src=HOA, dst=CN_NEW) / UDP() / Raw(b"up-by-hand"),
            IPv6(src=COA, dst=HA6) / IPv6(src=HOA, dst=CN6) / UDP() / Raw(b"up-deleted"),
        ], (b"up-moved", b"up-by-hand", b"up-deleted"))
        moved_p, hand_p = got.get(b"up-moved"), got.get(b"up-by-hand")
        check(moved_p is not None and moved_p[Ether].dst == router_mac,
              f"the silent router's prefix, moved to the router that answers, reaches its MAC "
              f"at once ({moved_p[Ether].dst if moved_p else None})")
        check(hand_p is not None and hand_p[Ether].dst == HAND_MAC,
              f"a route added with a MAC sends to that MAC ({hand_p[Ether].dst if hand_p else None})")
        check(b"up-deleted" not in got, "nothing leaves for a deleted route")
        tel = subprocess.run(["/usr/bin/python3", "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                             input="/hadp/routes\n", capture_output=True, text=True, timeout=20)
        try:
            routes = json.loads(tel.stdout[tel.stdout.index('{"/hadp/routes"'):].splitlines()[0])
            routes = routes["/hadp/routes"]
        except (ValueError, KeyError):
            routes = {}
        listed = set(routes.get("routes", []))
        check(routes.get("count") == 3 and listed == {
                  f"2001:db8:7::/48 via {ROUTER6} {router_mac}",
                  f"2001:db8:5::/48 via {HAND_MAC}", f"0.0.0.0/0 via {ROUTER4} {router_mac}"},
              f"/hadp/routes lists the routes now: {routes or tel.stdout[-400:]}")
        bad = [hactl("route", "add", "2001:db8:6::1/48", "via", ROUTER6),      # host bits
               hactl("route", "add", "2001:db8:6::/48", "via", ROUTER4),       # other family
               hactl("route", "add", "2001:db8:6::/129", "via", ROUTER6),
               hactl("route", "add", "2001:db8:6::/48", "by", ROUTER6),
               hactl("route", "add", "2001:db8:6::/48", "via", "01:00:5e:00:00:01")]  # group MAC
        check(all(r.returncode == 2 for r in bad),
              f"bad route requests refused with status 2: {[r.stdout.strip() for r in bad]}")
        unknown = hactl("route", "delete", "2001:db8:9::/48")
        fourth = hactl("route", "add", "10.9.0.0/16", "via", "192.0.2.9")
        fifth = hactl("route", "add", "10.8.0.0/16", "via", "192.0.2.9")
        check(unknown.returncode == 1 and "no route" in unknown.stdout,
              f"deleting a route hadp does not have: status 1 ({unknown.stdout.strip()})")
        check(fourth.returncode == 0 and fifth.returncode == 1 and "full" in fifth.stdout,
              f"the fifth route with tables.max_routes 4: status 1 ({fifth.stdout.strip()})")
    finally:
        hacpd.send_signal(signal.SIGINT)
        hacpd.wait(timeout=30)


def main():
    build, work = sys.argv[1], os.path.abspath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_core, ns_acc = f"nh-core-{tag}", f"nh-acc-{tag}"
    link_c, link_a = f"nc{tag}"[:15], f"na{tag}"[:15]
    prefix = f"hadp-neigh-{tag}"
    d = None
    try:
        for ns in (ns_core, ns_acc):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", link_c, "type", "veth", "peer", "name", "core0", "netns", ns_core)
        sh("ip", "link", "add", link_a, "type", "veth", "peer", "name", "acc0", "netns", ns_acc)
        for dev in (link_c, link_a):
            sh("ip", "link", "set", dev, "up")
            sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")  # hadp's, not ours
        sh("ip", "addr", "add", f"{ROUTER4}/24", "dev", "core0", ns=ns_core)
        sh("ip", "addr", "add", f"{ROUTER6}/64", "dev", "core0", "nodad", ns=ns_core)
        for ns, dev in ((ns_core, "core0"), (ns_acc, "acc0")):
            sh("ip", "link", "set", dev, "up", ns=ns)
            sh("ethtool", "-K", dev, "tx", "off", ns=ns)
        # the router's way back to the HA's addresses, which it checks its answers against
        sh("ip", "route", "add", f"{HA4}/32", "dev", "core0", ns=ns_core)
        sh("ip", "-6", "route", "add", f"{HA6}/128", "dev", "core0", ns=ns_core)
        router_mac = sh("cat", "/sys/class/net/core0/address", ns=ns_core).stdout.strip()
        # the access router: the UEs' care-of addresses are behind it
        sh("ip", "addr", "add", f"{ACCESS_ROUTER}/64", "dev", "acc0", "nodad", ns=ns_acc)
        sh("ip", "-6", "route", "add", f"{HA6}/128", "dev", "acc0", ns=ns_acc)
        access_router_mac = sh("cat", "/sys/class/net/acc0/address", ns=ns_acc).stdout.strip()
        cfg = f"{work}/hadp.yaml"
        with open(cfg, "w") as f:
            f.write(pcap_config(
                work, prefix, pid_suffix=False, mbufs=2047, cache=32,
                tables="{ max_bindings: 64, max_sas: 16, max_routes: 4 }",
                ports={"access": f'{{ device: net_pcap0, devargs: "rx_iface_in={link_a},'
                                 f'tx_iface={link_a},tx_iface={link_a}", next_hop: '
                                 f'"{ACCESS_ROUTER}" }}',
                       "core": f'{{ device: net_pcap1, devargs: "rx_iface_in={link_c},'
                               f'tx_iface={link_c},tx_iface={link_c}" }}'},
                dataplane_extra=f"""  routes:
    - {{ prefix: "2001:db8:9::/48", next_hop: "{ROUTER6}" }}
    - {{ prefix: "0.0.0.0/0", next_hop: "{ROUTER4}" }}
    - {{ prefix: "2001:db8:7::/48", next_hop: "{SILENT6}" }}
""", rest=f"""static_bindings:
  - {{ pdn: internet, home_prefix: "2001:db8:100:1::/64", care_of: "{COA}",
      ipv4_home_address: {HOA4} }}
cli: {{ socket: "{work}/hactl.sock", mode: 0660, group: root }}
"""))
        d = Daemons(build, work, cfg, prefix, hadp_args=["--max-seconds", "60"])
        d.start_hadp()
        # hadp asks at once and every second until answered: the access router and the core
        # router (IPv6 and IPv4) answer, the silent one never does
        wait_until(lambda: telemetry(prefix, "/hadp/stats")["next_hop_macs_learned"] >= 3, 30,
                   0.2)
        hadp_mac = open(f"/sys/class/net/{link_a}/address").read().strip()

        hadp_core_mac = open(f"/sys/class/net/{link_c}/address").read().strip()

        def uplink(name, packets, marks, downlink=False):
            """The UE's uplink into the access veth and what of it leaves on the core side (or
            the PDN's downlink into the core veth and what leaves on the access side)."""
            into, out = (ns_core, "core0") if downlink else (ns_acc, "acc0")
            cap_ns, cap_dev = (ns_acc, "acc0") if downlink else (ns_core, "core0")
            cap = subprocess.Popen(["ip", "netns", "exec", cap_ns, "dumpcap", "-q", "-i",
                                    cap_dev, "-w", f"{work}/{name}.pcap"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            dst = hadp_core_mac if downlink else hadp_mac
            frames = [raw(Ether(src="02:00:00:00:ee:01", dst=dst) / p).hex() for p in packets]
            sh("/usr/bin/python3", "-c", f"""
from scapy.all import Ether, sendp
for h in {frames!r}:
    sendp(Ether(bytes.fromhex(h)), iface="{out}", verbose=False)
""", ns=into)
            time.sleep(1.0)
            cap.send_signal(signal.SIGINT)
            cap.wait(timeout=10)
            got = {}
            for p in rdpcap(f"{work}/{name}.pcap"):
                for mark in marks:
                    if mark in raw(p):
                        got.setdefault(mark, p)  # hadp's, not a router's ICMP error after it
            return got

        up = [
            IPv6(src=COA, dst=HA6) / IPv6(src=HOA, dst=CN6) / UDP(sport=9, dport=7) / Raw(b"up-six"),
            IPv6(src=COA, dst=HA6) / IP(src=HOA4, dst=CN4) / UDP(sport=9, dport=7) / Raw(b"up-four"),
            IPv6(src=COA, dst=HA6) / IPv6(src=HOA, dst=CN_SILENT) / UDP() / Raw(b"up-silent"),
        ]
        got = uplink("core", up, (b"up-six", b"up-four", b"up-silent"))
        down = uplink("access", [IPv6(src=CN6, dst=HOA) / UDP(sport=7, dport=9) / Raw(b"down-six")],
                      (b"down-six",), downlink=True).get(b"down-six")
        check(down is not None and down[Ether].dst == access_router_mac and
              down[IPv6].dst == COA and IPv6 in down[IPv6].payload,
              f"the downlink left the access port to the access router's MAC, resolved from "
              f"ports.access.next_hop ({down[Ether].dst if down else None} vs {access_router_mac})")
        six, four = got.get(b"up-six"), got.get(b"up-four")
        check(six is not None and six[Ether].dst == router_mac and IPv6 in six and
              six[IPv6].src == HOA and IPv6 not in six[IPv6].payload,
              f"the IPv6 uplink went to the router's MAC learned by neighbour discovery "
              f"({six.summary() if six else None}, {six[Ether].dst if six else None} vs {router_mac})")
        check(four is not None and four[Ether].dst == router_mac and four[IP].src == HOA4,
              f"the IPv4 uplink went to the router's MAC learned by ARP "
              f"({four[Ether].dst if four else None})")
        check(b"up-silent" not in got, "nothing left for the router that never answered")
        asks = [p for p in rdpcap(f"{work}/core.pcap")
                if p.haslayer("ICMPv6ND_NS") and p["ICMPv6ND_NS"].tgt == SILENT6]
        check(len(asks) >= 1, f"hadp keeps soliciting the silent router ({len(asks)} in 2 s)")
        routes_changed(d, work, prefix, uplink, router_mac)
        d.stop()
        stats = d.hadp_stats
        c = stats["counters"]
        check(c.get("next-hop-macs-learned") == 3 and c.get("drop-next-hop-unresolved") == 1 and
              c.get("uplink-decapsulated") == 4 and c.get("downlink-encapsulated") == 1 and c.get("next-hop-requests", 0) >= 4 and
              c.get("drop-no-route") == 1,
              f"counters: learned {c.get('next-hop-macs-learned')}, requests "
              f"{c.get('next-hop-requests')}, unresolved drops {c.get('drop-next-hop-unresolved')}, "
              f"uplink {c.get('uplink-decapsulated')}, no route {c.get('drop-no-route')}")
        check(d.hadp_rc == 0 and stats["mbufs_in_use"] == 0, "hadp stopped cleanly, no mbuf held")
    finally:
        if d:
            d.stop()  # whatever still runs; DPDK's files removed
        for dev in (link_c, link_a):
            subprocess.run(["ip", "link", "del", dev], capture_output=True)
        for ns in (ns_core, ns_acc):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    return check.summary("neigh")


if __name__ == "__main__":
    sys.exit(main())
