#!/usr/bin/python3
"""Mobility procedures on the wire: hadp and hacpd on veth pairs, scapy UEs on the other end
(tests/lib), one appliance for every scenario of this file, each with its own UEs.

  RFC 5555 4.1 / 001 5.2.3.2  an IPv4 care-of address without a NAT (BA in IPv4/UDP, no NAT
                              Detection option), behind a NAT (NAT Detection with F and the
                              configured keepalive; the tunnel in UDP to the mapping), F forced
                              by the UE (home_agent.nat.force_udp: allowed)
  RFC 5555 4.1               the NAT's port changing mid-session: BA and tunnel follow
  RFC 6275 9.5.1 / 11.7.1, 001 5.2.3.2  the Alternate Care-of Address: equal to the source
                              accepted, another one refused with BA status 174
  001 5.2.3.2                handover foreign to foreign: v6->v6, v6->v4, v4->v6, v4->v4, data
                              both ways before and after each move
  002 5.4.3, RFC 5142        Home Agent Switch after hactl reallocate: BA, then HAS with the
                              target, to the same destination, under the same SA
  001 5.2.3.3                de-registration from behind a NAT (BA in UDP to the mapping)

Each check says its subclause; packets field by field and counters; hadp ends with no mbuf
in use; tshark decodes every message the HA sent.

usage: mobility_test.py BUILD_DIR WORK_DIR
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, Appliance, Delta, wait_until  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402
import mh  # noqa: E402
import tshark  # noqa: E402
from steps import SEEN, check_ba, data_both_families, data_both_ways, stop_and_check  # noqa: E402
from ue import UE, Correspondent  # noqa: E402

KEEPALIVE = 55
ue_v4 = UE(21)
ue_nat = UE(22)
ue_f = UE(23)
ue_port = UE(24)
ue_alt = UE(25)
ho = {pair: UE(30 + i) for i, pair in enumerate(["66", "64", "46", "44"])}
ue_has = UE(40)
ALL = [ue_v4, ue_nat, ue_f, ue_port, ue_alt, *ho.values(), ue_has]
TARGET_HA = "2001:db8:2::1"


def s_ipv4_coa_no_nat(check, app, cn):
    """RFC 5555 4.1 / 001 5.2.3.2: a BU in IPv4/UDP whose IPv4 Care-of Address option equals
    the outer source: the binding takes the IPv4 care-of address, the BA goes back in IPv4
    (UDP to the port the BU came from) without a NAT Detection option, and the tunnel is
    IPv6-in-IPv4 / IPv4-in-IPv4 (RFC 5555 4.3), no UDP."""
    d = Delta(app)
    ue_v4.attach(app).at4("203.0.113.21", port=4191)
    ba = ue_v4.register(ipv4_hoa="0.0.0.0")
    if check_ba(check, ue_v4, ba, 1, "RFC 5555 4.1 IPv4 care-of, no NAT"):
        check(ba.natd() is None, f"RFC 5555 4.1: no NAT Detection option without a NAT: {ba}")
        check(ba.ipv4_ack() and ba.ipv4_ack()[0] == 0, f"IPv4 home address assigned: {ba}")
    b = app.binding(ue_v4.hoa)
    check(b and b["care_of"] == "203.0.113.21" and not b["udp"] and not b["nat"],
          f"001 5.2.3.2: care-of = the option's, no UDP, no NAT: {b}")
    data_both_families(check, app, cn, ue_v4, "RFC 5555 4.3 IPv4 care-of")
    check(d.cp("nat-detected") == 0 and d.cp("bu-accepted") == 1 and
          d.dp("esp-decrypted") == 1 and d.dp("esp-encrypted") == 1,
          f"RFC 5555 4.1: accepted, no NAT counted; hadp: the BU and the BA: {app.cp_stats()}")


def s_nat(check, app, cn):
    """001 5.2.3.2 / RFC 5555 4.1: the outer source (198.51.100.1:40022, a NAT) differs from
    the IPv4 Care-of Address option (10.9.0.22): the BA goes in UDP to the NAT's address and
    port with a NAT Detection option, F set, refresh = nat.keepalive_refresh; the tunnel is
    IPv4/UDP 4191 to the mapping both ways; nat-detected counted."""
    d = Delta(app)
    ue_nat.attach(app).at4("10.9.0.22", nat=("198.51.100.1", 40022))
    ba = ue_nat.register(ipv4_hoa="0.0.0.0")
    if check_ba(check, ue_nat, ba, 1, "001 5.2.3.2 behind a NAT"):
        natd = ba.natd()
        check(natd == (True, 0, KEEPALIVE),
              f"001 5.2.3.2 / RFC 5555 3.2.2: NAT Detection F=1, reserved 0, refresh "
              f"{KEEPALIVE}: {natd}")
        off = [o for (t, o, _) in ba.options if t == mh.OPT_NATD]
        check(off and off[0] % 4 == 0, f"RFC 5555 3.2.2: NAT Detection at 4n: {off}")
        ack = ba.ipv4_ack()
        check(ack and ack[0] == 0 and ack[1] == 32,
              f"RFC 5555 3.2.1: the IPv4 home address assigned behind the NAT too: {ack}")
    b = app.binding(ue_nat.hoa)
    check(b and b["care_of"] == "198.51.100.1" and b["udp"] and b["nat"] and
          b["udp_port"] == 40022, f"RFC 5555 4.1: tunnel to the mapping, UDP, NAT: {b}")
    data_both_families(check, app, cn, ue_nat, "RFC 5555 4.1 behind a NAT")
    check(d.cp("nat-detected") == 1 and d.cp("bu-accepted") == 1 and
          d.dp("esp-decrypted") == 1 and d.dp("esp-encrypted") == 1,
          f"nat-detected counted once; hadp: the BU and the BA: {app.cp_stats()}")


def s_force_udp(check, app, cn):
    """RFC 5555 3.1 / 4.1 with home_agent.nat.force_udp: allowed: no NAT, but the UE sets F:
    the HA grants UDP encapsulation: NAT Detection F=1 with refresh 0xFFFFFFFF (no
    keepalive needed, no NAT), the tunnel in UDP to the UE's address and port."""
    d = Delta(app)
    ue_f.attach(app).at4("203.0.113.23", port=50023)
    ba = ue_f.register(flags="AHKRF")
    if check_ba(check, ue_f, ba, 1, "RFC 5555 F forced"):
        check(ba.natd() == (True, 0, 0xFFFFFFFF),
              f"RFC 5555 3.2.2: F=1 and refresh 0xFFFFFFFF without a NAT: {ba.natd()}")
    check(ue_f.udp, "the UE takes UDP encapsulation from the BA")
    b = app.binding(ue_f.hoa)
    check(b and b["care_of"] == "203.0.113.23" and b["udp"] and not b["nat"] and
          b["udp_port"] == 50023, f"RFC 5555 4.1: UDP to the UE's own port, no NAT: {b}")
    data_both_ways(check, app, cn, ue_f, "RFC 5555 4.1 F forced")
    check(d.cp("nat-detected") == 0 and d.cp("bu-accepted") == 1, "no NAT counted for F")
    check(d.dp("downlink-encapsulated") == 1 and d.dp("uplink-decapsulated") == 1,
          f"RFC 5555 4.1: hadp: one packet each way in UDP: {app.dp_stats()}")


