#!/usr/bin/python3
"""Registration procedures on the wire: hadp and hacpd on veth pairs, scapy UEs on the other
end (tests/lib). One appliance serves every scenario of this file, each with its own UEs.

  002 5.1.3.2  initial registration with and without the IPv4 Home Address option
  RFC 5555 3.2.1  the IPv4 Address Acknowledgement statuses 0, 129, 130, 131, 132, 133
  RFC 6275 6.2.4 / 11.7.1  the Binding Refresh Advice at refresh_advice_percent
  RFC 4877 4.4  a BU under another UE's SA: dropped without an answer, counted
  002 4.3  a second PDN's binding for the same UE; one de-registered, the other flows
  RFC 6275 9.3.1 / 9.2  Binding Errors, status 1 and 2
  001 5.2.3.3  de-registration from a foreign network
  RFC 6275 10.3.1 (lifetime)  a binding removed when its lifetime runs out

Each check says its subclause; every scenario checks packets field by field and counters,
and hadp ends with no mbuf in use. Then tshark decodes every message the HA sent.

usage: registration_test.py BUILD_DIR WORK_DIR
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, PDNS, Appliance, Delta, wait_until  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402
import mh  # noqa: E402
import tshark  # noqa: E402
from steps import SEEN, check_ba, data_both_ways, stop_and_check  # noqa: E402
from ue import UE, Correspondent  # noqa: E402

REFRESH_PERCENT = 50
# a third PDN whose IPv4 pool (a /30) holds two addresses, to run it dry
TINY = {"name": "tiny", "home_prefix_pool": "2001:db8:300::/48", "home_prefix_length": 64,
        "ipv4_pool": "10.47.0.0/30"}

ue_v4, ue_v6 = UE(1), UE(2)
ue_other4, ue_out_of_pool, ue_plen0 = UE(3), UE(4), UE(5)
ue_ims = UE(6, prefix="2001:db8:200")
tiny = [UE(7 + i, prefix="2001:db8:300") for i in range(3)]
ue_wrong_sa = UE(11)
ue_pdn1 = UE(12)
ue_pdn2 = UE(112, prefix="2001:db8:200", mac=ue_pdn1.mac)
ue_dereg = UE(13)
ue_expiry = UE(14)
ue_be = UE(15)
ue_prefix = UE(16)
ue_bra = UE(17)
ALL = [ue_prefix, ue_bra, ue_v4, ue_v6, ue_other4, ue_out_of_pool, ue_plen0, ue_ims, *tiny,
       ue_wrong_sa, ue_pdn1, ue_pdn2, ue_dereg, ue_expiry, ue_be]


def coa(ue):
    return f"2001:db8:aaaa::{ue.n:x}"


def s_initial_registration(check, app, cn):
    """002 5.1.3.2: the UE's first BU from a foreign IPv6 network, with the IPv4 Home Address
    option 0.0.0.0 (an IPv4 home address assigned, RFC 5555 3.1.1 / 3.2.1) and without it;
    BA status 0, then user data both ways through the tunnel (RFC 6275 10.4.1)."""
    d = Delta(app)
    ue_v4.attach(app).at6(coa(ue_v4))
    ba = ue_v4.register(ipv4_hoa="0.0.0.0", lifetime=450)
    if check_ba(check, ue_v4, ba, 1, "002 5.1.3.2 with IPv4 HoA"):
        ack = ba.ipv4_ack()
        check(ack is not None and ack[0] == 0 and ack[1] == 32 and
              ack[2].startswith("10.45."),
              f"002 5.1.3.2 / RFC 5555 3.2.1: IPv4 Address Acknowledgement status 0, /32, an "
              f"address of the PDN's pool: {ack}")
        check(0 < ba.lifetime <= 450, f"RFC 6275 9.5.1: granted lifetime {ba.lifetime} <= asked")
        check(ba.natd() is None, "RFC 5555 4.1: no NAT Detection option for an IPv6 care-of")
    ue_v6.attach(app).at6(coa(ue_v6))
    ba6 = ue_v6.register(lifetime=450)
    if check_ba(check, ue_v6, ba6, 1, "002 5.1.3.2 without IPv4 HoA"):
        check(ba6.ipv4_ack() is None,
              f"RFC 5555 3.2.1: no IPv4 Address Acknowledgement without the request: {ba6}")
    b = app.binding(ue_v4.hoa)
    check(b is not None and b["care_of"] == coa(ue_v4) and
          b.get("ipv4_home_address") == ue_v4.hoa4 and b["pdn"] == "internet",
          f"002 5.1.3.2: hactl shows the binding with its care-of and IPv4 home address: {b}")
    for ue in (ue_v4, ue_v6):
        data_both_ways(check, app, cn, ue, f"002 5.1.3.2 {ue.hoa}")
    data_both_ways(check, app, cn, ue_v4, "002 5.1.3.2 IPv4 home address", v4=True)
    check(d.cp("bu-accepted") == 2 and d.cp("ba-sent") == 2 and
          d.cp("ipv4-home-address-assigned") == 1 and d.cp("ba_status", "0") == 2,
          f"002 5.1.3.2: hacpd counted 2 BUs accepted, 2 BAs, 1 IPv4 assignment: "
          f"{app.cp_stats()}")
    check(d.dp("punted") == 2 and d.dp("esp-decrypted") == 2 and d.dp("esp-encrypted") == 2,
          f"002 5.1.3.2: hadp punted and decrypted 2 BUs, encrypted 2 BAs: {app.dp_stats()}")


def s_ipv4_ack_statuses(check, app, cn):
    """RFC 5555 3.2.1 as 002 5.1.3.2 uses it: the IPv6 binding is accepted whatever becomes
    of the IPv4 home address; the IPv4 Address Acknowledgement says 129 for a PDN without
    IPv4 service (no pool), 130 for another UE's address, 131 for one outside the pool or a
    prefix length of 0, 132 when the pool has run dry, 133 for a mobile network prefix (P
    set), with prefix length 0. 128 (unspecified) is never sent (docs/controlplane.md)."""
    d = Delta(app)
    cases = [(ue_other4, ue_v4.hoa4, 32, 130, "another UE's address"),
             (ue_out_of_pool, "192.168.7.7", 32, 131, "outside the pool"),
             (ue_plen0, "0.0.0.0", 0, 131, "prefix length 0"),
             (ue_ims, "0.0.0.0", 32, 129, "PDN without an IPv4 pool"),
             (ue_prefix, "0.0.0.0", 24, 133, "a mobile network prefix (P set)"),
             (tiny[0], "0.0.0.0", 32, 0, "the /30's first address"),
             (tiny[1], "0.0.0.0", 32, 0, "the /30's second address"),
             (tiny[2], "0.0.0.0", 32, 132, "the /30 run dry")]
    for ue, addr, plen, status, why in cases:
        ue.attach(app).at6(coa(ue))
        if ue is ue_prefix:
            ba = ue.register(extra=[mh.opt_ipv4_hoa(addr, plen, p=True)])
        else:
            ba = ue.register(ipv4_hoa=addr, ipv4_hoa_plen=plen)
        what = f"RFC 5555 3.2.1 {why}"
        if not check_ba(check, ue, ba, 1, what):
            continue
        ack = ba.ipv4_ack()
        if status == 0:
            check(ack is not None and ack[0] == 0 and ack[1] == 32 and
                  ack[2] in ("10.47.0.1", "10.47.0.2"), f"{what}: status 0 with an address: {ack}")
        else:
            check(ack is not None and ack[0] == status and ack[1] == 0,
                  f"{what}: IPv4 Address Acknowledgement status {status}, prefix length 0 "
                  f"(valid only on success): {ack}")
        check(app.binding(ue.hoa) is not None, f"{what}: the IPv6 binding is there all the same")
    check(d.dp("punted") == 8 and d.dp("esp-decrypted") == 8 and d.dp("esp-encrypted") == 8,
          f"RFC 5555 3.2.1: hadp decrypted 8 BUs, encrypted 8 BAs: {app.dp_stats()}")
    check(d.cp("bu-accepted") == 8 and d.cp("ipv4-home-address-refused") == 6 and
          d.cp("ipv4-home-address-assigned") == 2,
          f"RFC 5555 3.2.1: 8 accepted, 6 IPv4 refusals, 2 assignments: {app.cp_stats()}")
    pools = app.hactl("show", "pools")
    check(pools.returncode == 0 and "tiny 10.47.0.0/30 used 2" in pools.stdout,
          f"RFC 5555 3.2.1: hactl show pools has the /30 full: {pools.stdout}")


def s_refresh_advice(check, app, cn):
    """RFC 6275 6.2.4 / 11.7.1 with home_agent.refresh_advice_percent: the BA carries a
    Binding Refresh Advice of that share of the granted lifetime, in units of 4 s, at 2n."""
    d = Delta(app)
    ue_bra.attach(app).at6(coa(ue_bra))
    ba = ue_bra.register(lifetime=300)  # 1200 s asked
    if not check_ba(check, ue_bra, ba, 1, "RFC 6275 11.7.1 refresh advice"):
        return
    check(0 < ba.lifetime <= 300, f"RFC 6275 9.5.1: granted {ba.lifetime} <= asked 300 units")
    bra = ba.refresh_advice()
    want = ba.lifetime * 4 // 100 * REFRESH_PERCENT // 4
    check(bra == want and 0 < bra < ba.lifetime,
          f"RFC 6275 6.2.4 / 11.7.1: refresh advice {bra} units for lifetime {ba.lifetime} "
          f"units at {REFRESH_PERCENT}% (want {want})")
    off = [o for (t, o, _) in ba.options if t == mh.OPT_BRA]
    check(off and off[0] % 2 == 0, f"RFC 6275 6.2.4: Binding Refresh Advice at 2n: {off}")
    check(d.cp("bu-accepted") == 1 and d.cp("ba-sent") == 1 and d.dp("esp-encrypted") == 1 and
          d.dp("control-plane-sent") == 1,
          f"RFC 6275 11.7.1: one BU accepted, one BA sent by hacpd and hadp: {app.cp_stats()}")


def s_wrong_sa(check, app, cn):
    """RFC 4877 4.4 / docs/controlplane.md: a BU for one home address under the SA of another
    UE's home address is dropped without an answer and counted
    (bu-dropped-sa-not-home-address); no binding made."""
    d = Delta(app)
    ue_wrong_sa.attach(app).at6(coa(ue_wrong_sa))
    m = ue_wrong_sa.mark()
    ue_wrong_sa.send_bu(sa=ue_v4)
    check(wait_until(lambda: d.cp("bu-dropped-sa-not-home-address") == 1, 20),
          f"RFC 4877 4.4: counted bu-dropped-sa-not-home-address: {app.cp_stats()}")
    got = app.access.collect(lambda e: ue_wrong_sa.read(e), m, quiet=1.0)
    check(not got, f"RFC 4877 4.4: no answer to the BU under another UE's SA: {got}")
    check(app.binding(ue_wrong_sa.hoa) is None and d.cp("ba-sent") == 0,
          "RFC 4877 4.4: no binding, no BA")
    check(d.dp("esp-decrypted") == 1 and d.dp("punted") == 1 and
          d.dp("control-plane-sent") == 0,
          f"RFC 4877 4.4: hadp decrypted it (a known SA) and punted it, sent nothing back: "
          f"{app.dp_stats()}")


def s_second_pdn(check, app, cn):
    """002 4.3: one binding per PDN: the same UE (its MAC, its care-of address) registers in
    internet and in ims, each under its own SA; both flow; the ims one de-registered, the
    internet one keeps flowing and ims's downlink is a miss (drop-no-binding)."""
    for ue in (ue_pdn1, ue_pdn2):
        ue.attach(app).at6("2001:db8:aaaa::c")
        check_ba(check, ue, ue.register(), 1, f"002 4.3 {ue.hoa}")
    b1, b2 = app.binding(ue_pdn1.hoa), app.binding(ue_pdn2.hoa)
    check(b1 and b2 and b1["pdn"] == "internet" and b2["pdn"] == "ims",
          f"002 4.3: two bindings, one per PDN: {b1} {b2}")
    for ue in (ue_pdn1, ue_pdn2):
        data_both_ways(check, app, cn, ue, f"002 4.3 both PDNs {ue.hoa}")
    d = Delta(app)
    ba = ue_pdn2.register(lifetime=0)
    check_ba(check, ue_pdn2, ba, 2, "002 4.3 de-registration of the ims binding")
    check(app.wait_binding(ue_pdn2.hoa, present=False) and app.binding(ue_pdn1.hoa),
          "002 4.3: the ims binding gone, the internet one kept")
    data_both_ways(check, app, cn, ue_pdn1, "002 4.3 internet after ims left")
    m = app.access.mark()
    cn.send(ue_pdn2.hoa, b"after-dereg-ims")
    check(wait_until(lambda: d.dp("drop-no-binding") == 1, 20) and
          not app.access.collect(lambda e: b"after-dereg-ims" in bytes(e) or None, m, 0.5),
          f"002 4.3: ims's downlink no longer tunnelled, counted as a miss: {d.dp('drop-no-binding')}")
    check(d.cp("bu-deregistration") == 1, "002 4.3: one de-registration counted")


