#!/usr/bin/python3
"""The Home Agent at the edges of its procedures, on the wire: hadp and hacpd on veth pairs,
scapy UEs on the other end (tests/lib). Each scenario is a defect a review found, named by the
text it breaks; each check failed before its fix.

  RFC 6275 9.5.1  a care-of address equal to the home address de-registers (Alternate CoA;
                  from the home link on the core side, 001 5.2.3.3, where that applies)
  RFC 6275 10.3.1 K in the BA only when key management exists (never under a static SA);
                  the lifetime shortened, never lengthened
  004 5.4.3.1     the BRI/BRA exchange; the BRI again after MINDelayBRIs; the binding kept
                  (and forwarding) after the last BRI until the BRA; a lifetime-0 BU crossing
                  the BRI counts as the BRA and is acknowledged; the BRI to an IPv4 care-of
                  address goes to the UDP port the UE's BUs come from (RFC 5555 4.1)
  RFC 6275 9.2    ICMPv6 Parameter Problem for a bad Payload Proto / Header Len, pointer at the
                  field, quoting the packet; under the SA for what came in ESP; in the UDP
                  tunnel for what came in it; and a Binding Error for an unknown MH type in UDP
  RFC 4877 4      no BA in the clear when the UE's outbound SA is missing
  002 5.4.3       the reallocation indication kept while no Home Agent Switch could go

usage: edges_test.py BUILD_DIR WORK_DIR
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from scapy.all import Ether, IPv6, Raw, raw  # noqa: E402

from appliance import HA6, Appliance, Delta, wait_until  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402
import esp  # noqa: E402
import mh  # noqa: E402
import tshark  # noqa: E402
from steps import SEEN, check_ba, data_both_ways  # noqa: E402
from ue import UE, Correspondent  # noqa: E402

MIN_DELAY_BRIS_MS = 500


PAYLOAD_SPI = 0x7002


class UEAtHome(UE):
    """A UE with a payload SA (tunnel mode) besides its signalling pair: what it sends under
    it on the core side, at home, must not be taken."""

    def static_sas(self, ha6):
        sas = super().static_sas(ha6)
        return sas + [dict(sas[0], spi=PAYLOAD_SPI, mode="tunnel", peer=coa(self))]


class UEWithoutOutboundSA(UE):
    """A UE whose SA pair lost its outbound half: the HA can check its BUs, not protect its
    answers (RFC 4877 4)."""

    def static_sas(self, ha6):
        return super().static_sas(ha6)[:1]


ue_altcoa, ue_home, ue_k = UE(1), UEAtHome(2), UE(3)
ue_life = UE(4)
ue_bri, ue_silent, ue_cross, ue_bri4 = UE(5), UE(6), UE(7), UE(8)
ue_pp, ue_pp_esp, ue_pp4 = UE(9), UE(10), UE(11)
ue_no_out = UEWithoutOutboundSA(12)
ue_has = UE(13)
ALL = [ue_altcoa, ue_home, ue_k, ue_life, ue_bri, ue_silent, ue_cross, ue_bri4, ue_pp,
       ue_pp_esp, ue_pp4, ue_no_out, ue_has]


def coa(ue):
    return f"2001:db8:aaaa::{ue.n:x}"


def no_msg(ue, mh_type, since, quiet=1.0):
    """True when the HA sent ue no message of that type from since on."""
    return not ue.app.access.collect(
        lambda e: (r := ue.read(e)) is not None and r.type == mh_type or None, since, quiet)


def s_care_of_equal_to_home_address(check, app, cn):
    """RFC 6275 9.5.1: "If the Lifetime ... is zero or the Care-of Address is equal to the home
    address, the receiving node MUST delete the binding". A BU with a non-zero lifetime whose
    Alternate Care-of Address is the home address de-registers: BA status 0, lifetime 0, the
    binding gone, the downlink no longer tunnelled (it made a binding tunnelling the prefix to
    the home address itself)."""
    d = Delta(app)
    ue = ue_altcoa.attach(app).at6(coa(ue_altcoa))
    check_ba(check, ue, ue.register(), 1, "RFC 6275 9.5.1 register")
    ba = ue.register(lifetime=450, alt_coa=ue.hoa)
    if check_ba(check, ue, ba, 2, "RFC 6275 9.5.1 care-of == home address"):
        check(ba.lifetime == 0, f"RFC 6275 9.5.1: a de-registration's BA grants 0: {ba.lifetime}")
    check(app.wait_binding(ue.hoa, present=False, timeout=10),
          "RFC 6275 9.5.1: the binding deleted, not bound to the home address")
    check(d.cp("bu-deregistration") == 1, f"counted a de-registration: {app.cp_stats()}")
    m = app.access.mark()
    before = d.dp("drop-no-binding")
    cn.send(ue.hoa, b"after-altcoa-dereg")
    check(wait_until(lambda: d.dp("drop-no-binding") == before + 1, 10) and
          not app.access.collect(lambda e: b"after-altcoa-dereg" in raw(e) or None, m, 0.5),
          "RFC 6275 9.5.1: the downlink is no longer tunnelled")


def home_frame(ue, mh_bytes):
    """001 5.2.3.3: the UE at home (3GPP access: the core side here) sends from its home
    address, no HAO, under its SA (RFC 4877)."""
    ue.esp_seq += 1
    body = esp.gcm_seal(ue.spi_bu, ue.esp_seq, ue.key_bu, mh_bytes, 135)
    return Ether(src=ue.mac, dst=ue.app.core.mac_peer) / IPv6(src=ue.hoa, dst=HA6, nh=50) / \
        Raw(body)


def s_return_home_from_the_home_link(check, app, cn):
    """001 5.2.3.3 with RFC 6275 9.5.1: back on 3GPP access the UE's de-registration arrives on
    the core side from its home address, without a HAO, under ESP, its lifetime not zero: the
    binding goes and the BA comes back on the core side to the home address, no RH2, under the
    UE's outbound SA (K clear: a static SA, no IKE SA to move home; ike_handover moves a real
    one). On the core port hadp takes only signalling addressed to the HA: a clear Mobility
    Header is punted and dropped by hacpd (RFC 4877: bu-dropped-not-protected), ESP under an
    SPI it does not know is dropped (drop-esp-unknown-spi), and ESP under a payload (tunnel)
    SA too: a UE at home only signals (drop-esp-core-not-signalling)."""
    d = Delta(app)
    ue = ue_home.attach(app).at6(coa(ue_home))
    check_ba(check, ue, ue.register(), 1, "001 5.2.3.3 register")
    eth = Ether(src=ue.mac, dst=app.core.mac_peer)
    app.core.send(eth / IPv6(src=ue.hoa, dst=HA6, nh=135) / Raw(ue.bu_bytes(seq=7, lifetime=0)))
    app.core.send(eth / IPv6(src=ue.hoa, dst=HA6, nh=50) /
                  Raw(esp.gcm_seal(0x7777, 1, ue.key_bu, ue.bu_bytes(seq=8, lifetime=0), 135)))
    app.core.send(eth / IPv6(src=ue.hoa, dst=HA6, nh=50) /
                  Raw(esp.gcm_seal(PAYLOAD_SPI, 1, ue.key_bu,
                                   raw(IPv6(src=ue.hoa, dst="2001:db8:9::1")), 41)))
    check(wait_until(lambda: d.cp("bu-dropped-not-protected") == 1 and
                     d.dp("drop-esp-unknown-spi") == 1 and
                     d.dp("drop-esp-core-not-signalling") == 1, 10),
          f"RFC 4877 / 001 5.2.3.3: on the core port a clear MH dropped by hacpd, ESP under an "
          f"unknown SPI and under a payload SA dropped by hadp: {app.cp_stats()} "
          f"{app.dp_stats()}")
    check(app.binding(ue.hoa) is not None, "none of them touched the binding")
    m = app.core.mark()
    app.core.send(home_frame(ue, ue.bu_bytes(seq=2, lifetime=450)))
    got = app.core.wait(lambda e: (r := ue.read(e, to=ue.hoa)) is not None and
                        r.type == mh.BA and r, m, 20)
    if check(got, "001 5.2.3.3: a BA for the BU from the home link, on the core side"):
        ba = got[0]
        SEEN.append(ba)
        w = ba.where
        check(ba.status == 0 and ba.seq == 2 and ba.lifetime == 0 and not ba.errors and
              not ba.flags & mh.BA_K, f"001 5.2.3.3: status 0, lifetime 0, K clear: {ba}")
        check(w.outer == "ipv6" and w.ip6_src == HA6 and w.ip6_dst == ue.hoa and w.rh2 is None
              and w.esp is not None and w.esp[0] == ue.spi_ba,
              f"001 5.2.3.3: to the home address, no RH2, under the UE's SA: {w.__dict__}")
    check(app.wait_binding(ue.hoa, present=False, timeout=10),
          "RFC 6275 9.5.1: the binding is gone")
    check(d.cp("bu-deregistration") == 1 and d.dp("esp-decrypted") == 2,
          f"counted a de-registration, hadp decrypted the BU from each port: {app.cp_stats()}")


def s_k_only_with_key_management(check, app, cn):
    """RFC 6275 10.3.1: K is set in the BA only when the HA's key management can follow the
    care-of address. A UE under the YAML's static SAs has none: its BUs with K set get BAs
    without K (K was echoed)."""
    ue = ue_k.attach(app).at6(coa(ue_k))
    ba = ue.register()
    if check_ba(check, ue, ba, 1, "RFC 6275 10.3.1 K"):
        check(not ba.flags & mh.BA_K and ba.flags & mh.BA_R,
              f"RFC 6275 10.3.1: R echoed, K not (static SA, no key management): {ba.flags:#x}")
    ue.at6(coa(ue_k).replace("aaaa", "bbbb"))
    ba = ue.register()
    if check_ba(check, ue, ba, 2, "RFC 6275 10.3.1 K after a move"):
        check(not ba.flags & mh.BA_K, f"RFC 6275 10.3.1: still no K: {ba.flags:#x}")


def s_lifetime_never_lengthened(check, app, cn):
    """RFC 6275 10.3.1: the HA may shorten the lifetime asked for, never lengthen it: 20 s
    asked, 20 s granted (it was raised to binding_lifetime.min, 60 s); 0xFFFF units asked,
    the policy's 3600 s granted."""
    ue = ue_life.attach(app).at6(coa(ue_life))
    ba = ue.register(lifetime=5)
    if check_ba(check, ue, ba, 1, "RFC 6275 10.3.1 short"):
        check(ba.lifetime == 5, f"RFC 6275 10.3.1: 5 units asked, 5 granted: {ba.lifetime}")
    b = app.binding(ue.hoa)
    check(b is not None and b["lifetime"] == 20, f"hactl: lifetime 20 s: {b}")
    ba = ue.register(lifetime=0xFFFF)
    if check_ba(check, ue, ba, 2, "RFC 6275 10.3.1 long"):
        check(ba.lifetime == 900, f"RFC 6275 10.3.1: shortened to the policy's 3600 s: "
              f"{ba.lifetime}")


