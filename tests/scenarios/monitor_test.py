#!/usr/bin/python3
"""Watching the appliance (docs/controlplane.md, "Watching it"): `hactl monitor` streams binding
events as one JSON object per line, `hactl show stats --format openmetrics` is the counters in
the OpenMetrics text format, and neither holds up signalling. hadp and hacpd on veth pairs,
scapy UEs (tests/lib).

  events     a UE registers (with an IPv4 home address), refreshes, moves, de-registers
             (RFC 6275 9.5.1, 002 5.1.3.2, 5.2.3.2); a binding expires (RFC 6275 10.3.1);
             one is revoked by `hactl detach` and the UE's BRA (004 5.4.3.1): each event line
             read with json.loads and its fields checked; the per-PDN counters follow
  stalled    a monitor that never reads while 3,000 BUs make events: the UE's BA comes as
             without it (bound 5 s, for slow hosts), the monitor's queue overflows into
             `monitor-events-dropped`, and once it reads it is told how many it lost
  limits     4 monitors at once, the fifth told busy; hactl monitor ends with 0 on SIGINT
  metrics    the OpenMetrics output read by prometheus_client's parser (python3-prometheus-
             client, which refuses malformed text: shown on a truncated copy), every value
             equal to `show stats --json`'s

usage: monitor_test.py BUILD_DIR WORK_DIR
"""
import datetime
import ipaddress
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

from prometheus_client.openmetrics.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import Appliance, wait_until  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402
import mh  # noqa: E402
from steps import check_ba  # noqa: E402
from ue import UE  # noqa: E402

BULK = 3000
ue_life, ue_exp, ue_rev, ue_probe = UE(1), UE(2), UE(3), UE(4)
bulk = [UE(100 + i) for i in range(BULK)]


