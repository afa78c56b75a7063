#!/usr/bin/python3
"""EAP-AKA through the 3GPP AAA over S6b, Diameter (docs/aaa.md, TS 29.273 9.2.2): the HA's
charon with the appliance's plugin as the Diameter client (deploy/charon_conf.py from a YAML
with ike.aaa: s6b), hadp and hacpd running, two AAA stand-ins (tests/aaa/, ha-aaa-standin, on
freeDiameter) in the HA's namespace: aaa1 priority 1, aaa2 priority 2, both holding the
subscribers; the UE is a real charon with the test USIM plugin, a fresh one for each attach.
Every step is checked on the HA's side (charon's log, hactl show ike / show stats) and on the
AAA's (the stand-in's events).

  1. the subscriber attaches through aaa1, the preferred peer (TS 29.273 9.2.2.1): DER/DEA with
     the NAI as User-Name, the APN as Service-Selection and the HA's address in MIP6-Agent-Info;
     the MSK keys the IKE SA; hacpd's session has a home prefix and the IPv4 address it asked for;
  2. the UE detaches (its IKE SA's DELETE, 004 5.4.3.2): STR (TS 29.273 9.2.2.3) with
     Termination-Cause DIAMETER_LOGOUT, answered 2001;
  3. a wrong RES (TS 33.102 6.3.3): DEA 4001 DIAMETER_AUTHENTICATION_REJECTED (TS 29.273
     9.2.2.1.2), IKE_AUTH fails, no session in hacpd;
  4. a USIM ahead of the AAA's SQN (TS 33.102 6.3.5): the HA relays its AUTS, the AAA answers
     with a new challenge (1001), the UE attaches;
  5. an unknown subscriber: Experimental-Result 5001 DIAMETER_ERROR_USER_UNKNOWN (TS 29.273
     9.2.3.2.1), IKE_AUTH fails with "does not know";
  6. the authorisation of the DEA (TS 29.273 9.2.2.1.2, APN-Configuration, MIP6-Agent-Info):
     a. a static prefix inside the PDN's pool: hacpd's session has it, MIP6_HOME_PREFIX carries it;
     b. PDN-Type IPv6: no IPv4 home address although the UE asks (INTERNAL_IP4_ADDRESS);
     c. a static prefix outside the pool: the attach is refused and the plugin ends the AAA's
        session, STR with DIAMETER_SERVICE_NOT_PROVIDED;
     d. another HA in MIP6-Agent-Info: hacpd records the reallocation indication (002 5.4.3);
        a re-authorisation naming it again is carried out as REALLOCATE;
  7. the AAA aborts a session whose UE has no binding (ASR, TS 29.273 9.2.2.4, 004 5.4.3.1):
     ASA 2001, hacpd has charon delete the IKE SA, STR with DIAMETER_ADMINISTRATIVE;
  8. re-authorisation (RAR, TS 29.273 9.2.2.5; RFC 6733 8.3): RAA 2001, then the HA's AAR
     (AUTHORIZE_ONLY) answered 2001; refused (5003), the UE is detached as by an ASR, STR;
  9. aaa1 does not answer (stopped, SIGSTOP): the DER times out after request_timeout_ms, the
     HA fails IKE_AUTH (AUTHENTICATION_FAILED to the UE) and counts s6b-aaa-timeout;
 10. failover by the watchdog (RFC 6733 5.5, RFC 3539: Tw = watchdog_s = 6): aaa1 still
     silent, freeDiameter takes it out (SUSPECT) and the next attach goes through aaa2;
 11. aaa1 resumes: the HA drops its late answers, closes and reopens the connection (Tc =
     reconnect_s = 5, then three DWAs) and new attaches go to aaa1 again; an ASR for the timed-out DER's session,
     which the HA never had, gets ASA 5002 DIAMETER_UNKNOWN_SESSION_ID (RFC 6733 8.5.2);
 12. aaa1 killed (SIGKILL) while a UE is attached through it: the connection closes, the UE
     keeps its session, new attaches go through aaa2;
 13. no AAA reachable (both stopped): freeDiameter cannot deliver the DER (3002, RFC 6733
     7.1.3), IKE_AUTH fails at once, s6b-aaa-unavailable;
  every Diameter message on both AAA ports decodes in tshark without a malformed mark, and
  tshark reads the steps' Result-Codes and Termination-Causes on the wire.

usage: ike_s6b_test.py BUILD_DIR WORK_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ike_e2e_test as e2e  # noqa: E402  the namespaces, charon and the UE's configuration
from aaa import AaaStandin, free_port  # noqa: E402  tests/lib, through ike_e2e's path

HERE = os.path.dirname(os.path.abspath(__file__))
AAA1, AAA2 = "aaa1.lab.example.com", "aaa2.lab.example.com"
AAA_REALM = "aaa.lab.example.com"
TIMEOUT_MS = 3000
NAI = e2e.NAI


def nai(n):
    """Another subscriber of the same home network (the same K and OPc)."""
    return f"00010100000000{n:02d}@nai.epc.mnc001.mcc001.3gppnetwork.org"


NAI_STATIC, NAI_V6, NAI_OUT, NAI_REALLOC, NAI_UNKNOWN = nai(2), nai(3), nai(4), nai(5), nai(99)
STATIC = "2001:db8:100:42::"          # inside the PDN's pool 2001:db8:100::/48
OUTSIDE = "2001:db8:999::"            # outside it
REALLOC_HA = "2001:db8:ffff::99"
PROFILES = {NAI_STATIC: {"static_prefix": STATIC}, NAI_V6: {"pdn_type": "ipv6"},
            NAI_OUT: {"static_prefix": OUTSIDE}, NAI_REALLOC: {"reallocate_to": REALLOC_HA}}
SUBSCRIBERS = [(n, e2e.K, e2e.OPC) for n in (NAI, NAI_STATIC, NAI_V6, NAI_OUT, NAI_REALLOC)]


def s6b_yaml(peers):
    """ike.aaa s6b towards peers: (identity, port, priority) on 127.0.0.1 over TCP."""
    lines = ["  aaa: s6b", "  s6b:", "    identity: ha.lab.example.com", "    realm: lab.example.com",
             f"    destination_realm: {AAA_REALM}", f"    request_timeout_ms: {TIMEOUT_MS}",
             "    watchdog_s: 6", "    reconnect_s: 5", "    peers:"]
    for ident, port, prio in peers:
        lines.append(f"      - {{ identity: {ident}, address: 127.0.0.1, port: {port}, "
                     f"transport: tcp, priority: {prio} }}")
    return "\n".join(lines) + "\n"


def hactl(build, work, *args):
    return subprocess.run([f"{build}/controlplane/hactl", "-s", f"{work}/hactl.sock", *args],
                          capture_output=True, text=True).stdout


def counter(stats, name):
    """A counter of `hactl show stats` (lines "name value"), or None."""
    for line in stats.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == name:
            return int(f[-1])
    return None


class Run:
    """What the steps share: the HA, the AAAs, a UE charon per attach, the counters' deltas."""

    def __init__(self, build, work, ns_ue, pki, ha, charons):
        self.build, self.work, self.ns_ue, self.pki, self.ha = build, work, ns_ue, pki, ha
        self.charons, self.n_ue = charons, 0
        self.aaa = {}
        self.mark()

    def mark(self):
        """Counters and the HA's log from here on (delta(), log())."""
        self.base = hactl(self.build, self.work, "show", "stats")
        self.log_at = os.path.getsize(self.ha.log)
        self.ev_at = {k: len(a.events()) for k, a in self.aaa.items()}

    def delta(self, name):
        now = counter(hactl(self.build, self.work, "show", "stats"), name)
        return None if now is None else now - (counter(self.base, name) or 0)

    def log(self):
        with open(self.ha.log, errors="replace") as f:
            f.seek(self.log_at)
            return f.read()

    def event(self, which, pred, timeout=10):
        """The first event of AAA which since mark() that pred accepts."""
        a = self.aaa[which]
        return a.wait_event(pred, timeout=timeout, after=self.ev_at.get(which, 0))

    def cmds(self, which):
        a = self.aaa[which]
        return [(e.get("dir"), e.get("cmd")) for e in a.events()[self.ev_at.get(which, 0):]
                if e.get("cmd") not in (None, "DWR", "DWA")]

    def attach(self, who, usim=""):
        """A fresh UE charon (its USIM: K, OPc, and usim's options) attaches as who:
        (the UE, whether swanctl --initiate succeeded, the seconds it took)."""
        self.n_ue += 1
        name = f"ue{self.n_ue}"
        ue = e2e.Charon(self.work, name, self.ns_ue, "dsmip6-ue",
                        f"    dsmip6-ue {{ k = {e2e.K}\n opc = {e2e.OPC}\n {usim}\n"
                        f" sa_log = {self.work}/{name}.sas }}")
        self.charons.append(ue)
        ue.load(e2e.ue_swanctl(who), [(f"{self.pki}/ca.crt", "x509ca")])
        t0 = time.time()
        r = ue.swanctl("--initiate", "--ike", "ha", "--timeout", "30", check_rc=False)
        return ue, r.returncode == 0, time.time() - t0

    def leave(self, ue, delete=True):
        """The UE detaches (its DELETE) or just goes; its charon stops."""
        if delete:
            ue.swanctl("--terminate", "--ike", "ha", "--timeout", "20", check_rc=False)
        ue.stop()
        self.charons.remove(ue)

    def ha_sas(self):
        return self.ha.swanctl("--list-sas").stdout

    def ike(self):
        return hactl(self.build, self.work, "show", "ike")