def wait_bris(ue, since, count, timeout=10):
    return ue.wait_msg(mh.BR, since, timeout, count, match=lambda r: r.br_type == 1)


def check_bri(check, ue, bri, what):
    """RFC 5846 6.1 layout, 004 5.4.3.1 values; addressed as a BA (docs/controlplane.md,
    Decisions): to the care-of address, RH2 to the home address, under the UE's SA."""
    SEEN.append(bri)
    w = bri.where
    check(bri.trigger == 1 and bri.flags == 0 and len(bri.data) == 16 and not bri.errors and
          not bri.options,
          f"{what}: BRI trigger 1, P V G clear, no options (004 5.4.3.1, RFC 5846 6.1): {bri}")
    if ue.coa4 is None:
        check(w.ip6_dst == ue.coa6 and w.rh2 is not None and w.rh2[2] == [ue.hoa] and
              w.hao is None, f"{what}: to the care-of address with RH2, no HAO: {w.__dict__}")
    check(w.esp is not None and w.esp[0] == ue.spi_ba, f"{what}: under the UE's SA: {w.esp}")
    check(bri.checksum_ok, f"{what}: MH checksum (RFC 6275 6.1.1)")


def s_revocation_with_bra(check, app, cn):
    """004 5.4.3.1: hactl detach (the AAA's trigger) sends the BRI; the UE's BRA (same
    sequence number, under its SA) completes it: the binding goes."""
    d = Delta(app)
    ue = ue_bri.attach(app).at6(coa(ue_bri))
    check_ba(check, ue, ue.register(), 1, "004 5.4.3.1 register")
    m = ue.mark()
    r = app.hactl("detach", ue.hoa)
    check(r.returncode == 0, f"hactl detach: {r.stdout} {r.stderr}")
    bris = wait_bris(ue, m, 1)
    if check(bris, "004 5.4.3.1: a BRI"):
        check_bri(check, ue, bris[0], "004 5.4.3.1")
        check(app.binding(ue.hoa) is not None, "004 5.4.3.1: the binding stays until the BRA")
        ue.send_bra(bris[0].seq)
        check(app.wait_binding(ue.hoa, present=False, timeout=10),
              "004 5.4.3.1: the BRA completes the detach")
    check(d.cp("bri-sent") == 1 and d.cp("bra-received") == 1 and d.cp("bra-unmatched") == 0,
          f"counted: {app.cp_stats()}")


