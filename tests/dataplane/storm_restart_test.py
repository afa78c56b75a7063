#!/usr/bin/python3
"""Issue 4, resilience: hacpd killed with SIGKILL in the middle of a BU storm and started again.

2,000 UEs send their ESP-protected BUs at once through hadp (memif, ha-pktgen-live); once hadp
has punted a third of them, hacpd gets SIGKILL. Four seconds later, with no hacpd, every UE
sends its next BU (sequence number 2, RFC 6275 11.8) and the PDN a packet to every UE. Then a
new hacpd starts: it adopts the binding cache (hugepage memzone), re-asserts it to hadp under a
new generation, and takes the BUs waiting in the punt ring. BUs the dead hacpd had taken but not
answered get no BA, as a UE would see. Checks:
  - while no hacpd runs, hadp forwards: every UE bound at that moment gets its downlink packet
    through its tunnel;
  - no binding lost: the new hacpd adopts at least every binding the dead one had installed
    in hadp (it may have made more it could not install or answer);
  - every UE gets a BA with status 0 for sequence number 2: sequence numbers continue (the
    adopted bindings take 2 as newer);
  - hadp and the new hacpd agree: 2,000 bindings each after the sync, the old run's swept;
  - no mbuf leaked in hadp (at most the one a kill may catch between hacpd clearing its mark
    and the pool taking it: controlplane/cp_mbuf.h), and hadp never stopped.

usage: storm_restart_test.py BUILD_DIR WORK_DIR
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "pktgen"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy"))
import bu_storm  # noqa: E402  its UEs, SAs and configuration
import lab_ue  # noqa: E402
from appliance import Daemons, sanitizer_env, telemetry, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
from esp import gcm_open  # noqa: E402
from scapy.all import UDP, Ether, IPv6, PcapReader, Raw, raw, wrpcap  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrRouting  # noqa: E402

UES = 2000


def main():
    build, work = sys.argv[1], os.path.abspath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    prefix = f"hadp-kill-{os.getpid()}"
    cfg = bu_storm.config(work, prefix, UES)
    wrpcap(f"{work}/bu1.pcap", [lab_ue.bu(bu_storm.HA6, bu_storm.ue(i), 1) for i in range(UES)])
    wrpcap(f"{work}/bu2.pcap", [lab_ue.bu(bu_storm.HA6, bu_storm.ue(i), 2) for i in range(UES)])
    wrpcap(f"{work}/none.pcap", [])
    wrpcap(f"{work}/down.pcap", [
        Ether(src="02:00:00:00:ee:03", dst="02:00:00:00:ee:04") /
        IPv6(src="2001:db8:9::1", dst=bu_storm.ue(i)["hoa"]) / UDP(sport=7, dport=9) /
        Raw(b"down-while-hacpd-down") for i in range(UES)])
    check = Checks()
    d = Daemons(build, work, cfg, prefix, hadp_args=["--max-seconds", "60"],
                hacpd_args=["--max-seconds", "40"])
    g = None
    try:
        d.start_hadp()
        c1 = d.start_hacpd(f"{work}/hactl.sock", stats=False)  # up: hactl gets an answer
        g = subprocess.Popen([f"{build}/pktgen/ha-pktgen-live", "--access-sock",
                              f"{work}/access.sock", "--core-sock", f"{work}/core.sock",
                              "--to-access", f"{work}/bu1.pcap", "--to-core", f"{work}/none.pcap",
                              "--then-to-access", f"{work}/bu2.pcap", "--then-to-core",
                              f"{work}/down.pcap", "--pause-ms", "4000",
                              "--from-access", f"{work}/ba.pcap", "--from-core",
                              f"{work}/core.pcap", "--seconds", "120"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=sanitizer_env())
        punted = 0
        deadline = time.time() + 20
        while time.time() < deadline:
            punted = telemetry(prefix, "/hadp/punt").get("mobility_header_esp", 0)
            if punted >= UES // 3 and telemetry(prefix, "/hadp/tables")["bindings"] > 0:
                break  # in the storm, with bindings installed
            time.sleep(0.002)
        c1.kill()  # SIGKILL in the storm: no chance to clean up
        c1.wait()
        check(punted >= UES // 3 and punted < UES,
              f"hacpd killed in the storm: hadp had punted {punted} of {UES} BUs")
        time.sleep(1)
        mid = telemetry(prefix, "/hadp/tables")  # what the dead hacpd had installed
        for _ in range(1000):  # round 2 and the downlink, still without hacpd
            if telemetry(prefix, "/hadp/stats").get("rx_core", 0) >= UES:
                break
            time.sleep(0.01)
        time.sleep(0.5)
        down_while = telemetry(prefix, "/hadp/stats").get("downlink_encapsulated", 0)
        d.start_hacpd(f"{work}/hactl.sock")
        # until the new hacpd has answered what waited in the ring (its BAs stop growing)
        last, still = -1, 0

        def settled():
            nonlocal last, still
            r = d.hactl("show", "stats", "--json")
            try:
                sent = json.loads(r.stdout.splitlines()[0]).get("ba-sent", 0)
            except (ValueError, IndexError):
                return False
            still = still + 1 if sent == last and sent >= UES else 0
            last = sent
            return still >= 2
        wait_until(settled, 30, 0.5)
        time.sleep(0.5)
        g.send_signal(signal.SIGUSR1)  # stop polling, keep the link while hadp closes
        time.sleep(0.1)
        tables = telemetry(prefix, "/hadp/tables")
        d.stop()  # SIGINT to hacpd, then hadp; their stats files
        g.send_signal(signal.SIGINT)
        g.communicate(timeout=60)

        seen = {1: set(), 2: set()}
        bad = 0
        for p in PcapReader(f"{work}/ba.pcap"):
            if IPv6 not in p or IPv6ExtHdrRouting not in p:
                continue
            body = raw(p[IPv6ExtHdrRouting].payload)
            i = struct.unpack("!I", body[:4])[0] - 0x200000
            if not 0 <= i < UES:
                continue
            _, _, mh, _ = gcm_open(body, bu_storm.ue(i)["key_out"])
            status, seq = mh[6], struct.unpack("!H", mh[8:10])[0]
            if mh[2] != 6 or status != 0 or seq not in seen:
                bad += 1
                continue
            seen[seq].add(i)
        cs, hs = d.hacpd_stats, d.hadp_stats
        check(down_while == mid["bindings"] and mid["bindings"] > 0,
              f"with no hacpd, hadp forwarded every bound UE's downlink through its tunnel "
              f"({down_while} for {mid['bindings']} bindings)")
        check(len(seen[2]) == UES and bad == 0,
              f"every UE's BU 2 accepted after the restart ({len(seen[2])} of {UES} BAs with "
              f"sequence 2, {len(seen[1])} BAs for BU 1, {bad} other)")
        check(cs["re-asserted"] >= mid["bindings"] > 0 and cs["bindings"] == UES,
              f"no binding lost: the new hacpd adopted and re-asserted {cs['re-asserted']} "
              f"bindings (hadp had {mid['bindings']} from the dead one); {cs['bindings']} at the end")
        check(tables["bindings"] == UES and cs["generation"] == 2,
              f"hadp and hacpd agree: hadp {tables['bindings']} bindings, generation "
              f"{cs['generation']}")
        # what the killed hacpd held comes back (cp_mbuf.h); the one thing a kill can still
        # lose is the mbuf hacpd was between clearing its mark and the pool or tx ring taking it
        check(d.hadp_rc == 0 and hs["mbufs_in_use"] <= 1,
              f"hadp ran throughout and stopped cleanly, no mbuf held but the one a kill may "
              f"catch in flight ({hs['mbufs_in_use']}; {cs['mbufs-reclaimed']} the killed hacpd "
              f"held taken back by the new one)")
    finally:
        if g and g.poll() is None:
            g.kill()
            g.wait()
        d.stop()  # nothing left running, DPDK's files removed
    return check.summary("storm_restart")


if __name__ == "__main__":
    sys.exit(main())
