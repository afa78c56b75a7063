#!/usr/bin/python3
"""Cross-check our builder against decoders no one here wrote.

crosscheck-gen builds every signalling scenario with our codec into a pcap and says, per frame,
what tshark must read (field name -> value). This script asks tshark (-T fields) for those
fields and compares; then it asks scapy to recompute every Mobility Header checksum with its own
RFC 6275 pseudo-header rules (HAO source, RH2 destination) and compares with ours. Finally
ha-decode must decode every frame cleanly.

tshark 4.0 quirks (protocol.md section 12): UDP 4191 needs -d udp.port==4191,ipv6; the Home
Agent Switch options subtree is misparsed by tshark, so malformed markers are ignored there only.

usage: tshark_check.py CROSSCHECK_GEN HA_DECODE WORKDIR
"""
import json
import os
import subprocess
import sys

from scapy.all import IPv6, rdpcap, raw  # noqa: E402
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt  # noqa: E402
from scapy.layers.inet6 import in6_chksum  # noqa: E402


def tshark_fields(pcap, fields):
    cmd = ["tshark", "-r", pcap, "-d", "udp.port==4191,ipv6", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields + ["_ws.malformed", "mip6.mhtype"]:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        vals = line.split("\t")
        rows.append(dict(zip(fields + ["_ws.malformed", "mip6.mhtype"], vals)))
    return rows


def norm(field, value):
    # tshark prints booleans as True/False in some builds and 1/0 in others
    if value in ("True", "False"):
        return "1" if value == "True" else "0"
    return value


def main():
    gen, decode, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    pcap = os.path.join(work, "signalling.pcap")
    exp_path = os.path.join(work, "signalling.expect.jsonl")
    subprocess.run([gen, pcap, exp_path], check=True)
    expect = [json.loads(l) for l in open(exp_path)]
    fields = sorted({f for e in expect for f in e["fields"]})
    rows = tshark_fields(pcap, fields)
    passed = failed = 0
    if len(rows) != len(expect):
        print(f"FAIL: tshark read {len(rows)} frames, expected {len(expect)}")
        failed += 1
    for e, row in zip(expect, rows):
        for f, v in e["fields"].items():
            got = norm(f, row.get(f, ""))
            if got == v:
                passed += 1
            else:
                failed += 1
                print(f"FAIL frame {e['frame']} ({e['scenario']}): {f}: tshark says {got!r}, we built {v!r}")
        if row.get("_ws.malformed") and e["scenario"] != "home-agent-switch":
            failed += 1
            print(f"FAIL frame {e['frame']} ({e['scenario']}): tshark marks it malformed")
        if row.get("mip6.mhtype", "") == "":
            failed += 1
            print(f"FAIL frame {e['frame']} ({e['scenario']}): tshark found no Mobility Header")

    # scapy: independent checksum with the HAO/RH2 pseudo-header substitutions
    for i, pkt in enumerate(rdpcap(pcap), 1):
        data = raw(pkt)
        ip6 = IPv6(data[28:]) if data[0] >> 4 == 4 else IPv6(data)
        layer = ip6
        while layer.payload and getattr(layer, "nh", 135) != 135:
            layer = layer.payload
        # scapy's in6_chksum only honours a HAO that is the Destination Options header's sole
        # option, which holds for a header scapy builds itself (it pads while building) but not
        # for a dissected one. Rebuild that header from the HAO alone: scapy's own padding must
        # give our octets back, and its checksum then applies the HAO rule.
        for dst in [l for l in ip6.iterpayloads() if isinstance(l, IPv6ExtHdrDestOpt)]:
            haos = [o for o in dst.options if isinstance(o, HAO)]
            if haos:
                before = raw(dst)
                dst.options = [HAO(hoa=haos[0].hoa)]
                dst.len = None
                if raw(dst) != before:
                    failed += 1
                    print(f"FAIL frame {i}: our HAO header differs from scapy's layout")
        layer = ip6
        while layer.payload and getattr(layer, "nh", 135) != 135:
            layer = layer.payload
        mh = layer.payload
        mh_bytes = raw(mh)
        ours = int.from_bytes(mh_bytes[4:6], "big")
        zeroed = mh_bytes[:4] + b"\0\0" + mh_bytes[6:]
        theirs = in6_chksum(135, mh, zeroed)
        if ours == theirs:
            passed += 1
        else:
            failed += 1
            print(f"FAIL frame {i}: MH checksum {ours:#06x}, scapy computes {theirs:#06x}")

    # RFC 5846 6.1 / IANA: the BRI's Revocation Trigger 1, which 004 5.4.3.1 calls "Unspecified"
    # after the revocation draft, is "Administrative Reason" to tshark as to the RFC
    # (docs/controlplane.md, Decisions)
    text = subprocess.run(["tshark", "-r", pcap, "-V", "-Y", "mip6.bri_br.type == 1 && "
                           "mip6.bri_r.trigger == 1"], capture_output=True, text=True).stdout
    if "R. Trigger: Administrative Reason (1)" in text:
        passed += 1
    else:
        failed += 1
        print("FAIL: tshark does not name the BRI's trigger 1 Administrative Reason")

    # ha-decode reads every frame back without an error
    out = subprocess.run([decode, pcap], capture_output=True, text=True)
    objs = [json.loads(l) for l in out.stdout.splitlines()]
    if out.returncode != 0 or len(objs) != len(expect):
        failed += 1
        print(f"FAIL: ha-decode exit {out.returncode}, {len(objs)} objects: {out.stderr}")
    else:
        for o, e in zip(objs, expect):
            if "error" in o or o["mh"]["type"] != int(e["fields"]["mip6.mhtype"]):
                failed += 1
                print(f"FAIL: ha-decode frame {o['frame']}: {o}")
            else:
                passed += 1

    print(f"tshark/scapy cross-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
