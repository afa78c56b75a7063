"""tshark reads the Mobility Headers the HA sent, after the test UE decrypted them: each one
written into a pcap in clear (the IPv6 header that carried it with its RH2, inside IPv4/UDP
4191 when it came that way), then `tshark -T fields` (protocol.md section 12: UDP 4191 needs
-d udp.port==4191,ipv6; the Home Agent Switch's options subtree is misparsed by tshark 4.0, so
its malformed mark or its "PadN (length byte past end of options)" remark alone is not held
against it; every other message must come without a malformed mark or any expert remark)."""
import subprocess

from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap
from scapy.layers.inet6 import IPv6ExtHdrRouting

import mh

FIELDS = ["mip6.mhtype", "_ws.malformed", "_ws.expert.message", "mip6.ba.status",
          "mip6.ba.seqnr", "mip6.ba.lifetime", "mip6.be.status", "mip6.be.haddr",
          "mip6.has.num_addrs", "mip6.has.address", "mip6.ipv4aa.sts", "mip6.natd.f_flag",
          "mip6.natd.refresh_t", "mip6.bra.interval", "ipv6.routing.mipv6.home_address"]


def clear_frame(m):
    """The frame m (a mh.Msg read by ue.UE.read) came in, with its MH in clear."""
    w = m.where
    if w.rh2:
        ip6 = IPv6(src=w.ip6_src, dst=w.ip6_dst, hlim=w.hlim) / \
            IPv6ExtHdrRouting(type=2, segleft=w.rh2[1], addresses=w.rh2[2], nh=135)
    else:
        ip6 = IPv6(src=w.ip6_src, dst=w.ip6_dst, nh=135, hlim=w.hlim)
    pkt = ip6 / Raw(m.data)
    if w.outer == "ipv4":
        pkt = IP(src=w.outer_src, dst=w.outer_dst) / UDP(sport=w.udp[0], dport=w.udp[1]) / pkt
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt


def check_all(check, msgs, pcap, label="tshark"):
    """tshark decodes every message of msgs as the MH type and fields the test read, without
    a malformed mark (HAS: see above). @return tshark's rows."""
    wrpcap(pcap, [clear_frame(m) for m in msgs])
    cmd = ["tshark", "-r", pcap, "-d", "udp.port==4191,ipv6", "-T", "fields", "-E",
           "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    rows = [dict(zip(FIELDS, line.split("|"))) for line in r.stdout.splitlines()]
    check(r.returncode == 0 and len(rows) == len(msgs),
          f"{label}: tshark read {len(rows)} of {len(msgs)} frames: {r.stderr[-500:]}")
    for i, (m, row) in enumerate(zip(msgs, rows)):
        what = f"{label} frame {i + 1} ({mh.TYPE_NAMES.get(m.type)})"
        check(row["mip6.mhtype"] == str(m.type), f"{what}: tshark MH type {row['mip6.mhtype']}")
        if m.type != mh.HAS:
            check(not row["_ws.malformed"] and not row["_ws.expert.message"],
                  f"{what}: tshark marks it malformed or has a remark: {row}")
        else:  # the one remark its misparse of the HAS options gives (protocol.md 12.4)
            check(row["_ws.expert.message"] in ("", "PadN (length byte past end of options)"),
                  f"{what}: tshark's remark on the HAS: {row['_ws.expert.message']}")
        if m.type == mh.BA:
            check(row["mip6.ba.status"] == str(m.status) and row["mip6.ba.seqnr"] == str(m.seq)
                  and row["mip6.ba.lifetime"] == str(m.lifetime),
                  f"{what}: tshark's status/seq/lifetime {row}, ours {m.status}/{m.seq}/"
                  f"{m.lifetime}")
            ack, natd, bra = m.ipv4_ack(), m.natd(), m.refresh_advice()
            check((ack is None) == (row["mip6.ipv4aa.sts"] == "") and
                  (ack is None or row["mip6.ipv4aa.sts"] == str(ack[0])),
                  f"{what}: IPv4 Address Acknowledgement {ack} vs tshark {row['mip6.ipv4aa.sts']}")
            check((natd is None) == (row["mip6.natd.refresh_t"] == "") and
                  (natd is None or row["mip6.natd.refresh_t"] == str(natd[2])),
                  f"{what}: NAT Detection {natd} vs tshark {row['mip6.natd.refresh_t']}")
            check((bra is None) == (row["mip6.bra.interval"] == "") and
                  (bra is None or row["mip6.bra.interval"] == str(bra)),
                  f"{what}: Binding Refresh Advice {bra} vs tshark {row['mip6.bra.interval']}")
        elif m.type == mh.BE:
            check(row["mip6.be.status"] == str(m.status) and
                  row["mip6.be.haddr"] == m.home_address, f"{what}: tshark {row}, ours {m}")
        elif m.type == mh.HAS:
            check(row["mip6.has.num_addrs"] == str(len(m.addresses)) and
                  row["mip6.has.address"].split(",")[:len(m.addresses)] == m.addresses,
                  f"{what}: tshark {row}, ours {m.addresses}")
    return rows