def s_binding_errors(check, app, cn):
    """RFC 6275 9.3.1: a Mobility Header (a HoTI) with a Home Address option for which the HA
    has no binding gets a Binding Error status 1 with that home address; RFC 6275 9.2: an
    unknown MH type (99) gets one with status 2. Both to the packet's source, in clear."""
    d = Delta(app)
    ue_be.attach(app).at6(coa(ue_be))
    m = ue_be.mark()
    ue_be.send_mh(mh.generic(ue_be.hoa, HA6, mh.HOTI, bytes(10)), esp_on=False)
    be = ue_be.wait_msg(mh.BE, m)
    if check(be, "RFC 6275 9.3.1: a Binding Error for the HAO without a binding"):
        be = be[0]
        SEEN.append(be)
        check(be.status == 1 and be.home_address == ue_be.hoa and not be.errors and
              be.where.ip6_src == HA6 and be.where.ip6_dst == ue_be.coa6 and
              be.where.esp is None and be.where.rh2 is None and be.checksum_ok,
              f"RFC 6275 9.3.1: BE status 1, the home address, from the HA to the source: {be} "
              f"{be.where.__dict__}")
    # 9.2: an unknown type from a UE with a binding, with its HAO
    m = ue_v4.mark()
    ue_v4.send_mh(mh.generic(ue_v4.hoa, HA6, 99, bytes(2)), esp_on=False)
    be = ue_v4.wait_msg(mh.BE, m)
    if check(be, "RFC 6275 9.2: a Binding Error for an unknown MH type"):
        be = be[0]
        SEEN.append(be)
        check(be.status == 2 and be.home_address == ue_v4.hoa and not be.errors and
              be.where.ip6_dst == ue_v4.coa6 and be.checksum_ok,
              f"RFC 6275 9.2: BE status 2 with the home address, to the source: {be}")
    check(d.cp("binding-error-sent") == 2 and
          d.cp("decode_errors", "mh-unknown-type") == 1 and
          d.cp("received", "home-test-init") == 1,
          f"RFC 6275 9.2 / 9.3.1: 2 Binding Errors counted, the unknown type as a decode error: "
          f"{app.cp_stats()}")
    check(d.dp("punted") == 2 and d.dp("control-plane-sent") == 2 and d.dp("esp-encrypted") == 0,
          f"RFC 6275 9.2 / 9.3.1: hadp punted both, sent both Binding Errors in clear: "
          f"{app.dp_stats()}")


