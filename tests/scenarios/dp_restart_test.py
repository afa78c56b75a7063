#!/usr/bin/python3
"""A restart of the dataplane keeps every subscriber (docs/restarts.md): hadp is killed
(SIGKILL) under downlink traffic while hacpd runs; a new hadp is started; hacpd, the same
process, lets go of the dead one's memory, waits, and installs every binding in the new one
before it serves signalling again. scapy and python3-cryptography play the UEs (tests/lib).

What must hold across the restart:
  - the registered UE's binding is back: its downlink is tunnelled again, its next BU (the
    sequence number going on, RFC 6275 9.5.1) is accepted;
  - no (SPI, sequence number) pair is used twice under one key: AES-GCM's IV is the sequence
    number (RFC 4106 3.1, 8.1), and RFC 4303 3.3.3 forbids cycling it. Checked on the HA's
    Binding Acknowledgements under the UE's signalling SA (RFC 4877) and on the payload ESP
    of a binding with payload SAs (TS 24.303 5.1.3.2), every packet scapy decrypted before
    and after;
  - nothing accepted before the restart is accepted again (RFC 4303 3.4.3): a payload packet
    and a BU captured before it, replayed after, are dropped and counted; the UE's next
    packets (its own sequence numbers going on) pass;
  - no mbuf is left in use;
  - a state file this build cannot read (another record version) is refused with a message
    naming it, never misread; the original file is adopted again.

usage: dp_restart_test.py BUILD_DIR WORK_DIR
"""
import collections
import logging
import os
import signal
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, Appliance, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
import mh  # noqa: E402
from ue import UE, Correspondent  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ESP, IPv6, UDP, Ether, Raw, raw  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation  # noqa: E402

ue = UE(1)
COA = "2001:db8:aaaa::1"
# a binding with payload SAs (static, installed by hadp itself from the YAML at every start)
P_COA, P_HOA = "2001:db8:aaaa::99", "2001:db8:100:99::1"
P_IN, P_OUT = 0x7301, 0x7302  # UE -> HA, HA -> UE
P_KEY = {P_IN: bytes(range(1, 21)), P_OUT: bytes(range(41, 61))}
SAS = [{"spi": spi, "direction": d, "mode": "tunnel", "local": HA6, "peer": P_COA,
        "encryption": "aes-gcm-128", "integrity": "none", "key": P_KEY[spi].hex(),
        **({"replay_window": 64} if d == "in" else {})}
       for spi, d in ((P_IN, "in"), (P_OUT, "out"))]
EXTRA = ("static_bindings:\n  - { pdn: internet, home_prefix: \"2001:db8:100:99::/64\", "
         f"care_of: \"{P_COA}\", sa_in: {P_IN}, sa_out: {P_OUT} }}\n")


def payload_sa(spi, toward_ue):
    src, dst = (HA6, P_COA) if toward_ue else (P_COA, HA6)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=P_KEY[spi],
                               tunnel_header=IPv6(src=src, dst=dst))


class Ledger:
    """Every (SPI, sequence number) the HA used, as the UEs saw them."""

    def __init__(self):
        self.seen = collections.Counter()

    def add(self, spi, seq):
        self.seen[(spi, seq)] += 1

    def repeated(self):
        return [k for k, n in self.seen.items() if n > 1]

    def top(self, spi):
        return max((q for s, q in self.seen if s == spi), default=0)


def payload_down(app, cn, ledger, tag, check):
    """A downlink packet to the payload binding: scapy decrypts hadp's ESP; its (SPI, seq)."""
    m = f"<{tag}>".encode()
    since = app.access.mark()
    cn.send(P_HOA, m)
    r = app.access.wait(lambda e: e if ESP in e and e[ESP].spi == P_OUT else None, since, 10)
    if not r:
        check(False, f"{tag}: the payload binding's downlink came in ESP under {P_OUT:#x}")
        return None
    outer = r[0][IPv6]
    seq = outer[ESP].seq
    try:
        inner = payload_sa(P_OUT, True).decrypt(outer.copy())
        ok = m in raw(inner)
    except Exception as e:  # noqa: BLE001 - scapy raises on a bad ICV
        ok, inner = False, e
    check(ok, f"{tag}: scapy decrypts the payload downlink (seq {seq}): {inner!r:.80}")
    ledger.add(P_OUT, seq)
    return seq