def sid_of(e):
    return (e or {}).get("session_id")


def is_(cmd, d=None, **kw):
    """An event predicate: command, direction and fields."""
    return lambda e: e.get("cmd") == cmd and (d is None or e.get("dir") == d) and \
        all(e.get(k) == v for k, v in kw.items())


def step1_2(t, check):
    t.mark()
    ue, ok, _ = t.attach(NAI)
    sas = t.ha_sas()
    check(ok and "ESTABLISHED" in sas and NAI in sas,
          "1. the subscriber attached through the AAA over S6b (the DEA's MSK keyed the IKE SA)")
    der = t.event("aaa1", is_("DER"), timeout=0)
    check(der and der.get("user_name") == NAI and der.get("service_selection") == "internet"
          and e2e.HA6 in str(der.get("mip_home_agent_address")),
          f"1. the DER: User-Name the NAI, Service-Selection the APN, MIP6-Agent-Info the HA ({der})")
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    check(dea is not None, "1. aaa1 answered DIAMETER_SUCCESS with the MSK")
    # RFC 6733 6.1: the rounds after the first go to the server holding the EAP state
    ders = [e for e in t.aaa["aaa1"].events()[t.ev_at.get("aaa1", 0):]
            if e.get("cmd") == "DER" and e.get("dir") == "in"]
    check(len(ders) >= 2 and not ders[0].get("destination_host") and
          all(e.get("destination_host") == AAA1 for e in ders[1:]),
          f"1. the first DER by realm, the next ones to aaa1 (Destination-Host): "
          f"{[e.get('destination_host') for e in ders]}")
    check(not [c for c in t.cmds("aaa2") if c[1] == "DER"],
          "1. the DER went to aaa1 (priority 1), not aaa2 (priority 2)")
    ike = t.ike()
    check(re.search(rf"{NAI} pdn internet prefix 2001:db8:100::/64 ipv4 10\.45\.", ike),
          f"1. hacpd gave its session a home prefix and the IPv4 address the UE asked for "
          f"({ike.strip()})")
    check(dea is not None and f"s6b-session {dea.get('session_id')}" in ike,
          "1. hacpd keeps the session's S6b Session-Id (hactl show ike)")
    check(t.delta("s6b-auth-success") == 1, "1. hacpd counted the S6b success")

    # 2. the UE's DELETE (004 5.4.3.2) ends the session: STR, cause DIAMETER_LOGOUT (1)
    t.leave(ue)
    str_ev = t.event("aaa1", is_("STR"), timeout=20)
    check(str_ev is not None and str_ev.get("termination_cause") == 1
          and sid_of(str_ev) == sid_of(dea),
          f"2. the UE detached: STR with DIAMETER_LOGOUT on the DEA's session ({str_ev})")
    sta = t.event("aaa1", is_("STA"), timeout=10)
    check(sta is not None and sta.get("result_code") == 2001, "2. the AAA answered the STR 2001")
    e2e.wait_until(lambda: t.delta("s6b-str-answered") == 1, 10)
    check(t.delta("s6b-str-sent") == 1 and t.delta("s6b-end-sent") == 1 and
          t.delta("s6b-str-answered") == 1,
          "2. hacpd counted its end sent (s6b-end-sent), the plugin's STR and its STA")


