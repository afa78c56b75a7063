#!/usr/bin/python3
"""The same packet-level checks on every kind of port hadp is run on without dedicated NICs
(tests/lib/pmds.py: net_tap, net_af_packet with 1 and 2 queue pairs, net_memif, net_pcap,
net_bonding mode 4 over two net_af_packet links), each with one and with two workers:

- registration: the UE's ESP-protected BU answered by its BA (RFC 6275 10.3.1, RFC 4877 4);
- data both ways: downlink from the PDN tunnelled to the care-of address, uplink decapsulated
  (RFC 6275 10.4.1 / 10.4.5, TS 24.303 5.1.3.2), one packet checked field by field, then a
  burst of flows each way (flows the devices spread over their queues) all delivered;
- punts and answers: echo requests to the HA's addresses from several sources answered (RFC
  4443 4.2, RFC 792), a neighbour solicitation (RFC 4861 7.2.4) and an ARP request (RFC 826)
  for them answered, an IKE packet punted;
- drops: downlink to a home address without a binding, uplink whose inner source is not the
  home address (RFC 6275 10.4.5): nothing out, each counted by name;
- nothing lost: every frame the test sent is one hadp counted received (no queue left
  unpolled), every received one is forwarded, punted, answered or dropped by name, and every
  frame hadp counted sent reached the test; no other drop, no mbuf in use at the end.

usage: pmd_matrix_test.py BUILD_DIR WORKDIR [KIND[:WORKERS] ...]   (KIND: pmds.kinds' names;
all when none; each runs with one worker, then two, or WORKERS only)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA4, HA6, Appliance, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
import pmds  # noqa: E402
from steps import check_ba, data_both_ways, stop_and_check  # noqa: E402
from ue import CN6, UE, Correspondent  # noqa: E402

from scapy.all import (ARP, ICMP, IP, UDP, Ether, IPv6, Raw, raw)  # noqa: E402
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,  # noqa: E402
                                ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr)

COA = "2001:db8:aaaa::7"
LCORES = {1: "{ main: 0, workers: [1] }",
          2: "{ main: 0, workers: [1, 2], cpus: [0, 1, 1] }"}  # two workers on one CPU
FLOWS = 32      # packets of a burst, each its own flow
ECHOES = 8      # echo requests per port, each from its own source
DROPS = 4       # packets per kind of drop
# what a worker does with a packet it received when it does not drop it (dataplane/
# dp_counters.def); "punted" covers the control thread's answers (ARP, NA, echo) too
FORWARDED = ("downlink-encapsulated", "uplink-decapsulated", "punted")
# what hadp sends: the workers' queues, the control thread's answers and hacpd's messages
SENT = ("tx-access", "tx-core", "arp-replies", "neighbour-advertisements", "echo-replies",
        "icmp-too-big-sent", "control-plane-sent")


# the access port's (RX, TX) queues hadp must plan for each kind with w workers (docs/
# dataplane.md, Queues): net_tap equal counts, a TX queue per thread; af_packet and pcap every
# queue the device was made with; memif what the test configured to match its peer; the bond
# what its af_packet members (one queue pair) allow
PLAN = {"tap": lambda w: (w + 1, w + 1), "af_packet_q1": lambda w: (1, 1),
        "af_packet_q2": lambda w: (2, 2), "memif": lambda w: (1, 1), "pcap": lambda w: (1, 1),
        "bonding": lambda w: (1, 1)}


def queue_plan(check, app, kind, workers, what):
    """/hadp/ports: the access port's queue counts, TX shared exactly when there are fewer
    queues than threads, and every RX queue of both ports polled by exactly one worker."""
    ports = app.telemetry("/hadp/ports")
    acc, core = ports["access"], ports["core"]
    want = PLAN[kind](workers)
    check((acc["rx_queues"], acc["tx_queues"]) == want,
          f"{what}: the access port has (RX, TX) queues {want}: {acc}")
    check(all(bool(p["tx_shared"]) == (p["tx_queues"] < workers + 1) for p in (acc, core)),
          f"{what}: TX queues shared (locked) exactly where fewer than the {workers + 1} "
          f"threads: {acc}, {core}")
    polled = sorted(q for w in range(workers) for q in ports[f"worker_{w}"].split())
    every = sorted([f"access/{q}" for q in range(acc["rx_queues"])] +
                   [f"core/{q}" for q in range(core["rx_queues"])])
    check(polled == every, f"{what}: every RX queue polled by one worker: {polled} of {every}")


def echo6(port, src, i):
    port.send(Ether(src=pmds.END_MAC["access"], dst=port.mac_peer) / IPv6(src=src, dst=HA6) /
              ICMPv6EchoRequest(id=0x77, seq=i, data=b"pmd-matrix"))


def ready(check, app, what, timeout=30):
    """Both ports answer an echo request to the HA (memif peers connected, a bond's LACP
    collecting and distributing): retried every half second up to timeout. @return whether
    both did (when not, the other checks would only wait out their time)."""
    ok = True
    for name, port in (("access", app.access), ("core", app.core)):
        def answered():
            m = port.mark()
            echo6(port, "2001:db8:aaaa::fe" if name == "access" else CN6, 0xfff)
            return port.wait(lambda e: ICMPv6EchoReply in e and e[IPv6].src == HA6, m, 0.5)
        ok &= check(wait_until(answered, timeout, 0), f"{what}: the {name} port answers an "
                    f"echo request to {HA6} within {timeout} s (the port works at all)")
    return ok


def burst(check, app, ue, cn, what):
    """FLOWS downlink packets (each its own source port) tunnelled to the care-of address,
    FLOWS uplink ones (each its own inner ports) decapsulated; every one exactly once."""
    m = app.access.mark()
    for i in range(FLOWS):
        app.core.send(Ether(src=pmds.END_MAC["core"], dst=app.core.mac_peer) /
                      IPv6(src=CN6, dst=ue.hoa) / UDP(sport=20000 + i, dport=1111) /
                      Raw(b"dflow %03d" % i))
    got = app.access.wait(lambda e: IPv6 in e and e[IPv6].dst == COA and e[IPv6].nh == 41 and
                          raw(e)[-9:].decode(errors="replace"), m, 10, FLOWS)
    want = {"dflow %03d" % i for i in range(FLOWS)}
    check(len(got) == FLOWS and set(got) == want,
          f"{what}: all {FLOWS} downlink flows tunnelled to {COA}, each once: "
          f"{len(got)} came, missing {sorted(want - set(got))[:8]}")
    m = app.core.mark()
    for i in range(FLOWS):
        app.access.send(ue.eth() / IPv6(src=COA, dst=HA6) /
                        IPv6(src=ue.hoa, dst=CN6) / UDP(sport=30000 + i, dport=2222) /
                        Raw(b"uflow %03d" % i))
    got = app.core.wait(lambda e: IPv6 in e and e[IPv6].src == ue.hoa and e[IPv6].nh == 17 and
                        raw(e)[-9:].decode(errors="replace"), m, 10, FLOWS)
    want = {"uflow %03d" % i for i in range(FLOWS)}
    check(len(got) == FLOWS and set(got) == want,
          f"{what}: all {FLOWS} uplink flows decapsulated to the PDN, each once: {len(got)} "
          f"came, missing {sorted(want - set(got))[:8]}")
    return 2 * FLOWS


def answers(check, app, what):
    """Echo requests from ECHOES sources on each port, a neighbour solicitation and an ARP
    request for the HA's addresses: each answered once. @return frames expected back."""
    acc, core = app.access, app.core
    for port, name in ((acc, "access"), (core, "core")):
        m = port.mark()
        srcs = [f"2001:db8:{'aaaa' if port is acc else '9'}::{0x100 + i:x}"
                for i in range(ECHOES)]
        for i, s in enumerate(srcs):
            echo6(port, s, i)
        got = port.wait(lambda e: ICMPv6EchoReply in e and e[IPv6].src == HA6 and
                        e[ICMPv6EchoReply].id == 0x77 and e[IPv6].dst, m, 10, ECHOES)
        check(sorted(got) == sorted(srcs), f"{what}: {ECHOES} echo requests to {HA6} on the "
              f"{name} port from {ECHOES} sources, each answered (RFC 4443 4.2): {got}")
    # RFC 4861 7.2.4: a solicitation for the HA's address answered with its MAC
    m = acc.mark()
    acc.send(Ether(src=pmds.END_MAC["access"], dst="33:33:ff:00:00:01") /
             IPv6(src=COA, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=HA6) /
             ICMPv6NDOptSrcLLAddr(lladdr=pmds.END_MAC["access"]))
    na = acc.wait(lambda e: ICMPv6ND_NA in e and e[ICMPv6ND_NA].tgt == HA6 and e, m, 20)
    check(len(na) == 1 and na[0][Ether].src == acc.mac_peer and na[0][IPv6].dst == COA,
          f"{what}: a neighbour solicitation for {HA6} answered from the port's MAC "
          f"{acc.mac_peer} (RFC 4861 7.2.4): {[e.summary() for e in na]}")
    # RFC 826: who has the HA's IPv4 address on the core side
    m = core.mark()
    core.send(Ether(src=pmds.END_MAC["core"], dst="ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc=pmds.END_MAC["core"], psrc="198.51.100.9", pdst=HA4))
    arp = core.wait(lambda e: ARP in e and e[ARP].op == 2 and e[ARP].psrc == HA4 and e, m, 20)
    check(len(arp) == 1 and arp[0][ARP].hwsrc == core.mac_peer,
          f"{what}: an ARP request for {HA4} answered with the port's MAC {core.mac_peer} "
          f"(RFC 826): {[e.summary() for e in arp]}")
    m = core.mark()
    core.send(Ether(src=pmds.END_MAC["core"], dst=core.mac_peer) /
              IP(src="198.51.100.9", dst=HA4) / ICMP(id=0x78, seq=1) / Raw(b"pmd-matrix"))
    r = core.wait(lambda e: ICMP in e and e[ICMP].type == 0 and e[IP].src == HA4 and e, m, 20)
    check(len(r) == 1, f"{what}: an IPv4 echo request to {HA4} answered (RFC 792)")
    return 2 * ECHOES + 3


def ike_punt(check, app, what):
    """An IKE_SA_INIT-sized UDP 500 packet to the HA from the care-of address: punted
    (docs/dataplane.md, punt reasons), not forwarded, not dropped."""
    before = app.dp_stats()
    app.access.send(Ether(src=pmds.END_MAC["access"], dst=app.access.mac_peer) /
                    IPv6(src=COA, dst=HA6) / UDP(sport=500, dport=500) / Raw(bytes(28)))
    ok = wait_until(lambda: app.dp_stats()["punted"] - before["punted"] == 1, 10)
    check(ok, f"{what}: an IKE packet to the HA punted")


def drops(check, app, ue, what):
    """Downlink to a home address without a binding; uplink through the UE's tunnel whose
    inner source is not its home address (RFC 6275 10.4.5): nothing comes out, each counted by
    its name. @return {counter: packets}."""
    ma, mc = app.access.mark(), app.core.mark()
    for i in range(DROPS):
        app.core.send(Ether(src=pmds.END_MAC["core"], dst=app.core.mac_peer) /
                      IPv6(src=CN6, dst="2001:db8:100:ffff::55") /
                      UDP(sport=40000 + i, dport=1111) / Raw(b"nobind"))
        app.access.send(ue.eth() / IPv6(src=COA, dst=HA6) /
                        IPv6(src="2001:db8:100:eeee::55", dst=CN6) /
                        UDP(sport=41000 + i, dport=2222) / Raw(b"spoofed"))
    leaked = app.access.collect(lambda e: b"nobind" in raw(e), ma) + \
        app.core.collect(lambda e: b"spoofed" in raw(e), mc)
    check(not leaked, f"{what}: no dropped packet came out: {[e.summary() for e in leaked]}")
    return {"drop-no-binding": DROPS, "drop-inner-source-not-home": DROPS}


def device_missed(app):
    """Frames each port's device counted as lost before hadp could take them (imissed: e.g.
    the kernel's capture ring full while this 2-CPU machine starves the poller)."""
    ports = app.telemetry("/hadp/ports")
    return {role: app.telemetry(f"/ethdev/stats,{ports[role]['port_id']}").get("imissed", 0)
            for role in ("access", "core")}


def ledger(check, app, d0, sent0, got0, want_back, named, what):
    """Nothing lost: hadp received every frame the test sent on each port; each received one
    was forwarded, punted (to hacpd, or to the control thread's answers) or dropped by name;
    every frame hadp sent, from a worker or the control thread, reached the test, and as many
    as the checks expected; the only drops are the named ones. A frame the device itself
    counts as missed (below hadp, in the kernel) is reported and excused, never silently:
    hadp's own counts must still add up exactly."""
    app.access.collect(lambda e: False, quiet=1.0)  # nothing more on its way
    d1 = app.dp_stats()
    got = app.access.mark() + app.core.mark() - got0
    dd = {k: d1[k] - d0.get(k, 0) for k in d1 if isinstance(d1[k], int)}
    sent = (app.access.sent - sent0[0], app.core.sent - sent0[1])
    missed = {k: v - d0["device-missed"][k] for k, v in device_missed(app).items()}
    if missed["access"] or missed["core"]:
        print(f"  {what}: NOTE the devices counted {missed} frames missed below hadp (imissed): "
              f"excused from the ledger")
    expect_rx = (sent[0] - missed["access"], sent[1] - missed["core"])
    if not check((dd["rx-access"], dd["rx-core"]) == expect_rx,
                 f"{what}: hadp received every frame sent to it, (access, core) "
                 f"{dd['rx-access']}, {dd['rx-core']} of {sent[0]}, {sent[1]} (none lost in an "
                 f"unpolled queue; device-missed {missed})"):
        ports = app.telemetry("/hadp/ports")
        for role in ("access", "core"):
            st = app.telemetry(f"/ethdev/stats,{ports[role]['port_id']}")
            print(f"  {what}: {role} device: " + ", ".join(
                f"{k} {st.get(k)}" for k in ("ipackets", "imissed", "ierrors", "rx_nombuf")))
    drops_ = {k: v for k, v in dd.items() if k.startswith("drop-") and v}
    check(drops_ == named, f"{what}: the only drops are the named ones: {drops_}, want {named}")
    outcomes = {k: dd[k] for k in FORWARDED}
    check(sum(outcomes.values()) + sum(named.values()) == dd["rx-access"] + dd["rx-core"],
          f"{what}: every received frame forwarded, punted or dropped by name: {outcomes}, "
          f"drops {drops_}, for {dd['rx-access'] + dd['rx-core']} received")
    out = {k: dd[k] for k in SENT}
    # a frame missed below hadp goes unanswered: at most that many fewer come back
    lost_below = missed["access"] + missed["core"]
    check(got == sum(out.values()) and want_back - lost_below <= got <= want_back,
          f"{what}: the test received {got} frames, hadp counted {sum(out.values())} sent "
          f"({out}), the checks expected {want_back} (nothing lost on the way out, nothing "
          f"extra; {lost_below} missed below hadp)")


def run(check, build, work, kind, workers):
    what = f"{kind}, {workers} worker{'s' if workers > 1 else ''}"
    tag = f"{os.getpid() % 100000}"
    ports = pmds.kinds(tag, work)[kind]()
    ue = UE(7).at6(COA)
    t0 = time.time()
    # net_tap fills each RX queue's 1,024 descriptors with mbufs at setup: 3 queues a port
    with Appliance(build, work, ues=[ue], ports=ports, lcores=LCORES[workers], tag=tag,
                   mbufs=8191) as app:
        ue.attach(app)
        cn = Correspondent(app)
        if isinstance(ports, pmds.Bond):
            # 802.1AX 6.4.2.3: the bond's actor in sync, collecting and distributing on both
            # links; its LACPDUs leave only when hadp calls tx_burst on the bond (DPDK's mode 4)
            def lacp_up():
                st = [ports.partner.state(i) for i in range(2)]
                return all(s is not None and s & 0x38 == 0x38 for s in st) and st
            check(wait_until(lacp_up, 30, 0.2),
                  f"{what}: the bond's LACP actor in sync, collecting and distributing on both "
                  f"links within 30 s (IEEE 802.1AX 6.4.2.3): its LACPDUs per link "
                  f"{ports.partner.seen}, last states {[ports.partner.state(i) for i in (0, 1)]}")
        queue_plan(check, app, kind, workers, what)
        if not ready(check, app, what):
            stop_and_check(check, app)
            return
        d0, sent0 = app.dp_stats(), (app.access.sent, app.core.sent)
        d0["device-missed"] = device_missed(app)
        got0 = app.access.mark() + app.core.mark()
        m = app.access.mark()
        ba = ue.register()
        if not check_ba(check, ue, ba, 1, f"{what}: registration (RFC 6275 10.3.1)"):
            st = app.dp_stats()
            print(f"  {what}: no BA in 20 s; the access port got {app.access.mark() - m} "
                  f"frames; hadp: punted {st['punted']}, control-plane-sent "
                  f"{st['control-plane-sent']}, drop-tx-full {st['drop-tx-full']}, hacpd: "
                  f"{app.cp_stats().get('bu-accepted')} BUs accepted", flush=True)
        if app.wait_binding(ue.hoa):
            data_both_ways(check, app, cn, ue, what)
        back = 3 + burst(check, app, ue, cn, what) + answers(check, app, what)
        ike_punt(check, app, what)
        named = drops(check, app, ue, what)
        ledger(check, app, d0, sent0, got0, back, named, what)
        if isinstance(ports, pmds.Memif):
            ports.before_stop()
            dropped = wait_until(ports.dropped, 10)
            check(dropped and not any(dropped),
                  f"{what}: testpmd (the memif peer) dropped nothing: {dropped}")
        stop_and_check(check, app)
    print(f"  {what}: {time.time() - t0:.1f} s", flush=True)


def main():
    build, work = sys.argv[1], os.path.abspath(sys.argv[2])
    names = sys.argv[3:] or list(pmds.kinds("0", work))
    check = Checks()
    for name in names:
        kind, _, only = name.partition(":")  # KIND:N runs N workers only
        for workers in [int(only)] if only else (1, 2):
            before = check.failed
            try:
                run(check, build, f"{work}/{kind}-{workers}", kind, workers)
            except Exception as e:  # noqa: BLE001  hadp refused the port: the next one runs
                check(False, f"{kind}, {workers} workers: {type(e).__name__}: {e}")
            if check.failed != before:
                print(f"  {kind}, {workers} workers: FAILED", flush=True)
    return check.summary("pmd matrix " + " ".join(names))


if __name__ == "__main__":
    sys.exit(main())
