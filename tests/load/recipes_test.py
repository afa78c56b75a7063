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
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import SRC, Daemons, hugepage_files, remove_dpdk_files, wait_until  # noqa: E402
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
    """Runs recipe NAME with settings (dict) in place of the page's, checks that it ran to its
    end (exit 0); its output, or None when the page's settings name other variables."""
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
    check(p.returncode == 0, f"recipe {name} ran to its end: exit {p.returncode}")
    return out


def nothing_left(check, prefix):
    left = hugepage_files(prefix) + [d for d in os.listdir("/var/run/dpdk")
                                     if d.startswith(prefix)]
    left += [prefix] if os.path.exists(f"/run/ha/{prefix}") else []
    check(not left, f"no hugepage file, runtime directory or state file of {prefix}*: {left}")


def testpmd_port_rx(log, port):
    """RX-packets of the last `show port stats` of PORT in testpmd's log."""
    m = re.findall(rf"NIC statistics for port {port}\s+#+\s+RX-packets:\s+(\d+)", log)
    return int(m[-1]) if m else None


def telemetry_tool(prefix, cmd):
    """The answer of DPDK's own dpdk-telemetry.py to cmd on a process's prefix ({} if none)."""
    r = subprocess.run(["dpdk-telemetry.py", "-f", prefix], input=cmd + "\n",
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])[cmd.split(",")[0]] or {}
    except (ValueError, IndexError, KeyError):
        return {}


def verify(build, cfg, direction, pcap):
    """ha-pktgen's sink on a capture: (exit status, packets it passed)."""
    r = subprocess.run([f"{build}/pktgen/ha-pktgen", "verify", "-c", cfg, "--direction",
                        direction, pcap], capture_output=True, text=True)
    m = re.search(r"(\d+) passed, (\d+) failed", r.stdout + r.stderr)
    return r.returncode, int(m.group(1)) if m else -1


def t_testpmd(check, build, work):
    n = 20000
    prefix = f"hadp-ltp-{os.getpid()}"
    out = run_recipe(check, "testpmd", {"B": build, "W": work, "P": prefix, "N": n}, 600)
    try:
        if out is None:
            return
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


def pcap_records(path):
    """The classic pcap file's header and its records (header and data each), as bytes."""
    data = open(path, "rb").read()
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs


def replay_config(cfg_text, work, prefix):
    """cfg_text with its dataplane section replaced by net_pcap ports: the access port reads
    WORK/access_in.pcap, the core port WORK/core_in.pcap, each writes WORK/<port>_out.pcap;
    the rest (home agent, PDNs, SAs, bindings) as the file has it."""
    rest = re.sub(r"(?ms)^dataplane:\n.*?(?=^\S)", "", cfg_text)
    ports = {p: f'{{ device: net_pcap{i}, devargs: "rx_pcap={work}/{p}_in.pcap,tx_pcap='
                f'{work}/{p}_out.pcap,tx_pcap={work}/{p}_ctl.pcap"'
                + (", mtu: 1600 }" if p == "access" else " }")
             for i, p in enumerate(("access", "core"))}
    return f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={prefix}", "--log-level=*:warning"]
  lcores: {{ main: 0, workers: [1] }}
  mempool: {{ mbufs: 16383, cache: 256 }}
  ports:
    access: {ports["access"]}
    core: {ports["core"]}
  tables: {{ max_bindings: 131072, max_sas: 64 }}