def step3_5(t, check):
    # 3. TS 33.102 6.3.3: the AAA compares RES with XRES; TS 29.273 9.2.2.1.2: 4001
    t.mark()
    ue, ok, _ = t.attach(NAI, "corrupt_res = yes")
    t.leave(ue, delete=False)
    dea = t.event("aaa1", is_("DEA", result_code=4001), timeout=5)
    check(not ok and "ESTABLISHED" not in t.ha_sas() and dea is not None
          and dea.get("eap") == "failure",
          f"3. a wrong RES: DEA 4001 with EAP-Failure, IKE_AUTH failed ({dea})")
    check("DIAMETER_AUTHENTICATION_REJECTED" in t.log() and t.delta("s6b-auth-rejected") == 1,
          "3. the HA logged and counted the rejection (s6b-auth-rejected)")
    check(NAI not in t.ike() and t.delta("ike-prefix-allocated") == 0,
          "3. no session in hacpd")

    # 4. TS 33.102 6.3.5: the USIM's SQN is ahead; its AUTS goes to the AAA, a new challenge
    t.mark()
    ue, ok, _ = t.attach(NAI, "sqn = 1000000")
    ue_log = open(ue.log).read()
    sync = t.event("aaa1", is_("DER", eap="response/aka-synchronization-failure"), timeout=0)
    # the DEA after the AUTS's DER is the new challenge
    evs = t.aaa["aaa1"].events()[t.ev_at["aaa1"]:]
    after = evs[evs.index(sync) + 1:] if sync in evs else []
    again = next((e for e in after if e.get("cmd") == "DEA"), None)
    check("re-synchronising" in ue_log and sync is not None,
          "4. the USIM found the SQN not fresh; the HA relayed its AUTS in a DER")
    check(again is not None and again.get("result_code") == 1001 and
          again.get("eap") == "request/aka-challenge",
          f"4. the AAA re-synchronised and answered with a new challenge ({again})")
    check(ok and "ESTABLISHED" in t.ha_sas() and t.delta("s6b-auth-success") == 1,
          "4. the UE attached after the re-synchronisation")
    t.leave(ue)

    # 5. TS 29.273 9.2.3.2.1: DIAMETER_ERROR_USER_UNKNOWN in Experimental-Result
    t.mark()
    ue, ok, _ = t.attach(NAI_UNKNOWN)
    t.leave(ue, delete=False)
    dea = t.event("aaa1", is_("DEA", experimental_result_code=5001), timeout=5)
    check(not ok and dea is not None and dea.get("experimental_vendor_id") == 10415,
          f"5. an unknown subscriber: DEA with Experimental-Result 10415/5001, IKE_AUTH failed "
          f"({dea})")
    check(f"does not know '{NAI_UNKNOWN}'" in t.log() and t.delta("s6b-user-unknown") == 1 and
          NAI_UNKNOWN not in t.ike(),
          "5. the HA logged that the AAA does not know it, counted s6b-user-unknown, no session")