def s_nat_port_change(check, app, cn):
    """RFC 5555 4.1: the NAT's mapping changes mid-session (40024 -> 40124); the UE's next BU
    comes from the new port: its BA and the downlink go to the new port; uplink from the old
    port is dropped (drop-udp-port-not-binding)."""
    ue_port.attach(app).at4("10.9.0.24", nat=("198.51.100.1", 40024))
    check_ba(check, ue_port, ue_port.register(), 1, "RFC 5555 4.1 NAT port, first")
    data_both_ways(check, app, cn, ue_port, "RFC 5555 4.1 first port")
    ue_port.at4("10.9.0.24", nat=("198.51.100.1", 40124))
    data_before = Delta(app)
    ba = ue_port.register()
    check_ba(check, ue_port, ba, 2, "RFC 5555 4.1 NAT port changed")
    b = app.binding(ue_port.hoa)
    check(b and b["udp_port"] == 40124 and b["nat"] and b["sequence"] == 2,
          f"RFC 5555 4.1: the binding follows the new port: {b}")
    data_both_ways(check, app, cn, ue_port, "RFC 5555 4.1 new port")
    ue_port.at4("10.9.0.24", nat=("198.51.100.1", 40024))
    ue_port.send_up(b"up from the old port")
    ue_port.at4("10.9.0.24", nat=("198.51.100.1", 40124))
    check(wait_until(lambda: data_before.dp("drop-udp-port-not-binding") == 1, 20),
          "RFC 5555 4.1: uplink from the old port dropped (drop-udp-port-not-binding)")
    check(data_before.cp("nat-detected") == 1, "the second BU's NAT counted too")