""" + rest


def t_hardware(check, build, work):
    cfg = os.path.join(SRC, "configs", "loadtest.yaml")
    k = 2048
    prefix = f"hadp-lhw-{os.getpid()}"
    if run_recipe(check, "hardware", {"B": build, "C": cfg, "W": work, "K": k}, 300) is None:
        return
    d = None
    try:
        # the captures the recipe wrote, the downlink ones into the core port, the uplink
        # ones into the access port, all in one run of hadp on the configuration's bindings
        want = {"down": 0, "up": 0, "esp-down": 0, "esp-up": 0}
        files = sorted(f for f in os.listdir(work) if re.match(r"(down|up)-.*\.pcap$", f))
        check(len(files) == 7, f"the recipe wrote its seven captures: {files}")
        merged = {"down": [], "up": []}
        hdr = None
        for f in files:
            hdr, recs = pcap_records(f"{work}/{f}")
            d = f.split("-")[0]
            check(len(recs) == k, f"{f}: {len(recs)} frames of {k}")
            merged[d] += recs
            want[d] += len(recs)
            if "-esp-" in f:
                want["esp-" + d] += len(recs)
        for d, port in (("down", "core"), ("up", "access")):
            with open(f"{work}/{port}_in.pcap", "wb") as out:
                out.write(hdr + b"".join(merged[d]))
        with open(f"{work}/hadp.yaml", "w") as f:
            f.write(replay_config(open(cfg).read(), work, prefix))
        d = Daemons(build, work, f"{work}/hadp.yaml", prefix)
        d.start_hadp()
        # the counters the page names, read as it says: dpdk-telemetry.py on hadp's prefix
        live = wait_until(lambda: (lambda t: t if t.get("downlink_encapsulated", 0) +
                                   t.get("uplink_decapsulated", 0) >= want["down"] + want["up"]
                                   else None)(telemetry_tool(prefix, "/hadp/stats")), 120, 0.5)
        check(live, f"dpdk-telemetry.py /hadp/stats: every frame forwarded while hadp runs: {live}")
        for port in (0, 1):
            info = telemetry_tool(prefix, f"/ethdev/info,{port}")
            eth = telemetry_tool(prefix, f"/ethdev/stats,{port}")
            name = {"net_pcap0": "rx-access", "net_pcap1": "rx-core"}.get(info.get("name"))
            n = want["up"] if name == "rx-access" else want["down"]
            check(name and eth.get("ipackets") == n and eth.get("imissed") == 0 and
                  re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", info.get("mac_addr", "")),
                  f"dpdk-telemetry.py /ethdev/info,{port} and /ethdev/stats,{port}: the port's "
                  f"name and MAC, {eth.get('ipackets')} of {n} frames in, "
                  f"{eth.get('imissed')} missed")
        d.stop()
        s = d.hadp_stats
        check(d.hadp_rc == 0 and s, f"hadp stopped cleanly with its stats: {d.log('hadp')}")
        if not s:
            return
        c = s["counters"]
        print("hadp:", {k: v for k, v in c.items() if v and not k.endswith("cycles")})
        check(c["rx-core"] == want["down"] and c["rx-access"] == want["up"],
              f"hadp received every frame: {c['rx-core']} of {want['down']} downlink, "
              f"{c['rx-access']} of {want['up']} uplink")
        check(c["downlink-encapsulated"] == want["down"] and
              c["uplink-decapsulated"] == want["up"],
              f"hadp forwarded every frame: {c['downlink-encapsulated']} downlink, "
              f"{c['uplink-decapsulated']} uplink")
        check(c["esp-encrypted"] == want["esp-down"] and c["esp-decrypted"] == want["esp-up"],
              f"ESP: {c['esp-encrypted']} of {want['esp-down']} encrypted, "
              f"{c['esp-decrypted']} of {want['esp-up']} decrypted")
        drops = {k: v for k, v in c.items() if k.startswith("drop-") and v}
        check(not drops, f"no drop-* counter moved: {drops}")
        check(s.get("mbufs_in_use") == 0, f"no mbuf in use: {s.get('mbufs_in_use')}")
        for direction, pcap, n in (("down", "access_out.pcap", want["down"]),
                                   ("up", "core_out.pcap", want["up"])):
            vrc, passed = verify(build, f"{work}/hadp.yaml", direction, f"{work}/{pcap}")
            check(vrc == 0 and passed == n,
                  f"ha-pktgen verify --direction {direction} {pcap}: {passed} of {n} (exit {vrc})")
    finally:
        if d:
            d.stop()  # nothing when it has stopped already
        remove_dpdk_files(prefix)
        nothing_left(check, prefix)


def t_live(check, build, work):
    ues, k = 2000, 20000
    out = run_recipe(check, "live", {"B": build, "W": work, "U": ues, "K": k}, 400)
    m = re.search(r"--file-prefix=([\w.-]+)", open(f"{work}/storm.yaml").read()) \
        if os.path.exists(f"{work}/storm.yaml") else None
    try:
        if out is None:
            return
        try:
            hs = json.load(open(f"{work}/hadp.json"))
            cs = json.load(open(f"{work}/hacpd.json"))
            res = json.load(open(f"{work}/storm.json"))
        except (OSError, ValueError) as e:
            check(False, f"hadp's and hacpd's stats files and storm.json written: {e}")
            return
        c = hs["counters"]
        check(cs["bu-accepted"] == ues and cs["ba-sent"] == ues and res["bas"] == ues,
              f"hacpd accepted {cs['bu-accepted']} BUs and sent {cs['ba-sent']} BAs, "
              f"{res['bas']} came back, of {ues}")
        check(c["downlink-encapsulated"] == k and c["uplink-decapsulated"] == k,
              f"hadp forwarded the data: {c['downlink-encapsulated']} down, "
              f"{c['uplink-decapsulated']} up of {k}")
        d = res.get("data", {})
        check(d.get("down_back", 0) + d.get("up_back", 0) + c["drop-tx-full"] == 2 * k,
              f"back at ha-pktgen-live or drop-tx-full: {d} + {c['drop-tx-full']} = {2 * k}")
        drops = {n: v for n, v in c.items() if n.startswith("drop-") and v and n != "drop-tx-full"}
        check(not drops, f"no other drop: {drops}")
        vrc, passed = verify(build, f"{work}/storm.yaml", "up", f"{work}/core.pcap")
        check(vrc == 0 and passed == d.get("up_back"),
              f"ha-pktgen verify --direction up core.pcap: {passed} of {d.get('up_back')} "
              f"(exit {vrc})")
    finally:
        check(m is not None, "the run's configuration names its file prefix")
        if m:
            nothing_left(check, m.group(1))
            remove_dpdk_files(m.group(1))


def main():
    name, build, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = Checks()
    {"testpmd": t_testpmd, "live": t_live, "hardware": t_hardware}[name](check, build, work)
    return check.summary(f"load recipe {name}")


if __name__ == "__main__":
    sys.exit(main())
