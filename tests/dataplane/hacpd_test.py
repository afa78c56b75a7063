#!/usr/bin/python3
"""hadp and hacpd together, the UE played by the test library's scapy UE (tests/lib/ue.py:
scapy and python3-cryptography, no code of ours builds or reads the UE's side): TS 24.303
5.1.3.2 initial binding registration with IPv4 home address assignment, under the UE's ESP
transport mode SA (RFC 4877); a stale sequence number (RFC 6275 9.5.1: BA 135 carrying the last
accepted one); a BU not under ESP (dropped without an answer). The BAs hadp sends are decrypted
and checked field by field.

Meanwhile hactl asks hacpd about it over the operator socket.

usage: hacpd_test.py BUILD_DIR WORKDIR [restart DEAD_HOLDER | gone]
"""
import json
import re
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, Daemons, flow, pcap_config, remove_dpdk_files, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
import mh  # noqa: E402
from ue import UE  # noqa: E402

from scapy.all import rdpcap, wrpcap  # noqa: E402

COA = "2001:db8:aaaa::2"
ue = UE(1).at6(COA)          # 2001:db8:100:1::55, its BUs under SA 0x5001, the HA's under 0x6001
HOA = ue.hoa
# RFC 6275 9.3.1: a UE without a binding whose HoTI carries a Home Address option
stray = UE(0x77, hoa="2001:db8:100:77::1").at6("2001:db8:aaaa::77")


def bu_packet(bu_seq, protected=True):
    """The UE's BU (A H K R, 1800 s, IPv4 Home Address option 0.0.0.0), its next ESP sequence
    number, from the care-of address with a Home Address option."""
    return ue.frame(ue.bu_bytes(seq=bu_seq, lifetime=450, ipv4_hoa="0.0.0.0"), esp_on=protected)


# the contract's version, as the sources say it (shared/ha_ring.h)
HA_RING_VERSION = int(re.search(r"#define HA_RING_VERSION (\d+)", open(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "ha_ring.h")).read()).group(1))


def write_config(work, prefix):
    cfg = f"{work}/ha.yaml"
    with open(cfg, "w") as f:
        f.write(pcap_config(
            work, prefix, pid_suffix=False, mbufs=2047, cache=32,
            home_agent={"binding_lifetime": {"max": 3600},
                        "revocation": {"min_delay_bris_ms": 500, "max_retransmissions": 1}},
            rest=f'cli: {{ socket: "{work}/hactl.sock", mode: 0660, group: root }}\n'
                 "static_sas:\n" + "".join(f"  - {flow(sa)}\n" for sa in ue.static_sas(HA6))))
    return cfg


def bindings(d):
    r = d.hactl("show", "bindings", "--json")
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout else {}