def s_revocation_unanswered(check, app, cn):
    """004 5.4.3.1 with RFC 5846's timers: the BRI again after MINDelayBRIs (max_retransmissions
    1), then no more; the HA "shall not remove the entry from its binding cache before
    receiving the BRA": the binding stays and keeps forwarding both ways (it was removed after
    the last BRI); a late BRA still ends it."""
    d = Delta(app)
    ue = ue_silent.attach(app).at6(coa(ue_silent))
    check_ba(check, ue, ue.register(), 1, "004 5.4.3.1 unanswered register")
    m = ue.mark()
    app.hactl("detach", ue.hoa)
    bris = wait_bris(ue, m, 2)
    if check(len(bris) == 2, f"004 5.4.3.1: the BRI and one retransmission: {len(bris)}"):
        check(bris[0].seq == bris[1].seq, "RFC 5846: the same BRI again (same sequence)")
        check_bri(check, ue, bris[1], "004 5.4.3.1 retransmission")
    check(wait_until(lambda: d.cp("bri-unanswered") == 1, 10),
          f"004 5.4.3.1: counted unanswered after the last BRI: {app.cp_stats()}")
    app.access.collect(lambda e: None, m, MIN_DELAY_BRIS_MS / 1000 * 3)  # quiet a while
    check(len(wait_bris(ue, m, 3, 0.1)) == 2, "RFC 5846: no third BRI")
    check(app.binding(ue.hoa) is not None, "004 5.4.3.1: the binding kept without a BRA")
    data_both_ways(check, app, cn, ue, "004 5.4.3.1 kept binding forwards")
    if bris:
        ue.send_bra(bris[0].seq)
        check(app.wait_binding(ue.hoa, present=False, timeout=10),
              "004 5.4.3.1: a late BRA still ends it")