def payload_up(app, cn, seq, tag):
    """An uplink packet of the payload binding under its inbound SA with sequence number seq:
    the frame, sent; @return (frame, forwarded?)."""
    s = payload_sa(P_IN, False)
    s.seq_num = seq
    inner = IPv6(src=P_HOA, dst="2001:db8:9::1") / UDP(sport=9, dport=7) / Raw(f"<{tag}>".encode())
    frame = Ether(src="02:00:00:00:99:01", dst=app.access.mac_peer) / s.encrypt(inner)
    since = cn.mark()
    app.access.send(frame)
    return frame, cn.wait_up(f"<{tag}>".encode(), since, timeout=5) is not None


def ba_esp(ba, ledger):
    if ba is not None and ba.where.esp:
        ledger.add(*ba.where.esp)
        return ba.where.esp[1]
    return None


def esp_drops(app):
    return sum(v for k, v in app.telemetry("/hadp/esp").items() if "replay" in k)


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ledger = Ledger()
    with Appliance(build, work, ues=[ue], sas=SAS, extra=EXTRA) as app:
        ue.attach(app).at6(COA)
        cn = Correspondent(app)
        hacpd = app.daemons.hacpd
        # ---- before ----
        replay_bu = None
        for i in range(3):
            since = ue.mark()
            b = ue.bu_bytes()
            seq = struct.unpack("!H", b[6:8])[0]
            replay_bu = ue.frame(b)  # the last one, as an attacker who recorded it keeps it
            app.access.send(replay_bu)
            ba = ue.wait_ba(seq, since)
            check(ba is not None and ba.status == 0, f"before: BU {seq} accepted ({ba and ba.status})")
            ba_esp(ba, ledger)
        since = ue.mark()
        cn.send(ue.hoa, b"<down-before>")
        check(ue.wait_down(b"<down-before>", since) is not None, "before: the UE's downlink tunnelled")
        for i in range(5):
            payload_down(app, cn, ledger, f"pdown-before-{i}", check)
        old_up = None
        for i in range(1, 6):
            old_up, fwd = payload_up(app, cn, i, f"pup-before-{i}")
            check(fwd, f"before: payload uplink seq {i} forwarded")
        ba_top, p_top = ledger.top(ue.spi_ba), ledger.top(P_OUT)

        # ---- hadp killed under downlink traffic ----
        stop = threading.Event()

        def downlink():
            k = 0
            while not stop.is_set():
                cn.send(ue.hoa, b"<flow-%06d>" % k)
                k += 1
                time.sleep(0.01)
        t = threading.Thread(target=downlink, daemon=True)
        t.start()
        time.sleep(0.3)
        mark_kill = app.access.mark()
        app.daemons.hadp.send_signal(signal.SIGKILL)
        app.daemons.hadp.wait()
        t_kill = time.time()
        gone = wait_until(lambda: "is gone; keeping" in app.log("hacpd"), 10)
        check(gone and hacpd.poll() is None,
              f"hacpd noticed within {time.time() - t_kill:.2f} s and waits, still running")
        t_start = time.time()
        app.daemons.start_hadp()
        back = wait_until(lambda: app.log("hacpd").count("serving signalling") >= 2, 30)
        check(back and hacpd.poll() is None and hacpd.pid == app.daemons.hacpd.pid,
              "the same hacpd installed everything in the new hadp and serves signalling: "
              + app.log("hacpd")[-400:].replace("\n", " | "))
        # the established flow: its first packet forwarded after the new hadp's start
        first = app.access.wait(lambda e: e if b"<flow-" in raw(e) else None, mark_kill, 20,
                                count=1)
        time.sleep(0.3)
        stop.set()
        t.join()
        check(first is not None, f"the established flow is forwarded again after the restart "
              f"(new hadp started {t_start - t_kill:.2f} s after the kill)")

        # ---- after ----
        since = ue.mark()
        cn.send(ue.hoa, b"<down-after>")
        check(ue.wait_down(b"<down-after>", since) is not None,
              "after: the UE's binding is back in hadp (its downlink tunnelled)")
        drops0 = esp_drops(app)
        since = ue.mark()
        app.access.send(replay_bu)
        time.sleep(0.5)
        check(not ue.wait_msg(mh.BA, since, timeout=1, match=lambda m: m.seq == ue.seq),
              "after: a BU recorded before the restart, replayed, gets no BA")
        check(wait_until(lambda: esp_drops(app) >= drops0 + 1, 5),
              f"after: hadp dropped it as a replay (RFC 4303 3.4.3): {app.telemetry('/hadp/esp')}")
        for i in range(3):
            since = ue.mark()
            seq = ue.send_bu()
            ba = ue.wait_ba(seq, since)
            check(ba is not None and ba.status == 0,
                  f"after: BU {seq} (the sequence going on) accepted ({ba and ba.status})")
            q = ba_esp(ba, ledger)
            if i == 0:
                check(q is not None and q > ba_top,
                      f"after: the BA's ESP sequence number {q} goes on above every one used "
                      f"before ({ba_top}), under the same key")
        for i in range(5):
            q = payload_down(app, cn, ledger, f"pdown-after-{i}", check)
            if i == 0:
                check(q is not None and q > p_top,
                      f"after: the payload SA's sequence number {q} goes on above {p_top}")
        drops0 = esp_drops(app)
        since = cn.mark()
        app.access.send(old_up)
        check(cn.wait_up(b"<pup-before-5>", since, timeout=1.5) is None and
              wait_until(lambda: esp_drops(app) >= drops0 + 1, 5),
              "after: a payload packet accepted before the restart, replayed, is dropped")
        for i in range(6, 9):
            _, fwd = payload_up(app, cn, i, f"pup-after-{i}")
            check(fwd, f"after: payload uplink seq {i} (the UE's numbers going on) forwarded")
        rep = ledger.repeated()
        check(not rep and len(ledger.seen) >= 16,
              f"no (SPI, sequence number) pair used twice across the restart: "
              f"{len(ledger.seen)} seen, repeated {rep}")
        app.check_mbufs(check, "after")

        # ---- a state file of another record version is refused, not misread ----
        app.daemons.hacpd.send_signal(signal.SIGINT)
        app.daemons.hacpd.wait(timeout=30)
        path = f"/run/ha/{app.prefix}/bindings"
        with open(path, "r+b") as f:
            f.seek(24)
            real = f.read(4)
            f.seek(24)
            f.write(struct.pack("=I", 99))
        try:
            app.daemons.start_hacpd(f"{app.work}/hactl.sock", timeout=10)
            refused = False
        except RuntimeError as e:
            refused = "record version 99" in str(e) and "refused" in str(e)
        check(refused, f"hacpd refuses a binding cache of record version 99: "
              f"{app.log('hacpd')[-300:]}")
        with open(path, "r+b") as f:
            f.seek(24)
            f.write(real)
        app.daemons.start_hacpd(f"{app.work}/hactl.sock")
        check(app.wait_binding(ue.hoa), "the file as it was is adopted again: the UE's binding")
        hs, cs = app.stop()
        check(hs is not None and hs.get("mbufs_in_use") == 0,
              f"hadp ends with no mbuf in use: {hs and hs.get('mbufs_in_use')}")
    return check.summary("dataplane restart")


if __name__ == "__main__":
    sys.exit(main())
