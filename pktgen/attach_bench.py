#!/usr/bin/python3
"""How long an attach takes with EAP-AKA from the subscriber file (ike.aaa local) and through
the 3GPP AAA over S6b (the AAA stand-in, tests/aaa/), on the live lab's pieces
(deploy/live_lab.py: the network, hadp, hacpd, the AAA stand-ins, charon; one UE, ue6 on the
IPv6 access, a real charon with the test USIM plugin and deploy/live_ue.py).

For each round, each mode in turn (interleaved: timings on a shared machine swing 2x), a lab
on configs/lab.yaml with that ike.aaa; one UE's charon; CYCLES sequential cycles of
  attach (IKE_SA_INIT .. IKE_AUTH with EAP-AKA done: swanctl --initiate --ike),
  its BU/BA child SA (CREATE_CHILD_SA), registration (BU .. BA),
  de-registration and its IKE SA's DELETE (hacpd's session gone; with S6b the STR answered).
Printed per mode, over every cycle: the attach (IKE_SA_INIT .. IKE_AUTH done) and the whole
IKE_SA_INIT .. BA (the UE program's own start left out: a Python process importing scapy),
median and p90 in ms, sequential attaches per second (1 / median attach); with S6b, from the
stand-in's events: DER/DEA round trips per attach and the AAA's own time per DER (DER in ..
DEA out, median and p90); and, captured by tshark on the loopback of charon's namespace, each
DER .. its DEA on the wire and each DEA .. the session's next DER (the HA relaying the EAP
message to the UE and back); captured on the UE's link, how long the HA takes to answer each
exchange of the attach (IKE_SA_INIT, then each IKE_AUTH round), request .. response on the wire.

usage: attach_bench.py BUILD WORK [--cycles N] [--rounds R]
  Takes /tmp/ike-tests.lock (unless IKE_LOCK_HELD=1). Run it alone on the machine.
"""
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "deploy"))
import live_lab as ll  # noqa: E402
from charon import Charon, bu_child, sh, ue_conn  # noqa: E402  tests/lib, through live_lab
from checks import Checks  # noqa: E402

MODES = ("local", "s6b")


def bench_config(build, work, mode):
    """configs/lab.yaml with ike.aaa mode (local: the lab writes the subscriber file) and a
    small binding table (hadp starts faster). JSON is YAML."""
    cfg = json.loads(sh(f"{build}/controlplane/ha-config", "--dump", "--json", "--secrets",
                        f"{SRC}/configs/lab.yaml").stdout)
    cfg["dataplane"]["tables"]["max_bindings"] = 4096
    ike = cfg["ike"]
    if mode == "local":
        ike["aaa"] = "local"
        ike.pop("s6b", None)
        ike["subscribers"] = f"{work}/subscribers.yaml"
    path = f"{work}/bench-{mode}.yaml"
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def wire_times(pcap):
    """From a capture of the S6b peers' ports: ([DER .. its DEA], [DEA .. the session's next
    DER]) in seconds, as tshark decodes the messages."""
    r = subprocess.run(["tshark", "-r", pcap, "-Y", "diameter.cmd.code == 268", "-T", "fields",
                        "-e", "frame.time_epoch", "-e", "diameter.flags.request", "-e",
                        "diameter.Session-Id"], capture_output=True, text=True)
    rtt, gap, last = [], [], {}
    for ln in r.stdout.splitlines():
        f = ln.split("\t")
        if len(f) < 3:
            continue
        t, req, sid = float(f[0]), f[1] in ("1", "True"), f[2]
        prev = last.get(sid)
        if prev and prev[1] != req:
            (gap if req else rtt).append(t - prev[0])
        last[sid] = (t, req)
    return rtt, gap


def ike_rounds(pcap):
    """From a capture of the UE's IKE: per attach, (IKE_SA_INIT's request .. the last IKE_AUTH
    response, [the HA's answer time for each exchange in order: IKE_SA_INIT, IKE_AUTH ...]), in
    seconds, from a request's first fragment to its response's last (RFC 7383)."""
    fields = ("frame.time_epoch", "isakmp.ispi", "isakmp.exchangetype", "isakmp.flag_r",
              "isakmp.messageid")
    r = subprocess.run(["tshark", "-r", pcap, "-Y", "isakmp.exchangetype == 34 or "
                        "isakmp.exchangetype == 35", "-T", "fields",
                        *[x for f in fields for x in ("-e", f)]], capture_output=True, text=True)
    ex = {}  # (ispi, message id) -> [request, last response]
    for ln in r.stdout.splitlines():
        f = ln.split("\t")
        if len(f) < 5:
            continue
        t, key, resp = float(f[0]), (f[1], int(f[4], 0)), f[3] in ("1", "True")
        e = ex.setdefault(key, [None, None])
        if resp:
            e[1] = t
        elif e[0] is None:
            e[0] = t
    attaches = {}
    for (ispi, mid), (req, resp) in sorted(ex.items(), key=lambda kv: kv[1][0] or 0):
        if req and resp:
            attaches.setdefault(ispi, []).append((req, resp))
    return [(x[-1][1] - x[0][0], [b - a for a, b in x]) for x in attaches.values()]