def s_deregistration_crossing_the_bri(check, app, cn):
    """004 5.4.3.1: a lifetime-0 BU after the BRI counts as its BRA: the binding goes, the BU
    is acknowledged (BA status 0), no BRI follows."""
    d = Delta(app)
    ue = ue_cross.attach(app).at6(coa(ue_cross))
    check_ba(check, ue, ue.register(), 1, "004 5.4.3.1 crossing register")
    m = ue.mark()
    app.hactl("detach", ue.hoa)
    check(wait_bris(ue, m, 1), "004 5.4.3.1: the BRI")
    m2 = ue.mark()
    ba = ue.register(lifetime=0)
    check_ba(check, ue, ba, 2, "004 5.4.3.1 the crossing de-registration")
    check(app.wait_binding(ue.hoa, present=False, timeout=10), "004 5.4.3.1: the binding goes")
    check(no_msg(ue, mh.BR, m2, quiet=MIN_DELAY_BRIS_MS / 1000 * 3),
          "004 5.4.3.1: MINDelayBRIs deleted: no BRI after the BU")
    check(d.cp("deregistration-crossed-bri") == 1, f"counted: {app.cp_stats()}")


def s_bri_to_ipv4_care_of_address(check, app, cn):
    """004 5.4.3.1 ("tunnelled in UDP ... as for Binding Update messages") with RFC 5555 4.1:
    a UE on an IPv4 access without a NAT, its BUs from UDP port 50123: the BRI goes in
    IPv4/UDP from 4191 to that port (it went to 4191), the IPv6 header to the home address."""
    ue = ue_bri4.attach(app).at4("198.51.100.44", port=50123)
    check_ba(check, ue, ue.register(), 1, "004 5.4.3.1 IPv4 register")
    m = ue.mark()
    app.hactl("detach", ue.hoa)
    bris = wait_bris(ue, m, 1)
    if check(bris, "004 5.4.3.1: a BRI to the IPv4 care-of address"):
        w = bris[0].where
        check(w.outer == "ipv4" and w.outer_dst == "198.51.100.44" and w.udp == (4191, 50123)
              and w.ip6_dst == ue.hoa and w.rh2 is None,
              f"RFC 5555 4.1: in UDP 4191 -> 50123, IPv6 to the home address: {w.__dict__}")
        check_bri(check, ue, bris[0], "004 5.4.3.1 IPv4")
        ue.send_bra(bris[0].seq)
        check(app.wait_binding(ue.hoa, present=False, timeout=10),
              "004 5.4.3.1: its BRA in UDP completes the detach")