def s_alternate_coa(check, app, cn):
    """RFC 6275 9.5.1 / 11.7.1, 001 5.2.3.2 (the alternate-CoA check): an Alternate Care-of
    Address option equal to the source address is accepted (aligned 8n+6 in the BU); one
    other than the source is refused with BA status 174 (invalid care-of address,
    docs/controlplane.md), and the binding stays as it was."""
    ue_alt.attach(app).at6("2001:db8:aaaa::25")
    ba = ue_alt.register(alt_coa="2001:db8:aaaa::25")
    check_ba(check, ue_alt, ba, 1, "RFC 6275 11.7.1 Alternate CoA = source")
    d = Delta(app)
    ba = ue_alt.register(alt_coa="2001:db8:bbbb::25")
    if check_ba(check, ue_alt, ba, 2, "001 5.2.3.2 Alternate CoA != source", status=174):
        check(ba.lifetime == 0, f"RFC 6275 6.1.8: a rejection grants lifetime 0: {ba.lifetime}")
    b = app.binding(ue_alt.hoa)
    check(b and b["care_of"] == "2001:db8:aaaa::25" and b["sequence"] == 1,
          f"001 5.2.3.2: the binding unchanged after the refusal: {b}")
    check(d.cp("bu-rejected") == 1 and d.cp("ba_status", "174") == 1,
          f"counted BA status 174: {app.cp_stats()}")
    check(d.dp("esp-encrypted") == 1 and d.dp("control-plane-sent") == 1,
          f"hadp sent the rejection under ESP: {app.dp_stats()}")
    data_both_ways(check, app, cn, ue_alt, "001 5.2.3.2 after the refused Alternate CoA")


def s_handover(check, app, cn):
    """001 5.2.3.2, foreign to foreign in each family pair: registered at the first care-of
    address, data both ways; then a BU from the second (IPv6 with HAO, or IPv4/UDP with the
    IPv4 Care-of Address option), BA there, the binding moved, data both ways through the
    new tunnel (and nothing through the old)."""
    places = {"6": lambda ue, k: ue.at6(f"2001:db8:a{k}::{ue.n:x}"),
              "4": lambda ue, k: ue.at4(f"203.0.{113 if k == 1 else 112}.{ue.n}")}
    for pair, ue in ho.items():
        what = f"001 5.2.3.2 handover v{pair[0]}->v{pair[1]}"
        ue.attach(app)
        places[pair[0]](ue, 1)
        check_ba(check, ue, ue.register(ipv4_hoa="0.0.0.0"), 1, f"{what} first")
        data_both_families(check, app, cn, ue, f"{what} before")
        old = ue.coa6 or ue.coa4
        d = Delta(app)
        places[pair[1]](ue, 2)
        ba = ue.register(ipv4_hoa=ue.hoa4)
        if check_ba(check, ue, ba, 2, f"{what} moved"):
            ack = ba.ipv4_ack()
            check(ack and ack[0] == 0 and ack[2] == ue.hoa4,
                  f"{what}: the IPv4 home address kept (001 5.2.3.2): {ack}")
        new = ue.coa6 or ue.coa4
        b = app.binding(ue.hoa)
        check(b and b["care_of"] == new, f"{what}: the binding moved {old} -> {new}: {b}")
        m = app.access.mark()
        data_both_families(check, app, cn, ue, f"{what} after")
        check(not app.access.wait(lambda e: ue.read(e, to=old), m, timeout=0),
              f"{what}: nothing more to the old care-of address")
        check(d.cp("bu-accepted") == 1 and d.dp("downlink-encapsulated") == 2 and
              d.dp("uplink-decapsulated") == 2,
              f"{what}: 1 BU, 2 downlink and 2 uplink after the move: cp {app.cp_stats()}")