def cycle(lab, ue, cfg, ns, router_mac, ident, k):
    """One attach .. detach of ue6. @return (attach s, IKE_SA_INIT .. BA s) or None."""
    name, kind, coa, _, _ = ll.UES[0]
    ha6, ha_id, pki = cfg["home_agent"]["ipv6_address"], cfg["ike"]["local_id"], f"{lab.work}/pki"
    ue.load(f"connections {{\n{ue_conn(ident, coa, ha6, ha_id)}}}\n", [(f"{pki}/ca.crt", "x509ca")])
    t0 = time.monotonic()
    r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "40", check_rc=False)
    t1 = time.monotonic()
    if r.returncode != 0:
        return None
    got = [ln.split("MIP6_HOME_PREFIX ")[1].replace(":", "").strip()
           for ln in open(ue.log) if "dsmip6-ue: MIP6_HOME_PREFIX" in ln]
    hoa = str(ipaddress.IPv6Address(bytes.fromhex(got[-1][8:40])) + 1)
    ue.load(f"connections {{\n{ue_conn(ident, coa, ha6, ha_id, bu_child('bu', hoa, ha6))}}}\n",
            [(f"{pki}/ca.crt", "x509ca")])
    r = ue.swanctl("--initiate", "--child", "bu", "--timeout", "40", check_rc=False)
    t2 = time.monotonic()
    if r.returncode != 0:
        return None
    proc = ll.UeProc(lab, ns, "ue0", router_mac, hoa, f"{lab.work}/{name}.sas",
                     f"{lab.work}/{name}-mip6-{k}.log")
    proc.ask("at6 " + coa)
    t3 = time.monotonic()
    ba = proc.ask("register")
    t4 = time.monotonic()
    ok = ba.get("ba") == 0
    proc.ask("deregister")
    ue.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
    ll.wait_until(lambda: ident not in lab.hactl("show", "ike"), 10)
    if lab.aaa:
        s = lab.aaa.session(ident)
        if s:
            lab.aaa.wait_str(s[0], s[1])
    proc.p.stdin.write("quit\n")
    proc.p.stdin.flush()
    proc.p.wait(10)
    return (t1 - t0, (t1 - t0) + (t2 - t1) + (t4 - t3)) if ok else None


def one_lab(build, work, mode, cycles):
    """A lab in mode, CYCLES cycles. @return ([(attach, to BA)], [AAA time per DER],
    DERs per attach) ."""
    os.makedirs(work)
    lab = ll.Lab(build, work)
    lab.check = Checks()
    out, aaa_t, ders, wire, cap, ike_cap, rounds = [], [], [], ([], []), None, None, []
    try:
        up_ = ll.start_appliance(lab, bench_config(build, work, mode))
        if not up_:
            raise RuntimeError("the bench configuration is not valid")
        cfg, ns, _ = up_
        name = ll.UES[0][0]
        ue = Charon(work, name, ns[name], "dsmip6-ue",
                    f"    dsmip6-ue {{ k = {ll.K}\n opc = {ll.OPC}\n sa_log = {work}/{name}.sas\n"
                    f" spi_base = 0xe0100000 }}\n    kernel-netlink {{ roam_events = no }}")
        lab.charons.append(ue)
        lab.started(ue.proc.pid)
        router_mac = ll.mac(ns["acc"], name)
        ike_cap = subprocess.Popen(["ip", "netns", "exec", ns[name], "tshark", "-i", "ue0", "-w",
                                    f"{work}/ike.pcap", "-f", "udp port 500 or udp port 4500"],
                                   stdout=subprocess.DEVNULL,
                                   stderr=open(f"{work}/tshark-ike.log", "w"))
        lab.started(ike_cap.pid)
        ll.wait_until(lambda: "Capturing on" in open(f"{work}/tshark-ike.log").read(), 20)
        if lab.aaa:
            ports = " or ".join(f"tcp port {a.port}" for a in lab.aaa.standins)
            cap = subprocess.Popen(["ip", "netns", "exec", ns["ha"], "tshark", "-i", "lo", "-w",
                                    f"{work}/s6b.pcap", "-f", ports],
                                   stdout=subprocess.DEVNULL,
                                   stderr=open(f"{work}/tshark.log", "w"))
            lab.started(cap.pid)
            ll.wait_until(lambda: "Capturing on" in open(f"{work}/tshark.log").read(), 20)
        for k in range(cycles):
            r = cycle(lab, ue, cfg, ns[name], router_mac, ll.nai(0), k)
            if r:
                out.append(r)
        if lab.aaa:
            for a in lab.aaa.standins:
                evs = a.events()
                for i, e in enumerate(evs):
                    if e.get("cmd") == "DER" and e.get("dir") == "in":
                        dea = next((x for x in evs[i:] if x.get("cmd") == "DEA" and
                                    x.get("session_id") == e.get("session_id")), None)
                        if dea:
                            aaa_t.append(dea["ts"] - e["ts"])
                sids = {e["session_id"] for e in evs if e.get("cmd") == "DER"}
                if sids:
                    ders.append(sum(1 for e in evs if e.get("cmd") == "DER") / len(sids))
    finally:
        for c in (cap, ike_cap):
            if c:
                c.terminate()
                c.wait(10)
        ll.stop(lab.state, work)
    if cap:
        wire = wire_times(f"{work}/s6b.pcap")
    if ike_cap:
        rounds = ike_rounds(f"{work}/ike.pcap")
    if lab.check.failed:
        print(f"attach_bench: {mode}: {lab.check.failures}", file=sys.stderr)
    return out, aaa_t, ders, wire, rounds