def bad_proto_bu(ue, seq):
    """A BU whose Payload Proto is 58, not 59 (RFC 6275 9.2), checksum right."""
    b = bytearray(ue.bu_bytes(seq=seq))
    b[0] = 58
    b[4:6] = b"\0\0"
    return mh.finish(ue.hoa, HA6, bytes(b))


def s_parameter_problem(check, app, cn):
    """RFC 6275 9.2: "If the Payload Proto field ... is not IPPROTO_NONE ... or the Header Len
    ... is less than the length required for the specific type ... the node MUST discard the
    message and SHOULD send ICMP Parameter Problem, Code 0, directly to the Source Address of
    the packet ... with the Pointer field pointing to the offending field". The pointer is the
    field's offset in the carrier IPv6 packet (40 + 24 for the HAO header); the quote is that
    packet (RFC 4443 3.4). It was never sent."""
    d = Delta(app)
    ue = ue_pp.attach(app).at6(coa(ue_pp))
    m = app.access.mark()
    frame = ue.frame(bad_proto_bu(ue, 1), esp_on=False)
    app.access.send(frame)
    short = bytearray(ue.bu_bytes(seq=2))
    short[1] = 0  # Header Len 0: a BU needs at least 1 (RFC 6275 6.1.7)
    frame2 = ue.frame(mh.finish(ue.hoa, HA6, bytes(short[:8])), esp_on=False)
    app.access.send(frame2)

    def pp(e):
        if IPv6 not in e or e[IPv6].nh != 58 or raw(e[IPv6].payload)[0] != 4:
            return None
        return e
    got = app.access.wait(pp, m, 10, count=2)
    if check(len(got) == 2, f"RFC 6275 9.2: two Parameter Problems, got {len(got)}"):
        for g, sent, ptr, what in ((got[0], frame, 64, "Payload Proto"),
                                   (got[1], frame2, 65, "Header Len")):
            ip = g[IPv6]
            icmp = raw(ip.payload)
            carrier = raw(sent[IPv6])
            check(ip.src == HA6 and ip.dst == ue.coa6 and icmp[1] == 0 and
                  struct.unpack("!I", icmp[4:8])[0] == ptr and icmp[8:] == carrier,
                  f"RFC 6275 9.2 {what}: from the HA to the source, code 0, pointer {ptr}, the "
                  f"packet quoted: {ip.src} -> {ip.dst} code {icmp[1]} pointer "
                  f"{struct.unpack('!I', icmp[4:8])[0]}")
            check(_icmp_ok(ip), f"RFC 4443 2.3 {what}: ICMPv6 checksum")
    check(d.cp("parameter-problem-sent") == 2, f"counted: {app.cp_stats()}")