def step6(t, check):
    # a. APN-Configuration's Served-Party-IP-Address: the static prefix
    t.mark()
    ue, ok, _ = t.attach(NAI_STATIC)
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    check(ok and (dea or {}).get("apn_configuration", {}).get("served_party_ipv6", "")
          .startswith(STATIC.rstrip(":")),
          f"6a. the DEA authorised the static prefix {STATIC} ({(dea or {}).get('apn_configuration')})")
    ike = t.ike()
    check(f"{NAI_STATIC} pdn internet prefix {STATIC}/64" in ike and
          t.delta("s6b-static-prefix-given") == 1,
          f"6a. hacpd's session has it (s6b-static-prefix-given) ({ike.strip()})")
    got = [line.split("MIP6_HOME_PREFIX ")[1].replace(":", "").strip()
           for line in open(ue.log).read().splitlines() if "dsmip6-ue: MIP6_HOME_PREFIX" in line]
    want = "00001c20" + "20010db8010000420000000000000000" + "40"  # RFC 5026 4.2.1
    check(got == [want], f"6a. MIP6_HOME_PREFIX carries it ({got})")
    t.leave(ue)

    # b. PDN-Type IPv6: no IPv4 home address, although the UE asks for one
    t.mark()
    ue, ok, _ = t.attach(NAI_V6)
    ike = t.ike()
    line = [x for x in ike.splitlines() if x.startswith(NAI_V6)]
    check(ok and len(line) == 1 and " ipv4 " not in line[0] and
          "installing new virtual IP 10." not in open(ue.log).read() and
          t.delta("s6b-ipv4-not-authorised") == 1,
          f"6b. PDN-Type IPv6: the UE asked for INTERNAL_IP4_ADDRESS and got none "
          f"(s6b-ipv4-not-authorised) ({line})")
    t.leave(ue)

    # c. a static prefix outside the PDN's pool: refused; the plugin ends the AAA's session
    t.mark()
    ue, ok, _ = t.attach(NAI_OUT)
    t.leave(ue, delete=False)
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    str_ev = t.event("aaa1", is_("STR"), timeout=10)
    check(not ok and NAI_OUT not in t.ike() and t.delta("s6b-static-prefix-refused") == 1,
          "6c. a static prefix outside the pool: the attach failed (s6b-static-prefix-refused)")
    check(str_ev is not None and sid_of(str_ev) == sid_of(dea) and
          str_ev.get("termination_cause") == 2,
          f"6c. and the AAA's session ended: STR with DIAMETER_SERVICE_NOT_PROVIDED ({str_ev})")

    # d. MIP6-Agent-Info naming another HA: the reallocation indication (002 5.4.3)
    t.mark()
    ue, ok, _ = t.attach(NAI_REALLOC)
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    check(ok and REALLOC_HA in str((dea or {}).get("mip_home_agent_address")) and
          t.delta("s6b-reallocation-recorded") == 1,
          "6d. the DEA named another HA: hacpd recorded the reallocation indication "
          "(s6b-reallocation-recorded)")
    reply = t.aaa["aaa1"].control(f"rar {NAI_REALLOC}")
    e2e.wait_until(lambda: t.delta("s6b-reallocate-ordered") == 1, 10)
    check(reply.endswith(" 2001") and t.delta("s6b-reallocate-ordered") == 1,
          f"6d. a re-authorisation naming it again is carried out (s6b-reallocate-ordered) "
          f"({reply})")
    t.leave(ue)


