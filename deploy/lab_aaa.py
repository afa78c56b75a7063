"""The live lab's 3GPP AAA when the YAML says ike.aaa: s6b (docs/aaa.md): the AAA stand-in
(tests/aaa/, ha-aaa-standin) as each of ike.s6b's peers, in charon's namespace where the peers'
addresses are, and what the stand-ins saw of a UE's session (their events, tests/aaa/README.md).
deploy/live_lab.py and pktgen/attach_bench.py use it.
"""
import collections
import ipaddress
import os
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from aaa import AaaStandin  # noqa: E402
from charon import sh  # noqa: E402

# an address beside loopback's in charon's namespace: freeDiameter resolves its peers'
# addresses with AI_ADDRCONFIG, which counts no loopback address (documentation ranges)
ADDRCONFIG = {4: "198.18.0.1/32", 6: "2001:db8:ffff:aaa::1/128"}

# Termination-Cause (RFC 6733 8.15)
LOGOUT, ADMINISTRATIVE = 1, 4


class LabAaa:
    """One stand-in per peer of s6b (ike.s6b as ha-config dumps it, defaults filled), in
    namespace ns, each in WORK/aaa-IDENTITY, on the subscriber file subscribers; started(pid)
    records each process (the lab's clean stop ends it)."""

    def __init__(self, build, work, ns, s6b, subscribers, started):
        self.standins = []
        for p in s6b["peers"]:
            if p.get("transport", "tls") != "tcp":
                raise RuntimeError(f"the lab plays AAA peer {p['identity']} over tcp only, not "
                                   f"{p.get('transport', 'tls')}")
        # a veth pair inside the namespace carries the non-loopback addresses (no dummy driver
        # needed); each peer listens on its own address
        sh("ip", "link", "add", "aaa0", "type", "veth", "peer", "name", "aaa1", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        addrs = {ADDRCONFIG[ipaddress.ip_address(p["address"]).version] for p in s6b["peers"]}
        addrs |= {f"{a}/{32 if ipaddress.ip_address(a).version == 4 else 128}"
                  for a in (p["address"] for p in s6b["peers"])
                  if not ipaddress.ip_address(a).is_loopback}
        for a in sorted(addrs):
            sh("ip", "addr", "add", a, "dev", "aaa0", *(["nodad"] if ":" in a else []), ns=ns)
        for dev in ("aaa0", "aaa1"):
            sh("ip", "link", "set", dev, "up", ns=ns)
        for p in sorted(s6b["peers"], key=lambda p: p["priority"]):
            a = AaaStandin(f"{build}/tests/aaa/ha-aaa-standin", f"{work}/aaa-{p['identity']}",
                           subscribers, identity=p["identity"], realm=s6b["destination_realm"],
                           host=p["address"], port=p["port"], netns=ns)
            try:
                a.start(timeout=60)
            except RuntimeError:
                a.stop()  # one that never said it was ready is not left running
                raise
            started(a.proc.pid)
            a.priority = p["priority"]
            self.standins.append(a)

    def connected(self):
        """The identities of the stand-ins that answered charon's CER (RFC 6733 5.3)."""
        return [a.identity for a in self.standins
                if any(e.get("cmd") == "CEA" and e.get("dir") == "out" for e in a.events())]

    def session(self, nai):
        """The NAI's newest session as the stand-ins saw it: (stand-in, Session-Id, its DERs,
        its final DEA or None), or None when no DER named the NAI."""
        found = None
        for a in self.standins:
            evs = a.events()
            sids = [e["session_id"] for e in evs if e.get("cmd") == "DER" and
                    e.get("dir") == "in" and e.get("user_name") == nai]
            if not sids:
                continue
            sid = sids[-1]
            ders = [e for e in evs if e.get("cmd") == "DER" and e.get("session_id") == sid]
            final = [e for e in evs if e.get("cmd") == "DEA" and e.get("dir") == "out" and
                     e.get("session_id") == sid and e.get("result_code") != 1001]
            cand = (a, sid, ders, final[-1] if final else None)
            if found is None or ders[0]["ts"] > found[2][0]["ts"]:
                found = cand
        return found

    def wait_str(self, a, sid, timeout=20):
        """The STR on session sid at stand-in a (TS 29.273 9.2.2.3) and its STA, or (None, None)."""
        s = a.wait_event(lambda e: e.get("cmd") == "STR" and e.get("session_id") == sid,
                         timeout=timeout)
        sta = s and a.wait_event(lambda e: e.get("cmd") == "STA" and e.get("dir") == "out" and
                                 e.get("session_id") == sid, timeout=10)
        return s, sta

    def counts(self):
        """Per stand-in, how many of each Diameter command it received or sent, e.g.
        {"aaa1...": {"DER": 9, "DEA": 9, ...}}."""
        return {a.identity: collections.Counter(e["cmd"] for e in a.events() if "cmd" in e)
                for a in self.standins}