def _icmp_ok(ip):
    """scapy recomputes the ICMPv6 checksum of the packet as received."""
    p = IPv6(raw(ip))
    want = p.payload.cksum
    p.payload.cksum = None
    return IPv6(raw(p)).payload.cksum == want


def s_parameter_problem_under_esp(check, app, cn):
    """RFC 6275 9.2 with RFC 4877: a malformed MH that came in ESP is answered under the UE's
    outbound SA (its quote holds what came encrypted: never in the clear)."""
    ue = ue_pp_esp.attach(app).at6(coa(ue_pp_esp))
    m = app.access.mark()
    app.access.send(ue.frame(bad_proto_bu(ue, 1)))

    def esp_icmp(e):
        r = raw(e)
        if IPv6 not in e or e[IPv6].dst != ue.coa6 or e[IPv6].nh != 50:
            return None
        spi, seq, plain, nh = esp.gcm_open(r[14 + 40:], ue.key_ba)
        return (spi, plain, nh) if nh == 58 else None
    got = app.access.wait(esp_icmp, m, 10)
    if check(got, "RFC 6275 9.2 / RFC 4877: a Parameter Problem in ESP"):
        spi, plain, nh = got[0]
        check(spi == ue.spi_ba and plain[0] == 4 and plain[1] == 0,
              f"under the UE's SA {ue.spi_ba:#x}: spi {spi:#x} type {plain[0]} code {plain[1]}")


def s_errors_in_the_udp_tunnel(check, app, cn):
    """RFC 5555 4.1: what came in UDP 4191 is answered in it. An unknown MH type from an IPv4
    care-of address gets its Binding Error (status 2, RFC 6275 9.2) in IPv4/UDP back to the
    address and port it came from (it was counted as rate-limited instead); a bad Payload Proto
    its Parameter Problem the same way, pointer relative to the inner IPv6 header."""
    d = Delta(app)
    ue = ue_pp4.attach(app).at4("198.51.100.55", nat=("203.0.113.5", 41234))
    m = ue.mark()
    ue.send_mh(mh.generic(ue.hoa, HA6, 99), esp_on=False)
    be = ue.wait_msg(mh.BE, m, 10)
    if check(be, "RFC 6275 9.2: a Binding Error for the unknown MH type in UDP"):
        SEEN.append(be[0])
        w = be[0].where
        check(be[0].status == 2 and w.outer == "ipv4" and w.outer_dst == "203.0.113.5" and
              w.udp == (4191, 41234) and w.ip6_dst == ue.hoa,
              f"RFC 5555 4.1: BE status 2 in UDP 4191 -> 203.0.113.5:41234: {be[0]} "
              f"{w.__dict__}")
    m = app.access.mark()
    app.access.send(ue.frame(bad_proto_bu(ue, 1), esp_on=False))

    def pp4(e):
        r = raw(e)
        if e.type != 0x0800 or r[14 + 9] != 17:
            return None
        inner = r[14 + 20 + 8:]
        if inner[0] >> 4 != 6 or inner[6] != 58 or inner[40] != 4:
            return None
        return struct.unpack("!HH", r[34:38]), struct.unpack("!I", inner[44:48])[0]
    got = app.access.wait(pp4, m, 10)
    if check(got, "RFC 6275 9.2 / RFC 5555: a Parameter Problem in the UDP tunnel"):
        ports, ptr = got[0]
        check(ports == (4191, 41234) and ptr == 40,
              f"to the NAT's port, pointer 40 (the inner header's MH): {ports} {ptr}")
    check(d.cp("binding-error-sent") == 1 and d.cp("binding-error-rate-limited") == 0,
          f"counted: {app.cp_stats()}")


