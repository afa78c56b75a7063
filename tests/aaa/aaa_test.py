#!/usr/bin/python3
"""ha-aaa-standin against a second freeDiameter peer (ha-aaa-testclient, the HA's side of S6b
with a USIM on the project's MILENAGE) over loopback, every exchange of 3GPP TS 29.273 9.2.2
for DSMIPv6, with tshark capturing the Diameter traffic:

  1. EAP-AKA (RFC 4187 9): Identity -> AKA-Challenge (1001) -> AT_RES, AT_MAC -> EAP-Success
     (2001) with the MSK; the USIM checked the challenge's AT_MAC, the MSK equals the client's
     own derivation and this test's (RFC 4187 7 in Python: SHA1 and the FIPS 186-2 PRF, itself
     checked against the FIPS 186-2 example); the profile's APN-Configuration.
  2. an unknown NAI: Experimental-Result 5001 DIAMETER_ERROR_USER_UNKNOWN (vendor 10415).
  3. a DER missing each mandatory AVP (TS 29.273 9.2.2.1.1): 5005 with Failed-AVP naming it,
     noted in the events.
  4. a wrong RES: 4001 and EAP-Failure, the session gone.
  5. a USIM whose SQN is ahead: AKA-Synchronization-Failure with AT_AUTS (TS 33.102 6.3.5),
     a second challenge, success.
  6. STR: 2001, then 5002 for the same Session-Id.
  7. AAR (AUTHORIZE_ONLY): 2001 with the reallocation's MIP6-Agent-Info; refused (5003) after
     refuse-reauth, 2001 again after allow-reauth; 5002 on an unknown session.
  8. ASR and RAR ordered on the control socket reach the client, the ASA/RAA code comes back.
  9. tshark (-d tcp.port==PORT,diameter): no frame malformed, as many Diameter messages as the
     stand-in's events, the S6b application id and its AVPs decoded.
 10. SIGTERM: exit 0, the control socket removed; a bad profile file refused at start.

usage: aaa_test.py HA-AAA-STANDIN HA-AAA-TESTCLIENT WORKDIR
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import aaa  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402

NAI1 = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
NAI2 = "0001010000000002@nai.epc.mnc001.mcc001.3gppnetwork.org"
# TS 35.208 test sets 1 and 2
SUBS = [(NAI1, "465b5ce8b199b49faa5f0a2ee238a6bc", "cd63cb71954a9f4e48a5994e37a02baf"),
        (NAI2, "0396eb317b6d1c36f19c1c84cd6ffd16", "53c15671c60a4b731c55b4a441c0bde2")]
PROFILES = {NAI1: {"static_prefix": "2001:db8:5::1", "static_ipv4": "10.45.0.7",
                   "pdn_type": "ipv4v6"},
            NAI2: {"apn": "ims", "pdn_type": "ipv6", "reallocate_to": "2001:db8::2"}}
APN = "internet"


# ---- RFC 4187 7, independently of the C code: SHA1's compression and the FIPS 186-2 PRF ----

def _sha1_g(block):
    """SHA1's compression of one 64-octet block from SHA1's initial state (FIPS 186-2 3.3 G)."""
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    w = list(struct.unpack(">16I", block))
    for i in range(16, 80):
        x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
        w.append(((x << 1) | (x >> 31)) & 0xFFFFFFFF)
    a, b, c, d, e = h
    for i in range(80):
        if i < 20:
            f, k = (b & c) | (~b & d), 0x5A827999
        elif i < 40:
            f, k = b ^ c ^ d, 0x6ED9EBA1
        elif i < 60:
            f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
        else:
            f, k = b ^ c ^ d, 0xCA62C1D6
        t = (((a << 5) | (a >> 27)) + f + e + k + w[i]) & 0xFFFFFFFF
        a, b, c, d, e = t, a, ((b << 30) | (b >> 2)) & 0xFFFFFFFF, c, d
    return struct.pack(">5I", *[(x + y) & 0xFFFFFFFF for x, y in zip(h, [a, b, c, d, e])])


def fips186_2_prf(xkey, n):
    """RFC 4187 7 / FIPS 186-2 change notice 1 (no XSEED), n octets."""
    xkey, out = int.from_bytes(xkey, "big"), b""
    while len(out) < n:
        for _ in range(2):
            w = _sha1_g(xkey.to_bytes(20, "big") + bytes(44))
            out += w
            xkey = (1 + xkey + int.from_bytes(w, "big")) % (1 << 160)
    return out[:n]


def msk_of(identity, ik, ck):
    mk = hashlib.sha1(identity.encode() + bytes.fromhex(ik) + bytes.fromhex(ck)).digest()
    return fips186_2_prf(mk, 160)[32:96].hex()


class Client:
    """ha-aaa-testclient: one command a line, one JSON line back."""

    def __init__(self, exe, work, standin):
        conf = aaa.fd_conf(f"{work}/client.conf", work, "ha.test", "test", port=0,
                           peers=[(standin.identity, standin.host, standin.port)])
        self.log = open(f"{work}/client.log", "w")
        self.proc = subprocess.Popen([exe, conf, standin.subs, standin.identity, standin.realm],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=aaa.env())
        self.start = json.loads(self.proc.stdout.readline() or "{}")

    def __call__(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline() or "{}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def notes(standin, text):
    return [e for e in standin.events() if text in e.get("note", "")]


def s1_eap_aka(check, s, c, state):
    r = c(f"attach {NAI1} {APN}")
    check(r.get("rounds") == [1001, 2001], f"1. Identity -> 1001 -> 2001: {r.get('rounds')}")
    check(r.get("eap") == "success", "1. the final DEA carries EAP-Success")
    check(r.get("mac_ok") is True, "1. the USIM verified the AKA-Challenge's AT_MAC")
    check(r.get("msk_match") is True, "1. the MSK equals the client's own derivation")
    check("ck" in r and r.get("msk") == msk_of(NAI1, r["ik"], r["ck"]),
          "1. the MSK equals this test's RFC 4187 7 derivation (Python SHA1 + FIPS 186-2 PRF)")
    ac = r.get("apn_configuration", {})
    check(ac.get("served_party_ipv6") == "2001:db8:5::1" and
          ac.get("served_party_ipv4") == "10.45.0.7" and ac.get("pdn_type") == 2 and
          ac.get("service_selection") == APN,
          f"1. APN-Configuration from the profile: {ac}")
    check("mip_home_agent_address" not in r, "1. no reallocation without reallocate_to")
    sid = r.get("session_id", "")
    state["sid1"] = sid
    ders = [e for e in s.events() if e.get("cmd") == "DER" and e.get("session_id") == sid]
    deas = [e for e in s.events() if e.get("cmd") == "DEA" and e.get("session_id") == sid]
    check(len(ders) == 2 and ders[0].get("eap") == "response/identity" and
          ders[1].get("eap") == "response/aka-challenge" and
          all(d.get("user_name") == NAI1 and d.get("service_selection") == APN and
              d.get("auth_request_type") == 3 and d.get("mip_home_agent_address") == "2001:db8::1"
              for d in ders), "1. events: both DERs with their NAI, APN, HA address, EAP")
    check([d.get("result_code") for d in deas] == [1001, 2001] and
          deas[0].get("eap") == "request/aka-challenge" and deas[1].get("msk") == r.get("msk"),
          "1. events: DEA 1001 with the AKA-Challenge, then 2001 with the MSK")
    check(any(x["session_id"] == sid and x["state"] == "authenticated" for x in s.sessions()),
          "1. control 'sessions' lists the session as authenticated")
    r = c(f"attach {NAI1} {APN} eap_start=1")
    check(r.get("rounds") == [1001, 1001, 2001] and r.get("msk_match") is True,
          f"1. an empty EAP-Payload first (RFC 4072 3.1): EAP-Request/Identity, then AKA: {r}")


def s2_unknown(check, s, c, state):
    r = c(f"attach 0001019999999999@nai.epc.mnc001.mcc001.3gppnetwork.org {APN}")
    check(r.get("rounds") == [5001] and r.get("eap") == "failure",
          f"2. unknown NAI: DIAMETER_ERROR_USER_UNKNOWN and EAP-Failure: {r}")
    dea = s.wait_event(lambda e: e.get("cmd") == "DEA" and
                       e.get("session_id") == r.get("session_id"))
    check(dea and dea.get("experimental_result_code") == 5001 and
          dea.get("experimental_vendor_id") == 10415 and "result_code" not in dea,
          "2. in Experimental-Result {Vendor-Id 10415, 5001}, no Result-Code (TS 29.273 9.2.3)")


def s3_missing(check, s, c, state):
    for avp, code in [("User-Name", 1), ("Service-Selection", 493), ("MIP6-Agent-Info", 486),
                      ("MIP-Home-Agent-Address", 486), ("Auth-Request-Type", 274),
                      ("EAP-Payload", 462)]:
        r = c(f"attach {NAI1} {APN} omit={avp}")
        check(r.get("rounds") == [5005] and r.get("failed_avp") == [code],
              f"3. DER without {avp}: 5005 with Failed-AVP {code}: {r}")
    check(len(notes(s, "without")) == 6, "3. each missing AVP is noted")


def s4_wrong_res(check, s, c, state):
    r = c(f"attach {NAI1} {APN} wrong_res=1")
    check(r.get("rounds") == [1001, 4001] and r.get("eap") == "failure" and "msk" not in r,
          f"4. wrong RES: DIAMETER_AUTHENTICATION_REJECTED, EAP-Failure, no MSK: {r}")
    check(notes(s, "wrong AT_RES"), "4. noted as a wrong AT_RES")
    check(not any(x["session_id"] == r.get("session_id") for x in s.sessions()),
          "4. the session is gone")


def s5_resync(check, s, c, state):
    r = c(f"attach {NAI1} {APN} sqn_ms={32 * 100000}")
    check(r.get("rounds") == [1001, 1001, 2001] and r.get("resyncs") == 1,
          f"5. AUTS: a second challenge, then success: {r.get('rounds')}")
    check(r.get("msk_match") is True and r.get("mac_ok") is True, "5. MSK and AT_MAC agree")
    dirs = [e.get("eap") for e in s.events() if e.get("session_id") == r.get("session_id")
            and e.get("cmd") == "DER"]
    check("response/aka-synchronization-failure" in dirs, "5. events: the Synchronization-Failure")
    r = c(f"attach {NAI1} {APN} sqn_ms={32 * 100000 + 32}")
    check(r.get("rounds") == [1001, 2001],
          "5. the next vector is above the USIM's SQN: no second re-synchronisation")


def s6_str(check, s, c, state):
    sid = state.get("sid1", "none")
    check(c(f"str {sid}").get("result") == 2001, "6. STR: 2001")
    ev = s.wait_event(lambda e: e.get("cmd") == "STR" and e.get("session_id") == sid)
    check(ev and ev.get("termination_cause") == 1, "6. events: STR with Termination-Cause")
    check(c(f"str {sid}").get("result") == 5002, "6. STR again: 5002 DIAMETER_UNKNOWN_SESSION_ID")


def s7_aar(check, s, c, state):
    r = c(f"attach {NAI2} {APN}")
    check(r.get("result") == 2001 and r.get("mip_home_agent_address") == "2001:db8::2" and
          r.get("apn_configuration", {}).get("pdn_type") == 1 and
          r.get("apn_configuration", {}).get("service_selection") == "ims",
          f"7. NAI2's DEA: reallocation to 2001:db8::2, PDN-Type IPv6, APN ims: {r}")
    sid = state["sid2"] = r.get("session_id", "none")
    a = c(f"aar {sid} {NAI2}")
    check(a.get("result") == 2001 and a.get("mip_home_agent_address") == "2001:db8::2",
          f"7. AAR: 2001 with the same authorisation: {a}")
    check(s.control(f"refuse-reauth {NAI2}") == "ok", "7. control refuse-reauth: ok")
    check(c(f"aar {sid} {NAI2}").get("result") == 5003, "7. refused AAR: 5003")
    check(s.control(f"allow-reauth {NAI2}") == "ok", "7. control allow-reauth: ok")
    check(c(f"aar {sid} {NAI2}").get("result") == 2001, "7. AAR after allow-reauth: 2001")
    check(c(f"aar nosuch;1;1 {NAI2}").get("result") == 5002, "7. AAR, unknown session: 5002")


def s8_orders(check, s, c, state):
    sid = state.get("sid2", "none")
    reply = s.control(f"rar {NAI2}")
    check(reply == f"ok {sid} 2001", f"8. control 'rar NAI' -> the RAA's 2001: {reply}")
    got = c("wait rar 10")
    check(got.get("session_id") == sid and got.get("user_name") == NAI2,
          f"8. the RAR reached the client for that session: {got}")
    reply = s.control(f"asr {sid}")
    check(reply == f"ok {sid} 2001", f"8. control 'asr SESSION-ID' -> the ASA's 2001: {reply}")
    got = c("wait asr 10")
    check(got.get("session_id") == sid, f"8. the ASR reached the client: {got}")
    asr = s.wait_event(lambda e: e.get("cmd") == "ASR" and e.get("session_id") == sid)
    asa = s.wait_event(lambda e: e.get("cmd") == "ASA" and e.get("session_id") == sid)
    check(asr and asr.get("destination_host") == "ha.test" and asr.get("dir") == "out",
          "8. events: the ASR went to the HA's Origin-Host")
    check(asa and asa.get("result_code") == 2001 and asa.get("dir") == "in",
          "8. events: the ASA's result recorded")
    c(f"str {sid}")
    check(s.control(f"asr {NAI2}").startswith("error no session"),
          "8. ASR for an ended session named by its NAI: an error line")
    r = s.control(f"asr {sid}")
    check(r.startswith(f"ok {sid} "),
          f"8. ASR for a Session-Id the stand-in no longer holds: sent to its maker ({r})")
    check(s.control("bogus").startswith("error unknown command"), "8. unknown command: error")


def tshark_check(check, pcap, port, events):
    base = ["tshark", "-r", pcap, "-d", f"tcp.port=={port},diameter"]
    out = subprocess.run(base + ["-Y", "_ws.malformed || _ws.expert.severity == error", "-T",
                                 "fields", "-e", "frame.number"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0 and not out.stdout.strip(),
          f"9. tshark: no malformed frame ({out.stdout.split()[:10]} {out.stderr[-300:]})")
    out = subprocess.run(base + ["-Y", "diameter", "-T", "fields", "-E", "occurrence=a", "-e",
                                 "diameter.cmd.code", "-e", "diameter.applicationId", "-e",
                                 "diameter.flags.request"],
                         capture_output=True, text=True, timeout=120)
    msgs = []
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        for code, app, req in zip(*(x.split(",") for x in cols)):
            msgs.append((int(code), int(app), req in ("1", "True")))
    ev = [e for e in events if "dir" in e]
    check(len(msgs) == len(ev), f"9. tshark read {len(msgs)} Diameter messages, "
          f"the stand-in recorded {len(ev)}")
    s6b = [m for m in msgs if m[1] == 16777272]
    check({m[0] for m in s6b} >= {268, 275, 265, 274, 258},
          f"9. DER, STR, AAR, ASR, RAR on application 16777272: {sorted({m[0] for m in s6b})}")
    out = subprocess.run(base + ["-Y", "diameter.cmd.code == 268", "-V"], capture_output=True,
                         text=True, timeout=120)
    text = out.stdout
    for name in ["3GPP S6b", "EAP-Payload", "Service-Selection", "MIP6-Agent-Info",
                 "MIP-Home-Agent-Address", "EAP-Master-Session-Key", "APN-Configuration",
                 "Served-Party-IP-Address", "Experimental-Result-Code"]:
        check(name in text, f"9. tshark decodes {name}")


def main():
    standin_exe, client_exe, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = Checks()
    state = {}
    s = aaa.AaaStandin(standin_exe, f"{work}/standin", SUBS, profiles=PROFILES)
    pcap = f"{work}/s6b.pcap"
    check(fips186_2_prf(bytes.fromhex("bd029bbe7f51960bcf9edb2b61f06f0feb5a38b6"), 40).hex() ==
          "2070b3223dba372fde1c0ffc7b2e3b498b2606143c6c18ba"
          "cb0f6c55babb13788e20d737a3275116",
          "0. the test's FIPS 186-2 PRF gives the FIPS 186-2 example's output")
    # a profile file with an unknown key: refused at start, naming file, line and key
    bad = f"{work}/bad-profiles.yaml"
    with open(bad, "w") as f:
        f.write("profiles:\n  - nai: a@b\n    static_prefx: \"2001:db8::1\"\n")
    r = subprocess.run([standin_exe, "--conf", s.conf, "--subscribers", s.subs, "--profiles",
                        bad], capture_output=True, text=True, timeout=30, env=aaa.env())
    check(r.returncode == 1 and f"{bad}:3:5: profiles[0].static_prefx: unknown key" in r.stderr,
          f"0. a bad profile file is refused with its place: {r.stderr.strip()}")
    cap = subprocess.Popen(["tshark", "-q", "-i", "lo", "-f", f"tcp port {s.port}", "-w", pcap],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    c = None
    try:
        # tshark says "Capturing on" once it listens
        end = time.time() + 20
        while time.time() < end and not os.path.exists(pcap):
            time.sleep(0.1)
        time.sleep(0.5)
        s.start()
        c = Client(client_exe, work, s)
        check(c.start.get("ok"), f"the client connected to the stand-in: {c.start}")
        if c.start.get("ok"):
            run_scenarios(check, [s1_eap_aka, s2_unknown, s3_missing, s4_wrong_res, s5_resync,
                                  s6_str, s7_aar, s8_orders], s, c, state)
    finally:
        if c:
            c.stop()
        rc = s.stop()
        time.sleep(1)
        cap.terminate()
        cap.wait(30)
    check(rc == 0, f"10. SIGTERM: the stand-in exits 0 ({rc})")
    check(not os.path.exists(s.control_path), "10. the control socket is removed")
    tshark_check(check, pcap, s.port, s.events())
    return check.summary("aaa_standin")


if __name__ == "__main__":
    sys.exit(main())