def s_deregistration(check, app, cn):
    """001 5.2.3.3 (from a foreign network): a BU with lifetime 0 from the care-of address;
    BA status 0 with lifetime 0; the binding and its IPv4 home address go; the downlink is
    no longer tunnelled but counted as a miss (drop-no-binding)."""
    ue_dereg.attach(app).at6(coa(ue_dereg))
    check_ba(check, ue_dereg, ue_dereg.register(ipv4_hoa="0.0.0.0"), 1, "001 5.2.3.3 register")
    hoa4 = ue_dereg.hoa4
    data_both_ways(check, app, cn, ue_dereg, "001 5.2.3.3 before")
    d = Delta(app)
    ba = ue_dereg.register(lifetime=0, ipv4_hoa=hoa4)
    if check_ba(check, ue_dereg, ba, 2, "001 5.2.3.3 de-registration"):
        check(ba.lifetime == 0, f"001 5.2.3.3: BA lifetime 0: {ba.lifetime}")
    check(app.wait_binding(ue_dereg.hoa, present=False), "001 5.2.3.3: the binding is gone")
    m = app.access.mark()
    cn.send(ue_dereg.hoa, b"after-dereg-v6")
    cn.send(hoa4, b"after-dereg-v4")
    check(wait_until(lambda: d.dp("drop-no-binding") == 2, 20),
          f"001 5.2.3.3: both downlinks counted as misses: {d.dp('drop-no-binding')}")
    check(not app.access.collect(lambda e: b"after-dereg" in bytes(e) or None, m, 0.5),
          "001 5.2.3.3: nothing tunnelled after the de-registration")
    # (the expiry scenario's binding may run out meanwhile on a slow host: not this one's)
    check(d.cp("bu-deregistration") == 1 and
          d.cp("bindings") + d.cp("binding-expired") == -1,
          f"001 5.2.3.3: counted: {app.cp_stats()}")


