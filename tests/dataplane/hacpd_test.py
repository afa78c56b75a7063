#!/usr/bin/python3
"""hadp and hacpd together, the UE played by scapy and python3-cryptography (no code of ours
builds or reads the UE's side): TS 24.303 5.1.3.2 initial binding registration with IPv4 home
address assignment, under the UE's ESP transport mode SA (RFC 4877); a stale sequence number
(RFC 6275 9.5.1: BA 135 carrying the last accepted one); a BU not under ESP (dropped without
an answer). The BAs hadp sends are decrypted here and checked field by field.

Meanwhile hactl asks hacpd about it over the operator socket.

usage: hacpd_test.py HADP HACPD HACTL WORKDIR [restart DEAD_HOLDER | gone]
"""
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from scapy.all import Ether, IPv6, Raw, rdpcap, wrpcap, raw  # noqa: E402
from scapy.layers.inet6 import (HAO, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,  # noqa: E402
                                MIP6MH_Generic)

HA6, HA4 = "2001:db8:ffff::1", "192.0.2.1"
COA, HOA = "2001:db8:aaaa::2", "2001:db8:100:1::55"
KEY_IN = bytes(range(0x10, 0x24))    # the UE's BUs (SA 0x5001), key || salt
KEY_OUT = bytes(range(0x30, 0x44))   # the HA's BAs (SA 0x6001)


def mh_bu(seq, lifetime, flags=0xD400, ipv4_hoa=True):
    """A BU's octets, its checksum over the home address (RFC 6275 6.1.1), scapy computing it."""
    body = struct.pack("!BBBBHHHH", 59, 0, 5, 0, 0, seq, flags, lifetime)
    if ipv4_hoa:  # RFC 5555 IPv4 Home Address option, 0.0.0.0 /32, at offset 12 (4n)
        body += bytes([29, 6, 32 << 2, 0, 0, 0, 0, 0])
    while len(body) % 8:
        body += b"\0"
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    return raw(IPv6(src=HOA, dst=HA6) / mh)[40:]


def esp_seal(spi, seq, key, payload, nh):
    """RFC 4303 / RFC 4106: ESP with AES-GCM-128, padding 1, 2, 3..."""
    pad = (-(len(payload) + 2)) % 4
    plain = payload + bytes(range(1, pad + 1)) + bytes([pad, nh])
    hdr = struct.pack("!II", spi, seq)
    iv = struct.pack("!Q", seq)
    return hdr + iv + AESGCM(key[:16]).encrypt(key[16:] + iv, plain, hdr)


def esp_open(body, key):
    hdr, iv = body[:8], body[8:16]
    plain = AESGCM(key[:16]).decrypt(key[16:] + iv, body[16:], hdr)
    pad, nh = plain[-2], plain[-1]
    return struct.unpack("!I", hdr[:4])[0], plain[:-2 - pad], nh


def bu_packet(esp_seq, bu_seq, protected=True):
    mh = mh_bu(bu_seq, 450)
    if protected:
        return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src=COA, dst=HA6) / \
            IPv6ExtHdrDestOpt(nh=50, options=[HAO(hoa=HOA)]) / \
            Raw(esp_seal(0x5001, esp_seq, KEY_IN, mh, 135))
    return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src=COA, dst=HA6) / IPv6ExtHdrDestOpt(nh=135, options=[HAO(hoa=HOA)]) / \
        Raw(mh)


