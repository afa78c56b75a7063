#!/usr/bin/python3
"""The recipes of docs/load-testing.md, run as written: the commands are the page's own blocks
(each ```sh block under a `<!-- recipe NAME -->` comment, in order), run by bash with the
test's settings in place of the page's settings block (which must name the same variables);
then the counters and packets they produced are checked against what the page says they show.

usage: recipes_test.py testpmd|live|hardware BUILD_DIR WORKDIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import SRC, hugepage_files, remove_dpdk_files  # noqa: E402
from checks import Checks  # noqa: E402

DOC = os.path.join(SRC, "docs", "load-testing.md")


def blocks(name):
    """(the settings block's variable names, the recipe's commands) of recipe NAME."""
    lines = open(DOC).read().splitlines()
    settings, commands, i = None, [], 0
    while i < len(lines):
        m = re.fullmatch(r"<!-- recipe (\S+)( settings)? -->", lines[i].strip())
        if m and m.group(1) == name:
            if lines[i + 1].strip() != "```sh":
                raise ValueError(f"{DOC}:{i + 2}: a recipe comment not followed by ```sh")
            end = lines.index("```", i + 2)
            body = lines[i + 2:end]
            if m.group(2):
                settings = [x.split("=", 1)[0] for x in body if re.match(r"\w+=", x)]
            else:
                commands += body
            i = end
        i += 1
    return settings, "\n".join(commands) + "\n"


def run_recipe(check, name, settings, timeout):
    """Runs recipe NAME with settings (dict) in place of the page's; the CompletedProcess-like
    (returncode, output), or None when the page's settings name other variables."""
    names, script = blocks(name)
    check(names is not None and sorted(names) == sorted(settings),
          f"the page's settings for {name} name the variables the test sets: {names}")
    if names is None or sorted(names) != sorted(settings):
        return None
    env = dict(os.environ, **{k: str(v) for k, v in settings.items()})
    p = subprocess.Popen(["bash", "-eu", "-o", "pipefail", "-c", script], cwd=SRC, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)  # the recipe's process group: its hadp and testpmd
        out, _ = p.communicate(timeout=60)
        out += f"\n(the recipe did not end in {timeout} s)"
    print(out[-6000:])
    return p.returncode, out


def nothing_left(check, prefix):
    left = hugepage_files(prefix) + [d for d in os.listdir("/var/run/dpdk")
                                     if d.startswith(prefix)]
    left += [prefix] if os.path.exists(f"/run/ha/{prefix}") else []
    check(not left, f"no hugepage file, runtime directory or state file of {prefix}*: {left}")


def testpmd_port_rx(log, port):
    """RX-packets of the last `show port stats` of PORT in testpmd's log."""
    m = re.findall(rf"NIC statistics for port {port}\s+#+\s+RX-packets:\s+(\d+)", log)
    return int(m[-1]) if m else None


def verify(build, cfg, direction, pcap):
    """ha-pktgen's sink on a capture: (exit status, packets it passed)."""
    r = subprocess.run([f"{build}/pktgen/ha-pktgen", "verify", "-c", cfg, "--direction",
                        direction, pcap], capture_output=True, text=True)
    m = re.search(r"(\d+) passed, (\d+) failed", r.stdout + r.stderr)
    return r.returncode, int(m.group(1)) if m else -1


def t_testpmd(check, build, work):
    n = 20000
    prefix = f"hadp-ltp-{os.getpid()}"
    r = run_recipe(check, "testpmd", {"B": build, "W": work, "P": prefix, "N": n}, 600)
    try:
        if r is None:
            return
        rc, out = r
        check(rc == 0, f"the recipe ran to its end: exit {rc}")
        try:
            s = json.load(open(f"{work}/hadp.json"))
        except (OSError, ValueError):
            check(False, "hadp wrote its stats file at its stop")
            return
        c = s["counters"]
        check(c["rx-core"] == n and c["rx-access"] == n,
              f"every packet testpmd sent reached hadp: rx-core {c['rx-core']}, rx-access "
              f"{c['rx-access']} of {n}")
        check(c["downlink-encapsulated"] == n and c["uplink-decapsulated"] == n,
              f"hadp forwarded all of them: {c['downlink-encapsulated']} down, "
              f"{c['uplink-decapsulated']} up")
        drops = {k: v for k, v in c.items() if k.startswith("drop-") and v and k != "drop-tx-full"}
        check(not drops, f"no drop but a full ring towards testpmd: {drops}")
        check(c["tx-access"] + c["tx-core"] + c["drop-tx-full"] == 2 * n,
              f"sent or counted: {c['tx-access']} + {c['tx-core']} + {c['drop-tx-full']} "
              f"drop-tx-full = {2 * n}")
        check(s.get("mbufs_in_use") == 0, f"no mbuf in use at hadp's stop: {s.get('mbufs_in_use')}")
        log = open(f"{work}/testpmd.log").read()
        down, up = testpmd_port_rx(log, 2), testpmd_port_rx(log, 1)
        check(down == c["tx-access"] and up == c["tx-core"],
              f"testpmd got back what hadp sent: {down} of {c['tx-access']} downlink, {up} of "
              f"{c['tx-core']} uplink")
        check(f"testpmd: downlink {down} of {n} back, uplink {up} of {n} back" in out,
              "the recipe printed what came back")
        for direction, pcap, want in (("down", "from-access.pcap", c["tx-access"]),
                                      ("up", "from-core.pcap", c["tx-core"])):
            vrc, passed = verify(build, f"{work}/ha.yaml", direction, f"{work}/{pcap}")
            check(vrc == 0 and passed == want,
                  f"ha-pktgen verify --direction {direction} {pcap}: {passed} of {want} are "
                  f"hadp's tunnelling of the bindings' traffic (exit {vrc})")
    finally:
        nothing_left(check, prefix)
        remove_dpdk_files(prefix + "-testpmd")
        remove_dpdk_files(prefix)


def main():
    name, build, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = Checks()
    {"testpmd": t_testpmd}[name](check, build, work)
    return check.summary(f"load recipe {name}")


if __name__ == "__main__":
    sys.exit(main())