def s_expiry_start(check, app, cn):
    """RFC 6275 10.3.1 / docs/controlplane.md (expiry), first half: a binding asked for 8 s."""
    ue_expiry.attach(app).at6(coa(ue_expiry))
    ba = ue_expiry.register(lifetime=2)
    if check_ba(check, ue_expiry, ba, 1, "lifetime expiry register"):
        check(ba.lifetime == 2, f"RFC 6275 9.5.1: granted the 2 units (8 s) asked: {ba.lifetime}")
    data_both_ways(check, app, cn, ue_expiry, "lifetime expiry before")
    global EXPIRY_DELTA
    EXPIRY_DELTA = Delta(app)


def s_expiry_end(check, app, cn):
    """Second half: once the 8 s have run out the binding is removed (binding-expired), its
    downlink no longer tunnelled but counted as a miss."""
    d = EXPIRY_DELTA
    check(app.wait_binding(ue_expiry.hoa, present=False, timeout=30),
          "RFC 6275 10.3.1: the binding removed when its lifetime ran out")
    check(d.cp("binding-expired") == 1, f"binding-expired counted: {app.cp_stats()}")
    before = d.dp("drop-no-binding")
    m = app.access.mark()
    cn.send(ue_expiry.hoa, b"after-expiry")
    check(wait_until(lambda: d.dp("drop-no-binding") == before + 1, 20) and
          not app.access.collect(lambda e: b"after-expiry" in bytes(e) or None, m, 0.5),
          "RFC 6275 10.3.1: downlink after expiry counted as a miss, not tunnelled")


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ha = {"binding_lifetime": {"max": 3600},
          "refresh_advice_percent": REFRESH_PERCENT}
    with Appliance(build, work, ues=ALL, home_agent=ha, pdns=PDNS + [TINY]) as app:
        cn = Correspondent(app)
        run_scenarios(check, [s_expiry_start, s_initial_registration, s_ipv4_ack_statuses,
                              s_refresh_advice, s_wrong_sa, s_second_pdn, s_binding_errors,
                              s_deregistration, s_expiry_end], app, cn,
                      after=app.check_mbufs)
        hs, cs = stop_and_check(check, app)
    if cs:
        check(cs["bu-dropped-not-protected"] == 0 and cs["malformed"] == 1 and
              cs["not-bu"] == 1 and cs["binding-error-sent"] == 2,
              f"hacpd: every BU protected; malformed only the unknown MH type, the HoTI the one "
              f"other message (RFC 6275 9.2 / 9.3.1): {cs}")
    tshark.check_all(check, SEEN, f"{work}/ha-messages.pcap", "tshark registration")
    return check.summary("registration scenarios")


if __name__ == "__main__":
    sys.exit(main())