def main():
    args = sys.argv[1:]
    cycles = int(args[args.index("--cycles") + 1]) if "--cycles" in args else 20
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    build, work = os.path.abspath(args[0]), os.path.abspath(args[1])
    lock = ll.take_lock()  # noqa: F841  held until the process exits
    sh("rm", "-rf", work)
    res = {m: ([], [], [], [], [], []) for m in MODES}
    for rnd in range(rounds):
        for mode in MODES:
            t, a, d, (rtt, gap), ike = one_lab(build, f"{work}/{mode}-{rnd}", mode, cycles)
            for i, xs in enumerate((t, a, d, rtt, gap, ike)):
                res[mode][i].extend(xs)
            print(f"round {rnd + 1} {mode}: {len(t)}/{cycles} cycles, attach median "
                  f"{statistics.median([x[0] for x in t]) * 1e3:.0f} ms" if t else
                  f"round {rnd + 1} {mode}: no cycle completed", flush=True)
    print(f"\nattach_bench: {rounds} rounds x {cycles} cycles per mode, interleaved")
    med = {}
    for mode in MODES:
        t, a, d, rtt, gap, ike = res[mode]
        if not t:
            print(f"{mode}: no cycle completed")
            continue
        att, ba = [x[0] * 1e3 for x in t], [x[1] * 1e3 for x in t]
        med[mode] = statistics.median(att)
        print(f"{mode:5}: {len(t)} cycles; attach (IKE_SA_INIT..IKE_AUTH done) median "
              f"{med[mode]:.0f} ms, p90 {pct(att, 90):.0f} ms ({1e3 / med[mode]:.1f} attaches/s "
              f"sequential); IKE_SA_INIT..BA median {statistics.median(ba):.0f} ms, p90 "
              f"{pct(ba, 90):.0f} ms")
        if a:
            print(f"       {statistics.mean(d):.1f} DER/DEA per attach; the AAA's own time per "
                  f"DER (DER in .. DEA out) median {statistics.median(a) * 1e3:.2f} ms, p90 "
                  f"{pct(a, 90) * 1e3:.2f} ms")
        n = max((len(x[1]) for x in ike), default=0)
        cols = [[x[1][i] * 1e3 for x in ike if len(x[1]) == n] for i in range(n)]
        if n and cols[0]:
            wire = [x[0] * 1e3 for x in ike if len(x[1]) == n]
            med[mode + " wire"] = statistics.median(wire)
            print(f"       on the UE's link: IKE_SA_INIT .. the last IKE_AUTH response median "
                  f"{statistics.median(wire):.1f} ms, p90 {pct(wire, 90):.1f} ms "
                  f"({1e3 / statistics.median(wire):.0f} attaches/s sequential); the HA's "
                  f"answer per exchange (IKE_SA_INIT, IKE_AUTH 1..{n - 1}), median ms: " +
                  ", ".join(f"{statistics.median(c):.1f}" for c in cols))
        if rtt:
            print(f"       on the wire: DER .. DEA median {statistics.median(rtt) * 1e3:.2f} ms, "
                  f"p90 {pct(rtt, 90) * 1e3:.2f} ms; DEA .. the next DER (the UE's round trip "
                  f"through the HA) median {statistics.median(gap) * 1e3:.1f} ms")
    if "s6b" in med and "local" in med:
        print(f"S6b adds {med['s6b'] - med['local']:.0f} ms to the attach's median (swanctl)" +
              (f", {med['s6b wire'] - med['local wire']:.1f} ms on the UE's link"
               if "s6b wire" in med and "local wire" in med else ""))
    return 0 if all(res[m][0] for m in MODES) else 1


if __name__ == "__main__":
    sys.exit(main())