def step7_8(t, check):
    # 7. ASR for a UE without a binding: the HA deletes its IKE SA; STR ADMINISTRATIVE (4)
    t.mark()
    ue, ok, _ = t.attach(NAI)
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    reply = t.aaa["aaa1"].control(f"asr {NAI}")
    check(ok and reply == f"ok {sid_of(dea)} 2001",
          f"7. the AAA aborts the session: ASA 2001 ({reply})")
    gone = e2e.wait_until(lambda: NAI not in t.ha_sas(), 15)
    check(gone and "the UE is detached" in t.log() and
          "received DELETE for IKE_SA" in open(ue.log).read(),
          "7. no binding: hacpd had charon delete the IKE SA, the UE received its DELETE")
    str_ev = t.event("aaa1", is_("STR"), timeout=10)
    check(str_ev is not None and sid_of(str_ev) == sid_of(dea) and
          str_ev.get("termination_cause") == 4,
          f"7. STR with DIAMETER_ADMINISTRATIVE on the aborted session ({str_ev})")
    check(NAI not in t.ike() and t.delta("s6b-asr-received") == 1 and
          t.delta("s6b-abort-ordered") == 1,
          "7. hacpd's session ended (s6b-asr-received, s6b-abort-ordered)")
    t.leave(ue, delete=False)

    # 8. RAR: RAA, then the AAR (AUTHORIZE_ONLY) on the session, 2001
    t.mark()
    ue, ok, _ = t.attach(NAI)
    dea = t.event("aaa1", is_("DEA", result_code=2001), timeout=0)
    reply = t.aaa["aaa1"].control(f"rar {NAI}")
    aar = t.event("aaa1", is_("AAR"), timeout=10)
    aaa = t.event("aaa1", is_("AAA", d="out"), timeout=10)
    e2e.wait_until(lambda: t.delta("s6b-reauth-success") == 1, 10)
    check(ok and reply == f"ok {sid_of(dea)} 2001", f"8. RAR answered RAA 2001 ({reply})")
    check(aar is not None and sid_of(aar) == sid_of(dea) and aar.get("auth_request_type") == 2
          and aaa is not None and aaa.get("result_code") == 2001,
          f"8. the HA's AAR, AUTHORIZE_ONLY on the session, answered 2001 ({aar})")
    check(t.delta("s6b-rar-received") == 1 and t.delta("s6b-reauth-success") == 1 and
          f"'{NAI}' re-authorised" in t.log() and NAI in t.ha_sas(),
          "8. the HA counted it (s6b-rar-received, s6b-reauth-success); the UE stays")
    # refused: the UE is detached as by an ASR
    t.mark()
    t.aaa["aaa1"].control(f"refuse-reauth {NAI}")
    reply = t.aaa["aaa1"].control(f"rar {NAI}")
    refused = t.event("aaa1", is_("AAA", d="out", result_code=5003), timeout=10)
    gone = e2e.wait_until(lambda: NAI not in t.ha_sas(), 15)
    str_ev = t.event("aaa1", is_("STR"), timeout=10)
    check(reply.endswith(" 2001") and refused is not None,
          f"8. a refused re-authorisation: RAA 2001, the AAR answered 5003 ({reply})")
    check(gone and "refused (5003): detaching it" in t.log() and
          t.delta("s6b-reauth-failed") == 1 and NAI not in t.ike(),
          "8. the HA detached the UE (IKE SA deleted, no binding; s6b-reauth-failed)")
    check(str_ev is not None and sid_of(str_ev) == sid_of(dea) and
          str_ev.get("termination_cause") == 4, f"8. then STR, DIAMETER_ADMINISTRATIVE ({str_ev})")
    t.aaa["aaa1"].control(f"allow-reauth {NAI}")
    t.leave(ue, delete=False)


