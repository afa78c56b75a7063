#!/usr/bin/python3
"""ESP interoperability: the dataplane's engine (dataplane/dp_esp.c, driven through esp-tool)
against scapy's SecurityAssociation (Debian python3-scapy with python3-cryptography).

For every algorithm, for tunnel mode (IPv6 and IPv4 inner, IPv6 outer) and IPv6 transport mode
(a Binding Update behind a Home Address destination option, a Binding Acknowledgement behind a
type 2 routing header, and both headers together), with and without ESN:
  - scapy decrypts and verifies what our engine encrypts, and gets the original packet back;
  - our engine decrypts and verifies what scapy encrypts, and gives the original packet back;
  - a flipped ciphertext bit is refused by our engine (esp-icv-mismatch).

scapy 2.5 leaves the ESN high bits out of an ESP HMAC (it appends them only for AH), whereas
RFC 4303 2.2.1 puts them after the packet for the ICV. For HMAC with ESN the script therefore
checks the ICV itself (HMAC over the ESP packet || ESN high, from python3-cryptography) and
decrypts with scapy without verification, and re-signs scapy's output the RFC way before giving
it to our engine.

usage: scapy_esp.py ESP_TOOL
"""
import os
import struct
import subprocess
import sys

from cryptography.hazmat.primitives import hashes, hmac
from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, HAO,
                                ICMPv6EchoRequest, MIP6MH_BU, MIP6MH_BA, MIP6OptAltCoA)
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.packet import Raw

ALGOS = [
    # our names, scapy crypt, scapy auth, key bytes, auth key bytes
    ("aes-gcm-128", "none", "AES-GCM", "NULL", 20, 0),
    ("aes-gcm-256", "none", "AES-GCM", "NULL", 36, 0),
    ("aes-cbc-128", "hmac-sha1-96", "AES-CBC", "HMAC-SHA1-96", 16, 20),
    ("aes-cbc-256", "hmac-sha256-128", "AES-CBC", "SHA2-256-128", 32, 32),
    ("null", "hmac-sha256-128", "NULL", "SHA2-256-128", 0, 32),
    ("null", "hmac-sha1-96", "NULL", "HMAC-SHA1-96", 0, 20),
]

HA = "2001:db8:ffff::1"
COA = "2001:db8:aaaa::100"
HOA = "2001:db8:1:1::100"

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


class Tool:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def run(self, **kw):
        line = " ".join("%s=%s" % (k, v) for k, v in kw.items())
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline().strip()
        if not ans:
            raise RuntimeError("esp-tool died on: " + line)
        if ans.startswith("OK "):
            return bytes.fromhex(ans[3:]), None
        if ans.startswith("DROP "):
            return None, ans[5:]
        raise RuntimeError("esp-tool: %s (job: %s)" % (ans, line))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def inner_packets():
    return {
        "tunnel-v6": IPv6(src=HOA, dst="2001:db8:cafe::1") / UDP(sport=1234, dport=5678) /
        Raw(b"x" * 37),
        "tunnel-v4": IP(src="10.1.0.5", dst="192.0.2.7") / ICMP() / Raw(b"ping" * 11),
        "tunnel-v6-1400": IPv6(src=HOA, dst="2001:db8:cafe::1") / ICMPv6EchoRequest(data=os.urandom(1352)),
        "tunnel-v4-min": IP(src="10.1.0.5", dst="192.0.2.7", proto=253),
    }


def transport_packets():
    return {
        # BU from the mobile node: CoA -> HA, Home Address option, ESP, MH (RFC 4877 3.1)
        "transport-bu-hao": IPv6(src=COA, dst=HA) /
        IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) /
        MIP6MH_BU(seq=7, mhtime=100, options=[MIP6OptAltCoA(acoa=COA)]),
        # BA from the HA: HA -> CoA, type 2 routing header with the HoA, ESP, MH
        "transport-ba-rt2": IPv6(src=HA, dst=COA) /
        IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA]) /
        MIP6MH_BA(status=0, seq=7, mhtime=100),
        # both: routing header, then the destination options with the HAO, then ESP
        "transport-rt2-hao": IPv6(src=COA, dst=HA) /
        IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA]) /
        IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) /
        MIP6MH_BU(seq=9, mhtime=100),
        # plain: no extension header
        "transport-plain": IPv6(src=COA, dst=HA) / MIP6MH_BU(seq=8, mhtime=0),
    }


