#!/usr/bin/python3
"""Restart benchmark (docs/restarts.md, docs/performance.md): how long a new hadp takes to carry
the subscribers of a killed one. hadp and hacpd on veth pairs (tests/lib); hacpd's state files
are filled with N bindings, M of them with an ESP payload SA pair from an IKE session
(ha-state-fill); hacpd installs them all in hadp. Then, with a downlink flow to a plain binding
and one to an ESP binding running (a packet each every 2 ms), hadp is killed (SIGKILL) and a new
one started. Measured from the new hadp's start (its process launched):
  - the first forwarded packet of each flow (tunnelled, or in ESP under the binding's SA);
  - the last binding installed (hadp's /hadp/tables shows all N), and hacpd's own count of
    the time to queue every command.
Targets on the 2-CPU lab machine: first packet within 1 s, all bindings within 2 s. A figure,
not a test: it prints and writes OUT_DIR/restart.json.

usage: pktgen/restart_bench.py BUILD_DIR OUT_DIR [--bindings N] [--payload M] [--rounds R]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from appliance import Appliance, wait_until  # noqa: E402
from ue import Correspondent  # noqa: E402
from scapy.all import ESP, raw  # noqa: E402


def prefix_of(i, m):
    """The home address ha-state-fill gave binding i (payload UEs: IKE's first prefixes)."""
    base = 0x20010db80100 << 16  # 2001:db8:100::/40, /64 number
    n = i if i < m else (1 << 23) + i
    hi = base + n
    words = [(hi >> s) & 0xFFFF for s in (48, 32, 16, 0)]
    return ":".join(f"{w:x}" for w in words) + "::1"


def tables(app):
    try:
        return app.telemetry("/hadp/tables")
    except Exception:  # noqa: BLE001 - hadp not answering yet
        return {}


def one_round(app, cn, n, m):
    plain, esp_i = n - 1, m - 1
    plain_hoa, esp_hoa = prefix_of(plain, m), prefix_of(esp_i, m)
    spi = 0x20000000 + esp_i + 1
    stop = threading.Event()

    def flows():
        k = 0
        while not stop.is_set():
            cn.send(plain_hoa, b"<rb-plain-%07d>" % k)
            cn.send(esp_hoa, b"<rb-esp-%07d>" % k)
            k += 1
            time.sleep(0.002)
    t = threading.Thread(target=flows, daemon=True)
    t.start()
    # both flows established before the kill
    since = app.access.mark()
    ok = app.access.wait(lambda e: e if b"<rb-plain-" in raw(e) else None, since, 10) and \
        app.access.wait(lambda e: e if ESP in e and e[ESP].spi == spi else None, since, 10)
    if not ok:
        stop.set()
        raise RuntimeError("the flows are not forwarded before the kill")
    app.daemons.hadp.send_signal(signal.SIGKILL)
    app.daemons.hadp.wait()
    since = app.access.mark()
    got = {}

    def watch(name, match):
        r = app.access.wait(match, since, 60)
        if r:
            got[name] = time.time()
    w = [threading.Thread(target=watch, args=("plain", lambda e: e if b"<rb-plain-" in raw(e) else None)),
         threading.Thread(target=watch, args=("esp", lambda e: e if ESP in e and e[ESP].spi == spi else None))]
    for x in w:
        x.start()
    log_before = app.log("hacpd").count("serving signalling")
    t0 = time.time()
    app.daemons.start_hadp()
    all_at = wait_until(lambda: tables(app).get("bindings", 0) >= n and time.time(), 60, 0.01)
    for x in w:
        x.join()
    stop.set()
    t.join()
    queued = None
    if wait_until(lambda: app.log("hacpd").count("serving signalling") > log_before, 30):
        q = re.findall(r"queued in (\d+) ms", app.log("hacpd"))
        queued = int(q[-1]) if q else None
    return {"first_packet_plain_s": round(got["plain"] - t0, 3) if "plain" in got else None,
            "first_packet_esp_s": round(got["esp"] - t0, 3) if "esp" in got else None,
            "all_bindings_s": round(all_at - t0, 3) if all_at else None,
            "hacpd_queued_ms": queued, "bindings": tables(app).get("bindings"),
            "sas": tables(app).get("sas")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--bindings", type=int, default=100000)
    ap.add_argument("--payload", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = os.path.abspath(os.path.join(a.out, "restart-work"))
    cap = 1 << (a.bindings + 1024).bit_length()
    ike = {"enabled": True, "local_id": "ha.bench", "certificate": "/nonexistent/ha.crt",
           "private_key": "/nonexistent/ha.key", "ca_certificate": "/nonexistent/ca.crt",
           "subscribers": "/nonexistent/subscribers.yaml", "socket": f"{work}/ike.sock",
           "max_sessions": max(a.payload, 1) * 2}
    results = []
    with Appliance(a.build, work, tables=cap, mbufs=16383, ike=ike, tag="rb") as app:
        # hacpd's state files as a hacpd that served the subscribers leaves them
        app.daemons.hacpd.send_signal(signal.SIGINT)
        app.daemons.hacpd.wait(timeout=60)
        state = f"/run/ha/{app.prefix}"
        for f in ("bindings", "ike_sessions", "sas", "routes"):
            if os.path.exists(f"{state}/{f}"):
                os.unlink(f"{state}/{f}")
        fill = subprocess.run([f"{a.build}/pktgen/ha-state-fill", "-c", app.config, "--bindings",
                               str(a.bindings), "--payload", str(a.payload)],
                              capture_output=True, text=True)
        print(fill.stdout.strip() or fill.stderr.strip())
        if fill.returncode:
            return 1
        app.daemons.start_hacpd(f"{app.work}/hactl.sock", timeout=120)
        if not wait_until(lambda: tables(app).get("bindings", 0) >= a.bindings, 120, 0.1):
            print(f"FAIL: hadp holds {tables(app)} after hacpd's start")
            return 1
        cn = Correspondent(app)
        for r in range(a.rounds):
            res = one_round(app, cn, a.bindings, a.payload)
            results.append(res)
            print(f"round {r + 1}: first packet {res['first_packet_plain_s']} s (plain), "
                  f"{res['first_packet_esp_s']} s (ESP); all {res['bindings']} bindings and "
                  f"{res['sas']} SAs in hadp {res['all_bindings_s']} s after its start "
                  f"(hacpd queued them in {res['hacpd_queued_ms']} ms)")
    out = {"bindings": a.bindings, "payload": a.payload, "rounds": results}
    with open(os.path.join(a.out, "restart.json"), "w") as f:
        json.dump(out, f, indent=1)
    return 0 if all(r["first_packet_plain_s"] and r["all_bindings_s"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
