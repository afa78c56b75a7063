#!/usr/bin/python3
"""BU storm through the whole appliance: N UEs, each with its own RFC 4877 signalling SA pair,
send their ESP-protected initial Binding Updates at once into hadp's access port (memif, from
ha-pktgen-live); hadp decrypts and punts them, hacpd registers each UE, installs its binding
in hadp and answers; hadp encrypts the BAs. Prints BUs served per second and the BA latency seen
at the UEs (median, p99), and writes them as JSON.

On a 2-CPU machine hadp's worker, hacpd and ha-pktgen-live share the CPUs: the figure is a
lower bound set by that contention, not hacpd's capacity (ha-bu-bench measures the procedure
engine alone).

With --listing N, hacpd already holds N other bindings (its state files filled by
ha-state-fill, installed in hadp before the storm), and an operator's `hactl show bindings
--json` of all of them runs again and again beside the storm, read as fast as hactl reads: the
BA latency with and without it says whether a long listing holds up signalling (it is made in
slices between bursts, docs/controlplane.md).

With --junk K, K bad signalling packets go in front of each UE's BU (issue 4: a storm of
malformed or unauthenticated signalling must not stop valid BUs from being served), in turn: a
BU without ESP for the UE's home address (hacpd drops it, RFC 4877), ESP under an SPI no one
has, ESP under the UE's own SA with a broken ICV, and a truncated packet. Every valid BU must
still get its BA, and each kind of junk must be counted where it dies.

With --data K, signalling and data at once: 1,000 more UEs have static bindings, and while the
storm's BUs go in, K uplink packets of theirs (tunnelled from their care-of addresses, written
by ha-pktgen, interleaved with the BUs on the access port) and K downlink packets to them (on
the core port, sent at the same time) go through hadp. Every packet must come back forwarded
or be counted as hadp's drop-tx-full (ha-pktgen-live did not read fast enough), with no other
drop (docs/load-testing.md).

usage: pktgen/bu_storm.py BUILD_DIR OUT_DIR [--ues N] [--junk K] [--listing N] [--data K]
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
import lab_ue  # noqa: E402  the UE's BU, built with scapy and python3-cryptography
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from appliance import remove_dpdk_files, telemetry, wait_until  # noqa: E402
from scapy.all import Ether, IPv6, RawPcapReader, raw, wrpcap  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrRouting  # noqa: E402

HA6 = "2001:db8:ffff::1"


def ue(i):
    return {"hoa": f"2001:db8:100:{i:x}::1", "spi_in": 0x100000 + i,
            "key_in": struct.pack("!I", i) * 4 + b"\x11\x22\x33\x44",
            "spi_out": 0x200000 + i, "key_out": struct.pack("!I", i) * 4 + b"\x55\x66\x77\x88"}


def junk(i, kind):
    """Bad signalling aimed at UE i (see the module's text)."""
    u = ue(i)
    good = lab_ue.bu(HA6, u)
    if kind == 0:  # the same BU in the clear: no SA vouches for it
        _, mh, _ = esp_open(raw(good[lab_ue.IPv6ExtHdrDestOpt].payload), u["key_in"])
        return lab_ue.Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / \
            IPv6(src=lab_ue.LAB_COA, dst=HA6) / \
            lab_ue.IPv6ExtHdrDestOpt(nh=135, options=[lab_ue.HAO(hoa=u["hoa"])]) / lab_ue.Raw(mh)
    raw_bu = bytearray(raw(good))
    esp_at = len(raw_bu) - len(bytes(good[lab_ue.IPv6ExtHdrDestOpt].payload))
    if kind == 1:  # an SPI no one has
        raw_bu[esp_at:esp_at + 4] = struct.pack("!I", 0x300000 + i)
    elif kind == 2:  # the UE's SA, a broken ICV
        raw_bu[-1] ^= 0xFF
    else:  # truncated: the IPv6 payload length claims more than there is
        raw_bu = raw_bu[:14 + 40 + 12]
    return lab_ue.Ether(bytes(raw_bu))


def tables(prefix):
    """hadp's /hadp/tables (telemetry), {} while it does not answer."""
    try:
        return telemetry(prefix, "/hadp/tables")
    except Exception:  # noqa: BLE001
        return {}


def esp_open(body, key):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    hdr, iv = body[:8], body[8:16]
    plain = AESGCM(key[:16]).decrypt(key[16:] + iv, body[16:], hdr)
    return struct.unpack("!I", hdr[:4])[0], plain[:-2 - plain[-2]], plain[-1]


DATA_BINDINGS = 1000  # the static bindings --data sends to and from


def config(work, prefix, n, listing=0, data=False):
    sas = []
    for i in range(n):
        u = ue(i)
        for spi, d, key in ((u["spi_in"], "in", u["key_in"]), (u["spi_out"], "out", u["key_out"])):
            sas.append(f"  - {{ spi: {spi}, direction: {d}, mode: transport, local: {HA6}, "
                       f"peer: \"{u['hoa']}\", encryption: aes-gcm-128, integrity: none, "
                       f"key: \"{key.hex()}\" }}\n")
    path = f"{work}/storm.yaml"
    with open(path, "w") as f:
        f.write(f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={prefix}", "--log-level=*:warning"]
  lcores: {{ main: 0, workers: [1] }}
  mempool: {{ mbufs: 32767, cache: 256 }}
  ports:
    access: {{ device: net_memif0, devargs: "role=server,id=0,rsize=12,socket={work}/access.sock" }}
    core: {{ device: net_memif1, devargs: "role=server,id=0,rsize=12,socket={work}/core.sock" }}
  tables: {{ max_bindings: {max(n + listing + DATA_BINDINGS * data, 64)}, max_sas: {max(2 * n, 64)} }}
home_agent:
  ipv6_address: {HA6}
  binding_lifetime: {{ max: 3600 }}
pdns:
  - {{ name: internet, home_prefix_pool: 2001:db8:100::/40, home_prefix_length: 64 }}
ike: {{ enabled: false }}
cli: {{ socket: "{work}/hactl.sock" }}
""" + (f"""static_binding_ranges:
  - {{ pdn: internet, first_home_prefix: "2001:db8:1ff::/64", count: {DATA_BINDINGS},
      first_care_of: "2001:db8:bbbb::1" }}
""" if data else "") + "static_sas:\n" + "".join(sas))
    return path


def data_captures(a, work, cfg):
    """--data: (the uplink frames to interleave with the BUs, the core port's capture)."""
    if not a.data:
        wrpcap(f"{work}/none.pcap", [])
        return [], f"{work}/none.pcap"
    for d in ("down", "up"):
        subprocess.run([f"{a.build}/pktgen/ha-pktgen", "pcap", "-c", cfg, "-o",
                        f"{work}/{d}.pcap", "--direction", d, "--packets", str(a.data),
                        "--bindings", str(DATA_BINDINGS), "--order", "random"],
                       check=True, stdout=subprocess.DEVNULL)
    return [Ether(x) for x, _ in RawPcapReader(f"{work}/up.pcap")], f"{work}/down.pcap"


def storm_done(prefix, a):
    """hadp has sent a BA for every UE and handled every data packet (telemetry)."""
    try:
        c = telemetry(prefix, "/hadp/stats", timeout=2)
    except Exception:  # noqa: BLE001  not answering yet
        return False
    return c["control_plane_sent"] >= a.ues and \
        c["downlink_encapsulated"] + c["uplink_decapsulated"] >= 2 * a.data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--ues", type=int, default=2000)
    ap.add_argument("--junk", type=int, default=0, help="bad signalling packets per UE")
    ap.add_argument("--listing", type=int, default=0,
                    help="other bindings, listed by hactl again and again during the storm")
    ap.add_argument("--data", type=int, default=0,
                    help="data packets each way for 1,000 static bindings, with the storm")
    a = ap.parse_args()
    work = os.path.abspath(a.out)
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-storm-{os.getpid()}"
    try:
        return storm(a, work, prefix)
    finally:
        remove_dpdk_files(prefix)  # hugepage files, EAL's runtime directory, the state files


def storm(a, work, prefix):
    cfg = config(work, prefix, a.ues, a.listing, a.data > 0)
    up, to_core = data_captures(a, work, cfg)
    pkts, bu_at = [], {}  # bu_at: UE -> its BU's place in the access capture (the sent log's)
    for i in range(a.ues):
        pkts += [junk(i, k % 4) for k in range(a.junk)]
        bu_at[i] = len(pkts)
        pkts.append(lab_ue.bu(HA6, ue(i)))
        # the uplink spread evenly between the BUs
        pkts += up[len(up) * i // a.ues:len(up) * (i + 1) // a.ues]
    wrpcap(f"{work}/bu.pcap", pkts)
    extra_s = 60 if a.listing else 0  # installing the listing's bindings first
    h = subprocess.Popen([f"{a.build}/dataplane/hadp", "-c", cfg, "--max-seconds", str(40 + extra_s),
                          "--stats-file", f"{work}/hadp.json"],
                         stdout=subprocess.DEVNULL, stderr=open(f"{work}/hadp.log", "w"))
    for _ in range(200):
        if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    # under AddressSanitizer: what DPDK's vdev bus leaks in a secondary is not hacpd's
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                        "lsan_dpdk.supp")
    env = dict(os.environ, LSAN_OPTIONS=f"suppressions={supp}")
    if a.listing:
        f = subprocess.run([f"{a.build}/pktgen/ha-state-fill", "-c", cfg, "--bindings",
                            str(a.listing)], capture_output=True, text=True)
        print(f.stdout.strip() or f.stderr.strip())
        if f.returncode:
            return 1
    c = subprocess.Popen([f"{a.build}/controlplane/hacpd", "-c", cfg, "--max-seconds",
                          str(30 + extra_s), "--stats-file", f"{work}/hacpd.json"],
                         stdout=subprocess.DEVNULL, stderr=open(f"{work}/hacpd.log", "w"), env=env)
    time.sleep(1)
    listings = []
    stop_listing = threading.Event()
    if a.listing:
        t0 = time.time()
        while ("serving signalling" not in open(f"{work}/hacpd.log").read() or
               tables(prefix).get("bindings", 0) < a.listing):
            if time.time() - t0 > 60 or c.poll() is not None:
                print(f"bu_storm: hacpd did not install the listing's bindings: "
                      f"{open(f'{work}/hacpd.log').read()[-800:]}")
                return 1
            time.sleep(0.1)
        print(f"bu_storm: {a.listing} bindings installed in hadp in {time.time() - t0:.1f} s")

        def lister():
            while not stop_listing.is_set():
                t = time.time()
                r = subprocess.run([f"{a.build}/controlplane/hactl", "-s", f"{work}/hactl.sock",
                                    "show", "bindings", "--json"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
                listings.append((time.time() - t, r.stdout.count(b"\n"), r.returncode))
        lt = threading.Thread(target=lister, daemon=True)
        lt.start()
    # ha-pktgen-live stays connected until hadp has stopped: a DPDK 22.11 memif server (hadp)
    # can crash when its peer leaves while it polls. It captures for 10 s, then hacpd and hadp
    # stop, then it does (SIGINT ends its capture, the files written as at its deadline).
    g = subprocess.Popen([f"{a.build}/pktgen/ha-pktgen-live", "--access-sock",
                          f"{work}/access.sock", "--core-sock", f"{work}/core.sock",
                          "--to-access", f"{work}/bu.pcap", "--to-core", to_core,
                          "--from-access", f"{work}/ba.pcap", "--from-core", f"{work}/core.pcap",
                          "--sent-log", f"{work}/sent.log", "--seconds", "120"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # 10 s, or until hadp has sent every BA and handled the data (the last ones then have a
    # second to reach ha-pktgen-live's capture)
    t_min = time.time() + 10
    wait_until(lambda: storm_done(prefix, a), 25, 0.2)  # hacpd runs 30 s
    time.sleep(max(t_min - time.time(), 1))
    stop_listing.set()
    g.send_signal(signal.SIGUSR1)  # stop polling, keep the link: hadp closes its ports safely
    time.sleep(0.1)
    c.send_signal(2)
    c.wait(timeout=60)
    h.send_signal(2)
    h.wait(timeout=60)
    g.send_signal(2)
    g_err = g.communicate(timeout=60)[1]
    if h.returncode:
        print(f"bu_storm: hadp exited with {h.returncode}: {open(f'{work}/hadp.log').read()[-2000:]}")
        return 1
    if c.returncode or not os.path.exists(f"{work}/hacpd.json"):
        print(f"bu_storm: hacpd exited with {c.returncode}: {open(f'{work}/hacpd.log').read()[-2000:]}")
        return 1
    if g.returncode:
        print(f"bu_storm: ha-pktgen-live failed: {g_err[-800:]}")
        return 1
    sent = {}
    for line in open(f"{work}/sent.log"):
        i, t = line.split()
        sent[int(i)] = int(t) / 1e9
    lat, last, down_back = [], 0.0, 0
    for data, meta in RawPcapReader(f"{work}/ba.pcap"):
        if len(data) > 20 and data[12:14] == b"\x86\xdd" and data[20] == 41:
            down_back += 1  # a downlink tunnel (IPv6 in IPv6), not a BA
            continue
        p = Ether(data)
        if IPv6 not in p or IPv6ExtHdrRouting not in p:
            continue
        spi = struct.unpack("!I", bytes(p[IPv6ExtHdrRouting].payload)[:4])[0]
        i = spi - 0x200000
        if i in bu_at and bu_at[i] in sent:
            t = meta.sec + meta.usec / 1e6
            lat.append(t - sent[bu_at[i]])
            last = max(last, t)
    cs = json.load(open(f"{work}/hacpd.json"))
    if not lat:
        print(f"bu_storm: no BA came back; hacpd counters {cs}")
        return 1
    lat.sort()
    first = min(sent.values())
    rate = len(lat) / (last - first) if last > first else 0
    hs = json.load(open(f"{work}/hadp.json"))
    bus = max(cs["bu-received"], 1)
    # each stage's own work per BU: hacpd's thread CPU time, hadp's TSC inside its loops
    cp_us = cs["work-ns"] / bus / 1e3
    wk_cyc = hs["counters"]["work-cycles"] / max(hs["counters"]["rx-access"], 1)
    # the control thread's TSC in the turns that sent, over what they sent: the mean counts the
    # turns in which the thread was preempted, the median BA's turn does not (absent: older hadp)
    ctl_cyc = hs["counters"].get("control-tx-cycles", 0) / max(hs["counters"]["control-plane-sent"], 1)
    ctl_med = hs.get("control_tx_cycles_per_packet_median")
    res = {"ues": a.ues, "bas": len(lat), "bu_per_s": rate,
           "hacpd_us_per_bu": cp_us, "hacpd_bu_per_s_one_core": 1e6 / cp_us if cp_us else 0,
           "hadp_worker_cycles_per_bu": wk_cyc, "hadp_control_cycles_per_ba": ctl_cyc,
           "hadp_control_cycles_per_ba_median": ctl_med,
           "ba_latency_median_ms": lat[len(lat) // 2] * 1e3,
           "ba_latency_p99_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1e3,
           "accepted": cs["bu-accepted"], "ba_sent": cs["ba-sent"], "cmd_full": cs["cmd-full"], "tx_full": cs["tx-full"]}
    if a.listing:
        done = [x for x in listings if x[2] == 0]
        res["listing"] = {"bindings": a.listing, "listings_done": len(done),
                          "listing_s": [round(x[0], 2) for x in done],
                          "rows": [x[1] for x in done]}
        print(f"bu_storm: beside it, {len(done)} `show bindings --json` of {a.listing} "
              f"bindings finished ({', '.join(f'{x[0]:.1f} s, {x[1]} rows' for x in done)})")
    json.dump(res, open(f"{work}/storm.json", "w"), indent=1)
    print(f"bu_storm: {a.ues} UEs, {len(lat)} BAs back, {rate:,.0f} BU/s served, BA latency "
          f"median {res['ba_latency_median_ms']:.2f} ms, p99 {res['ba_latency_p99_ms']:.2f} ms "
          f"(hacpd accepted {cs['bu-accepted']}, sent {cs['ba-sent']} BAs)")
    print(f"bu_storm: own work per BU: hacpd {cp_us:.2f} us of CPU "
          f"({res['hacpd_bu_per_s_one_core']:,.0f} BU/s on one control-plane core), hadp worker "
          f"{wk_cyc:,.0f} cycles (ESP decrypt, punt), hadp control thread {ctl_cyc:,.0f} cycles "
          f"per BA (ESP encrypt, tx; TSC, preemption included)" +
          (f", median BA {ctl_med:,} cycles" if ctl_med is not None else ""))
    ok = len(lat) == a.ues
    if a.data:
        c = hs["counters"]
        up_back = sum(1 for _ in RawPcapReader(f"{work}/core.pcap"))
        drops = {k: v for k, v in c.items() if k.startswith("drop-") and v and k != "drop-tx-full"}
        print(f"bu_storm: data beside it: downlink {c['downlink-encapsulated']} of {a.data} "
              f"tunnelled, {down_back} back; uplink {c['uplink-decapsulated']} of {a.data} "
              f"decapsulated, {up_back} back; drop-tx-full {c['drop-tx-full']}; other drops "
              f"{drops}")
        res["data"] = {"packets": a.data, "downlink": c["downlink-encapsulated"],
                       "uplink": c["uplink-decapsulated"], "down_back": down_back,
                       "up_back": up_back, "drop_tx_full": c["drop-tx-full"]}
        json.dump(res, open(f"{work}/storm.json", "w"), indent=1)
        ok = ok and c["downlink-encapsulated"] == a.data and \
            c["uplink-decapsulated"] == a.data and \
            down_back + up_back + c["drop-tx-full"] == 2 * a.data and (a.junk or not drops)
    if a.junk:
        # each kind of junk counted where it dies: hacpd (no SA), hadp (SPI, ICV, malformed)
        per = [sum(1 for k in range(a.junk) if k % 4 == kind) * a.ues for kind in range(4)]
        c = hs["counters"]
        got = [cs["bu-dropped-not-protected"], c.get("drop-esp-unknown-spi", 0),
               hs["esp_errors"].get("esp-icv-mismatch", 0), c.get("drop-malformed", 0)]
        policed = c.get("drop-punt-policed", 0)
        print(f"bu_storm: junk {sum(per)} (clear BUs, unknown SPIs, bad ICVs, truncated) counted "
              f"{got} of {per}, {policed} clear BUs policed in hadp; hacpd bindings {cs['bindings']}")
        ok = ok and cs["bindings"] == a.ues and got[1:] == per[1:] and \
            got[0] + policed == per[0]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
