#!/usr/bin/python3
"""The operator socket never stalls signalling (docs/controlplane.md, "hactl"): while tools
misbehave on hacpd's socket, a UE's protected Binding Updates are answered as if no client
were there. hadp and hacpd on veth pairs, scapy UEs (tests/lib).

The clients, all at once while the UE registers again and again:
  - three `show bindings --json` over 1,500 bindings (some 350 KB) that do not read a byte for seconds;
  - a half-written request (no newline): dropped after 2 s without a request line;
  - 40 silent connections (a hung script, a half-open probe): 28 are taken (32 at once in
    all) and dropped the same way; the other 12 are told "busy" at once;
  - a flood of `show stats` requests, each on its own connection, read to the end.
Before this, each silent connection held hacpd's one thread for up to a second (a BU got no BA
within 1.5 s with 50 of them), and a client that did not read held it for as long as it did not:
this test gets no BA at all from that hacpd. The bound here is 5 s, for slow hosts (ASan, a
shared CI machine); the latencies are printed (tens of milliseconds on an idle host).

Then: a normal `hactl show bindings --json` gets all 1,500 bindings, made in slices; the
limits are counted.

usage: cli_abuse_test.py BUILD_DIR WORK_DIR
"""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import Appliance, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
from ue import UE  # noqa: E402

BULK = 1500
ue = UE(1)
bulk = [UE(100 + i) for i in range(BULK)]


def connect(path):
    """A connection to hacpd's socket; a full listen backlog (EAGAIN) is tried again."""
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    return None  # hacpd's listen backlog stayed full: it is not accepting


def bindings(app):
    return json.loads(app.hactl("show", "stats", "--json").stdout or "{}").get("bindings", 0)


def read_all(s, limit=10):
    s.settimeout(limit)
    out = b""
    try:
        while True:
            k = s.recv(65536)
            if not k:
                break
            out += k
    except socket.timeout:
        pass
    return out


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ha = {"insecure_lab_mode": True}  # the bulk UEs register without SAs; ue keeps its own
    T0 = time.time()
    with Appliance(build, work, ues=[ue], home_agent=ha, tables=4096, mbufs=8191) as app:
        sock = f"{app.work}/hactl.sock"
        ue.attach(app).at6("2001:db8:aaaa::1")
        # 1,500 bindings, so that `show bindings --json` is longer than a Unix socket's buffer
        # (in batches: a veth's receive queue under hadp's libpcap holds only so many frames)
        for u in bulk:
            u.attach(app).at6(f"2001:db8:aaaa::{u.n:x}")
        for i in range(0, BULK, 100):
            for _ in range(5):  # a batch again (refreshes) when frames were lost on the way
                for u in bulk[i:i + 100]:
                    app.access.send(u.frame(u.bu_bytes(flags="HKR"), esp_on=False))
                if wait_until(lambda: bindings(app) >= min(i + 100, BULK), 5, 0.2):
                    break
        check(bindings(app) == BULK, f"{BULK} bulk bindings registered: {bindings(app)}")
        print(f"bulk registered in {time.time() - T0:.1f} s", flush=True)
        # baseline: the UE's BA with nobody on the socket
        t0 = time.time()
        ba = ue.register()
        base = time.time() - t0
        check(ba is not None and ba.status == 0, f"baseline BA: {ba}")

        readers = []
        for _ in range(3):
            r = connect(sock)
            r.send(b"show bindings --json\n")
            readers.append(r)
        half = connect(sock)
        half.send(b"show bind")
        silent = [connect(sock) for _ in range(40)]
        check(all(silent), f"hacpd keeps accepting: {sum(1 for x in silent if x)} of 40 "
              f"silent clients connected")
        silent = [x for x in silent if x]
        stop = threading.Event()
        flood = {"answered": 0, "busy": 0}

        def flooder():
            while not stop.is_set():
                try:
                    s = connect(sock)
                    if s is None:
                        continue
                    s.send(b"show stats\n")
                    out = read_all(s, 5)
                    s.close()
                except OSError:
                    continue
                if b"= 0 ok" in out:
                    flood["answered"] += 1
                elif b"busy" in out:
                    flood["busy"] += 1
        th = threading.Thread(target=flooder, daemon=True)
        th.start()
        # RFC 6275 10.3.1 / 11.7.1: the UE's refreshes, each answered promptly all the while
        lat = []
        for _ in range(20):
            t0 = time.time()
            ba = ue.register()
            lat.append(time.time() - t0 if ba is not None and ba.status == 0 else 99)
        lat.sort()
        # a bound for slow machines (ASan, a shared CI host): before, no BA came at all
        check(lat[-1] < 5.0,
              f"every BU answered within 5 s while the socket is abused (baseline {base*1000:.1f} "
              f"ms; median {lat[len(lat)//2]*1000:.1f} ms, worst {lat[-1]*1000:.1f} ms)")
        print(f"BA latency: baseline {base*1000:.1f} ms, under abuse median "
              f"{lat[len(lat)//2]*1000:.1f} ms, worst {lat[-1]*1000:.1f} ms; flood answered "
              f"{flood['answered']}, busy {flood['busy']}")
        first = {x: read_all(x, 0.05) for x in silent}  # what each has been told so far
        busy = [x for x in silent if b"busy" in first[x]]
        check(len(busy) == len(silent) + 1 + 3 - 32,
              f"connections beyond 32 told busy at once: {len(busy)} of the silent ones")
        # the silent ones hacpd took are dropped once the 2 s for a request line are over
        taken = [x for x in silent if x not in busy]
        answers = {x: first[x] for x in taken if first[x]}
        end = time.time() + 15
        while len(answers) < len(taken) and time.time() < end:
            for x in taken:
                if x not in answers:
                    out = read_all(x, 0.05)
                    if out:
                        answers[x] = out
        dropped = sum(b"no request line within 2 s" in out for out in answers.values())
        check(dropped >= 1 and dropped == len(taken),
              f"every silent connection hacpd took was answered and dropped after 2 s: "
              f"{dropped} of {len(taken)}")
        check(b"no request line within 2 s" in read_all(half, 5),
              "the half-written request dropped the same way")
        stop.set()
        th.join(timeout=10)
        check(flood["answered"] > 0, f"the flood's requests are answered once the silent ones "
              f"are gone: {flood}")
        # a reader that finally reads gets its whole answer, made slice by slice meanwhile
        out = read_all(readers[0], 20)
        rows = [l for l in out.split(b"\n") if l.startswith(b"+ {")]
        check(len(rows) == BULK + 1 and out.rstrip().endswith(b"= 0 ok"),
              f"a late reader gets every binding: {len(rows)} rows, end {out[-20:]!r}")
        for s in silent + [half] + readers:
            s.close()
        r = app.hactl("show", "bindings", "--json", timeout=60)
        check(r.returncode == 0 and len(r.stdout.splitlines()) == BULK + 1,
              f"hactl show bindings: {r.returncode}, {len(r.stdout.splitlines())} lines")
        st = json.loads(app.hactl("show", "stats", "--json").stdout)
        check(st.get("cli-refused-busy", 0) >= len(busy) and
              st.get("cli-request-timeouts", 0) >= dropped + 1,
              f"the limits counted: busy {st.get('cli-refused-busy')}, timeouts "
              f"{st.get('cli-request-timeouts')}")
        app.check_mbufs(check, "cli abuse")
        app.stop()
    return check.summary("cli abuse")


if __name__ == "__main__":
    sys.exit(main())