def scapy_esp_plain(sa, wire, verify=True):
    """scapy's verification and decryption of the ESP in an IPv6 packet: the _ESPPlain (data,
    padding, padlen, nh)."""
    esp_layer = IPv6(wire)[ESP]
    if verify:
        sa.check_spi(esp_layer)
        sa.auth_algo.verify(esp_layer, sa.auth_key)
    return sa.crypt_algo.decrypt(sa, esp_layer, sa.crypt_key,
                                 sa.crypt_icv_size or sa.crypt_algo.icv_size or
                                 sa.auth_algo.icv_size,
                                 esn_en=sa.esn_en, esn=sa.esn)


def ext_len(pkt_bytes):
    """Length of the IPv6 header and its extension headers (where our ESP must go here)."""
    nh, off = pkt_bytes[6], 40
    while nh in (0, 43, 60):
        nh, off = pkt_bytes[off], off + (pkt_bytes[off + 1] + 1) * 8
    return off


def scapy_decrypt_transport(sa, wire, off, verify=True):
    """scapy's ESP decryption of an IPv6 transport-mode packet, put back together by hand:
    scapy 2.5's own reassembly (SecurityAssociation._decrypt_esp) dissects the decrypted payload
    with the class the IPv6 header's next header names, which breaks when extension headers
    precede ESP. ICV verification, decryption and the trailer are still scapy's."""
    plain = scapy_esp_plain(sa, wire, verify)
    hdr = bytearray(wire[:off])
    nh_at, nh, o = 6, hdr[6], 40
    while o < off:
        nh_at, nh, o = o, hdr[o], o + (hdr[o + 1] + 1) * 8
    hdr[nh_at] = plain.nh
    body = bytes(plain.data)
    hdr[4:6] = struct.pack("!H", len(hdr) - 40 + len(body))
    return bytes(hdr) + body


def esp_offset(pkt_bytes):
    """Offset of the ESP header in an IPv6 packet (walks extension headers)."""
    nh = pkt_bytes[6]
    off = 40
    while nh in (0, 43, 60):
        nh, off = pkt_bytes[off], off + (pkt_bytes[off + 1] + 1) * 8
    assert nh == 50, "no ESP"
    return off


def icv_rfc(auth, akey, esp_wo_icv, esn_hi):
    """RFC 4303 2.2.1 ICV: HMAC over the ESP packet followed by the ESN high 32 bits."""
    algo, n = (hashes.SHA1(), 12) if auth == "hmac-sha1-96" else (hashes.SHA256(), 16)
    h = hmac.HMAC(akey, algo)
    h.update(esp_wo_icv + struct.pack("!L", esn_hi))
    return h.finalize()[:n]


def scapy_sa(spi, crypt, auth, key, akey, tunnel, esn, esn_hi):
    kw = dict(spi=spi, crypt_algo=crypt, crypt_key=key)
    if auth != "NULL":
        kw.update(auth_algo=auth, auth_key=akey)
    if tunnel:
        kw["tunnel_header"] = IPv6(src=HA, dst=COA)
    if esn:
        kw.update(esn_en=True, esn=esn_hi)
    return SecurityAssociation(ESP, **kw)