def restart_test(build, work, dead_holder):
    """Issue 4, resilience: hacpd killed with SIGKILL and started again keeps every binding
    (sequence number, lifetime, IPv4 home address), re-asserts them to hadp under a new
    generation, and hadp, which kept forwarding, loses none. The mbufs a killed hacpd held
    (played by dead-holder, for a count known in advance) go back to hadp's pool."""
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-restart-{os.getpid()}"
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1)])
    wrpcap(f"{work}/core_in.pcap", [])
    d = Daemons(build, work, write_config(work, prefix), prefix,
                hadp_args=["--max-seconds", "60"])
    check = Checks()
    try:
        d.start_hadp()
        first = d.start_hacpd(f"{work}/hactl.sock", args=["--max-seconds", "30"], stats=False)
        before = wait_until(lambda: bindings(d), 20)
        first.kill()  # SIGKILL: no chance to clean up
        first.wait(timeout=30)
        # what the killed hacpd (generation 1) might have held: 40 mbufs marked as its own
        # and 7 it had read from the punt ring, marked, but not let go of (its peek)
        dh = subprocess.run([dead_holder, prefix, "40", "1", "7"], capture_output=True,
                            text=True, timeout=30)
        second = d.start_hacpd(f"{work}/hactl.sock", args=["--max-seconds", "3"])
        after = wait_until(lambda: bindings(d), 20)
        second.wait(timeout=60)
    finally:
        d.stop()
    b0, b1 = before or {}, after or {}
    check(d.hacpd_rc == 0 and d.hadp_rc == 0,
          f"exit codes hacpd {d.hacpd_rc} hadp {d.hadp_rc}: {d.log('hacpd')[-800:]} "
          f"{d.log('hadp')[-800:]}")
    check(b0.get("home_address") == HOA, f"registered before the kill: {before}")
    check(b1.get("home_address") == HOA and b1.get("sequence") == 1 and
          b1.get("ipv4_home_address") == "10.45.0.1" and b1.get("lifetime") == 1800 and
          0 < b1.get("remaining", 0) <= b0.get("remaining", 0),
          f"the same binding after the restart: {b0} -> {b1}")
    cs, hs = d.hacpd_stats, d.hadp_stats
    check(cs["generation"] == 2 and cs["re-asserted"] == 1, f"re-asserted under generation 2: {cs}")
    check(hs["bindings"] == 1, f"hadp kept the binding through the sync: {hs['bindings']}")
    check(dh.returncode == 0 and cs["mbufs-reclaimed"] == 40 and cs["malformed"] == 7 and
          hs["mbufs_in_use"] == 0,
          f"the 40 mbufs the dead hacpd held taken back, the 7 it left in the punt ring served "
          f"(not freed twice): {dh.stdout.strip()} {dh.stderr[-300:]}, reclaimed "
          f"{cs['mbufs-reclaimed']}, malformed punts {cs['malformed']}, hadp ends with "
          f"{hs['mbufs_in_use']} in use")
    return check.summary("hacpd restart")