def write_config(work, prefix):
    cfg = f"{work}/ha.yaml"
    with open(cfg, "w") as f:
        f.write(f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={prefix}", "--log-level=*:warning"]
  lcores: {{ main: 0, workers: [1] }}
  mempool: {{ mbufs: 2047, cache: 32 }}
  ports:
    access:
      device: net_pcap0
      devargs: "rx_pcap={work}/access_in.pcap,tx_pcap={work}/access_out.pcap,tx_pcap={work}/access_ctl.pcap"
    core:
      device: net_pcap1
      devargs: "rx_pcap={work}/core_in.pcap,tx_pcap={work}/core_out.pcap,tx_pcap={work}/core_ctl.pcap"
  tables: {{ max_bindings: 64, max_sas: 64 }}
home_agent:
  ipv6_address: {HA6}
  ipv4_address: {HA4}
  binding_lifetime: {{ max: 3600 }}
  revocation: {{ min_delay_bris_ms: 500, max_retransmissions: 1 }}
pdns:
  - {{ name: internet, home_prefix_pool: 2001:db8:100::/48, home_prefix_length: 64,
      ipv4_pool: 10.45.0.0/16 }}
ike: {{ enabled: false }}
cli: {{ socket: "{work}/hactl.sock", mode: 0660, group: root }}
static_sas:
  - {{ spi: 0x5001, direction: in, mode: transport, local: {HA6}, peer: "{HOA}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_IN.hex()}", replay_window: 64 }}
  - {{ spi: 0x6001, direction: out, mode: transport, local: {HA6}, peer: "{HOA}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_OUT.hex()}" }}
""")
    return cfg


def restart_test(hadp, hacpd, hactl, work, dead_holder):
    """Issue 4, resilience: hacpd killed with SIGKILL and started again keeps every binding
    (sequence number, lifetime, IPv4 home address), re-asserts them to hadp under a new
    generation, and hadp, which kept forwarding, loses none. The mbufs a killed hacpd held
    (played by dead-holder, for a count known in advance) go back to hadp's pool."""
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-restart-{os.getpid()}"
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1, 1)])
    wrpcap(f"{work}/core_in.pcap", [])
    cfg = write_config(work, prefix)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    h = subprocess.Popen([hadp, "-c", cfg, "--max-seconds", "8", "--stats-file",
                          f"{work}/hadp.json"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for _ in range(100):
        if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    sock = f"{work}/hactl.sock"
    ctl = lambda *a: subprocess.run([hactl, "-s", sock, *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=20)
    first = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "30"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
    time.sleep(1.5)
    before = ctl("show", "bindings", "--json")
    first.kill()  # SIGKILL: no chance to clean up
    first.communicate(timeout=30)
    # what the killed hacpd (generation 1) might have held: 40 mbufs marked as its own
    # and 7 it had read from the punt ring, marked, but not let go of (its peek)
    dh = subprocess.run([dead_holder, prefix, "40", "1", "7"], capture_output=True, text=True,
                        timeout=30)
    second = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "3", "--stats-file",
                               f"{work}/hacpd.json"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    time.sleep(1.5)
    after = ctl("show", "bindings", "--json")
    sout, _ = second.communicate(timeout=30)
    hout, _ = h.communicate(timeout=60)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        passed += ok
        failed += not ok
        if not ok:
            print(f"FAIL {what}")

    check(second.returncode == 0 and h.returncode == 0,
          f"exit codes hacpd {second.returncode} hadp {h.returncode}: {sout[-800:]} {hout[-800:]}")
    b0 = json.loads(before.stdout) if before.returncode == 0 and before.stdout else {}
    b1 = json.loads(after.stdout) if after.returncode == 0 and after.stdout else {}
    check(b0.get("home_address") == HOA, f"registered before the kill: {before}")
    check(b1.get("home_address") == HOA and b1.get("sequence") == 1 and
          b1.get("ipv4_home_address") == "10.45.0.1" and b1.get("lifetime") == 1800 and
          0 < b1.get("remaining", 0) <= b0.get("remaining", 0),
          f"the same binding after the restart: {b0} -> {b1}")
    cs = json.load(open(f"{work}/hacpd.json"))
    hs = json.load(open(f"{work}/hadp.json"))
    check(cs["generation"] == 2 and cs["re-asserted"] == 1, f"re-asserted under generation 2: {cs}")
    check(hs["bindings"] == 1, f"hadp kept the binding through the sync: {hs['bindings']}")
    check(dh.returncode == 0 and cs["mbufs-reclaimed"] == 40 and cs["malformed"] == 7 and
          hs["mbufs_in_use"] == 0,
          f"the 40 mbufs the dead hacpd held taken back, the 7 it left in the punt ring served "
          f"(not freed twice): {dh.stdout.strip()} {dh.stderr[-300:]}, reclaimed "
          f"{cs['mbufs-reclaimed']}, malformed punts {cs['malformed']}, hadp ends with "
          f"{hs['mbufs_in_use']} in use")
    print(f"hacpd restart: {passed} passed, {failed} failed")
    return 1 if failed else 0


def gone_test(hadp, hacpd, work):
    """hadp dies under a running hacpd: hacpd notices within about a second and stops with
    status 1 (a supervisor restarts hadp, then hacpd), instead of polling dead rings."""
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-gone-{os.getpid()}"
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1, 1)])
    wrpcap(f"{work}/core_in.pcap", [])
    cfg = write_config(work, prefix)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    h = subprocess.Popen([hadp, "-c", cfg, "--max-seconds", "30"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    c = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "30"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env)
    time.sleep(1.5)
    h.kill()
    h.wait()
    t0 = time.time()
    try:
        out, _ = c.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        c.kill()
        out, _ = c.communicate()
    took = time.time() - t0
    for f in os.listdir("/dev/hugepages"):
        if f.startswith(prefix):
            os.unlink(f"/dev/hugepages/{f}")
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)  # hadp died before removing it
    ok = c.returncode == 1 and "hadp is gone" in out and took < 5
    print(("" if ok else f"FAIL hacpd after hadp died: exit {c.returncode} in {took:.1f} s: "
           f"{out[-800:]}\n") + f"hadp gone: {int(ok)} passed, {int(not ok)} failed")
    return 0 if ok else 1


