"""Checks the scenarios share: a BA where and as RFC 6275 / RFC 5555 / RFC 4877 put it, and
user data both ways through a UE's tunnel. Each takes the Checks tally and says what it
checks in its message."""
import os

from scapy.all import IP, UDP, raw

import mh
from appliance import HA4, HA6

SEEN = []  # every message of the HA a step read, for the tshark cross-check (tests/lib/tshark.py)


def check_ba(check, ue, ba, seq, what, status=0):
    """The BA for seq: status, sequence, no format error; where RFC 6275 6.1.8 / RFC 5555 4.1
    put it: from an IPv6 care-of address, to it with a type 2 routing header (segments left
    1) holding the home address; from an IPv4 one, in IPv4/UDP from the HA's IPv4 address
    and port 4191 to the source address and port the BU came from (the NAT's mapping), the
    IPv6 header from the HA to the home address; under the UE's outbound SA (RFC 4877 4.3);
    checksum over the final destination (RFC 6275 6.1.1). Adds it to SEEN."""
    if not check(ba is not None, f"{what}: a BA for sequence {seq}"):
        return False
    SEEN.append(ba)
    w = ba.where
    check(ba.type == mh.BA and ba.status == status and ba.seq == seq and not ba.errors,
          f"{what}: BA status {ba.status} (want {status}) seq {ba.seq} (want {seq}) "
          f"errors {ba.errors}")
    if ue.coa4 is None:
        check(w.outer == "ipv6" and w.ip6_src == HA6 and w.ip6_dst == ue.coa6 and
              w.rh2 is not None and w.rh2[0] == 2 and w.rh2[1] == 1 and w.rh2[2] == [ue.hoa],
              f"{what}: BA to the IPv6 care-of address with a type 2 routing header, segments "
              f"left 1, the home address (RFC 6275 6.1.8 / 6.4): {w.__dict__}")
    else:
        addr, port = ue.outer4()
        check(w.outer == "ipv4" and w.outer_src == HA4 and w.outer_dst == addr and
              w.udp == (4191, port) and w.ip6_src == HA6 and w.ip6_dst == ue.hoa and
              w.rh2 is None,
              f"{what}: BA in IPv4/UDP 4191 -> {addr}:{port}, IPv6 HA -> home address (RFC "
              f"5555 4.1): {w.__dict__}")
        check(ipv4_checksums_ok(ba.frame),
              f"{what}: IPv4 header checksum right, UDP checksum right or zero (RFC 768)")
    check(w.esp is not None and w.esp[0] == ue.spi_ba,
          f"{what}: under the UE's outbound SA {ue.spi_ba:#x} (RFC 4877 4.3): {w.esp}")
    check(ba.checksum_ok, f"{what}: MH checksum over HA -> home address (RFC 6275 6.1.1)")
    return True


def ipv4_checksums_ok(frame):
    """The outer IPv4 header's checksum, and its UDP checksum unless zero (RFC 768: none
    computed), as scapy computes them."""
    ip = frame[IP]
    again = IP(raw(ip))
    del again.chksum
    if UDP in again:
        del again[UDP].chksum
    again = IP(raw(again))
    return again.chksum == ip.chksum and (UDP not in ip or ip[UDP].chksum in
                                           (0, again[UDP].chksum))


def data_both_ways(check, app, cn, ue, what, v4=False):
    """Downlink from the correspondent tunnelled to the UE as its binding says (IPv6 care-of:
    IPv6 or IPv4 in IPv6 from the HA; IPv4 care-of: in IPv4, or IPv4/UDP 4191 -> the UE's
    mapping when UDP; RFC 6275 10.4.1, RFC 5555 4.2 / 4.3), the inner hop limit one less;
    uplink through the tunnel decapsulated to the correspondent (RFC 6275 10.4.5)."""
    dst = ue.hoa4 if v4 else ue.hoa
    tag = f"{what}-{ue.n}-{'v4' if v4 else 'v6'}-{os.urandom(4).hex()}".encode()
    m = app.access.mark()
    cn.send(dst, b"down " + tag)
    t = ue.wait_down(b"down " + tag, m)
    if check(t is not None, f"{what}: downlink to {dst} tunnelled to the UE"):
        if ue.coa4 is None:
            want = ("ipv6", HA6, ue.coa6, 4 if v4 else 41, None)
        elif ue.udp:
            want = ("ipv4", HA4, ue.outer4()[0], 17, (4191, ue.outer4()[1]))
        else:
            want = ("ipv4", HA4, ue.coa4, 4 if v4 else 41, None)
        got = (t.outer, t.src, t.dst, t.proto, t.udp)
        check(got == want and t.inner_dst == dst and t.inner_hlim == 63,
              f"{what}: downlink tunnel (outer, source, destination, protocol, UDP ports) "
              f"{got}, want {want}; inner to {t.inner_dst} hop limit {t.inner_hlim}")
        if t.outer == "ipv4":
            check(ipv4_checksums_ok(t.frame), f"{what}: downlink's outer IPv4 (and UDP) "
                  f"checksums right (RFC 791, RFC 768)")
    m = app.core.mark()
    ue.send_up(b"up " + tag, v4=v4)
    up = cn.wait_up(b"up " + tag, m)
    if check(up is not None, f"{what}: uplink from {dst} through the tunnel reaches the PDN"):
        ip = up.payload
        check(ip.src == dst and ip.dst == (cn.addr4 if v4 else cn.addr6) and
              ip.payload.name == "UDP",
              f"{what}: uplink decapsulated, inner header only: {up.summary()}")


def stop_and_check(check, app):
    """Stops the appliance; both daemons exit with status 0 and wrote their stats, hadp ends
    with no mbuf in use and read nothing it counted malformed. @return (hadp stats, hacpd stats), None where missing."""
    hs, cs = app.stop()
    check(app.daemons.hadp_rc == 0 and app.daemons.hacpd_rc == 0,
          f"hadp and hacpd stopped with status 0 (a sanitizer's report would change it): "
          f"{app.daemons.hadp_rc}, {app.daemons.hacpd_rc}")
    check(hs is not None and cs is not None,
          f"both daemons stopped and wrote their stats (hadp {app.daemons.hadp_rc}, hacpd "
          f"{app.daemons.hacpd_rc}): {app.log('hadp')[-500:]} {app.log('hacpd')[-500:]}")
    if hs:
        check(hs["mbufs_in_use"] == 0, f"hadp ends with no mbuf in use: {hs['mbufs_in_use']}")
        check(hs["counters"]["drop-malformed"] == 0, f"nothing malformed: {hs['decode_errors']}")
    return hs, cs


def data_both_families(check, app, cn, ue, what):
    """data_both_ways for the home address and the IPv4 home address; hadp counts each packet
    once: 2 downlink encapsulated, 2 uplink decapsulated."""
    before = app.dp_stats()
    data_both_ways(check, app, cn, ue, what)
    data_both_ways(check, app, cn, ue, what, v4=True)
    after = app.dp_stats()
    got = tuple(after[k] - before[k] for k in ("downlink-encapsulated", "uplink-decapsulated"))
    check(got == (2, 2), f"{what}: hadp tunnelled 2 downlink and decapsulated 2 uplink "
          f"packets: {got}")