def gone_test(build, work):
    """hadp dies under a running hacpd (docs/restarts.md): hacpd notices within milliseconds,
    lets go of hadp's memory (so a new hadp can start: it would otherwise wait for it) and
    waits, keeping its state; a new hadp started after it gets it and hacpd serves again, the
    same process all along."""
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-gone-{os.getpid()}"
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1)])
    wrpcap(f"{work}/core_in.pcap", [])
    d = Daemons(build, work, write_config(work, prefix), prefix,
                hadp_args=["--max-seconds", "60"], hacpd_args=["--max-seconds", "60"])
    fails = []
    try:
        d.start_hadp()
        c = d.start_hacpd(f"{work}/hactl.sock", stats=False)
        d.hadp.kill()
        d.hadp.wait()
        t0 = time.time()
        gone = wait_until(lambda: "is gone; keeping" in d.log("hacpd"), 15)
        took = time.time() - t0
        if not gone or c.poll() is not None:
            fails.append(f"hacpd after hadp died: running {c.poll() is None}, said so in "
                         f"{took:.1f} s: {d.log('hacpd')[-600:]}")
        t0 = time.time()
        d.start_hadp()  # would fail in EAL, or wait, while hacpd held the old memory
        started = time.time() - t0
        back = wait_until(lambda: d.log("hacpd").count("serving signalling") >= 2 and
                          d.hactl("show", "stats").returncode == 0, 30)
        if not back or c.poll() is not None:
            fails.append(f"hacpd did not serve again under the new hadp: {d.log('hacpd')[-600:]}")
        if "waiting for the processes of a previous hadp" in d.log("hadp") and started > 5:
            fails.append(f"the new hadp waited {started:.1f} s for hacpd to let go")
        # a clean stop (systemctl restart, an upgrade): hadp retires its instance record and
        # hacpd lets go before hadp frees what it used
        d.hadp.send_signal(signal.SIGTERM)
        rc = d.hadp.wait(timeout=30)
        d.start_hadp()
        again = wait_until(lambda: d.log("hacpd").count("serving signalling") >= 3 and
                           d.hactl("show", "stats").returncode == 0, 30)
        if rc != 0 or not again or c.poll() is not None:
            fails.append(f"after a clean stop of hadp (exit {rc}) hacpd serves the next one: "
                         f"{again}, running {c.poll() is None}: {d.log('hacpd')[-600:]}")
    finally:
        d.stop()
    for f in fails:
        print("FAIL " + f)
    print(f"hadp gone: {3 - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


def version_test(build, work, other_hadp):
    """An upgrade half done (docs/restarts.md, "Upgrades"): a hadp that speaks another ring
    version (played by other-hadp) is refused by hacpd with a message naming both versions
    and exit status 1, never attached to; the same for one of an older version."""
    os.makedirs(work, exist_ok=True)
    fails = []
    for theirs in (HA_RING_VERSION + 1, HA_RING_VERSION - 1):
        prefix = f"hadp-other-{os.getpid()}-{theirs}"
        o = subprocess.Popen([other_hadp, prefix, str(theirs)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            if "ring version" not in o.stdout.readline():
                fails.append(f"other-hadp did not start: {o.poll()}")
                continue
            r = subprocess.run([f"{build}/controlplane/hacpd", "-c", write_config(work, prefix)],
                               capture_output=True, text=True, timeout=60)
            want = f"speaks ring version {theirs}, this hacpd version {HA_RING_VERSION}"
            if r.returncode != 1 or want not in r.stderr:
                fails.append(f"hacpd against ring version {theirs}: exit {r.returncode}, "
                             f"{r.stderr[-400:]}")
        finally:
            o.send_signal(signal.SIGINT)
            o.wait(timeout=30)
            remove_dpdk_files(prefix)
    for f in fails:
        print("FAIL " + f)
    print(f"other ring version: {2 - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


def main():
    build, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    prefix = f"hadp-hacpd-{os.getpid()}"
    # RFC 6275 9.2: an unknown MH type gets a Binding Error, status 2, with the home address
    # (the MH's checksum over the home address, as the HAO says)
    unknown = ue.frame(mh.generic(HOA, HA6, 99), esp_on=False)
    # RFC 6275 9.3.1: a Home Address option with no binding behind it gets a BE, status 1
    hoti = stray.frame(mh.generic(stray.hoa, HA6, mh.HOTI, bytes(10)), esp_on=False)
    wrpcap(f"{work}/access_in.pcap", [bu_packet(1), bu_packet(1),
                                      bu_packet(5, protected=False), unknown, hoti])
    wrpcap(f"{work}/core_in.pcap", [])
    # hacpd runs 8 s: the detach below needs its BRI retransmission (500 ms) and the removal
    # after it to fall inside, with room for a loaded machine (ASan, a parallel build)
    d = Daemons(build, work, write_config(work, prefix), prefix,
                hadp_args=["--max-seconds", "12"], hacpd_args=["--max-seconds", "8"])
    sock = f"{work}/hactl.sock"

    def ctl(*args):
        r = d.hactl(*args, timeout=20)
        return r.returncode, r.stdout, r.stderr

    def stats():
        r = d.hactl("show", "stats", "--json")
        return json.loads(r.stdout) if r.returncode == 0 else {}
    try:
        d.start_hadp()
        d.start_hacpd(sock)
        # the five packets served: three BUs, the HoTI, the unknown type
        wait_until(lambda: stats().get("bu-received") == 3 and
                   stats().get("binding-error-sent") == 2, 20)
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
    finally:
        d.stop(interrupt=False)  # both run to their --max-seconds
    check = Checks()
    check(d.hacpd_rc == 0, f"hacpd exited {d.hacpd_rc}: {d.log('hacpd')[-1500:]}")
    check(d.hadp_rc == 0, f"hadp exited {d.hadp_rc}: {d.log('hadp')[-1500:]}")
    if check.failed:
        return check.summary("hadp+hacpd")

    bas, bris, bes = [], [], []
    for p in rdpcap(f"{work}/access_ctl.pcap"):
        m = ue.read(p) or stray.read(p)
        if m is None:
            continue
        w = m.where
        if w.esp is None and w.rh2 is None and w.hao is None:
            bes.append(m)
            continue
        # BA and BRI alike (RFC 6275 6.1.8, RFC 5846): to the care-of address, RH2 to the home
        # address, in ESP under the HA's SA 0x6001
        check(w.ip6_dst == COA and w.rh2 and w.rh2[2] == [HOA] and w.esp is not None and
              w.hao is None,
              f"BA/BRI to the care-of address with RH2 to the home address, in ESP: {w.__dict__}")
        check(w.esp is not None and w.esp[0] == 0x6001 and m.type in (mh.BA, mh.BR),
              f"under the HA's SA 0x6001 ({w.esp}, MH type {m.type})")
        (bris if m.type == mh.BR else bas).append(m)
    check(len(bas) == 2, f"two BAs (the clear BU gets none), got {len(bas)}")
    # the rejection leaves at once, the acceptance once hadp has acknowledged the binding
    bas.sort(key=lambda m: m.status)
    if len(bas) == 2:
        check((bas[0].status, bas[0].seq, bas[0].lifetime) == (0, 1, 450),
              f"BA 1: status {bas[0].status} seq {bas[0].seq} life {bas[0].lifetime}")
        check(bas[0].flags & 0xC0 == 0x40, f"BA 1 echoes R, not K: a static SA has no key "
              f"management (RFC 6275 10.3.1): {bas[0].flags:#x}")
        ack = bas[0].ipv4_ack()
        check(ack is not None and ack[0] == 0 and ack[2] == "10.45.0.1",
              f"BA 1 IPv4 Address Acknowledgement 10.45.0.1: {bas[0]}")
        check((bas[1].status, bas[1].seq) == (135, 1),
              f"BA 2: status {bas[1].status} seq {bas[1].seq} (RFC 6275 9.5.1)")
    be2 = [m for m in bes if m.status == 2]
    be1 = [m for m in bes if m.status == 1]
    check(len(be2) == 1 and be2[0].where.ip6_dst == COA and be2[0].type == mh.BE and
          be2[0].home_address == HOA,
          f"Binding Error status 2 with the home address: {bes}")
    check(len(be1) == 1 and be1[0].where.ip6_dst == "2001:db8:aaaa::77" and
          be1[0].home_address == stray.hoa,
          f"Binding Error status 1 for the HAO without a binding: {bes}")
    check(ctl_realloc[0] == 0, f"hactl reallocate: {ctl_realloc}")
    check(len(bris) == 2, f"a BRI and its retransmission, got {len(bris)}")
    for m in bris:
        check(m.type == 16 and m.br_type == 1 and m.trigger == 1 and m.flags == 0 and
              m.seq == bris[0].seq and len(m.data) == 16,
              f"BRI: RFC 5846 layout, trigger 1, P V G clear, no options: {m}")
    check(ctl_detach[0] == 0 and ctl_detach_again[0] == 1, f"hactl detach: {ctl_detach} {ctl_detach_again}")
    hs, cs = d.hadp_stats, d.hacpd_stats
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
    st = json.loads(ctl_stats[1]) if ctl_stats[0] == 0 else {}
    check(st.get("bu-accepted") == 1 and st.get("bindings") == 1 and
          st.get("ba_status") == {"0": 1, "135": 1} and
          st.get("received", {}).get("binding-update") == 3 and
          st.get("received", {}).get("home-test-init") == 1 and
          st.get("decode_errors") == {"mh-unknown-type": 1}, f"show stats: {ctl_stats}")
    check(ctl_pools[0] == 0 and "internet 10.45.0.0/16 used 1" in ctl_pools[1], f"pools: {ctl_pools}")
    check(ctl_check[0] == 0 and ": ok" in ctl_check[1], f"config check: {ctl_check}")
    return check.summary("hadp+hacpd")


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[3] == "restart":
        sys.exit(restart_test(sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[4]))
    if len(sys.argv) > 3 and sys.argv[3] == "version":
        sys.exit(version_test(sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[4]))
    if len(sys.argv) > 3 and sys.argv[3] == "gone":
        sys.exit(gone_test(sys.argv[1], os.path.abspath(sys.argv[2])))
    sys.exit(main())