def step9_11(t, check):
    # 9. aaa1 silent: the DER is not answered within request_timeout_ms
    aaa1 = t.aaa["aaa1"]
    t.mark()
    stopped_at = len(aaa1.events())
    aaa1.proc.send_signal(signal.SIGSTOP)
    ue, ok, took = t.attach(NAI)
    ue_log = open(ue.log).read()
    t.leave(ue, delete=False)
    check(not ok and "did not answer the DER" in t.log() and t.delta("s6b-aaa-timeout") == 1,
          f"9. aaa1 silent: the DER timed out, IKE_AUTH failed (s6b-aaa-timeout; {took:.1f} s)")
    check("received EAP_FAILURE" in ue_log and took < TIMEOUT_MS / 1000 + 15,
          "9. the HA answered the UE with EAP-Failure, the attach did not hang")

    # 10. the watchdog (RFC 3539 3.4.1): no DWA from aaa1, SUSPECT; requests go to aaa2
    suspect = e2e.wait_until(lambda: re.search(r"'STATE_OPEN'\s+-> 'STATE_SUSPECT'\s+'" + AAA1,
                                               t.log()), 30)
    check(suspect, "10. freeDiameter's watchdog took aaa1 out (OPEN -> SUSPECT)")
    t.mark()
    ue, ok, _ = t.attach(NAI)
    dea = t.event("aaa2", is_("DEA", result_code=2001), timeout=0)
    check(ok and dea is not None and f"the AAA {AAA2} authenticated" in t.log(),
          "10. the next attach went through aaa2 (its DER and DEA 2001)")
    t.leave(ue)
    str_ev = t.event("aaa2", is_("STR"), timeout=10)
    check(str_ev is not None and sid_of(str_ev) == sid_of(dea),
          "10. its STR went to aaa2, which holds the session")

    # 11. aaa1 resumes. freeDiameter (RFC 3539 3.4.1) drops its late answers (no request
    # waits for them any more), closes the SUSPECT connection after Tw, connects again after Tc
    # (reconnect_s: 5 s) and calls it OPEN after three DWAs (REOPEN)
    t.mark()
    aaa1.proc.send_signal(signal.SIGCONT)
    late = aaa1.wait_event(is_("DER", user_name=NAI), timeout=10, after=stopped_at)
    back = e2e.wait_until(lambda: re.search(r"-> 'STATE_OPEN'\s+'" + AAA1, t.log()), 90, 0.5)
    check(back and "Answer received with no corresponding sent request" in t.log(),
          "11. aaa1 answers again: its late answers dropped, its connection open again")
    ue, ok, _ = t.attach(NAI)
    check(ok and t.event("aaa1", is_("DEA", result_code=2001), timeout=0) and
          not [c for c in t.cmds("aaa2") if c[1] == "DER"],
          "11. new attaches go to aaa1 again")
    t.leave(ue)
    # the timed-out DER's session, which the AAA may hold (it challenged it): the HA ended it
    # with an STR DIAMETER_SERVICE_NOT_PROVIDED (2) that aaa1 read once it ran again
    abandoned = aaa1.wait_event(lambda e: e.get("cmd") == "STR" and late is not None and
                                e.get("session_id") == sid_of(late), timeout=10, after=stopped_at)
    check(abandoned is not None and abandoned.get("termination_cause") == 2,
          f"11. the session of the unanswered DER ended by the HA: STR SERVICE_NOT_PROVIDED "
          f"({abandoned})")
    # RFC 6733 8.5.2: an ASR for a session the HA never had (made by it: its identity first)
    unknown = "ha.lab.example.com;1;1;never"
    reply = aaa1.control(f"asr {unknown}")
    check(reply == f"ok {unknown} 5002" and "no such session" in t.log() and
          t.delta("s6b-order-unknown-session") == 1,
          f"11. ASR for a session the HA does not have: ASA 5002 DIAMETER_UNKNOWN_SESSION_ID "
          f"({reply})")


