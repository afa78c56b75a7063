#!/usr/bin/python3
"""The README's main command: deploy/live_lab.py (what deploy/run_lab.sh runs after building)
on configs/lab.yaml, three times, each checked from outside as well as by its own steps:

  1. a whole run: exit status 0, every step printed ok and none FAIL (the AAA stand-ins
     connected over S6b, each attach through them, registration, ping and iperf3 through the
     tunnels, the move, the UE's detach with its STR, the AAA's ASR detaching ue4 with its STR,
     the clean stop);
  2. Ctrl-C (SIGINT) once the UEs are registered: it stops, says FAIL for the interruption and
     exits non-zero;
  3. --keep: it exits leaving the appliance running (hactl shows the three bindings from
     outside, and the AAA stand-in its three authenticated sessions on its control socket),
     then --stop stops it.
After each: no process that runs from the lab's directory (command line or environment; the
AAA stand-ins named apart), no namespace or interface of the names it printed, no hugepage
file, EAL runtime directory or /run/ha state of its file prefix.

Runs under flock /tmp/ike-tests.lock (tests/meson.build), so the lab is told the lock is held.
usage: live_lab_test.py BUILD WORK
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from checks import Checks  # noqa: E402
from aaa import control  # noqa: E402

LAB = os.path.join(SRC, "deploy", "live_lab.py")
ENV = dict(os.environ, IKE_LOCK_HELD="1")


def lab(build, work, *args):
    return subprocess.Popen(["/usr/bin/python3", LAB, build, *args, "--work", work],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)


def names(out):
    """What the lab said it made: its namespaces, hadp's interfaces, its file prefix."""
    m = re.search(r"network: namespaces (.*); hadp's ports on (\S+) \(access\) and (\S+) \(core\)",
                  out)
    p = re.search(r"file prefix (\S+),", out)
    return (m.group(1).split(", ") if m else [], [m.group(2), m.group(3)] if m else [],
            p.group(1) if p else None)


def left_behind(work, out):
    ns, links, prefix = names(out)
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            seen = open(f"/proc/{pid}/cmdline", "rb").read() + open(f"/proc/{pid}/environ",
                                                                     "rb").read()
        except OSError:
            continue
        if work.encode() in seen:
            left.append(f"process {pid}" + (" (ha-aaa-standin)" if b"ha-aaa-standin" in seen
                                            else ""))
    have = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    left += [f"namespace {n}" for n in ns if n in have]
    left += [f"interface {i}" for i in links if os.path.exists(f"/sys/class/net/{i}")]
    if prefix:
        left += [f for f in os.listdir("/dev/hugepages") if f.startswith(prefix)]
        left += [d for d in (f"/var/run/dpdk/{prefix}", f"/run/ha/{prefix}") if os.path.exists(d)]
    return (ns and links and prefix), left


def main():
    build, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    check = Checks()
    cfg = os.path.join(SRC, "configs", "lab.yaml")

    # 1. the whole run
    p = lab(build, f"{work}/run", cfg)
    out = p.communicate(timeout=500)[0]
    print(out)
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    oks = [ln for ln in out.splitlines() if ln.startswith("ok:")]
    check(p.returncode == 0 and not fails and len(oks) >= 30,
          f"1. the live lab passed every step (exit {p.returncode}, {len(oks)} ok, {fails})")
    for what in ("the AAA (2 S6b peers) answers", "attached with IKEv2 and EAP-AKA",
                 "through the AAA over S6b", "registered: BA status 0", "pings", "iperf3",
                 "moved to", "de-registered", "STR with DIAMETER_LOGOUT", "the AAA's ASR",
                 "STR with DIAMETER_ADMINISTRATIVE", "stopped: no process"):
        check(any(what in ln for ln in oks), f"1. a step '{what}' printed ok")
    named, left = left_behind(f"{work}/run", out)
    check(named and not left, f"1. nothing left behind ({left})")

    # 2. Ctrl-C in the middle
    p = lab(build, f"{work}/int", cfg)
    seen = []
    for ln in p.stdout:
        seen.append(ln)
        if ln.startswith("$ hactl show bindings"):
            p.send_signal(signal.SIGINT)
            break
    out = "".join(seen) + p.communicate(timeout=120)[0]
    print(out)
    check(p.returncode != 0 and "FAIL: interrupted" in out and
          "ok:   stopped: no process" in out,
          f"2. Ctrl-C: the lab stopped cleanly and failed (exit {p.returncode})")
    named, left = left_behind(f"{work}/int", out)
    check(named and not left, f"2. nothing left behind after Ctrl-C ({left})")

    # 3. --keep, then --stop
    p = lab(build, f"{work}/keep", cfg, "--keep")
    out = p.communicate(timeout=500)[0]
    print(out)
    r = subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/keep/hactl.sock", "show",
                        "bindings"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "The appliance is running" in out and "--stop" in out and
          len(r.stdout.strip().splitlines()) == 3,
          f"3. --keep: the lab is left running, hactl from outside sees 3 bindings "
          f"({r.stdout.strip()})")
    try:
        sess = control(f"{work}/keep/aaa-aaa1.lab.example.com/control.sock", "sessions")
    except OSError as e:
        sess = repr(e)
    check(sess.count('"authenticated"') == 3,
          f"3. --keep: the AAA stand-in (aaa1) holds the 3 UEs' sessions ({sess[:300]})")
    time.sleep(1)
    s = subprocess.run(["/usr/bin/python3", LAB, build, "--stop", "--work", f"{work}/keep"],
                       capture_output=True, text=True, timeout=200, env=ENV)
    print(s.stdout, s.stderr)
    named, left = left_behind(f"{work}/keep", out)
    check(s.returncode == 0 and named and not left,
          f"3. --stop stopped it, nothing left behind (exit {s.returncode}, {left})")
    return check.summary("live_lab")


if __name__ == "__main__":
    sys.exit(main())