def s_home_agent_switch(check, app, cn):
    """002 5.4.3 / RFC 5142: hactl reallocate HOA --to X; the UE's next BU is answered with
    its BA, then a Home Agent Switch naming X (one address, no options: no Binding Refresh Advice), to the same
    destination (care-of address, RH2 = home address) under the same SA, the ESP sequence
    number after the BA's; counted home-agent-switch-sent."""
    ue_has.attach(app).at6("2001:db8:aaaa::40")
    check_ba(check, ue_has, ue_has.register(), 1, "002 5.4.3 register")
    d = Delta(app)
    r = app.hactl("reallocate", ue_has.hoa, "--to", TARGET_HA)
    check(r.returncode == 0, f"hactl reallocate: {r}")
    m = ue_has.mark()
    ba = ue_has.register(since=m)
    check_ba(check, ue_has, ba, 2, "002 5.4.3 the BA before the HAS")
    has = ue_has.wait_msg(mh.HAS, m)
    if check(has, "002 5.4.3 / RFC 5142: a Home Agent Switch after the BA"):
        has = has[0]
        SEEN.append(has)
        w = has.where
        check(has.addresses == [TARGET_HA] and len(has.data) == 24 and not has.errors and
              has.options == [],
              f"RFC 5142: one address, the target {TARGET_HA}, no options: {has}")
        check(w.ip6_src == HA6 and w.ip6_dst == ue_has.coa6 and w.rh2 and
              w.rh2[2] == [ue_has.hoa] and w.esp and w.esp[0] == ue_has.spi_ba,
              f"002 5.4.3: same destination and SA as the BA: {w.__dict__}")
        check(ba is not None and w.esp and ba.where.esp and w.esp[1] == ba.where.esp[1] + 1,
              f"002 5.4.3: the HAS right after the BA (ESP sequence {w.esp} after "
              f"{ba and ba.where.esp})")
        check(has.checksum_ok, "RFC 6275 6.1.1: HAS checksum over the home address")
    check(d.cp("home-agent-switch-sent") == 1 and d.cp("ba-sent") == 1,
          f"counted: {app.cp_stats()}")
    check(d.dp("esp-encrypted") == 2 and d.dp("control-plane-sent") == 2,
          f"hadp sent the BA and the HAS, both under ESP: {app.dp_stats()}")


def s_deregistration_behind_nat(check, app, cn):
    """001 5.2.3.3 from an IPv4 foreign network behind a NAT (RFC 5555 4.1): the lifetime-0 BU
    in UDP 4191 (with its IPv4 Care-of Address option) is acknowledged with status 0 and
    lifetime 0 in UDP to the NAT's mapping; the binding and its IPv4 home address go; the
    downlink is counted as a miss, nothing tunnelled."""
    hoa4 = ue_nat.hoa4
    d = Delta(app)
    ba = ue_nat.register(lifetime=0, ipv4_hoa=hoa4)
    if check_ba(check, ue_nat, ba, 2, "001 5.2.3.3 de-registration behind a NAT"):
        check(ba.lifetime == 0 and ba.natd() is None,
              f"001 5.2.3.3: lifetime 0, no NAT Detection for a removed binding: {ba}")
    check(app.wait_binding(ue_nat.hoa, present=False), "001 5.2.3.3: the binding is gone")
    m = app.access.mark()
    cn.send(ue_nat.hoa, b"after-dereg-nat6")
    cn.send(hoa4, b"after-dereg-nat4")
    check(wait_until(lambda: d.dp("drop-no-binding") == 2, 20) and
          not app.access.collect(lambda e: b"after-dereg-nat" in bytes(e) or None, m, 0.5),
          f"001 5.2.3.3: both downlinks counted as misses: {d.dp('drop-no-binding')}")
    check(d.cp("bu-deregistration") == 1 and d.cp("bindings") == -1,
          f"001 5.2.3.3: counted: {app.cp_stats()}")


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ha = {"nat": {"keepalive_refresh": KEEPALIVE, "force_udp": "allowed"}}
    with Appliance(build, work, ues=ALL, home_agent=ha) as app:
        cn = Correspondent(app)
        run_scenarios(check, [s_ipv4_coa_no_nat, s_nat, s_force_udp, s_nat_port_change,
                              s_alternate_coa, s_handover, s_home_agent_switch,
                              s_deregistration_behind_nat], app, cn,
                      after=app.check_mbufs)
        hs, cs = stop_and_check(check, app)
    if cs:
        check(cs["bu-dropped-not-protected"] == 0 and cs["malformed"] == 0 and
              cs["bu-received"] == cs["ba-sent"],
              f"hacpd: every BU protected and answered: {cs}")
    tshark.check_all(check, SEEN, f"{work}/ha-messages.pcap", "tshark mobility")
    return check.summary("mobility scenarios")


if __name__ == "__main__":
    sys.exit(main())