def step12_13(t, check):
    # 12. aaa1 killed during a session: the connection closes at once, the session stays, new
    # attaches through aaa2 (aaa1 coming back: step 11)
    aaa1, aaa2 = t.aaa["aaa1"], t.aaa["aaa2"]
    ue, ok, _ = t.attach(NAI)
    t.mark()
    aaa1.proc.kill()
    aaa1.stop()
    closed = e2e.wait_until(lambda: re.search(r"'STATE_OPEN'\s+-> '\w+'\s+'" + AAA1, t.log()), 30)
    check(ok and closed and NAI in t.ha_sas() and f"{NAI} pdn internet" in t.ike(),
          "12. aaa1 killed: freeDiameter closed its connection; the UE attached through it keeps "
          "its IKE SA and session")
    t.leave(ue)
    # RFC 6733 8.4 / 6.1: the session's STR names its server as Destination-Host; with aaa1
    # gone freeDiameter hands it to aaa2, which cannot deliver it (3002); the plugin then sends
    # it once more by realm (no Destination-Host), for an AAA server sharing the session state
    str_ev = t.event("aaa2", is_("STR"), timeout=10)
    check(str_ev is not None and str_ev.get("destination_host") == AAA1,
          f"12. the UE's DELETE: STR sent for aaa1's session, Destination-Host aaa1 ({str_ev})")
    again = t.event("aaa2", lambda e: e.get("cmd") == "STR" and not e.get("destination_host") and
                    str_ev and e.get("session_id") == str_ev.get("session_id"), timeout=10)
    check(again is not None and e2e.wait_until(lambda: t.delta("s6b-str-sent") == 2, 10),
          f"12. answered 3002 (aaa1 unreachable), the STR went again by realm ({again})")
    ue, ok, _ = t.attach(NAI_STATIC)
    check(ok and t.event("aaa2", is_("DEA", result_code=2001), timeout=0) and
          f"the AAA {AAA2} authenticated '{NAI_STATIC}'" in t.log(),
          "12. the next attach went through aaa2")
    t.leave(ue)

    # 13. no AAA: freeDiameter answers the DER itself, DIAMETER_UNABLE_TO_DELIVER
    t.mark()
    aaa2.stop()
    e2e.wait_until(lambda: re.search(r"'STATE_OPEN'\s+-> '\w+'\s+'" + AAA2, t.log()), 20)
    ue, ok, took = t.attach(NAI)
    t.leave(ue, delete=False)
    check(not ok and "none reachable" in t.log() and t.delta("s6b-aaa-unavailable") == 1 and
          took < TIMEOUT_MS / 1000 + 15,
          f"13. no AAA reachable: IKE_AUTH failed at once (s6b-aaa-unavailable; {took:.1f} s)")


# what tshark must read on the wire (command code, request flag, Result-Code, Termination-Cause,
# Experimental-Result-Code), whoever recorded what
ON_THE_WIRE = {
    "3. DEA 4001": ("268", "0", "4001", "", ""),
    "4. DEA 1001 (the challenges)": ("268", "0", "1001", "", ""),
    "5. DEA Experimental-Result 5001": ("268", "0", "", "", "5001"),
    "2. STR DIAMETER_LOGOUT": ("275", "1", "", "1", ""),
    "6c. STR DIAMETER_SERVICE_NOT_PROVIDED": ("275", "1", "", "2", ""),
    "7. STR DIAMETER_ADMINISTRATIVE": ("275", "1", "", "4", ""),
    "7. ASA 2001": ("274", "0", "2001", "", ""),
    "11. ASA 5002": ("274", "0", "5002", "", ""),
    "8. RAA 2001": ("258", "0", "2001", "", ""),
    "8. AA-Answer 2001": ("265", "0", "2001", "", ""),
    "8. AA-Answer 5003": ("265", "0", "5003", "", ""),
}