def s_no_clear_ba_without_outbound_sa(check, app, cn):
    """RFC 4877 4: BAs are protected. A UE whose SA pair has no outbound half gets no BA in the
    clear (it got one): the BU is processed, its BA dropped and counted."""
    d = Delta(app)
    ue = ue_no_out.attach(app).at6(coa(ue_no_out))
    m = app.access.mark()
    ue.send_bu()
    check(app.wait_binding(ue.hoa, timeout=10), "the BU itself is accepted")
    check(not app.access.collect(lambda e: (r := ue.read(e)) is not None and r.type == mh.BA
                                 or None, m, 1.0),
          "RFC 4877 4: no BA, and none in the clear")
    check(d.cp("signalling-dropped-no-outbound-sa") == 1 and d.cp("ba-sent") == 0,
          f"counted: {app.cp_stats()}")


def s_reallocation_kept(check, app, cn):
    """002 5.4.3: the reallocation indication stays until a Home Agent Switch has gone. A BU
    without A gets no BA, hence no Switch, and must leave the indication for the next BU (it
    was used up); that BU's BA is followed by the Switch to the target."""
    ue = ue_has.attach(app).at6(coa(ue_has))
    check_ba(check, ue, ue.register(), 1, "002 5.4.3 register")
    r = app.hactl("reallocate", ue.hoa, "--to", "2001:db8:2::1")
    check(r.returncode == 0, f"hactl reallocate: {r.stdout} {r.stderr}")
    m = ue.mark()
    ue.send_bu(flags="HKR")
    check(wait_until(lambda: (app.binding(ue.hoa) or {}).get("sequence") == 2, 10),
          "the BU without A is accepted")
    check(no_msg(ue, mh.HAS, m, 1.0), "002 5.4.3: no BA, so no Home Agent Switch yet")
    m = ue.mark()
    ba = ue.register()
    check_ba(check, ue, ba, 3, "002 5.4.3 next BU")
    has = ue.wait_msg(mh.HAS, m, 10)
    if check(has, "002 5.4.3: the Home Agent Switch follows the next BA"):
        SEEN.append(has[0])
        check(has[0].addresses == ["2001:db8:2::1"], f"RFC 5142: the target: {has[0]}")


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    ha = {"revocation": {"min_delay_bris_ms": MIN_DELAY_BRIS_MS, "max_retransmissions": 1}}
    with Appliance(build, work, ues=ALL, home_agent=ha) as app:
        cn = Correspondent(app)
        scenarios = [s_care_of_equal_to_home_address, s_k_only_with_key_management,
                     s_lifetime_never_lengthened, s_revocation_with_bra,
                     s_revocation_unanswered, s_deregistration_crossing_the_bri,
                     s_bri_to_ipv4_care_of_address, s_parameter_problem,
                     s_parameter_problem_under_esp, s_errors_in_the_udp_tunnel,
                     s_no_clear_ba_without_outbound_sa, s_reallocation_kept]
        scenarios.insert(1, s_return_home_from_the_home_link)
        run_scenarios(check, scenarios, app, cn, after=app.check_mbufs)
        hs, cs = app.stop()
    check(hs is not None and hs["mbufs_in_use"] == 0, "hadp ends with no mbuf in use")
    tshark.check_all(check, SEEN, f"{work}/ha-messages.pcap", "tshark edges")
    return check.summary("edge scenarios")


if __name__ == "__main__":
    sys.exit(main())