class Monitor:
    """hactl monitor in the background, its lines parsed as they come."""

    def __init__(self, app):
        self.p = subprocess.Popen([f"{app.build}/controlplane/hactl", "-s",
                                   f"{app.work}/hactl.sock", "monitor"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.lines = queue.Queue()
        self.bad = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for text in self.p.stdout:
            try:
                self.lines.put(json.loads(text))
            except ValueError:
                self.bad.append(text)

    def next(self, event, timeout=20, who=None):
        """The next line of that event (for that home address), skipping others."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                e = self.lines.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if e.get("event") == event and (who is None or e.get("home_address") == who):
                return e
        return None

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def coa(ue, k=0):
    """The UE's k-th care-of address, written as the HA writes it (RFC 5952)."""
    return str(ipaddress.IPv6Address(f"2001:db8:aaaa:{k:x}::{ue.n:x}"))


def fresh(stamp):
    """An RFC 3339 UTC time within a minute of now."""
    try:
        t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return False
    return abs((datetime.datetime.utcnow() - t).total_seconds()) < 60


def stats(app):
    return json.loads(app.hactl("show", "stats", "--json").stdout)


def s_events(check, app, mon):
    """Each event's line: event, reason, time, home address and prefix, PDN, IPv4 home
    address, care-of address; the per-PDN counters count them."""
    before = stats(app)["pdns"]["internet"]
    ue = ue_life.attach(app).at6(coa(ue_life))
    check_ba(check, ue, ue.register(ipv4_hoa="0.0.0.0", lifetime=450), 1, "register")
    e = mon.next("registered", who=ue.hoa)
    check(e is not None and e["reason"] == "binding-update" and fresh(e["time"]) and
          e["home_prefix"] == str(ipaddress.IPv6Network(ue.hoa + "/64", strict=False)) and e["pdn"] == "internet" and
          e["ipv4_home_address"] == ue.hoa4 and e["care_of"] == coa(ue) and
          e["lifetime"] > 0 and e["sequence"] == 1,
          f"002 5.1.3.2: registered, with prefix, PDN, IPv4 home address, care-of: {e}")
    check_ba(check, ue, ue.register(ipv4_hoa="0.0.0.0", lifetime=450), 2, "refresh")
    e = mon.next("refreshed", who=ue.hoa)
    check(e is not None and e["care_of"] == coa(ue) and e["sequence"] == 2,
          f"RFC 6275 10.3.1: a BU from the same care-of address refreshes: {e}")
    ue.at6(coa(ue_life, 1))
    check_ba(check, ue, ue.register(ipv4_hoa="0.0.0.0", lifetime=450), 3, "move")
    e = mon.next("moved", who=ue.hoa)
    check(e is not None and e["reason"] == "care-of-address-changed" and
          e["care_of"] == coa(ue_life, 1) and e["previous_care_of"] == coa(ue_life),
          f"002 5.2.3.2: moved from the old care-of address to the new: {e}")
    check_ba(check, ue, ue.register(lifetime=0), 4, "de-registration")
    e = mon.next("deregistered", who=ue.hoa)
    check(e is not None and e["reason"] == "lifetime-zero" and e["pdn"] == "internet",
          f"RFC 6275 9.5.1: de-registered, lifetime 0: {e}")
    after = stats(app)["pdns"]["internet"]
    grew = {k: after[k] - before[k] for k in ("registrations", "moves", "deregistrations",
                                              "bu-accepted")}
    check(grew == {"registrations": 1, "moves": 1, "deregistrations": 1, "bu-accepted": 3},
          f"per-PDN counters: {grew}")


def s_expiry(check, app, mon):
    """RFC 6275 10.3.1: a binding of 8 s runs out: "expired"."""
    ue = ue_exp.attach(app).at6(coa(ue_exp))
    check_ba(check, ue, ue.register(lifetime=2), 1, "short registration")
    e = mon.next("expired", who=ue.hoa, timeout=40)
    check(e is not None and e["reason"] == "lifetime-expired" and e["care_of"] == coa(ue) and
          e["pdn"] == "internet", f"RFC 6275 10.3.1: expired: {e}")
    check(stats(app)["pdns"]["internet"]["expiries"] >= 1, "per-PDN expiries counted")


def s_revocation(check, app, mon):
    """004 5.4.3.1: hactl detach starts the revocation, the UE's BRA ends it: "revoked"."""
    ue = ue_rev.attach(app).at6(coa(ue_rev))
    check_ba(check, ue, ue.register(), 1, "register before detach")
    m = ue.mark()
    r = app.hactl("detach", ue.hoa)
    check(r.returncode == 0, f"hactl detach: {r.stderr}")
    e = mon.next("revocation-started", who=ue.hoa)
    check(e is not None and e["reason"] == "network-initiated-detach",
          f"004 5.4.3.1: revocation started: {e}")
    bris = ue.wait_msg(mh.BR, m, 10, 1, match=lambda x: x.br_type == 1)
    if check(bris, "004 5.4.3.1: a BRI"):
        ue.send_bra(bris[0].seq)
        e = mon.next("revoked", who=ue.hoa)
        check(e is not None and e["reason"] == "bra" and e["care_of"] == coa(ue),
              f"004 5.4.3.1: revoked by the BRA: {e}")
    check(stats(app)["pdns"]["internet"]["revocations"] == 1, "per-PDN revocation counted")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def s_stalled_monitor(check, app, mon):
    """A monitor that never reads: hacpd queues its events up to a bound, then drops them
    (counted), never waiting for it; a UE's BU is answered as without it."""
    silent = connect(f"{app.work}/hactl.sock")
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.send(b"monitor\n")
    check(wait_until(lambda: stats(app)["monitor-connections"] == 2, 10),
          "the silent monitor is taken")
    base = stats(app)["monitor-events-dropped"]
    for u in bulk:
        u.attach(app).at6(coa(u))
    t0 = time.time()
    for i in range(0, BULK, 100):  # batches: a veth under libpcap holds only so many frames
        for u in bulk[i:i + 100]:
            app.access.send(u.frame(u.bu_bytes(flags="HKR"), esp_on=False))
        # a frame lost on the way is no matter: only the events' number does
        wait_until(lambda: stats(app)["bindings"] >= i + 90, 1, 0.05)
    print(f"{stats(app)['bindings']} bindings in {time.time() - t0:.1f} s", flush=True)
    check(wait_until(lambda: stats(app)["monitor-events-dropped"] > base, 20),
          f"the never-reading monitor's queue overflowed: {stats(app)['monitor-events-dropped']}")
    ue = ue_probe.attach(app).at6(coa(ue_probe))
    t0 = time.time()
    ba = ue.register()
    took = time.time() - t0
    print(f"BA with a stalled monitor: {took * 1000:.0f} ms", flush=True)
    check(ba is not None and ba.status == 0 and took < 5,
          f"a UE's BA as without the stalled monitor: {ba} in {took:.2f} s")
    # it reads at last: what it lost is told before the next event it gets
    silent.settimeout(1)
    try:
        while silent.recv(65536):
            pass
    except socket.timeout:
        pass
    check_ba(check, ue, ue.register(), 2, "refresh after the drain")
    got = b""
    silent.settimeout(5)
    while b'"refreshed"' not in got:
        k = silent.recv(65536)
        if not k:
            break
        got += k
    drops = [json.loads(x[2:]) for x in got.decode().splitlines()
             if x.startswith('+ {"event":"dropped"')]
    check(drops and drops[0]["count"] > 0, f"the monitor is told how many it lost: {drops}")
    silent.close()
    check(wait_until(lambda: stats(app)["monitor-connections"] == 1, 10),
          "the closed monitor is gone")


def s_limits(check, app, mon):
    """4 monitors at once (the test's own is one); the fifth is refused; SIGINT ends
    hactl monitor with 0."""
    more = [Monitor(app) for _ in range(3)]
    check(wait_until(lambda: stats(app)["monitor-connections"] == 4, 10), "4 monitors")
    r = app.hactl("monitor", timeout=10)
    check(r.returncode == 1 and "busy" in r.stderr, f"a fifth is refused: {r.returncode} {r.stderr}")
    codes = [m.stop() for m in more]
    check(codes == [0, 0, 0], f"hactl monitor ends with 0 on SIGINT: {codes}")
    check(wait_until(lambda: stats(app)["monitor-connections"] == 1, 10), "3 monitors gone")


def sample(fams, name, labels=None):
    for f in fams.values():
        for s in f.samples:
            if s.name == name and (labels is None or all(s.labels.get(k) == v
                                                         for k, v in labels.items())):
                return s.value
    return None


def s_openmetrics(check, app, mon):
    """The OpenMetrics text, parsed by prometheus_client, has every value of show stats
    --json under its `ha_` name (counters as NAME_total), per PDN with a pdn label."""
    r = app.hactl("show", "stats", "--format", "openmetrics")
    js = stats(app)  # nothing happens in between: the same values
    text = r.stdout
    check(r.returncode == 0 and text.endswith("# EOF\n"), f"ends with # EOF: {text[-40:]!r}")
    try:
        fams = {f.name: f for f in text_string_to_metric_families(text)}
    except Exception as e:  # noqa: BLE001 (the parser's error is the finding)
        check(False, f"the OpenMetrics parser refuses it: {e}")
        return
    try:
        list(text_string_to_metric_families(text.replace("# EOF\n", "")))
        strict = False
    except Exception:  # noqa: BLE001
        strict = True
    check(strict, "the parser refuses a copy without # EOF (it would see malformed output)")
    wrong = []
    n = 0
    for k, v in js.items():
        if not isinstance(v, int) or k == "cli-connections":
            continue
        base = "ha_" + k.replace("-", "_")
        got = sample(fams, base + "_total") if fams.get(base, None) and \
            fams[base].type == "counter" else sample(fams, base)
        n += 1
        if got != v:
            wrong.append((k, v, got))
    for pdn, ctr in js["pdns"].items():
        for k, v in ctr.items():
            base = "ha_pdn_" + k.replace("-", "_")
            got = sample(fams, base if fams[base].type == "gauge" else base + "_total",
                         {"pdn": pdn})
            n += 1
            if got != v:
                wrong.append((pdn, k, v, got))
    for st, v in js["ba_status"].items():
        n += 1
        if sample(fams, "ha_ba_sent_by_status_total", {"status": st}) != v:
            wrong.append(("ba_status", st, v))
    for name, v in js["received"].items():
        n += 1
        if sample(fams, "ha_mh_received_total", {"name": name}) != v:
            wrong.append(("received", name, v))
    check(not wrong and n > 50, f"{n} values equal to show stats --json's: wrong {wrong}")
    check(fams["ha_bindings"].type == "gauge" and fams["ha_bu_received"].type == "counter" and
          fams["ha_pdn_bindings"].type == "gauge" and
          sample(fams, "ha_pdn_bu_accepted_total", {"pdn": "internet"}) > 0,
          "types: bindings gauges, the rest counters")
    bad = app.hactl("show", "stats", "--format", "yaml")
    check(bad.returncode == 2 and "unknown format" in bad.stderr,
          f"an unknown format is a bad request: {bad.returncode} {bad.stderr}")


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ha = {"insecure_lab_mode": True,  # the bulk UEs register without SAs; the others keep theirs
          "revocation": {"min_delay_bris_ms": 2000, "max_retransmissions": 1}}
    with Appliance(build, work, ues=[ue_life, ue_exp, ue_rev, ue_probe], home_agent=ha,
                   tables=4096, mbufs=8191) as app:
        mon = Monitor(app)
        first = mon.next("monitor-started", timeout=10)
        check(first is not None and first["queue_octets"] > 0, f"monitor started: {first}")
        run_scenarios(check, [s_events, s_expiry, s_revocation, s_limits, s_stalled_monitor,
                              s_openmetrics], app, mon)
        code = mon.stop()
        check(code == 0 and not mon.bad, f"monitor: exit {code}, every line JSON: {mon.bad[:3]}")
        with open(f"{app.work}/hacpd.log") as f:
            log = f.read()
        check("binding registered" in log and "suppressed" in log,
              f"hacpd's log has binding lines and, after the storm, a suppressed count: "
              f"{log[-600:]}")
    return check.summary("monitor")


if __name__ == "__main__":
    sys.exit(main())