def wire_check(pcap, ports, check):
    """tshark's own reading of the capture: every message clean (tshark_s6b_check.py), and the
    answers and causes the steps expect are on the wire."""
    sys.path.insert(0, f"{HERE}/../crosscheck")
    import tshark_s6b_check as ts
    fields = ["diameter.flags.request", "diameter.Result-Code", "diameter.Termination-Cause",
              "diameter.Experimental-Result-Code"]
    seen = set()
    for port in ports:
        r = subprocess.run(["/usr/bin/python3", f"{HERE}/../crosscheck/tshark_s6b_check.py",
                            "pcap", pcap, str(port)], capture_output=True, text=True)
        check(r.returncode == 0, f"tshark decodes every Diameter message on port {port} "
              f"cleanly: {r.stdout.strip().splitlines()[-2:] if r.stdout else r.stderr[-300:]}")
        seen |= {tuple(ts.norm(row.get(f, "")) for f in ["diameter.cmd.code"] + fields)
                 for row in ts.tshark(pcap, port, fields)}
    missing = [what for what, want in ON_THE_WIRE.items() if want not in seen]
    check(not missing, f"tshark reads each step's answer and cause on the wire "
          f"(missing: {missing})")


def main():
    build, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tag = str(os.getpid())
    ns_ha, ns_ue = f"s6b-ha-{tag}", f"s6b-ue-{tag}"
    charons, procs, installed, aaas = [], [], [], []
    check = e2e.check
    capture = None
    ports = (free_port(), free_port())
    try:
        e2e.install_plugins(build, tag, installed)
        pki = f"{work}/pki"
        e2e.sh(f"{HERE}/../../deploy/lab_pki.sh", pki, e2e.HA_ID, e2e.HA6)
        e2e.ha_ue_link(ns_ha, ns_ue)
        # an IPv4 address beside loopback's: freeDiameter resolves its peers' addresses with
        # AI_ADDRCONFIG, which counts no loopback address
        e2e.sh("ip", "addr", "add", "192.0.2.1/24", "dev", "veth-ha", ns=ns_ha)

        # the AAAs, and tshark on the HA's loopback for every Diameter message
        capture = subprocess.Popen(["ip", "netns", "exec", ns_ha, "tshark", "-i", "lo", "-w",
                                    f"{work}/diameter.pcap", "-f",
                                    f"tcp port {ports[0]} or tcp port {ports[1]}"],
                                   stdout=subprocess.DEVNULL, stderr=open(f"{work}/tshark.log", "w"))
        e2e.wait_until(lambda: "Capturing on" in open(f"{work}/tshark.log").read(), 20)

        def standin(name, ident, port):
            a = AaaStandin(f"{build}/tests/aaa/ha-aaa-standin", f"{work}/{name}", SUBSCRIBERS,
                           profiles=PROFILES, identity=ident, realm=AAA_REALM, port=port,
                           netns=ns_ha)
            aaas.append(a)
            return a.start()
        aaa1, aaa2 = standin("aaa1", AAA1, ports[0]), standin("aaa2", AAA2, ports[1])

        prefix = f"ike-s6b-{tag}"
        cfg = e2e.ha_config(work, prefix, pki,
                            s6b=s6b_yaml([(AAA1, ports[0], 1), (AAA2, ports[1], 2)]))
        e2e.start_appliance(build, work, cfg, prefix, procs, 400)
        ha = e2e.ha_charon(build, cfg, work, ns_ha, charons, "--kernel-socket")
        connected = all(e2e.wait_until(lambda a=a: a.wait_event(
            lambda e: e.get("cmd") == "CEA" and e.get("dir") == "out", timeout=0), 20)
            for a in (aaa1, aaa2))
        check(connected and "s6b: Diameter client" in open(ha.log).read(),
              "the HA's charon runs the S6b client, its capabilities exchange with both AAAs done")

        t = Run(build, work, ns_ue, pki, ha, charons)
        t.aaa = {"aaa1": aaa1, "aaa2": aaa2}

        for step in (step1_2, step3_5, step6, step7_8, step9_11, step12_13):
            step(t, check)
    finally:
        e2e.stop_all(charons, procs)
        for a in aaas:
            if a.proc and a.proc.poll() is None:
                a.proc.send_signal(signal.SIGCONT)
            a.stop()
        if capture:
            capture.terminate()
            capture.wait()
        for ns in (ns_ha, ns_ue):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        e2e.uninstall_ue_plugin(installed)
    if os.path.exists(f"{work}/diameter.pcap"):
        wire_check(f"{work}/diameter.pcap", ports, check)
    print(f"ike_s6b: {len(e2e.failures)} failed" if e2e.failures else "ike_s6b: all passed")
    return 1 if e2e.failures else 0


if __name__ == "__main__":
    sys.exit(main())