def main():
    hadp, hacpd, hactl, work = sys.argv[1], sys.argv[2], sys.argv[3], os.path.abspath(sys.argv[4])
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-hacpd-{os.getpid()}"
    # RFC 6275 9.2: an unknown MH type gets a Binding Error, status 2, with the home address
    mh = MIP6MH_Generic(bytes([59, 0, 99, 0, 0, 0, 0, 0]))
    mh.cksum = None  # scapy computes it over the home address, as the HAO says
    unknown = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src=COA, dst=HA6) / \
        IPv6ExtHdrDestOpt(nh=135, options=[HAO(hoa=HOA)]) / Raw(raw(IPv6(src=HOA, dst=HA6) / mh)[40:])
    # RFC 6275 9.3.1: a Home Address option with no binding behind it gets a BE, status 1
    hoti = MIP6MH_Generic(bytes([59, 1, 1, 0, 0, 0, 0, 0]) + bytes(8))
    hoti.cksum = None
    stray = Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / IPv6(src="2001:db8:aaaa::77", dst=HA6) / \
        IPv6ExtHdrDestOpt(nh=135, options=[HAO(hoa="2001:db8:100:77::1")]) / \
        Raw(raw(IPv6(src="2001:db8:100:77::1", dst=HA6) / hoti)[40:])
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1, 1), bu_packet(2, 1),
                                      bu_packet(0, 5, protected=False), unknown, stray])
    wrpcap(f"{work}/core_in.pcap", [])
    cfg = write_config(work, prefix)
    # hacpd runs 8 s: the detach below needs its BRI retransmission (500 ms) and the removal
    # after it to fall inside, with room for a loaded machine (ASan, a parallel build)
    h = subprocess.Popen([hadp, "-c", cfg, "--max-seconds", "12", "--stats-file",
                          f"{work}/hadp.json"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for _ in range(100):
        if os.path.exists(f"/var/run/dpdk/{prefix}/mp_socket"):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    c = subprocess.Popen([hacpd, "-c", cfg, "--max-seconds", "8", "--stats-file",
                          f"{work}/hacpd.json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    time.sleep(2)
    sock = f"{work}/hactl.sock"

    def ctl(*args):
        r = subprocess.run([hactl, "-s", sock, *args], capture_output=True, text=True, timeout=20)
        return r.returncode, r.stdout, r.stderr
    ctl_bindings = ctl("show", "bindings", "--json")
    ctl_text = ctl("show", "bindings")
    ctl_missing = ctl("show", "binding", "2001:db8:100:2::1")
    ctl_bad = ctl("show", "nonsense")
    ctl_stats = ctl("show", "stats", "--json")
    ctl_pools = ctl("show", "pools")
    ctl_check = ctl("config", "check")
    sock_mode = oct(os.stat(sock).st_mode & 0o777) if os.path.exists(sock) else None
    # 004 5.4.3.1: network-initiated detach; the UE never answers (its input is spent), so
    # the BRI goes again after MINDelayBRIs, and the binding stays (not removed before a BRA)
    ctl_realloc = ctl("reallocate", HOA, "--to", "2001:db8:2::1")
    ctl_detach = ctl("detach", HOA)
    ctl_detach_again = ctl("detach", HOA)
    c_out, c_err = c.communicate(timeout=60)
    out, _ = h.communicate(timeout=60)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}")

    check(c.returncode == 0, f"hacpd exited {c.returncode}: {c_out[-1500:]} {c_err[-1500:]}")
    check(h.returncode == 0, f"hadp exited {h.returncode}: {out[-1500:]}")
    if failed:
        print(f"hadp+hacpd: {passed} passed, {failed} failed")
        return 1

    bas, bris, bes = [], [], []
    for p in rdpcap(f"{work}/access_ctl.pcap"):
        if IPv6ExtHdrDestOpt not in p and IPv6ExtHdrRouting not in p and p[IPv6].nh == 135:
            bes.append(p)
            continue
        if IPv6ExtHdrRouting not in p:
            continue
        rh = p[IPv6ExtHdrRouting]
        # BA and BRI alike (RFC 6275 6.1.8, RFC 5846): to the care-of address, RH2 to the home
        # address, in ESP under the HA's SA 0x6001
        check(p[IPv6].dst == COA and rh.addresses == [HOA] and rh.nh == 50 and
              IPv6ExtHdrDestOpt not in p,
              f"BA/BRI to the care-of address with RH2 to the home address, in ESP: {p.summary()}")
        spi, mh, nh = esp_open(raw(rh.payload), KEY_OUT)
        check(spi == 0x6001 and nh == 135, f"under the HA's SA 0x6001 ({spi:#x}, nh {nh})")
        (bris if mh[2] == 16 else bas).append(mh)
    check(len(bas) == 2, f"two BAs (the clear BU gets none), got {len(bas)}")
    # the rejection leaves at once, the acceptance once hadp has acknowledged the binding
    bas.sort(key=lambda mh: mh[6])
    if len(bas) == 2:
        status, flags, seq, life = struct.unpack("!BBHH", bas[0][6:12])
        check((status, seq, life) == (0, 1, 450), f"BA 1: status {status} seq {seq} life {life}")
        check(flags & 0xC0 == 0x40, f"BA 1 echoes R, not K: a static SA has no key management "
              f"(RFC 6275 10.3.1): {flags:#x}")
        opts = bas[0][12:]
        i = opts.find(bytes([30, 6]))
        check(i >= 0 and opts[i + 2] == 0 and opts[i + 4:i + 8] == bytes([10, 45, 0, 1]),
              f"BA 1 IPv4 Address Acknowledgement 10.45.0.1: {opts.hex()}")
        status, flags, seq, life = struct.unpack("!BBHH", bas[1][6:12])
        check((status, seq) == (135, 1), f"BA 2: status {status} seq {seq} (RFC 6275 9.5.1)")
    be2 = [p for p in bes if raw(p[IPv6].payload)[6] == 2]
    be1 = [p for p in bes if raw(p[IPv6].payload)[6] == 1]
    check(len(be2) == 1 and be2[0][IPv6].dst == COA and raw(be2[0][IPv6].payload)[2] == 7 and
          raw(be2[0][IPv6].payload)[8:24] == raw(IPv6(src=HOA))[8:24],
          f"Binding Error status 2 with the home address: {[p.summary() for p in bes]}")
    check(len(be1) == 1 and be1[0][IPv6].dst == "2001:db8:aaaa::77" and
          raw(be1[0][IPv6].payload)[8:24] == raw(IPv6(src="2001:db8:100:77::1"))[8:24],
          f"Binding Error status 1 for the HAO without a binding: {[p.summary() for p in bes]}")
    check(ctl_realloc[0] == 0, f"hactl reallocate: {ctl_realloc}")
    check(len(bris) == 2, f"a BRI and its retransmission, got {len(bris)}")
    for mh in bris:
        mtype, brtype, trigger, seq, flags = mh[2], mh[6], mh[7], mh[8:10], mh[10:12]
        check(mtype == 16 and brtype == 1 and trigger == 1 and flags == b"\0\0" and
              seq == bris[0][8:10] and len(mh) == 16,
              f"BRI: RFC 5846 layout, trigger 1, P V G clear, no options: {mh.hex()}")
    check(ctl_detach[0] == 0 and ctl_detach_again[0] == 1, f"hactl detach: {ctl_detach} {ctl_detach_again}")
    hs = json.load(open(f"{work}/hadp.json"))
    cs = json.load(open(f"{work}/hacpd.json"))
    check(hs["bindings"] == 1, f"004 5.4.3.1: the binding stays without a BRA: {hs['bindings']}")
    check(hs["counters"]["esp-decrypted"] == 2 and hs["counters"]["esp-encrypted"] == 4,  # 2 BAs, 2 BRIs
          f"hadp ESP counters {hs['counters']['esp-decrypted']}/{hs['counters']['esp-encrypted']}")
    check(hs["mbufs_in_use"] == 0, f"mbufs in use {hs['mbufs_in_use']}")
    check(cs["bu-received"] == 3 and cs["bu-accepted"] == 1 and cs["bu-rejected"] == 1 and
          cs["bu-dropped-not-protected"] == 1 and cs["ba-sent"] == 2 and cs["bindings"] == 1 and
          cs["bri-sent"] == 1 and cs["bri-retransmitted"] == 1 and cs["bri-unanswered"] == 1 and
          cs["binding-error-sent"] == 2,
          f"hacpd counters {cs}")
    # the operator's view (hactl over the Unix socket)
    check(sock_mode == "0o660", f"socket mode {sock_mode}")
    code, text, err = ctl_bindings
    rows = [json.loads(x) for x in text.splitlines()] if code == 0 else []
    check(len(rows) == 1 and rows[0]["home_address"] == HOA and rows[0]["care_of"] == COA and
          rows[0]["ipv4_home_address"] == "10.45.0.1" and rows[0]["pdn"] == "internet" and
          rows[0]["lifetime"] == 1800, f"hactl show bindings --json: {code} {text} {err}")
    check(ctl_text[0] == 0 and HOA in ctl_text[1] and "care-of " + COA in ctl_text[1],
          f"hactl show bindings: {ctl_text}")
    check(ctl_missing[0] == 1 and "no binding" in ctl_missing[2], f"unknown binding: {ctl_missing}")
    check(ctl_bad[0] == 2 and "unknown command" in ctl_bad[2], f"bad command: {ctl_bad}")
    stats = json.loads(ctl_stats[1]) if ctl_stats[0] == 0 else {}
    check(stats.get("bu-accepted") == 1 and stats.get("bindings") == 1 and
          stats.get("ba_status") == {"0": 1, "135": 1} and
          stats.get("received", {}).get("binding-update") == 3 and
          stats.get("received", {}).get("home-test-init") == 1 and
          stats.get("decode_errors") == {"mh-unknown-type": 1}, f"show stats: {ctl_stats}")
    check(ctl_pools[0] == 0 and "internet 10.45.0.0/16 used 1" in ctl_pools[1], f"pools: {ctl_pools}")
    check(ctl_check[0] == 0 and ": ok" in ctl_check[1], f"config check: {ctl_check}")
    print(f"hadp+hacpd: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) > 5 and sys.argv[5] == "restart":
        sys.exit(restart_test(*sys.argv[1:4], os.path.abspath(sys.argv[4]), sys.argv[6]))
    if len(sys.argv) > 5 and sys.argv[5] == "gone":
        sys.exit(gone_test(sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[4])))
    sys.exit(main())