def one(tool, algo, name, pkt, tunnel, esn, seq64):
    enc, integ, crypt, auth, klen, aklen = algo
    key = os.urandom(klen)
    akey = os.urandom(aklen)
    spi = 0x1000 + checks
    esn_hi, seql = seq64 >> 32, seq64 & 0xffffffff
    what = "%s/%s %s esn=%d seq=%#x" % (enc, integ, name, esn, seq64)
    hmac_esn = esn and integ != "none"
    orig = bytes(pkt)
    common = dict(mode="tunnel" if tunnel else "transport", enc=enc, integ=integ,
                  key=key.hex() or "", akey=akey.hex() or "", spi=spi, esn=int(esn))
    if not common["key"]:
        del common["key"]
    if not common["akey"]:
        del common["akey"]

    # 1. ours encrypts, scapy decrypts
    out, drop = tool.run(op="enc", seq=seq64 - 1, pkt=orig.hex(), **common)
    check(out is not None, what + ": our encrypt dropped " + str(drop))
    if out is None:
        return
    if tunnel:
        wire = bytes(IPv6(src=HA, dst=COA, nh=50) / Raw(out))
    else:
        wire = out
    off = esp_offset(wire)
    check(struct.unpack("!LL", wire[off:off + 8]) == (spi, seql), what + ": ESP header")
    if not tunnel:
        check(struct.unpack("!H", wire[4:6])[0] == len(wire) - 40, what + ": payload length")
        check(off == ext_len(orig), what + ": ESP after the routing and HAO headers")
    sa = scapy_sa(spi, crypt, auth, key, akey, tunnel, esn, esn_hi)
    try:
        if hmac_esn:
            icv_len = 12 if integ == "hmac-sha1-96" else 16
            esp_bytes = wire[off:]
            check(esp_bytes[-icv_len:] == icv_rfc(integ, akey, esp_bytes[:-icv_len], esn_hi),
                  what + ": ICV with ESN high bits (RFC 4303 2.2.1)")
        p = scapy_esp_plain(sa, wire, verify=not hmac_esn)
        # (scapy 2.5 slices p.padding wrongly; the pad bytes are checked by our decrypt of
        # our own output in tests/unit/test_esp.c)
        align = 16 if enc.startswith("aes-cbc") else 4
        check((len(p.data) + p.padlen + 2) % align == 0 and p.padlen < align,
              what + ": padded to %d (minimal)" % align)
        if tunnel:
            plain = bytes(sa.decrypt(IPv6(wire), verify=not hmac_esn))
        else:
            plain = scapy_decrypt_transport(sa, wire, off, verify=not hmac_esn)
    except Exception as e:  # noqa: BLE001
        check(False, what + ": scapy refused our packet: %r" % e)
        return
    check(bytes(plain) == orig, what + ": scapy's decryption differs from the original\n  %s\n  %s"
          % (bytes(plain).hex(), orig.hex()))

    # 1b. ours decrypts its own output (checks the pad bytes 1, 2, 3..., which scapy does not)
    back, drop = tool.run(op="dec", seq=seq64 - 1, win=64, off=off if not tunnel else 0,
                          pkt=(wire if not tunnel else wire[40:]).hex(), **common)
    check(back == orig, what + ": our own round trip: " + str(drop))

    # 2. scapy encrypts, ours decrypts
    sa = scapy_sa(spi, crypt, auth, key, akey, tunnel, esn, esn_hi)
    src = pkt.__class__(orig)
    enc_pkt = sa.encrypt(src, seq_num=seql)
    wire = bytes(enc_pkt)
    off = esp_offset(wire)
    if hmac_esn:  # re-sign the RFC 4303 way (scapy leaves the ESN high bits out)
        icv_len = 12 if integ == "hmac-sha1-96" else 16
        body = wire[off:len(wire) - icv_len]
        wire = wire[:off] + body + icv_rfc(integ, akey, body, esn_hi)
    top = seq64 - 1
    out, drop = tool.run(op="dec", seq=top, win=64, off=off, pkt=wire.hex(), **common)
    check(out is not None, what + ": our decrypt dropped scapy's packet: " + str(drop))
    if out is not None:
        check(out == orig, what + ": our decryption differs from the original\n  %s\n  %s"
              % (out.hex(), orig.hex()))

    # 3. a flipped bit in the ciphertext (last octet before the ICV) is an ICV failure
    bad = bytearray(wire)
    bad[len(bad) - (16 if integ != "hmac-sha1-96" else 12) - 1] ^= 0x01
    out, drop = tool.run(op="dec", seq=top, win=64, off=off, pkt=bytes(bad).hex(), **common)
    check(out is None and drop == "esp-icv-mismatch", what + ": tampered packet: " + str(drop))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tool = Tool(sys.argv[1])
    cases = [(n, p, True) for n, p in inner_packets().items()] + \
            [(n, p, False) for n, p in transport_packets().items()]
    for algo in ALGOS:
        for name, pkt, tunnel in cases:
            one(tool, algo, name, pkt, tunnel, False, 1)
            one(tool, algo, name, pkt, tunnel, False, 0x12345678)
            one(tool, algo, name, pkt, tunnel, True, (5 << 32) | 0x10)
            one(tool, algo, name, pkt, tunnel, True, (7 << 32))  # low bits 0 after a wrap
    tool.close()
    print("scapy ESP interop: %d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
